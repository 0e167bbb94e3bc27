use serde_json::json;

use super::*;
use crate::appeal::assess::{Action, CaseError, RefusalReason};
use crate::appeal::deadline::DeadlineStatus;

#[test]
fn full_evidence_letter_snapshot() {
    let letter = letter_for(&parse(FULL)).expect("a letter");
    insta::assert_snapshot!("full_evidence_letter", letter);
}

#[test]
fn missing_evidence_is_refused_with_each_rule() {
    let missing = letter_for(&parse(MISSING)).expect_err("refused");
    assert!(
        missing
            .iter()
            .any(|m| m.starts_with("CCM32-003: a portal invitation logged")),
        "{missing:?}"
    );
    assert!(
        missing
            .iter()
            .any(|m| m.starts_with("CCM32-004: a portal invitation emailed")),
        "{missing:?}"
    );
    assert!(
        missing
            .iter()
            .all(|m| !m.starts_with("CCM32-001") && !m.starts_with("CCM32-002")),
        "{missing:?}"
    );
}

#[test]
fn letter_never_presents_payer_rules_as_cms_or_medicare() {
    let letter = letter_for(&parse(FULL)).expect("a letter");
    for phrase in [
        "CMS",
        "Medicare",
        "Chronic Care Management guidelines",
        "Promoting Interoperability",
    ] {
        assert!(!letter.contains(phrase), "the letter mentions {phrase:?}");
    }
    assert!(
        letter.contains("Acme Health Plan's own requirements for denial CCM32"),
        "{letter}"
    );
}

#[test]
fn letter_has_no_placeholders_or_missing_values() {
    let letter = letter_for(&parse(FULL)).expect("a letter");
    for marker in ["[", "]", "none", "None", "undefined", "{{", "{%"] {
        assert!(
            !letter.contains(marker),
            "the letter contains {marker:?}:\n{letter}"
        );
    }
}

/// The sentence that cites each evidence item of the full example, with the
/// JSON pointer that removes it.
const CITED: &[(&str, &str)] = &[
    ("/notes/0", "Progress note NOTE-5521"),
    ("/audit_trail/1", "Audit trail entry AUD-90214 records"),
    ("/audit_trail/0", "Audit trail entry AUD-90211 records"),
    ("/portal", "The patient's portal record (status: offered)"),
];

fn remove(value: &mut Value, pointer: &str) {
    let (parent, last) = pointer.rsplit_once('/').expect("pointer has a parent");
    match value.pointer_mut(parent).expect("parent exists") {
        Value::Array(items) => {
            items.remove(last.parse::<usize>().expect("index"));
        }
        Value::Object(map) => {
            map.shift_remove(last);
        }
        other => panic!("cannot remove from {other}"),
    }
}

#[test]
fn removing_each_cited_item_refuses_or_drops_its_sentence() {
    let full = letter_for(&parse(FULL)).expect("a letter");
    for (pointer, sentence) in CITED {
        assert!(full.contains(sentence), "the full letter cites {pointer}");
        let mut value = parse(FULL);
        remove(&mut value, pointer);
        match letter_for(&value) {
            Err(missing) => assert!(!missing.is_empty(), "{pointer}: refused without a reason"),
            Ok(letter) => {
                assert!(
                    !letter.contains(sentence),
                    "{pointer} removed, but the letter still says {sentence:?}"
                );
                let id = sentence
                    .split(' ')
                    .find(|w| w.contains('-') && w.chars().any(|c| c.is_ascii_digit()));
                if let Some(id) = id {
                    assert!(
                        !letter.contains(id),
                        "{pointer} removed, but the letter still cites {id}"
                    );
                }
            }
        }
    }
}

#[test]
fn removing_the_note_or_invitation_refuses() {
    for pointer in ["/notes/0", "/audit_trail/1"] {
        let mut value = parse(FULL);
        remove(&mut value, pointer);
        assert!(letter_for(&value).is_err(), "{pointer}");
    }
}

#[test]
fn removing_one_offer_keeps_the_other() {
    let mut value = parse(FULL);
    remove(&mut value, "/portal");
    let letter = letter_for(&value).expect("the audit event still shows the offer");
    assert!(letter.contains("AUD-90211"));
    assert!(!letter.contains("Patient portal record"), "{letter}");

    let mut value = parse(FULL);
    remove(&mut value, "/audit_trail/0");
    let letter = letter_for(&value).expect("the portal record still shows the offer");
    assert!(letter.contains("The patient's portal record (status: offered)"));
    assert!(!letter.contains("AUD-90211"), "{letter}");
}

