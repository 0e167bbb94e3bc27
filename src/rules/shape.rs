//! The record schema as a type tree, used to reject rule paths that can never
//! match a valid record.
//!
//! A JSONPath query is walked selector by selector over the shapes the schema
//! allows. A name that no shape has is a misspelling or a path into the
//! wrong object, and the rule that contains it would silently never fire.

use std::collections::BTreeMap;

use rsonpath_syntax::{Comparable, LogicalExpr, Segment, Selector, SingularSegment, TestExpr};
use serde_json::Value;

/// What a schema allows at one place in a record.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    Object(BTreeMap<String, Shape>),
    Array(Box<Shape>),
    Scalar(ScalarKind),
}

/// The type of a leaf value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarKind {
    String,
    /// A date or date-time string.
    Date,
    Number,
    Bool,
    Any,
}

impl ScalarKind {
    pub fn describe(self) -> &'static str {
        match self {
            ScalarKind::String => "a string",
            ScalarKind::Date => "a date",
            ScalarKind::Number => "a number",
            ScalarKind::Bool => "a boolean",
            ScalarKind::Any => "a value",
        }
    }
}

impl Shape {
    /// Builds the shape tree of a JSON Schema document, resolving local
    /// `$ref`s into `$defs`.
    pub fn from_schema(schema: &Value) -> Shape {
        build(schema, schema, 0)
    }

    /// A short description for error messages.
    pub fn describe(&self) -> String {
        match self {
            Shape::Object(props) => {
                let names: Vec<&str> = props.keys().map(String::as_str).collect();
                format!("an object with fields {}", names.join(", "))
            }
            Shape::Array(_) => "a list".to_string(),
            Shape::Scalar(kind) => kind.describe().to_string(),
        }
    }

    /// The names of an object's fields; empty for other shapes.
    pub fn field_names(&self) -> Vec<&str> {
        match self {
            Shape::Object(props) => props.keys().map(String::as_str).collect(),
            _ => Vec::new(),
        }
    }
}

fn build(node: &Value, root: &Value, depth: usize) -> Shape {
    if depth > 32 {
        return Shape::Scalar(ScalarKind::Any);
    }
    if let Some(reference) = node.get("$ref").and_then(Value::as_str) {
        if reference.ends_with("/date") || reference.ends_with("/date_time") {
            return Shape::Scalar(ScalarKind::Date);
        }
        let target = reference
            .strip_prefix('#')
            .and_then(|pointer| root.pointer(pointer));
        return match target {
            Some(target) => build(target, root, depth + 1),
            None => Shape::Scalar(ScalarKind::Any),
        };
    }
    if let Some(props) = node.get("properties").and_then(Value::as_object) {
        return Shape::Object(
            props
                .iter()
                .map(|(name, schema)| (name.clone(), build(schema, root, depth + 1)))
                .collect(),
        );
    }
    if let Some(items) = node.get("items") {
        return Shape::Array(Box::new(build(items, root, depth + 1)));
    }
    if node.get("enum").is_some() || node.get("const").is_some() {
        return Shape::Scalar(ScalarKind::String);
    }
    match node.get("type").and_then(Value::as_str) {
        Some("string") => Shape::Scalar(ScalarKind::String),
        Some("number") | Some("integer") => Shape::Scalar(ScalarKind::Number),
        Some("boolean") => Shape::Scalar(ScalarKind::Bool),
        _ => Shape::Scalar(ScalarKind::Any),
    }
}

/// Why a path cannot match any valid record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathMismatch {
    pub message: String,
    pub help: Option<String>,
}

/// Walks `segments` from `start` and returns the shapes the query can reach.
pub fn walk_query<'s>(
    start: &'s Shape,
    record_root: &'s Shape,
    segments: &[Segment],
) -> Result<Vec<&'s Shape>, PathMismatch> {
    let mut current = vec![start];
    for segment in segments {
        let (selectors, descendant) = match segment {
            Segment::Child(s) => (s, false),
            Segment::Descendant(s) => (s, true),
        };
        let candidates: Vec<&Shape> = if descendant {
            current
                .iter()
                .flat_map(|s| self_and_descendants(s))
                .collect::<Vec<_>>()
        } else {
            current.clone()
        };
        let mut next = Vec::new();
        for selector in selectors.iter() {
            for shape in &candidates {
                select(shape, selector, record_root, &mut next)?;
            }
        }
        if next.is_empty() {
            return Err(mismatch_for(&current, selectors.first(), descendant));
        }
        current = next;
    }
    Ok(current)
}

/// Walks a singular query (names and indexes only).
pub fn walk_singular<'s>(
    start: &'s Shape,
    segments: &[SingularSegment],
) -> Result<&'s Shape, PathMismatch> {
    let mut current = start;
    for segment in segments {
        current = match (segment, current) {
            (SingularSegment::Name(name), Shape::Object(props)) => {
                match props.get(name.unquoted()) {
                    Some(shape) => shape,
                    None => return Err(unknown_field(name.unquoted(), current)),
                }
            }
            (SingularSegment::Index(_), Shape::Array(item)) => item,
            (SingularSegment::Name(name), other) => {
                return Err(PathMismatch {
                    message: format!(
                        "`{}` cannot be selected from {}",
                        name.unquoted(),
                        other.describe()
                    ),
                    help: None,
                })
            }
            (SingularSegment::Index(_), other) => {
                return Err(PathMismatch {
                    message: format!("an index cannot select from {}", other.describe()),
                    help: None,
                })
            }
        };
    }
    Ok(current)
}

