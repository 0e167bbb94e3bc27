//! Compiles the evidence language from YAML, checking each operator, regex,
//! literal and path as it goes.

use regex::RegexBuilder;
use serde_json::Value;

use super::path::{compile_field, compile_selection, ShapeScope};
use crate::rules::condition::{
    Aggregate, Bound, Comparison, CondNode, Condition, DateOrder, Direction, EvidenceFields,
    FieldPath, FieldTest, Quantity, Window,
};
use crate::rules::shape::{ScalarKind, Shape};
use crate::yaml::{suggest, Node, NodeKind, YamlError};

/// Largest compiled regex program accepted, in bytes; a pattern over this is
/// rejected rather than slowing every record.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

const OPERATORS: &[&str] = &["all", "any", "not", "if", "exists", "count", "sum", "field"];
const FIELD_TESTS: &[&str] = &[
    "equals",
    "one_of",
    "matches",
    "present",
    "equals_field",
    "within",
    "before",
    "after",
    "on_or_before",
    "on_or_after",
    "at_least",
    "at_most",
    "greater_than",
    "less_than",
];

/// Compiles a condition; errors are pushed to `errors` and the result is
/// `None` when this condition could not be compiled.
pub fn compile_condition(
    node: &Node,
    scope: ShapeScope<'_>,
    errors: &mut Vec<YamlError>,
) -> Option<CondNode> {
    let mut map = match node.as_map("a condition") {
        Ok(map) => map,
        Err(error) => {
            errors.push(error);
            return None;
        }
    };
    let label = match map.optional("label").map(|n| n.as_str("label")) {
        Some(Ok(text)) => Some(text.to_string()),
        Some(Err(error)) => {
            errors.push(error);
            None
        }
        None => None,
    };

    let present: Vec<&'static str> = OPERATORS
        .iter()
        .copied()
        .filter(|op| map.key_span(op).is_some())
        .collect();
    let condition = match present.as_slice() {
        [] => {
            report_missing_operator(node, errors);
            return None;
        }
        [op] => compile_operator(op, &mut map, scope, errors),
        [_, second, ..] => {
            let span = map.key_span(second).unwrap_or(node.span.clone());
            errors.push(
                YamlError::new(
                    format!(
                        "a condition has exactly one operator, found {}",
                        present.join(" and ")
                    ),
                    span,
                )
                .with_help("wrap several conditions in `all:` or `any:`"),
            );
            return None;
        }
    };
    errors.extend(map.finish());
    condition.map(|condition| CondNode { label, condition })
}

fn report_missing_operator(node: &Node, errors: &mut Vec<YamlError>) {
    let NodeKind::Map(entries) = &node.kind else {
        return;
    };
    // A misspelled operator is the likely cause: name the closest one.
    let mut candidates: Vec<&str> = OPERATORS.to_vec();
    candidates.push("label");
    for (key, _) in entries {
        let Ok(name) = key.as_str("key") else {
            continue;
        };
        if name == "then" {
            errors.push(
                YamlError::new(
                    "`then` needs an `if` in the same condition",
                    key.span.clone(),
                )
                .with_help("write `if: CONDITION` beside `then: CONDITION`"),
            );
            return;
        }
        if candidates.contains(&name) {
            continue;
        }
        let help = match suggest(name, OPERATORS) {
            Some(near) => format!("did you mean `{near}`?"),
            None => format!("the operators are: {}", OPERATORS.join(", ")),
        };
        errors.push(
            YamlError::new(format!("unknown operator `{name}`"), key.span.clone()).with_help(help),
        );
        return;
    }
    errors.push(
        YamlError::new("the condition has no operator", node.span.clone())
            .with_help(format!("use one of: {}", OPERATORS.join(", "))),
    );
}

