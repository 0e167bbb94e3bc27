//! Reading input files into canonical records and FHIR resources.
//!
//! A file holds one canonical record, an array of records, NDJSON (one
//! record per line), a FHIR resource, a FHIR Bundle, or Bulk-FHIR NDJSON.
//! Canonical records are validated against the record schema here; FHIR
//! resources are collected and mapped once every file is read, because a
//! Bulk-FHIR export spreads one encounter over several files.
//!
//! Nothing here stops at the first problem: each bad document becomes an
//! [`InputError`] and the rest of the file is still read.

mod error;
mod parse;
mod stream;

use std::sync::Arc;

use serde_json::Value;

pub use error::{InputError, InputErrorKind};
pub use parse::{parse_value, ParsedValue};
pub use stream::{
    decompress_if_gzip, documents, load_document, load_ndjson_line, load_reader, Document,
    Documents, GZIP_MAGIC,
};

use crate::fhir::FhirResource;
use crate::record::{Origin, Record, RecordSchema, SourceFormat, RECORD_TYPE};

/// How the documents in a file are framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// One JSON value per file.
    Json,
    /// One JSON value per line.
    Ndjson,
    /// Decide from the content (used for standard input).
    Detect,
}

impl Framing {
    /// Chooses the framing from a file name's extension, looking through a
    /// final `.gz`.
    pub fn from_path(name: &str) -> Framing {
        let lower = name.to_ascii_lowercase();
        let lower = lower.strip_suffix(".gz").unwrap_or(&lower);
        if lower.ends_with(".ndjson") || lower.ends_with(".jsonl") {
            Framing::Ndjson
        } else if lower.ends_with(".json") {
            Framing::Json
        } else {
            Framing::Detect
        }
    }
}

/// Everything read from one file.
#[derive(Debug, Default)]
pub struct LoadedFile {
    /// Canonical records that passed schema validation.
    pub records: Vec<Record>,
    /// FHIR resources, to be mapped together with those of other files.
    pub fhir: Vec<FhirResource>,
    /// Documents or records that could not be read.
    pub errors: Vec<InputError>,
    /// Number of JSON documents read (lines for NDJSON).
    pub documents: usize,
}

/// Reads one file's bytes, decompressing them first when they are gzip.
/// [`load_reader`] reads NDJSON without holding the whole file.
pub fn load_file(
    name: Arc<str>,
    bytes: &[u8],
    framing: Framing,
    schema: &RecordSchema,
) -> LoadedFile {
    let mut loaded = LoadedFile::default();
    let file_origin = Origin::new(name.clone(), None, "");

    let bytes = match decompress_if_gzip(bytes) {
        Ok(bytes) => bytes,
        Err(error) => {
            loaded.errors.push(
                InputError::new(InputErrorKind::Compressed, file_origin, format!("cannot decompress: {error}"))
                    .with_help("the gzip data is truncated or corrupt; check that the export finished writing this file"),
            );
            return loaded;
        }
    };
    let bytes = bytes.as_ref();
    let text = match crate::source::check_utf8(bytes) {
        Ok(decoded) => decoded.text,
        Err(problem) => {
            let message = match problem.kind {
                crate::source::Utf8ProblemKind::Utf16ByteOrderMark => {
                    "the file is UTF-16 text; claimlint reads UTF-8".to_string()
                }
                _ => format!(
                    "invalid UTF-8 at byte {} (line {}, column {})",
                    problem.offset, problem.line, problem.column
                ),
            };
            loaded.errors.push(
                InputError::new(InputErrorKind::InvalidUtf8, file_origin, message)
                    .with_help(problem.help()),
            );
            return loaded;
        }
    };
    if text.trim().is_empty() {
        loaded.errors.push(
            InputError::new(InputErrorKind::Empty, file_origin, "the file is empty")
                .with_help("check that the export finished writing this file"),
        );
        return loaded;
    }

    let framing = match framing {
        Framing::Detect => detect_framing(text),
        other => other,
    };
    match framing {
        Framing::Ndjson => load_ndjson(&name, text, schema, &mut loaded),
        _ => {
            loaded.documents = 1;
            match parse_value(text) {
                Ok(parsed) => {
                    let duplicates = duplicate_key_errors(&name, None, text, &parsed);
                    if duplicates.is_empty() {
                        classify(
                            parsed.value,
                            Origin::new(name.clone(), None, ""),
                            schema,
                            &mut loaded,
                        );
                    } else {
                        loaded.errors.extend(duplicates);
                    }
                }
                Err(error) => loaded.errors.push(parse_error(&name, None, text, &error)),
            }
        }
    }
    loaded
}

