//! claimlint: a compliance rules engine for US medical billing.
//!
//! Rule packs written in YAML are compiled once ([`rules::RuleSet`]) and
//! evaluated over encounter records ([`record::Record`]) read from
//! claimlint's own JSON format or from FHIR R4 exports ([`input`], [`fhir`]).
//! Evaluation ([`eval`]) returns findings and evidence as plain data; the
//! library never prints, reads the terminal or exits. For denied claims,
//! [`appeal`] turns the evidence of passing rules into appeal letters, or
//! lists what is missing; its output module is the one place that writes
//! files.

pub mod appeal;
pub mod baseline;
pub mod config;
pub mod diagnostic;
pub mod eval;
pub mod fhir;
pub mod finding;
pub mod fixture;
pub mod input;
pub mod phi;
pub mod record;
pub mod remit;
pub mod report;
pub mod rules;
pub mod source;
pub mod spill;
pub mod yaml;
