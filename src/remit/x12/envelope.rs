//! Walks a file's interchanges (ISA..IEA), functional groups (GS..GE) and transaction sets
//! (ST..SE), checks their trailers, and hands each 835 transaction set to the loop reader.
//!
//! Recovery works at interchange level: when an ISA header cannot be read, its delimiters
//! are unknown, so the reader skips to the next place where an ISA segment starts.

use super::error::{X12Error, X12ErrorKind};
use super::position::{Position, PositionTracker};
use super::syntax::{
    is_delimiter, is_padding, read_isa, read_segment, skip_padding, IsaHeader, Segment, ISA_LENGTH,
};
use super::transaction::{EnvelopeContext, RemittanceBuilder};
use super::Parsed835;

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Parses every interchange of `input`; see [`super::parse_835`].
pub(crate) fn parse_file(input: &[u8]) -> Parsed835 {
    let data_start = if input.starts_with(UTF8_BOM) {
        UTF8_BOM.len()
    } else {
        0
    };
    let mut reader = FileReader {
        input,
        tracker: PositionTracker::new(input, data_start),
        segment_count: 0,
        parsed: Parsed835 {
            remittances: Vec::new(),
            errors: Vec::new(),
        },
    };

    reader.read_all(data_start);
    reader.parsed
}

struct FileReader<'a> {
    input: &'a [u8],
    tracker: PositionTracker<'a>,
    /// Segments numbered so far in the whole file.
    segment_count: usize,
    parsed: Parsed835,
}

impl<'a> FileReader<'a> {
    fn read_all(&mut self, data_start: usize) {
        let mut offset = data_start;
        let mut saw_isa = false;

        loop {
            offset = skip_padding(self.input, offset);
            if offset >= self.input.len() {
                break;
            }

            let position = self.next_position(offset);
            if !starts_with_isa(self.input, offset) {
                self.report(X12ErrorKind::MissingIsa, position);
                offset = find_isa(self.input, offset + 1, data_start);
                continue;
            }

            saw_isa = true;
            offset = match read_isa(self.input, offset) {
                Ok(header) => self.read_interchange(header, offset),
                Err(kind) => {
                    self.report(kind, position);
                    find_isa(self.input, offset + 3, data_start)
                }
            };
        }

        if !saw_isa && self.parsed.errors.is_empty() {
            // Empty or whitespace-only input.
            let position = self.next_position(data_start);
            self.report(X12ErrorKind::MissingIsa, position);
        }
    }

    /// Reads the segments after an ISA header up to its IEA, and returns the offset where the
    /// next interchange may start.
    fn read_interchange(&mut self, header: IsaHeader, isa_offset: usize) -> usize {
        let delimiters = header.delimiters;
        let mut interchange = Interchange::new(header);
        let mut offset = isa_offset + ISA_LENGTH;

        loop {
            let Some(raw) = read_segment(self.input, offset, delimiters.segment) else {
                let end = self.unnumbered_position(self.input.len());
                interchange.close(end, None, &mut self.parsed);
                return self.input.len();
            };

            let start = raw.start;
            let next = raw.next;
            let terminated = raw.terminated;
            // The next interchange may use other delimiters, so its ISA is recognized from
            // the raw bytes rather than from the segment identifier.
            if starts_with_isa(self.input, start) {
                let position = self.unnumbered_position(start);
                interchange.close(position, None, &mut self.parsed);
                return start;
            }

            let position = self.next_position(start);
            let segment = Segment::new(raw, &delimiters, position);
            if !terminated {
                self.report(X12ErrorKind::MissingTerminator, position);
            }
            if !segment.has_valid_id() {
                self.report(X12ErrorKind::InvalidSegmentId, position);
                interchange.count_unreadable_segment();
                offset = next;
                continue;
            }
            if segment.id() == "IEA" {
                interchange.close(position, Some(&segment), &mut self.parsed);
                return next;
            }

            interchange.add(&segment, &mut self.parsed);
            offset = next;
        }
    }

