//! examples/scaling/shard-and-check.sh against one `claimlint check` run:
//! sharding by patient must not change the findings or the exit code.
//!
//! The tests need bash and the tools the script calls. Where one is missing,
//! each test prints why and passes without running.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const CLAIMLINT: &str = env!("CARGO_BIN_EXE_claimlint");
const TOOLS: &[&str] = &["bash", "jq", "awk", "paste", "split", "xargs", "sort"];

/// Position fields, which refer to the shard's lines in a shard run.
const POSITION_FIELDS: &[&str] = &["file", "line", "column", "end_line", "end_column"];

/// Returns the first tool of [`TOOLS`] that is not on PATH.
fn missing_tool() -> Option<&'static str> {
    TOOLS.iter().copied().find(|tool| {
        !Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    })
}

/// Prints the reason and returns true when the script cannot run here.
fn skip() -> bool {
    match missing_tool() {
        Some(tool) => {
            println!("skipped: `{tool}` not found, and shard-and-check.sh needs it");
            true
        }
        None => false,
    }
}

/// Writes every shipped example record as one NDJSON file: the single-record
/// files of examples/records compacted to one line each, then the batches.
fn shipped_examples(dir: &Path) -> PathBuf {
    let mut records: Vec<PathBuf> = fs::read_dir(Path::new(ROOT).join("examples/records"))
        .expect("examples/records is readable")
        .map(|entry| entry.expect("folder entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    records.sort();
    let mut text = String::new();
    for path in &records {
        let record: Value =
            serde_json::from_str(&fs::read_to_string(path).expect("example readable"))
                .expect("example is JSON");
        text.push_str(&record.to_string());
        text.push('\n');
    }
    for batch in [
        "examples/batch/march-ccm.ndjson",
        "examples/scaling/april-ccm.ndjson",
    ] {
        text.push_str(&fs::read_to_string(Path::new(ROOT).join(batch)).expect("batch readable"));
    }
    let path = dir.join("examples.ndjson");
    fs::write(&path, text).expect("write examples.ndjson");
    path
}

/// Findings of one NDJSON output with the position fields removed.
fn findings(ndjson: &str) -> Vec<Value> {
    let mut findings: Vec<Value> = ndjson
        .lines()
        .map(|line| {
            let mut finding: Value = serde_json::from_str(line).expect("a finding per line");
            let object = finding.as_object_mut().expect("a finding is an object");
            for field in POSITION_FIELDS {
                object.remove(*field);
            }
            finding
        })
        .collect();
    findings.sort_by_key(|finding| finding.to_string());
    findings
}

/// The (record_id, code, pointer) of each finding.
fn keys(findings: &[Value]) -> BTreeSet<(String, String, String)> {
    findings
        .iter()
        .map(|finding| {
            let field = |name: &str| finding[name].as_str().unwrap_or_default().to_string();
            (field("record_id"), field("code"), field("pointer"))
        })
        .collect()
}

/// Runs `claimlint check - --format ndjson` over `input` on standard input.
fn check_whole(input: &Path, extra: &[&str]) -> (i32, Vec<Value>) {
    let output = Command::new(CLAIMLINT)
        .args(["check", "-", "--format", "ndjson"])
        .args(extra)
        .stdin(fs::File::open(input).expect("input readable"))
        .env("NO_COLOR", "1")
        .output()
        .expect("claimlint runs");
    let stdout = String::from_utf8(output.stdout).expect("UTF-8 findings");
    (output.status.code().unwrap_or(-1), findings(&stdout))
}

/// Runs the shard script and returns its exit code, findings and stderr.
fn check_sharded(input: &Path, options: &[&str], extra: &[&str]) -> (i32, Vec<Value>, String) {
    let script = Path::new(ROOT).join("examples/scaling/shard-and-check.sh");
    let output = Command::new("bash")
        .arg(script)
        .args(options)
        .arg(input)
        .arg("--")
        .args(extra)
        .env("CLAIMLINT", CLAIMLINT)
        .env("NO_COLOR", "1")
        .output()
        .expect("bash runs");
    let stdout = String::from_utf8(output.stdout).expect("UTF-8 findings");
    let stderr = String::from_utf8(output.stderr).expect("UTF-8 stderr");
    (
        output.status.code().unwrap_or(-1),
        findings(&stdout),
        stderr,
    )
}

fn patient_month_key(record: &str, code: &str) -> (String, String, String) {
    (
        record.to_string(),
        code.to_string(),
        "/service_lines/0".to_string(),
    )
}

#[test]
fn patient_shards_match_one_run() {
    if skip() {
        return;
    }
    let dir = tempfile::tempdir().expect("temporary folder");
    let input = shipped_examples(dir.path());
    let (whole_status, whole) = check_whole(&input, &[]);
    assert_eq!(whole_status, 1, "the examples have errors");
    for shards in ["1", "3", "4", "7"] {
        let (status, sharded, stderr) = check_sharded(&input, &["-n", shards], &[]);
        assert_eq!(status, whole_status, "{shards} shards; stderr:\n{stderr}");
        assert_eq!(keys(&sharded), keys(&whole), "{shards} shards");
        assert_eq!(sharded, whole, "{shards} shards, whole findings");
    }
}

#[test]
fn patient_shards_keep_patient_month_findings() {
    if skip() {
        return;
    }
    let dir = tempfile::tempdir().expect("temporary folder");
    let input = shipped_examples(dir.path());
    let (_, sharded, _) = check_sharded(&input, &["-n", "4"], &[]);
    let found = keys(&sharded);
    assert!(found.contains(&patient_month_key("ENC-2026-0501", "CMS-CCM-012")));
    assert!(found.contains(&patient_month_key("ENC-2026-0504", "CMS-CCM-012")));
    assert!(found.contains(&patient_month_key("ENC-2026-0506", "CMS-CCM-013")));
}

#[test]
fn line_shards_lose_patient_month_findings() {
    if skip() {
        return;
    }
    let dir = tempfile::tempdir().expect("temporary folder");
    let input = shipped_examples(dir.path());
    let (_, whole) = check_whole(&input, &[]);
    let (status, sharded, _) = check_sharded(&input, &["-n", "4", "-b", "lines"], &[]);
    assert_eq!(status, 1);
    let found = keys(&sharded);
    let lost: Vec<_> = keys(&whole).difference(&found).cloned().collect();
    assert!(!lost.is_empty(), "line shards found every finding");
    for (_, code, _) in &lost {
        assert!(
            code == "CMS-CCM-012" || code == "CMS-CCM-013",
            "line shards lost the record-scope finding {code}"
        );
    }
    assert!(!found.contains(&patient_month_key("ENC-2026-0501", "CMS-CCM-012")));
}

#[test]
fn input_error_in_one_shard_exits_2() {
    if skip() {
        return;
    }
    let dir = tempfile::tempdir().expect("temporary folder");
    let input = shipped_examples(dir.path());
    let mut text = fs::read_to_string(&input).expect("examples readable");
    text.push_str("{\"record_type\": \"claimlint.encounter/v1\", \"patient\": \n");
    fs::write(&input, text).expect("append an invalid line");

    let (whole_status, whole) = check_whole(&input, &[]);
    assert_eq!(whole_status, 2);
    let (status, sharded, stderr) = check_sharded(&input, &["-n", "4"], &[]);
    assert_eq!(status, 2, "stderr:\n{stderr}");
    assert_eq!(sharded, whole, "the other records are still checked");
    assert!(stderr.contains("1 input error"), "stderr:\n{stderr}");
    assert!(stderr.contains("a shard failed"), "stderr:\n{stderr}");
}

#[test]
fn truncated_gzip_input_exits_2() {
    if skip() {
        return;
    }
    let dir = tempfile::tempdir().expect("temporary folder");
    let input = shipped_examples(dir.path());
    let status = Command::new("gzip")
        .arg("-k")
        .arg(&input)
        .status()
        .expect("gzip runs");
    assert!(status.success());
    let gz = input.with_extension("ndjson.gz");
    let bytes = fs::read(&gz).expect("gzip output");
    fs::write(&gz, &bytes[..bytes.len() / 2]).expect("truncate");

    let (status, findings, stderr) = check_sharded(&gz, &["-n", "2"], &[]);
    assert_eq!(status, 2, "stderr:\n{stderr}");
    assert!(findings.is_empty());
    assert!(
        stderr.contains("cannot read every input"),
        "stderr:\n{stderr}"
    );
}

#[test]
fn compliant_records_exit_0() {
    if skip() {
        return;
    }
    let dir = tempfile::tempdir().expect("temporary folder");
    let april = fs::read_to_string(Path::new(ROOT).join("examples/scaling/april-ccm.ndjson"))
        .expect("april batch readable");
    // PT-30003 and PT-30004 each have one compliant record.
    let compliant: String = april
        .lines()
        .filter(|line| line.contains("PT-30003") || line.contains("PT-30004"))
        .map(|line| format!("{line}\n"))
        .collect();
    let input = dir.path().join("compliant.ndjson");
    fs::write(&input, compliant).expect("write compliant.ndjson");

    let (whole_status, whole) = check_whole(&input, &[]);
    assert_eq!(whole_status, 0);
    assert!(whole.is_empty());
    let (status, sharded, stderr) = check_sharded(&input, &["-n", "4"], &[]);
    assert_eq!(status, 0, "stderr:\n{stderr}");
    assert!(sharded.is_empty());
}

#[test]
fn check_options_reach_every_shard() {
    if skip() {
        return;
    }
    let dir = tempfile::tempdir().expect("temporary folder");
    let input = shipped_examples(dir.path());
    let (whole_status, whole) = check_whole(&input, &["--exit-zero"]);
    assert_eq!(whole_status, 0);
    let (status, sharded, stderr) = check_sharded(&input, &["-n", "3"], &["--exit-zero"]);
    assert_eq!(status, 0, "stderr:\n{stderr}");
    assert_eq!(sharded, whole);
}

#[test]
fn invalid_shard_count_exits_2() {
    if skip() {
        return;
    }
    let dir = tempfile::tempdir().expect("temporary folder");
    let input = shipped_examples(dir.path());
    let (status, sharded, stderr) = check_sharded(&input, &["-n", "0"], &[]);
    assert_eq!(status, 2);
    assert!(sharded.is_empty());
    assert!(stderr.contains("-n must be"), "stderr:\n{stderr}");
}
