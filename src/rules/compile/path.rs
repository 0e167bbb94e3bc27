//! Compiles and statically checks the paths written in rule files.

use rsonpath_syntax::{Index, Segment, Selector, SingularSegment};
use serde_json_path::JsonPath;

use crate::rules::condition::{FieldPath, PathToken, Scope, SelectStep, Selection};
use crate::rules::shape::{walk_query, walk_singular, PathMismatch, Shape};
use crate::yaml::{Node, YamlError};

/// The shapes a path is checked against: the record root, and the current
/// item (the record itself at the top level of a rule).
#[derive(Clone, Copy)]
pub struct ShapeScope<'s> {
    pub root: &'s Shape,
    pub item: &'s Shape,
}

/// Splits the scope marker off a path and rewrites it as an RFC 9535 query
/// rooted at `$`, which both JSONPath crates accept.
fn normalize(text: &str) -> Result<(Scope, String), String> {
    let trimmed = text.trim();
    if trimmed.starts_with('$') {
        return Ok((Scope::Record, trimmed.to_string()));
    }
    if let Some(rest) = trimmed.strip_prefix('@') {
        return Ok((Scope::Item, format!("${rest}")));
    }
    let is_dotted = !trimmed.is_empty()
        && trimmed.split('.').all(|part| {
            !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        });
    if is_dotted {
        return Ok((Scope::Item, format!("$.{trimmed}")));
    }
    Err(format!(
        "`{trimmed}` is not a path: start it with `$` (the record) or `@` (the current item), \
         or write dotted field names such as `author.role`"
    ))
}

fn parse_both(query: &str) -> Result<(JsonPath, rsonpath_syntax::JsonPathQuery), String> {
    let compiled =
        JsonPath::parse(query).map_err(|e| format!("invalid JSONPath `{query}`: {e}"))?;
    let syntax = rsonpath_syntax::parse(query).map_err(|e| {
        let detail = e.to_string();
        if query.contains('(') {
            format!(
                "JSONPath function extensions cannot be checked against the record schema and \
                 are not supported in rule paths (`{query}`); use a `where` condition instead"
            )
        } else {
            format!(
                "invalid JSONPath `{query}`: {}",
                detail.lines().next().unwrap_or_default()
            )
        }
    })?;
    Ok((compiled, syntax))
}

fn mismatch_error(node: &Node, text: &str, mismatch: PathMismatch) -> YamlError {
    let mut error = YamlError::new(
        format!(
            "path `{text}` can never match a valid record: {}",
            mismatch.message
        ),
        node.span.clone(),
    );
    error.help = mismatch.help;
    error
}

/// Compiles a `select` query and returns it with the shape of the items it
/// selects (or `Any` when the query reaches several different shapes).
pub fn compile_selection(
    node: &Node,
    scope: ShapeScope<'_>,
) -> Result<(Selection, Shape), YamlError> {
    let text = node.as_str("select")?;
    let (path_scope, query) =
        normalize(text).map_err(|message| YamlError::new(message, node.span.clone()))?;
    let (compiled, syntax) =
        parse_both(&query).map_err(|message| YamlError::new(message, node.span.clone()))?;
    let start = match path_scope {
        Scope::Record => scope.root,
        Scope::Item => scope.item,
    };
    let anchor: Vec<PathToken> = syntax
        .segments()
        .iter()
        .map_while(|segment| match segment {
            Segment::Child(selectors) if selectors.len() == 1 => match &selectors[0] {
                Selector::Name(name) => Some(PathToken::Name(name.unquoted().to_string())),
                _ => None,
            },
            _ => None,
        })
        .collect();
    let selection = Selection {
        text: text.to_string(),
        scope: path_scope,
        query: compiled,
        anchor,
        steps: select_steps(syntax.segments()),
    };
    if is_unknown(start) {
        return Ok((selection, any_shape()));
    }
    let reached = walk_query(start, scope.root, syntax.segments())
        .map_err(|m| mismatch_error(node, text, m))?;
    let item_shape = match reached.as_slice() {
        [one] => (*one).clone(),
        _ => any_shape(),
    };
    Ok((selection, item_shape))
}

