//! Unit tests of the report formats over a small hand-built report.

use super::*;
use crate::finding::{Evidence, Miss};

fn finding(code: &str, record: &str, severity: Severity, message: &str) -> Finding {
    Finding {
        code: code.to_string(),
        name: "portal-access-not-offered".to_string(),
        pack: "ccm32".to_string(),
        pack_version: "1.0.0".to_string(),
        layer: Layer::Payer,
        severity,
        outcome: Outcome::Fail,
        record_id: record.to_string(),
        message: message.to_string(),
        help: "Offer portal access".to_string(),
        citation: "Payer CCM policy".to_string(),
        pointer: "/portal".to_string(),
        misses: vec![Miss {
            pointer: "/portal".to_string(),
            expected: "a portal offer".to_string(),
            found: None,
        }],
        evidence: vec![Evidence {
            pointer: "/notes/0".to_string(),
            kind: "notes".to_string(),
            id: Some("N-1".to_string()),
            date: Some("2026-03-03".to_string()),
            author: Some("RN Lee".to_string()),
            label: None,
        }],
    }
}

fn reported(
    code: &str,
    file: &str,
    record: &str,
    severity: Severity,
    message: &str,
) -> ReportedFinding {
    ReportedFinding {
        fingerprint: fingerprint::fingerprint(code, file, record, "/portal"),
        finding: finding(code, record, severity, message),
        file: file.to_string(),
        claim_id: Some("CLM-1".to_string()),
        source_pointer: "/portal".to_string(),
        source_resource: None,
        range: Some(SourceRange {
            line: 12,
            column: 3,
            end_line: 12,
            end_column: 11,
        }),
        suppression: None,
    }
}

/// A report with one error, one suppressed warning, a passing rule and a
/// record the pack does not apply to.
pub(crate) fn sample() -> CheckReport {
    let mut suppressed = reported(
        "CCM32-002",
        "records/a b.json",
        "ENC-1",
        Severity::Warning,
        "no education note",
    );
    suppressed.suppression = Some(AppliedSuppression {
        reason: "Education done by phone <ok> & \"logged\"".to_string(),
        author: Some("jdoe".to_string()),
        expires: Some("2030-01-01".to_string()),
        file: "claimlint-suppressions.yaml".to_string(),
        line: 3,
    });
    CheckReport {
        tool_version: "0.1.0".to_string(),
        rules: vec![
            RuleMeta {
                code: "CCM32-001".to_string(),
                name: "portal-access-not-offered".to_string(),
                pack: "ccm32".to_string(),
                pack_version: "1.0.0".to_string(),
                layer: Layer::Payer,
                severity: Severity::Error,
                citation: "Payer CCM policy".to_string(),
                description: "Checks the portal offer".to_string(),
            },
            RuleMeta {
                code: "CCM32-002".to_string(),
                name: "portal-education-missing".to_string(),
                pack: "ccm32".to_string(),
                pack_version: "1.0.0".to_string(),
                layer: Layer::Payer,
                severity: Severity::Warning,
                citation: "Payer CCM policy".to_string(),
                description: "Checks portal education".to_string(),
            },
        ],
        findings: vec![
            reported(
                "CCM32-001",
                "records/a b.json",
                "ENC-1",
                Severity::Error,
                "no offer: 50% done,\nsee note",
            ),
            suppressed,
        ],
        records: vec![
            RecordOutcome {
                file: "records/a b.json".to_string(),
                record_id: "ENC-1".to_string(),
                rules: vec![
                    RuleOutcome {
                        code: "CCM32-001".to_string(),
                        name: "portal-access-not-offered".to_string(),
                        pack: "ccm32".to_string(),
                        outcome: Outcome::Fail,
                        status: RuleStatus::Fail,
                    },
                    RuleOutcome {
                        code: "CCM32-002".to_string(),
                        name: "portal-education-missing".to_string(),
                        pack: "ccm32".to_string(),
                        outcome: Outcome::Fail,
                        status: RuleStatus::Suppressed,
                    },
                    RuleOutcome {
                        code: "CCM32-003".to_string(),
                        name: "portal-invitation-not-logged".to_string(),
                        pack: "ccm32".to_string(),
                        outcome: Outcome::Pass,
                        status: RuleStatus::Pass,
                    },
                ],
                not_applicable: Vec::new(),
            },
            RecordOutcome {
                file: "batch.ndjson".to_string(),
                record_id: "ENC-9".to_string(),
                rules: Vec::new(),
                not_applicable: vec![("ccm32".to_string(), "no CCM service line".to_string())],
            },
        ],
        input_problems: vec![InputProblem {
            level: ProblemLevel::Error,
            code: "claimlint::input::invalid-json".to_string(),
            file: "broken.json".to_string(),
            line: Some(2),
            column: Some(5),
            message: "the JSON document ends unexpectedly".to_string(),
        }],
        suppression_warnings: Vec::new(),
        baseline: None,
        summary: Summary {
            files: 3,
            records: 2,
            not_applicable: 1,
            errors: 1,
            suppressed: 1,
            input_errors: 1,
            unreadable_inputs: 1,
            ..Summary::default()
        },
    }
}

