//! Telling FHIR R4 resources from DSTU2, STU3 and R5 ones.
//!
//! Resources rarely declare their FHIR version, and ids carry none (the
//! STU3 and R4 example EOBs share the id `EB3500`). The version is read
//! from structure instead: elements that exist only in another version, or
//! that have another datatype there (STU3's `outcome` is a CodeableConcept
//! where R4 has a code). A declared version wins over structure: a
//! `meta.profile` under a versioned specification URL, or `fhirVersion`.
//!
//! Legacy code-system URLs (`http://hl7.org/fhir/v3/...`, replaced by
//! `http://terminology.hl7.org/CodeSystem/...` in R4) are only supporting
//! evidence. Some R4 exporters still write them, and a resource that has no
//! element of another version maps the same way under R4 rules.

use std::fmt;

use serde_json::Value;

use super::values::{items, text};

/// A FHIR version other than R4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum OtherVersion {
    /// DSTU2 (1.0).
    Dstu2,
    /// STU3 (3.0).
    Stu3,
    /// An element shared by DSTU2 and STU3 and removed in R4.
    Stu3OrDstu2,
    /// R4B (4.3) or R5 (5.0).
    R5,
}

impl fmt::Display for OtherVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OtherVersion::Dstu2 => "FHIR DSTU2 (1.0)",
            OtherVersion::Stu3 => "FHIR STU3 (3.0)",
            OtherVersion::Stu3OrDstu2 => "FHIR STU3 or DSTU2",
            OtherVersion::R5 => "FHIR R5",
        })
    }
}

/// The version a resource was detected as, with the reasons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detection {
    pub version: OtherVersion,
    /// Readable reasons, e.g. "it has `totalCost`".
    pub reasons: Vec<String>,
}

/// One structural test: the resource type it applies to, the element
/// path (dot-separated, lists are searched), what must hold, and the
/// version it reveals.
struct Signal {
    resource: &'static str,
    path: &'static str,
    test: Test,
    version: OtherVersion,
    reason: &'static str,
}

#[derive(Clone, Copy)]
enum Test {
    /// The element is present.
    Present,
    /// The element is a JSON string (R4 has a complex type).
    IsString,
    /// The element is a JSON object (R4 has a primitive or a list).
    IsObject,
    /// The element is a JSON array (R4 has a single value).
    IsArray,
}

use OtherVersion::{Dstu2, Stu3, Stu3OrDstu2, R5};
use Test::{IsArray, IsObject, IsString, Present};

