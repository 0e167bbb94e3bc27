//! SARIF 2.1.0 logs, for code scanning dashboards (GitHub, Azure DevOps,
//! and any viewer of the OASIS format).
//!
//! Lines and columns are 1-based and columns count characters, declared as
//! `columnKind: unicodeCodePoints`; lines end at LF, with a CR before it
//! counted on its line, as the `newlineSequences` say. Each result carries
//! a `partialFingerprints` entry that does not depend on line numbers, so
//! dashboards keep tracking a finding when lines move.

use serde_json::{json, Map, Value};

use super::{path_to_uri, CheckReport, ProblemLevel, ReportedFinding, RuleMeta};
use crate::finding::{Outcome, Severity};

/// The `partialFingerprints` key; the suffix is the fingerprint version.
pub const FINGERPRINT_KEY: &str = "claimlintFinding/v1";

/// Renders the report as a SARIF 2.1.0 log with one run.
pub fn render_sarif(report: &CheckReport) -> String {
    let rules: Vec<Value> = report.rules.iter().map(rule_descriptor).collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|finding| result(report, finding))
        .collect();
    let notifications: Vec<Value> = report
        .input_problems
        .iter()
        .map(|problem| {
            let mut location = Map::new();
            location.insert(
                "artifactLocation".into(),
                json!({ "uri": path_to_uri(&problem.file) }),
            );
            if let (Some(line), Some(column)) = (problem.line, problem.column) {
                location.insert(
                    "region".into(),
                    json!({ "startLine": line, "startColumn": column }),
                );
            }
            json!({
                "level": match problem.level {
                    ProblemLevel::Error => "error",
                    ProblemLevel::Warning => "warning",
                },
                "message": { "text": problem.message },
                "descriptor": { "id": problem.code },
                "locations": [{ "physicalLocation": Value::Object(location) }],
            })
        })
        .collect();
    let has_errors = report
        .input_problems
        .iter()
        .any(|p| p.level == ProblemLevel::Error);

    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "claimlint",
                    "version": report.tool_version,
                    "semanticVersion": report.tool_version,
                    "rules": rules,
                }
            },
            "invocations": [{
                "executionSuccessful": !has_errors,
                "toolExecutionNotifications": notifications,
            }],
            "columnKind": "unicodeCodePoints",
            "newlineSequences": ["\r\n", "\n"],
            "results": results,
        }]
    });
    let mut text = serde_json::to_string_pretty(&log).unwrap_or_default();
    text.push('\n');
    text
}

/// SARIF's name for a severity.
pub fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

fn rule_descriptor(rule: &RuleMeta) -> Value {
    json!({
        "id": rule.code,
        "name": rule.name,
        "shortDescription": { "text": format!("{} {}", rule.code, rule.name) },
        "fullDescription": { "text": rule.description },
        "help": { "text": format!("Source: {}", rule.citation) },
        "defaultConfiguration": { "level": level(rule.severity) },
        "properties": {
            "tags": [rule.pack.clone(), format!("{}-layer", rule.layer)],
            "pack": rule.pack,
            "packVersion": rule.pack_version,
            "layer": rule.layer,
        }
    })
}

fn result(report: &CheckReport, reported: &ReportedFinding) -> Value {
    let finding = &reported.finding;
    let mut physical = Map::new();
    physical.insert(
        "artifactLocation".into(),
        json!({ "uri": path_to_uri(&reported.file) }),
    );
    if let Some(range) = reported.range {
        physical.insert(
            "region".into(),
            json!({
                "startLine": range.line,
                "startColumn": range.column,
                "endLine": range.end_line,
                "endColumn": range.end_column,
            }),
        );
    }
    let mut result = Map::new();
    result.insert("ruleId".into(), json!(finding.code));
    if let Some(index) = report.rules.iter().position(|r| r.code == finding.code) {
        result.insert("ruleIndex".into(), json!(index));
    }
    result.insert("level".into(), json!(level(finding.severity)));
    result.insert(
        "kind".into(),
        json!(match finding.outcome {
            Outcome::Undecided => "review",
            _ => "fail",
        }),
    );
    result.insert(
        "message".into(),
        json!({ "text": format!("record {}: {}", finding.record_id, finding.message) }),
    );
    result.insert(
        "locations".into(),
        json!([{
            "physicalLocation": Value::Object(physical),
            "logicalLocations": [{
                "name": finding.record_id,
                "fullyQualifiedName": format!("{}#{}", finding.record_id, finding.pointer),
                "kind": "object",
            }],
        }]),
    );
    result.insert(
        "partialFingerprints".into(),
        json!({ FINGERPRINT_KEY: reported.fingerprint }),
    );
    if let Some(suppression) = &reported.suppression {
        result.insert(
            "suppressions".into(),
            json!([{
                "kind": "external",
                "status": "accepted",
                "justification": suppression.reason,
                "location": {
                    "physicalLocation": {
                        "artifactLocation": { "uri": path_to_uri(&suppression.file) },
                        "region": { "startLine": suppression.line },
                    }
                },
            }]),
        );
    }
    if report.baseline.is_some() {
        result.insert("baselineState".into(), json!("new"));
    }
    result.insert(
        "properties".into(),
        json!({
            "recordId": finding.record_id,
            "claimId": reported.claim_id,
            "pointer": finding.pointer,
            "pack": finding.pack,
            "packVersion": finding.pack_version,
            "help": finding.help,
            "evidence": finding.evidence,
        }),
    );
    Value::Object(result)
}
