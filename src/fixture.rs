//! Pack fixtures: records with the findings a pack is expected to report on
//! them, compared rule by rule with what the pack really reports.
//!
//! A `pass` fixture expects no finding at all. A `fail` fixture names the
//! rules it expects to report; every other rule of the pack must stay
//! silent on it. A rule is covered when at least one `fail` fixture makes it
//! report and at least one `pass` fixture evaluates it without a finding.
//! Reading fixture files is left to the caller.

use serde::Serialize;

use crate::eval::check_pack;
use crate::record::Record;
use crate::rules::{Pack, RuleSet};

/// Whether a fixture expects findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FixtureKind {
    Pass,
    Fail,
}

/// One fixture: its records and the rule codes it expects to be reported.
#[derive(Debug, Clone)]
pub struct Fixture {
    /// The fixture's name in reports, e.g. `fail/invitation-not-logged.json`.
    pub name: String,
    pub kind: FixtureKind,
    /// Codes of the rules expected to report; empty for a `pass` fixture.
    pub expected: Vec<String>,
    pub records: Vec<Record>,
}

/// A fixture on which a rule did the wrong thing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mismatch {
    pub fixture: String,
    /// What went wrong, e.g. `reported on record ENC-1`.
    pub detail: String,
}

/// How one rule fared across a pack's fixtures.
#[derive(Debug, Clone, Serialize)]
pub struct RuleReport {
    pub code: String,
    pub name: String,
    /// `fail` fixtures that expect the rule and on which it reported.
    pub failing: usize,
    /// `pass` fixtures that evaluated the rule and on which it passed.
    pub passing: usize,
    /// Fixtures on which the rule reported without being expected to.
    pub false_positives: Vec<Mismatch>,
    /// Fixtures that expect the rule but on which it did not report.
    pub false_negatives: Vec<Mismatch>,
}

impl RuleReport {
    /// True when the rule has both kinds of fixture and no mismatch.
    pub fn is_ok(&self) -> bool {
        self.failing > 0
            && self.passing > 0
            && self.false_positives.is_empty()
            && self.false_negatives.is_empty()
    }
}

/// Runs every fixture of `pack` and reports each rule, in pack order.
pub fn run_fixtures(rules: &RuleSet, pack: &Pack, fixtures: &[Fixture]) -> Vec<RuleReport> {
    let mut reports: Vec<RuleReport> = pack
        .rules
        .iter()
        .map(|rule| RuleReport {
            code: rule.code.clone(),
            name: rule.name.clone(),
            failing: 0,
            passing: 0,
            false_positives: Vec::new(),
            false_negatives: Vec::new(),
        })
        .collect();

    for fixture in fixtures {
        let mut checks = check_pack(rules, pack, &fixture.records);
        for report in &mut reports {
            let check = checks.remove(&report.code).unwrap_or_default();
            let expected = fixture.expected.contains(&report.code);
            let mismatch = |detail: String| Mismatch {
                fixture: fixture.name.clone(),
                detail,
            };

            if expected && !check.findings.is_empty() {
                report.failing += 1;
            } else if expected && check.evaluated == 0 {
                report.false_negatives.push(mismatch(
                    "expected, but the rule is not evaluated on any of its records".to_string(),
                ));
            } else if expected {
                report
                    .false_negatives
                    .push(mismatch("expected, but not reported".to_string()));
            } else if !check.findings.is_empty() {
                let mut records: Vec<&str> = check
                    .findings
                    .iter()
                    .map(|f| f.record_id.as_str())
                    .collect();
                records.dedup();
                report.false_positives.push(mismatch(format!(
                    "reported on record {}",
                    records.join(", ")
                )));
            } else if fixture.kind == FixtureKind::Pass && check.evaluated > 0 {
                report.passing += 1;
            }
        }
    }
    reports
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::PackSource;
    use serde_json::json;
    use std::sync::Arc;

    const PACK: &str = "pack:\n  id: demo\n  title: Demo\n  version: 1.0.0\n  layer: cms\nrules:\n  - code: DEMO-001\n    name: chronic-conditions-missing\n    severity: error\n    citation: test\n    description: test\n    message: fewer than two chronic conditions\n    help: record them\n    evidence:\n      count:\n        select: $.diagnoses[*]\n        where: { field: chronic, equals: true }\n        at_least: 2\n";

    fn record(chronic: usize) -> Record {
        let diagnoses: Vec<_> = (0..chronic)
            .map(|i| json!({"code": format!("E{i}"), "chronic": true}))
            .collect();
        Record {
            id: format!("ENC-{chronic}"),
            value: json!({
                "record_type": "claimlint.encounter/v1",
                "patient": {"id": "P"},
                "encounter": {"id": format!("ENC-{chronic}"), "date_of_service": "2026-03-03"},
                "diagnoses": diagnoses
            }),
            format: crate::record::SourceFormat::Canonical,
            origin: crate::record::Origin::new(Arc::from("f.json"), None, ""),
            provenance: Vec::new(),
        }
    }

    fn fixture(name: &str, kind: FixtureKind, expected: &[&str], chronic: usize) -> Fixture {
        Fixture {
            name: name.to_string(),
            kind,
            expected: expected.iter().map(|c| c.to_string()).collect(),
            records: vec![record(chronic)],
        }
    }

    fn report(fixtures: &[Fixture]) -> RuleReport {
        let rules = RuleSet::compile(&[PackSource::new("demo.yaml", PACK)]).expect("compiles");
        run_fixtures(&rules, &rules.packs[0], fixtures).remove(0)
    }

    #[test]
    fn covered_rule_is_ok() {
        let report = report(&[
            fixture("pass/two.json", FixtureKind::Pass, &[], 2),
            fixture("fail/one.json", FixtureKind::Fail, &["DEMO-001"], 1),
        ]);
        assert_eq!(report.failing, 1);
        assert_eq!(report.passing, 1);
        assert!(report.is_ok());
    }

    #[test]
    fn finding_on_pass_fixture_is_false_positive() {
        let report = report(&[fixture("pass/one.json", FixtureKind::Pass, &[], 1)]);
        assert_eq!(
            report.false_positives,
            [Mismatch {
                fixture: "pass/one.json".to_string(),
                detail: "reported on record ENC-1".to_string()
            }]
        );
        assert_eq!(report.passing, 0);
        assert!(!report.is_ok());
    }

    #[test]
    fn silent_expected_rule_is_false_negative() {
        let report = report(&[fixture(
            "fail/two.json",
            FixtureKind::Fail,
            &["DEMO-001"],
            2,
        )]);
        assert_eq!(report.false_negatives.len(), 1);
        assert_eq!(
            report.false_negatives[0].detail,
            "expected, but not reported"
        );
    }

    #[test]
    fn rule_without_failing_fixture_is_not_ok() {
        let report = report(&[fixture("pass/two.json", FixtureKind::Pass, &[], 2)]);
        assert_eq!(report.failing, 0);
        assert!(report.false_positives.is_empty());
        assert!(!report.is_ok());
    }
}
