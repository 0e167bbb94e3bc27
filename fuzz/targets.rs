//! The bodies of the fuzz targets, shared by the cargo-fuzz binaries in
//! fuzz_targets/ and by the stable-toolchain harness in
//! tests/hostile_fuzz.rs. Each returns normally on any input; a panic is a
//! bug.

use std::path::Path;
use std::sync::Arc;

use claimlint::appeal::profile::{PayerDirectory, PracticeProfile};
use claimlint::fhir::{self, FhirMapping};
use claimlint::input::{load_file, Framing};
use claimlint::record::RecordSchema;
use claimlint::rules::{PackSource, RuleSet};
use claimlint::source::locate_pointer_within;

/// Loads the bytes as JSON, NDJSON and undetected framing, and maps any
/// FHIR resources found.
pub fn load_records(data: &[u8]) {
    let schema = RecordSchema::new();
    for framing in [Framing::Json, Framing::Ndjson, Framing::Detect] {
        let loaded = load_file(Arc::from("fuzz.json"), data, framing, &schema);
        let _ = fhir::map_records(loaded.fhir, &FhirMapping::builtin(), &schema);
    }
}

/// Locates a JSON pointer in a text: the first line of the input is the
/// pointer, the rest the text, and the first two bytes pick the document
/// range.
pub fn locate_pointer(data: &[u8]) {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let (pointer, text) = input.split_once('\n').unwrap_or((input, ""));
    let start = data.first().map_or(0, |b| usize::from(*b)).min(text.len());
    let end = data
        .get(1)
        .map_or(text.len(), |b| text.len().saturating_sub(usize::from(*b)))
        .max(start);
    let _ = locate_pointer_within(text, start..end, pointer);
    let _ = locate_pointer_within(text, 0..text.len(), pointer);
}

/// Compiles the text as a rule pack, a FHIR mapping, a practice profile
/// and a payer directory.
pub fn load_config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = RuleSet::compile(&[PackSource::new("fuzz.yaml", text)]);
    let _ = FhirMapping::parse(text);
    let _ = PracticeProfile::parse(Path::new("practice.yaml"), text);
    let _ = PayerDirectory::parse(Path::new("payers.yaml"), text);
}
