//! Patients, practitioners and organizations.

use serde_json::{Map, Value};

use super::Ctx;
use crate::fhir::index::Res;
use crate::fhir::values::{
    concept_label, contact_point, extension_text, items, person_name, text, PersonName,
};

/// Someone who acted in the record: a note author, an event actor, a
/// rendering provider or a practice.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Actor {
    pub name: Option<String>,
    pub role: Option<String>,
    pub npi: Option<String>,
    /// `Type/id` of the resolved resource.
    pub key: Option<String>,
}

impl Actor {
    /// Returns the record's `author` object: id (NPI, else resource), name, role.
    pub fn to_author(&self) -> Option<Value> {
        let mut map = Map::new();
        if let Some(id) = self.npi.as_ref().or(self.key.as_ref()) {
            map.insert("id".to_string(), Value::String(id.clone()));
        }
        if let Some(name) = &self.name {
            map.insert("name".to_string(), Value::String(name.clone()));
        }
        if let Some(role) = &self.role {
            map.insert("role".to_string(), Value::String(role.clone()));
        }
        (!map.is_empty()).then_some(Value::Object(map))
    }
}

/// Reads the actor a Reference (read from `from`) points at. An unresolved
/// reference still gives its `display` as the name, and an NPI written in a
/// conditional or logical reference.
pub(crate) fn actor(ctx: &Ctx<'_>, from: Res<'_>, reference: &Value) -> Actor {
    match ctx.index.resolve(from, reference) {
        Some(target) => resolved_actor(ctx, target, reference),
        None => Actor {
            name: text(reference, "display").map(str::to_string),
            role: None,
            npi: npi_in_reference(ctx, reference),
            key: None,
        },
    }
}

fn resolved_actor(ctx: &Ctx<'_>, target: Res<'_>, reference: &Value) -> Actor {
    let display = || text(reference, "display").map(str::to_string);
    let key = Some(ctx.index.key(target));
    match target.resource_type() {
        "PractitionerRole" => {
            let practitioner = target
                .value
                .get("practitioner")
                .map(|r| actor(ctx, target, r))
                .unwrap_or_default();
            let role = items(target.value, "code")
                .find_map(concept_label)
                .or_else(|| practitioner.role.clone());
            Actor {
                name: practitioner.name.or_else(display),
                role,
                npi: npi(ctx, target.value).or(practitioner.npi),
                key,
            }
        }
        "Organization" | "Location" | "HealthcareService" => Actor {
            name: text(target.value, "name")
                .map(str::to_string)
                .or_else(display),
            role: None,
            npi: npi(ctx, target.value),
            key,
        },
        "Device" => Actor {
            name: items(target.value, "deviceName")
                .find_map(|n| text(n, "name"))
                .map(str::to_string)
                .or_else(display),
            role: None,
            npi: None,
            key,
        },
        _ => Actor {
            name: person_name(target.value)
                .and_then(|n| n.full())
                .or_else(display),
            role: items(target.value, "qualification")
                .find_map(|q| q.get("code").and_then(concept_label)),
            npi: npi(ctx, target.value),
            key,
        },
    }
}

/// Returns the NPI among a resource's identifiers.
pub(crate) fn npi(ctx: &Ctx<'_>, resource: &Value) -> Option<String> {
    items(resource, "identifier").find_map(|identifier| npi_identifier(ctx, identifier))
}

/// Returns the NPI of an Identifier: by system, or by a type coded `NPI` as
/// CARIN Blue Button writes it.
fn npi_identifier(ctx: &Ctx<'_>, identifier: &Value) -> Option<String> {
    let value = text(identifier, "value")?;
    let by_system = text(identifier, "system")
        .is_some_and(|s| ctx.mapping.code_systems.npi.iter().any(|n| n == s));
    let by_type = identifier
        .get("type")
        .map(crate::fhir::values::codings)
        .unwrap_or_default()
        .iter()
        .any(|c| c.code.is_some_and(|code| code.eq_ignore_ascii_case("npi")));
    (by_system || by_type).then(|| value.to_string())
}

