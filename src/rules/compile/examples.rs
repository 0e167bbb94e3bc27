//! Compiles a rule's `examples`: a failing and a passing record (or, for a
//! patient-month rule, a list of records) that document the rule.
//!
//! Plain YAML scalars are typed by the record schema, so `code: 99490` is the
//! string a service line holds. Whether each example is a valid record and
//! really fails or passes its rule is checked once the whole rule set is
//! compiled, because that needs the evaluator.

use serde_json::{Map, Value};

use crate::record::{escape_pointer_token, RECORD_TYPE};
use crate::rules::shape::{ScalarKind, Shape};
use crate::rules::{Example, RuleExamples};
use crate::yaml::{Node, NodeKind, YamlError};

/// Compiles the `examples` mapping of a rule.
pub fn compile_examples(
    node: &Node,
    record: &Shape,
    errors: &mut Vec<YamlError>,
) -> Option<RuleExamples> {
    let mut map = node.as_map("`examples`").map_err(|e| errors.push(e)).ok()?;
    let mut read = |key: &'static str, errors: &mut Vec<YamlError>| {
        let node = map.required(key).map_err(|e| errors.push(e)).ok()?;
        let mut example = compile_example(node, record, errors)?;
        // Errors about the example as a whole point at its key.
        example.span = map.key_span(key).unwrap_or(example.span);
        Some(example)
    };
    let fail = read("fail", errors);
    let pass = read("pass", errors);
    errors.extend(map.finish());
    Some(RuleExamples {
        fail: fail?,
        pass: pass?,
    })
}

/// Compiles one example: a record mapping, or a non-empty list of them.
fn compile_example(node: &Node, record: &Shape, errors: &mut Vec<YamlError>) -> Option<Example> {
    let items: Vec<&Node> = match &node.kind {
        NodeKind::Map(_) => vec![node],
        NodeKind::Seq(items) if !items.is_empty() => items.iter().collect(),
        NodeKind::Seq(_) => {
            errors.push(YamlError::new(
                "an example needs at least one record",
                node.span.clone(),
            ));
            return None;
        }
        NodeKind::Scalar { .. } => {
            errors.push(
                YamlError::new("an example must be a record or a list of records", node.span.clone())
                    .with_help("write the record's fields as a YAML mapping, e.g. `encounter: { id: E-1, date_of_service: \"2026-03-03\" }`"),
            );
            return None;
        }
    };

    let mut records = Vec::new();
    let mut spans = Vec::new();
    for (index, item) in items.into_iter().enumerate() {
        if !matches!(item.kind, NodeKind::Map(_)) {
            errors.push(YamlError::new(
                format!(
                    "example record {} must be a mapping, found {}",
                    index + 1,
                    item.type_name()
                ),
                item.span.clone(),
            ));
            continue;
        }
        let mut item_spans = Vec::new();
        let value = typed_json(item, record, String::new(), &mut item_spans);
        records.push(value);
        spans.push(item_spans);
    }
    if records.is_empty() {
        return None;
    }
    Some(Example {
        records,
        span: node.span.clone(),
        spans,
    })
}

/// Converts `node` to JSON, typing plain scalars by `shape`, and records the
/// span of every node under its JSON pointer.
fn typed_json(
    node: &Node,
    shape: &Shape,
    pointer: String,
    spans: &mut Vec<(String, crate::yaml::Span)>,
) -> Value {
    spans.push((pointer.clone(), node.span.clone()));
    match (&node.kind, shape) {
        (NodeKind::Map(entries), _) => {
            let mut object = Map::new();
            for (key, value) in entries {
                let Ok(name) = key.as_str("a field name") else {
                    continue;
                };
                let child = match shape {
                    Shape::Object(fields) => fields.get(name).unwrap_or(&ANY),
                    _ => &ANY,
                };
                let child_pointer = format!("{pointer}/{}", escape_pointer_token(name));
                object.insert(
                    name.to_string(),
                    typed_json(value, child, child_pointer, spans),
                );
            }
            Value::Object(object)
        }
        (NodeKind::Seq(items), _) => {
            let item_shape = match shape {
                Shape::Array(item) => item.as_ref(),
                _ => &ANY,
            };
            let values = items
                .iter()
                .enumerate()
                .map(|(index, item)| {
                    typed_json(item, item_shape, format!("{pointer}/{index}"), spans)
                })
                .collect();
            Value::Array(values)
        }
        (
            NodeKind::Scalar {
                text,
                quoted: false,
            },
            Shape::Scalar(ScalarKind::String | ScalarKind::Date),
        ) if !node.is_null() => Value::String(text.clone()),
        _ => node.to_json(),
    }
}

const ANY: Shape = Shape::Scalar(ScalarKind::Any);

/// Returns the example record as evaluated: the fields as written, with the
/// `record_type` marker first when the example leaves it out.
pub fn as_record(example: &Value) -> Value {
    let Value::Object(fields) = example else {
        return example.clone();
    };
    if fields.contains_key("record_type") {
        return example.clone();
    }
    let mut record = Map::new();
    record.insert("record_type".to_string(), Value::from(RECORD_TYPE));
    record.extend(fields.clone());
    Value::Object(record)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::RecordSchema;
    use crate::yaml::{parse, ParseLimits};

    fn compile(text: &str) -> (Option<RuleExamples>, Vec<YamlError>) {
        let shape = Shape::from_schema(RecordSchema::new().document());
        let node = parse(text, ParseLimits::default()).expect("valid YAML");
        let mut errors = Vec::new();
        let examples = compile_examples(&node, &shape, &mut errors);
        (examples, errors)
    }

    #[test]
    fn plain_codes_become_strings() {
        let (examples, errors) = compile(
            "fail: { service_lines: [{ code: 99490, units: 2 }] }\npass: { service_lines: [] }",
        );
        assert!(errors.is_empty(), "{errors:?}");
        let examples = examples.expect("compiled");
        let line = &examples.fail.records[0]["service_lines"][0];
        assert_eq!(line["code"], Value::from("99490"));
        assert_eq!(line["units"], Value::from(2));
    }

    #[test]
    fn list_gives_several_records() {
        let (examples, errors) =
            compile("fail: [{ encounter: { id: A } }, { encounter: { id: B } }]\npass: {}");
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(examples.expect("compiled").fail.records.len(), 2);
    }

    #[test]
    fn missing_pass_example_is_reported() {
        let (examples, errors) = compile("fail: {}");
        assert!(examples.is_none());
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0]
                .message
                .contains("missing the required key `pass`"),
            "{}",
            errors[0].message
        );
    }

    #[test]
    fn scalar_example_is_rejected() {
        let (_, errors) = compile("fail: compliant.json\npass: {}");
        assert!(errors[0]
            .message
            .contains("must be a record or a list of records"));
    }

    #[test]
    fn spans_are_indexed_by_pointer() {
        let (examples, _) = compile("fail:\n  encounter: { id: A }\npass: {}");
        let examples = examples.expect("compiled");
        let pointers: Vec<&str> = examples.fail.spans[0]
            .iter()
            .map(|(p, _)| p.as_str())
            .collect();
        assert_eq!(pointers, ["", "/encounter", "/encounter/id"]);
    }

    #[test]
    fn record_type_is_added_first() {
        let record = as_record(&serde_json::json!({"patient": {"id": "P"}}));
        let keys: Vec<&String> = record.as_object().expect("object").keys().collect();
        assert_eq!(keys, ["record_type", "patient"]);
    }
}
