//! Validation of canonical records against the published JSON Schema.

use serde::Serialize;
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
}

impl RecordSchema {
    /// Compiles the shipped record schema.
    pub fn new() -> Self {
        // The schema is compiled into the binary and covered by tests, so a
        // failure here is a build defect, not a user error.
        let document: Value =
            serde_json::from_str(RECORD_SCHEMA_TEXT).expect("shipped record schema is valid JSON");
        let validator = jsonschema::draft202012::new(&document)
            .expect("shipped record schema compiles");
        RecordSchema {
            validator,
            document,
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
            return Vec::new();
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

/// Replaces the validator's wording for the schema's date patterns with a
/// message that names the field and the expected form.
fn explain(pointer: &str, message: &str) -> String {
    let field = pointer.trim_start_matches('/').replace('/', ".");
    let date = r#"^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$"#;
    if message.contains(date) {
        return format!("{field} is not a date: write YYYY-MM-DD (or YYYY-MM, YYYY for a partial date)");
    }
    if message.contains("^[0-9]{4}(-[0-9]{2}(-[0-9]{2}([T ]") {
        return format!("{field} is not a date-time: write RFC 3339, e.g. 2026-03-03T10:55:00-05:00");
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