fn compile_operator(
    op: &str,
    map: &mut crate::yaml::MapReader<'_>,
    scope: ShapeScope<'_>,
    errors: &mut Vec<YamlError>,
) -> Option<Condition> {
    match op {
        "all" | "any" => {
            let key = if op == "all" { "all" } else { "any" };
            let node = map.optional(key)?;
            let items = node.as_seq(key).map_err(|e| errors.push(e)).ok()?;
            if items.is_empty() {
                errors.push(YamlError::new(
                    format!("`{key}` needs at least one condition"),
                    node.span.clone(),
                ));
                return None;
            }
            let compiled: Vec<Option<CondNode>> = items
                .iter()
                .map(|item| compile_condition(item, scope, errors))
                .collect();
            let compiled: Option<Vec<CondNode>> = compiled.into_iter().collect();
            let compiled = compiled?;
            Some(if key == "all" {
                Condition::All(compiled)
            } else {
                Condition::Any(compiled)
            })
        }
        "not" => {
            let node = map.optional("not")?;
            let inner = compile_condition(node, scope, errors)?;
            Some(Condition::Not(Box::new(inner)))
        }
        "if" => {
            let condition = map
                .optional("if")
                .and_then(|node| compile_condition(node, scope, errors));
            let then = match map.required("then") {
                Ok(node) => compile_condition(node, scope, errors),
                Err(error) => {
                    errors.push(error);
                    None
                }
            };
            Some(Condition::Implies {
                condition: Box::new(condition?),
                then: Box::new(then?),
            })
        }
        "exists" | "count" | "sum" => {
            let key = match op {
                "exists" => "exists",
                "count" => "count",
                _ => "sum",
            };
            let node = map.optional(key)?;
            compile_selection_condition(key, node, scope, errors)
        }
        _ => compile_field_condition(map, scope, errors),
    }
}

fn compile_selection_condition(
    op: &'static str,
    node: &Node,
    scope: ShapeScope<'_>,
    errors: &mut Vec<YamlError>,
) -> Option<Condition> {
    let mut map = node
        .as_map(&format!("`{op}`"))
        .map_err(|e| errors.push(e))
        .ok()?;
    let select_node = map.required("select").map_err(|e| errors.push(e)).ok()?;
    let (select, item_shape) = compile_selection(select_node, scope)
        .map_err(|e| errors.push(e))
        .ok()?;
    let item_scope = ShapeScope {
        root: scope.root,
        item: &item_shape,
    };
    let filter = match map.optional("where") {
        Some(where_node) => Some(Box::new(compile_condition(where_node, item_scope, errors)?)),
        None => None,
    };

    // A computed limit is evaluated where the condition is, not per item.
    let mut bounds = Vec::new();
    for (key, comparison) in BOUND_KEYS {
        if op == "exists" {
            break;
        }
        if let Some(value) = map.optional(key) {
            if let Some(limit) = compile_quantity(value, scope, errors) {
                bounds.push(Bound { comparison, limit });
            }
        }
    }

    let condition = match op {
        "exists" => Condition::Count {
            select,
            filter,
            bounds: vec![Bound::number(Comparison::AtLeast, 1.0)],
            evidence: compile_evidence_fields(&mut map, item_scope, errors),
        },
        "count" => {
            if bounds.is_empty() {
                errors.push(
                    YamlError::new("`count` needs a bound", node.span.clone())
                        .with_help("add `at_least`, `at_most`, `greater_than` or `less_than`"),
                );
                return None;
            }
            Condition::Count {
                select,
                filter,
                bounds,
                evidence: compile_evidence_fields(&mut map, item_scope, errors),
            }
        }
        _ => {
            let of_node = map.required("of").map_err(|e| errors.push(e)).ok()?;
            let (of, of_shape) = compile_field(of_node, item_scope)
                .map_err(|e| errors.push(e))
                .ok()?;
            expect_kind(
                of_node,
                &of,
                &of_shape,
                &[ScalarKind::Number],
                "`sum`",
                errors,
            );
            let default = compile_default(&mut map, errors);
            if bounds.is_empty() {
                errors.push(
                    YamlError::new("`sum` needs a bound", node.span.clone())
                        .with_help("add `at_least`, `at_most`, `greater_than` or `less_than`"),
                );
                return None;
            }
            Condition::Sum {
                select,
                filter,
                of,
                default,
                bounds,
            }
        }
    };
    errors.extend(map.finish());
    Some(condition)
}

