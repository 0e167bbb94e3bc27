//! X12 syntax: the ISA header that defines the delimiters, and splitting segments into elements.

use std::borrow::Cow;
use std::ops::Range;

use super::error::X12ErrorKind;
use super::position::Position;

/// Length of an ISA segment including its terminator. Every ISA field has a fixed width.
pub(crate) const ISA_LENGTH: usize = 106;

/// Offsets of the 16 element separators inside the ISA segment, counted from the `I`.
const ISA_SEPARATOR_OFFSETS: [usize; 16] = [
    3, 6, 17, 20, 31, 34, 50, 53, 69, 76, 81, 83, 89, 99, 101, 103,
];
const REPETITION_OFFSET: usize = 82;
const COMPONENT_OFFSET: usize = 104;
const TERMINATOR_OFFSET: usize = 105;

/// Delimiters of one interchange, read from its ISA header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Delimiters {
    pub(crate) element: u8,
    pub(crate) component: u8,
    /// ISA11 from version 00402 on. In 00401 and earlier ISA11 is a letter (the standards
    /// identifier `U`), and repeated elements are not used.
    pub(crate) repetition: Option<u8>,
    pub(crate) segment: u8,
}

/// Fields of an ISA interchange header that the parser uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IsaHeader {
    pub(crate) delimiters: Delimiters,
    /// ISA13.
    pub(crate) control_number: String,
    /// ISA15: `P` for production data, `T` for test data.
    pub(crate) usage_indicator: String,
}

/// Reads the ISA header whose `I` is at `start`.
///
/// The header is fixed width, so the element separator is the character after `ISA` and must
/// appear at each of the 16 separator offsets; ISA16 (offset 104) is the component separator
/// and offset 105 holds the segment terminator.
pub(crate) fn read_isa(input: &[u8], start: usize) -> Result<IsaHeader, X12ErrorKind> {
    let header = input.get(start..).unwrap_or_default();
    let Some(&element) = header.get(3) else {
        return Err(X12ErrorKind::TruncatedIsa {
            length: header.len(),
        });
    };
    if !is_delimiter(element) {
        return Err(invalid_isa(format!(
            "character 4 must be the element separator, found {}",
            describe_byte(element)
        )));
    }

    let misplaced = ISA_SEPARATOR_OFFSETS
        .iter()
        .find(|&&offset| header.get(offset) != Some(&element));
    let extra = header
        .get(..COMPONENT_OFFSET)
        .unwrap_or(header)
        .iter()
        .enumerate()
        .find(|&(offset, &byte)| byte == element && !ISA_SEPARATOR_OFFSETS.contains(&offset));
    if header.len() < ISA_LENGTH || misplaced.is_some() || extra.is_some() {
        return Err(describe_misplaced_separator(
            header,
            element,
            misplaced.copied(),
        ));
    }

    let component = header.get(COMPONENT_OFFSET).copied().unwrap_or_default();
    let segment = header.get(TERMINATOR_OFFSET).copied().unwrap_or_default();
    if !is_delimiter(component) || component == element {
        return Err(invalid_isa(format!(
            "ISA16 (character 105) must be the component separator, found {}",
            describe_byte(component)
        )));
    }
    let is_line_break = segment == b'\r' || segment == b'\n';
    if !(is_delimiter(segment) || is_line_break) || segment == element || segment == component {
        return Err(invalid_isa(format!(
            "character 106 must be the segment terminator, found {}",
            describe_byte(segment)
        )));
    }

    let repetition = header
        .get(REPETITION_OFFSET)
        .copied()
        .filter(|&byte| is_delimiter(byte) && ![element, component, segment].contains(&byte));

    Ok(IsaHeader {
        delimiters: Delimiters {
            element,
            component,
            repetition,
            segment,
        },
        control_number: fixed_field(header, 90..99),
        usage_indicator: fixed_field(header, 102..103),
    })
}

