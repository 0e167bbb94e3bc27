//! Parsing one JSON document into a `serde_json::Value` while noting
//! duplicate member names, so that clean input needs no second scan.

use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::{Map, Number, Value};

/// The member name through which `serde_json`, built with its
/// `arbitrary_precision` feature, passes a number to a visitor: a map with
/// this one key whose value is the number's text. `serde_json::Value` reads
/// any object whose first member has this name as a number, and so does
/// [`parse_value`]. The tests compare the two parsers on numbers, so a
/// change of this name in `serde_json` fails them.
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

/// A parsed JSON document.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedValue {
    /// The document, exactly as `serde_json::from_str::<Value>` returns it.
    /// When an object has a member name twice, the last value is kept.
    pub value: Value,
    /// True when some object in the document has a member name more than
    /// once. [`crate::source::find_duplicate_keys`] locates them.
    pub has_duplicate_keys: bool,
}

/// Parses `text` as `serde_json::from_str::<Value>` does, with the same
/// value and the same errors, and notes in the same pass whether an object
/// repeats a member name.
///
/// Names are compared after decoding escapes, so `"a"` and `"\u0061"` are
/// the same name, as in [`crate::source::find_duplicate_keys`].
///
/// # Errors
///
/// Returns `serde_json`'s error for text that is not one JSON document,
/// including trailing characters and nesting deeper than 128 levels.
pub fn parse_value(text: &str) -> serde_json::Result<ParsedValue> {
    let has_duplicate_keys = Cell::new(false);
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let value = ValueSeed {
        has_duplicate_keys: &has_duplicate_keys,
    }
    .deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(ParsedValue {
        value,
        has_duplicate_keys: has_duplicate_keys.get(),
    })
}

/// Builds a `Value` the way `serde_json::Value`'s own `Deserialize` does,
/// and sets the flag when an object member replaces an earlier one.
#[derive(Clone, Copy)]
struct ValueSeed<'a> {
    has_duplicate_keys: &'a Cell<bool>,
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = Value;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("any valid JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_i128<E: de::Error>(self, value: i128) -> Result<Value, E> {
        Number::deserialize(de::value::I128Deserializer::new(value)).map(Value::Number)
    }

    fn visit_u128<E: de::Error>(self, value: u128) -> Result<Value, E> {
        Number::deserialize(de::value::U128Deserializer::new(value)).map(Value::Number)
    }

    fn visit_f64<E>(self, value: f64) -> Result<Value, E> {
        Ok(Number::from_f64(value).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        self.deserialize(deserializer)
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<Value, A::Error> {
        let mut values = Vec::new();
        while let Some(value) = items.next_element_seed(self)? {
            values.push(value);
        }
        Ok(Value::Array(values))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut members: A) -> Result<Value, A::Error> {
        let Some(first_key) = members.next_key::<String>()? else {
            return Ok(Value::Object(Map::new()));
        };
        if first_key == NUMBER_TOKEN {
            let NumberText(number) = members.next_value()?;
            return Ok(Value::Number(number));
        }

        let mut object = Map::new();
        object.insert(first_key, members.next_value_seed(self)?);
        while let Some(key) = members.next_key::<String>()? {
            let value = members.next_value_seed(self)?;
            if object.insert(key, value).is_some() {
                self.has_duplicate_keys.set(true);
            }
        }
        Ok(Value::Object(object))
    }
}

/// The number behind [`NUMBER_TOKEN`], read from its text as `serde_json`
/// reads it, with the same error for text that is not a number.
struct NumberText(Number);

impl<'de> Deserialize<'de> for NumberText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<NumberText, D::Error> {
        deserializer.deserialize_str(NumberTextVisitor)
    }
}

struct NumberTextVisitor;

impl Visitor<'_> for NumberTextVisitor {
    type Value = NumberText;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("string containing a number")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<NumberText, E> {
        text.parse().map(NumberText).map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Documents whose value and flag must match `serde_json` and
    /// `find_duplicate_keys`.
    const DOCUMENTS: &[&str] = &[
        "null",
        "true",
        "[]",
        "{}",
        r#""text with \"escapes\" \u00e9 \ud83d\ude00""#,
        "0",
        "-0",
        "12345678901234567890123456789",
        "-9007199254740993",
        "0.700",
        "7e-1",
        "1E+400",
        "-1.5e-400",
        r#"[1, 2.50, -3e2, {"n": 10000000000000000000001}]"#,
        r#"{"b": 1, "a": [true, null, {"c": "d"}], "e": {}}"#,
        r#"{"id": "p1", "id": "p2"}"#,
        r#"{"a": {"b": [{"x": 1}, {"x": 2, "y": 3, "x": 4}]}}"#,
        r#"{"a": 1, "\u0061": 2}"#,
        r#"[{"a": 1}, {"a": 2}]"#,
        " \t\n{\"a\" : 1 }\r\n",
    ];

    #[test]
    fn values_match_serde_json() {
        for text in DOCUMENTS {
            let expected: Value = serde_json::from_str(text).unwrap();
            let parsed = parse_value(text).unwrap();
            assert_eq!(parsed.value, expected, "{text}");
            // The same text back out keeps number text and member order.
            assert_eq!(
                serde_json::to_string(&parsed.value).unwrap(),
                serde_json::to_string(&expected).unwrap(),
                "{text}"
            );
        }
    }

    #[test]
    fn duplicate_flag_matches_scan() {
        for text in DOCUMENTS {
            let parsed = parse_value(text).unwrap();
            let found = crate::source::find_duplicate_keys(text);
            assert_eq!(parsed.has_duplicate_keys, !found.is_empty(), "{text}");
        }
    }

    #[test]
    fn number_token_object_reads_as_number() {
        let text = r#"{"$serde_json::private::Number": "42"}"#;
        let expected: Value = serde_json::from_str(text).unwrap();
        assert!(expected.is_number(), "serde_json changed how it reads this");
        assert_eq!(parse_value(text).unwrap().value, expected);
    }

    #[test]
    fn errors_match_serde_json() {
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        let bad = [
            "",
            "{",
            "[1, 2,]",
            r#"{"a": 1} {"b": 2}"#,
            r#"{"a" 1}"#,
            r#""\ud800""#,
            r#"{"a": tru}"#,
            "01",
            r#"{"$serde_json::private::Number": "x"}"#,
            r#"{"$serde_json::private::Number": 42}"#,
            r#"{"$serde_json::private::Number": "1", "b": 2}"#,
            &deep,
        ];
        for text in bad {
            let expected = serde_json::from_str::<Value>(text).unwrap_err();
            let error = parse_value(text).unwrap_err();
            assert_eq!(error.to_string(), expected.to_string(), "{text}");
            assert_eq!(error.classify(), expected.classify(), "{text}");
        }
    }
}
