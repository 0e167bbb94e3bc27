//! Denials reported by remittance advice, classified against the rule packs.
//!
//! An 835 claim (CLP) is listed as denied when it has a denial adjustment: a
//! positive CAS amount outside group `PR` (patient responsibility) on a
//! claim with status 4, or on a claim or service line that was paid zero.
//! That leaves out fee-schedule reductions on paid lines (such as `CO-45`),
//! coinsurance, and reversals (status 22, negative amounts). A claim with
//! remark N211 is listed even without such an adjustment.
//!
//! A denied claim is then classified: unprocessable (CARC 16 with MA130, or
//! N211), covered by a pack's denial label, or covered by no pack. The
//! adjustment whose codes map to a pack is the one an appeal answers.
//!
//! PHI: a [`RemitDenial`] never holds the patient (`NM1*QC`) or REF values,
//! because REF segments such as `REF*EA` (medical record number) and
//! `REF*1W` (member id) identify a patient. Serializing it is safe to print.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::{json, Map, Value};

use super::x12::{AdjustmentGroup, ClaimPayment, Remittance};
use crate::appeal::eligibility::{ClaimDenial, RemittanceSource};
use crate::rules::{unprocessable_reason, DenialQuery, RuleSet, GROUP_CODES};

/// The action printed for an unprocessable claim.
pub const CORRECT_AND_RESUBMIT: &str = "correct and resubmit";

/// One denied claim, from an 835 or from a record's `claim.denial`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RemitDenial {
    /// The file the denial was read from, as the user named it.
    pub source: String,
    /// Position of the CLP segment, for 835 input.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<SegmentPosition>,
    /// CLP01, the practice's claim id, which is the record's `claim.id`.
    pub claim_id: String,
    /// CLP07, the payer's claim control number.
    pub payer_claim_number: Option<String>,
    pub payer: PayerRef,
    /// CLP02 claim status code for 835 input, such as `4` (denied), or the
    /// record's `claim.status`.
    pub status: Option<String>,
    /// The denial adjustments, claim level first, then line by line.
    pub adjustments: Vec<DenialAdjustment>,
    /// Remark codes (RARCs), claim level first, then line by line, each once.
    pub rarcs: Vec<String>,
    /// The payer's denial label, when the source carries one (records only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The remittance date, `YYYY-MM-DD`, which is the denial's notice date.
    pub notice_date: Option<String>,
    /// The 835 transaction that reported the denial, for 835 input.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remittance: Option<RemittanceRef>,
    /// REF segments of the claim and its lines as (qualifier, value), for
    /// payer mappings that test them. Not serialized: REF values can be PHI.
    #[serde(skip)]
    pub refs: Vec<(String, String)>,
}

/// Location of a CLP segment in an 835 file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SegmentPosition {
    /// 1-based segment number.
    pub segment: usize,
    /// 1-based line.
    pub line: usize,
}

/// The payer of a denied claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PayerRef {
    /// `REF*2U`, else N104 of `N1*PR`, or the record's `claim.payer.id`.
    pub id: Option<String>,
    pub name: Option<String>,
}

/// The 835 transaction set that reported a denial.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RemittanceRef {
    /// TRN02, the check or EFT trace number.
    pub trace_number: Option<String>,
    /// ISA13.
    pub interchange_control_number: String,
    /// ST02.
    pub transaction_set_control_number: String,
}

/// One CAS adjustment of a denied claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DenialAdjustment {
    /// CAS01 group code as sent, such as `CO`; `None` when a record gives none.
    pub group: Option<String>,
    /// The CARC, upper case.
    pub carc: String,
    /// The amount as sent; `None` for records, which carry no amount.
    pub amount: Option<String>,
    /// 1-based service line number, or `None` for a claim-level adjustment.
    pub line: Option<usize>,
    /// The service line's procedure code, such as `99490`.
    pub procedure: Option<String>,
    /// Remark codes that apply to this adjustment: the claim-level ones and,
    /// for a line-level adjustment, those of its line.
    #[serde(skip)]
    pub rarcs: Vec<String>,
}

