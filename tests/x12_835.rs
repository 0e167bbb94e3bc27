//! End-to-end tests of the X12 835 reader on the fixture files in `tests/data/x12`.

use std::path::Path;

use claimlint::remit::x12::{
    denials, parse_835, AdjustmentGroup, ClaimPayment, Decimal, Parsed835, Position, Remittance,
    Severity, X12ErrorKind,
};

fn read_fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/x12")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()))
}

fn parse_fixture(name: &str) -> Parsed835 {
    parse_835(&read_fixture(name))
}

fn kinds(parsed: &Parsed835) -> Vec<&X12ErrorKind> {
    parsed.errors.iter().map(|error| &error.kind).collect()
}

fn text(value: &Option<Decimal>) -> Option<&str> {
    value.as_ref().map(Decimal::as_str)
}

/// Returns the byte offset of the first occurrence of `needle` in `haystack`.
fn offset_of(haystack: &[u8], needle: &str) -> usize {
    haystack
        .windows(needle.len())
        .position(|window| window == needle.as_bytes())
        .unwrap_or_else(|| panic!("{needle} not found"))
}

/// Denial facts per claim as `(claim id, ["CO-16 62.00 line 0"...], ["N706 line 0"...])`.
type DenialSummary = Vec<(String, Vec<String>, Vec<String>)>;

fn denial_summary(remittance: &Remittance) -> DenialSummary {
    let place = |line: Option<usize>| match line {
        Some(index) => format!("line {index}"),
        None => "claim".to_owned(),
    };

    denials(remittance)
        .map(|facts| {
            let adjustments = facts
                .adjustments
                .iter()
                .map(|fact| {
                    let adjustment = fact.adjustment;
                    format!(
                        "{}-{} {} {}",
                        adjustment.group,
                        adjustment.carc,
                        adjustment.amount,
                        place(fact.line)
                    )
                })
                .collect();
            let rarcs = facts
                .rarcs
                .iter()
                .map(|fact| format!("{} {}", fact.code, place(fact.line)))
                .collect();
            (
                facts.claim.patient_control_number.clone(),
                adjustments,
                rarcs,
            )
        })
        .collect()
}

fn claim<'a>(remittance: &'a Remittance, id: &str) -> &'a ClaimPayment {
    remittance
        .claims
        .iter()
        .find(|claim| claim.patient_control_number == id)
        .unwrap_or_else(|| panic!("claim {id} not found"))
}

mod oopfactory_sample {
    use super::*;

    const NAME: &str = "oopfactory-835-5010-example1.835";

    #[test]
    fn only_bare_clp_is_reported() {
        let parsed = parse_fixture(NAME);

        let missing = |element: &str| X12ErrorKind::MissingElement {
            element: element.into(),
        };
        assert_eq!(kinds(&parsed), [&missing("CLP03"), &missing("CLP04")]);
        assert!(!parsed.has_errors());
        let position = parsed.errors[0].position;
        assert_eq!(position.segment, 98);
        assert_eq!(position.line, 98);
        assert_eq!(position.column, 9);
        assert_eq!(
            position.offset,
            offset_of(&read_fixture(NAME), "CLP*090909*22~")
        );
    }

    #[test]
    fn envelope_and_payment_header() {
        let parsed = parse_fixture(NAME);

        assert_eq!(parsed.remittances.len(), 1);
        let remittance = &parsed.remittances[0];
        assert_eq!(remittance.interchange_control_number, "004075123");
        assert_eq!(remittance.usage_indicator, "P");
        assert_eq!(remittance.group_control_number.as_deref(), Some("1"));
        assert_eq!(remittance.version.as_deref(), Some("5010"));
        assert_eq!(remittance.transaction_set_control_number, "07504123");
        assert_eq!(text(&remittance.total_payment), Some("5.75"));
        assert_eq!(remittance.payment_method.as_deref(), Some("NON"));
        assert_eq!(remittance.payment_date.as_deref(), Some("20040315"));
        assert_eq!(remittance.production_date.as_deref(), Some("20040308"));
        assert_eq!(remittance.remittance_date(), Some("20040315"));
        assert_eq!(remittance.trace_number.as_deref(), Some("A04B001017.07504"));
        assert_eq!(
            remittance.payer_name.as_deref(),
            Some("ASHTABULA COUNTY ADAMH BD")
        );
        assert_eq!(remittance.payer_id, None);
    }

