//! Decides, claim by claim, whether an appeal letter may be written.
//!
//! A letter is written only when the claim's denial is covered by a pack,
//! the pack applies to the record, every rule of the pack passes, the record
//! holds what the letter must name (patient, payer, notice date) and the
//! appeal is on time. Otherwise the claim is refused with each missing piece
//! and a recommended action: an unsupported appeal is worse than none.

use jiff::civil::Date;
use serde::Serialize;
use serde_json::Value;

use super::deadline::{
    parse_notice_date, Deadline, DeadlineOverflow, DeadlineRule, DeadlineStatus,
};
use super::eligibility::{eligibility, eligibility_of, ClaimDenial, Eligibility, MatchedBy};
use super::letter::{self, LetterContext, LetterFacts};
use super::profile::{PayerDirectory, PracticeProfile};
use crate::eval::{evaluate_pack, NotApplicable, PackResult};
use crate::finding::{Layer, Outcome};
use crate::record::Record;
use crate::rules::condition::Condition;
use crate::rules::{DenialCode, Pack, RuleSet};

/// Profiles and options shared by every assessment.
#[derive(Debug, Clone, Copy)]
pub struct AppealSettings<'a> {
    pub practice: &'a PracticeProfile,
    pub payers: &'a PayerDirectory,
    /// The letter's date and the day deadlines are counted from.
    pub today: Date,
    /// Write letters for appeals whose deadline has passed.
    pub allow_late: bool,
}

/// The assessment of one record.
#[derive(Debug, Clone)]
pub enum Assessment<'r> {
    /// The record's claim is not denied.
    NotDenied,
    /// The claim is denied with a code that no pack covers.
    Uncovered { denial: Box<ClaimDenial> },
    /// The claim is denied and was considered for appeal.
    Considered(Box<Case<'r>>),
}

/// One denied claim considered for appeal.
#[derive(Debug, Clone)]
pub struct Case<'r> {
    pub denial: ClaimDenial,
    /// The pack that covers the denial; `None` for an unprocessable claim.
    pub pack: Option<&'r Pack>,
    pub matched_by: Option<MatchedBy>,
    pub outcome: CaseOutcome,
}

/// The decision for one considered claim.
#[derive(Debug, Clone)]
pub enum CaseOutcome {
    /// Write the letter.
    Appeal(Box<Appeal>),
    /// Write no letter.
    Refuse(Refusal),
    /// The profiles do not fit the claim; fix the configuration.
    Error(CaseError),
}

/// A claim whose letter may be written.
#[derive(Debug, Clone)]
pub struct Appeal {
    pub context: LetterContext,
    pub deadline: Deadline,
    /// Ids (or pointers, for items without an id) of the evidence cited.
    pub evidence_ids: Vec<String>,
    /// Things the user must know before sending, e.g. a close deadline.
    pub warnings: Vec<String>,
}

/// A decision to write no letter, with the reason and the recommended action.
#[derive(Debug, Clone, Serialize)]
pub struct Refusal {
    pub reason: RefusalReason,
    /// Each missing piece of evidence or letter data.
    pub missing: Vec<MissingItem>,
    pub action: Action,
    /// The deadline, when it could be computed.
    #[serde(skip)]
    pub deadline: Option<Deadline>,
}

/// The reason a claim was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum RefusalReason {
    /// The claim was returned as unprocessable.
    Unprocessable { detail: String },
    /// The pack that covers the denial does not apply to the record.
    NotApplicable { detail: String },
    /// Evidence or letter data is missing from the record.
    MissingEvidence,
    /// The appeal deadline has passed.
    Late,
}

/// One thing the record lacks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MissingItem {
    /// The rule whose evidence is missing; `None` for data the letter
    /// itself needs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<RuleRef>,
    /// JSON pointer of the node that fell short, or of its nearest existing
    /// ancestor.
    pub pointer: String,
    /// The evidence or field that was looked for.
    pub expected: String,
    /// The value found instead, described without patient-identifying data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub found: Option<String>,
    /// True when the rule accepts any one of its alternatives, and this is
    /// one of several that are all missing.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub any_of: bool,
}

/// The rule behind a missing item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleRef {
    pub code: String,
    pub name: String,
    pub layer: Layer,
    /// The rule's rendered help: what to record.
    #[serde(skip)]
    pub help: String,
    #[serde(skip)]
    pub citation: String,
}