/// Explains why the separators of an ISA header are not where the fixed layout puts them.
///
/// When the header has all 16 separators but is shorter than 106 characters, its fields were
/// most likely trimmed or the file ends inside it, which is reported as truncation.
fn describe_misplaced_separator(
    header: &[u8],
    element: u8,
    misplaced: Option<usize>,
) -> X12ErrorKind {
    let sixteenth_separator = header
        .iter()
        .enumerate()
        .filter(|&(_, &byte)| byte == element)
        .map(|(offset, _)| offset)
        .nth(15);

    // The segment ends with ISA16 and the terminator after the last separator.
    let measured_length = sixteenth_separator.map(|offset| offset + 3);
    match measured_length {
        Some(length) if length < ISA_LENGTH => X12ErrorKind::TruncatedIsa {
            length: length.min(header.len()),
        },
        None if header.len() < ISA_LENGTH => X12ErrorKind::TruncatedIsa {
            length: header.len(),
        },
        Some(length) if length > ISA_LENGTH => invalid_isa(format!(
            "the segment is {length} characters long instead of 106; a fixed-width field is too long"
        )),
        _ => match misplaced {
            Some(offset) => invalid_isa(format!(
                "element separator {} expected at character {}",
                describe_byte(element),
                offset + 1
            )),
            None => invalid_isa(format!(
                "element separator {} appears inside a fixed-width field",
                describe_byte(element)
            )),
        },
    }
}

fn invalid_isa(detail: String) -> X12ErrorKind {
    X12ErrorKind::InvalidIsa { detail }
}

fn fixed_field(header: &[u8], range: Range<usize>) -> String {
    let bytes = header.get(range).unwrap_or_default();
    String::from_utf8_lossy(bytes).trim().to_owned()
}

/// Returns whether a byte can serve as an element, component or repetition separator.
pub(crate) fn is_delimiter(byte: u8) -> bool {
    !byte.is_ascii_alphanumeric() && !byte.is_ascii_whitespace() && byte != 0
}

/// Formats a byte for a message: printable ASCII in quotes, anything else as a code.
pub(crate) fn describe_byte(byte: u8) -> String {
    match byte {
        b'\n' => "a line feed".to_owned(),
        b'\r' => "a carriage return".to_owned(),
        b' ' => "a space".to_owned(),
        0x21..=0x7e => format!("'{}'", char::from(byte)),
        _ => format!("byte 0x{byte:02X}"),
    }
}

/// Returns whether a byte between segments is padding: whitespace, line breaks, NUL or the
/// end-of-file marker 0x1A.
pub(crate) fn is_padding(byte: u8) -> bool {
    byte.is_ascii_whitespace() || byte == 0 || byte == 0x1a
}

/// Returns the first offset at or after `from` that is not padding.
pub(crate) fn skip_padding(input: &[u8], from: usize) -> usize {
    let rest = input.get(from..).unwrap_or_default();
    let padding = rest.iter().take_while(|&&byte| is_padding(byte)).count();
    from + padding
}

/// Segment text between two terminators, before it is split into elements.
pub(crate) struct RawSegment<'a> {
    pub(crate) start: usize,
    body: Cow<'a, [u8]>,
    pub(crate) terminated: bool,
    /// Offset just after the terminator, where the next segment search starts.
    pub(crate) next: usize,
}

/// Reads the segment that starts at the first non-padding byte at or after `from`.
///
/// Returns `None` at the end of the input. Line breaks inside a segment are dropped, because
/// files are often wrapped at a fixed width and X12 data never contains them.
pub(crate) fn read_segment(input: &[u8], from: usize, terminator: u8) -> Option<RawSegment<'_>> {
    let start = skip_padding(input, from);
    let rest = input.get(start..).filter(|rest| !rest.is_empty())?;

    let (length, terminated) = match rest.iter().position(|&byte| byte == terminator) {
        Some(length) => (length, true),
        None => (rest.len(), false),
    };
    let text = rest.get(..length).unwrap_or_default();
    let body = if text.iter().any(|&byte| byte == b'\r' || byte == b'\n') {
        Cow::Owned(
            text.iter()
                .copied()
                .filter(|&byte| byte != b'\r' && byte != b'\n')
                .collect(),
        )
    } else {
        Cow::Borrowed(text)
    };

    Some(RawSegment {
        start,
        body,
        terminated,
        next: start + length + usize::from(terminated),
    })
}

