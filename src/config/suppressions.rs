//! The suppressions file: accepted findings, each with a reason.
//!
//! ```yaml
//! suppressions:
//!   - rule: CCM32-004
//!     record: ENC-2026-0305      # or claim: CLM-…
//!     reason: Invitation resent on paper, accepted by the payer
//!     expires: 2026-12-31        # optional, last day it applies
//!     author: j.doe              # optional
//! ```
//!
//! An entry covers the findings of one rule on one record, or on every
//! record of one claim. An expired entry covers nothing, so its findings
//! come back, and both expired and unused entries are reported so that the
//! file does not keep stale exceptions.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use jiff::civil::Date;

use super::{collect, known, ConfigError};
use crate::report::{SuppressionProblem, SuppressionWarning};
use crate::rules::RuleSet;
use crate::yaml::{self, ParseLimits, Span, YamlError};

/// The record or claim a suppression entry names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SuppressionTarget {
    Record(String),
    Claim(String),
}

/// One entry of the suppressions file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuppressionEntry {
    pub rule: String,
    pub target: SuppressionTarget,
    pub reason: String,
    pub expires: Option<Date>,
    pub author: Option<String>,
    /// 1-based line and column of the entry in the file.
    pub line: usize,
    pub column: usize,
}

/// The entries of a suppressions file, with which ones have matched.
#[derive(Debug, Clone)]
pub struct Suppressions {
    pub path: PathBuf,
    pub entries: Vec<SuppressionEntry>,
    used: Vec<bool>,
    today: Date,
}

/// A suppression that covers a finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuppressionMatch<'s> {
    pub entry: &'s SuppressionEntry,
}

impl Suppressions {
    /// Parses a suppressions file. `today` decides which entries have
    /// expired: an entry applies up to and including its `expires` day.
    pub fn parse(
        path: &Path,
        text: &str,
        rules: &RuleSet,
        today: Date,
    ) -> Result<Suppressions, ConfigError> {
        let mut problems = Vec::new();
        let entries = read(text, rules, &mut problems);
        if !problems.is_empty() {
            return Err(ConfigError {
                code: "claimlint::suppressions",
                path: path.to_path_buf(),
                text: Arc::from(text),
                problems,
            });
        }
        Ok(Suppressions {
            path: path.to_path_buf(),
            used: vec![false; entries.len()],
            entries,
            today,
        })
    }

    /// Returns the entry that covers a finding of `rule` on the record
    /// `record_id` of claim `claim_id`, and marks it used. Expired entries
    /// cover nothing.
    pub fn find(
        &mut self,
        rule: &str,
        record_id: &str,
        claim_id: Option<&str>,
    ) -> Option<&SuppressionEntry> {
        let index = self.lookup(rule, record_id, claim_id)?;
        self.mark_used(index);
        self.entries.get(index)
    }

    /// Returns the index in [`Suppressions::entries`] of the entry that
    /// covers a finding, without marking it used, so that findings can be
    /// matched on several threads. Pass the index to
    /// [`Suppressions::mark_used`] once the finding is reported.
    pub fn lookup(&self, rule: &str, record_id: &str, claim_id: Option<&str>) -> Option<usize> {
        let today = self.today;
        self.entries.iter().position(|entry| {
            entry.rule == rule
                && entry.expires.is_none_or(|last| today <= last)
                && match &entry.target {
                    SuppressionTarget::Record(id) => id == record_id,
                    SuppressionTarget::Claim(id) => claim_id == Some(id.as_str()),
                }
        })
    }

    /// Marks the entry at `index` as used; an index out of range is ignored.
    pub fn mark_used(&mut self, index: usize) {
        if let Some(used) = self.used.get_mut(index) {
            *used = true;
        }
    }

    /// Returns a warning for every expired entry and every unexpired entry
    /// that no finding matched.
    pub fn warnings(&self) -> Vec<SuppressionWarning> {
        let file = self.path.display().to_string();
        self.entries
            .iter()
            .zip(&self.used)
            .filter_map(|(entry, used)| {
                let target = match &entry.target {
                    SuppressionTarget::Record(id) => format!("record {id}"),
                    SuppressionTarget::Claim(id) => format!("claim {id}"),
                };
                let (problem, message) = match entry.expires {
                    Some(last) if last < self.today => (
                        SuppressionProblem::Expired,
                        format!("suppression of {} on {target} expired on {last}; its findings are reported again", entry.rule),
                    ),
                    _ if !used => (
                        SuppressionProblem::Unused,
                        format!("suppression of {} on {target} matched no finding; remove it", entry.rule),
                    ),
                    _ => return None,
                };
                Some(SuppressionWarning {
                    problem,
                    file: file.clone(),
                    line: entry.line,
                    column: entry.column,
                    rule: entry.rule.clone(),
                    target: match &entry.target {
                        SuppressionTarget::Record(id) | SuppressionTarget::Claim(id) => id.clone(),
                    },
                    message,
                })
            })
            .collect()
    }
}

