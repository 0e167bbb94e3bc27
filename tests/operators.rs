//! One test per operator of the evidence language, each with a record that
//! passes and one that fails (or cannot be decided).

use std::sync::Arc;

use claimlint::eval::evaluate;
use claimlint::finding::Outcome;
use claimlint::record::{Origin, Record, SourceFormat};
use claimlint::rules::{PackSource, RuleSet};
use serde_json::{json, Value};

/// Compiles a one-rule pack whose evidence requirement is `condition`.
fn pack(condition: &str) -> RuleSet {
    let indented: String = condition
        .lines()
        .map(|line| format!("      {line}\n"))
        .collect();
    let text = format!(
        "pack:\n  id: test\n  title: Test\n  version: 0.0.1\n  layer: payer\nrules:\n  - code: TEST-001\n    name: test-rule\n    severity: error\n    citation: test\n    description: test\n    message: failed\n    help: fix it\n    evidence:\n{indented}"
    );
    match RuleSet::compile(&[PackSource::new("test.yaml", text)]) {
        Ok(set) => set,
        Err(errors) => panic!("pack does not compile: {:?}", errors[0].problems),
    }
}

fn record(mut overrides: Value) -> Record {
    let mut value = json!({
        "record_type": "claimlint.encounter/v1",
        "patient": {"id": "p1", "email": "Ann@Example.org", "email_verified_at": "2026-03-01T09:00:00-05:00"},
        "encounter": {"id": "e1", "date_of_service": "2026-03-06"},
        "service_lines": [{"code": "99490", "units": 1, "minutes": 20}],
        "time_log": [{"minutes": 12, "staff_role": "RN"}, {"minutes": 9, "staff_role": "MA"}],
        "diagnoses": [{"code": "E11.9", "chronic": true}, {"code": "I10", "chronic": true}, {"code": "J06.9", "chronic": false}],
        "notes": [{"id": "n1", "author": {"name": "Dana", "role": "RN"}, "signed_at": "2026-03-06T11:00:00-05:00", "text": "Educated patient on the portal."}],
        "audit_trail": [{"id": "a1", "type": "portal.invitation.sent", "timestamp": "2026-03-06T11:05:00-05:00", "channel": "email", "recipient": "ann@example.org"}]
    });
    if let (Value::Object(base), Value::Object(extra)) = (&mut value, overrides.take()) {
        for (key, val) in extra {
            if val.is_null() {
                base.remove(&key);
            } else {
                base.insert(key, val);
            }
        }
    }
    Record {
        id: "e1".into(),
        value,
        format: SourceFormat::Canonical,
        origin: Origin::new(Arc::from("test.json"), None, ""),
        provenance: Vec::new(),
    }
}

fn outcome(rules: &RuleSet, record: &Record) -> Outcome {
    evaluate(rules, record)[0].rules[0].outcome
}

fn check(condition: &str, passing: Value, failing: Value) {
    let rules = pack(condition);
    assert_eq!(
        outcome(&rules, &record(passing)),
        Outcome::Pass,
        "expected pass: {condition}"
    );
    assert_eq!(
        outcome(&rules, &record(failing)),
        Outcome::Fail,
        "expected fail: {condition}"
    );
}

#[test]
fn equals_compares_strings_and_numbers() {
    check(
        "field: encounter.id\nequals: e1",
        json!({}),
        json!({"encounter": {"id": "e2", "date_of_service": "2026-03-06"}}),
    );
    check(
        "exists:\n  select: $.service_lines[*]\n  where: { field: units, equals: 1 }",
        json!({}),
        json!({"service_lines": [{"code": "99490", "units": 2}]}),
    );
}

#[test]
fn equals_ignores_unicode_normal_form() {
    // "é" precomposed (NFC) and decomposed (NFD) are the same name.
    check(
        "field: patient.name.family\nequals: \"Marché\"",
        json!({"patient": {"id": "p1", "name": {"family": "Marche\u{301}"}}}),
        json!({"patient": {"id": "p1", "name": {"family": "Marcher"}}}),
    );
}

