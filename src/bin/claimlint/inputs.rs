//! Reading the command-line inputs into records, for every subcommand.

use std::collections::HashMap;
use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

use claimlint::diagnostic::SourceDiagnostic;
use claimlint::fhir::FhirMapping;
use claimlint::input::{self, Framing, InputError, InputErrorKind};
use claimlint::record::{Origin, Record, RecordSchema};

use crate::discover::{self, Discovered, Input};
use crate::report::SourceCache;

/// Counts, errors and kept texts from reading the inputs.
#[derive(Default)]
pub struct Loaded {
    /// Files read (standard input counts as one).
    pub files: usize,
    /// Documents and records that could not be read.
    pub errors: Vec<InputError>,
    /// FHIR data left out of records that are still checked.
    pub warnings: Vec<InputError>,
    /// Texts of inputs that cannot be read twice, for snippets.
    pub sources: SourceCache,
}

/// Reads every input named by `paths` (files, folders or `-`) and passes
/// each record to `on_record` as soon as it is read. FHIR resources are
/// mapped with `mapping` once all files are read, because a Bulk-FHIR
/// export spreads one encounter over several files.
pub fn load(paths: &[PathBuf], mapping: &FhirMapping, on_record: impl FnMut(Record)) -> Loaded {
    load_discovered(discover::discover(paths), mapping, on_record)
}

/// Reads inputs already discovered. A file can change between discovery and
/// reading; a file removed in between is reported as an input error.
fn load_discovered(
    discovered: Discovered,
    mapping: &FhirMapping,
    mut on_record: impl FnMut(Record),
) -> Loaded {
    let schema = RecordSchema::new();
    let mut loaded = Loaded::default();
    loaded
        .errors
        .extend(discovered.errors.iter().map(|(path, reason)| {
            InputError::new(
                InputErrorKind::Io,
                Origin::new(Arc::from(path.as_str()), None, ""),
                format!("cannot read: {reason}"),
            )
            .with_help(
                "check that the path exists and is readable; the other inputs are still checked",
            )
        }));
    let mut fhir = Vec::new();
    let mut seen: HashMap<String, Origin> = HashMap::new();

    for input in &discovered.inputs {
        loaded.files += 1;
        let name: Arc<str> = Arc::from(input.display_name());
        let bytes = match read_input(input) {
            Ok(bytes) => bytes,
            Err(error) => {
                loaded.errors.push(read_error(name, &error));
                continue;
            }
        };
        let framing = match input {
            Input::Stdin => Framing::Detect,
            Input::File(_) => Framing::from_path(&name),
        };
        let file = input::load_file(name.clone(), &bytes, framing, &schema);
        if matches!(input, Input::Stdin) {
            loaded.sources.keep(name, bytes);
        }
        loaded.errors.extend(file.errors);
        fhir.extend(file.fhir);
        for record in file.records {
            if let Some(record) = first_copy(record, &mut seen, &mut loaded.errors) {
                on_record(record);
            }
        }
    }

    let fhir_count = fhir.len();
    let first_fhir_file = fhir.first().map(|r| r.origin.file.clone());
    let mapped = claimlint::fhir::map_records(fhir, mapping, &schema);
    loaded.errors.extend(mapped.errors);
    loaded.warnings = mapped.warnings;
    let has_encounter = !mapped.records.is_empty()
        || loaded
            .errors
            .iter()
            .any(|e| e.kind == InputErrorKind::FhirMapping);
    if let (Some(file), false) = (first_fhir_file, has_encounter) {
        // Say why FHIR input produced nothing to check, rather than a bare
        // "0 records".
        loaded.warnings.push(
            InputError::new(
                InputErrorKind::FhirMapping,
                Origin::new(file, None, ""),
                format!(
                    "{fhir_count} FHIR resource(s) read, but none is an Encounter, so there is no record to check"
                ),
            )
            .with_help("claimlint checks one record per Encounter; include the Encounter resources in the export"),
        );
    }
    for record in mapped.records {
        if let Some(record) = first_copy(record, &mut seen, &mut loaded.errors) {
            on_record(record);
        }
    }
    loaded
}

