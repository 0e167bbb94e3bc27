//! GitHub Actions workflow commands and the job summary.
//!
//! GitHub shows at most 10 annotations of each type (error, warning,
//! notice) per step and drops the rest. So findings are ranked by severity,
//! at most 10 of each type are written, and a final `::notice::` says how
//! many were left out; when that notice would be the eleventh, one finding
//! notice fewer is written to make room for it.

use std::fmt::Write;

use super::{CheckReport, ProblemLevel, ReportedFinding};
use crate::finding::Severity;

/// Annotations of one type that GitHub shows per step.
pub const ANNOTATIONS_PER_TYPE: usize = 10;

/// Renders input errors and active findings as workflow commands.
pub fn render_github(report: &CheckReport) -> String {
    let mut out = String::new();
    let mut shown = [0usize; 3];
    let mut omitted = 0usize;
    let notice_overflow = report
        .ranked_findings()
        .iter()
        .filter(|f| f.finding.severity == Severity::Info)
        .count()
        > ANNOTATIONS_PER_TYPE;

    for problem in &report.input_problems {
        let kind = match problem.level {
            ProblemLevel::Error => Severity::Error,
            ProblemLevel::Warning => Severity::Warning,
        };
        let mut properties = vec![("file", problem.file.clone())];
        if let (Some(line), Some(column)) = (problem.line, problem.column) {
            properties.push(("line", line.to_string()));
            properties.push(("col", column.to_string()));
        }
        properties.push(("title", problem.code.clone()));
        if emit(
            &mut out,
            &mut shown,
            kind,
            notice_overflow,
            &properties,
            &problem.message,
        ) {
            omitted += 1;
        }
    }
    for reported in report.ranked_findings() {
        let finding = &reported.finding;
        let message = format!(
            "record {}: {}\n{}",
            finding.record_id, finding.message, finding.help
        );
        if emit(
            &mut out,
            &mut shown,
            finding.severity,
            notice_overflow,
            &properties(reported),
            &message,
        ) {
            omitted += 1;
        }
    }
    if omitted > 0 {
        let _ = writeln!(
            out,
            "::notice title=claimlint::{}",
            escape_data(&format!(
                "{omitted} more annotation(s) not shown: GitHub shows {ANNOTATIONS_PER_TYPE} per type per step; see the job log or the SARIF report for all findings"
            ))
        );
    }
    out
}

/// Writes one command unless its type is full; returns true when omitted.
fn emit(
    out: &mut String,
    shown: &mut [usize; 3],
    severity: Severity,
    reserve_notice: bool,
    properties: &[(&str, String)],
    message: &str,
) -> bool {
    let (slot, command) = match severity {
        Severity::Error => (0, "error"),
        Severity::Warning => (1, "warning"),
        Severity::Info => (2, "notice"),
    };
    let limit = if slot == 2 && reserve_notice {
        ANNOTATIONS_PER_TYPE - 1
    } else {
        ANNOTATIONS_PER_TYPE
    };
    if shown[slot] >= limit {
        return true;
    }
    shown[slot] += 1;
    let properties: Vec<String> = properties
        .iter()
        .map(|(key, value)| format!("{key}={}", escape_property(value)))
        .collect();
    let _ = writeln!(
        out,
        "::{command} {}::{}",
        properties.join(","),
        escape_data(message)
    );
    false
}

fn properties(reported: &ReportedFinding) -> Vec<(&'static str, String)> {
    let finding = &reported.finding;
    let mut properties = vec![("file", reported.file.clone())];
    if let Some(range) = reported.range {
        properties.push(("line", range.line.to_string()));
        properties.push(("col", range.column.to_string()));
        properties.push(("endLine", range.end_line.to_string()));
        if range.end_line == range.line {
            properties.push(("endColumn", range.end_column.to_string()));
        }
    }
    properties.push(("title", format!("{} {}", finding.code, finding.name)));
    properties
}

/// Escapes the message of a workflow command: `%`, CR and LF.
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value of a workflow command: as data, plus `:` and `,`.
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// Renders the Markdown job summary: totals, findings per rule, and the
/// findings themselves (at most `max_rows`).
pub fn render_step_summary(report: &CheckReport, max_rows: usize) -> String {
    let summary = &report.summary;
    let mut md = String::from("## claimlint check\n\n");
    let _ = writeln!(
        md,
        "{} file(s), {} record(s) ({} not applicable): **{} error(s)**, {} warning(s), {} info",
        summary.files,
        summary.records,
        summary.not_applicable,
        summary.errors,
        summary.warnings,
        summary.infos
    );
    if summary.suppressed > 0 {
        let _ = writeln!(md, "\n{} finding(s) suppressed.", summary.suppressed);
    }
    if let Some(baseline) = report.baseline {
        let _ = writeln!(
            md,
            "\nBaseline: {} new, {} unchanged (not shown), {} fixed.",
            baseline.new, baseline.unchanged, baseline.fixed
        );
    }
    if summary.input_errors > 0 {
        let _ = writeln!(
            md,
            "\n{} input error(s): see the job log.",
            summary.input_errors
        );
    }
    let statistics = report.statistics();
    if !statistics.is_empty() {
        md.push_str("\n| Rule | Name | Severity | Findings |\n|---|---|---|---:|\n");
        for count in &statistics {
            let _ = writeln!(
                md,
                "| `{}` | {} | {} | {} |",
                count.code,
                escape_cell(&count.name),
                count.severity,
                count.count
            );
        }
        md.push_str("\n<details><summary>Findings</summary>\n\n| File | Record | Rule | Message |\n|---|---|---|---|\n");
        let ranked = report.ranked_findings();
        for reported in ranked.iter().take(max_rows) {
            let finding = &reported.finding;
            let place = match reported.range {
                Some(range) => format!("{}:{}", reported.file, range.line),
                None => reported.file.clone(),
            };
            let _ = writeln!(
                md,
                "| `{}` | `{}` | `{}` | {} |",
                escape_cell(&place),
                escape_cell(&finding.record_id),
                finding.code,
                escape_cell(&finding.message)
            );
        }
        if ranked.len() > max_rows {
            let _ = writeln!(
                md,
                "\n{} more finding(s) not listed.",
                ranked.len() - max_rows
            );
        }
        md.push_str("\n</details>\n");
    }
    md
}

/// Escapes text for a Markdown table cell.
fn escape_cell(text: &str) -> String {
    text.replace('|', "\\|")
        .replace(['\n', '\r'], " ")
        .replace('<', "&lt;")
}
