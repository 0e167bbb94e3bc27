use super::*;
use crate::remit::x12::parse_835;
use crate::rules::{PackSource, RuleSet};

const ACME: &[u8] = include_bytes!("../../../tests/data/x12/acme-ccm-denials.835");

fn acme_denials() -> Vec<RemitDenial> {
    let parsed = parse_835(ACME);
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    parsed
        .remittances
        .iter()
        .flat_map(|remittance| RemitDenial::from_remittance("in/acme.835", remittance))
        .collect()
}

fn find<'a>(denials: &'a [RemitDenial], claim_id: &str) -> &'a RemitDenial {
    denials
        .iter()
        .find(|denial| denial.claim_id == claim_id)
        .unwrap_or_else(|| panic!("{claim_id} not listed"))
}

/// A pack whose CCM32 maps CO-16 with N706 only for payer 60054.
fn payer_specific_rules() -> RuleSet {
    let text = "pack:\n  id: acme\n  title: A\n  version: 1.0.0\n  layer: payer\n  denials:\n    - label: CCM32\n      description: d\n      matches:\n        - { group_code: CO, carc: 16, rarcs: [N706], payer_ids: [\"60054\"] }\nrules:\n  - code: A-001\n    name: t\n    severity: error\n    citation: c\n    description: d\n    message: m\n    help: h\n    evidence: { field: $.claim.id, present: true }\n";
    RuleSet::compile(&[PackSource::new("acme.yaml", text.to_string())]).expect("compiles")
}

#[test]
fn denied_claims_are_listed_without_payments() {
    let denials = acme_denials();
    let ids: Vec<&str> = denials.iter().map(|d| d.claim_id.as_str()).collect();
    assert_eq!(ids, ["CLM-2026-0001", "CLM-2026-0002", "CLM-2026-0003"]);

    let partly_paid = find(&denials, "CLM-2026-0003");
    assert_eq!(
        partly_paid.adjustments.len(),
        1,
        "PR-2 coinsurance on the paid line is no denial"
    );
    assert_eq!(
        partly_paid.adjustments_text(),
        "CO-252 62.00 (line 1, 99490)"
    );
}

#[test]
fn denial_carries_payer_claim_number_and_remittance() {
    let denials = acme_denials();
    let denial = find(&denials, "CLM-2026-0001");
    assert_eq!(denial.payer_claim_number.as_deref(), Some("26041000101"));
    assert_eq!(denial.payer.id.as_deref(), Some("12345"));
    assert_eq!(denial.payer.name.as_deref(), Some("Acme Health Plan"));
    assert_eq!(denial.notice_date.as_deref(), Some("2026-02-10"));
    assert_eq!(denial.rarcs, ["N706"]);
    let source = denial.remittance_source().expect("835 input");
    assert_eq!(source.file, "acme.835");
    assert_eq!(source.trace_number.as_deref(), Some("0012026021001"));
}

#[test]
fn serialized_denial_has_no_patient_data() {
    let text = serde_json::to_string(&acme_denials()).unwrap();
    for phi in ["DOE", "JANE", "1EG4TE5MK73", "CLM-2026-0001-1"] {
        assert!(!text.contains(phi), "{phi} in {text}");
    }
}

#[test]
fn shipped_pack_classifies_each_claim() {
    let rules = RuleSet::shipped().expect("shipped packs compile");
    let denials = acme_denials();
    let outcome = |id: &str| find(&denials, id).classify(&rules);

    assert!(
        matches!(outcome("CLM-2026-0001"), DenialOutcome::Covered { ref label, .. } if label == "CCM32")
    );
    assert!(matches!(
        outcome("CLM-2026-0002"),
        DenialOutcome::Unprocessable {
            action: CORRECT_AND_RESUBMIT,
            ..
        }
    ));
    assert_eq!(
        outcome("CLM-2026-0003"),
        DenialOutcome::Uncovered,
        "N710 is not among the pack's remarks"
    );
}

#[test]
fn payer_specific_mapping_applies_to_one_payer() {
    let rules = payer_specific_rules();
    let mut denial = find(&acme_denials(), "CLM-2026-0001").clone();
    assert_eq!(
        denial.classify(&rules),
        DenialOutcome::Uncovered,
        "payer 12345 is not mapped"
    );

    denial.payer.id = Some("60054".to_string());
    assert!(
        matches!(denial.classify(&rules), DenialOutcome::Covered { ref label, .. } if label == "CCM32")
    );
}

#[test]
fn record_denial_uses_the_mapped_adjustment() {
    let rules = RuleSet::shipped().expect("shipped packs compile");
    let denials = acme_denials();
    let denial = find(&denials, "CLM-2026-0001");
    let value = denial.record_denial(&denial.classify(&rules));
    assert_eq!(
        value,
        json!({
            "label": "CCM32",
            "description": "Patient portal utilization not promoted",
            "group_code": "CO",
            "carc": "16",
            "rarcs": ["N706"],
            "notice_date": "2026-02-10",
            "payer_claim_number": "26041000101"
        })
    );
}

#[test]
fn unprocessable_record_denial_keeps_its_remarks() {
    let rules = RuleSet::shipped().expect("shipped packs compile");
    let denials = acme_denials();
    let denial = find(&denials, "CLM-2026-0002");
    let value = denial.record_denial(&denial.classify(&rules));
    assert_eq!(value["rarcs"], json!(["MA130"]));
    assert_eq!(value.get("label"), None);
}

#[test]
fn reversals_and_paid_reductions_are_not_denials() {
    let text = "ISA*00*          *00*          *ZZ*ACMEHEALTH     *ZZ*RIVERBEND      *260210*0930*^*00501*000000101*0*P*:~\
GS*HP*ACMEHEALTH*RIVERBEND*20260210*0930*101*X*005010X221A1~ST*835*0001~BPR*I*50*C*ACH************20260210~\
TRN*1*T1*1123456789~N1*PR*Acme Health Plan~REF*2U*60054~N1*PE*Riverbend*XX*1234567893~LX*1~\
CLP*R1*22*-62.00*-62.00*0*MB*X1~CAS*CO*16*-62.00~\
CLP*P1*1*62.00*50.00*0*MB*X2~SVC*HC:99490*62.00*50.00**1~CAS*CO*45*12.00~\
CLP*N1*1*62.00*0*0*MB*X3~MOA***N211~\
SE*13*0001~GE*1*101~IEA*1*000000101~";
    let parsed = parse_835(text.as_bytes());
    let denials: Vec<RemitDenial> = parsed
        .remittances
        .iter()
        .flat_map(|remittance| RemitDenial::from_remittance("x.835", remittance))
        .collect();
    let ids: Vec<&str> = denials.iter().map(|d| d.claim_id.as_str()).collect();
    assert_eq!(ids, ["N1"], "only the N211 claim is denied");
    let rules = RuleSet::shipped().expect("shipped packs compile");
    assert!(matches!(
        denials[0].classify(&rules),
        DenialOutcome::Unprocessable { .. }
    ));
}

#[test]
fn x12_dates_become_iso_dates() {
    assert_eq!(x12_date("20260402").as_deref(), Some("2026-04-02"));
    assert_eq!(x12_date("20261302"), None);
    assert_eq!(x12_date("260402"), None);
}
