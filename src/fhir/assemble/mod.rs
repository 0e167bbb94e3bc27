//! Grouping resources per Encounter and assembling canonical records.
//!
//! Linking runs once over all resources and files each one under the
//! Encounter (or the patient) it names, so building a record only reads
//! its own resources. A resource that names an Encounter belongs to that
//! encounter alone. A note or event that names no encounter belongs to
//! each of the patient's encounters on the date it was written or sent.

mod claim;
mod clinical;
mod events;
mod notes;
mod people;
mod record;
mod time_log;

use std::collections::HashMap;

use serde_json::{Map, Value};

use self::claim::map_claim;
use self::people::{actor, patient_details};
use self::record::{RecordBuilder, Source};
use super::index::{describe_reference, reference_id, Index, Res};
use super::mapping::FhirMapping;
use super::values::{
    codings, codings_at, concept_label, date_part, date_time_or_period_start, items,
    reference_text, text,
};
use super::{FhirOutput, FhirResource};
use crate::input::{InputError, InputErrorKind};
use crate::record::{Origin, Record, RecordSchema, SourceFormat};

/// A patient as a linking key: `#<position>` for a Patient in the export,
/// else the reference as written.
type PatientKey = String;

/// Resources filed under the Encounter, Claim or patient they belong to.
/// Keys and values are positions in the index.
#[derive(Debug, Default)]
pub(crate) struct Links {
    /// Encounter → Claims that name it.
    pub claims: HashMap<usize, Vec<usize>>,
    /// Encounter → ExplanationOfBenefits whose items name it.
    pub eobs_by_encounter: HashMap<usize, Vec<usize>>,
    /// Claim → ExplanationOfBenefits and ClaimResponses about it.
    pub adjudications: HashMap<usize, Vec<usize>>,
    /// Encounter → notes, events, Conditions and CarePlans that name it.
    pub by_encounter: HashMap<usize, Vec<usize>>,
    /// (Patient, date written) → notes and events that name no encounter.
    pub unlinked_by_patient_day: HashMap<(PatientKey, String), Vec<usize>>,
    /// Patient → Consents, problem-list Conditions and CarePlans.
    pub by_patient: HashMap<PatientKey, Vec<usize>>,
    /// Resource → Provenance resources that target it.
    pub provenance: HashMap<usize, Vec<usize>>,
}

/// Shared inputs of every mapping step.
pub(crate) struct Ctx<'r> {
    pub index: &'r Index<'r>,
    pub mapping: &'r FhirMapping,
    pub links: &'r Links,
}

impl Ctx<'_> {
    /// Returns the source of a record part: the resource's key and origin.
    pub(crate) fn source(&self, res: Res<'_>) -> Source {
        Source {
            key: self.index.key(res),
            origin: self.index.origin(res),
        }
    }
}

/// Maps sorted, collected resources into records.
pub(crate) fn map(
    resources: &[FhirResource],
    mapping: &FhirMapping,
    schema: &RecordSchema,
) -> FhirOutput {
    let index = Index::new(resources);
    let mut output = FhirOutput::default();
    report_duplicates(&index, resources, &mut output.warnings);

    let links = link(&index);
    let ctx = Ctx {
        index: &index,
        mapping,
        links: &links,
    };
    for position in 0..index.len() {
        let encounter = index.top(position);
        if !encounter.is("Encounter") || index.duplicate_of(position).is_some() {
            continue;
        }
        match build_record(&ctx, encounter, schema) {
            Built::Record(record, warnings) => {
                output.records.push(record);
                output.warnings.extend(warnings);
            }
            Built::Skipped(warning) => output.warnings.push(warning),
            Built::Failed(error, warnings) => {
                output.errors.push(error);
                output.warnings.extend(warnings);
            }
        }
    }
    output
}

fn report_duplicates(
    index: &Index<'_>,
    resources: &[FhirResource],
    warnings: &mut Vec<InputError>,
) {
    for (position, resource) in resources.iter().enumerate() {
        let Some(first) = index.duplicate_of(position) else {
            continue;
        };
        let kept = &resources[first].origin;
        warnings.push(
            InputError::new(
                InputErrorKind::FhirMapping,
                resource.origin.clone(),
                format!(
                    "{} appears more than once; the first copy, in {}, is used and this one is ignored",
                    index.key(index.top(position)),
                    describe_origin(kept)
                ),
            )
            .with_help("export each resource once, or remove the older copy"),
        );
    }
}

