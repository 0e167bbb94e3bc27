//! Evaluates compiled conditions on one record, collecting evidence for what
//! holds and misses for what does not.

use std::borrow::Cow;

use serde_json::Value;
use unicode_normalization::UnicodeNormalization;

use super::dates::{self, Temporal};
use super::Truth;
use crate::finding::{Evidence, Miss};
use crate::rules::condition::{
    format_number, Aggregate, Bound, Comparison, CondNode, Condition, EvidenceFields, FieldPath,
    FieldTest, PathToken, Quantity, Scope, Selection,
};

/// The record and the item a condition is evaluated against.
#[derive(Clone, Copy)]
pub struct Ctx<'v> {
    pub root: &'v Value,
    pub item: &'v Value,
    /// JSON pointer of `item` in the record.
    pub item_pointer: &'v str,
}

/// Evidence and misses gathered while evaluating.
#[derive(Debug, Default)]
pub struct Trace {
    pub evidence: Vec<Evidence>,
    pub misses: Vec<Miss>,
}

/// Evaluates `node` in `ctx`, appending to `trace`.
pub fn eval(node: &CondNode, ctx: Ctx<'_>, trace: &mut Trace) -> Truth {
    match &node.condition {
        Condition::All(children) => {
            let mut truth = Truth::True;
            for child in children {
                truth = truth.and(eval(child, ctx, trace));
            }
            truth
        }
        Condition::Any(children) => eval_any(children, ctx, trace),
        Condition::Not(inner) => {
            let mut inner_trace = Trace::default();
            let truth = eval(inner, ctx, &mut inner_trace).not();
            if truth == Truth::False {
                let expected = match &node.label {
                    Some(label) => label.clone(),
                    None => format!("none of: {}", inner.describe()),
                };
                for evidence in inner_trace.evidence {
                    trace.misses.push(Miss {
                        pointer: evidence.pointer,
                        expected: expected.clone(),
                        found: Some("found".to_string()),
                    });
                }
                if trace.misses.is_empty() {
                    trace.misses.push(Miss {
                        pointer: ctx.item_pointer.to_string(),
                        expected,
                        found: None,
                    });
                }
            }
            truth
        }
        Condition::Count {
            select,
            filter,
            bounds,
            evidence,
        } => eval_count(
            node,
            select,
            filter.as_deref(),
            bounds,
            evidence,
            ctx,
            trace,
        ),
        Condition::Sum {
            select,
            filter,
            of,
            default,
            bounds,
        } => eval_sum(
            node,
            select,
            filter.as_deref(),
            of,
            *default,
            bounds,
            ctx,
            trace,
        ),
        Condition::Implies { condition, then } => {
            // Only the consequence explains a failure. When the condition
            // is true, what is missing is what `then` requires.
            match eval(condition, ctx, &mut Trace::default()) {
                Truth::False => Truth::True,
                Truth::True => eval(then, ctx, trace),
                Truth::Unknown => match eval(then, ctx, trace) {
                    Truth::True => Truth::True,
                    _ => Truth::Unknown,
                },
            }
        }
        Condition::Field { field, test } => eval_field(node, field, test, ctx, trace),
    }
}

fn eval_any(children: &[CondNode], ctx: Ctx<'_>, trace: &mut Trace) -> Truth {
    let mut truth = Truth::False;
    let mut failed = Vec::new();
    for child in children {
        let mut child_trace = Trace::default();
        let child_truth = eval(child, ctx, &mut child_trace);
        truth = truth.or(child_truth);
        if child_truth == Truth::True {
            trace.evidence.extend(child_trace.evidence);
        } else {
            failed.push(child_trace);
        }
    }
    if truth != Truth::True {
        for child_trace in failed {
            trace.misses.extend(child_trace.misses);
        }
    }
    truth
}

/// One selected item with its pointer in the record.
struct Selected<'v> {
    value: &'v Value,
    pointer: String,
}

fn select<'v>(selection: &Selection, ctx: Ctx<'v>) -> Vec<Selected<'v>> {
    let (base, prefix) = match selection.scope {
        Scope::Record => (ctx.root, ""),
        Scope::Item => (ctx.item, ctx.item_pointer),
    };
    selection
        .query
        .query_located(base)
        .into_iter()
        .map(|node| Selected {
            pointer: format!("{prefix}{}", node.location().to_json_pointer()),
            value: node.node(),
        })
        .collect()
}

