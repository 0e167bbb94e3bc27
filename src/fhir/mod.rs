//! FHIR R4 input: Bundles and Bulk-FHIR NDJSON mapped into canonical records.

mod mapping;

use serde_json::Value;

pub use mapping::{
    ChannelMapping, CodeMatch, CodeSet, CodeSystems, DenialMapping, EventMapping, FhirMapping, MappingFileError,
    NoteTypeMapping, PatientEducation, PayerTypeMapping, PaymentStatusMapping, BUILTIN_MAPPING_TEXT, PORTAL_EVENT_TYPES,
};

use crate::input::InputError;
use crate::record::{Origin, Record};

/// One FHIR resource with where it was read from.
#[derive(Debug, Clone)]
pub struct FhirResource {
    pub value: Value,
    /// File, NDJSON line and pointer of the resource (e.g. `/entry/3/resource`).
    pub origin: Origin,
}

/// Adds a parsed FHIR document (a resource or a Bundle) to `resources`.
pub fn collect(value: Value, origin: Origin, resources: &mut Vec<FhirResource>, _errors: &mut Vec<InputError>) {
    // TODO: unpack Bundles and reject STU3/DSTU2 resources.
    resources.push(FhirResource { value, origin });
}

/// Maps collected resources into one canonical record per Encounter.
pub fn map_records(_resources: Vec<FhirResource>) -> (Vec<Record>, Vec<InputError>) {
    // TODO: group resources per Encounter and map them.
    (Vec::new(), Vec::new())
}