/// Consequence of a denied claim for the appeal workflow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum DenialOutcome {
    /// A pack covers the denial.
    Covered {
        /// The pack's denial label, such as `CCM32`.
        label: String,
        description: String,
        /// `id@version` of the pack.
        pack: String,
        /// Index into [`RemitDenial::adjustments`] of the adjustment that
        /// maps to the label; `None` when the source's own label matched.
        #[serde(skip_serializing_if = "Option::is_none")]
        adjustment: Option<usize>,
    },
    /// The claim was returned as unprocessable and cannot be appealed.
    Unprocessable {
        reason: String,
        action: &'static str,
    },
    /// No pack covers the denial.
    Uncovered,
}

impl RemitDenial {
    /// Lists the denied claims of one 835 transaction set.
    pub fn from_remittance(source: &str, remittance: &Remittance) -> Vec<RemitDenial> {
        remittance
            .claims
            .iter()
            .filter_map(|claim| Self::from_claim(source, remittance, claim))
            .collect()
    }

    fn from_claim(
        source: &str,
        remittance: &Remittance,
        claim: &ClaimPayment,
    ) -> Option<RemitDenial> {
        // A reversal takes back an earlier payment; it denies nothing.
        if claim.status_code.trim() == "22" {
            return None;
        }
        let claim_denied = claim.status_code.trim() == "4";
        let claim_unpaid = claim.paid.as_ref().is_none_or(|paid| paid.is_zero());
        let claim_rarcs: Vec<String> = claim.rarcs.iter().map(|code| normalize(code)).collect();

        let mut adjustments = Vec::new();
        for adjustment in &claim.adjustments {
            if is_denial(
                &adjustment.group,
                &adjustment.amount,
                claim_denied || claim_unpaid,
            ) {
                adjustments.push(DenialAdjustment {
                    group: Some(adjustment.group.code().to_string()),
                    carc: normalize(&adjustment.carc),
                    amount: Some(adjustment.amount.to_string()),
                    line: None,
                    procedure: None,
                    rarcs: unique(
                        claim
                            .rarcs
                            .iter()
                            .chain(claim.lines.iter().flat_map(|l| l.rarcs.iter())),
                    ),
                });
            }
        }
        for (index, line) in claim.lines.iter().enumerate() {
            let line_unpaid = line.paid.as_ref().is_none_or(|paid| paid.is_zero());
            for adjustment in &line.adjustments {
                if is_denial(
                    &adjustment.group,
                    &adjustment.amount,
                    claim_denied || line_unpaid,
                ) {
                    adjustments.push(DenialAdjustment {
                        group: Some(adjustment.group.code().to_string()),
                        carc: normalize(&adjustment.carc),
                        amount: Some(adjustment.amount.to_string()),
                        line: Some(index + 1),
                        procedure: Some(line.code.clone()),
                        rarcs: unique(claim.rarcs.iter().chain(line.rarcs.iter())),
                    });
                }
            }
        }

        let rarcs = unique(
            claim
                .rarcs
                .iter()
                .chain(claim.lines.iter().flat_map(|l| l.rarcs.iter())),
        );
        let has_n211 = claim_rarcs
            .iter()
            .chain(rarcs.iter())
            .any(|code| code == "N211");
        if adjustments.is_empty() && !has_n211 {
            return None;
        }

        let refs = claim
            .refs
            .iter()
            .chain(claim.lines.iter().flat_map(|line| line.refs.iter()))
            .map(|reference| (reference.qualifier.clone(), reference.value.clone()))
            .collect();
        Some(RemitDenial {
            source: source.to_string(),
            position: Some(SegmentPosition {
                segment: claim.position.segment,
                line: claim.position.line,
            }),
            claim_id: claim.patient_control_number.trim().to_string(),
            payer_claim_number: non_empty(claim.payer_claim_control_number.as_deref()),
            payer: PayerRef {
                id: non_empty(remittance.payer_id.as_deref()),
                name: non_empty(remittance.payer_name.as_deref()),
            },
            status: Some(claim.status_code.clone()),
            adjustments,
            rarcs,
            label: None,
            notice_date: remittance.remittance_date().and_then(x12_date),
            remittance: Some(RemittanceRef {
                trace_number: non_empty(remittance.trace_number.as_deref()),
                interchange_control_number: remittance.interchange_control_number.clone(),
                transaction_set_control_number: remittance.transaction_set_control_number.clone(),
            }),
            refs,
        })
    }