/// Segment split into elements, with its position in the file.
#[derive(Debug, Clone)]
pub(crate) struct Segment<'a> {
    body: Cow<'a, [u8]>,
    /// Element ranges in `body`; index 0 is the segment identifier.
    elements: Vec<Range<usize>>,
    component: u8,
    pub(crate) position: Position,
}

impl<'a> Segment<'a> {
    pub(crate) fn new(raw: RawSegment<'a>, delimiters: &Delimiters, position: Position) -> Self {
        let mut elements = Vec::new();
        let mut element_start = 0;
        for (offset, &byte) in raw.body.iter().enumerate() {
            if byte == delimiters.element {
                elements.push(element_start..offset);
                element_start = offset + 1;
            }
        }
        elements.push(element_start..raw.body.len());

        Self {
            body: raw.body,
            elements,
            component: delimiters.component,
            position,
        }
    }

    /// Returns the segment identifier, such as `CLP`, or `""` when it is not ASCII.
    pub(crate) fn id(&self) -> &str {
        let bytes = self.raw(0);
        std::str::from_utf8(bytes).unwrap_or_default().trim()
    }

    /// Returns whether the identifier is 2 or 3 uppercase letters and digits, starting with a
    /// letter.
    pub(crate) fn has_valid_id(&self) -> bool {
        let id = self.id();
        let mut characters = id.chars();
        let starts_with_letter = characters.next().is_some_and(|c| c.is_ascii_uppercase());

        (2..=3).contains(&id.len())
            && starts_with_letter
            && characters.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    }

    fn raw(&self, index: usize) -> &[u8] {
        self.elements
            .get(index)
            .and_then(|range| self.body.get(range.clone()))
            .unwrap_or_default()
    }

    /// Returns element `index` (1-based, as in `CLP01`) without surrounding spaces, or `None`
    /// when it is absent or empty.
    pub(crate) fn text(&self, index: usize) -> Option<String> {
        let text = String::from_utf8_lossy(self.raw(index));
        let trimmed = text.trim();
        (!trimmed.is_empty()).then(|| trimmed.to_owned())
    }

    /// Returns whether element `index` equals `value`, ignoring surrounding spaces.
    pub(crate) fn is(&self, index: usize, value: &str) -> bool {
        self.text(index).as_deref() == Some(value)
    }

    /// Returns the components of composite element `index`, each without surrounding spaces.
    /// Empty components stay in place so that their index keeps its meaning.
    pub(crate) fn components(&self, index: usize) -> Vec<String> {
        let raw = self.raw(index);
        if raw.is_empty() {
            return Vec::new();
        }

        raw.split(|&byte| byte == self.component)
            .map(|component| String::from_utf8_lossy(component).trim().to_owned())
            .collect()
    }

