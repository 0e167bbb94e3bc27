//! Patient-month rules of the shipped cms-ccm pack: records of one patient
//! in one calendar month are evaluated together, and a failing month is
//! reported on each of its records.

use std::sync::Arc;

use claimlint::eval::PatientMonths;
use claimlint::finding::{Outcome, Severity};
use claimlint::record::{Origin, Record, SourceFormat};
use claimlint::rules::{PackSource, RuleSet};
use serde_json::json;

fn record(id: &str, patient: &str, date_of_service: &str, codes: &[&str]) -> Record {
    let lines: Vec<_> = codes.iter().map(|c| json!({"code": c})).collect();
    Record {
        id: id.to_string(),
        value: json!({
            "record_type": "claimlint.encounter/v1",
            "patient": {"id": patient},
            "encounter": {"id": id, "date_of_service": date_of_service},
            "service_lines": lines
        }),
        format: SourceFormat::Canonical,
        origin: Origin::new(Arc::from(format!("{id}.json")), None, ""),
        provenance: Vec::new(),
    }
}

/// Runs the shipped packs' patient-month rules over `records` and returns
/// (rule code, record id, finding pointer) for every finding.
fn findings(records: &[Record]) -> Vec<(String, String, String)> {
    let rules = RuleSet::shipped().expect("shipped packs compile");
    let mut months = PatientMonths::new(&rules);
    for record in records {
        months.add(record);
    }
    let mut out: Vec<(String, String, String)> = months
        .finish()
        .results
        .into_iter()
        .flat_map(|r| r.findings)
        .map(|(_, f)| (f.code, f.record_id, f.pointer))
        .collect();
    out.sort();
    out
}

#[test]
fn ccm_twice_in_a_month_is_reported_on_both_records() {
    let found = findings(&[
        record("ENC-1", "P-1", "2026-03-10", &["99490"]),
        record("ENC-2", "P-1", "2026-03-28", &["99213", "99491"]),
    ]);
    assert_eq!(
        found,
        [
            (
                "CMS-CCM-012".to_string(),
                "ENC-1".to_string(),
                "/service_lines/0".to_string()
            ),
            (
                "CMS-CCM-012".to_string(),
                "ENC-2".to_string(),
                "/service_lines/1".to_string()
            ),
        ]
    );
}

#[test]
fn message_names_the_month_and_records() {
    let rules = RuleSet::shipped().expect("shipped packs compile");
    let mut months = PatientMonths::new(&rules);
    months.add(&record("ENC-1", "P-1", "2026-03-10", &["99490"]));
    months.add(&record("ENC-2", "P-1", "2026-03-28", &["99490"]));
    let report = months.finish();
    let result = report
        .results
        .iter()
        .find(|r| r.rule.code == "CMS-CCM-012")
        .expect("rule evaluated");
    assert_eq!(result.month.as_deref(), Some("2026-03"));
    assert_eq!(result.members.len(), 2);
    assert_eq!(result.rule.outcome, Outcome::Fail);
    assert_eq!(
        result.findings[0].1.message,
        "CCM is billed more than once for this patient in 2026-03 (records ENC-1, ENC-2)"
    );
}