    #[test]
    fn payee_loop() {
        let parsed = parse_fixture(NAME);

        let payee = parsed.remittances[0].payee.as_ref().expect("payee");
        assert_eq!(payee.name.as_deref(), Some("LAKE AREA RECOVERY CENTER"));
        assert_eq!(payee.id_qualifier.as_deref(), Some("FI"));
        assert_eq!(payee.id.as_deref(), Some("346608640"));
        assert_eq!(payee.refs.len(), 1);
        assert_eq!(payee.refs[0].qualifier, "PQ");
        assert_eq!(payee.refs[0].value, "1017");
    }

    #[test]
    fn first_claim_with_position() {
        let parsed = parse_fixture(NAME);
        let remittance = &parsed.remittances[0];

        assert_eq!(remittance.claims.len(), 10);
        let first = &remittance.claims[0];
        assert_eq!(first.patient_control_number, "444444");
        assert_eq!(first.status_code, "1");
        assert_eq!(text(&first.charge), Some("56.70"));
        assert_eq!(text(&first.paid), Some("56.52"));
        assert_eq!(text(&first.patient_responsibility), Some("0"));
        assert_eq!(first.filing_indicator.as_deref(), Some("MC"));
        assert_eq!(
            first.payer_claim_control_number.as_deref(),
            Some("0000000655555555")
        );
        let patient = first.patient.as_ref().expect("patient");
        assert_eq!(patient.last_name.as_deref(), Some("FUDD"));
        assert_eq!(patient.first_name.as_deref(), Some("ELMER"));
        assert_eq!(patient.id.as_deref(), Some("1333333"));
        assert_eq!(first.refs[0].qualifier, "F8");
        assert_eq!(first.refs[0].value, "A76B04054");
        assert_eq!(
            first.position,
            Position {
                segment: 15,
                offset: offset_of(&read_fixture(NAME), "CLP*444444"),
                line: 15,
                column: 9,
            }
        );
    }

    #[test]
    fn status_4_claim_keeps_status_and_reads_cas() {
        let parsed = parse_fixture(NAME);
        let denied = claim(&parsed.remittances[0], "999999");

        assert_eq!(denied.status_code, "4");
        assert_eq!(text(&denied.paid), Some("0"));
        assert_eq!(text(&denied.patient_responsibility), Some("25.95"));
        let line = &denied.lines[0];
        assert_eq!(line.code_qualifier, "ZZ");
        assert_eq!(line.code, "M2200");
        assert_eq!(line.modifiers, ["HE"]);
        assert_eq!(line.service_date.as_deref(), Some("20021224"));
        assert_eq!(line.adjustments.len(), 2);
        assert_eq!(
            line.adjustments[0].group,
            AdjustmentGroup::CorrectionReversal
        );
        assert_eq!(line.adjustments[0].carc, "18");
        assert_eq!(line.adjustments[0].amount.as_str(), "25.95");
        assert_eq!(text(&line.adjustments[0].quantity), Some("0"));
        assert_eq!(line.refs[0].value, "999999");
    }

    #[test]
    fn cas_with_two_triplets() {
        let parsed = parse_fixture(NAME);
        let line = &claim(&parsed.remittances[0], "888888").lines[0];

        let adjustments: Vec<_> = line
            .adjustments
            .iter()
            .map(|adjustment| {
                (
                    adjustment.group.code(),
                    adjustment.carc.as_str(),
                    adjustment.amount.as_str(),
                )
            })
            .collect();
        assert_eq!(adjustments, [("CO", "29", "162.13"), ("CO", "42", "0")]);
        assert_eq!(text(&line.units), Some("1.9"));
        assert_eq!(line.modifiers, ["F0"]);
    }

