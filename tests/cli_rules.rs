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
    assert!(
        stdout.contains("ccm32 1.0.0  Patient portal promotion"),
        "{stdout}"
    );
    assert!(
        stdout.contains("layer payer; effective from 2024-01-01; 4 rules; rules/ccm32.yaml"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "  CCM32-004    portal-invitation-not-to-verified-email  payer  error  record\n"
        ),
        "{stdout}"
    );
    assert!(
        stdout
            .contains("cms-ccm 1.0.0  Medicare Chronic Care Management billing requirements (CMS)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("  CMS-CCM-001  ccm-consent-not-obtained "),
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
    let (code, stdout) = run(&[
        "rules",
        "--rules",
        "tests/data/rules-invalid/invalid-regex.yaml",
    ]);
    assert_eq!(code, 2);
    assert!(stdout.contains("invalid regex: unclosed group"), "{stdout}");
    assert!(stdout.contains("nothing was listed"), "{stdout}");
}

#[test]
fn validate_accepts_a_valid_pack() {
    let (code, stdout) = run(&["validate", "rules/ccm32.yaml"]);
    assert_eq!(code, 0, "{stdout}");
    assert_eq!(
        stdout,
        "claimlint: the rule set is valid: 1 pack with 4 rules\n"
    );
}

#[test]
fn validate_reports_every_file_with_locations() {
    let (code, stdout) = run(&[
        "validate",
        "tests/data/rules-invalid/unknown-key.yaml",
        "tests/data/rules-invalid/type-mismatch.yaml",
    ]);
    assert_eq!(code, 2);
    assert!(
        stdout.contains("╭─[tests/data/rules-invalid/unknown-key.yaml:31:5]"),
        "{stdout}"
    );
    assert!(stdout.contains("did you mean `citation`?"), "{stdout}");
    assert!(
        stdout.contains("╭─[tests/data/rules-invalid/type-mismatch.yaml:"),
        "{stdout}"
    );
    assert!(stdout.contains("the rule set has 2 error(s)"), "{stdout}");
}

#[test]
fn validate_needs_a_path() {
    let (code, _) = run(&["validate"]);
    assert_eq!(code, 2);
}

#[test]
fn explain_prints_every_section() {
    let (code, stdout) = run(&["explain", "CCM32-003"]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.starts_with("CCM32-003 portal-invitation-not-logged\npack ccm32 1.0.0 (rules/ccm32.yaml), layer payer, severity error, scope record\n"), "{stdout}");
    for heading in [
        "\nWhat it checks\n",
        "\nApplies to\n",
        "\nWhy it matters\n",
        "\nFailing example\n",
        "\nPassing example\n",
        "\nHow to fix\n",
        "\nSource\n",
    ] {
        assert!(stdout.contains(heading), "missing {heading:?}: {stdout}");
    }
    assert!(stdout.contains("\"type\": \"portal.offered\""), "{stdout}");
    assert!(
        stdout.contains(
            "Reported as: no portal registration invitation is logged in the audit trail on"
        ),
        "{stdout}"
    );
}

#[test]
fn explain_accepts_lowercase_codes() {
    let (code, stdout) = run(&["explain", "ccm32-001"]);
    assert_eq!(code, 0);
    assert!(
        stdout.starts_with("CCM32-001 portal-access-not-offered\n"),
        "{stdout}"
    );
}

#[test]
fn explain_unknown_code_suggests_the_closest() {
    let output = claimlint()
        .args(["explain", "CCM32-010"])
        .output()
        .expect("claimlint runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).expect("UTF-8");
    assert!(
        stderr.contains("no rule `CCM32-010` in the loaded packs; did you mean CCM32-001?"),
        "{stderr}"
    );
}

#[test]
fn explain_all_in_markdown() {
    let (code, stdout) = run(&["explain", "--all", "--format", "md"]);
    assert_eq!(code, 0);
    assert!(
        stdout.contains("# CCM32-001 portal-access-not-offered\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("## Failing example\n\n```json\n{\n"),
        "{stdout}"
    );
    assert_eq!(
        stdout.matches("## How to fix\n").count(),
        stdout.matches("## What it checks\n").count()
    );
}

#[test]
fn rule_docs_are_up_to_date() {
    let (code, stdout) = run(&["docs", "--check"]);
    assert_eq!(
        code, 0,
        "docs/rules/ is out of date; run `cargo run -- docs`:\n{stdout}"
    );
}

#[test]
fn docs_check_reports_edited_and_stale_pages() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("rules");
    let out_arg = out.to_str().expect("UTF-8 path");
    let (code, stdout) = run(&["docs", "--out", out_arg]);
    assert_eq!(code, 0, "{stdout}");
    assert!(out.join("README.md").exists());
    assert!(out.join("ccm32.md").exists());

    let page = out.join("ccm32.md");
    let edited = std::fs::read_to_string(&page)
        .expect("page")
        .replace("portal", "Portal");
    std::fs::write(&page, edited).expect("write");
    let generated_marker = std::fs::read_to_string(out.join("README.md"))
        .expect("index")
        .lines()
        .next()
        .expect("first line")
        .to_string();
    std::fs::write(
        out.join("old-pack.md"),
        format!("{generated_marker}\n# old\n"),
    )
    .expect("write");
    std::fs::write(out.join("notes.md"), "hand-written notes\n").expect("write");

    let (code, stdout) = run(&["docs", "--check", "--out", out_arg]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("ccm32.md is out of date"), "{stdout}");
    assert!(
        stdout.contains("old-pack.md is no longer generated by the rule set"),
        "{stdout}"
    );
    assert!(!stdout.contains("notes.md"), "{stdout}");

    let (code, _) = run(&["docs", "--out", out_arg]);
    assert_eq!(code, 0);
    assert!(
        !out.join("old-pack.md").exists(),
        "stale generated page removed"
    );
    assert!(out.join("notes.md").exists(), "hand-written page kept");
    let (code, _) = run(&["docs", "--check", "--out", out_arg]);
    assert_eq!(code, 0);
}

#[test]
fn validate_rejects_an_example_that_passes() {
    let (code, stdout) = run(&[
        "validate",
        "tests/data/rules-invalid/example-does-not-fail.yaml",
    ]);
    assert_eq!(code, 2);
    assert!(
        stdout.contains("the `fail` example of EXAMPLE-001 passes the rule"),
        "{stdout}"
    );
    assert!(
        stdout.contains("╭─[tests/data/rules-invalid/example-does-not-fail.yaml:21:7]"),
        "{stdout}"
    );
}

#[test]
fn validate_rejects_an_example_that_is_not_a_record() {
    let (code, stdout) = run(&[
        "validate",
        "tests/data/rules-invalid/example-invalid-record.yaml",
    ]);
    assert_eq!(code, 2);
    assert!(
        stdout.contains("is not a valid record: diagnoses.0.chronic"),
        "{stdout}"
    );
    assert!(
        stdout.contains("╭─[tests/data/rules-invalid/example-invalid-record.yaml:24:45]"),
        "{stdout}"
    );
}

#[test]
fn test_passes_on_the_shipped_packs() {
    let (code, stdout) = run(&["test"]);
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.contains("ccm32 1.0.0 (rules/ccm32.yaml): 8 fixtures in rules/ccm32/tests"),
        "{stdout}"
    );
    assert!(
        stdout.contains("  ok    CCM32-003 portal-invitation-not-logged"),
        "{stdout}"
    );
    assert!(!stdout.contains("FAIL"), "{stdout}");
    assert!(
        stdout.contains(
            "0 false positives, 0 false negatives, 0 rules without both kinds of fixture"
        ),
        "{stdout}"
    );
}

const DEMO_PACK: &str = "pack:
  id: demo
  title: Demo
  version: 1.0.0
  layer: cms
rules:
  - code: DEMO-001
    name: chronic-conditions-missing
    severity: error
    citation: test
    description: test
    message: fewer than two chronic conditions
    help: record them
    evidence:
      count:
        select: $.diagnoses[*]
        where: { field: chronic, equals: true }
        at_least: 2
  - code: DEMO-002
    name: care-plan-missing
    severity: error
    citation: test
    description: test
    message: no care plan
    help: record one
    evidence: { field: care_plan.id, present: true }
";

fn demo_record(id: &str, chronic: usize, care_plan: bool) -> String {
    let diagnoses: Vec<String> = (0..chronic)
        .map(|i| format!("{{\"code\": \"E1{i}\", \"chronic\": true}}"))
        .collect();
    let plan = if care_plan {
        ", \"care_plan\": {\"id\": \"CP-1\"}"
    } else {
        ""
    };
    format!(
        "{{\"record_type\": \"claimlint.encounter/v1\", \"patient\": {{\"id\": \"P\"}}, \"encounter\": {{\"id\": \"{id}\", \"date_of_service\": \"2026-03-03\"}}, \"diagnoses\": [{}]{plan}}}\n",
        diagnoses.join(", ")
    )
}

/// Writes the demo pack and its fixtures to a temporary folder.
fn demo_pack(files: &[(&str, String)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("demo.yaml"), DEMO_PACK).expect("write pack");
    for (name, text) in files {
        let path = dir.path().join("demo/tests").join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("create folder");
        std::fs::write(path, text).expect("write fixture");
    }
    dir
}

fn run_in(dir: &std::path::Path, args: &[&str]) -> (i32, String) {
    let output = claimlint()
        .current_dir(dir)
        .args(args)
        .output()
        .expect("claimlint runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8(output.stdout).expect("UTF-8"),
    )
}

#[test]
fn test_reports_false_positives_and_negatives_by_rule() {
    let dir = demo_pack(&[
        ("pass/complete.json", demo_record("ENC-1", 2, true)),
        ("pass/one-condition.json", demo_record("ENC-2", 1, true)),
        ("fail/no-plan.json", demo_record("ENC-3", 2, false)),
        ("fail/no-plan.expect", "DEMO-001\nDEMO-002\n".to_string()),
    ]);
    let (code, stdout) = run_in(dir.path(), &["test", "demo.yaml"]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("demo 1.0.0 (demo.yaml): 3 fixtures in demo/tests"),
        "{stdout}"
    );
    assert!(
        stdout.contains("  FAIL  DEMO-001 chronic-conditions-missing  0 failing, 1 passing"),
        "{stdout}"
    );
    assert!(
        stdout.contains("false positive: pass/one-condition.json: reported on record ENC-2"),
        "{stdout}"
    );
    assert!(
        stdout.contains("false negative: fail/no-plan.json: expected, but not reported"),
        "{stdout}"
    );
    assert!(
        stdout
            .contains("no failing fixture: add one to fail/ and list DEMO-001 in its .expect file"),
        "{stdout}"
    );
    let demo_002 = stdout
        .lines()
        .find(|l| l.contains("DEMO-002"))
        .expect("DEMO-002 listed");
    assert!(
        demo_002.starts_with("  ok    DEMO-002 care-plan-missing "),
        "{stdout}"
    );
    assert!(demo_002.ends_with(" 1 failing, 2 passing"), "{stdout}");
    assert!(stdout.contains("2 rules: 1 passed, 1 failed; 1 false positive, 1 false negative, 1 rule without both kinds of fixture"), "{stdout}");
}

#[test]
fn test_fails_a_rule_without_fixtures() {
    let dir = demo_pack(&[
        ("pass/complete.json", demo_record("ENC-1", 2, true)),
        ("fail/no-plan.json", demo_record("ENC-3", 2, false)),
        (
            "fail/no-plan.expect",
            "DEMO-002  # the care plan is missing\n".to_string(),
        ),
    ]);
    let (code, stdout) = run_in(dir.path(), &["test", "demo.yaml"]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("FAIL  DEMO-001"), "{stdout}");
    assert!(stdout.contains("ok    DEMO-002"), "{stdout}");
}

#[test]
fn test_rejects_an_unknown_expected_code() {
    let dir = demo_pack(&[
        ("pass/complete.json", demo_record("ENC-1", 2, true)),
        ("fail/no-plan.json", demo_record("ENC-3", 2, false)),
        ("fail/no-plan.expect", "# expected\nDEMO-02\n".to_string()),
    ]);
    let (code, stdout) = run_in(dir.path(), &["test", "demo.yaml"]);
    assert_eq!(code, 2, "{stdout}");
    assert!(
        stdout.contains(
            "no-plan.expect:2: `DEMO-02` is not a rule of pack demo; did you mean DEMO-002?"
        ),
        "{stdout}"
    );
}

#[test]
fn test_rejects_a_fail_fixture_without_expectations() {
    let dir = demo_pack(&[("fail/no-plan.json", demo_record("ENC-3", 2, false))]);
    let (code, stdout) = run_in(dir.path(), &["test", "demo.yaml"]);
    assert_eq!(code, 2, "{stdout}");
    assert!(stdout.contains("a fail fixture needs"), "{stdout}");
}

#[test]
fn test_without_packs_or_rules_folder_is_a_usage_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = claimlint()
        .current_dir(dir.path())
        .arg("test")
        .output()
        .expect("claimlint runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).expect("UTF-8");
    assert!(
        stderr.contains("no pack given and no rules/ folder here"),
        "{stderr}"
    );
}

#[test]
fn check_reports_the_version_applied() {
    let dir = tempfile::tempdir().expect("temp dir");
    let batch = [("2025-11-04", "ENC-2025"), ("2026-03-03", "ENC-2026")]
        .iter()
        .map(|(date, id)| {
            format!(
                "{{\"record_type\": \"claimlint.encounter/v1\", \"patient\": {{\"id\": \"P\"}}, \"encounter\": {{\"id\": \"{id}\", \"date_of_service\": \"{date}\"}}, \"care_plan\": {{\"id\": \"CP-1\"}}}}\n"
            )
        })
        .collect::<String>();
    let path = dir.path().join("batch.ndjson");
    std::fs::write(&path, batch).expect("write batch");
    let (code, stdout) = run(&[
        "check",
        "--rules",
        "tests/data/pack-versions",
        path.to_str().expect("UTF-8 path"),
    ]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains(
            "record ENC-2025: fewer than two chronic conditions on 2025-11-04 under the 2025 rules"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("(demo 1.0.0, cms layer)"), "{stdout}");
    assert!(
        stdout.contains(
            "record ENC-2026: fewer than two chronic conditions on 2026-03-03 under the 2026 rules"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("(demo 2.0.0, cms layer)"), "{stdout}");
}

#[test]
fn rules_and_docs_list_each_version() {
    let (code, stdout) = run(&["rules", "--rules", "tests/data/pack-versions"]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("demo 1.0.0  Chronic conditions (test pack)\n  layer cms; effective 2025-01-01 to 2025-12-31; 1 rule"), "{stdout}");
    assert!(stdout.contains("demo 2.0.0  Chronic conditions and care plan (test pack)\n  layer cms; effective from 2026-01-01; 2 rules"), "{stdout}");

    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().to_str().expect("UTF-8 path");
    let (code, _) = run(&["docs", "--rules", "tests/data/pack-versions", "--out", out]);
    assert_eq!(code, 0);
    assert!(dir.path().join("demo-1.0.0.md").exists());
    assert!(dir.path().join("demo-2.0.0.md").exists());
}

#[test]
fn check_groups_a_patients_month_across_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    let base = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/rules/cms-ccm/tests/pass/seen-within-the-year.json"
    ))
    .expect("fixture");
    std::fs::write(dir.path().join("a.json"), &base).expect("write");
    std::fs::write(
        dir.path().join("b.json"),
        base.replace("ENC-CMS-0005", "ENC-CMS-0006"),
    )
    .expect("write");
    let (code, stdout) = run(&[
        "check",
        "--rules",
        "rules/cms-ccm.yaml",
        dir.path().to_str().expect("UTF-8 path"),
    ]);
    assert_eq!(code, 1, "{stdout}");
    assert_eq!(
        stdout
            .matches("CCM is billed more than once for this patient")
            .count(),
        2,
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "record ENC-CMS-0005: CCM is billed more than once for this patient in 2026-03"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("ENC-CMS-0005, ENC-CMS-0006)"), "{stdout}");
    assert!(stdout.contains("a.json:"), "{stdout}");
    assert!(stdout.contains("b.json:"), "{stdout}");
    assert!(
        stdout.ends_with(
            "2 files checked, 2 records (0 not applicable); 2 errors, 0 warnings, 0 info\n"
        ),
        "{stdout}"
    );
}

#[test]
fn authoring_guide_pack_passes_its_fixtures() {
    let (code, stdout) = run(&["test", "docs/authoring/acme-ccm.yaml"]);
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.contains("  ok    ACME-001 ccm-time-without-activity  1 failing, 1 passing"),
        "{stdout}"
    );
}

#[test]
fn misspelled_field_is_reported_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/authoring/acme-ccm.yaml"
    ))
    .expect("guide pack")
    .replace(
        "field: activity, present: false",
        "field: activty, present: false",
    );
    let path = dir.path().join("acme-ccm.yaml");
    std::fs::write(&path, text).expect("write");
    let (code, stdout) = run(&["validate", path.to_str().expect("UTF-8 path")]);
    assert_eq!(code, 2);
    assert!(
        stdout.contains("`activty` is not a field of the encounter"),
        "{stdout}"
    );
    assert!(stdout.contains("did you mean `activity`?"), "{stdout}");
    assert!(stdout.contains("the rule set has 1 error(s)"), "{stdout}");
}
