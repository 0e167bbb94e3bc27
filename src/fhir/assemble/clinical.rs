//! Diagnoses, the CCM consent and the care plan.
//!
//! Diagnoses are the Conditions that name the encounter, the patient's
//! problem-list Conditions active on the date of service, and the claim's
//! diagnoses (coded, or referring to a Condition). FHIR has no chronic
//! flag, so a diagnosis is marked chronic only when the mapping's
//! `chronic_conditions` lists its code or category.
//!
//! Consent and care plan belong to the patient, not to one visit. The CCM
//! consent is the patient's active Consent in a CCM category given last on
//! or before the date of service. When none was given by then, it is the
//! earliest one given after, so that a late consent shows as late. The
//! care plan is a CarePlan that names the encounter, else the patient's
//! active or completed plan whose period covers the date of service.
//!
//! FHIR R4 has no element for a consent's method and disclosures or for a
//! care plan's reviews and revisions. They come from the extensions the
//! mapping names on the Consent and the CarePlan.

use serde_json::{Map, Value};

use super::claim::date_value;
use super::people::actor;
use super::record::RecordBuilder;
use super::Ctx;
use crate::fhir::index::Res;
use crate::fhir::values::{
    codings, codings_at, date_part, date_time_or_period_start, items, text, Coding,
};

/// Code systems written by name in the record.
const SYSTEM_NAMES: &[(&str, &str)] = &[
    ("http://hl7.org/fhir/sid/icd-10-cm", "ICD-10-CM"),
    ("http://hl7.org/fhir/sid/icd-10", "ICD-10"),
    ("http://hl7.org/fhir/sid/icd-9-cm", "ICD-9-CM"),
    ("http://snomed.info/sct", "SNOMED CT"),
];

/// Adds the diagnoses of `conditions` and of the claim to the record,
/// without repeating a (system, code) pair.
pub(crate) fn map_diagnoses(
    ctx: &Ctx<'_>,
    conditions: &[Res<'_>],
    claim: Option<Res<'_>>,
    builder: &mut RecordBuilder,
) {
    let mut seen: Vec<(Option<String>, String)> = Vec::new();
    for condition in conditions {
        if matches!(
            status_code(condition.value, "verificationStatus"),
            Some("entered-in-error" | "refuted")
        ) {
            continue;
        }
        let Some(mut diagnosis) =
            diagnosis(ctx, condition.value.get("code"), Some(condition.value))
        else {
            continue;
        };
        if let Some(onset) = date_time_or_period_start(condition.value, "onset") {
            diagnosis.insert("onset".to_string(), date_value(onset));
        }
        if remember(&mut seen, &diagnosis) {
            builder.push(
                "diagnoses",
                Value::Object(diagnosis),
                &ctx.source(*condition),
            );
        }
    }
    let Some(claim) = claim else {
        return;
    };
    for entry in items(claim.value, "diagnosis") {
        let Some(diagnosis) = diagnosis(ctx, entry.get("diagnosisCodeableConcept"), None) else {
            continue;
        };
        if remember(&mut seen, &diagnosis) {
            builder.push("diagnoses", Value::Object(diagnosis), &ctx.source(claim));
        }
    }
}

/// Records a diagnosis's (system, code). Returns false when already seen.
fn remember(seen: &mut Vec<(Option<String>, String)>, diagnosis: &Map<String, Value>) -> bool {
    let key = (
        diagnosis
            .get("system")
            .and_then(Value::as_str)
            .map(str::to_string),
        diagnosis
            .get("code")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
    );
    if seen.contains(&key) {
        return false;
    }
    seen.push(key);
    true
}

/// Builds a diagnosis from a code (ICD-10-CM preferred, then ICD-10, then SNOMED
/// CT, then the first coding), with its description and chronic flag.
fn diagnosis(
    ctx: &Ctx<'_>,
    code: Option<&Value>,
    condition: Option<&Value>,
) -> Option<Map<String, Value>> {
    let code = code?;
    let codings: Vec<Coding<'_>> = codings(code)
        .into_iter()
        .filter(|c| c.code.is_some())
        .collect();
    let chosen = SYSTEM_NAMES
        .iter()
        .find_map(|(system, _)| codings.iter().find(|c| c.system == Some(*system)))
        .or_else(|| codings.first())?;

    let mut map = Map::new();
    map.insert("code".to_string(), Value::String(chosen.code?.to_string()));
    if let Some(system) = chosen.system {
        let name = SYSTEM_NAMES
            .iter()
            .find(|(uri, _)| *uri == system)
            .map_or(system, |(_, name)| name);
        map.insert("system".to_string(), Value::String(name.to_string()));
    }
    if let Some(description) = text(code, "text").or(chosen.display) {
        map.insert(
            "description".to_string(),
            Value::String(description.to_string()),
        );
    }
    let category = condition
        .map(|c| codings_at(c, "category"))
        .unwrap_or_default();
    let chronic = codings.iter().chain(&category).any(|c| {
        ctx.mapping
            .chronic_conditions
            .iter()
            .any(|m| m.matches(c.system, c.code))
    });
    if chronic {
        map.insert("chronic".to_string(), Value::Bool(true));
    }
    Some(map)
}

/// True for a Condition in the `problem-list-item` category.
pub(crate) fn is_problem_list_item(condition: &Value) -> bool {
    codings_at(condition, "category")
        .iter()
        .any(|c| c.code == Some("problem-list-item"))
}

/// True for a problem-list Condition active on `date_of_service`.
pub(crate) fn is_active_problem(condition: &Value, date_of_service: &str) -> bool {
    if !is_problem_list_item(condition) {
        return false;
    }
    if let Some(status) = status_code(condition, "clinicalStatus") {
        if !matches!(status, "active" | "recurrence" | "relapse") {
            return false;
        }
    }
    let onset = date_time_or_period_start(condition, "onset").and_then(date_part);
    let abatement = date_time_or_period_start(condition, "abatement").and_then(date_part);
    onset.is_none_or(|d| d.as_str() <= date_of_service)
        && abatement.is_none_or(|d| d.as_str() >= date_of_service)
}

fn status_code<'v>(resource: &'v Value, key: &str) -> Option<&'v str> {
    codings_at(resource, key).into_iter().find_map(|c| c.code)
}

