//! The `claimlint remit` command, run as a user would.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

struct Run {
    code: i32,
    stdout: String,
}

/// Runs `claimlint remit ARGS` from the repository root.
fn remit(args: &[&str]) -> Run {
    let output = Command::cargo_bin("claimlint")
        .expect("binary is built")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .arg("remit")
        .args(args)
        .output()
        .expect("runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
    }
}

/// Parses JSON output and validates it against the shipped schema.
fn validated_json(stdout: &str) -> Value {
    let value: Value = serde_json::from_str(stdout).expect("output is JSON");
    let schema_text =
        std::fs::read_to_string(repo("schemas/remit-denials.schema.json")).expect("schema exists");
    let schema: Value = serde_json::from_str(&schema_text).expect("schema is JSON");
    let validator = jsonschema::draft202012::new(&schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&value)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    value
}

#[test]
fn text_lists_each_denial_and_its_label() {
    let run = remit(&["tests/data/x12/acme-ccm-denials.835"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    let expected = "\
tests/data/x12/acme-ccm-denials.835:17: claim CLM-2026-0001, payer claim 26041000101, payer Acme Health Plan (12345), status 4: CO-16 62.00 (line 1, 99490); RARCs N706 -> CCM32 (ccm32@1.0.0)
tests/data/x12/acme-ccm-denials.835:26: claim CLM-2026-0002, payer claim 26041000102, payer Acme Health Plan (12345), status 4: CO-16 62.00; RARCs MA130 -> unprocessable: correct and resubmit (CARC 16 with remark MA130: the claim is unprocessable)
tests/data/x12/acme-ccm-denials.835:35: claim CLM-2026-0003, payer claim 26041000103, payer Acme Health Plan (12345), status 2: CO-252 62.00 (line 1, 99490); RARCs N710 -> no pack covers it
claimlint: 3 denied claims in 1 file: 1 covered by a rule pack, 1 unprocessable, 1 that no pack covers
";
    assert_eq!(run.stdout, expected);
}

#[test]
fn output_never_shows_patient_names() {
    for format in ["text", "json"] {
        let run = remit(&[
            "--format",
            format,
            "tests/data/x12/acme-ccm-denials.835",
            "tests/data/x12/names-containing-isa.835",
        ]);
        for phi in [
            "DOE",
            "JANE",
            "ROE",
            "RICHARD",
            "ISAACS",
            "1EG4TE5MK73",
            "CLM-2026-0001-1",
        ] {
            assert!(
                !run.stdout.contains(phi),
                "{format}: {phi} in {}",
                run.stdout
            );
        }
    }
}

#[test]
fn json_matches_the_schema() {
    let run = remit(&[
        "--format",
        "json",
        "tests/data/x12/acme-ccm-denials.835",
        "tests/data/x12/oopfactory-835-5010-example1.835",
    ]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    let value = validated_json(&run.stdout);
    let denials = value["denials"].as_array().expect("denials");
    assert_eq!(denials.len(), 7);
    assert_eq!(denials[0]["outcome"]["label"], "CCM32");
    assert_eq!(denials[1]["outcome"]["kind"], "unprocessable");
    assert_eq!(denials[1]["outcome"]["action"], "correct and resubmit");
    assert_eq!(denials[2]["outcome"]["kind"], "uncovered");
    assert_eq!(denials[0]["remittance"]["trace_number"], "0012026021001");
    let warnings = value["problems"].as_array().expect("problems");
    assert!(
        warnings.iter().all(|p| p["severity"] == "warning"),
        "{warnings:?}"
    );
}

#[test]
fn example_remittance_lists_four_denials() {
    let run = remit(&[
        "--format",
        "json",
        "examples/remittance/acme-2026-04-02.835",
    ]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    let value = validated_json(&run.stdout);
    let summary: Vec<(String, String)> = value["denials"]
        .as_array()
        .expect("denials")
        .iter()
        .map(|d| {
            (
                d["claim_id"].as_str().unwrap_or("").to_string(),
                d["outcome"]["kind"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let expected = [
        ("CLM-2026-0307", "covered"),
        ("CLM-2026-0308", "covered"),
        ("CLM-2026-0399", "covered"),
        ("CLM-2026-0306", "unprocessable"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(summary, expected);
    assert_eq!(value["denials"][0]["payer"]["id"], "60054");
    assert_eq!(value["denials"][0]["notice_date"], "2026-04-02");
}

#[test]
fn broken_interchange_is_located_and_the_next_one_loads() {
    let run = remit(&["tests/data/x12/two-interchanges-first-broken.835"]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.stdout
            .contains("two-interchanges-first-broken.835:1:1: truncated ISA header: 75 of 106"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("two-interchanges-first-broken.835:42: claim CLM-2026-0001"),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains("CLM-2026-0004"),
        "the broken interchange's claim is skipped: {}",
        run.stdout
    );
    assert!(run.stdout.ends_with("; 1 input error\n"), "{}", run.stdout);

    let run = remit(&[
        "--format",
        "json",
        "tests/data/x12/two-interchanges-first-broken.835",
    ]);
    assert_eq!(run.code, 2);
    let value = validated_json(&run.stdout);
    assert_eq!(value["problems"][0]["severity"], "error");
    assert_eq!(value["problems"][0]["line"], 1);
    assert_eq!(value["denials"].as_array().map(Vec::len), Some(1));
}

#[test]
fn file_that_is_no_835_is_an_input_error() {
    let run = remit(&[
        "tests/data/x12/no-isa.csv",
        "tests/data/x12/acme-ccm-denials.835",
    ]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.stdout.contains("no-isa.csv:1:1: missing ISA header"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("3 denied claims in 2 files"),
        "{}",
        run.stdout
    );

    let run = remit(&["tests/data/x12/does-not-exist.835"]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.stdout
            .contains("does-not-exist.835: cannot read: no such file or folder"),
        "{}",
        run.stdout
    );
}

#[test]
fn fhir_eob_denial_is_listed_through_the_mapper() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bundle = dir.path().join("eob.json");
    std::fs::write(&bundle, fhir_denied_bundle()).expect("write");
    let run = remit(&["--format", "json", bundle.to_str().expect("utf-8 path")]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    let value = validated_json(&run.stdout);
    let denial = &value["denials"][0];
    assert_eq!(denial["claim_id"], "RFM-2024-03-0412");
    assert_eq!(denial["payer_claim_number"], "ICN-2024-0420-77");
    assert_eq!(denial["adjustments"][0]["carc"], "16");
    assert_eq!(denial["adjustments"][0]["group"], "CO");
    assert_eq!(denial["rarcs"][0], "N706");
    assert_eq!(denial["outcome"]["label"], "CCM32");
    assert!(denial.get("position").is_none());
}

/// The example CCM Bundle billed to payer 60054, with an
/// ExplanationOfBenefit that denies its line as CO-16 with N706.
fn fhir_denied_bundle() -> String {
    let text =
        std::fs::read_to_string(repo("examples/fhir/ccm-bundle.json")).expect("example bundle");
    let mut bundle: Value = serde_json::from_str(&text).expect("JSON");
    let entries = bundle["entry"].as_array_mut().expect("entries");
    let mut claim_url = String::new();
    for entry in entries.iter_mut() {
        let resource = &mut entry["resource"];
        match resource["resourceType"].as_str() {
            Some("Organization") if resource["name"] == "Acme Medicare Advantage" => {
                resource["identifier"][0]["value"] = "60054".into();
            }
            Some("Claim") => claim_url = entry["fullUrl"].as_str().expect("fullUrl").to_string(),
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
