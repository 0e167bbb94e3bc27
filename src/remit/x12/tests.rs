//! Tests of whole-file parsing on small inline inputs. Fixture files from real and
//! constructed remittances are tested in `tests/x12_835.rs`.

use super::*;

const HEADER: [&str; 4] = [
    "BPR*I*49.60*C*ACH************20260210",
    "TRN*1*0012026021001*1123456789",
    "N1*PR*Acme Health Plan*XV*ACME01",
    "N1*PE*Riverbend Family Medicine*XX*1234567893",
];

/// Returns an ISA segment with `*`, `^`, `:` and `~` and the given control number.
fn isa(control_number: &str) -> String {
    format!(
        "ISA*00*          *00*          *ZZ*ACMEHEALTH     *ZZ*RIVERBEND      *260210*0930*^*00501*{control_number}*0*P*:~"
    )
}

/// Returns ST, the header segments, `body` and SE with a correct segment count.
fn transaction_set(control_number: &str, body: &[&str]) -> Vec<String> {
    let mut segments = vec![format!("ST*835*{control_number}")];
    segments.extend(HEADER.iter().map(|segment| segment.to_string()));
    segments.extend(body.iter().map(|segment| segment.to_string()));
    segments.push(format!("SE*{}*{control_number}", segments.len() + 1));
    segments
}

/// Returns a complete interchange with one group around `transaction_sets`.
fn interchange(control_number: &str, transaction_sets: &[Vec<String>]) -> String {
    let mut text = isa(control_number);
    text.push_str("GS*HP*ACMEHEALTH*RIVERBEND*20260210*0930*7*X*005010X221A1~");
    for segment in transaction_sets.iter().flatten() {
        text.push_str(segment);
        text.push('~');
    }
    text.push_str(&format!(
        "GE*{}*7~IEA*1*{control_number}~",
        transaction_sets.len()
    ));
    text
}

fn single(body: &[&str]) -> String {
    interchange("000000101", &[transaction_set("0001", body)])
}

fn kinds(parsed: &Parsed835) -> Vec<&X12ErrorKind> {
    parsed.errors.iter().map(|error| &error.kind).collect()
}

const DENIED_CLAIM: [&str; 5] = [
    "CLP*CLM-1*4*62.00*0*0*MB*PCN1",
    "SVC*HC:99490*62.00*0**1",
    "DTM*472*20260115",
    "CAS*CO*16*62.00",
    "LQ*HE*N706",
];

#[test]
fn clean_interchange_has_no_errors() {
    let parsed = parse_835(single(&DENIED_CLAIM).as_bytes());

    assert_eq!(kinds(&parsed), Vec::<&X12ErrorKind>::new());
    assert_eq!(parsed.remittances.len(), 1);
    let remittance = &parsed.remittances[0];
    assert_eq!(remittance.interchange_control_number, "000000101");
    assert_eq!(remittance.group_control_number.as_deref(), Some("7"));
    assert_eq!(remittance.version.as_deref(), Some("005010X221A1"));
    assert_eq!(remittance.transaction_set_control_number, "0001");
    assert_eq!(
        remittance.total_payment.as_ref().map(Decimal::as_str),
        Some("49.60")
    );
    assert_eq!(remittance.payment_method.as_deref(), Some("ACH"));
    assert_eq!(remittance.remittance_date(), Some("20260210"));
    assert_eq!(remittance.trace_number.as_deref(), Some("0012026021001"));
}

#[test]
fn empty_input_reports_missing_isa_once() {
    for input in ["", "  \r\n\t"] {
        let parsed = parse_835(input.as_bytes());

        assert_eq!(kinds(&parsed), [&X12ErrorKind::MissingIsa], "{input:?}");
        assert!(parsed.remittances.is_empty());
    }
}