/// The pointer of the deepest existing node on the selection's leading
/// names, used to locate "nothing was found" misses.
fn anchor_pointer(selection: &Selection, ctx: Ctx<'_>) -> String {
    let (mut node, mut pointer) = match selection.scope {
        Scope::Record => (ctx.root, String::new()),
        Scope::Item => (ctx.item, ctx.item_pointer.to_string()),
    };
    for token in &selection.anchor {
        let PathToken::Name(name) = token else { break };
        match node.get(name) {
            Some(child) => {
                node = child;
                pointer.push('/');
                pointer.push_str(&crate::record::escape_pointer_token(name));
            }
            None => break,
        }
    }
    pointer
}

fn eval_count(
    node: &CondNode,
    selection: &Selection,
    filter: Option<&CondNode>,
    bounds: &[Bound],
    fields: &EvidenceFields,
    ctx: Ctx<'_>,
    trace: &mut Trace,
) -> Truth {
    let limits = match resolve_bounds(bounds, ctx) {
        Ok(limits) => limits,
        Err(truth) => return limit_miss(node, bounds, truth, selection, ctx, trace),
    };
    let items = select(selection, ctx);
    let mut matched = 0usize;
    let mut unknown = 0usize;
    let mut found = Vec::new();
    let mut closest: Option<(usize, String, Trace)> = None;

    for item in &items {
        let item_ctx = Ctx {
            root: ctx.root,
            item: item.value,
            item_pointer: &item.pointer,
        };
        let mut item_trace = Trace::default();
        let truth = match filter {
            Some(filter) => eval(filter, item_ctx, &mut item_trace),
            None => Truth::True,
        };
        match truth {
            Truth::True => {
                matched += 1;
                found.push(describe_item(item, selection, fields, node, ctx.root));
            }
            Truth::Unknown => unknown += 1,
            Truth::False => {}
        }
        if truth != Truth::True {
            let misses = item_trace.misses.len();
            if closest.as_ref().is_none_or(|(best, _, _)| misses < *best) {
                closest = Some((misses, item.pointer.clone(), item_trace));
            }
        }
    }

    let holds = |n: usize| {
        limits
            .iter()
            .all(|(comparison, limit)| comparison.holds(n as f64, *limit))
    };
    let truth = if holds(matched) && (unknown == 0 || (0..=unknown).all(|u| holds(matched + u))) {
        Truth::True
    } else if (0..=unknown).any(|u| holds(matched + u)) {
        Truth::Unknown
    } else {
        Truth::False
    };

    if truth == Truth::True {
        trace.evidence.extend(found);
        return truth;
    }
    let expected = node.describe();
    let too_many = limits.iter().any(|(comparison, limit)| {
        comparison.is_upper() && !comparison.holds(matched as f64, *limit)
    });
    if too_many {
        // Every matching item is part of the problem: point at each.
        for item in &found {
            trace.misses.push(Miss {
                pointer: item.pointer.clone(),
                expected: expected.clone(),
                found: Some(match matched {
                    1 => format!("1 item matched{}", needed(&limits, bounds)),
                    _ => format!(
                        "one of {} matched{}",
                        plural(matched, "item"),
                        needed(&limits, bounds)
                    ),
                }),
            });
        }
        return truth;
    }
    match closest {
        Some((_, pointer, item_trace)) if !item_trace.misses.is_empty() && matched == 0 => {
            // Point at the item that came closest and say what it lacked.
            let lacking: Vec<String> = item_trace
                .misses
                .iter()
                .map(|m| m.expected.clone())
                .collect();
            let first = item_trace
                .misses
                .into_iter()
                .next()
                .map(|m| m.pointer)
                .unwrap_or(pointer.clone());
            trace.misses.push(Miss {
                pointer: first,
                expected,
                found: Some(format!(
                    "{} selected, none matched; the closest ({pointer}) does not meet: {}",
                    plural(items.len(), "item"),
                    lacking.join(" and ")
                )),
            });
        }
        _ => trace.misses.push(Miss {
            pointer: anchor_pointer(selection, ctx),
            expected,
            found: Some(if items.is_empty() {
                format!("nothing selected{}", needed(&limits, bounds))
            } else if truth == Truth::Unknown {
                format!(
                    "{} matched, {} could not be decided",
                    plural(matched, "item"),
                    unknown
                )
            } else {
                format!(
                    "{} matched{}",
                    plural(matched, "item"),
                    needed(&limits, bounds)
                )
            }),
        }),
    }
    truth
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn describe_item(
    item: &Selected<'_>,
    selection: &Selection,
    fields: &EvidenceFields,
    node: &CondNode,
    root: &Value,
) -> Evidence {
    let text_of = |path: &Option<FieldPath>, defaults: &[&str]| -> Option<String> {
        if let Some(path) = path {
            return path.resolve(root, item.value).and_then(scalar_text);
        }
        defaults
            .iter()
            .find_map(|key| resolve_dotted(item.value, key).and_then(scalar_text))
    };
    let kind = selection
        .anchor
        .iter()
        .rev()
        .find_map(|t| match t {
            PathToken::Name(n) => Some(n.clone()),
            PathToken::Index(_) => None,
        })
        .unwrap_or_else(|| "item".to_string());
    Evidence {
        pointer: item.pointer.clone(),
        kind,
        id: text_of(&fields.id, &["id"]),
        date: text_of(
            &fields.date,
            &[
                "signed_at",
                "timestamp",
                "offered_at",
                "declined_at",
                "obtained_at",
                "date",
            ],
        ),
        author: text_of(
            &fields.author,
            &[
                "author.name",
                "actor",
                "offered_by",
                "obtained_by",
                "staff_name",
            ],
        ),
        label: node.label.clone(),
    }
}

fn resolve_dotted<'v>(value: &'v Value, dotted: &str) -> Option<&'v Value> {
    dotted.split('.').try_fold(value, |node, key| node.get(key))
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