const BOUND_KEYS: [(&str, Comparison); 4] = [
    ("at_least", Comparison::AtLeast),
    ("at_most", Comparison::AtMost),
    ("greater_than", Comparison::GreaterThan),
    ("less_than", Comparison::LessThan),
];

const AGGREGATES: &[&str] = &["sum", "count", "field"];

/// Compiles a limit: a number, or a mapping with one of `sum`, `count` or
/// `field` and optional `times` and `plus`, e.g.
/// `{ sum: { select: …, of: units, default: 1 }, times: 20, plus: 20 }`.
fn compile_quantity(
    node: &Node,
    scope: ShapeScope<'_>,
    errors: &mut Vec<YamlError>,
) -> Option<Quantity> {
    if !matches!(node.kind, NodeKind::Map(_)) {
        return node
            .as_f64("a limit")
            .map(Quantity::Number)
            .map_err(|e| errors.push(e))
            .ok();
    }
    let mut map = node.as_map("a computed limit").ok()?;
    let present: Vec<&str> = AGGREGATES
        .iter()
        .copied()
        .filter(|k| map.key_span(k).is_some())
        .collect();
    let base = match present.as_slice() {
        ["field"] => {
            let field_node = map.optional("field")?;
            let (field, shape) = compile_field(field_node, scope)
                .map_err(|e| errors.push(e))
                .ok()?;
            expect_kind(
                field_node,
                &field,
                &shape,
                &[ScalarKind::Number],
                "a computed limit",
                errors,
            );
            Aggregate::Field(field)
        }
        [key @ ("sum" | "count")] => {
            let inner = map.optional(key)?;
            compile_aggregate(key, inner, scope, errors)?
        }
        _ => {
            errors.push(
                YamlError::new(
                    "a computed limit needs exactly one of `sum`, `count` or `field`",
                    node.span.clone(),
                )
                .with_help(
                    "e.g. `at_least: { sum: { select: …, of: units }, times: 20, plus: 20 }`",
                ),
            );
            return None;
        }
    };
    let mut number = |key: &'static str, default: f64| match map.optional(key) {
        Some(node) => node.as_f64(key).map_err(|e| errors.push(e)).ok(),
        None => Some(default),
    };
    let times = number("times", 1.0);
    let plus = number("plus", 0.0);
    errors.extend(map.finish());
    Some(Quantity::Computed {
        base: Box::new(base),
        times: times?,
        plus: plus?,
    })
}

/// Compiles the `sum` or `count` of a computed limit.
fn compile_aggregate(
    key: &str,
    node: &Node,
    scope: ShapeScope<'_>,
    errors: &mut Vec<YamlError>,
) -> Option<Aggregate> {
    let mut map = node
        .as_map(&format!("`{key}`"))
        .map_err(|e| errors.push(e))
        .ok()?;
    let select_node = map.required("select").map_err(|e| errors.push(e)).ok()?;
    let (select, item_shape) = compile_selection(select_node, scope)
        .map_err(|e| errors.push(e))
        .ok()?;
    let item_scope = ShapeScope {
        root: scope.root,
        item: &item_shape,
    };
    let filter = match map.optional("where") {
        Some(where_node) => Some(Box::new(compile_condition(where_node, item_scope, errors)?)),
        None => None,
    };
    let aggregate = if key == "sum" {
        let of_node = map.required("of").map_err(|e| errors.push(e)).ok()?;
        let (of, of_shape) = compile_field(of_node, item_scope)
            .map_err(|e| errors.push(e))
            .ok()?;
        expect_kind(
            of_node,
            &of,
            &of_shape,
            &[ScalarKind::Number],
            "`sum`",
            errors,
        );
        let default = compile_default(&mut map, errors);
        Aggregate::Sum {
            select,
            filter,
            of,
            default,
        }
    } else {
        Aggregate::Count { select, filter }
    };
    errors.extend(map.finish());
    Some(aggregate)
}

