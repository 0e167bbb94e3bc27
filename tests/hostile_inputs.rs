//! Hard inputs seen in real healthcare exports, run through `claimlint
//! check`. Each bad file must give one located diagnostic with a help line,
//! the other input (a compliant record) must still be checked, and the run
//! must exit with 2. Fixtures are in tests/data/hostile/.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use assert_cmd::Command;
use claimlint::input::{load_file, Framing};
use claimlint::record::RecordSchema;

const GOOD: &str = "examples/records/compliant.json";

/// The summary line when the fixture has one input error and the compliant
/// record was checked.
const ONE_ERROR_SUMMARY: &str =
    "claimlint: 2 files checked, 1 record (0 not applicable); 0 errors, 0 warnings, 0 info; 1 input error in 1 input\n";

fn claimlint() -> Command {
    let mut cmd = Command::cargo_bin("claimlint").expect("binary built");
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd.env_remove("COLUMNS").env("NO_COLOR", "1");
    cmd
}

fn run<I, S>(args: I) -> (i32, String)
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let output = claimlint().args(args).output().expect("claimlint runs");
    let stdout = String::from_utf8(output.stdout).expect("UTF-8 output");
    (output.status.code().unwrap_or(-1), stdout)
}

/// The output with line wrapping and miette's gutter removed, so a message
/// can be compared whole.
fn unwrapped(stdout: &str) -> String {
    stdout
        .split_whitespace()
        .filter(|word| *word != "│")
        .collect::<Vec<_>>()
        .join(" ")
}

/// Checks `fixture` together with the compliant example and asserts one
/// input error with this message, location and help.
fn assert_input_error(fixture: &str, location: Option<&str>, message: &str, help: &str) -> String {
    let path = format!("tests/data/hostile/{fixture}");
    let (code, stdout) = run(["check", &path, GOOD]);
    let flat = unwrapped(&stdout);

    assert_eq!(code, 2, "{stdout}");
    match location {
        Some(at) => {
            assert!(
                stdout.contains(&format!("╭─[{path}:{at}]")),
                "location {at}: {stdout}"
            );
            assert!(flat.contains(&format!("× {message}")), "message: {stdout}");
        }
        None => assert!(
            flat.contains(&format!("× {path}: {message}")),
            "message: {stdout}"
        ),
    }
    assert!(flat.contains(&format!("help: {help}")), "help: {stdout}");
    assert!(stdout.ends_with(ONE_ERROR_SUMMARY), "summary: {stdout}");
    stdout
}

#[test]
fn bom_is_skipped_and_locations_unchanged() {
    let (code, with_bom) = run(["check", "tests/data/hostile/bom.json"]);
    let (_, without) = run(["check", "examples/records/fail-invitation-not-logged.json"]);
    assert_eq!(code, 1, "{with_bom}");
    assert!(
        with_bom.contains("╭─[tests/data/hostile/bom.json:94:15]"),
        "{with_bom}"
    );
    assert_eq!(
        with_bom.replace("tests/data/hostile/bom.json", "FILE"),
        without.replace("examples/records/fail-invitation-not-logged.json", "FILE")
    );
}

#[test]
fn duplicate_key_names_both_places() {
    assert_input_error(
        "duplicate-key.json",
        Some("3:31"),
        "duplicate key `id` in object /patient; it first appears at line 3, column 16",
        "remove one of the two members; the document is not checked until then, because readers disagree on which value wins",
    );
}

