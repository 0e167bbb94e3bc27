//! Appeal letter templates: Markdown with minijinja, strict about every name.
//!
//! A template can use only the variables in [`LETTER_VARIABLES`], and any
//! undefined name or attribute is an error, so a letter is never rendered
//! with a hole in it. Every value printed into the Markdown is escaped, so a
//! `*` or `_` in a name cannot change the letter's formatting; printing a
//! missing value (`none`) is an error too.

use std::sync::Arc;

use minijinja::syntax::SyntaxConfig;
use minijinja::value::Value;
use minijinja::{Environment, Error, ErrorKind, UndefinedBehavior};

use super::format;
use super::letter::LetterContext;

/// The names a letter template may use.
pub const LETTER_VARIABLES: &[&str] = &[
    "date",
    "practice",
    "payer",
    "claim",
    "patient",
    "denial",
    "pack",
    "rules",
    "evidence",
    "attachments",
    "deadline",
];

const TEMPLATE_NAME: &str = "letter";

/// A compiled letter template.
pub struct LetterTemplate {
    /// The file name shown in errors.
    name: String,
    source: Arc<str>,
    env: Environment<'static>,
}

impl std::fmt::Debug for LetterTemplate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LetterTemplate")
            .field("name", &self.name)
            .finish()
    }
}

/// A template that failed to compile or render.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct TemplateError {
    /// Returns the template's file name.
    pub name: String,
    /// The template text, for showing the line.
    pub source_text: Arc<str>,
    /// 1-based line of the problem, when known.
    pub line: Option<usize>,
    /// Byte span of the problem in `source_text`, when known.
    pub span: Option<std::ops::Range<usize>>,
    pub message: String,
    pub help: Option<String>,
}

impl LetterTemplate {
    /// Compiles a template, rejecting syntax errors and top-level names
    /// outside [`LETTER_VARIABLES`].
    pub fn compile(name: &str, source: &str) -> Result<LetterTemplate, Box<TemplateError>> {
        let source: Arc<str> = Arc::from(source);
        let mut env = environment();
        env.add_template_owned(TEMPLATE_NAME, source.to_string())
            .map_err(|e| error_from(name, &source, &e))?;
        let template = env
            .get_template(TEMPLATE_NAME)
            .map_err(|e| error_from(name, &source, &e))?;

        let mut unknown: Vec<String> = template
            .undeclared_variables(false)
            .into_iter()
            .filter(|v| !LETTER_VARIABLES.contains(&v.as_str()))
            .collect();
        unknown.sort();
        if let Some(first) = unknown.first() {
            let help = match crate::yaml::suggest(first, LETTER_VARIABLES) {
                Some(near) => format!("did you mean `{near}`?"),
                None => format!("available: {}", LETTER_VARIABLES.join(", ")),
            };
            let span = find_word(&source, first);
            return Err(Box::new(TemplateError {
                name: name.to_string(),
                line: span.as_ref().map(|s| line_of(&source, s.start)),
                span,
                source_text: source.clone(),
                message: format!("template uses undefined variable `{first}`"),
                help: Some(help),
            }));
        }
        Ok(LetterTemplate {
            name: name.to_string(),
            source,
            env,
        })
    }

    /// Returns the template's file name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Renders the letter as Markdown.
    pub fn render(&self, context: &LetterContext) -> Result<String, Box<TemplateError>> {
        let template = self
            .env
            .get_template(TEMPLATE_NAME)
            .map_err(|e| error_from(&self.name, &self.source, &e))?;
        let text = template
            .render(minijinja::value::Serde(context))
            .map_err(|e| error_from(&self.name, &self.source, &e))?;
        Ok(tidy(&text))
    }
}

/// Trims trailing spaces and collapses runs of blank lines that template
/// conditionals leave behind.
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank_run = 0;
    for line in text.trim_matches(['\n', '\r']).lines() {
        let line = line.trim_end_matches([' ', '\t']);
        if line.is_empty() {
            blank_run += 1;
            if blank_run > 1 {
                continue;
            }
        } else {
            blank_run = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    if let Ok(syntax) = SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .build()
    {
        env.set_syntax(syntax);
    }
    // A custom escape mode makes macro output safe (already escaped) while
    // every other printed value is escaped by the formatter below.
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::Custom("markdown".into()));
    env.set_formatter(|out, _state, value| {
        if value.is_none() || value.is_undefined() {
            return Err(Error::new(
                ErrorKind::UndefinedError,
                "the template prints a missing value; guard it with `{% if … %}`",
            ));
        }
        let text = value.to_string();
        let written = if value.is_safe() {
            text
        } else {
            escape_markdown(&text)
        };
        out.write_str(&written).map_err(Error::from)
    });
    env.add_filter("hard_breaks", |lines: Vec<String>| -> Value {
        let escaped: Vec<String> = lines.iter().map(|line| escape_markdown(line)).collect();
        Value::from_safe_string(escaped.join("\\\n"))
    });
    env.add_filter("format_date", |value: String| -> Result<String, Error> {
        format::record_date(&value).ok_or_else(|| invalid_date("format_date"))
    });
    env.add_filter(
        "format_datetime",
        |value: String| -> Result<String, Error> {
            format::record_date_time(&value).ok_or_else(|| invalid_date("format_datetime"))
        },
    );
    env
}