/// Reads a sum's `default`: the value of an item whose `of` field is missing.
fn compile_default(
    map: &mut crate::yaml::MapReader<'_>,
    errors: &mut Vec<YamlError>,
) -> Option<f64> {
    map.optional("default")?
        .as_f64("default")
        .map_err(|e| errors.push(e))
        .ok()
}

fn compile_evidence_fields(
    map: &mut crate::yaml::MapReader<'_>,
    item_scope: ShapeScope<'_>,
    errors: &mut Vec<YamlError>,
) -> EvidenceFields {
    let mut fields = EvidenceFields {
        id: None,
        date: None,
        author: None,
    };
    let Some(node) = map.optional("evidence") else {
        return fields;
    };
    let Ok(mut evidence) = node.as_map("`evidence`").map_err(|e| errors.push(e)) else {
        return fields;
    };
    let mut read = |key: &'static str| -> Option<FieldPath> {
        let node = evidence.optional(key)?;
        compile_field(node, item_scope)
            .map(|(f, _)| f)
            .map_err(|e| errors.push(e))
            .ok()
    };
    fields.id = read("id");
    fields.date = read("date");
    fields.author = read("author");
    errors.extend(evidence.finish());
    fields
}

fn compile_field_condition(
    map: &mut crate::yaml::MapReader<'_>,
    scope: ShapeScope<'_>,
    errors: &mut Vec<YamlError>,
) -> Option<Condition> {
    let field_node = map.optional("field")?;
    let (field, shape) = match compile_field(field_node, scope) {
        Ok(compiled) => compiled,
        Err(error) => {
            errors.push(error);
            // The test keys are valid; only the path is wrong.
            for key in FIELD_TESTS.iter().chain(["ignore_case"].iter()) {
                map.optional(key);
            }
            return None;
        }
    };

    let tests: Vec<&'static str> = FIELD_TESTS
        .iter()
        .copied()
        .filter(|t| map.key_span(t).is_some())
        .collect();
    let test_name = match tests.as_slice() {
        [one] => *one,
        [] => {
            // A misspelled test is reported by `finish` with a suggestion;
            // without one, say that the test is missing.
            for key in FIELD_TESTS.iter().chain(["label", "ignore_case"].iter()) {
                map.optional(key);
            }
            if !map.has_unread() {
                errors.push(
                    YamlError::new(
                        format!("field `{}` has no test", field.text),
                        field_node.span.clone(),
                    )
                    .with_help(format!("add one of: {}", FIELD_TESTS.join(", "))),
                );
            }
            return None;
        }
        [_, second, ..] => {
            let span = map.key_span(second).unwrap_or(field_node.span.clone());
            errors.push(
                YamlError::new(
                    format!(
                        "a field condition has exactly one test, found {}",
                        tests.join(" and ")
                    ),
                    span,
                )
                .with_help("wrap several tests of the same field in `all:`"),
            );
            return None;
        }
    };
    let arg = map.optional(test_name)?;
    let ignore_case = match map.optional("ignore_case") {
        Some(node) if test_name == "equals_field" => node
            .as_bool("ignore_case")
            .map_err(|e| errors.push(e))
            .ok()?,
        Some(node) => {
            errors.push(
                YamlError::new(
                    "`ignore_case` only applies to `equals_field`",
                    node.span.clone(),
                )
                .with_help("`matches` is always case-insensitive"),
            );
            return None;
        }
        None => false,
    };

    let test = match test_name {
        "equals" => FieldTest::Equals(literal_for(arg, &shape)),
        "one_of" => {
            let items = arg.as_seq("one_of").map_err(|e| errors.push(e)).ok()?;
            if items.is_empty() {
                errors.push(YamlError::new(
                    "`one_of` needs at least one value",
                    arg.span.clone(),
                ));
                return None;
            }
            FieldTest::OneOf(items.iter().map(|i| literal_for(i, &shape)).collect())
        }
        "matches" => {
            expect_kind(
                field_node,
                &field,
                &shape,
                &[ScalarKind::String, ScalarKind::Date],
                "`matches`",
                errors,
            );
            let pattern = arg.as_str("matches").map_err(|e| errors.push(e)).ok()?;
            let regex = RegexBuilder::new(pattern)
                .case_insensitive(true)
                .size_limit(REGEX_SIZE_LIMIT)
                .build()
                .map_err(|e| {
                    let detail = e.to_string();
                    let summary = detail.lines().last().unwrap_or(&detail).trim();
                    let summary = summary.strip_prefix("error: ").unwrap_or(summary).to_string();
                    let help = match e {
                        regex::Error::CompiledTooBig(_) => {
                            "simplify the regex: use fewer or smaller counted repetitions such as `{1000}`"
                        }
                        _ => "fix the regex; the syntax is that of the Rust regex crate",
                    };
                    errors.push(YamlError::new(format!("invalid regex: {summary}"), arg.span.clone()).with_help(help))
                })
                .ok()?;
            FieldTest::Matches {
                regex,
                pattern: pattern.to_string(),
            }
        }
        "present" => FieldTest::Present(arg.as_bool("present").map_err(|e| errors.push(e)).ok()?),
        "equals_field" => {
            let (other, _) = compile_field(arg, scope).map_err(|e| errors.push(e)).ok()?;
            FieldTest::EqualsField { other, ignore_case }
        }
        "within" => {
            expect_kind(
                field_node,
                &field,
                &shape,
                &[ScalarKind::Date],
                "`within`",
                errors,
            );
            let (of, window) = compile_window(arg, scope, errors)?;
            FieldTest::Within { of, window }
        }
        "before" | "after" | "on_or_before" | "on_or_after" => {
            expect_kind(
                field_node,
                &field,
                &shape,
                &[ScalarKind::Date],
                &format!("`{test_name}`"),
                errors,
            );
            let (other, other_shape) =
                compile_field(arg, scope).map_err(|e| errors.push(e)).ok()?;
            expect_kind(
                arg,
                &other,
                &other_shape,
                &[ScalarKind::Date],
                &format!("`{test_name}`"),
                errors,
            );
            let order = match test_name {
                "before" => DateOrder::Before,
                "after" => DateOrder::After,
                "on_or_before" => DateOrder::OnOrBefore,
                _ => DateOrder::OnOrAfter,
            };
            FieldTest::Order { other, order }
        }
        _ => {
            expect_kind(
                field_node,
                &field,
                &shape,
                &[ScalarKind::Number],
                &format!("`{test_name}`"),
                errors,
            );
            let comparison = BOUND_KEYS
                .iter()
                .find(|(k, _)| *k == test_name)
                .map(|(_, c)| *c)?;
            let limit = compile_quantity(arg, scope, errors)?;
            FieldTest::Compare(Bound { comparison, limit })
        }
    };
    Some(Condition::Field { field, test })
}

