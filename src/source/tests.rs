//! Agreement of the scanners with `serde_json` on hand-written, generated
//! and real FHIR documents.

use serde_json::Value;

use super::*;

const PATIENT: &str = include_str!("../../tests/data/fhir-r4/patient-example.json");
const DOCUMENT_REFERENCE: &str =
    include_str!("../../tests/data/fhir-r4/documentreference-example.json");

/// Returns the pointer of every value in `value`, the root included.
fn all_pointers(value: &Value) -> Vec<String> {
    let mut pointers = Vec::new();
    collect_pointers(value, String::new(), &mut pointers);
    pointers
}

fn collect_pointers(value: &Value, pointer: String, pointers: &mut Vec<String>) {
    match value {
        Value::Object(members) => {
            for (name, member) in members {
                let mut child = pointer.clone();
                push_pointer_token(&mut child, name);
                collect_pointers(member, child, pointers);
            }
        }
        Value::Array(elements) => {
            for (index, element) in elements.iter().enumerate() {
                collect_pointers(element, format!("{pointer}/{index}"), pointers);
            }
        }
        _ => {}
    }
    pointers.push(pointer);
}

/// Parses `text` as `serde_json` does after the loader strips a byte order
/// mark.
fn parse(text: &str) -> Value {
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    serde_json::from_str(body).expect("test document is valid JSON")
}

/// Checks that `locate_pointer` agrees with `serde_json` at `pointer`: it
/// finds a value exactly when `serde_json` has one there, the located slice
/// parses to that value, and the key slice parses to the last token.
fn assert_pointer_agrees(text: &str, parsed: &Value, pointer: &str) {
    let expected = parsed.pointer(pointer);
    let located = locate_pointer(text, pointer);

    let (Some(expected), Some(located)) = (expected, &located) else {
        assert_eq!(
            located.is_some(),
            expected.is_some(),
            "presence at {pointer:?} in {text:?}"
        );
        return;
    };

    let slice = &text[located.value.clone()];
    let reparsed: Value = serde_json::from_str(slice)
        .unwrap_or_else(|error| panic!("slice {slice:?} at {pointer:?} does not parse: {error}"));
    assert_eq!(&reparsed, expected, "value at {pointer:?}");

    let last_token = pointer
        .rsplit('/')
        .next()
        .map(|token| token.replace("~1", "/").replace("~0", "~"));
    let parent = pointer
        .rfind('/')
        .and_then(|slash| parsed.pointer(&pointer[..slash]));
    match (parent, &located.key) {
        (Some(Value::Object(_)), Some(key)) => {
            let name: String = serde_json::from_str(&text[key.clone()]).expect("key is a string");
            assert_eq!(Some(name), last_token, "key at {pointer:?}");
            assert!(
                key.end <= located.value.start,
                "key before value at {pointer:?}"
            );
        }
        (Some(Value::Object(_)), None) => panic!("no key range for member {pointer:?}"),
        (_, key) => assert_eq!(key, &None, "key range for non-member {pointer:?}"),
    }
}

/// Checks every pointer of `text`'s value, and pointers just past each
/// container's contents.
fn assert_agrees_with_serde_json(text: &str) {
    let parsed = parse(text);
    for pointer in all_pointers(&parsed) {
        assert_pointer_agrees(text, &parsed, &pointer);

        let missing = match parsed.pointer(&pointer) {
            Some(Value::Array(elements)) => Some(format!("{pointer}/{}", elements.len())),
            Some(Value::Object(_)) => Some(format!("{pointer}/no-such-member")),
            Some(_) => Some(format!("{pointer}/0")),
            None => None,
        };
        if let Some(missing) = missing {
            assert_pointer_agrees(text, &parsed, &missing);
        }
    }
}

#[test]
fn hand_written_documents_agree() {
    let documents = [
        r#"{"a": {"b": [1, {"c": [true, false, null]}, []]}, "d": {}}"#,
        r#"{"a/b": {"m~n": 1, "~1": 2, "/": 3, "": {"": 4}}}"#,
        r#"{"\u0061": 1, "\u00e9t\u00e9": [2], "\ud83d\ude00": {"\u002f": 3}}"#,
        r#"{"s": "]}\"{[\\", "t": ["\\\"]", "\\\\"], "u": "\u005b"}"#,
        "[1e5, -2.5E-3, 0, -0, 1.0e+400, 123456789012345678901234567890]",
        "\u{feff}{\"bom\": [1, 2]}",
        "{\r\n  \"crlf\": [\r\n    1,\r\n    {\"x\": \"y\"}\r\n  ]\r\n}\r\n",
        r#"{"a": 1, "a": 2}"#,
        r#"{"a": {"b": 1}, "x": 0, "a": {"c": [2]}}"#,
        r#"[{"k": {"k": 1, "k": 2}, "k": {"j": 3}}]"#,
        r#""just a string""#,
        "  42  ",
        "[[], {}, [[]], {\"\": {}}]",
    ];
    for text in documents {
        assert_agrees_with_serde_json(text);
    }
}