#[rustfmt::skip]
const SIGNALS: &[Signal] = &[
    // Encounter
    Signal { resource: "Encounter", path: "patient", test: Present, version: Dstu2, reason: "it has `patient` (R4: `subject`)" },
    Signal { resource: "Encounter", path: "class", test: IsString, version: Dstu2, reason: "`class` is a plain string (R4: a Coding)" },
    Signal { resource: "Encounter", path: "indication", test: Present, version: Dstu2, reason: "it has `indication` (R4: `reasonReference`)" },
    Signal { resource: "Encounter", path: "incomingReferral", test: Present, version: Stu3, reason: "it has `incomingReferral` (R4: `basedOn`)" },
    Signal { resource: "Encounter", path: "class", test: IsArray, version: R5, reason: "`class` is a list (R4: a single Coding)" },
    Signal { resource: "Encounter", path: "actualPeriod", test: Present, version: R5, reason: "it has `actualPeriod` (R4: `period`)" },
    Signal { resource: "Encounter", path: "virtualService", test: Present, version: R5, reason: "it has `virtualService`" },
    // Communication
    Signal { resource: "Communication", path: "definition", test: Present, version: Stu3, reason: "it has `definition` (R4: `instantiatesCanonical`/`instantiatesUri`)" },
    Signal { resource: "Communication", path: "context", test: Present, version: Stu3, reason: "it has `context` (R4: `encounter`)" },
    Signal { resource: "Communication", path: "notDone", test: Present, version: Stu3, reason: "it has `notDone` (R4: `status` not-done)" },
    Signal { resource: "Communication", path: "topic", test: IsArray, version: Stu3, reason: "`topic` is a list of references (R4: a CodeableConcept)" },
    Signal { resource: "Communication", path: "requestDetail", test: Present, version: Dstu2, reason: "it has `requestDetail`" },
    // Claim, ExplanationOfBenefit, ClaimResponse
    Signal { resource: "Claim", path: "organization", test: Present, version: Stu3OrDstu2, reason: "it has `organization` (R4: `provider`)" },
    Signal { resource: "Claim", path: "information", test: Present, version: Stu3, reason: "it has `information` (R4: `supportingInfo`)" },
    Signal { resource: "Claim", path: "employmentImpacted", test: Present, version: Stu3, reason: "it has `employmentImpacted`" },
    Signal { resource: "Claim", path: "item.service", test: Present, version: Stu3OrDstu2, reason: "`item` has `service` (R4: `productOrService`)" },
    Signal { resource: "Claim", path: "ruleset", test: Present, version: Dstu2, reason: "it has `ruleset`" },
    Signal { resource: "Claim", path: "target", test: Present, version: Dstu2, reason: "it has `target` (R4: `insurer`)" },
    Signal { resource: "ExplanationOfBenefit", path: "organization", test: Present, version: Stu3OrDstu2, reason: "it has `organization` (R4: `provider`)" },
    Signal { resource: "ExplanationOfBenefit", path: "totalCost", test: Present, version: Stu3, reason: "it has `totalCost` (R4: `total`)" },
    Signal { resource: "ExplanationOfBenefit", path: "totalBenefit", test: Present, version: Stu3, reason: "it has `totalBenefit` (R4: `total`)" },
    Signal { resource: "ExplanationOfBenefit", path: "unallocDeductable", test: Present, version: Stu3, reason: "it has `unallocDeductable`" },
    Signal { resource: "ExplanationOfBenefit", path: "outcome", test: IsObject, version: Stu3, reason: "`outcome` is a CodeableConcept (R4: a code)" },
    Signal { resource: "ExplanationOfBenefit", path: "insurance", test: IsObject, version: Stu3, reason: "`insurance` is a single object (R4: a list)" },
    Signal { resource: "ExplanationOfBenefit", path: "information", test: Present, version: Stu3, reason: "it has `information` (R4: `supportingInfo`)" },
    Signal { resource: "ExplanationOfBenefit", path: "item.service", test: Present, version: Stu3OrDstu2, reason: "`item` has `service` (R4: `productOrService`)" },
    Signal { resource: "ExplanationOfBenefit", path: "ruleset", test: Present, version: Dstu2, reason: "it has `ruleset`" },
    Signal { resource: "ClaimResponse", path: "outcome", test: IsObject, version: Stu3, reason: "`outcome` is a CodeableConcept (R4: a code)" },
    Signal { resource: "ClaimResponse", path: "requestProvider", test: Present, version: Stu3OrDstu2, reason: "it has `requestProvider` (R4: `requestor`)" },
    Signal { resource: "ClaimResponse", path: "totalCost", test: Present, version: Stu3, reason: "it has `totalCost` (R4: `total`)" },
    Signal { resource: "ClaimResponse", path: "item.sequenceLinkId", test: Present, version: Stu3OrDstu2, reason: "`item` has `sequenceLinkId` (R4: `itemSequence`)" },
    Signal { resource: "ClaimResponse", path: "ruleset", test: Present, version: Dstu2, reason: "it has `ruleset`" },
    // Patient, Practitioner
    Signal { resource: "Patient", path: "careProvider", test: Present, version: Dstu2, reason: "it has `careProvider` (R4: `generalPractitioner`)" },
    Signal { resource: "Patient", path: "animal", test: Present, version: Stu3OrDstu2, reason: "it has `animal`, removed in R4" },
    Signal { resource: "Practitioner", path: "practitionerRole", test: Present, version: Dstu2, reason: "it has `practitionerRole` (R4: a PractitionerRole resource)" },
    Signal { resource: "Practitioner", path: "name", test: IsObject, version: Dstu2, reason: "`name` is a single HumanName (R4: a list)" },
    // Procedure
    Signal { resource: "Procedure", path: "notDone", test: Present, version: Stu3, reason: "it has `notDone` (R4: `status` not-done)" },
    Signal { resource: "Procedure", path: "definition", test: Present, version: Stu3, reason: "it has `definition` (R4: `instantiatesCanonical`)" },
    Signal { resource: "Procedure", path: "context", test: Present, version: Stu3, reason: "it has `context` (R4: `encounter`)" },
    Signal { resource: "Procedure", path: "notPerformed", test: Present, version: Dstu2, reason: "it has `notPerformed`" },
    // DocumentReference
    Signal { resource: "DocumentReference", path: "class", test: Present, version: Stu3OrDstu2, reason: "it has `class` (R4: `category`)" },
    Signal { resource: "DocumentReference", path: "indexed", test: Present, version: Stu3OrDstu2, reason: "it has `indexed` (R4: `date`)" },
    Signal { resource: "DocumentReference", path: "created", test: Present, version: Stu3OrDstu2, reason: "it has `created`, removed in R4" },
    Signal { resource: "DocumentReference", path: "context.encounter", test: IsObject, version: Stu3, reason: "`context.encounter` is a single reference (R4: a list)" },
    // AuditEvent
    Signal { resource: "AuditEvent", path: "event", test: Present, version: Dstu2, reason: "it has `event` (R4: `type`, `recorded`)" },
    Signal { resource: "AuditEvent", path: "participant", test: Present, version: Dstu2, reason: "it has `participant` (R4: `agent`)" },
    Signal { resource: "AuditEvent", path: "object", test: Present, version: Dstu2, reason: "it has `object` (R4: `entity`)" },
    Signal { resource: "AuditEvent", path: "agent.reference", test: Present, version: Stu3, reason: "`agent` has `reference` (R4: `who`)" },
    Signal { resource: "AuditEvent", path: "agent.userId", test: Present, version: Stu3, reason: "`agent` has `userId` (R4: `who`)" },
    Signal { resource: "AuditEvent", path: "entity.reference", test: Present, version: Stu3, reason: "`entity` has `reference` (R4: `what`)" },
    Signal { resource: "AuditEvent", path: "outcome", test: IsObject, version: R5, reason: "`outcome` is a structure (R4: a code)" },
    // Consent
    Signal { resource: "Consent", path: "consentingParty", test: Present, version: Stu3, reason: "it has `consentingParty` (R4: `performer`)" },
    Signal { resource: "Consent", path: "period", test: Present, version: Stu3, reason: "it has `period` (R4: `provision.period`)" },
    Signal { resource: "Consent", path: "except", test: Present, version: Stu3, reason: "it has `except` (R4: `provision.provision`)" },
    Signal { resource: "Consent", path: "policyRule", test: IsString, version: Stu3, reason: "`policyRule` is a URI (R4: a CodeableConcept)" },
    Signal { resource: "Consent", path: "decision", test: Present, version: R5, reason: "it has `decision`" },
    // Condition
    Signal { resource: "Condition", path: "clinicalStatus", test: IsString, version: Stu3OrDstu2, reason: "`clinicalStatus` is a code (R4: a CodeableConcept)" },
    Signal { resource: "Condition", path: "verificationStatus", test: IsString, version: Stu3OrDstu2, reason: "`verificationStatus` is a code (R4: a CodeableConcept)" },
    Signal { resource: "Condition", path: "assertedDate", test: Present, version: Stu3, reason: "it has `assertedDate` (R4: `recordedDate`)" },
    Signal { resource: "Condition", path: "context", test: Present, version: Stu3, reason: "it has `context` (R4: `encounter`)" },
    Signal { resource: "Condition", path: "patient", test: Present, version: Dstu2, reason: "it has `patient` (R4: `subject`)" },
    Signal { resource: "Condition", path: "dateRecorded", test: Present, version: Dstu2, reason: "it has `dateRecorded` (R4: `recordedDate`)" },
    // Others that commonly travel with encounters
    Signal { resource: "CarePlan", path: "context", test: Present, version: Stu3, reason: "it has `context` (R4: `encounter`)" },
    Signal { resource: "CarePlan", path: "definition", test: Present, version: Stu3, reason: "it has `definition` (R4: `instantiatesCanonical`)" },
    Signal { resource: "Observation", path: "context", test: Present, version: Stu3, reason: "it has `context` (R4: `encounter`)" },
    Signal { resource: "DiagnosticReport", path: "context", test: Present, version: Stu3, reason: "it has `context` (R4: `encounter`)" },
    Signal { resource: "DiagnosticReport", path: "codedDiagnosis", test: Present, version: Stu3, reason: "it has `codedDiagnosis` (R4: `conclusionCode`)" },
    Signal { resource: "MedicationRequest", path: "context", test: Present, version: Stu3, reason: "it has `context` (R4: `encounter`)" },
    Signal { resource: "Immunization", path: "notGiven", test: Present, version: Stu3, reason: "it has `notGiven` (R4: `status` not-done)" },
    Signal { resource: "Immunization", path: "wasNotGiven", test: Present, version: Dstu2, reason: "it has `wasNotGiven`" },
];

