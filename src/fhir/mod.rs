//! FHIR R4 input: Bundles and Bulk-FHIR NDJSON mapped into canonical records.
//!
//! Reading happens in two steps, because a Bulk-FHIR export spreads one
//! encounter over several files:
//!
//! 1. [`collect`] runs on each parsed document. It unpacks Bundles of any
//!    type (nested ones too) into [`FhirResource`]s that remember their file,
//!    line, pointer and Bundle `fullUrl`, and rejects resources of other
//!    FHIR versions (DSTU2, STU3, R5), detected from their structure.
//! 2. [`map_records`] runs once on everything collected. It indexes the
//!    resources, resolves references, groups them per Encounter and builds
//!    one record per Encounter, with [`Provenance`](crate::record::Provenance)
//!    entries that point each part of the record back at its resource.
//!
//! Codes that FHIR does not standardise (portal offers, invitations,
//! education; payer denial labels) come from a [`FhirMapping`], by default
//! `mappings/fhir-r4.yaml`.
//!
//! Every record validates against the record schema. A source value that
//! does not fit (an NPI that is not ten digits, a placeholder where a date
//! belongs) is left out of the record and reported as a warning: never
//! kept, never dropped silently.
//!
//! ## Limitations
//!
//! - A record carries one claim; an encounter billed on several claims
//!   keeps one and reports the rest.
//! - `patient.new_patient`, `patient.last_visit_date`, the time log and the
//!   consent's method and disclosures have no FHIR source and stay empty.
//! - Any active or completed CarePlan in effect on the date of service is
//!   taken as the care plan; nothing marks a plan as the CCM plan.
//! - A note or event that names no encounter is matched to the patient's
//!   encounters by the calendar date written in its own time zone offset.
//! - Resources marked `entered-in-error` were retracted by their source and
//!   are never mapped.

mod assemble;
mod collect;
mod index;
mod mapping;
mod values;
mod version;

use std::cmp::Ordering;

use serde_json::Value;

pub use collect::collect;
pub use mapping::{
    ChannelMapping, CodeMatch, CodeSet, CodeSystems, DenialMapping, EventMapping, FhirMapping,
    MappingFileError, NoteTypeMapping, PatientEducation, PayerTypeMapping, PaymentStatusMapping,
    BUILTIN_MAPPING_TEXT, PORTAL_EVENT_TYPES,
};
pub use version::{detect as detect_version, Detection, OtherVersion};

use crate::input::InputError;
use crate::record::{Origin, Record, RecordSchema};

/// One FHIR resource with where it was read from.
#[derive(Debug, Clone)]
pub struct FhirResource {
    pub value: Value,
    /// File, NDJSON line and pointer of the resource (e.g. `/entry/3/resource`).
    pub origin: Origin,
    /// The `fullUrl` of the Bundle entry that held the resource, used to
    /// resolve `urn:uuid:` and absolute references.
    pub full_url: Option<String>,
}

/// The result of mapping FHIR resources.
#[derive(Debug, Default)]
pub struct FhirOutput {
    /// One record per Encounter, in input order (file, line, pointer).
    pub records: Vec<Record>,
    /// Encounters that could not become a record.
    pub errors: Vec<InputError>,
    /// Data left out of records, or mapped with less detail than the source
    /// had; the records are still valid.
    pub warnings: Vec<InputError>,
}

/// Maps collected resources into one canonical record per Encounter.
///
/// The output does not depend on the order of `resources`: they are sorted
/// by file, line and pointer first.
pub fn map_records(
    mut resources: Vec<FhirResource>,
    mapping: &FhirMapping,
    schema: &RecordSchema,
) -> FhirOutput {
    resources.sort_by(|a, b| compare_origins(&a.origin, &b.origin));
    assemble::map(&resources, mapping, schema)
}

/// Orders origins by file, then NDJSON line, then pointer.
pub(crate) fn compare_origins(a: &Origin, b: &Origin) -> Ordering {
    a.file
        .cmp(&b.file)
        .then_with(|| a.line.cmp(&b.line))
        .then_with(|| compare_pointers(&a.pointer, &b.pointer))
}

/// Orders JSON pointers token by token, numbers numerically, so that
/// `/entry/2` comes before `/entry/10`.
pub(crate) fn compare_pointers(a: &str, b: &str) -> Ordering {
    let mut left = a.split('/');
    let mut right = b.split('/');
    loop {
        match (left.next(), right.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                let order = match (x.parse::<u64>(), y.parse::<u64>()) {
                    (Ok(m), Ok(n)) => m.cmp(&n),
                    _ => x.cmp(y),
                };
                if order != Ordering::Equal {
                    return order;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
