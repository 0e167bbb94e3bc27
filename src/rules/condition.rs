//! The compiled evidence language: conditions, field tests and paths.
//!
//! A condition is evaluated against the record root and a current item
//! (the record itself at the top level, or each item chosen by a `select`).
//! Compilation resolves every path, regex and literal up front, so evaluation
//! cannot fail on rule syntax.

use regex::Regex;
use serde_json::{Map, Value};
use serde_json_path::JsonPath;

/// The largest object whose members [`member`] compares one by one.
const SCANNED_OBJECT_MEMBERS: usize = 8;

/// Returns the member of `map` named `name`.
///
/// `serde_json::Map` hashes the name with SipHash for every lookup. Record
/// objects are small, and comparing a few keys, most of which differ in
/// length, costs less than the hash, so small objects are scanned in order.
// NOTE: the size limit comes from one benchmark of the shipped packs on
// generated records, not from tuning across inputs.
pub fn member<'v>(map: &'v Map<String, Value>, name: &str) -> Option<&'v Value> {
    if map.len() <= SCANNED_OBJECT_MEMBERS {
        map.iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value)
    } else {
        map.get(name)
    }
}

/// Starting node of a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// `$…`: the record root.
    Record,
    /// `@…` or a bare dotted name: the current item.
    Item,
}

/// One step of a singular path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathToken {
    Name(String),
    /// Array index; negative values count from the end.
    Index(i64),
}

/// A path that names at most one node (an RFC 9535 singular query).
#[derive(Debug, Clone)]
pub struct FieldPath {
    /// The path as the rule author wrote it.
    pub text: String,
    pub scope: Scope,
    pub tokens: Vec<PathToken>,
}

impl FieldPath {
    /// Resolves the path in `root` or `item`; also returns the pointer suffix
    /// of the node relative to its scope.
    pub fn resolve<'v>(&self, root: &'v Value, item: &'v Value) -> Option<&'v Value> {
        let mut node = match self.scope {
            Scope::Record => root,
            Scope::Item => item,
        };
        for token in &self.tokens {
            node = match (token, node) {
                (PathToken::Name(name), Value::Object(map)) => member(map, name)?,
                (PathToken::Index(i), Value::Array(items)) => {
                    let index = if *i < 0 {
                        items.len().checked_sub(i.unsigned_abs() as usize)?
                    } else {
                        *i as usize
                    };
                    items.get(index)?
                }
                _ => return None,
            };
        }
        Some(node)
    }

    /// Returns the JSON pointer of this path relative to its scope.
    pub fn pointer_suffix(&self) -> String {
        let mut out = String::new();
        for token in &self.tokens {
            out.push('/');
            match token {
                PathToken::Name(name) => out.push_str(&crate::record::escape_pointer_token(name)),
                PathToken::Index(i) => out.push_str(&i.to_string()),
            }
        }
        out
    }

    /// Returns the last name in the path, used to describe evidence.
    pub fn leaf_name(&self) -> &str {
        self.tokens
            .iter()
            .rev()
            .find_map(|t| match t {
                PathToken::Name(n) => Some(n.as_str()),
                PathToken::Index(_) => None,
            })
            .unwrap_or("value")
    }
}

/// A JSONPath query that selects the items a condition counts.
#[derive(Debug, Clone)]
pub struct Selection {
    /// The query as the rule author wrote it.
    pub text: String,
    pub scope: Scope,
    pub query: JsonPath,
    /// The leading member names of the query (`notes` in `$.notes[*]`),
    /// used to name evidence and to locate "nothing found" misses.
    pub anchor: Vec<PathToken>,
    /// The query as plain steps when it has only member names and
    /// wildcards, such as `$.notes[*]`. Evaluation follows these directly,
    /// which selects the same nodes in the same order as `query` without
    /// building a path for every node.
    pub steps: Option<Vec<SelectStep>>,
}

