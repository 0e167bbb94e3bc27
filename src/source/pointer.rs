//! Locating the value at an RFC 6901 JSON pointer in JSON text.

use std::borrow::Cow;
use std::ops::Range;

use super::scan::{document_start, Container, Event, Reader};
use super::strings::{decodes_to, token_contents};

/// Byte ranges of a located value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// The value, from its first byte to one past its last. A string value
    /// includes its quotes.
    pub value: Range<usize>,
    /// The member name including its quotes, when the value is an object
    /// member. `None` for array elements and for the whole document.
    pub key: Option<Range<usize>>,
}

impl Located {
    /// Returns the ranges moved by `base` bytes, to turn ranges within a
    /// slice into ranges within the text the slice was cut from.
    pub fn offset_by(self, base: usize) -> Located {
        Located {
            value: shift(self.value, base),
            key: self.key.map(|key| shift(key, base)),
        }
    }

    /// Returns the range from the start of the member name, or of the value
    /// when there is no name, to the end of the value.
    pub fn member(&self) -> Range<usize> {
        let start = self.key.as_ref().map_or(self.value.start, |key| key.start);
        start..self.value.end
    }
}

fn shift(range: Range<usize>, base: usize) -> Range<usize> {
    range.start + base..range.end + base
}

/// Locates the value at `pointer` in `text`, the text of one JSON document.
///
/// `text` may start with a UTF-8 byte order mark and whitespace, and the
/// returned ranges count them. `pointer` follows RFC 6901: `""` is the whole
/// document, and `~1` and `~0` in a reference token stand for `/` and `~`.
/// Member names are compared after decoding JSON escapes, so `"\u0061"`
/// matches the token `a`.
///
/// When an object has the same member name twice, the last one wins, as in
/// `serde_json::Value`. So the scan reads every object on the path to its
/// end, and a later duplicate replaces what an earlier one matched. Subtrees
/// off the path are skipped without decoding or allocating. Each call may
/// still read the whole document, so to locate many pointers inside one
/// record of a large file, locate the record once and pass its range to
/// [`locate_pointer_within`].
///
/// Returns `None` when the pointer is malformed, when no value is at the
/// pointer, or when the scan meets a JSON syntax error before the result is
/// settled.
///
/// NOTE: with the `arbitrary_precision` feature, `serde_json` reads an
/// object whose first member is named `$serde_json::private::Number` as a
/// number. This function treats that object as an object.
pub fn locate_pointer(text: &str, pointer: &str) -> Option<Located> {
    let tokens = parse_pointer(pointer)?;
    let mut locator = Locator::new(&tokens);
    let mut reader = Reader::new(text, document_start(text));

    while let Some(event) = reader.next_event().ok()? {
        if locator.observe(&reader, event, text) == Progress::Settled {
            break;
        }
    }
    locator.found
}

/// Locates the value at `pointer` in the JSON document that occupies
/// `document` within `text`, and returns ranges within the whole `text`.
///
/// Use it with the ranges from [`split_documents`](super::split_documents)
/// for NDJSON files and concatenated documents, or with the range of one
/// element of a top-level array. Returns `None` when `document` is not a
/// valid range of `text`, and otherwise as [`locate_pointer`] does.
pub fn locate_pointer_within(text: &str, document: Range<usize>, pointer: &str) -> Option<Located> {
    let base = document.start;
    let slice = text.get(document)?;
    locate_pointer(slice, pointer).map(|located| located.offset_by(base))
}

/// Splits an RFC 6901 pointer into its decoded reference tokens. Returns
/// `None` when the pointer is neither empty nor starts with `/`, or when a
/// `~` is not followed by `0` or `1`.
pub fn parse_pointer(pointer: &str) -> Option<Vec<Cow<'_, str>>> {
    if pointer.is_empty() {
        return Some(Vec::new());
    }

    let rest = pointer.strip_prefix('/')?;
    rest.split('/').map(unescape_token).collect()
}

fn unescape_token(token: &str) -> Option<Cow<'_, str>> {
    if !token.contains('~') {
        return Some(Cow::Borrowed(token));
    }

    let mut decoded = String::with_capacity(token.len());
    let mut chars = token.chars();
    while let Some(c) = chars.next() {
        if c != '~' {
            decoded.push(c);
            continue;
        }
        match chars.next() {
            Some('0') => decoded.push('~'),
            Some('1') => decoded.push('/'),
            _ => return None,
        }
    }
    Some(Cow::Owned(decoded))
}

/// Appends `token` to `pointer` as one RFC 6901 reference token, escaping
/// `~` and `/`.
pub fn push_pointer_token(pointer: &mut String, token: &str) {
    pointer.push('/');
    for c in token.chars() {
        match c {
            '~' => pointer.push_str("~0"),
            '/' => pointer.push_str("~1"),
            _ => pointer.push(c),
        }
    }
}

