//! Building one canonical record with its provenance, and fitting it to the
//! record schema.

use serde_json::{Map, Value};

use crate::input::{InputError, InputErrorKind};
use crate::record::{pointer_has_prefix, Origin, Provenance, RecordSchema, RECORD_TYPE};

/// Top-level record keys in the order the schema lists them.
const KEY_ORDER: &[&str] = &[
    "record_type",
    "patient",
    "encounter",
    "service_lines",
    "diagnoses",
    "ccm_consent",
    "care_plan",
    "time_log",
    "notes",
    "audit_trail",
    "portal",
    "claim",
];

/// How many times pruning may run; each pass removes at least one node, and
/// records are at most a few levels deep.
const MAX_PRUNE_PASSES: usize = 8;

/// The resource a part of the record came from.
#[derive(Debug, Clone)]
pub(crate) struct Source {
    /// `Type/id` of the resource.
    pub key: String,
    pub origin: Origin,
}

/// One record under construction.
pub(crate) struct RecordBuilder {
    /// The encounter id, used in messages.
    pub id: String,
    value: Map<String, Value>,
    provenance: Vec<Provenance>,
    pub warnings: Vec<InputError>,
}

impl RecordBuilder {
    pub fn new(id: &str) -> RecordBuilder {
        let mut value = Map::new();
        value.insert(
            "record_type".to_string(),
            Value::String(RECORD_TYPE.to_string()),
        );
        RecordBuilder {
            id: id.to_string(),
            value,
            provenance: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// Sets a top-level section and records where it came from.
    pub fn set(&mut self, key: &str, value: Value, source: &Source) {
        self.value.insert(key.to_string(), value);
        self.trace(format!("/{key}"), source);
    }

    /// Returns a top-level section for editing.
    pub fn section_mut(&mut self, key: &str) -> Option<&mut Map<String, Value>> {
        self.value.get_mut(key).and_then(Value::as_object_mut)
    }

    /// Appends an item to a top-level list and records its source.
    pub fn push(&mut self, list: &str, item: Value, source: &Source) {
        let entry = self
            .value
            .entry(list.to_string())
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(items) = entry {
            items.push(item);
            let pointer = format!("/{list}/{}", items.len() - 1);
            self.trace(pointer, source);
        }
    }

    /// Records that the record node at `pointer` came from `source`.
    pub fn trace(&mut self, pointer: String, source: &Source) {
        self.provenance.retain(|p| p.record_pointer != pointer);
        self.provenance.push(Provenance {
            record_pointer: pointer,
            origin: source.origin.clone(),
            resource: source.key.clone(),
        });
    }

    /// Adds a mapping warning located at `origin`.
    pub fn warn(&mut self, origin: Origin, message: String, help: &str) {
        self.warnings
            .push(InputError::new(InputErrorKind::FhirMapping, origin, message).with_help(help));
    }

    /// Orders the sections, then removes every value the record schema
    /// rejects, with a warning naming the source resource, so that the
    /// record validates. Fails only when the record cannot be made valid.
    pub fn finish(
        mut self,
        schema: &RecordSchema,
        encounter_origin: &Origin,
    ) -> Result<FinishedRecord, Box<InputError>> {
        let mut ordered = Map::new();
        for key in KEY_ORDER {
            if let Some(value) = self.value.remove(*key) {
                ordered.insert((*key).to_string(), value);
            }
        }
        ordered.append(&mut self.value);
        let mut value = Value::Object(ordered);

        let mut removed: Vec<String> = Vec::new();
        for _ in 0..MAX_PRUNE_PASSES {
            let violations = schema.validate(&value);
            if violations.is_empty() {
                self.provenance
                    .sort_by(|a, b| a.record_pointer.cmp(&b.record_pointer));
                return Ok(FinishedRecord {
                    value,
                    provenance: self.provenance,
                    warnings: self.warnings,
                });
            }
            let mut pointers: Vec<String> = violations.iter().map(|v| v.pointer.clone()).collect();
            pointers.dedup();
            // Deepest first, and later list items before earlier ones, so
            // that removing one node does not move another.
            pointers.sort_by(|a, b| compare_for_removal(a, b));
            for violation in &violations {
                if violation.pointer.is_empty() {
                    break;
                }
                let source = self.source_of(&violation.pointer, encounter_origin);
                let lost_child = removed
                    .iter()
                    .find(|r| pointer_has_prefix(r, &violation.pointer));
                let message = match lost_child {
                    Some(child) => format!(
                        "record {}: {} from {} was left out too, because it needs the value left out at {child}",
                        self.id, violation.pointer, source.0
                    ),
                    None => format!(
                        "record {}: the value for {} from {} does not fit the record schema ({}), so it was left out",
                        self.id, violation.pointer, source.0, violation.message
                    ),
                };
                self.warn(
                    source.1,
                    message,
                    "correct the value in the source system; claimlint keeps only values that match schemas/encounter-record.schema.json",
                );
            }
            if pointers.iter().any(String::is_empty) {
                break;
            }
            for pointer in &pointers {
                remove_node(&mut value, pointer, &mut self.provenance);
            }
            removed.extend(pointers);
        }
        Err(Box::new(
            InputError::new(
                InputErrorKind::FhirMapping,
                encounter_origin.clone(),
                format!(
                    "record {} could not be made to fit the record schema",
                    self.id
                ),
            )
            .with_help("report this as a claimlint defect, with the resources of this encounter"),
        ))
    }

    /// Returns the resource (key and origin) that produced the node at `pointer`.
    fn source_of(&self, pointer: &str, encounter_origin: &Origin) -> (String, Origin) {
        self.provenance
            .iter()
            .filter(|p| pointer_has_prefix(pointer, &p.record_pointer))
            .max_by_key(|p| p.record_pointer.len())
            .map(|p| (p.resource.clone(), p.origin.clone()))
            .unwrap_or_else(|| ("the Encounter".to_string(), encounter_origin.clone()))
    }
}

/// A record that validates, with its provenance and warnings.
pub(crate) struct FinishedRecord {
    pub value: Value,
    pub provenance: Vec<Provenance>,
    pub warnings: Vec<InputError>,
}

fn compare_for_removal(a: &str, b: &str) -> std::cmp::Ordering {
    let depth = |p: &str| p.matches('/').count();
    depth(b)
        .cmp(&depth(a))
        .then_with(|| crate::fhir::compare_pointers(b, a))
}

/// Removes the node at `pointer`, shifting the provenance of later items
/// when the node is a list item.
fn remove_node(root: &mut Value, pointer: &str, provenance: &mut Vec<Provenance>) {
    let Some((parent_pointer, last)) = pointer.rsplit_once('/') else {
        return;
    };
    let key = last.replace("~1", "/").replace("~0", "~");
    let Some(parent) = root.pointer_mut(parent_pointer) else {
        return;
    };
    match parent {
        Value::Object(map) => {
            map.shift_remove(&key);
            provenance.retain(|p| !pointer_has_prefix(&p.record_pointer, pointer));
        }
        Value::Array(items) => {
            let Ok(position) = key.parse::<usize>() else {
                return;
            };
            if position >= items.len() {
                return;
            }
            items.remove(position);
            provenance.retain(|p| !pointer_has_prefix(&p.record_pointer, pointer));
            for entry in provenance.iter_mut() {
                entry.record_pointer = shift_index(&entry.record_pointer, parent_pointer, position);
            }
        }
        _ => {}
    }
}

/// Renumbers `pointer` when it lies below item `removed + 1..` of the list
/// at `list_pointer`.
fn shift_index(pointer: &str, list_pointer: &str, removed: usize) -> String {
    let Some(rest) = pointer
        .strip_prefix(list_pointer)
        .and_then(|r| r.strip_prefix('/'))
    else {
        return pointer.to_string();
    };
    let (token, tail) = match rest.split_once('/') {
        Some((token, tail)) => (token, format!("/{tail}")),
        None => (rest, String::new()),
    };
    match token.parse::<usize>() {
        Ok(position) if position > removed => format!("{list_pointer}/{}{tail}", position - 1),
        _ => pointer.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::*;

    fn source(key: &str) -> Source {
        Source {
            key: key.to_string(),
            origin: Origin::new(Arc::from("f.ndjson"), Some(3), ""),
        }
    }

    #[test]
    fn invalid_values_are_pruned_with_located_warnings() {
        let schema = RecordSchema::new();
        let mut builder = RecordBuilder::new("e1");
        builder.set(
            "patient",
            json!({"id": "p1", "birth_date": "IGNORED_FIELD"}),
            &source("Patient/p1"),
        );
        builder.set(
            "encounter",
            json!({"id": "e1", "date_of_service": "2024-03-04", "rendering_npi": "99999999999999"}),
            &source("Encounter/e1"),
        );
        builder.trace(
            "/encounter/rendering_npi".to_string(),
            &source("Practitioner/dr"),
        );
        builder.push(
            "service_lines",
            json!({"code": "99490"}),
            &source("Claim/c"),
        );
        builder.push(
            "service_lines",
            json!({"code": "not a code"}),
            &source("Claim/c"),
        );
        builder.push(
            "service_lines",
            json!({"code": "99439"}),
            &source("Claim/c2"),
        );
        let finished = builder
            .finish(&schema, &Origin::new(Arc::from("f"), None, ""))
            .ok()
            .unwrap();

        assert!(schema.validate(&finished.value).is_empty());
        assert_eq!(finished.value["patient"], json!({"id": "p1"}));
        assert_eq!(finished.value["encounter"].get("rendering_npi"), None);
        assert_eq!(
            finished.value["service_lines"],
            json!([{"code": "99490"}, {"code": "99439"}])
        );
        let messages: Vec<&str> = finished
            .warnings
            .iter()
            .map(|w| w.message.as_str())
            .collect();
        assert_eq!(messages.len(), 4, "{messages:#?}");
        assert_eq!(
            messages[3],
            "record e1: /service_lines/1 from Claim/c was left out too, because it needs the value left out at /service_lines/1/code"
        );
        assert!(finished
            .warnings
            .iter()
            .all(|w| !w.message.contains("IGNORED_FIELD")));
        assert!(finished.warnings.iter().any(|w| w
            .message
            .contains("/encounter/rendering_npi from Practitioner/dr")));
        let moved = finished
            .provenance
            .iter()
            .find(|p| p.resource == "Claim/c2")
            .unwrap();
        assert_eq!(moved.record_pointer, "/service_lines/1");
    }

    #[test]
    fn sections_follow_schema_order() {
        let schema = RecordSchema::new();
        let mut builder = RecordBuilder::new("e1");
        builder.set("claim", json!({"id": "c"}), &source("Claim/c"));
        builder.set(
            "encounter",
            json!({"id": "e1", "date_of_service": "2024-03-04"}),
            &source("Encounter/e1"),
        );
        builder.set("patient", json!({"id": "p"}), &source("Patient/p"));
        let finished = builder
            .finish(&schema, &Origin::new(Arc::from("f"), None, ""))
            .ok()
            .unwrap();
        let keys: Vec<&String> = finished.value.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["record_type", "patient", "encounter", "claim"]);
    }

    #[test]
    fn shift_index_renumbers_later_items_only() {
        assert_eq!(shift_index("/notes/3/text", "/notes", 1), "/notes/2/text");
        assert_eq!(shift_index("/notes/0", "/notes", 1), "/notes/0");
        assert_eq!(shift_index("/audit_trail/3", "/notes", 1), "/audit_trail/3");
    }
}
