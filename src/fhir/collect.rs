//! Unpacking FHIR documents into resources and rejecting other versions.

use serde_json::{Map, Value};

use super::version::{detect, Detection};
use super::FhirResource;
use crate::input::{InputError, InputErrorKind};
use crate::record::Origin;

/// How many offending resources a rejected Bundle's message names.
const MAX_NAMED_IN_BUNDLE: usize = 3;

/// Adds a parsed FHIR document to `resources`: a resource, or every
/// resource of a Bundle of any type, nested Bundles included.
///
/// A resource of another FHIR version is rejected with an
/// [`InputErrorKind::FhirVersion`] error. In a Bundle, one such resource
/// rejects the whole Bundle: its other resources are then most likely of
/// the same version too, and mapping them alone would give incomplete
/// records.
pub fn collect(
    value: Value,
    origin: Origin,
    resources: &mut Vec<FhirResource>,
    errors: &mut Vec<InputError>,
) {
    let mut found = Vec::new();
    let mut entry_errors = Vec::new();
    unpack(value, origin.clone(), None, &mut found, &mut entry_errors);

    let rejected: Vec<(&FhirResource, Detection)> = found
        .iter()
        .filter_map(|resource| detect(&resource.value).map(|detection| (resource, detection)))
        .collect();
    if let Some((first, detection)) = rejected.first() {
        errors.push(version_error(&origin, first, detection, &rejected));
        return;
    }
    errors.extend(entry_errors);
    resources.extend(found);
}

/// Moves the resources out of `value` into `found`.
fn unpack(
    value: Value,
    origin: Origin,
    full_url: Option<String>,
    found: &mut Vec<FhirResource>,
    errors: &mut Vec<InputError>,
) {
    let Value::Object(mut map) = value else {
        errors.push(
            InputError::new(
                InputErrorKind::Unrecognized,
                origin,
                "a Bundle entry's resource is not a JSON object",
            )
            .with_help("each `entry.resource` must be a FHIR resource object"),
        );
        return;
    };
    let resource_type = match map.get("resourceType") {
        Some(Value::String(name)) if !name.trim().is_empty() => name.clone(),
        _ => {
            errors.push(
                InputError::new(
                    InputErrorKind::Unrecognized,
                    origin.child("/resourceType"),
                    "the resource has no resourceType string",
                )
                .with_help("every FHIR resource names its type in \"resourceType\""),
            );
            return;
        }
    };
    if resource_type != "Bundle" {
        found.push(FhirResource {
            value: Value::Object(map),
            origin,
            full_url,
        });
        return;
    }

    let entries = match map.remove("entry") {
        Some(Value::Array(entries)) => entries,
        Some(Value::Null) | None => Vec::new(),
        Some(single @ Value::Object(_)) => vec![single],
        Some(_) => {
            errors.push(
                InputError::new(
                    InputErrorKind::Unrecognized,
                    origin.child("/entry"),
                    "the Bundle's `entry` is not a list",
                )
                .with_help("write Bundle.entry as a JSON array of entries"),
            );
            return;
        }
    };
    for (index, entry) in entries.into_iter().enumerate() {
        let entry_origin = origin.child(&format!("/entry/{index}"));
        let Value::Object(mut entry) = entry else {
            errors.push(InputError::new(
                InputErrorKind::Unrecognized,
                entry_origin,
                "a Bundle entry is not a JSON object",
            ));
            continue;
        };
        if is_search_outcome(&entry) {
            continue;
        }
        // An entry without a resource is a deletion in a history Bundle or
        // a response-only entry: there is nothing to map.
        let Some(resource) = entry.remove("resource").filter(|r| !r.is_null()) else {
            continue;
        };
        let full_url = entry
            .get("fullUrl")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|url| !url.is_empty())
            .map(str::to_string);
        unpack(
            resource,
            entry_origin.child("/resource"),
            full_url,
            found,
            errors,
        );
    }
}

/// True for a searchset entry that contains an OperationOutcome about the
/// search rather than a match.
fn is_search_outcome(entry: &Map<String, Value>) -> bool {
    entry
        .get("search")
        .and_then(|search| search.get("mode"))
        .and_then(Value::as_str)
        == Some("outcome")
}