fn report_schema() -> serde_json::Value {
    serde_json::from_str(include_str!("../../schemas/check-report.schema.json")).unwrap()
}

fn assert_valid(schema: &serde_json::Value, instance: &serde_json::Value) {
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(schema)
        .unwrap();
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}\n{instance:#}");
}

#[test]
fn json_report_matches_its_schema() {
    let text = json::render_json(&sample());
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_valid(&report_schema(), &value);
    assert_eq!(value["findings"][1]["suppression"]["state"], "suppressed");
    assert_eq!(value["findings"][0]["suppression"]["state"], "active");
    assert_eq!(value["findings"][0]["line"], 12);
}

#[test]
fn ndjson_lines_match_the_finding_schema() {
    let mut schema = report_schema();
    schema["$ref"] = serde_json::json!("#/$defs/finding");
    for key in ["required", "properties", "additionalProperties", "type"] {
        schema.as_object_mut().unwrap().remove(key);
    }
    let text = json::render_ndjson(&sample());
    assert_eq!(text.lines().count(), 2);
    for line in text.lines() {
        assert_valid(&schema, &serde_json::from_str(line).unwrap());
    }
}

#[test]
fn sarif_matches_the_schema_subset() {
    let schema: serde_json::Value = serde_json::from_str(include_str!(
        "../../tests/data/sarif/sarif-2.1.0-subset.schema.json"
    ))
    .unwrap();
    let value: serde_json::Value = serde_json::from_str(&sarif::render_sarif(&sample())).unwrap();
    assert_valid(&schema, &value);
    let run = &value["runs"][0];
    assert_eq!(run["columnKind"], "unicodeCodePoints");
    assert_eq!(
        run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "records/a%20b.json"
    );
    assert_eq!(
        run["results"][0]["locations"][0]["physicalLocation"]["region"]["startColumn"],
        3
    );
    assert_eq!(run["results"][0]["ruleIndex"], 0);
    assert_eq!(
        run["results"][1]["suppressions"][0]["justification"],
        "Education done by phone <ok> & \"logged\""
    );
    assert_eq!(run["invocations"][0]["executionSuccessful"], false);
}

#[test]
fn sarif_fingerprint_ignores_line_moves() {
    let report = sample();
    let mut moved = sample();
    if let Some(range) = moved.findings[0].range.as_mut() {
        range.line += 40;
    }
    let key = sarif::FINGERPRINT_KEY;
    let first: serde_json::Value = serde_json::from_str(&sarif::render_sarif(&report)).unwrap();
    let second: serde_json::Value = serde_json::from_str(&sarif::render_sarif(&moved)).unwrap();
    let fingerprint = &first["runs"][0]["results"][0]["partialFingerprints"][key];
    assert!(fingerprint.is_string());
    assert_eq!(
        fingerprint,
        &second["runs"][0]["results"][0]["partialFingerprints"][key]
    );
}

#[test]
fn junit_has_a_suite_per_file_and_a_case_per_rule() {
    let xml = junit::render_junit(&sample());
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"claimlint\" tests=\"5\" failures=\"1\" errors=\"1\" skipped=\"2\">"), "{xml}");
    assert!(xml.contains("<testsuite name=\"records/a b.json\" tests=\"3\" failures=\"1\" errors=\"0\" skipped=\"1\">"), "{xml}");
    assert!(
        xml.contains("name=\"ENC-1: CCM32-003 portal-invitation-not-logged\"/>"),
        "{xml}"
    );
    assert!(
        xml.contains(
            "<failure message=\"no offer: 50% done,&#10;see note\" type=\"CCM32-001 (error)\">"
        ),
        "{xml}"
    );
    assert!(xml.contains("<skipped message=\"suppressed: Education done by phone &lt;ok&gt; &amp; &quot;logged&quot;\"/>"), "{xml}");
    assert!(
        xml.contains("name=\"ENC-9: ccm32 (not applicable)\""),
        "{xml}"
    );
    assert!(xml.contains("<error message=\"the JSON document ends unexpectedly\" type=\"claimlint::input::invalid-json\"/>"), "{xml}");
}

#[test]
fn xml_escape_replaces_forbidden_characters() {
    assert_eq!(junit::escape("a\u{1}b\u{fffe}"), "a\u{fffd}b\u{fffd}");
    assert_eq!(junit::escape("<&>'\""), "&lt;&amp;&gt;&apos;&quot;");
    assert_eq!(junit::escape("é\tx"), "é&#9;x");
}