    /// Builds the denial of a record's claim, such as one the FHIR mapper
    /// read from an ExplanationOfBenefit or ClaimResponse.
    pub fn from_claim_denial(
        source: &str,
        denial: &ClaimDenial,
        status: Option<&str>,
        payer_name: Option<&str>,
    ) -> RemitDenial {
        let adjustments = denial
            .carc
            .iter()
            .map(|carc| DenialAdjustment {
                group: denial.group_code.clone(),
                carc: carc.clone(),
                amount: None,
                line: None,
                procedure: None,
                rarcs: denial.rarcs.clone(),
            })
            .collect();
        RemitDenial {
            source: source.to_string(),
            position: None,
            claim_id: denial.claim_id.clone(),
            payer_claim_number: denial.payer_claim_number.clone(),
            payer: PayerRef {
                id: denial.payer_id.clone(),
                name: non_empty(payer_name),
            },
            status: status.map(str::to_string),
            adjustments,
            rarcs: denial.rarcs.clone(),
            label: denial.label.clone(),
            notice_date: denial.notice_date.clone(),
            remittance: None,
            refs: Vec::new(),
        }
    }

    /// Classifies the denial: unprocessable first, then the source's own
    /// label, then the first adjustment whose codes, payer and REFs a pack's
    /// `matches` entry accepts.
    pub fn classify(&self, rules: &RuleSet) -> DenialOutcome {
        let carcs = self.adjustments.iter().map(|a| Some(a.carc.as_str()));
        let reason = std::iter::once(None)
            .chain(carcs)
            .find_map(|carc| unprocessable_reason(carc, &self.rarcs));
        if let Some(reason) = reason {
            return DenialOutcome::Unprocessable {
                reason: reason.to_string(),
                action: CORRECT_AND_RESUBMIT,
            };
        }

        if let Some((pack, code)) = self
            .label
            .as_deref()
            .and_then(|label| rules.pack_for_label(label))
        {
            return DenialOutcome::Covered {
                label: code.label.clone(),
                description: code.description.clone(),
                pack: format!("{}@{}", pack.id, pack.version),
                adjustment: None,
            };
        }
        for (index, adjustment) in self.adjustments.iter().enumerate() {
            let query = DenialQuery {
                group_code: adjustment.group.as_deref(),
                carc: &adjustment.carc,
                rarcs: &adjustment.rarcs,
                payer_id: self.payer.id.as_deref(),
                refs: &self.refs,
            };
            if let Some((pack, code)) = rules.denial_for_codes(&query) {
                return DenialOutcome::Covered {
                    label: code.label.clone(),
                    description: code.description.clone(),
                    pack: format!("{}@{}", pack.id, pack.version),
                    adjustment: Some(index),
                };
            }
        }
        DenialOutcome::Uncovered
    }