/// One step of a selection made of member names and wildcards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SelectStep {
    /// `.name` or `['name']`: the member of an object with this name.
    Name(String),
    /// `[*]` or `.*`: every element of an array, or every member value of
    /// an object, in order.
    Wildcard,
}

/// The comparison of a number with a limit (`at_least`, `at_most`,
/// `greater_than`, `less_than`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    AtLeast,
    AtMost,
    GreaterThan,
    LessThan,
}

impl Comparison {
    pub fn holds(self, value: f64, limit: f64) -> bool {
        match self {
            Comparison::AtLeast => value >= limit,
            Comparison::AtMost => value <= limit,
            Comparison::GreaterThan => value > limit,
            Comparison::LessThan => value < limit,
        }
    }

    /// Returns the comparison in words, e.g. `at least`.
    pub fn words(self) -> &'static str {
        match self {
            Comparison::AtLeast => "at least",
            Comparison::AtMost => "at most",
            Comparison::GreaterThan => "more than",
            Comparison::LessThan => "less than",
        }
    }

    /// True for `at_most` and `less_than`, which a value fails by being too
    /// large.
    pub fn is_upper(self) -> bool {
        matches!(self, Comparison::AtMost | Comparison::LessThan)
    }
}

/// A numeric bound: a comparison with a constant or with a limit computed
/// from the record.
#[derive(Debug, Clone)]
pub struct Bound {
    pub comparison: Comparison,
    pub limit: Quantity,
}

impl Bound {
    /// Creates a bound with a constant limit.
    pub fn number(comparison: Comparison, limit: f64) -> Bound {
        Bound {
            comparison,
            limit: Quantity::Number(limit),
        }
    }

    /// True for the bound `exists` uses: at least 1.
    pub fn is_at_least_one(&self) -> bool {
        self.comparison == Comparison::AtLeast
            && matches!(self.limit, Quantity::Number(n) if n == 1.0)
    }

    pub fn describe(&self) -> String {
        format!("{} {}", self.comparison.words(), self.limit.describe())
    }
}

/// A number in a rule: a constant, or `times` × an aggregate of the record
/// `+ plus`, e.g. 20 + 20 × the units of 99439.
#[derive(Debug, Clone)]
pub enum Quantity {
    Number(f64),
    Computed {
        base: Box<Aggregate>,
        times: f64,
        plus: f64,
    },
}

impl Quantity {
    /// True when the limit depends on the record.
    pub fn is_computed(&self) -> bool {
        matches!(self, Quantity::Computed { .. })
    }

    pub fn describe(&self) -> String {
        match self {
            Quantity::Number(n) => format_number(*n),
            Quantity::Computed { base, times, plus } => {
                let scaled = if *times == 1.0 {
                    base.describe()
                } else {
                    format!("{} × {}", format_number(*times), base.describe())
                };
                if *plus == 0.0 {
                    scaled
                } else {
                    format!("{} + {scaled}", format_number(*plus))
                }
            }
        }
    }
}

/// A value computed from the record for a [`Quantity`].
#[derive(Debug, Clone)]
pub enum Aggregate {
    /// The total of `of` over the selected items that meet `filter`; an
    /// item without `of` counts as `default`, or is skipped without one.
    Sum {
        select: Selection,
        filter: Option<Box<CondNode>>,
        of: FieldPath,
        default: Option<f64>,
    },
    /// The number of selected items that meet `filter`.
    Count {
        select: Selection,
        filter: Option<Box<CondNode>>,
    },
    /// A number field.
    Field(FieldPath),
}

impl Aggregate {
    pub fn describe(&self) -> String {
        let filtered = |select: &Selection, filter: &Option<Box<CondNode>>| match filter {
            Some(filter) => format!("{} where {}", select.text, filter.describe()),
            None => select.text.clone(),
        };
        match self {
            Aggregate::Sum {
                select, filter, of, ..
            } => format!("(total {} of {})", of.text, filtered(select, filter)),
            Aggregate::Count { select, filter } => {
                format!("(number of {})", filtered(select, filter))
            }
            Aggregate::Field(field) => field.text.clone(),
        }
    }
}