#[test]
fn text_between_interchanges_is_reported_and_skipped() {
    let first = single(&DENIED_CLAIM);
    let second = interchange("000000102", &[transaction_set("0002", &DENIED_CLAIM)]);
    let input = format!("{first}\nthis is not X12\nnor this line\n{second}");

    let parsed = parse_835(input.as_bytes());

    assert_eq!(kinds(&parsed), [&X12ErrorKind::MissingIsa]);
    assert_eq!(parsed.errors[0].position.line, 2);
    assert_eq!(parsed.errors[0].position.column, 1);
    assert_eq!(parsed.remittances.len(), 2);
}

#[test]
fn interchanges_with_different_delimiters_in_one_file() {
    let first = single(&DENIED_CLAIM);
    let second = interchange("000000102", &[transaction_set("0002", &DENIED_CLAIM)])
        .replace('*', "|")
        .replace("HC:", "HC^")
        .replace("|^|00501|", "|!|00501|")
        .replace("|P|:~", "|P|^~");

    let parsed = parse_835(format!("{first}{second}").as_bytes());

    assert_eq!(kinds(&parsed), Vec::<&X12ErrorKind>::new());
    assert_eq!(parsed.remittances.len(), 2);
    let line = &parsed.remittances[1].claims[0].lines[0];
    assert_eq!(line.code_qualifier, "HC");
    assert_eq!(line.code, "99490");
}

#[test]
fn missing_iea_before_next_interchange() {
    let first = single(&DENIED_CLAIM);
    let first = first.trim_end_matches("IEA*1*000000101~");
    let second = interchange("000000102", &[transaction_set("0002", &DENIED_CLAIM)]);

    let parsed = parse_835(format!("{first}\n{second}").as_bytes());

    assert_eq!(
        kinds(&parsed),
        [&X12ErrorKind::MissingIea {
            control_number: "000000101".into()
        }]
    );
    assert_eq!(parsed.errors[0].severity, Severity::Error);
    assert_eq!(parsed.errors[0].position.line, 2);
    assert_eq!(parsed.remittances.len(), 2);
}

#[test]
fn file_cut_inside_transaction_keeps_read_claims() {
    let full = single(&DENIED_CLAIM);
    let cut = full.split("SE*").next().unwrap_or_default();

    let parsed = parse_835(cut.as_bytes());

    assert_eq!(
        kinds(&parsed),
        [
            &X12ErrorKind::MissingSe {
                control_number: "0001".into()
            },
            &X12ErrorKind::MissingGe {
                control_number: "7".into()
            },
            &X12ErrorKind::MissingIea {
                control_number: "000000101".into()
            },
        ]
    );
    assert!(parsed.has_errors());
    assert_eq!(parsed.remittances.len(), 1);
    assert_eq!(parsed.remittances[0].claims[0].lines[0].rarcs, ["N706"]);
}

#[test]
fn trailer_count_mismatches_are_warnings() {
    let input = single(&DENIED_CLAIM)
        .replace("SE*11*0001", "SE*12*0001")
        .replace("GE*1*7", "GE*2*7")
        .replace("IEA*1*", "IEA*3*");

    let parsed = parse_835(input.as_bytes());

    assert_eq!(
        kinds(&parsed),
        [
            &X12ErrorKind::CountMismatch {
                element: "SE01",
                counted: "segments",
                declared: "12".into(),
                actual: 11
            },
            &X12ErrorKind::CountMismatch {
                element: "GE01",
                counted: "transaction sets",
                declared: "2".into(),
                actual: 1
            },
            &X12ErrorKind::CountMismatch {
                element: "IEA01",
                counted: "functional groups",
                declared: "3".into(),
                actual: 1
            },
        ]
    );
    assert!(!parsed.has_errors());
    assert_eq!(parsed.remittances.len(), 1);
}

