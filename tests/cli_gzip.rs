//! `claimlint check` on gzip-compressed inputs: they are read, walked and
//! rendered exactly like the plain files.

use std::io::Write;
use std::path::Path;

use assert_cmd::Command;
use flate2::write::GzEncoder;
use flate2::Compression;

fn claimlint() -> Command {
    let mut cmd = Command::cargo_bin("claimlint").expect("binary built");
    cmd.env_remove("COLUMNS").env("NO_COLOR", "1");
    cmd
}

fn example(path: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// Runs `check` on `name` (relative to `dir`) and returns the exit code and
/// output.
fn check(dir: &Path, name: &str) -> (Option<i32>, String) {
    let output = claimlint()
        .current_dir(dir)
        .args(["check", name])
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8(output.stdout).unwrap(),
    )
}

#[test]
fn gzip_ndjson_reports_like_plain() {
    let dir = tempfile::tempdir().unwrap();
    let batch = example("examples/batch/march-ccm.ndjson");
    std::fs::write(dir.path().join("march.ndjson"), &batch).unwrap();
    std::fs::write(dir.path().join("march.ndjson.gz"), gzip(&batch)).unwrap();

    let (plain_code, plain) = check(dir.path(), "march.ndjson");
    let (gzip_code, compressed) = check(dir.path(), "march.ndjson.gz");
    assert_eq!(gzip_code, plain_code);
    assert!(plain.contains("╭─[march.ndjson:"), "{plain}");
    assert_eq!(compressed, plain.replace("march.ndjson", "march.ndjson.gz"));
}

#[test]
fn gzip_json_record_reports_like_plain() {
    let dir = tempfile::tempdir().unwrap();
    let record = example("examples/records/fail-portal-not-offered.json");
    std::fs::write(dir.path().join("r.json"), &record).unwrap();
    std::fs::write(dir.path().join("r.json.gz"), gzip(&record)).unwrap();

    let (plain_code, plain) = check(dir.path(), "r.json");
    let (gzip_code, compressed) = check(dir.path(), "r.json.gz");
    assert_eq!(gzip_code, Some(1));
    assert_eq!(gzip_code, plain_code);
    assert_eq!(compressed, plain.replace("r.json", "r.json.gz"));
}

#[test]
fn folder_walk_reads_gzip_files() {
    let dir = tempfile::tempdir().unwrap();
    let record = example("examples/records/compliant.json");
    std::fs::write(dir.path().join("a.json.gz"), gzip(&record)).unwrap();
    std::fs::write(dir.path().join("notes.txt.gz"), gzip(b"not JSON")).unwrap();

    let (code, stdout) = check(dir.path(), ".");
    assert_eq!(code, Some(0), "{stdout}");
    assert!(
        stdout.ends_with("1 file checked, 1 record (0 not applicable); 0 errors, 0 warnings, 0 info; 1 file skipped (not JSON)\n"),
        "{stdout}"
    );
}

#[test]
fn gzip_standard_input_is_read() {
    let record = example("examples/records/fail-portal-not-offered.json");
    let output = claimlint()
        .args(["check", "-"])
        .write_stdin(gzip(&record))
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("CCM32-001 portal-access-not-offered"),
        "{stdout}"
    );
    assert!(
        stdout.contains("╭─[<stdin>:"),
        "snippet from the decompressed text: {stdout}"
    );
}

#[test]
fn truncated_gzip_is_an_input_error() {
    let dir = tempfile::tempdir().unwrap();
    let compressed = gzip(&example("examples/batch/march-ccm.ndjson"));
    std::fs::write(
        dir.path().join("cut.ndjson.gz"),
        &compressed[..compressed.len() / 2],
    )
    .unwrap();

    let (code, stdout) = check(dir.path(), "cut.ndjson.gz");
    assert_eq!(code, Some(2), "{stdout}");
    assert!(stdout.contains("cannot decompress"), "{stdout}");
}