/// NDJSON when the first line is a complete JSON value and more lines
/// follow; one JSON document otherwise.
fn detect_framing(text: &str) -> Framing {
    let trimmed = text.trim();
    let mut lines = trimmed.lines().filter(|l| !l.trim().is_empty());
    let first = lines.next().unwrap_or_default();
    if lines.next().is_some() && serde_json::from_str::<Value>(first).is_ok() {
        Framing::Ndjson
    } else {
        Framing::Json
    }
}

fn load_ndjson(name: &Arc<str>, text: &str, schema: &RecordSchema, loaded: &mut LoadedFile) {
    for (index, line) in text.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            continue;
        }
        loaded.documents += 1;
        load_line(name, index + 1, line, schema, loaded);
    }
}

/// Parses one NDJSON line (1-based `number`) and classifies it into
/// `loaded`, or reports why it cannot be read.
fn load_line(
    name: &Arc<str>,
    number: usize,
    line: &str,
    schema: &RecordSchema,
    loaded: &mut LoadedFile,
) {
    match parse_value(line) {
        Ok(parsed) => {
            let duplicates = duplicate_key_errors(name, Some(number), line, &parsed);
            if duplicates.is_empty() {
                let origin = Origin::new(name.clone(), Some(number), "");
                classify(parsed.value, origin, schema, loaded);
            } else {
                loaded.errors.extend(duplicates);
            }
        }
        Err(error) => loaded
            .errors
            .push(parse_error(name, Some(number), line, &error)),
    }
}

/// Reports each object key that occurs twice in one object. JSON readers
/// disagree on which value wins (serde_json keeps the last), so a document
/// with a duplicate key is reported and not checked. The text is scanned
/// for the keys' locations only when parsing found a duplicate.
fn duplicate_key_errors(
    name: &Arc<str>,
    line: Option<usize>,
    text: &str,
    parsed: &ParsedValue,
) -> Vec<InputError> {
    if !parsed.has_duplicate_keys {
        return Vec::new();
    }
    crate::source::find_duplicate_keys(text)
        .into_iter()
        .map(|duplicate| {
            let (first_line, first_column) = crate::source::line_col(text, duplicate.first.start);
            let object = if duplicate.object_pointer.is_empty() {
                "the top-level object".to_string()
            } else {
                format!("object {}", duplicate.object_pointer)
            };
            let first = match line {
                Some(_) => format!("column {first_column}"),
                None => format!("line {first_line}, column {first_column}"),
            };
            InputError::new(
                InputErrorKind::DuplicateKey,
                Origin::new(name.clone(), line, duplicate.object_pointer.clone()),
                format!("duplicate key `{}` in {object}; it first appears at {first}", duplicate.key),
            )
            .with_span(duplicate.duplicate)
            .with_help("remove one of the two members; the document is not checked until then, because readers disagree on which value wins")
        })
        .collect()
}

fn parse_error(
    name: &Arc<str>,
    line: Option<usize>,
    text: &str,
    error: &serde_json::Error,
) -> InputError {
    let offset = offset_of(text, error.line(), error.column());
    let (message, help) = match error.classify() {
        serde_json::error::Category::Eof => (
            "the JSON document ends unexpectedly".to_string(),
            "check that the export finished writing this file",
        ),
        _ if error.to_string().starts_with("trailing characters") => (
            "several JSON documents in one file".to_string(),
            "put one record per line in a .ndjson file, or wrap the records in a JSON array",
        ),
        _ if is_surrogate_error(error) => (
            "invalid JSON: a \\u escape encodes a lone UTF-16 surrogate (D800-DFFF), which is not a character".to_string(),
            "re-export the file; a character outside the Basic Multilingual Plane must be written as a \\uD8xx\\uDCxx pair",
        ),
        _ if error.to_string().starts_with("recursion limit") => (
            "the JSON document is nested too deeply (over 128 levels)".to_string(),
            "check the export; encounter records are never nested this deep",
        ),
        _ => (format!("invalid JSON: {}", strip_position(&error.to_string())), "fix the JSON syntax"),
    };
    InputError::new(
        InputErrorKind::InvalidJson,
        Origin::new(name.clone(), line, ""),
        message,
    )
    .with_span(offset..offset + 1)
    .with_help(help)
}

