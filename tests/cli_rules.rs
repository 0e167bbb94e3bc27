//! The rule authors' commands end to end: `rules`, `validate`, `explain`,
//! `docs` and `test`, with their exit codes and output.

use assert_cmd::Command;
use serde_json::Value;

fn claimlint() -> Command {
    let mut cmd = Command::cargo_bin("claimlint").expect("binary built");
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd.env_remove("COLUMNS").env("NO_COLOR", "1");
    cmd
}

fn run(args: &[&str]) -> (i32, String) {
    let output = claimlint().args(args).output().expect("claimlint runs");
    let stdout = String::from_utf8(output.stdout).expect("UTF-8 output");
    (output.status.code().unwrap_or(-1), stdout)
}

#[test]
fn rules_lists_every_shipped_rule() {
    let (code, stdout) = run(&["rules"]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("ccm32 1.0.0  Patient portal promotion"), "{stdout}");
    assert!(stdout.contains("layer payer; effective from 2024-01-01; 4 rules; rules/ccm32.yaml"), "{stdout}");
    assert!(
        stdout.contains("CCM32-004  portal-invitation-not-to-verified-email  payer  error  record"),
        "{stdout}"
    );
}

#[test]
fn rules_json_lists_codes_layers_and_versions() {
    let (code, stdout) = run(&["rules", "--format", "json"]);
    assert_eq!(code, 0);
    let catalog: Value = serde_json::from_str(&stdout).expect("JSON output");
    let ccm32 = catalog["packs"]
        .as_array()
        .and_then(|packs| packs.iter().find(|p| p["id"] == "ccm32"))
        .expect("ccm32 listed");
    assert_eq!(ccm32["version"], "1.0.0");
    assert_eq!(ccm32["effective_from"], "2024-01-01");
    assert_eq!(ccm32["effective_until"], Value::Null);
    let first = &ccm32["rules"][0];
    assert_eq!(first["code"], "CCM32-001");
    assert_eq!(first["name"], "portal-access-not-offered");
    assert_eq!(first["layer"], "payer");
    assert_eq!(first["severity"], "error");
    assert_eq!(first["scope"], "record");
}

#[test]
fn rules_with_a_broken_pack_exits_two() {
    let (code, stdout) = run(&["rules", "--rules", "tests/data/rules-invalid/invalid-regex.yaml"]);
    assert_eq!(code, 2);
    assert!(stdout.contains("invalid regex: unclosed group"), "{stdout}");
    assert!(stdout.contains("nothing was listed"), "{stdout}");
}

#[test]
fn validate_accepts_a_valid_pack() {
    let (code, stdout) = run(&["validate", "rules/ccm32.yaml"]);
    assert_eq!(code, 0, "{stdout}");
    assert_eq!(stdout, "claimlint: the rule set is valid: 1 pack with 4 rules\n");
}

#[test]
fn validate_reports_every_file_with_locations() {
    let (code, stdout) = run(&[
        "validate",
        "tests/data/rules-invalid/unknown-key.yaml",
        "tests/data/rules-invalid/type-mismatch.yaml",
    ]);
    assert_eq!(code, 2);
    assert!(stdout.contains("╭─[tests/data/rules-invalid/unknown-key.yaml:31:5]"), "{stdout}");
    assert!(stdout.contains("did you mean `citation`?"), "{stdout}");
    assert!(stdout.contains("╭─[tests/data/rules-invalid/type-mismatch.yaml:"), "{stdout}");
    assert!(stdout.contains("the rule set has 2 error(s)"), "{stdout}");
}

#[test]
fn validate_needs_a_path() {
    let (code, _) = run(&["validate"]);
    assert_eq!(code, 2);
}