#[test]
fn earlier_duplicate_paths_are_not_found() {
    let text = r#"{"a": {"b": {"c": 1}}, "a": {"b": 2}, "z": [{"q": 1, "q": {}}]}"#;
    let parsed = parse(text);
    for pointer in ["/a/b/c", "/z/0/q/x", "/a/b/0"] {
        assert_pointer_agrees(text, &parsed, pointer);
    }
}

#[test]
fn fhir_patient_example_agrees() {
    assert!(
        PATIENT.contains("Bénédicte"),
        "fixture has raw non-ASCII text"
    );
    assert_agrees_with_serde_json(PATIENT);
}

#[test]
fn fhir_document_reference_example_agrees() {
    assert!(
        DOCUMENT_REFERENCE.matches("\\u003c").count() > 100,
        "fixture has many escapes"
    );
    assert_agrees_with_serde_json(DOCUMENT_REFERENCE);
}

#[test]
fn fhir_patient_positions_are_in_characters() {
    let parsed = parse(PATIENT);
    let pointer = all_pointers(&parsed)
        .into_iter()
        .find(|pointer| parsed.pointer(pointer) == Some(&Value::from("du Marché")))
        .expect("family name with raw non-ASCII text");
    let located = locate_pointer(PATIENT, &pointer).expect("located");

    // Find the same place with str methods: the line holding the family
    // name, and the character column of the value's opening quote.
    let (line_index, line) = PATIENT
        .lines()
        .enumerate()
        .find(|(_, line)| line.contains("\"du Marché\""))
        .expect("line with family name");
    let byte_column = line.find("\"du Marché\"").expect("value on line");
    let expected = (line_index + 1, line[..byte_column].chars().count() + 1);

    assert_eq!(line_col(PATIENT, located.value.start), expected);
    assert_eq!(
        LineIndex::new(PATIENT).line_col(located.value.start),
        expected
    );

    // The end of the value comes after "é", so the column counts one
    // character where the bytes count two.
    let (end_line, end_column) = line_col(PATIENT, located.value.end);
    assert_eq!(end_line, expected.0);
    assert_eq!(end_column, expected.1 + "\"du Marché\"".chars().count());
}

#[test]
fn fhir_examples_pass_pre_parse_checks() {
    for text in [PATIENT, DOCUMENT_REFERENCE] {
        assert_eq!(find_duplicate_keys(text), []);
        assert_eq!(
            split_documents(text).map(|documents| documents.len()),
            Ok(1)
        );
        assert_eq!(max_depth_exceeds(text, SERDE_JSON_MAX_DEPTH), None);
    }
}

#[test]
fn ndjson_lines_located_within_ranges() {
    let text = "{\"id\": \"a\", \"n\": [1]}\n{\"id\": \"b\", \"n\": [2, 3]}\n";
    let documents = split_documents(text).expect("valid NDJSON");
    assert_eq!(documents.len(), 2);

    let located = locate_pointer_within(text, documents[1].clone(), "/n/1").expect("second line");
    assert_eq!(&text[located.value.clone()], "3");
    assert_eq!(line_col(text, located.value.start), (2, 22));
}

#[test]
fn serde_json_rejects_lone_surrogates_with_position() {
    // serde_json 1.x rejects unpaired surrogate escapes when it builds a
    // Value, and reports where, so the loader needs no scan of its own.
    for text in [
        "{\n  \"a\": \"\\ud800\"\n}",
        "{\n  \"a\": \"\\udc00\"\n}",
        "{\n  \"a\": \"\\ud800\\u0041\"\n}",
    ] {
        let error = serde_json::from_str::<Value>(text).expect_err("lone surrogate");
        assert!(error.is_syntax(), "{text:?}: {error}");
        assert_eq!(error.line(), 2, "{text:?}: {error}");
        assert!(error.column() > 0, "{text:?}: {error}");
        assert!(
            error.to_string().contains("surrogate") || error.to_string().contains("hex escape"),
            "{text:?}: {error}"
        );
        assert_eq!(locate_pointer(text, "/a"), None, "{text:?}");
        assert_eq!(
            split_documents(text).map_err(|error| error.kind),
            Err(SyntaxErrorKind::LoneSurrogate)
        );
    }
}

