use std::path::Path;

use super::*;

const PRACTICE: &str = include_str!("../../../examples/profiles/practice.yaml");
const PAYERS: &str = include_str!("../../../examples/profiles/payers.yaml");

fn practice_problems(text: &str) -> Vec<YamlError> {
    match PracticeProfile::parse(Path::new("practice.yaml"), text) {
        Ok(_) => Vec::new(),
        Err(error) => error.problems,
    }
}

fn payer_problems(text: &str) -> Vec<YamlError> {
    match PayerDirectory::parse(Path::new("payers.yaml"), text) {
        Ok(_) => Vec::new(),
        Err(error) => error.problems,
    }
}

/// Removes the line that starts (after indentation) with `key:`, and the
/// indented lines below it.
fn without_key(text: &str, key: &str) -> String {
    let mut out = Vec::new();
    let mut skip_below: Option<usize> = None;
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        if let Some(level) = skip_below {
            if indent > level || line.trim_start().starts_with("- ") && indent >= level {
                continue;
            }
            skip_below = None;
        }
        if line.trim_start().starts_with(&format!("{key}:")) {
            skip_below = Some(indent);
            continue;
        }
        out.push(line);
    }
    out.join("\n") + "\n"
}

#[test]
fn example_practice_profile_reads() {
    let practice =
        PracticeProfile::parse(Path::new("practice.yaml"), PRACTICE).expect("example is valid");
    assert_eq!(practice.name, "Riverside Family Medicine");
    assert_eq!(practice.npi, "1497758544");
    assert_eq!(practice.signer.title, "Revenue Cycle Manager");
    assert_eq!(
        practice.address.printed_lines(),
        ["1200 River Road, Suite 300", "Springfield, IL 62704"]
    );
}

#[test]
fn example_payer_profiles_read() {
    let payers = PayerDirectory::parse(Path::new("payers.yaml"), PAYERS).expect("example is valid");
    let acme = payers.get("60054").expect("Acme is listed");
    assert_eq!(acme.name, "Acme Health Plan");
    assert_eq!(acme.appeals_address.address.postal_code, "06101");
    assert_eq!(
        acme.appeals_address.attention.as_deref(),
        Some("Provider Appeals")
    );
    assert_eq!(acme.appeal_window_days, Some(180));
}

#[test]
fn each_missing_practice_field_is_named() {
    let cases = [
        ("name", "name"),
        ("address", "address"),
        ("lines", "address.lines"),
        ("city", "address.city"),
        ("state", "address.state"),
        ("postal_code", "address.postal_code"),
        ("phone", "phone"),
        ("npi", "npi"),
        ("signer", "signer"),
        ("title", "signer.title"),
    ];
    for (key, field) in cases {
        let problems = practice_problems(&without_key(PRACTICE, key));
        let expected = format!("practice profile is missing the required field `{field}`");
        assert!(
            problems.iter().any(|p| p.message == expected),
            "{key}: {problems:?}"
        );
    }
    // `name` also appears under `signer`; remove only the signer's.
    let text = PRACTICE.replace("  name: Jordan Ellis\n", "");
    let problems = practice_problems(&text);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(
        problems[0].message,
        "practice profile is missing the required field `signer.name`"
    );
}

#[test]
fn each_missing_payer_field_is_named() {
    let cases = [
        ("name", "payers.60054.name"),
        ("appeals_address", "payers.60054.appeals_address"),
        ("lines", "payers.60054.appeals_address.lines"),
        ("city", "payers.60054.appeals_address.city"),
        ("state", "payers.60054.appeals_address.state"),
        ("postal_code", "payers.60054.appeals_address.postal_code"),
    ];
    for (key, field) in cases {
        let problems = payer_problems(&without_key(PAYERS, key));
        let expected = format!("payer profiles is missing the required field `{field}`");
        assert!(
            problems.iter().any(|p| p.message == expected),
            "{key}: {problems:?}"
        );
    }
    // The window and the attention line are optional.
    assert!(payer_problems(&without_key(PAYERS, "appeal_window_days")).is_empty());
    assert!(payer_problems(&without_key(PAYERS, "attention")).is_empty());
}

#[test]
fn missing_field_error_names_the_file() {
    let error = PracticeProfile::parse(
        Path::new("profiles/practice.yaml"),
        &without_key(PRACTICE, "phone"),
    )
    .unwrap_err();
    assert!(
        error.to_string().starts_with("profiles/practice.yaml: "),
        "{error}"
    );
    assert!(error.to_string().contains("`phone`"), "{error}");
    let rendered = &error.diagnostics()[0];
    assert!(
        rendered.message.contains("profiles/practice.yaml"),
        "{}",
        rendered.message
    );
}

#[test]
fn unknown_key_suggests_the_closest() {
    let text = PRACTICE.replace("phone:", "phnoe:");
    let problems = practice_problems(&text);
    let unknown = problems
        .iter()
        .find(|p| p.message.starts_with("unknown key"))
        .expect("reported");
    assert_eq!(unknown.message, "unknown key `phnoe` in practice profile");
    assert_eq!(unknown.help.as_deref(), Some("did you mean `phone`?"));
    assert_eq!(&text[unknown.span.clone()], "phnoe");

    let text = PAYERS.replace("appeal_window_days", "appeal_window");
    let problems = payer_problems(&text);
    assert_eq!(
        problems[0].message,
        "unknown key `payers.60054.appeal_window` in payer profiles"
    );
    assert_eq!(
        problems[0].help.as_deref(),
        Some("did you mean `appeal_window_days`?")
    );
}

#[test]
fn blank_and_malformed_values_are_located() {
    let text = PRACTICE.replace("phone: (217) 555-0100", "phone: \"  \"");
    let problems = practice_problems(&text);
    assert_eq!(problems[0].message, "`phone` is empty in practice profile");
    assert_eq!(&text[problems[0].span.clone()], "\"  \"");

    let text = PRACTICE.replace("\"1497758544\"", "\"149775854\"");
    assert!(practice_problems(&text)[0]
        .message
        .starts_with("`npi` in practice profile"));

    let text = PAYERS.replace("appeal_window_days: 180", "appeal_window_days: soon");
    let problems = payer_problems(&text);
    assert!(
        problems[0].message.contains("appeal_window_days"),
        "{problems:?}"
    );
    assert_eq!(&text[problems[0].span.clone()], "soon");
}

#[test]
fn plain_scalars_keep_leading_zeros() {
    let text = PAYERS
        .replace("\"06101\"", "06101")
        .replace("\"60054\"", "60054");
    let payers = PayerDirectory::parse(Path::new("payers.yaml"), &text).expect("valid");
    assert_eq!(
        payers
            .get("60054")
            .unwrap()
            .appeals_address
            .address
            .postal_code,
        "06101"
    );
}

#[test]
fn npi_check_digit_is_verified() {
    assert!(npi_check_digit_is_valid("1497758544"));
    assert!(npi_check_digit_is_valid("1234567893"));
    assert!(!npi_check_digit_is_valid("1497758545"));
    let text = PRACTICE.replace("1497758544", "1497758545");
    let problems = practice_problems(&text);
    assert_eq!(
        problems[0].message,
        "`npi` 1497758545 has an invalid check digit"
    );
    assert_eq!(&text[problems[0].span.clone()], "\"1497758545\"");
}

#[test]
fn empty_and_invalid_yaml_are_errors() {
    assert!(!practice_problems("").is_empty());
    assert!(!practice_problems("name: [unclosed\n").is_empty());
    assert!(!payer_problems("payers: {}\n").is_empty());
}
