//! The canonical encounter record and where each record came from.
//!
//! Every input format (claimlint's own JSON, FHIR R4 Bundles, Bulk-FHIR NDJSON)
//! is turned into one [`Record`]: a `serde_json::Value` that conforms to
//! `schemas/encounter-record.schema.json`. Rules only ever see this shape, so a
//! rule written once runs over every format. The [`Origin`] and
//! [`Provenance`] entries let a diagnostic point back at the original bytes.

mod schema;

use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

pub use schema::{RecordSchema, SchemaViolation, RECORD_SCHEMA_TEXT};

/// The `record_type` marker that identifies a canonical claimlint record.
pub const RECORD_TYPE: &str = "claimlint.encounter/v1";

/// A location in an input file: the file, the NDJSON line (when the file is
/// line-delimited) and the JSON pointer of a node within that document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Origin {
    /// The file as the user named it (or `-` for standard input).
    pub file: Arc<str>,
    /// 1-based line of the NDJSON document; `None` for a whole-file document.
    pub line: Option<usize>,
    /// JSON pointer of the node within its document.
    pub pointer: String,
}

impl Origin {
    /// Creates an origin for the node at `pointer` in `file`.
    pub fn new(file: Arc<str>, line: Option<usize>, pointer: impl Into<String>) -> Self {
        Origin {
            file,
            line,
            pointer: pointer.into(),
        }
    }

    /// Returns the origin of a node below this one.
    pub fn child(&self, suffix: &str) -> Origin {
        Origin {
            file: self.file.clone(),
            line: self.line,
            pointer: format!("{}{}", self.pointer, suffix),
        }
    }
}

/// Maps a part of a mapped record back to the resource it was built from.
///
/// A FHIR record is assembled from many resources; `record_pointer` is a
/// prefix of pointers in the canonical record (for example `/notes/0`) and
/// `origin` is the resource that produced it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Provenance {
    /// Pointer prefix in the canonical record.
    pub record_pointer: String,
    /// The resource in its original file.
    pub origin: Origin,
    /// `ResourceType/id` of the source resource.
    pub resource: String,
}

/// The input format a record was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceFormat {
    /// claimlint's own encounter record.
    Canonical,
    /// A FHIR R4 resource set mapped into a canonical record.
    FhirR4,
}

/// One encounter record, ready for rule evaluation.
#[derive(Debug, Clone)]
pub struct Record {
    /// The encounter id, which identifies the record in every report.
    pub id: String,
    /// The canonical record.
    pub value: Value,
    /// The input format the record was read from.
    pub format: SourceFormat,
    /// Where the record itself is: the canonical object, or the FHIR Encounter.
    pub origin: Origin,
    /// For mapped records, the source resource of each part of the record.
    /// Empty for canonical records, whose pointers are the source's own.
    pub provenance: Vec<Provenance>,
}

impl Record {
    /// Returns the source location of the record node at `pointer`.
    ///
    /// For a canonical record this is the same node in the input document.
    /// For a mapped record it is the resource that produced the node (the
    /// longest matching provenance prefix), or the Encounter when none does.
    pub fn locate(&self, pointer: &str) -> Origin {
        match self.format {
            SourceFormat::Canonical => self.origin.child(pointer),
            SourceFormat::FhirR4 => self
                .provenance
                .iter()
                .filter(|p| pointer_has_prefix(pointer, &p.record_pointer))
                .max_by_key(|p| p.record_pointer.len())
                .map(|p| p.origin.clone())
                .unwrap_or_else(|| self.origin.clone()),
        }
    }

    /// Returns the `ResourceType/id` that produced the node at `pointer`, for
    /// mapped records.
    pub fn source_resource(&self, pointer: &str) -> Option<&str> {
        self.provenance
            .iter()
            .filter(|p| pointer_has_prefix(pointer, &p.record_pointer))
            .max_by_key(|p| p.record_pointer.len())
            .map(|p| p.resource.as_str())
    }

    /// Returns the encounter's date of service as written in the record.
    pub fn date_of_service(&self) -> Option<&str> {
        // `get` takes no allocation, unlike `Value::pointer`, which copies
        // each reference token to unescape it; this runs for every pack.
        self.value
            .get("encounter")?
            .get("date_of_service")?
            .as_str()
    }
}

/// True when `pointer` equals `prefix` or lies below it.
pub fn pointer_has_prefix(pointer: &str, prefix: &str) -> bool {
    if prefix.is_empty() {
        return true;
    }
    match pointer.strip_prefix(prefix) {
        Some(rest) => rest.is_empty() || rest.starts_with('/'),
        None => false,
    }
}

/// Escapes one reference token for use in a JSON pointer (RFC 6901).
pub fn escape_pointer_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointer_prefix_respects_token_boundaries() {
        assert!(pointer_has_prefix("/notes/0/text", "/notes/0"));
        assert!(pointer_has_prefix("/notes/0", "/notes/0"));
        assert!(!pointer_has_prefix("/notes/01", "/notes/0"));
        assert!(pointer_has_prefix("/anything", ""));
    }

    #[test]
    fn pointer_tokens_are_escaped() {
        assert_eq!(escape_pointer_token("a/b~c"), "a~1b~0c");
    }
}
