//! A validating pull reader over JSON text that yields tokens with byte
//! ranges and never builds values.
//!
//! The reader accepts exactly the grammar that `serde_json` 1.x accepts for
//! `serde_json::Value` (RFC 8259 without extensions): whitespace is space, tab,
//! LF and CR, strings reject raw control characters and unpaired surrogate
//! escapes, and numbers follow the strict JSON grammar. Nesting is tracked on
//! an explicit stack, so deep input cannot overflow the call stack.

use std::fmt;
use std::ops::Range;

/// The UTF-8 encoding of U+FEFF, which some exporters write at the start of a
/// file.
pub(crate) const BOM: &str = "\u{feff}";

/// A JSON syntax error found while scanning, with the byte offset where the
/// scanner stopped.
///
/// The message names no part of the input, because the input may contain
/// patient data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} at byte offset {offset}")]
pub struct SyntaxError {
    /// The kind of error.
    pub kind: SyntaxErrorKind,
    /// Byte offset of the offending byte, or the text length when the text
    /// ended early.
    pub offset: usize,
}

/// The kinds of JSON syntax error the scanner reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SyntaxErrorKind {
    /// The text ended inside a value.
    UnexpectedEnd,
    /// A value was expected but another character was found.
    ExpectedValue,
    /// An object member name was expected.
    ExpectedKey,
    /// A `:` was expected after an object member name.
    ExpectedColon,
    /// A `,` or `}` was expected after an object member.
    ExpectedCommaOrObjectEnd,
    /// A `,` or `]` was expected after an array element.
    ExpectedCommaOrArrayEnd,
    /// A `,` is directly followed by `}` or `]`.
    TrailingComma,
    /// A string has no closing quote.
    UnterminatedString,
    /// A string contains a raw control character (U+0000 to U+001F).
    ControlCharacterInString,
    /// A backslash escape is not one of the escapes JSON defines.
    InvalidEscape,
    /// A `\u` escape encodes half of a UTF-16 surrogate pair without the
    /// other half.
    LoneSurrogate,
    /// A number does not follow the JSON number grammar.
    InvalidNumber,
    /// A bare word is not `true`, `false` or `null`.
    InvalidLiteral,
}

impl fmt::Display for SyntaxErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            Self::UnexpectedEnd => "unexpected end of JSON text",
            Self::ExpectedValue => "expected a JSON value",
            Self::ExpectedKey => "expected an object member name in double quotes",
            Self::ExpectedColon => "expected ':' after an object member name",
            Self::ExpectedCommaOrObjectEnd => "expected ',' or '}' after an object member",
            Self::ExpectedCommaOrArrayEnd => "expected ',' or ']' after an array element",
            Self::TrailingComma => "trailing comma",
            Self::UnterminatedString => "string has no closing quote",
            Self::ControlCharacterInString => "raw control character in a string",
            Self::InvalidEscape => "invalid escape in a string",
            Self::LoneSurrogate => "unpaired UTF-16 surrogate in a \\u escape",
            Self::InvalidNumber => "invalid number",
            Self::InvalidLiteral => "invalid literal, expected true, false or null",
        };
        f.write_str(text)
    }
}

/// One token of a JSON value, in text order.
///
/// Value ranges are byte ranges into the scanned text. A string range includes
/// both quotes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Event {
    /// `{` at byte offset `at`.
    ObjectStart { at: usize },
    /// `}`, with `end` one past it.
    ObjectEnd { end: usize },
    /// `[` at byte offset `at`.
    ArrayStart { at: usize },
    /// `]`, with `end` one past it.
    ArrayEnd { end: usize },
    /// An object member name. The member's value follows as the next event.
    Key { range: Range<usize>, escaped: bool },
    /// A string, number or literal.
    Scalar { range: Range<usize> },
}