#[test]
fn arbitrary_precision_number_member_differs() {
    // With the `arbitrary_precision` feature, serde_json reads an object
    // whose first member has this reserved name as a number.
    let text = r#"{"$serde_json::private::Number": "12"}"#;
    let parsed = parse(text);
    assert!(parsed.is_number(), "serde_json read {parsed:?}");
    assert!(locate_pointer(text, "/$serde_json::private::Number").is_some());
}

/// A small deterministic generator (xorshift64), so generated documents are
/// the same on every run.
struct Generator {
    state: u64,
}

impl Generator {
    fn below(&mut self, bound: usize) -> usize {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        (self.state % bound as u64) as usize
    }

    fn pick<'a>(&mut self, choices: &[&'a str]) -> &'a str {
        choices[self.below(choices.len())]
    }

    fn whitespace(&mut self, text: &mut String) {
        text.push_str(self.pick(&["", "", " ", "\n", "\r\n  ", "\t"]));
    }

    /// Writes a value to `text` and records the pointer of every value and
    /// of every duplicate member written, shadowed ones included.
    fn value(&mut self, text: &mut String, pointer: &str, depth: usize, written: &mut Written) {
        written.pointers.push(pointer.to_string());
        let kind = if depth >= 4 { 0 } else { self.below(4) };
        match kind {
            0 | 1 => self.scalar(text),
            2 => {
                text.push('[');
                let count = self.below(4);
                for index in 0..count {
                    if index > 0 {
                        text.push(',');
                    }
                    self.whitespace(text);
                    self.value(text, &format!("{pointer}/{index}"), depth + 1, written);
                    self.whitespace(text);
                }
                text.push(']');
            }
            _ => {
                text.push('{');
                let count = self.below(5);
                let mut names: Vec<&str> = Vec::new();
                for index in 0..count {
                    if index > 0 {
                        text.push(',');
                    }
                    self.whitespace(text);
                    let name = self.pick(&["a", "b", "a/b", "m~n", "é", "😀", "q\"", ""]);
                    if names.contains(&name) {
                        written
                            .duplicates
                            .push((pointer.to_string(), name.to_string()));
                    }
                    names.push(name);
                    self.string(text, name);
                    self.whitespace(text);
                    text.push(':');
                    self.whitespace(text);
                    let mut child = pointer.to_string();
                    push_pointer_token(&mut child, name);
                    self.value(text, &child, depth + 1, written);
                }
                self.whitespace(text);
                text.push('}');
            }
        }
    }

    fn scalar(&mut self, text: &mut String) {
        match self.below(3) {
            0 => text.push_str(self.pick(&[
                "0",
                "-12",
                "3.25",
                "1e5",
                "-2.5E-3",
                "1E+2",
                "12345678901234567890123",
            ])),
            1 => text.push_str(self.pick(&["true", "false", "null"])),
            _ => {
                let content =
                    self.pick(&["", "x", "]}", "{[", "\"", "\\", "é😀", "a/b", "line\nbreak"]);
                self.string(text, content);
            }
        }
    }

    /// Writes `content` as a JSON string, either with minimal escapes or
    /// with every character as a `\u` escape.
    fn string(&mut self, text: &mut String, content: &str) {
        text.push('"');
        if self.below(3) == 0 {
            for unit in content.encode_utf16() {
                text.push_str(&format!("\\u{unit:04x}"));
            }
        } else {
            for c in content.chars() {
                match c {
                    '"' => text.push_str("\\\""),
                    '\\' => text.push_str("\\\\"),
                    '\n' => text.push_str("\\n"),
                    _ => text.push(c),
                }
            }
        }
        text.push('"');
    }
}

/// What the generator wrote into one document.
#[derive(Default)]
struct Written {
    pointers: Vec<String>,
    /// Object pointer and name of every later occurrence of a member name.
    duplicates: Vec<(String, String)>,
}

#[test]
fn generated_documents_agree() {
    let mut generator = Generator {
        state: 0x9e37_79b9_7f4a_7c15,
    };
    let mut duplicates_seen = 0;

    for _ in 0..400 {
        let mut text = String::new();
        let mut written = Written::default();
        generator.whitespace(&mut text);
        generator.value(&mut text, "", 0, &mut written);
        generator.whitespace(&mut text);

        let parsed = parse(&text);
        for pointer in &written.pointers {
            assert_pointer_agrees(&text, &parsed, pointer);
        }

        let found: Vec<(String, String)> = find_duplicate_keys(&text)
            .into_iter()
            .map(|duplicate| (duplicate.object_pointer, duplicate.key))
            .collect();
        assert_eq!(found, written.duplicates, "duplicates in {text:?}");
        duplicates_seen += found.len();

        assert_eq!(
            split_documents(&text),
            Ok(vec![locate_pointer(&text, "").expect("root").value])
        );
    }

    assert!(
        duplicates_seen > 50,
        "generator produced {duplicates_seen} duplicates"
    );
}