    #[test]
    fn reversal_keeps_negative_amounts() {
        let parsed = parse_fixture(NAME);
        let reversal = claim(&parsed.remittances[0], "123456");

        assert_eq!(reversal.status_code, "22");
        assert_eq!(text(&reversal.charge), Some("-42.58"));
        assert_eq!(text(&reversal.paid), Some("-42.58"));
        let line = &reversal.lines[0];
        assert_eq!(line.modifiers, ["GT", "UK"]);
        assert_eq!(text(&line.units), Some("-2"));
        assert_eq!(line.adjustments.len(), 4);
        assert!(reversal.denial_facts().is_empty());
    }

    #[test]
    fn bare_clp_is_kept_as_claim() {
        let parsed = parse_fixture(NAME);
        let claims = &parsed.remittances[0].claims;

        let bare = &claims[9];
        assert_eq!(bare.patient_control_number, "090909");
        assert_eq!(bare.status_code, "22");
        assert_eq!(bare.charge, None);
        assert_eq!(bare.paid, None);
        assert!(bare.lines.is_empty());
        // The full reversal with the same claim id comes just before it.
        let full = &claims[8];
        assert_eq!(full.patient_control_number, "090909");
        assert_eq!(
            full.lines[0].service_start_date.as_deref(),
            Some("20040210")
        );
        assert_eq!(full.lines[0].service_end_date.as_deref(), Some("20040211"));
        assert_eq!(full.lines[0].rarcs, ["MA92"]);
    }

    #[test]
    fn provider_adjustment() {
        let parsed = parse_fixture(NAME);

        let adjustments = &parsed.remittances[0].provider_adjustments;
        assert_eq!(adjustments.len(), 1);
        assert_eq!(adjustments[0].provider_id.as_deref(), Some("123456"));
        assert_eq!(
            adjustments[0].fiscal_period_date.as_deref(),
            Some("19960930")
        );
        assert_eq!(adjustments[0].reason_code, "CV");
        assert_eq!(adjustments[0].reference.as_deref(), Some("9876514"));
        assert_eq!(adjustments[0].amount.as_str(), "-1.27");
    }

    #[test]
    fn denial_facts_per_claim() {
        let parsed = parse_fixture(NAME);

        let summary = denial_summary(&parsed.remittances[0]);

        let expected = [
            ("444444", vec!["CO-42 0.18 line 0"], vec![]),
            ("999999", vec!["CR-18 25.95 line 0"], vec![]),
            ("888888", vec!["CO-29 162.13 line 0"], vec![]),
            ("111111", vec!["OA-23 37.64 line 0"], vec![]),
            (
                "121212",
                vec!["OA-23 57.6 line 0", "OA-23 -1.08 line 0"],
                vec![],
            ),
            ("333333", vec!["PR-2 14.92 line 0"], vec![]),
            (
                "777777",
                vec!["PI-104 136.72 line 0", "CO-42 0.18 line 0"],
                vec![],
            ),
            ("090909", vec![], vec!["MA92 line 0"]),
        ];
        let expected: Vec<_> = expected
            .into_iter()
            .map(|(id, adjustments, rarcs)| {
                let adjustments = adjustments.into_iter().map(String::from).collect();
                let rarcs = rarcs.into_iter().map(String::from).collect();
                (id.to_owned(), adjustments, rarcs)
            })
            .collect();
        assert_eq!(summary, expected);
    }
}

mod ccm_denials {
    use super::*;

    const NAME: &str = "acme-ccm-denials.835";

    fn expected_denials() -> DenialSummary {
        let rows = [
            (
                "CLM-2026-0001",
                vec!["CO-16 62.00 line 0"],
                vec!["N706 line 0"],
            ),
            (
                "CLM-2026-0002",
                vec!["CO-16 62.00 claim"],
                vec!["MA130 claim"],
            ),
            (
                "CLM-2026-0003",
                vec!["CO-252 62.00 line 0", "PR-2 12.40 line 1"],
                vec!["N710 line 0"],
            ),
        ];
        rows.into_iter()
            .map(|(id, adjustments, rarcs)| {
                let adjustments = adjustments.into_iter().map(String::from).collect();
                let rarcs = rarcs.into_iter().map(String::from).collect();
                (id.to_owned(), adjustments, rarcs)
            })
            .collect()
    }

