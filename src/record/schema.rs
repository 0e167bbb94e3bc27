//! Validation of canonical records against the published JSON Schema.

use serde::Serialize;

use crate::eval::dates::Temporal;
use crate::rules::shape::{ScalarKind, Shape};
use serde_json::Value;

/// The record JSON Schema (draft 2020-12), as shipped in `schemas/`.
pub const RECORD_SCHEMA_TEXT: &str = include_str!("../../schemas/encounter-record.schema.json");

/// One schema violation in a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SchemaViolation {
    /// JSON pointer of the offending node, relative to the record.
    pub pointer: String,
    /// Description of the problem, in the validator's words.
    pub message: String,
}

/// The compiled record schema. Compile once, validate many records.
pub struct RecordSchema {
    validator: jsonschema::Validator,
    document: Value,
    shape: Shape,
}

impl RecordSchema {
    /// Compiles the shipped record schema.
    pub fn new() -> Self {
        // The schema is compiled into the binary and covered by tests, so a
        // failure here is a build defect, not a user error.
        let document: Value =
            serde_json::from_str(RECORD_SCHEMA_TEXT).expect("shipped record schema is valid JSON");
        let validator =
            jsonschema::draft202012::new(&document).expect("shipped record schema compiles");
        let shape = Shape::from_schema(&document);
        RecordSchema {
            validator,
            document,
            shape,
        }
    }

    /// The schema as a JSON document, used to check rule paths statically.
    pub fn document(&self) -> &Value {
        &self.document
    }

    /// Validates `record`, returning every violation in document order.
    ///
    /// Messages never quote the offending value, because record values may be
    /// patient data.
    pub fn validate(&self, record: &Value) -> Vec<SchemaViolation> {
        if self.validator.is_valid(record) {
            // The patterns check the shape of dates, not the calendar, and
            // JSON numbers may be out of any usable range.
            let mut violations = Vec::new();
            check_values(record, &self.shape, &mut Vec::new(), &mut violations);
            return violations;
        }
        let mut violations: Vec<SchemaViolation> = self
            .validator
            .iter_errors(record)
            .map(|error| {
                let pointer = error.instance_path().to_string();
                let message = explain(&pointer, &error.masked().to_string());
                SchemaViolation { pointer, message }
            })
            .collect();
        violations.sort_by(|a, b| a.pointer.cmp(&b.pointer));
        violations.dedup();
        violations
    }
}

/// Checks what the JSON Schema cannot: that every date is a real calendar
/// date or date-time (no February 30, no hour 25, no offset beyond ±24:00)
/// and that every number fits a 64-bit float.
///
/// `path` contains the steps from the record root to `value`. A pointer is
/// built from it only for a violation, because nearly every record has none.
fn check_values<'v>(
    value: &'v Value,
    shape: &Shape,
    path: &mut Vec<PathStep<'v>>,
    out: &mut Vec<SchemaViolation>,
) {
    match (value, shape) {
        (Value::Object(map), Shape::Object(props)) => {
            for (key, child) in map {
                if let Some(child_shape) = props.get(key) {
                    path.push(PathStep::Key(key));
                    check_values(child, child_shape, path, out);
                    path.pop();
                }
            }
        }
        (Value::Array(items), Shape::Array(item_shape)) => {
            for (index, child) in items.iter().enumerate() {
                path.push(PathStep::Index(index));
                check_values(child, item_shape, path, out);
                path.pop();
            }
        }
        (Value::String(text), Shape::Scalar(ScalarKind::Date))
            if Temporal::parse(text).is_none() =>
        {
            out.push(violation(path, "is not a real calendar date or time"));
        }
        (Value::Number(number), _) if !number.as_f64().is_some_and(f64::is_finite) => {
            out.push(violation(path, "is a number out of range"));
        }
        _ => {}
    }
}

/// One step from a record's root to one of its values.
enum PathStep<'v> {
    Key(&'v str),
    Index(usize),
}

