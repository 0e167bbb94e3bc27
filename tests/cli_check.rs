//! `claimlint check` end to end: exit codes and colour-free output at the
//! fixed width used when stdout is not a terminal.

use assert_cmd::Command;

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
fn compliant_record_exits_zero() {
    let (code, stdout) = run(&["check", "examples/records/compliant.json"]);
    assert_eq!(code, 0);
    assert_eq!(
        stdout,
        "claimlint: 1 file checked, 1 record (0 not applicable); 0 errors, 0 warnings, 0 info\n"
    );
}

#[test]
fn examples_folder_reports_every_finding() {
    let (code, stdout) = run(&["check", "examples"]);
    assert_eq!(code, 1);
    insta::assert_snapshot!("check_examples", stdout);
}

#[test]
fn output_never_shows_patient_values() {
    let (_, stdout) = run(&["check", "examples"]);
    for value in [
        "Maria",
        "Alvarez",
        "maria.alvarez@example.org",
        "1951-07-14",
        "1EG4TE5MK72",
        "+1-555-0142",
        "m.alvarez.old@example.net",
        "Educated patient",
    ] {
        assert!(!stdout.contains(value), "output shows {value}");
    }
}

#[test]
fn standard_input_is_read() {
    let record = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/records/fail-portal-not-offered.json"
    ))
    .unwrap();
    let output = claimlint()
        .args(["check", "-"])
        .write_stdin(record)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.contains("CCM32-001 portal-access-not-offered"),
        "{stdout}"
    );
    assert!(stdout.contains("╭─[<stdin>:1:1]"), "{stdout}");
}

#[test]
fn missing_path_is_an_input_error() {
    let (code, stdout) = run(&[
        "check",
        "no/such/file.json",
        "examples/records/compliant.json",
    ]);
    assert_eq!(code, 2);
    assert!(
        stdout.contains("no/such/file.json: cannot read: no such file or folder"),
        "{stdout}"
    );
    assert!(stdout.contains("1 file checked, 1 record"), "{stdout}");
}

#[test]
fn broken_file_does_not_stop_the_run() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a-broken.json"),
        "{\"record_type\": \"claimlint.encounter/v1\",\n  \"patient\": {\"id\": ",
    )
    .unwrap();
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/examples/records/fail-invitation-not-logged.json"
        ),
        dir.path().join("b-record.json"),
    )
    .unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not JSON").unwrap();
    let output = claimlint().arg("check").arg(dir.path()).output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(2), "{stdout}");
    assert!(
        stdout.contains("the JSON document ends unexpectedly"),
        "{stdout}"
    );
    assert!(stdout.contains("a-broken.json:2:"), "{stdout}");
    assert!(stdout.contains("CCM32-003"), "{stdout}");
    assert!(stdout.ends_with("2 files checked, 1 record (0 not applicable); 2 errors, 0 warnings, 0 info; 1 file skipped (not JSON); 1 input error in 1 input\n"), "{stdout}");
}

#[test]
fn schema_violation_is_located_in_the_record() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/records/compliant.json"
    ))
    .unwrap()
    .replace(
        "\"birth_date\": \"1951-07-14\"",
        "\"birth_date\": \"IGNORED_FIELD\"",
    );
    std::fs::write(dir.path().join("r.json"), text).unwrap();
    let output = claimlint()
        .arg("check")
        .arg(dir.path().join("r.json"))
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(stdout.contains("claimlint::input::schema"), "{stdout}");
    assert!(stdout.contains("r.json:6:19]"), "{stdout}");
    assert!(
        stdout.contains("patient.birth_date is not a date"),
        "{stdout}"
    );
    assert!(!stdout.contains("IGNORED_FIELD"), "{stdout}");
}

#[test]
fn invalid_rule_files_are_rejected_with_their_location() {
    let cases = [
        ("unknown-key", "unknown key `citaton` in a rule"),
        ("unknown-operator", "did you mean `one_of`?"),
        ("invalid-regex", "invalid regex: unclosed group"),
        ("duplicate-code", "duplicate rule code `CCM32-001`"),
        ("unparsable-path", "invalid JSONPath `$.notes[*`"),
        ("path-never-matches", "did you mean `audit_trail`?"),
        ("misspelled-field", "did you mean `offered_at`?"),
        (
            "type-mismatch",
            "`at_least` needs a number, but `channel` is a string",
        ),
        (
            "undefined-template-variable",
            "did you mean `date_of_service`?",
        ),
    ];
    for (name, expected) in cases {
        let path = format!("tests/data/rules-invalid/{name}.yaml");
        let (code, stdout) = run(&["check", "--rules", &path, "examples/records/compliant.json"]);
        assert_eq!(code, 2, "{name}");
        assert!(stdout.contains(expected), "{name}: {stdout}");
        assert!(
            stdout.contains(&format!("╭─[{path}:")),
            "{name} is not located: {stdout}"
        );
        assert!(stdout.contains("nothing was checked"), "{name}");
    }
}

#[test]
fn invalid_rule_file_snapshot() {
    let (_, stdout) = run(&[
        "check",
        "--rules",
        "tests/data/rules-invalid/path-never-matches.yaml",
        "examples",
    ]);
    insta::assert_snapshot!("invalid_rule_path", stdout);
}

#[test]
fn usage_error_exits_two() {
    let (code, _) = run(&["check", "--no-such-flag"]);
    assert_eq!(code, 2);
}

#[test]
fn closed_pipe_keeps_the_exit_code() {
    use std::io::Read;
    use std::process::{Command as StdCommand, Stdio};

    let mut child = StdCommand::new(assert_cmd::cargo::cargo_bin("claimlint"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("check")
        // Ten copies of the examples print more than a pipe buffer holds,
        // so the writes after the pipe closes must fail. The copies are
        // duplicate encounters, an input error, so the command exits 2.
        .args(["examples"; 10])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read one byte, then close the pipe as `head -c1` would.
    let mut first = [0u8; 1];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn encounter_read_twice_is_reported_once() {
    let output = claimlint()
        .args(["check", "examples/records/compliant.json", "-"])
        .write_stdin(
            std::fs::read(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/examples/records/compliant.json"
            ))
            .unwrap(),
        )
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(2), "{stdout}");
    assert!(
        stdout.contains(
            "encounter ENC-2026-0301 was already read from examples/records/compliant.json;"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("claimlint::input::duplicate-record"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("CMS-CCM-012"),
        "a duplicate is not double billing: {stdout}"
    );
}

#[test]
fn fhir_without_encounters_says_why_nothing_was_checked() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("patient.json"),
        r#"{"resourceType":"Patient","id":"x"}"#,
    )
    .unwrap();
    let output = claimlint().arg("check").arg(dir.path()).output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("1 FHIR resource(s) read, but none is an Encounter"),
        "{stdout}"
    );
}

#[test]
fn show_phi_unmasks_snippets_only_when_asked() {
    let path = "examples/records/fail-invitation-unverified-email.json";
    let (_, masked) = run(&["check", path]);
    assert!(!masked.contains("m.alvarez.old@example.net"), "{masked}");
    assert!(
        masked.contains("\"recipient\": \"*************************\""),
        "{masked}"
    );
    let (_, shown) = run(&["check", "--show-phi", path]);
    assert!(
        shown.contains("\"recipient\": \"m.alvarez.old@example.net\""),
        "{shown}"
    );
}