#[allow(clippy::too_many_arguments)]
fn eval_sum(
    node: &CondNode,
    selection: &Selection,
    filter: Option<&CondNode>,
    of: &FieldPath,
    default: Option<f64>,
    bounds: &[Bound],
    ctx: Ctx<'_>,
    trace: &mut Trace,
) -> Truth {
    let limits = match resolve_bounds(bounds, ctx) {
        Ok(limits) => limits,
        Err(truth) => return limit_miss(node, bounds, truth, selection, ctx, trace),
    };
    let total = total(selection, filter, of, default, ctx);
    let holds = limits
        .iter()
        .all(|(comparison, limit)| comparison.holds(total.value, *limit));
    let truth = match (holds, total.uncertain) {
        (true, false) => Truth::True,
        (_, true) => Truth::Unknown,
        (false, false) => Truth::False,
    };
    if truth == Truth::True {
        trace.evidence.extend(
            total
                .items
                .iter()
                .map(|item| describe_item(item, selection, &empty_fields(), node, ctx.root)),
        );
    } else {
        trace.misses.push(Miss {
            pointer: anchor_pointer(selection, ctx),
            expected: node.describe(),
            found: Some(format!(
                "total {}{}",
                format_number(total.value),
                needed(&limits, bounds)
            )),
        });
    }
    truth
}

/// The total of a field over the selected items that meet a filter.
struct Total<'v> {
    value: f64,
    /// True when some item's filter could not be decided.
    uncertain: bool,
    /// The items that were added.
    items: Vec<Selected<'v>>,
}

fn total<'v>(
    selection: &Selection,
    filter: Option<&CondNode>,
    of: &FieldPath,
    default: Option<f64>,
    ctx: Ctx<'v>,
) -> Total<'v> {
    let mut result = Total {
        value: 0.0,
        uncertain: false,
        items: Vec::new(),
    };
    for item in select(selection, ctx) {
        let item_ctx = Ctx {
            root: ctx.root,
            item: item.value,
            item_pointer: &item.pointer,
        };
        let truth = match filter {
            Some(filter) => eval(filter, item_ctx, &mut Trace::default()),
            None => Truth::True,
        };
        match truth {
            Truth::True => {}
            Truth::Unknown => {
                result.uncertain = true;
                continue;
            }
            Truth::False => continue,
        }
        let value = of
            .resolve(ctx.root, item.value)
            .filter(|v| !is_empty(v))
            .and_then(Value::as_f64)
            .or(default);
        if let Some(n) = value {
            result.value += n;
            result.items.push(item);
        }
    }
    result
}

