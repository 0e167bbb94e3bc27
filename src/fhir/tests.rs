//! Mapping tests over whole resource sets: reference forms, events, notes,
//! claims, schema fitting, version detection on vendored files, and the
//! CCM example Bundle field by field.

use std::sync::Arc;

use serde_json::{json, Value};

use super::*;
use crate::input::InputErrorKind;

const PORTAL: &str = "http://claimlint.dev/fhir/CodeSystem/portal";
const PARTICIPATION_MODE: &str = "http://terminology.hl7.org/CodeSystem/v3-ParticipationMode";

/// Collects each value as one document of file `name` and maps them all.
fn map_documents(documents: Vec<(&str, Value)>) -> FhirOutput {
    map_with(documents, &FhirMapping::builtin())
}

fn map_with(documents: Vec<(&str, Value)>, mapping: &FhirMapping) -> FhirOutput {
    let mut resources = Vec::new();
    let mut errors = Vec::new();
    for (name, value) in documents {
        collect(
            value,
            Origin::new(Arc::from(name), None, ""),
            &mut resources,
            &mut errors,
        );
    }
    assert!(errors.is_empty(), "collect errors: {errors:?}");
    let schema = RecordSchema::new();
    let output = map_records(resources, mapping, &schema);
    for record in &output.records {
        assert!(
            schema.validate(&record.value).is_empty(),
            "record {} is invalid",
            record.id
        );
    }
    output
}

fn bundle(resources: Vec<Value>) -> Value {
    let entry: Vec<Value> = resources
        .into_iter()
        .map(|resource| json!({"resource": resource}))
        .collect();
    json!({"resourceType": "Bundle", "type": "collection", "entry": entry})
}

fn patient() -> Value {
    json!({"resourceType": "Patient", "id": "p1",
        "telecom": [{"system": "email", "value": "pat@example.org"}]})
}

fn encounter() -> Value {
    json!({"resourceType": "Encounter", "id": "e1", "status": "finished",
        "subject": {"reference": "Patient/p1"},
        "period": {"start": "2024-03-12T09:00:00-04:00"}})
}

fn only_record(output: &FhirOutput) -> &Record {
    assert_eq!(output.records.len(), 1, "errors: {:?}", output.errors);
    &output.records[0]
}

fn warning_messages(output: &FhirOutput) -> Vec<&str> {
    output.warnings.iter().map(|w| w.message.as_str()).collect()
}

#[test]
fn references_resolve_in_every_form() {
    let document = json!({"resourceType": "Bundle", "type": "searchset", "entry": [
        {"fullUrl": "https://ehr.example/fhir/Encounter/e1", "resource": {
            "resourceType": "Encounter", "id": "e1", "subject": {"reference": "Patient/p1"},
            "period": {"start": "2024-03-12"},
            "participant": [{"individual": {"reference": "Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|1234567893"}}],
            "serviceProvider": {"reference": "https://ehr.example/fhir/Organization/o1"}}},
        {"fullUrl": "https://ehr.example/fhir/Patient/p1", "resource": {"resourceType": "Patient", "id": "p1", "birthDate": "1950-01-02"}},
        {"fullUrl": "urn:uuid:9c1d", "resource": {"resourceType": "Practitioner", "id": "dr",
            "identifier": [{"system": "http://hl7.org/fhir/sid/us-npi", "value": "1234567893"}], "name": [{"family": "Ode"}]}},
        {"fullUrl": "https://ehr.example/fhir/Organization/o1", "resource": {"resourceType": "Organization", "id": "o1", "name": "Clinic"}},
        {"resource": {"resourceType": "DocumentReference", "id": "d1", "docStatus": "final", "date": "2024-03-12T10:00:00Z",
            "contained": [{"resourceType": "Practitioner", "id": "a1", "name": [{"text": "Contained Author"}]}],
            "author": [{"reference": "#a1"}],
            "context": {"encounter": [{"reference": "urn:uuid:e1-not-a-full-url"}, {"reference": "Encounter/e1"}]}}},
        {"resource": {"resourceType": "Communication", "id": "c1", "status": "completed",
            "category": [{"coding": [{"system": PORTAL, "code": "portal-invitation"}]}],
            "encounter": {"reference": "https://ehr.example/fhir/Encounter/e1"},
            "sender": {"reference": "urn:uuid:9c1d"}}}
    ]});
    let output = map_documents(vec![("b.json", document)]);
    let record = only_record(&output);

    assert_eq!(
        record.value["patient"],
        json!({"id": "p1", "birth_date": "1950-01-02"})
    );
    assert_eq!(record.value["encounter"]["rendering_npi"], "1234567893");
    assert_eq!(record.value["encounter"]["practice"]["name"], "Clinic");
    assert_eq!(
        record.value["notes"][0]["author"]["name"],
        "Contained Author"
    );
    assert_eq!(record.value["audit_trail"][0]["actor"], "Ode");
    assert_eq!(
        record.locate("/encounter/practice").pointer,
        "/entry/3/resource"
    );
    assert_eq!(
        record.source_resource("/notes/0"),
        Some("DocumentReference/d1")
    );
}

#[test]
fn unresolved_patient_is_a_warning_not_an_error() {
    let output = map_documents(vec![("e.json", encounter())]);
    let record = only_record(&output);
    assert_eq!(record.value["patient"], json!({"id": "p1"}));
    assert_eq!(
        warning_messages(&output),
        ["record e1: the patient Patient/p1 is not in this export, so the record has only the patient id"]
    );
    assert_eq!(output.warnings[0].origin.pointer, "/subject");
}