/// Passes a record through unless an encounter with the same id was already
/// read; a second copy is reported and not checked, so that one encounter
/// read twice is not taken for two services.
fn first_copy(
    record: Record,
    seen: &mut HashMap<String, Origin>,
    errors: &mut Vec<InputError>,
) -> Option<Record> {
    match seen.get(&record.id) {
        None => {
            seen.insert(record.id.clone(), record.origin.clone());
            Some(record)
        }
        Some(first) => {
            let at = match first.line {
                Some(line) => format!("{} line {line}", first.file),
                None => first.file.to_string(),
            };
            errors.push(
                InputError::new(
                    InputErrorKind::DuplicateRecord,
                    record.origin.clone(),
                    format!(
                        "encounter {} was already read from {at}; this copy is not checked",
                        record.id
                    ),
                )
                .with_help(
                    "remove the duplicate from the export, or give each encounter its own id",
                ),
            );
            None
        }
    }
}

/// Reads the `--fhir-mapping` file, or returns the built-in mapping.
pub fn load_fhir_mapping(
    path: Option<&std::path::Path>,
) -> Result<FhirMapping, Vec<SourceDiagnostic>> {
    let Some(path) = path else {
        return Ok(FhirMapping::builtin());
    };
    let text = std::fs::read_to_string(path).map_err(|error| {
        vec![SourceDiagnostic::error(format!(
            "cannot read FHIR mapping file {}: {error}",
            path.display()
        ))
        .with_code("claimlint::fhir-mapping")]
    })?;
    FhirMapping::load(path, text).map_err(|error| error.diagnostics())
}

pub fn read_error(name: Arc<str>, error: &std::io::Error) -> InputError {
    let (message, help) = if error.kind() == std::io::ErrorKind::NotFound {
        (
            "cannot read: the file was removed after the inputs were listed".to_string(),
            "check that nothing moves or deletes export files while claimlint runs",
        )
    } else {
        (
            format!("cannot read: {error}"),
            "check the file's permissions and the device it is on",
        )
    };
    InputError::new(InputErrorKind::Io, Origin::new(name, None, ""), message).with_help(help)
}

fn read_input(input: &Input) -> std::io::Result<Vec<u8>> {
    match input {
        Input::File(path) => std::fs::read(path),
        Input::Stdin => {
            let mut bytes = Vec::new();
            std::io::stdin().read_to_end(&mut bytes)?;
            Ok(bytes)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RECORD: &str = r#"{"record_type":"claimlint.encounter/v1","patient":{"id":"p1"},"encounter":{"id":"e1","date_of_service":"2026-03-03"}}"#;

    #[test]
    fn file_removed_after_discovery_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let gone = dir.path().join("a-gone.json");
        std::fs::write(&gone, RECORD).unwrap();
        std::fs::write(
            dir.path().join("b-kept.json"),
            RECORD.replace("\"e1\"", "\"e2\""),
        )
        .unwrap();

        let discovered = discover::discover(&[dir.path().to_path_buf()]);
        assert_eq!(discovered.inputs.len(), 2);
        std::fs::remove_file(&gone).unwrap();
        let mut ids = Vec::new();
        let loaded = load_discovered(discovered, &FhirMapping::builtin(), |record| {
            ids.push(record.id)
        });

        assert_eq!(ids, ["e2"]);
        assert_eq!(loaded.files, 2);
        assert_eq!(loaded.errors.len(), 1);
        let error = &loaded.errors[0];
        assert_eq!(error.kind, InputErrorKind::Io);
        assert_eq!(&*error.origin.file, gone.display().to_string());
        assert_eq!(
            error.message,
            "cannot read: the file was removed after the inputs were listed"
        );
        assert_eq!(
            error.help.as_deref(),
            Some("check that nothing moves or deletes export files while claimlint runs")
        );
    }
}
