//! Writes a deterministic corpus of synthetic encounters for benchmarks.
//!
//! ```text
//! cargo run --release --example gen-corpus -- --records N --seed S \
//!     --format ndjson|files|fhir --out PATH
//! ```
//!
//! - `ndjson` writes one canonical record per line to the file `PATH`.
//! - `files` writes one pretty-printed canonical record per file into the
//!   folder `PATH` (`enc-00000000.json`, ...).
//! - `fhir` writes a Bulk-FHIR export into the folder `PATH`: one
//!   `Type.000.ndjson` file per resource type, which `claimlint check PATH`
//!   maps to one record per Encounter with the built-in FHIR mapping.
//!
//! Records are built from the example records shipped in `examples/`, so
//! every one validates against the record schema. Each record gets its own
//! patient, ids, date of service in March 2026 and a note of varying length
//! (about 1.5 to 3 KB of compact JSON a record). The mix covers compliant
//! records, each CCM32 failure kind, declined portals, denied claims (with
//! and without the portal evidence) and office visits the packs do not
//! apply to; see [`Kind::WEIGHTS`].
//!
//! The random numbers come from splitmix64, written out below, so the output
//! for a seed is the same on every platform and with every dependency
//! version (a library generator such as `rand`'s `StdRng` does not promise
//! a stable stream across releases).

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde_json::{json, Map, Value};

const USAGE: &str = "usage: gen-corpus --records N --seed S --format ndjson|files|fhir --out PATH";

fn main() -> ExitCode {
    let options = match Options::parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("gen-corpus: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match write_corpus(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!(
                "gen-corpus: cannot write {}: {error}",
                options.out.display()
            );
            ExitCode::FAILURE
        }
    }
}

/// Output framing of the corpus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Ndjson,
    Files,
    Fhir,
}

#[derive(Debug, Clone)]
struct Options {
    records: u64,
    seed: u64,
    format: Format,
    out: PathBuf,
}

impl Options {
    fn parse(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
        let (mut records, mut seed, mut format, mut out) = (None, None, None, None);
        while let Some(flag) = args.next() {
            let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
            match flag.as_str() {
                "--records" => {
                    records = Some(
                        value
                            .parse::<u64>()
                            .map_err(|_| format!("--records: `{value}` is not a count"))?,
                    )
                }
                "--seed" => {
                    seed = Some(
                        value
                            .parse::<u64>()
                            .map_err(|_| format!("--seed: `{value}` is not an unsigned integer"))?,
                    )
                }
                "--format" => {
                    format = Some(match value.as_str() {
                        "ndjson" => Format::Ndjson,
                        "files" => Format::Files,
                        "fhir" => Format::Fhir,
                        _ => {
                            return Err(format!("--format: `{value}` is not ndjson, files or fhir"))
                        }
                    })
                }
                "--out" => out = Some(PathBuf::from(value)),
                _ => return Err(format!("unknown option {flag}")),
            }
        }
        Ok(Options {
            records: records.ok_or("--records is missing")?,
            seed: seed.unwrap_or(1),
            format: format.ok_or("--format is missing")?,
            out: out.ok_or("--out is missing")?,
        })
    }
}

/// splitmix64 (Steele, Lea and Flood, 2014): a 64-bit state advanced by a
/// fixed odd constant and mixed by two multiply-xorshift rounds.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Returns a number in `0..bound`. The modulo bias is negligible for
    /// the small bounds used here.
    fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound.max(1)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// Kind of generated encounter, which decides the findings it draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Compliant,
    PortalNotOffered,
    EducationDeclined,
    InvitationNotLogged,
    InvitationUnverifiedEmail,
    DeclinedPortal,
    DeniedFullEvidence,
    DeniedMissingEvidence,
    OfficeVisit,
}

