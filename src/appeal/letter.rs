//! The facts a letter may state, gathered from the record and the profiles.
//!
//! [`LetterContext`] is what a template renders. Its evidence comes only
//! from rules that passed. Each item is the record node at an evidence
//! pointer, read again from the record, so the letter can cite the note's id,
//! author and signing time or the audit event's channel and recipient exactly
//! as recorded. Nothing here invents a value: every field that a letter needs
//! and the record lacks is reported by [`super::assess`] as missing instead.

use jiff::civil::Date;
use serde::Serialize;
use serde_json::Value;

use super::deadline::Deadline;
use super::eligibility::{ClaimDenial, MatchedBy};
use super::format;
use super::profile::{PayerProfile, PracticeProfile, Signer};
use crate::eval::RuleResult;
use crate::finding::{Evidence, Layer};
use crate::record::Record;
use crate::rules::{DenialCode, Pack};

/// Everything a letter template may print.
#[derive(Debug, Clone, Serialize)]
pub struct LetterContext {
    /// The letter's date, `YYYY-MM-DD`.
    pub date: String,
    pub practice: PracticeView,
    pub payer: PayerView,
    pub claim: ClaimView,
    pub patient: PatientView,
    pub denial: DenialView,
    pub pack: PackView,
    /// The pack's rules in pack order, each with the evidence that met it.
    pub rules: Vec<RuleView>,
    /// Each evidence item once, in the order the rules first cite it.
    pub evidence: Vec<EvidenceView>,
    /// The enclosures, in order: the claim, the remittance, then each
    /// evidence item.
    pub attachments: Vec<String>,
    pub deadline: DeadlineView,
}

#[derive(Debug, Clone, Serialize)]
pub struct PracticeView {
    pub name: String,
    pub address_lines: Vec<String>,
    pub phone: String,
    pub npi: String,
    pub signer: Signer,
}