/// Returns `file`, `file line N` or `file at /pointer`, for messages.
fn describe_origin(origin: &Origin) -> String {
    let mut text = origin.file.to_string();
    if let Some(line) = origin.line {
        text.push_str(&format!(" line {line}"));
    }
    if !origin.pointer.is_empty() {
        text.push_str(&format!(" at {}", origin.pointer));
    }
    text
}

/// Files every resource under what it names.
fn link(index: &Index<'_>) -> Links {
    let mut links = Links::default();
    for position in 0..index.len() {
        if index.duplicate_of(position).is_some() {
            continue;
        }
        let res = index.top(position);
        let value = res.value;
        match res.resource_type() {
            "Claim" => {
                let references = items(value, "item")
                    .flat_map(|item| items(item, "encounter"))
                    .chain(
                        items(value, "supportingInfo")
                            .filter_map(|info| info.get("valueReference")),
                    );
                for encounter in named_encounters(index, res, references) {
                    file(&mut links.claims, encounter, position);
                }
            }
            "ExplanationOfBenefit" | "ClaimResponse" => link_adjudication(index, res, &mut links),
            "DocumentReference" => {
                let references = value
                    .get("context")
                    .into_iter()
                    .flat_map(|c| items(c, "encounter"));
                link_note_or_event(index, res, references.collect(), &mut links);
            }
            "Procedure" | "Communication" => {
                link_note_or_event(
                    index,
                    res,
                    value.get("encounter").into_iter().collect(),
                    &mut links,
                );
            }
            "AuditEvent" => link_audit_event(index, res, &mut links),
            "Condition" | "CarePlan" => {
                let references = value.get("encounter").into_iter();
                for encounter in named_encounters(index, res, references) {
                    file(&mut links.by_encounter, encounter, position);
                }
                // Only problem-list Conditions can apply to other visits.
                let patient_level = res.is("CarePlan") || clinical::is_problem_list_item(value);
                let patient = value
                    .get("subject")
                    .and_then(|s| patient_key(index, res, s));
                if let (true, Some(patient)) = (patient_level, patient) {
                    file(&mut links.by_patient, patient, position);
                }
            }
            "Consent" => {
                if let Some(patient) = value
                    .get("patient")
                    .and_then(|s| patient_key(index, res, s))
                {
                    file(&mut links.by_patient, patient, position);
                }
            }
            "Provenance" => {
                for target in items(value, "target").filter_map(|t| index.resolve(res, t)) {
                    file(&mut links.provenance, target.top, position);
                }
            }
            _ => {}
        }
    }
    links
}

/// Files an ExplanationOfBenefit or ClaimResponse under its Claim. An EOB
/// whose Claim is not in the export is filed under the encounters its
/// items name, so that it can stand in for the Claim.
fn link_adjudication(index: &Index<'_>, res: Res<'_>, links: &mut Links) {
    let claim_key = if res.is("ClaimResponse") {
        "request"
    } else {
        "claim"
    };
    let claim = res
        .value
        .get(claim_key)
        .and_then(|r| index.resolve(res, r))
        .filter(|t| t.is("Claim"));
    if let Some(claim) = claim {
        file(&mut links.adjudications, claim.top, res.top);
        return;
    }
    if res.is("ExplanationOfBenefit") {
        let references = items(res.value, "item").flat_map(|item| items(item, "encounter"));
        for encounter in named_encounters(index, res, references) {
            file(&mut links.eobs_by_encounter, encounter, res.top);
        }
    }
}

/// Files an AuditEvent under the encounters its entities name, or, when
/// they name none, under the patient an entity or agent names.
fn link_audit_event(index: &Index<'_>, res: Res<'_>, links: &mut Links) {
    let whats: Vec<&Value> = items(res.value, "entity")
        .filter_map(|e| e.get("what"))
        .collect();
    let named = named_encounters(index, res, whats.iter().copied());
    if named.is_empty() {
        let agents = items(res.value, "agent").filter_map(|a| a.get("who"));
        let patient = whats
            .iter()
            .copied()
            .chain(agents)
            .find_map(|r| patient_key(index, res, r));
        if let (Some(patient), Some(day)) = (patient, written_on(&res)) {
            file(&mut links.unlinked_by_patient_day, (patient, day), res.top);
        }
    }
    for encounter in named {
        file(&mut links.by_encounter, encounter, res.top);
    }
}

