//! `claimlint check`: read inputs, evaluate the packs, report.

use std::path::PathBuf;

use clap::Args;
use claimlint::diagnostic::{Level, SourceDiagnostic};
use claimlint::eval::{self, PackResult, PatientMonthReport, PatientMonths};
use claimlint::finding::{Finding, Severity};
use claimlint::input::InputError;
use claimlint::record::Record;
use claimlint::rules::RuleSet;

use crate::render::Renderer;
use crate::report::{self, plural, SourceCache};
use crate::{inputs, rules_arg, ExitStatus};

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

    /// FHIR mapping file (YAML) naming the local codes of portal offers,
    /// invitations and education; its sections replace those of the
    /// built-in mapping, mappings/fhir-r4.yaml.
    #[arg(long = "fhir-mapping", value_name = "FILE")]
    fhir_mapping: Option<PathBuf>,
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
                out!("{}", renderer.render(diagnostic));
            }
            outln!(
                "claimlint: the rule set has {} error(s); nothing was checked",
                diagnostics.len()
            );
            return ExitStatus::Error;
        }
    };
    let fhir_mapping = match inputs::load_fhir_mapping(args.fhir_mapping.as_deref()) {
        Ok(mapping) => mapping,
        Err(diagnostics) => {
            for diagnostic in &diagnostics {
                out!("{}", renderer.render(diagnostic));
            }
            outln!(
                "claimlint: the FHIR mapping has {} error(s); nothing was checked",
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

    let mut totals = Totals::default();
    let mut reported = Vec::new();
    let mut patient_months = PatientMonths::new(&rules);
    let mut loaded = inputs::load(&paths, &fhir_mapping, |record| {
        patient_months.add(&record);
        evaluate(&rules, record, &mut totals, &mut reported);
    });
    // Patient-month rules run once every record of the month has been read.
    report_patient_months(patient_months.finish(), &mut totals, &mut reported);
    totals.files = loaded.files;
    totals.skipped = loaded.skipped;
    totals.unreadable = loaded.unreadable_inputs();
    let mut input_errors = std::mem::take(&mut loaded.errors);
    let mut input_warnings = std::mem::take(&mut loaded.warnings);
    print_report(&mut reported, &mut input_errors, &mut input_warnings, &mut loaded.sources, renderer);
    print_summary(&totals, input_errors.len(), input_warnings.len());

    if !input_errors.is_empty() {
        ExitStatus::Error
    } else if totals.errors > 0 {
        ExitStatus::Findings
    } else {
        ExitStatus::Clean
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

/// Sorts findings and errors by file and position, and prints them.
fn print_report(
    reported: &mut [Reported],
    input_errors: &mut [InputError],
    input_warnings: &mut [InputError],
    sources: &mut SourceCache,
    renderer: &Renderer,
) {
    report::sort_input_errors(input_errors);
    report::sort_input_errors(input_warnings);
    reported.sort_by(|a, b| {
        (&a.record.origin.file, a.record.origin.line, &a.record.origin.pointer, &a.record.id).cmp(&(
            &b.record.origin.file,
            b.record.origin.line,
            &b.record.origin.pointer,
            &b.record.id,
        ))
    });

    for error in input_errors.iter() {
        let diagnostic = report::input_diagnostic(error, sources);
        out!("{}", renderer.render(&diagnostic));
    }
    for warning in input_warnings.iter() {
        let diagnostic = report::input_diagnostic(warning, sources).with_level(Level::Warning);
        out!("{}", renderer.render(&diagnostic));
    }
    for entry in reported.iter_mut() {
        entry.findings.sort_by(|a, b| a.code.cmp(&b.code));
        for finding in &entry.findings {
            let diagnostic = finding_diagnostic(&entry.record, finding, sources);
            out!("{}", renderer.render(&diagnostic));
        }
    }
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
    let label = finding
        .misses
        .first()
        .map(|m| match &m.found {
            Some(found) => format!("expected {}; {found}", m.expected),
            None => format!("expected {}", m.expected),
        })
        .unwrap_or_else(|| "here".to_string());
    report::with_record_source(diagnostic, record, &finding.pointer, label, sources)
}

fn print_summary(totals: &Totals, input_errors: usize, mapping_warnings: usize) {
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
            "; {} in {}",
            plural(input_errors, "input error"),
            plural(totals.unreadable, "input")
        ));
    }
    if mapping_warnings > 0 {
        line.push_str(&format!(
            "; {} (FHIR data left out of records)",
            plural(mapping_warnings, "mapping warning")
        ));
    }
    outln!("{line}");
}
