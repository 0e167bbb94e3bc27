//! `claimlint check` on FHIR R4 input: the CCM example Bundle, mapping
//! warnings, other FHIR versions and `--fhir-mapping`.

use assert_cmd::Command;

const BUNDLE: &str = "examples/fhir/ccm-bundle.json";

fn run(args: &[&str]) -> (i32, String) {
    let output = Command::cargo_bin("claimlint")
        .expect("binary built")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("COLUMNS")
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .expect("claimlint runs");
    let stdout = String::from_utf8(output.stdout).expect("UTF-8 output");
    (output.status.code().unwrap_or(-1), stdout)
}

fn write_temp(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("temp file written");
    path.display().to_string()
}

fn bundle_text() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/fhir/ccm-bundle.json");
    std::fs::read_to_string(path).expect("example Bundle")
}

#[test]
fn ccm_bundle_is_compliant() {
    let (code, stdout) = run(&["check", BUNDLE]);
    assert_eq!(code, 0, "{stdout}");
    assert_eq!(
        stdout,
        "claimlint: 1 file checked, 1 record (0 not applicable); 0 errors, 0 warnings, 0 info\n"
    );
}

#[test]
fn mapping_warning_is_shown_without_failing() {
    let dir = tempfile::tempdir().unwrap();
    // A 12-digit NPI cannot be the rendering NPI; the record is still valid.
    let text = bundle_text().replace("\"1811223344\"", "\"181122334455\"");
    let path = write_temp(&dir, "bundle.json", &text);
    let (code, stdout) = run(&["check", &path]);
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.contains("claimlint::input::fhir-mapping"),
        "{stdout}"
    );
    assert!(
        stdout.contains("the value for /encounter/rendering_npi from"),
        "{stdout}"
    );
    assert!(!stdout.contains("181122334455"), "{stdout}");
    assert!(
        stdout.ends_with(
            "0 errors, 0 warnings, 0 info; 1 mapping warning (FHIR data left out of records)\n"
        ),
        "{stdout}"
    );
}

#[test]
fn stu3_resource_is_an_input_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_temp(
        &dir,
        "eob.json",
        r#"{"resourceType": "ExplanationOfBenefit", "id": "EB3500", "organization": {"reference": "Organization/2"},
            "outcome": {"coding": [{"code": "complete"}]}}"#,
    );
    let (code, stdout) = run(&["check", &path]);
    assert_eq!(code, 2, "{stdout}");
    assert!(
        stdout.contains("claimlint::input::fhir-version"),
        "{stdout}"
    );
    assert!(
        stdout.contains("ExplanationOfBenefit/EB3500 is FHIR STU3 (3.0), not R4"),
        "{stdout}"
    );
    assert!(
        stdout.contains("claimlint reads FHIR R4 (4.0) only"),
        "{stdout}"
    );
}

#[test]
fn custom_mapping_changes_what_counts() {
    let dir = tempfile::tempdir().unwrap();
    let mapping = write_temp(&dir, "mapping.yaml", "events: []\n");
    let (code, stdout) = run(&["check", "--fhir-mapping", &mapping, BUNDLE]);
    assert_eq!(code, 1, "{stdout}");
    for rule in ["CCM32-001", "CCM32-003", "CCM32-004"] {
        assert!(stdout.contains(rule), "{rule} missing from {stdout}");
    }
    assert!(!stdout.contains("CCM32-002"), "{stdout}");
}

#[test]
fn invalid_mapping_is_rejected_with_location() {
    let dir = tempfile::tempdir().unwrap();
    let mapping = write_temp(&dir, "mapping.yaml", "code_systems:\n  cpts: [urn:x:y]\n");
    let (code, stdout) = run(&["check", "--fhir-mapping", &mapping, BUNDLE]);
    assert_eq!(code, 2, "{stdout}");
    assert!(
        stdout.contains("unknown key `cpts` in `code_systems`"),
        "{stdout}"
    );
    assert!(stdout.contains("mapping.yaml:2:3"), "{stdout}");
    assert!(stdout.contains("did you mean `cpt`?"), "{stdout}");
    assert!(
        stdout.ends_with("claimlint: the FHIR mapping has 1 error(s); nothing was checked\n"),
        "{stdout}"
    );
}