/// The recommended action for a refused claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Correct the claim and submit it again as a new claim.
    CorrectAndResubmit,
    /// Add the evidence if the practice has it, else accept the denial.
    CorrectRecordOrDoNotAppeal,
    /// The pack's evidence cannot support an appeal of this claim.
    DoNotAppeal,
    /// Appeal only with good cause for filing late.
    AppealLateOnlyWithGoodCause,
}

impl Refusal {
    /// Codes of the rules that lack evidence, in pack order.
    pub fn failed_rules(&self) -> Vec<&str> {
        let mut codes: Vec<&str> = Vec::new();
        for code in self
            .missing
            .iter()
            .filter_map(|m| m.rule.as_ref())
            .map(|r| r.code.as_str())
        {
            if !codes.contains(&code) {
                codes.push(code);
            }
        }
        codes
    }
}

impl Action {
    /// Describes the action in words, as the user reads it.
    pub fn describe(self) -> &'static str {
        match self {
            Action::CorrectAndResubmit => {
                "correct the claim and submit it again as a new claim; a claim returned as unprocessable cannot be appealed"
            }
            Action::CorrectRecordOrDoNotAppeal => {
                "if the EHR holds the missing evidence, correct the record and run the appeal again; \
                 if the service did not include it, do not appeal"
            }
            Action::DoNotAppeal => {
                "do not appeal on this pack's grounds: its requirements do not apply to this claim, so its evidence cannot support an appeal"
            }
            Action::AppealLateOnlyWithGoodCause => {
                "do not appeal unless you can show the payer good cause for filing late"
            }
        }
    }
}

/// A configuration problem that stops one claim's letter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaseError {
    #[error("payer {payer_id} is not in the payer profiles ({file})")]
    UnknownPayer { payer_id: String, file: String },
    #[error("the practice profile's NPI {practice_npi} differs from the claim's billing NPI {claim_npi}")]
    PracticeMismatch {
        practice_npi: String,
        claim_npi: String,
    },
    #[error("the letter date {today} is before the denial notice date {notice}")]
    LetterBeforeNotice { today: String, notice: String },
    #[error(transparent)]
    Deadline(#[from] DeadlineOverflow),
}

impl CaseError {
    /// Returns the next step for the user.
    pub fn help(&self) -> &'static str {
        match self {
            CaseError::UnknownPayer { .. } => "add the payer, keyed by its id, to the payer profiles file",
            CaseError::PracticeMismatch { .. } => {
                "use the practice profile of the practice that billed the claim"
            }
            CaseError::LetterBeforeNotice { .. } => {
                "check the notice date in the record and the --today option; an appeal answers a notice already received"
            }
            CaseError::Deadline(_) => "check the denial's notice date",
        }
    }
}

/// Assesses one record.
pub fn assess<'r>(
    rules: &'r RuleSet,
    record: &Record,
    settings: &AppealSettings<'_>,
) -> Assessment<'r> {
    decide(rules, record, settings, eligibility(rules, record))
}

/// Assesses one record against a denial given apart from the record, such as
/// one read from a remittance advice. The record's `claim.denial` should
/// state the same denial, because pack rules read the record.
pub fn assess_denial<'r>(
    rules: &'r RuleSet,
    record: &Record,
    settings: &AppealSettings<'_>,
    denial: ClaimDenial,
) -> Assessment<'r> {
    decide(rules, record, settings, eligibility_of(rules, denial))
}

fn decide<'r>(
    rules: &'r RuleSet,
    record: &Record,
    settings: &AppealSettings<'_>,
    eligibility: Eligibility<'r>,
) -> Assessment<'r> {
    match eligibility {
        Eligibility::NotDenied => Assessment::NotDenied,
        Eligibility::Uncovered { denial } => Assessment::Uncovered {
            denial: Box::new(denial),
        },
        Eligibility::Unprocessable { denial, reason } => Assessment::Considered(Box::new(Case {
            denial,
            pack: None,
            matched_by: None,
            outcome: CaseOutcome::Refuse(Refusal {
                reason: RefusalReason::Unprocessable {
                    detail: reason.to_string(),
                },
                missing: Vec::new(),
                action: Action::CorrectAndResubmit,
                deadline: None,
            }),
        })),
        Eligibility::Answered {
            denial,
            pack,
            code,
            matched_by,
        } => {
            let outcome = assess_answered(rules, record, settings, &denial, pack, code, matched_by);
            Assessment::Considered(Box::new(Case {
                denial,
                pack: Some(pack),
                matched_by: Some(matched_by),
                outcome,
            }))
        }
    }
}

