//! Tests of `claimlint.yaml` and the suppressions file.

use super::*;

fn rules() -> RuleSet {
    RuleSet::shipped().unwrap()
}

fn date(text: &str) -> jiff::civil::Date {
    text.parse().unwrap()
}

#[test]
fn config_reads_every_setting() {
    let text = "packs: [ccm32]\nseverity:\n  CCM32-004: warning\n  CCM32-001: off\npayers:\n  - payer: ACME\n    severity: { CCM32-004: error }\nfhir_mapping: maps/local.yaml\nprofiles:\n  practice: p.yaml\n  payers: payers.yaml\nsuppressions: s.yaml\nfail_on: warning\n";
    let config = Config::parse(Path::new("ci/claimlint.yaml"), text, &rules()).unwrap();
    assert_eq!(config.packs, Some(vec!["ccm32".to_string()]));
    assert_eq!(
        config.rule_level("CCM32-004", &["OTHER"]),
        Some(RuleLevel::Severity(Severity::Warning))
    );
    assert_eq!(
        config.rule_level("CCM32-004", &["ACME"]),
        Some(RuleLevel::Severity(Severity::Error))
    );
    assert_eq!(config.rule_level("CCM32-001", &[]), Some(RuleLevel::Off));
    assert_eq!(config.rule_level("CCM32-002", &[]), None);
    assert_eq!(
        config.fhir_mapping,
        Some(PathBuf::from("ci/maps/local.yaml"))
    );
    assert_eq!(config.practice_profile, Some(PathBuf::from("ci/p.yaml")));
    assert_eq!(config.payer_profiles, Some(PathBuf::from("ci/payers.yaml")));
    assert_eq!(config.suppressions, Some(PathBuf::from("ci/s.yaml")));
    assert_eq!(config.fail_on, Some(Severity::Warning));
}

#[test]
fn config_rejects_unknown_keys_and_codes_with_locations() {
    let text = "packs: [ccm23]\nseverty: {}\nseverity:\n  CCM32-04: warning\n  CCM32-002: loud\n";
    let error = Config::parse(Path::new("claimlint.yaml"), text, &rules()).unwrap_err();
    let messages: Vec<(String, Option<String>, usize)> = error
        .problems
        .iter()
        .map(|p| {
            (
                p.message.clone(),
                p.help.clone(),
                crate::yaml::line_col(text, p.span.start).0,
            )
        })
        .collect();
    assert!(
        messages.contains(&(
            "unknown pack id `ccm23`".into(),
            Some("did you mean `ccm32`?".into()),
            1
        )),
        "{messages:?}"
    );
    assert!(
        messages.contains(&(
            "unknown key `severty` in the configuration".into(),
            Some("did you mean `severity`?".into()),
            2
        )),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|(m, h, line)| m == "unknown rule code `CCM32-04`"
                && h.as_deref()
                    .is_some_and(|h| h.starts_with("did you mean `CCM32-00"))
                && *line == 4),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|(m, _, line)| m == "severity `loud` is not a severity" && *line == 5),
        "{messages:?}"
    );
}

#[test]
fn config_matches_its_json_schema() {
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../../schemas/claimlint-config.schema.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let text = include_str!("../../docs/ci/claimlint.yaml");
    let node = crate::yaml::parse(text, ParseLimits::default()).unwrap();
    assert!(validator.is_valid(&node.to_json()));
    Config::parse(Path::new("claimlint.yaml"), text, &rules()).unwrap();
    let bad = crate::yaml::parse(
        "severity: {CCM32-001: loud}\nextra: 1\n",
        ParseLimits::default(),
    )
    .unwrap();
    assert!(!validator.is_valid(&bad.to_json()));
}

#[test]
fn discover_walks_up_to_the_nearest_file() {
    let dir = tempfile::tempdir().unwrap();
    let nested = dir.path().join("a/b");
    std::fs::create_dir_all(&nested).unwrap();
    assert_eq!(discover(&nested), None.or_else(|| discover(dir.path())));
    std::fs::write(dir.path().join("claimlint.yaml"), "{}\n").unwrap();
    assert_eq!(discover(&nested), Some(dir.path().join("claimlint.yaml")));
    std::fs::write(dir.path().join("a/claimlint.yml"), "{}\n").unwrap();
    assert_eq!(discover(&nested), Some(dir.path().join("a/claimlint.yml")));
}

const SUPPRESSIONS: &str = "suppressions:
  - rule: CCM32-001
    record: ENC-1
    reason: offered by phone
    author: jdoe
  - rule: CCM32-002
    claim: CLM-9
    reason: accepted by payer
    expires: 2026-06-30
  - rule: CCM32-003
    record: ENC-1
    reason: old
    expires: 2020-01-01
";

#[test]
fn suppressions_match_records_and_claims() {
    let mut suppressions = Suppressions::parse(
        Path::new("s.yaml"),
        SUPPRESSIONS,
        &rules(),
        date("2026-06-30"),
    )
    .unwrap();
    assert_eq!(
        suppressions
            .find("CCM32-001", "ENC-1", None)
            .map(|e| e.line),
        Some(2)
    );
    assert!(suppressions.find("CCM32-001", "ENC-2", None).is_none());
    assert_eq!(
        suppressions
            .find("CCM32-002", "ENC-5", Some("CLM-9"))
            .map(|e| e.reason.as_str()),
        Some("accepted by payer")
    );
    // Expired entries cover nothing.
    assert!(suppressions.find("CCM32-003", "ENC-1", None).is_none());
    let warnings = suppressions.warnings();
    assert_eq!(warnings.len(), 1);
    assert_eq!(
        warnings[0].problem,
        crate::report::SuppressionProblem::Expired
    );
    assert_eq!(warnings[0].line, 10);
}

#[test]
fn suppressions_expire_after_last_day() {
    let suppressions = Suppressions::parse(
        Path::new("s.yaml"),
        SUPPRESSIONS,
        &rules(),
        date("2026-07-01"),
    )
    .unwrap();
    let problems: Vec<_> = suppressions
        .warnings()
        .iter()
        .map(|w| (w.problem, w.rule.clone()))
        .collect();
    use crate::report::SuppressionProblem::{Expired, Unused};
    assert_eq!(
        problems,
        [
            (Unused, "CCM32-001".to_string()),
            (Expired, "CCM32-002".to_string()),
            (Expired, "CCM32-003".to_string())
        ]
    );
}

#[test]
fn suppressions_need_a_reason_and_a_target() {
    let text = "suppressions:\n  - rule: CCM32-01\n    record: E\n    reason: x\n  - rule: CCM32-001\n    reason: ''\n  - rule: CCM32-001\n    record: E\n    expires: soon\n    reason: x\n  - rule: CCM32-001\n    record: E\n";
    let error =
        Suppressions::parse(Path::new("s.yaml"), text, &rules(), date("2026-01-01")).unwrap_err();
    let messages: Vec<&str> = error.problems.iter().map(|p| p.message.as_str()).collect();
    assert!(
        messages.contains(&"unknown rule code `CCM32-01`"),
        "{messages:?}"
    );
    assert!(
        messages.contains(&"a suppression names no record or claim"),
        "{messages:?}"
    );
    assert!(
        messages.contains(&"the reason of a suppression is empty"),
        "{messages:?}"
    );
    assert!(
        messages.contains(&"expires `soon` is not a date"),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("missing the required key `reason`")),
        "{messages:?}"
    );
}
