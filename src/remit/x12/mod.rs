//! Reader for X12 835 health care claim payment/advice files (version 005010X221A1).
//!
//! Billing teams learn about denials from the 835: each claim (CLP) lists its adjustments
//! (CAS) as group code, claim adjustment reason code (CARC) and amount, and remark codes
//! (RARCs) in MOA, MIA and LQ. [`parse_835`] reads those into [`Remittance`] values and
//! [`denials`] lists the adjustment and remark codes per claim.
//!
//! Files from payers and clearinghouses are often not clean, so the reader is lenient:
//!
//! - The delimiters come from each ISA header, so a file may hold several interchanges
//!   with different delimiters, and the segment terminator may be a line break.
//! - A byte order mark, line breaks and indentation between segments are skipped, and line
//!   breaks inside a segment are dropped.
//! - An interchange whose ISA header cannot be read is reported and skipped, and reading goes
//!   on at the next segment that starts with `ISA`. Envelope and element problems are
//!   reported with their position, and the data around them is kept.
//! - Segments that the model does not use are skipped without a diagnostic.
//!
//! # Why not an existing crate
//!
//! The X12 crates on crates.io checked in 2026 (`x12` 0.1.0, `edi` 0.4.0, `x12-types` 0.12.0,
//! `x12-stream-parser` 0.1.0) either fail a whole document on its first error, report no
//! segment positions, or need the delimiters from the caller.
//!
//! # Limitations
//!
//! - Amounts are checked for their form only. The reader does not balance claim amounts
//!   against adjustments or the BPR total.
//! - Repeated elements (ISA11 repetition separator) are not split, because the 835 elements
//!   read here do not repeat.
//! - Only the segments the model needs are read. Loops such as corrected patient names
//!   (`NM1*74`), claim contacts (PER) and supplemental amounts (AMT, QTY) are skipped.

mod decimal;
mod denial;
mod envelope;
mod error;
mod model;
mod position;
mod syntax;
mod transaction;

use serde::Serialize;

pub use decimal::Decimal;
pub use denial::{denials, AdjustmentFact, DenialFacts, RemarkFact};
pub use error::{Severity, X12Error, X12ErrorKind};
pub use model::{
    Adjustment, AdjustmentGroup, ClaimPayment, Patient, Payee, ProviderAdjustment, Reference,
    Remittance, ServiceLinePayment, SubmittedProcedure,
};
pub use position::Position;

/// Result of reading an 835 file: the remittances that could be read and every diagnostic.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Parsed835 {
    /// One entry per 835 transaction set (ST..SE), in file order.
    pub remittances: Vec<Remittance>,
    /// Diagnostics in the order they were found.
    pub errors: Vec<X12Error>,
}

impl Parsed835 {
    /// Returns whether any diagnostic has [`Severity::Error`], meaning that data was lost.
    pub fn has_errors(&self) -> bool {
        self.errors
            .iter()
            .any(|error| error.severity == Severity::Error)
    }
}

/// Parses an X12 835 file into remittances and diagnostics.
///
/// Reading does not stop at the first problem. An unreadable interchange gets a diagnostic
/// and reading resumes at the next interchange. Malformed input yields diagnostics, not
/// panics, which the tests check by cutting files at every byte and changing random bytes.
pub fn parse_835(input: &[u8]) -> Parsed835 {
    envelope::parse_file(input)
}

#[cfg(test)]
mod tests;
