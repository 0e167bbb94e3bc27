//! Finding the top-level JSON values in a text that may hold several of them.

use std::ops::Range;

use super::scan::{document_start, skip_whitespace, Reader, SyntaxError};

/// Returns the byte range of every top-level JSON value in `text`, in order.
///
/// A `.json` file should contain one value. Two or more ranges mean the file
/// contains concatenated documents, as in `{..}{..}` or `{..}\n{..}`, and the
/// start of the second range is where the second document begins. For NDJSON
/// input each range is one line's value. Whitespace between values is
/// skipped, and so is a leading UTF-8 byte order mark. Text with no value
/// returns an empty list.
///
/// Each value is scanned with the full JSON grammar, so brackets and quotes
/// inside strings do not split values.
///
/// # Errors
///
/// Returns the first syntax error, in any of the values.
pub fn split_documents(text: &str) -> Result<Vec<Range<usize>>, SyntaxError> {
    let bytes = text.as_bytes();
    let mut documents = Vec::new();
    let mut start = document_start(text);

    while start < bytes.len() {
        let mut reader = Reader::new(text, start);
        while reader.next_event()?.is_some() {}

        let end = reader.position();
        documents.push(start..end);
        start = skip_whitespace(bytes, end);
    }

    Ok(documents)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SyntaxErrorKind;

    fn pieces(text: &str) -> Vec<&str> {
        split_documents(text)
            .expect("valid JSON documents")
            .into_iter()
            .map(|range| &text[range])
            .collect()
    }

    #[test]
    fn single_document() {
        assert_eq!(pieces(" {\"a\": [1, 2]}\n"), ["{\"a\": [1, 2]}"]);
    }

    #[test]
    fn adjacent_objects() {
        assert_eq!(pieces(r#"{"a":1}{"b":2}"#), [r#"{"a":1}"#, r#"{"b":2}"#]);
    }

    #[test]
    fn newline_separated_objects() {
        let text = "{\"a\":1}\r\n{\"b\":2}\n\n[3]\n";
        let ranges = split_documents(text).expect("valid JSON documents");
        assert_eq!(ranges, [0..7, 9..16, 18..21]);
    }

    #[test]
    fn braces_inside_strings_do_not_split() {
        let text = r#"{"note": "}{", "x": "\"}"} {"y": "[\\"}"#;
        assert_eq!(
            pieces(text),
            [r#"{"note": "}{", "x": "\"}"}"#, r#"{"y": "[\\"}"#]
        );
    }

    #[test]
    fn scalars_are_documents() {
        assert_eq!(
            pieces("1 \"two\" true null"),
            ["1", "\"two\"", "true", "null"]
        );
    }

    #[test]
    fn empty_and_blank_text() {
        assert_eq!(split_documents(""), Ok(vec![]));
        assert_eq!(split_documents(" \n\t"), Ok(vec![]));
        assert_eq!(split_documents("\u{feff}\n"), Ok(vec![]));
    }

    #[test]
    fn byte_order_mark_is_skipped() {
        let documents = split_documents("\u{feff}{}").expect("valid JSON");
        assert_eq!(documents.len(), 1);
        assert_eq!(documents.first(), Some(&(3..5)));
    }

    #[test]
    fn syntax_error_in_later_document() {
        let error =
            split_documents("{\"a\": 1}\n{\"b\": }").expect_err("second document is invalid");
        assert_eq!(error.kind, SyntaxErrorKind::ExpectedValue);
        assert_eq!(error.offset, 15);
    }

    #[test]
    fn trailing_garbage_is_an_error() {
        let error = split_documents("{} x").expect_err("x is not JSON");
        assert_eq!(error.kind, SyntaxErrorKind::ExpectedValue);
        assert_eq!(error.offset, 3);
    }

    #[test]
    fn serde_json_rejects_what_splits_into_several() {
        for text in [r#"{"a":1}{"b":2}"#, "{}\n{}", "[1] 2"] {
            assert!(split_documents(text).expect("valid documents").len() > 1);
            assert!(serde_json::from_str::<serde_json::Value>(text).is_err());
        }
    }
}
