//! Machine-readable reports of a `check` run, for CI systems.
//!
//! A [`CheckReport`] is the plain data of one run: the rules that were
//! loaded, every finding located in its input file, the outcome of each
//! rule on each record, and the problems met while reading. Each output
//! format is a function from a report to a string, in its own module, so
//! that formats are tested without running the command.
//!
//! No format embeds source text. Findings carry their rendered message and
//! help (whose templates cannot reach patient fields), JSON pointers, record
//! and claim ids, and evidence (pointers, item ids, dates and staff names),
//! so no format can leak a patient-identifying value from the records.

pub mod fingerprint;
pub mod github;
pub mod gitlab;
pub mod json;
pub mod junit;
pub mod sarif;

use serde::Serialize;

use crate::finding::{Finding, Layer, Outcome, Severity};

/// The data of one `check` run, ready to be written in any format.
#[derive(Debug, Clone, Default)]
pub struct CheckReport {
    /// The claimlint version that produced the report.
    pub tool_version: String,
    /// Every rule of the loaded packs, sorted by code.
    pub rules: Vec<RuleMeta>,
    /// Findings to report, sorted by file, position, record and rule code.
    /// Findings known from a baseline are left out; suppressed ones stay,
    /// marked as such.
    pub findings: Vec<ReportedFinding>,
    /// The outcome of every rule on every record, in input order.
    pub records: Vec<RecordOutcome>,
    /// Inputs, documents and FHIR data that could not be read or mapped.
    pub input_problems: Vec<InputProblem>,
    /// Suppression entries that matched nothing or have expired.
    pub suppression_warnings: Vec<SuppressionWarning>,
    /// Comparison with a baseline, when one was given.
    pub baseline: Option<BaselineSummary>,
    pub summary: Summary,
}

/// A rule's identity and documentation, for formats that list rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleMeta {
    pub code: String,
    pub name: String,
    pub pack: String,
    pub pack_version: String,
    pub layer: Layer,
    /// Severity after configuration overrides, without per-payer ones.
    pub severity: Severity,
    pub citation: String,
    pub description: String,
}

/// A 1-based position range in an input file. Columns count Unicode scalar
/// values (characters), not bytes or UTF-16 units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SourceRange {
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

/// A suppression applied to a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppliedSuppression {
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// Last day the suppression applies, `YYYY-MM-DD`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    /// The suppressions file and the 1-based line of the entry.
    pub file: String,
    pub line: usize,
}

/// One finding with everything a CI format needs to show it.
#[derive(Debug, Clone)]
pub struct ReportedFinding {
    pub finding: Finding,
    /// The input file as the user named it (`-` for standard input).
    pub file: String,
    /// The claim id of the record, when it has one.
    pub claim_id: Option<String>,
    /// JSON pointer of the node in its source document. For a FHIR record,
    /// this is the resource the node was mapped from.
    pub source_pointer: String,
    /// `ResourceType/id` of the FHIR resource the node was mapped from.
    pub source_resource: Option<String>,
    /// Where the node is in `file`, when the file could be read again.
    pub range: Option<SourceRange>,
    /// Stable identity of the finding; see [`fingerprint`].
    pub fingerprint: String,
    /// Set when a suppression entry covers the finding.
    pub suppression: Option<AppliedSuppression>,
}

impl ReportedFinding {
    /// True when the finding counts towards the exit code and the
    /// annotations: it is not suppressed.
    pub fn is_active(&self) -> bool {
        self.suppression.is_none()
    }
}

/// How one rule fared on one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RuleStatus {
    Pass,
    /// Failed or undecided, and reported.
    Fail,
    /// Failed, but a suppression entry covers it.
    Suppressed,
    /// Failed, but the finding is in the baseline.
    Baseline,
    /// The configuration turns the rule off.
    Disabled,
}

/// One rule on one record, for JUnit test cases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleOutcome {
    pub code: String,
    pub name: String,
    pub pack: String,
    pub outcome: Outcome,
    pub status: RuleStatus,
}