#[test]
fn one_of_matches_unquoted_codes_as_strings() {
    check(
        "exists:\n  select: $.service_lines[*]\n  where: { field: code, one_of: [99490, 99439] }",
        json!({}),
        json!({"service_lines": [{"code": "99213"}]}),
    );
}

#[test]
fn matches_is_case_insensitive_on_normalized_text() {
    let condition =
        "exists:\n  select: $.notes[*]\n  where: { field: text, matches: 'educated .* portal' }";
    check(
        condition,
        json!({"notes": [{"id": "n1", "text": "EDUCATED patient on the PORTAL"}]}),
        json!({"notes": [{"id": "n1", "text": "Discussed medications."}]}),
    );
    // Full-width letters normalize (NFKC) to ASCII.
    let rules = pack(condition);
    let wide = record(
        json!({"notes": [{"id": "n1", "text": "educated on the \u{ff30}\u{ff4f}\u{ff52}\u{ff54}\u{ff41}\u{ff4c}"}]}),
    );
    assert_eq!(outcome(&rules, &wide), Outcome::Pass);
}

#[test]
fn present_treats_null_and_empty_as_missing() {
    let condition = "field: patient.email\npresent: true";
    check(
        condition,
        json!({}),
        json!({"patient": {"id": "p1", "email": ""}}),
    );
    let rules = pack("field: patient.phone\npresent: false");
    assert_eq!(outcome(&rules, &record(json!({}))), Outcome::Pass);
}

#[test]
fn equals_field_compares_with_another_field() {
    let condition = "exists:\n  select: $.audit_trail[*]\n  where: { field: recipient, equals_field: $.patient.email, ignore_case: true }";
    check(
        condition,
        json!({}),
        json!({"audit_trail": [{"id": "a1", "type": "portal.invitation.sent", "recipient": "other@example.org"}]}),
    );
    let exact = pack("exists:\n  select: $.audit_trail[*]\n  where: { field: recipient, equals_field: $.patient.email }");
    assert_eq!(
        outcome(&exact, &record(json!({}))),
        Outcome::Fail,
        "case differs without ignore_case"
    );
}

#[test]
fn within_same_day_and_same_month() {
    check(
        "exists:\n  select: $.notes[*]\n  where: { field: signed_at, within: { of: $.encounter.date_of_service, window: same-day } }",
        json!({}),
        json!({"notes": [{"id": "n1", "signed_at": "2026-03-07T08:00:00-05:00"}]}),
    );
    check(
        "exists:\n  select: $.notes[*]\n  where: { field: signed_at, within: { of: $.encounter.date_of_service, window: same-month } }",
        json!({"notes": [{"id": "n1", "signed_at": "2026-03-31"}]}),
        json!({"notes": [{"id": "n1", "signed_at": "2026-04-01"}]}),
    );
}

#[test]
fn within_days_and_business_days() {
    // The date of service, 2026-03-06, is a Friday.
    check(
        "exists:\n  select: $.audit_trail[*]\n  where: { field: timestamp, within: { of: $.encounter.date_of_service, window: 3 days } }",
        json!({"audit_trail": [{"id": "a1", "type": "x", "timestamp": "2026-03-09T10:00:00"}]}),
        json!({"audit_trail": [{"id": "a1", "type": "x", "timestamp": "2026-03-10T10:00:00"}]}),
    );
    check(
        "exists:\n  select: $.audit_trail[*]\n  where: { field: timestamp, within: { of: $.encounter.date_of_service, window: 4 business days } }",
        json!({"audit_trail": [{"id": "a1", "type": "x", "timestamp": "2026-03-12T10:00:00"}]}),
        json!({"audit_trail": [{"id": "a1", "type": "x", "timestamp": "2026-03-13T10:00:00"}]}),
    );
}

#[test]
fn before_and_after_compare_instants() {
    check(
        "exists:\n  select: $.audit_trail[*]\n  where: { field: $.patient.email_verified_at, before: timestamp }",
        json!({}),
        json!({"patient": {"id": "p1", "email_verified_at": "2026-03-07T09:00:00-05:00"}}),
    );
    check(
        "exists:\n  select: $.audit_trail[*]\n  where: { field: timestamp, on_or_after: $.patient.email_verified_at }",
        json!({}),
        json!({"patient": {"id": "p1", "email_verified_at": "2026-03-07T09:00:00-05:00"}}),
    );
}