/// serde_json names a lone surrogate escape after how it ends: another
/// escape that is not a low surrogate, or any other character.
fn is_surrogate_error(error: &serde_json::Error) -> bool {
    let message = error.to_string();
    message.starts_with("lone leading surrogate")
        || message.starts_with("unexpected end of hex escape")
}

/// serde_json appends " at line L column C"; the location is shown apart.
fn strip_position(message: &str) -> &str {
    message
        .rsplit_once(" at line ")
        .map_or(message, |(head, _)| head)
}

/// Converts serde_json's 1-based line and column into a byte offset.
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let line_start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    (line_start + column.saturating_sub(1)).min(text.len())
}

/// Sorts one parsed document into records, FHIR resources or errors.
fn classify(value: Value, origin: Origin, schema: &RecordSchema, loaded: &mut LoadedFile) {
    match value {
        Value::Array(items) => {
            if items.is_empty() {
                loaded.errors.push(
                    InputError::new(
                        InputErrorKind::Unrecognized,
                        origin.clone(),
                        "the JSON array is empty",
                    )
                    .with_help("export at least one encounter record"),
                );
            }
            for (index, item) in items.into_iter().enumerate() {
                classify_one(item, origin.child(&format!("/{index}")), schema, loaded);
            }
        }
        other => classify_one(other, origin, schema, loaded),
    }
}

fn classify_one(value: Value, origin: Origin, schema: &RecordSchema, loaded: &mut LoadedFile) {
    if value.get("resourceType").is_some() {
        crate::fhir::collect(value, origin, &mut loaded.fhir, &mut loaded.errors);
        return;
    }
    match value.get("record_type").and_then(Value::as_str) {
        Some(RECORD_TYPE) => {}
        Some(_) => {
            loaded.errors.push(
                InputError::new(
                    InputErrorKind::Unrecognized,
                    origin.child("/record_type"),
                    "unsupported record_type",
                )
                .with_help(format!(
                    "this version of claimlint reads `{RECORD_TYPE}` records"
                )),
            );
            return;
        }
        None => {
            loaded.errors.push(
                InputError::new(
                    InputErrorKind::Unrecognized,
                    origin,
                    "not an encounter record or a FHIR resource",
                )
                .with_help(format!(
                    "a claimlint record has \"record_type\": \"{RECORD_TYPE}\"; a FHIR resource has \"resourceType\""
                )),
            );
            return;
        }
    }

    let violations = schema.validate(&value);
    if !violations.is_empty() {
        let id = record_id(&value);
        for violation in violations {
            loaded.errors.push(
                InputError::new(
                    InputErrorKind::Schema,
                    origin.child(&violation.pointer),
                    format!("record {id}: {}", violation.message),
                )
                .with_help(
                    "fix the field so the record matches schemas/encounter-record.schema.json",
                ),
            );
        }
        return;
    }
    loaded.records.push(Record {
        id: record_id(&value),
        value,
        format: SourceFormat::Canonical,
        origin,
        provenance: Vec::new(),
    });
}

