//! Evaluation of compiled packs on records.
//!
//! Evaluation is pure: it reads a [`Record`] and a [`RuleSet`] and returns
//! plain data. It cannot fail, because everything that could be wrong in a
//! rule was rejected when the rule set was compiled.

mod condition;
pub mod dates;
mod number;
mod patient_month;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::finding::{Evidence, Finding, Miss, Outcome, Severity};
use crate::record::Record;
use crate::rules::{Pack, Rule, RuleScope, RuleSet, TemplateContext};

pub use condition::normalize_text;
use condition::{eval, Ctx, Keep, Trace};
pub use patient_month::{
    EvaluatedGroup, GroupJob, Joined, KeptRecord, MonthPlan, PatientMonthReport,
    PatientMonthResult, PatientMonths, ReadGroup,
};

/// Three-valued truth: a comparison the record's precision cannot settle is
/// `Unknown`, never a guess.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Truth {
    True,
    False,
    Unknown,
}

impl Truth {
    pub fn and(self, other: Truth) -> Truth {
        match (self, other) {
            (Truth::False, _) | (_, Truth::False) => Truth::False,
            (Truth::True, Truth::True) => Truth::True,
            _ => Truth::Unknown,
        }
    }

    pub fn or(self, other: Truth) -> Truth {
        match (self, other) {
            (Truth::True, _) | (_, Truth::True) => Truth::True,
            (Truth::False, Truth::False) => Truth::False,
            _ => Truth::Unknown,
        }
    }

    #[allow(clippy::should_implement_trait)]
    pub fn not(self) -> Truth {
        match self {
            Truth::True => Truth::False,
            Truth::False => Truth::True,
            Truth::Unknown => Truth::Unknown,
        }
    }
}

impl From<bool> for Truth {
    fn from(value: bool) -> Self {
        if value {
            Truth::True
        } else {
            Truth::False
        }
    }
}

/// The result of one rule on one record.
#[derive(Debug, Clone, Serialize)]
pub struct RuleResult {
    pub code: String,
    pub outcome: Outcome,
    pub evidence: Vec<Evidence>,
    pub misses: Vec<Miss>,
}

/// Why a pack was not applied to a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NotApplicable {
    /// The applicability condition does not hold (e.g. no CCM service line).
    Condition,
    /// The date of service is outside the pack's effective dates.
    OutsideEffectiveDates,
}

/// The result of one pack on one record.
#[derive(Debug, Clone, Serialize)]
pub struct PackResult {
    pub pack: String,
    pub version: String,
    /// `None` when the pack applied; otherwise why not.
    pub not_applicable: Option<NotApplicable>,
    pub rules: Vec<RuleResult>,
    pub findings: Vec<Finding>,
}

/// Evaluates every pack of `rules` on `record`.
pub fn evaluate(rules: &RuleSet, record: &Record) -> Vec<PackResult> {
    rules
        .packs
        .iter()
        .map(|pack| evaluate_pack(rules, pack, record))
        .collect()
}

/// Evaluates one pack on `record`.
pub fn evaluate_pack(rules: &RuleSet, pack: &Pack, record: &Record) -> PackResult {
    let mut result = PackResult {
        pack: pack.id.clone(),
        version: pack.version.clone(),
        not_applicable: None,
        rules: Vec::new(),
        findings: Vec::new(),
    };
    let ctx = Ctx {
        root: &record.value,
        item: &record.value,
        item_pointer: "",
    };

    if !within_effective_dates(pack, record) {
        result.not_applicable = Some(NotApplicable::OutsideEffectiveDates);
        return result;
    }
    if let Some(condition) = &pack.applies_when {
        // A pack applies only when its condition surely holds: an
        // undecidable applicability is not a reason to demand evidence.
        if eval(condition, ctx, &mut Trace::new(Keep::Nothing)) != Truth::True {
            result.not_applicable = Some(NotApplicable::Condition);
            return result;
        }
    }

    for rule in &pack.rules {
        // Patient-month rules need the whole month; see `patient_month`.
        if rule.scope != RuleScope::Record {
            continue;
        }
        if let Some(when) = &rule.when {
            if eval(when, ctx, &mut Trace::new(Keep::Nothing)) != Truth::True {
                continue;
            }
        }
        let (outcome, trace) = evaluate_rule(rule, ctx);
        if outcome != Outcome::Pass {
            result
                .findings
                .push(finding(rules, pack, rule, record, outcome, &trace));
        }
        result.rules.push(RuleResult {
            code: rule.code.clone(),
            outcome,
            evidence: trace.evidence,
            misses: trace.misses,
        });
    }
    result
}

/// Evaluates a rule's evidence condition and returns its outcome with the
/// evidence and misses that explain it.
///
/// Most rules pass, and a condition that holds has no misses, so the first
/// evaluation keeps only evidence. A rule that does not pass is evaluated
/// again to build its misses; evaluation is pure, so both runs agree.
fn evaluate_rule(rule: &Rule, ctx: Ctx<'_>) -> (Outcome, Trace) {
    let mut trace = Trace::new(Keep::Evidence);
    let mut truth = eval(&rule.evidence, ctx, &mut trace);
    if truth != Truth::True {
        trace = Trace::new(Keep::Everything);
        truth = eval(&rule.evidence, ctx, &mut trace);
    }
    let outcome = match truth {
        Truth::True => Outcome::Pass,
        Truth::False => Outcome::Fail,
        Truth::Unknown => Outcome::Undecided,
    };
    (outcome, trace)
}

