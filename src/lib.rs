//! claimlint: a compliance rules engine for US medical billing.
pub mod remit;
