//! A located diagnostic: a message with a labelled span in a named source.
//!
//! The library builds these for rule-file and input errors; the binary
//! renders them with miette's graphical handler. Nothing here prints.

use std::fmt;
use std::sync::Arc;

use miette::{Diagnostic, LabeledSpan, NamedSource, SourceCode};

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Error,
    Warning,
    Advice,
}

/// One diagnostic about a span of a source file.
#[derive(Debug, Clone)]
pub struct SourceDiagnostic {
    pub level: Level,
    /// Diagnostic code, e.g. `claimlint::rules::invalid-regex` or a rule code.
    pub code: Option<String>,
    pub message: String,
    pub help: Option<String>,
    /// Notes shown under the snippet, e.g. the rule's citation.
    pub notes: Vec<String>,
    pub source: Option<NamedSource<Arc<str>>>,
    pub labels: Vec<LabeledSpan>,
}

impl SourceDiagnostic {
    /// An error with no source snippet.
    pub fn error(message: impl Into<String>) -> Self {
        SourceDiagnostic {
            level: Level::Error,
            code: None,
            message: message.into(),
            help: None,
            notes: Vec::new(),
            source: None,
            labels: Vec::new(),
        }
    }

    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn with_level(mut self, level: Level) -> Self {
        self.level = level;
        self
    }

    /// Attaches the source text and a labelled span in it.
    pub fn with_source(
        mut self,
        name: impl AsRef<str>,
        text: Arc<str>,
        span: std::ops::Range<usize>,
        label: impl Into<String>,
    ) -> Self {
        let len = text.len();
        let start = span.start.min(len);
        let end = span.end.clamp(start, len);
        self.source = Some(NamedSource::new(name, text).with_language("json"));
        self.labels
            .push(LabeledSpan::new_with_span(Some(label.into()), start..end));
        self
    }
}

impl fmt::Display for SourceDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SourceDiagnostic {}

impl Diagnostic for SourceDiagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.code
            .as_ref()
            .map(|c| Box::new(c) as Box<dyn fmt::Display>)
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.level {
            Level::Error => miette::Severity::Error,
            Level::Warning => miette::Severity::Warning,
            Level::Advice => miette::Severity::Advice,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        let help = self.help.as_deref();
        if self.notes.is_empty() {
            return help.map(|h| Box::new(h) as Box<dyn fmt::Display>);
        }
        let mut text = help.map(str::to_string).unwrap_or_default();
        for note in &self.notes {
            if !text.is_empty() {
                text.push('\n');
            }
            text.push_str(note);
        }
        Some(Box::new(text))
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|s| s as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.labels.is_empty() {
            return None;
        }
        Some(Box::new(self.labels.iter().cloned()))
    }
}
