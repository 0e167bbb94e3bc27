//! Denial facts of a claim: the adjustment and remark codes a payer gave for not paying.
//!
//! The facts stay raw codes. Which combinations make a denial that a rule pack names (for
//! example CARC 16 with RARC N706) is decided by the caller.

use serde::Serialize;

use super::model::{Adjustment, AdjustmentGroup, ClaimPayment, Remittance};

/// Adjustment and remark codes of one claim, from claim level and from its service lines.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DenialFacts<'a> {
    #[serde(skip)]
    pub claim: &'a ClaimPayment,
    /// CAS adjustments with a non-zero amount, claim level first, then line by line.
    pub adjustments: Vec<AdjustmentFact<'a>>,
    /// Remark codes (RARCs), claim level first, then line by line.
    pub rarcs: Vec<RemarkFact<'a>>,
}

/// CAS adjustment and where it was reported.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AdjustmentFact<'a> {
    /// Index into [`ClaimPayment::lines`], or `None` for a claim-level adjustment.
    pub line: Option<usize>,
    pub adjustment: &'a Adjustment,
}

/// Remark code (RARC) and where it was reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RemarkFact<'a> {
    /// Index into [`ClaimPayment::lines`], or `None` for a claim-level remark from MOA or MIA.
    pub line: Option<usize>,
    pub code: &'a str,
}

impl ClaimPayment {
    /// Collects the claim's non-zero CAS adjustments and all its remark codes.
    ///
    /// Zero-amount adjustments are left out because payers send them as placeholders (such as
    /// `CAS*CO*42*0*0`). Negative amounts stay, because they reverse an earlier adjustment.
    pub fn denial_facts(&self) -> DenialFacts<'_> {
        let claim_level = self.adjustments.iter().map(|adjustment| (None, adjustment));
        let line_level = self.lines.iter().enumerate().flat_map(|(index, line)| {
            line.adjustments
                .iter()
                .map(move |adjustment| (Some(index), adjustment))
        });
        let adjustments = claim_level
            .chain(line_level)
            .filter(|(_, adjustment)| !adjustment.amount.is_zero())
            .map(|(line, adjustment)| AdjustmentFact { line, adjustment })
            .collect();

        let claim_rarcs = self
            .rarcs
            .iter()
            .map(|code| RemarkFact { line: None, code });
        let line_rarcs = self.lines.iter().enumerate().flat_map(|(index, line)| {
            line.rarcs.iter().map(move |code| RemarkFact {
                line: Some(index),
                code,
            })
        });
        let rarcs = claim_rarcs.chain(line_rarcs).collect();

        DenialFacts {
            claim: self,
            adjustments,
            rarcs,
        }
    }
}

impl DenialFacts<'_> {
    /// Returns whether the claim has neither a non-zero adjustment nor a remark code.
    pub fn is_empty(&self) -> bool {
        self.adjustments.is_empty() && self.rarcs.is_empty()
    }

    /// Returns whether a non-zero adjustment has reason code `carc`, in `group` when given.
    pub fn has_carc(&self, group: Option<&AdjustmentGroup>, carc: &str) -> bool {
        self.adjustments.iter().any(|fact| {
            let adjustment = fact.adjustment;
            adjustment.carc == carc && group.is_none_or(|group| &adjustment.group == group)
        })
    }

    /// Returns whether remark code `rarc` was reported at claim or line level.
    pub fn has_rarc(&self, rarc: &str) -> bool {
        self.rarcs.iter().any(|fact| fact.code == rarc)
    }
}

/// Returns the denial facts of each claim in the remittance that has any.
///
/// A claim with only zero-amount adjustments and no remark codes is skipped. A partly paid
/// claim can still be listed, for example for a coinsurance amount (group `PR`), so callers
/// filter by group and reason code.
pub fn denials(remittance: &Remittance) -> impl Iterator<Item = DenialFacts<'_>> {
    remittance
        .claims
        .iter()
        .map(ClaimPayment::denial_facts)
        .filter(|facts| !facts.is_empty())
}