#[test]
fn integer_beyond_53_bits_compared_exactly() {
    let (code, stdout) = run([
        "check",
        "--rules",
        "tests/data/hostile/rules",
        "tests/data/hostile/precision.json",
        "tests/data/hostile/precision-rounded.json",
    ]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        !stdout.contains("record ENC-PREC: the first service line does not bill"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "record ENC-PREC-ROUNDED: the first service line does not bill 9007199254740993 units"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("\"units\": 9007199254740992,"),
        "snippet keeps the text: {stdout}"
    );
}

#[test]
fn decimal_trailing_zeros_compared_by_value() {
    let (_, stdout) = run([
        "check",
        "--rules",
        "tests/data/hostile/rules",
        "tests/data/hostile/precision.json",
    ]);
    assert!(
        !stdout.contains("does not charge 0.7"),
        "0.700 equals 0.7: {stdout}"
    );
    let (_, stdout) = run([
        "check",
        "--rules",
        "tests/data/hostile/rules",
        "tests/data/hostile/precision-rounded.json",
    ]);
    assert!(
        stdout.contains("record ENC-PREC-ROUNDED: the first service line does not charge 0.7"),
        "{stdout}"
    );
}

#[test]
fn number_text_survives_loading() {
    let bytes = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/hostile/precision.json"),
    )
    .unwrap();
    let loaded = load_file(
        Arc::from("precision.json"),
        &bytes,
        Framing::Json,
        &RecordSchema::new(),
    );
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    let record = &loaded.records[0];

    let units = record.value.pointer("/service_lines/0/units").unwrap();
    let charge = record.value.pointer("/service_lines/0/charge").unwrap();
    assert_eq!(units.to_string(), "9007199254740993");
    assert_eq!(charge.to_string(), "0.700");
    let written = serde_json::to_string(&record.value).unwrap();
    assert!(written.contains("\"units\":9007199254740993,"), "{written}");
    assert!(written.contains("\"charge\":0.700"), "{written}");
}

#[test]
fn partial_month_date_is_undecided() {
    let (code, stdout) = run(["check", "tests/data/hostile/partial-date.json"]);
    let flat = unwrapped(&stdout);
    assert_eq!(code, 0, "undecided is a warning, not a failure: {stdout}");
    assert!(flat.contains("⚠ record ENC-PARTIAL: no portal registration invitation is logged in the audit trail on 2026-03-03 (cannot be decided: a date in the record is not precise enough)"), "{stdout}");
    assert!(
        stdout.contains("╭─[tests/data/hostile/partial-date.json:102:20]"),
        "{stdout}"
    );
    assert!(
        stdout.ends_with("1 record (0 not applicable); 0 errors, 2 warnings, 0 info\n"),
        "{stdout}"
    );
}

#[test]
fn partial_year_date_is_undecided() {
    let (code, stdout) = run(["check", "tests/data/hostile/partial-year.json"]);
    assert_eq!(code, 0, "{stdout}");
    assert!(unwrapped(&stdout).contains("record ENC-YEAR: no portal invitation on 2026-03-03 went by email to the patient's verified address (cannot be decided: a date in the record is not precise enough)"), "{stdout}");
    assert!(
        stdout.ends_with("0 errors, 2 warnings, 0 info\n"),
        "{stdout}"
    );
}

#[test]
fn date_time_without_offset_is_local() {
    // Timestamps without an offset on the date of service are read as the
    // practice's local time, which settles a same-day window.
    let (code, stdout) = run(["check", "tests/data/hostile/no-timezone.json"]);
    assert_eq!(code, 0, "{stdout}");
    assert_eq!(
        stdout,
        "claimlint: 1 file checked, 1 record (0 not applicable); 0 errors, 0 warnings, 0 info\n"
    );
}

#[test]
fn null_field_is_a_schema_error() {
    let stdout = assert_input_error(
        "null-field.json",
        Some("11:14"),
        "record ENC-NULL: patient.email: value is not of type \"string\"",
        "fix the field so the record matches schemas/encounter-record.schema.json",
    );
    assert!(
        stdout.contains("\"email\": ****,"),
        "null is masked like a value: {stdout}"
    );
}

#[test]
fn missing_field_is_a_finding() {
    let (code, stdout) = run(["check", "tests/data/hostile/missing-field.json"]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("CCM32-004 portal-invitation-not-to-verified-email"),
        "{stdout}"
    );
    assert!(!stdout.contains("claimlint::input"), "{stdout}");
}

#[test]
fn empty_encounter_id_is_named_as_missing() {
    assert_input_error(
        "empty-strings.json",
        Some("7:11"),
        "record (no encounter id): encounter.id: value is shorter than 1 character",
        "fix the field so the record matches schemas/encounter-record.schema.json",
    );
}

