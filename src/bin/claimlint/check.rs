//! `claimlint check`: read inputs, evaluate the packs, report.

use std::collections::HashMap;
use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use claimlint::diagnostic::{Level, SourceDiagnostic};
use claimlint::eval::{self, PackResult, PatientMonthReport, PatientMonths};
use claimlint::finding::{Finding, Severity};
use claimlint::input::{self, Framing, InputError, InputErrorKind};
use claimlint::record::{Origin, Record, RecordSchema};
use claimlint::rules::RuleSet;

use crate::discover::{self, Input};
use crate::render::Renderer;
use crate::{rules_arg, ExitStatus};

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Files or folders to check; `-` reads standard input. Defaults to the
    /// current folder.
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,

    /// Rule pack file or folder; repeat for several. Defaults to the packs
    /// shipped with claimlint.
    #[arg(long = "rules", value_name = "PATH")]
    rules: Vec<PathBuf>,
}

/// Counts for the summary line.
#[derive(Debug, Default)]
struct Totals {
    files: usize,
    skipped: usize,
    records: usize,
    not_applicable: usize,
    errors: usize,
    warnings: usize,
    infos: usize,
    unreadable: usize,
}

/// A record with findings, kept until output so it can be located.
struct Reported {
    record: Record,
    findings: Vec<Finding>,
}

pub fn run(args: CheckArgs, renderer: &Renderer) -> ExitStatus {
    let rules = match rules_arg::load(&args.rules) {
        Ok(rules) => rules,
        Err(diagnostics) => {
            for diagnostic in &diagnostics {
                print!("{}", renderer.render(diagnostic));
            }
            println!(
                "claimlint: the rule set has {} error(s); nothing was checked",
                diagnostics.len()
            );
            return ExitStatus::Error;
        }
    };
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths
    };

    let schema = RecordSchema::new();
    let discovered = discover::discover(&paths);
    let mut totals = Totals {
        skipped: discovered.skipped,
        ..Totals::default()
    };
    let mut input_errors: Vec<InputError> = discovered
        .errors
        .iter()
        .map(|(path, reason)| {
            InputError::new(
                InputErrorKind::Io,
                Origin::new(Arc::from(path.as_str()), None, ""),
                format!("cannot read: {reason}"),
            )
        })
        .collect();
    let mut sources = SourceCache::default();
    let mut reported = Vec::new();
    let mut fhir = Vec::new();
    let mut patient_months = PatientMonths::new(&rules);

    for input in &discovered.inputs {
        totals.files += 1;
        let name: Arc<str> = Arc::from(input.display_name());
        let bytes = match read_input(input) {
            Ok(bytes) => bytes,
            Err(error) => {
                input_errors.push(InputError::new(
                    InputErrorKind::Io,
                    Origin::new(name, None, ""),
                    format!("cannot read: {error}"),
                ));
                continue;
            }
        };
        let framing = match input {
            Input::Stdin => Framing::Detect,
            Input::File(_) => Framing::from_path(&name),
        };
        let loaded = input::load_file(name.clone(), &bytes, framing, &schema);
        if matches!(input, Input::Stdin) {
            sources.keep(name, bytes);
        }
        input_errors.extend(loaded.errors);
        fhir.extend(loaded.fhir);
        for record in loaded.records {
            patient_months.add(&record);
            evaluate(&rules, record, &mut totals, &mut reported);
        }
    }

    let (records, errors) = claimlint::fhir::map_records(fhir);
    input_errors.extend(errors);
    for record in records {
        patient_months.add(&record);
        evaluate(&rules, record, &mut totals, &mut reported);
    }
    // Patient-month rules run once every record of the month has been read.
    report_patient_months(patient_months.finish(), &mut totals, &mut reported);

    let unreadable_files: std::collections::BTreeSet<&str> =
        input_errors.iter().map(|e| &*e.origin.file).collect();
    totals.unreadable = unreadable_files.len();
    print_report(&mut reported, &mut input_errors, &mut sources, renderer);
    print_summary(&totals, input_errors.len());

    if !input_errors.is_empty() {
        ExitStatus::Error
    } else if totals.errors > 0 {
        ExitStatus::Findings
    } else {
        ExitStatus::Clean
    }
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

fn evaluate(rules: &RuleSet, record: Record, totals: &mut Totals, reported: &mut Vec<Reported>) {
    totals.records += 1;
    let results: Vec<PackResult> = eval::evaluate(rules, &record);
    if results.iter().all(|r| r.not_applicable.is_some()) {
        totals.not_applicable += 1;
    }
    let findings: Vec<Finding> = results.into_iter().flat_map(|r| r.findings).collect();
    for finding in &findings {
        match finding.severity {
            Severity::Error => totals.errors += 1,
            Severity::Warning => totals.warnings += 1,
            Severity::Info => totals.infos += 1,
        }
    }
    if !findings.is_empty() {
        reported.push(Reported { record, findings });
    }
}

