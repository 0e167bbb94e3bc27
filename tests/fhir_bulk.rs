//! End-to-end FHIR R4 tests on the shared public data pack: a Synthea
//! Bulk-FHIR export, HL7 R4 examples and Synthea transaction Bundles.
//!
//! The data pack sits beside the repository clone (`../shared/data`); when
//! it is missing the tests print a note and pass, except under CI (the `CI`
//! variable is set), where the data pack is always laid out and its absence
//! is a failure rather than a silent pass.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use claimlint::fhir::{map_records, FhirMapping, FhirOutput, FhirResource};
use claimlint::input::{load_file, Framing, InputError, InputErrorKind};
use claimlint::record::RecordSchema;

fn shared_data() -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data");
    if path.is_dir() {
        Some(path)
    } else {
        assert!(
            std::env::var_os("CI").is_none(),
            "../shared/data is missing under CI, so the end-to-end tests would check nothing"
        );
        println!("skipped: ../shared/data not found");
        None
    }
}

/// Files of `dir` with the given extension, sorted by name.
fn files(dir: &Path, extension: &str) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == extension))
        .collect();
    found.sort();
    found
}

/// Loads files through the input layer; returns the FHIR resources and the
/// load errors.
fn load(paths: &[PathBuf], schema: &RecordSchema) -> (Vec<FhirResource>, Vec<InputError>) {
    let mut resources = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        let bytes =
            std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let name: Arc<str> = Arc::from(path.file_name().and_then(|n| n.to_str()).unwrap_or("?"));
        let framing = Framing::from_path(&name);
        let loaded = load_file(name, &bytes, framing, schema);
        resources.extend(loaded.fhir);
        errors.extend(loaded.errors);
    }
    (resources, errors)
}

fn assert_all_valid(output: &FhirOutput, schema: &RecordSchema) {
    for record in &output.records {
        let violations = schema.validate(&record.value);
        assert!(
            violations.is_empty(),
            "record {} does not validate: {violations:?}",
            record.id
        );
    }
}

#[test]
fn bulk_export_maps_every_encounter() {
    let Some(data) = shared_data() else {
        return;
    };
    let schema = RecordSchema::new();
    let paths = files(&data.join("fhir/bulk-export-10-patients"), "ndjson");
    assert_eq!(paths.len(), 7, "the bulk export has seven NDJSON files");

    let (resources, load_errors) = load(&paths, &schema);
    assert!(load_errors.is_empty(), "load errors: {load_errors:?}");

    let output = map_records(resources, &FhirMapping::builtin(), &schema);
    assert_eq!(output.records.len(), 1215);
    assert!(
        output.errors.is_empty(),
        "mapping errors: {:?}",
        output.errors
    );
    assert_all_valid(&output, &schema);
    println!(
        "mapped {} records with {} warnings",
        output.records.len(),
        output.warnings.len()
    );
    for warning in output.warnings.iter().take(5) {
        println!("warning: {}", warning.message);
    }

    // Every encounter has its patient, and its note decoded from base64.
    let with_name = output
        .records
        .iter()
        .filter(|r| r.value.pointer("/patient/name").is_some())
        .count();
    assert_eq!(with_name, 1215);
    let with_note_text = output
        .records
        .iter()
        .filter(|r| r.value.pointer("/notes/0/text").is_some())
        .count();
    assert_eq!(with_note_text, 1215);
    // Practitioners are referenced by NPI in conditional references.
    let with_npi = output
        .records
        .iter()
        .filter(|r| r.value.pointer("/encounter/rendering_npi").is_some())
        .count();
    assert_eq!(with_npi, 1215);

    // Records come out in input order, and each points back at its Encounter.
    let first = &output.records[0];
    assert_eq!(&*first.origin.file, "Encounter.000.ndjson");
    assert_eq!(first.origin.line, Some(1));
    assert_eq!(
        first.locate("/notes/0/text").file.as_ref(),
        "DocumentReference.000.ndjson"
    );
}

#[test]
fn r4_examples_load_without_version_errors() {
    let Some(data) = shared_data() else {
        return;
    };
    let schema = RecordSchema::new();
    let paths = files(&data.join("fhir/r4-examples"), "json");
    assert_eq!(paths.len(), 16);
    let (resources, load_errors) = load(&paths, &schema);
    assert!(load_errors.is_empty(), "load errors: {load_errors:?}");
    assert_eq!(resources.len(), 16);

    // Both example Encounters lack `period`, so neither has a date of
    // service; each fails with a message located at the Encounter.
    let output = map_records(resources, &FhirMapping::builtin(), &schema);
    assert!(output.records.is_empty());
    let failed: Vec<(&str, &str)> = output
        .errors
        .iter()
        .map(|e| (&*e.origin.file, e.message.as_str()))
        .collect();
    assert_eq!(
        failed,
        [
            ("encounter-example-f001-heart.json", "Encounter/f001 has no date of service: period.start is missing or not a date, and no claim gives one"),
            ("encounter-example.json", "Encounter/example has no date of service: period.start is missing or not a date, and no claim gives one"),
        ]
    );
}

#[test]
fn wrong_version_files_are_rejected() {
    let Some(data) = shared_data() else {
        return;
    };
    let schema = RecordSchema::new();
    for path in files(&data.join("fhir/wrong-version"), "json") {
        let (resources, errors) = load(std::slice::from_ref(&path), &schema);
        assert!(resources.is_empty(), "{} was read", path.display());
        assert_eq!(errors.len(), 1, "{}: {errors:?}", path.display());
        assert_eq!(errors[0].kind, InputErrorKind::FhirVersion);
        assert!(
            errors[0].message.contains("FHIR STU3 (3.0), not R4"),
            "{}",
            errors[0].message
        );
    }
}

#[test]
fn synthea_bundles_map_with_claims() {
    let Some(data) = shared_data() else {
        return;
    };
    let schema = RecordSchema::new();
    for (file, encounters) in [
        (
            "Cecelia952_Romaguera67_f1731e33-dc55-4ee8-72d7-cece2e49bedd.json",
            29,
        ),
        ("test_bundle.json", 65),
    ] {
        let (resources, load_errors) =
            load(&[data.join("fhir/synthea-bundles").join(file)], &schema);
        assert!(load_errors.is_empty(), "{file}: {load_errors:?}");
        let output = map_records(resources, &FhirMapping::builtin(), &schema);
        assert!(output.errors.is_empty(), "{file}: {:?}", output.errors);
        assert_eq!(output.records.len(), encounters, "{file}");
        assert_all_valid(&output, &schema);
        // Every Synthea encounter is billed, and its EOB pays without denial.
        for record in &output.records {
            assert!(
                record.value.pointer("/claim/id").is_some(),
                "{file}: record {} has no claim",
                record.id
            );
            assert!(
                record.value.pointer("/claim/denial").is_none(),
                "{file}: record {} is denied",
                record.id
            );
        }
    }
}

#[test]
fn blue_button_eob_alone_makes_no_record() {
    let Some(data) = shared_data() else {
        return;
    };
    let schema = RecordSchema::new();
    let (resources, load_errors) =
        load(&[data.join("bluebutton/eob_read_carrier_v2.json")], &schema);
    assert!(load_errors.is_empty(), "{load_errors:?}");
    let output = map_records(resources, &FhirMapping::builtin(), &schema);
    assert!(output.records.is_empty());
    assert!(output.errors.is_empty());
}