/// Files a note or event under the encounters it names, or, when it names
/// none, under its patient (`subject`).
fn link_note_or_event(index: &Index<'_>, res: Res<'_>, references: Vec<&Value>, links: &mut Links) {
    if references.is_empty() {
        let patient = res
            .value
            .get("subject")
            .and_then(|s| patient_key(index, res, s));
        if let (Some(patient), Some(day)) = (patient, written_on(&res)) {
            file(&mut links.unlinked_by_patient_day, (patient, day), res.top);
        }
        return;
    }
    for encounter in named_encounters(index, res, references.into_iter()) {
        file(&mut links.by_encounter, encounter, res.top);
    }
}

/// Returns the positions of the top-level Encounters that `references`
/// (read from `res`) resolve to.
fn named_encounters<'v>(
    index: &Index<'_>,
    res: Res<'_>,
    references: impl Iterator<Item = &'v Value>,
) -> Vec<usize> {
    let mut found: Vec<usize> = references
        .filter_map(|r| index.resolve(res, r))
        .filter(|target| target.is("Encounter") && target.contained.is_none())
        .map(|target| target.top)
        .collect();
    found.sort_unstable();
    found.dedup();
    found
}

/// Adds `position` to the list under `key`, once.
fn file<K: std::hash::Hash + Eq>(map: &mut HashMap<K, Vec<usize>>, key: K, position: usize) {
    let list = map.entry(key).or_default();
    if list.last() != Some(&position) {
        list.push(position);
    }
}

/// Returns the linking key of a Patient reference.
fn patient_key(index: &Index<'_>, from: Res<'_>, reference: &Value) -> Option<PatientKey> {
    match index.resolve(from, reference) {
        Some(target) if target.is("Patient") => Some(format!("#{}", target.top)),
        Some(_) => None,
        None => {
            let written = reference_text(reference)?;
            written
                .starts_with("Patient")
                .then(|| written.to_string())
                .or_else(|| {
                    (written.starts_with("urn:") || written.contains("/Patient/"))
                        .then(|| written.to_string())
                })
        }
    }
}

enum Built {
    Record(Record, Vec<InputError>),
    Skipped(InputError),
    Failed(InputError, Vec<InputError>),
}

fn build_record(ctx: &Ctx<'_>, encounter: Res<'_>, schema: &RecordSchema) -> Built {
    let origin = ctx.index.origin(encounter);
    let Some(id) = encounter.id() else {
        return Built::Failed(
            InputError::new(
                InputErrorKind::FhirMapping,
                origin,
                "an Encounter has no id, so it cannot become a record",
            )
            .with_help("export every Encounter with its id"),
            Vec::new(),
        );
    };
    if text(encounter.value, "status") == Some("entered-in-error") {
        return Built::Skipped(
            InputError::new(
                InputErrorKind::FhirMapping,
                origin,
                format!("Encounter/{id} is entered-in-error, so no record was made for it"),
            )
            .with_help("remove the encounter from the export, or correct its status"),
        );
    }
    let mut builder = RecordBuilder::new(id);

    let Some(patient_key) = map_patient(ctx, encounter, &mut builder) else {
        return Built::Failed(
            InputError::new(
                InputErrorKind::FhirMapping,
                origin.child("/subject"),
                format!("Encounter/{id} has no subject, so the record has no patient"),
            )
            .with_help("export the Encounter with `subject` referring to its Patient"),
            builder.warnings,
        );
    };
    let Some(date_of_service) = date_of_service(ctx, encounter) else {
        return Built::Failed(
            InputError::new(
                InputErrorKind::FhirMapping,
                origin.child("/period"),
                format!("Encounter/{id} has no date of service: period.start is missing or not a date, and no claim gives one"),
            )
            .with_help("export Encounter.period.start as a FHIR dateTime"),
            builder.warnings,
        );
    };
    map_encounter(ctx, encounter, &date_of_service, &mut builder);

    let claim = map_claim(ctx, encounter, &mut builder);
    if claim.is_none() {
        map_coded_services(ctx, encounter, &date_of_service, &mut builder);
    }
    let related = Related::gather(ctx, encounter, &patient_key, &date_of_service);
    map_clinical(ctx, &related, claim, &date_of_service, &mut builder);
    time_log::map_time_log(ctx, &related.linked_of("Procedure"), &mut builder);
    map_evidence(ctx, &related, &mut builder);

    match builder.finish(schema, &origin) {
        Ok(finished) => Built::Record(
            Record {
                id: id.to_string(),
                value: finished.value,
                format: SourceFormat::FhirR4,
                origin,
                provenance: finished.provenance,
            },
            finished.warnings,
        ),
        Err(error) => Built::Failed(*error, Vec::new()),
    }
}