/// Parses a reference token as an array index: `0` or digits without a
/// leading zero. `-` and anything else match no element.
fn array_index(token: &str) -> Option<usize> {
    let is_canonical = !token.is_empty()
        && token.bytes().all(|byte| byte.is_ascii_digit())
        && (token == "0" || !token.starts_with('0'));
    if is_canonical {
        token.parse().ok()
    } else {
        None
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Progress {
    Continue,
    /// Nothing later in the text can change the result.
    Settled,
}

/// One open container whose path is a prefix of the pointer.
#[derive(Debug)]
struct PathFrame {
    container: Container,
    /// Index of the next element, for arrays.
    next_index: usize,
}

/// Tracks which values lie on the pointer's path while events stream by.
///
/// Open containers whose path matches the pointer form a prefix of the
/// reader's stack: `path` contains them, so `path.len()` tokens have matched.
/// Containers below that prefix are skipped by depth alone.
struct Locator<'p> {
    tokens: &'p [Cow<'p, str>],
    /// Each token read as an array index, where it is one.
    indexes: Vec<Option<usize>>,
    path: Vec<PathFrame>,
    /// Whether the next value continues the path: set by a matching key, or
    /// by an array reaching the matching index.
    next_on_path: bool,
    /// Range of the matching member name, kept until its value ends.
    pending_key: Option<Range<usize>>,
    /// Start and depth of the target while it is a container still open.
    open_target: Option<(usize, usize)>,
    found: Option<Located>,
}