#[test]
fn other_months_and_patients_are_apart() {
    let found = findings(&[
        record("ENC-1", "P-1", "2026-03-31", &["99490"]),
        record("ENC-2", "P-1", "2026-04-01", &["99490"]),
        record("ENC-3", "P-2", "2026-03-15", &["99490"]),
    ]);
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn transitional_care_in_the_ccm_month_is_a_warning() {
    let rules = RuleSet::shipped().expect("shipped packs compile");
    let mut months = PatientMonths::new(&rules);
    assert!(
        months.add(&record("ENC-1", "P-1", "2026-03-06", &["99495"])),
        "TCM record joins the month"
    );
    assert!(months.add(&record("ENC-2", "P-1", "2026-03-31", &["99490"])));
    let report = months.finish();
    let overlap: Vec<_> = report
        .results
        .iter()
        .filter(|r| r.rule.code == "CMS-CCM-013")
        .flat_map(|r| &r.findings)
        .collect();
    assert_eq!(overlap.len(), 2);
    assert!(overlap.iter().all(|(_, f)| f.severity == Severity::Warning));
    let tcm = overlap
        .iter()
        .find(|(_, f)| f.record_id == "ENC-1")
        .expect("TCM record reported");
    assert_eq!(tcm.1.pointer, "/service_lines/0");
}

#[test]
fn transitional_care_alone_is_not_checked() {
    let found = findings(&[record("ENC-1", "P-1", "2026-03-06", &["99495"])]);
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn records_outside_every_group_are_not_kept() {
    let rules = RuleSet::shipped().expect("shipped packs compile");
    let mut months = PatientMonths::new(&rules);
    assert!(
        !months.add(&record("ENC-1", "P-1", "2026-03-11", &["99213"])),
        "office visit"
    );
    assert!(
        !months.add(&record("ENC-2", "P-1", "2021-12-15", &["99490"])),
        "before the pack's dates"
    );
    let report = months.finish();
    assert!(report.records.is_empty());
    assert!(report.results.is_empty());
}

#[test]
fn date_without_a_month_is_undecided() {
    let rules = RuleSet::shipped().expect("shipped packs compile");
    let mut months = PatientMonths::new(&rules);
    months.add(&record("ENC-1", "P-1", "2026", &["99490"]));
    let report = months.finish();
    let result = report
        .results
        .iter()
        .find(|r| r.rule.code == "CMS-CCM-012")
        .expect("rule reported");
    assert_eq!(result.month, None);
    assert_eq!(result.rule.outcome, Outcome::Undecided);
    let finding = &result.findings[0].1;
    assert_eq!(finding.severity, Severity::Warning);
    assert_eq!(finding.pointer, "/encounter/date_of_service");
}

const GROUP_RULE: &str = "pack:\n  id: test\n  title: Test\n  version: 0.0.1\n  layer: cms\nrules:\n  - code: TEST-001\n    name: test-rule\n    severity: error\n    citation: test\n    description: test\n    message: MESSAGE\n    help: fix it\n";

fn compile_error(rule_tail: &str) -> String {
    let text = format!("{GROUP_RULE}{rule_tail}");
    let errors = RuleSet::compile(&[PackSource::new("test.yaml", text)]).expect_err("rejected");
    errors[0].problems[0].message.clone()
}

#[test]
fn group_paths_are_checked_against_the_group() {
    let message = compile_error(
        "    scope: patient-month\n    evidence:\n      count:\n        select: $.records[*].service_line[*]\n        at_most: 1\n",
    );
    assert!(
        message.contains("`service_line` is not a field"),
        "{message}"
    );
    let message = compile_error(
        "    scope: patient-month\n    evidence:\n      count:\n        select: $.service_lines[*]\n        at_most: 1\n",
    );
    assert!(
        message.contains("`service_lines` is not a field"),
        "{message}"
    );
    let message = compile_error(
        "    evidence:\n      count:\n        select: $.records[*]\n        at_most: 1\n",
    );
    assert!(message.contains("`records` is not a field"), "{message}");
}

#[test]
fn members_needs_a_patient_month_rule() {
    let message = compile_error(
        "    members: { field: patient.id, present: true }\n    evidence: { field: patient.id, present: true }\n",
    );
    assert_eq!(
        message,
        "`members` applies only to rules with `scope: patient-month`"
    );
}

#[test]
fn month_variable_needs_a_patient_month_rule() {
    let text = format!("{GROUP_RULE}    evidence: {{ field: patient.id, present: true }}\n")
        .replace("MESSAGE", "\"twice in {{ month }}\"");
    let errors = RuleSet::compile(&[PackSource::new("test.yaml", text)]).expect_err("rejected");
    assert!(errors[0].problems[0]
        .message
        .contains("only rules with `scope: patient-month` have"));
}

#[test]
fn unknown_scope_is_rejected() {
    let message = compile_error(
        "    scope: patient-year\n    evidence: { field: patient.id, present: true }\n",
    );
    assert_eq!(message, "unknown scope `patient-year`");
}
