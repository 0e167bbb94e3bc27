//! The parse-only baseline for `benches/e2e.sh`: reads inputs and parses
//! each document into a `serde_json::Value` (or, with `--parser`, another
//! parser's result), and does nothing else.
//!
//! ```text
//! cargo run --release --example parse-baseline -- [--parser NAME] [--compare] ndjson FILE
//! cargo run --release --example parse-baseline -- [--parser NAME] [--compare] files FOLDER
//! ```
//!
//! `ndjson` reads FILE line by line through a buffered reader and parses
//! each non-blank line. `files` parses every `.json` file under FOLDER,
//! walked in name order. Both use one thread and the same serde_json
//! features as claimlint (`preserve_order`, `arbitrary_precision`), so the
//! figure is what reading and parsing the input costs claimlint at least.
//! The output is one line: documents parsed, bytes read, parse errors.
//! `--compare` adds its report below that line.
//!
//! `--parser` selects the parser, to compare faster JSON parsers with the
//! one claimlint uses:
//!
//! - `serde` (default): `serde_json::from_slice::<serde_json::Value>`.
//! - `sonic`: `sonic_rs::from_slice::<sonic_rs::Value>`, sonic-rs's own
//!   document type.
//! - `simd`: `simd_json::to_owned_value` on a mutable copy of the document
//!   (simd-json parses in place), into simd-json's `OwnedValue`.
//! - `sonic-serde`: `sonic_rs::from_slice::<serde_json::Value>`, sonic-rs's
//!   deserializer building the `serde_json::Value` that claimlint uses.
//! - `validate`: `serde_json::from_slice::<serde::de::IgnoredAny>`, a syntax
//!   check that builds nothing.
//!
//! sonic-rs selects its SIMD code at compile time: it uses AVX2 only when
//! built with `-C target-feature=+avx2,+pclmulqdq` or `-C target-cpu=native`,
//! and a portable fallback otherwise. simd-json detects the CPU at run time.
//!
//! `--compare` (with `--parser sonic-serde` only) also parses each document
//! with serde_json and prints a second line with the number of documents
//! whose values differ, by kind, and the JSON pointer of the first few
//! differences. It prints no values from the input.

use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::Value;

const USAGE: &str = "usage: parse-baseline [--parser serde|sonic|simd|sonic-serde|validate] \
                     [--compare] (ndjson FILE | files FOLDER)";

/// Number of differences that `--compare` lists by pointer.
const LISTED_DIFFERENCES: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Parser {
    Serde,
    Sonic,
    Simd,
    SonicSerde,
    Validate,
}

impl Parser {
    fn from_name(name: &str) -> Result<Parser, String> {
        match name {
            "serde" => Ok(Parser::Serde),
            "sonic" => Ok(Parser::Sonic),
            "simd" => Ok(Parser::Simd),
            "sonic-serde" => Ok(Parser::SonicSerde),
            "validate" => Ok(Parser::Validate),
            _ => Err(format!(
                "--parser: `{name}` is not serde, sonic, simd, sonic-serde or validate"
            )),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Ndjson,
    Files,
}

#[derive(Debug, PartialEq, Eq)]
struct Options {
    parser: Parser,
    compare: bool,
    mode: Mode,
    path: PathBuf,
}

impl Options {
    fn parse(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
        let mut parser = Parser::Serde;
        let mut compare = false;
        let mut positional = Vec::new();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--parser" => {
                    let name = args.next().ok_or("--parser needs a value")?;
                    parser = Parser::from_name(&name)?;
                }
                "--compare" => compare = true,
                _ if arg.starts_with("--") => return Err(format!("unknown option {arg}")),
                _ => positional.push(arg),
            }
        }
        let (mode, path) = match positional.as_slice() {
            [mode, path] if mode == "ndjson" => (Mode::Ndjson, PathBuf::from(path)),
            [mode, path] if mode == "files" => (Mode::Files, PathBuf::from(path)),
            _ => return Err("expected `ndjson FILE` or `files FOLDER`".to_string()),
        };
        if compare && parser != Parser::SonicSerde {
            return Err("--compare works only with --parser sonic-serde".to_string());
        }
        Ok(Options {
            parser,
            compare,
            mode,
            path,
        })
    }
}