#[test]
fn unresolved_conditional_patient_gives_identifier() {
    let mut encounter = encounter();
    encounter["subject"] =
        json!({"reference": "Patient?identifier=http://hospital.example/mrn|MRN-7"});
    let output = map_documents(vec![("e.json", encounter)]);
    assert_eq!(
        only_record(&output).value["patient"],
        json!({"id": "MRN-7"})
    );
    assert_eq!(
        warning_messages(&output),
        ["record e1: the patient Patient?… (conditional reference) is not in this export, so the record has only the patient id"]
    );
}

#[test]
fn subject_that_is_not_a_patient_is_reported() {
    let mut encounter = encounter();
    encounter["subject"] = json!({"reference": "Group/g1"});
    let group = json!({"resourceType": "Group", "id": "g1", "type": "person", "actual": true});
    let output = map_documents(vec![("a.json", bundle(vec![encounter, group]))]);
    assert_eq!(only_record(&output).value["patient"], json!({"id": "g1"}));
    assert_eq!(
        warning_messages(&output),
        ["record e1: the subject Group/g1 is a Group, not a Patient, so the record has only its id"]
    );
}

#[test]
fn encounter_without_subject_or_date_fails_with_location() {
    let no_subject =
        json!({"resourceType": "Encounter", "id": "e1", "period": {"start": "2024-03-12"}});
    let no_date = json!({"resourceType": "Encounter", "id": "e2", "subject": {"reference": "Patient/p1"},
        "period": {"start": "IGNORED_FIELD"}});
    let output = map_documents(vec![
        ("a.json", no_subject),
        ("b.json", no_date),
        ("p.json", patient()),
    ]);
    assert!(output.records.is_empty());
    assert_eq!(output.errors.len(), 2);
    assert_eq!(
        output.errors[0].message,
        "Encounter/e1 has no subject, so the record has no patient"
    );
    assert_eq!(output.errors[0].origin.pointer, "/subject");
    assert!(output.errors[1]
        .message
        .starts_with("Encounter/e2 has no date of service"));
    assert!(!output.errors[1].message.contains("IGNORED_FIELD"));
}

#[test]
fn entered_in_error_encounter_is_skipped_with_warning() {
    let mut entered = encounter();
    entered["status"] = json!("entered-in-error");
    let output = map_documents(vec![("a.json", bundle(vec![patient(), entered]))]);
    assert!(output.records.is_empty());
    assert_eq!(
        warning_messages(&output),
        ["Encounter/e1 is entered-in-error, so no record was made for it"]
    );
}

#[test]
fn schema_misfits_left_out_with_warnings() {
    let patient = json!({"resourceType": "Patient", "id": "p1", "birthDate": "IGNORED_FIELD"});
    let mut encounter = encounter();
    encounter["participant"] = json!([{"individual": {"reference": "Practitioner/dr"}}]);
    let practitioner = json!({"resourceType": "Practitioner", "id": "dr",
        "identifier": [{"system": "http://hl7.org/fhir/sid/us-npi", "value": "999999999999"}]});
    let output = map_documents(vec![(
        "a.json",
        bundle(vec![patient, encounter, practitioner]),
    )]);
    let record = only_record(&output);

    assert_eq!(record.value["patient"], json!({"id": "p1"}));
    assert!(record.value["encounter"].get("rendering_npi").is_none());
    let messages = warning_messages(&output);
    assert_eq!(messages.len(), 2);
    assert!(messages.iter().any(|m| m
        .starts_with("record e1: the value for /patient/birth_date from Patient/p1 does not fit")));
    assert!(messages.iter().any(|m| m.starts_with(
        "record e1: the value for /encounter/rendering_npi from Practitioner/dr does not fit"
    )));
    assert!(messages
        .iter()
        .all(|m| !m.contains("IGNORED_FIELD") && !m.contains("999999999999")));
    let npi_warning = output
        .warnings
        .iter()
        .find(|w| w.message.contains("rendering_npi"))
        .unwrap();
    assert_eq!(npi_warning.origin.pointer, "/entry/2/resource");
}

#[test]
fn output_does_not_depend_on_input_order() {
    let resources = vec![
        ("b.ndjson", encounter()),
        ("a.ndjson", patient()),
        (
            "c.ndjson",
            json!({"resourceType": "Encounter", "id": "e0", "subject": {"reference": "Patient/p1"}, "period": {"start": "2024-01-01"}}),
        ),
    ];
    let mut reversed = resources.clone();
    reversed.reverse();
    let forward = map_documents(resources);
    let backward = map_documents(reversed);
    let ids = |output: &FhirOutput| {
        output
            .records
            .iter()
            .map(|r| r.id.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&forward), ["e1", "e0"]);
    assert_eq!(ids(&forward), ids(&backward));
    assert_eq!(forward.records[0].value, backward.records[0].value);
}

#[test]
fn duplicate_resource_is_reported_and_first_kept() {
    let mut second = patient();
    second["birthDate"] = json!("1999-09-09");
    let output = map_documents(vec![(
        "a.json",
        bundle(vec![patient(), second, encounter()]),
    )]);
    let record = only_record(&output);
    assert!(record.value["patient"].get("birth_date").is_none());
    assert_eq!(
        warning_messages(&output),
        ["Patient/p1 appears more than once; the first copy, in a.json at /entry/0/resource, is used and this one is ignored"]
    );
}