    /// Numbers a new segment that starts at `offset` and returns its position.
    fn next_position(&mut self, offset: usize) -> Position {
        self.segment_count += 1;
        self.locate(offset, self.segment_count)
    }

    /// Returns the position of the segment that starts at `offset` without numbering it, for
    /// a diagnostic about a segment missing before it.
    fn unnumbered_position(&mut self, offset: usize) -> Position {
        self.locate(offset, self.segment_count + 1)
    }

    fn locate(&mut self, offset: usize, segment: usize) -> Position {
        let (line, column) = self.tracker.line_column(offset);
        Position {
            segment,
            offset,
            line,
            column,
        }
    }

    fn report(&mut self, kind: X12ErrorKind, position: Position) {
        self.parsed.errors.push(X12Error::new(kind, position));
    }
}

/// Returns whether an ISA segment seems to start at `offset`: the letters `ISA` followed by
/// a character that can be an element separator, or by the end of the input.
fn starts_with_isa(input: &[u8], offset: usize) -> bool {
    let rest = input.get(offset..).unwrap_or_default();
    rest.starts_with(b"ISA") && rest.get(3).is_none_or(|&byte| is_delimiter(byte))
}

/// Returns the offset of the next ISA segment start at or after `from`, or the input length.
///
/// The delimiters are unknown here, so a candidate must look like an ISA segment (`ISA`, a
/// separator, two characters, the same separator) and sit where a segment can start: at the
/// start of the data, at the start of a line, or after a character that is neither a letter,
/// a digit nor its own separator, which then is the previous segment's terminator. This keeps
/// names such as `ISAACS` or `*ISA*` inside a segment from starting an interchange.
fn find_isa(input: &[u8], from: usize, data_start: usize) -> usize {
    let mut search_from = from;
    while let Some(found) = find_bytes(input, search_from, b"ISA") {
        if is_isa_start(input, found, data_start) {
            return found;
        }
        search_from = found + 1;
    }
    input.len()
}

fn is_isa_start(input: &[u8], offset: usize, data_start: usize) -> bool {
    let Some(&separator) = input.get(offset + 3) else {
        return false;
    };
    if !is_delimiter(separator) {
        return false;
    }
    if input.get(offset + 6).is_some_and(|&byte| byte != separator) {
        return false;
    }

    let before = input.get(data_start..offset).unwrap_or_default();
    let padding = before.iter().rev().take_while(|&&byte| is_padding(byte));
    let mut starts_line = false;
    let mut padding_length = 0;
    for &byte in padding {
        starts_line |= byte == b'\n' || byte == b'\r';
        padding_length += 1;
    }
    let previous = before
        .len()
        .checked_sub(padding_length + 1)
        .and_then(|index| before.get(index));

    match previous {
        None => true,
        Some(_) if starts_line => true,
        Some(&byte) => !byte.is_ascii_alphanumeric() && byte != separator,
    }
}

fn find_bytes(input: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    let haystack = input.get(from..)?;
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
        .map(|index| from + index)
}

/// Open envelopes of one interchange and the counts its trailers are checked against.
struct Interchange {
    header: IsaHeader,
    group_count: usize,
    group: Option<Group>,
    transaction: Option<Transaction>,
}

struct Group {
    control_number: String,
    version: Option<String>,
    transaction_count: usize,
}

struct Transaction {
    control_number: String,
    /// Segments from ST on, for the SE01 check.
    segment_count: usize,
    /// `None` for a transaction set other than an 835, which is skipped.
    builder: Option<RemittanceBuilder>,
}

impl Interchange {
    fn new(header: IsaHeader) -> Self {
        Self {
            header,
            group_count: 0,
            group: None,
            transaction: None,
        }
    }

    fn add(&mut self, segment: &Segment<'_>, parsed: &mut Parsed835) {
        match segment.id() {
            "GS" => self.open_group(segment, parsed),
            "GE" => self.close_group(segment, parsed),
            "ST" => self.open_transaction(segment, parsed),
            "SE" => self.close_transaction(segment, parsed),
            _ => match self.transaction.as_mut() {
                Some(transaction) => {
                    transaction.segment_count += 1;
                    if let Some(builder) = transaction.builder.as_mut() {
                        builder.add(segment, &mut parsed.errors);
                    }
                }
                // TA1 acknowledges an interchange and sits between ISA and GS.
                None if segment.id() == "TA1" => {}
                None => parsed
                    .errors
                    .push(unexpected(segment, "outside a transaction set (ST..SE)")),
            },
        }
    }