impl Kind {
    /// Relative frequencies, out of 100.
    const WEIGHTS: [(Kind, u64); 9] = [
        (Kind::Compliant, 40),
        (Kind::PortalNotOffered, 7),
        (Kind::EducationDeclined, 7),
        (Kind::InvitationNotLogged, 7),
        (Kind::InvitationUnverifiedEmail, 7),
        (Kind::DeclinedPortal, 10),
        (Kind::DeniedFullEvidence, 5),
        (Kind::DeniedMissingEvidence, 5),
        (Kind::OfficeVisit, 12),
    ];

    fn draw(rng: &mut SplitMix64) -> Kind {
        let total: u64 = Kind::WEIGHTS.iter().map(|(_, w)| w).sum();
        let mut roll = rng.below(total);
        for (kind, weight) in Kind::WEIGHTS {
            if roll < weight {
                return kind;
            }
            roll -= weight;
        }
        Kind::Compliant
    }

    /// Returns the shipped example that this kind of canonical record is built from.
    fn template(self) -> &'static str {
        match self {
            Kind::Compliant => include_str!("records/compliant.json"),
            Kind::PortalNotOffered => include_str!("records/fail-portal-not-offered.json"),
            Kind::EducationDeclined => include_str!("records/fail-education-declined.json"),
            Kind::InvitationNotLogged => include_str!("records/fail-invitation-not-logged.json"),
            Kind::InvitationUnverifiedEmail => {
                include_str!("records/fail-invitation-unverified-email.json")
            }
            Kind::DeclinedPortal => include_str!("records/declined-portal.json"),
            Kind::DeniedFullEvidence => include_str!("records/denied-ccm32-full-evidence.json"),
            Kind::DeniedMissingEvidence => {
                include_str!("records/denied-ccm32-missing-evidence.json")
            }
            Kind::OfficeVisit => office_visit_line(),
        }
    }
}

/// Returns the office visit (CPT 99213, not CCM) in the example NDJSON batch.
fn office_visit_line() -> &'static str {
    include_str!("batch/march-ccm.ndjson")
        .lines()
        .find(|line| line.contains("\"office-visit\""))
        .unwrap_or("{}")
}

const GIVEN: &[&str] = &[
    "Maria", "Harold", "Aisha", "Tomas", "Mei", "Samuel", "Grace", "Ivan", "Lucia", "Kwame",
    "Ruth", "Dmitri", "Fatima", "George", "Ana", "Wei", "Esther", "Raj", "Nora", "Benedict",
];
const FAMILY: &[&str] = &[
    "Alvarez",
    "Okafor",
    "Nguyen",
    "Kowalski",
    "Haddad",
    "Johansson",
    "Mensah",
    "Rossi",
    "Tanaka",
    "Walker",
    "Patel",
    "Schmidt",
    "Oyelaran",
    "Fitzgerald",
    "Moreno",
    "Lindqvist",
    "Abara",
    "Costa",
    "Brennan",
    "Yilmaz",
];
/// Clinical sentences appended to notes. None of them mentions the portal,
/// education or a refusal, so they never change a CCM32 outcome.
const NOTE_SENTENCES: &[&str] = &[
    "Home blood pressure log averages 132/84 over the past two weeks; no readings above 160 systolic.",
    "Fasting glucose readings range 118 to 146 mg/dL; last A1c 7.4% drawn in January.",
    "Medication reconciliation completed: metformin 1000 mg twice daily, lisinopril 20 mg daily, atorvastatin 40 mg nightly.",
    "Denies chest pain, shortness of breath, dizziness or new swelling of the ankles since the last call.",
    "Reports two missed doses of evening metformin this week because of travel; pill organizer discussed.",
    "Appetite stable, weight 82.4 kg on home scale, down 0.6 kg from last month.",
    "Referral to podiatry for annual diabetic foot exam remains open; appointment scheduled for next month.",
    "Caregiver (daughter) joined the call for the medication review and agrees with the plan.",
    "Flu and pneumococcal vaccines are up to date per the immunization registry.",
    "Goal for next month: walk 20 minutes five days a week and log blood pressure each morning.",
    "Lab order placed for basic metabolic panel and lipid panel before the next office visit.",
    "Sleep about six hours a night; no daytime somnolence reported.",
];

