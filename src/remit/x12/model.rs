//! Remittance data read from an 835 transaction set.
//!
//! Dates are kept as the `CCYYMMDD` text the payer sent and amounts as [`Decimal`] text.
//! Code values (status codes, CARCs, RARCs) are kept as sent, because the lists change
//! several times a year and the meaning belongs to the caller.

use std::fmt;

use serde::{Serialize, Serializer};

use super::decimal::Decimal;
use super::position::Position;

/// One 835 transaction set (ST..SE) with the envelope data around it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Remittance {
    /// ISA13 of the interchange that contains the transaction set.
    pub interchange_control_number: String,
    /// ISA15: `P` for production data, `T` for test data.
    pub usage_indicator: String,
    /// GS06, or `None` for a transaction set outside a functional group.
    pub group_control_number: Option<String>,
    /// GS08, such as `005010X221A1`.
    pub version: Option<String>,
    /// ST02.
    pub transaction_set_control_number: String,
    /// BPR02, the total payment of the remittance.
    pub total_payment: Option<Decimal>,
    /// BPR04, such as `ACH`, `CHK` or `NON`.
    pub payment_method: Option<String>,
    /// BPR16, the check issue or EFT effective date.
    pub payment_date: Option<String>,
    /// DTM02 of `DTM*405`, the production date of the remittance.
    pub production_date: Option<String>,
    /// TRN02, the check or EFT trace number.
    pub trace_number: Option<String>,
    /// N102 of `N1*PR`.
    pub payer_name: Option<String>,
    /// `REF*2U` in the payer loop, or N104 of `N1*PR` when that REF is absent.
    pub payer_id: Option<String>,
    /// `N1*PE` loop.
    pub payee: Option<Payee>,
    pub claims: Vec<ClaimPayment>,
    /// PLB adjustments, one entry per reason and amount pair.
    pub provider_adjustments: Vec<ProviderAdjustment>,
    /// Position of the ST segment.
    pub position: Position,
}

impl Remittance {
    /// Returns the remittance date: BPR16, or the DTM*405 production date when BPR16 is absent.
    pub fn remittance_date(&self) -> Option<&str> {
        self.payment_date
            .as_deref()
            .or(self.production_date.as_deref())
    }
}

/// Provider that receives the payment (`N1*PE` loop).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Payee {
    /// N102.
    pub name: Option<String>,
    /// N103, such as `XX` for an NPI or `FI` for a tax id.
    pub id_qualifier: Option<String>,
    /// N104.
    pub id: Option<String>,
    /// REF segments of the payee loop.
    pub refs: Vec<Reference>,
}

/// Claim payment information (CLP loop 2100).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClaimPayment {
    /// CLP01, the provider's own claim id as submitted on the claim.
    pub patient_control_number: String,
    /// CLP02, such as `1` (processed as primary), `4` (denied) or `22` (reversal). Kept as
    /// data: payers also send `4` when they could not identify the patient, so the denial
    /// reasons are read from the CAS adjustments instead.
    pub status_code: String,
    /// CLP03.
    pub charge: Option<Decimal>,
    /// CLP04.
    pub paid: Option<Decimal>,
    /// CLP05.
    pub patient_responsibility: Option<Decimal>,
    /// CLP06, the claim filing indicator such as `MC` (Medicaid) or `MB` (Medicare Part B).
    pub filing_indicator: Option<String>,
    /// CLP07, the payer's claim control number, which payers ask for in appeals.
    pub payer_claim_control_number: Option<String>,
    /// Patient from `NM1*QC`.
    ///
    /// PHI: names and member ids identify a patient. Never write this field to logs or
    /// diagnostics.
    pub patient: Option<Patient>,
    /// Claim-level CAS adjustments.
    pub adjustments: Vec<Adjustment>,
    /// Claim-level remark codes (RARCs) from MOA03..MOA07 and MIA05, MIA20..MIA23.
    pub rarcs: Vec<String>,
    /// Claim-level REF segments.
    pub refs: Vec<Reference>,
    /// `DTM*232`, the first date of the claim's service period.
    pub statement_from: Option<String>,
    /// `DTM*233`, the last date of the claim's service period.
    pub statement_to: Option<String>,
    pub lines: Vec<ServiceLinePayment>,
    /// Position of the CLP segment.
    pub position: Position,
}

/// Patient named in `NM1*QC`.
///
/// PHI: every field identifies a patient. Never write it to logs or diagnostics.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Patient {
    /// NM103.
    pub last_name: Option<String>,
    /// NM104.
    pub first_name: Option<String>,
    /// NM105.
    pub middle_name: Option<String>,
    /// NM107.
    pub suffix: Option<String>,
    /// NM108, such as `MI` (member id).
    pub id_qualifier: Option<String>,
    /// NM109.
    pub id: Option<String>,
}