#[test]
fn partial_date_is_undecided_not_guessed() {
    let rules = pack(
        "exists:\n  select: $.notes[*]\n  where: { field: signed_at, within: { of: $.encounter.date_of_service, window: same-day } }",
    );
    let partial = record(json!({"notes": [{"id": "n1", "signed_at": "2026-03"}]}));
    assert_eq!(outcome(&rules, &partial), Outcome::Undecided);
}

#[test]
fn numeric_comparisons() {
    check(
        "exists:\n  select: $.service_lines[*]\n  where: { field: minutes, at_least: 20 }",
        json!({}),
        json!({"service_lines": [{"code": "99490", "minutes": 19.5}]}),
    );
    check(
        "exists:\n  select: $.service_lines[*]\n  where: { field: units, at_most: 2 }",
        json!({}),
        json!({"service_lines": [{"code": "99439", "units": 3}]}),
    );
    check(
        "exists:\n  select: $.service_lines[*]\n  where: { field: minutes, greater_than: 19 }",
        json!({}),
        json!({"service_lines": [{"code": "99490", "minutes": 19}]}),
    );
    check(
        "exists:\n  select: $.service_lines[*]\n  where: { field: minutes, less_than: 60 }",
        json!({}),
        json!({"service_lines": [{"code": "99490", "minutes": 60}]}),
    );
}

#[test]
fn all_any_not() {
    check(
        "all:\n  - { field: encounter.id, equals: e1 }\n  - { field: patient.id, equals: p1 }",
        json!({}),
        json!({"patient": {"id": "p2"}}),
    );
    check(
        "any:\n  - { field: encounter.id, equals: nope }\n  - { field: patient.id, equals: p1 }",
        json!({}),
        json!({"patient": {"id": "p2"}}),
    );
    check(
        "not:\n  field: patient.phone\n  present: true",
        json!({}),
        json!({"patient": {"id": "p1", "phone": "555"}}),
    );
}

#[test]
fn count_over_selected_items() {
    check(
        "count:\n  select: $.diagnoses[*]\n  where: { field: chronic, equals: true }\n  at_least: 2",
        json!({}),
        json!({"diagnoses": [{"code": "E11.9", "chronic": true}]}),
    );
}

#[test]
fn sum_over_selected_items() {
    check(
        "sum:\n  select: $.time_log[*]\n  of: minutes\n  at_least: 20",
        json!({}),
        json!({"time_log": [{"minutes": 12}]}),
    );
    // With a filter, only the matching staff time counts.
    check(
        "sum:\n  select: $.time_log[*]\n  where: { field: staff_role, equals: RN }\n  of: minutes\n  at_least: 12",
        json!({}),
        json!({"time_log": [{"minutes": 30, "staff_role": "front desk"}]}),
    );
}

#[test]
fn jsonpath_filter_selects_items() {
    check(
        "exists:\n  select: \"$.audit_trail[?@.type == 'portal.invitation.sent']\"",
        json!({}),
        json!({"audit_trail": [{"id": "a1", "type": "portal.offered"}]}),
    );
}

#[test]
fn evidence_records_item_details() {
    let rules = pack(
        "exists:\n  select: $.notes[*]\n  where: { field: text, matches: portal }\n  evidence: { date: signed_at, author: author.name }",
    );
    let results = evaluate(&rules, &record(json!({})));
    let evidence = &results[0].rules[0].evidence;
    assert_eq!(evidence.len(), 1);
    assert_eq!(evidence[0].pointer, "/notes/0");
    assert_eq!(evidence[0].id.as_deref(), Some("n1"));
    assert_eq!(
        evidence[0].date.as_deref(),
        Some("2026-03-06T11:00:00-05:00")
    );
    assert_eq!(evidence[0].author.as_deref(), Some("Dana"));
}

