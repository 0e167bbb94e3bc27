//! claimlint: a compliance rules engine for US medical billing.

pub mod finding;
pub mod record;
pub mod yaml;
pub mod diagnostic;
pub mod eval;
pub mod rules;
pub mod fhir;
pub mod input;