/// Returns an NPI written in an unresolved reference: `Practitioner?identifier=
/// <npi system>|<npi>` or a logical reference with an NPI identifier.
fn npi_in_reference(ctx: &Ctx<'_>, reference: &Value) -> Option<String> {
    if let Some(identifier) = reference.get("identifier") {
        return npi_identifier(ctx, identifier);
    }
    let target = text(reference, "reference")?;
    let (_, query) = target.split_once("?identifier=")?;
    let (system, value) = query.split_once('|')?;
    let value = value.split('&').next()?;
    ctx.mapping
        .code_systems
        .npi
        .iter()
        .any(|n| n == system)
        .then(|| value.to_string())
}

/// Returns the patient's details from a Patient resource.
pub(crate) fn patient_details(ctx: &Ctx<'_>, patient: &Value) -> Map<String, Value> {
    let mut map = Map::new();
    if let Some(name) = person_name(patient).as_ref().and_then(PersonName::to_json) {
        map.insert("name".to_string(), name);
    }
    if let Some(birth_date) = text(patient, "birthDate") {
        map.insert(
            "birth_date".to_string(),
            Value::String(birth_date.to_string()),
        );
    }
    if let Some(member_id) = member_id(patient) {
        map.insert(
            "member_id".to_string(),
            Value::String(member_id.to_string()),
        );
    }
    if let Some(email) = contact_point(patient, "email") {
        map.insert("email".to_string(), Value::String(email.value.to_string()));
        if let Some(verified) = extension_text(email.element, &ctx.mapping.email_verified_extension)
        {
            map.insert(
                "email_verified_at".to_string(),
                Value::String(verified.to_string()),
            );
        }
    }
    if let Some(phone) = contact_point(patient, "phone") {
        map.insert("phone".to_string(), Value::String(phone.value.to_string()));
    }
    if let Some(address) = address(patient) {
        map.insert("address".to_string(), address);
    }
    map
}

/// Returns a member id among a Patient's or Coverage's identifiers: type `MB`
/// (member number) or `MC` (Medicare number) from HL7 v2 table 0203.
pub(crate) fn member_id(resource: &Value) -> Option<&str> {
    items(resource, "identifier")
        .find(|identifier| {
            identifier
                .get("type")
                .map(crate::fhir::values::codings)
                .unwrap_or_default()
                .iter()
                .any(|c| matches!(c.code, Some("MB" | "MC")))
        })
        .and_then(|identifier| text(identifier, "value"))
}

/// Returns the home address, else the first current one.
fn address(patient: &Value) -> Option<Value> {
    let addresses: Vec<&Value> = items(patient, "address")
        .filter(|a| {
            text(a, "use") != Some("old") && a.get("period").and_then(|p| text(p, "end")).is_none()
        })
        .collect();
    let chosen = addresses
        .iter()
        .find(|a| text(a, "use") == Some("home"))
        .or_else(|| addresses.first())?;
    let mut map = Map::new();
    let lines: Vec<Value> = match chosen.get("line") {
        Some(Value::Array(lines)) => lines
            .iter()
            .filter_map(Value::as_str)
            .filter(|l| !l.trim().is_empty())
            .map(|l| Value::String(l.to_string()))
            .collect(),
        Some(Value::String(line)) => vec![Value::String(line.clone())],
        _ => Vec::new(),
    };
    if !lines.is_empty() {
        map.insert("lines".to_string(), Value::Array(lines));
    }
    for (source, target) in [
        ("city", "city"),
        ("state", "state"),
        ("postalCode", "postal_code"),
    ] {
        if let Some(value) = text(chosen, source) {
            map.insert(target.to_string(), Value::String(value.to_string()));
        }
    }
    (!map.is_empty()).then_some(Value::Object(map))
}