/// Formats a number without a trailing `.0` for whole values.
pub fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// Side of the reference date that a day window extends to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// From the reference date to N days after it.
    After,
    /// From N days before the reference date to the reference date.
    Before,
    /// N days either side of the reference date.
    Around,
}

/// A date window relative to a reference date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    SameDay,
    SameMonth,
    Days {
        days: u32,
        direction: Direction,
    },
    /// Calendar months; a day missing from the target month moves to its
    /// last day (March 31 minus one month is February 28 or 29).
    Months {
        months: u32,
        direction: Direction,
    },
    /// Calendar years; February 29 moves to February 28.
    Years {
        years: u32,
        direction: Direction,
    },
    /// Monday to Friday; public holidays are not excluded.
    BusinessDays {
        days: u32,
        direction: Direction,
    },
}

/// Relation of a date to another date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateOrder {
    Before,
    After,
    OnOrBefore,
    OnOrAfter,
}

impl DateOrder {
    pub fn describe(self) -> &'static str {
        match self {
            DateOrder::Before => "before",
            DateOrder::After => "after",
            DateOrder::OnOrBefore => "on or before",
            DateOrder::OnOrAfter => "on or after",
        }
    }
}

/// A test on one field's value.
#[derive(Debug, Clone)]
pub enum FieldTest {
    Equals(Value),
    OneOf(Vec<Value>),
    /// Case-insensitive match on NFKC-normalized text.
    Matches {
        regex: Regex,
        pattern: String,
    },
    /// `true`: present and non-empty; `false`: missing, null or empty.
    Present(bool),
    EqualsField {
        other: FieldPath,
        ignore_case: bool,
    },
    Within {
        of: FieldPath,
        window: Window,
    },
    Order {
        other: FieldPath,
        order: DateOrder,
    },
    Compare(Bound),
}

/// Item fields that describe an evidence item in findings and letters.
#[derive(Debug, Clone)]
pub struct EvidenceFields {
    pub id: Option<FieldPath>,
    pub date: Option<FieldPath>,
    pub author: Option<FieldPath>,
}

/// One condition of the evidence language.
#[derive(Debug, Clone)]
pub enum Condition {
    All(Vec<CondNode>),
    Any(Vec<CondNode>),
    Not(Box<CondNode>),
    /// Counts the selected items that meet `filter`.
    Count {
        select: Selection,
        filter: Option<Box<CondNode>>,
        bounds: Vec<Bound>,
        evidence: EvidenceFields,
    },
    /// Sums a field over the selected items that meet `filter`; an item
    /// without the field counts as `default`, or is skipped without one.
    Sum {
        select: Selection,
        filter: Option<Box<CondNode>>,
        of: FieldPath,
        default: Option<f64>,
        bounds: Vec<Bound>,
    },
    /// Holds when `condition` does not hold, or when `then` holds.
    Implies {
        condition: Box<CondNode>,
        then: Box<CondNode>,
    },
    Field {
        field: FieldPath,
        test: FieldTest,
    },
}

/// A condition with its optional human label (what is looked for).
#[derive(Debug, Clone)]
pub struct CondNode {
    pub label: Option<String>,
    pub condition: Condition,
}

