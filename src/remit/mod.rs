//! Remittance advice from payers: what was paid, adjusted or denied on submitted claims.

pub mod x12;
