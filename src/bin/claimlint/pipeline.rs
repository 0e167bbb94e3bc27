//! `check` in CI: output formats, `claimlint.yaml`, suppressions, baselines
//! and the exit code. The formats themselves are in `claimlint::report`.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use claimlint::baseline::{Baseline, BaselineEntry};
use claimlint::config::{self, Config, RuleLevel, Suppressions};
use claimlint::diagnostic::SourceDiagnostic;
use claimlint::finding::{Outcome, Severity};
use claimlint::input::InputError;
use claimlint::record::Record;
use claimlint::report::{
    fingerprint::fingerprint, github, gitlab, json, junit, sarif, AppliedSuppression,
    BaselineSummary, CheckReport, InputProblem, ProblemLevel, RecordOutcome, ReportedFinding,
    RuleMeta, RuleStatus,
};
use claimlint::rules::RuleSet;
use clap::{Args, ValueEnum};

use crate::report::{self, SourceCache};

/// Rows of findings in the GitHub job summary.
const STEP_SUMMARY_ROWS: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
    Ndjson,
    Sarif,
    Junit,
    Github,
    Gitlab,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Error,
    Warning,
    Info,
}

impl From<FailOn> for Severity {
    fn from(value: FailOn) -> Self {
        match value {
            FailOn::Error => Severity::Error,
            FailOn::Warning => Severity::Warning,
            FailOn::Info => Severity::Info,
        }
    }
}

/// `--output FORMAT=FILE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputSpec {
    pub format: Format,
    pub path: PathBuf,
}

