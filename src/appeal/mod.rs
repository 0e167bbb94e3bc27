//! Appeal letters for denied claims, built only from evidence in the record.

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
