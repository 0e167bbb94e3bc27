//! `claimlint check` in CI pipelines: output formats, exit thresholds,
//! claimlint.yaml, suppressions and baselines, end to end.

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const NOT_LOGGED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/examples/records/fail-invitation-not-logged.json"
);
const PATIENT_VALUES: &[&str] = &[
    "Maria",
    "Alvarez",
    "maria.alvarez@example.org",
    "1951-07-14",
    "1EG4TE5MK72",
    "+1-555-0142",
    "m.alvarez.old@example.net",
    "Educated patient",
];

fn claimlint(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("claimlint").expect("binary built");
    cmd.current_dir(dir);
    cmd.env_remove("COLUMNS")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env("NO_COLOR", "1");
    cmd
}

/// Runs in `dir` and returns the exit code, stdout and stderr.
fn run_in(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let output = claimlint(dir).args(args).output().expect("claimlint runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8(output.stdout).expect("UTF-8 stdout"),
        String::from_utf8(output.stderr).expect("UTF-8 stderr"),
    )
}

fn run(args: &[&str]) -> (i32, String, String) {
    run_in(Path::new(ROOT), args)
}

fn schema(path: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(Path::new(ROOT).join(path)).unwrap()).unwrap()
}

fn assert_valid(schema: &Value, instance: &Value) {
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(schema)
        .unwrap();
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

fn json_findings(stdout: &str) -> Vec<Value> {
    let value: Value = serde_json::from_str(stdout).unwrap();
    value["findings"].as_array().unwrap().clone()
}

#[test]
fn json_report_validates_against_its_schema() {
    let (code, stdout, stderr) = run(&["check", "examples", "--format", "json"]);
    assert_eq!(code, 1);
    let value: Value = serde_json::from_str(&stdout).unwrap();
    assert_valid(&schema("schemas/check-report.schema.json"), &value);
    assert_eq!(value["summary"]["errors"], 12);
    assert!(stderr.contains("12 errors"), "{stderr}");
}

#[test]
fn ndjson_lines_validate_against_the_finding_schema() {
    let (_, stdout, _) = run(&["check", "examples", "--format", "ndjson"]);
    let mut finding_schema = schema("schemas/check-report.schema.json");
    let object = finding_schema.as_object_mut().unwrap();
    for key in ["required", "properties", "additionalProperties", "type"] {
        object.remove(key);
    }
    object.insert("$ref".into(), "#/$defs/finding".into());
    assert_eq!(stdout.lines().count(), 14);
    for line in stdout.lines() {
        assert_valid(&finding_schema, &serde_json::from_str(line).unwrap());
    }
}

#[test]
fn sarif_validates_and_counts_columns_in_characters() {
    let (_, stdout, _) = run(&["check", "examples", "--format", "sarif"]);
    let value: Value = serde_json::from_str(&stdout).unwrap();
    assert_valid(
        &schema("tests/data/sarif/sarif-2.1.0-subset.schema.json"),
        &value,
    );
    // The published schema's `language` patterns (on run and toolComponent)
    // have a stray `]`, which the validator's check of the schema itself
    // rejects as an invalid regex. The vendored file stays as published; the
    // patterns are corrected here.
    let mut official_schema = schema("tests/data/sarif/sarif-2.1.0-rtm.5.json");
    for object in ["run", "toolComponent"] {
        let pattern = official_schema
            .pointer_mut(&format!(
                "/definitions/{object}/properties/language/pattern"
            ))
            .expect("language pattern");
        assert_eq!(pattern, "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$");
        *pattern = Value::from("^[a-zA-Z]{2}$|^[a-zA-Z]{2}-[a-zA-Z]{2}$");
    }
    let official = jsonschema::options()
        .build(&official_schema)
        .expect("official SARIF schema compiles");
    let errors: Vec<String> = official
        .iter_errors(&value)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let run = &value["runs"][0];
    assert_eq!(run["columnKind"], "unicodeCodePoints");
    assert_eq!(run["results"].as_array().unwrap().len(), 14);
    assert!(run["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["id"] == "CCM32-001"));
}

#[test]
fn sarif_column_counts_characters_not_bytes() {
    let dir = tempfile::tempdir().unwrap();
    // One line, with multi-byte characters before the finding's node.
    let mut record: Value =
        serde_json::from_str(&std::fs::read_to_string(NOT_LOGGED).unwrap()).unwrap();
    record["patient"]["name"]["given"] = "Ŝéébastián".into();
    let text = serde_json::to_string(&record).unwrap();
    std::fs::write(dir.path().join("r.json"), &text).unwrap();
    let (_, stdout, _) = run_in(dir.path(), &["check", "r.json", "--format", "json"]);
    let finding = &json_findings(&stdout)[0];
    assert_eq!(finding["line"], 1);
    let column = finding["column"].as_u64().unwrap() as usize;
    let rest: String = text.chars().skip(column - 1).collect();
    // A scalar is labelled at its value, a container at its member name.
    let pointer = finding["source_pointer"].as_str().unwrap();
    let node = &record.pointer(pointer).unwrap();
    let expected = match node {
        Value::Object(_) | Value::Array(_) => {
            format!("\"{}\"", pointer.rsplit('/').next().unwrap())
        }
        scalar => serde_json::to_string(scalar).unwrap(),
    };
    assert!(rest.starts_with(&expected), "column {column}: {rest}");
    assert!(text.len() > text.chars().count());
}

#[test]
fn fingerprints_survive_line_moves() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(NOT_LOGGED).unwrap();
    std::fs::write(dir.path().join("r.json"), &text).unwrap();
    let (_, first, _) = run_in(dir.path(), &["check", "r.json", "--format", "json"]);
    std::fs::write(dir.path().join("r.json"), format!("\n\n\n{text}")).unwrap();
    let (_, second, _) = run_in(dir.path(), &["check", "r.json", "--format", "json"]);
    let (first, second) = (json_findings(&first), json_findings(&second));
    assert_eq!(first[0]["fingerprint"], second[0]["fingerprint"]);
    assert_eq!(
        first[0]["line"].as_u64().unwrap() + 3,
        second[0]["line"].as_u64().unwrap()
    );
}

#[test]
fn junit_has_one_suite_per_file() {
    let (_, stdout, _) = run(&[
        "check",
        "examples/records",
        "examples/batch",
        "--format",
        "junit",
    ]);
    assert_eq!(stdout.matches("<testsuite ").count(), 9, "{stdout}");
    assert_eq!(stdout.matches("<failure ").count(), 10);
    assert!(
        stdout.contains("(not applicable)\">\n      <skipped"),
        "{stdout}"
    );
    // Patient-month rules appear for each member record, passes included.
    assert!(
        stdout.contains("name=\"ENC-2026-0401: CMS-CCM-012 ccm-billed-twice-in-month\"/>"),
        "{stdout}"
    );
}

#[test]
fn github_commands_and_step_summary() {
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("summary.md");
    std::fs::write(&summary, "# earlier step\n").unwrap();
    let output = claimlint(Path::new(ROOT))
        .args(["check", "examples", "--format", "github"])
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("::error ")).count(),
        10,
        "{stdout}"
    );
    let markdown = std::fs::read_to_string(&summary).unwrap();
    assert!(
        markdown.starts_with("# earlier step\n## claimlint check"),
        "{markdown}"
    );
    assert!(
        markdown.contains("| `CCM32-004` | portal-invitation-not-to-verified-email | error | 4 |"),
        "{markdown}"
    );
}

