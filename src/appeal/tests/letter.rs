use super::*;

#[test]
fn full_evidence_letter_snapshot() {
    let letter = letter_for(&parse(FULL)).expect("a letter");
    println!("{letter}");
}