/// The resources a record reads besides the Encounter and its claim.
struct Related<'r> {
    /// Resources that name the encounter.
    linked: Vec<Res<'r>>,
    /// The patient's Consents, Conditions and CarePlans.
    patient_level: Vec<Res<'r>>,
    /// The patient's notes and events that name no encounter and were
    /// written on the date of service.
    same_day: Vec<Res<'r>>,
}

impl<'r> Related<'r> {
    fn gather(
        ctx: &Ctx<'r>,
        encounter: Res<'r>,
        patient: &PatientKey,
        date_of_service: &str,
    ) -> Related<'r> {
        let resolve = |positions: Option<&Vec<usize>>| -> Vec<Res<'r>> {
            positions
                .into_iter()
                .flatten()
                .map(|&p| ctx.index.top(p))
                .collect()
        };
        let day = (patient.clone(), date_of_service.to_string());
        Related {
            linked: resolve(ctx.links.by_encounter.get(&encounter.top)),
            patient_level: resolve(ctx.links.by_patient.get(patient)),
            same_day: resolve(ctx.links.unlinked_by_patient_day.get(&day)),
        }
    }

    fn linked_of(&self, resource_type: &str) -> Vec<Res<'r>> {
        self.linked
            .iter()
            .copied()
            .filter(|r| r.is(resource_type))
            .collect()
    }

    fn patient_level_of(&self, resource_type: &str) -> Vec<Res<'r>> {
        self.patient_level
            .iter()
            .copied()
            .filter(|r| r.is(resource_type))
            .collect()
    }
}

/// Maps diagnoses, the CCM consent and the care plan.
fn map_clinical(
    ctx: &Ctx<'_>,
    related: &Related<'_>,
    claim: Option<Res<'_>>,
    date_of_service: &str,
    builder: &mut RecordBuilder,
) {
    let mut conditions = related.linked_of("Condition");
    let active_problems = related
        .patient_level_of("Condition")
        .into_iter()
        .filter(|c| clinical::is_active_problem(c.value, date_of_service));
    let claimed = claim.into_iter().flat_map(|claim| {
        items(claim.value, "diagnosis")
            .filter_map(|d| d.get("diagnosisReference"))
            .filter_map(move |r| ctx.index.resolve(claim, r))
            .filter(|target| target.is("Condition"))
    });
    for condition in active_problems.chain(claimed) {
        if !conditions.iter().any(|c| c.same(&condition)) {
            conditions.push(condition);
        }
    }
    clinical::map_diagnoses(ctx, &conditions, claim, builder);
    clinical::map_consent(
        ctx,
        &related.patient_level_of("Consent"),
        date_of_service,
        builder,
    );
    clinical::map_care_plan(
        ctx,
        &related.linked_of("CarePlan"),
        &related.patient_level_of("CarePlan"),
        date_of_service,
        builder,
    );
}

/// Maps notes and audit-trail events, and derives the portal object from
/// the events. Notes marked entered-in-error were retracted by their source
/// and are not mapped.
fn map_evidence(ctx: &Ctx<'_>, related: &Related<'_>, builder: &mut RecordBuilder) {
    let mut events = Vec::new();
    for res in related.linked.iter().chain(&related.same_day) {
        if res.is("DocumentReference") {
            if text(res.value, "status") != Some("entered-in-error") {
                notes::map_note(ctx, *res, builder);
            }
        } else if let Some(event) = events::read_event(ctx, *res, builder) {
            builder.push(
                "audit_trail",
                Value::Object(event.value.clone()),
                &event.source,
            );
            events.push(event);
        }
    }
    let Some((portal, sources)) = events::portal(&events) else {
        return;
    };
    let mut sources = sources.into_iter();
    if let Some((_, source)) = sources.next() {
        builder.set("portal", portal, &source);
    }
    for (pointer, source) in sources {
        builder.trace(pointer, &source);
    }
}