/// Counts the findings of patient-month rules and adds them to the records
/// they are about, next to those records' own findings.
fn report_patient_months(report: PatientMonthReport, totals: &mut Totals, reported: &mut Vec<Reported>) {
    let mut by_record: Vec<Vec<Finding>> = vec![Vec::new(); report.records.len()];
    for (index, finding) in report.results.into_iter().flat_map(|r| r.findings) {
        match finding.severity {
            Severity::Error => totals.errors += 1,
            Severity::Warning => totals.warnings += 1,
            Severity::Info => totals.infos += 1,
        }
        if let Some(findings) = by_record.get_mut(index) {
            findings.push(finding);
        }
    }
    for (record, findings) in report.records.into_iter().zip(by_record) {
        if findings.is_empty() {
            continue;
        }
        let existing = reported
            .iter_mut()
            .find(|r| r.record.origin == record.origin && r.record.id == record.id);
        match existing {
            Some(entry) => entry.findings.extend(findings),
            None => reported.push(Reported { record, findings }),
        }
    }
}

/// File texts for rendering snippets. Files are read again from disk when a
/// snippet is needed, so that a large run keeps no file text in memory;
/// standard input is kept because it cannot be read twice.
#[derive(Default)]
struct SourceCache {
    texts: HashMap<Arc<str>, Option<Arc<str>>>,
}

impl SourceCache {
    fn keep(&mut self, name: Arc<str>, bytes: Vec<u8>) {
        let text = String::from_utf8(bytes).ok().map(|t| Arc::from(t.trim_start_matches('\u{feff}')));
        self.texts.insert(name, text);
    }

    fn get(&mut self, name: &Arc<str>) -> Option<Arc<str>> {
        self.texts
            .entry(name.clone())
            .or_insert_with(|| {
                let bytes = std::fs::read(&**name).ok()?;
                let text = String::from_utf8(bytes).ok()?;
                Some(Arc::from(text.strip_prefix('\u{feff}').unwrap_or(&text)))
            })
            .clone()
    }
}

/// Sorts findings and errors by file and position, and prints them.
fn print_report(
    reported: &mut [Reported],
    input_errors: &mut [InputError],
    sources: &mut SourceCache,
    renderer: &Renderer,
) {
    input_errors.sort_by(|a, b| {
        (&a.origin.file, a.origin.line, a.span.as_ref().map(|s| s.start), &a.origin.pointer).cmp(&(
            &b.origin.file,
            b.origin.line,
            b.span.as_ref().map(|s| s.start),
            &b.origin.pointer,
        ))
    });
    reported.sort_by(|a, b| {
        (&a.record.origin.file, a.record.origin.line, &a.record.origin.pointer, &a.record.id).cmp(&(
            &b.record.origin.file,
            b.record.origin.line,
            &b.record.origin.pointer,
            &b.record.id,
        ))
    });

    for error in input_errors.iter() {
        let diagnostic = input_diagnostic(error, sources);
        print!("{}", renderer.render(&diagnostic));
    }
    for entry in reported.iter_mut() {
        entry.findings.sort_by(|a, b| a.code.cmp(&b.code));
        for finding in &entry.findings {
            let diagnostic = finding_diagnostic(&entry.record, finding, sources);
            print!("{}", renderer.render(&diagnostic));
        }
    }
}

/// The byte range of the document an origin refers to: its NDJSON line, or
/// the whole file.
fn document_range(text: &str, line: Option<usize>) -> std::ops::Range<usize> {
    let Some(line) = line else {
        return 0..text.len();
    };
    let mut start = 0;
    for (index, chunk) in text.split_inclusive('\n').enumerate() {
        if index + 1 == line {
            let body = chunk.trim_end_matches(['\n', '\r']);
            return start..start + body.len();
        }
        start += chunk.len();
    }
    text.len()..text.len()
}

/// Locates `origin` in its file: the span to label and the masked text.
fn locate(origin: &Origin, sources: &mut SourceCache) -> Option<(Arc<str>, std::ops::Range<usize>)> {
    let text = sources.get(&origin.file)?;
    let document = document_range(&text, origin.line);
    let span = match claimlint::source::locate_pointer_within(&text, document.clone(), &origin.pointer) {
        Some(located) => label_span(&text, located),
        None => document.start..document.start,
    };
    Some((text, span))
}

