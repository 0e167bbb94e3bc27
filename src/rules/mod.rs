//! Rule packs: the YAML format, its compilation and the compiled rule set.
//!
//! A pack file is compiled once into a [`RuleSet`]; every path, regex,
//! template and literal is checked at that point, against the record schema,
//! and any problem is a located [`RuleFileError`]. A compiled rule cannot
//! fail on its own syntax while records are evaluated.

mod compile;
pub mod condition;
mod denial;
mod error;
pub mod shape;
mod template;
mod verify;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use jiff::civil::Date;

pub use compile::compile_pack;
#[cfg(test)]
pub(crate) use compile::select_steps;
pub use denial::{
    unprocessable_reason, DenialCode, DenialMatch, DenialQuery, RefCondition, GROUP_CODES,
};
pub use error::{RuleFileError, RuleProblem};
pub use template::{
    PackInfo, RuleInfo, TemplateContext, GROUP_TEMPLATE_VARIABLES, TEMPLATE_VARIABLES,
};

use crate::finding::{Layer, Severity};
use condition::CondNode;

/// The packs shipped with claimlint, compiled into the binary.
pub const SHIPPED_PACKS: &[(&str, &str)] = &[
    ("rules/ccm32.yaml", include_str!("../../rules/ccm32.yaml")),
    (
        "rules/cms-ccm.yaml",
        include_str!("../../rules/cms-ccm.yaml"),
    ),
];

/// The appeal letter templates of the shipped packs, by path.
pub const SHIPPED_TEMPLATES: &[(&str, &str)] = &[(
    "rules/ccm32.appeal.md.j2",
    include_str!("../../rules/ccm32.appeal.md.j2"),
)];

/// Returns the text of a shipped template by its path.
fn shipped_template(path: &Path) -> Option<&'static str> {
    let wanted: Vec<_> = path.components().collect();
    SHIPPED_TEMPLATES
        .iter()
        .find(|(name, _)| Path::new(name).components().eq(wanted.iter().copied()))
        .map(|(_, text)| *text)
}

/// Where a pack's appeal letter template is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppealSpec {
    /// The template file, resolved against the pack file's folder.
    pub template: PathBuf,
    /// The template text, for shipped packs (compiled into the binary).
    /// Other packs' templates are read from `template` when needed.
    pub embedded: Option<&'static str>,
}

/// The unit a rule's evidence is evaluated on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleScope {
    /// One encounter record.
    Record,
    /// All records of one patient in one calendar month.
    PatientMonth,
}

impl RuleScope {
    /// Returns the name used in rule files and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleScope::Record => "record",
            RuleScope::PatientMonth => "patient-month",
        }
    }
}

/// One compiled rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Stable code, e.g. `CCM32-001`.
    pub code: String,
    /// Kebab-case name of the problem the rule flags.
    pub name: String,
    pub layer: Layer,
    pub severity: Severity,
    pub scope: RuleScope,
    pub citation: String,
    pub description: String,
    /// Template names of the message and help in the rule set's environment.
    pub(crate) message_template: String,
    pub(crate) help_template: String,
    /// For a patient-month rule, the records that join a patient's month;
    /// `None` means the records the pack applies to.
    pub members: Option<CondNode>,
    /// Records (or patient-month groups) on which the rule is evaluated;
    /// it does not apply where this does not surely hold.
    pub when: Option<CondNode>,
    /// The evidence requirement; the rule passes when it holds.
    pub evidence: CondNode,
    /// A failing and a passing example, checked when the rule set compiles.
    pub examples: Option<RuleExamples>,
}

/// A rule's documented examples.
#[derive(Debug, Clone)]
pub struct RuleExamples {
    /// Records on which the rule reports a finding.
    pub fail: Example,
    /// Records on which the rule is evaluated and passes.
    pub pass: Example,
}

/// One example: the records as the rule file writes them (one, or several
/// for a patient-month rule).
#[derive(Debug, Clone)]
pub struct Example {
    /// Each record as written, without the `record_type` marker unless the
    /// author wrote it.
    pub records: Vec<serde_json::Value>,
    /// Span of the example in the pack file.
    pub(crate) span: crate::yaml::Span,
    /// For each record, the span of every node by its JSON pointer.
    pub(crate) spans: Vec<Vec<(String, crate::yaml::Span)>>,
}