#[test]
fn miss_points_at_closest_candidate_field() {
    let rules = pack(
        "exists:\n  select: $.audit_trail[*]\n  where:\n    all:\n      - { field: type, equals: portal.invitation.sent }\n      - { field: channel, equals: sms }",
    );
    let results = evaluate(&rules, &record(json!({})));
    let misses = &results[0].rules[0].misses;
    assert_eq!(misses.len(), 1);
    assert_eq!(misses[0].pointer, "/audit_trail/0/channel");
}

#[test]
fn if_then_holds_when_the_condition_does_not() {
    let condition = "if:\n  exists:\n    select: $.service_lines[*]\n    where: { field: code, equals: 99489 }\nthen:\n  exists:\n    select: $.service_lines[*]\n    where: { field: code, equals: 99487 }";
    check(
        condition,
        json!({"service_lines": [{"code": "99487"}, {"code": "99489"}]}),
        json!({"service_lines": [{"code": "99489"}]}),
    );
    let rules = pack(condition);
    assert_eq!(
        outcome(&rules, &record(json!({}))),
        Outcome::Pass,
        "no 99489: nothing to require"
    );
}

#[test]
fn if_then_misses_name_only_the_consequence() {
    let rules = pack(
        "if: { field: encounter.id, equals: e1 }\nthen:\n  label: a care plan on record\n  field: care_plan.id\n  present: true",
    );
    let results = evaluate(&rules, &record(json!({})));
    let misses = &results[0].rules[0].misses;
    assert_eq!(misses.len(), 1);
    assert_eq!(misses[0].expected, "a care plan on record");
}

#[test]
fn then_without_if_is_rejected() {
    let text = "pack:\n  id: test\n  title: Test\n  version: 0.0.1\n  layer: payer\nrules:\n  - code: TEST-001\n    name: test-rule\n    severity: error\n    citation: test\n    description: test\n    message: failed\n    help: fix it\n    evidence:\n      then: { field: care_plan.id, present: true }\n";
    let errors = RuleSet::compile(&[PackSource::new("test.yaml", text)]).expect_err("rejected");
    assert_eq!(
        errors[0].problems[0].message,
        "`then` needs an `if` in the same condition"
    );
}

#[test]
fn sum_limit_computed_from_units() {
    // 20 minutes, plus 20 for each unit of 99439 (a line without units is one unit).
    let condition = "sum:\n  select: $.time_log[*]\n  of: minutes\n  at_least:\n    sum: { select: \"$.service_lines[*]\", where: { field: code, equals: 99439 }, of: units, default: 1 }\n    times: 20\n    plus: 20";
    check(
        condition,
        json!({"service_lines": [{"code": "99490"}, {"code": "99439", "units": 1}], "time_log": [{"minutes": 25}, {"minutes": 15}]}),
        json!({"service_lines": [{"code": "99490"}, {"code": "99439", "units": 2}], "time_log": [{"minutes": 25}, {"minutes": 15}]}),
    );
    let rules = pack(condition);
    let no_units =
        record(json!({"service_lines": [{"code": "99439"}], "time_log": [{"minutes": 39}]}));
    assert_eq!(
        outcome(&rules, &no_units),
        Outcome::Fail,
        "a line without units counts as one unit"
    );
    let misses = &evaluate(&rules, &no_units)[0].rules[0].misses;
    assert_eq!(
        misses[0].found.as_deref(),
        Some("total 39 (needed at least 40)")
    );
}

#[test]
fn sum_default_counts_missing_values() {
    check(
        "sum:\n  select: $.service_lines[*]\n  of: units\n  default: 1\n  at_most: 2",
        json!({"service_lines": [{"code": "99439"}, {"code": "99439"}]}),
        json!({"service_lines": [{"code": "99439"}, {"code": "99439"}, {"code": "99439"}]}),
    );
}

#[test]
fn count_limit_and_field_limit() {
    check(
        "count:\n  select: $.notes[*]\n  at_least: { count: { select: \"$.audit_trail[*]\" } }",
        json!({}),
        json!({"audit_trail": [{"id": "a1", "type": "x"}, {"id": "a2", "type": "y"}]}),
    );
    check(
        "exists:\n  select: $.service_lines[*]\n  where: { field: minutes, at_least: { field: units, times: 20 } }",
        json!({"service_lines": [{"code": "99490", "units": 1, "minutes": 20}]}),
        json!({"service_lines": [{"code": "99490", "units": 2, "minutes": 39}]}),
    );
}

