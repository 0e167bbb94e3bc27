//! Appeal letters for denied claims, built only from evidence in the record.
//!
//! The steps, one module each: [`eligibility`] matches a denied claim to the
//! pack that covers it; [`assess`] evaluates the pack and decides between a
//! letter and a refusal, with [`deadline`] and the [`profile`]s; [`letter`]
//! gathers the facts a letter may state and [`template`] renders them as
//! Markdown; [`plain`] and [`pdf`] make the other formats; [`output`] writes
//! the files and [`manifest`] records the run.

pub mod assess;
pub mod deadline;
pub mod eligibility;
pub mod format;
pub mod letter;
pub mod manifest;
pub mod output;
pub mod pdf;
pub mod plain;
pub mod profile;
pub mod template;

#[cfg(test)]
mod tests;