fn compile_window(
    node: &Node,
    scope: ShapeScope<'_>,
    errors: &mut Vec<YamlError>,
) -> Option<(FieldPath, Window)> {
    let mut map = node.as_map("`within`").map_err(|e| errors.push(e)).ok()?;
    let of_node = map.required("of").map_err(|e| errors.push(e)).ok()?;
    let (of, of_shape) = compile_field(of_node, scope)
        .map_err(|e| errors.push(e))
        .ok()?;
    expect_kind(
        of_node,
        &of,
        &of_shape,
        &[ScalarKind::Date],
        "`within`",
        errors,
    );
    let window_node = map.required("window").map_err(|e| errors.push(e)).ok()?;
    let window_text = window_node
        .as_str("window")
        .map_err(|e| errors.push(e))
        .ok()?;
    let direction = match map.optional("direction") {
        None => Direction::After,
        Some(d) => match d.as_str("direction") {
            Ok("after") => Direction::After,
            Ok("before") => Direction::Before,
            Ok("around") => Direction::Around,
            Ok(other) => {
                errors.push(
                    YamlError::new(format!("unknown direction `{other}`"), d.span.clone())
                        .with_help("use after, before or around"),
                );
                return None;
            }
            Err(e) => {
                errors.push(e);
                return None;
            }
        },
    };
    let window = match parse_window(window_text, direction) {
        Some(window) => window,
        None => {
            errors.push(
                YamlError::new(format!("invalid window `{window_text}`"), window_node.span.clone())
                    .with_help("use same-day, same-month, `N days`, `N business days`, `N months` or `N years`"),
            );
            return None;
        }
    };
    errors.extend(map.finish());
    Some((of, window))
}

