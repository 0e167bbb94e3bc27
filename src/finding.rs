//! Findings, evidence and rule outcomes: the plain data the engine returns.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Seriousness of a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    /// The lowercase name used in rule files and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whose requirement a rule encodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Layer {
    /// A Medicare (CMS or MAC) requirement.
    Cms,
    /// A payer's own policy, not a Medicare requirement.
    Payer,
}

impl Layer {
    /// The lowercase name used in rule files and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Layer::Cms => "cms",
            Layer::Payer => "payer",
        }
    }
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One record item that satisfied a rule's evidence requirement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// JSON pointer of the item in the canonical record.
    pub pointer: String,
    /// The collection the item came from (`notes`, `audit_trail`, …), or the
    /// field name for a single field.
    pub kind: String,
    /// The item's own id, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The date or date-time that the rule compared, as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// Staff member who authored or performed the item (never the patient).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// The `label` of the condition the item satisfied, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// One part of an evidence requirement that the record did not meet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Miss {
    /// JSON pointer of the node that fell short, or of the nearest existing
    /// ancestor of what was looked for.
    pub pointer: String,
    /// Description, in words, of the evidence looked for.
    pub expected: String,
    /// Description of what was found instead, never a patient-identifying value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub found: Option<String>,
}

/// The outcome of one rule on one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// The evidence requirement is met.
    Pass,
    /// The evidence requirement is not met.
    Fail,
    /// The record does not hold enough precision to decide, for example a
    /// partial date compared with a date window.
    Undecided,
}

/// A rule that failed (or could not be decided) on a record, ready to report.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// Stable rule code, e.g. `CCM32-003`.
    pub code: String,
    /// Kebab-case rule name naming the problem.
    pub name: String,
    /// Pack id and version that produced the finding.
    pub pack: String,
    pub pack_version: String,
    pub layer: Layer,
    pub severity: Severity,
    pub outcome: Outcome,
    /// The record (encounter) id.
    pub record_id: String,
    /// The rendered message: what is wrong.
    pub message: String,
    /// The rendered help: what to record to fix it.
    pub help: String,
    /// The rule's citation.
    pub citation: String,
    /// Pointer in the canonical record that the finding is about.
    pub pointer: String,
    /// Parts of the evidence requirement that were not met.
    pub misses: Vec<Miss>,
    /// Evidence that was found for the parts that were met.
    pub evidence: Vec<Evidence>,
}