fn assess_answered(
    rules: &RuleSet,
    record: &Record,
    settings: &AppealSettings<'_>,
    denial: &ClaimDenial,
    pack: &Pack,
    code: &DenialCode,
    matched_by: MatchedBy,
) -> CaseOutcome {
    let result = evaluate_pack(rules, pack, record);
    if let Some(why) = &result.not_applicable {
        let detail = match why {
            NotApplicable::Condition => format!(
                "pack {} does not apply to this record: its applicability condition does not hold",
                pack.id
            ),
            NotApplicable::OutsideEffectiveDates => {
                format!("pack {} does not apply to this record: the date of service is outside its effective dates", pack.id)
            }
        };
        return CaseOutcome::Refuse(Refusal {
            reason: RefusalReason::NotApplicable { detail },
            missing: Vec::new(),
            action: Action::DoNotAppeal,
            deadline: None,
        });
    }

    // NOTE: every rule of the covering pack must pass; a pack cannot yet
    // name the subset of its rules that one of its denials depends on.
    let mut missing = missing_evidence(pack, &result);
    let letter_data = LetterData::read(record, denial);
    missing.extend(letter_data.missing.iter().cloned());

    let payer = match &letter_data.payer_id {
        Some(id) => match settings.payers.get(id) {
            Some(profile) => Some((id.as_str(), profile)),
            None if missing.is_empty() => {
                return CaseOutcome::Error(CaseError::UnknownPayer {
                    payer_id: id.clone(),
                    file: settings.payers.path.display().to_string(),
                })
            }
            None => None,
        },
        None => None,
    };
    if let Some(notice) = letter_data.notice_date {
        if settings.today < notice {
            return CaseOutcome::Error(CaseError::LetterBeforeNotice {
                today: settings.today.to_string(),
                notice: notice.to_string(),
            });
        }
    }
    let deadline = match (letter_data.notice_date, payer) {
        (Some(notice), Some((_, profile))) => {
            let rule = DeadlineRule::for_payer(
                letter_data.payer_type.as_deref(),
                profile.appeal_window_days,
            );
            match Deadline::compute(notice, rule, settings.today) {
                Ok(deadline) => Some(deadline),
                Err(error) => return CaseOutcome::Error(error.into()),
            }
        }
        _ => None,
    };

    if !missing.is_empty() {
        return CaseOutcome::Refuse(Refusal {
            reason: RefusalReason::MissingEvidence,
            missing,
            action: Action::CorrectRecordOrDoNotAppeal,
            deadline,
        });
    }
    let (Some((payer_id, payer)), Some(deadline), Some(notice_date), Some(patient_name)) = (
        payer,
        deadline,
        letter_data.notice_date,
        letter_data.patient_name,
    ) else {
        // Unreachable: each of these is reported as missing when absent.
        return CaseOutcome::Refuse(Refusal {
            reason: RefusalReason::MissingEvidence,
            missing: Vec::new(),
            action: Action::CorrectRecordOrDoNotAppeal,
            deadline: None,
        });
    };

    if let Some(claim_npi) = record
        .value
        .pointer("/encounter/billing_npi")
        .and_then(Value::as_str)
    {
        if claim_npi.trim() != settings.practice.npi {
            return CaseOutcome::Error(CaseError::PracticeMismatch {
                practice_npi: settings.practice.npi.clone(),
                claim_npi: claim_npi.trim().to_string(),
            });
        }
    }

    let mut warnings = Vec::new();
    match deadline.status() {
        DeadlineStatus::Late if !settings.allow_late => {
            return CaseOutcome::Refuse(Refusal {
                reason: RefusalReason::Late,
                missing: Vec::new(),
                action: Action::AppealLateOnlyWithGoodCause,
                deadline: Some(deadline),
            });
        }
        DeadlineStatus::Late => warnings.push(format!(
            "the appeal deadline passed on {} ({} days ago); the payer may dismiss a late appeal without good cause",
            deadline.due,
            -deadline.days_left
        )),
        DeadlineStatus::DueSoon => warnings.push(format!(
            "the appeal is due on {}, in {} days",
            deadline.due, deadline.days_left
        )),
        DeadlineStatus::Open => {}
    }

    let context = letter::build(&LetterFacts {
        record,
        pack,
        code,
        denial,
        matched_by,
        results: &result.rules,
        practice: settings.practice,
        payer_id,
        payer,
        patient_name,
        notice_date,
        deadline,
        today: settings.today,
    });
    let evidence_ids = context
        .evidence
        .iter()
        .map(|e| e.id.clone().unwrap_or_else(|| e.pointer.clone()))
        .collect();
    CaseOutcome::Appeal(Box::new(Appeal {
        context,
        deadline,
        evidence_ids,
        warnings,
    }))
}