impl CondNode {
    /// Describes what the condition looks for, in words; the author's label
    /// when there is one.
    pub fn describe(&self) -> String {
        if let Some(label) = &self.label {
            return label.clone();
        }
        match &self.condition {
            Condition::All(items) => join_descriptions(items, " and "),
            Condition::Any(items) => join_descriptions(items, " or "),
            Condition::Not(inner) => format!("not ({})", inner.describe()),
            Condition::Count {
                select,
                filter,
                bounds,
                ..
            } => {
                let count = if matches!(bounds.as_slice(), [bound] if bound.is_at_least_one()) {
                    "an item".to_string()
                } else {
                    let parts: Vec<String> = bounds.iter().map(|b| b.describe()).collect();
                    format!("{} items", parts.join(" and "))
                };
                match filter {
                    Some(filter) => {
                        format!("{count} of {} where {}", select.text, filter.describe())
                    }
                    None => format!("{count} of {}", select.text),
                }
            }
            Condition::Sum {
                select,
                filter,
                of,
                bounds,
                ..
            } => {
                let parts: Vec<String> = bounds.iter().map(|b| b.describe()).collect();
                match filter {
                    Some(filter) => format!(
                        "total {} of {} where {} {}",
                        of.text,
                        select.text,
                        filter.describe(),
                        parts.join(" and ")
                    ),
                    None => format!(
                        "total {} of {} {}",
                        of.text,
                        select.text,
                        parts.join(" and ")
                    ),
                }
            }
            Condition::Implies { condition, then } => {
                format!("if {} then {}", condition.describe(), then.describe())
            }
            Condition::Field { field, test } => describe_test(field, test),
        }
    }
}

fn join_descriptions(items: &[CondNode], joiner: &str) -> String {
    let parts: Vec<String> = items.iter().map(|c| c.describe()).collect();
    format!("({})", parts.join(joiner))
}

fn describe_test(field: &FieldPath, test: &FieldTest) -> String {
    let name = &field.text;
    match test {
        FieldTest::Equals(v) => format!("{name} equal to {}", literal(v)),
        FieldTest::OneOf(vs) => {
            let parts: Vec<String> = vs.iter().map(literal).collect();
            format!("{name} one of {}", parts.join(", "))
        }
        FieldTest::Matches { pattern, .. } => format!("{name} matching /{pattern}/"),
        FieldTest::Present(true) => format!("{name} present"),
        FieldTest::Present(false) => format!("{name} absent"),
        FieldTest::EqualsField { other, .. } => format!("{name} equal to {}", other.text),
        FieldTest::Within { of, window } => match window {
            Window::SameDay => format!("{name} on the same day as {}", of.text),
            Window::SameMonth => format!("{name} in the same calendar month as {}", of.text),
            Window::Days { days, direction } => {
                format!(
                    "{name} within {days} days {} {}",
                    direction_word(*direction),
                    of.text
                )
            }
            Window::Months { months, direction } => {
                format!(
                    "{name} within {months} months {} {}",
                    direction_word(*direction),
                    of.text
                )
            }
            Window::Years { years, direction } => {
                format!(
                    "{name} within {years} years {} {}",
                    direction_word(*direction),
                    of.text
                )
            }
            Window::BusinessDays { days, direction } => format!(
                "{name} within {days} business days {} {}",
                direction_word(*direction),
                of.text
            ),
        },
        FieldTest::Order { other, order } => format!("{name} {} {}", order.describe(), other.text),
        FieldTest::Compare(bound) => format!("{name} {}", bound.describe()),
    }
}

fn direction_word(direction: Direction) -> &'static str {
    match direction {
        Direction::After => "after",
        Direction::Before => "before",
        Direction::Around => "of",
    }
}

fn literal(value: &Value) -> String {
    match value {
        Value::String(s) => format!("'{s}'"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_finds_in_small_and_large_objects() {
        for size in [0, 1, SCANNED_OBJECT_MEMBERS, SCANNED_OBJECT_MEMBERS + 1, 40] {
            let map: Map<String, Value> = (0..size)
                .map(|i| (format!("key{i}"), Value::from(i)))
                .collect();
            for i in 0..size {
                assert_eq!(member(&map, &format!("key{i}")), Some(&Value::from(i)));
            }
            assert_eq!(member(&map, "key"), None, "size {size}");
            assert_eq!(member(&map, "missing"), None, "size {size}");
        }
    }
}
