use serde_json::json;

use super::*;
use crate::appeal::manifest::{Manifest, ManifestEntry, MANIFEST_SCHEMA_TEXT};

fn validator() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(MANIFEST_SCHEMA_TEXT).expect("schema is JSON");
    jsonschema::draft202012::new(&schema).expect("schema compiles")
}

fn entry(value: &Value, today: Date, error: Option<&str>) -> ManifestEntry {
    let rules = rules();
    let record = record_from(value);
    let case = assess_with(&rules, &record, today, false).expect("considered");
    let letters = match &case.outcome {
        CaseOutcome::Appeal(_) => vec!["CLM.md".to_string()],
        _ => Vec::new(),
    };
    ManifestEntry::new(
        &case,
        &record.id,
        "record.json",
        letters,
        error.map(str::to_string),
    )
}

#[test]
fn manifest_of_every_outcome_matches_its_schema() {
    let mut manifest = Manifest::new(TODAY.to_string());
    manifest.claims.push(entry(&parse(FULL), TODAY, None));
    manifest.claims.push(entry(&parse(MISSING), TODAY, None));
    let mut unprocessable = parse(FULL);
    unprocessable["claim"]["denial"]["rarcs"] = json!(["MA130"]);
    manifest.claims.push(entry(&unprocessable, TODAY, None));
    manifest
        .claims
        .push(entry(&parse(FULL), date(2027, 1, 1), None));
    manifest.claims.push(entry(
        &parse(FULL),
        TODAY,
        Some("appeals/CLM.md already exists"),
    ));

    let value: Value = serde_json::from_str(&manifest.to_json()).expect("manifest is JSON");
    let errors: Vec<String> = validator()
        .iter_errors(&value)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}\n{}", manifest.to_json());

    let statuses: Vec<&str> = value["claims"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        [
            "appealed",
            "not-appealed",
            "not-appealed",
            "not-appealed",
            "error"
        ]
    );
    assert_eq!(
        value["claims"][0]["evidence"],
        json!(["/portal", "AUD-90211", "NOTE-5521", "AUD-90214"])
    );
    assert_eq!(value["claims"][0]["deadline"]["due"], "2026-09-29");
    assert_eq!(
        value["claims"][1]["action"],
        "correct-record-or-do-not-appeal"
    );
    assert_eq!(
        value["claims"][1]["missing"][0]["rule"]["code"],
        "CCM32-003"
    );
    assert_eq!(value["claims"][1]["missing"][0]["any_of"], true);
    assert_eq!(value["claims"][2]["reason"]["kind"], "unprocessable");
    assert_eq!(value["claims"][2]["action"], "correct-and-resubmit");
    assert_eq!(value["claims"][3]["reason"]["kind"], "late");
}

#[test]
fn manifest_holds_no_patient_data() {
    let mut manifest = Manifest::new(TODAY.to_string());
    manifest.claims.push(entry(&parse(FULL), TODAY, None));
    manifest.claims.push(entry(&parse(MISSING), TODAY, None));
    let text = manifest.to_json();
    for value in [
        "Maria",
        "Alvarez",
        "Grace",
        "Lindqvist",
        "1EG4TE5MK72",
        "3KD9PL2WQ55",
        "example.org",
        "1951-07-14",
    ] {
        assert!(!text.contains(value), "the manifest contains {value}");
    }
}

#[test]
fn schema_rejects_a_malformed_manifest() {
    let bad = json!({
        "format": "claimlint.appeal-manifest/v1",
        "generated_on": "2026-04-20",
        "claims": [{"claim_id": "C", "record_id": "E", "source": "s", "denial": "CCM32", "status": "appealed", "letters": []}]
    });
    assert!(!validator().is_valid(&bad));
}