#[test]
fn github_commands_escape_data_and_properties() {
    assert_eq!(github::escape_data("50%\r\nnext"), "50%25%0D%0Anext");
    assert_eq!(github::escape_property("a:b,c%"), "a%3Ab%2Cc%25");
    let out = github::render_github(&sample());
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines,
        [
            "::error file=broken.json,line=2,col=5,title=claimlint%3A%3Ainput%3A%3Ainvalid-json::the JSON document ends unexpectedly",
            "::error file=records/a b.json,line=12,col=3,endLine=12,endColumn=11,title=CCM32-001 portal-access-not-offered::record ENC-1: no offer: 50%25 done,%0Asee note%0AOffer portal access",
        ]
    );
}

#[test]
fn github_ranks_by_severity_and_counts_omitted() {
    let mut report = sample();
    report.input_problems.clear();
    report.findings.clear();
    for i in 0..12 {
        report.findings.push(reported(
            "CCM32-002",
            "a.json",
            &format!("W-{i:02}"),
            Severity::Warning,
            "w",
        ));
    }
    for i in 0..11 {
        report.findings.push(reported(
            "CCM32-003",
            "a.json",
            &format!("I-{i:02}"),
            Severity::Info,
            "i",
        ));
    }
    report
        .findings
        .push(reported("CCM32-001", "z.json", "E-1", Severity::Error, "e"));
    let out = github::render_github(&report);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("::error file=z.json"), "{out}");
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("::warning")).count(),
        10
    );
    // Nine finding notices leave room for the closing notice.
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("::notice")).count(),
        10
    );
    assert_eq!(
        lines.last().copied(),
        Some("::notice title=claimlint::4 more annotation(s) not shown: GitHub shows 10 per type per step; see the job log or the SARIF report for all findings")
    );
}

#[test]
fn github_step_summary_lists_rules_and_findings() {
    let md = github::render_step_summary(&sample(), 50);
    assert!(md.contains("**1 error(s)**"), "{md}");
    assert!(
        md.contains("| `CCM32-001` | portal-access-not-offered | error | 1 |"),
        "{md}"
    );
    assert!(
        md.contains(
            "| `records/a b.json:12` | `ENC-1` | `CCM32-001` | no offer: 50% done, see note |"
        ),
        "{md}"
    );
    assert!(md.contains("1 finding(s) suppressed."), "{md}");
}

#[test]
fn gitlab_fingerprints_are_unique() {
    let mut report = sample();
    report.findings.push(report.findings[0].clone());
    let value: serde_json::Value = serde_json::from_str(&gitlab::render_gitlab(&report)).unwrap();
    let issues = value.as_array().unwrap();
    // The suppressed finding is left out.
    assert_eq!(issues.len(), 2);
    assert_ne!(issues[0]["fingerprint"], issues[1]["fingerprint"]);
    assert_eq!(issues[0]["severity"], "major");
    assert_eq!(issues[0]["location"]["path"], "records/a b.json");
    assert_eq!(issues[0]["location"]["lines"]["begin"], 12);
}

#[test]
fn statistics_count_active_findings_per_rule() {
    let stats = sample().statistics();
    assert_eq!(stats.len(), 1);
    assert_eq!(stats[0].code, "CCM32-001");
    assert_eq!(stats[0].count, 1);
}

#[test]
fn path_to_uri_encodes_reserved_bytes() {
    assert_eq!(path_to_uri("a b/c#d.json"), "a%20b/c%23d.json");
    assert_eq!(path_to_uri("dir\\é.json"), "dir/%C3%A9.json");
}

#[test]
fn streamed_json_equals_the_whole_document() {
    let report = sample();
    assert!(
        report.findings.len() > 1,
        "the sample needs several findings"
    );
    let mut streamed = Vec::new();
    let mut findings = report
        .findings
        .iter()
        .map(|f| Ok(json::finding_json_pretty(f).into_bytes()));
    json::write_json(&report, &mut findings, &mut streamed).unwrap();
    assert_eq!(
        String::from_utf8(streamed).unwrap(),
        json::render_json(&report)
    );

    let mut empty = sample();
    empty.findings.clear();
    let mut streamed = Vec::new();
    json::write_json(&empty, &mut std::iter::empty(), &mut streamed).unwrap();
    assert_eq!(
        String::from_utf8(streamed).unwrap(),
        json::render_json(&empty)
    );

    let lines: String = report
        .findings
        .iter()
        .map(json::finding_json_line)
        .collect();
    assert_eq!(lines, json::render_ndjson(&report));
}