/// Builds the violation at `path`, naming the field in dotted form.
fn violation(path: &[PathStep<'_>], problem: &str) -> SchemaViolation {
    let mut pointer = String::new();
    for step in path {
        match step {
            PathStep::Key(key) => crate::source::push_pointer_token(&mut pointer, key),
            PathStep::Index(index) => {
                crate::source::push_pointer_token(&mut pointer, &index.to_string())
            }
        }
    }
    let field = pointer.trim_start_matches('/').replace('/', ".");
    SchemaViolation {
        message: format!("{field} {problem}"),
        pointer,
    }
}

/// Replaces the validator's wording for the schema's date patterns with a
/// message that names the field and the expected form.
fn explain(pointer: &str, message: &str) -> String {
    let field = pointer.trim_start_matches('/').replace('/', ".");
    let date = r#"^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$"#;
    if message.contains(date) {
        return format!(
            "{field} is not a date: write YYYY-MM-DD (or YYYY-MM, YYYY for a partial date)"
        );
    }
    if message.contains("^[0-9]{4}(-[0-9]{2}(-[0-9]{2}([T ]") {
        return format!(
            "{field} is not a date-time: write RFC 3339, e.g. 2026-03-03T10:55:00-05:00"
        );
    }
    if field.is_empty() {
        return message.to_string();
    }
    format!("{field}: {message}")
}

impl Default for RecordSchema {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn minimal_record_is_valid() {
        let schema = RecordSchema::new();
        let record = json!({
            "record_type": "claimlint.encounter/v1",
            "patient": {"id": "p1"},
            "encounter": {"id": "e1", "date_of_service": "2026-03-03"}
        });
        assert!(schema.validate(&record).is_empty());
    }

    #[test]
    fn violation_is_located_and_masks_values() {
        let schema = RecordSchema::new();
        let record = json!({
            "record_type": "claimlint.encounter/v1",
            "patient": {"id": "p1", "birth_date": "IGNORED_FIELD"},
            "encounter": {"id": "e1", "date_of_service": "2026-03-03"}
        });
        let violations = schema.validate(&record);
        assert_eq!(violations.len(), 1);
        assert_eq!(violations[0].pointer, "/patient/birth_date");
        assert!(!violations[0].message.contains("IGNORED_FIELD"));
    }

    #[test]
    fn impossible_dates_and_numbers_are_violations() {
        let schema = RecordSchema::new();
        for (field, value, expected) in [
            (
                "/encounter/date_of_service",
                json!("2026-02-30"),
                "encounter.date_of_service is not a real calendar date or time",
            ),
            (
                "/encounter/date_of_service",
                json!("2025-02-29"),
                "encounter.date_of_service is not a real calendar date or time",
            ),
            (
                "/encounter/date_of_service",
                json!("2026-13-01"),
                "encounter.date_of_service is not a real calendar date or time",
            ),
            (
                "/patient/email_verified_at",
                json!("2026-03-03T25:00:00-05:00"),
                "patient.email_verified_at is not a real calendar date or time",
            ),
            (
                "/patient/email_verified_at",
                json!("2026-03-03T10:55:00+25:00"),
                "patient.email_verified_at is not a real calendar date or time",
            ),
        ] {
            let mut record = json!({
                "record_type": "claimlint.encounter/v1",
                "patient": {"id": "p1", "email_verified_at": "2026-03-01"},
                "encounter": {"id": "e1", "date_of_service": "2026-03-03"}
            });
            *record
                .pointer_mut(field)
                .unwrap_or_else(|| panic!("{field}")) = value.clone();
            let violations = schema.validate(&record);
            assert_eq!(violations.len(), 1, "{value}");
            assert_eq!(violations[0].pointer, field);
            assert_eq!(violations[0].message, expected);
        }
        let huge: Value = serde_json::from_str(r#"{"record_type":"claimlint.encounter/v1","patient":{"id":"p1"},"encounter":{"id":"e1","date_of_service":"2026-03-03"},"service_lines":[{"code":"99490","minutes":1e400}]}"#).unwrap();
        let violations = schema.validate(&huge);
        assert_eq!(
            violations[0].message,
            "service_lines.0.minutes is a number out of range"
        );
    }

    #[test]
    fn unknown_field_is_a_violation() {
        let schema = RecordSchema::new();
        let record = json!({
            "record_type": "claimlint.encounter/v1",
            "patient": {"id": "p1"},
            "encounter": {"id": "e1", "date_of_service": "2026-03-03", "dos": "x"}
        });
        let violations = schema.validate(&record);
        assert_eq!(violations[0].pointer, "/encounter");
    }
}