/// Lists one missing item per miss of each rule that did not pass.
fn missing_evidence(pack: &Pack, result: &PackResult) -> Vec<MissingItem> {
    let mut missing = Vec::new();
    for rule_result in result.rules.iter().filter(|r| r.outcome != Outcome::Pass) {
        let Some(rule) = pack.rules.iter().find(|r| r.code == rule_result.code) else {
            continue;
        };
        let help = result
            .findings
            .iter()
            .find(|f| f.code == rule.code)
            .map(|f| f.help.clone())
            .unwrap_or_default();
        let reference = RuleRef {
            code: rule.code.clone(),
            name: rule.name.clone(),
            layer: rule.layer,
            help,
            citation: rule.citation.clone(),
        };
        if rule_result.misses.is_empty() {
            missing.push(MissingItem {
                rule: Some(reference),
                pointer: String::new(),
                expected: rule.description.clone(),
                found: None,
                any_of: false,
            });
            continue;
        }
        let any_of =
            matches!(rule.evidence.condition, Condition::Any(_)) && rule_result.misses.len() > 1;
        for miss in &rule_result.misses {
            missing.push(MissingItem {
                rule: Some(reference.clone()),
                pointer: miss.pointer.clone(),
                expected: miss.expected.clone(),
                found: miss.found.clone(),
                any_of,
            });
        }
    }
    missing
}

/// Record fields the letter needs besides evidence.
struct LetterData {
    patient_name: Option<String>,
    payer_id: Option<String>,
    payer_type: Option<String>,
    notice_date: Option<Date>,
    missing: Vec<MissingItem>,
}

impl LetterData {
    fn read(record: &Record, denial: &ClaimDenial) -> LetterData {
        let value = &record.value;
        let text = |pointer: &str| {
            value
                .pointer(pointer)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let mut missing = Vec::new();
        let mut lack = |pointer: &str, expected: &str, found: Option<&str>| {
            missing.push(MissingItem {
                rule: None,
                pointer: nearest_existing(value, pointer),
                expected: expected.to_string(),
                found: found.map(str::to_string),
                any_of: false,
            })
        };

        let patient_name = text("/patient/name/text").or_else(|| {
            let parts: Vec<String> = ["/patient/name/given", "/patient/name/family"]
                .iter()
                .filter_map(|p| text(p))
                .collect();
            (parts.len() == 2).then(|| parts.join(" "))
        });
        if patient_name.is_none() {
            lack(
                "/patient/name",
                "the patient's name (patient.name.text, or given and family), which the letter's RE block names",
                Some("missing"),
            );
        }
        let payer_id = text("/claim/payer/id");
        if payer_id.is_none() {
            lack(
                "/claim/payer/id",
                "the payer id (claim.payer.id), which selects the payer's appeals address",
                Some("missing"),
            );
        }
        let notice_date = match &denial.notice_date {
            Some(date) => {
                let parsed = parse_notice_date(date);
                if parsed.is_none() {
                    lack(
                        "/claim/denial/notice_date",
                        "the denial notice date as a full date (YYYY-MM-DD), from which the appeal deadline is counted",
                        Some("not a full date"),
                    );
                }
                parsed
            }
            None => {
                lack(
                    "/claim/denial/notice_date",
                    "the denial notice date (claim.denial.notice_date), from which the appeal deadline is counted",
                    Some("missing"),
                );
                None
            }
        };
        LetterData {
            patient_name,
            payer_id,
            payer_type: text("/claim/payer/type"),
            notice_date,
            missing,
        }
    }
}

/// Returns the pointer of the deepest node that exists on `pointer`'s path.
fn nearest_existing(value: &Value, pointer: &str) -> String {
    let mut current = value;
    let mut found = String::new();
    for token in pointer.split('/').skip(1) {
        match current.get(token) {
            Some(child) => {
                current = child;
                found.push('/');
                found.push_str(token);
            }
            None => break,
        }
    }
    found
}