/// Kind of difference between the value that sonic-rs's deserializer builds
/// and serde_json's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DifferenceKind {
    /// Both are numbers, but their text differs (with `arbitrary_precision`
    /// serde_json keeps a number's text as written).
    NumberText,
    /// The values have different JSON types.
    Type,
    /// The objects have different keys or the same keys in another order.
    Keys,
    /// The arrays have different lengths.
    Length,
    /// The strings or booleans differ.
    Scalar,
    /// One parser accepted the document and the other rejected it.
    Acceptance,
}

impl fmt::Display for DifferenceKind {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            DifferenceKind::NumberText => "number text",
            DifferenceKind::Type => "type",
            DifferenceKind::Keys => "keys",
            DifferenceKind::Length => "array length",
            DifferenceKind::Scalar => "string or boolean",
            DifferenceKind::Acceptance => "accepted by one parser only",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Difference {
    /// JSON pointer (RFC 6901) of the first differing value.
    pointer: String,
    kind: DifferenceKind,
}

/// Finds the first difference between `expected` and `actual` in document
/// order, including the order of object keys, which `Value`'s `==` ignores.
fn first_difference(expected: &Value, actual: &Value) -> Option<Difference> {
    let mut pointer = String::new();
    let kind = difference_at(expected, actual, &mut pointer)?;
    Some(Difference { pointer, kind })
}

/// Compares two values and leaves `pointer` at the first difference.
fn difference_at(expected: &Value, actual: &Value, pointer: &mut String) -> Option<DifferenceKind> {
    match (expected, actual) {
        (Value::Null, Value::Null) => None,
        (Value::Bool(a), Value::Bool(b)) => (a != b).then_some(DifferenceKind::Scalar),
        (Value::String(a), Value::String(b)) => (a != b).then_some(DifferenceKind::Scalar),
        (Value::Number(a), Value::Number(b)) => {
            (a.to_string() != b.to_string()).then_some(DifferenceKind::NumberText)
        }
        (Value::Array(a), Value::Array(b)) => {
            if a.len() != b.len() {
                return Some(DifferenceKind::Length);
            }
            for (index, (a, b)) in a.iter().zip(b).enumerate() {
                let length = pointer.len();
                pointer.push('/');
                pointer.push_str(&index.to_string());
                if let Some(kind) = difference_at(a, b, pointer) {
                    return Some(kind);
                }
                pointer.truncate(length);
            }
            None
        }
        (Value::Object(a), Value::Object(b)) => {
            if a.len() != b.len() || a.keys().zip(b.keys()).any(|(a, b)| a != b) {
                return Some(DifferenceKind::Keys);
            }
            for ((key, a), b) in a.iter().zip(b.values()) {
                let length = pointer.len();
                pointer.push('/');
                pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
                if let Some(kind) = difference_at(a, b, pointer) {
                    return Some(kind);
                }
                pointer.truncate(length);
            }
            None
        }
        _ => Some(DifferenceKind::Type),
    }
}

#[derive(Debug, Default)]
struct Comparison {
    differing_documents: u64,
    by_kind: Vec<(DifferenceKind, u64)>,
    /// The first differences: document number (1-based, counting every
    /// non-blank document) and the difference.
    listed: Vec<(u64, Difference)>,
}

impl Comparison {
    fn record(&mut self, document: u64, difference: Difference) {
        self.differing_documents += 1;
        match self
            .by_kind
            .iter_mut()
            .find(|(kind, _)| *kind == difference.kind)
        {
            Some((_, count)) => *count += 1,
            None => self.by_kind.push((difference.kind, 1)),
        }
        if self.listed.len() < LISTED_DIFFERENCES {
            self.listed.push((document, difference));
        }
    }

