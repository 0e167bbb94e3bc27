//! A nesting-depth check that runs before `serde_json` parses the text.

/// The deepest nesting of arrays and objects that `serde_json` 1.x parses.
/// One more level fails with "recursion limit exceeded".
pub const SERDE_JSON_MAX_DEPTH: usize = 127;

/// Returns the byte offset of the first `[` or `{` that opens a container
/// nested more than `limit` levels deep, or `None` when no container is.
///
/// The outermost container is at depth 1, so `[[]]` has depth 2. A `limit`
/// of at most [`SERDE_JSON_MAX_DEPTH`] lets the loader reject deep input with
/// its own message before `serde_json` fails on it.
///
/// The check counts brackets outside strings and does not check the rest of
/// the grammar, so it also returns a result for malformed text. Several
/// concatenated documents are each measured from depth 0. The scan stops at
/// an unterminated string.
pub fn max_depth_exceeds(text: &str, limit: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut pos = 0;

    while let Some(&byte) = bytes.get(pos) {
        match byte {
            b'[' | b'{' => {
                depth += 1;
                if depth > limit {
                    return Some(pos);
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b'"' => {
                pos = string_end(bytes, pos)?;
                continue;
            }
            _ => {}
        }
        pos += 1;
    }

    None
}

/// Returns the offset after the closing quote of the string that opens at
/// `start`, or `None` if the string does not close.
fn string_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut pos = start + 1;
    loop {
        let rest = bytes.get(pos..)?;
        let special = rest
            .iter()
            .position(|&byte| byte == b'"' || byte == b'\\')?;
        pos += special;

        if bytes.get(pos) == Some(&b'"') {
            return Some(pos + 1);
        }
        // Skip the backslash and the byte it escapes.
        pos += 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested_arrays(depth: usize) -> String {
        format!("{}{}", "[".repeat(depth), "]".repeat(depth))
    }

    #[test]
    fn within_limit() {
        assert_eq!(max_depth_exceeds("[[{}]]", 3), None);
        assert_eq!(max_depth_exceeds("1", 0), None);
        assert_eq!(max_depth_exceeds("", 0), None);
    }

    #[test]
    fn offset_points_at_crossing_bracket() {
        assert_eq!(max_depth_exceeds("[[{}]]", 2), Some(2));
        assert_eq!(max_depth_exceeds(r#"{"a": [1, {"b": []}]}"#, 2), Some(10));
        assert_eq!(max_depth_exceeds("[]", 0), Some(0));
    }

    #[test]
    fn closed_containers_reduce_depth() {
        assert_eq!(max_depth_exceeds("[[], [], [[]]]", 2), Some(10));
        assert_eq!(max_depth_exceeds("[[], [], []]", 2), None);
    }

    #[test]
    fn brackets_in_strings_are_ignored() {
        assert_eq!(max_depth_exceeds(r#"["[[[", "{{\"[["]"#, 1), None);
        assert_eq!(max_depth_exceeds(r#"["\\", ["x"]]"#, 1), Some(7));
    }

    #[test]
    fn unterminated_string_stops_scan() {
        assert_eq!(max_depth_exceeds(r#"["[[[["#, 1), None);
        assert_eq!(max_depth_exceeds(r#"["\"#, 1), None);
    }

    #[test]
    fn concatenated_documents_measured_separately() {
        assert_eq!(max_depth_exceeds("[[]] [[]]", 2), None);
    }

    #[test]
    fn serde_json_limit_matches_constant() {
        let deepest = nested_arrays(SERDE_JSON_MAX_DEPTH);
        let too_deep = nested_arrays(SERDE_JSON_MAX_DEPTH + 1);

        assert!(serde_json::from_str::<serde_json::Value>(&deepest).is_ok());
        let error = serde_json::from_str::<serde_json::Value>(&too_deep)
            .expect_err("one level past the limit");
        assert!(error.to_string().contains("recursion limit exceeded"));

        assert_eq!(max_depth_exceeds(&deepest, SERDE_JSON_MAX_DEPTH), None);
        assert_eq!(
            max_depth_exceeds(&too_deep, SERDE_JSON_MAX_DEPTH),
            Some(SERDE_JSON_MAX_DEPTH)
        );
    }
}
