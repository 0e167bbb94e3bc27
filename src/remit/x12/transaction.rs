//! Reads the segments of one 835 transaction set (inside ST..SE) into a [`Remittance`].
//!
//! The 835 loops have no end markers, so the reader tracks the loop it is in. A CAS after CLP
//! belongs to the claim and a CAS after SVC to the service line. A REF in the payer loop
//! identifies the payer, while a REF in a claim is a claim reference.

use super::decimal::Decimal;
use super::error::{X12Error, X12ErrorKind};
use super::model::{
    Adjustment, AdjustmentGroup, ClaimPayment, Patient, Payee, ProviderAdjustment, Reference,
    Remittance, ServiceLinePayment, SubmittedProcedure,
};
use super::position::Position;
use super::syntax::Segment;

/// Envelope values that every remittance of a transaction set carries.
#[derive(Debug, Clone)]
pub(crate) struct EnvelopeContext {
    pub(crate) interchange_control_number: String,
    pub(crate) usage_indicator: String,
    pub(crate) group_control_number: Option<String>,
    pub(crate) version: Option<String>,
}

/// Loop of the 835 that the last segment opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    /// Table 1 before any N1 loop: BPR, TRN, CUR, REF, DTM.
    Header,
    /// `N1*PR` loop 1000A.
    Payer,
    /// `N1*PE` loop 1000B.
    Payee,
    /// Any other N1 loop.
    OtherParty,
    /// LX header number loop 2000 before its first CLP.
    ClaimGroup,
    /// CLP loop 2100.
    Claim,
    /// SVC loop 2110.
    Line,
    /// PLB and anything after it.
    Summary,
}

const MAX_CAS_TRIPLETS: usize = 6;
const MAX_PLB_ADJUSTMENTS: usize = 6;
const DECIMAL_EXPECTED: &str = "a decimal number such as 12.50";
const DATE_EXPECTED: &str = "a date as CCYYMMDD";

/// Builds one [`Remittance`] from the segments between ST and SE.
pub(crate) struct RemittanceBuilder {
    remittance: Remittance,
    section: Section,
    payer_id_from_ref: Option<String>,
    payer_id_from_n1: Option<String>,
    has_bpr: bool,
    has_trn: bool,
    has_payer: bool,
}

impl RemittanceBuilder {
    pub(crate) fn new(
        context: EnvelopeContext,
        transaction_set_control_number: String,
        position: Position,
    ) -> Self {
        let remittance = Remittance {
            interchange_control_number: context.interchange_control_number,
            usage_indicator: context.usage_indicator,
            group_control_number: context.group_control_number,
            version: context.version,
            transaction_set_control_number,
            total_payment: None,
            payment_method: None,
            payment_date: None,
            production_date: None,
            trace_number: None,
            payer_name: None,
            payer_id: None,
            payee: None,
            claims: Vec::new(),
            provider_adjustments: Vec::new(),
            position,
        };

        Self {
            remittance,
            section: Section::Header,
            payer_id_from_ref: None,
            payer_id_from_n1: None,
            has_bpr: false,
            has_trn: false,
            has_payer: false,
        }
    }

    /// Adds one segment of the transaction set. Segments that carry nothing the model keeps
    /// (N3, N4, PER, AMT, QTY, TS3...) are skipped.
    pub(crate) fn add(&mut self, segment: &Segment<'_>, errors: &mut Vec<X12Error>) {
        match segment.id() {
            "BPR" => self.read_bpr(segment, errors),
            "TRN" => {
                self.has_trn = true;
                self.remittance.trace_number = segment.text(2);
            }
            "DTM" => self.read_dtm(segment, errors),
            "N1" => self.read_n1(segment),
            "REF" => self.read_ref(segment, errors),
            "LX" => self.section = Section::ClaimGroup,
            "CLP" => self.read_clp(segment, errors),
            "CAS" => self.read_cas(segment, errors),
            "NM1" => self.read_nm1(segment),
            "MOA" => self.read_remark_codes(segment, &[3, 4, 5, 6, 7], errors),
            "MIA" => self.read_remark_codes(segment, &[5, 20, 21, 22, 23], errors),
            "SVC" => self.read_svc(segment, errors),
            "LQ" => self.read_lq(segment, errors),
            "PLB" => self.read_plb(segment, errors),
            _ => {}
        }
    }