/// Generated patient details.
struct Person {
    given: &'static str,
    family: &'static str,
    email: String,
    birth_date: String,
    member_id: String,
    phone: String,
}

impl Person {
    fn draw(rng: &mut SplitMix64, index: u64) -> Person {
        let given = *rng.pick(GIVEN);
        let family = *rng.pick(FAMILY);
        Person {
            given,
            family,
            email: format!(
                "{}.{}{index}@example.org",
                given.to_ascii_lowercase(),
                family.to_ascii_lowercase()
            ),
            birth_date: format!(
                "19{:02}-{:02}-{:02}",
                30 + rng.below(40),
                1 + rng.below(12),
                1 + rng.below(28)
            ),
            member_id: format!("{:X}", rng.next_u64() & 0xff_ffff_ffff),
            phone: format!("+1-555-{:04}", rng.below(10_000)),
        }
    }
}

fn note_filler(rng: &mut SplitMix64) -> String {
    let count = 1 + rng.below(6);
    let mut text = String::new();
    for _ in 0..count {
        text.push(' ');
        let sentence: &&str = rng.pick(NOTE_SENTENCES);
        text.push_str(sentence);
    }
    text
}

fn write_corpus(options: &Options) -> io::Result<()> {
    let mut rng = SplitMix64(options.seed);
    match options.format {
        Format::Ndjson => {
            if let Some(parent) = options.out.parent().filter(|p| !p.as_os_str().is_empty()) {
                fs::create_dir_all(parent)?;
            }
            let mut out = BufWriter::with_capacity(1 << 20, File::create(&options.out)?);
            for index in 0..options.records {
                let record = canonical_record(&mut rng, index);
                serde_json::to_writer(&mut out, &record)?;
                out.write_all(b"\n")?;
            }
            out.flush()
        }
        Format::Files => {
            fs::create_dir_all(&options.out)?;
            for index in 0..options.records {
                let record = canonical_record(&mut rng, index);
                let mut text = serde_json::to_vec_pretty(&record)?;
                text.push(b'\n');
                fs::write(options.out.join(format!("enc-{index:08}.json")), text)?;
            }
            Ok(())
        }
        Format::Fhir => write_fhir(&mut rng, options.records, &options.out),
    }
}

/// Builds the canonical record number `index`.
fn canonical_record(rng: &mut SplitMix64, index: u64) -> Value {
    let kind = Kind::draw(rng);
    let person = Person::draw(rng, index);
    let mut record: Value = serde_json::from_str(kind.template()).unwrap_or(Value::Null);
    let template_date = text_at(&record, "/encounter/date_of_service").to_string();
    let date = format!("2026-03-{:02}", 1 + rng.below(28));

    set(&mut record, "/patient/id", json!(format!("PT-{index:08}")));
    set(
        &mut record,
        "/patient/name",
        json!({"given": person.given, "family": person.family}),
    );
    set(&mut record, "/patient/birth_date", json!(person.birth_date));
    set(&mut record, "/patient/member_id", json!(person.member_id));
    set(&mut record, "/patient/phone", json!(person.phone));
    set(&mut record, "/patient/email", json!(person.email));
    set(
        &mut record,
        "/encounter/id",
        json!(format!("ENC-{index:08}")),
    );
    set(&mut record, "/claim/id", json!(format!("CLM-{index:08}")));
    if record.pointer("/claim/denial").is_some() {
        set(
            &mut record,
            "/claim/denial/payer_claim_number",
            json!(format!("AHP-{index:010}")),
        );
    }
    if let Some(Value::Array(events)) = record.pointer_mut("/audit_trail") {
        for (n, event) in events.iter_mut().enumerate() {
            event["id"] = json!(format!("AUD-{index:08}-{n}"));
            let is_invitation = event["type"] == "portal.invitation.sent";
            // The unverified-email kind keeps its template's other address.
            if is_invitation && kind != Kind::InvitationUnverifiedEmail {
                event["recipient"] = json!(person.email);
            }
        }
    }
    if let Some(Value::Array(notes)) = record.pointer_mut("/notes") {
        for (n, note) in notes.iter_mut().enumerate() {
            note["id"] = json!(format!("NOTE-{index:08}-{n}"));
            let text = format!(
                "{}{}",
                note["text"].as_str().unwrap_or_default(),
                note_filler(rng)
            );
            note["text"] = json!(text);
        }
    }
    replace_dates(&mut record, &template_date, &date);
    record
}