/// Resolves each bound's limit in `ctx`. A limit that cannot be decided
/// makes the condition unknown, and a missing one makes it fail.
fn resolve_bounds(bounds: &[Bound], ctx: Ctx<'_>) -> Result<Vec<(Comparison, f64)>, Truth> {
    bounds
        .iter()
        .map(|bound| quantity(&bound.limit, ctx).map(|limit| (bound.comparison, limit)))
        .collect()
}

/// Computes a limit: `Err(Unknown)` when a filter in it cannot be decided,
/// `Err(False)` when the field it names is missing.
fn quantity(quantity: &Quantity, ctx: Ctx<'_>) -> Result<f64, Truth> {
    let (base, times, plus) = match quantity {
        Quantity::Number(n) => return Ok(*n),
        Quantity::Computed { base, times, plus } => (base, times, plus),
    };
    let value = match base.as_ref() {
        Aggregate::Sum {
            select,
            filter,
            of,
            default,
        } => {
            let total = total(select, filter.as_deref(), of, *default, ctx);
            if total.uncertain {
                return Err(Truth::Unknown);
            }
            total.value
        }
        Aggregate::Count {
            select: selection,
            filter,
        } => {
            let mut count = 0.0;
            for item in select(selection, ctx) {
                let item_ctx = Ctx {
                    root: ctx.root,
                    item: item.value,
                    item_pointer: &item.pointer,
                };
                match filter
                    .as_deref()
                    .map(|f| eval(f, item_ctx, &mut Trace::default()))
                {
                    None | Some(Truth::True) => count += 1.0,
                    Some(Truth::Unknown) => return Err(Truth::Unknown),
                    Some(Truth::False) => {}
                }
            }
            count
        }
        Aggregate::Field(field) => field
            .resolve(ctx.root, ctx.item)
            .and_then(Value::as_f64)
            .ok_or(Truth::False)?,
    };
    Ok(times * value + plus)
}

/// Records why a computed limit could not be used.
fn limit_miss(
    node: &CondNode,
    bounds: &[Bound],
    truth: Truth,
    selection: &Selection,
    ctx: Ctx<'_>,
    trace: &mut Trace,
) -> Truth {
    let limits: Vec<String> = bounds
        .iter()
        .filter(|b| b.limit.is_computed())
        .map(|b| b.limit.describe())
        .collect();
    let found = match truth {
        Truth::Unknown => format!("the limit {} could not be decided", limits.join(", ")),
        _ => format!(
            "the limit {} could not be computed: a field it names is missing",
            limits.join(", ")
        ),
    };
    trace.misses.push(Miss {
        pointer: anchor_pointer(selection, ctx),
        expected: node.describe(),
        found: Some(found),
    });
    truth
}

/// Describes the computed limits, e.g. ` (needed at least 40)`, so that a
/// miss shows the number the record had to reach.
fn needed(limits: &[(Comparison, f64)], bounds: &[Bound]) -> String {
    let parts: Vec<String> = limits
        .iter()
        .zip(bounds)
        .filter(|(_, bound)| bound.limit.is_computed())
        .map(|((comparison, limit), _)| format!("{} {}", comparison.words(), format_number(*limit)))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!(" (needed {})", parts.join(" and "))
    }
}

fn empty_fields() -> EvidenceFields {
    EvidenceFields {
        id: None,
        date: None,
        author: None,
    }
}

fn field_pointer(field: &FieldPath, ctx: Ctx<'_>) -> String {
    match field.scope {
        Scope::Record => field.pointer_suffix(),
        Scope::Item => format!("{}{}", ctx.item_pointer, field.pointer_suffix()),
    }
}