    /// Returns the remittance, with a warning for each required header segment it lacks.
    pub(crate) fn finish(mut self, errors: &mut Vec<X12Error>) -> Remittance {
        let required = [
            (self.has_bpr, "BPR"),
            (self.has_trn, "TRN"),
            (self.has_payer, "N1*PR"),
            (self.remittance.payee.is_some(), "N1*PE"),
        ];
        for (_, segment) in required.iter().filter(|(present, _)| !present) {
            let kind = X12ErrorKind::MissingSegment {
                control_number: self.remittance.transaction_set_control_number.clone(),
                segment,
            };
            errors.push(X12Error::new(kind, self.remittance.position));
        }

        self.remittance.payer_id = self.payer_id_from_ref.or(self.payer_id_from_n1);
        self.remittance
    }

    fn read_bpr(&mut self, segment: &Segment<'_>, errors: &mut Vec<X12Error>) {
        self.has_bpr = true;
        self.remittance.total_payment = read_decimal(segment, 2, Presence::Required, errors);
        self.remittance.payment_method = segment.text(4);
        self.remittance.payment_date = read_date(segment, 16, errors);
    }

    fn read_dtm(&mut self, segment: &Segment<'_>, errors: &mut Vec<X12Error>) {
        let qualifier = segment.text(1).unwrap_or_default();
        match (self.section, qualifier.as_str()) {
            (Section::Header | Section::Payer | Section::Payee | Section::OtherParty, "405") => {
                self.remittance.production_date = read_date(segment, 2, errors);
            }
            (Section::Claim, "232") => {
                let date = read_date(segment, 2, errors);
                if let Some(claim) = self.remittance.claims.last_mut() {
                    claim.statement_from = date;
                }
            }
            (Section::Claim, "233") => {
                let date = read_date(segment, 2, errors);
                if let Some(claim) = self.remittance.claims.last_mut() {
                    claim.statement_to = date;
                }
            }
            (Section::Line, "472" | "150" | "151") => {
                let date = read_date(segment, 2, errors);
                let Some(line) = self.current_line() else {
                    return;
                };
                match qualifier.as_str() {
                    "472" => line.service_date = date,
                    "150" => line.service_start_date = date,
                    _ => line.service_end_date = date,
                }
            }
            _ => {}
        }
    }

    fn read_n1(&mut self, segment: &Segment<'_>) {
        match segment.text(1).as_deref() {
            Some("PR") => {
                self.section = Section::Payer;
                self.has_payer = true;
                self.remittance.payer_name = segment.text(2);
                self.payer_id_from_n1 = segment.text(4);
            }
            Some("PE") => {
                self.section = Section::Payee;
                self.remittance.payee = Some(Payee {
                    name: segment.text(2),
                    id_qualifier: segment.text(3),
                    id: segment.text(4),
                    refs: Vec::new(),
                });
            }
            _ => self.section = Section::OtherParty,
        }
    }

    fn read_ref(&mut self, segment: &Segment<'_>, errors: &mut Vec<X12Error>) {
        let Some(reference) = read_reference(segment, errors) else {
            return;
        };

        match self.section {
            Section::Payer if reference.qualifier == "2U" => {
                self.payer_id_from_ref = Some(reference.value);
            }
            Section::Payee => {
                if let Some(payee) = self.remittance.payee.as_mut() {
                    payee.refs.push(reference);
                }
            }
            Section::Claim => {
                if let Some(claim) = self.remittance.claims.last_mut() {
                    claim.refs.push(reference);
                }
            }
            Section::Line => {
                if let Some(line) = self.current_line() {
                    line.refs.push(reference);
                }
            }
            _ => {}
        }
    }

    fn read_clp(&mut self, segment: &Segment<'_>, errors: &mut Vec<X12Error>) {
        self.section = Section::Claim;

        let claim = ClaimPayment {
            patient_control_number: required_text(segment, 1, errors),
            status_code: required_text(segment, 2, errors),
            charge: read_decimal(segment, 3, Presence::Required, errors),
            paid: read_decimal(segment, 4, Presence::Required, errors),
            patient_responsibility: read_decimal(segment, 5, Presence::Optional, errors),
            filing_indicator: segment.text(6),
            payer_claim_control_number: segment.text(7),
            patient: None,
            adjustments: Vec::new(),
            rarcs: Vec::new(),
            refs: Vec::new(),
            statement_from: None,
            statement_to: None,
            lines: Vec::new(),
            position: segment.position,
        };
        self.remittance.claims.push(claim);
    }