#[test]
fn gitlab_fingerprints_are_unique() {
    let (_, stdout, _) = run(&["check", "examples", "--format", "gitlab"]);
    let issues: Vec<Value> = serde_json::from_str(&stdout).unwrap();
    let prints: std::collections::BTreeSet<&str> = issues
        .iter()
        .map(|i| i["fingerprint"].as_str().unwrap())
        .collect();
    assert_eq!(issues.len(), 14);
    assert_eq!(prints.len(), 14);
}

#[test]
fn several_outputs_in_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let sarif = dir.path().join("report.sarif");
    let junit = dir.path().join("report.xml");
    let (code, stdout, _) = run(&[
        "check",
        "examples",
        "--quiet",
        "--output",
        &format!("sarif={}", sarif.display()),
        "--output",
        &format!("junit={}", junit.display()),
    ]);
    assert_eq!(code, 1);
    assert_eq!(stdout, "claimlint: 11 files checked, 20 records (2 not applicable); 12 errors, 2 warnings, 0 info; 8 files skipped (not JSON)\n");
    assert!(std::fs::read_to_string(sarif)
        .unwrap()
        .contains("\"version\": \"2.1.0\""));
    assert!(std::fs::read_to_string(junit).unwrap().starts_with("<?xml"));
}

#[test]
fn quiet_machine_format_prints_nothing() {
    let (code, stdout, stderr) = run(&["check", "examples", "--format", "sarif", "--quiet"]);
    assert_eq!(code, 1);
    assert_eq!(stdout, "");
    assert_eq!(stderr, "");
}

#[test]
fn no_format_shows_patient_values() {
    for format in [
        "human", "json", "ndjson", "sarif", "junit", "github", "gitlab",
    ] {
        let (_, stdout, stderr) = run(&["check", "examples", "--format", format, "--statistics"]);
        for value in PATIENT_VALUES {
            assert!(!stdout.contains(value), "{format} shows {value}");
            assert!(!stderr.contains(value), "{format} shows {value} on stderr");
        }
    }
}