/// The CCM example Bundle, billed by the example practice to the example
/// payer, with an ExplanationOfBenefit that denies the line as CO-16 N706.
fn denied_bundle() -> String {
    let mut bundle: serde_json::Value = serde_json::from_str(&bundle_text()).expect("JSON");
    let entries = bundle["entry"].as_array_mut().expect("entries");
    let mut claim_url = String::new();
    for entry in entries.iter_mut() {
        let resource = &mut entry["resource"];
        match (resource["resourceType"].as_str(), resource["name"].as_str()) {
            (Some("Organization"), Some("Acme Medicare Advantage")) => {
                resource["identifier"][0]["value"] = "60054".into()
            }
            (Some("Organization"), Some("Riverside Family Medicine")) => {
                resource["identifier"][0]["value"] = "1497758544".into()
            }
            (Some("Claim"), _) => {
                claim_url = entry["fullUrl"].as_str().expect("fullUrl").to_string()
            }
            _ => {}
        }
    }
    entries.push(serde_json::json!({"fullUrl": "urn:uuid:0e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a16", "resource": {
        "resourceType": "ExplanationOfBenefit", "id": "eob-denied", "status": "active", "use": "claim", "outcome": "complete",
        "created": "2024-04-20", "identifier": [{"system": "https://payer.example.org/icn", "value": "ICN-2024-0420-77"}],
        "claim": {"reference": claim_url},
        "item": [{"sequence": 1, "adjudication": [
            {"category": {"coding": [{"system": "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBAdjudicationDiscriminator", "code": "adjustmentreason"}]},
             "reason": {"coding": [{"system": "https://x12.org/codes/claim-adjustment-reason-codes", "code": "CO-16"},
                                   {"system": "https://x12.org/codes/remittance-advice-remark-codes", "code": "N706"}]}},
            {"category": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/adjudication", "code": "benefit"}]},
             "amount": {"value": 0, "currency": "USD"}}]}],
        "payment": {"amount": {"value": 0, "currency": "USD"}}}}));
    serde_json::to_string_pretty(&bundle).expect("serializes")
}

#[test]
fn denied_fhir_claim_gets_an_appeal_letter() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = write_temp(&dir, "denied.json", &denied_bundle());
    let out = dir.path().join("appeals").display().to_string();
    let (code, stdout) = run(&[
        "appeal",
        &bundle,
        "--practice",
        "examples/profiles/practice.yaml",
        "--payers",
        "examples/profiles/payers.yaml",
        "--out",
        &out,
        "--today",
        "2024-05-01",
    ]);
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.contains(
            "claim RFM-2024-03-0412 (record c1e3a5b7-9d1f-4b3d-a5e7-9b1d3f5a7c07): letter ready"
        ),
        "{stdout}"
    );

    let letter = std::fs::read_to_string(dir.path().join("appeals/RFM-2024-03-0412.md"))
        .expect("letter written");
    assert!(
        letter
            .contains("Denial code: CCM32 – Patient portal utilization not promoted (CO-16, N706)"),
        "{letter}"
    );
    assert!(
        letter.contains("Payer claim number: ICN-2024-0420-77"),
        "{letter}"
    );
    for cited in [
        "AuditEvent/f1a3c5e7-b9d1-4f3a-8c5e-7b9d1f3a5c15",
        "DocumentReference/b7d9f1a3-c5e7-4b9d-8f1a-3c5e7b9d1f13",
        "Communication/a3c5e7b9-d1f3-4a5c-9e7b-d1f3a5c7e914",
    ] {
        assert!(letter.contains(cited), "{cited} not cited in {letter}");
    }
}

#[test]
fn appeal_rejects_an_invalid_mapping() {
    let dir = tempfile::tempdir().unwrap();
    let mapping = write_temp(
        &dir,
        "mapping.yaml",
        "events: [{type: portal.ofered, codes: []}]\n",
    );
    let out = dir.path().join("appeals").display().to_string();
    let (code, stdout) = run(&[
        "appeal",
        BUNDLE,
        "--practice",
        "examples/profiles/practice.yaml",
        "--payers",
        "examples/profiles/payers.yaml",
        "--fhir-mapping",
        &mapping,
        "--out",
        &out,
    ]);
    assert_eq!(code, 2, "{stdout}");
    assert!(
        stdout.contains("unknown portal event type `portal.ofered`"),
        "{stdout}"
    );
    assert!(
        stdout.ends_with("claimlint: the FHIR mapping has 1 error(s); no appeal was assessed\n"),
        "{stdout}"
    );
}
