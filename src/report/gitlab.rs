//! GitLab Code Quality reports (`artifacts:reports:codequality`).
//!
//! GitLab compares reports of two pipelines by `fingerprint`, which must be
//! unique within a report. The finding fingerprint is unique for one rule
//! on one node of one record; should two findings still share one, the
//! later ones get `-2`, `-3`, … appended. Suppressed findings are left out,
//! because the format has no place to mark them.

use std::collections::HashMap;

use serde_json::{json, Value};

use super::CheckReport;
use crate::finding::Severity;

/// Renders active findings as a GitLab Code Quality JSON array.
pub fn render_gitlab(report: &CheckReport) -> String {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let issues: Vec<Value> = report
        .findings
        .iter()
        .filter(|f| f.is_active())
        .map(|reported| {
            let finding = &reported.finding;
            let occurrence = seen.entry(&reported.fingerprint).or_insert(0);
            *occurrence += 1;
            let fingerprint = match *occurrence {
                1 => reported.fingerprint.clone(),
                n => format!("{}-{n}", reported.fingerprint),
            };
            let begin = reported.range.map_or(1, |r| r.line);
            json!({
                "type": "issue",
                "check_name": finding.code,
                "description": format!("{} {}: record {}: {}", finding.code, finding.name, finding.record_id, finding.message),
                "content": { "body": finding.help },
                "categories": ["Bug Risk"],
                "severity": severity(finding.severity),
                "fingerprint": fingerprint,
                "location": {
                    "path": reported.file,
                    "lines": { "begin": begin },
                },
            })
        })
        .collect();
    let mut text = serde_json::to_string_pretty(&issues).unwrap_or_default();
    text.push('\n');
    text
}

/// GitLab's severity for a claimlint severity.
fn severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "major",
        Severity::Warning => "minor",
        Severity::Info => "info",
    }
}
