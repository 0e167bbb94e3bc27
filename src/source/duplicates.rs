//! Detection of object member names that occur more than once in the same
//! object, which `serde_json` accepts silently by keeping the last value.

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;

use super::pointer::push_pointer_token;
use super::scan::{document_start, Container, Event, Reader};
use super::strings::{decode, token_contents};

/// A member name that occurs again in the same object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateKey {
    /// The decoded member name.
    pub key: String,
    /// RFC 6901 pointer to the object that contains both members.
    pub object_pointer: String,
    /// Byte range of the first occurrence of the name, quotes included.
    pub first: Range<usize>,
    /// Byte range of the later occurrence, quotes included.
    pub duplicate: Range<usize>,
}

/// Finds every object member name that occurs more than once in the same
/// object of the first JSON value in `text`.
///
/// Names are compared after decoding escapes, so `"a"` and `"\u0061"` are
/// the same name. A name that occurs three times yields two entries, each
/// pairing a later occurrence with the first. Entries are in text order of
/// the later occurrence. `text` may start with a UTF-8 byte order mark.
///
/// The scan builds no values and reuses its per-object name sets, so it is
/// cheap to run on every input. It stops at the end of the first value or at
/// the first syntax error, returning what it found before it: report syntax
/// errors from the JSON parser.
pub fn find_duplicate_keys(text: &str) -> Vec<DuplicateKey> {
    let mut reader = Reader::new(text, document_start(text));
    let mut frames: Vec<Frame<'_>> = Vec::new();
    let mut duplicates = Vec::new();

    while let Ok(Some(event)) = reader.next_event() {
        let depth = match event {
            Event::ObjectStart { .. } | Event::ArrayStart { .. } => reader.depth() - 1,
            _ => reader.depth(),
        };

        if event.starts_value() {
            if let Some(parent) = depth.checked_sub(1).and_then(|index| frames.get_mut(index)) {
                parent.next_index += 1;
            }
        }

        match event {
            Event::ObjectStart { .. } => open_frame(&mut frames, depth, Container::Object),
            Event::ArrayStart { .. } => open_frame(&mut frames, depth, Container::Array),
            Event::Key { range, escaped } => {
                let Some(index) = depth.checked_sub(1) else {
                    continue;
                };
                let name = decode(token_contents(text, &range), escaped);

                if let Some(first) = frames.get(index).and_then(|frame| frame.names.get(&name)) {
                    duplicates.push(DuplicateKey {
                        key: name.clone().into_owned(),
                        object_pointer: pointer_to(frames.get(..index).unwrap_or_default(), text),
                        first: first.clone(),
                        duplicate: range.clone(),
                    });
                }

                if let Some(frame) = frames.get_mut(index) {
                    frame.names.entry(name).or_insert_with(|| range.clone());
                    frame.current_key = Some((range, escaped));
                }
            }
            Event::Scalar { .. } | Event::ObjectEnd { .. } | Event::ArrayEnd { .. } => {}
        }
    }

    duplicates
}

/// Scan state of one open container. Frames deeper than the current depth
/// are kept for reuse, so their name sets keep their capacity.
struct Frame<'t> {
    container: Container,
    /// Names seen in this object, each with the range of its first
    /// occurrence.
    names: HashMap<Cow<'t, str>, Range<usize>>,
    /// Name token of the member being read, for building pointers.
    current_key: Option<(Range<usize>, bool)>,
    /// Number of elements started so far, for arrays.
    next_index: usize,
}

fn open_frame(frames: &mut Vec<Frame<'_>>, depth: usize, container: Container) {
    if let Some(frame) = frames.get_mut(depth) {
        frame.container = container;
        frame.names.clear();
        frame.current_key = None;
        frame.next_index = 0;
        return;
    }

    frames.push(Frame {
        container,
        names: HashMap::new(),
        current_key: None,
        next_index: 0,
    });
}

