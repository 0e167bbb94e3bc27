//! Errors in input files, located by origin and, where known, byte span.

use std::ops::Range;

use serde::Serialize;

use crate::record::Origin;

/// What kind of input problem occurred.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum InputErrorKind {
    /// The file could not be read from disk.
    Io,
    InvalidUtf8,
    InvalidJson,
    /// An object with the same key twice.
    DuplicateKey,
    /// A second record with an encounter id already read.
    DuplicateRecord,
    /// Gzip data that cannot be decompressed (truncated or corrupt).
    Compressed,
    Empty,
    /// JSON that is neither a claimlint record nor a FHIR resource.
    Unrecognized,
    /// A record that does not match the record schema.
    Schema,
    /// A FHIR resource of another version (STU3, DSTU2).
    FhirVersion,
    /// A FHIR resource that could not be mapped (e.g. an unresolved reference).
    FhirMapping,
}

/// One input problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputError {
    pub kind: InputErrorKind,
    /// The file, NDJSON line and JSON pointer of the problem.
    pub origin: Origin,
    /// Byte span within the document (the NDJSON line, or the whole file),
    /// when the error came with a position rather than a pointer.
    pub span: Option<Range<usize>>,
    /// What is wrong; never quotes patient data.
    pub message: String,
    /// What to do about it.
    pub help: Option<String>,
}

impl InputError {
    pub fn new(kind: InputErrorKind, origin: Origin, message: impl Into<String>) -> Self {
        InputError {
            kind,
            origin,
            span: None,
            message: message.into(),
            help: None,
        }
    }

    pub fn with_span(mut self, span: Range<usize>) -> Self {
        self.span = Some(span);
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}