fn invitation(status: &str) -> Value {
    json!({"resourceType": "Communication", "id": "inv", "status": status,
        "category": [{"coding": [{"system": PORTAL, "code": "portal-invitation"}]}],
        "medium": [{"coding": [{"system": PARTICIPATION_MODE, "code": "EMAILWRIT"}]}],
        "encounter": {"reference": "Encounter/e1"}, "subject": {"reference": "Patient/p1"},
        "sent": "2024-03-12T09:38:00-04:00",
        "recipient": [{"reference": "Patient/p1"}]})
}

#[test]
fn communication_becomes_an_emailed_invitation() {
    let output = map_documents(vec![(
        "a.json",
        bundle(vec![patient(), encounter(), invitation("completed")]),
    )]);
    let record = only_record(&output);
    assert_eq!(
        record.value["audit_trail"],
        json!([{"id": "Communication/inv", "type": "portal.invitation.sent", "timestamp": "2024-03-12T09:38:00-04:00",
                "channel": "email", "recipient": "pat@example.org"}])
    );
    assert!(output.warnings.is_empty());
}

#[test]
fn communication_recipient_may_be_a_mailto_identifier() {
    let mut message = invitation("completed");
    message["recipient"] = json!([{"identifier": {"system": "urn:ietf:rfc:3986", "value": "mailto:other@example.org"}}]);
    let output = map_documents(vec![(
        "a.json",
        bundle(vec![patient(), encounter(), message]),
    )]);
    assert_eq!(
        only_record(&output).value["audit_trail"][0]["recipient"],
        "other@example.org"
    );
}

#[test]
fn invitation_not_completed_is_not_evidence() {
    let output = map_documents(vec![(
        "a.json",
        bundle(vec![patient(), encounter(), invitation("not-done")]),
    )]);
    let record = only_record(&output);
    assert!(record.value.get("audit_trail").is_none());
    assert_eq!(
        warning_messages(&output),
        ["record e1: Communication/inv would be a portal.invitation.sent event but has status not-done, not completed, so it is not evidence"]
    );
}

#[test]
fn invitation_to_missing_recipient_is_reported() {
    let mut message = invitation("completed");
    message["recipient"] = json!([{"reference": "RelatedPerson/rp9"}]);
    let output = map_documents(vec![(
        "a.json",
        bundle(vec![patient(), encounter(), message]),
    )]);
    let record = only_record(&output);
    assert_eq!(
        record.value["audit_trail"][0]["recipient"],
        "RelatedPerson/rp9"
    );
    assert_eq!(
        warning_messages(&output),
        ["record e1: the recipient RelatedPerson/rp9 of Communication/inv is not in this export, so the email address it went to is unknown"]
    );
}

#[test]
fn invitation_to_recipient_without_email_is_reported() {
    let patient = json!({"resourceType": "Patient", "id": "p1"});
    let output = map_documents(vec![(
        "a.json",
        bundle(vec![patient, encounter(), invitation("completed")]),
    )]);
    assert_eq!(
        only_record(&output).value["audit_trail"][0]["recipient"],
        "Patient/p1"
    );
    assert_eq!(
        warning_messages(&output),
        ["record e1: the recipient Patient/p1 of Communication/inv has no email contact point, so the address the message went to is unknown"]
    );
}

#[test]
fn alert_communication_is_not_an_event() {
    let text = include_str!("../../tests/data/fhir-r4/communication-example.json");
    let example: Value = serde_json::from_str(text).unwrap();
    let mut encounter = encounter();
    encounter["id"] = json!("example");
    encounter["subject"] = json!({"reference": "Patient/example"});
    let output = map_documents(vec![("c.json", example), ("e.json", encounter)]);
    assert!(only_record(&output).value.get("audit_trail").is_none());
}

fn audit_event(code: &str) -> Value {
    json!({"resourceType": "AuditEvent", "id": "ae", "type": {"system": "http://dicom.nema.org/resources/ontology/DCM", "code": "110100"},
        "subtype": [{"system": PORTAL, "code": code}],
        "recorded": "2024-03-12T09:20:00-04:00", "outcome": "0",
        "agent": [{"who": {"display": "Front desk"}, "requestor": false}, {"who": {"reference": "Practitioner/rn"}, "requestor": true}],
        "source": {"observer": {"display": "EHR"}},
        "entity": [{"what": {"reference": "Encounter/e1"}}]})
}

#[test]
fn audit_event_subtype_maps_to_portal_offer() {
    let nurse = json!({"resourceType": "Practitioner", "id": "rn", "name": [{"given": ["Pat"], "family": "Lee"}]});
    let output = map_documents(vec![(
        "a.json",
        bundle(vec![
            patient(),
            encounter(),
            audit_event("portal-offered"),
            nurse,
        ]),
    )]);
    let record = only_record(&output);
    assert_eq!(
        record.value["audit_trail"],
        json!([{"id": "AuditEvent/ae", "type": "portal.offered", "timestamp": "2024-03-12T09:20:00-04:00", "actor": "Pat Lee"}])
    );
    assert_eq!(
        record.value["portal"],
        json!({"status": "offered", "offered_at": "2024-03-12T09:20:00-04:00", "offered_by": "Pat Lee"})
    );
    assert_eq!(
        record.source_resource("/portal/offered_at"),
        Some("AuditEvent/ae")
    );
}