/// Resource types that do not exist in R4, with the version that has them
/// and their R4 replacement.
#[rustfmt::skip]
const REMOVED_TYPES: &[(&str, OtherVersion, &str)] = &[
    ("Conformance", Dstu2, "CapabilityStatement"),
    ("DiagnosticOrder", Dstu2, "ServiceRequest"),
    ("MedicationOrder", Dstu2, "MedicationRequest"),
    ("Order", Dstu2, "Task"),
    ("OrderResponse", Dstu2, "Task"),
    ("DeviceUseRequest", Dstu2, "DeviceRequest"),
    ("ProcedureRequest", Stu3OrDstu2, "ServiceRequest"),
    ("ReferralRequest", Stu3, "ServiceRequest"),
    ("ProcessRequest", Stu3OrDstu2, "Task"),
    ("ProcessResponse", Stu3OrDstu2, "Task"),
    ("EligibilityRequest", Stu3OrDstu2, "CoverageEligibilityRequest"),
    ("EligibilityResponse", Stu3OrDstu2, "CoverageEligibilityResponse"),
    ("DeviceComponent", Stu3, "DeviceDefinition"),
    ("DataElement", Stu3, "StructureDefinition"),
    ("ServiceDefinition", Stu3, "ActivityDefinition"),
    ("BodySite", Stu3, "BodyStructure"),
    ("ImagingManifest", Stu3, "ImagingStudy"),
    ("Sequence", Stu3, "MolecularSequence"),
    ("ExpansionProfile", Stu3, "Parameters"),
];

