//! Denials that a pack covers: the payer's label and the remittance code
//! combinations that mean it.

/// X12 claim adjustment group codes: contractual obligation, patient
/// responsibility, other adjustment, payer-initiated reduction, correction
/// and reversal.
pub const GROUP_CODES: &[&str] = &["CO", "PR", "OA", "PI", "CR"];

/// A denial code that a pack covers, e.g. the payer label `CCM32`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DenialCode {
    pub label: String,
    pub description: String,
    /// Remittance code combinations that mean this denial when a claim
    /// carries no payer label.
    pub matches: Vec<DenialMatch>,
}

/// One CARC, optionally in one group, with remark codes of which any one
/// must accompany it: `CO-16` with `N706` means `CCM32`. Optional payer ids
/// and REF conditions make the match specific to payers or claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DenialMatch {
    /// Upper-case group code; `None` matches any group.
    pub group_code: Option<String>,
    /// Upper-case CARC without its group, e.g. `16`.
    pub carc: String,
    /// Upper-case RARCs; the match needs at least one of them.
    pub rarcs: Vec<String>,
    /// Payer ids (the 835's `REF*2U` or `N1*PR` N104, or the record's
    /// `claim.payer.id`); the match needs one of them. Empty matches any payer.
    pub payer_ids: Vec<String>,
    /// REF segments that the claim must all carry, at claim or line level.
    pub refs: Vec<RefCondition>,
}

/// A REF segment a denial match requires: qualifier (REF01) and value (REF02).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefCondition {
    /// Upper-case qualifier, such as `F8` or `G1`.
    pub qualifier: String,
    /// The value, compared exactly after trimming.
    pub value: String,
}

/// The codes of one denied claim that a [`DenialMatch`] is tested against.
#[derive(Debug, Clone, Copy, Default)]
pub struct DenialQuery<'a> {
    /// Upper-case group code, when known.
    pub group_code: Option<&'a str>,
    /// Upper-case CARC without its group.
    pub carc: &'a str,
    /// Upper-case RARCs.
    pub rarcs: &'a [String],
    /// The payer's id, when known.
    pub payer_id: Option<&'a str>,
    /// REF segments of the claim as (qualifier, value) pairs; records carry none.
    pub refs: &'a [(String, String)],
}

impl DenialMatch {
    /// Returns whether a claim's adjustment and remark codes satisfy this
    /// match. `group_code` and `carc` are upper-case, `carc` without group.
    /// A match that names payers or REFs never matches here, because these
    /// codes come without a payer or REFs; use [`DenialMatch::matches_query`].
    pub fn matches(&self, group_code: Option<&str>, carc: &str, rarcs: &[String]) -> bool {
        self.matches_query(&DenialQuery {
            group_code,
            carc,
            rarcs,
            ..DenialQuery::default()
        })
    }

    /// Returns whether a denied claim satisfies every condition of this match.
    pub fn matches_query(&self, query: &DenialQuery<'_>) -> bool {
        let group_ok = match (&self.group_code, query.group_code) {
            (None, _) => true,
            (Some(expected), Some(found)) => expected == found,
            (Some(_), None) => false,
        };
        let payer_ok = self.payer_ids.is_empty()
            || query
                .payer_id
                .is_some_and(|id| self.payer_ids.iter().any(|p| p == id.trim()));
        let refs_ok = self.refs.iter().all(|wanted| {
            query.refs.iter().any(|(qualifier, value)| {
                qualifier.trim().eq_ignore_ascii_case(&wanted.qualifier)
                    && value.trim() == wanted.value
            })
        });
        group_ok
            && self.carc == query.carc
            && query.rarcs.iter().any(|r| self.rarcs.contains(r))
            && payer_ok
            && refs_ok
    }

    /// Returns why a claim denied with these codes would be unprocessable,
    /// when any RARC of the match makes it so.
    pub fn unprocessable_reason(&self) -> Option<&'static str> {
        self.rarcs
            .iter()
            .find_map(|rarc| unprocessable_reason(Some(&self.carc), std::slice::from_ref(rarc)))
    }
}

/// Returns why a claim with these codes was returned as unprocessable: CARC
/// 16 with remark MA130, or remark N211. Such a claim cannot be appealed; it
/// must be corrected and submitted again. `carc` is without its group code.
pub fn unprocessable_reason(carc: Option<&str>, rarcs: &[String]) -> Option<&'static str> {
    let has = |code: &str| rarcs.iter().any(|r| r.trim().eq_ignore_ascii_case(code));
    if has("N211") {
        Some("remark N211: the claim may not be appealed and must be resubmitted")
    } else if carc.is_some_and(|c| c.trim() == "16") && has("MA130") {
        Some("CARC 16 with remark MA130: the claim is unprocessable")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn match_needs_carc_group_and_one_rarc() {
        let m = DenialMatch {
            group_code: Some("CO".into()),
            carc: "16".into(),
            rarcs: codes(&["N706", "M127"]),
            payer_ids: Vec::new(),
            refs: Vec::new(),
        };
        assert!(m.matches(Some("CO"), "16", &codes(&["MA01", "M127"])));
        assert!(!m.matches(Some("PR"), "16", &codes(&["N706"])));
        assert!(!m.matches(None, "16", &codes(&["N706"])));
        assert!(!m.matches(Some("CO"), "252", &codes(&["N706"])));
        assert!(!m.matches(Some("CO"), "16", &[]));
    }

    #[test]
    fn match_without_group_accepts_any_group() {
        let m = DenialMatch {
            group_code: None,
            carc: "16".into(),
            rarcs: codes(&["N706"]),
            payer_ids: Vec::new(),
            refs: Vec::new(),
        };
        assert!(m.matches(None, "16", &codes(&["N706"])));
        assert!(m.matches(Some("OA"), "16", &codes(&["N706"])));
    }

    #[test]
    fn payer_and_ref_conditions() {
        let m = DenialMatch {
            group_code: Some("CO".into()),
            carc: "16".into(),
            rarcs: codes(&["N706"]),
            payer_ids: codes(&["60054"]),
            refs: vec![RefCondition {
                qualifier: "G1".into(),
                value: "CCM".into(),
            }],
        };
        let rarcs = codes(&["N706"]);
        let refs = vec![("g1".to_string(), "CCM".to_string())];
        let query = |payer_id, refs| DenialQuery {
            group_code: Some("CO"),
            carc: "16",
            rarcs: &rarcs,
            payer_id,
            refs,
        };
        assert!(m.matches_query(&query(Some("60054"), &refs)));
        assert!(
            !m.matches_query(&query(Some("12345"), &refs)),
            "another payer"
        );
        assert!(!m.matches_query(&query(None, &refs)), "no payer");
        assert!(!m.matches_query(&query(Some("60054"), &[])), "REF missing");
        assert!(
            !m.matches(Some("CO"), "16", &rarcs),
            "plain codes carry no payer"
        );
    }

    #[test]
    fn unprocessable_combinations() {
        assert!(unprocessable_reason(Some("16"), &codes(&["MA130"])).is_some());
        assert!(unprocessable_reason(None, &codes(&["n211"])).is_some());
        assert!(unprocessable_reason(Some("252"), &codes(&["MA130"])).is_none());
        assert!(unprocessable_reason(Some("16"), &codes(&["N706"])).is_none());
    }
}