#[test]
fn audit_event_channel_and_recipient() {
    let mut with_details = audit_event("portal-invitation");
    with_details["entity"] = json!([{"what": {"reference": "Encounter/e1"},
        "detail": [{"type": "channel", "valueString": "sms"}, {"type": "recipient", "valueString": "+1-555-0100"}]}]);
    let output = map_documents(vec![(
        "a.json",
        bundle(vec![patient(), encounter(), with_details]),
    )]);
    let event = &only_record(&output).value["audit_trail"][0];
    assert_eq!(event["channel"], "sms");
    assert_eq!(event["recipient"], "+1-555-0100");

    let mut about_message = audit_event("portal-invitation");
    about_message["entity"] = json!([{"what": {"reference": "Encounter/e1"}}, {"what": {"reference": "Communication/inv"}}]);
    let mut message = invitation("completed");
    message["category"] = json!([{"text": "courtesy note"}]);
    let output = map_documents(vec![(
        "a.json",
        bundle(vec![patient(), encounter(), about_message, message]),
    )]);
    let event = &only_record(&output).value["audit_trail"][0];
    assert_eq!(event["channel"], "email");
    assert_eq!(event["recipient"], "pat@example.org");
}

#[test]
fn failed_audit_event_is_not_evidence() {
    let mut failed = audit_event("portal-offered");
    failed["outcome"] = json!("8");
    let output = map_documents(vec![(
        "a.json",
        bundle(vec![patient(), encounter(), failed]),
    )]);
    assert!(only_record(&output).value.get("portal").is_none());
    assert_eq!(output.warnings.len(), 1);
    assert!(output.warnings[0]
        .message
        .contains("records a failed action (outcome 8)"));
}

#[test]
fn patient_only_audit_event_links_by_date() {
    let mut same_day = audit_event("portal-declined");
    same_day["entity"] = json!([{"what": {"reference": "Patient/p1"}}]);
    let mut other_day = audit_event("portal-offered");
    other_day["id"] = json!("ae2");
    other_day["recorded"] = json!("2024-03-13T08:00:00-04:00");
    other_day["entity"] = json!([{"what": {"reference": "Patient/p1"}}]);
    let output = map_documents(vec![(
        "a.json",
        bundle(vec![patient(), encounter(), same_day, other_day]),
    )]);
    let record = only_record(&output);
    let types: Vec<&Value> = record.value["audit_trail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["type"])
        .collect();
    assert_eq!(types, [&json!("portal.declined")]);
    assert_eq!(record.value["portal"]["status"], "declined");
}

#[test]
fn non_portal_audit_events_ignored() {
    for file in [
        include_str!("../../tests/data/fhir-r4/audit-event-example-login.json"),
        include_str!("../../tests/data/fhir-r4/auditevent-example-disclosure.json"),
    ] {
        let mut event: Value = serde_json::from_str(file).unwrap();
        event["entity"] = json!([{"what": {"reference": "Encounter/e1"}}]);
        let output = map_documents(vec![(
            "a.json",
            bundle(vec![patient(), encounter(), event]),
        )]);
        assert!(only_record(&output).value.get("audit_trail").is_none());
    }
}

#[test]
fn patient_education_procedure_needs_a_portal_mention() {
    let text = include_str!("../../tests/data/fhir-r4/procedure-example-education.json");
    let mut breast_exam: Value = serde_json::from_str(text).unwrap();
    breast_exam["encounter"] = json!({"reference": "Encounter/e1"});
    let output = map_documents(vec![(
        "a.json",
        bundle(vec![patient(), encounter(), breast_exam.clone()]),
    )]);
    assert!(only_record(&output).value.get("audit_trail").is_none());

    let mut portal = breast_exam;
    portal["code"] = json!({"text": "Patient portal navigation education"});
    let output = map_documents(vec![(
        "a.json",
        bundle(vec![patient(), encounter(), portal]),
    )]);
    assert_eq!(
        only_record(&output).value["audit_trail"],
        json!([{"id": "Procedure/education", "type": "portal.education", "timestamp": "2014-08-16", "actor": "Pamela Educator, RN"}])
    );
}

#[test]
fn note_decoded_and_signed_when_final() {
    // `\u003d` escapes `=` in the base64 padding, as HL7's serializer writes it.
    let document: Value = serde_json::from_str(
        r#"{"resourceType": "DocumentReference", "id": "d1", "status": "current", "docStatus": "preliminary",
            "date": "2024-03-12T10:00:00Z", "context": {"encounter": [{"reference": "Encounter/e1"}]},
            "content": [{"attachment": {"contentType": "text/plain", "data": "UG9ydGFsIGVkdWNhdGlvbi4\u003d"}},
                        {"attachment": {"contentType": "application/pdf", "data": "JVBERi0="}}]}"#,
    )
    .unwrap();
    let output = map_documents(vec![(
        "a.json",
        bundle(vec![patient(), encounter(), document.clone()]),
    )]);
    let note = &only_record(&output).value["notes"][0];
    assert_eq!(note["text"], "Portal education.");
    assert!(note.get("signed_at").is_none());
    assert!(output.warnings.is_empty());

    let mut signed = document;
    signed["docStatus"] = json!("final");
    let output = map_documents(vec![(
        "a.json",
        bundle(vec![patient(), encounter(), signed]),
    )]);
    assert_eq!(
        only_record(&output).value["notes"][0]["signed_at"],
        "2024-03-12T10:00:00Z"
    );
}