/// Moves every date and timestamp on `from` to `to`, so the record keeps
/// its events on its date of service.
fn replace_dates(value: &mut Value, from: &str, to: &str) {
    match value {
        Value::String(text) if text.starts_with(from) => {
            *text = format!("{to}{}", &text[from.len()..]);
        }
        Value::Array(items) => items.iter_mut().for_each(|v| replace_dates(v, from, to)),
        Value::Object(members) => members
            .values_mut()
            .for_each(|v| replace_dates(v, from, to)),
        _ => {}
    }
}

fn text_at<'a>(value: &'a Value, pointer: &str) -> &'a str {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

fn set(value: &mut Value, pointer: &str, new: Value) {
    if let Some(slot) = value.pointer_mut(pointer) {
        *slot = new;
    }
}

// ---------------------------------------------------------------------------
// Bulk FHIR

const PORTAL_SYSTEM: &str = "http://claimlint.dev/fhir/CodeSystem/portal";
const EMAIL_VERIFIED_URL: &str = "http://claimlint.dev/fhir/StructureDefinition/email-verified";
const C4BB_DISCRIMINATOR: &str =
    "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBAdjudicationDiscriminator";
const CARC_SYSTEM: &str = "https://x12.org/codes/claim-adjustment-reason-codes";
const RARC_SYSTEM: &str = "https://x12.org/codes/remittance-advice-remark-codes";
const CPT_SYSTEM: &str = "http://www.ama-assn.org/go/cpt";

/// Resource types written once and shared by every encounter.
const SHARED_TYPES: &[&str] = &["Practitioner", "Organization"];

/// Resource types in the order their files are listed.
const FHIR_TYPES: &[&str] = &[
    "Practitioner",
    "Organization",
    "Patient",
    "Coverage",
    "Encounter",
    "Condition",
    "Consent",
    "CarePlan",
    "Claim",
    "ClaimResponse",
    "DocumentReference",
    "Communication",
    "AuditEvent",
    "Procedure",
];

