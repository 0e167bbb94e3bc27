//! Property tests: no input panics the loaders, a letter is never written
//! without its evidence, and findings do not depend on the order of the
//! inputs. Case counts are kept small so the suite stays fast; the fuzz
//! targets under fuzz/ run the same loaders for longer.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use claimlint::appeal::assess::{assess, AppealSettings, Assessment, CaseOutcome};
use claimlint::appeal::profile::{PayerDirectory, PracticeProfile};
use claimlint::eval;
use claimlint::fhir::{self, FhirMapping};
use claimlint::input::{load_file, Framing};
use claimlint::record::{Record, RecordSchema};
use claimlint::rules::RuleSet;
use proptest::prelude::*;
use serde_json::Value;

fn repo_file(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
        .expect("repository file")
}

/// Arbitrary JSON, biased towards the shapes the loaders branch on.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::String),
        prop_oneof![
            Just("claimlint.encounter/v1"),
            Just("Bundle"),
            Just("Encounter"),
            Just("Patient"),
            Just("2026-03-03"),
            Just("2026"),
            Just("IGNORED_FIELD"),
        ]
        .prop_map(|s| Value::String(s.to_string())),
    ];
    let keys = prop_oneof![
        Just("record_type"),
        Just("resourceType"),
        Just("entry"),
        Just("resource"),
        Just("patient"),
        Just("encounter"),
        Just("id"),
        Just("subject"),
        Just("reference"),
        Just("period"),
        Just("start"),
        Just("date_of_service"),
        Just("meta"),
        Just("fullUrl"),
    ]
    .prop_map(str::to_string);
    leaf.prop_recursive(5, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((keys.clone(), inner), 0..6)
                .prop_map(|members| Value::Object(members.into_iter().collect())),
        ]
    })
}

fn load_all_framings(bytes: &[u8]) {
    let schema = RecordSchema::new();
    for framing in [Framing::Json, Framing::Ndjson, Framing::Detect] {
        let loaded = load_file(Arc::from("fuzz.json"), bytes, framing, &schema);
        let _ = fhir::map_records(loaded.fhir, &FhirMapping::builtin(), &schema);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        load_all_framings(&bytes);
    }

    #[test]
    fn arbitrary_json_never_panics(value in json_value()) {
        let text = serde_json::to_string(&value).unwrap();
        load_all_framings(text.as_bytes());
        // The same value inside a Bundle entry reaches FHIR collection.
        let bundle = serde_json::json!({"resourceType": "Bundle", "type": "collection", "entry": [{"resource": value}]});
        load_all_framings(serde_json::to_string(&bundle).unwrap().as_bytes());
    }

    #[test]
    fn mutated_fhir_bundle_never_panics(cut in 0usize..4096, byte in any::<u8>()) {
        let mut bytes = repo_file("examples/fhir/ccm-bundle.json").into_bytes();
        let at = cut % bytes.len();
        bytes[at] = byte;
        load_all_framings(&bytes);
        bytes.truncate(at);
        load_all_framings(&bytes);
    }
}

/// The evidence the full-evidence example cites, by JSON pointer.
const EVIDENCE: [&str; 6] = [
    "/audit_trail/0",
    "/audit_trail/1",
    "/notes/0",
    "/portal",
    "/patient/email_verified_at",
    "/patient/email",
];

fn remove_pointers(mut value: Value, pointers: &[&str]) -> Value {
    // Reverse order removes /audit_trail/1 before /audit_trail/0, so the
    // second index stays valid. This holds for single-digit indexes only.
    let mut sorted: Vec<&str> = pointers.to_vec();
    sorted.sort_by(|a, b| b.cmp(a));
    for pointer in sorted {
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        match value.pointer_mut(parent) {
            Some(Value::Object(map)) => {
                map.shift_remove(key);
            }
            Some(Value::Array(items)) => {
                items.remove(key.parse::<usize>().unwrap());
            }
            _ => panic!("no parent for {pointer}"),
        }
    }
    value
}

fn record_of(value: &Value) -> Record {
    let text = serde_json::to_string(value).unwrap();
    let loaded = load_file(
        Arc::from("record.json"),
        text.as_bytes(),
        Framing::Json,
        &RecordSchema::new(),
    );
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    loaded.records.into_iter().next().unwrap()
}

struct AppealFixture {
    rules: RuleSet,
    practice: PracticeProfile,
    payers: PayerDirectory,
    full: Value,
}

