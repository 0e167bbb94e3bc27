//! The `claimlint appeal` command, run as a user would.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::{json, Value};

const TODAY: &str = "2026-04-20";

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn full_record() -> PathBuf {
    repo("examples/records/denied-ccm32-full-evidence.json")
}

fn missing_record() -> PathBuf {
    repo("examples/records/denied-ccm32-missing-evidence.json")
}

/// `claimlint appeal` with the example profiles, a fixed date and `out` as
/// the output folder, run from `cwd`.
fn appeal(cwd: &Path, out: &Path) -> Command {
    appeal_with(cwd, out, TODAY, &repo("examples/profiles/practice.yaml"))
}

/// `claimlint appeal` on date `today` with the practice profile `practice`.
fn appeal_with(cwd: &Path, out: &Path, today: &str, practice: &Path) -> Command {
    let mut command = Command::cargo_bin("claimlint").expect("binary is built");
    command
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .args(["appeal", "--today", today, "--practice"])
        .arg(practice)
        .arg("--payers")
        .arg(repo("examples/profiles/payers.yaml"))
        .arg("--out")
        .arg(out);
    command
}

struct Run {
    code: i32,
    stdout: String,
}

fn run(command: &mut Command) -> Run {
    let output = command.output().expect("runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout)
            .replace(env!("CARGO_MANIFEST_DIR"), "[REPO]"),
    }
}

