//! Diagnostics reported while reading an 835 file.
//!
//! Messages name segments, element references (such as `CLP03`) and envelope control numbers,
//! never element values from claims, because those can identify a patient.

use serde::Serialize;

use super::position::Position;

/// How much of the data a diagnostic affects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The data was read, but something in it is inconsistent or was ignored.
    Warning,
    /// Data was lost: an interchange was skipped or an envelope was cut short.
    Error,
}

/// Problem found at a position in an 835 file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{kind} at {position}")]
pub struct X12Error {
    pub severity: Severity,
    pub position: Position,
    pub kind: X12ErrorKind,
}

impl X12Error {
    /// Creates a diagnostic whose severity follows from its kind.
    pub fn new(kind: X12ErrorKind, position: Position) -> Self {
        Self {
            severity: kind.severity(),
            position,
            kind,
        }
    }

    /// Returns the next step for the user, in the imperative.
    pub fn help(&self) -> &'static str {
        self.kind.help()
    }
}

/// Kind of problem, with the data its message needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "code", rename_all = "kebab-case")]
pub enum X12ErrorKind {
    /// Text where an ISA interchange header must start, or a file without any interchange.
    #[error("missing ISA header")]
    MissingIsa,

    /// ISA segment shorter than its fixed width of 106 characters.
    #[error("truncated ISA header: {length} of 106 characters")]
    TruncatedIsa { length: usize },

    /// ISA segment whose separators do not sit at their fixed positions.
    #[error("invalid ISA header: {detail}")]
    InvalidIsa { detail: String },

    /// Interchange that ends (at another ISA or at the end of the file) without its IEA.
    #[error("interchange {control_number} is not closed by an IEA segment")]
    MissingIea { control_number: String },

    /// Functional group that ends without its GE.
    #[error("functional group {control_number} is not closed by a GE segment")]
    MissingGe { control_number: String },

    /// Transaction set that ends without its SE.
    #[error("transaction set {control_number} is not closed by an SE segment")]
    MissingSe { control_number: String },

    /// Trailer count (SE01, GE01, IEA01) that differs from what the envelope contains.
    #[error("{element} declares {declared} {counted} but {actual} were found")]
    CountMismatch {
        element: &'static str,
        counted: &'static str,
        declared: String,
        actual: usize,
    },

    /// Trailer control number (SE02, GE02, IEA02) that differs from its header's.
    #[error("{element} control number {found} does not match header control number {expected}")]
    ControlNumberMismatch {
        element: &'static str,
        expected: String,
        found: String,
    },

    /// Transaction set other than an 835, skipped whole.
    #[error("transaction set {transaction_set} is not an 835 remittance advice")]
    NotAn835 { transaction_set: String },

    /// Segment in a place where the 835 layout does not allow it, ignored.
    #[error("unexpected {id} segment {context}")]
    UnexpectedSegment { id: String, context: &'static str },

    /// Segment whose identifier is not 2 or 3 letters and digits, ignored.
    #[error("invalid segment identifier")]
    InvalidSegmentId,

    /// Required 835 segment that the transaction set does not contain.
    #[error("transaction set {control_number} has no {segment} segment")]
    MissingSegment {
        control_number: String,
        segment: &'static str,
    },

    /// Required element left empty.
    #[error("missing required element {element}")]
    MissingElement { element: String },

    /// Element whose value does not have the expected form, ignored.
    #[error("invalid {element}: expected {expected}")]
    InvalidElement {
        element: String,
        expected: &'static str,
    },

    /// Code outside the list the 835 allows for this element, kept as sent.
    #[error("unknown code in {element}: expected {expected}")]
    UnknownCode {
        element: String,
        expected: &'static str,
    },

    /// Last segment of the file without a segment terminator.
    #[error("last segment has no segment terminator")]
    MissingTerminator,
}

impl X12ErrorKind {
    /// Returns whether data was lost ([`Severity::Error`]) or only flagged.
    pub fn severity(&self) -> Severity {
        match self {
            Self::MissingIsa
            | Self::TruncatedIsa { .. }
            | Self::InvalidIsa { .. }
            | Self::MissingIea { .. }
            | Self::MissingGe { .. }
            | Self::MissingSe { .. } => Severity::Error,
            Self::CountMismatch { .. }
            | Self::ControlNumberMismatch { .. }
            | Self::NotAn835 { .. }
            | Self::UnexpectedSegment { .. }
            | Self::InvalidSegmentId
            | Self::MissingSegment { .. }
            | Self::MissingElement { .. }
            | Self::InvalidElement { .. }
            | Self::UnknownCode { .. }
            | Self::MissingTerminator => Severity::Warning,
        }
    }

