//! JUnit XML reports, for CI systems that show test results (GitLab, Jenkins,
//! Azure DevOps, CircleCI).
//!
//! Each input file is one `<testsuite>`. Each rule evaluated on a record is
//! one `<testcase>` named `RECORD: CODE name`: a pass is an empty test case,
//! a finding is a `<failure>`, and a suppressed finding, one known from the
//! baseline or a rule turned off in the configuration is `<skipped>`. A pack
//! that does not apply to a record gives one skipped test case named
//! `RECORD: PACK (not applicable)`, so the record still appears. An input
//! that could not be read gives a test case with an `<error>`.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::{CheckReport, ProblemLevel, RuleStatus};
use crate::finding::Outcome;

/// One `<testcase>` before it is written.
struct Case {
    name: String,
    body: CaseBody,
}

enum CaseBody {
    Pass,
    Failure {
        message: String,
        kind: String,
        text: String,
    },
    Skipped {
        message: String,
    },
    Error {
        message: String,
        kind: String,
    },
}

/// Renders the report as a JUnit XML document.
pub fn render_junit(report: &CheckReport) -> String {
    let mut suites: BTreeMap<&str, Vec<Case>> = BTreeMap::new();
    for problem in report
        .input_problems
        .iter()
        .filter(|p| p.level == ProblemLevel::Error)
    {
        let position = match (problem.line, problem.column) {
            (Some(line), Some(column)) => format!(":{line}:{column}"),
            _ => String::new(),
        };
        suites.entry(&problem.file).or_default().push(Case {
            name: format!("read {}{position}", problem.file),
            body: CaseBody::Error {
                message: problem.message.clone(),
                kind: problem.code.clone(),
            },
        });
    }
    for record in &report.records {
        let cases = suites.entry(&record.file).or_default();
        for (pack, reason) in &record.not_applicable {
            cases.push(Case {
                name: format!("{}: {pack} (not applicable)", record.record_id),
                body: CaseBody::Skipped {
                    message: format!("not applicable: {reason}"),
                },
            });
        }
        for rule in &record.rules {
            let name = format!("{}: {} {}", record.record_id, rule.code, rule.name);
            let body = match rule.status {
                RuleStatus::Pass => CaseBody::Pass,
                RuleStatus::Fail => failure(
                    report,
                    &record.file,
                    &record.record_id,
                    &rule.code,
                    rule.outcome,
                ),
                RuleStatus::Suppressed => CaseBody::Skipped {
                    message: suppressed_reason(report, &record.file, &record.record_id, &rule.code),
                },
                RuleStatus::Baseline => CaseBody::Skipped {
                    message: "known finding, in the baseline".to_string(),
                },
                RuleStatus::Disabled => CaseBody::Skipped {
                    message: "rule turned off in the configuration".to_string(),
                },
            };
            cases.push(Case { name, body });
        }
    }

    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let (tests, failures, errors, skipped) = suites.values().flatten().fold((0, 0, 0, 0), count);
    let _ = writeln!(
        xml,
        "<testsuites name=\"claimlint\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\">"
    );
    for (file, cases) in &suites {
        let (tests, failures, errors, skipped) = cases.iter().fold((0, 0, 0, 0), count);
        let _ = writeln!(
            xml,
            "  <testsuite name=\"{}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\">",
            escape(file)
        );
        for case in cases {
            write_case(&mut xml, file, case);
        }
        xml.push_str("  </testsuite>\n");
    }
    xml.push_str("</testsuites>\n");
    xml
}

fn count(totals: (usize, usize, usize, usize), case: &Case) -> (usize, usize, usize, usize) {
    let (tests, failures, errors, skipped) = totals;
    match case.body {
        CaseBody::Pass => (tests + 1, failures, errors, skipped),
        CaseBody::Failure { .. } => (tests + 1, failures + 1, errors, skipped),
        CaseBody::Error { .. } => (tests + 1, failures, errors + 1, skipped),
        CaseBody::Skipped { .. } => (tests + 1, failures, errors, skipped + 1),
    }
}

fn failure(
    report: &CheckReport,
    file: &str,
    record_id: &str,
    code: &str,
    outcome: Outcome,
) -> CaseBody {
    let found = report
        .findings
        .iter()
        .find(|f| f.file == file && f.finding.record_id == record_id && f.finding.code == code);
    let Some(reported) = found else {
        return CaseBody::Failure {
            message: format!("{code} {}", outcome_word(outcome)),
            kind: code.to_string(),
            text: String::new(),
        };
    };
    let finding = &reported.finding;
    let position = match reported.range {
        Some(range) => format!("{}:{}:{}", reported.file, range.line, range.column),
        None => reported.file.clone(),
    };
    CaseBody::Failure {
        message: finding.message.clone(),
        kind: format!("{} ({})", finding.code, finding.severity),
        text: format!(
            "{position}: record {}, {}\nhelp: {}\nrule: {} {} ({} {}, {} layer); source: {}",
            finding.record_id,
            finding.pointer,
            finding.help,
            finding.code,
            finding.name,
            finding.pack,
            finding.pack_version,
            finding.layer,
            finding.citation
        ),
    }
}

fn suppressed_reason(report: &CheckReport, file: &str, record_id: &str, code: &str) -> String {
    report
        .findings
        .iter()
        .filter(|f| f.file == file && f.finding.record_id == record_id && f.finding.code == code)
        .find_map(|f| f.suppression.as_ref())
        .map(|s| format!("suppressed: {}", s.reason))
        .unwrap_or_else(|| "suppressed".to_string())
}

fn outcome_word(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Pass => "passed",
        Outcome::Fail => "failed",
        Outcome::Undecided => "could not be decided",
    }
}

fn write_case(xml: &mut String, file: &str, case: &Case) {
    let _ = write!(
        xml,
        "    <testcase classname=\"{}\" name=\"{}\"",
        escape(file),
        escape(&case.name)
    );
    match &case.body {
        CaseBody::Pass => xml.push_str("/>\n"),
        CaseBody::Failure {
            message,
            kind,
            text,
        } => {
            let _ = writeln!(
                xml,
                ">\n      <failure message=\"{}\" type=\"{}\">{}</failure>\n    </testcase>",
                escape(message),
                escape(kind),
                escape(text)
            );
        }
        CaseBody::Skipped { message } => {
            let _ = writeln!(
                xml,
                ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                escape(message)
            );
        }
        CaseBody::Error { message, kind } => {
            let _ = writeln!(
                xml,
                ">\n      <error message=\"{}\" type=\"{}\"/>\n    </testcase>",
                escape(message),
                escape(kind)
            );
        }
    }
}

/// Escapes text for XML character data and attribute values. Characters
/// that XML 1.0 does not allow at all (C0 controls other than tab, LF and
/// CR, and U+FFFE, U+FFFF) become U+FFFD.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            // Attribute values normalize raw whitespace; keep it as written.
            '\n' => escaped.push_str("&#10;"),
            '\r' => escaped.push_str("&#13;"),
            '\t' => escaped.push_str("&#9;"),
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => escaped.push('\u{fffd}'),
            _ => escaped.push(ch),
        }
    }
    escaped
}
