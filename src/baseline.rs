//! Baselines: the findings of an earlier run, so that a large backlog can
//! adopt `check` and fail only on findings that are new.
//!
//! A baseline stores each finding's fingerprint (see
//! [`crate::report::fingerprint`]) with the rule, file, record and pointer
//! it was computed from, for people reading the file. Only the fingerprint
//! is compared, so a finding stays known while lines move, and a renamed
//! file or record makes its findings new.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

/// Version of the baseline file layout.
pub const BASELINE_VERSION: u32 = 1;

/// A baseline file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    pub baseline_version: u32,
    pub findings: Vec<BaselineEntry>,
}

/// One known finding.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineEntry {
    pub fingerprint: String,
    pub rule: String,
    pub file: String,
    pub record_id: String,
    pub pointer: String,
}

/// Why a baseline file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("invalid baseline file: {0}")]
    Invalid(#[from] serde_json::Error),
    #[error("baseline file version {found} is not supported; this claimlint reads version {BASELINE_VERSION}")]
    Version { found: u32 },
}

impl Baseline {
    /// Creates a baseline of `entries`, sorted and without duplicates so
    /// that the file is stable under version control.
    pub fn new(entries: impl IntoIterator<Item = BaselineEntry>) -> Baseline {
        let findings: BTreeSet<BaselineEntry> = entries.into_iter().collect();
        Baseline {
            baseline_version: BASELINE_VERSION,
            findings: findings.into_iter().collect(),
        }
    }

    /// Parses a baseline file.
    pub fn parse(text: &str) -> Result<Baseline, BaselineError> {
        let baseline: Baseline = serde_json::from_str(text)?;
        if baseline.baseline_version != BASELINE_VERSION {
            return Err(BaselineError::Version {
                found: baseline.baseline_version,
            });
        }
        Ok(baseline)
    }

    /// Returns the file text: pretty-printed JSON ending in a newline.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Returns the fingerprints, for lookups.
    pub fn fingerprints(&self) -> BTreeSet<&str> {
        self.findings
            .iter()
            .map(|f| f.fingerprint.as_str())
            .collect()
    }

    /// Counts the baseline entries whose fingerprint is not in `current`:
    /// findings that have been fixed.
    pub fn fixed(&self, current: &BTreeSet<&str>) -> usize {
        self.fingerprints()
            .iter()
            .filter(|f| !current.contains(*f))
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(fingerprint: &str) -> BaselineEntry {
        BaselineEntry {
            fingerprint: fingerprint.to_string(),
            rule: "CCM32-001".to_string(),
            file: "a.json".to_string(),
            record_id: "ENC-1".to_string(),
            pointer: "/portal".to_string(),
        }
    }

    #[test]
    fn baseline_round_trips() {
        let baseline = Baseline::new([entry("b"), entry("a"), entry("a")]);
        assert_eq!(baseline.findings.len(), 2);
        assert_eq!(baseline.findings[0].fingerprint, "a");
        assert_eq!(Baseline::parse(&baseline.to_json()).unwrap(), baseline);
    }

    #[test]
    fn fixed_counts_missing_fingerprints() {
        let baseline = Baseline::new([entry("a"), entry("b")]);
        let current: BTreeSet<&str> = ["b", "c"].into_iter().collect();
        assert_eq!(baseline.fixed(&current), 1);
    }

    #[test]
    fn other_versions_are_rejected() {
        let error = Baseline::parse(r#"{"baseline_version": 2, "findings": []}"#).unwrap_err();
        assert!(
            error.to_string().contains("version 2 is not supported"),
            "{error}"
        );
        assert!(Baseline::parse(r#"{"baseline_version": 1, "findings": [], "x": 1}"#).is_err());
    }
}