fn read(text: &str, rules: &RuleSet, problems: &mut Vec<YamlError>) -> Vec<SuppressionEntry> {
    let root = match yaml::parse(text, ParseLimits::default()) {
        Ok(root) => root,
        Err(error) => {
            problems.push(error);
            return Vec::new();
        }
    };
    let Some(mut map) = collect(problems, root.as_map("the suppressions file")) else {
        return Vec::new();
    };
    let items = collect(
        problems,
        map.required("suppressions")
            .and_then(|n| n.as_seq("suppressions")),
    );
    problems.extend(map.finish());
    let mut codes: Vec<&str> = rules
        .packs
        .iter()
        .flat_map(|pack| pack.rules.iter().map(|rule| rule.code.as_str()))
        .collect();
    codes.sort_unstable();
    codes.dedup();

    let mut entries = Vec::new();
    for item in items.unwrap_or_default() {
        if let Some(entry) = entry(text, item, &codes, problems) {
            entries.push(entry);
        }
    }
    entries
}

fn entry(
    text: &str,
    node: &yaml::Node,
    codes: &[&str],
    problems: &mut Vec<YamlError>,
) -> Option<SuppressionEntry> {
    let mut map = collect(problems, node.as_map("a suppression"))?;
    let rule = map
        .required("rule")
        .map_err(|e| problems.push(e))
        .ok()
        .and_then(|n| known(problems, n, codes, "rule code", "rule code"));
    let record = map.optional("record");
    let claim = map.optional("claim");
    let target = match (record, claim) {
        (Some(node), None) => collect(problems, node.as_str("record"))
            .map(|id| SuppressionTarget::Record(id.to_string())),
        (None, Some(node)) => collect(problems, node.as_str("claim"))
            .map(|id| SuppressionTarget::Claim(id.to_string())),
        (Some(_), Some(node)) => {
            problems.push(
                YamlError::new(
                    "a suppression names both a record and a claim",
                    node.span.clone(),
                )
                .with_help(
                    "keep one: `record` for one encounter, `claim` for every record of a claim",
                ),
            );
            None
        }
        (None, None) => {
            problems.push(
                YamlError::new(
                    "a suppression names no record or claim",
                    entry_start(&map.span()),
                )
                .with_help("add `record: ENCOUNTER-ID` or `claim: CLAIM-ID`"),
            );
            None
        }
    };
    let reason = match map.required("reason").and_then(|n| n.as_str("reason")) {
        Ok(reason) if !reason.trim().is_empty() => Some(reason.to_string()),
        Ok(_) => {
            problems.push(
                YamlError::new("the reason of a suppression is empty", node.span.clone())
                    .with_help("say why the finding is accepted"),
            );
            None
        }
        Err(error) => {
            problems
                .push(error.with_help("say why the finding is accepted, for the next reviewer"));
            None
        }
    };
    let expires = match map.optional("expires") {
        Some(node) => match node.as_str("expires").map(|t| (t, t.parse::<Date>())) {
            Ok((_, Ok(date))) => Some(date),
            Ok((text, Err(_))) => {
                problems.push(
                    YamlError::new(format!("expires `{text}` is not a date"), node.span.clone())
                        .with_help("write the last day the suppression applies as YYYY-MM-DD"),
                );
                None
            }
            Err(error) => {
                problems.push(error);
                None
            }
        },
        None => None,
    };
    let author = map
        .optional("author")
        .and_then(|n| collect(problems, n.as_str("author")))
        .map(str::to_string);
    let start = map.key_span("rule").unwrap_or_else(|| map.span()).start;
    problems.extend(map.finish());
    let (line, column) = yaml::line_col(text, start);
    Some(SuppressionEntry {
        rule: rule?,
        target: target?,
        reason: reason?,
        expires,
        author,
        line,
        column,
    })
}

fn entry_start(span: &Span) -> Span {
    span.start..span.start + 1
}
