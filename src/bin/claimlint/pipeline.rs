//! `check` in CI: output formats, `claimlint.yaml`, suppressions, baselines
//! and the exit code. The formats themselves are in `claimlint::report`.

use std::io::Write;
use std::path::{Path, PathBuf};

use claimlint::baseline::Baseline;
use claimlint::config::{self, Config, RuleLevel, Suppressions};
use claimlint::diagnostic::SourceDiagnostic;
use claimlint::finding::Severity;
use claimlint::report::{github, gitlab, json, junit, sarif, CheckReport, RuleMeta};
use claimlint::rules::RuleSet;
use clap::{Args, ValueEnum};

use crate::report;

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
    pub outputs: Vec<OutputSpec>,
    pub fail_on: Severity,
    pub exit_zero: bool,
    pub statistics: bool,
    pub quiet: bool,
    pub config: Option<Config>,
    pub fhir_mapping: Option<PathBuf>,
    pub suppressions: Option<Suppressions>,
    pub baseline: Option<Baseline>,
    pub write_baseline: Option<PathBuf>,
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

pub fn rule_metas(rules: &RuleSet, config: Option<&Config>) -> Vec<RuleMeta> {
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
pub fn render(format: Format, report: &CheckReport) -> Option<String> {
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

/// Appends the GitHub job summary when a GitHub format is written and the
/// runner names a summary file. Returns an error message on failure.
pub fn append_step_summary(settings: &Settings, report: &CheckReport) -> Option<String> {
    let uses_github = settings.format == Format::Github
        || settings.outputs.iter().any(|o| o.format == Format::Github);
    let path = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|_| uses_github)?;
    let summary = github::render_step_summary(report, STEP_SUMMARY_ROWS);
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut file| file.write_all(summary.as_bytes()));
    written
        .err()
        .map(|error| format!("cannot append the job summary to GITHUB_STEP_SUMMARY: {error}"))
}

/// Lines of `--statistics`: count, code, name, severity.
pub fn statistics_text(stats: &[claimlint::report::RuleCount]) -> String {
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

/// Input problems as `error: file:line:column: message` lines (`warning:`
/// for FHIR data left out), for formats whose report has no place for them.
pub fn input_problem_lines(report: &CheckReport) -> String {
    report
        .input_problems
        .iter()
        .map(|problem| {
            let level = match problem.level {
                claimlint::report::ProblemLevel::Error => "error",
                claimlint::report::ProblemLevel::Warning => "warning",
            };
            let position = match (problem.line, problem.column) {
                (Some(line), Some(column)) => format!(":{line}:{column}"),
                (Some(line), None) => format!(":{line}"),
                _ => String::new(),
            };
            format!(
                "{level}: {}{position}: {} [{}]\n",
                problem.file, problem.message, problem.code
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

/// Decides the exit status once, from the report, the highest severity of
/// an active finding, and the thresholds.
pub fn exit_status(
    settings: &Settings,
    report: &CheckReport,
    highest: Option<Severity>,
    write_failed: bool,
) -> crate::ExitStatus {
    if report.summary.input_errors > 0 || write_failed {
        return crate::ExitStatus::Error;
    }
    let failing = highest.is_some_and(|severity| severity >= settings.fail_on);
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