#[test]
fn object_where_array_belongs_is_located() {
    assert_input_error(
        "object-for-array.json",
        Some("10:3"),
        "record ENC-OBJ: service_lines: value is not of type \"array\"",
        "fix the field so the record matches schemas/encounter-record.schema.json",
    );
}

#[test]
fn ndjson_crlf_blank_lines_no_final_newline() {
    let (code, stdout) = run(["check", "tests/data/hostile/crlf-blank-lines.ndjson"]);
    assert_eq!(code, 2, "{stdout}");
    // Line 4 is the third record: blank lines count, CRLF is one line end.
    assert!(
        stdout.contains("╭─[tests/data/hostile/crlf-blank-lines.ndjson:4:123]"),
        "{stdout}"
    );
    assert!(
        unwrapped(&stdout).contains("× record ENC-NDJ-3: encounter.date_of_service is not a date"),
        "{stdout}"
    );
    assert!(stdout.ends_with("1 file checked, 2 records (2 not applicable); 0 errors, 0 warnings, 0 info; 1 input error in 1 input\n"), "{stdout}");
}

#[test]
fn ndjson_line_holding_a_bundle() {
    let (code, stdout) = run(["check", "tests/data/hostile/bundle-line.ndjson"]);
    assert_eq!(code, 0, "{stdout}");
    assert_eq!(
        stdout,
        "claimlint: 1 file checked, 1 record (0 not applicable); 0 errors, 0 warnings, 0 info\n"
    );
}

#[test]
fn concatenated_documents_are_located() {
    assert_input_error(
        "concatenated.json",
        Some("2:1"),
        "several JSON documents in one file",
        "put one record per line in a .ndjson file, or wrap the records in a JSON array",
    );
}

#[test]
fn nesting_beyond_the_limit_is_located() {
    assert_input_error(
        "deep-nesting.json",
        Some("1:200"),
        "the JSON document is nested too deeply (over 128 levels)",
        "check the export; encounter records are never nested this deep",
    );
}

#[test]
fn lone_surrogate_escape_is_named() {
    let stdout = assert_input_error(
        "lone-surrogate.json",
        Some("1:89"),
        "invalid JSON: a \\u escape encodes a lone UTF-16 surrogate (D800-DFFF), which is not a character",
        "re-export the file; a character outside the Basic Multilingual Plane must be written as a \\uD8xx\\uDCxx pair",
    );
    assert!(!stdout.contains("\\ud800"), "the name is masked: {stdout}");
}

#[test]
fn nfc_and_nfd_names_are_equal() {
    let (code, stdout) = run([
        "check",
        "--rules",
        "tests/data/hostile/rules",
        "tests/data/hostile/name-nfc.json",
        "tests/data/hostile/name-nfd.json",
    ]);
    assert_eq!(code, 1, "HOST-001 and HOST-002 fail: {stdout}");
    assert!(!stdout.contains("HOST-003"), "{stdout}");
}

#[test]
fn gzip_in_ndjson_is_decompressed_and_checked() {
    // A Bulk-FHIR export is often gzipped whatever its file name says; the
    // gzip magic number, not the name, decides.
    let (code, stdout) = run(["check", "tests/data/hostile/gzip.ndjson"]);
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.ends_with(
            "1 file checked, 1 record (1 not applicable); 0 errors, 0 warnings, 0 info\n"
        ),
        "{stdout}"
    );
}

#[test]
fn stu3_resource_is_rejected() {
    assert_input_error(
        "stu3-communication.json",
        Some("1:1"),
        "Communication/example is FHIR STU3 (3.0), not R4: it has `definition` (R4: `instantiatesCanonical`/`instantiatesUri`); it has `context` (R4: `encounter`); it uses the pre-R4 code system http://hl7.org/fhir/v3/ParticipationMode",
        "claimlint reads FHIR R4 (4.0) only; export the data as FHIR R4, or convert it to R4 first",
    );
}