    /// Counts a segment with an invalid identifier toward SE01.
    fn count_unreadable_segment(&mut self) {
        if let Some(transaction) = self.transaction.as_mut() {
            transaction.segment_count += 1;
        }
    }

    fn open_group(&mut self, segment: &Segment<'_>, parsed: &mut Parsed835) {
        self.end_transaction(segment.position, parsed);
        self.end_group(segment.position, parsed);

        self.group_count += 1;
        self.group = Some(Group {
            control_number: required_control_number(segment, 6, parsed),
            version: segment.text(8),
            transaction_count: 0,
        });
    }

    fn close_group(&mut self, segment: &Segment<'_>, parsed: &mut Parsed835) {
        self.end_transaction(segment.position, parsed);
        let Some(group) = self.group.take() else {
            parsed
                .errors
                .push(unexpected(segment, "without a matching GS"));
            return;
        };

        check_count(
            segment,
            "GE01",
            "transaction sets",
            group.transaction_count,
            parsed,
        );
        check_control_number(segment, "GE02", &group.control_number, parsed);
    }

    fn open_transaction(&mut self, segment: &Segment<'_>, parsed: &mut Parsed835) {
        self.end_transaction(segment.position, parsed);
        match self.group.as_mut() {
            Some(group) => group.transaction_count += 1,
            None => parsed
                .errors
                .push(unexpected(segment, "outside a functional group (GS..GE)")),
        }

        let control_number = required_control_number(segment, 2, parsed);
        let transaction_set = segment.text(1).unwrap_or_default();
        let builder = if transaction_set == "835" {
            let context = EnvelopeContext {
                interchange_control_number: self.header.control_number.clone(),
                usage_indicator: self.header.usage_indicator.clone(),
                group_control_number: self
                    .group
                    .as_ref()
                    .map(|group| group.control_number.clone()),
                version: self.group.as_ref().and_then(|group| group.version.clone()),
            };
            Some(RemittanceBuilder::new(
                context,
                control_number.clone(),
                segment.position,
            ))
        } else {
            let kind = X12ErrorKind::NotAn835 { transaction_set };
            parsed.errors.push(X12Error::new(kind, segment.position));
            None
        };

        self.transaction = Some(Transaction {
            control_number,
            segment_count: 1,
            builder,
        });
    }

    fn close_transaction(&mut self, segment: &Segment<'_>, parsed: &mut Parsed835) {
        let Some(mut transaction) = self.transaction.take() else {
            parsed
                .errors
                .push(unexpected(segment, "without a matching ST"));
            return;
        };
        transaction.segment_count += 1;

        check_count(
            segment,
            "SE01",
            "segments",
            transaction.segment_count,
            parsed,
        );
        check_control_number(segment, "SE02", &transaction.control_number, parsed);
        if let Some(builder) = transaction.builder {
            let remittance = builder.finish(&mut parsed.errors);
            parsed.remittances.push(remittance);
        }
    }

    /// Closes the interchange at its IEA, or with errors at `position` when the IEA is
    /// missing (`iea` is `None`) because the file ended or another interchange started.
    fn close(&mut self, position: Position, iea: Option<&Segment<'_>>, parsed: &mut Parsed835) {
        self.end_transaction(position, parsed);
        self.end_group(position, parsed);

        let Some(iea) = iea else {
            let kind = X12ErrorKind::MissingIea {
                control_number: self.header.control_number.clone(),
            };
            parsed.errors.push(X12Error::new(kind, position));
            return;
        };
        check_count(iea, "IEA01", "functional groups", self.group_count, parsed);
        check_control_number(iea, "IEA02", &self.header.control_number, parsed);
    }

