//! `claimlint appeal --remittance`: appeals of the denials in 835 files.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

const TODAY: &str = "2026-04-20";
const EXAMPLE_835: &str = "examples/remittance/acme-2026-04-02.835";

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

struct Run {
    code: i32,
    stdout: String,
}

/// Runs `claimlint appeal` with the example profiles, writing to `out`.
fn appeal(out: &Path, args: &[&str]) -> Run {
    let output = Command::cargo_bin("claimlint")
        .expect("binary is built")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .args([
            "appeal",
            "--today",
            TODAY,
            "--practice",
            "examples/profiles/practice.yaml",
        ])
        .args(["--payers", "examples/profiles/payers.yaml", "--out"])
        .arg(out)
        .args(args)
        .output()
        .expect("runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
    }
}

/// Reads the manifest and validates it against the shipped schema.
fn manifest(out: &Path) -> Value {
    let text = std::fs::read_to_string(out.join("manifest.json")).expect("manifest written");
    let value: Value = serde_json::from_str(&text).expect("manifest is JSON");
    let schema_text =
        std::fs::read_to_string(repo("schemas/appeal-manifest.schema.json")).expect("schema");
    let schema: Value = serde_json::from_str(&schema_text).expect("schema is JSON");
    let validator = jsonschema::draft202012::new(&schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&value)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    value
}

/// (claim id, status, action) of each manifest entry.
fn statuses(manifest: &Value) -> Vec<(String, String, String)> {
    let text = |entry: &Value, key: &str| entry[key].as_str().unwrap_or("").to_string();
    manifest["claims"]
        .as_array()
        .expect("claims")
        .iter()
        .map(|entry| {
            (
                text(entry, "claim_id"),
                text(entry, "status"),
                text(entry, "action"),
            )
        })
        .collect()
}

fn owned(rows: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
    rows.iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect()
}

