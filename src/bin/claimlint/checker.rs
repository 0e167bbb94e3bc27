//! Checking one document on a worker thread: parse it, evaluate the packs
//! on its records, and prepare each finding for every output of the run,
//! while the document's text is at hand to locate it. Nothing here writes
//! output; the results go back to the main thread in input order.

use std::collections::HashSet;
use std::sync::Arc;

use claimlint::baseline::BaselineEntry;
use claimlint::config::{Config, RuleLevel, Suppressions};
use claimlint::diagnostic::{Level, SourceDiagnostic};
use claimlint::eval::{self, Joined, MonthPlan, NotApplicable, PackResult};
use claimlint::fhir::FhirResource;
use claimlint::finding::{Finding, Outcome, Severity};
use claimlint::input::{self, Document, Framing, InputError, InputErrorKind};
use claimlint::record::{Record, RecordSchema};
use claimlint::report::fingerprint::fingerprint;
use claimlint::report::{
    json, AppliedSuppression, RecordOutcome, ReportedFinding, RuleOutcome, RuleStatus, SourceRange,
};
use claimlint::rules::RuleSet;
use claimlint::source::LineIndex;

use crate::render::Renderer;
use crate::report::{self, SourceCache};

/// The renderings each finding needs, from the run's outputs.
#[derive(Debug, Clone, Copy, Default)]
pub struct Needs {
    /// The human report on stdout, with source snippets.
    pub human: bool,
    /// The JSON report (stdout or a file).
    pub json: bool,
    /// The NDJSON report (stdout or a file).
    pub ndjson: bool,
    /// One line per finding, for `--output human=FILE`.
    pub human_lines: bool,
    /// A format that renders from the whole report (SARIF, JUnit, GitHub,
    /// GitLab): findings are kept whole until the end.
    pub whole: bool,
    /// JUnit: the outcome of every rule on every record.
    pub outcomes: bool,
    /// A baseline is read or written: every finding's entry is kept.
    pub baseline_entries: bool,
}

/// Read-only state shared by the worker threads.
pub struct Shared<'a> {
    pub rules: &'a RuleSet,
    pub schema: &'a RecordSchema,
    pub plan: &'a MonthPlan<'a>,
    pub config: Option<&'a Config>,
    pub suppressions: Option<&'a Suppressions>,
    /// Fingerprints of the baseline given with `--baseline`.
    pub known: &'a HashSet<String>,
    pub renderer: &'a Renderer,
    pub needs: Needs,
    pub show_phi: bool,
}

/// An input as the reader thread names and frames it.
pub struct Source {
    pub name: Arc<str>,
    /// Standard input or gzip: the document cannot be read again later, so
    /// records kept for patient-month rules keep their text.
    pub keep_text: bool,
}

/// The sort keys of a finding: the order of the JSON-like reports (file,
/// position, record, rule) and of the human report (file, record, rule).
/// Records are ordered by the order they were read in, which the main
/// thread sets.
#[derive(Debug, Clone)]
pub struct Key {
    pub file: Arc<str>,
    pub position: Option<(usize, usize)>,
    pub record_line: Option<usize>,
    pub code: Box<str>,
}

/// A finding ready for every output of the run.
pub struct Prepared {
    pub key: Key,
    pub name: String,
    pub severity: Severity,
    /// Index of the suppression entry that covers it.
    pub suppression: Option<usize>,
    pub human: Option<String>,
    pub json: Option<String>,
    pub ndjson: Option<String>,
    pub human_line: Option<String>,
    pub reported: Option<Box<ReportedFinding>>,
}

/// An input problem with its position and, for the human report, its
/// rendering.
pub struct Problem {
    pub error: InputError,
    pub position: Option<(usize, usize)>,
    pub human: Option<String>,
}

/// One checked record.
pub struct Checked {
    pub id: String,
    pub origin: claimlint::record::Origin,
    pub not_applicable: bool,
    pub outcome: Option<RecordOutcome>,
    pub findings: Vec<Prepared>,
    /// Findings of this record known from the baseline (left out).
    pub unchanged: usize,
    /// Baseline entries of the record's unsuppressed findings.
    pub entries: Vec<BaselineEntry>,
    pub joined: Option<Joined>,
}

/// Everything one document gave.
#[derive(Default)]
pub struct DocResult {
    pub problems: Vec<Problem>,
    pub records: Vec<Checked>,
    pub fhir: Vec<FhirResource>,
}

