//! Conversion of byte offsets to 1-based line and column numbers.
//!
//! Lines end at LF, so a CRLF pair ends one line and its CR counts as the
//! last character of that line. A lone CR does not end a line. `serde_json`
//! counts lines the same way in its error positions. A SARIF writer using
//! these numbers should declare `"newlineSequences": ["\r\n", "\n"]`.
//!
//! Columns count Unicode scalar values (Rust `char`s), so a SARIF writer
//! should declare `"columnKind": "unicodeCodePoints"`. A UTF-8 byte order
//! mark at the start of the text takes no column, because editors hide it.

use super::scan::BOM;

/// Returns the 1-based line and 1-based column of `byte_offset` in `text`.
///
/// An offset past the end is treated as the end of the text. An offset
/// inside a multi-byte character gives that character's column. For many
/// queries on the same text, build a [`LineIndex`].
pub fn line_col(text: &str, byte_offset: usize) -> (usize, usize) {
    let bytes = text.as_bytes();
    let offset = floor_char_boundary(text, byte_offset);
    let before = bytes.get(..offset).unwrap_or_default();

    let line_start = before
        .iter()
        .rposition(|&byte| byte == b'\n')
        .map_or(0, |newline| newline + 1);
    let line = 1 + before.iter().filter(|&&byte| byte == b'\n').count();
    let column = 1 + count_chars(bytes, line_start, offset) - bom_columns(text, line_start, offset);

    (line, column)
}

/// Distance in bytes between the checkpoints a [`LineIndex`] stores.
const CHECKPOINT_INTERVAL: usize = 1024;

/// Precomputed line starts of one text, for repeated offset-to-position
/// queries.
///
/// Queries take logarithmic time in the number of lines plus at most 1024
/// bytes of character counting, even on minified JSON where the whole file
/// is one line.
#[derive(Debug, Clone)]
pub struct LineIndex<'t> {
    text: &'t str,
    /// Byte offset of the first byte of each line. The first entry is 0.
    line_starts: Vec<usize>,
    /// For each multiple `k * CHECKPOINT_INTERVAL` of the interval, the
    /// number of characters from the start of its line up to that offset.
    checkpoints: Vec<usize>,
}

impl<'t> LineIndex<'t> {
    /// Indexes `text` in one pass.
    pub fn new(text: &'t str) -> Self {
        let bytes = text.as_bytes();
        let mut line_starts = vec![0];
        let mut checkpoints = Vec::with_capacity(bytes.len() / CHECKPOINT_INTERVAL + 1);
        let mut chars_in_line = 0;

        for (offset, &byte) in bytes.iter().enumerate() {
            if offset % CHECKPOINT_INTERVAL == 0 {
                checkpoints.push(chars_in_line);
            }
            if is_char_start(byte) {
                chars_in_line += 1;
            }
            if byte == b'\n' {
                line_starts.push(offset + 1);
                chars_in_line = 0;
            }
        }

        LineIndex {
            text,
            line_starts,
            checkpoints,
        }
    }

    /// Returns the number of lines. Text ending in LF has an empty last line.
    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// Returns the 1-based line and 1-based column of `byte_offset`, with
    /// the same rules as [`line_col`].
    pub fn line_col(&self, byte_offset: usize) -> (usize, usize) {
        let bytes = self.text.as_bytes();
        let offset = floor_char_boundary(self.text, byte_offset);

        let line = self.line_starts.partition_point(|&start| start <= offset);
        let line_start = self
            .line_starts
            .get(line.saturating_sub(1))
            .copied()
            .unwrap_or(0);

        let checkpoint = offset / CHECKPOINT_INTERVAL * CHECKPOINT_INTERVAL;
        let chars_before = match self.checkpoints.get(offset / CHECKPOINT_INTERVAL) {
            Some(&chars) if checkpoint > line_start => {
                chars + count_chars(bytes, checkpoint, offset)
            }
            _ => count_chars(bytes, line_start, offset),
        };
        let column = 1 + chars_before - bom_columns(self.text, line_start, offset);

        (line, column)
    }
}

/// Returns the largest character boundary of `text` that is at most
/// `offset`.
fn floor_char_boundary(text: &str, offset: usize) -> usize {
    let mut boundary = offset.min(text.len());
    while !text.is_char_boundary(boundary) {
        boundary -= 1;
    }
    boundary
}

/// Returns true for a byte that starts a UTF-8 character, that is any byte
/// other than a continuation byte.
fn is_char_start(byte: u8) -> bool {
    byte & 0b1100_0000 != 0b1000_0000
}