fn eval_field(
    node: &CondNode,
    field: &FieldPath,
    test: &FieldTest,
    ctx: Ctx<'_>,
    trace: &mut Trace,
) -> Truth {
    let value = field.resolve(ctx.root, ctx.item).filter(|v| !is_empty(v));
    let truth = match (test, value) {
        (FieldTest::Present(expected), value) => Truth::from(value.is_some() == *expected),
        (_, None) => Truth::False,
        (FieldTest::Equals(expected), Some(value)) => {
            Truth::from(values_equal(value, expected, false))
        }
        (FieldTest::OneOf(options), Some(value)) => {
            Truth::from(options.iter().any(|o| values_equal(value, o, false)))
        }
        (FieldTest::Matches { regex, .. }, Some(value)) => match value.as_str() {
            Some(text) => Truth::from(regex.is_match(&normalize_text(text))),
            None => Truth::False,
        },
        (FieldTest::EqualsField { other, ignore_case }, Some(value)) => {
            match other.resolve(ctx.root, ctx.item).filter(|v| !is_empty(v)) {
                Some(other) => Truth::from(values_equal(value, other, *ignore_case)),
                None => Truth::False,
            }
        }
        (FieldTest::Within { of, window }, Some(value)) => {
            compare_dates(value, of, ctx, |v, r| dates::within(v, r, *window))
        }
        (FieldTest::Order { other, order }, Some(value)) => {
            compare_dates(value, other, ctx, |v, o| dates::order(v, o, *order))
        }
        // NOTE: limits compare as f64, so integers beyond 2^53 and decimals past
        // 17 significant digits are rounded here; `equals` compares exactly.
        (FieldTest::Compare(bound), Some(value)) => {
            match (value.as_f64(), quantity(&bound.limit, ctx)) {
                (Some(n), Ok(limit)) => Truth::from(bound.comparison.holds(n, limit)),
                (Some(_), Err(truth)) => truth,
                (None, _) => Truth::False,
            }
        }
    };

    let pointer = field_pointer(field, ctx);
    match truth {
        Truth::True => {
            if field.scope == Scope::Record || ctx.item_pointer.is_empty() {
                trace.evidence.push(Evidence {
                    pointer,
                    kind: field.leaf_name().to_string(),
                    id: None,
                    date: value
                        .and_then(Value::as_str)
                        .filter(|s| Temporal::parse(s).is_some())
                        .map(str::to_string),
                    author: None,
                    label: node.label.clone(),
                });
            }
        }
        Truth::False | Truth::Unknown => {
            let found = match (truth, value) {
                (Truth::Unknown, _) => "not precise enough to decide",
                (_, None) if !matches!(test, FieldTest::Present(false)) => "missing",
                _ => "does not match",
            };
            let pointer = if value.is_some() {
                pointer
            } else {
                nearest_existing(ctx, field)
            };
            trace.misses.push(Miss {
                pointer,
                expected: node.describe(),
                found: Some(found.to_string()),
            });
        }
    }
    truth
}

/// Pointer of the deepest existing node on a field's path.
fn nearest_existing(ctx: Ctx<'_>, field: &FieldPath) -> String {
    let (mut node, mut pointer) = match field.scope {
        Scope::Record => (ctx.root, String::new()),
        Scope::Item => (ctx.item, ctx.item_pointer.to_string()),
    };
    for token in &field.tokens {
        let next = match token {
            PathToken::Name(name) => node.get(name),
            PathToken::Index(i) if *i >= 0 => node.get(*i as usize),
            PathToken::Index(_) => None,
        };
        match next {
            Some(child) if !is_empty(child) => {
                node = child;
                pointer.push('/');
                match token {
                    PathToken::Name(name) => {
                        pointer.push_str(&crate::record::escape_pointer_token(name))
                    }
                    PathToken::Index(i) => pointer.push_str(&i.to_string()),
                }
            }
            _ => break,
        }
    }
    pointer
}

fn compare_dates(
    value: &Value,
    reference: &FieldPath,
    ctx: Ctx<'_>,
    test: impl Fn(&Temporal, &Temporal) -> Truth,
) -> Truth {
    let parsed = value.as_str().and_then(Temporal::parse);
    let reference = reference
        .resolve(ctx.root, ctx.item)
        .and_then(Value::as_str)
        .and_then(Temporal::parse);
    match (parsed, reference) {
        (Some(v), Some(r)) => test(&v, &r),
        // An unparsable date cannot pass; schema validation reports it.
        _ => Truth::False,
    }
}

/// Missing, null, an empty or blank string, or an empty list or object.
fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

fn values_equal(a: &Value, b: &Value, ignore_case: bool) -> bool {
    match (a, b) {
        (Value::String(x), Value::String(y)) => {
            let x: String = x.trim().nfc().collect();
            let y: String = y.trim().nfc().collect();
            if ignore_case {
                x.to_lowercase() == y.to_lowercase()
            } else {
                x == y
            }
        }
        (Value::Number(x), Value::Number(y)) => super::number::numbers_equal(x, y),
        _ => a == b,
    }
}

/// NFKC-normalizes text for regex matching; ASCII text is returned as is.
pub fn normalize_text(text: &str) -> Cow<'_, str> {
    if text.is_ascii() {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(text.nfkc().collect())
    }
}