#[test]
fn statistics_count_findings_per_rule() {
    let (_, stdout, _) = run(&["check", "examples", "--statistics", "--quiet"]);
    assert!(
        stdout.starts_with(
            "4  CCM32-004  portal-invitation-not-to-verified-email  (error)\n3  CCM32-003"
        ),
        "{stdout}"
    );
}

/// Creates a folder with the record and a claimlint.yaml of `config`.
fn project(config: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(NOT_LOGGED, dir.path().join("r.json")).unwrap();
    std::fs::write(dir.path().join("claimlint.yaml"), config).unwrap();
    dir
}

#[test]
fn exit_code_follows_the_threshold() {
    let dir = project("severity:\n  CCM32-003: warning\n  CCM32-004: info\n");
    let cases: [(&[&str], i32); 6] = [
        (&[], 0),
        (&["--fail-on", "error"], 0),
        (&["--fail-on", "warning"], 1),
        (&["--fail-on", "info"], 1),
        (&["--fail-on", "info", "--exit-zero"], 0),
        (&["--fail-on", "warning", "--exit-zero", "--quiet"], 0),
    ];
    for (flags, expected) in cases {
        let mut args = vec!["check", "r.json"];
        args.extend_from_slice(flags);
        let (code, stdout, _) = run_in(dir.path(), &args);
        assert_eq!(code, expected, "{flags:?}: {stdout}");
    }
    let only_info = project("severity:\n  CCM32-003: info\n  CCM32-004: info\n");
    assert_eq!(
        run_in(
            only_info.path(),
            &["check", "r.json", "--fail-on", "warning"]
        )
        .0,
        0
    );
    assert_eq!(
        run_in(only_info.path(), &["check", "r.json", "--fail-on", "info"]).0,
        1
    );
}

#[test]
fn exit_zero_keeps_input_errors() {
    let (code, _, _) = run(&["check", "no/such/file.json", "--exit-zero"]);
    assert_eq!(code, 2);
}

#[test]
fn config_is_found_upward_and_flags_win() {
    let dir = project("fail_on: warning\nseverity:\n  CCM32-003: warning\n  CCM32-004: 'off'\n");
    let nested = dir.path().join("sub/folder");
    std::fs::create_dir_all(&nested).unwrap();
    let (code, stdout, _) = run_in(&nested, &["check", "../../r.json", "--format", "json"]);
    assert_eq!(code, 1, "fail_on: warning from the file");
    let findings = json_findings(&stdout);
    assert_eq!(findings.len(), 1, "CCM32-004 is off");
    assert_eq!(findings[0]["severity"], "warning");
    let (code, _, _) = run_in(&nested, &["check", "../../r.json", "--fail-on", "error"]);
    assert_eq!(code, 0, "--fail-on overrides fail_on");
}

#[test]
fn config_severity_per_payer() {
    let text = std::fs::read_to_string(NOT_LOGGED).unwrap();
    let record: Value = serde_json::from_str(&text).unwrap();
    let payer = record["claim"]["payer"]["name"]
        .as_str()
        .unwrap()
        .to_string();
    let dir = project(&format!(
        "severity:\n  CCM32-003: warning\npayers:\n  - payer: {payer}\n    severity:\n      CCM32-003: info\n  - payer: Someone Else\n    severity:\n      CCM32-003: error\n"
    ));
    let (_, stdout, _) = run_in(dir.path(), &["check", "r.json", "--format", "json"]);
    let findings = json_findings(&stdout);
    assert_eq!(findings[0]["code"], "CCM32-003");
    assert_eq!(findings[0]["severity"], "info");
}

#[test]
fn explicit_config_and_invalid_config() {
    let dir = project("severity:\n  CCM32-030: warning\n");
    let (code, stdout, _) = run_in(dir.path(), &["check", "r.json"]);
    assert_eq!(code, 2);
    assert!(stdout.contains("unknown rule code `CCM32-030`"), "{stdout}");
    assert!(stdout.contains("did you mean `CCM32-003`?"), "{stdout}");
    assert!(stdout.contains("claimlint.yaml:2:3]"), "{stdout}");
    std::fs::write(dir.path().join("other.yaml"), "packs: [cms-ccm]\n").unwrap();
    let (code, stdout, _) = run_in(dir.path(), &["check", "r.json", "--config", "other.yaml"]);
    assert_eq!(code, 0, "only cms-ccm runs: {stdout}");
}