/// Returns the date a note or event was written, sent, recorded or performed.
fn written_on(res: &Res<'_>) -> Option<String> {
    let value = res.value;
    let written = match res.resource_type() {
        "DocumentReference" => text(value, "date").or_else(|| {
            value
                .get("context")
                .and_then(|c| c.get("period"))
                .and_then(|p| text(p, "start"))
        }),
        "Communication" => text(value, "sent"),
        "AuditEvent" => text(value, "recorded"),
        "Procedure" => date_time_or_period_start(value, "performed"),
        _ => None,
    };
    written.and_then(date_part)
}

/// Sets the record's patient from the Encounter's subject. Returns the
/// patient's linking key, or `None` when the Encounter names no subject.
fn map_patient(
    ctx: &Ctx<'_>,
    encounter: Res<'_>,
    builder: &mut RecordBuilder,
) -> Option<PatientKey> {
    let subject = encounter.value.get("subject")?;
    let key = patient_key(ctx.index, encounter, subject);
    match ctx.index.resolve(encounter, subject) {
        Some(patient) if patient.is("Patient") => {
            let mut map = Map::new();
            map.insert(
                "id".to_string(),
                Value::String(patient.id().unwrap_or_default().to_string()),
            );
            map.extend(patient_details(ctx, patient.value));
            builder.set("patient", Value::Object(map), &ctx.source(patient));
            Some(key.unwrap_or_default())
        }
        Some(other) => {
            let mut map = Map::new();
            map.insert(
                "id".to_string(),
                Value::String(other.id().unwrap_or_default().to_string()),
            );
            builder.set("patient", Value::Object(map), &ctx.source(encounter));
            builder.warn(
                ctx.index.origin(encounter).child("/subject"),
                format!(
                    "record {}: the subject {} is a {}, not a Patient, so the record has only its id",
                    builder.id,
                    ctx.index.key(other),
                    other.resource_type()
                ),
                "export the Encounter with `subject` referring to its Patient",
            );
            Some(key.unwrap_or_default())
        }
        None => {
            let mut map = Map::new();
            map.insert("id".to_string(), Value::String(reference_id(subject)?));
            builder.set("patient", Value::Object(map), &ctx.source(encounter));
            builder.warn(
                ctx.index.origin(encounter).child("/subject"),
                format!(
                    "record {}: the patient {} is not in this export, so the record has only the patient id",
                    builder.id,
                    describe_reference(subject)
                ),
                "include the Patient resources in the export (for Bulk FHIR, the Patient NDJSON file)",
            );
            Some(key.unwrap_or_default())
        }
    }
}

/// Returns the date of service: the Encounter's period start (else end), else the
/// billed period or first service date of a claim naming the encounter.
fn date_of_service(ctx: &Ctx<'_>, encounter: Res<'_>) -> Option<String> {
    let period = encounter.value.get("period");
    let from_encounter = period
        .and_then(|p| text(p, "start"))
        .and_then(date_part)
        .or_else(|| period.and_then(|p| text(p, "end")).and_then(date_part));
    if from_encounter.is_some() {
        return from_encounter;
    }
    let claims = ctx.links.claims.get(&encounter.top).into_iter().flatten();
    claims.map(|&p| ctx.index.top(p).value).find_map(|claim| {
        claim
            .get("billablePeriod")
            .and_then(|p| text(p, "start"))
            .or_else(|| items(claim, "item").find_map(|i| text(i, "servicedDate")))
            .and_then(date_part)
    })
}