/// Reads the resources of the example transaction Bundle, with their
/// `urn:uuid:` full URLs.
fn bundle_resources() -> Vec<(String, Value)> {
    let bundle: Value =
        serde_json::from_str(include_str!("fhir/ccm-bundle.json")).unwrap_or(Value::Null);
    bundle["entry"]
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .map(|entry| {
                    (
                        entry["fullUrl"].as_str().unwrap_or_default().to_string(),
                        entry["resource"].clone(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn write_fhir(rng: &mut SplitMix64, records: u64, out: &Path) -> io::Result<()> {
    fs::create_dir_all(out)?;
    let template = bundle_resources();
    let mut files = Vec::new();
    for resource_type in FHIR_TYPES {
        let file = File::create(out.join(format!("{resource_type}.000.ndjson")))?;
        files.push((*resource_type, BufWriter::with_capacity(1 << 20, file)));
    }
    let mut write = |resource: &Value| -> io::Result<()> {
        let resource_type = resource["resourceType"].as_str().unwrap_or_default();
        match files.iter_mut().find(|(name, _)| *name == resource_type) {
            Some((_, file)) => {
                serde_json::to_writer(&mut *file, resource)?;
                file.write_all(b"\n")
            }
            None => Err(io::Error::other(format!(
                "no output file for resource type {resource_type}"
            ))),
        }
    };

    for (_, resource) in template.iter().filter(|(_, r)| is_shared(r)) {
        let mut shared = resource.clone();
        rewrite_references(&mut shared, &template, None);
        write(&shared)?;
    }
    for index in 0..records {
        for resource in fhir_encounter(rng, index, &template) {
            write(&resource)?;
        }
    }
    for (_, file) in &mut files {
        file.flush()?;
    }
    Ok(())
}

fn is_shared(resource: &Value) -> bool {
    SHARED_TYPES.contains(&resource["resourceType"].as_str().unwrap_or_default())
}

/// Returns the id a template resource gets in encounter `index`. Shared
/// resources keep their own.
fn new_id(resource: &Value, position: usize, index: Option<u64>) -> String {
    let id = resource["id"].as_str().unwrap_or_default();
    match index {
        Some(index) if !is_shared(resource) => format!("{id:.8}-{index:08}-{position}"),
        _ => id.to_string(),
    }
}

/// Replaces each `urn:uuid:` reference to a template resource by a
/// `Type/id` reference, because a Bulk-FHIR export has no full URLs.
fn rewrite_references(value: &mut Value, template: &[(String, Value)], index: Option<u64>) {
    match value {
        Value::Object(members) => {
            for (key, member) in members.iter_mut() {
                if key == "reference" {
                    if let Some(target) = member.as_str() {
                        let found = template
                            .iter()
                            .enumerate()
                            .find(|(_, (url, _))| url == target);
                        if let Some((position, (_, resource))) = found {
                            let resource_type =
                                resource["resourceType"].as_str().unwrap_or_default();
                            *member = json!(format!(
                                "{resource_type}/{}",
                                new_id(resource, position, index)
                            ));
                        }
                    }
                } else {
                    rewrite_references(member, template, index);
                }
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|v| rewrite_references(v, template, index)),
        _ => {}
    }
}

/// Builds the resources of encounter `index`.
fn fhir_encounter(rng: &mut SplitMix64, index: u64, template: &[(String, Value)]) -> Vec<Value> {
    let kind = Kind::draw(rng);
    let person = Person::draw(rng, index);
    let filler = note_filler(rng);
    let mut resources = Vec::new();
    for (position, (_, resource)) in template.iter().enumerate() {
        if is_shared(resource) {
            continue;
        }
        let mut resource = resource.clone();
        resource["id"] = json!(new_id(&resource, position, Some(index)));
        rewrite_references(&mut resource, template, Some(index));
        resources.push(resource);
    }
    for resource in &mut resources {
        match resource["resourceType"].as_str().unwrap_or_default() {
            "Patient" => fhir_patient(resource, &person, kind),
            "Claim" => {
                resource["identifier"][0]["value"] = json!(format!("CLM-{index:08}"));
            }
            "DocumentReference" => fhir_note(resource, kind, &filler),
            _ => {}
        }
    }

    match kind {
        Kind::PortalNotOffered => resources.retain(|r| !has_portal_code(r, "portal-offered")),
        Kind::InvitationNotLogged | Kind::DeniedMissingEvidence => {
            resources.retain(|r| !has_portal_code(r, "portal-invitation"));
        }
        Kind::DeclinedPortal => {
            resources.retain(|r| !has_portal_code(r, "portal-invitation"));
            let declined = resources
                .iter()
                .find(|r| has_portal_code(r, "portal-offered"))
                .cloned();
            if let Some(mut declined) = declined {
                declined["id"] = json!(format!("declined-{index:08}"));
                declined["type"]["code"] = json!("portal-declined");
                declined["type"]["display"] = json!("Patient portal declined");
                declined["recorded"] = json!("2024-03-12T09:22:00-04:00");
                resources.push(declined);
            }
        }
        Kind::OfficeVisit => {
            resources.retain(|r| r["resourceType"] != "Procedure");
            for resource in &mut resources {
                set_cpt_codes(resource, "99213");
            }
        }
        _ => {}
    }
    if matches!(kind, Kind::DeniedFullEvidence | Kind::DeniedMissingEvidence) {
        let claim = resources
            .iter()
            .find(|r| r["resourceType"] == "Claim")
            .map(|r| r["id"].clone());
        if let Some(claim) = claim {
            resources.push(denial_response(index, claim.as_str().unwrap_or_default()));
        }
    }
    resources
}

fn fhir_patient(patient: &mut Value, person: &Person, kind: Kind) {
    // An email verified after the date of service was not verified when
    // the invitation went out.
    let verified_at = if kind == Kind::InvitationUnverifiedEmail {
        "2024-03-20T09:00:00-04:00"
    } else {
        "2023-11-02T10:15:00-04:00"
    };
    patient["name"] =
        json!([{"use": "official", "family": person.family, "given": [person.given]}]);
    patient["birthDate"] = json!(person.birth_date);
    patient["telecom"] = json!([
        {"system": "phone", "value": person.phone, "use": "mobile"},
        {"extension": [{"url": EMAIL_VERIFIED_URL, "valueDateTime": verified_at}],
         "system": "email", "value": person.email, "use": "home", "rank": 1}
    ]);
    patient["identifier"] = json!([{
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MB"}]},
        "value": person.member_id
    }]);
}

fn fhir_note(document: &mut Value, kind: Kind, filler: &str) {
    let body = match kind {
        Kind::EducationDeclined => {
            "Reviewed the care plan and home glucose log with the patient by phone.\n\
             Offered access to the patient portal. Patient declined portal education today; prefers phone calls."
        }
        Kind::DeclinedPortal => {
            "Reviewed the care plan and home glucose log with the patient by phone.\n\
             Explained the patient portal (messages, results, appointment requests). Patient declined enrollment; prefers phone."
        }
        Kind::OfficeVisit => "Office visit for diabetes and hypertension follow-up.",
        _ => {
            "Reviewed the care plan, medications and home glucose log with the patient by phone.\n\
             Offered access to the patient portal. Educated the patient on portal features: secure messaging, \
             viewing lab results and requesting refills. Patient verbalized understanding.\n\
             Portal registration invitation sent to the patient's verified email address."
        }
    };
    let text = format!("CCM monthly care management, 2024-03-12.\n{body}{filler}\nTotal clinical staff time this month: 24 minutes.\n");
    document["content"][0]["attachment"]["data"] = json!(BASE64.encode(text.as_bytes()));
}

fn has_portal_code(resource: &Value, code: &str) -> bool {
    let matches = |coding: &Value| coding["system"] == PORTAL_SYSTEM && coding["code"] == code;
    matches(&resource["type"])
        || resource["category"].as_array().is_some_and(|categories| {
            categories
                .iter()
                .flat_map(|c| c["coding"].as_array().into_iter().flatten())
                .any(matches)
        })
}

/// Replaces every CPT coding's code, so the encounter is an office visit.
fn set_cpt_codes(value: &mut Value, code: &str) {
    match value {
        Value::Object(members) => {
            if members.get("system").and_then(Value::as_str) == Some(CPT_SYSTEM)
                && members.contains_key("code")
            {
                members.insert("code".to_string(), json!(code));
                members.remove("display");
            }
            members.values_mut().for_each(|v| set_cpt_codes(v, code));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| set_cpt_codes(v, code)),
        _ => {}
    }
}

/// A ClaimResponse that denies the claim with CO-16 and RARC N706.
fn denial_response(index: u64, claim_id: &str) -> Value {
    let mut response = Map::new();
    response.insert("resourceType".into(), json!("ClaimResponse"));
    response.insert("id".into(), json!(format!("denial-{index:08}")));
    response.insert("status".into(), json!("active"));
    response.insert("use".into(), json!("claim"));
    response.insert("outcome".into(), json!("complete"));
    response.insert("created".into(), json!("2024-04-02"));
    response.insert(
        "identifier".into(),
        json!([{"system": "urn:payer", "value": format!("AHP-{index:010}")}]),
    );
    response.insert(
        "request".into(),
        json!({"reference": format!("Claim/{claim_id}")}),
    );
    response.insert(
        "disposition".into(),
        json!("Patient portal utilization not promoted"),
    );
    response.insert(
        "item".into(),
        json!([{"itemSequence": 1, "adjudication": [
            {"category": {"coding": [{"system": C4BB_DISCRIMINATOR, "code": "denialreason"}]},
             "reason": {"coding": [{"system": CARC_SYSTEM, "code": "CO-16"}, {"system": RARC_SYSTEM, "code": "N706"}]}},
            {"category": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/adjudication", "code": "benefit"}]},
             "amount": {"value": 0, "currency": "USD"}}
        ]}]),
    );
    Value::Object(response)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use claimlint::fhir::FhirMapping;
    use claimlint::input::{load_file, Framing, LoadedFile};
    use claimlint::record::{Record, RecordSchema};
    use claimlint::rules::RuleSet;

    use super::*;

    fn generate(format: Format, records: u64, seed: u64, out: &Path) {
        let options = Options {
            records,
            seed,
            format,
            out: out.to_path_buf(),
        };
        write_corpus(&options).unwrap();
    }

    /// Every file under `path` with its bytes, in name order.
    fn read_tree(path: &Path) -> Vec<(String, Vec<u8>)> {
        if path.is_file() {
            return vec![(String::new(), fs::read(path).unwrap())];
        }
        let mut files: Vec<_> = fs::read_dir(path)
            .unwrap()
            .map(|entry| {
                let entry = entry.unwrap();
                (
                    entry.file_name().to_string_lossy().into_owned(),
                    fs::read(entry.path()).unwrap(),
                )
            })
            .collect();
        files.sort();
        files
    }

    fn load_tree(path: &Path) -> (Vec<Record>, Vec<LoadedFile>) {
        let schema = RecordSchema::new();
        let mut loaded = Vec::new();
        for (name, bytes) in read_tree(path) {
            let framing = Framing::from_path(&name);
            loaded.push(load_file(
                Arc::from(name.as_str()),
                &bytes,
                framing,
                &schema,
            ));
        }
        let mut records: Vec<Record> = loaded
            .iter_mut()
            .flat_map(|f| std::mem::take(&mut f.records))
            .collect();
        let fhir: Vec<_> = loaded
            .iter_mut()
            .flat_map(|f| std::mem::take(&mut f.fhir))
            .collect();
        let mapped = claimlint::fhir::map_records(fhir, &FhirMapping::builtin(), &schema);
        assert!(
            mapped.errors.is_empty(),
            "FHIR mapping errors: {:?}",
            mapped.errors
        );
        assert!(
            mapped.warnings.is_empty(),
            "FHIR mapping warnings: {:?}",
            mapped.warnings
        );
        records.extend(mapped.records);
        (records, loaded)
    }

    /// Finding codes of the shipped packs over `records`, with how many
    /// records no pack applies to.
    fn outcomes(records: &[Record]) -> (std::collections::BTreeSet<String>, usize) {
        let rules = RuleSet::shipped().unwrap();
        let mut codes = std::collections::BTreeSet::new();
        let mut not_applicable = 0;
        for record in records {
            let results = claimlint::eval::evaluate(&rules, record);
            if results.iter().all(|r| r.not_applicable.is_some()) {
                not_applicable += 1;
            }
            codes.extend(results.into_iter().flat_map(|r| r.findings).map(|f| f.code));
        }
        (codes, not_applicable)
    }

    #[test]
    fn same_seed_gives_identical_bytes() {
        let dir = tempfile::tempdir().unwrap();
        for (name, format) in [
            ("ndjson", Format::Ndjson),
            ("files", Format::Files),
            ("fhir", Format::Fhir),
        ] {
            let first = dir.path().join(format!("{name}-1"));
            let second = dir.path().join(format!("{name}-2"));
            generate(format, 40, 11, &first);
            generate(format, 40, 11, &second);
            assert_eq!(
                read_tree(&first),
                read_tree(&second),
                "{name} output differs between runs"
            );
        }
    }

    #[test]
    fn other_seed_gives_other_records() {
        let dir = tempfile::tempdir().unwrap();
        generate(Format::Ndjson, 20, 1, &dir.path().join("a.ndjson"));
        generate(Format::Ndjson, 20, 2, &dir.path().join("b.ndjson"));
        assert_ne!(
            read_tree(&dir.path().join("a.ndjson")),
            read_tree(&dir.path().join("b.ndjson"))
        );
    }

    #[test]
    fn canonical_corpus_loads_without_errors_and_covers_every_kind() {
        let dir = tempfile::tempdir().unwrap();
        for (name, format) in [("corpus.ndjson", Format::Ndjson), ("files", Format::Files)] {
            let out = dir.path().join(name);
            generate(format, 300, 5, &out);
            let (records, loaded) = load_tree(&out);
            let errors: Vec<_> = loaded.iter().flat_map(|f| &f.errors).collect();
            assert!(errors.is_empty(), "{name}: input errors {errors:?}");
            assert_eq!(records.len(), 300, "{name}");

            let (codes, not_applicable) = outcomes(&records);
            for code in ["CCM32-001", "CCM32-002", "CCM32-003", "CCM32-004"] {
                assert!(codes.contains(code), "{name}: no record fails {code}");
            }
            assert!(not_applicable > 0, "{name}: no office visit");
            let denied = records
                .iter()
                .filter(|r| r.value.pointer("/claim/status") == Some(&json!("denied")))
                .count();
            assert!(denied > 0, "{name}: no denied claim");
            let declined = records
                .iter()
                .filter(|r| r.value.pointer("/portal/status") == Some(&json!("declined")))
                .count();
            assert!(declined > 0, "{name}: no declined portal");
        }
    }

    #[test]
    fn canonical_records_are_1_5_to_3_kb() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("corpus.ndjson");
        generate(Format::Ndjson, 300, 9, &out);
        let text = fs::read_to_string(&out).unwrap();
        for line in text.lines() {
            assert!(
                (1500..=3300).contains(&line.len()),
                "record of {} bytes",
                line.len()
            );
        }
    }

    #[test]
    fn fhir_corpus_maps_without_errors_and_covers_every_kind() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("fhir");
        generate(Format::Fhir, 300, 5, &out);
        let (records, loaded) = load_tree(&out);
        let errors: Vec<_> = loaded.iter().flat_map(|f| &f.errors).collect();
        assert!(errors.is_empty(), "input errors {errors:?}");
        assert_eq!(records.len(), 300);

        let (codes, not_applicable) = outcomes(&records);
        for code in ["CCM32-001", "CCM32-002", "CCM32-003", "CCM32-004"] {
            assert!(codes.contains(code), "no record fails {code}");
        }
        assert!(not_applicable > 0, "no office visit");
        let denied = records
            .iter()
            .filter(|r| r.value.pointer("/claim/status") == Some(&json!("denied")))
            .count();
        assert!(denied > 0, "no denied claim");
        let declined = records
            .iter()
            .filter(|r| r.value.pointer("/portal/status") == Some(&json!("declined")))
            .count();
        assert!(declined > 0, "no declined portal");
    }
}