/// Picks the CCM consent among the patient's Consents.
pub(crate) fn map_consent(
    ctx: &Ctx<'_>,
    consents: &[Res<'_>],
    date_of_service: &str,
    builder: &mut RecordBuilder,
) {
    let mut ccm: Vec<(Option<String>, Res<'_>)> = consents
        .iter()
        .filter(|c| text(c.value, "status") == Some("active"))
        .filter(|c| {
            codings_at(c.value, "category").iter().any(|coding| {
                ctx.mapping
                    .ccm_consent_categories
                    .iter()
                    .any(|m| m.matches(coding.system, coding.code))
            })
        })
        .map(|c| (text(c.value, "dateTime").and_then(date_part), *c))
        .collect();
    ccm.sort_by(|a, b| a.0.cmp(&b.0));
    let before = ccm
        .iter()
        .rev()
        .find(|(date, _)| date.as_deref().is_some_and(|d| d <= date_of_service));
    let chosen = before
        .or_else(|| ccm.iter().find(|(date, _)| date.is_some()))
        .or_else(|| ccm.first());
    let Some((_, consent)) = chosen else {
        return;
    };

    let mut map = Map::new();
    if let Some(id) = consent.id() {
        map.insert("id".to_string(), Value::String(id.to_string()));
    }
    if let Some(obtained) = text(consent.value, "dateTime") {
        map.insert(
            "obtained_at".to_string(),
            Value::String(obtained.to_string()),
        );
    }
    if let Some(method) =
        extension_values(consent.value, &ctx.mapping.consent_method_extension).next()
    {
        map.insert("method".to_string(), Value::String(method.to_string()));
    }
    let mut disclosures = Map::new();
    for code in extension_values(consent.value, &ctx.mapping.consent_disclosure_extension) {
        let key = match code {
            "cost-sharing" => "cost_sharing",
            "one-practitioner-per-month" => "one_practitioner_per_month",
            "right-to-stop" => "right_to_stop",
            other => {
                builder.warn(
                    ctx.index.origin(*consent),
                    format!(
                        "record {}: {} names the disclosure `{other}`, which claimlint does not know, so it was left out",
                        builder.id,
                        ctx.index.key(*consent)
                    ),
                    "write the disclosure as cost-sharing, one-practitioner-per-month or right-to-stop",
                );
                continue;
            }
        };
        disclosures.insert(key.to_string(), Value::Bool(true));
    }
    if !disclosures.is_empty() {
        map.insert("disclosures".to_string(), Value::Object(disclosures));
    }
    builder.set("ccm_consent", Value::Object(map), &ctx.source(*consent));
}

/// Returns the values of every extension at `url`, as text.
fn extension_values<'v>(resource: &'v Value, url: &'v str) -> impl Iterator<Item = &'v str> {
    items(resource, "extension")
        .filter(move |e| text(e, "url") == Some(url))
        .filter_map(|e| {
            ["valueCode", "valueDateTime", "valueString", "valueInstant"]
                .iter()
                .find_map(|key| text(e, key))
        })
}

/// Returns the latest dated extension at `url` on or before the date of
/// service, else the earliest one after it.
fn dated_extension<'v>(
    resource: &'v Value,
    url: &'v str,
    date_of_service: &str,
) -> Option<&'v str> {
    let mut dated: Vec<(String, &str)> = extension_values(resource, url)
        .map(|value| (date_part(value).unwrap_or_default(), value))
        .collect();
    dated.sort();
    dated
        .iter()
        .rev()
        .find(|(date, _)| !date.is_empty() && date.as_str() <= date_of_service)
        .or_else(|| dated.first())
        .map(|(_, value)| *value)
}