impl Event {
    /// Returns true for the events that begin a value.
    pub(crate) fn starts_value(&self) -> bool {
        matches!(
            self,
            Event::ObjectStart { .. } | Event::ArrayStart { .. } | Event::Scalar { .. }
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Container {
    Object,
    Array,
}

/// The token the reader expects next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// A value: at the start of the document or after a member's `:`.
    Value,
    /// An array element after a `,`.
    ElementAfterComma,
    /// The first array element or `]`.
    FirstElementOrEnd,
    /// The first member name or `}`.
    FirstKeyOrEnd,
    /// A member name after a `,`.
    KeyAfterComma,
    /// A `,` or the end of the enclosing container.
    AfterValue,
    /// The top-level value is complete.
    Done,
}

/// A pull reader that yields the events of the first JSON value in `text`
/// starting at a byte offset, then `None`.
///
/// The reader checks the full JSON grammar of everything it reads, so an
/// `Err` means the text is not JSON that `serde_json` would accept. It reads
/// nothing past the end of the value.
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    stack: Vec<Container>,
    state: State,
}

impl<'a> Reader<'a> {
    /// Creates a reader for the value that starts at `start`, after optional
    /// whitespace.
    pub(crate) fn new(text: &'a str, start: usize) -> Self {
        Reader {
            bytes: text.as_bytes(),
            pos: start,
            stack: Vec::new(),
            state: State::Value,
        }
    }

    /// Returns the byte offset of the next unread byte. After the last event
    /// this is one past the end of the value.
    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    /// Returns the number of containers currently open.
    pub(crate) fn depth(&self) -> usize {
        self.stack.len()
    }

    /// Returns the innermost open container.
    pub(crate) fn innermost(&self) -> Option<Container> {
        self.stack.last().copied()
    }

    /// Reads the next event, or returns `None` once the value is complete.
    pub(crate) fn next_event(&mut self) -> Result<Option<Event>, SyntaxError> {
        loop {
            // Whitespace after the value belongs to whatever follows it, so
            // a finished reader leaves its position at the value's end.
            if self.state != State::Done {
                self.skip_whitespace();
            }

            match self.state {
                State::Done => return Ok(None),
                State::Value => return self.read_value().map(Some),
                State::ElementAfterComma => {
                    if self.peek() == Some(b']') {
                        return Err(self.error(SyntaxErrorKind::TrailingComma));
                    }
                    return self.read_value().map(Some);
                }
                State::FirstElementOrEnd => {
                    if self.peek() == Some(b']') {
                        return Ok(Some(self.close(Container::Array)));
                    }
                    return self.read_value().map(Some);
                }
                State::FirstKeyOrEnd => {
                    if self.peek() == Some(b'}') {
                        return Ok(Some(self.close(Container::Object)));
                    }
                    return self.read_key().map(Some);
                }
                State::KeyAfterComma => {
                    if self.peek() == Some(b'}') {
                        return Err(self.error(SyntaxErrorKind::TrailingComma));
                    }
                    return self.read_key().map(Some);
                }
                State::AfterValue => {
                    if let Some(event) = self.read_separator()? {
                        return Ok(Some(event));
                    }
                }
            }
        }
    }

    /// Handles the byte after a value inside a container. Returns the closing
    /// event, or `None` after consuming a `,`.
    fn read_separator(&mut self) -> Result<Option<Event>, SyntaxError> {
        let Some(container) = self.innermost() else {
            self.state = State::Done;
            return Ok(None);
        };

        match (container, self.peek()) {
            (Container::Object, Some(b',')) => {
                self.pos += 1;
                self.state = State::KeyAfterComma;
                Ok(None)
            }
            (Container::Array, Some(b',')) => {
                self.pos += 1;
                self.state = State::ElementAfterComma;
                Ok(None)
            }
            (Container::Object, Some(b'}')) => Ok(Some(self.close(Container::Object))),
            (Container::Array, Some(b']')) => Ok(Some(self.close(Container::Array))),
            (_, None) => Err(self.error(SyntaxErrorKind::UnexpectedEnd)),
            (Container::Object, Some(_)) => {
                Err(self.error(SyntaxErrorKind::ExpectedCommaOrObjectEnd))
            }
            (Container::Array, Some(_)) => {
                Err(self.error(SyntaxErrorKind::ExpectedCommaOrArrayEnd))
            }
        }
    }

