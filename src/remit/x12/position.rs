//! Source positions of segments and diagnostics.

use std::fmt;

use serde::Serialize;

/// Location of a segment's first character in the input file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Position {
    /// 1-based segment number within the file, counted across all interchanges. A region
    /// that could not be split into segments (unreadable ISA header, text outside any
    /// interchange) counts as one segment.
    pub segment: usize,
    /// 0-based byte offset from the start of the input, including a UTF-8 byte order mark.
    pub offset: usize,
    /// 1-based line number. CR, LF and CRLF each end a line.
    pub line: usize,
    /// 1-based column in characters. A byte order mark is not counted, and a byte that is
    /// not valid UTF-8 counts as one character.
    pub column: usize,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "segment {} (line {}, column {}, byte {})",
            self.segment, self.line, self.column, self.offset
        )
    }
}

/// Converts byte offsets to line and column numbers.
///
/// The parser asks for offsets in increasing order, so the tracker scans forward from the
/// previous answer and a whole file costs one pass. A request for an earlier offset
/// rescans from the start.
pub(crate) struct PositionTracker<'a> {
    input: &'a [u8],
    data_start: usize,
    offset: usize,
    line: usize,
    column: usize,
    after_cr: bool,
}

impl<'a> PositionTracker<'a> {
    /// Creates a tracker whose line 1, column 1 is at `data_start` (after a byte order mark).
    pub(crate) fn new(input: &'a [u8], data_start: usize) -> Self {
        Self {
            input,
            data_start,
            offset: data_start,
            line: 1,
            column: 1,
            after_cr: false,
        }
    }

    /// Returns the line and column of the byte at `target`.
    pub(crate) fn line_column(&mut self, target: usize) -> (usize, usize) {
        if target < self.offset {
            *self = Self::new(self.input, self.data_start);
        }

        let end = target.min(self.input.len());
        let bytes = self.input.get(self.offset..end).unwrap_or_default();
        for &byte in bytes {
            match byte {
                b'\r' => {
                    self.line += 1;
                    self.column = 1;
                    self.after_cr = true;
                }
                b'\n' => {
                    if !self.after_cr {
                        self.line += 1;
                        self.column = 1;
                    }
                    self.after_cr = false;
                }
                _ => {
                    // UTF-8 continuation bytes belong to the character before them.
                    if byte & 0xC0 != 0x80 {
                        self.column += 1;
                    }
                    self.after_cr = false;
                }
            }
        }
        self.offset = end.max(self.offset);

        (self.line, self.column)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracker_counts_lf_cr_and_crlf() {
        let input = b"ab\ncd\r\nef\rgh";
        let mut tracker = PositionTracker::new(input, 0);

        assert_eq!(tracker.line_column(0), (1, 1));
        assert_eq!(tracker.line_column(1), (1, 2));
        assert_eq!(tracker.line_column(3), (2, 1));
        assert_eq!(tracker.line_column(7), (3, 1));
        assert_eq!(tracker.line_column(10), (4, 1));
        assert_eq!(tracker.line_column(11), (4, 2));
    }

    #[test]
    fn tracker_skips_bom_and_counts_characters() {
        let input = "\u{feff}ab\u{e9}c".as_bytes();
        let mut tracker = PositionTracker::new(input, 3);

        assert_eq!(tracker.line_column(3), (1, 1));
        // "é" is two bytes but one column.
        assert_eq!(tracker.line_column(7), (1, 4));
    }

    #[test]
    fn tracker_rescans_for_earlier_offset() {
        let input = b"a\nb\nc";
        let mut tracker = PositionTracker::new(input, 0);

        assert_eq!(tracker.line_column(4), (3, 1));
        assert_eq!(tracker.line_column(2), (2, 1));
    }

    #[test]
    fn tracker_clamps_offset_past_end() {
        let input = b"a\nb";
        let mut tracker = PositionTracker::new(input, 0);

        assert_eq!(tracker.line_column(99), (2, 2));
    }
}