impl Example {
    /// Returns the example's records ready for evaluation, reported under `source`.
    pub fn to_records(&self, source: &Path) -> Vec<crate::record::Record> {
        let file: Arc<str> = Arc::from(source.display().to_string());
        self.records
            .iter()
            .enumerate()
            .map(|(index, written)| {
                let value = compile::example_record(written);
                let id = value
                    .pointer("/encounter/id")
                    .and_then(serde_json::Value::as_str)
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("example-{}", index + 1));
                crate::record::Record {
                    id,
                    value,
                    format: crate::record::SourceFormat::Canonical,
                    origin: crate::record::Origin::new(file.clone(), None, ""),
                    provenance: Vec::new(),
                }
            })
            .collect()
    }
}

/// One compiled pack.
#[derive(Debug, Clone)]
pub struct Pack {
    pub id: String,
    pub title: String,
    pub version: String,
    pub layer: Layer,
    /// First date of service the pack applies to.
    pub effective_from: Option<Date>,
    /// Last date of service the pack applies to.
    pub effective_until: Option<Date>,
    pub denials: Vec<DenialCode>,
    /// Records that fail this condition are "not applicable" to the pack.
    pub applies_when: Option<CondNode>,
    /// The appeal letter template for the pack's denials.
    pub appeal: Option<AppealSpec>,
    pub rules: Vec<Rule>,
    /// The file the pack was read from.
    pub source: PathBuf,
}

/// A set of compiled packs with their message templates.
pub struct RuleSet {
    pub packs: Vec<Pack>,
    pub(crate) templates: minijinja::Environment<'static>,
}

impl std::fmt::Debug for RuleSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuleSet")
            .field("packs", &self.packs)
            .finish()
    }
}

/// A pack file's text with the name to report it under.
#[derive(Debug, Clone)]
pub struct PackSource {
    pub path: PathBuf,
    pub text: Arc<str>,
    /// True for the packs compiled into claimlint, whose companion files
    /// (appeal templates) are compiled in too.
    pub shipped: bool,
}

impl PackSource {
    pub fn new(path: impl Into<PathBuf>, text: impl Into<Arc<str>>) -> Self {
        PackSource {
            path: path.into(),
            text: text.into(),
            shipped: false,
        }
    }

    /// The packs shipped with claimlint.
    pub fn shipped() -> Vec<PackSource> {
        SHIPPED_PACKS
            .iter()
            .map(|(path, text)| PackSource {
                shipped: true,
                ..PackSource::new(*path, *text)
            })
            .collect()
    }
}

impl RuleSet {
    /// Compiles pack files into one rule set.
    ///
    /// Every file is compiled even after an error, so that one run reports
    /// all problems. Rule codes must be unique across the whole set.
    pub fn compile(sources: &[PackSource]) -> Result<RuleSet, Vec<RuleFileError>> {
        let shape = shape::Shape::from_schema(crate::record::RecordSchema::new().document());
        let mut templates = template::environment();
        let mut packs = Vec::new();
        let mut errors = Vec::new();

        for source in sources {
            match compile_pack(source, &shape, &mut templates) {
                Ok(pack) => packs.push((pack, source)),
                Err(error) => errors.push(error),
            }
        }
        check_unique_codes(&packs, &mut errors);
        check_unique_denials(&packs, &mut errors);
        if !errors.is_empty() {
            return Err(errors);
        }
        let set = RuleSet {
            packs: packs.iter().map(|(pack, _)| pack.clone()).collect(),
            templates,
        };
        let sources: Vec<&PackSource> = packs.iter().map(|(_, source)| *source).collect();
        let errors = verify::verify_examples(&set, &sources);
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(set)
    }

    /// Compiles the shipped packs.
    pub fn shipped() -> Result<RuleSet, Vec<RuleFileError>> {
        RuleSet::compile(&PackSource::shipped())
    }

    /// Finds a rule by its code. When several versions of its pack are
    /// loaded, returns the rule of the first one loaded.
    pub fn rule(&self, code: &str) -> Option<(&Pack, &Rule)> {
        self.packs
            .iter()
            .flat_map(|pack| pack.rules.iter().map(move |rule| (pack, rule)))
            .find(|(_, rule)| rule.code == code)
    }

    /// Returns the pack that covers a denial label, compared without regard
    /// to ASCII case.
    pub fn pack_for_label(&self, label: &str) -> Option<(&Pack, &DenialCode)> {
        let label = label.trim();
        self.packs
            .iter()
            .flat_map(|pack| pack.denials.iter().map(move |denial| (pack, denial)))
            .find(|(_, denial)| denial.label.eq_ignore_ascii_case(label))
    }

    /// Returns the first pack denial, in pack order, with a `matches` entry
    /// that the claim's codes, payer and REFs satisfy.
    pub fn denial_for_codes(&self, query: &DenialQuery<'_>) -> Option<(&Pack, &DenialCode)> {
        self.packs
            .iter()
            .flat_map(|pack| pack.denials.iter().map(move |denial| (pack, denial)))
            .find(|(_, denial)| denial.matches.iter().any(|m| m.matches_query(query)))
    }