/// Parses `same-day`, `same-month`, `N days`, `N business days`, `N months`
/// or `N years`.
fn parse_window(text: &str, direction: Direction) -> Option<Window> {
    match text.trim() {
        "same-day" => return Some(Window::SameDay),
        "same-month" => return Some(Window::SameMonth),
        _ => {}
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    let count: u32 = words.first()?.parse().ok()?;
    match words[1..] {
        ["day"] | ["days"] => Some(Window::Days {
            days: count,
            direction,
        }),
        ["business", "day"] | ["business", "days"] => Some(Window::BusinessDays {
            days: count,
            direction,
        }),
        ["month"] | ["months"] => Some(Window::Months {
            months: count,
            direction,
        }),
        ["year"] | ["years"] => Some(Window::Years {
            years: count,
            direction,
        }),
        _ => None,
    }
}

/// Converts a YAML literal to the JSON value a field holds. A plain scalar
/// compared with a string field stays a string, so `one_of: [99490]` matches
/// the CPT code `"99490"` as written.
fn literal_for(node: &Node, shape: &Shape) -> Value {
    match (&node.kind, shape) {
        (NodeKind::Scalar { text, .. }, Shape::Scalar(ScalarKind::String | ScalarKind::Date))
            if !node.is_null() =>
        {
            Value::String(text.clone())
        }
        _ => node.to_json(),
    }
}

fn expect_kind(
    node: &Node,
    field: &FieldPath,
    shape: &Shape,
    kinds: &[ScalarKind],
    op: &str,
    errors: &mut Vec<YamlError>,
) {
    match shape {
        Shape::Scalar(ScalarKind::Any) => {}
        Shape::Scalar(kind) if kinds.contains(kind) => {}
        other => {
            let wanted: Vec<&str> = kinds.iter().map(|k| k.describe()).collect();
            errors.push(YamlError::new(
                format!(
                    "{op} needs {}, but `{}` is {} in the record schema",
                    wanted.join(" or "),
                    field.text,
                    other.describe()
                ),
                node.span.clone(),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_parse() {
        assert_eq!(
            parse_window("same-day", Direction::After),
            Some(Window::SameDay)
        );
        assert_eq!(
            parse_window("4 business days", Direction::After),
            Some(Window::BusinessDays {
                days: 4,
                direction: Direction::After
            })
        );
        assert_eq!(
            parse_window("1 day", Direction::Around),
            Some(Window::Days {
                days: 1,
                direction: Direction::Around
            })
        );
        assert_eq!(
            parse_window("1 year", Direction::Before),
            Some(Window::Years {
                years: 1,
                direction: Direction::Before
            })
        );
        assert_eq!(
            parse_window("3 months", Direction::After),
            Some(Window::Months {
                months: 3,
                direction: Direction::After
            })
        );
        assert_eq!(parse_window("four days", Direction::After), None);
        assert_eq!(parse_window("3 weeks", Direction::After), None);
    }
}