    /// Ends a transaction set that has no SE, keeping what was read of it.
    fn end_transaction(&mut self, position: Position, parsed: &mut Parsed835) {
        let Some(transaction) = self.transaction.take() else {
            return;
        };

        let kind = X12ErrorKind::MissingSe {
            control_number: transaction.control_number,
        };
        parsed.errors.push(X12Error::new(kind, position));
        if let Some(builder) = transaction.builder {
            let remittance = builder.finish(&mut parsed.errors);
            parsed.remittances.push(remittance);
        }
    }

    /// Ends a functional group that has no GE.
    fn end_group(&mut self, position: Position, parsed: &mut Parsed835) {
        let Some(group) = self.group.take() else {
            return;
        };

        let kind = X12ErrorKind::MissingGe {
            control_number: group.control_number,
        };
        parsed.errors.push(X12Error::new(kind, position));
    }
}

fn required_control_number(segment: &Segment<'_>, index: usize, parsed: &mut Parsed835) -> String {
    segment.text(index).unwrap_or_else(|| {
        let kind = X12ErrorKind::MissingElement {
            element: segment.reference(index),
        };
        parsed.errors.push(X12Error::new(kind, segment.position));
        String::new()
    })
}

/// Compares a trailer's count element (element 1) with the number actually read.
fn check_count(
    segment: &Segment<'_>,
    element: &'static str,
    counted: &'static str,
    actual: usize,
    parsed: &mut Parsed835,
) {
    let Some(declared) = segment.text(1) else {
        let kind = X12ErrorKind::MissingElement {
            element: element.to_owned(),
        };
        parsed.errors.push(X12Error::new(kind, segment.position));
        return;
    };
    if declared.parse::<usize>().ok() == Some(actual) {
        return;
    }

    let kind = X12ErrorKind::CountMismatch {
        element,
        counted,
        declared,
        actual,
    };
    parsed.errors.push(X12Error::new(kind, segment.position));
}

/// Compares a trailer's control number (element 2) with its header's.
fn check_control_number(
    segment: &Segment<'_>,
    element: &'static str,
    expected: &str,
    parsed: &mut Parsed835,
) {
    let found = segment.text(2).unwrap_or_default();
    if same_control_number(&found, expected) {
        return;
    }

    let kind = X12ErrorKind::ControlNumberMismatch {
        element,
        expected: expected.to_owned(),
        found,
    };
    parsed.errors.push(X12Error::new(kind, segment.position));
}

/// Compares control numbers, ignoring leading zeros when both are numeric, because some
/// senders pad ISA13 to nine digits but not IEA02.
fn same_control_number(left: &str, right: &str) -> bool {
    let is_numeric =
        |text: &str| !text.is_empty() && text.bytes().all(|byte| byte.is_ascii_digit());
    if is_numeric(left) && is_numeric(right) {
        return left.trim_start_matches('0') == right.trim_start_matches('0');
    }
    left == right
}

fn unexpected(segment: &Segment<'_>, context: &'static str) -> X12Error {
    let kind = X12ErrorKind::UnexpectedSegment {
        id: segment.id().to_owned(),
        context,
    };
    X12Error::new(kind, segment.position)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isa_start_after_terminator_or_line_break() {
        let input = b"IEA*1*1~ISA*00*x\nISA*00*x";

        assert!(is_isa_start(input, 8, 0));
        assert!(is_isa_start(input, 17, 0));
        assert_eq!(find_isa(input, 1, 0), 8);
    }

    #[test]
    fn isa_inside_names_is_not_a_start() {
        let inputs: [&[u8]; 3] = [
            b"NM1*QC*1*ISAACS*LISA~",
            b"NM1*QC*1*ISA*LISA~",
            b"REF*F8*LISA*00*~",
        ];

        for input in inputs {
            assert_eq!(
                find_isa(input, 0, 0),
                input.len(),
                "{}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn control_numbers_ignore_leading_zeros() {
        assert!(same_control_number("000000123", "123"));
        assert!(same_control_number("A1", "A1"));
        assert!(!same_control_number("0001", "0002"));
        assert!(!same_control_number("", "0"));
    }
}
