//! Remittance advice from payers: what was paid, adjusted or denied on submitted claims.

pub mod denial;
pub mod x12;

pub use denial::{
    DenialAdjustment, DenialOutcome, PayerRef, RemitDenial, RemittanceRef, SegmentPosition,
    CORRECT_AND_RESUBMIT,
};