    /// Compares sonic-rs's result for one document with serde_json's.
    fn compare(&mut self, document: u64, text: &[u8], sonic: &Result<Value, sonic_rs::Error>) {
        let serde = serde_json::from_slice::<Value>(text);
        let difference = match (&serde, sonic) {
            (Ok(expected), Ok(actual)) => first_difference(expected, actual),
            (Err(_), Err(_)) => None,
            _ => Some(Difference {
                pointer: String::new(),
                kind: DifferenceKind::Acceptance,
            }),
        };
        if let Some(difference) = difference {
            self.record(document, difference);
        }
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "{} documents differ from serde_json",
            self.differing_documents
        )?;
        for (index, (kind, count)) in self.by_kind.iter().enumerate() {
            let separator = if index == 0 { ": " } else { ", " };
            write!(formatter, "{separator}{count} by {kind}")?;
        }
        for (document, difference) in &self.listed {
            write!(
                formatter,
                "\n  document {document}: {} at `{}`",
                difference.kind, difference.pointer
            )?;
        }
        Ok(())
    }
}

#[derive(Debug)]
struct Counts {
    parser: Parser,
    documents: u64,
    bytes: u64,
    errors: u64,
    /// simd-json parses in place, so each document is copied here first.
    scratch: Vec<u8>,
    comparison: Option<Comparison>,
}

impl Counts {
    fn new(parser: Parser, compare: bool) -> Counts {
        Counts {
            parser,
            documents: 0,
            bytes: 0,
            errors: 0,
            scratch: Vec::new(),
            comparison: compare.then(Comparison::default),
        }
    }

    fn parse(&mut self, text: &[u8]) {
        self.bytes += text.len() as u64;
        let parsed = match self.parser {
            Parser::Serde => keep(serde_json::from_slice::<Value>(text)),
            Parser::Sonic => keep(sonic_rs::from_slice::<sonic_rs::Value>(text)),
            Parser::Simd => {
                self.scratch.clear();
                self.scratch.extend_from_slice(text);
                keep(simd_json::to_owned_value(&mut self.scratch))
            }
            Parser::SonicSerde => {
                let result = sonic_rs::from_slice::<Value>(text);
                if let Some(comparison) = &mut self.comparison {
                    let document = self.documents + self.errors + 1;
                    comparison.compare(document, text, &result);
                }
                keep(result)
            }
            Parser::Validate => keep(serde_json::from_slice::<serde::de::IgnoredAny>(text)),
        };
        if parsed {
            self.documents += 1;
        } else {
            self.errors += 1;
        }
    }
}

/// Hands a parsed document to `black_box`, so the optimizer cannot drop the
/// parsing, and reports whether parsing succeeded.
fn keep<T, E>(result: Result<T, E>) -> bool {
    match result {
        Ok(value) => {
            std::hint::black_box(value);
            true
        }
        Err(_) => false,
    }
}

fn main() -> ExitCode {
    let options = match Options::parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("parse-baseline: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let mut counts = Counts::new(options.parser, options.compare);
    let result = match options.mode {
        Mode::Ndjson => parse_ndjson(&options.path, &mut counts),
        Mode::Files => parse_files(&options.path, &mut counts),
    };
    if let Err(error) = result {
        eprintln!("parse-baseline: {}: {error}", options.path.display());
        return ExitCode::FAILURE;
    }
    println!(
        "{} documents, {} bytes, {} parse errors",
        counts.documents, counts.bytes, counts.errors
    );
    if let Some(comparison) = &counts.comparison {
        println!("{comparison}");
    }
    ExitCode::SUCCESS
}

fn parse_ndjson(path: &Path, counts: &mut Counts) -> std::io::Result<()> {
    let mut reader = BufReader::with_capacity(1 << 16, File::open(path)?);
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Ok(());
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            counts.bytes += line.len() as u64;
            continue;
        }
        counts.parse(&line);
    }
}

