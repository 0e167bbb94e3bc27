//! Errors in rule pack files, located in the YAML source.

use std::path::PathBuf;
use std::sync::Arc;

use crate::diagnostic::SourceDiagnostic;
use crate::yaml::{Span, YamlError};

use super::PackSource;

/// One problem in a pack file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleProblem {
    pub message: String,
    pub span: Span,
    pub help: Option<String>,
}

impl RuleProblem {
    pub fn new(message: impl Into<String>, span: Span, help: Option<String>) -> Self {
        RuleProblem {
            message: message.into(),
            span,
            help,
        }
    }
}

impl From<YamlError> for RuleProblem {
    fn from(error: YamlError) -> Self {
        RuleProblem {
            message: error.message,
            span: error.span,
            help: error.help,
        }
    }
}

/// A pack file that could not be compiled, with every problem found in it.
#[derive(Debug, Clone)]
pub struct RuleFileError {
    pub path: PathBuf,
    pub text: Arc<str>,
    pub problems: Vec<RuleProblem>,
}

impl RuleFileError {
    pub fn new(source: &PackSource, problems: Vec<RuleProblem>) -> Self {
        RuleFileError {
            path: source.path.clone(),
            text: source.text.clone(),
            problems,
        }
    }

    /// One located diagnostic per problem, in file order.
    pub fn diagnostics(&self) -> Vec<SourceDiagnostic> {
        crate::yaml::file_diagnostics(
            "claimlint::rules",
            &self.path,
            &self.text,
            self.problems
                .iter()
                .map(|p| (p.message.as_str(), &p.span, p.help.as_deref())),
        )
    }

    /// 1-based line and column of each problem, for plain reports.
    pub fn locations(&self) -> Vec<(usize, usize, &str)> {
        crate::yaml::file_locations(
            &self.text,
            self.problems.iter().map(|p| (p.message.as_str(), &p.span)),
        )
    }
}

impl std::fmt::Display for RuleFileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {} problem(s)",
            self.path.display(),
            self.problems.len()
        )
    }
}

impl std::error::Error for RuleFileError {}

/// Finds the span of a plain or quoted scalar `value` in `text`, for
/// problems detected after the YAML tree is gone.
pub(crate) fn find_scalar(text: &str, value: &str) -> Span {
    for pattern in [
        format!(": {value}"),
        format!(": \"{value}\""),
        format!(": '{value}'"),
    ] {
        if let Some(at) = text.find(&pattern) {
            return at + 2..at + pattern.len();
        }
    }
    0..0
}