    /// Returns the next step for the user, in the imperative.
    pub fn help(&self) -> &'static str {
        match self {
            Self::MissingIsa => {
                "check that the file is an X12 835, because every interchange must start with an ISA segment"
            }
            Self::TruncatedIsa { .. } => {
                "request the original file from the sender, because ISA fields are fixed width and \
                 the segment must be 106 characters including its terminator"
            }
            Self::InvalidIsa { .. } => {
                "compare the ISA segment with its fixed layout: element separator at character 4, \
                 component separator at character 105, segment terminator at character 106"
            }
            Self::MissingIea { .. } | Self::MissingGe { .. } | Self::MissingSe { .. } => {
                "check whether the file was cut short, and request the complete 835 from the payer \
                 or clearinghouse (the segments before this point were read)"
            }
            Self::CountMismatch { .. } => {
                "compare the remittance with the payer's portal, because segments may be missing \
                 or duplicated (the segments present were read)"
            }
            Self::ControlNumberMismatch { .. } => {
                "check whether envelopes from different files were joined (the segments were read)"
            }
            Self::NotAn835 { .. } => "pass only 835 remittance advice files",
            Self::UnexpectedSegment { .. } => {
                "check the loop order against the 835 implementation guide (the segment was ignored)"
            }
            Self::InvalidSegmentId => {
                "check for stray text or a wrong segment terminator (the segment was ignored)"
            }
            Self::MissingSegment { .. } | Self::MissingElement { .. } => {
                "request a corrected remittance from the payer if you need this value"
            }
            Self::InvalidElement { .. } => {
                "request a corrected remittance from the payer if you need this value (it was ignored)"
            }
            Self::UnknownCode { .. } => {
                "check the code against the current code list (the value was kept as sent)"
            }
            Self::MissingTerminator => {
                "end the last segment with the segment terminator from ISA character 106"
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn position() -> Position {
        Position {
            segment: 4,
            offset: 120,
            line: 3,
            column: 5,
        }
    }

    #[test]
    fn display_names_kind_and_position() {
        let error = X12Error::new(X12ErrorKind::TruncatedIsa { length: 40 }, position());

        assert_eq!(
            error.to_string(),
            "truncated ISA header: 40 of 106 characters at segment 4 (line 3, column 5, byte 120)"
        );
    }

    #[test]
    fn severity_follows_kind() {
        let missing = X12Error::new(X12ErrorKind::MissingIsa, position());
        let count = X12Error::new(
            X12ErrorKind::CountMismatch {
                element: "SE01",
                counted: "segments",
                declared: "9".into(),
                actual: 8,
            },
            position(),
        );

        assert_eq!(missing.severity, Severity::Error);
        assert_eq!(count.severity, Severity::Warning);
        assert_eq!(
            count.kind.to_string(),
            "SE01 declares 9 segments but 8 were found"
        );
    }

    #[test]
    fn serializes_kind_as_code() {
        let error = X12Error::new(
            X12ErrorKind::MissingElement {
                element: "CLP01".into(),
            },
            position(),
        );
        let json = serde_json::to_value(&error).unwrap();

        assert_eq!(json["severity"], "warning");
        assert_eq!(json["kind"]["code"], "missing-element");
        assert_eq!(json["kind"]["element"], "CLP01");
        assert_eq!(json["position"]["line"], 3);
    }
}
