//! JSON and NDJSON reports, described by `schemas/check-report.schema.json`.
//!
//! Field names are part of claimlint's interface: add fields, never rename
//! or remove them without raising [`REPORT_VERSION`].

use serde_json::{json, Map, Value};

use super::{CheckReport, ReportedFinding};

/// Version of the report layout, written as `report_version`.
pub const REPORT_VERSION: u32 = 1;

/// Renders the whole report as one pretty-printed JSON document.
pub fn render_json(report: &CheckReport) -> String {
    let document = json!({
        "report_version": REPORT_VERSION,
        "tool": { "name": "claimlint", "version": report.tool_version },
        "summary": report.summary,
        "baseline": report.baseline,
        "findings": report.findings.iter().map(finding_value).collect::<Vec<_>>(),
        "input_problems": report.input_problems,
        "suppression_warnings": report.suppression_warnings,
    });
    let mut text = serde_json::to_string_pretty(&document).unwrap_or_default();
    text.push('\n');
    text
}

/// Writes the JSON report of [`render_json`] with its findings taken from
/// `findings`, each as [`finding_json_pretty`] renders it, in order. The
/// findings of `report` itself are not written. The output is the same,
/// byte for byte, as `render_json` of the report with those findings, but
/// the findings never need to be in memory together.
///
/// # Errors
///
/// Returns the first error of `findings` or of writing to `out`.
pub fn write_json(
    report: &CheckReport,
    findings: &mut dyn Iterator<Item = std::io::Result<Vec<u8>>>,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    const MARK: &str = "\"findings\": []";
    let document = json!({
        "report_version": REPORT_VERSION,
        "tool": { "name": "claimlint", "version": report.tool_version },
        "summary": report.summary,
        "baseline": report.baseline,
        "findings": [],
        "input_problems": report.input_problems,
        "suppression_warnings": report.suppression_warnings,
    });
    let text = serde_json::to_string_pretty(&document).unwrap_or_default();
    // The member names are fixed and come first in their line, so the mark
    // can only be the findings member.
    let (head, tail) = match text.find(MARK) {
        Some(at) => text.split_at(at + MARK.len() - 1),
        None => (text.as_str(), ""),
    };
    out.write_all(head.as_bytes())?;
    let mut first = true;
    for finding in findings {
        let finding = finding?;
        out.write_all(if first { b"\n" } else { b",\n" })?;
        out.write_all(&finding)?;
        first = false;
    }
    if !first {
        out.write_all(b"\n  ")?;
    }
    out.write_all(tail.as_bytes())?;
    out.write_all(b"\n")
}

/// Renders one finding as it appears inside the `findings` list of
/// [`render_json`]: pretty-printed and indented by four spaces, without a
/// separator or line break around it.
pub fn finding_json_pretty(reported: &ReportedFinding) -> String {
    let text = serde_json::to_string_pretty(&finding_value(reported)).unwrap_or_default();
    // JSON strings escape line breaks, so every line break is between tokens.
    let mut indented = String::with_capacity(text.len() + text.len() / 8);
    for (index, line) in text.split('\n').enumerate() {
        if index > 0 {
            indented.push('\n');
        }
        indented.push_str("    ");
        indented.push_str(line);
    }
    indented
}

/// Renders one finding as one NDJSON line, with its line break.
pub fn finding_json_line(reported: &ReportedFinding) -> String {
    let mut line = serde_json::to_string(&finding_value(reported)).unwrap_or_default();
    line.push('\n');
    line
}

/// Renders one finding per line, each a `finding` object of the JSON report.
/// Input problems and the summary are not part of NDJSON output.
pub fn render_ndjson(report: &CheckReport) -> String {
    let mut text = String::new();
    for finding in &report.findings {
        text.push_str(&serde_json::to_string(&finding_value(finding)).unwrap_or_default());
        text.push('\n');
    }
    text
}

/// Returns the JSON object of one finding.
pub fn finding_value(reported: &ReportedFinding) -> Value {
    let finding = &reported.finding;
    let mut object = Map::new();
    object.insert("code".into(), json!(finding.code));
    object.insert("name".into(), json!(finding.name));
    object.insert("layer".into(), json!(finding.layer));
    object.insert("severity".into(), json!(finding.severity));
    object.insert("outcome".into(), json!(finding.outcome));
    object.insert("pack".into(), json!(finding.pack));
    object.insert("pack_version".into(), json!(finding.pack_version));
    object.insert("file".into(), json!(reported.file));
    object.insert("record_id".into(), json!(finding.record_id));
    object.insert("claim_id".into(), json!(reported.claim_id));
    object.insert("pointer".into(), json!(finding.pointer));
    object.insert("source_pointer".into(), json!(reported.source_pointer));
    object.insert("source_resource".into(), json!(reported.source_resource));
    let range = reported.range;
    object.insert("line".into(), json!(range.map(|r| r.line)));
    object.insert("column".into(), json!(range.map(|r| r.column)));
    object.insert("end_line".into(), json!(range.map(|r| r.end_line)));
    object.insert("end_column".into(), json!(range.map(|r| r.end_column)));
    object.insert("message".into(), json!(finding.message));
    object.insert("help".into(), json!(finding.help));
    object.insert("citation".into(), json!(finding.citation));
    object.insert("evidence".into(), json!(finding.evidence));
    object.insert("misses".into(), json!(finding.misses));
    object.insert("fingerprint".into(), json!(reported.fingerprint));
    object.insert(
        "suppression".into(),
        match &reported.suppression {
            Some(suppression) => {
                let mut value = json!(suppression);
                if let Some(map) = value.as_object_mut() {
                    map.insert("state".into(), json!("suppressed"));
                }
                value
            }
            None => json!({ "state": "active" }),
        },
    );
    Value::Object(object)
}
