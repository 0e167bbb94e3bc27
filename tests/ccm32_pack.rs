//! The shipped CCM32 pack on the example records: a passing and a failing
//! fixture for every rule, and the wording cases of the education rule.

use std::path::Path;
use std::sync::Arc;

use claimlint::eval::{evaluate, NotApplicable};
use claimlint::finding::Outcome;
use claimlint::input::{load_file, Framing};
use claimlint::record::{Record, RecordSchema};
use claimlint::rules::RuleSet;
use serde_json::Value;

fn load(path: &str) -> Vec<Record> {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    let bytes = std::fs::read(&full).unwrap_or_else(|e| panic!("read {path}: {e}"));
    let loaded = load_file(
        Arc::from(path),
        &bytes,
        Framing::from_path(path),
        &RecordSchema::new(),
    );
    assert!(loaded.errors.is_empty(), "{path}: {:?}", loaded.errors);
    loaded.records
}

/// Codes of the rules that did not pass on the record.
fn failing(rules: &RuleSet, record: &Record) -> Vec<String> {
    evaluate(rules, record)
        .into_iter()
        .flat_map(|pack| pack.rules)
        .filter(|r| r.outcome != Outcome::Pass)
        .map(|r| r.code)
        .collect()
}

#[test]
fn every_example_fails_exactly_its_rules() {
    let rules = RuleSet::shipped().expect("shipped packs compile");
    let cases: &[(&str, &[&str])] = &[
        ("examples/records/compliant.json", &[]),
        ("examples/records/declined-portal.json", &[]),
        ("examples/records/denied-ccm32-full-evidence.json", &[]),
        (
            "examples/records/fail-portal-not-offered.json",
            &["CCM32-001"],
        ),
        (
            "examples/records/fail-education-declined.json",
            &["CCM32-002"],
        ),
        (
            "examples/records/fail-invitation-not-logged.json",
            &["CCM32-003", "CCM32-004"],
        ),
        (
            "examples/records/fail-invitation-unverified-email.json",
            &["CCM32-004"],
        ),
        (
            "examples/records/denied-ccm32-missing-evidence.json",
            &["CCM32-003", "CCM32-004"],
        ),
    ];
    for (path, expected) in cases {
        let records = load(path);
        assert_eq!(records.len(), 1, "{path}");
        assert_eq!(failing(&rules, &records[0]), *expected, "{path}");
    }
}

#[test]
fn every_rule_has_a_passing_and_a_failing_example() {
    let rules = RuleSet::shipped().expect("shipped packs compile");
    let compliant = load("examples/records/compliant.json");
    let failing_examples: Vec<Record> = [
        "examples/records/fail-portal-not-offered.json",
        "examples/records/fail-education-declined.json",
        "examples/records/fail-invitation-not-logged.json",
        "examples/records/fail-invitation-unverified-email.json",
    ]
    .iter()
    .flat_map(|p| load(p))
    .collect();
    for rule in &rules.packs[0].rules {
        assert!(failing(&rules, &compliant[0]).is_empty());
        assert!(
            failing_examples
                .iter()
                .any(|r| failing(&rules, r).contains(&rule.code)),
            "no failing example for {}",
            rule.code
        );
    }
}

#[test]
fn non_ccm_encounter_is_not_applicable() {
    let rules = RuleSet::shipped().expect("shipped packs compile");
    let records = load("examples/batch/march-ccm.ndjson");
    let office = records
        .iter()
        .find(|r| r.id == "ENC-2026-0403")
        .expect("office visit");
    let result = &evaluate(&rules, office)[0];
    assert_eq!(result.not_applicable, Some(NotApplicable::Condition));
    assert!(result.rules.is_empty());
    assert!(result.findings.is_empty());
}

#[test]
fn encounter_before_effective_date_is_not_applicable() {
    let rules = RuleSet::shipped().expect("shipped packs compile");
    let mut record = load("examples/records/fail-portal-not-offered.json").remove(0);
    record.value["encounter"]["date_of_service"] = Value::from("2023-12-31");
    let result = &evaluate(&rules, &record)[0];
    assert_eq!(
        result.not_applicable,
        Some(NotApplicable::OutsideEffectiveDates)
    );
}

fn with_note_text(text: &str) -> Record {
    let mut record = load("examples/records/compliant.json").remove(0);
    record.value["notes"][0]["text"] = Value::from(text);
    record
}

#[test]
fn education_wording_that_counts() {
    let rules = RuleSet::shipped().expect("shipped packs compile");
    for text in [
        "Educated patient on patient portal features: messaging and results.",
        "Reviewed the patient portal with the patient and demonstrated refill requests.",
        "Explained the Portal; patient declined enrollment today but took written instructions.",
        "Walked her through the portal login on the clinic tablet.",
        "PATIENT INSTRUCTED IN PORTAL USE.",
    ] {
        assert!(
            !failing(&rules, &with_note_text(text)).contains(&"CCM32-002".to_string()),
            "should count as education: {text}"
        );
    }
}

#[test]
fn education_wording_that_does_not_count() {
    let rules = RuleSet::shipped().expect("shipped packs compile");
    for text in [
        "Patient declined portal education today.",
        "Patient refused the portal education; prefers phone.",
        "Patient was not educated on the portal due to time.",
        "No portal education provided; will review next visit.",
        "Portal education was not provided.",
        "Unable to educate patient on portal features (hearing difficulty).",
        "Portal education deferred to next month.",
        "Discussed blood pressure log only.",
    ] {
        assert!(
            failing(&rules, &with_note_text(text)).contains(&"CCM32-002".to_string()),
            "should not count as education: {text}"
        );
    }
}

#[test]
fn unsigned_or_non_clinical_note_does_not_count() {
    let rules = RuleSet::shipped().expect("shipped packs compile");
    let mut unsigned = load("examples/records/compliant.json").remove(0);
    unsigned.value["notes"][0]
        .as_object_mut()
        .unwrap()
        .remove("signed_at");
    assert_eq!(failing(&rules, &unsigned), ["CCM32-002"]);

    let mut front_desk = load("examples/records/compliant.json").remove(0);
    front_desk.value["notes"][0]["author"]["role"] = Value::from("front desk");
    assert_eq!(failing(&rules, &front_desk), ["CCM32-002"]);
}

#[test]
fn decline_without_prior_offer_does_not_count() {
    let rules = RuleSet::shipped().expect("shipped packs compile");
    let mut record = load("examples/records/declined-portal.json").remove(0);
    // The decline is logged before the offer, and no offer event exists.
    record.value["portal"]["declined_at"] = Value::from("2026-03-03T14:00:00-05:00");
    record.value["audit_trail"] = Value::Array(Vec::new());
    let failing = failing(&rules, &record);
    assert!(failing.contains(&"CCM32-001".to_string()), "{failing:?}");
}
