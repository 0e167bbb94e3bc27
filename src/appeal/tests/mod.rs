//! Tests of the appeal pipeline on the example records and profiles.

mod letter;
mod manifest;

use std::path::Path;
use std::sync::Arc;

use jiff::civil::{date, Date};
use serde_json::Value;

use super::assess::{assess, AppealSettings, Assessment, Case, CaseOutcome};
use super::profile::{PayerDirectory, PracticeProfile};
use super::template::LetterTemplate;
use crate::input::{load_file, Framing};
use crate::record::{Record, RecordSchema};
use crate::rules::RuleSet;

pub(super) const FULL: &str =
    include_str!("../../../examples/records/denied-ccm32-full-evidence.json");
pub(super) const MISSING: &str =
    include_str!("../../../examples/records/denied-ccm32-missing-evidence.json");
pub(super) const TODAY: Date = date(2026, 4, 20);

pub(super) fn practice() -> PracticeProfile {
    PracticeProfile::parse(
        Path::new("practice.yaml"),
        include_str!("../../../examples/profiles/practice.yaml"),
    )
    .expect("example practice profile")
}

pub(super) fn payers() -> PayerDirectory {
    PayerDirectory::parse(
        Path::new("payers.yaml"),
        include_str!("../../../examples/profiles/payers.yaml"),
    )
    .expect("example payer profiles")
}

pub(super) fn rules() -> RuleSet {
    RuleSet::shipped().expect("shipped packs compile")
}

pub(super) fn template() -> LetterTemplate {
    let set = rules();
    let text = set.packs[0]
        .appeal
        .as_ref()
        .and_then(|a| a.embedded)
        .expect("embedded template");
    LetterTemplate::compile("rules/ccm32.appeal.md.j2", text).expect("shipped template compiles")
}

pub(super) fn record_from(value: &Value) -> Record {
    let text = serde_json::to_string(value).expect("serializes");
    let loaded = load_file(
        Arc::from("record.json"),
        text.as_bytes(),
        Framing::Json,
        &RecordSchema::new(),
    );
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    loaded.records.into_iter().next().expect("one record")
}

pub(super) fn parse(text: &str) -> Value {
    serde_json::from_str(text).expect("example is JSON")
}

/// Assesses `record` with the example profiles on [`TODAY`].
pub(super) fn assess_with(
    rules: &RuleSet,
    record: &Record,
    today: Date,
    allow_late: bool,
) -> Option<Case<'static>> {
    let practice = practice();
    let payers = payers();
    let settings = AppealSettings {
        practice: &practice,
        payers: &payers,
        today,
        allow_late,
    };
    match assess(rules, record, &settings) {
        Assessment::Considered(case) => Some(owned(*case)),
        _ => None,
    }
}

/// Drops the borrowed pack so cases can outlive the rule set in tests.
fn owned(case: Case<'_>) -> Case<'static> {
    Case {
        denial: case.denial,
        pack: None,
        matched_by: case.matched_by,
        outcome: case.outcome,
    }
}

/// Renders the letter for `value`, or returns the refusal's missing items.
pub(super) fn letter_for(value: &Value) -> Result<String, Vec<String>> {
    let rules = rules();
    let record = record_from(value);
    let case = assess_with(&rules, &record, TODAY, false).expect("considered");
    match case.outcome {
        CaseOutcome::Appeal(appeal) => Ok(template().render(&appeal.context).expect("renders")),
        CaseOutcome::Refuse(refusal) => Err(refusal
            .missing
            .iter()
            .map(|m| {
                format!(
                    "{}: {}",
                    m.rule.as_ref().map_or("letter", |r| r.code.as_str()),
                    m.expected
                )
            })
            .collect()),
        CaseOutcome::Error(error) => panic!("configuration error: {error}"),
    }
}
