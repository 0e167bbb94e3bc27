//! `claimlint.yaml`: project settings for `check`, and the suppressions file.
//!
//! Both files are read with [`crate::yaml`], like rule packs. An unknown
//! key, rule code or pack id, or a value of the wrong type, is rejected with
//! its line and column and a "did you mean" for near misses.
//! `schemas/claimlint-config.schema.json` describes the same layout for
//! editors. Relative paths in the file are resolved against its folder.

mod suppressions;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::diagnostic::SourceDiagnostic;
use crate::finding::Severity;
use crate::rules::RuleSet;
use crate::yaml::{self, suggest, Node, ParseLimits, YamlError};

pub use suppressions::{SuppressionEntry, SuppressionMatch, SuppressionTarget, Suppressions};

/// File names that [`discover`] looks for, in order.
pub const CONFIG_FILE_NAMES: &[&str] = &["claimlint.yaml", "claimlint.yml"];

/// The level a configuration gives a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleLevel {
    /// The rule's findings are dropped.
    Off,
    Severity(Severity),
}

/// Severity overrides for claims of one payer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayerOverrides {
    /// Compared with the record's `claim.payer.id` and `claim.payer.name`.
    pub payer: String,
    pub severity: BTreeMap<String, RuleLevel>,
}

/// A validated `claimlint.yaml`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    /// The file the settings were read from.
    pub path: PathBuf,
    /// Pack ids to run; `None` runs every loaded pack.
    pub packs: Option<Vec<String>>,
    /// Severity overrides by rule code, for every payer.
    pub severity: BTreeMap<String, RuleLevel>,
    /// Overrides that apply to one payer's claims, on top of `severity`.
    pub payers: Vec<PayerOverrides>,
    /// The FHIR mapping file (`--fhir-mapping`).
    pub fhir_mapping: Option<PathBuf>,
    /// The practice profile that `appeal` reads.
    pub practice_profile: Option<PathBuf>,
    /// The payer profiles that `appeal` reads.
    pub payer_profiles: Option<PathBuf>,
    /// The suppressions file (`--suppressions`).
    pub suppressions: Option<PathBuf>,
    /// The lowest severity that fails the run (`--fail-on`).
    pub fail_on: Option<Severity>,
}

/// Problems found in a configuration or suppressions file.
#[derive(Debug, Clone)]
pub struct ConfigError {
    /// Diagnostic code, e.g. `claimlint::config`.
    pub code: &'static str,
    pub path: PathBuf,
    pub text: Arc<str>,
    pub problems: Vec<YamlError>,
}

impl ConfigError {
    /// Returns one located diagnostic per problem, in file order.
    pub fn diagnostics(&self) -> Vec<SourceDiagnostic> {
        yaml::file_diagnostics(
            self.code,
            &self.path,
            &self.text,
            self.problems
                .iter()
                .map(|p| (p.message.as_str(), &p.span, p.help.as_deref())),
        )
    }
}

/// Returns the first configuration file found in `start` or one of its
/// ancestors.
pub fn discover(start: &Path) -> Option<PathBuf> {
    start.ancestors().find_map(|folder| {
        CONFIG_FILE_NAMES
            .iter()
            .map(|name| folder.join(name))
            .find(|candidate| candidate.is_file())
    })
}

impl Config {
    /// Parses and validates a configuration file. Rule codes and pack ids
    /// are checked against `rules`.
    pub fn parse(path: &Path, text: &str, rules: &RuleSet) -> Result<Config, ConfigError> {
        let mut problems = Vec::new();
        let config = read(path, text, rules, &mut problems);
        match config {
            Some(config) if problems.is_empty() => Ok(config),
            _ => Err(ConfigError {
                code: "claimlint::config",
                path: path.to_path_buf(),
                text: Arc::from(text),
                problems,
            }),
        }
    }

    /// Returns the level of `code` for a claim of `payer` (its id or name),
    /// when the configuration sets one.
    pub fn rule_level(&self, code: &str, payer: &[&str]) -> Option<RuleLevel> {
        let for_payer = self
            .payers
            .iter()
            .filter(|p| payer.contains(&p.payer.as_str()))
            .find_map(|p| p.severity.get(code).copied());
        for_payer.or_else(|| self.severity.get(code).copied())
    }
}