fn parse_output(text: &str) -> Result<OutputSpec, String> {
    let (format, path) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}` is not FORMAT=FILE, e.g. sarif=report.sarif"))?;
    let format = Format::from_str(format, true).map_err(|_| {
        format!(
            "unknown format `{format}`; use json, ndjson, sarif, junit, github, gitlab or human"
        )
    })?;
    if path.is_empty() {
        return Err(format!("`{text}` names no file"));
    }
    Ok(OutputSpec {
        format,
        path: PathBuf::from(path),
    })
}

#[derive(Debug, Args)]
pub struct PipelineArgs {
    /// Output format on standard output.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,

    /// Also write a report to a file, as FORMAT=FILE (e.g. sarif=report.sarif);
    /// repeat for several.
    #[arg(long = "output", value_name = "FORMAT=FILE", value_parser = parse_output)]
    outputs: Vec<OutputSpec>,

    /// Lowest finding severity that makes the exit code 1 [default: error,
    /// or `fail_on` in claimlint.yaml].
    #[arg(long, value_enum)]
    fail_on: Option<FailOn>,

    /// Exit 0 even when findings are at or above --fail-on; input and
    /// configuration errors still exit 2.
    #[arg(long)]
    exit_zero: bool,

    /// After the report, print the number of findings per rule.
    #[arg(long)]
    statistics: bool,

    /// Print only the summary line in human format, and nothing on
    /// standard output in machine formats.
    #[arg(long, short)]
    quiet: bool,

    /// Configuration file [default: claimlint.yaml in the current folder or
    /// the nearest parent].
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,

    /// Suppressions file (YAML) [default: `suppressions` in claimlint.yaml].
    #[arg(long, value_name = "FILE")]
    suppressions: Option<PathBuf>,

    /// Report only findings that are not in this baseline file, and count
    /// the baseline findings that are fixed.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,

    /// Write the findings of this run to a baseline file.
    #[arg(long, value_name = "FILE")]
    write_baseline: Option<PathBuf>,
}

/// The settings of a run: flags, with `claimlint.yaml` under them.
pub struct Settings {
    pub format: Format,
    outputs: Vec<OutputSpec>,
    fail_on: Severity,
    exit_zero: bool,
    pub statistics: bool,
    pub quiet: bool,
    config: Option<Config>,
    pub fhir_mapping: Option<PathBuf>,
    suppressions: Option<Suppressions>,
    baseline: Option<Baseline>,
    write_baseline: Option<PathBuf>,
}

impl Settings {
    /// Reads the configuration, suppressions and baseline files, and keeps
    /// only the packs the configuration enables.
    pub fn load(
        args: PipelineArgs,
        fhir_mapping: Option<PathBuf>,
        rules: &mut RuleSet,
    ) -> Result<Settings, Vec<SourceDiagnostic>> {
        let config_path = match args.config {
            Some(path) => Some(path),
            None => std::env::current_dir().ok().and_then(|dir| {
                // Name a file in the current folder or below relatively, as the user would.
                let found = config::discover(&dir)?;
                Some(
                    found
                        .strip_prefix(&dir)
                        .map(Path::to_path_buf)
                        .unwrap_or(found),
                )
            }),
        };
        let config = match &config_path {
            Some(path) => Some(config::load(path, rules)?),
            None => None,
        };
        if let Some(packs) = config.as_ref().and_then(|c| c.packs.as_ref()) {
            rules.packs.retain(|pack| packs.contains(&pack.id));
        }

        let suppressions_path = args
            .suppressions
            .or_else(|| config.as_ref().and_then(|c| c.suppressions.clone()));
        let suppressions = match suppressions_path {
            Some(path) => Some(load_suppressions(&path, rules)?),
            None => None,
        };
        let baseline = match &args.baseline {
            Some(path) => Some(load_baseline(path)?),
            None => None,
        };
        let fail_on = args
            .fail_on
            .map(Severity::from)
            .or_else(|| config.as_ref().and_then(|c| c.fail_on))
            .unwrap_or(Severity::Error);
        let fhir_mapping =
            fhir_mapping.or_else(|| config.as_ref().and_then(|c| c.fhir_mapping.clone()));
        Ok(Settings {
            format: args.format,
            outputs: args.outputs,
            fail_on,
            exit_zero: args.exit_zero,
            statistics: args.statistics,
            quiet: args.quiet,
            config,
            fhir_mapping,
            suppressions,
            baseline,
            write_baseline: args.write_baseline,
        })
    }
}

fn load_suppressions(path: &Path, rules: &RuleSet) -> Result<Suppressions, Vec<SourceDiagnostic>> {
    let text = std::fs::read_to_string(path).map_err(|error| {
        vec![SourceDiagnostic::error(format!(
            "cannot read suppressions file {}: {error}",
            path.display()
        ))
        .with_code("claimlint::suppressions")]
    })?;
    let today = jiff::ZonedDateTime::now().date();
    Suppressions::parse(path, &text, rules, today).map_err(|error| error.diagnostics())
}

fn load_baseline(path: &Path) -> Result<Baseline, Vec<SourceDiagnostic>> {
    let text = std::fs::read_to_string(path).map_err(|error| {
        vec![SourceDiagnostic::error(format!(
            "cannot read baseline file {}: {error}",
            path.display()
        ))
        .with_code("claimlint::baseline")
        .with_help("write one with --write-baseline FILE")]
    })?;
    Baseline::parse(&text).map_err(|error| {
        vec![
            SourceDiagnostic::error(format!("{}: {error}", path.display()))
                .with_code("claimlint::baseline")
                .with_help("write it again with --write-baseline FILE"),
        ]
    })
}

/// A record with findings, kept until output so it can be located.
pub struct Reported {
    pub record: Record,
    pub findings: Vec<claimlint::finding::Finding>,
}

/// Counts that the input loop keeps.
#[derive(Debug, Default)]
pub struct Counts {
    pub files: usize,
    pub skipped: usize,
    pub records: usize,
    pub not_applicable: usize,
    pub unreadable: usize,
}

/// Applies the configuration, suppressions and baseline to the findings,
/// locates them, and builds the report. Findings dropped by the
/// configuration or known from the baseline are removed from `reported`.
#[allow(clippy::too_many_arguments)]
pub fn build_report(
    settings: &mut Settings,
    rules: &RuleSet,
    reported: &mut Vec<Reported>,
    outcomes: &mut [RecordOutcome],
    counts: &Counts,
    input_errors: &[InputError],
    input_warnings: &[InputError],
    sources: &mut SourceCache,
) -> Result<CheckReport, Box<SourceDiagnostic>> {
    let known: BTreeSet<String> = settings
        .baseline
        .as_ref()
        .map(|b| b.fingerprints().into_iter().map(str::to_string).collect())
        .unwrap_or_default();
    let mut findings = Vec::new();
    let mut current = Vec::new();
    let mut baseline = BaselineSummary::default();

    for entry in reported.iter_mut() {
        let record = &entry.record;
        let file = record.origin.file.to_string();
        let claim_id = record
            .value
            .pointer("/claim/id")
            .and_then(|v| v.as_str())
            .map(str::to_string);
        let payer: Vec<&str> = ["/claim/payer/id", "/claim/payer/name"]
            .iter()
            .filter_map(|p| record.value.pointer(p).and_then(|v| v.as_str()))
            .collect();
        let mut shown = Vec::new();
        for mut finding in std::mem::take(&mut entry.findings) {
            let mut status =
                |status| set_status(outcomes, &file, &record.id, &finding.code, status);
            match settings
                .config
                .as_ref()
                .and_then(|c| c.rule_level(&finding.code, &payer))
            {
                Some(RuleLevel::Off) => {
                    status(RuleStatus::Disabled);
                    continue;
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
            let suppression = settings
                .suppressions
                .as_mut()
                .and_then(|s| {
                    let path = s.path.display().to_string();
                    s.find(&finding.code, &record.id, claim_id.as_deref())
                        .map(|entry| (path, entry.clone()))
                })
                .map(|(path, entry)| AppliedSuppression {
                    reason: entry.reason,
                    author: entry.author,
                    expires: entry.expires.map(|d| d.to_string()),
                    file: path,
                    line: entry.line,
                });
            if suppression.is_none() {
                current.push(BaselineEntry {
                    fingerprint: print.clone(),
                    rule: finding.code.clone(),
                    file: file.clone(),
                    record_id: record.id.clone(),
                    pointer: finding.pointer.clone(),
                });
                if known.contains(&print) {
                    baseline.unchanged += 1;
                    status(RuleStatus::Baseline);
                    continue;
                }
                baseline.new += 1;
            } else {
                status(RuleStatus::Suppressed);
            }
            let source_pointer = record.locate(&finding.pointer).pointer;
            findings.push(ReportedFinding {
                range: report::record_range(record, &finding.pointer, sources),
                source_resource: record.source_resource(&finding.pointer).map(str::to_string),
                file: file.clone(),
                claim_id: claim_id.clone(),
                source_pointer,
                fingerprint: print,
                suppression,
                finding: finding.clone(),
            });
            shown.push(finding);
        }
        entry.findings = shown;
    }
    reported.retain(|entry| !entry.findings.is_empty());

    if let Some(path) = &settings.write_baseline {
        let text = Baseline::new(current.iter().cloned()).to_json();
        std::fs::write(path, text).map_err(|error| {
            Box::new(
                SourceDiagnostic::error(format!(
                    "cannot write baseline file {}: {error}",
                    path.display()
                ))
                .with_code("claimlint::baseline"),
            )
        })?;
    }
    if let Some(old) = &settings.baseline {
        let now: BTreeSet<&str> = current.iter().map(|e| e.fingerprint.as_str()).collect();
        baseline.fixed = old.fixed(&now);
    }

    findings.sort_by(|a, b| {
        let key = |f: &ReportedFinding| {
            (
                f.file.clone(),
                f.range.map(|r| (r.line, r.column)),
                f.finding.record_id.clone(),
                f.finding.code.clone(),
            )
        };
        key(a).cmp(&key(b))
    });
    let mut summary = claimlint::report::Summary {
        files: counts.files,
        skipped_files: counts.skipped,
        records: counts.records,
        not_applicable: counts.not_applicable,
        input_errors: input_errors.len(),
        unreadable_inputs: counts.unreadable,
        mapping_warnings: input_warnings.len(),
        ..Default::default()
    };
    for finding in &findings {
        if !finding.is_active() {
            summary.suppressed += 1;
            continue;
        }
        match finding.finding.severity {
            Severity::Error => summary.errors += 1,
            Severity::Warning => summary.warnings += 1,
            Severity::Info => summary.infos += 1,
        }
    }
    let problems = input_errors
        .iter()
        .map(|e| (ProblemLevel::Error, e))
        .chain(input_warnings.iter().map(|e| (ProblemLevel::Warning, e)))
        .map(|(level, error)| {
            let position = report::input_position(error, sources);
            InputProblem {
                level,
                code: report::input_code(error.kind).to_string(),
                file: error.origin.file.to_string(),
                line: position.map(|p| p.0),
                column: position.map(|p| p.1),
                message: error.message.clone(),
            }
        })
        .collect();

    Ok(CheckReport {
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        rules: rule_metas(rules, settings.config.as_ref()),
        findings,
        records: outcomes.to_vec(),
        input_problems: problems,
        suppression_warnings: settings
            .suppressions
            .as_ref()
            .map(|s| s.warnings())
            .unwrap_or_default(),
        baseline: settings.baseline.as_ref().map(|_| baseline),
        summary,
    })
}

fn set_status(
    outcomes: &mut [RecordOutcome],
    file: &str,
    record_id: &str,
    code: &str,
    status: RuleStatus,
) {
    let rule = outcomes
        .iter_mut()
        .filter(|o| o.file == file && o.record_id == record_id)
        .flat_map(|o| o.rules.iter_mut())
        .find(|r| r.code == code);
    if let Some(rule) = rule {
        rule.status = status;
    }
}

fn rule_metas(rules: &RuleSet, config: Option<&Config>) -> Vec<RuleMeta> {
    let mut metas: Vec<RuleMeta> = rules
        .packs
        .iter()
        .flat_map(|pack| pack.rules.iter().map(move |rule| (pack, rule)))
        .filter_map(|(pack, rule)| {
            let severity = match config.and_then(|c| c.rule_level(&rule.code, &[])) {
                Some(RuleLevel::Off) => return None,
                Some(RuleLevel::Severity(severity)) => severity,
                None => rule.severity,
            };
            Some(RuleMeta {
                code: rule.code.clone(),
                name: rule.name.clone(),
                pack: pack.id.clone(),
                pack_version: pack.version.clone(),
                layer: rule.layer,
                severity,
                citation: rule.citation.clone(),
                description: rule.description.clone(),
            })
        })
        .collect();
    metas.sort_by(|a, b| a.code.cmp(&b.code));
    metas.dedup_by(|a, b| a.code == b.code);
    metas
}

/// Renders the report in a machine format.
fn render(format: Format, report: &CheckReport) -> Option<String> {
    Some(match format {
        Format::Human => return None,
        Format::Json => json::render_json(report),
        Format::Ndjson => json::render_ndjson(report),
        Format::Sarif => sarif::render_sarif(report),
        Format::Junit => junit::render_junit(report),
        Format::Github => github::render_github(report),
        Format::Gitlab => gitlab::render_gitlab(report),
    })
}

/// Writes the machine format on stdout, the `--output` files and the GitHub
/// job summary. Returns the files that could not be written.
pub fn write_outputs(settings: &Settings, report: &CheckReport) -> Vec<String> {
    let mut failures = Vec::new();
    if !settings.quiet {
        if let Some(text) = render(settings.format, report) {
            out!("{text}");
        }
    }
    for output in &settings.outputs {
        let text = match render(output.format, report) {
            Some(text) => text,
            None => human_text(report),
        };
        if let Err(error) = std::fs::write(&output.path, text) {
            failures.push(format!("cannot write {}: {error}", output.path.display()));
        }
    }
    let uses_github = settings.format == Format::Github
        || settings.outputs.iter().any(|o| o.format == Format::Github);
    if let (true, Some(path)) = (uses_github, std::env::var_os("GITHUB_STEP_SUMMARY")) {
        let summary = github::render_step_summary(report, STEP_SUMMARY_ROWS);
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut file| file.write_all(summary.as_bytes()));
        if let Err(error) = written {
            failures.push(format!(
                "cannot append the job summary to GITHUB_STEP_SUMMARY: {error}"
            ));
        }
    }
    failures
}

/// Plain text for `--output human=FILE`: one line per finding, the
/// summary line, no source snippets.
fn human_text(report: &CheckReport) -> String {
    let mut text = String::new();
    for reported in report.findings.iter().filter(|f| f.is_active()) {
        let finding = &reported.finding;
        let position = reported
            .range
            .map(|r| format!(":{}:{}", r.line, r.column))
            .unwrap_or_default();
        text.push_str(&format!(
            "{}{position}: {} {} {} record {}: {}\n",
            reported.file,
            finding.severity,
            finding.code,
            finding.name,
            finding.record_id,
            finding.message
        ));
    }
    text.push_str(&summary_line(report));
    text.push('\n');
    text
}

/// Lines of `--statistics`: count, code, name, severity.
pub fn statistics_text(report: &CheckReport) -> String {
    let stats = report.statistics();
    let width = stats
        .iter()
        .map(|s| s.count.to_string().len())
        .max()
        .unwrap_or(1);
    stats
        .iter()
        .map(|s| {
            format!(
                "{:>width$}  {}  {}  ({})\n",
                s.count, s.code, s.name, s.severity
            )
        })
        .collect()
}

/// Warnings about stale suppression entries, as `file:line:column: message`.
pub fn suppression_warning_lines(report: &CheckReport) -> String {
    report
        .suppression_warnings
        .iter()
        .map(|w| {
            format!(
                "warning: {}:{}:{}: {}\n",
                w.file, w.line, w.column, w.message
            )
        })
        .collect()
}

/// Returns the closing summary line.
pub fn summary_line(report: &CheckReport) -> String {
    let summary = &report.summary;
    let plural = report::plural;
    let mut line = format!(
        "claimlint: {} checked, {} ({} not applicable); {}, {}, {}",
        plural(summary.files, "file"),
        plural(summary.records, "record"),
        summary.not_applicable,
        plural(summary.errors, "error"),
        plural(summary.warnings, "warning"),
        plural(summary.infos, "info"),
    );
    if summary.suppressed > 0 {
        line.push_str(&format!("; {} suppressed", summary.suppressed));
    }
    if let Some(baseline) = report.baseline {
        line.push_str(&format!(
            "; baseline: {} new, {} unchanged, {} fixed",
            baseline.new, baseline.unchanged, baseline.fixed
        ));
    }
    if !report.suppression_warnings.is_empty() {
        line.push_str(&format!(
            "; {}",
            plural(report.suppression_warnings.len(), "suppression warning")
        ));
    }
    if summary.skipped_files > 0 {
        line.push_str(&format!(
            "; {} skipped (not JSON)",
            plural(summary.skipped_files, "file")
        ));
    }
    if summary.input_errors > 0 {
        line.push_str(&format!(
            "; {} in {}",
            plural(summary.input_errors, "input error"),
            plural(summary.unreadable_inputs, "input")
        ));
    }
    if summary.mapping_warnings > 0 {
        line.push_str(&format!(
            "; {} (FHIR data left out of records)",
            plural(summary.mapping_warnings, "mapping warning")
        ));
    }
    line
}

/// Decides the exit status once, from the report and the thresholds.
pub fn exit_status(
    settings: &Settings,
    report: &CheckReport,
    write_failed: bool,
) -> crate::ExitStatus {
    if report.summary.input_errors > 0 || write_failed {
        return crate::ExitStatus::Error;
    }
    let failing = report
        .findings
        .iter()
        .any(|f| f.is_active() && f.finding.severity >= settings.fail_on);
    if failing && !settings.exit_zero {
        crate::ExitStatus::Findings
    } else {
        crate::ExitStatus::Clean
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_spec_parses_format_and_path() {
        assert_eq!(
            parse_output("sarif=out/report.sarif"),
            Ok(OutputSpec {
                format: Format::Sarif,
                path: PathBuf::from("out/report.sarif")
            })
        );
        assert!(parse_output("sarif").unwrap_err().contains("FORMAT=FILE"));
        assert!(parse_output("xml=a")
            .unwrap_err()
            .contains("unknown format `xml`"));
        assert!(parse_output("json=").unwrap_err().contains("names no file"));
    }
}