/// Service line payment information (SVC loop 2110).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceLinePayment {
    /// SVC01-1, such as `HC` (HCPCS and CPT) or `ZZ` (mutually defined).
    pub code_qualifier: String,
    /// SVC01-2, the adjudicated procedure code.
    pub code: String,
    /// SVC01-3 to SVC01-6.
    pub modifiers: Vec<String>,
    /// SVC06, the procedure as submitted, present when the payer adjudicated a different code.
    pub submitted_procedure: Option<SubmittedProcedure>,
    /// SVC02.
    pub charge: Option<Decimal>,
    /// SVC03.
    pub paid: Option<Decimal>,
    /// SVC04, the NUBC revenue code on institutional claims.
    pub revenue_code: Option<String>,
    /// SVC05, the paid units of service.
    pub units: Option<Decimal>,
    /// `DTM*472`.
    pub service_date: Option<String>,
    /// `DTM*150`, used instead of `DTM*472` for a range of dates.
    pub service_start_date: Option<String>,
    /// `DTM*151`.
    pub service_end_date: Option<String>,
    /// Line-level CAS adjustments.
    pub adjustments: Vec<Adjustment>,
    /// Line-level remark codes (RARCs) from `LQ*HE`.
    pub rarcs: Vec<String>,
    /// Line-level REF segments, such as `REF*6R` (the provider's line item control number).
    pub refs: Vec<Reference>,
    /// Position of the SVC segment.
    pub position: Position,
}

/// Procedure as submitted, from SVC06.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SubmittedProcedure {
    pub code_qualifier: String,
    pub code: String,
    pub modifiers: Vec<String>,
}

/// One claim adjustment reason from a CAS segment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Adjustment {
    /// CAS01.
    pub group: AdjustmentGroup,
    /// Claim adjustment reason code (CARC), such as `16` or `252`.
    pub carc: String,
    pub amount: Decimal,
    pub quantity: Option<Decimal>,
}

/// CAS01 claim adjustment group code.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AdjustmentGroup {
    /// `CO`: the provider must write the amount off.
    ContractualObligation,
    /// `PR`: the patient owes the amount.
    PatientResponsibility,
    /// `OA`: other adjustment.
    OtherAdjustment,
    /// `PI`: payer-initiated reduction.
    PayerInitiatedReduction,
    /// `CR`: correction or reversal of a prior claim.
    CorrectionReversal,
    /// A code outside the five above, kept as sent.
    Other(String),
}

impl AdjustmentGroup {
    /// Maps a CAS01 code to its group.
    pub fn from_code(code: &str) -> Self {
        match code {
            "CO" => Self::ContractualObligation,
            "PR" => Self::PatientResponsibility,
            "OA" => Self::OtherAdjustment,
            "PI" => Self::PayerInitiatedReduction,
            "CR" => Self::CorrectionReversal,
            other => Self::Other(other.to_owned()),
        }
    }

    /// Returns the two-letter code, such as `CO`.
    pub fn code(&self) -> &str {
        match self {
            Self::ContractualObligation => "CO",
            Self::PatientResponsibility => "PR",
            Self::OtherAdjustment => "OA",
            Self::PayerInitiatedReduction => "PI",
            Self::CorrectionReversal => "CR",
            Self::Other(code) => code,
        }
    }
}

impl fmt::Display for AdjustmentGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for AdjustmentGroup {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

/// REF segment: a qualifier and the reference it qualifies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reference {
    /// REF01, such as `6R`, `F8` or `EA`.
    pub qualifier: String,
    /// REF02.
    pub value: String,
}

/// One reason and amount pair of a PLB provider-level adjustment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProviderAdjustment {
    /// PLB01.
    pub provider_id: Option<String>,
    /// PLB02, the last day of the provider's fiscal period.
    pub fiscal_period_date: Option<String>,
    /// First component of the PLB03 (or 05, 07...) composite, such as `WO` or `L6`.
    pub reason_code: String,
    /// Second component of that composite, such as a claim or invoice number.
    pub reference: Option<String>,
    /// PLB04 (or 06, 08...). A positive amount reduces the payment.
    pub amount: Decimal,
    /// Position of the PLB segment.
    pub position: Position,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adjustment_group_round_trips_code() {
        for code in ["CO", "PR", "OA", "PI", "CR", "ZZ"] {
            assert_eq!(AdjustmentGroup::from_code(code).code(), code);
        }
        assert_eq!(
            AdjustmentGroup::from_code("CO"),
            AdjustmentGroup::ContractualObligation
        );
    }

    #[test]
    fn adjustment_group_serializes_as_code() {
        let json = serde_json::to_string(&AdjustmentGroup::PatientResponsibility).unwrap();

        assert_eq!(json, "\"PR\"");
    }
}
