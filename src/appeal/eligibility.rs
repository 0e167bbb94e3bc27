//! Matching of denied claims to the rule packs that cover them.
//!
//! A claim is denied when `claim.status` is `denied` or the claim carries a
//! `claim.denial`. Its denial is covered by the pack that lists the payer's
//! label (`CCM32`), or else by the first pack with a `matches` entry for its
//! CARC and RARCs. A claim returned as unprocessable (CARC 16 with MA130, or
//! N211) is never appealed, whatever its label: it must be corrected and
//! submitted again.

use serde::Serialize;
use serde_json::Value;

use crate::record::Record;
use crate::rules::{unprocessable_reason, DenialCode, DenialQuery, Pack, RuleSet, GROUP_CODES};

/// The denial of one claim, as the record states it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClaimDenial {
    /// The practice's claim id (`claim.id`).
    pub claim_id: String,
    /// The payer's denial label, e.g. `CCM32`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Upper-case group code, from `group_code` or the CARC's prefix.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_code: Option<String>,
    /// Upper-case CARC without its group code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub carc: Option<String>,
    /// Upper-case RARCs.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rarcs: Vec<String>,
    /// The date of the denial notice (remittance or EOB), as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notice_date: Option<String>,
    /// The payer's own claim number (ICN/DCN).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payer_claim_number: Option<String>,
    /// The payer id on the claim (`claim.payer.id`), which payer-specific
    /// `matches` entries test.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payer_id: Option<String>,
    /// The remittance advice the denial was read from, when it came from one
    /// rather than from the record.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remittance: Option<RemittanceSource>,
}

/// The remittance advice (X12 835) file that reported a denial, as a letter
/// cites it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RemittanceSource {
    /// The file name, without its folder.
    pub file: String,
    /// TRN02, the check or EFT trace number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace_number: Option<String>,
    /// The remittance date, `YYYY-MM-DD`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
}

impl ClaimDenial {
    /// Reads the denial of the record's claim; `None` when the claim is not
    /// denied or the record has no claim.
    pub fn from_record(record: &Record) -> Option<ClaimDenial> {
        let claim = record.value.get("claim")?;
        let denial = claim
            .get("denial")
            .filter(|d| d.as_object().is_some_and(|o| !o.is_empty()));
        let status_denied = claim.get("status").and_then(Value::as_str) == Some("denied");
        if !status_denied && denial.is_none() {
            return None;
        }
        let text = |key: &str| {
            denial
                .and_then(|d| d.get(key))
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let (prefix, carc) = match text("carc") {
            Some(carc) => split_carc(&carc),
            None => (None, None),
        };
        let group_code = text("group_code")
            .map(|g| g.to_ascii_uppercase())
            .or(prefix);
        let rarcs = denial
            .and_then(|d| d.get("rarcs"))
            .and_then(Value::as_array)
            .map(|codes| {
                codes
                    .iter()
                    .filter_map(Value::as_str)
                    .map(|c| c.trim().to_ascii_uppercase())
                    .filter(|c| !c.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        Some(ClaimDenial {
            claim_id: claim
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            label: text("label"),
            description: text("description"),
            group_code,
            carc,
            rarcs,
            notice_date: text("notice_date"),
            payer_claim_number: text("payer_claim_number"),
            payer_id: claim
                .pointer("/payer/id")
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string),
            remittance: None,
        })
    }

    /// Returns the adjustment and remark codes as a remittance shows them, e.g.
    /// `CO-16, N706`; `None` when the record has none.
    pub fn codes_text(&self) -> Option<String> {
        let mut parts = Vec::new();
        match (&self.group_code, &self.carc) {
            (Some(group), Some(carc)) => parts.push(format!("{group}-{carc}")),
            (None, Some(carc)) => parts.push(format!("CARC {carc}")),
            _ => {}
        }
        parts.extend(self.rarcs.iter().cloned());
        (!parts.is_empty()).then(|| parts.join(", "))
    }

    /// Returns a short name for messages: the label, else the codes.
    pub fn name(&self) -> String {
        self.label
            .clone()
            .or_else(|| self.codes_text())
            .unwrap_or_else(|| "(no denial code)".to_string())
    }
}

/// Splits `CO-16` into (`CO`, `16`); a bare `16` has no group.
fn split_carc(text: &str) -> (Option<String>, Option<String>) {
    let upper = text.to_ascii_uppercase();
    if let Some((group, carc)) = upper.split_once('-') {
        if GROUP_CODES.contains(&group.trim()) {
            return (
                Some(group.trim().to_string()),
                Some(carc.trim().to_string()),
            );
        }
    }
    (None, Some(upper))
}

/// The way a pack's denial was recognised on a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MatchedBy {
    /// The claim carries the payer's label.
    Label,
    /// The claim's CARC and RARCs match one of the denial's `matches`.
    Codes,
}

/// Whether a record's claim can be appealed with a pack, before any
/// evidence is looked at.
#[derive(Debug, Clone)]
pub enum Eligibility<'r> {
    /// The claim is not denied (or the record has no claim).
    NotDenied,
    /// The claim was returned as unprocessable and must be corrected and
    /// submitted again instead.
    Unprocessable {
        denial: ClaimDenial,
        reason: &'static str,
    },
    /// No pack covers the claim's denial.
    Uncovered { denial: ClaimDenial },
    /// A pack covers the denial.
    Answered {
        denial: ClaimDenial,
        pack: &'r Pack,
        code: &'r DenialCode,
        matched_by: MatchedBy,
    },
}

/// Decides whether the record's claim is a denial that a pack of `rules`
/// covers.
pub fn eligibility<'r>(rules: &'r RuleSet, record: &Record) -> Eligibility<'r> {
    match ClaimDenial::from_record(record) {
        Some(denial) => eligibility_of(rules, denial),
        None => Eligibility::NotDenied,
    }
}