fn record_id(value: &Value) -> String {
    value
        .get("encounter")
        .and_then(|encounter| encounter.get("id"))
        .and_then(Value::as_str)
        .filter(|id| !id.is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| "(no encounter id)".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(name: &str, text: &str) -> LoadedFile {
        load_file(
            Arc::from(name),
            text.as_bytes(),
            Framing::from_path(name),
            &RecordSchema::new(),
        )
    }

    const RECORD: &str = r#"{"record_type":"claimlint.encounter/v1","patient":{"id":"p1"},"encounter":{"id":"e1","date_of_service":"2026-03-03"}}"#;

    #[test]
    fn single_record_loads() {
        let loaded = load("a.json", RECORD);
        assert_eq!(loaded.records.len(), 1);
        assert_eq!(loaded.records[0].id, "e1");
        assert!(loaded.errors.is_empty());
    }

    #[test]
    fn array_elements_have_their_own_pointer() {
        let loaded = load("a.json", &format!("[{RECORD},{RECORD}]"));
        assert_eq!(loaded.records.len(), 2);
        assert_eq!(loaded.records[1].origin.pointer, "/1");
    }

    #[test]
    fn ndjson_tolerates_crlf_blank_lines_and_no_final_newline() {
        let text = format!("{RECORD}\r\n\r\n{RECORD}");
        let loaded = load("a.ndjson", &text);
        assert_eq!(loaded.records.len(), 2);
        assert_eq!(loaded.records[1].origin.line, Some(3));
        assert!(loaded.errors.is_empty());
    }

    #[test]
    fn bad_ndjson_line_does_not_stop_the_file() {
        let text = format!("{RECORD}\n{{\"broken\n{RECORD}\n");
        let loaded = load("a.ndjson", &text);
        assert_eq!(loaded.records.len(), 2);
        assert_eq!(loaded.errors.len(), 1);
        assert_eq!(loaded.errors[0].origin.line, Some(2));
    }

    #[test]
    fn bom_is_accepted() {
        let mut bytes = vec![0xef, 0xbb, 0xbf];
        bytes.extend_from_slice(RECORD.as_bytes());
        let loaded = load_file(
            Arc::from("a.json"),
            &bytes,
            Framing::Json,
            &RecordSchema::new(),
        );
        assert_eq!(loaded.records.len(), 1);
    }

    #[test]
    fn invalid_utf8_is_located_by_byte() {
        let mut bytes = b"{\"a\": \"".to_vec();
        bytes.push(0xff);
        let loaded = load_file(
            Arc::from("a.json"),
            &bytes,
            Framing::Json,
            &RecordSchema::new(),
        );
        assert_eq!(
            loaded.errors[0].message,
            "invalid UTF-8 at byte 7 (line 1, column 8)"
        );
    }

    #[test]
    fn utf16_is_named() {
        let bytes = [0xff, 0xfe, b'{', 0, b'}', 0];
        let loaded = load_file(
            Arc::from("a.json"),
            &bytes,
            Framing::Json,
            &RecordSchema::new(),
        );
        assert_eq!(
            loaded.errors[0].message,
            "the file is UTF-16 text; claimlint reads UTF-8"
        );
    }

    #[test]
    fn concatenated_documents_are_reported() {
        let loaded = load("a.json", &format!("{RECORD}{RECORD}"));
        assert_eq!(
            loaded.errors[0].message,
            "several JSON documents in one file"
        );
    }

    #[test]
    fn schema_violation_is_located() {
        let text = RECORD.replace("2026-03-03", "IGNORED_FIELD");
        let loaded = load("a.json", &text);
        assert!(loaded.records.is_empty());
        assert_eq!(
            loaded.errors[0].origin.pointer,
            "/encounter/date_of_service"
        );
        assert!(!loaded.errors[0].message.contains("IGNORED_FIELD"));
    }

    #[test]
    fn empty_and_corrupt_gzip_files_are_reported() {
        assert_eq!(load("a.json", "  \n").errors[0].kind, InputErrorKind::Empty);
        let loaded = load_file(
            Arc::from("a.ndjson"),
            &[0x1f, 0x8b, 8, 0],
            Framing::Ndjson,
            &RecordSchema::new(),
        );
        assert_eq!(loaded.errors[0].kind, InputErrorKind::Compressed);
    }

    #[test]
    fn duplicate_keys_are_reported_at_both_places() {
        let text = RECORD.replace(r#""id":"p1""#, r#""id":"p1","id":"p2""#);
        let loaded = load("a.json", &text);
        assert!(loaded.records.is_empty());
        assert_eq!(loaded.errors.len(), 1);
        let error = &loaded.errors[0];
        assert_eq!(error.kind, InputErrorKind::DuplicateKey);
        assert_eq!(error.origin.pointer, "/patient");
        assert_eq!(
            error.message,
            "duplicate key `id` in object /patient; it first appears at line 1, column 52"
        );
        let span = error.span.clone().unwrap();
        assert_eq!(&text[span], "\"id\"");
    }

    #[test]
    fn unknown_json_is_reported() {
        let loaded = load("a.json", r#"{"hello": 1}"#);
        assert_eq!(loaded.errors[0].kind, InputErrorKind::Unrecognized);
    }
}