    /// Returns the source text of a rule's help template, as written.
    pub fn help_source(&self, rule: &Rule) -> Option<String> {
        let template = self.templates.get_template(&rule.help_template).ok()?;
        Some(template.source().to_string())
    }

    /// Renders a rule's message or help template.
    pub(crate) fn render(&self, template: &str, context: &TemplateContext) -> String {
        template::render(&self.templates, template, context)
    }
}

/// Checks the identity of every pack: a rule code belongs to one pack id,
/// and the versions of one pack id differ and cover disjoint dates of
/// service, so that exactly one version applies to each encounter.
fn check_unique_codes(packs: &[(Pack, &PackSource)], errors: &mut Vec<RuleFileError>) {
    let mut seen: Vec<(&str, &str, &Path)> = Vec::new();
    for (index, (pack, source)) in packs.iter().enumerate() {
        let mut problems = Vec::new();
        for rule in &pack.rules {
            let other_pack = seen
                .iter()
                .find(|(code, pack_id, _)| *code == rule.code && *pack_id != pack.id);
            if let Some((_, _, first)) = other_pack {
                let span = error::find_scalar(&source.text, &rule.code);
                problems.push(RuleProblem::new(
                    format!(
                        "duplicate rule code `{}` (also defined in {})",
                        rule.code,
                        first.display()
                    ),
                    span,
                    Some(
                        "give each rule a code of its own; codes identify findings across versions"
                            .to_string(),
                    ),
                ));
            } else {
                seen.push((&rule.code, &pack.id, &pack.source));
            }
        }
        for (earlier, earlier_source) in packs[..index].iter().filter(|(p, _)| p.id == pack.id) {
            let span = error::find_scalar(&source.text, &pack.version);
            if earlier.version == pack.version {
                problems.push(RuleProblem::new(
                    format!(
                        "pack `{}` version {} is loaded twice (also from {})",
                        pack.id,
                        pack.version,
                        earlier_source.path.display()
                    ),
                    span,
                    Some("give each version of a pack its own version number".to_string()),
                ));
            } else if let Some((from, until)) = overlap(earlier, pack) {
                problems.push(RuleProblem::new(
                    format!(
                        "pack `{}` versions {} and {} (from {}) both apply to dates of service {}",
                        pack.id,
                        pack.version,
                        earlier.version,
                        earlier_source.path.display(),
                        describe_range(from, until)
                    ),
                    span,
                    Some(
                        "give each version `effective` dates that do not overlap, e.g. end the older one \
                         with `until` the day before the newer one's `from`"
                            .to_string(),
                    ),
                ));
            }
        }
        if !problems.is_empty() {
            errors.push(RuleFileError::new(source, problems));
        }
    }
}

/// Rejects a denial label that two packs cover, because the appeal would be ambiguous.
fn check_unique_denials(packs: &[(Pack, &PackSource)], errors: &mut Vec<RuleFileError>) {
    let mut seen: Vec<(String, &str, &Path)> = Vec::new();
    for (pack, source) in packs {
        let mut problems = Vec::new();
        for denial in &pack.denials {
            let key = denial.label.to_ascii_uppercase();
            // Versions of one pack cover the same denials.
            let other = seen
                .iter()
                .find(|(label, id, _)| *label == key && *id != pack.id);
            if let Some((_, _, first)) = other {
                problems.push(RuleProblem::new(
                    format!(
                        "denial `{}` is already answered by {}",
                        denial.label,
                        first.display()
                    ),
                    error::find_scalar(&source.text, &denial.label),
                    Some("let one pack answer each denial label".to_string()),
                ));
            } else {
                seen.push((key, &pack.id, &pack.source));
            }
        }
        if !problems.is_empty() {
            errors.push(RuleFileError::new(source, problems));
        }
    }
}

/// Returns the dates of service that two packs' effective ranges share, if
/// any; `None` bounds are open.
fn overlap(a: &Pack, b: &Pack) -> Option<(Option<Date>, Option<Date>)> {
    let from = a.effective_from.max(b.effective_from);
    let until = match (a.effective_until, b.effective_until) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    };
    match (from, until) {
        (Some(from), Some(until)) if from > until => None,
        _ => Some((from, until)),
    }
}

fn describe_range(from: Option<Date>, until: Option<Date>) -> String {
    match (from, until) {
        (None, None) => "at every date".to_string(),
        (Some(from), None) => format!("from {from} on"),
        (None, Some(until)) => format!("up to {until}"),
        (Some(from), Some(until)) => format!("from {from} to {until}"),
    }
}