/// The outcome of one rule on a set of records.
#[derive(Debug, Clone, Default)]
pub struct RuleCheck {
    /// The number of records (patient-month groups, for a patient-month
    /// rule) the rule was evaluated on.
    pub evaluated: usize,
    /// The rule's findings on those records.
    pub findings: Vec<Finding>,
}

/// Evaluates `pack` on `records`, as `check` would with only that pack
/// loaded, and returns how each of its rules fared, by rule code. Used to
/// check examples and fixtures.
pub fn check_pack(rules: &RuleSet, pack: &Pack, records: &[Record]) -> BTreeMap<String, RuleCheck> {
    let mut checks: BTreeMap<String, RuleCheck> = pack
        .rules
        .iter()
        .map(|rule| (rule.code.clone(), RuleCheck::default()))
        .collect();
    for record in records {
        let result = evaluate_pack(rules, pack, record);
        for rule in &result.rules {
            if let Some(check) = checks.get_mut(&rule.code) {
                check.evaluated += 1;
            }
        }
        for finding in result.findings {
            if let Some(check) = checks.get_mut(&finding.code) {
                check.findings.push(finding);
            }
        }
    }

    let mut patient_months = PatientMonths::for_pack(rules, pack);
    for record in records {
        patient_months.add(record);
    }
    for result in patient_months.finish().results {
        if let Some(check) = checks.get_mut(&result.rule.code) {
            check.evaluated += 1;
            check
                .findings
                .extend(result.findings.into_iter().map(|(_, finding)| finding));
        }
    }
    checks
}

/// Evaluates one rule of `pack` on `records`; see [`check_pack`].
pub fn check_rule(rules: &RuleSet, pack: &Pack, rule: &Rule, records: &[Record]) -> RuleCheck {
    check_pack(rules, pack, records)
        .remove(&rule.code)
        .unwrap_or_default()
}

pub(crate) fn within_effective_dates(pack: &Pack, record: &Record) -> bool {
    if pack.effective_from.is_none() && pack.effective_until.is_none() {
        return true;
    }
    let Some((first, last)) = record
        .date_of_service()
        .and_then(dates::Temporal::parse)
        .map(|t| t.days())
    else {
        return false;
    };
    pack.effective_from.is_none_or(|from| first >= from)
        && pack.effective_until.is_none_or(|until| last <= until)
}

fn finding(
    rules: &RuleSet,
    pack: &Pack,
    rule: &Rule,
    record: &Record,
    outcome: Outcome,
    trace: &Trace,
) -> Finding {
    build_finding(
        rules,
        FindingSource {
            pack,
            rule,
            record,
            group: None,
        },
        outcome,
        trace.misses.clone(),
        trace.evidence.clone(),
    )
}

/// The subject of a finding: a rule on a record, and for a patient-month
/// rule, the month and the group's records.
pub(crate) struct FindingSource<'a> {
    pub pack: &'a Pack,
    pub rule: &'a Rule,
    pub record: &'a Record,
    pub group: Option<(&'a str, &'a [String])>,
}

pub(crate) fn build_finding(
    rules: &RuleSet,
    source: FindingSource<'_>,
    outcome: Outcome,
    misses: Vec<Miss>,
    evidence: Vec<Evidence>,
) -> Finding {
    let FindingSource {
        pack,
        rule,
        record,
        group,
    } = source;
    let text = |pointer: &str| {
        record
            .value
            .pointer(pointer)
            .and_then(|v| v.as_str())
            .unwrap_or("")
    };
    let context = TemplateContext {
        record_id: &record.id,
        date_of_service: text("/encounter/date_of_service"),
        claim_id: text("/claim/id"),
        payer_name: text("/claim/payer/name"),
        rule: crate::rules::RuleInfo {
            code: &rule.code,
            name: &rule.name,
        },
        pack: crate::rules::PackInfo {
            id: &pack.id,
            version: &pack.version,
        },
        evidence: &evidence,
        misses: &misses,
        month: group.map(|(month, _)| month),
        group_records: group.map(|(_, records)| records),
    };
    let mut message = rules.render(&rule.message_template, &context);
    // An undecidable rule is reported as a warning whatever its severity:
    // the record must be made precise, but it is not known to be wrong.
    let severity = match outcome {
        Outcome::Undecided => {
            message = format!(
                "{message} (cannot be decided: a date in the record is not precise enough)"
            );
            rule.severity.min(Severity::Warning)
        }
        _ => rule.severity,
    };
    Finding {
        code: rule.code.clone(),
        name: rule.name.clone(),
        pack: pack.id.clone(),
        pack_version: pack.version.clone(),
        layer: rule.layer,
        severity,
        outcome,
        record_id: record.id.clone(),
        message,
        help: rules.render(&rule.help_template, &context),
        citation: rule.citation.clone(),
        pointer: misses
            .first()
            .map(|m| m.pointer.clone())
            .unwrap_or_default(),
        misses,
        evidence,
    }
}