fn select<'s>(
    shape: &'s Shape,
    selector: &Selector,
    record_root: &'s Shape,
    out: &mut Vec<&'s Shape>,
) -> Result<(), PathMismatch> {
    match (selector, shape) {
        (Selector::Name(name), Shape::Object(props)) => {
            if let Some(child) = props.get(name.unquoted()) {
                out.push(child);
            }
        }
        (Selector::Wildcard, Shape::Object(props)) => out.extend(props.values()),
        (Selector::Wildcard | Selector::Index(_) | Selector::Slice(_), Shape::Array(item)) => {
            out.push(item)
        }
        (Selector::Filter(expr), Shape::Array(item)) => {
            check_filter(expr, item, record_root)?;
            out.push(item);
        }
        (Selector::Filter(expr), Shape::Object(props)) => {
            for child in props.values() {
                if check_filter(expr, child, record_root).is_ok() {
                    out.push(child);
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// Checks that every query inside a filter expression can match.
fn check_filter(expr: &LogicalExpr, item: &Shape, record_root: &Shape) -> Result<(), PathMismatch> {
    match expr {
        LogicalExpr::Or(a, b) | LogicalExpr::And(a, b) => {
            check_filter(a, item, record_root)?;
            check_filter(b, item, record_root)
        }
        LogicalExpr::Not(inner) => check_filter(inner, item, record_root),
        LogicalExpr::Test(TestExpr::Relative(query)) => {
            walk_query(item, record_root, query.segments()).map(|_| ())
        }
        LogicalExpr::Test(TestExpr::Absolute(query)) => {
            walk_query(record_root, record_root, query.segments()).map(|_| ())
        }
        LogicalExpr::Comparison(comparison) => {
            for side in [comparison.lhs(), comparison.rhs()] {
                match side {
                    Comparable::RelativeSingularQuery(q) => {
                        let segments: Vec<SingularSegment> = q.segments().cloned().collect();
                        walk_singular(item, &segments)?;
                    }
                    Comparable::AbsoluteSingularQuery(q) => {
                        let segments: Vec<SingularSegment> = q.segments().cloned().collect();
                        walk_singular(record_root, &segments)?;
                    }
                    Comparable::Literal(_) => {}
                }
            }
            Ok(())
        }
    }
}

fn self_and_descendants(shape: &Shape) -> Vec<&Shape> {
    let mut out = vec![shape];
    let mut index = 0;
    while index < out.len() {
        match out[index] {
            Shape::Object(props) => out.extend(props.values()),
            Shape::Array(item) => out.push(item),
            Shape::Scalar(_) => {}
        }
        index += 1;
    }
    out
}

fn mismatch_for(current: &[&Shape], selector: &Selector, descendant: bool) -> PathMismatch {
    if let (Selector::Name(name), false) = (selector, descendant) {
        if let Some(object) = current.iter().find(|s| matches!(s, Shape::Object(_))) {
            return unknown_field(name.unquoted(), object);
        }
    }
    let found: Vec<String> = current.iter().map(|s| s.describe()).collect();
    PathMismatch {
        message: format!(
            "the selector {} can never match here: the record has {}",
            selector,
            found.join(" or ")
        ),
        help: None,
    }
}

fn unknown_field(name: &str, object: &Shape) -> PathMismatch {
    let names = object.field_names();
    let help = match crate::yaml::suggest(name, &names) {
        Some(near) => format!("did you mean `{near}`?"),
        None => format!("the fields here are: {}", names.join(", ")),
    };
    PathMismatch {
        message: format!("`{name}` is not a field of the encounter record here"),
        help: Some(help),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::RecordSchema;

    fn record_shape() -> Shape {
        Shape::from_schema(RecordSchema::new().document())
    }

    fn walk(path: &str) -> Result<usize, PathMismatch> {
        let shape = record_shape();
        let query = rsonpath_syntax::parse(path).expect("valid JSONPath");
        walk_query(&shape, &shape, query.segments()).map(|shapes| shapes.len())
    }

    #[test]
    fn valid_paths_reach_a_shape() {
        assert_eq!(walk("$.audit_trail[*]"), Ok(1));
        assert_eq!(walk("$.notes[?@.author.role == 'RN'].text"), Ok(1));
        assert!(walk("$..signed_at").is_ok());
    }

    #[test]
    fn misspelled_field_is_reported_with_suggestion() {
        let error = walk("$.audit_trial[*]").unwrap_err();
        assert_eq!(
            error.message,
            "`audit_trial` is not a field of the encounter record here"
        );
        assert_eq!(error.help.as_deref(), Some("did you mean `audit_trail`?"));
    }

    #[test]
    fn misspelled_field_inside_filter_is_reported() {
        let error = walk("$.notes[?@.autor.role == 'RN']").unwrap_err();
        assert!(error.message.contains("`autor`"));
    }

    #[test]
    fn index_into_object_never_matches() {
        assert!(walk("$.patient[0]").is_err());
    }

    #[test]
    fn date_fields_are_typed() {
        let shape = record_shape();
        let query = rsonpath_syntax::parse("$.encounter.date_of_service").unwrap();
        let reached = walk_query(&shape, &shape, query.segments()).unwrap();
        assert_eq!(reached, vec![&Shape::Scalar(ScalarKind::Date)]);
    }
}