fn manifest(out: &Path) -> Value {
    let text = std::fs::read_to_string(out.join("manifest.json")).expect("manifest written");
    let value: Value = serde_json::from_str(&text).expect("manifest is JSON");
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(repo("schemas/appeal-manifest.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::draft202012::new(&schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&value)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "manifest does not match its schema: {errors:#?}"
    );
    value
}

fn write_record(dir: &Path, name: &str, edit: impl FnOnce(&mut Value)) -> PathBuf {
    let mut value: Value =
        serde_json::from_str(&std::fs::read_to_string(full_record()).unwrap()).unwrap();
    edit(&mut value);
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string_pretty(&value).unwrap()).unwrap();
    path
}

#[test]
fn full_evidence_writes_a_letter() {
    let dir = tempfile::tempdir().unwrap();
    let result = run(appeal(dir.path(), Path::new("appeals")).arg(full_record()));
    assert_eq!(result.code, 0, "{}", result.stdout);
    insta::assert_snapshot!("full_evidence_stdout", result.stdout);

    let letter = std::fs::read_to_string(dir.path().join("appeals/CLM-2026-0307.md")).unwrap();
    assert!(
        letter.contains("**RE: Appeal of denied claim CLM-2026-0307**"),
        "{letter}"
    );
    let manifest = manifest(&dir.path().join("appeals"));
    assert_eq!(manifest["claims"][0]["status"], "appealed");
    assert_eq!(
        manifest["claims"][0]["letters"],
        json!(["CLM-2026-0307.md"])
    );
}

#[test]
fn missing_evidence_is_refused_with_located_diagnostics() {
    let dir = tempfile::tempdir().unwrap();
    let result = run(appeal(dir.path(), Path::new("appeals")).arg(missing_record()));
    assert_eq!(result.code, 1, "{}", result.stdout);
    insta::assert_snapshot!("missing_evidence_stdout", result.stdout);
    assert!(
        !dir.path().join("appeals/CLM-2026-0308.md").exists(),
        "a refused claim got a letter"
    );
    let manifest = manifest(&dir.path().join("appeals"));
    assert_eq!(manifest["claims"][0]["status"], "not-appealed");
    assert_eq!(
        manifest["claims"][0]["action"],
        "correct-record-or-do-not-appeal"
    );
}

#[test]
fn examples_folder_gives_one_letter_and_one_refusal() {
    let dir = tempfile::tempdir().unwrap();
    let result = run(appeal(dir.path(), Path::new("appeals")).arg(repo("examples")));
    assert_eq!(result.code, 1, "{}", result.stdout);
    assert!(
        result.stdout.contains(
            "claimlint: 2 denied claims considered: 1 appealed, 1 not appealed, 0 errors"
        ),
        "{}",
        result.stdout
    );
    let manifest = manifest(&dir.path().join("appeals"));
    let claims: Vec<(&str, &str)> = manifest["claims"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["claim_id"].as_str().unwrap(),
                c["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        claims,
        [
            ("CLM-2026-0307", "appealed"),
            ("CLM-2026-0308", "not-appealed")
        ]
    );
}

#[test]
fn profiles_are_required_options() {
    let dir = tempfile::tempdir().unwrap();
    let mut command = Command::cargo_bin("claimlint").unwrap();
    let result = run(command
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .arg("appeal")
        .arg(full_record()));
    assert_eq!(result.code, 2);
    assert!(
        result.stdout.contains("missing option --practice FILE"),
        "{}",
        result.stdout
    );
    assert!(
        result.stdout.contains("missing option --payers FILE"),
        "{}",
        result.stdout
    );
    assert!(!dir.path().join("appeals").exists());
}

#[test]
fn missing_profile_field_names_field_and_file() {
    let dir = tempfile::tempdir().unwrap();
    let practice = std::fs::read_to_string(repo("examples/profiles/practice.yaml")).unwrap();
    let path = dir.path().join("practice.yaml");
    std::fs::write(&path, practice.replace("phone: (217) 555-0100\n", "")).unwrap();
    let mut command = appeal_with(dir.path(), Path::new("appeals"), TODAY, &path);
    command.arg(full_record());
    let result = run(&mut command);
    assert_eq!(result.code, 2, "{}", result.stdout);
    assert!(
        result
            .stdout
            .contains("practice.yaml: practice profile is missing the required field `phone`"),
        "{}",
        result.stdout
    );
    assert!(!dir.path().join("appeals").exists());
}

#[test]
fn dry_run_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let result = run(appeal(dir.path(), Path::new("appeals"))
        .args(["--dry-run", "--format", "md,pdf"])
        .arg(repo("examples")));
    assert_eq!(result.code, 1, "{}", result.stdout);
    assert!(
        result
            .stdout
            .contains("would write appeals/CLM-2026-0307.md ("),
        "{}",
        result.stdout
    );
    assert!(
        result
            .stdout
            .contains("would write appeals/CLM-2026-0307.pdf ("),
        "{}",
        result.stdout
    );
    assert!(
        result.stdout.contains("would write appeals/manifest.json"),
        "{}",
        result.stdout
    );
    assert!(
        result.stdout.contains("dry run: nothing was written"),
        "{}",
        result.stdout
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "the dry run wrote files"
    );
}

#[test]
fn existing_letter_is_kept_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let out = Path::new("appeals");
    assert_eq!(run(appeal(dir.path(), out).arg(full_record())).code, 0);
    let letter = dir.path().join("appeals/CLM-2026-0307.md");
    std::fs::write(&letter, "edited by hand").unwrap();

    let result = run(appeal(dir.path(), out).arg(full_record()));
    assert_eq!(result.code, 2, "{}", result.stdout);
    assert!(
        result
            .stdout
            .contains("appeals/CLM-2026-0307.md already exists; use"),
        "{}",
        result.stdout
    );
    assert!(
        result.stdout.contains("--force to replace it"),
        "{}",
        result.stdout
    );
    assert_eq!(std::fs::read_to_string(&letter).unwrap(), "edited by hand");
    assert_eq!(
        manifest(&dir.path().join("appeals"))["claims"][0]["status"],
        "error"
    );

    let result = run(appeal(dir.path(), out).arg("--force").arg(full_record()));
    assert_eq!(result.code, 0, "{}", result.stdout);
    assert!(std::fs::read_to_string(&letter)
        .unwrap()
        .contains("RE: Appeal of denied claim"));
    let names: Vec<String> = std::fs::read_dir(dir.path().join("appeals"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().all(|n| !n.ends_with(".tmp")),
        "temporary files left: {names:?}"
    );
}

#[cfg(unix)]
#[test]
fn letters_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let result = run(appeal(dir.path(), Path::new("out/appeals"))
        .args(["--format", "md,txt,pdf"])
        .arg(full_record()));
    assert_eq!(result.code, 0, "{}", result.stdout);
    let mode = |path: &str| {
        std::fs::metadata(dir.path().join(path))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    for file in [
        "CLM-2026-0307.md",
        "CLM-2026-0307.txt",
        "CLM-2026-0307.pdf",
        "manifest.json",
    ] {
        assert_eq!(mode(&format!("out/appeals/{file}")), 0o600, "{file}");
    }
    assert_eq!(
        mode("out/appeals") & 0o077,
        0,
        "the letters folder is readable by others"
    );
}

#[test]
fn pdf_letter_text_extracts() {
    let dir = tempfile::tempdir().unwrap();
    let result = run(appeal(dir.path(), Path::new("appeals"))
        .args(["--format", "pdf"])
        .arg(full_record()));
    assert_eq!(result.code, 0, "{}", result.stdout);
    let bytes = std::fs::read(dir.path().join("appeals/CLM-2026-0307.pdf")).unwrap();
    let text = pdf_extract::extract_text_from_mem(&bytes).unwrap();
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for expected in [
        "Riverside Family Medicine",
        "RE: Appeal of denied claim CLM-2026-0307",
        "Patient: Maria Alvarez",
        "Progress note NOTE-5521, written by Dana Whitfield (RN)",
        "Denial code: CCM32 – Patient portal utilization not promoted (CO-16, N706)",
        "6. Audit trail entry AUD-90214 (portal.invitation.sent), March 3, 2026",
        "Revenue Cycle Manager",
    ] {
        assert!(
            text.contains(expected),
            "PDF text lacks {expected:?}:\n{text}"
        );
    }
    assert!(
        !dir.path().join("appeals/CLM-2026-0307.md").exists(),
        "only the requested format is written"
    );
}

#[test]
fn late_claim_needs_allow_late() {
    let dir = tempfile::tempdir().unwrap();
    let practice = repo("examples/profiles/practice.yaml");
    let mut command = appeal_with(dir.path(), Path::new("appeals"), "2026-10-01", &practice);
    command.arg(full_record());
    let result = run(&mut command);
    assert_eq!(result.code, 1, "{}", result.stdout);
    assert!(
        result
            .stdout
            .contains("not appealed: the appeal deadline passed on"),
        "{}",
        result.stdout
    );
    assert!(result.stdout.contains("(2 days late)"), "{}", result.stdout);
    assert!(result.stdout.contains("not appealed (the appeal deadline has passed); recommended action: do not appeal unless"), "{}", result.stdout);
    assert!(!dir.path().join("appeals/CLM-2026-0307.md").exists());

    let mut command = appeal_with(dir.path(), Path::new("appeals"), "2026-10-01", &practice);
    command.arg("--allow-late").arg(full_record());
    let result = run(&mut command);
    assert_eq!(result.code, 0, "{}", result.stdout);
    assert!(
        result
            .stdout
            .contains("the appeal deadline passed on 2026-09-29 (2 days"),
        "{}",
        result.stdout
    );
    assert!(
        result.stdout.contains("appeal by 2026-09-29 (2 days late;"),
        "{}",
        result.stdout
    );
    assert!(dir.path().join("appeals/CLM-2026-0307.md").exists());
}

#[test]
fn deadline_within_14_days_warns() {
    let dir = tempfile::tempdir().unwrap();
    let practice = repo("examples/profiles/practice.yaml");
    let mut command = appeal_with(dir.path(), Path::new("appeals"), "2026-09-20", &practice);
    command.arg(full_record());
    let result = run(&mut command);
    assert_eq!(result.code, 0, "{}", result.stdout);
    assert!(
        result
            .stdout
            .contains("the appeal is due on 2026-09-29, in 9 days"),
        "{}",
        result.stdout
    );
    assert!(
        result.stdout.contains("appeal by 2026-09-29 (9 days left;"),
        "{}",
        result.stdout
    );
}

#[test]
fn unprocessable_claim_must_be_resubmitted() {
    let dir = tempfile::tempdir().unwrap();
    let record = write_record(dir.path(), "ma130.json", |v| {
        v["claim"]["denial"]["rarcs"] = json!(["MA130"])
    });
    let result = run(appeal(dir.path(), Path::new("appeals")).arg(&record));
    assert_eq!(result.code, 1, "{}", result.stdout);
    assert!(
        result.stdout.contains("unprocessable (CO-16, MA130)"),
        "{}",
        result.stdout
    );
    assert!(
        result
            .stdout
            .contains("recommended action: correct the claim and submit it again as a new claim"),
        "{}",
        result.stdout
    );
    assert_eq!(
        manifest(&dir.path().join("appeals"))["claims"][0]["action"],
        "correct-and-resubmit"
    );
}

#[test]
fn hostile_claim_ids_stay_in_the_output_folder() {
    let dir = tempfile::tempdir().unwrap();
    let ids = ["../../x", "/etc/passwd", "a\\b", "..", ".", "a/../b"];
    let lines: Vec<String> = ids
        .iter()
        .enumerate()
        .map(|(index, id)| {
            let mut value: Value =
                serde_json::from_str(&std::fs::read_to_string(full_record()).unwrap()).unwrap();
            value["claim"]["id"] = json!(id);
            value["encounter"]["id"] = json!(format!("ENC-{index}"));
            serde_json::to_string(&value).unwrap()
        })
        .collect();
    let input = dir.path().join("in/hostile.ndjson");
    std::fs::create_dir_all(input.parent().unwrap()).unwrap();
    std::fs::write(&input, lines.join("\n")).unwrap();

    let result = run(appeal(dir.path(), Path::new("out/appeals")).arg(&input));
    assert_eq!(result.code, 0, "{}", result.stdout);
    let written: Vec<String> = std::fs::read_dir(dir.path().join("out/appeals"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(written.len(), ids.len() + 1, "{written:?}");
    // Nothing outside the output folder changed.
    let mut top: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    top.sort();
    assert_eq!(top, ["in", "out"]);
    assert_eq!(
        std::fs::read_dir(dir.path().join("out")).unwrap().count(),
        1
    );
    assert_eq!(std::fs::read_dir(dir.path().join("in")).unwrap().count(), 1);
    let manifest = manifest(&dir.path().join("out/appeals"));
    for claim in manifest["claims"].as_array().unwrap() {
        let letter = claim["letters"][0].as_str().unwrap();
        assert!(
            !letter.contains('/') && !letter.contains('\\') && !letter.starts_with('.'),
            "{letter}"
        );
    }
}

#[test]
fn user_template_replaces_the_pack_template() {
    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("short.md.j2");
    std::fs::write(
        &template,
        "Appeal of {{ claim.id }} for {{ patient.name }}: {{ evidence | length }} items\n",
    )
    .unwrap();
    let mut command = appeal(dir.path(), Path::new("appeals"));
    command.arg("--template").arg(&template).arg(full_record());
    let result = run(&mut command);
    assert_eq!(result.code, 0, "{}", result.stdout);
    let letter = std::fs::read_to_string(dir.path().join("appeals/CLM-2026-0307.md")).unwrap();
    assert_eq!(
        letter,
        "Appeal of CLM-2026-0307 for Maria Alvarez: 4 items\n"
    );
}

#[test]
fn template_errors_are_located() {
    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("bad.md.j2");
    std::fs::write(&template, "Dear {{ payer.name }},\n{{ pateint.name }}\n").unwrap();
    let mut command = appeal(dir.path(), Path::new("appeals"));
    command.arg("--template").arg(&template).arg(full_record());
    let result = run(&mut command);
    assert_eq!(result.code, 2, "{}", result.stdout);
    assert!(
        result
            .stdout
            .contains("template uses undefined variable `pateint`"),
        "{}",
        result.stdout
    );
    assert!(
        result.stdout.contains("did you mean `patient`?"),
        "{}",
        result.stdout
    );
    assert!(result.stdout.contains("bad.md.j2:2:"), "{}", result.stdout);

    // An attribute that does not exist fails at render time: no letter.
    std::fs::write(&template, "{{ patient.nickname }}\n").unwrap();
    let mut command = appeal(dir.path(), Path::new("appeals"));
    command.arg("--template").arg(&template).arg(full_record());
    let result = run(&mut command);
    assert_eq!(result.code, 2, "{}", result.stdout);
    assert!(
        result.stdout.contains("undefined value"),
        "{}",
        result.stdout
    );
    assert!(!dir.path().join("appeals/CLM-2026-0307.md").exists());
}

#[test]
fn unknown_payer_is_a_profile_error() {
    let dir = tempfile::tempdir().unwrap();
    let record = write_record(dir.path(), "other-payer.json", |v| {
        v["claim"]["payer"]["id"] = json!("77777")
    });
    let result = run(appeal(dir.path(), Path::new("appeals")).arg(&record));
    assert_eq!(result.code, 2, "{}", result.stdout);
    assert!(
        result
            .stdout
            .contains("payer 77777 is not in the payer profiles"),
        "{}",
        result.stdout
    );
}

#[test]
fn claims_without_an_answering_pack_are_not_considered() {
    let dir = tempfile::tempdir().unwrap();
    let record = write_record(dir.path(), "co45.json", |v| {
        v["claim"]["denial"] =
            json!({"group_code": "CO", "carc": "45", "notice_date": "2026-04-02"});
    });
    let result = run(appeal(dir.path(), Path::new("appeals")).arg(&record));
    assert_eq!(result.code, 0, "{}", result.stdout);
    assert!(
        result
            .stdout
            .contains("denial CO-45 is not covered by any rule pack; not considered"),
        "{}",
        result.stdout
    );
    assert!(
        !dir.path().join("appeals").exists(),
        "nothing to write, so no folder"
    );
}

#[test]
fn profiles_come_from_the_configuration_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("claimlint.yaml"),
        format!(
            "profiles:\n  practice: {}\n  payers: {}\n",
            repo("examples/profiles/practice.yaml").display(),
            repo("examples/profiles/payers.yaml").display()
        ),
    )
    .unwrap();
    let out = dir.path().join("letters");
    let mut command = Command::cargo_bin("claimlint").expect("binary is built");
    command
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .args(["appeal", "--today", TODAY, "--out"])
        .arg(&out)
        .arg(full_record());
    let result = run(&mut command);
    assert_eq!(result.code, 0, "{}", result.stdout);
    assert!(out.join("CLM-2026-0307.md").is_file(), "{}", result.stdout);
}