/// Legacy code-system URL prefixes that R4 moved to terminology.hl7.org.
const LEGACY_SYSTEM_PREFIXES: &[&str] = &[
    "http://hl7.org/fhir/v2/",
    "http://hl7.org/fhir/v3/",
    "http://hl7.org/fhir/ex-",
    "http://hl7.org/fhir/remittance-outcome",
    "http://hl7.org/fhir/adjudication",
    "http://hl7.org/fhir/payeetype",
    "http://hl7.org/fhir/claim-type",
];

/// Returns the detected version when `resource` (or a resource it
/// contains) is not FHIR R4; `None` when it reads as R4.
pub fn detect(resource: &Value) -> Option<Detection> {
    if let Some(declared) = declared_version(resource) {
        return Some(declared);
    }
    let resource_type = text(resource, "resourceType").unwrap_or_default();
    let mut found: Vec<(OtherVersion, String)> = Vec::new();

    if let Some((_, version, replacement)) = REMOVED_TYPES
        .iter()
        .find(|(name, _, _)| *name == resource_type)
    {
        found.push((
            *version,
            format!("the resource type {resource_type} does not exist in R4 (R4: {replacement})"),
        ));
    }
    for signal in SIGNALS.iter().filter(|s| s.resource == resource_type) {
        if matches_signal(resource, signal.path, signal.test) {
            found.push((signal.version, signal.reason.to_string()));
        }
    }
    if found.is_empty() {
        return items(resource, "contained").find_map(|contained| {
            let inner = detect(contained)?;
            let kind = text(contained, "resourceType").unwrap_or("resource");
            Some(Detection {
                version: inner.version,
                reasons: inner
                    .reasons
                    .into_iter()
                    .map(|r| format!("its contained {kind}: {r}"))
                    .collect(),
            })
        });
    }

    let version = pick_version(found.iter().map(|(v, _)| *v));
    let mut reasons: Vec<String> = found.into_iter().map(|(_, r)| r).collect();
    if version != R5 {
        let mut legacy = Vec::new();
        legacy_systems(resource, &mut legacy);
        legacy.sort();
        legacy.dedup();
        reasons.extend(
            legacy
                .into_iter()
                .take(3)
                .map(|s| format!("it uses the pre-R4 code system {s}")),
        );
    }
    Some(Detection { version, reasons })
}