fn parse_files(folder: &Path, counts: &mut Counts) -> std::io::Result<()> {
    for entry in walkdir::WalkDir::new(folder).sort_by_file_name() {
        let entry = entry.map_err(std::io::Error::other)?;
        let is_json = entry
            .path()
            .extension()
            .is_some_and(|extension| extension == "json");
        if entry.file_type().is_file() && is_json {
            counts.parse(&std::fs::read(entry.path())?);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PARSERS: [Parser; 5] = [
        Parser::Serde,
        Parser::Sonic,
        Parser::Simd,
        Parser::SonicSerde,
        Parser::Validate,
    ];

    fn options(args: &[&str]) -> Result<Options, String> {
        Options::parse(args.iter().map(|arg| arg.to_string()))
    }

    #[test]
    fn options_default_to_serde() {
        let parsed = options(&["ndjson", "in.ndjson"]).unwrap();
        assert_eq!(parsed.parser, Parser::Serde);
        assert!(!parsed.compare);
        assert_eq!(parsed.mode, Mode::Ndjson);
        assert_eq!(parsed.path, PathBuf::from("in.ndjson"));
    }

    #[test]
    fn options_accept_every_parser_name() {
        let names = ["serde", "sonic", "simd", "sonic-serde", "validate"];
        for (name, parser) in names.iter().zip(PARSERS) {
            let parsed = options(&["--parser", name, "files", "dir"]).unwrap();
            assert_eq!(parsed.parser, parser, "--parser {name}");
            assert_eq!(parsed.mode, Mode::Files);
        }
    }

    #[test]
    fn options_accept_flags_after_mode() {
        let parsed = options(&["ndjson", "in", "--parser", "sonic-serde", "--compare"]).unwrap();
        assert_eq!(parsed.parser, Parser::SonicSerde);
        assert!(parsed.compare);
    }

    #[test]
    fn options_reject_bad_input() {
        let unknown = options(&["--parser", "yyjson", "ndjson", "in"]).unwrap_err();
        assert!(unknown.contains("`yyjson`"), "{unknown}");
        let missing = options(&["ndjson", "in", "--parser"]).unwrap_err();
        assert!(missing.contains("needs a value"), "{missing}");
        let mode = options(&["lines", "in"]).unwrap_err();
        assert!(mode.contains("ndjson FILE"), "{mode}");
        let flag = options(&["--fast", "ndjson", "in"]).unwrap_err();
        assert!(flag.contains("--fast"), "{flag}");
        let compare = options(&["--compare", "ndjson", "in"]).unwrap_err();
        assert!(compare.contains("sonic-serde"), "{compare}");
    }

    #[test]
    fn every_parser_counts_documents_and_errors() {
        let valid = br#"{"id":"e1","lines":[{"code":"99490","units":1,"charge":42.5}],"ok":true}"#;
        let invalid = br#"{"id":"e2","lines":[}"#;
        for parser in PARSERS {
            let mut counts = Counts::new(parser, false);
            counts.parse(valid);
            counts.parse(invalid);
            counts.parse(valid);
            assert_eq!(counts.documents, 2, "{parser:?} documents");
            assert_eq!(counts.errors, 1, "{parser:?} errors");
            let bytes = (2 * valid.len() + invalid.len()) as u64;
            assert_eq!(counts.bytes, bytes, "{parser:?} bytes");
        }
    }

    #[test]
    fn simd_leaves_input_untouched() {
        let text = br#"{"note":"a \"quoted\" word \u00e9"}"#.to_vec();
        let mut counts = Counts::new(Parser::Simd, false);
        counts.parse(&text);
        counts.parse(&text);
        assert_eq!(counts.documents, 2);
        assert_eq!(text, br#"{"note":"a \"quoted\" word \u00e9"}"#.to_vec());
    }

    #[test]
    fn compare_finds_no_difference_on_plain_numbers() {
        let mut counts = Counts::new(Parser::SonicSerde, true);
        counts.parse(br#"{"a":[1,-2,"x",null,true],"b":{"c":18446744073709551615}}"#);
        let comparison = counts.comparison.unwrap();
        assert_eq!(comparison.differing_documents, 0);
        assert!(comparison.listed.is_empty());
    }

    #[test]
    fn compare_reports_number_text_with_pointer() {
        let mut counts = Counts::new(Parser::SonicSerde, true);
        counts.parse(br#"{"a":1}"#);
        counts.parse(br#"{"lines":[{"charge":42.50}],"a/b":1e2}"#);
        let comparison = counts.comparison.unwrap();
        assert_eq!(comparison.differing_documents, 1);
        assert_eq!(comparison.by_kind, vec![(DifferenceKind::NumberText, 1)]);
        let expected = Difference {
            pointer: "/lines/0/charge".to_string(),
            kind: DifferenceKind::NumberText,
        };
        assert_eq!(comparison.listed, vec![(2, expected)]);
        let printed = comparison.to_string();
        assert!(printed.starts_with("1 documents differ from serde_json: 1 by number text"));
        assert!(printed.contains("document 2: number text at `/lines/0/charge`"));
        assert!(
            !printed.contains("42.5"),
            "prints no input values: {printed}"
        );
    }

    #[test]
    fn first_difference_escapes_pointer_and_sees_key_order() {
        let expected: Value = serde_json::from_str(r#"{"a/b":{"~":1.0}}"#).unwrap();
        let actual: Value = serde_json::from_str(r#"{"a/b":{"~":1}}"#).unwrap();
        let difference = first_difference(&expected, &actual).unwrap();
        assert_eq!(difference.pointer, "/a~1b/~0");
        assert_eq!(difference.kind, DifferenceKind::NumberText);

        let ordered: Value = serde_json::from_str(r#"{"a":1,"b":2}"#).unwrap();
        let swapped: Value = serde_json::from_str(r#"{"b":2,"a":1}"#).unwrap();
        assert_eq!(ordered, swapped, "Value's == ignores key order");
        let difference = first_difference(&ordered, &swapped).unwrap();
        assert_eq!(difference.kind, DifferenceKind::Keys);
        assert_eq!(difference.pointer, "");
    }

    #[test]
    fn first_difference_reports_type_length_and_scalar() {
        let cases = [
            (r#"[1,2]"#, r#"[1]"#, DifferenceKind::Length, ""),
            (r#"{"a":"x"}"#, r#"{"a":"y"}"#, DifferenceKind::Scalar, "/a"),
            (
                r#"{"a":[true]}"#,
                r#"{"a":[false]}"#,
                DifferenceKind::Scalar,
                "/a/0",
            ),
            (r#"{"a":1}"#, r#"{"a":"1"}"#, DifferenceKind::Type, "/a"),
        ];
        for (expected, actual, kind, pointer) in cases {
            let expected: Value = serde_json::from_str(expected).unwrap();
            let actual: Value = serde_json::from_str(actual).unwrap();
            let difference = first_difference(&expected, &actual).unwrap();
            assert_eq!(difference.kind, kind, "{expected} vs {actual}");
            assert_eq!(difference.pointer, pointer, "{expected} vs {actual}");
        }
    }

    #[test]
    fn compare_counts_acceptance_difference() {
        let mut comparison = Comparison::default();
        let rejected = sonic_rs::from_slice::<Value>(b"{").map(|_: Value| Value::Null);
        comparison.compare(7, b"{}", &rejected);
        assert_eq!(comparison.differing_documents, 1);
        assert_eq!(comparison.by_kind, vec![(DifferenceKind::Acceptance, 1)]);
        assert_eq!(comparison.listed[0].0, 7);
    }
}