    /// Consumes the closing bracket of the innermost container, which the
    /// caller has checked is `container`.
    fn close(&mut self, container: Container) -> Event {
        self.pos += 1;
        self.stack.pop();
        self.finish_value();

        match container {
            Container::Object => Event::ObjectEnd { end: self.pos },
            Container::Array => Event::ArrayEnd { end: self.pos },
        }
    }

    /// Sets the state that follows a complete value.
    fn finish_value(&mut self) {
        self.state = if self.stack.is_empty() {
            State::Done
        } else {
            State::AfterValue
        };
    }

    fn read_value(&mut self) -> Result<Event, SyntaxError> {
        let start = self.pos;

        match self.peek() {
            None => Err(self.error(SyntaxErrorKind::UnexpectedEnd)),
            Some(b'{') => {
                self.pos += 1;
                self.stack.push(Container::Object);
                self.state = State::FirstKeyOrEnd;
                Ok(Event::ObjectStart { at: start })
            }
            Some(b'[') => {
                self.pos += 1;
                self.stack.push(Container::Array);
                self.state = State::FirstElementOrEnd;
                Ok(Event::ArrayStart { at: start })
            }
            Some(b'"') => {
                self.pos = scan_string(self.bytes, start)?.end;
                self.finish_value();
                Ok(Event::Scalar {
                    range: start..self.pos,
                })
            }
            Some(b'-' | b'0'..=b'9') => {
                self.pos = scan_number(self.bytes, start)?;
                self.finish_value();
                Ok(Event::Scalar {
                    range: start..self.pos,
                })
            }
            Some(b't' | b'f' | b'n') => {
                self.pos = scan_literal(self.bytes, start)?;
                self.finish_value();
                Ok(Event::Scalar {
                    range: start..self.pos,
                })
            }
            Some(_) => Err(self.error(SyntaxErrorKind::ExpectedValue)),
        }
    }

    /// Reads a member name and the `:` after it.
    fn read_key(&mut self) -> Result<Event, SyntaxError> {
        let start = self.pos;
        match self.peek() {
            Some(b'"') => {}
            None => return Err(self.error(SyntaxErrorKind::UnexpectedEnd)),
            Some(_) => return Err(self.error(SyntaxErrorKind::ExpectedKey)),
        }

        let string = scan_string(self.bytes, start)?;
        self.pos = string.end;

        self.skip_whitespace();
        match self.peek() {
            Some(b':') => self.pos += 1,
            None => return Err(self.error(SyntaxErrorKind::UnexpectedEnd)),
            Some(_) => return Err(self.error(SyntaxErrorKind::ExpectedColon)),
        }
        self.state = State::Value;

        Ok(Event::Key {
            range: start..string.end,
            escaped: string.escaped,
        })
    }