#[test]
fn provenance_signature_signs_a_note() {
    let document = json!({"resourceType": "DocumentReference", "id": "d1", "context": {"encounter": [{"reference": "Encounter/e1"}]}});
    let provenance = json!({"resourceType": "Provenance", "id": "pv", "target": [{"reference": "DocumentReference/d1"}],
        "recorded": "2024-03-12T11:00:00Z", "signature": [{"when": "2024-03-12T11:00:00Z", "who": {"display": "RN"}}]});
    let output = map_documents(vec![(
        "a.json",
        bundle(vec![patient(), encounter(), document, provenance]),
    )]);
    assert_eq!(
        only_record(&output).value["notes"][0]["signed_at"],
        "2024-03-12T11:00:00Z"
    );
}

#[test]
fn unreadable_note_text_is_reported() {
    let document = json!({"resourceType": "DocumentReference", "id": "d1", "context": {"encounter": [{"reference": "Encounter/e1"}]},
        "content": [{"attachment": {"contentType": "text/plain; charset=utf-16", "data": "SGk="}}]});
    let output = map_documents(vec![(
        "a.json",
        bundle(vec![patient(), encounter(), document]),
    )]);
    assert!(only_record(&output).value["notes"][0].get("text").is_none());
    assert_eq!(
        output.warnings[0].origin.pointer,
        "/entry/2/resource/content/0/attachment"
    );
}

fn consent(extensions: Value) -> Value {
    json!({"resourceType": "Consent", "id": "cs", "status": "active", "extension": extensions,
        "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
        "patient": {"reference": "Patient/p1"}, "dateTime": "2024-01-05"})
}

#[test]
fn unknown_consent_disclosure_is_reported() {
    let extensions = json!([
        {"url": "http://claimlint.dev/fhir/StructureDefinition/ccm-consent-disclosure", "valueCode": "right-to-stop"},
        {"url": "http://claimlint.dev/fhir/StructureDefinition/ccm-consent-disclosure", "valueCode": "copay"}
    ]);
    let output = map_documents(vec![(
        "a.json",
        bundle(vec![patient(), encounter(), consent(extensions)]),
    )]);
    assert_eq!(
        only_record(&output).value["ccm_consent"],
        json!({"id": "cs", "obtained_at": "2024-01-05", "disclosures": {"right_to_stop": true}})
    );
    assert_eq!(
        warning_messages(&output),
        ["record e1: Consent/cs names the disclosure `copay`, which claimlint does not know, so it was left out"]
    );
}

#[test]
fn invalid_consent_method_is_left_out() {
    let extensions = json!([{"url": "http://claimlint.dev/fhir/StructureDefinition/ccm-consent-method", "valueCode": "implied"}]);
    let output = map_documents(vec![(
        "a.json",
        bundle(vec![patient(), encounter(), consent(extensions)]),
    )]);
    assert!(only_record(&output).value["ccm_consent"]
        .get("method")
        .is_none());
    assert!(output.warnings[0]
        .message
        .starts_with("record e1: the value for /ccm_consent/method from Consent/cs does not fit"));
}

#[test]
fn care_plan_review_nearest_before_service() {
    let plan = json!({"resourceType": "CarePlan", "id": "cp", "status": "active", "intent": "plan",
    "subject": {"reference": "Patient/p1"}, "created": "2023-11-01",
    "extension": [
        {"url": "http://claimlint.dev/fhir/StructureDefinition/care-plan-reviewed", "valueDateTime": "2024-04-02T10:00:00Z"},
        {"url": "http://claimlint.dev/fhir/StructureDefinition/care-plan-reviewed", "valueDateTime": "2024-02-01T10:00:00Z"},
        {"url": "http://claimlint.dev/fhir/StructureDefinition/care-plan-revised", "valueDateTime": "2024-03-12T08:00:00Z"}
    ]});
    let output = map_documents(vec![("a.json", bundle(vec![patient(), encounter(), plan]))]);
    let care_plan = &only_record(&output).value["care_plan"];
    assert_eq!(care_plan["reviewed_at"], "2024-02-01T10:00:00Z");
    assert_eq!(care_plan["revised_at"], "2024-03-12T08:00:00Z");
}

#[test]
fn care_management_procedure_needs_a_period() {
    let procedure = json!({"resourceType": "Procedure", "id": "t1", "status": "completed",
        "code": {"coding": [{"system": "http://claimlint.dev/fhir/CodeSystem/ccm", "code": "care-management-time"}]},
        "encounter": {"reference": "Encounter/e1"}, "performedDateTime": "2024-03-12"});
    let output = map_documents(vec![(
        "a.json",
        bundle(vec![patient(), encounter(), procedure]),
    )]);
    assert!(only_record(&output).value.get("time_log").is_none());
    assert!(output.warnings[0]
        .message
        .starts_with("record e1: Procedure/t1 is care-management time but has no performedPeriod"));
}