/// Counts the characters that start in `bytes[from..to]`.
fn count_chars(bytes: &[u8], from: usize, to: usize) -> usize {
    bytes
        .get(from..to)
        .unwrap_or_default()
        .iter()
        .filter(|&&byte| is_char_start(byte))
        .count()
}

/// Returns 1 when a byte order mark starts the text and lies before
/// `offset` on the line starting at `line_start`, so it is not counted as a
/// column.
fn bom_columns(text: &str, line_start: usize, offset: usize) -> usize {
    usize::from(line_start == 0 && offset > 0 && text.starts_with(BOM))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checks `line_col` and `LineIndex::line_col` against each other and
    /// against `expected` for every byte offset of `text`.
    fn assert_positions(text: &str, expected: &[(usize, (usize, usize))]) {
        let index = LineIndex::new(text);
        for &(offset, position) in expected {
            assert_eq!(line_col(text, offset), position, "line_col at {offset}");
            assert_eq!(index.line_col(offset), position, "LineIndex at {offset}");
        }
    }

    #[test]
    fn ascii_lines() {
        let text = "ab\ncd\n";
        assert_positions(
            text,
            &[
                (0, (1, 1)),
                (1, (1, 2)),
                (2, (1, 3)),
                (3, (2, 1)),
                (5, (2, 3)),
                (6, (3, 1)),
            ],
        );
    }

    #[test]
    fn multi_byte_characters_count_once() {
        // "é" is 2 bytes, "€" is 3 bytes and "😀" is 4 bytes.
        let text = "é€😀x\n😀y";
        assert_positions(
            text,
            &[
                (0, (1, 1)),
                (2, (1, 2)),
                (5, (1, 3)),
                (9, (1, 4)),
                (11, (2, 1)),
                (15, (2, 2)),
            ],
        );
    }

    #[test]
    fn offset_inside_character_gives_its_column() {
        let text = "a€b";
        assert_positions(text, &[(2, (1, 2)), (3, (1, 2)), (4, (1, 3))]);
    }

    #[test]
    fn crlf_ends_one_line() {
        let text = "{\r\n  \"a\": 1\r\n}";
        assert_positions(
            text,
            &[
                (1, (1, 2)),
                (2, (1, 3)),
                (3, (2, 1)),
                (5, (2, 3)),
                (13, (3, 1)),
            ],
        );
    }

    #[test]
    fn lone_carriage_return_does_not_end_line() {
        assert_positions("a\rb", &[(2, (1, 3))]);
    }

    #[test]
    fn byte_order_mark_takes_no_column() {
        let text = "\u{feff}{\"a\"\n}";
        assert_positions(text, &[(0, (1, 1)), (3, (1, 1)), (4, (1, 2)), (8, (2, 1))]);
    }

    #[test]
    fn offset_past_end_is_clamped() {
        assert_positions("ab\nc", &[(100, (2, 2))]);
        assert_positions("", &[(0, (1, 1)), (5, (1, 1))]);
    }

    #[test]
    fn line_count_includes_empty_last_line() {
        assert_eq!(LineIndex::new("a\nb\n").line_count(), 3);
        assert_eq!(LineIndex::new("").line_count(), 1);
    }

    #[test]
    fn checkpoints_agree_with_char_walk() {
        // Long lines of multi-byte characters that straddle many checkpoint
        // offsets, with short lines between them.
        let mut text = String::new();
        for i in 0..12_000 {
            text.push(if i % 7 == 0 { '€' } else { 'a' });
            if i % 997 == 0 {
                text.push('😀');
            }
            if i % 5000 == 4999 {
                text.push_str("\nshort\r\né\n");
            }
        }

        // Expected positions, counted by walking the characters.
        let mut expected = Vec::with_capacity(text.len() + 1);
        let (mut line, mut column) = (1, 1);
        for c in text.chars() {
            for _ in 0..c.len_utf8() {
                expected.push((line, column));
            }
            if c == '\n' {
                line += 1;
                column = 1;
            } else {
                column += 1;
            }
        }
        expected.push((line, column));

        let index = LineIndex::new(&text);
        for (offset, &position) in expected.iter().enumerate() {
            assert_eq!(
                index.line_col(offset),
                position,
                "position of byte {offset}"
            );
        }
        assert_eq!(line_col(&text, text.len()), (line, column));
    }

    #[test]
    fn serde_json_error_position_agrees() {
        // serde_json counts columns in bytes, so compare on an ASCII line
        // after multi-byte lines: the line numbers must agree.
        let text = "{\r\n\"é\": 1,\r\n\"b\": x}";
        let error = serde_json::from_str::<serde_json::Value>(text).expect_err("x is not JSON");
        let offset = text.find('x').expect("x is in the text");
        assert_eq!(line_col(text, offset), (error.line(), error.column()));
    }
}