/// Builds the pointer to the value currently read inside the innermost of
/// `frames`.
fn pointer_to(frames: &[Frame<'_>], text: &str) -> String {
    let mut pointer = String::new();
    for frame in frames {
        match (&frame.container, &frame.current_key) {
            (Container::Object, Some((range, escaped))) => {
                push_pointer_token(&mut pointer, &decode(token_contents(text, range), *escaped));
            }
            (Container::Array, _) => {
                let index = frame.next_index.saturating_sub(1);
                push_pointer_token(&mut pointer, &index.to_string());
            }
            (Container::Object, None) => {}
        }
    }
    pointer
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slice(text: &str, range: &Range<usize>) -> String {
        text[range.clone()].to_string()
    }

    #[test]
    fn no_duplicates_in_clean_document() {
        let text = r#"{"a": {"a": 1}, "b": [{"a": 1}, {"a": 2}]}"#;
        assert_eq!(find_duplicate_keys(text), []);
    }

    #[test]
    fn duplicate_at_top_level() {
        let text = r#"{"id": 1, "name": "x", "id": 2}"#;
        let found = find_duplicate_keys(text);
        assert_eq!(found.len(), 1);
        let duplicate = &found[0];
        assert_eq!(duplicate.key, "id");
        assert_eq!(duplicate.object_pointer, "");
        assert_eq!(duplicate.first, 1..5);
        assert_eq!(duplicate.duplicate, 23..27);
    }

    #[test]
    fn nested_duplicates_report_object_pointer() {
        let text = r#"{
  "entry": [
    {"resource": {"status": "final"}},
    {"resource": {"code": "a", "a/b~c": 1, "code": "b", "a/b~c": 2}}
  ],
  "meta": {"tag": [], "tag": []}
}"#;
        let found = find_duplicate_keys(text);
        let summary: Vec<(&str, &str)> = found
            .iter()
            .map(|duplicate| (duplicate.object_pointer.as_str(), duplicate.key.as_str()))
            .collect();
        assert_eq!(
            summary,
            [
                ("/entry/1/resource", "code"),
                ("/entry/1/resource", "a/b~c"),
                ("/meta", "tag"),
            ]
        );
        for duplicate in &found {
            assert_eq!(
                slice(text, &duplicate.first),
                slice(text, &duplicate.duplicate)
            );
            assert!(duplicate.first.start < duplicate.duplicate.start);
        }
    }

    #[test]
    fn escaped_names_compare_decoded() {
        let text = r#"{"a": 1, "\u0061": 2}"#;
        let found = find_duplicate_keys(text);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].key, "a");
        assert_eq!(slice(text, &found[0].duplicate), r#""\u0061""#);
    }

    #[test]
    fn escaped_name_in_pointer_is_decoded() {
        let text = r#"{"\u00e9t\u00e9": {"x": 1, "x": 2}}"#;
        let found = find_duplicate_keys(text);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].object_pointer, "/\u{e9}t\u{e9}");
    }

    #[test]
    fn triple_occurrence_pairs_each_with_first() {
        let text = r#"{"k": 1, "k": 2, "k": 3}"#;
        let found = find_duplicate_keys(text);
        let pairs: Vec<(usize, usize)> = found
            .iter()
            .map(|duplicate| (duplicate.first.start, duplicate.duplicate.start))
            .collect();
        assert_eq!(pairs, [(1, 9), (1, 17)]);
    }

    #[test]
    fn sibling_objects_do_not_share_names() {
        let text = r#"[{"a": 1}, {"a": 2}, {"b": {"a": 3}}]"#;
        assert_eq!(find_duplicate_keys(text), []);
    }

    #[test]
    fn reused_frame_starts_empty() {
        // The second object reuses the first one's frame at depth 1.
        let text = r#"[{"a": 1, "b": 2}, {"b": 3, "b": 4}]"#;
        let found = find_duplicate_keys(text);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].object_pointer, "/1");
        assert_eq!(found[0].first.start, 20);
    }

    #[test]
    fn names_inside_strings_are_ignored() {
        let text = r#"{"note": "{\"a\": 1, \"a\": 2}", "a": 1}"#;
        assert_eq!(find_duplicate_keys(text), []);
    }

    #[test]
    fn stops_at_syntax_error_keeping_earlier_findings() {
        let text = r#"{"a": 1, "a": 2, "b": }"#;
        let found = find_duplicate_keys(text);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].key, "a");
    }

    #[test]
    fn stops_after_first_document() {
        let text = "{\"a\": 1}\n{\"a\": 1, \"a\": 2}";
        assert_eq!(find_duplicate_keys(text), []);
    }

    #[test]
    fn byte_order_mark_is_skipped() {
        let text = "\u{feff}{\"a\": 1, \"a\": 2}";
        let found = find_duplicate_keys(text);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].first, 4..7);
    }
}