    #[test]
    fn reads_without_diagnostics() {
        let parsed = parse_fixture(NAME);

        assert_eq!(kinds(&parsed), Vec::<&X12ErrorKind>::new());
        assert_eq!(parsed.remittances.len(), 1);
        let remittance = &parsed.remittances[0];
        assert_eq!(remittance.payer_name.as_deref(), Some("Acme Health Plan"));
        assert_eq!(remittance.payer_id.as_deref(), Some("12345"));
        assert_eq!(remittance.remittance_date(), Some("20260210"));
        assert_eq!(remittance.trace_number.as_deref(), Some("0012026021001"));
        let payee = remittance.payee.as_ref().expect("payee");
        assert_eq!(payee.name.as_deref(), Some("Riverbend Family Medicine"));
        assert_eq!(payee.id_qualifier.as_deref(), Some("XX"));
    }

    #[test]
    fn denials_match_fixture() {
        let parsed = parse_fixture(NAME);

        assert_eq!(denial_summary(&parsed.remittances[0]), expected_denials());
    }

    #[test]
    fn co16_with_n706_on_99490_line() {
        let parsed = parse_fixture(NAME);
        let remittance = &parsed.remittances[0];
        let denied = claim(remittance, "CLM-2026-0001");

        assert_eq!(denied.status_code, "4");
        assert_eq!(
            denied.payer_claim_control_number.as_deref(),
            Some("26041000101")
        );
        assert_eq!(denied.statement_from.as_deref(), Some("20260115"));
        let line = &denied.lines[0];
        assert_eq!(line.code, "99490");
        assert_eq!(line.service_date.as_deref(), Some("20260115"));
        assert_eq!(line.refs[0].value, "CLM-2026-0001-1");
        let facts = denied.denial_facts();
        assert!(facts.has_carc(Some(&AdjustmentGroup::ContractualObligation), "16"));
        assert!(facts.has_rarc("N706"));
    }

    #[test]
    fn claim_level_carc_16_with_ma130() {
        let parsed = parse_fixture(NAME);
        let denied = claim(&parsed.remittances[0], "CLM-2026-0002");

        assert_eq!(denied.adjustments.len(), 1);
        assert_eq!(denied.rarcs, ["MA130"]);
        assert!(denied.lines[0].adjustments.is_empty());
        assert!(denied.denial_facts().has_carc(None, "16"));
    }

    #[test]
    fn co252_with_n710_beside_paid_line() {
        let parsed = parse_fixture(NAME);
        let partly_paid = claim(&parsed.remittances[0], "CLM-2026-0003");

        assert_eq!(partly_paid.status_code, "2");
        assert_eq!(text(&partly_paid.paid), Some("49.60"));
        let facts = partly_paid.denial_facts();
        assert!(facts.has_carc(Some(&AdjustmentGroup::ContractualObligation), "252"));
        assert!(facts.has_rarc("N710"));
        assert_eq!(partly_paid.lines[1].code, "99439");
        assert_eq!(partly_paid.lines[1].modifiers, ["GT"]);
    }

    #[test]
    fn serialized_form() {
        let parsed = parse_fixture(NAME);

        let json = serde_json::to_string_pretty(&parsed).expect("serializable");
        insta::assert_snapshot!(json);
    }

    /// Parses fixture `name` and summarizes the denials of its first remittance.
    fn data_of(name: &str) -> (Parsed835, DenialSummary) {
        let parsed = parse_fixture(name);
        let summary = parsed
            .remittances
            .first()
            .map(denial_summary)
            .unwrap_or_default();
        (parsed, summary)
    }

    #[test]
    fn pipe_separators_give_same_denials() {
        let (parsed, summary) = data_of("pipe-separators.835");

        assert_eq!(kinds(&parsed), Vec::<&X12ErrorKind>::new());
        assert_eq!(summary, expected_denials());
        let clp = claim(&parsed.remittances[0], "CLM-2026-0001");
        // The whole file is one line.
        assert_eq!(clp.position.line, 1);
        assert_eq!(clp.position.column, clp.position.offset + 1);
        assert_eq!(clp.lines[0].code, "99490");
    }

