//! Hostile rule, mapping and profile files: an alias bomb, deep nesting, a
//! huge regex and an oversized file are each rejected with a located error,
//! within bounded time, before any record is read. Fixtures are in
//! tests/data/hostile/config/.

use std::path::Path;
use std::time::{Duration, Instant};

use assert_cmd::Command;

/// Far above the tens of milliseconds these runs take, and far below what
/// expanding an alias bomb (10^10 nodes) or compiling an unbounded regex
/// would take.
const TIME_LIMIT: Duration = Duration::from_secs(10);

fn run(args: &[&str]) -> (i32, String, Duration) {
    let mut cmd = Command::cargo_bin("claimlint").expect("binary built");
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd.env_remove("COLUMNS").env("NO_COLOR", "1");
    let started = Instant::now();
    let output = cmd.args(args).output().expect("claimlint runs");
    let elapsed = started.elapsed();
    let stdout = String::from_utf8(output.stdout).expect("UTF-8 output");
    (output.status.code().unwrap_or(-1), stdout, elapsed)
}

fn unwrapped(stdout: &str) -> String {
    stdout
        .split_whitespace()
        .filter(|word| *word != "│")
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs `args` and asserts exit code 2, the message at `location`, the help
/// and the final line, within the time limit.
fn assert_rejected(args: &[&str], location: &str, message: &str, help: &str, last_line: &str) {
    let (code, stdout, elapsed) = run(args);
    let flat = unwrapped(&stdout);
    assert_eq!(code, 2, "{stdout}");
    assert!(elapsed < TIME_LIMIT, "took {elapsed:?}");
    assert!(
        stdout.contains(&format!("╭─[{location}]")),
        "location {location}: {stdout}"
    );
    assert!(flat.contains(&format!("× {message}")), "message: {stdout}");
    assert!(flat.contains(&format!("help: {help}")), "help: {stdout}");
    assert!(
        stdout.ends_with(&format!("{last_line}\n")),
        "last line: {stdout}"
    );
}

const RULES_FAILED: &str = "claimlint: the rule set has 1 error(s); nothing was checked";
const MAPPING_FAILED: &str = "claimlint: the FHIR mapping has 1 error(s); nothing was checked";
const RECORD: &str = "examples/records/compliant.json";
const ALIAS_HELP: &str = "write the value out in full instead of referring to an anchor";
const DEPTH_HELP: &str = "flatten the document; configuration files are never nested this deep";

#[test]
fn alias_bomb_in_rules_is_rejected() {
    assert_rejected(
        &[
            "check",
            "--rules",
            "tests/data/hostile/config/alias-bomb.yaml",
            RECORD,
        ],
        "tests/data/hostile/config/alias-bomb.yaml:2:8",
        "YAML aliases are not supported",
        ALIAS_HELP,
        RULES_FAILED,
    );
}

#[test]
fn alias_bomb_in_mapping_is_rejected() {
    assert_rejected(
        &[
            "check",
            "--fhir-mapping",
            "tests/data/hostile/config/alias-bomb.yaml",
            RECORD,
        ],
        "tests/data/hostile/config/alias-bomb.yaml:2:8",
        "YAML aliases are not supported",
        ALIAS_HELP,
        MAPPING_FAILED,
    );
}

#[test]
fn alias_bomb_in_validate_is_rejected() {
    let (code, stdout, elapsed) = run(&["validate", "tests/data/hostile/config/alias-bomb.yaml"]);
    assert_eq!(code, 2, "{stdout}");
    assert!(elapsed < TIME_LIMIT, "took {elapsed:?}");
    assert!(
        unwrapped(&stdout).contains("× YAML aliases are not supported"),
        "{stdout}"
    );
}

#[test]
fn deep_flow_nesting_is_rejected() {
    assert_rejected(
        &[
            "check",
            "--rules",
            "tests/data/hostile/config/deep-nesting.yaml",
            RECORD,
        ],
        "tests/data/hostile/config/deep-nesting.yaml:3:263",
        "the document is nested deeper than 64 levels",
        DEPTH_HELP,
        RULES_FAILED,
    );
}

#[test]
fn deep_block_nesting_is_rejected() {
    assert_rejected(
        &[
            "check",
            "--fhir-mapping",
            "tests/data/hostile/config/deep-block.yaml",
            RECORD,
        ],
        "tests/data/hostile/config/deep-block.yaml:65:132",
        "the document is nested deeper than 64 levels",
        DEPTH_HELP,
        MAPPING_FAILED,
    );
}

#[test]
fn huge_regex_is_rejected() {
    assert_rejected(
        &[
            "check",
            "--rules",
            "tests/data/hostile/config/huge-regex.yaml",
            RECORD,
        ],
        "tests/data/hostile/config/huge-regex.yaml:18:40",
        "invalid regex: Compiled regex exceeds size limit of 1048576 bytes.",
        "simplify the regex: use fewer or smaller counted repetitions such as `{1000}`",
        RULES_FAILED,
    );
}

#[test]
fn oversized_rule_file_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.yaml");
    let mut text = String::from("pack:\n  id: big\n# ");
    text.push_str(&"x".repeat(16 * 1024 * 1024));
    text.push('\n');
    std::fs::write(&path, text).unwrap();
    let path = path.display().to_string();

    let (code, stdout, elapsed) = run(&["check", "--rules", &path, RECORD]);
    let flat = unwrapped(&stdout);
    assert_eq!(code, 2, "{stdout}");
    assert!(elapsed < TIME_LIMIT, "took {elapsed:?}");
    assert!(
        flat.contains("file is 16777235 bytes, over the limit of 16777216 bytes"),
        "{stdout}"
    );
    assert!(stdout.ends_with(&format!("{RULES_FAILED}\n")), "{stdout}");
}

#[test]
fn alias_bomb_in_practice_profile_is_rejected() {
    let out = tempfile::tempdir().unwrap();
    let bomb =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/hostile/config/alias-bomb.yaml");
    let out_arg = out.path().display().to_string();
    let bomb_arg = bomb.display().to_string();
    let (code, stdout, elapsed) = run(&[
        "appeal",
        "examples/records/denied-ccm32-full-evidence.json",
        "--practice",
        &bomb_arg,
        "--payers",
        "examples/profiles/payers.yaml",
        "--out",
        &out_arg,
    ]);
    assert_eq!(code, 2, "{stdout}");
    assert!(elapsed < TIME_LIMIT, "took {elapsed:?}");
    assert!(
        unwrapped(&stdout).contains(&format!("× {bomb_arg}: YAML aliases are not supported")),
        "{stdout}"
    );
    assert_eq!(
        std::fs::read_dir(out.path()).unwrap().count(),
        0,
        "no letter is written"
    );
}