fn invalid_date(filter: &str) -> Error {
    Error::new(
        ErrorKind::InvalidOperation,
        format!("{filter} was given a value that is not a date"),
    )
}

/// Escapes the characters that would change Markdown formatting, so that a
/// printed value is always read as plain text.
pub fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (index, c) in text.char_indices() {
        let at_start = index == 0;
        let ordered_marker = matches!(c, '.' | ')')
            && text[..index].bytes().all(|b| b.is_ascii_digit())
            && index > 0;
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|' | '~' | '&'
        ) || (at_start && matches!(c, '-' | '+' | '='))
            || ordered_marker
        {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn error_from(name: &str, source: &Arc<str>, error: &Error) -> Box<TemplateError> {
    let span = error.range().filter(|r| r.end <= source.len());
    let line = error
        .line()
        .or_else(|| span.as_ref().map(|s| line_of(source, s.start)));
    let message = match error.detail() {
        Some(detail) => format!("{}: {detail}", kind_text(error.kind())),
        None => kind_text(error.kind()).to_string(),
    };
    Box::new(TemplateError {
        name: name.to_string(),
        source_text: source.clone(),
        line,
        span: span.or_else(|| line.and_then(|l| line_span(source, l))),
        message,
        help: None,
    })
}

fn kind_text(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::SyntaxError => "syntax error",
        ErrorKind::UndefinedError => "undefined value",
        ErrorKind::UnknownFilter => "unknown filter",
        ErrorKind::UnknownTest => "unknown test",
        ErrorKind::UnknownFunction => "unknown function",
        ErrorKind::InvalidOperation => "invalid operation",
        ErrorKind::MissingArgument => "missing argument",
        ErrorKind::TooManyArguments => "too many arguments",
        _ => "template error",
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .map_or(1, |head| head.matches('\n').count() + 1)
}

fn line_span(text: &str, line: usize) -> Option<std::ops::Range<usize>> {
    let mut start = 0;
    for (index, chunk) in text.split_inclusive('\n').enumerate() {
        if index + 1 == line {
            return Some(start..start + chunk.trim_end_matches(['\n', '\r']).len());
        }
        start += chunk.len();
    }
    None
}

/// Finds `word` as a whole identifier inside a `{{ }}` or `{% %}` tag.
fn find_word(text: &str, word: &str) -> Option<std::ops::Range<usize>> {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    text.match_indices(word)
        .find(|(at, _)| {
            let before = text[..*at].chars().next_back();
            let after = text[at + word.len()..].chars().next();
            !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
        })
        .map(|(at, _)| at..at + word.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_variable_is_located_with_suggestion() {
        let error =
            LetterTemplate::compile("t.md.j2", "Dear {{ payer.name }},\n{{ pateint.name }}\n")
                .unwrap_err();
        assert_eq!(error.message, "template uses undefined variable `pateint`");
        assert_eq!(error.help.as_deref(), Some("did you mean `patient`?"));
        assert_eq!(error.line, Some(2));
    }

    #[test]
    fn syntax_error_has_a_line() {
        let error = LetterTemplate::compile("t.md.j2", "one\n{% if claim %}\n").unwrap_err();
        assert!(
            error.message.starts_with("syntax error"),
            "{}",
            error.message
        );
        assert!(error.line.is_some());
        assert!(error.to_string().starts_with("t.md.j2:"), "{error}");
    }

    #[test]
    fn values_are_escaped_once_even_through_macros() {
        let template = LetterTemplate::compile(
            "t.md.j2",
            "{% macro name(p) %}{{ p.name }}{% endmacro %}{{ patient.name }} / {{ name(patient) }}",
        )
        .unwrap();
        let source = template.env.get_template(TEMPLATE_NAME).unwrap();
        let text = source
            .render(minijinja::context! { patient => minijinja::context! { name => "O*Brien_Jr" } })
            .unwrap();
        assert_eq!(text, "O\\*Brien\\_Jr / O\\*Brien\\_Jr");
    }

    #[test]
    fn printing_none_is_an_error() {
        let template =
            LetterTemplate::compile("t.md.j2", "{{ claim.payer_claim_number }}").unwrap();
        let source = template.env.get_template(TEMPLATE_NAME).unwrap();
        let error = source
            .render(
                minijinja::context! { claim => minijinja::context! { payer_claim_number => () } },
            )
            .unwrap_err();
        assert!(error.to_string().contains("missing value"), "{error}");
    }

    #[test]
    fn markdown_is_escaped() {
        assert_eq!(escape_markdown("O*Brien_Jr [x]"), "O\\*Brien\\_Jr \\[x\\]");
        assert_eq!(escape_markdown("1. Care"), "1\\. Care");
        assert_eq!(escape_markdown("- dash"), "\\- dash");
        assert_eq!(escape_markdown("Suite 1.5"), "Suite 1.5");
        assert_eq!(escape_markdown("a\\b"), "a\\\\b");
    }

    #[test]
    fn tidy_collapses_blank_runs() {
        assert_eq!(tidy("\n\n a  \n\n\n\nb\n\n"), " a\n\nb\n");
    }
}