impl AppealFixture {
    fn new() -> Self {
        AppealFixture {
            rules: RuleSet::shipped().expect("shipped packs compile"),
            practice: PracticeProfile::parse(
                Path::new("practice.yaml"),
                &repo_file("examples/profiles/practice.yaml"),
            )
            .unwrap(),
            payers: PayerDirectory::parse(
                Path::new("payers.yaml"),
                &repo_file("examples/profiles/payers.yaml"),
            )
            .unwrap(),
            full: serde_json::from_str(&repo_file(
                "examples/records/denied-ccm32-full-evidence.json",
            ))
            .unwrap(),
        }
    }

    /// True when a letter would be written for the record without `removed`.
    fn writes_letter(&self, removed: &[&str]) -> bool {
        let record = record_of(&remove_pointers(self.full.clone(), removed));
        let settings = AppealSettings {
            practice: &self.practice,
            payers: &self.payers,
            today: jiff::civil::date(2026, 4, 20),
            allow_late: false,
        };
        match assess(&self.rules, &record, &settings) {
            Assessment::Considered(case) => matches!(case.outcome, CaseOutcome::Appeal(_)),
            _ => false,
        }
    }
}

fn appeal_fixture() -> &'static (AppealFixture, Vec<&'static str>) {
    static FIXTURE: OnceLock<(AppealFixture, Vec<&'static str>)> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let fixture = AppealFixture::new();
        let required = required_items(&fixture);
        (fixture, required)
    })
}

/// Returns the evidence items whose removal alone stops the letter.
fn required_items(fixture: &AppealFixture) -> Vec<&'static str> {
    EVIDENCE
        .iter()
        .copied()
        .filter(|item| !fixture.writes_letter(&[item]))
        .collect()
}

#[test]
fn full_evidence_writes_a_letter() {
    let fixture = AppealFixture::new();
    assert!(fixture.writes_letter(&[]));
    let required = required_items(&fixture);
    for item in ["/audit_trail/1", "/notes/0", "/patient/email_verified_at"] {
        assert!(required.contains(&item), "{item} is required: {required:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn no_letter_without_required_evidence(mask in 1u8..64) {
        let (fixture, required) = appeal_fixture();
        let removed: Vec<&str> = EVIDENCE.iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0).map(|(_, p)| *p).collect();
        if removed.iter().any(|item| required.contains(item)) {
            prop_assert!(!fixture.writes_letter(&removed), "letter written without {:?}", removed);
        }
    }
}

/// Evaluates the inputs and lists each finding as sortable text: record,
/// code, pointer and message.
fn findings_of(texts: &[(String, String)]) -> Vec<String> {
    static RULES: OnceLock<RuleSet> = OnceLock::new();
    let rules = RULES.get_or_init(|| RuleSet::shipped().unwrap());
    let schema = RecordSchema::new();
    let mut records = Vec::new();
    let mut resources = Vec::new();
    for (name, text) in texts {
        let loaded = load_file(
            Arc::from(name.as_str()),
            text.as_bytes(),
            Framing::from_path(name),
            &schema,
        );
        records.extend(loaded.records);
        resources.extend(loaded.fhir);
    }
    records.extend(fhir::map_records(resources, &FhirMapping::builtin(), &schema).records);

    let mut months = eval::PatientMonths::new(rules);
    let mut findings = Vec::new();
    for record in &records {
        months.add(record);
        for result in eval::evaluate(rules, record) {
            for finding in result.findings {
                findings.push(format!(
                    "{} {} {} {}",
                    record.id, finding.code, finding.pointer, finding.message
                ));
            }
        }
    }
    let report = months.finish();
    for (index, finding) in report.results.into_iter().flat_map(|r| r.findings) {
        findings.push(format!(
            "{} {} {} {}",
            report.records[index].id, finding.code, finding.pointer, finding.message
        ));
    }
    findings.sort();
    findings
}

fn example_inputs() -> Vec<(String, String)> {
    let mut inputs: Vec<(String, String)> = Vec::new();
    for folder in ["examples/records", "examples/batch", "examples/fhir"] {
        let mut names: Vec<_> =
            std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(folder))
                .unwrap()
                .map(|entry| entry.unwrap().path())
                .collect();
        names.sort();
        for path in names {
            let name = path.display().to_string();
            inputs.push((name, std::fs::read_to_string(&path).unwrap()));
        }
    }
    inputs
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn findings_do_not_depend_on_file_order(order in Just(example_inputs()).prop_shuffle()) {
        static EXPECTED: OnceLock<Vec<String>> = OnceLock::new();
        let expected = EXPECTED.get_or_init(|| findings_of(&example_inputs()));
        prop_assert!(!expected.is_empty());
        prop_assert_eq!(&findings_of(&order), expected);
    }
}