    /// Returns the element reference used in messages, such as `CLP03`.
    pub(crate) fn reference(&self, index: usize) -> String {
        format!("{}{index:02}", self.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISA: &str = "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *260115*1200*^*00501*000000123*0*P*:~";

    fn position() -> Position {
        Position {
            segment: 1,
            offset: 0,
            line: 1,
            column: 1,
        }
    }

    #[test]
    fn isa_fixture_is_106_characters() {
        assert_eq!(ISA.len(), ISA_LENGTH);
    }

    #[test]
    fn read_isa_takes_delimiters_from_fixed_offsets() {
        let header = read_isa(ISA.as_bytes(), 0).unwrap();

        assert_eq!(header.delimiters.element, b'*');
        assert_eq!(header.delimiters.repetition, Some(b'^'));
        assert_eq!(header.delimiters.component, b':');
        assert_eq!(header.delimiters.segment, b'~');
        assert_eq!(header.control_number, "000000123");
        assert_eq!(header.usage_indicator, "P");
    }

    #[test]
    fn read_isa_accepts_newline_terminator() {
        let text = ISA.replace('~', "\n");

        let header = read_isa(text.as_bytes(), 0).unwrap();

        assert_eq!(header.delimiters.segment, b'\n');
    }

    #[test]
    fn read_isa_without_repetition_separator_in_00401() {
        let text = ISA.replace("*^*00501*", "*U*00401*");

        let header = read_isa(text.as_bytes(), 0).unwrap();

        assert_eq!(header.delimiters.repetition, None);
    }

    #[test]
    fn read_isa_reports_trimmed_fields_as_truncated() {
        let text = "ISA*00**00**ZZ*SENDER*ZZ*RECEIVER*260115*1200*^*00501*000000123*0*P*:~GS*HP~";

        let error = read_isa(text.as_bytes(), 0).unwrap_err();

        assert_eq!(error, X12ErrorKind::TruncatedIsa { length: 70 });
    }

    #[test]
    fn read_isa_reports_end_of_input_as_truncated() {
        let text = &ISA[..50];

        let error = read_isa(text.as_bytes(), 0).unwrap_err();

        assert_eq!(error, X12ErrorKind::TruncatedIsa { length: 50 });
    }

    #[test]
    fn read_isa_rejects_long_field() {
        let text = ISA.replace("*SENDER         *", "*SENDER          *");

        let error = read_isa(text.as_bytes(), 0).unwrap_err();

        assert_eq!(
            error,
            X12ErrorKind::InvalidIsa {
                detail: "the segment is 107 characters long instead of 106; a fixed-width field is too long".into()
            }
        );
    }

    #[test]
    fn read_isa_rejects_shifted_separator() {
        // One field is a character short and the next a character long.
        let text = ISA.replace(
            "*SENDER         *ZZ*RECEIVER       *",
            "*SENDER        *ZZ*RECEIVER        *",
        );

        let error = read_isa(text.as_bytes(), 0).unwrap_err();

        assert_eq!(
            error,
            X12ErrorKind::InvalidIsa {
                detail: "element separator '*' expected at character 51".into()
            }
        );
    }

    #[test]
    fn read_isa_rejects_letter_as_separator() {
        let error = read_isa(b"ISAACS*LISA~", 0).unwrap_err();

        assert!(
            matches!(error, X12ErrorKind::InvalidIsa { .. }),
            "{error:?}"
        );
    }

    #[test]
    fn read_isa_rejects_terminator_equal_to_separator() {
        let text = ISA.replace(":~", ":*");

        let error = read_isa(text.as_bytes(), 0).unwrap_err();

        assert_eq!(
            error,
            X12ErrorKind::InvalidIsa {
                detail: "character 106 must be the segment terminator, found '*'".into()
            }
        );
    }

    #[test]
    fn read_segment_skips_padding_and_drops_line_breaks() {
        let input = b"  \r\n  CLP*1*\r\n4~NM1";

        let raw = read_segment(input, 0, b'~').unwrap();

        assert_eq!(raw.start, 6);
        assert_eq!(raw.body.as_ref(), b"CLP*1*4");
        assert!(raw.terminated);
        assert_eq!(raw.next, 16);
        let last = read_segment(input, raw.next, b'~').unwrap();
        assert!(!last.terminated);
        assert!(read_segment(input, last.next, b'~').is_none());
    }

    #[test]
    fn segment_elements_and_components() {
        let delimiters = Delimiters {
            element: b'*',
            component: b':',
            repetition: None,
            segment: b'~',
        };
        let raw = read_segment(b"SVC*HC:99490:25::*62.50**~", 0, b'~').unwrap();

        let segment = Segment::new(raw, &delimiters, position());

        assert_eq!(segment.id(), "SVC");
        assert!(segment.has_valid_id());
        assert_eq!(segment.components(1), ["HC", "99490", "25", "", ""]);
        assert_eq!(segment.text(2).as_deref(), Some("62.50"));
        assert_eq!(segment.text(3), None);
        assert_eq!(segment.text(9), None);
        assert_eq!(segment.reference(2), "SVC02");
    }

    #[test]
    fn segment_id_validation() {
        let delimiters = Delimiters {
            element: b'*',
            component: b':',
            repetition: None,
            segment: b'~',
        };
        for (text, valid) in [
            ("N1*PR", true),
            ("ISAACS", false),
            ("n1*x", false),
            ("1N*x", false),
            ("X*1", false),
        ] {
            let raw = read_segment(text.as_bytes(), 0, b'~').unwrap();
            let segment = Segment::new(raw, &delimiters, position());
            assert_eq!(segment.has_valid_id(), valid, "{text}");
        }
    }
}