fn map_encounter(
    ctx: &Ctx<'_>,
    encounter: Res<'_>,
    date_of_service: &str,
    builder: &mut RecordBuilder,
) {
    let mut map = Map::new();
    map.insert(
        "id".to_string(),
        Value::String(encounter.id().unwrap_or_default().to_string()),
    );
    map.insert(
        "date_of_service".to_string(),
        Value::String(date_of_service.to_string()),
    );
    if let Some(kind) = items(encounter.value, "type").find_map(concept_label) {
        map.insert("type".to_string(), Value::String(kind));
    }
    let source = ctx.source(encounter);

    let mut traces = Vec::new();
    if let Some(participant) = rendering_participant(encounter.value) {
        let found = actor(ctx, encounter, participant);
        if let Some(npi) = found.npi {
            map.insert("rendering_npi".to_string(), Value::String(npi));
            if let Some(target) = ctx.index.resolve(encounter, participant) {
                traces.push(("/encounter/rendering_npi", ctx.source(target)));
            }
        }
    }
    if let Some(provider) = encounter.value.get("serviceProvider") {
        let organization = ctx.index.resolve(encounter, provider);
        let mut practice = Map::new();
        let found = actor(ctx, encounter, provider);
        if let Some(name) = found.name {
            practice.insert("name".to_string(), Value::String(name));
        }
        if let Some(npi) = found.npi {
            practice.insert("npi".to_string(), Value::String(npi));
        }
        let tax_id = organization.and_then(|o| {
            items(o.value, "identifier")
                .find(|i| {
                    text(i, "system")
                        .is_some_and(|s| ctx.mapping.code_systems.tax_id.iter().any(|t| t == s))
                })
                .and_then(|i| text(i, "value"))
        });
        if let Some(tax_id) = tax_id {
            practice.insert("tax_id".to_string(), Value::String(tax_id.to_string()));
        }
        if !practice.is_empty() {
            map.insert("practice".to_string(), Value::Object(practice));
            if let Some(organization) = organization {
                traces.push(("/encounter/practice", ctx.source(organization)));
            }
        }
    }
    builder.set("encounter", Value::Object(map), &source);
    for (pointer, source) in traces {
        builder.trace(pointer.to_string(), &source);
    }
}

/// Returns the participant who rendered the service: the primary performer, else
/// the attender, else the first participant naming an individual.
fn rendering_participant(encounter: &Value) -> Option<&Value> {
    let participants: Vec<&Value> = items(encounter, "participant")
        .filter(|p| p.get("individual").is_some())
        .collect();
    let with_type = |wanted: &str| {
        participants
            .iter()
            .find(|p| items(p, "type").any(|t| codings(t).iter().any(|c| c.code == Some(wanted))))
            .copied()
    };
    with_type("PPRF")
        .or_else(|| with_type("ATND"))
        .or_else(|| participants.first().copied())
        .and_then(|p| p.get("individual"))
}

/// Service lines from CPT or HCPCS codes on the Encounter's type and on
/// its Procedures, used when no claim is in the export.
fn map_coded_services(
    ctx: &Ctx<'_>,
    encounter: Res<'_>,
    date_of_service: &str,
    builder: &mut RecordBuilder,
) {
    let mut seen: Vec<String> = Vec::new();
    let mut add = |code: &str, date: String, source: &Source, builder: &mut RecordBuilder| {
        if seen.iter().any(|c| c == code) {
            return;
        }
        seen.push(code.to_string());
        let mut line = Map::new();
        line.insert("code".to_string(), Value::String(code.to_string()));
        line.insert("date".to_string(), Value::String(date));
        builder.push("service_lines", Value::Object(line), source);
    };
    let encounter_source = ctx.source(encounter);
    for coding in items(encounter.value, "type").flat_map(codings) {
        if let Some(code) = coding
            .code
            .filter(|_| ctx.mapping.code_systems.is_procedure_code(coding.system))
        {
            add(
                code,
                date_of_service.to_string(),
                &encounter_source,
                builder,
            );
        }
    }
    let procedures = ctx
        .links
        .by_encounter
        .get(&encounter.top)
        .into_iter()
        .flatten()
        .map(|&p| ctx.index.top(p));
    for procedure in
        procedures.filter(|p| p.is("Procedure") && text(p.value, "status") == Some("completed"))
    {
        let date = date_time_or_period_start(procedure.value, "performed")
            .and_then(date_part)
            .unwrap_or_else(|| date_of_service.to_string());
        for coding in codings_at(procedure.value, "code") {
            if let Some(code) = coding
                .code
                .filter(|_| ctx.mapping.code_systems.is_procedure_code(coding.system))
            {
                add(code, date.clone(), &ctx.source(procedure), builder);
            }
        }
    }
}
