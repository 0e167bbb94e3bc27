//! Appeal letters for denied claims, built only from evidence in the record.

pub mod deadline;
pub mod eligibility;
pub mod profile;