    #[test]
    fn newline_terminator_gives_same_denials() {
        let (parsed, summary) = data_of("newline-terminator.835");

        assert_eq!(kinds(&parsed), Vec::<&X12ErrorKind>::new());
        assert_eq!(summary, expected_denials());
        let clp = claim(&parsed.remittances[0], "CLM-2026-0001");
        assert_eq!(clp.position.segment, 17);
        assert_eq!(clp.position.line, 17);
        assert_eq!(clp.position.column, 1);
    }

    #[test]
    fn cr_line_ends_without_final_terminator() {
        let (parsed, summary) = data_of("cr-line-ends-no-final-terminator.835");

        assert_eq!(kinds(&parsed), [&X12ErrorKind::MissingTerminator]);
        assert_eq!(parsed.errors[0].severity, Severity::Warning);
        assert_eq!(parsed.errors[0].position.line, 48);
        assert_eq!(summary, expected_denials());
        let clp = claim(&parsed.remittances[0], "CLM-2026-0001");
        assert_eq!(clp.position.line, 17);
    }

    #[test]
    fn names_containing_isa_stay_names() {
        let (parsed, summary) = data_of("names-containing-isa.835");

        assert_eq!(kinds(&parsed), Vec::<&X12ErrorKind>::new());
        assert_eq!(summary, expected_denials());
        let remittance = &parsed.remittances[0];
        let first = claim(remittance, "CLM-2026-0001")
            .patient
            .as_ref()
            .expect("patient");
        assert_eq!(first.last_name.as_deref(), Some("ISAACS"));
        assert_eq!(first.first_name.as_deref(), Some("LISA"));
        let second = claim(remittance, "CLM-2026-0002")
            .patient
            .as_ref()
            .expect("patient");
        assert_eq!(second.last_name.as_deref(), Some("ISA"));
        assert_eq!(second.first_name.as_deref(), Some("ISABEL"));
    }
}

mod malformed_envelopes {
    use super::*;

    #[test]
    fn file_without_isa_reports_one_error() {
        let parsed = parse_fixture("no-isa.csv");

        assert_eq!(kinds(&parsed), [&X12ErrorKind::MissingIsa]);
        let error = &parsed.errors[0];
        assert_eq!(error.severity, Severity::Error);
        assert_eq!(
            error.to_string(),
            "missing ISA header at segment 1 (line 1, column 1, byte 0)"
        );
        assert!(!error.help().is_empty());
        assert!(parsed.remittances.is_empty());
    }

    #[test]
    fn truncated_isa_is_an_error() {
        let parsed = parse_fixture("truncated-isa.835");

        assert_eq!(kinds(&parsed), [&X12ErrorKind::TruncatedIsa { length: 60 }]);
        assert!(parsed.has_errors());
        assert!(parsed.remittances.is_empty());
    }

    #[test]
    fn broken_first_interchange_does_not_stop_second() {
        let input = read_fixture("two-interchanges-first-broken.835");
        let parsed = parse_835(&input);

        assert_eq!(kinds(&parsed), [&X12ErrorKind::TruncatedIsa { length: 75 }]);
        assert_eq!(parsed.errors[0].position.line, 1);
        assert_eq!(parsed.remittances.len(), 1);
        let remittance = &parsed.remittances[0];
        assert_eq!(remittance.interchange_control_number, "000000107");
        let ids: Vec<_> = remittance
            .claims
            .iter()
            .map(|claim| claim.patient_control_number.as_str())
            .collect();
        assert_eq!(ids, ["CLM-2026-0001"]);
        // The skipped region counts as one segment, so the second ISA is segment 2.
        let second_isa = offset_of(&input, "ISA*00*          ");
        let st = offset_of(&input[second_isa..], "ST*835") + second_isa;
        assert_eq!(remittance.position.segment, 4);
        assert_eq!(remittance.position.offset, st);
        assert_eq!(remittance.position.line, 28);
    }

    #[test]
    fn no_panic_on_fixture_truncations() {
        let input = read_fixture("oopfactory-835-5010-example1.835");

        for end in 0..input.len() {
            let parsed = parse_835(&input[..end]);
            assert!(!parsed.errors.is_empty(), "cut at {end} went unreported");
        }
    }
}
