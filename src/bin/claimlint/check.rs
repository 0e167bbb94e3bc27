//! `claimlint check`: read inputs, evaluate the packs, report.

use std::path::PathBuf;

use claimlint::diagnostic::{Level, SourceDiagnostic};
use claimlint::eval::{self, NotApplicable, PackResult, PatientMonthReport, PatientMonths};
use claimlint::finding::{Finding, Outcome, Severity};
use claimlint::input::InputError;
use claimlint::record::Record;
use claimlint::report::{RecordOutcome, RuleOutcome, RuleStatus};
use claimlint::rules::RuleSet;
use clap::Args;

use crate::pipeline::{self, Counts, Format, PipelineArgs, Reported, Settings};
use crate::render::Renderer;
use crate::report::{self, SourceCache};
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

    /// Show patient data (names, birth dates, contact details, member ids,
    /// note text) in source snippets instead of masking it. Never use it
    /// where the output is kept, such as CI logs.
    #[arg(long = "show-phi")]
    show_phi: bool,

    #[command(flatten)]
    pipeline: PipelineArgs,
}

pub fn run(args: CheckArgs, renderer: &Renderer) -> ExitStatus {
    let mut rules = match rules_arg::load(&args.rules) {
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
    let mut settings = match Settings::load(args.pipeline, args.fhir_mapping, &mut rules) {
        Ok(settings) => settings,
        Err(diagnostics) => {
            for diagnostic in &diagnostics {
                out!("{}", renderer.render(diagnostic));
            }
            outln!(
                "claimlint: the configuration has {} error(s); nothing was checked",
                diagnostics.len()
            );
            return ExitStatus::Error;
        }
    };
    let fhir_mapping = match inputs::load_fhir_mapping(settings.fhir_mapping.as_deref()) {
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

    let mut counts = Counts::default();
    let mut reported = Vec::new();
    let mut outcomes = Vec::new();
    let mut patient_months = PatientMonths::new(&rules);
    let mut loaded = inputs::load(&paths, &fhir_mapping, |record| {
        patient_months.add(&record);
        evaluate(&rules, record, &mut counts, &mut reported, &mut outcomes);
    });
    // Patient-month rules run once every record of the month has been read.
    report_patient_months(
        &rules,
        patient_months.finish(),
        &mut reported,
        &mut outcomes,
    );
    counts.files = loaded.files;
    counts.skipped = loaded.skipped;
    counts.unreadable = loaded.unreadable_inputs();
    let mut input_errors = std::mem::take(&mut loaded.errors);
    let mut input_warnings = std::mem::take(&mut loaded.warnings);
    report::sort_input_errors(&mut input_errors);
    report::sort_input_errors(&mut input_warnings);

    loaded.sources.show_phi = args.show_phi;
    let report = pipeline::build_report(
        &mut settings,
        &rules,
        &mut reported,
        &mut outcomes,
        &counts,
        &input_errors,
        &input_warnings,
        &mut loaded.sources,
    );
    let report = match report {
        Ok(report) => report,
        Err(diagnostic) => {
            out!("{}", renderer.render(&*diagnostic));
            return ExitStatus::Error;
        }
    };
    let is_human = settings.format == Format::Human;
    if is_human && !settings.quiet {
        print_report(
            &mut reported,
            &input_errors,
            &input_warnings,
            &mut loaded.sources,
            renderer,
        );
    }
    let failures = pipeline::write_outputs(&settings, &report);
    // A machine format keeps stdout for the report; the rest goes to stderr.
    let notes = [
        (!settings.quiet).then(|| pipeline::suppression_warning_lines(&report)),
        settings
            .statistics
            .then(|| pipeline::statistics_text(&report)),
        Some(failures.iter().map(|f| format!("error: {f}\n")).collect()),
        (is_human || !settings.quiet).then(|| format!("{}\n", pipeline::summary_line(&report))),
    ];
    for note in notes.into_iter().flatten().filter(|n| !n.is_empty()) {
        if is_human {
            out!("{note}");
        } else {
            eprint!("{note}");
        }
    }
    pipeline::exit_status(&settings, &report, !failures.is_empty())
}

fn evaluate(
    rules: &RuleSet,
    record: Record,
    counts: &mut Counts,
    reported: &mut Vec<Reported>,
    outcomes: &mut Vec<RecordOutcome>,
) {
    counts.records += 1;
    let results: Vec<PackResult> = eval::evaluate(rules, &record);
    if results.iter().all(|r| r.not_applicable.is_some()) {
        counts.not_applicable += 1;
    }
    outcomes.push(record_outcome(rules, &record, &results));
    let findings: Vec<Finding> = results.into_iter().flat_map(|r| r.findings).collect();
    if !findings.is_empty() {
        reported.push(Reported { record, findings });
    }
}

/// Collects the outcome of every rule of the applicable packs on one
/// record, for JUnit.
fn record_outcome(rules: &RuleSet, record: &Record, results: &[PackResult]) -> RecordOutcome {
    let mut outcome = RecordOutcome {
        file: record.origin.file.to_string(),
        record_id: record.id.clone(),
        rules: Vec::new(),
        not_applicable: Vec::new(),
    };
    for result in results {
        if let Some(reason) = &result.not_applicable {
            let reason = match reason {
                NotApplicable::Condition => "the pack's applicability condition does not hold",
                NotApplicable::OutsideEffectiveDates => {
                    "the date of service is outside the pack's effective dates"
                }
            };
            outcome
                .not_applicable
                .push((result.pack.clone(), reason.to_string()));
            continue;
        }
        for rule in &result.rules {
            outcome
                .rules
                .push(rule_outcome(rules, &result.pack, &rule.code, rule.outcome));
        }
    }
    outcome
}

fn rule_outcome(rules: &RuleSet, pack: &str, code: &str, outcome: Outcome) -> RuleOutcome {
    RuleOutcome {
        code: code.to_string(),
        name: rules
            .rule(code)
            .map(|(_, rule)| rule.name.clone())
            .unwrap_or_default(),
        pack: pack.to_string(),
        outcome,
        status: match outcome {
            Outcome::Pass => RuleStatus::Pass,
            _ => RuleStatus::Fail,
        },
    }
}

/// Adds the findings of patient-month rules to the records they are about,
/// next to those records' own findings, and each member record's outcome.
fn report_patient_months(
    rules: &RuleSet,
    report: PatientMonthReport,
    reported: &mut Vec<Reported>,
    outcomes: &mut [RecordOutcome],
) {
    let mut by_record: Vec<Vec<Finding>> = vec![Vec::new(); report.records.len()];
    for result in report.results {
        for &member in &result.members {
            let Some(record) = report.records.get(member) else {
                continue;
            };
            let outcome = result
                .findings
                .iter()
                .find(|(index, _)| *index == member)
                .map_or(Outcome::Pass, |(_, finding)| finding.outcome);
            let file = record.origin.file.to_string();
            if let Some(entry) = outcomes
                .iter_mut()
                .find(|o| o.file == file && o.record_id == record.id)
            {
                entry.rules.push(rule_outcome(
                    rules,
                    &result.pack,
                    &result.rule.code,
                    outcome,
                ));
            }
        }
        for (index, finding) in result.findings {
            if let Some(findings) = by_record.get_mut(index) {
                findings.push(finding);
            }
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
    input_errors: &[InputError],
    input_warnings: &[InputError],
    sources: &mut SourceCache,
    renderer: &Renderer,
) {
    reported.sort_by(|a, b| {
        (
            &a.record.origin.file,
            a.record.origin.line,
            &a.record.origin.pointer,
            &a.record.id,
        )
            .cmp(&(
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

fn finding_diagnostic(
    record: &Record,
    finding: &Finding,
    sources: &mut SourceCache,
) -> SourceDiagnostic {
    let level = match finding.severity {
        Severity::Error => Level::Error,
        Severity::Warning => Level::Warning,
        Severity::Info => Level::Advice,
    };
    let mut diagnostic =
        SourceDiagnostic::error(format!("record {}: {}", record.id, finding.message))
            .with_code(format!("{} {}", finding.code, finding.name))
            .with_level(level)
            .with_help(finding.help.clone());
    diagnostic.notes.push(format!(
        "rule: {} {} ({} {}, {} layer); source: {}",
        finding.code,
        finding.name,
        finding.pack,
        finding.pack_version,
        finding.layer,
        finding.citation
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
