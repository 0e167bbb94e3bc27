//! YAML documents with source positions, for configuration files that must be
//! rejected with located errors.
//!
//! Rule packs, profiles and configuration are read into a [`Node`] tree that
//! keeps the byte span of every key and value, and then walked with
//! [`MapReader`], which reports unknown keys with a "did you mean" hint. The
//! parser is yaml-rust2's event API; serde-based YAML deserialization keeps no
//! positions for semantic errors such as an invalid regex deep in a rule.
//!
//! Aliases (`*name`) are rejected outright: configuration never needs them
//! and they are the vector for exponential "billion laughs" expansion.

mod parse;
mod reader;

use std::ops::Range;

pub use parse::{line_of as line_col, parse, ParseLimits};
pub use reader::{suggest, MapReader};

/// A byte range in the source text.
pub type Span = Range<usize>;

/// One YAML node with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub kind: NodeKind,
    /// Byte span of the node in the source.
    pub span: Span,
}

/// The content of a YAML node.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    /// A scalar, with whether it was quoted. Plain scalars are typed on
    /// access (`true`, `12`, `null`); quoted scalars are always strings.
    Scalar {
        text: String,
        quoted: bool,
    },
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

/// An error in a YAML document, located by byte span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    pub message: String,
    pub span: Span,
    pub help: Option<String>,
}

impl YamlError {
    pub fn new(message: impl Into<String>, span: Span) -> Self {
        YamlError {
            message: message.into(),
            span,
            help: None,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// Builds one located diagnostic per problem of a YAML file, in file order.
pub fn file_diagnostics<'p>(
    code: &str,
    path: &std::path::Path,
    text: &std::sync::Arc<str>,
    problems: impl IntoIterator<Item = (&'p str, &'p Span, Option<&'p str>)>,
) -> Vec<crate::diagnostic::SourceDiagnostic> {
    let mut problems: Vec<_> = problems.into_iter().collect();
    problems.sort_by_key(|(_, span, _)| span.start);
    problems
        .into_iter()
        .map(|(message, span, help)| {
            let mut diagnostic = crate::diagnostic::SourceDiagnostic::error(message)
                .with_code(code)
                .with_source(
                    path.display().to_string(),
                    text.clone(),
                    span.clone(),
                    "here",
                );
            diagnostic.help = help.map(str::to_string);
            diagnostic
        })
        .collect()
}

/// Returns the 1-based line and column of each problem of a YAML file, with
/// its message, for plain reports.
pub fn file_locations<'p>(
    text: &str,
    problems: impl IntoIterator<Item = (&'p str, &'p Span)>,
) -> Vec<(usize, usize, &'p str)> {
    problems
        .into_iter()
        .map(|(message, span)| {
            let (line, column) = line_col(text, span.start);
            (line, column, message)
        })
        .collect()
}

impl Node {
    /// A short name of the node's type, for error messages.
    pub fn type_name(&self) -> &'static str {
        match &self.kind {
            NodeKind::Scalar { .. } if self.is_null() => "null",
            NodeKind::Scalar { .. } => "a scalar",
            NodeKind::Seq(_) => "a list",
            NodeKind::Map(_) => "a mapping",
        }
    }

    /// True for `~`, `null` or an empty plain scalar.
    pub fn is_null(&self) -> bool {
        matches!(&self.kind, NodeKind::Scalar { text, quoted: false }
            if text.is_empty() || text == "~" || text == "null" || text == "Null" || text == "NULL")
    }

    /// Returns the scalar text of a non-null scalar.
    pub fn as_str(&self, what: &str) -> Result<&str, YamlError> {
        match &self.kind {
            NodeKind::Scalar { text, .. } if !self.is_null() => Ok(text),
            _ => Err(self.type_error(what, "a string")),
        }
    }

    /// Returns a boolean scalar (`true` or `false`, unquoted).
    pub fn as_bool(&self, what: &str) -> Result<bool, YamlError> {
        match &self.kind {
            NodeKind::Scalar {
                text,
                quoted: false,
            } => match text.as_str() {
                "true" | "True" | "TRUE" => Ok(true),
                "false" | "False" | "FALSE" => Ok(false),
                _ => Err(self.type_error(what, "true or false")),
            },
            _ => Err(self.type_error(what, "true or false")),
        }
    }

    /// Returns a non-negative integer scalar.
    pub fn as_u64(&self, what: &str) -> Result<u64, YamlError> {
        match &self.kind {
            NodeKind::Scalar {
                text,
                quoted: false,
            } => text
                .parse::<u64>()
                .map_err(|_| self.type_error(what, "a non-negative integer")),
            _ => Err(self.type_error(what, "a non-negative integer")),
        }
    }

    /// Returns a finite number scalar.
    pub fn as_f64(&self, what: &str) -> Result<f64, YamlError> {
        match &self.kind {
            NodeKind::Scalar {
                text,
                quoted: false,
            } => match text.parse::<f64>() {
                Ok(n) if n.is_finite() => Ok(n),
                _ => Err(self.type_error(what, "a number")),
            },
            _ => Err(self.type_error(what, "a number")),
        }
    }

    /// Returns the items of a list.
    pub fn as_seq(&self, what: &str) -> Result<&[Node], YamlError> {
        match &self.kind {
            NodeKind::Seq(items) => Ok(items),
            _ => Err(self.type_error(what, "a list")),
        }
    }

    /// Returns a reader over a mapping's entries.
    pub fn as_map<'a>(&'a self, what: &str) -> Result<MapReader<'a>, YamlError> {
        match &self.kind {
            NodeKind::Map(entries) => Ok(MapReader::new(entries, self.span.clone(), what)),
            _ => Err(self.type_error(what, "a mapping")),
        }
    }

    /// Converts the node into JSON, typing plain scalars as YAML 1.2's core
    /// schema does (null, booleans, integers, floats, else strings).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match &self.kind {
            NodeKind::Scalar { text, quoted: true } => Value::String(text.clone()),
            NodeKind::Scalar {
                text,
                quoted: false,
            } => {
                if self.is_null() {
                    Value::Null
                } else if let Ok(b) = self.as_bool("") {
                    Value::Bool(b)
                } else if let Ok(i) = text.parse::<i64>() {
                    Value::from(i)
                } else if let Some(n) = text
                    .parse::<f64>()
                    .ok()
                    .filter(|n| n.is_finite() && looks_numeric(text))
                    .and_then(serde_json::Number::from_f64)
                {
                    Value::Number(n)
                } else {
                    Value::String(text.clone())
                }
            }
            NodeKind::Seq(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            NodeKind::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (key_text(k), v.to_json()))
                    .collect(),
            ),
        }
    }

    fn type_error(&self, what: &str, expected: &str) -> YamlError {
        YamlError::new(
            format!("{what} must be {expected}, found {}", self.type_name()),
            self.span.clone(),
        )
    }
}

fn looks_numeric(text: &str) -> bool {
    text.bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'))
}

fn key_text(key: &Node) -> String {
    match &key.kind {
        NodeKind::Scalar { text, .. } => text.clone(),
        _ => String::new(),
    }
}