fn version_error(
    origin: &Origin,
    first: &FhirResource,
    detection: &Detection,
    rejected: &[(&FhirResource, Detection)],
) -> InputError {
    let help =
        "claimlint reads FHIR R4 (4.0) only; export the data as FHIR R4, or convert it to R4 first";
    let reasons = |d: &Detection| d.reasons.join("; ");

    if rejected.len() == 1 && first.origin == *origin {
        let message = format!(
            "{} is {}, not R4: {}",
            describe(&first.value),
            detection.version,
            reasons(detection)
        );
        return InputError::new(InputErrorKind::FhirVersion, origin.clone(), message)
            .with_help(help);
    }

    let mut versions: Vec<String> = rejected
        .iter()
        .map(|(_, d)| d.version.to_string())
        .collect();
    versions.sort();
    versions.dedup();
    let named: Vec<String> = rejected
        .iter()
        .take(MAX_NAMED_IN_BUNDLE)
        .map(|(resource, detection)| {
            format!(
                "{} at {} ({})",
                describe(&resource.value),
                resource.origin.pointer,
                reasons(detection)
            )
        })
        .collect();
    let more = match rejected.len().saturating_sub(MAX_NAMED_IN_BUNDLE) {
        0 => String::new(),
        n => format!("; and {n} more"),
    };
    let message = format!(
        "the Bundle holds {} resources, not R4, so none of it was read: {}{more}",
        versions.join(" and "),
        named.join("; ")
    );
    InputError::new(InputErrorKind::FhirVersion, first.origin.clone(), message).with_help(help)
}

/// Returns `Type/id`, or the bare type when the resource has no id.
fn describe(resource: &Value) -> String {
    let kind = resource
        .get("resourceType")
        .and_then(Value::as_str)
        .unwrap_or("resource");
    match resource.get("id").and_then(Value::as_str) {
        Some(id) => format!("{kind}/{id}"),
        None => kind.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::*;

    fn run(value: Value) -> (Vec<FhirResource>, Vec<InputError>) {
        let mut resources = Vec::new();
        let mut errors = Vec::new();
        collect(
            value,
            Origin::new(Arc::from("b.json"), None, ""),
            &mut resources,
            &mut errors,
        );
        (resources, errors)
    }

    #[test]
    fn bundle_entries_keep_pointer_and_full_url() {
        let bundle = json!({"resourceType": "Bundle", "type": "collection", "entry": [
            {"fullUrl": "urn:uuid:1", "resource": {"resourceType": "Patient", "id": "p"}},
            {"request": {"method": "DELETE", "url": "Patient/x"}},
            {"resource": {"resourceType": "Encounter", "id": "e"}}
        ]});
        let (resources, errors) = run(bundle);
        assert!(errors.is_empty());
        assert_eq!(resources.len(), 2);
        assert_eq!(resources[0].origin.pointer, "/entry/0/resource");
        assert_eq!(resources[0].full_url.as_deref(), Some("urn:uuid:1"));
        assert_eq!(resources[1].origin.pointer, "/entry/2/resource");
        assert_eq!(resources[1].full_url, None);
    }

    #[test]
    fn nested_bundles_are_unpacked() {
        let bundle = json!({"resourceType": "Bundle", "type": "batch-response", "entry": [
            {"resource": {"resourceType": "Bundle", "type": "searchset", "entry": [
                {"resource": {"resourceType": "Claim", "id": "c"}},
                {"search": {"mode": "outcome"}, "resource": {"resourceType": "OperationOutcome"}}
            ]}}
        ]});
        let (resources, errors) = run(bundle);
        assert!(errors.is_empty());
        assert_eq!(resources.len(), 1);
        assert_eq!(
            resources[0].origin.pointer,
            "/entry/0/resource/entry/0/resource"
        );
    }

    #[test]
    fn entry_without_resource_type_is_located() {
        let bundle = json!({"resourceType": "Bundle", "entry": [{"resource": {"id": "x"}}]});
        let (_, errors) = run(bundle);
        assert_eq!(errors[0].origin.pointer, "/entry/0/resource/resourceType");
    }

    #[test]
    fn single_stu3_resource_is_rejected_with_reasons() {
        let resource = json!({"resourceType": "ExplanationOfBenefit", "id": "EB3500", "organization": {}, "totalCost": {}});
        let (resources, errors) = run(resource);
        assert!(resources.is_empty());
        assert_eq!(errors[0].kind, InputErrorKind::FhirVersion);
        assert!(errors[0]
            .message
            .starts_with("ExplanationOfBenefit/EB3500 is FHIR STU3 (3.0), not R4: "));
        assert!(errors[0].help.as_deref().unwrap().contains("FHIR R4"));
    }

    #[test]
    fn one_stu3_entry_rejects_the_bundle() {
        let bundle = json!({"resourceType": "Bundle", "entry": [
            {"resource": {"resourceType": "Patient", "id": "p"}},
            {"resource": {"resourceType": "Condition", "id": "c", "clinicalStatus": "active", "assertedDate": "2017"}}
        ]});
        let (resources, errors) = run(bundle);
        assert!(resources.is_empty());
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].origin.pointer, "/entry/1/resource");
        assert!(errors[0]
            .message
            .contains("Condition/c at /entry/1/resource"));
    }
}
