//! The batch manifest: every denied claim considered, and what became of it.
//!
//! The manifest is JSON, described by `schemas/appeal-manifest.schema.json`.
//! It names claims, rules and evidence by id, never by patient data, so it
//! can be shared with people who do not see the letters.

use serde::Serialize;

use super::assess::{Action, Case, CaseOutcome, MissingItem, RefusalReason};
use super::deadline::Deadline;
use super::eligibility::RemittanceSource;
use crate::remit::{DenialOutcome, RemitDenial};

/// The manifest JSON Schema (draft 2020-12), as shipped in `schemas/`.
pub const MANIFEST_SCHEMA_TEXT: &str = include_str!("../../schemas/appeal-manifest.schema.json");

/// The value of the manifest's `format` field.
pub const MANIFEST_FORMAT: &str = "claimlint.appeal-manifest/v1";

/// The manifest of one run.
#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    pub format: &'static str,
    /// The letters' date, `YYYY-MM-DD`.
    pub generated_on: String,
    /// Claims in input order.
    pub claims: Vec<ManifestEntry>,
}

impl Manifest {
    pub fn new(generated_on: String) -> Self {
        Manifest {
            format: MANIFEST_FORMAT,
            generated_on,
            claims: Vec::new(),
        }
    }

    /// Serializes the manifest as pretty-printed JSON ending in a newline.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".to_string());
        text.push('\n');
        text
    }
}

/// The `action` of a remittance denial whose claim has no record.
pub const EXPORT_RECORD_ACTION: &str = "export-record-and-run-again";

/// One considered claim.
#[derive(Debug, Clone, Serialize)]
pub struct ManifestEntry {
    pub claim_id: String,
    /// The encounter id of the record; absent when no record was found for
    /// a remittance denial.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record_id: Option<String>,
    /// The input file the record was read from, or the remittance file when
    /// no record was found.
    pub source: String,
    /// The remittance advice that reported the denial, when it came from one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remittance: Option<RemittanceSource>,
    /// The denial as the claim carries it: label, else codes.
    pub denial: String,
    /// `id@version` of the pack that covers the denial.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pack: Option<String>,
    #[serde(flatten)]
    pub status: EntryStatus,
}

/// The status of a claim after the run.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum EntryStatus {
    /// A letter was written (or would be, in a dry run).
    Appealed {
        /// Letter files, relative to the manifest's folder.
        letters: Vec<String>,
        deadline: DeadlineEntry,
        /// Ids of the evidence the letter cites (pointers for items
        /// without an id).
        evidence: Vec<String>,
        warnings: Vec<String>,
    },
    /// No letter: evidence is missing, the claim is unprocessable, the pack
    /// does not apply or the deadline has passed.
    NotAppealed {
        reason: RefusalReason,
        missing: Vec<MissingItem>,
        action: Action,
        /// The action in words.
        recommendation: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        deadline: Option<DeadlineEntry>,
    },
    /// A configuration or output problem stopped the letter.
    Error { message: String },
    /// A remittance denies the claim, but no input record has its claim id.
    Unmatched {
        /// Always [`EXPORT_RECORD_ACTION`].
        action: &'static str,
        /// The action in words.
        recommendation: String,
    },
}

/// A deadline as the manifest records it.
#[derive(Debug, Clone, Serialize)]
pub struct DeadlineEntry {
    /// Last day to appeal, `YYYY-MM-DD`.
    pub due: String,
    pub notice_date: String,
    /// Days left on the run's date; negative when late.
    pub days_left: i64,
    pub basis: String,
}

impl From<&Deadline> for DeadlineEntry {
    fn from(deadline: &Deadline) -> Self {
        DeadlineEntry {
            due: deadline.due.to_string(),
            notice_date: deadline.notice_date.to_string(),
            days_left: deadline.days_left,
            basis: deadline.rule.describe(),
        }
    }
}

impl ManifestEntry {
    /// Describes a case. `letters` are the files written for an appeal;
    /// `error` replaces the case's own outcome when writing failed.
    pub fn new(
        case: &Case<'_>,
        record_id: &str,
        source: &str,
        letters: Vec<String>,
        error: Option<String>,
    ) -> Self {
        let status = match (&case.outcome, error) {
            (_, Some(message)) => EntryStatus::Error { message },
            (CaseOutcome::Appeal(appeal), None) => EntryStatus::Appealed {
                letters,
                deadline: DeadlineEntry::from(&appeal.deadline),
                evidence: appeal.evidence_ids.clone(),
                warnings: appeal.warnings.clone(),
            },
            (CaseOutcome::Refuse(refusal), None) => EntryStatus::NotAppealed {
                reason: refusal.reason.clone(),
                missing: refusal.missing.clone(),
                action: refusal.action,
                recommendation: refusal.action.describe().to_string(),
                deadline: refusal.deadline.as_ref().map(DeadlineEntry::from),
            },
            (CaseOutcome::Error(error), None) => EntryStatus::Error {
                message: error.to_string(),
            },
        };
        ManifestEntry {
            claim_id: case.denial.claim_id.clone(),
            record_id: Some(record_id.to_string()),
            source: source.to_string(),
            remittance: case.denial.remittance.clone(),
            denial: case.denial.name(),
            pack: case.pack.map(|p| format!("{}@{}", p.id, p.version)),
            status,
        }
    }
}

impl ManifestEntry {
    /// Describes a remittance denial whose claim id no input record has. An
    /// unprocessable claim needs no record to be refused, so it is listed as
    /// not appealed; any other denial as unmatched.
    pub fn without_record(denial: &RemitDenial, outcome: &DenialOutcome) -> Self {
        let status = match outcome {
            DenialOutcome::Unprocessable { reason, .. } => EntryStatus::NotAppealed {
                reason: RefusalReason::Unprocessable {
                    detail: reason.clone(),
                },
                missing: Vec::new(),
                action: Action::CorrectAndResubmit,
                recommendation: Action::CorrectAndResubmit.describe().to_string(),
                deadline: None,
            },
            _ => EntryStatus::Unmatched {
                action: EXPORT_RECORD_ACTION,
                recommendation: unmatched_recommendation(&denial.claim_id),
            },
        };
        let (label, pack) = match outcome {
            DenialOutcome::Covered { label, pack, .. } => (Some(label.clone()), Some(pack.clone())),
            _ => (None, None),
        };
        let codes = denial
            .primary_adjustment(outcome)
            .map(|adjustment| match &adjustment.group {
                Some(group) => format!("{group}-{}", adjustment.carc),
                None => format!("CARC {}", adjustment.carc),
            })
            .into_iter()
            .chain(denial.rarcs.iter().cloned())
            .collect::<Vec<_>>()
            .join(", ");
        ManifestEntry {
            claim_id: denial.claim_id.clone(),
            record_id: None,
            source: denial.source.clone(),
            remittance: denial.remittance_source(),
            denial: label.unwrap_or(codes),
            pack,
            status,
        }
    }
}

/// Returns what to do about a remittance denial without a record.
pub fn unmatched_recommendation(claim_id: &str) -> String {
    format!("no encounter record found for claim {claim_id}; export it and run again")
}
