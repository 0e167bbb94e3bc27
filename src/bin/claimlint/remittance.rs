//! Reading remittance files for `remit` and `appeal --remittance`: X12 835
//! files, and FHIR ExplanationOfBenefit or ClaimResponse JSON, whose denials
//! the FHIR mapper puts in each record's `claim.denial`.

use std::path::{Path, PathBuf};

use claimlint::appeal::eligibility::ClaimDenial;
use claimlint::diagnostic::{Level, SourceDiagnostic};
use claimlint::fhir::FhirMapping;
use claimlint::remit::x12::{parse_835, Severity, X12Error};
use claimlint::remit::RemitDenial;
use serde::Serialize;
use serde_json::Value;
use walkdir::WalkDir;

use crate::{inputs, report};

/// File name endings read from walked folders: 835 files under their usual
/// names, and JSON.
const REMITTANCE_EXTENSIONS: &[&str] =
    &[".835", ".edi", ".x12", ".era", ".json", ".ndjson", ".jsonl"];

/// Denials and problems from the remittance files.
#[derive(Default)]
pub struct Remittances {
    /// Denials in file order, then segment order.
    pub denials: Vec<RemitDenial>,
    /// Rendered problems: unreadable files, 835 envelope errors, JSON errors.
    pub diagnostics: Vec<SourceDiagnostic>,
    /// Problems as data, for JSON output.
    pub problems: Vec<Problem>,
    /// Number of problems that lost data (errors, not warnings).
    pub errors: usize,
    /// Files read.
    pub files: usize,
}

/// One input problem, as JSON output lists it. Never carries element values.
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    pub source: String,
    pub severity: &'static str,
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
}

/// Reads every file named by `paths` (files, or folders walked in name
/// order). A file whose first character (after a byte order mark and
/// whitespace) is `{` or `[` is read as JSON; anything else as an 835.
pub fn load(paths: &[PathBuf], mapping: &FhirMapping) -> Remittances {
    let mut loaded = Remittances::default();
    let mut json_files = Vec::new();
    for file in expand(paths, &mut loaded) {
        let bytes = match std::fs::read(&file) {
            Ok(bytes) => bytes,
            Err(error) => {
                loaded.error(
                    &file.display().to_string(),
                    "claimlint::input::io",
                    format!("cannot read: {error}"),
                    None,
                );
                continue;
            }
        };
        loaded.files += 1;
        if looks_like_json(&bytes) {
            json_files.push(file);
        } else {
            read_835(&file.display().to_string(), &bytes, &mut loaded);
        }
    }
    if !json_files.is_empty() {
        read_json(&json_files, mapping, &mut loaded);
    }
    // A stable sort: file order by name, then segment order within a file.
    loaded.denials.sort_by(|a, b| a.source.cmp(&b.source));
    loaded
}

impl Remittances {
    fn error(&mut self, source: &str, code: &str, message: String, help: Option<String>) {
        let mut diagnostic =
            SourceDiagnostic::error(format!("{source}: {message}")).with_code(code);
        diagnostic.help = help.clone();
        self.diagnostics.push(diagnostic);
        self.problems.push(Problem {
            source: source.to_string(),
            severity: "error",
            code: code.to_string(),
            message,
            help,
            line: None,
            column: None,
        });
        self.errors += 1;
    }
}

fn expand(paths: &[PathBuf], loaded: &mut Remittances) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for path in paths {
        if !path.is_dir() {
            if path.exists() {
                files.push(path.clone());
            } else {
                loaded.error(
                    &path.display().to_string(),
                    "claimlint::input::io",
                    "cannot read: no such file or folder".to_string(),
                    Some("check the path of the remittance file".to_string()),
                );
            }
            continue;
        }
        let before = files.len();
        for entry in WalkDir::new(path).follow_links(true).sort_by_file_name() {
            match entry {
                Ok(entry)
                    if entry.file_type().is_file() && has_remittance_extension(entry.path()) =>
                {
                    files.push(entry.into_path())
                }
                Ok(_) => {}
                Err(error) => loaded.error(
                    &path.display().to_string(),
                    "claimlint::input::io",
                    format!("cannot list the folder: {error}"),
                    None,
                ),
            }
        }
        if files.len() == before {
            loaded.error(
                &path.display().to_string(),
                "claimlint::input::io",
                format!(
                    "no remittance files ({}) in the folder",
                    REMITTANCE_EXTENSIONS.join(", ")
                ),
                Some("name the 835 or FHIR JSON files, or a folder that holds them".to_string()),
            );
        }
    }
    files
}

fn has_remittance_extension(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    REMITTANCE_EXTENSIONS.iter().any(|ext| name.ends_with(ext))
}

fn looks_like_json(bytes: &[u8]) -> bool {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    matches!(
        bytes.iter().find(|b| !b.is_ascii_whitespace()),
        Some(b'{' | b'[')
    )
}

fn read_835(source: &str, bytes: &[u8], loaded: &mut Remittances) {
    let parsed = parse_835(bytes);
    for error in &parsed.errors {
        push_x12_problem(source, error, loaded);
    }
    for remittance in &parsed.remittances {
        loaded
            .denials
            .extend(RemitDenial::from_remittance(source, remittance));
    }
}

fn push_x12_problem(source: &str, error: &X12Error, loaded: &mut Remittances) {
    let is_error = error.severity == Severity::Error;
    let code = "claimlint::remit::x12";
    // The message names segments and control numbers only; no snippet is
    // shown, because the lines around an envelope can hold patient names.
    let position = &error.position;
    let mut diagnostic = SourceDiagnostic::error(format!(
        "{source}:{}:{}: {} (segment {})",
        position.line, position.column, error.kind, position.segment
    ))
    .with_code(code)
    .with_help(error.help());
    if !is_error {
        diagnostic = diagnostic.with_level(Level::Warning);
    } else {
        loaded.errors += 1;
    }
    loaded.diagnostics.push(diagnostic);
    loaded.problems.push(Problem {
        source: source.to_string(),
        severity: if is_error { "error" } else { "warning" },
        code: code.to_string(),
        message: error.kind.to_string(),
        help: Some(error.help().to_string()),
        line: Some(position.line),
        column: Some(position.column),
    });
}

/// Reads JSON files as records (canonical, or FHIR mapped with `mapping`)
/// and lists the denial of each record whose claim is denied.
fn read_json(files: &[PathBuf], mapping: &FhirMapping, loaded: &mut Remittances) {
    let mut denials = Vec::new();
    let mut input = inputs::load(files, mapping, |record| {
        let Some(denial) = ClaimDenial::from_record(&record) else {
            return;
        };
        let claim = record.value.get("claim");
        let text = |pointer: &str| {
            claim
                .and_then(|c| c.pointer(pointer))
                .and_then(Value::as_str)
        };
        denials.push(RemitDenial::from_claim_denial(
            &record.origin.file,
            &denial,
            text("/status"),
            text("/payer/name"),
        ));
    });
    loaded.denials.extend(denials);

    report::sort_input_errors(&mut input.errors);
    for error in &input.errors {
        loaded
            .diagnostics
            .push(report::input_diagnostic(error, &mut input.sources));
        loaded.problems.push(Problem {
            source: error.origin.file.to_string(),
            severity: "error",
            code: "claimlint::input".to_string(),
            message: error.message.clone(),
            help: error.help.clone(),
            line: error.origin.line,
            column: None,
        });
        loaded.errors += 1;
    }
    for warning in &input.warnings {
        loaded
            .diagnostics
            .push(report::input_diagnostic(warning, &mut input.sources).with_level(Level::Warning));
    }
}