#[test]
fn trailer_control_number_mismatches_are_warnings() {
    let input = single(&DENIED_CLAIM)
        .replace("SE*11*0001", "SE*11*0009")
        .replace("GE*1*7", "GE*1*8")
        .replace("IEA*1*000000101", "IEA*1*101");

    let parsed = parse_835(input.as_bytes());

    // IEA02 101 matches ISA13 000000101 once leading zeros are ignored.
    assert_eq!(
        kinds(&parsed),
        [
            &X12ErrorKind::ControlNumberMismatch {
                element: "SE02",
                expected: "0001".into(),
                found: "0009".into()
            },
            &X12ErrorKind::ControlNumberMismatch {
                element: "GE02",
                expected: "7".into(),
                found: "8".into()
            },
        ]
    );
}

#[test]
fn other_transaction_sets_are_skipped() {
    let input = single(&DENIED_CLAIM).replace("ST*835*", "ST*277*");

    let parsed = parse_835(input.as_bytes());

    assert_eq!(
        kinds(&parsed),
        [&X12ErrorKind::NotAn835 {
            transaction_set: "277".into()
        }]
    );
    assert!(parsed.remittances.is_empty());
}

#[test]
fn unknown_segments_are_ignored_silently() {
    let mut body = DENIED_CLAIM.to_vec();
    body.insert(1, "ZZ9*SOMETHING*ELSE");
    body.push("AMT*B6*62.00");

    let parsed = parse_835(single(&body).as_bytes());

    assert_eq!(kinds(&parsed), Vec::<&X12ErrorKind>::new());
    assert_eq!(parsed.remittances[0].claims[0].lines.len(), 1);
}

#[test]
fn invalid_segment_identifier_is_a_warning() {
    let mut body = DENIED_CLAIM.to_vec();
    body.insert(1, "lowercase*junk");

    let parsed = parse_835(single(&body).as_bytes());

    assert_eq!(kinds(&parsed), [&X12ErrorKind::InvalidSegmentId]);
    assert_eq!(parsed.errors[0].position.segment, 9);
}

#[test]
fn segments_outside_their_loop_are_reported() {
    let body = [
        "CAS*CO*16*62.00",
        "SVC*HC:99490*62.00*0",
        "LQ*HE*N706",
        "MOA***MA130",
    ];

    let parsed = parse_835(single(&body).as_bytes());

    let ids: Vec<_> = parsed
        .errors
        .iter()
        .map(|error| match &error.kind {
            X12ErrorKind::UnexpectedSegment { id, .. } => id.as_str(),
            _ => "other",
        })
        .collect();
    assert_eq!(ids, ["CAS", "SVC", "LQ", "MOA"]);
}

#[test]
fn ta1_before_group_is_accepted() {
    let input = single(&DENIED_CLAIM).replace("~GS*", "~TA1*000000099*260210*0930*A*000~GS*");

    let parsed = parse_835(input.as_bytes());

    assert_eq!(kinds(&parsed), Vec::<&X12ErrorKind>::new());
    assert_eq!(parsed.remittances.len(), 1);
}

#[test]
fn segment_outside_transaction_set_is_reported() {
    let input = single(&DENIED_CLAIM).replace("GE*1*7~", "CLP*X*1~GE*1*7~");

    let parsed = parse_835(input.as_bytes());

    assert_eq!(
        kinds(&parsed),
        [&X12ErrorKind::UnexpectedSegment {
            id: "CLP".into(),
            context: "outside a transaction set (ST..SE)"
        }]
    );
}

#[test]
fn invalid_amount_is_dropped_with_warning() {
    let body = ["CLP*CLM-1*4*62,00*0*0", "CAS*CO*16*abc*1"];

    let parsed = parse_835(single(&body).as_bytes());

    assert_eq!(
        kinds(&parsed),
        [
            &X12ErrorKind::InvalidElement {
                element: "CLP03".into(),
                expected: "a decimal number such as 12.50"
            },
            &X12ErrorKind::InvalidElement {
                element: "CAS03".into(),
                expected: "a decimal number such as 12.50"
            },
        ]
    );
    let claim = &parsed.remittances[0].claims[0];
    assert_eq!(claim.charge, None);
    assert!(claim.adjustments.is_empty());
}