/// Decides whether a claim's denial is one that a pack of `rules` covers.
pub fn eligibility_of(rules: &RuleSet, denial: ClaimDenial) -> Eligibility<'_> {
    if let Some(reason) = unprocessable_reason(denial.carc.as_deref(), &denial.rarcs) {
        return Eligibility::Unprocessable { denial, reason };
    }
    if let Some((pack, code)) = denial
        .label
        .as_deref()
        .and_then(|label| rules.pack_for_label(label))
    {
        return Eligibility::Answered {
            denial,
            pack,
            code,
            matched_by: MatchedBy::Label,
        };
    }
    let by_codes = denial.carc.as_deref().and_then(|carc| {
        rules.denial_for_codes(&DenialQuery {
            group_code: denial.group_code.as_deref(),
            carc,
            rarcs: &denial.rarcs,
            payer_id: denial.payer_id.as_deref(),
            refs: &[],
        })
    });
    match by_codes {
        Some((pack, code)) => Eligibility::Answered {
            denial,
            pack,
            code,
            matched_by: MatchedBy::Codes,
        },
        None => Eligibility::Uncovered { denial },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Origin, SourceFormat};
    use serde_json::json;

    fn record(claim: Value) -> Record {
        Record {
            id: "E1".into(),
            value: json!({ "claim": claim }),
            format: SourceFormat::Canonical,
            origin: Origin::new("r.json".into(), None, ""),
            provenance: Vec::new(),
        }
    }

    fn decide(claim: Value) -> String {
        let rules = RuleSet::shipped().expect("shipped packs compile");
        match eligibility(&rules, &record(claim)) {
            Eligibility::NotDenied => "not-denied".into(),
            Eligibility::Unprocessable { .. } => "unprocessable".into(),
            Eligibility::Uncovered { .. } => "uncovered".into(),
            Eligibility::Answered {
                pack, matched_by, ..
            } => format!("{} by {matched_by:?}", pack.id),
        }
    }

    #[test]
    fn denied_by_status_or_denial() {
        assert_eq!(decide(json!({"id": "C", "status": "paid"})), "not-denied");
        assert_eq!(decide(json!({"id": "C", "status": "denied"})), "uncovered");
        assert_eq!(
            decide(json!({"id": "C", "status": "partially-paid", "denial": {"label": "CCM32"}})),
            "ccm32 by Label"
        );
        assert_eq!(
            decide(json!({"id": "C", "status": "denied", "denial": {}})),
            "uncovered"
        );
    }

    #[test]
    fn label_matches_without_regard_to_case() {
        assert_eq!(
            decide(json!({"id": "C", "status": "denied", "denial": {"label": " ccm32 "}})),
            "ccm32 by Label"
        );
        assert_eq!(
            decide(json!({"id": "C", "status": "denied", "denial": {"label": "CCM33"}})),
            "uncovered"
        );
    }

    #[test]
    fn codes_map_to_the_pack_denial() {
        let claim = |carc: &str, group: Option<&str>, rarcs: &[&str]| {
            let mut denial = json!({"carc": carc, "rarcs": rarcs});
            if let Some(group) = group {
                denial["group_code"] = json!(group);
            }
            json!({"id": "C", "status": "denied", "denial": denial})
        };
        assert_eq!(decide(claim("16", Some("CO"), &["N706"])), "ccm32 by Codes");
        assert_eq!(decide(claim("CO-16", None, &["n706"])), "ccm32 by Codes");
        assert_eq!(
            decide(claim("252", Some("CO"), &["M127", "N706"])),
            "ccm32 by Codes"
        );
        assert_eq!(decide(claim("16", Some("PR"), &["N706"])), "uncovered");
        assert_eq!(decide(claim("16", None, &["N706"])), "uncovered");
        assert_eq!(decide(claim("16", Some("CO"), &["M127"])), "uncovered");
    }

    #[test]
    fn unprocessable_claims_are_never_answered() {
        let ma130 = json!({"id": "C", "status": "denied", "denial": {"label": "CCM32", "carc": "CO-16", "rarcs": ["MA130"]}});
        assert_eq!(decide(ma130), "unprocessable");
        let n211 = json!({"id": "C", "status": "denied", "denial": {"carc": "16", "group_code": "CO", "rarcs": ["N706", "N211"]}});
        assert_eq!(decide(n211), "unprocessable");
    }

    #[test]
    fn codes_text_reads_like_a_remittance() {
        let denial = ClaimDenial::from_record(&record(
            json!({"id": "C", "status": "denied", "denial": {"carc": "co-16", "rarcs": ["N706"]}}),
        ))
        .unwrap();
        assert_eq!(denial.codes_text().as_deref(), Some("CO-16, N706"));
    }
}