    fn skip_whitespace(&mut self) {
        self.pos = skip_whitespace(self.bytes, self.pos);
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn error(&self, kind: SyntaxErrorKind) -> SyntaxError {
        SyntaxError {
            kind,
            offset: self.pos.min(self.bytes.len()),
        }
    }
}

/// Returns the offset of the first byte at or after `pos` that is not JSON
/// whitespace.
pub(crate) fn skip_whitespace(bytes: &[u8], mut pos: usize) -> usize {
    while let Some(b' ' | b'\t' | b'\n' | b'\r') = bytes.get(pos) {
        pos += 1;
    }
    pos
}

/// Returns the offset where the JSON value of `text` starts: after a leading
/// byte order mark, if any, and whitespace.
pub(crate) fn document_start(text: &str) -> usize {
    let after_bom = if text.starts_with(BOM) { BOM.len() } else { 0 };
    skip_whitespace(text.as_bytes(), after_bom)
}

/// The extent of a scanned string token.
pub(crate) struct StringToken {
    /// One past the closing quote.
    pub(crate) end: usize,
    /// Whether the string contains at least one backslash escape.
    pub(crate) escaped: bool,
}

/// Scans the string whose opening quote is at `start`.
pub(crate) fn scan_string(bytes: &[u8], start: usize) -> Result<StringToken, SyntaxError> {
    let mut pos = start + 1;
    let mut escaped = false;

    loop {
        let Some(&byte) = bytes.get(pos) else {
            return Err(SyntaxError {
                kind: SyntaxErrorKind::UnterminatedString,
                offset: start,
            });
        };

        match byte {
            b'"' => {
                return Ok(StringToken {
                    end: pos + 1,
                    escaped,
                })
            }
            b'\\' => {
                escaped = true;
                pos = scan_escape(bytes, pos)?;
            }
            0x00..=0x1f => {
                return Err(SyntaxError {
                    kind: SyntaxErrorKind::ControlCharacterInString,
                    offset: pos,
                })
            }
            _ => pos += 1,
        }
    }
}

/// Checks the escape whose backslash is at `pos` and returns the offset after
/// it. A high surrogate must be followed by a `\u` low surrogate, and a low
/// surrogate may not stand alone, as `serde_json` requires for strings.
fn scan_escape(bytes: &[u8], pos: usize) -> Result<usize, SyntaxError> {
    match bytes.get(pos + 1) {
        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => Ok(pos + 2),
        Some(b'u') => {
            let unit = hex4(bytes, pos + 2)?;
            match unit {
                0xd800..=0xdbff => {
                    let low = if bytes.get(pos + 6) == Some(&b'\\')
                        && bytes.get(pos + 7) == Some(&b'u')
                    {
                        hex4(bytes, pos + 8)?
                    } else {
                        0
                    };
                    if (0xdc00..=0xdfff).contains(&low) {
                        Ok(pos + 12)
                    } else {
                        Err(SyntaxError {
                            kind: SyntaxErrorKind::LoneSurrogate,
                            offset: pos,
                        })
                    }
                }
                0xdc00..=0xdfff => Err(SyntaxError {
                    kind: SyntaxErrorKind::LoneSurrogate,
                    offset: pos,
                }),
                _ => Ok(pos + 6),
            }
        }
        None => Err(SyntaxError {
            kind: SyntaxErrorKind::UnterminatedString,
            offset: pos,
        }),
        Some(_) => Err(SyntaxError {
            kind: SyntaxErrorKind::InvalidEscape,
            offset: pos,
        }),
    }
}

/// Parses the four hex digits at `pos` of a `\u` escape.
pub(crate) fn hex4(bytes: &[u8], pos: usize) -> Result<u16, SyntaxError> {
    let invalid = SyntaxError {
        kind: SyntaxErrorKind::InvalidEscape,
        offset: pos.saturating_sub(2),
    };
    let digits = bytes.get(pos..pos + 4).ok_or(invalid.clone())?;

    let mut unit: u16 = 0;
    for &digit in digits {
        let value = match digit {
            b'0'..=b'9' => digit - b'0',
            b'a'..=b'f' => digit - b'a' + 10,
            b'A'..=b'F' => digit - b'A' + 10,
            _ => return Err(invalid),
        };
        unit = (unit << 4) | u16::from(value);
    }
    Ok(unit)
}

/// Scans the number that starts at `start` and returns the offset after it.
fn scan_number(bytes: &[u8], start: usize) -> Result<usize, SyntaxError> {
    let invalid = SyntaxError {
        kind: SyntaxErrorKind::InvalidNumber,
        offset: start,
    };
    let mut pos = start;
    if bytes.get(pos) == Some(&b'-') {
        pos += 1;
    }

    match bytes.get(pos) {
        Some(b'0') => pos += 1,
        Some(b'1'..=b'9') => pos = skip_digits(bytes, pos),
        _ => return Err(invalid),
    }

    if bytes.get(pos) == Some(&b'.') {
        let fraction_end = skip_digits(bytes, pos + 1);
        if fraction_end == pos + 1 {
            return Err(invalid);
        }
        pos = fraction_end;
    }

    if let Some(b'e' | b'E') = bytes.get(pos) {
        pos += 1;
        if let Some(b'+' | b'-') = bytes.get(pos) {
            pos += 1;
        }
        let exponent_end = skip_digits(bytes, pos);
        if exponent_end == pos {
            return Err(invalid);
        }
        pos = exponent_end;
    }

    Ok(pos)
}

fn skip_digits(bytes: &[u8], mut pos: usize) -> usize {
    while let Some(b'0'..=b'9') = bytes.get(pos) {
        pos += 1;
    }
    pos
}

/// Scans `true`, `false` or `null` at `start` and returns the offset after it.
fn scan_literal(bytes: &[u8], start: usize) -> Result<usize, SyntaxError> {
    let rest = bytes.get(start..).unwrap_or_default();
    for literal in [&b"true"[..], b"false", b"null"] {
        if rest.starts_with(literal) {
            return Ok(start + literal.len());
        }
    }
    Err(SyntaxError {
        kind: SyntaxErrorKind::InvalidLiteral,
        offset: start,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads every event of the first value in `text`.
    fn events(text: &str) -> Result<Vec<Event>, SyntaxError> {
        let mut reader = Reader::new(text, 0);
        let mut events = Vec::new();
        while let Some(event) = reader.next_event()? {
            events.push(event);
        }
        Ok(events)
    }

    fn error_of(text: &str) -> SyntaxError {
        match events(text) {
            Ok(events) => panic!("expected a syntax error for {text:?}, got {events:?}"),
            Err(error) => error,
        }
    }

    #[test]
    fn events_of_nested_document() {
        let text = r#"{"a": [1, "x"], "b": {}}"#;
        let expected = vec![
            Event::ObjectStart { at: 0 },
            Event::Key {
                range: 1..4,
                escaped: false,
            },
            Event::ArrayStart { at: 6 },
            Event::Scalar { range: 7..8 },
            Event::Scalar { range: 10..13 },
            Event::ArrayEnd { end: 14 },
            Event::Key {
                range: 16..19,
                escaped: false,
            },
            Event::ObjectStart { at: 21 },
            Event::ObjectEnd { end: 23 },
            Event::ObjectEnd { end: 24 },
        ];
        assert_eq!(events(text), Ok(expected));
    }

    #[test]
    fn reader_stops_after_first_value() {
        let text = "[1] [2]";
        let mut reader = Reader::new(text, 0);
        while let Ok(Some(_)) = reader.next_event() {}
        assert_eq!(reader.position(), 3);
    }

    #[test]
    fn strings_with_brackets_quotes_and_backslashes() {
        let text = r#"["{[\"]}\\", "\\\"", "}"]"#;
        let events = events(text).expect("valid JSON");
        let scalars: Vec<&str> = events
            .iter()
            .filter_map(|event| match event {
                Event::Scalar { range } => Some(&text[range.clone()]),
                _ => None,
            })
            .collect();
        assert_eq!(scalars, [r#""{[\"]}\\""#, r#""\\\"""#, r#""}""#]);
    }

    #[test]
    fn key_reports_escapes() {
        let events = events(r#"{"\u0061": 1}"#).expect("valid JSON");
        assert_eq!(
            events.get(1),
            Some(&Event::Key {
                range: 1..9,
                escaped: true
            })
        );
    }

    #[test]
    fn numbers_accepted() {
        for number in [
            "0", "-0", "12", "-12.5", "1e10", "1E+2", "2.5e-3", "1.0E400",
        ] {
            let text = format!("[{number}]");
            assert!(events(&text).is_ok(), "{number} should be accepted");
        }
    }

    #[test]
    fn numbers_rejected() {
        for number in ["01", "-", "1.", ".5", "1e", "1e+", "+1", "-a"] {
            let text = format!("[{number}]");
            assert!(events(&text).is_err(), "{number} should be rejected");
        }
    }

    #[test]
    fn syntax_error_kinds_and_offsets() {
        let cases = [
            ("", SyntaxErrorKind::UnexpectedEnd, 0),
            ("[1,]", SyntaxErrorKind::TrailingComma, 3),
            (r#"{"a":1,}"#, SyntaxErrorKind::TrailingComma, 7),
            (r#"{"a" 1}"#, SyntaxErrorKind::ExpectedColon, 5),
            (r#"{a:1}"#, SyntaxErrorKind::ExpectedKey, 1),
            (
                r#"{"a":1 "b":2}"#,
                SyntaxErrorKind::ExpectedCommaOrObjectEnd,
                7,
            ),
            ("[1 2]", SyntaxErrorKind::ExpectedCommaOrArrayEnd, 3),
            ("[1, 2", SyntaxErrorKind::UnexpectedEnd, 5),
            (r#"["abc"#, SyntaxErrorKind::UnterminatedString, 1),
            ("[\"a\tb\"]", SyntaxErrorKind::ControlCharacterInString, 3),
            (r#"["\x"]"#, SyntaxErrorKind::InvalidEscape, 2),
            (r#"["\u12G4"]"#, SyntaxErrorKind::InvalidEscape, 2),
            (r#"["\ud800"]"#, SyntaxErrorKind::LoneSurrogate, 2),
            (r#"["\ud800\u0041"]"#, SyntaxErrorKind::LoneSurrogate, 2),
            (r#"["\udc00"]"#, SyntaxErrorKind::LoneSurrogate, 2),
            ("[tru]", SyntaxErrorKind::InvalidLiteral, 1),
            ("[}", SyntaxErrorKind::ExpectedValue, 1),
            ("[1}", SyntaxErrorKind::ExpectedCommaOrArrayEnd, 2),
        ];
        for (text, kind, offset) in cases {
            let error = error_of(text);
            assert_eq!(error.kind, kind, "kind for {text:?}");
            assert_eq!(error.offset, offset, "offset for {text:?}");
        }
    }

    #[test]
    fn surrogate_pair_accepted() {
        assert!(events(r#"["\ud83d\ude00"]"#).is_ok());
    }

    #[test]
    fn scanner_agrees_with_serde_json_on_validity() {
        let texts = [
            "[1,]",
            "[\"a\u{7f}b\"]",
            "[\"a\nb\"]",
            r#"{"a":1,"a":2}"#,
            "[1e5, -0.0, 0e0]",
            "[00]",
            r#"["\/"]"#,
            "[\"\u{feff}\"]",
            "\u{feff}[]",
            "[\u{a0}1]",
            "[1]\n",
            r#"["\ud800\udc00"]"#,
            r#"["\uDBFF\uDFFF"]"#,
            r#"["\ud800\ud800"]"#,
        ];
        for text in texts {
            let ours = events(text).is_ok();
            let theirs = serde_json::from_str::<serde_json::Value>(text).is_ok();
            assert_eq!(ours, theirs, "validity of {text:?}");
        }
    }

    #[test]
    fn deep_nesting_does_not_overflow_stack() {
        let depth = 200_000;
        let text = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        assert_eq!(events(&text).map(|events| events.len()), Ok(2 * depth));
    }

    #[test]
    fn document_start_skips_bom_and_whitespace() {
        assert_eq!(document_start("\u{feff} \r\n{}"), 6);
        assert_eq!(document_start("{}"), 0);
    }
}