/// Labels the key of a container member (a whole list would fill the
/// screen) and the value of a scalar member.
fn label_span(text: &str, located: claimlint::source::Located) -> std::ops::Range<usize> {
    let is_container = matches!(text.as_bytes().get(located.value.start), Some(b'{' | b'['));
    match (is_container, located.key) {
        (true, Some(key)) => key,
        (true, None) => located.value.start..located.value.start + 1,
        (false, _) => located.value,
    }
}

fn masked_source(text: &Arc<str>) -> Arc<str> {
    Arc::from(claimlint::phi::mask_json(text, claimlint::phi::PHI_KEYS))
}

fn finding_diagnostic(record: &Record, finding: &Finding, sources: &mut SourceCache) -> SourceDiagnostic {
    let level = match finding.severity {
        Severity::Error => Level::Error,
        Severity::Warning => Level::Warning,
        Severity::Info => Level::Advice,
    };
    let mut diagnostic = SourceDiagnostic::error(format!("record {}: {}", record.id, finding.message))
        .with_code(format!("{} {}", finding.code, finding.name))
        .with_level(level)
        .with_help(finding.help.clone());
    diagnostic.notes.push(format!(
        "rule: {} {} ({} {}, {} layer); source: {}",
        finding.code, finding.name, finding.pack, finding.pack_version, finding.layer, finding.citation
    ));
    let origin = record.locate(&finding.pointer);
    let label = finding
        .misses
        .first()
        .map(|m| match &m.found {
            Some(found) => format!("expected {}; {found}", m.expected),
            None => format!("expected {}", m.expected),
        })
        .unwrap_or_else(|| "here".to_string());
    if let Some(resource) = record.source_resource(&finding.pointer) {
        diagnostic.notes.push(format!("mapped from FHIR {resource}"));
    }
    if let Some((text, span)) = locate(&origin, sources) {
        diagnostic = diagnostic.with_source(&*origin.file, masked_source(&text), span, label);
    }
    diagnostic
}

fn input_diagnostic(error: &InputError, sources: &mut SourceCache) -> SourceDiagnostic {
    let code = match error.kind {
        InputErrorKind::Io => "claimlint::input::io",
        InputErrorKind::InvalidUtf8 => "claimlint::input::invalid-utf8",
        InputErrorKind::InvalidJson => "claimlint::input::invalid-json",
        InputErrorKind::Compressed => "claimlint::input::compressed",
        InputErrorKind::Empty => "claimlint::input::empty",
        InputErrorKind::Unrecognized => "claimlint::input::unrecognized",
        InputErrorKind::Schema => "claimlint::input::schema",
        InputErrorKind::FhirVersion => "claimlint::input::fhir-version",
        InputErrorKind::FhirMapping => "claimlint::input::fhir-mapping",
    };
    let mut diagnostic = SourceDiagnostic::error(error.message.clone()).with_code(code);
    diagnostic.help = error.help.clone();
    if matches!(error.kind, InputErrorKind::Io | InputErrorKind::InvalidUtf8 | InputErrorKind::Compressed) {
        diagnostic.message = format!("{}: {}", error.origin.file, error.message);
        return diagnostic;
    }
    let located = match &error.span {
        Some(span) => sources.get(&error.origin.file).map(|text| {
            let base = document_range(&text, error.origin.line).start;
            (text, base + span.start..base + span.end)
        }),
        None => locate(&error.origin, sources),
    };
    match located {
        Some((text, span)) => diagnostic.with_source(&*error.origin.file, masked_source(&text), span, "here"),
        None => {
            diagnostic.message = format!("{}: {}", error.origin.file, error.message);
            diagnostic
        }
    }
}

fn print_summary(totals: &Totals, input_errors: usize) {
    let mut line = format!(
        "claimlint: {} checked, {} ({} not applicable); {}, {}, {}",
        plural(totals.files, "file"),
        plural(totals.records, "record"),
        totals.not_applicable,
        plural(totals.errors, "error"),
        plural(totals.warnings, "warning"),
        plural(totals.infos, "info"),
    );
    if totals.skipped > 0 {
        line.push_str(&format!("; {} skipped (not JSON)", plural(totals.skipped, "file")));
    }
    if input_errors > 0 {
        line.push_str(&format!(
            "; {} in {} that could not be read",
            plural(input_errors, "input error"),
            plural(totals.unreadable, "input")
        ));
    }
    println!("{line}");
}

fn plural(n: usize, word: &str) -> String {
    match (n, word) {
        (1, _) => format!("1 {word}"),
        (_, "info") => format!("{n} info"),
        _ => format!("{n} {word}s"),
    }
}