    /// Returns the adjustment an appeal answers: the one that maps to the
    /// pack's label, else the first.
    pub fn primary_adjustment<'a>(
        &'a self,
        outcome: &DenialOutcome,
    ) -> Option<&'a DenialAdjustment> {
        let index = match outcome {
            DenialOutcome::Covered {
                adjustment: Some(index),
                ..
            } => *index,
            _ => 0,
        };
        self.adjustments.get(index).or(self.adjustments.first())
    }

    /// Builds the `claim.denial` object that replaces the record's own when
    /// the appeal answers this denial: group code, CARC and RARCs of the
    /// primary adjustment, the notice date, the payer claim number, and the
    /// label and description when a pack covers the denial.
    pub fn record_denial(&self, outcome: &DenialOutcome) -> Value {
        let mut denial = Map::new();
        if let DenialOutcome::Covered {
            label, description, ..
        } = outcome
        {
            denial.insert("label".into(), json!(label));
            denial.insert("description".into(), json!(description));
        }
        let primary = self.primary_adjustment(outcome);
        if let Some(adjustment) = primary {
            if let Some(group) = adjustment
                .group
                .as_deref()
                .filter(|g| GROUP_CODES.contains(g))
            {
                denial.insert("group_code".into(), json!(group));
            }
            denial.insert("carc".into(), json!(adjustment.carc));
        }
        // The unprocessable remarks (MA130, N211) may sit on another line
        // than the primary adjustment, so an unprocessable claim keeps all.
        let rarcs = match (outcome, primary) {
            (DenialOutcome::Unprocessable { .. }, _) | (_, None) => &self.rarcs,
            (_, Some(adjustment)) => &adjustment.rarcs,
        };
        denial.insert("rarcs".into(), json!(rarcs));
        if let Some(date) = &self.notice_date {
            denial.insert("notice_date".into(), json!(date));
        }
        if let Some(number) = &self.payer_claim_number {
            denial.insert("payer_claim_number".into(), json!(number));
        }
        Value::Object(denial)
    }

    /// Returns how a letter cites the remittance, for 835 input.
    pub fn remittance_source(&self) -> Option<RemittanceSource> {
        let remittance = self.remittance.as_ref()?;
        let file = std::path::Path::new(&self.source)
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.source.clone());
        Some(RemittanceSource {
            file,
            trace_number: remittance.trace_number.clone(),
            date: self.notice_date.clone(),
        })
    }

    /// Returns the adjustments as a remittance shows them, such as
    /// `CO-16 62.00 (line 1, 99490)`.
    pub fn adjustments_text(&self) -> String {
        let parts: Vec<String> = self
            .adjustments
            .iter()
            .map(|adjustment| {
                let mut text = match &adjustment.group {
                    Some(group) => format!("{group}-{}", adjustment.carc),
                    None => format!("CARC {}", adjustment.carc),
                };
                if let Some(amount) = &adjustment.amount {
                    text.push_str(&format!(" {amount}"));
                }
                match (adjustment.line, &adjustment.procedure) {
                    (Some(line), Some(code)) => text.push_str(&format!(" (line {line}, {code})")),
                    (Some(line), None) => text.push_str(&format!(" (line {line})")),
                    _ => {}
                }
                text
            })
            .collect();
        if parts.is_empty() {
            "no adjustment".to_string()
        } else {
            parts.join(", ")
        }
    }
}

/// True for a positive adjustment outside patient responsibility where
/// nothing was paid.
fn is_denial(group: &AdjustmentGroup, amount: &super::x12::Decimal, unpaid: bool) -> bool {
    unpaid
        && *group != AdjustmentGroup::PatientResponsibility
        && !amount.is_zero()
        && !amount.is_negative()
}

fn normalize(code: &str) -> String {
    code.trim().to_ascii_uppercase()
}

fn unique<'a>(codes: impl Iterator<Item = &'a String>) -> Vec<String> {
    let mut seen = BTreeSet::new();
    codes
        .map(|code| normalize(code))
        .filter(|code| !code.is_empty() && seen.insert(code.clone()))
        .collect()
}

fn non_empty(text: Option<&str>) -> Option<String> {
    text.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Turns an X12 `CCYYMMDD` date into `YYYY-MM-DD`; `None` for anything else.
fn x12_date(text: &str) -> Option<String> {
    let text = text.trim();
    if text.len() != 8 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (year, rest) = text.split_at(4);
    let (month, day) = rest.split_at(2);
    let date = format!("{year}-{month}-{day}");
    date.parse::<jiff::civil::Date>().ok().map(|_| date)
}

#[cfg(test)]
mod tests;