#[test]
fn denied_eob_sets_claim_status_and_denial() {
    let claim = json!({"resourceType": "Claim", "id": "c1", "status": "active", "use": "claim",
        "type": {"coding": [{"code": "professional"}]},
        "item": [{"sequence": 1, "productOrService": {"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "99490"}]},
                  "encounter": [{"reference": "Encounter/e1"}]}]});
    let eob = json!({"resourceType": "ExplanationOfBenefit", "id": "x1", "status": "active", "outcome": "complete",
        "created": "2024-04-20", "claim": {"reference": "Claim/c1"},
        "identifier": [{"value": "ICN-77"}],
        "item": [{"sequence": 1, "adjudication": [
            {"category": {"coding": [{"system": "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBAdjudicationDiscriminator", "code": "denialreason"}]},
             "reason": {"coding": [{"system": "https://x12.org/codes/claim-adjustment-reason-codes", "code": "16"},
                                   {"system": "https://x12.org/codes/remittance-advice-remark-codes", "code": "N706"}]}}]}]});
    let output = map_documents(vec![(
        "a.json",
        bundle(vec![patient(), encounter(), claim, eob]),
    )]);
    let record = only_record(&output);
    assert_eq!(record.value["claim"]["status"], "denied");
    assert_eq!(
        record.value["claim"]["denial"],
        json!({"carc": "16", "rarcs": ["N706"], "notice_date": "2024-04-20", "payer_claim_number": "ICN-77"})
    );
    assert_eq!(
        record.source_resource("/claim/denial/carc"),
        Some("ExplanationOfBenefit/x1")
    );
    assert_eq!(record.source_resource("/claim/id"), Some("Claim/c1"));
    assert_eq!(
        record.value["service_lines"],
        json!([{"id": "1", "code": "99490"}])
    );
}

#[test]
fn eob_stands_in_for_missing_claim() {
    let text = include_str!("../../tests/data/fhir-r4/explanationofbenefit-example.json");
    let example: Value = serde_json::from_str(text).unwrap();
    let mut encounter = encounter();
    encounter["id"] = json!("example");
    encounter["subject"] = json!({"reference": "Patient/pat1"});
    let output = map_documents(vec![("x.json", example), ("e.json", encounter)]);
    let record = only_record(&output);
    assert_eq!(record.value["claim"]["id"], "100150");
    assert!(record.value["claim"].get("payer").is_none());
    // Its adjudication codes carry no system, so they do not show what was
    // paid, and its items have no CPT or HCPCS code.
    assert!(record.value["claim"].get("status").is_none());
    assert!(record.value.get("service_lines").is_none());
}

#[test]
fn encounter_type_gives_service_lines() {
    let mut encounter = encounter();
    encounter["type"] = json!([{"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "99490"}]},
                               {"coding": [{"system": "http://snomed.info/sct", "code": "185347001"}]}]);
    let output = map_documents(vec![("a.json", bundle(vec![patient(), encounter]))]);
    assert_eq!(
        only_record(&output).value["service_lines"],
        json!([{"code": "99490", "date": "2024-03-12"}])
    );
}

#[test]
fn user_mapping_recognizes_site_codes() {
    let mapping = FhirMapping::parse(
        "events:\n  - type: portal.offered\n    codes:\n      - system: https://ehr.example/codes\n        code: MYCHART-OFFER\n",
    )
    .unwrap();
    let mut event = audit_event("ignored");
    event["subtype"] = json!([{"system": "https://ehr.example/codes", "code": "MYCHART-OFFER"}]);
    let output = map_with(
        vec![(
            "a.json",
            bundle(vec![patient(), encounter(), event.clone()]),
        )],
        &mapping,
    );
    assert_eq!(only_record(&output).value["portal"]["status"], "offered");

    event["subtype"] = json!([{"system": PORTAL, "code": "portal-offered"}]);
    let output = map_with(
        vec![("a.json", bundle(vec![patient(), encounter(), event]))],
        &mapping,
    );
    assert!(only_record(&output).value.get("portal").is_none());
}

#[test]
fn vendored_stu3_files_are_detected_as_stu3() {
    for (name, text) in [
        (
            "stu3_communication-example.json",
            include_str!("../../tests/data/fhir-stu3/stu3_communication-example.json"),
        ),
        (
            "stu3_explanationofbenefit-example.json",
            include_str!("../../tests/data/fhir-stu3/stu3_explanationofbenefit-example.json"),
        ),
    ] {
        let value: Value = serde_json::from_str(text).unwrap();
        let mut resources = Vec::new();
        let mut errors = Vec::new();
        collect(
            value,
            Origin::new(Arc::from(name), None, ""),
            &mut resources,
            &mut errors,
        );
        assert!(resources.is_empty(), "{name} was read");
        assert_eq!(errors.len(), 1, "{name}");
        assert_eq!(errors[0].kind, InputErrorKind::FhirVersion);
        let message = &errors[0].message;
        assert!(
            message.contains("is FHIR STU3 (3.0), not R4"),
            "{name}: {message}"
        );
        assert!(errors[0]
            .help
            .as_deref()
            .unwrap()
            .contains("reads FHIR R4 (4.0) only"));
    }
}

#[test]
fn stu3_messages_name_the_structural_reasons() {
    let communication: Value = serde_json::from_str(include_str!(
        "../../tests/data/fhir-stu3/stu3_communication-example.json"
    ))
    .unwrap();
    let detection = detect_version(&communication).unwrap();
    assert_eq!(detection.version, OtherVersion::Stu3);
    assert!(detection.reasons.iter().any(|r| r.contains("`definition`")));
    assert!(detection.reasons.iter().any(|r| r.contains("`context`")));
    assert!(detection
        .reasons
        .iter()
        .any(|r| r.contains("http://hl7.org/fhir/v3/ParticipationMode")));

    let eob: Value = serde_json::from_str(include_str!(
        "../../tests/data/fhir-stu3/stu3_explanationofbenefit-example.json"
    ))
    .unwrap();
    let reasons = detect_version(&eob).unwrap().reasons.join("; ");
    for expected in [
        "`organization`",
        "`totalCost`",
        "`outcome` is a CodeableConcept",
        "http://hl7.org/fhir/ex-claimtype",
    ] {
        assert!(
            reasons.contains(expected),
            "missing {expected} in {reasons}"
        );
    }
}

#[test]
fn vendored_r4_examples_are_not_misdetected() {
    let examples = [
        include_str!("../../tests/data/fhir-r4/audit-event-example-login.json"),
        include_str!("../../tests/data/fhir-r4/auditevent-example-disclosure.json"),
        include_str!("../../tests/data/fhir-r4/careplan-example.json"),
        include_str!("../../tests/data/fhir-r4/claim-example-professional.json"),
        include_str!("../../tests/data/fhir-r4/claimresponse-example.json"),
        include_str!("../../tests/data/fhir-r4/communication-example-fm-attachment.json"),
        include_str!("../../tests/data/fhir-r4/communication-example.json"),
        include_str!("../../tests/data/fhir-r4/consent-example.json"),
        include_str!("../../tests/data/fhir-r4/documentreference-example.json"),
        include_str!("../../tests/data/fhir-r4/encounter-example-f001-heart.json"),
        include_str!("../../tests/data/fhir-r4/encounter-example.json"),
        include_str!("../../tests/data/fhir-r4/eob_read_carrier_v2.json"),
        include_str!("../../tests/data/fhir-r4/explanationofbenefit-example.json"),
        include_str!("../../tests/data/fhir-r4/patient-example.json"),
        include_str!("../../tests/data/fhir-r4/procedure-example-education.json"),
        include_str!("../../tests/data/fhir-r4/procedure-example.json"),
        include_str!("../../tests/data/fhir-r4/task-example1.json"),
    ];
    for text in examples {
        let value: Value = serde_json::from_str(text).unwrap();
        assert_eq!(detect_version(&value), None, "{} misdetected", value["id"]);
    }
}

/// The CCM example Bundle, mapped field by field.
mod ccm_bundle {
    use super::*;
    use crate::eval;
    use crate::rules::RuleSet;

    fn mapped() -> FhirOutput {
        let text = include_str!("../../examples/fhir/ccm-bundle.json");
        let value: Value = serde_json::from_str(text).unwrap();
        map_documents(vec![("examples/fhir/ccm-bundle.json", value)])
    }

    #[test]
    fn maps_without_errors_or_warnings() {
        let output = mapped();
        assert_eq!(output.records.len(), 1);
        assert!(output.errors.is_empty(), "{:?}", output.errors);
        assert!(output.warnings.is_empty(), "{:?}", output.warnings);
        let record = &output.records[0];
        assert_eq!(record.id, "c1e3a5b7-9d1f-4b3d-a5e7-9b1d3f5a7c07");
        assert_eq!(record.format, crate::record::SourceFormat::FhirR4);
        assert_eq!(record.origin.pointer, "/entry/6/resource");
    }

    #[test]
    fn patient_has_verified_email() {
        let output = mapped();
        let patient = &output.records[0].value["patient"];
        assert_eq!(patient["id"], "6f1b3c1e-1a52-4c8e-9d0e-3b5f0c2a9e01");
        assert_eq!(
            patient["name"],
            json!({"given": "Jordan Ana", "family": "Rivera"})
        );
        assert_eq!(patient["birth_date"], "1952-07-14");
        assert_eq!(patient["member_id"], "ACM-44100872");
        assert_eq!(patient["email"], "jordan.rivera@example.org");
        assert_eq!(patient["email_verified_at"], "2024-02-20T09:15:00-05:00");
        assert_eq!(patient["phone"], "+1-555-0188");
        assert_eq!(
            patient["address"],
            json!({"lines": ["48 Alder Court"], "city": "Springfield", "state": "IL", "postal_code": "62704"})
        );
    }

    #[test]
    fn encounter_claim_and_service_line() {
        let output = mapped();
        let record = &output.records[0].value;
        assert_eq!(
            record["encounter"],
            json!({"id": "c1e3a5b7-9d1f-4b3d-a5e7-9b1d3f5a7c07", "date_of_service": "2024-03-12",
                   "type": "Chronic care management, monthly", "rendering_npi": "1811223344",
                   "practice": {"name": "Riverside Family Medicine", "npi": "1700112233", "tax_id": "36-4455667"},
                   "billing_npi": "1700112233"})
        );
        // The charge keeps its decimal text, `62.00`.
        assert_eq!(
            serde_json::to_string(&record["service_lines"]).unwrap(),
            r#"[{"id":"1","code":"99490","units":1,"date":"2024-03-12","charge":62.00}]"#
        );
        assert_eq!(
            record["claim"],
            json!({"id": "RFM-2024-03-0412",
                   "payer": {"name": "Acme Medicare Advantage", "id": "ACME01", "type": "medicare-advantage"},
                   "submitted_at": "2024-04-01T08:00:00-04:00", "status": "submitted"})
        );
    }

    #[test]
    fn clinical_sections() {
        let output = mapped();
        let record = &output.records[0].value;
        assert_eq!(record["diagnoses"].as_array().unwrap().len(), 2);
        assert_eq!(
            record["diagnoses"][0],
            json!({"code": "E11.9", "system": "ICD-10-CM", "description": "Type 2 diabetes mellitus without complications",
                   "chronic": true, "onset": "2016-05"})
        );
        assert_eq!(
            record["ccm_consent"],
            json!({"id": "4d6f8a1c-3e5b-4d7f-9a1c-3e5b7d9f1a10", "obtained_at": "2024-01-10T10:05:00-05:00", "method": "verbal",
                   "disclosures": {"cost_sharing": true, "one_practitioner_per_month": true, "right_to_stop": true}})
        );
        assert_eq!(
            record["care_plan"],
            json!({"id": "e5a7c9b1-d3f5-4a7c-8b1d-3f5a7c9e1b11", "status": "active", "established_at": "2024-01-10T10:30:00-05:00",
                   "reviewed_at": "2024-03-12T09:10:00-04:00", "author": "Chinedu Okafor"})
        );
        assert_eq!(
            record["time_log"],
            json!([{"id": "Procedure/d2f4a6c8-e0b2-4d4f-9a6c-8e0b2d4f6a16", "date": "2024-03-12", "minutes": 24,
                    "staff_name": "Pat Lee", "staff_role": "Registered Nurse", "activity": "Chronic care management call"}])
        );
    }

    #[test]
    fn portal_evidence() {
        let output = mapped();
        let record = &output.records[0];
        let note = &record.value["notes"][0];
        assert_eq!(
            note["id"],
            "DocumentReference/b7d9f1a3-c5e7-4b9d-8f1a-3c5e7b9d1f13"
        );
        assert_eq!(note["type"], "progress-note");
        assert_eq!(
            note["author"],
            json!({"id": "1922334455", "name": "Pat Lee", "role": "Registered Nurse"})
        );
        assert_eq!(note["signed_at"], "2024-03-12T09:35:00-04:00");
        assert!(note["text"]
            .as_str()
            .unwrap()
            .contains("Educated the patient on portal features"));
        assert_eq!(
            record.value["audit_trail"],
            json!([
                {"id": "Communication/a3c5e7b9-d1f3-4a5c-9e7b-d1f3a5c7e914", "type": "portal.invitation.sent",
                 "timestamp": "2024-03-12T09:38:00-04:00", "actor": "Pat Lee", "channel": "email", "recipient": "jordan.rivera@example.org"},
                {"id": "AuditEvent/f1a3c5e7-b9d1-4f3a-8c5e-7b9d1f3a5c15", "type": "portal.offered",
                 "timestamp": "2024-03-12T09:20:00-04:00", "actor": "Pat Lee"}
            ])
        );
        assert_eq!(
            record.value["portal"],
            json!({"status": "offered", "offered_at": "2024-03-12T09:20:00-04:00", "offered_by": "Pat Lee"})
        );
    }

    #[test]
    fn provenance_points_at_each_resource() {
        let output = mapped();
        let record = &output.records[0];
        for (pointer, resource, entry) in [
            (
                "/patient/email",
                "Patient/6f1b3c1e-1a52-4c8e-9d0e-3b5f0c2a9e01",
                0,
            ),
            (
                "/patient/member_id",
                "Coverage/7b9d1f3a-5c7e-4a9b-8d1f-3a5c7e9b1d06",
                5,
            ),
            (
                "/encounter/rendering_npi",
                "Practitioner/5a9e7c3b-2d4f-4e6a-8b1c-9f0e3d2a6b03",
                2,
            ),
            (
                "/encounter/billing_npi",
                "Organization/8c3d1e9f-6a2b-4c7d-9e0f-1a2b3c4d5e04",
                3,
            ),
            (
                "/diagnoses/1/code",
                "Condition/9a1c3e5f-7b9d-4a1c-8e5f-7b9d1a3c5e09",
                8,
            ),
            (
                "/ccm_consent",
                "Consent/4d6f8a1c-3e5b-4d7f-9a1c-3e5b7d9f1a10",
                9,
            ),
            (
                "/service_lines/0/code",
                "Claim/1c3e5a7b-9d1f-4c3e-a5b7-9d1f3c5e7a12",
                11,
            ),
            (
                "/notes/0/text",
                "DocumentReference/b7d9f1a3-c5e7-4b9d-8f1a-3c5e7b9d1f13",
                12,
            ),
            (
                "/audit_trail/0/recipient",
                "Communication/a3c5e7b9-d1f3-4a5c-9e7b-d1f3a5c7e914",
                13,
            ),
            (
                "/portal/offered_at",
                "AuditEvent/f1a3c5e7-b9d1-4f3a-8c5e-7b9d1f3a5c15",
                14,
            ),
        ] {
            assert_eq!(record.source_resource(pointer), Some(resource), "{pointer}");
            assert_eq!(
                record.locate(pointer).pointer,
                format!("/entry/{entry}/resource"),
                "{pointer}"
            );
        }
    }

    #[test]
    fn shipped_packs_find_nothing() {
        let output = mapped();
        let rules = RuleSet::shipped().expect("shipped packs compile");
        let results = eval::evaluate(&rules, &output.records[0]);
        assert!(results.len() >= 2, "ccm32 and cms-ccm are shipped");
        for result in &results {
            assert!(
                result.not_applicable.is_none(),
                "{} does not apply",
                result.pack
            );
            let findings: Vec<&str> = result.findings.iter().map(|f| f.code.as_str()).collect();
            assert!(findings.is_empty(), "{}: {findings:?}", result.pack);
        }
    }
}