#[test]
fn dstu2_resource_is_rejected() {
    assert_input_error(
        "dstu2-encounter.json",
        Some("1:1"),
        "Encounter/dstu2-enc is FHIR DSTU2 (1.0), not R4: it has `patient` (R4: `subject`); `class` is a plain string (R4: a Coding)",
        "claimlint reads FHIR R4 (4.0) only; export the data as FHIR R4, or convert it to R4 first",
    );
}

#[test]
fn placeholder_in_a_date_is_rejected() {
    let stdout = assert_input_error(
        "placeholder-date.json",
        Some("8:24"),
        "record ENC-PH: encounter.date_of_service is not a date: write YYYY-MM-DD (or YYYY-MM, YYYY for a partial date)",
        "fix the field so the record matches schemas/encounter-record.schema.json",
    );
    assert!(
        !unwrapped(&stdout).contains("× record ENC-PH: IGNORED_FIELD"),
        "{stdout}"
    );
}

#[test]
fn invalid_utf8_is_located_by_byte() {
    assert_input_error(
        "invalid-utf8.json",
        None,
        "invalid UTF-8 at byte 70 (line 3, column 26)",
        "re-export the file as UTF-8, or find the bytes at this position and fix their encoding",
    );
}

#[test]
fn empty_file_is_reported() {
    assert_input_error(
        "empty.json",
        Some("1:1"),
        "the file is empty",
        "check that the export finished writing this file",
    );
}

#[test]
fn symlink_loop_in_a_folder_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(GOOD),
        dir.path().join("a.json"),
    )
    .unwrap();
    std::os::unix::fs::symlink(dir.path(), dir.path().join("loop")).unwrap();

    let (code, stdout) = run([Path::new("check"), dir.path()]);
    let flat = unwrapped(&stdout);
    assert_eq!(code, 2, "{stdout}");
    assert!(
        flat.contains(&format!(
            "× {}: cannot read: symlink loop; not followed",
            dir.path().join("loop").display()
        )),
        "{stdout}"
    );
    assert!(
        flat.contains(
            "help: check that the path exists and is readable; the other inputs are still checked"
        ),
        "{stdout}"
    );
    assert!(stdout.ends_with("1 file checked, 1 record (0 not applicable); 0 errors, 0 warnings, 0 info; 1 input error in 1 input\n"), "{stdout}");
}

#[test]
fn unreadable_file_is_reported() {
    // Root can read a file whatever its mode, but nobody can read
    // /proc/self/mem from offset 0: the first page is never mapped.
    let path = Path::new("/proc/self/mem");
    if !path.exists() {
        println!("skipped: /proc/self/mem does not exist on this system");
        return;
    }
    let (code, stdout) = run(["check", "/proc/self/mem", GOOD]);
    let flat = unwrapped(&stdout);
    assert_eq!(code, 2, "{stdout}");
    assert!(
        flat.contains("× /proc/self/mem: cannot read: Input/output error (os error 5)"),
        "{stdout}"
    );
    assert!(
        flat.contains("help: check the file's permissions and the device it is on"),
        "{stdout}"
    );
    assert!(stdout.ends_with(ONE_ERROR_SUMMARY), "{stdout}");
}

#[test]
fn fifo_named_on_the_command_line_is_read() {
    // Process substitution, `check <(zcat export.ndjson.gz)`, passes a pipe.
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe.json");
    let status = std::process::Command::new("mkfifo").arg(&fifo).status();
    if !matches!(status, Ok(s) if s.success()) {
        println!("skipped: mkfifo is not available");
        return;
    }
    let record = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(GOOD)).unwrap();
    let writer_path = fifo.clone();
    let writer = std::thread::spawn(move || {
        let mut pipe = std::fs::OpenOptions::new()
            .write(true)
            .open(writer_path)
            .unwrap();
        pipe.write_all(&record).unwrap();
    });
    let (code, stdout) = run([Path::new("check"), &fifo]);
    writer.join().unwrap();
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.ends_with(
            "1 file checked, 1 record (0 not applicable); 0 errors, 0 warnings, 0 info\n"
        ),
        "{stdout}"
    );
}