#[test]
fn each_cited_field_is_required() {
    // Fields that a sentence of the letter states: without them the rule
    // fails and the letter is refused.
    for pointer in [
        "/notes/0/signed_at",
        "/notes/0/author/role",
        "/notes/0/text",
        "/audit_trail/1/timestamp",
        "/audit_trail/1/recipient",
        "/audit_trail/1/channel",
        "/patient/email_verified_at",
    ] {
        let mut value = parse(FULL);
        remove(&mut value, pointer);
        assert!(
            letter_for(&value).is_err(),
            "{pointer} removed, but a letter was written"
        );
    }
}

#[test]
fn optional_fields_drop_out_of_the_sentence() {
    let mut value = parse(FULL);
    remove(&mut value, "/audit_trail/1/actor");
    let letter = letter_for(&value).expect("a letter");
    assert!(
        letter.contains("records that the practice's staff sent a portal registration invitation"),
        "{letter}"
    );
}

#[test]
fn declined_portal_letter_cites_the_decline() {
    let mut value = parse(FULL);
    remove(&mut value, "/audit_trail/1");
    remove(&mut value, "/audit_trail/0");
    value["portal"] = json!({
        "status": "declined",
        "offered_at": "2026-03-03T10:48:00-05:00",
        "offered_by": "Dana Whitfield",
        "declined_at": "2026-03-03T10:50:00-05:00",
        "decline_documented_by": "Dana Whitfield"
    });
    value["notes"][0]["text"] = json!("CCM monthly call. Educated patient on patient portal features and how to register later if she wishes.");
    let letter = letter_for(&value).expect("a decline after an offer supports the appeal");
    assert!(
        letter.contains(
            "the patient's decline was documented by Dana Whitfield on March 3, 2026 at 10:50 AM"
        ),
        "{letter}"
    );
    assert!(letter.contains("No invitation was expected"), "{letter}");
    assert!(
        !letter.contains("sent a portal registration invitation"),
        "{letter}"
    );
    assert_eq!(
        letter
            .matches("Patient portal record (status: declined)")
            .count(),
        1,
        "{letter}"
    );
}

#[test]
fn codes_without_label_match_the_pack() {
    let mut value = parse(FULL);
    value["claim"]["denial"]
        .as_object_mut()
        .unwrap()
        .shift_remove("label");
    let letter = letter_for(&value).expect("CO-16 with N706 means CCM32");
    assert!(
        letter
            .contains("Denial code: CCM32 – Patient portal utilization not promoted (CO-16, N706)"),
        "{letter}"
    );
}

fn case_for(value: &Value, today: Date, allow_late: bool) -> Case<'static> {
    let rules = rules();
    assess_with(&rules, &record_from(value), today, allow_late).expect("considered")
}

#[test]
fn unprocessable_claim_is_never_appealed() {
    for rarcs in [json!(["MA130"]), json!(["N706", "N211"])] {
        let mut value = parse(FULL);
        value["claim"]["denial"]["rarcs"] = rarcs.clone();
        let case = case_for(&value, TODAY, true);
        let CaseOutcome::Refuse(refusal) = case.outcome else {
            panic!("{rarcs}: an unprocessable claim got a letter");
        };
        assert!(
            matches!(refusal.reason, RefusalReason::Unprocessable { .. }),
            "{rarcs}"
        );
        assert_eq!(refusal.action, Action::CorrectAndResubmit);
        assert!(refusal.action.describe().contains("submit it again"));
    }
}

#[test]
fn late_appeal_is_refused_unless_allowed() {
    let value = parse(FULL); // notice 2026-04-02, 180 days: due 2026-09-29
    let case = case_for(&value, date(2026, 9, 30), false);
    let CaseOutcome::Refuse(refusal) = case.outcome else {
        panic!("a late appeal got a letter");
    };
    assert_eq!(refusal.reason, RefusalReason::Late);
    assert_eq!(refusal.action, Action::AppealLateOnlyWithGoodCause);
    assert_eq!(refusal.deadline.map(|d| d.days_left), Some(-1));

    let case = case_for(&value, date(2026, 9, 30), true);
    let CaseOutcome::Appeal(appeal) = case.outcome else {
        panic!("--allow-late did not write the letter");
    };
    assert_eq!(appeal.deadline.status(), DeadlineStatus::Late);
    assert!(
        appeal.warnings[0].contains("passed on 2026-09-29 (1 days ago)"),
        "{:?}",
        appeal.warnings
    );
}