/// The rule results of one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordOutcome {
    pub file: String,
    pub record_id: String,
    /// Rules of the packs that apply to the record, by code.
    pub rules: Vec<RuleOutcome>,
    /// Packs that do not apply to the record, with the reason in words.
    pub not_applicable: Vec<(String, String)>,
}

/// Whether an input problem stopped data from being checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProblemLevel {
    /// A document or record could not be read; exit code 2.
    Error,
    /// FHIR data was left out of a record that is still checked.
    Warning,
}

/// An input that could not be read, or FHIR data that could not be mapped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputProblem {
    pub level: ProblemLevel,
    /// Stable code, e.g. `claimlint::input::invalid-json`.
    pub code: String,
    pub file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    pub message: String,
}

/// Why a suppression entry is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SuppressionProblem {
    /// No finding of this run matched the entry.
    Unused,
    /// The entry's expiry date has passed, so it no longer applies.
    Expired,
}

/// A suppression entry to clean up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SuppressionWarning {
    pub problem: SuppressionProblem,
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub rule: String,
    /// The record or claim id the entry names.
    pub target: String,
    pub message: String,
}

/// The comparison of this run's findings with a baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct BaselineSummary {
    /// Findings not in the baseline: the ones reported.
    pub new: usize,
    /// Findings in the baseline, left out of the report.
    pub unchanged: usize,
    /// Baseline entries that this run no longer finds.
    pub fixed: usize,
}

/// Counts for the summary line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Summary {
    pub files: usize,
    /// Files in walked folders that are not JSON or NDJSON.
    pub skipped_files: usize,
    pub records: usize,
    /// Records that no loaded pack applies to.
    pub not_applicable: usize,
    /// Active findings by severity; suppressed and baseline ones are not counted.
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
    pub suppressed: usize,
    /// Input errors, and the distinct inputs they are in.
    pub input_errors: usize,
    pub unreadable_inputs: usize,
    pub mapping_warnings: usize,
}

impl CheckReport {
    /// Active findings (not suppressed), most severe first, in report order
    /// within one severity.
    pub fn ranked_findings(&self) -> Vec<&ReportedFinding> {
        let mut ranked: Vec<&ReportedFinding> =
            self.findings.iter().filter(|f| f.is_active()).collect();
        ranked.sort_by_key(|f| std::cmp::Reverse(f.finding.severity));
        ranked
    }

    /// Active findings per rule code, sorted by count (largest first) and then code.
    pub fn statistics(&self) -> Vec<RuleCount> {
        let mut counts: std::collections::BTreeMap<&str, RuleCount> =
            std::collections::BTreeMap::new();
        for reported in self.findings.iter().filter(|f| f.is_active()) {
            let finding = &reported.finding;
            let entry = counts.entry(&finding.code).or_insert_with(|| RuleCount {
                code: finding.code.clone(),
                name: finding.name.clone(),
                severity: finding.severity,
                count: 0,
            });
            entry.count += 1;
            entry.severity = entry.severity.max(finding.severity);
        }
        let mut counts: Vec<RuleCount> = counts.into_values().collect();
        counts.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.code.cmp(&b.code)));
        counts
    }
}

/// The number of active findings of one rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleCount {
    pub code: String,
    pub name: String,
    /// The highest severity among the rule's findings.
    pub severity: Severity,
    pub count: usize,
}

/// Returns a relative or absolute file path as a URI reference: forward
/// slashes, and every byte outside RFC 3986's unreserved set and `/`
/// percent-encoded.
pub fn path_to_uri(path: &str) -> String {
    let path = path.replace('\\', "/");
    let mut uri = String::with_capacity(path.len());
    for byte in path.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                uri.push(byte as char)
            }
            _ => uri.push_str(&format!("%{byte:02X}")),
        }
    }
    uri
}

#[cfg(test)]
pub(crate) mod tests;