/// DSTU2 wins over STU3 (its signals are the more specific), STU3 over
/// "STU3 or DSTU2", and R5 only when nothing older was found.
fn pick_version(versions: impl Iterator<Item = OtherVersion>) -> OtherVersion {
    let versions: Vec<OtherVersion> = versions.collect();
    for candidate in [Dstu2, Stu3, Stu3OrDstu2] {
        if versions.contains(&candidate) {
            return candidate;
        }
    }
    R5
}

/// Reads a version declared in `fhirVersion` or in a `meta.profile` under
/// a versioned specification URL (`http://hl7.org/fhir/3.0/...`).
fn declared_version(resource: &Value) -> Option<Detection> {
    if let Some(declared) = text(resource, "fhirVersion") {
        let version = match declared.split('.').next() {
            Some("1") | Some("0") => Some(Dstu2),
            Some("3") => Some(Stu3),
            Some("5") | Some("6") => Some(R5),
            _ if declared.starts_with("4.3") || declared.starts_with("4.2") => Some(R5),
            _ => None,
        };
        if let Some(version) = version {
            return Some(Detection {
                version,
                reasons: vec![format!("it declares fhirVersion {declared}")],
            });
        }
    }
    let profiles = resource
        .get("meta")
        .map(|meta| items_or_strings(meta, "profile"))
        .unwrap_or_default();
    for profile in profiles {
        let version = [
            ("http://hl7.org/fhir/DSTU2/", Dstu2),
            ("http://hl7.org/fhir/1.0/", Dstu2),
            ("http://hl7.org/fhir/STU3/", Stu3),
            ("http://hl7.org/fhir/3.0/", Stu3),
            ("http://hl7.org/fhir/R4B/", R5),
            ("http://hl7.org/fhir/4.3/", R5),
            ("http://hl7.org/fhir/R5/", R5),
            ("http://hl7.org/fhir/5.0/", R5),
        ]
        .iter()
        .find(|(prefix, _)| profile.starts_with(prefix))
        .map(|(_, version)| *version);
        if let Some(version) = version {
            return Some(Detection {
                version,
                reasons: vec![format!("it declares the profile {profile}")],
            });
        }
    }
    None
}

fn items_or_strings<'a>(value: &'a Value, key: &str) -> Vec<&'a str> {
    match value.get(key) {
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        Some(Value::String(s)) => vec![s.as_str()],
        _ => Vec::new(),
    }
}

/// Tests `path` (dot-separated; lists on the way are searched) in `value`.
fn matches_signal(value: &Value, path: &str, test: Test) -> bool {
    let (head, rest) = match path.split_once('.') {
        Some((head, rest)) => (head, Some(rest)),
        None => (path, None),
    };
    let Some(child) = value.get(head) else {
        return false;
    };
    match rest {
        Some(rest) => match child {
            Value::Array(list) => list.iter().any(|item| matches_signal(item, rest, test)),
            other => matches_signal(other, rest, test),
        },
        None => match test {
            Present => !child.is_null(),
            IsString => child.is_string(),
            IsObject => child.is_object(),
            IsArray => child.is_array(),
        },
    }
}

