//! `claimlint check` writes the same report, byte for byte, whatever the
//! number of worker threads: records are checked in batches on several
//! threads, and the report must not depend on which finishes first.

use std::path::Path;

use assert_cmd::Command;

const BATCH: &str = include_str!("../examples/batch/march-ccm.ndjson");
const RECORD: &str = include_str!("../examples/records/fail-portal-not-offered.json");

/// Runs `check` with `threads` workers in `dir` and returns the exit code,
/// stdout and the `--output` files.
fn check(dir: &Path, threads: &str, format: &str) -> (Option<i32>, String, String, String) {
    let output = Command::cargo_bin("claimlint")
        .expect("binary built")
        .current_dir(dir)
        .env_remove("COLUMNS")
        .env_remove("RAYON_NUM_THREADS")
        .env("NO_COLOR", "1")
        .args(["check", "--threads", threads, "--format", format])
        .args([
            "--output",
            &format!("junit=junit-{threads}.xml"),
            "--output",
            &format!("human=human-{threads}.txt"),
            "inputs",
        ])
        .output()
        .unwrap();
    let read = |name: String| std::fs::read_to_string(dir.join(name)).unwrap_or_default();
    (
        output.status.code(),
        String::from_utf8(output.stdout).unwrap(),
        read(format!("junit-{threads}.xml")),
        read(format!("human-{threads}.txt")),
    )
}

/// Writes a folder of inputs that spans several batches: 1,000 NDJSON records (with
/// findings, not-applicable records, patient-month groups across files, a
/// broken line and a duplicate encounter), and single-record files.
fn inputs(dir: &Path) {
    let folder = dir.join("inputs");
    std::fs::create_dir(&folder).unwrap();
    let lines: Vec<&str> = BATCH.lines().filter(|l| !l.trim().is_empty()).collect();
    for part in 0..2 {
        let mut text = String::new();
        for copy in 0..(500 / lines.len()) {
            for line in &lines {
                // Patients repeat across the two files, encounters do not.
                text.push_str(
                    &line
                        .replace("\"ENC-", &format!("\"ENC-{part}-{copy}-"))
                        .replace("\"PT-", &format!("\"PT-{}-", copy % 7)),
                );
                text.push('\n');
            }
            if copy == 40 {
                text.push_str("{\"broken\n\n");
            }
        }
        if part == 1 {
            // The first record of part 0 again: reported, not checked.
            text.push_str(
                &lines[0]
                    .replace("\"ENC-", "\"ENC-0-0-")
                    .replace("\"PT-", "\"PT-0-"),
            );
            text.push('\n');
        }
        std::fs::write(folder.join(format!("part-{part}.ndjson")), text).unwrap();
    }
    for index in 0..40 {
        let record = RECORD.replacen("\"id\": \"ENC-", &format!("\"id\": \"ENC-F{index}-"), 1);
        std::fs::write(folder.join(format!("record-{index:02}.json")), record).unwrap();
    }
}

#[test]
fn reports_match_across_thread_counts() {
    let dir = tempfile::tempdir().unwrap();
    inputs(dir.path());
    for (format, counts) in [
        ("json", &["2", "3", "8"][..]),
        ("human", &["2", "3"][..]),
        ("ndjson", &["2"][..]),
        ("sarif", &["2"][..]),
    ] {
        let one = check(dir.path(), "1", format);
        assert_eq!(one.0, Some(2), "the broken lines are input errors");
        assert!(one.1.len() > 10_000, "{format} report is too short");
        for &threads in counts {
            let many = check(dir.path(), threads, format);
            assert_eq!(many.0, one.0, "{format} on {threads} threads");
            assert!(
                many.1 == one.1,
                "{format} stdout differs on {threads} threads"
            );
            assert!(many.2 == one.2, "JUnit differs on {threads} threads");
            assert!(many.3 == one.3, "human file differs on {threads} threads");
        }
    }
    let (_, human, _, _) = check(dir.path(), "2", "human");
    assert!(human.contains("encounter ENC-0-0-"), "duplicate reported");
    assert!(
        human.contains("CMS-CCM-012"),
        "patient-month findings across files"
    );
}

#[test]
fn zero_threads_is_refused() {
    let output = Command::cargo_bin("claimlint")
        .unwrap()
        .args(["check", "--threads", "0", "."])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("--threads"), "{stderr}");
    assert!(
        stderr.contains("the number of threads must be at least 1"),
        "{stderr}"
    );
}

/// Runs `check` in a pseudo-terminal made by `script`, so that stderr is a
/// terminal; returns what the terminal showed, or `None` without `script`.
fn on_terminal(dir: &Path, ci: bool) -> Option<String> {
    let binary = env!("CARGO_BIN_EXE_claimlint");
    let command = format!("{binary} check --format ndjson --threads 2 inputs > /dev/null");
    let mut script = std::process::Command::new("script");
    script
        .current_dir(dir)
        .args(["-qec", &command, "/dev/null"])
        .env_remove("CI");
    if ci {
        script.env("CI", "true");
    }
    let output = script.output().ok()?;
    Some(String::from_utf8_lossy(&output.stdout).into_owned())
}

#[test]
fn progress_shows_on_a_terminal_only() {
    let dir = tempfile::tempdir().unwrap();
    inputs(dir.path());
    let Some(terminal) = on_terminal(dir.path(), false) else {
        println!("skipped: `script` (util-linux) is not installed");
        return;
    };

    // The first batch is always shown, and the line is cleared at the end.
    assert!(terminal.contains("records,"), "{terminal:?}");
    assert!(terminal.contains("MB read"), "{terminal:?}");
    assert!(terminal.contains("\r\u{1b}[K"), "{terminal:?}");

    let in_ci = on_terminal(dir.path(), true).unwrap_or_default();
    assert!(!in_ci.contains("MB read"), "progress in CI: {in_ci:?}");

    // With stderr piped: the input problems and the summary, no progress.
    let output = Command::cargo_bin("claimlint")
        .unwrap()
        .current_dir(dir.path())
        .env_remove("CI")
        .args(["check", "--format", "ndjson", "inputs"])
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(!stderr.contains('\r'), "{stderr:?}");
    assert!(!stderr.contains("MB read"), "{stderr:?}");
    let last = stderr.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("claimlint: 42 files checked"),
        "{stderr:?}"
    );
}
