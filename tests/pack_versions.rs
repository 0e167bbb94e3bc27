//! Several versions of one pack: the version applied to an encounter is the
//! one whose effective dates cover its date of service, and findings name
//! that version.

use std::path::Path;
use std::sync::Arc;

use claimlint::eval::{evaluate, NotApplicable};
use claimlint::record::{Origin, Record, SourceFormat};
use claimlint::rules::{PackSource, RuleSet};
use serde_json::json;

fn source(name: &str) -> PackSource {
    let path = format!("tests/data/pack-versions/{name}");
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(&path))
        .expect("read pack");
    PackSource::new(path, text)
}

fn both_versions() -> RuleSet {
    match RuleSet::compile(&[source("demo-2025.yaml"), source("demo-2026.yaml")]) {
        Ok(set) => set,
        Err(errors) => panic!("versions do not compile: {:?}", errors[0].problems),
    }
}

/// An encounter with one chronic condition and no care plan.
fn record(date_of_service: &str) -> Record {
    Record {
        id: format!("ENC-{date_of_service}"),
        value: json!({
            "record_type": "claimlint.encounter/v1",
            "patient": {"id": "P"},
            "encounter": {"id": "E", "date_of_service": date_of_service},
            "diagnoses": [{"code": "E11.9", "chronic": true}]
        }),
        format: SourceFormat::Canonical,
        origin: Origin::new(Arc::from("r.json"), None, ""),
        provenance: Vec::new(),
    }
}

#[test]
fn date_of_service_selects_the_version() {
    let rules = both_versions();

    let results = evaluate(&rules, &record("2025-06-30"));
    let applied: Vec<&str> = results
        .iter()
        .filter(|r| r.not_applicable.is_none())
        .map(|r| r.version.as_str())
        .collect();
    assert_eq!(applied, ["1.0.0"]);
    let findings: Vec<_> = results.iter().flat_map(|r| &r.findings).collect();
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].code, "DEMO-001");
    assert_eq!(findings[0].pack_version, "1.0.0");
    assert_eq!(
        findings[0].message,
        "fewer than two chronic conditions on 2025-06-30 under the 2025 rules"
    );

    let results = evaluate(&rules, &record("2026-03-03"));
    let findings: Vec<_> = results.iter().flat_map(|r| &r.findings).collect();
    let codes: Vec<(&str, &str)> = findings
        .iter()
        .map(|f| (f.code.as_str(), f.pack_version.as_str()))
        .collect();
    assert_eq!(codes, [("DEMO-001", "2.0.0"), ("DEMO-002", "2.0.0")]);
    assert_eq!(
        findings[0].message,
        "fewer than two chronic conditions on 2026-03-03 under the 2026 rules"
    );
}

#[test]
fn date_before_every_version_is_not_applicable() {
    let rules = both_versions();
    let results = evaluate(&rules, &record("2024-12-31"));
    assert_eq!(results.len(), 2);
    for result in &results {
        assert_eq!(
            result.not_applicable,
            Some(NotApplicable::OutsideEffectiveDates)
        );
    }
}

#[test]
fn overlapping_versions_are_rejected() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/pack-versions/demo-2026.yaml"),
    )
    .expect("read pack")
    .replace("version: 2.0.0", "version: 1.1.0")
    .replace("from: \"2026-01-01\"", "from: \"2025-07-01\"");
    let errors = RuleSet::compile(&[
        source("demo-2025.yaml"),
        PackSource::new("demo-late-2025.yaml", text),
    ])
    .expect_err("overlap rejected");
    assert_eq!(errors.len(), 1);
    let problem = &errors[0].problems[0];
    assert_eq!(
        problem.message,
        "pack `demo` versions 1.1.0 and 1.0.0 (from tests/data/pack-versions/demo-2025.yaml) both apply to dates of service from 2025-07-01 to 2025-12-31"
    );
    assert_eq!(errors[0].path, Path::new("demo-late-2025.yaml"));
    assert_eq!(errors[0].locations()[0].0, 6, "located at the version line");
}

#[test]
fn same_version_twice_is_rejected() {
    let errors = RuleSet::compile(&[source("demo-2025.yaml"), source("demo-2025.yaml")])
        .expect_err("rejected");
    let messages: Vec<&str> = errors
        .iter()
        .flat_map(|e| &e.problems)
        .map(|p| p.message.as_str())
        .collect();
    assert_eq!(
        messages,
        ["pack `demo` version 1.0.0 is loaded twice (also from tests/data/pack-versions/demo-2025.yaml)"]
    );
}

#[test]
fn rule_code_in_another_pack_is_still_a_duplicate() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/pack-versions/demo-2025.yaml"),
    )
    .expect("read pack")
    .replace("id: demo", "id: other");
    let errors = RuleSet::compile(&[
        source("demo-2026.yaml"),
        PackSource::new("other.yaml", text),
    ])
    .expect_err("rejected");
    assert!(errors[0].problems[0]
        .message
        .starts_with("duplicate rule code `DEMO-001`"));
}

#[test]
fn versions_of_one_pack_share_denial_labels() {
    let pack = |version: &str, effective: &str| {
        format!(
            "pack:\n  id: demo\n  title: Demo\n  version: {version}\n  layer: payer\n  effective: {effective}\n  denials:\n    - label: DEMO1\n      description: Demo denial\nrules:\n  - code: DEMO-001\n    name: encounter-id-missing\n    severity: error\n    citation: demo\n    description: demo\n    message: missing\n    help: add it\n    evidence:\n      field: encounter.id\n      present: true\n"
        )
    };
    let set = claimlint::rules::RuleSet::compile(&[
        claimlint::rules::PackSource::new(
            "demo-1.yaml",
            pack("1.0.0", "{ until: \"2025-12-31\" }"),
        ),
        claimlint::rules::PackSource::new("demo-2.yaml", pack("2.0.0", "{ from: \"2026-01-01\" }")),
    ]);
    let set = set.unwrap_or_else(|e| panic!("{:?}", e[0].problems));
    assert_eq!(set.packs.len(), 2);

    let other = claimlint::rules::RuleSet::compile(&[
        claimlint::rules::PackSource::new(
            "demo-1.yaml",
            pack("1.0.0", "{ until: \"2025-12-31\" }"),
        ),
        claimlint::rules::PackSource::new(
            "other.yaml",
            pack("1.0.0", "{ from: \"2026-01-01\" }")
                .replace("id: demo", "id: other")
                .replace("DEMO-001", "OTHER-001"),
        ),
    ]);
    let errors = other.expect_err("two packs answer DEMO1");
    assert!(errors[0].problems[0]
        .message
        .contains("denial `DEMO1` is already answered by demo-1.yaml"));
}