#[test]
fn due_soon_appeal_is_written_with_a_warning() {
    let value = parse(FULL);
    let case = case_for(&value, date(2026, 9, 15), false);
    let CaseOutcome::Appeal(appeal) = case.outcome else {
        panic!("refused");
    };
    assert_eq!(appeal.deadline.days_left, 14);
    assert_eq!(
        appeal.warnings,
        ["the appeal is due on 2026-09-29, in 14 days"]
    );

    let case = case_for(&value, date(2026, 9, 14), false);
    let CaseOutcome::Appeal(appeal) = case.outcome else {
        panic!("refused");
    };
    assert!(appeal.warnings.is_empty());
}

#[test]
fn medicare_claim_uses_the_redetermination_window() {
    let mut value = parse(FULL);
    value["claim"]["payer"]["type"] = json!("medicare");
    let case = case_for(&value, TODAY, false);
    let CaseOutcome::Appeal(appeal) = case.outcome else {
        panic!("refused");
    };
    // 2026-04-02 + 5 + 120 days.
    assert_eq!(appeal.deadline.due, date(2026, 8, 5));
    let letter = template().render(&appeal.context).unwrap();
    assert!(letter.contains("We request a redetermination"), "{letter}");
    assert!(letter.contains("Medicare number: 1EG4TE5MK72"), "{letter}");
}

#[test]
fn letter_data_missing_from_the_record_refuses() {
    let cases: &[(&str, &str)] = &[
        ("/patient/name", "the patient's name"),
        ("/claim/payer/id", "the payer id"),
        ("/claim/denial/notice_date", "the denial notice date"),
    ];
    for (pointer, expected) in cases {
        let mut value = parse(FULL);
        remove(&mut value, pointer);
        let missing = letter_for(&value).expect_err("refused");
        assert!(
            missing
                .iter()
                .any(|m| m.starts_with(&format!("letter: {expected}"))),
            "{pointer}: {missing:?}"
        );
    }
    let mut value = parse(FULL);
    value["claim"]["denial"]["notice_date"] = json!("2026-04");
    let missing = letter_for(&value).expect_err("a partial notice date cannot anchor a deadline");
    assert!(
        missing.iter().any(|m| m.contains("as a full date")),
        "{missing:?}"
    );
}

#[test]
fn unknown_payer_and_other_practice_are_errors() {
    let mut value = parse(FULL);
    value["claim"]["payer"]["id"] = json!("99999");
    let case = case_for(&value, TODAY, false);
    assert!(
        matches!(case.outcome, CaseOutcome::Error(CaseError::UnknownPayer { ref payer_id, .. }) if payer_id == "99999")
    );

    let mut value = parse(FULL);
    value["encounter"]["billing_npi"] = json!("1234567893");
    let case = case_for(&value, TODAY, false);
    assert!(matches!(
        case.outcome,
        CaseOutcome::Error(CaseError::PracticeMismatch { .. })
    ));
}

#[test]
fn letter_dated_before_the_notice_is_an_error() {
    let value = parse(FULL);
    let before_notice = jiff::civil::Date::new(2026, 3, 1).unwrap();
    let case = case_for(&value, before_notice, false);
    assert!(
        matches!(case.outcome, CaseOutcome::Error(CaseError::LetterBeforeNotice { ref notice, .. }) if notice == "2026-04-02"),
        "{:?}",
        case.outcome
    );
}

#[test]
fn pack_that_does_not_apply_refuses() {
    let mut value = parse(FULL);
    value["service_lines"][0]["code"] = json!("99213");
    let case = case_for(&value, TODAY, false);
    let CaseOutcome::Refuse(refusal) = case.outcome else {
        panic!("a letter was written for a claim the pack does not cover");
    };
    assert!(matches!(
        refusal.reason,
        RefusalReason::NotApplicable { .. }
    ));
    assert_eq!(refusal.action, Action::DoNotAppeal);
}

#[test]
fn markdown_in_record_values_is_escaped() {
    let mut value = parse(FULL);
    value["patient"]["name"]["family"] = json!("O*Brien_[x]");
    let letter = letter_for(&value).expect("a letter");
    assert!(
        letter.contains("Patient: Maria O\\*Brien\\_\\[x\\]"),
        "{letter}"
    );
    let text = crate::appeal::plain::to_text(&crate::appeal::plain::blocks(&letter), 78);
    assert!(text.contains("Patient: Maria O*Brien_[x]"), "{text}");
}