#[test]
fn suppressions_used_unused_and_expired() {
    let dir = project("suppressions: allow.yaml\n");
    std::fs::write(
        dir.path().join("allow.yaml"),
        "suppressions:
  - rule: CCM32-003
    record: ENC-2026-0304
    reason: logged in the paper binder
    author: billing-lead
  - rule: CCM32-004
    claim: CLM-2026-0304
    reason: accepted
    expires: 2020-01-31
  - rule: CCM32-001
    record: ENC-2026-0304
    reason: never needed
",
    )
    .unwrap();
    let (code, stdout, stderr) = run_in(dir.path(), &["check", "r.json", "--format", "json"]);
    assert_eq!(code, 1, "the expired entry leaves CCM32-004 active");
    let value: Value = serde_json::from_str(&stdout).unwrap();
    assert_valid(&schema("schemas/check-report.schema.json"), &value);
    let findings = value["findings"].as_array().unwrap();
    assert_eq!(findings[0]["suppression"]["state"], "suppressed");
    assert_eq!(
        findings[0]["suppression"]["reason"],
        "logged in the paper binder"
    );
    assert_eq!(findings[1]["suppression"]["state"], "active");
    let warnings: Vec<&str> = value["suppression_warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["problem"].as_str().unwrap())
        .collect();
    assert_eq!(warnings, ["expired", "unused"]);
    assert!(
        stderr.contains(
            "allow.yaml:6:5: suppression of CCM32-004 on claim CLM-2026-0304 expired on 2020-01-31"
        ),
        "{stderr}"
    );

    let (_, sarif, _) = run_in(dir.path(), &["check", "r.json", "--format", "sarif"]);
    let sarif: Value = serde_json::from_str(&sarif).unwrap();
    let suppressed = &sarif["runs"][0]["results"][0]["suppressions"][0];
    assert_eq!(suppressed["kind"], "external");
    assert_eq!(suppressed["justification"], "logged in the paper binder");

    // With the --suppressions flag naming a file that covers everything, the run passes.
    std::fs::write(
        dir.path().join("all.yaml"),
        "suppressions:\n  - {rule: CCM32-003, record: ENC-2026-0304, reason: a}\n  - {rule: CCM32-004, record: ENC-2026-0304, reason: b, expires: 2999-12-31}\n",
    )
    .unwrap();
    let (code, stdout, _) = run_in(
        dir.path(),
        &["check", "r.json", "--suppressions", "all.yaml"],
    );
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.contains("0 errors, 0 warnings, 0 info; 2 suppressed"),
        "{stdout}"
    );
}

#[test]
fn baseline_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(NOT_LOGGED, dir.path().join("a.json")).unwrap();
    let (code, _, _) = run_in(
        dir.path(),
        &["check", "a.json", "--write-baseline", "baseline.json"],
    );
    assert_eq!(code, 1, "writing a baseline does not change the exit code");
    let baseline: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("baseline.json")).unwrap())
            .unwrap();
    assert_eq!(baseline["findings"].as_array().unwrap().len(), 2);

    let (code, stdout, _) = run_in(
        dir.path(),
        &["check", "a.json", "--baseline", "baseline.json"],
    );
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.contains("baseline: 0 new, 2 unchanged, 0 fixed"),
        "{stdout}"
    );

    // A new file brings new findings; fixing the old record counts as fixed.
    std::fs::copy(
        Path::new(ROOT).join("examples/records/fail-portal-not-offered.json"),
        dir.path().join("b.json"),
    )
    .unwrap();
    std::fs::copy(
        Path::new(ROOT).join("examples/records/compliant.json"),
        dir.path().join("a.json"),
    )
    .unwrap();
    let (code, stdout, _) = run_in(
        dir.path(),
        &[
            "check",
            "a.json",
            "b.json",
            "--baseline",
            "baseline.json",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 1);
    let value: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(value["baseline"]["fixed"], 2);
    assert_eq!(value["baseline"]["unchanged"], 0);
    assert!(value["findings"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["file"] == "b.json"));
}

#[test]
fn invalid_baseline_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("b.json"), "[]").unwrap();
    let (code, stdout, _) = run_in(dir.path(), &["check", NOT_LOGGED, "--baseline", "b.json"]);
    assert_eq!(code, 2);
    assert!(stdout.contains("invalid baseline file"), "{stdout}");
}

#[test]
fn ndjson_lists_input_problems_on_stderr() {
    let output = Command::cargo_bin("claimlint")
        .unwrap()
        .args(["check", "-", "--format", "ndjson"])
        .write_stdin("{\"bad\n")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty(), "no findings to print");
    let stderr = String::from_utf8(output.stderr).unwrap();
    let first = stderr.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("error: <stdin>:2:1: invalid JSON"),
        "{stderr}"
    );
    assert!(
        first.ends_with("[claimlint::input::invalid-json]"),
        "{stderr}"
    );
    assert!(stderr.ends_with("1 input error in 1 input\n"), "{stderr}");
}