/// The text a record was read from, for locating its findings.
pub enum Text<'t> {
    /// One NDJSON line: its text and 1-based number.
    Line { text: &'t str, number: usize },
    /// A whole document, with an index of its lines built on first use.
    Whole {
        text: &'t str,
        index: Option<LineIndex<'t>>,
    },
    /// No text: FHIR records, located through the source cache.
    Cache(&'t mut SourceCache),
    /// The text could not be read again.
    Missing,
}

/// Masked snippet text, made once per document.
#[derive(Default)]
pub struct Masked(Option<Arc<str>>);

/// Checks one document.
pub fn check_document(shared: &Shared<'_>, source: &Source, document: Document) -> DocResult {
    match document {
        Document::Line {
            number,
            offset,
            text,
        } => {
            let loaded = input::load_ndjson_line(&source.name, number, &text, shared.schema);
            let mut located = Text::Line {
                text: &text,
                number,
            };
            let keep = source.keep_text.then_some(text.as_str());
            finish(shared, loaded, &mut located, keep, Some(offset))
        }
        Document::Whole { bytes, framing } => {
            let loaded = input::load_file(source.name.clone(), &bytes, framing, shared.schema);
            let text = std::str::from_utf8(&bytes)
                .ok()
                .map(|t| t.trim_start_matches('\u{feff}'));
            let mut located = match text {
                Some(text) => Text::Whole { text, index: None },
                None => Text::Missing,
            };
            let keep = if source.keep_text { text } else { None };
            finish(shared, loaded, &mut located, keep, None)
        }
        Document::Error(error) => DocResult {
            problems: vec![problem(shared, error, &mut Text::Missing, Level::Error)],
            ..DocResult::default()
        },
    }
}

fn finish(
    shared: &Shared<'_>,
    loaded: input::LoadedFile,
    text: &mut Text<'_>,
    keep: Option<&str>,
    offset: Option<u64>,
) -> DocResult {
    let mut result = DocResult {
        fhir: loaded.fhir,
        ..DocResult::default()
    };
    result.problems = loaded
        .errors
        .into_iter()
        .map(|error| problem(shared, error, text, Level::Error))
        .collect();
    let mut masked = Masked::default();
    for record in loaded.records {
        let mut checked = check_record(shared, &record, text, &mut masked);
        if let Some(joined) = &mut checked.joined {
            joined.source_text = keep.map(str::to_string);
            joined.source_offset = offset;
            joined.encode();
        }
        result.records.push(checked);
    }
    result
}

/// Evaluates the packs on one record and prepares its findings.
pub fn check_record(
    shared: &Shared<'_>,
    record: &Record,
    text: &mut Text<'_>,
    masked: &mut Masked,
) -> Checked {
    let results: Vec<PackResult> = eval::evaluate(shared.rules, record);
    let mut checked = Checked {
        id: record.id.clone(),
        origin: record.origin.clone(),
        not_applicable: results.iter().all(|r| r.not_applicable.is_some()),
        outcome: shared
            .needs
            .outcomes
            .then(|| record_outcome(shared.rules, record, &results)),
        findings: Vec::new(),
        unchanged: 0,
        entries: Vec::new(),
        joined: if shared.plan.is_empty() {
            None
        } else {
            shared.plan.join(record)
        },
    };
    let findings: Vec<Finding> = results.into_iter().flat_map(|r| r.findings).collect();
    for finding in findings {
        prepare(shared, record, finding, text, masked, &mut checked);
    }
    checked
}

/// Applies the configuration, suppressions and baseline to one finding,
/// locates it, and renders it for each output. A finding turned off or
/// known from the baseline only updates the record's outcome.
pub fn prepare(
    shared: &Shared<'_>,
    record: &Record,
    mut finding: Finding,
    text: &mut Text<'_>,
    masked: &mut Masked,
    checked: &mut Checked,
) {
    let file = record.origin.file.to_string();
    let str_at = |pointer: &str| record.value.pointer(pointer).and_then(|v| v.as_str());
    let claim_id = str_at("/claim/id").map(str::to_string);
    let payer: Vec<&str> = ["/claim/payer/id", "/claim/payer/name"]
        .iter()
        .filter_map(|p| str_at(p))
        .collect();
    let mut set_status = |status: RuleStatus| {
        if let Some(outcome) = &mut checked.outcome {
            if let Some(rule) = outcome.rules.iter_mut().find(|r| r.code == finding.code) {
                rule.status = status;
            }
        }
    };
    match shared
        .config
        .and_then(|c| c.rule_level(&finding.code, &payer))
    {
        Some(RuleLevel::Off) => {
            set_status(RuleStatus::Disabled);
            return;
        }
        Some(RuleLevel::Severity(severity)) => {
            finding.severity = match finding.outcome {
                Outcome::Undecided => severity.min(Severity::Warning),
                _ => severity,
            };
        }
        None => {}
    }
    let print = fingerprint(&finding.code, &file, &record.id, &finding.pointer);
    let suppression = shared
        .suppressions
        .and_then(|s| s.lookup(&finding.code, &record.id, claim_id.as_deref()));
    match suppression {
        None => {
            if shared.needs.baseline_entries {
                checked.entries.push(BaselineEntry {
                    fingerprint: print.clone(),
                    rule: finding.code.clone(),
                    file: file.clone(),
                    record_id: record.id.clone(),
                    pointer: finding.pointer.clone(),
                });
            }
            if shared.known.contains(&print) {
                checked.unchanged += 1;
                set_status(RuleStatus::Baseline);
                return;
            }
        }
        Some(_) => set_status(RuleStatus::Suppressed),
    }
    let applied = suppression
        .and_then(|index| shared.suppressions.map(|s| (s, index)))
        .and_then(|(s, index)| {
            let entry = s.entries.get(index)?;
            Some(AppliedSuppression {
                reason: entry.reason.clone(),
                author: entry.author.clone(),
                expires: entry.expires.map(|d| d.to_string()),
                file: s.path.display().to_string(),
                line: entry.line,
            })
        });

    let origin = record.locate(&finding.pointer);
    let label = finding
        .misses
        .first()
        .map(|m| match &m.found {
            Some(found) => format!("expected {}; {found}", m.expected),
            None => format!("expected {}", m.expected),
        })
        .unwrap_or_else(|| "here".to_string());
    let (range, human) = locate_and_render(shared, record, &finding, &origin, label, text, masked);

    let reported = ReportedFinding {
        range,
        source_resource: record.source_resource(&finding.pointer).map(str::to_string),
        file: file.clone(),
        claim_id,
        source_pointer: origin.pointer.clone(),
        fingerprint: print,
        suppression: applied,
        finding,
    };
    let needs = shared.needs;
    let finding = &reported.finding;
    let prepared = Prepared {
        key: Key {
            file: record.origin.file.clone(),
            position: range.map(|r| (r.line, r.column)),
            record_line: record.origin.line,
            code: finding.code.clone().into(),
        },
        name: finding.name.clone(),
        severity: finding.severity,
        suppression,
        human,
        json: needs.json.then(|| json::finding_json_pretty(&reported)),
        ndjson: needs.ndjson.then(|| json::finding_json_line(&reported)),
        human_line: needs.human_lines.then(|| human_line(&reported)),
        reported: needs.whole.then(|| Box::new(reported)),
    };
    checked.findings.push(prepared);
}

/// Formats one line of `--output human=FILE`.
fn human_line(reported: &ReportedFinding) -> String {
    let finding = &reported.finding;
    let position = reported
        .range
        .map(|r| format!(":{}:{}", r.line, r.column))
        .unwrap_or_default();
    format!(
        "{}{position}: {} {} {} record {}: {}\n",
        reported.file,
        finding.severity,
        finding.code,
        finding.name,
        finding.record_id,
        finding.message
    )
}

/// Finds the finding's node in the text and renders the human report of
/// it when that is needed.
fn locate_and_render(
    shared: &Shared<'_>,
    record: &Record,
    finding: &Finding,
    origin: &claimlint::record::Origin,
    label: String,
    text: &mut Text<'_>,
    masked: &mut Masked,
) -> (Option<SourceRange>, Option<String>) {
    let diagnostic = shared
        .needs
        .human
        .then(|| finding_diagnostic(record, finding));
    match text {
        Text::Cache(sources) => {
            let range = report::record_range(record, &finding.pointer, sources);
            let human = diagnostic.map(|d| {
                let d = report::with_record_source(d, record, &finding.pointer, label, sources);
                shared.renderer.render(&d)
            });
            (range, human)
        }
        Text::Missing => (None, diagnostic.map(|d| shared.renderer.render(&d))),
        Text::Line { text, number } => {
            let span = span_of(text, &origin.pointer);
            let (line, column) = claimlint::source::line_col(text, span.start);
            let (end_line, end_column) = claimlint::source::line_col(text, span.end);
            let range = SourceRange {
                line: *number + line - 1,
                column,
                end_line: *number + end_line - 1,
                end_column,
            };
            let human = diagnostic.map(|d| {
                let shown = snippet(shared, text, masked);
                let d = d.with_line_source(&*origin.file, &shown, *number - 1, span, label);
                shared.renderer.render(&d)
            });
            (Some(range), human)
        }
        Text::Whole { text, index } => {
            let span = span_of(text, &origin.pointer);
            let index = index.get_or_insert_with(|| LineIndex::new(text));
            let (line, column) = index.line_col(span.start);
            let (end_line, end_column) = index.line_col(span.end);
            let range = SourceRange {
                line,
                column,
                end_line,
                end_column,
            };
            let human = diagnostic.map(|d| {
                let shown = snippet(shared, text, masked);
                let d = d.with_source(&*origin.file, shown, span, label);
                shared.renderer.render(&d)
            });
            (Some(range), human)
        }
    }
}

/// Returns the span to label for `pointer` in a document: the key of a
/// container member, the value of a scalar, or the document's start.
fn span_of(text: &str, pointer: &str) -> std::ops::Range<usize> {
    match claimlint::source::locate_pointer_within(text, 0..text.len(), pointer) {
        Some(located) => report::label_span(text, located),
        None => 0..0,
    }
}

/// Returns the snippet text of the document, masked once unless
/// `--show-phi` is given.
fn snippet(shared: &Shared<'_>, text: &str, masked: &mut Masked) -> Arc<str> {
    if shared.show_phi {
        return Arc::from(text);
    }
    masked
        .0
        .get_or_insert_with(|| Arc::from(claimlint::phi::mask_json(text, claimlint::phi::PHI_KEYS)))
        .clone()
}

/// Prepares an input problem found in a document.
pub fn problem(
    shared: &Shared<'_>,
    error: InputError,
    text: &mut Text<'_>,
    level: Level,
) -> Problem {
    let plain = matches!(
        error.kind,
        InputErrorKind::Io | InputErrorKind::InvalidUtf8 | InputErrorKind::Compressed
    ) || matches!(text, Text::Missing);
    let mut diagnostic = SourceDiagnostic::error(error.message.clone())
        .with_code(report::input_code(error.kind))
        .with_level(level);
    diagnostic.help = error.help.clone();
    if plain {
        diagnostic.message = format!("{}: {}", error.origin.file, error.message);
        let human = shared
            .needs
            .human
            .then(|| shared.renderer.render(&diagnostic));
        return Problem {
            error,
            position: None,
            human,
        };
    }
    if let Text::Cache(sources) = text {
        let position = report::input_position(&error, sources);
        let human = shared.needs.human.then(|| {
            let d = report::input_diagnostic(&error, sources).with_level(level);
            shared.renderer.render(&d)
        });
        return Problem {
            error,
            position,
            human,
        };
    }
    let (whole, number) = match text {
        Text::Line { text, number } => (*text, Some(*number)),
        Text::Whole { text, .. } => (*text, None),
        _ => ("", None),
    };
    let span = match &error.span {
        Some(span) => span.start.min(whole.len())..span.end.min(whole.len()),
        None => span_of(whole, &error.origin.pointer),
    };
    let (line, column) = claimlint::source::line_col(whole, span.start);
    let position = Some((number.map_or(line, |n| n + line - 1), column));
    let human = shared.needs.human.then(|| {
        let shown = if shared.show_phi {
            Arc::from(whole)
        } else {
            Arc::from(claimlint::phi::mask_json(whole, claimlint::phi::PHI_KEYS))
        };
        let d = match number {
            Some(number) => {
                diagnostic.with_line_source(&*error.origin.file, &shown, number - 1, span, "here")
            }
            None => diagnostic.with_source(&*error.origin.file, shown, span, "here"),
        };
        shared.renderer.render(&d)
    });
    Problem {
        error,
        position,
        human,
    }
}

/// Builds the human diagnostic of a finding, without its snippet.
fn finding_diagnostic(record: &Record, finding: &Finding) -> SourceDiagnostic {
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
    diagnostic
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

pub fn rule_outcome(rules: &RuleSet, pack: &str, code: &str, outcome: Outcome) -> RuleOutcome {
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

/// Returns the framing of a discovered input.
pub fn framing(is_stdin: bool, name: &str) -> Framing {
    if is_stdin {
        Framing::Detect
    } else {
        Framing::from_path(name)
    }
}

/// Returns an empty masked-text slot, for callers outside this module.
pub fn masked() -> Masked {
    Masked::default()
}
