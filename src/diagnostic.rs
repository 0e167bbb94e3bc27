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
    pub source: Option<Snippet>,
    pub labels: Vec<LabeledSpan>,
}

/// The source text a diagnostic shows.
#[derive(Debug, Clone)]
pub enum Snippet {
    /// A whole file; spans are byte offsets in it.
    File(NamedSource<Arc<str>>),
    /// An excerpt of one long line (minified JSON, NDJSON), so the snippet
    /// stays readable; spans are byte offsets in the excerpt.
    Window(Window),
}

/// An excerpt of one line, reported at its real line and column.
#[derive(Debug, Clone)]
pub struct Window {
    pub name: String,
    pub text: String,
    /// 0-based line of the excerpt in its file.
    pub line: usize,
    /// 0-based column (in characters) where the excerpt starts.
    pub column: usize,
}

impl SourceCode for Window {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        _context_lines_before: usize,
        _context_lines_after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        // The reported column is that of the requested span, which is what
        // the report header shows; the excerpt itself is always whole.
        let offset = floor_char(&self.text, span.offset().min(self.text.len()));
        let column = self.column + self.text[..offset].chars().count();
        Ok(Box::new(miette::MietteSpanContents::new_named(
            self.name.clone(),
            self.text.as_bytes(),
            (0, self.text.len()).into(),
            self.line,
            column,
            1,
        )))
    }
}

impl SourceCode for Snippet {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        match self {
            Snippet::File(source) => {
                source.read_span(span, context_lines_before, context_lines_after)
            }
            Snippet::Window(window) => {
                window.read_span(span, context_lines_before, context_lines_after)
            }
        }
    }
}

/// Lines longer than this many bytes are shown as an excerpt.
const LONG_LINE: usize = 160;
/// Bytes of context kept on each side of a label in an excerpt.
const WINDOW_CONTEXT: usize = 50;
/// Longest label kept whole in an excerpt.
const WINDOW_LABEL: usize = 120;

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

    /// Attaches the source text and a labelled span in it. When the span
    /// sits on a very long line, only an excerpt of that line is attached.
    pub fn with_source(
        mut self,
        name: impl AsRef<str>,
        text: Arc<str>,
        span: std::ops::Range<usize>,
        label: impl Into<String>,
    ) -> Self {
        let len = text.len();
        let start = floor_char(&text, span.start.min(len));
        let end = floor_char(&text, span.end.clamp(start, len));
        let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = text[start..].find('\n').map_or(len, |i| start + i);
        if line_end - line_start <= LONG_LINE {
            self.source = Some(Snippet::File(NamedSource::new(name, text)));
            self.labels
                .push(LabeledSpan::new_with_span(Some(label.into()), start..end));
            return self;
        }

        let end = floor_char(&text, end.min(start + WINDOW_LABEL));
        let from = floor_char(&text, start.saturating_sub(WINDOW_CONTEXT).max(line_start));
        let to = floor_char(&text, (end + WINDOW_CONTEXT).min(line_end));
        let prefix = if from > line_start { "…" } else { "" };
        let suffix = if to < line_end { "…" } else { "" };
        let excerpt = format!("{prefix}{}{suffix}", text[from..to].trim_end_matches('\r'));
        let line = text[..line_start].matches('\n').count();
        let column = text[line_start..from]
            .chars()
            .count()
            .saturating_sub(prefix.chars().count());
        let shift = prefix.len();
        self.source = Some(Snippet::Window(Window {
            name: name.as_ref().to_string(),
            text: excerpt,
            line,
            column,
        }));
        self.labels.push(LabeledSpan::new_with_span(
            Some(label.into()),
            (start - from + shift)..(end - from + shift),
        ));
        self
    }
}

impl SourceDiagnostic {
    /// Attaches one line of a file, such as an NDJSON record, and a labelled
    /// span in it. `line` is the line's 0-based number in the file. Only
    /// that line is shown (an excerpt of it when it is long), so a report
    /// about one record never shows its neighbours.
    pub fn with_line_source(
        self,
        name: impl AsRef<str>,
        text: &str,
        line: usize,
        span: std::ops::Range<usize>,
        label: impl Into<String>,
    ) -> Self {
        let mut diagnostic = self.with_source(name.as_ref(), Arc::from(text), span, label);
        match diagnostic.source.take() {
            Some(Snippet::Window(mut window)) => {
                window.line += line;
                diagnostic.source = Some(Snippet::Window(window));
            }
            Some(Snippet::File(_)) => {
                diagnostic.source = Some(Snippet::Window(Window {
                    name: name.as_ref().to_string(),
                    text: text.trim_end_matches('\r').to_string(),
                    line,
                    column: 0,
                }));
            }
            None => {}
        }
        diagnostic
    }
}

fn floor_char(text: &str, mut index: usize) -> usize {
    while index > 0 && !text.is_char_boundary(index) {
        index -= 1;
    }
    index
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