    fn read_cas(&mut self, segment: &Segment<'_>, errors: &mut Vec<X12Error>) {
        let adjustments = match self.section {
            Section::Claim => self
                .remittance
                .claims
                .last_mut()
                .map(|claim| &mut claim.adjustments),
            Section::Line => self.current_line().map(|line| &mut line.adjustments),
            _ => None,
        };
        let Some(adjustments) = adjustments else {
            errors.push(unexpected(segment, "before any CLP claim"));
            return;
        };

        let Some(group_code) = segment.text(1) else {
            errors.push(missing_element(segment, 1));
            return;
        };
        let group = AdjustmentGroup::from_code(&group_code);
        if matches!(group, AdjustmentGroup::Other(_)) {
            let kind = X12ErrorKind::UnknownCode {
                element: segment.reference(1),
                expected: "one of CO, PR, OA, PI, CR",
            };
            errors.push(X12Error::new(kind, segment.position));
        }

        for triplet in 0..MAX_CAS_TRIPLETS {
            let reason_index = 2 + 3 * triplet;
            let amount_index = reason_index + 1;
            let quantity_index = reason_index + 2;

            let Some(carc) = segment.text(reason_index) else {
                let has_values =
                    segment.text(amount_index).is_some() || segment.text(quantity_index).is_some();
                if has_values {
                    errors.push(missing_element(segment, reason_index));
                }
                continue;
            };
            let Some(amount) = read_decimal(segment, amount_index, Presence::Required, errors)
            else {
                continue;
            };
            let quantity = read_decimal(segment, quantity_index, Presence::Optional, errors);

            adjustments.push(Adjustment {
                group: group.clone(),
                carc,
                amount,
                quantity,
            });
        }
    }

    fn read_nm1(&mut self, segment: &Segment<'_>) {
        let in_claim = matches!(self.section, Section::Claim | Section::Line);
        if !in_claim || !segment.is(1, "QC") {
            return;
        }
        let Some(claim) = self.remittance.claims.last_mut() else {
            return;
        };

        claim.patient = Some(Patient {
            last_name: segment.text(3),
            first_name: segment.text(4),
            middle_name: segment.text(5),
            suffix: segment.text(7),
            id_qualifier: segment.text(8),
            id: segment.text(9),
        });
    }

    /// Adds the remark codes (RARCs) of a MOA or MIA segment to the current claim.
    fn read_remark_codes(
        &mut self,
        segment: &Segment<'_>,
        indexes: &[usize],
        errors: &mut Vec<X12Error>,
    ) {
        let in_claim = matches!(self.section, Section::Claim | Section::Line);
        let claim = self.remittance.claims.last_mut().filter(|_| in_claim);
        let Some(claim) = claim else {
            errors.push(unexpected(segment, "before any CLP claim"));
            return;
        };

        let codes = indexes.iter().filter_map(|&index| segment.text(index));
        claim.rarcs.extend(codes);
    }

    fn read_svc(&mut self, segment: &Segment<'_>, errors: &mut Vec<X12Error>) {
        let in_claim = matches!(self.section, Section::Claim | Section::Line);
        let claim = self.remittance.claims.last_mut().filter(|_| in_claim);
        let Some(claim) = claim else {
            errors.push(unexpected(segment, "before any CLP claim"));
            return;
        };
        self.section = Section::Line;

        let procedure = read_procedure(segment, 1, errors).unwrap_or(SubmittedProcedure {
            code_qualifier: String::new(),
            code: String::new(),
            modifiers: Vec::new(),
        });
        let line = ServiceLinePayment {
            code_qualifier: procedure.code_qualifier,
            code: procedure.code,
            modifiers: procedure.modifiers,
            submitted_procedure: read_procedure(segment, 6, errors),
            charge: read_decimal(segment, 2, Presence::Required, errors),
            paid: read_decimal(segment, 3, Presence::Required, errors),
            revenue_code: segment.text(4),
            units: read_decimal(segment, 5, Presence::Optional, errors),
            service_date: None,
            service_start_date: None,
            service_end_date: None,
            adjustments: Vec::new(),
            rarcs: Vec::new(),
            refs: Vec::new(),
            position: segment.position,
        };
        claim.lines.push(line);
    }

    fn read_lq(&mut self, segment: &Segment<'_>, errors: &mut Vec<X12Error>) {
        let in_line = self.section == Section::Line;
        let line = self.current_line().filter(|_| in_line);
        let Some(line) = line else {
            errors.push(unexpected(segment, "outside an SVC service line"));
            return;
        };
        // LQ01 `RX` carries NCPDP reject codes, which are not remark codes.
        if !segment.is(1, "HE") {
            return;
        }

        match segment.text(2) {
            Some(code) => line.rarcs.push(code),
            None => errors.push(missing_element(segment, 2)),
        }
    }