#[derive(Debug, Clone, Serialize)]
pub struct PayerView {
    /// The payer id on the claim.
    pub id: String,
    /// The name from the payer profile.
    pub name: String,
    pub attention: Option<String>,
    pub address_lines: Vec<String>,
    /// The payer type on the claim (`medicare`, `commercial`, …).
    pub payer_type: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ClaimView {
    /// The practice's claim number.
    pub id: String,
    /// The payer's claim number, when the record has it.
    pub payer_claim_number: Option<String>,
    /// Submission date-time as written, when the record has it.
    pub submitted_at: Option<String>,
    /// Date of service, `YYYY-MM-DD` as written.
    pub date_of_service: String,
    /// Billed procedure codes, in service-line order.
    pub service_codes: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PatientView {
    pub name: String,
    /// The practice's patient id.
    pub id: String,
    /// The payer's member id (Medicare number for Medicare), when recorded.
    pub member_id: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DenialView {
    /// The pack's denial label, e.g. `CCM32`.
    pub label: String,
    /// The pack's description of the denial.
    pub description: String,
    /// Adjustment and remark codes as a remittance shows them (`CO-16, N706`).
    pub codes: Option<String>,
    /// Notice date, `YYYY-MM-DD`.
    pub notice_date: String,
    pub matched_by: MatchedBy,
}

#[derive(Debug, Clone, Serialize)]
pub struct PackView {
    pub id: String,
    pub version: String,
    pub title: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct RuleView {
    pub code: String,
    pub name: String,
    /// `cms` or `payer`: whose requirement the rule encodes.
    pub layer: Layer,
    pub citation: String,
    pub description: String,
    pub evidence: Vec<EvidenceView>,
}

/// One evidence item as a letter cites it.
#[derive(Debug, Clone, Serialize)]
pub struct EvidenceView {
    /// JSON pointer of the item in the record.
    pub pointer: String,
    /// The collection or field the item came from (`notes`, `audit_trail`,
    /// `portal`, …).
    pub kind: String,
    pub id: Option<String>,
    /// The date the rule compared, as written.
    pub date: Option<String>,
    pub author: Option<String>,
    /// The pack's label for the requirement this item met.
    pub label: Option<String>,
    /// The rules this item supports, in pack order.
    pub rules: Vec<String>,
    /// True inside [`RuleView::evidence`] when an earlier rule of the letter
    /// already cited this item.
    pub cited_before: bool,
    /// The record node at `pointer`.
    pub item: Value,
}

#[derive(Debug, Clone, Serialize)]
pub struct DeadlineView {
    /// Last day to appeal, `YYYY-MM-DD`.
    pub due: String,
    pub days_left: i64,
    /// Description of how the deadline was computed.
    pub basis: String,
}

/// The inputs that [`build`] combines into a letter context. Every field
/// here has already been checked to be present.
pub(crate) struct LetterFacts<'a> {
    pub record: &'a Record,
    pub pack: &'a Pack,
    pub code: &'a DenialCode,
    pub denial: &'a ClaimDenial,
    pub matched_by: MatchedBy,
    pub results: &'a [RuleResult],
    pub practice: &'a PracticeProfile,
    pub payer_id: &'a str,
    pub payer: &'a PayerProfile,
    pub patient_name: String,
    pub notice_date: Date,
    pub deadline: Deadline,
    pub today: Date,
}

/// Builds the letter context.
pub(crate) fn build(facts: &LetterFacts<'_>) -> LetterContext {
    let record = &facts.record.value;
    let text = |pointer: &str| {
        record
            .pointer(pointer)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };

    let (rules, evidence) = cite_evidence(facts);
    let claim = ClaimView {
        id: facts.denial.claim_id.clone(),
        payer_claim_number: facts.denial.payer_claim_number.clone(),
        submitted_at: text("/claim/submitted_at"),
        date_of_service: text("/encounter/date_of_service").unwrap_or_default(),
        service_codes: record
            .get("service_lines")
            .and_then(Value::as_array)
            .map(|lines| {
                lines
                    .iter()
                    .filter_map(|line| line.get("code").and_then(Value::as_str))
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default(),
    };
    let attachments = attachments(&claim, facts, &evidence);
    let payer_address = &facts.payer.appeals_address;

    LetterContext {
        date: facts.today.to_string(),
        practice: PracticeView {
            name: facts.practice.name.clone(),
            address_lines: facts.practice.address.printed_lines(),
            phone: facts.practice.phone.clone(),
            npi: facts.practice.npi.clone(),
            signer: facts.practice.signer.clone(),
        },
        payer: PayerView {
            id: facts.payer_id.to_string(),
            name: facts.payer.name.clone(),
            attention: payer_address.attention.clone(),
            address_lines: payer_address.address.printed_lines(),
            payer_type: text("/claim/payer/type"),
        },
        patient: PatientView {
            name: facts.patient_name.clone(),
            id: text("/patient/id").unwrap_or_default(),
            member_id: text("/patient/member_id"),
        },
        denial: DenialView {
            label: facts.code.label.clone(),
            description: facts.code.description.clone(),
            codes: facts.denial.codes_text(),
            notice_date: facts.notice_date.to_string(),
            matched_by: facts.matched_by,
        },
        pack: PackView {
            id: facts.pack.id.clone(),
            version: facts.pack.version.clone(),
            title: facts.pack.title.clone(),
        },
        claim,
        rules,
        evidence,
        attachments,
        deadline: DeadlineView {
            due: facts.deadline.due.to_string(),
            days_left: facts.deadline.days_left,
            basis: facts.deadline.rule.describe(),
        },
    }
}

/// Pairs each rule with its evidence, reading each item from the record,
/// and lists every item once.
fn cite_evidence(facts: &LetterFacts<'_>) -> (Vec<RuleView>, Vec<EvidenceView>) {
    let mut all: Vec<EvidenceView> = Vec::new();
    let mut rules = Vec::new();
    for rule in &facts.pack.rules {
        let Some(result) = facts.results.iter().find(|r| r.code == rule.code) else {
            continue;
        };
        let mut cited = Vec::new();
        for evidence in unique_by_pointer(&result.evidence) {
            let seen = all.iter_mut().find(|e| e.pointer == evidence.pointer);
            let cited_before = seen.is_some();
            match seen {
                Some(existing) => existing.rules.push(rule.code.clone()),
                None => all.push(view(evidence, &rule.code, facts.record, false)),
            }
            cited.push(view(evidence, &rule.code, facts.record, cited_before));
        }
        rules.push(RuleView {
            code: rule.code.clone(),
            name: rule.name.clone(),
            layer: rule.layer,
            citation: rule.citation.clone(),
            description: rule.description.clone(),
            evidence: cited,
        });
    }
    // Each rule's copy lists every rule that cites the item.
    for rule in &mut rules {
        for item in &mut rule.evidence {
            if let Some(full) = all.iter().find(|e| e.pointer == item.pointer) {
                item.rules = full.rules.clone();
            }
        }
    }
    (rules, all)
}

fn unique_by_pointer(evidence: &[Evidence]) -> Vec<&Evidence> {
    let mut out: Vec<&Evidence> = Vec::new();
    for item in evidence {
        if !out.iter().any(|e| e.pointer == item.pointer) {
            out.push(item);
        }
    }
    out
}

fn view(evidence: &Evidence, rule: &str, record: &Record, cited_before: bool) -> EvidenceView {
    EvidenceView {
        pointer: evidence.pointer.clone(),
        kind: evidence.kind.clone(),
        id: evidence.id.clone(),
        date: evidence.date.clone(),
        author: evidence.author.clone(),
        label: evidence.label.clone(),
        rules: vec![rule.to_string()],
        cited_before,
        item: record
            .value
            .pointer(&evidence.pointer)
            .cloned()
            .unwrap_or(Value::Null),
    }
}

/// Lists the enclosures: the original claim, the denial notice, then each
/// evidence item by what it is.
fn attachments(
    claim: &ClaimView,
    facts: &LetterFacts<'_>,
    evidence: &[EvidenceView],
) -> Vec<String> {
    let mut list = Vec::new();
    let mut original = format!("Copy of the original claim {}", claim.id);
    if let Some(submitted) = claim
        .submitted_at
        .as_deref()
        .and_then(format::record_date_time)
    {
        original.push_str(&format!(", submitted {}", date_part(&submitted)));
    }
    list.push(original);

    let mut notice = match &facts.denial.remittance {
        Some(remittance) => {
            let mut text = format!("Remittance advice (X12 835) {}", remittance.file);
            if let Some(trace) = &remittance.trace_number {
                text.push_str(&format!(", check/EFT trace number {trace}"));
            }
            text.push_str(&format!(", dated {}", format::long_date(facts.notice_date)));
            text
        }
        None => format!(
            "Remittance advice (explanation of benefits) dated {}",
            format::long_date(facts.notice_date)
        ),
    };
    if let Some(number) = &claim.payer_claim_number {
        notice.push_str(&format!(", payer claim number {number}"));
    }
    if let Some(codes) = facts.denial.codes_text() {
        notice.push_str(&format!(", showing {codes}"));
    }
    list.push(notice);

    list.extend(evidence.iter().map(describe_item));
    list
}

/// "March 3, 2026 at 10:55 AM (UTC-05:00)" → "March 3, 2026".
fn date_part(formatted: &str) -> &str {
    formatted.split(" at ").next().unwrap_or(formatted)
}

fn field<'v>(item: &'v Value, path: &str) -> Option<&'v str> {
    path.split('.')
        .try_fold(item, |node, key| node.get(key))
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// Names one evidence item for the enclosure list.
fn describe_item(evidence: &EvidenceView) -> String {
    let item = &evidence.item;
    let when = evidence
        .date
        .as_deref()
        .and_then(format::record_date_time)
        .map(|d| date_part(&d).to_string());
    let mut text = match evidence.kind.as_str() {
        "notes" => {
            let mut text = match field(item, "type") {
                Some(kind) => capitalize(&kind.replace('-', " ")),
                None => "Clinical note".to_string(),
            };
            if let Some(id) = &evidence.id {
                text.push_str(&format!(" {id}"));
            }
            match (field(item, "author.name"), field(item, "author.role")) {
                (Some(name), Some(role)) => text.push_str(&format!(" by {name}, {role}")),
                (Some(name), None) => text.push_str(&format!(" by {name}")),
                _ => {}
            }
            if let Some(when) = &when {
                text.push_str(&format!(", signed {when}"));
            }
            return text;
        }
        "audit_trail" => {
            let mut text = "Audit trail entry".to_string();
            if let Some(id) = &evidence.id {
                text.push_str(&format!(" {id}"));
            }
            if let Some(kind) = field(item, "type") {
                text.push_str(&format!(" ({kind})"));
            }
            text
        }
        "portal" => match field(item, "status") {
            Some(status) => format!("Patient portal record (status: {status})"),
            None => "Patient portal record".to_string(),
        },
        other => {
            let mut text = format!("Record of {}", other.replace('_', " "));
            if let Some(id) = &evidence.id {
                text.push_str(&format!(" {id}"));
            }
            text
        }
    };
    if let Some(when) = when {
        text.push_str(&format!(", {when}"));
    }
    text
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
