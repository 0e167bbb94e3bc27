//! Decoding of JSON string tokens into their text, without allocating when
//! the caller only compares.

use std::borrow::Cow;
use std::ops::Range;

use super::scan::hex4;

/// An iterator over the characters a JSON string token decodes to.
///
/// `raw` is the token without its quotes. The scanner has already validated
/// the escapes, so a malformed escape cannot occur. If one does anyway, the
/// iterator yields U+FFFD for it instead of panicking.
pub(crate) struct DecodedChars<'a> {
    raw: &'a str,
}

impl<'a> DecodedChars<'a> {
    pub(crate) fn new(raw: &'a str) -> Self {
        DecodedChars { raw }
    }
}

impl Iterator for DecodedChars<'_> {
    type Item = char;

    fn next(&mut self) -> Option<char> {
        let mut chars = self.raw.chars();
        let first = chars.next()?;
        if first != '\\' {
            self.raw = chars.as_str();
            return Some(first);
        }

        let (decoded, consumed) = decode_escape(self.raw.as_bytes());
        self.raw = self.raw.get(consumed..).unwrap_or_default();
        Some(decoded)
    }
}

/// Decodes the escape at the start of `bytes` (which begins with a
/// backslash) and returns the character and the number of bytes it spans.
fn decode_escape(bytes: &[u8]) -> (char, usize) {
    let simple = match bytes.get(1) {
        Some(b'"') => '"',
        Some(b'\\') => '\\',
        Some(b'/') => '/',
        Some(b'b') => '\u{8}',
        Some(b'f') => '\u{c}',
        Some(b'n') => '\n',
        Some(b'r') => '\r',
        Some(b't') => '\t',
        Some(b'u') => return decode_unicode_escape(bytes),
        _ => return (char::REPLACEMENT_CHARACTER, bytes.len().min(2)),
    };
    (simple, 2)
}

/// Decodes a `\uXXXX` escape, joining a surrogate pair into one character.
fn decode_unicode_escape(bytes: &[u8]) -> (char, usize) {
    let Ok(unit) = hex4(bytes, 2) else {
        return (char::REPLACEMENT_CHARACTER, bytes.len().min(6));
    };

    if (0xd800..=0xdbff).contains(&unit) && bytes.get(6..8) == Some(b"\\u") {
        if let Ok(low @ 0xdc00..=0xdfff) = hex4(bytes, 8) {
            let scalar = 0x10000 + ((u32::from(unit) - 0xd800) << 10) + (u32::from(low) - 0xdc00);
            return (
                char::from_u32(scalar).unwrap_or(char::REPLACEMENT_CHARACTER),
                12,
            );
        }
    }

    (
        char::from_u32(u32::from(unit)).unwrap_or(char::REPLACEMENT_CHARACTER),
        6,
    )
}

/// Returns the text of a JSON string token given without its quotes,
/// borrowing when it has no escapes.
pub(crate) fn decode(raw: &str, escaped: bool) -> Cow<'_, str> {
    if escaped {
        Cow::Owned(DecodedChars::new(raw).collect())
    } else {
        Cow::Borrowed(raw)
    }
}

/// Returns the contents of the string token at `range` of `text`, the
/// range including both quotes.
pub(crate) fn token_contents<'t>(text: &'t str, range: &Range<usize>) -> &'t str {
    let inner = range.start + 1..range.end.saturating_sub(1);
    text.get(inner).unwrap_or_default()
}

/// Returns true if the string token `raw` (without quotes) decodes to
/// `expected`.
pub(crate) fn decodes_to(raw: &str, escaped: bool, expected: &str) -> bool {
    if escaped {
        DecodedChars::new(raw).eq(expected.chars())
    } else {
        raw == expected
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_matches_serde_json() {
        let raws = [
            r"plain",
            r"\u0061b",
            r#"\"quoted\" \\ \/ \b\f\n\r\t"#,
            r"\u00e9t\u00C9",
            r"\ud83d\ude00 smile",
            r"\u003cdiv\u003e",
            "caf\u{e9} \\u00e9",
        ];
        for raw in raws {
            let expected: String =
                serde_json::from_str(&format!("\"{raw}\"")).expect("valid JSON string");
            assert_eq!(
                decode(raw, raw.contains('\\')),
                expected,
                "decoding {raw:?}"
            );
            assert!(
                decodes_to(raw, raw.contains('\\'), &expected),
                "comparing {raw:?}"
            );
        }
    }

    #[test]
    fn decodes_to_rejects_prefixes_and_extensions() {
        assert!(!decodes_to(r"\u0061", true, "ab"));
        assert!(!decodes_to(r"\u0061b", true, "a"));
        assert!(!decodes_to("ab", false, "a"));
    }

    #[test]
    fn unescaped_text_is_borrowed() {
        assert!(matches!(decode("abc", false), Cow::Borrowed("abc")));
    }

    #[test]
    fn malformed_escape_yields_replacement() {
        let decoded: String = DecodedChars::new(r"a\u12").collect();
        assert_eq!(decoded, "a\u{fffd}");
        let decoded: String = DecodedChars::new(r"a\").collect();
        assert_eq!(decoded, "a\u{fffd}");
        let decoded: String = DecodedChars::new(r"\ud800").collect();
        assert_eq!(decoded, "\u{fffd}");
    }
}