impl<'p> Locator<'p> {
    fn new(tokens: &'p [Cow<'p, str>]) -> Self {
        Locator {
            tokens,
            indexes: tokens.iter().map(|token| array_index(token)).collect(),
            path: Vec::new(),
            next_on_path: true,
            pending_key: None,
            open_target: None,
            found: None,
        }
    }

    fn observe(&mut self, reader: &Reader<'_>, event: Event, text: &str) -> Progress {
        // Depth of the containers open around this event, not counting a
        // container the event itself opens.
        let depth = match event {
            Event::ObjectStart { .. } | Event::ArrayStart { .. } => reader.depth() - 1,
            _ => reader.depth(),
        };
        let in_path_container = depth == self.path.len() && depth > 0;

        if event.starts_value() && in_path_container {
            self.select_element(depth);
        }

        match event {
            Event::Key { range, escaped } if in_path_container => {
                let raw = token_contents(text, &range);
                let token = self
                    .tokens
                    .get(depth - 1)
                    .map_or("", |token| token.as_ref());
                self.next_on_path = decodes_to(raw, escaped, token);
                self.pending_key = self.next_on_path.then_some(range);
            }
            Event::ObjectStart { at } | Event::ArrayStart { at } => {
                if self.take_on_path(depth) {
                    self.enter(at, depth, reader.innermost());
                }
            }
            Event::Scalar { range } => {
                if self.take_on_path(depth) && depth == self.tokens.len() {
                    self.found = Some(Located {
                        value: range,
                        key: self.pending_key.take(),
                    });
                }
            }
            Event::ObjectEnd { end } | Event::ArrayEnd { end } => self.leave(end, reader.depth()),
            Event::Key { .. } => {}
        }

        self.progress()
    }

    /// Marks whether the element that starts in the on-path array at `depth`
    /// is the one the pointer selects.
    fn select_element(&mut self, depth: usize) {
        let Some(frame) = self.path.last_mut() else {
            return;
        };
        if frame.container != Container::Array {
            return;
        }

        let index = frame.next_index;
        frame.next_index += 1;
        self.next_on_path = self.indexes.get(depth - 1).copied().flatten() == Some(index);
        self.pending_key = None;
    }

    /// Returns whether the value starting at `depth` continues the path, and
    /// resets that mark for the next sibling. A value on the path replaces
    /// any earlier match, because it can only be a later duplicate member.
    fn take_on_path(&mut self, depth: usize) -> bool {
        let on_path = depth == self.path.len() && std::mem::take(&mut self.next_on_path);
        if on_path {
            self.found = None;
        }
        on_path
    }

    fn enter(&mut self, at: usize, depth: usize, container: Option<Container>) {
        if depth == self.tokens.len() {
            self.open_target = Some((at, depth));
            return;
        }

        if let Some(container) = container {
            self.path.push(PathFrame {
                container,
                next_index: 0,
            });
        }
    }

    /// Handles a container end that leaves `depth` containers open.
    fn leave(&mut self, end: usize, depth: usize) {
        if let Some((start, target_depth)) = self.open_target {
            if target_depth == depth {
                self.open_target = None;
                self.found = Some(Located {
                    value: start..end,
                    key: self.pending_key.take(),
                });
            }
        }

        if self.path.len() > depth {
            self.path.truncate(depth);
            self.next_on_path = false;
        }
    }

    /// Reports whether the result can still change. It can while the target
    /// container is open, while any object on the path is open (a later
    /// duplicate member may replace the match), and while the innermost
    /// array on the path has not yet passed the selected index.
    fn progress(&self) -> Progress {
        if self.open_target.is_some() {
            return Progress::Continue;
        }
        if self
            .path
            .iter()
            .any(|frame| frame.container == Container::Object)
        {
            return Progress::Continue;
        }

        let Some(innermost) = self.path.last() else {
            return Progress::Settled;
        };
        let selected = self.indexes.get(self.path.len() - 1).copied().flatten();
        match selected {
            Some(index) if innermost.next_index <= index => Progress::Continue,
            _ => Progress::Settled,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value_at<'t>(text: &'t str, pointer: &str) -> Option<&'t str> {
        locate_pointer(text, pointer).map(|located| &text[located.value])
    }

    fn key_at<'t>(text: &'t str, pointer: &str) -> Option<&'t str> {
        locate_pointer(text, pointer)
            .and_then(|located| located.key)
            .map(|key| &text[key])
    }

    #[test]
    fn parse_pointer_decodes_tokens() {
        let tokens = |pointer| {
            parse_pointer(pointer)
                .map(|tokens| tokens.into_iter().map(Cow::into_owned).collect::<Vec<_>>())
        };
        assert_eq!(tokens(""), Some(vec![]));
        assert_eq!(tokens("/"), Some(vec![String::new()]));
        assert_eq!(tokens("/a/0"), Some(vec!["a".into(), "0".into()]));
        assert_eq!(tokens("/a~1b/m~0n"), Some(vec!["a/b".into(), "m~n".into()]));
        assert_eq!(tokens("/~01"), Some(vec!["~1".into()]));
        assert_eq!(tokens("a"), None);
        assert_eq!(tokens("/a~"), None);
        assert_eq!(tokens("/a~2"), None);
    }

    #[test]
    fn push_pointer_token_escapes() {
        let mut pointer = String::new();
        push_pointer_token(&mut pointer, "a/b");
        push_pointer_token(&mut pointer, "m~n");
        push_pointer_token(&mut pointer, "");
        assert_eq!(pointer, "/a~1b/m~0n/");
    }

    #[test]
    fn array_index_tokens() {
        assert_eq!(array_index("0"), Some(0));
        assert_eq!(array_index("12"), Some(12));
        assert_eq!(array_index("012"), None);
        assert_eq!(array_index("-"), None);
        assert_eq!(array_index("+1"), None);
        assert_eq!(array_index(""), None);
        assert_eq!(array_index("99999999999999999999999"), None);
    }

    #[test]
    fn nested_objects_and_arrays() {
        let text = r#"{"a": {"b": [10, {"c": true}, [null]]}, "d": "x"}"#;
        assert_eq!(value_at(text, "/a/b/0"), Some("10"));
        assert_eq!(value_at(text, "/a/b/1/c"), Some("true"));
        assert_eq!(value_at(text, "/a/b/2/0"), Some("null"));
        assert_eq!(value_at(text, "/a/b/1"), Some(r#"{"c": true}"#));
        assert_eq!(value_at(text, "/d"), Some(r#""x""#));
        assert_eq!(key_at(text, "/a/b"), Some(r#""b""#));
        assert_eq!(key_at(text, "/a/b/1"), None);
    }

    #[test]
    fn whole_document() {
        let text = "\u{feff} \r\n[1, 2]\n";
        let located = locate_pointer(text, "").expect("document");
        assert_eq!(&text[located.value.clone()], "[1, 2]");
        assert_eq!(located.value.start, 6);
        assert_eq!(located.key, None);
        assert_eq!(value_at(" 42 ", ""), Some("42"));
    }

    #[test]
    fn missing_targets() {
        let text = r#"{"a": [1, 2], "b": {"c": 1}}"#;
        for pointer in [
            "/x", "/a/2", "/a/-", "/a/01", "/a/0/x", "/b/c/d", "/b/", "a",
        ] {
            assert_eq!(locate_pointer(text, pointer), None, "pointer {pointer:?}");
        }
    }

    #[test]
    fn escaped_and_special_keys() {
        let text =
            r#"{"a/b": 1, "m~n": 2, "\u0061": 3, "": 4, "é": 5, "\ud83d\ude00": 6, "q\"": 7}"#;
        assert_eq!(value_at(text, "/a~1b"), Some("1"));
        assert_eq!(value_at(text, "/m~0n"), Some("2"));
        assert_eq!(value_at(text, "/a"), Some("3"));
        assert_eq!(key_at(text, "/a"), Some(r#""\u0061""#));
        assert_eq!(value_at(text, "/"), Some("4"));
        assert_eq!(value_at(text, "/é"), Some("5"));
        assert_eq!(value_at(text, "/😀"), Some("6"));
        assert_eq!(value_at(text, "/q\""), Some("7"));
    }

    #[test]
    fn strings_with_structural_characters_are_skipped() {
        let text = r#"{"s": "]}\"{[\\", "t": ["\\\"]", "x"], "u": 1}"#;
        assert_eq!(value_at(text, "/u"), Some("1"));
        assert_eq!(value_at(text, "/t/1"), Some(r#""x""#));
        assert_eq!(value_at(text, "/s"), Some(r#""]}\"{[\\""#));
    }

    #[test]
    fn numbers_with_exponents() {
        let text = "[1e5, -2.5E-3, 0, 1.0e+400]";
        assert_eq!(value_at(text, "/0"), Some("1e5"));
        assert_eq!(value_at(text, "/1"), Some("-2.5E-3"));
        assert_eq!(value_at(text, "/3"), Some("1.0e+400"));
    }

    #[test]
    fn last_duplicate_wins() {
        let text = r#"{"a": 1, "b": 2, "a": 3}"#;
        let located = locate_pointer(text, "/a").expect("member a");
        assert_eq!(&text[located.value], "3");
        assert_eq!(located.key, Some(17..20));
    }

    #[test]
    fn later_duplicate_replaces_whole_subtree() {
        let text = r#"{"a": {"b": 1, "c": 2}, "a": {"c": 3}}"#;
        assert_eq!(value_at(text, "/a/b"), None);
        assert_eq!(value_at(text, "/a/c"), Some("3"));
        assert_eq!(value_at(text, "/a"), Some(r#"{"c": 3}"#));
    }

    #[test]
    fn duplicate_inside_array_element() {
        let text = r#"[{"k": 1, "k": [2]}, {"k": 3}]"#;
        assert_eq!(value_at(text, "/0/k"), Some("[2]"));
        assert_eq!(value_at(text, "/0/k/0"), Some("2"));
        assert_eq!(value_at(text, "/1/k"), Some("3"));
    }

    #[test]
    fn malformed_before_target() {
        assert_eq!(locate_pointer(r#"{"a": [1,, 2], "b": 1}"#, "/b"), None);
        assert_eq!(
            locate_pointer(r#"{"a": "unterminated, "b": 1}"#, "/b"),
            None
        );
        assert_eq!(locate_pointer("[1, 2", "/2"), None);
    }

    #[test]
    fn objects_on_path_are_read_to_their_end() {
        // A later duplicate could follow, so an error after the target in an
        // object on the path leaves the result unsettled.
        assert_eq!(locate_pointer(r#"{"a": 1, "b": }"#, "/a"), None);
    }

    #[test]
    fn array_path_settles_after_target() {
        // Nothing after element 1 can change the result, so the scan stops
        // before the syntax error.
        let text = r#"[{"a": 1}, {"a": 2}, {"a": ]"#;
        assert_eq!(value_at(text, "/1/a"), Some("2"));
        assert_eq!(value_at(text, "/1"), Some(r#"{"a": 2}"#));
        assert_eq!(value_at(text, "/2/a"), None);
    }

    #[test]
    fn crlf_and_whitespace() {
        let text = "{\r\n  \"a\" :\r\n\t[ 1 ,\r\n 2 ]\r\n}\r\n";
        assert_eq!(value_at(text, "/a/1"), Some("2"));
        assert_eq!(key_at(text, "/a"), Some("\"a\""));
    }

    #[test]
    fn within_range_offsets_results() {
        let text = "{\"a\": 1}\n{\"a\": 22}\n";
        let located = locate_pointer_within(text, 9..18, "/a").expect("second line");
        assert_eq!(&text[located.value.clone()], "22");
        assert_eq!(located.key, Some(10..13));
        assert_eq!(locate_pointer_within(text, 9..100, "/a"), None);
    }

    #[test]
    fn member_spans_key_and_value() {
        let text = r#"{"a": [1]}"#;
        let located = locate_pointer(text, "/a").expect("member");
        assert_eq!(&text[located.member()], r#""a": [1]"#);
        let element = locate_pointer(text, "/a/0").expect("element");
        assert_eq!(&text[element.member()], "1");
    }

    #[test]
    fn offset_by_moves_both_ranges() {
        let located = Located {
            value: 5..7,
            key: Some(1..3),
        };
        assert_eq!(
            located.offset_by(10),
            Located {
                value: 15..17,
                key: Some(11..13)
            }
        );
    }
}