#[test]
fn example_remittance_gives_all_four_outcomes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("appeals");
    let run = appeal(&out, &["--remittance", EXAMPLE_835, "examples/records"]);
    assert_eq!(run.code, 1, "a refusal exits 1: {}", run.stdout);

    assert!(
        run.stdout
            .contains("claim CLM-2026-0307 (record ENC-2026-0307): letter ready"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("claim CLM-2026-0308 (record ENC-2026-0308): not appealed (no evidence for"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(
            "claim CLM-2026-0306 (record ENC-2026-0306): not appealed (returned as unprocessable)"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("claim CLM-2026-0399 (examples/remittance/acme-2026-04-02.835:27): denial CCM32 (ccm32@1.0.0): no encounter record found for claim CLM-2026-0399; export it and run again"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(
            "1 remittance denial without a record, 5 records that no remittance denial names"
        ),
        "{}",
        run.stdout
    );

    let manifest = manifest(&out);
    let expected = owned(&[
        ("CLM-2026-0306", "not-appealed", "correct-and-resubmit"),
        ("CLM-2026-0307", "appealed", ""),
        (
            "CLM-2026-0308",
            "not-appealed",
            "correct-record-or-do-not-appeal",
        ),
        ("CLM-2026-0399", "unmatched", "export-record-and-run-again"),
    ]);
    assert_eq!(statuses(&manifest), expected);
    let unmatched = &manifest["claims"][3];
    assert_eq!(
        unmatched["recommendation"],
        "no encounter record found for claim CLM-2026-0399; export it and run again"
    );
    assert_eq!(unmatched["remittance"]["trace_number"], "EFT-2026040201");
    assert!(unmatched.get("record_id").is_none());
}

#[test]
fn letter_cites_the_remittance() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("appeals");
    appeal(
        &out,
        &[
            "--remittance",
            EXAMPLE_835,
            "examples/records/denied-ccm32-full-evidence.json",
        ],
    );
    let letter = std::fs::read_to_string(out.join("CLM-2026-0307.md")).expect("letter written");
    assert!(
        letter.contains("Remittance advice (X12 835) acme-2026-04-02.835, check/EFT trace number EFT-2026040201, dated April 2, 2026, payer claim number AHP-26091-44817, showing CO-16, N706"),
        "{letter}"
    );
    let manifest = manifest(&out);
    assert_eq!(
        manifest["claims"][0]["deadline"]["notice_date"],
        "2026-04-02"
    );
}

#[test]
fn remittance_denial_overrides_the_record() {
    // The record says CCM32 with notice 2026-04-02; the remittance, dated
    // later and with another payer claim number, is what the letter answers.
    let dir = tempfile::tempdir().expect("temp dir");
    let remittance = dir.path().join("later.835");
    let text = std::fs::read_to_string(repo(EXAMPLE_835)).expect("example 835");
    std::fs::write(
        &remittance,
        text.replace("20260402", "20260410")
            .replace("AHP-26091-44817", "AHP-LATER-1"),
    )
    .expect("write");
    let out = dir.path().join("appeals");
    let run = appeal(
        &out,
        &[
            "--remittance",
            remittance.to_str().expect("utf-8"),
            "examples/records/denied-ccm32-full-evidence.json",
        ],
    );
    assert_eq!(run.code, 1, "{}", run.stdout);

    let letter = std::fs::read_to_string(out.join("CLM-2026-0307.md")).expect("letter written");
    assert!(
        letter.contains("payer claim number AHP-LATER-1"),
        "{letter}"
    );
    assert!(letter.contains("dated April 10, 2026"), "{letter}");
    let manifest = manifest(&out);
    assert_eq!(
        manifest["claims"][0]["deadline"]["notice_date"],
        "2026-04-10"
    );
}

#[test]
fn record_with_two_denials_is_assessed_twice() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("appeals");
    let second = dir.path().join("second.835");
    std::fs::copy(repo(EXAMPLE_835), &second).expect("copy");
    let run = appeal(
        &out,
        &[
            "--remittance",
            EXAMPLE_835,
            "--remittance",
            second.to_str().expect("utf-8"),
            "examples/records/denied-ccm32-full-evidence.json",
        ],
    );
    assert!(
        run.stdout.contains(
            "claim CLM-2026-0307 (record ENC-2026-0307): 2 denials in the remittance files"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("each is assessed on its own"),
        "{}",
        run.stdout
    );
    assert!(out.join("CLM-2026-0307.md").exists());
    assert!(out.join("CLM-2026-0307-2.md").exists());

    let manifest = manifest(&out);
    let appealed = manifest["claims"]
        .as_array()
        .expect("claims")
        .iter()
        .filter(|entry| entry["claim_id"] == "CLM-2026-0307" && entry["status"] == "appealed")
        .count();
    assert_eq!(appealed, 2);
}

#[test]
fn payer_specific_mapping_follows_the_payer() {
    // A pack that maps CO-16 with N706 to CCM32 for payer 60054 only.
    let dir = tempfile::tempdir().expect("temp dir");
    let pack = std::fs::read_to_string(repo("rules/ccm32.yaml")).expect("pack");
    let specific = pack.replacen(
        "          rarcs: [N706]\n",
        "          rarcs: [N706]\n          payer_ids: [\"60054\"]\n",
        1,
    );
    assert_ne!(specific, pack, "the pack's first match was rewritten");
    std::fs::write(dir.path().join("ccm32.yaml"), specific).expect("write pack");
    std::fs::copy(
        repo("rules/ccm32.appeal.md.j2"),
        dir.path().join("ccm32.appeal.md.j2"),
    )
    .expect("copy template");
    let rules = dir.path().join("ccm32.yaml");
    let rules = rules.to_str().expect("utf-8");

    let other_payer = dir.path().join("other-payer.835");
    let text = std::fs::read_to_string(repo(EXAMPLE_835)).expect("example 835");
    std::fs::write(&other_payer, text.replace("REF*2U*60054", "REF*2U*77777")).expect("write");

    let listing = |file: &str| {
        let output = Command::cargo_bin("claimlint")
            .expect("binary is built")
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(["remit", "--format", "json", "--rules", rules, file])
            .output()
            .expect("runs");
        let value: Value = serde_json::from_slice(&output.stdout).expect("JSON");
        value["denials"][0]["outcome"]["kind"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    assert_eq!(listing(EXAMPLE_835), "covered");
    assert_eq!(listing(other_payer.to_str().expect("utf-8")), "uncovered");
}

#[test]
fn malformed_remittance_is_an_input_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("appeals");
    let run = appeal(
        &out,
        &[
            "--remittance",
            "tests/data/x12/two-interchanges-first-broken.835",
            "examples/records/denied-ccm32-full-evidence.json",
        ],
    );
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.stdout
            .contains("two-interchanges-first-broken.835:1:1: truncated ISA header"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("1 input error"), "{}", run.stdout);
}