    fn read_plb(&mut self, segment: &Segment<'_>, errors: &mut Vec<X12Error>) {
        self.section = Section::Summary;
        let provider_id = segment.text(1);
        let fiscal_period_date = read_date(segment, 2, errors);

        for pair in 0..MAX_PLB_ADJUSTMENTS {
            let reason_index = 3 + 2 * pair;
            let amount_index = reason_index + 1;

            let components = segment.components(reason_index);
            let mut components = components.into_iter();
            let reason_code = components.next().filter(|code| !code.is_empty());
            let reference = components.next().filter(|reference| !reference.is_empty());
            let Some(reason_code) = reason_code else {
                if segment.text(amount_index).is_some() {
                    errors.push(missing_element(segment, reason_index));
                }
                continue;
            };
            let Some(amount) = read_decimal(segment, amount_index, Presence::Required, errors)
            else {
                continue;
            };

            self.remittance
                .provider_adjustments
                .push(ProviderAdjustment {
                    provider_id: provider_id.clone(),
                    fiscal_period_date: fiscal_period_date.clone(),
                    reason_code,
                    reference,
                    amount,
                    position: segment.position,
                });
        }
    }

    fn current_line(&mut self) -> Option<&mut ServiceLinePayment> {
        self.remittance
            .claims
            .last_mut()
            .and_then(|claim| claim.lines.last_mut())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Presence {
    Required,
    Optional,
}

fn read_decimal(
    segment: &Segment<'_>,
    index: usize,
    presence: Presence,
    errors: &mut Vec<X12Error>,
) -> Option<Decimal> {
    let Some(text) = segment.text(index) else {
        if presence == Presence::Required {
            errors.push(missing_element(segment, index));
        }
        return None;
    };

    let value = Decimal::parse(&text);
    if value.is_none() {
        errors.push(invalid_element(segment, index, DECIMAL_EXPECTED));
    }
    value
}

/// Reads an optional `CCYYMMDD` date element.
fn read_date(segment: &Segment<'_>, index: usize, errors: &mut Vec<X12Error>) -> Option<String> {
    let text = segment.text(index)?;
    let is_date = text.len() == 8 && text.bytes().all(|byte| byte.is_ascii_digit());
    if !is_date {
        errors.push(invalid_element(segment, index, DATE_EXPECTED));
        return None;
    }
    Some(text)
}

/// Reads a required element, or returns an empty string with a warning when it is missing.
fn required_text(segment: &Segment<'_>, index: usize, errors: &mut Vec<X12Error>) -> String {
    segment.text(index).unwrap_or_else(|| {
        errors.push(missing_element(segment, index));
        String::new()
    })
}

fn read_reference(segment: &Segment<'_>, errors: &mut Vec<X12Error>) -> Option<Reference> {
    let Some(qualifier) = segment.text(1) else {
        errors.push(missing_element(segment, 1));
        return None;
    };
    let Some(value) = segment.text(2) else {
        errors.push(missing_element(segment, 2));
        return None;
    };
    Some(Reference { qualifier, value })
}

/// Reads a procedure composite such as `HC:99490:25` (SVC01 or SVC06).
fn read_procedure(
    segment: &Segment<'_>,
    index: usize,
    errors: &mut Vec<X12Error>,
) -> Option<SubmittedProcedure> {
    let components = segment.components(index);
    if components.iter().all(String::is_empty) {
        if index == 1 {
            errors.push(missing_element(segment, index));
        }
        return None;
    }

    let mut components = components.into_iter();
    let code_qualifier = components.next().unwrap_or_default();
    let code = components.next().unwrap_or_default();
    if code_qualifier.is_empty() || code.is_empty() {
        errors.push(invalid_element(
            segment,
            index,
            "a qualifier and a code such as HC:99490",
        ));
    }
    // Components 3 to 6 are modifiers and component 7 is a description.
    let modifiers = components
        .take(4)
        .filter(|modifier| !modifier.is_empty())
        .collect();

    Some(SubmittedProcedure {
        code_qualifier,
        code,
        modifiers,
    })
}

fn missing_element(segment: &Segment<'_>, index: usize) -> X12Error {
    let kind = X12ErrorKind::MissingElement {
        element: segment.reference(index),
    };
    X12Error::new(kind, segment.position)
}

fn invalid_element(segment: &Segment<'_>, index: usize, expected: &'static str) -> X12Error {
    let kind = X12ErrorKind::InvalidElement {
        element: segment.reference(index),
        expected,
    };
    X12Error::new(kind, segment.position)
}

fn unexpected(segment: &Segment<'_>, context: &'static str) -> X12Error {
    let kind = X12ErrorKind::UnexpectedSegment {
        id: segment.id().to_owned(),
        context,
    };
    X12Error::new(kind, segment.position)
}