#[test]
fn computed_limit_with_missing_field_fails() {
    let rules = pack("exists:\n  select: $.service_lines[*]\n  where: { field: minutes, at_least: { field: units, times: 20 } }");
    let without_units = record(json!({"service_lines": [{"code": "99490", "minutes": 60}]}));
    assert_eq!(outcome(&rules, &without_units), Outcome::Fail);
}

#[test]
fn computed_limit_needs_one_aggregate() {
    let text = "pack:\n  id: test\n  title: Test\n  version: 0.0.1\n  layer: payer\nrules:\n  - code: TEST-001\n    name: test-rule\n    severity: error\n    citation: test\n    description: test\n    message: failed\n    help: fix it\n    evidence:\n      sum: { select: \"$.time_log[*]\", of: minutes, at_least: { times: 20 } }\n";
    let errors = RuleSet::compile(&[PackSource::new("test.yaml", text)]).expect_err("rejected");
    assert_eq!(
        errors[0].problems[0].message,
        "a computed limit needs exactly one of `sum`, `count` or `field`"
    );
}

#[test]
fn count_over_limit_points_at_every_match() {
    let rules = pack("count:\n  select: $.service_lines[*]\n  where: { field: code, equals: 99490 }\n  at_most: 1");
    let twice =
        record(json!({"service_lines": [{"code": "99490"}, {"code": "99213"}, {"code": "99490"}]}));
    let results = evaluate(&rules, &twice);
    assert_eq!(results[0].rules[0].outcome, Outcome::Fail);
    let pointers: Vec<&str> = results[0].rules[0]
        .misses
        .iter()
        .map(|m| m.pointer.as_str())
        .collect();
    assert_eq!(pointers, ["/service_lines/0", "/service_lines/2"]);
    assert_eq!(
        results[0].rules[0].misses[0].found.as_deref(),
        Some("one of 2 items matched")
    );
}

#[test]
fn within_years_before() {
    check(
        "field: patient.last_visit_date\nwithin: { of: $.encounter.date_of_service, window: 1 year, direction: before }",
        json!({"patient": {"id": "p1", "last_visit_date": "2025-03-06"}}),
        json!({"patient": {"id": "p1", "last_visit_date": "2025-03-05"}}),
    );
}

#[test]
fn rule_when_limits_where_the_rule_applies() {
    let text = "pack:\n  id: test\n  title: Test\n  version: 0.0.1\n  layer: payer\nrules:\n  - code: TEST-001\n    name: test-rule\n    severity: error\n    citation: test\n    description: test\n    message: failed\n    help: fix it\n    when:\n      exists: { select: \"$.service_lines[*]\", where: { field: code, equals: 99491 } }\n    evidence: { field: care_plan.id, present: true }\n";
    let rules = RuleSet::compile(&[PackSource::new("test.yaml", text)]).expect("compiles");
    let without_code = evaluate(&rules, &record(json!({})));
    assert!(
        without_code[0].rules.is_empty(),
        "not evaluated without 99491"
    );
    assert!(without_code[0].findings.is_empty());
    let with_code = evaluate(
        &rules,
        &record(json!({"service_lines": [{"code": "99491"}]})),
    );
    assert_eq!(with_code[0].rules[0].outcome, Outcome::Fail);
}

#[test]
fn message_template_loops_over_misses() {
    let text = "pack:\n  id: test\n  title: Test\n  version: 0.0.1\n  layer: payer\nrules:\n  - code: TEST-001\n    name: test-rule\n    severity: error\n    citation: test\n    description: test\n    message: \"{% for m in misses %}{{ m.expected }}{% if m.found is defined %} ({{ m.found }}){% endif %}{% endfor %}\"\n    help: fix it\n    evidence:\n      field: patient.phone\n      present: true\n";
    let rules = RuleSet::compile(&[PackSource::new("test.yaml", text)]).expect("pack compiles");
    let results = evaluate(&rules, &record(json!({})));
    assert_eq!(
        results[0].findings[0].message,
        "patient.phone present (missing)"
    );
}
