//! Numeric element values kept as their exact text.

use std::fmt;

use serde::Serialize;

/// X12 decimal number (data element type R), such as an amount or a quantity.
///
/// The value keeps the text the payer sent, so `56.70` stays `56.70` and never passes through
/// binary floating point. Equality compares the text: `0` and `0.00` are different values, and
/// [`Decimal::is_zero`] is the numeric test.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Decimal(String);

impl Decimal {
    /// Parses an optional minus sign, digits and at most one decimal point, with at least one
    /// digit. Returns `None` for anything else.
    ///
    /// NOTE: X12 also allows exponential notation in type R elements, which the HIPAA
    /// implementation guides forbid, so this parser rejects it.
    pub fn parse(text: &str) -> Option<Self> {
        let unsigned = text.strip_prefix('-').unwrap_or(text);
        let mut digits = 0;
        let mut points = 0;
        for character in unsigned.chars() {
            match character {
                '0'..='9' => digits += 1,
                '.' => points += 1,
                _ => return None,
            }
        }
        if digits == 0 || points > 1 {
            return None;
        }

        Some(Self(text.to_owned()))
    }

    /// Returns the text as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Returns whether the value is zero, whatever its sign or number of decimals.
    pub fn is_zero(&self) -> bool {
        self.0
            .chars()
            .all(|character| matches!(character, '0' | '.' | '-'))
    }

    /// Returns whether the value is below zero, as in a claim reversal.
    pub fn is_negative(&self) -> bool {
        self.0.starts_with('-') && !self.is_zero()
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_keeps_exact_text() {
        for text in ["56.70", "0", "-42.58", ".5", "5.", "0001.10", "-0"] {
            let value = Decimal::parse(text);
            assert_eq!(value.as_ref().map(Decimal::as_str), Some(text), "{text}");
        }
    }

    #[test]
    fn parse_rejects_non_numbers() {
        for text in [
            "", "-", ".", "1.2.3", "1,000", "+5", "1E3", " 5", "12a", "--1",
        ] {
            assert_eq!(Decimal::parse(text), None, "{text:?}");
        }
    }

    #[test]
    fn zero_and_negative_tests() {
        let zero = Decimal::parse("-0.00").unwrap();
        let negative = Decimal::parse("-1.08").unwrap();
        let positive = Decimal::parse("0.18").unwrap();

        assert!(zero.is_zero());
        assert!(!zero.is_negative());
        assert!(negative.is_negative());
        assert!(!negative.is_zero());
        assert!(!positive.is_zero());
        assert!(!positive.is_negative());
    }

    #[test]
    fn serializes_as_string() {
        let value = Decimal::parse("56.70").unwrap();

        assert_eq!(serde_json::to_string(&value).unwrap(), "\"56.70\"");
    }
}
