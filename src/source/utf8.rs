//! UTF-8 validation of input bytes, with the position of the first invalid
//! sequence.

use super::lines::line_col;
use super::scan::BOM;

/// Input bytes that are valid UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodedText<'a> {
    /// The text after the byte order mark, if there was one.
    pub text: &'a str,
    /// Whether the input started with a UTF-8 byte order mark.
    pub had_bom: bool,
}

impl DecodedText<'_> {
    /// Returns the offset in the input bytes of the byte at `text_offset` in
    /// [`text`](Self::text), adding back the length of a stripped byte order
    /// mark.
    pub fn input_offset(&self, text_offset: usize) -> usize {
        if self.had_bom {
            text_offset + BOM.len()
        } else {
            text_offset
        }
    }
}

/// The first place where input bytes are not valid UTF-8, and the kind of
/// problem there.
///
/// The message gives the position only, never the bytes, because the input
/// may contain patient data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} at line {line}, column {column} (byte offset {offset})")]
pub struct Utf8Problem {
    /// The kind of problem.
    pub kind: Utf8ProblemKind,
    /// Byte offset of the first invalid byte in the input, counting a byte
    /// order mark.
    pub offset: usize,
    /// 1-based line of the invalid byte.
    pub line: usize,
    /// 1-based column of the invalid byte, counted in characters of the
    /// valid text before it on its line.
    pub column: usize,
}

impl Utf8Problem {
    /// Returns the next step for the user, in the imperative.
    pub fn help(&self) -> &'static str {
        match self.kind {
            Utf8ProblemKind::Utf16ByteOrderMark => {
                "re-export the file as UTF-8, or convert it, for example with `iconv -f UTF-16 -t UTF-8`"
            }
            Utf8ProblemKind::InvalidSequence | Utf8ProblemKind::IncompleteSequence => {
                "re-export the file as UTF-8, or find the bytes at this position and fix their encoding"
            }
        }
    }
}

/// The kinds of UTF-8 problem [`check_utf8`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Utf8ProblemKind {
    /// The input starts with a UTF-16 byte order mark, so the whole file is
    /// most likely UTF-16.
    Utf16ByteOrderMark,
    /// A byte sequence is not valid UTF-8, for example a Latin-1 byte.
    InvalidSequence,
    /// The input ends in the middle of a multi-byte character.
    IncompleteSequence,
}

impl std::fmt::Display for Utf8ProblemKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = match self {
            Self::Utf16ByteOrderMark => {
                "file is UTF-16, not UTF-8: it starts with a UTF-16 byte order mark"
            }
            Self::InvalidSequence => "invalid UTF-8 byte sequence",
            Self::IncompleteSequence => "incomplete UTF-8 character at end of file",
        };
        f.write_str(text)
    }
}

/// Checks that `bytes` are UTF-8 and strips a leading UTF-8 byte order mark.
///
/// # Errors
///
/// Returns the kind and position of the first invalid byte.
pub fn check_utf8(bytes: &[u8]) -> Result<DecodedText<'_>, Utf8Problem> {
    if bytes.starts_with(&[0xff, 0xfe]) || bytes.starts_with(&[0xfe, 0xff]) {
        return Err(Utf8Problem {
            kind: Utf8ProblemKind::Utf16ByteOrderMark,
            offset: 0,
            line: 1,
            column: 1,
        });
    }

    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(match text.strip_prefix(BOM) {
            Some(rest) => DecodedText {
                text: rest,
                had_bom: true,
            },
            None => DecodedText {
                text,
                had_bom: false,
            },
        }),
        Err(error) => {
            let offset = error.valid_up_to();
            let valid = bytes
                .get(..offset)
                .and_then(|prefix| std::str::from_utf8(prefix).ok())
                .unwrap_or_default();
            let (line, column) = line_col(valid, offset);
            let kind = if error.error_len().is_some() {
                Utf8ProblemKind::InvalidSequence
            } else {
                Utf8ProblemKind::IncompleteSequence
            };
            Err(Utf8Problem {
                kind,
                offset,
                line,
                column,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_text_without_bom() {
        let decoded = check_utf8("{\"a\": \"é\"}".as_bytes()).expect("valid UTF-8");
        assert_eq!(decoded.text, "{\"a\": \"é\"}");
        assert!(!decoded.had_bom);
        assert_eq!(decoded.input_offset(4), 4);
    }

    #[test]
    fn bom_is_stripped_and_noted() {
        let decoded = check_utf8(b"\xef\xbb\xbf{}").expect("valid UTF-8");
        assert_eq!(decoded.text, "{}");
        assert!(decoded.had_bom);
        assert_eq!(decoded.input_offset(1), 4);
    }

    #[test]
    fn latin1_byte_position() {
        // "caf\xe9" is Latin-1 for "café". On line 2 after a multi-byte
        // character, the column counts characters.
        let bytes = b"{\n\"\xc3\xa9\": \"caf\xe9\"}";
        let problem = check_utf8(bytes).expect_err("Latin-1 byte");
        assert_eq!(problem.kind, Utf8ProblemKind::InvalidSequence);
        assert_eq!(problem.offset, 12);
        assert_eq!((problem.line, problem.column), (2, 10));
    }

    #[test]
    fn invalid_byte_after_bom() {
        let problem = check_utf8(b"\xef\xbb\xbf[\xff]").expect_err("0xff is never UTF-8");
        assert_eq!(problem.offset, 4);
        assert_eq!((problem.line, problem.column), (1, 2));
    }

    #[test]
    fn truncated_character_at_end() {
        let problem = check_utf8(b"[\"\xe2\x82").expect_err("truncated euro sign");
        assert_eq!(problem.kind, Utf8ProblemKind::IncompleteSequence);
        assert_eq!(problem.offset, 2);
    }

    #[test]
    fn encoded_surrogate_is_invalid() {
        // U+D800 encoded as if it were a character is not UTF-8.
        let problem = check_utf8(b"ab\xed\xa0\x80").expect_err("surrogate code point");
        assert_eq!(problem.kind, Utf8ProblemKind::InvalidSequence);
        assert_eq!(problem.offset, 2);
    }

    #[test]
    fn utf16_input_is_named() {
        for bytes in [&b"\xff\xfe{\x00}\x00"[..], b"\xfe\xff\x00{\x00}"] {
            let problem = check_utf8(bytes).expect_err("UTF-16 input");
            assert_eq!(problem.kind, Utf8ProblemKind::Utf16ByteOrderMark);
            assert_eq!(problem.offset, 0);
        }
    }

    #[test]
    fn message_names_position_only() {
        let problem = check_utf8(b"{\"name\": \"J\xf6rg\"}").expect_err("Latin-1 byte");
        assert_eq!(
            problem.to_string(),
            "invalid UTF-8 byte sequence at line 1, column 12 (byte offset 11)"
        );
        assert!(problem.help().starts_with("re-export the file as UTF-8"));
    }
}