/// Picks the care plan: one naming the encounter, else the patient's plan
/// in effect on the date of service (the most recently created).
pub(crate) fn map_care_plan(
    ctx: &Ctx<'_>,
    by_encounter: &[Res<'_>],
    by_patient: &[Res<'_>],
    date_of_service: &str,
    builder: &mut RecordBuilder,
) {
    let in_effect = |plan: &&Res<'_>| {
        if !matches!(text(plan.value, "status"), Some("active" | "completed")) {
            return false;
        }
        let period = plan.value.get("period");
        let start = period.and_then(|p| text(p, "start")).and_then(date_part);
        let end = period.and_then(|p| text(p, "end")).and_then(date_part);
        start.is_none_or(|s| s.as_str() <= date_of_service)
            && end.is_none_or(|e| e.as_str() >= date_of_service)
    };
    let chosen = by_encounter
        .iter()
        .find(|p| text(p.value, "status") != Some("entered-in-error"))
        .or_else(|| {
            by_patient
                .iter()
                .filter(in_effect)
                .max_by(|a, b| text(a.value, "created").cmp(&text(b.value, "created")))
        });
    let Some(plan) = chosen else {
        return;
    };

    let mut map = Map::new();
    if let Some(id) = plan.id() {
        map.insert("id".to_string(), Value::String(id.to_string()));
    }
    if let Some(status) = text(plan.value, "status") {
        map.insert("status".to_string(), Value::String(status.to_string()));
    }
    if let Some(created) = text(plan.value, "created") {
        map.insert(
            "established_at".to_string(),
            Value::String(created.to_string()),
        );
    }
    let extensions = [
        ("revised_at", &ctx.mapping.care_plan_revised_extension),
        ("reviewed_at", &ctx.mapping.care_plan_reviewed_extension),
    ];
    for (key, url) in extensions {
        if let Some(when) = dated_extension(plan.value, url, date_of_service) {
            map.insert(key.to_string(), Value::String(when.to_string()));
        }
    }
    let author = plan
        .value
        .get("author")
        .and_then(|a| actor(ctx, *plan, a).name);
    if let Some(author) = author {
        map.insert("author".to_string(), Value::String(author));
    }
    builder.set("care_plan", Value::Object(map), &ctx.source(*plan));
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn active_problem_covers_the_date() {
        let condition = json!({"category": [{"coding": [{"code": "problem-list-item"}]}],
            "clinicalStatus": {"coding": [{"code": "active"}]}, "onsetDateTime": "2020-01-05"});
        assert!(is_active_problem(&condition, "2024-03-04"));
        assert!(!is_active_problem(&condition, "2019-12-31"));
    }

    #[test]
    fn inactive_problems_are_excluded() {
        let resolved = json!({"category": [{"coding": [{"code": "problem-list-item"}]}],
            "clinicalStatus": {"coding": [{"code": "resolved"}]}});
        assert!(!is_active_problem(&resolved, "2024-03-04"));
        let encounter_diagnosis =
            json!({"category": [{"coding": [{"code": "encounter-diagnosis"}]}]});
        assert!(!is_active_problem(&encounter_diagnosis, "2024-03-04"));
        let abated = json!({"category": [{"coding": [{"code": "problem-list-item"}]}], "abatementDateTime": "2023-01-01"});
        assert!(!is_active_problem(&abated, "2024-03-04"));
    }
}