fn read(path: &Path, text: &str, rules: &RuleSet, problems: &mut Vec<YamlError>) -> Option<Config> {
    let root = match yaml::parse(text, ParseLimits::default()) {
        Ok(root) => root,
        Err(error) => {
            problems.push(error);
            return None;
        }
    };
    let base = path.parent().unwrap_or(Path::new(""));
    let mut map = match root.as_map("the configuration") {
        Ok(map) => map,
        Err(error) => {
            problems.push(error);
            return None;
        }
    };
    let mut config = Config {
        path: path.to_path_buf(),
        ..Config::default()
    };
    let codes = rule_codes(rules);
    let pack_ids: Vec<&str> = rules.packs.iter().map(|p| p.id.as_str()).collect();

    if let Some(node) = map.optional("packs") {
        if let Some(items) = collect(problems, node.as_seq("packs")) {
            let packs = items
                .iter()
                .filter_map(|item| known(problems, item, &pack_ids, "pack id", "pack"))
                .collect();
            config.packs = Some(packs);
        }
    }
    if let Some(node) = map.optional("severity") {
        config.severity = severity_map(node, &codes, problems);
    }
    if let Some(node) = map.optional("payers") {
        if let Some(items) = collect(problems, node.as_seq("payers")) {
            config.payers = items
                .iter()
                .filter_map(|item| payer(item, &codes, problems))
                .collect();
        }
    }
    config.fhir_mapping = path_value(&mut map, "fhir_mapping", base, problems);
    config.suppressions = path_value(&mut map, "suppressions", base, problems);
    if let Some(node) = map.optional("profiles") {
        if let Some(mut profiles) = collect(problems, node.as_map("profiles")) {
            config.practice_profile = path_value(&mut profiles, "practice", base, problems);
            config.payer_profiles = path_value(&mut profiles, "payers", base, problems);
            problems.extend(profiles.finish());
        }
    }
    if let Some(node) = map.optional("fail_on") {
        config.fail_on = collect(problems, severity(node, "fail_on"));
    }
    problems.extend(map.finish());
    Some(config)
}

/// Keeps `Ok` values and moves errors into `problems`.
fn collect<T>(problems: &mut Vec<YamlError>, result: Result<T, YamlError>) -> Option<T> {
    result.map_err(|error| problems.push(error)).ok()
}

fn rule_codes(rules: &RuleSet) -> Vec<&str> {
    let mut codes: Vec<&str> = rules
        .packs
        .iter()
        .flat_map(|pack| pack.rules.iter().map(|rule| rule.code.as_str()))
        .collect();
    codes.sort_unstable();
    codes.dedup();
    codes
}

/// Returns the scalar `node` when it is one of `candidates`, and records an
/// error with the closest candidate otherwise.
pub(crate) fn known(
    problems: &mut Vec<YamlError>,
    node: &Node,
    candidates: &[&str],
    what: &str,
    kind: &str,
) -> Option<String> {
    let text = collect(problems, node.as_str(what))?;
    if candidates.contains(&text) {
        return Some(text.to_string());
    }
    let help = match suggest(text, candidates) {
        Some(near) => format!("did you mean `{near}`?"),
        None => format!("the loaded {kind}s are: {}", candidates.join(", ")),
    };
    problems.push(
        YamlError::new(format!("unknown {what} `{text}`"), node.span.clone()).with_help(help),
    );
    None
}

fn severity(node: &Node, what: &str) -> Result<Severity, YamlError> {
    match node.as_str(what)? {
        "error" => Ok(Severity::Error),
        "warning" => Ok(Severity::Warning),
        "info" => Ok(Severity::Info),
        other => Err(YamlError::new(
            format!("{what} `{other}` is not a severity"),
            node.span.clone(),
        )
        .with_help("use error, warning or info")),
    }
}

fn severity_map(
    node: &Node,
    codes: &[&str],
    problems: &mut Vec<YamlError>,
) -> BTreeMap<String, RuleLevel> {
    let mut levels = BTreeMap::new();
    let Some(mut map) = collect(problems, node.as_map("severity")) else {
        return levels;
    };
    for (key, value) in map.entries() {
        let Some(code) = known(problems, key, codes, "rule code", "rule code") else {
            continue;
        };
        let level = match value.as_str("a rule's severity") {
            Ok("off") => Some(RuleLevel::Off),
            Ok(_) => collect(
                problems,
                severity(value, "severity")
                    .map_err(|e| e.with_help("use error, warning, info or off")),
            )
            .map(RuleLevel::Severity),
            Err(error) => {
                problems.push(error);
                None
            }
        };
        if let Some(level) = level {
            levels.insert(code, level);
        }
    }
    levels
}

fn payer(node: &Node, codes: &[&str], problems: &mut Vec<YamlError>) -> Option<PayerOverrides> {
    let mut map = collect(problems, node.as_map("a payer entry"))?;
    let name = collect(
        problems,
        map.required("payer").and_then(|n| n.as_str("payer")),
    );
    let severity = match collect(problems, map.required("severity")) {
        Some(node) => severity_map(node, codes, problems),
        None => BTreeMap::new(),
    };
    problems.extend(map.finish());
    Some(PayerOverrides {
        payer: name?.to_string(),
        severity,
    })
}

fn path_value(
    map: &mut yaml::MapReader<'_>,
    key: &'static str,
    base: &Path,
    problems: &mut Vec<YamlError>,
) -> Option<PathBuf> {
    let node = map.optional(key)?;
    let text = collect(problems, node.as_str(key))?;
    Some(base.join(text))
}

/// Reads and validates the configuration file at `path`.
pub fn load(path: &Path, rules: &RuleSet) -> Result<Config, Vec<SourceDiagnostic>> {
    let text = std::fs::read_to_string(path).map_err(|error| {
        vec![SourceDiagnostic::error(format!(
            "cannot read configuration file {}: {error}",
            path.display()
        ))
        .with_code("claimlint::config")
        .with_help("check the path given with --config, or remove the file")]
    })?;
    Config::parse(path, &text, rules).map_err(|error| error.diagnostics())
}

#[cfg(test)]
mod tests;