/// Collects legacy code-system URLs used anywhere in `value`.
fn legacy_systems<'a>(value: &'a Value, found: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                if key == "system" {
                    if let Some(system) = child.as_str() {
                        if LEGACY_SYSTEM_PREFIXES.iter().any(|p| system.starts_with(p)) {
                            found.push(system);
                        }
                    }
                } else {
                    legacy_systems(child, found);
                }
            }
        }
        Value::Array(list) => list.iter().for_each(|item| legacy_systems(item, found)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dstu2_encounter_with_string_class() {
        let resource = json!({"resourceType": "Encounter", "id": "e", "class": "outpatient", "patient": {"reference": "Patient/1"}});
        let detection = detect(&resource).unwrap();
        assert_eq!(detection.version, Dstu2);
        assert!(detection
            .reasons
            .iter()
            .any(|r| r.contains("`class` is a plain string")));
        assert!(detection.reasons.iter().any(|r| r.contains("`patient`")));
    }

    #[test]
    fn r4_encounter_with_coding_class_is_r4() {
        let resource = json!({"resourceType": "Encounter", "id": "e", "class": {"code": "AMB"}, "subject": {"reference": "Patient/1"}});
        assert_eq!(detect(&resource), None);
    }

    #[test]
    fn legacy_system_alone_is_not_decisive() {
        let resource = json!({"resourceType": "Communication", "status": "completed",
            "medium": [{"coding": [{"system": "http://hl7.org/fhir/v3/ParticipationMode", "code": "EMAILWRIT"}]}]});
        assert_eq!(detect(&resource), None);
    }

    #[test]
    fn legacy_system_supports_a_structural_signal() {
        let resource = json!({"resourceType": "Communication", "context": {"reference": "Encounter/1"},
            "medium": [{"coding": [{"system": "http://hl7.org/fhir/v3/ParticipationMode", "code": "EMAILWRIT"}]}]});
        let detection = detect(&resource).unwrap();
        assert_eq!(detection.version, Stu3);
        assert_eq!(detection.reasons.len(), 2);
        assert!(detection.reasons[1].contains("http://hl7.org/fhir/v3/ParticipationMode"));
    }

    #[test]
    fn declared_profile_and_fhir_version_win() {
        let resource = json!({"resourceType": "Patient", "meta": {"profile": ["http://hl7.org/fhir/STU3/StructureDefinition/Patient"]}});
        assert_eq!(detect(&resource).unwrap().version, Stu3);
        let resource = json!({"resourceType": "CapabilityStatement", "fhirVersion": "1.0.2"});
        assert_eq!(detect(&resource).unwrap().version, Dstu2);
        let resource = json!({"resourceType": "CapabilityStatement", "fhirVersion": "4.0.1"});
        assert_eq!(detect(&resource), None);
    }

    #[test]
    fn us_core_profile_is_not_a_version_hint() {
        let resource = json!({"resourceType": "Patient", "meta": {"profile": ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient"]}});
        assert_eq!(detect(&resource), None);
    }

    #[test]
    fn removed_resource_type_is_detected() {
        let resource = json!({"resourceType": "ProcedureRequest", "id": "p"});
        let detection = detect(&resource).unwrap();
        assert_eq!(detection.version, Stu3OrDstu2);
        assert!(detection.reasons[0].contains("ServiceRequest"));
    }

    #[test]
    fn contained_resource_version_counts() {
        let resource = json!({"resourceType": "Claim", "contained": [{"resourceType": "Condition", "id": "c", "clinicalStatus": "active"}]});
        let detection = detect(&resource).unwrap();
        assert!(detection.reasons[0].starts_with("its contained Condition"));
    }

    #[test]
    fn r5_encounter_is_detected() {
        let resource = json!({"resourceType": "Encounter", "class": [{"coding": [{"code": "AMB"}]}], "actualPeriod": {}});
        assert_eq!(detect(&resource).unwrap().version, R5);
    }
}
