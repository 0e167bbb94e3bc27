//! Stable identities of findings, for SARIF, GitLab and baselines.
//!
//! A fingerprint hashes what identifies a finding to a reviewer (the rule
//! code, the input file, the record id and the JSON pointer in the record)
//! and nothing that moves when unrelated lines are edited, such as line
//! numbers or the message. The hash is 128-bit FNV-1a over the four fields,
//! each preceded by its length, so that `("ab", "c")` and `("a", "bc")`
//! differ. It is written here rather than taken from a hashing crate so that
//! its value can never change with a dependency update.

/// 128-bit FNV offset basis and prime (Fowler, Noll, Vo).
const FNV_OFFSET: u128 = 0x6c62272e07bb014262b821756295c58d;
const FNV_PRIME: u128 = 0x0000000001000000000000000000013b;

/// Returns the fingerprint of a finding as 32 lowercase hex digits.
///
/// `file` is the path as given on the command line, so the same run from
/// another folder gives other fingerprints.
pub fn fingerprint(rule_code: &str, file: &str, record_id: &str, pointer: &str) -> String {
    let mut hash = FNV_OFFSET;
    for field in [rule_code, file, record_id, pointer] {
        let length = (field.len() as u64).to_le_bytes();
        for byte in length.iter().chain(field.as_bytes()) {
            hash ^= u128::from(*byte);
            hash = hash.wrapping_mul(FNV_PRIME);
        }
    }
    format!("{hash:032x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_is_fixed_for_fixed_input() {
        let first = fingerprint("CCM32-001", "a.json", "ENC-1", "/portal");
        assert_eq!(
            first,
            fingerprint("CCM32-001", "a.json", "ENC-1", "/portal")
        );
        assert_eq!(first.len(), 32);
        assert!(first.bytes().all(|b| b.is_ascii_hexdigit()));
    }

    #[test]
    fn fingerprint_has_a_known_value() {
        // Pins the algorithm: a change here invalidates every baseline.
        assert_eq!(
            fingerprint("CCM32-001", "a.json", "ENC-1", "/portal"),
            "561a67db037ef39be76ac0ab439732e0"
        );
    }

    #[test]
    fn fingerprint_separates_fields() {
        assert_ne!(
            fingerprint("ab", "c", "", ""),
            fingerprint("a", "bc", "", "")
        );
        assert_ne!(
            fingerprint("CCM32-001", "a.json", "ENC-1", "/portal"),
            fingerprint("CCM32-002", "a.json", "ENC-1", "/portal")
        );
        assert_ne!(
            fingerprint("CCM32-001", "a.json", "ENC-1", "/portal"),
            fingerprint("CCM32-001", "a.json", "ENC-2", "/portal")
        );
    }
}