#[test]
fn messages_never_contain_element_values() {
    let body = [
        "CLP*CLM-SECRET*4*SECRET-AMOUNT*0*0",
        "DTM*232*SECRETDATE",
        "REF*EA",
    ];

    let parsed = parse_835(single(&body).as_bytes());

    assert_eq!(parsed.errors.len(), 3);
    for error in &parsed.errors {
        assert!(!error.to_string().contains("SECRET"), "{error}");
    }
}

#[test]
fn cas_reads_all_triplets_and_keeps_unknown_group() {
    let body = [
        "CLP*CLM-1*4*100*0*0",
        "CAS*CO*16*60*1*252*40**45*0",
        "CAS*XX*B7*5",
    ];

    let parsed = parse_835(single(&body).as_bytes());

    assert_eq!(
        kinds(&parsed),
        [&X12ErrorKind::UnknownCode {
            element: "CAS01".into(),
            expected: "one of CO, PR, OA, PI, CR"
        }]
    );
    let adjustments = &parsed.remittances[0].claims[0].adjustments;
    let summary: Vec<_> = adjustments
        .iter()
        .map(|adjustment| {
            let quantity = adjustment.quantity.as_ref().map(Decimal::as_str);
            (
                adjustment.group.code(),
                adjustment.carc.as_str(),
                adjustment.amount.as_str(),
                quantity,
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("CO", "16", "60", Some("1")),
            ("CO", "252", "40", None),
            ("CO", "45", "0", None),
            ("XX", "B7", "5", None),
        ]
    );
}

#[test]
fn cas_amount_without_reason_is_reported() {
    let body = ["CLP*CLM-1*4*100*0*0", "CAS*CO**60"];

    let parsed = parse_835(single(&body).as_bytes());

    assert_eq!(
        kinds(&parsed),
        [&X12ErrorKind::MissingElement {
            element: "CAS02".into()
        }]
    );
    assert!(parsed.remittances[0].claims[0].adjustments.is_empty());
}

#[test]
fn remark_codes_from_moa_and_mia() {
    // MIA05 is M80, then MIA06 to MIA19 are empty and MIA20 to MIA23 follow.
    let mia = format!("MIA*0****M80{}MA01*MA02*MA03*MA04", "*".repeat(15));
    let body = [
        "CLP*CLM-1*4*100*0*0",
        "MOA**0*MA130*N706",
        "CLP*CLM-2*4*900*0*0",
        &mia,
    ];

    let parsed = parse_835(single(&body).as_bytes());

    let claims = &parsed.remittances[0].claims;
    assert_eq!(claims[0].rarcs, ["MA130", "N706"]);
    assert_eq!(claims[1].rarcs, ["M80", "MA01", "MA02", "MA03", "MA04"]);
}

#[test]
fn payer_id_prefers_ref_2u_over_n104() {
    let with_ref = single(&[]).replace("N1*PE*", "REF*2U*12345~N1*PE*");

    let parsed_with_ref = parse_835(with_ref.as_bytes());
    let parsed_without = parse_835(single(&[]).as_bytes());

    assert_eq!(
        parsed_with_ref.remittances[0].payer_id.as_deref(),
        Some("12345")
    );
    assert_eq!(
        parsed_without.remittances[0].payer_id.as_deref(),
        Some("ACME01")
    );
    assert_eq!(
        parsed_without.remittances[0].payer_name.as_deref(),
        Some("Acme Health Plan")
    );
}

#[test]
fn missing_header_segments_are_warnings() {
    let input = single(&[])
        .replace("BPR*I*49.60*C*ACH************20260210~", "")
        .replace("N1*PE*Riverbend Family Medicine*XX*1234567893~", "")
        .replace("SE*6*", "SE*4*");

    let parsed = parse_835(input.as_bytes());

    let segments: Vec<_> = parsed
        .errors
        .iter()
        .map(|error| match &error.kind {
            X12ErrorKind::MissingSegment { segment, .. } => *segment,
            _ => "other",
        })
        .collect();
    assert_eq!(segments, ["BPR", "N1*PE"]);
    assert_eq!(parsed.remittances[0].remittance_date(), None);
}

#[test]
fn service_line_details() {
    let body = [
        "CLP*CLM-1*1*124*49.60*12.40*MB*PCN1",
        "DTM*232*20260101",
        "DTM*233*20260131",
        "SVC*HC:99439:GT:95::::Chronic care*62*49.60*0510*2*HC:99490:GT",
        "DTM*150*20260101",
        "DTM*151*20260131",
        "REF*6R*LINE-1",
        "REF*LU*11",
        "LQ*RX*70",
        "LQ*HE*N4",
    ];

    let parsed = parse_835(single(&body).as_bytes());

    assert_eq!(kinds(&parsed), Vec::<&X12ErrorKind>::new());
    let claim = &parsed.remittances[0].claims[0];
    assert_eq!(claim.statement_from.as_deref(), Some("20260101"));
    assert_eq!(claim.statement_to.as_deref(), Some("20260131"));
    let line = &claim.lines[0];
    assert_eq!(line.code, "99439");
    assert_eq!(line.modifiers, ["GT", "95"]);
    assert_eq!(line.revenue_code.as_deref(), Some("0510"));
    assert_eq!(line.units.as_ref().map(Decimal::as_str), Some("2"));
    let submitted = line
        .submitted_procedure
        .as_ref()
        .map(|procedure| procedure.code.as_str());
    assert_eq!(submitted, Some("99490"));
    assert_eq!(line.service_date, None);
    assert_eq!(line.service_start_date.as_deref(), Some("20260101"));
    assert_eq!(line.service_end_date.as_deref(), Some("20260131"));
    assert_eq!(line.refs.len(), 2);
    assert_eq!(line.refs[0].qualifier, "6R");
    assert_eq!(line.refs[0].value, "LINE-1");
    // LQ*RX carries a pharmacy reject code, not a remark code.
    assert_eq!(line.rarcs, ["N4"]);
}

#[test]
fn provider_adjustments_one_entry_per_pair() {
    let body = ["PLB*1234567893*20261231*WO:CLM-9*-10.00*L6*2.15"];

    let parsed = parse_835(single(&body).as_bytes());

    let adjustments = &parsed.remittances[0].provider_adjustments;
    assert_eq!(adjustments.len(), 2);
    assert_eq!(adjustments[0].provider_id.as_deref(), Some("1234567893"));
    assert_eq!(
        adjustments[0].fiscal_period_date.as_deref(),
        Some("20261231")
    );
    assert_eq!(adjustments[0].reason_code, "WO");
    assert_eq!(adjustments[0].reference.as_deref(), Some("CLM-9"));
    assert_eq!(adjustments[0].amount.as_str(), "-10.00");
    assert_eq!(adjustments[1].reason_code, "L6");
    assert_eq!(adjustments[1].reference, None);
}

#[test]
fn line_breaks_inside_a_segment_are_dropped() {
    let input = single(&DENIED_CLAIM).replace("CLP*CLM-1*4*62.00", "CLP*CLM-1*4*6\r\n2.00");

    let parsed = parse_835(input.as_bytes());

    assert_eq!(kinds(&parsed), Vec::<&X12ErrorKind>::new());
    let charge = parsed.remittances[0].claims[0]
        .charge
        .as_ref()
        .map(Decimal::as_str);
    assert_eq!(charge, Some("62.00"));
}

#[test]
fn positions_count_bom_bytes_but_not_columns() {
    let input = format!("\u{feff}{}", single(&DENIED_CLAIM).replace('~', "~\n  "));

    let parsed = parse_835(input.as_bytes());

    let remittance = &parsed.remittances[0];
    // ISA, GS, ST: the ST is segment 3 on line 3, after two spaces of indentation.
    assert_eq!(
        remittance.position,
        Position {
            segment: 3,
            offset: 3 + 106 + 1 + 2 + 58 + 1 + 2,
            line: 3,
            column: 3
        }
    );
    let claim = &remittance.claims[0];
    assert_eq!(claim.position.segment, 8);
    assert_eq!(claim.position.line, 8);
    assert_eq!(claim.lines[0].position.segment, 9);
}

#[test]
fn denial_facts_skip_zero_amounts() {
    let body = [
        "CLP*CLM-1*2*100*80*20",
        "CAS*CO*42*0",
        "SVC*HC:99490*100*80",
        "CAS*PR*2*20",
        "CAS*CO*45*0*0",
        "CLP*CLM-2*1*100*100*0",
        "CAS*CO*42*0",
        "CLP*CLM-3*22*-100*-100*0",
        "CAS*CR*16*-100",
    ];

    let parsed = parse_835(single(&body).as_bytes());
    let remittance = &parsed.remittances[0];
    let facts: Vec<_> = denials(remittance).collect();

    let claim_ids: Vec<_> = facts
        .iter()
        .map(|fact| fact.claim.patient_control_number.as_str())
        .collect();
    assert_eq!(claim_ids, ["CLM-1", "CLM-3"]);
    assert_eq!(facts[0].adjustments.len(), 1);
    assert_eq!(facts[0].adjustments[0].line, Some(0));
    assert!(facts[0].has_carc(Some(&AdjustmentGroup::PatientResponsibility), "2"));
    assert!(!facts[0].has_carc(Some(&AdjustmentGroup::ContractualObligation), "2"));
    assert!(!facts[0].has_carc(None, "42"));
    assert!(facts[1].has_carc(None, "16"));
    assert!(remittance.claims[1].denial_facts().is_empty());
}

#[test]
fn denial_facts_list_claim_and_line_remarks() {
    let body = [
        "CLP*CLM-1*4*62*0*0",
        "MOA***MA130",
        "SVC*HC:99490*62*0",
        "LQ*HE*N706",
    ];

    let parsed = parse_835(single(&body).as_bytes());
    let facts = parsed.remittances[0].claims[0].denial_facts();

    let remarks: Vec<_> = facts
        .rarcs
        .iter()
        .map(|fact| (fact.line, fact.code))
        .collect();
    assert_eq!(remarks, [(None, "MA130"), (Some(0), "N706")]);
    assert!(facts.has_rarc("N706"));
    assert!(!facts.has_rarc("N710"));
    assert!(!facts.is_empty());
}

#[test]
fn no_panic_on_any_truncation() {
    let input = format!("\u{feff}{}", single(&DENIED_CLAIM).replace('~', "~\r\n"));
    let bytes = input.as_bytes();

    for end in 0..=bytes.len() {
        let parsed = parse_835(&bytes[..end]);
        let cuts_content = bytes[end..].iter().any(|byte| !byte.is_ascii_whitespace());
        if cuts_content {
            assert!(!parsed.errors.is_empty(), "cut at {end} went unreported");
        }
    }
}

#[test]
fn no_panic_on_byte_mutations() {
    let input = single(&DENIED_CLAIM).into_bytes();
    let replacements = [b'*', b'~', b':', b'\n', b'I', 0x00, 0xFF, 0xC3];
    // Deterministic pseudo-random offsets from a linear congruential generator.
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;

    for _ in 0..4000 {
        let mut mutated = input.clone();
        for _ in 0..3 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            let offset = (state >> 33) as usize % mutated.len();
            let replacement = replacements[(state >> 20) as usize % replacements.len()];
            mutated[offset] = replacement;
        }
        let _ = parse_835(&mutated);
    }
}