/// Returns the segments as plain steps when each one is a child segment
/// with a single name or wildcard selector; `None` for any other query.
pub(crate) fn select_steps(segments: &[Segment]) -> Option<Vec<SelectStep>> {
    segments
        .iter()
        .map(|segment| match segment {
            Segment::Child(selectors) if selectors.len() == 1 => match &selectors[0] {
                Selector::Name(name) => Some(SelectStep::Name(name.unquoted().to_string())),
                Selector::Wildcard => Some(SelectStep::Wildcard),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// Compiles a field path, which must be singular, and returns the shape of
/// the value it names.
pub fn compile_field(node: &Node, scope: ShapeScope<'_>) -> Result<(FieldPath, Shape), YamlError> {
    let text = node.as_str("a field path")?;
    let (path_scope, query) =
        normalize(text).map_err(|message| YamlError::new(message, node.span.clone()))?;
    let (_, syntax) =
        parse_both(&query).map_err(|message| YamlError::new(message, node.span.clone()))?;

    let mut tokens = Vec::new();
    let mut singular = Vec::new();
    for segment in syntax.segments() {
        let selector = match segment {
            Segment::Child(selectors) if selectors.len() == 1 => &selectors[0],
            _ => return Err(not_singular(node, text)),
        };
        match selector {
            Selector::Name(name) => {
                tokens.push(PathToken::Name(name.unquoted().to_string()));
                singular.push(SingularSegment::Name(name.clone()));
            }
            Selector::Index(index) => {
                let value = match index {
                    Index::FromStart(n) => i64::try_from(n.as_u64()).unwrap_or(i64::MAX),
                    Index::FromEnd(n) => -(i64::try_from(n.as_u64()).unwrap_or(i64::MAX)),
                };
                tokens.push(PathToken::Index(value));
                singular.push(SingularSegment::Index(*index));
            }
            _ => return Err(not_singular(node, text)),
        }
    }

    let field = FieldPath {
        text: text.to_string(),
        scope: path_scope,
        tokens,
    };
    let start = match path_scope {
        Scope::Record => scope.root,
        Scope::Item => scope.item,
    };
    if is_unknown(start) {
        return Ok((field, any_shape()));
    }
    let shape = walk_singular(start, &singular).map_err(|m| mismatch_error(node, text, m))?;
    Ok((field, shape.clone()))
}

fn not_singular(node: &Node, text: &str) -> YamlError {
    YamlError::new(
        format!("`{text}` must name a single field: use names and indexes only"),
        node.span.clone(),
    )
    .with_help("to test several items, select them with `exists`, `count` or `sum` and test each with `where`")
}

fn any_shape() -> Shape {
    Shape::Scalar(crate::rules::shape::ScalarKind::Any)
}

fn is_unknown(shape: &Shape) -> bool {
    matches!(shape, Shape::Scalar(crate::rules::shape::ScalarKind::Any))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::RecordSchema;
    use crate::yaml::{parse, ParseLimits};

    fn scalar(text: &str) -> Node {
        parse(&format!("'{text}'"), ParseLimits::default()).unwrap()
    }

    #[test]
    fn dotted_field_is_item_scoped() {
        let shape = Shape::from_schema(RecordSchema::new().document());
        let scope = ShapeScope {
            root: &shape,
            item: &shape,
        };
        let (field, _) = compile_field(&scalar("encounter.date_of_service"), scope).unwrap();
        assert_eq!(field.scope, Scope::Item);
        assert_eq!(field.pointer_suffix(), "/encounter/date_of_service");
    }

    #[test]
    fn wildcard_field_is_rejected() {
        let shape = Shape::from_schema(RecordSchema::new().document());
        let scope = ShapeScope {
            root: &shape,
            item: &shape,
        };
        let error = compile_field(&scalar("$.notes[*].text"), scope).unwrap_err();
        assert!(error.message.contains("must name a single field"));
    }

    #[test]
    fn unparsable_query_is_rejected() {
        let shape = Shape::from_schema(RecordSchema::new().document());
        let scope = ShapeScope {
            root: &shape,
            item: &shape,
        };
        let error = compile_selection(&scalar("$.notes[*"), scope).unwrap_err();
        assert!(
            error.message.starts_with("invalid JSONPath"),
            "{}",
            error.message
        );
    }

    #[test]
    fn selection_returns_item_shape() {
        let shape = Shape::from_schema(RecordSchema::new().document());
        let scope = ShapeScope {
            root: &shape,
            item: &shape,
        };
        let (_, item) = compile_selection(&scalar("$.notes[*]"), scope).unwrap();
        assert!(item.field_names().contains(&"signed_at"));
    }
}
