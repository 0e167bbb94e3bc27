//! Evaluates compiled conditions on one record, collecting evidence for what
//! holds and misses for what does not.

use std::borrow::Cow;
use std::fmt::Write as _;

use serde_json::Value;
use unicode_normalization::UnicodeNormalization;

use super::dates::{self, Temporal};
use super::Truth;
use crate::finding::{Evidence, Miss};
use crate::rules::condition::{
    format_number, member, Aggregate, Bound, Comparison, CondNode, Condition, EvidenceFields,
    FieldPath, FieldTest, PathToken, Quantity, Scope, SelectStep, Selection,
};

/// The record and the item a condition is evaluated against.
#[derive(Clone, Copy)]
pub struct Ctx<'v> {
    pub root: &'v Value,
    pub item: &'v Value,
    /// JSON pointer of `item` in the record.
    pub item_pointer: &'v str,
}

/// The parts of an explanation that a [`Trace`] records besides the truth
/// value. Evidence and misses are built only where they are kept, so an
/// evaluation whose explanation is thrown away allocates nothing for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// Nothing: only the truth value is needed.
    Nothing,
    /// Evidence, which the caller reads only when the condition holds. An
    /// evaluation that is false may stop early and leave partial evidence.
    Evidence,
    /// Misses only.
    Misses,
    /// Evidence and misses.
    Everything,
}

/// Evidence and misses gathered while evaluating.
///
/// A condition that holds records no misses, so evidence alone explains
/// it. Misses are needed only for a condition that does not hold.
#[derive(Debug)]
pub struct Trace {
    pub evidence: Vec<Evidence>,
    pub misses: Vec<Miss>,
    keep: Keep,
}

impl Trace {
    /// Creates an empty trace that records what `keep` names.
    pub fn new(keep: Keep) -> Trace {
        Trace {
            evidence: Vec::new(),
            misses: Vec::new(),
            keep,
        }
    }

    fn keeps_evidence(&self) -> bool {
        matches!(self.keep, Keep::Evidence | Keep::Everything)
    }

    fn keeps_misses(&self) -> bool {
        matches!(self.keep, Keep::Misses | Keep::Everything)
    }

    /// True when no caller reads the evidence or misses of an evaluation
    /// that is false, so it may stop at the first false part.
    fn stops_when_false(&self) -> bool {
        matches!(self.keep, Keep::Nothing | Keep::Evidence)
    }
}

/// Evaluates `node` in `ctx`, appending to `trace`.
pub fn eval(node: &CondNode, ctx: Ctx<'_>, trace: &mut Trace) -> Truth {
    match &node.condition {
        Condition::All(children) => {
            let mut truth = Truth::True;
            for child in children {
                truth = truth.and(eval(child, ctx, trace));
                if truth == Truth::False && trace.stops_when_false() {
                    break;
                }
            }
            truth
        }
        Condition::Any(children) => eval_any(children, ctx, trace),
        Condition::Not(inner) => {
            // The inner evidence becomes this condition's misses, and is
            // read only when the inner condition holds.
            let inner_keep = if trace.keeps_misses() {
                Keep::Evidence
            } else {
                Keep::Nothing
            };
            let mut inner_trace = Trace::new(inner_keep);
            let truth = eval(inner, ctx, &mut inner_trace).not();
            if truth == Truth::False && trace.keeps_misses() {
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
            match eval(condition, ctx, &mut Trace::new(Keep::Nothing)) {
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
    if trace.keep == Keep::Nothing {
        for child in children {
            truth = truth.or(eval(child, ctx, trace));
            if truth == Truth::True {
                break;
            }
        }
        return truth;
    }

    // Every child that holds adds its evidence. The misses of the others
    // are kept only when no child holds.
    let mut failed_misses = Vec::new();
    for child in children {
        let mut child_trace = Trace::new(trace.keep);
        let child_truth = eval(child, ctx, &mut child_trace);
        truth = truth.or(child_truth);
        if child_truth == Truth::True {
            trace.evidence.append(&mut child_trace.evidence);
        } else {
            failed_misses.append(&mut child_trace.misses);
        }
    }
    if truth != Truth::True {
        trace.misses.append(&mut failed_misses);
    }
    truth
}

/// One selected item with its pointer in the record.
struct Selected<'v> {
    value: &'v Value,
    /// Empty when the selection was made without pointers.
    pointer: String,
}

/// Runs a selection. With `located`, it also builds each item's pointer,
/// which only evidence and misses need.
fn select<'v>(selection: &Selection, ctx: Ctx<'v>, located: bool) -> Vec<Selected<'v>> {
    let (base, prefix) = match selection.scope {
        Scope::Record => (ctx.root, ""),
        Scope::Item => (ctx.item, ctx.item_pointer),
    };
    if let Some(steps) = &selection.steps {
        let mut items = Vec::new();
        let mut pointer = if located {
            prefix.to_string()
        } else {
            String::new()
        };
        follow_steps(steps, base, located, &mut pointer, &mut items);
        return items;
    }
    if !located {
        return selection
            .query
            .query(base)
            .all()
            .into_iter()
            .map(|value| Selected {
                value,
                pointer: String::new(),
            })
            .collect();
    }
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

/// Appends the nodes that `steps` select from `node` to `items`, in the
/// order a JSONPath query returns them. With `located`, `pointer` is the
/// pointer of `node`, and each item gets its own.
fn follow_steps<'v>(
    steps: &[SelectStep],
    node: &'v Value,
    located: bool,
    pointer: &mut String,
    items: &mut Vec<Selected<'v>>,
) {
    let Some((step, rest)) = steps.split_first() else {
        items.push(Selected {
            value: node,
            pointer: if located {
                pointer.clone()
            } else {
                String::new()
            },
        });
        return;
    };
    let mut visit = |child: &'v Value, token: &dyn Fn(&mut String)| {
        let length = pointer.len();
        if located {
            token(pointer);
        }
        follow_steps(rest, child, located, pointer, items);
        pointer.truncate(length);
    };
    match (step, node) {
        (SelectStep::Name(name), Value::Object(map)) => {
            if let Some(child) = member(map, name) {
                visit(child, &|pointer| {
                    crate::source::push_pointer_token(pointer, name)
                });
            }
        }
        (SelectStep::Wildcard, Value::Array(elements)) => {
            for (index, child) in elements.iter().enumerate() {
                visit(child, &|pointer| {
                    // Writing to a String cannot fail.
                    let _ = write!(pointer, "/{index}");
                });
            }
        }
        (SelectStep::Wildcard, Value::Object(map)) => {
            for (key, child) in map {
                visit(child, &|pointer| {
                    crate::source::push_pointer_token(pointer, key)
                });
            }
        }
        _ => {}
    }
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
    let items = select(selection, ctx, trace.keep != Keep::Nothing);
    let truths: Vec<Truth> = items
        .iter()
        .map(|item| match filter {
            Some(filter) => eval(filter, item.ctx(ctx), &mut Trace::new(Keep::Nothing)),
            None => Truth::True,
        })
        .collect();
    let matched = truths.iter().filter(|t| **t == Truth::True).count();
    let unknown = truths.iter().filter(|t| **t == Truth::Unknown).count();
    let matching = || {
        items
            .iter()
            .zip(&truths)
            .filter(|(_, truth)| **truth == Truth::True)
            .map(|(item, _)| item)
    };

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
        if trace.keeps_evidence() {
            trace.evidence.extend(
                matching().map(|item| describe_item(item, selection, fields, node, ctx.root)),
            );
        }
        return truth;
    }
    if !trace.keeps_misses() {
        return truth;
    }
    let expected = node.describe();
    let too_many = limits.iter().any(|(comparison, limit)| {
        comparison.is_upper() && !comparison.holds(matched as f64, *limit)
    });
    if too_many {
        // Every matching item is part of the problem: point at each.
        for item in matching() {
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
    // The filter is evaluated again on the items that failed it, this
    // time keeping misses, only when they are reported.
    let closest = match filter {
        Some(filter) if matched == 0 => closest_item(filter, &items, &truths, ctx),
        _ => None,
    };
    match closest {
        Some((pointer, item_trace)) if !item_trace.misses.is_empty() => {
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

/// Returns the pointer and misses of the item that fails `filter` with
/// the fewest misses. On a tie, the first such item wins.
fn closest_item(
    filter: &CondNode,
    items: &[Selected<'_>],
    truths: &[Truth],
    ctx: Ctx<'_>,
) -> Option<(String, Trace)> {
    let mut closest: Option<(String, Trace)> = None;
    for (item, truth) in items.iter().zip(truths) {
        if *truth == Truth::True {
            continue;
        }
        let mut item_trace = Trace::new(Keep::Misses);
        eval(filter, item.ctx(ctx), &mut item_trace);
        let misses = item_trace.misses.len();
        if closest
            .as_ref()
            .is_none_or(|(_, best)| misses < best.misses.len())
        {
            closest = Some((item.pointer.clone(), item_trace));
        }
    }
    closest
}

impl<'v> Selected<'v> {
    /// Returns the context for evaluating a filter on this item.
    fn ctx<'a>(&'a self, outer: Ctx<'a>) -> Ctx<'a> {
        Ctx {
            root: outer.root,
            item: self.value,
            item_pointer: &self.pointer,
        }
    }
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
    dotted.split('.').try_fold(value, |node, key| match node {
        Value::Object(map) => member(map, key),
        _ => None,
    })
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
    let total = total(selection, filter, of, default, ctx, trace.keeps_evidence());
    let holds = limits
        .iter()
        .all(|(comparison, limit)| comparison.holds(total.value, *limit));
    let truth = match (holds, total.uncertain) {
        (true, false) => Truth::True,
        (_, true) => Truth::Unknown,
        (false, false) => Truth::False,
    };
    if truth == Truth::True {
        if trace.keeps_evidence() {
            trace.evidence.extend(
                total
                    .items
                    .iter()
                    .map(|item| describe_item(item, selection, &empty_fields(), node, ctx.root)),
            );
        }
    } else if trace.keeps_misses() {
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
    /// The items that were added, kept only when `keep_items` is set.
    items: Vec<Selected<'v>>,
}

fn total<'v>(
    selection: &Selection,
    filter: Option<&CondNode>,
    of: &FieldPath,
    default: Option<f64>,
    ctx: Ctx<'v>,
    keep_items: bool,
) -> Total<'v> {
    let mut result = Total {
        value: 0.0,
        uncertain: false,
        items: Vec::new(),
    };
    for item in select(selection, ctx, keep_items) {
        let truth = match filter {
            Some(filter) => eval(filter, item.ctx(ctx), &mut Trace::new(Keep::Nothing)),
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
            if keep_items {
                result.items.push(item);
            }
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
            let total = total(select, filter.as_deref(), of, *default, ctx, false);
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
            for item in select(selection, ctx, false) {
                match filter
                    .as_deref()
                    .map(|f| eval(f, item.ctx(ctx), &mut Trace::new(Keep::Nothing)))
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
    if !trace.keeps_misses() {
        return truth;
    }
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

    match truth {
        Truth::True => {
            let located = field.scope == Scope::Record || ctx.item_pointer.is_empty();
            if trace.keeps_evidence() && located {
                trace.evidence.push(Evidence {
                    pointer: field_pointer(field, ctx),
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
        Truth::False | Truth::Unknown if trace.keeps_misses() => {
            let found = match (truth, value) {
                (Truth::Unknown, _) => "not precise enough to decide",
                (_, None) if !matches!(test, FieldTest::Present(false)) => "missing",
                _ => "does not match",
            };
            let pointer = if value.is_some() {
                field_pointer(field, ctx)
            } else {
                nearest_existing(ctx, field)
            };
            trace.misses.push(Miss {
                pointer,
                expected: node.describe(),
                found: Some(found.to_string()),
            });
        }
        Truth::False | Truth::Unknown => {}
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
        (Value::String(x), Value::String(y)) => strings_equal(x, y, ignore_case),
        (Value::Number(x), Value::Number(y)) => super::number::numbers_equal(x, y),
        _ => a == b,
    }
}

/// Compares two strings after trimming and NFC normalization, and without
/// regard to case when `ignore_case` is set. ASCII text is already in NFC,
/// so two ASCII strings are compared as they are, without allocating.
fn strings_equal(x: &str, y: &str, ignore_case: bool) -> bool {
    let (x, y) = (x.trim(), y.trim());
    if x.is_ascii() && y.is_ascii() {
        return if ignore_case {
            x.eq_ignore_ascii_case(y)
        } else {
            x == y
        };
    }
    if ignore_case {
        // `str::to_lowercase` depends on context (a capital sigma at the end
        // of a word becomes a final sigma), so it runs on whole strings.
        let x: String = x.nfc().collect();
        let y: String = y.nfc().collect();
        return x.to_lowercase() == y.to_lowercase();
    }
    x.nfc().eq(y.nfc())
}

/// NFKC-normalizes text for regex matching; ASCII text is returned as is.
pub fn normalize_text(text: &str) -> Cow<'_, str> {
    if text.is_ascii() {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(text.nfkc().collect())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::input::{load_file, Framing};
    use crate::record::{Record, RecordSchema};
    use crate::rules::RuleSet;

    /// Loads the example records and the shipped packs' fixtures, which
    /// between them pass and fail every shipped rule.
    fn sample_records() -> Vec<Record> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut folders = vec![root.join("examples/records")];
        for pack in ["ccm32", "cms-ccm"] {
            for outcome in ["pass", "fail"] {
                folders.push(root.join("rules").join(pack).join("tests").join(outcome));
            }
        }
        let schema = RecordSchema::new();
        let mut records = Vec::new();
        for folder in folders {
            let mut paths: Vec<_> = std::fs::read_dir(&folder)
                .unwrap_or_else(|error| panic!("cannot list {}: {error}", folder.display()))
                .filter_map(|entry| entry.ok().map(|entry| entry.path()))
                .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
                .collect();
            paths.sort();
            for path in paths {
                let bytes = std::fs::read(&path).unwrap_or_default();
                let name: Arc<str> = Arc::from(path.display().to_string());
                records.extend(load_file(name, &bytes, Framing::Json, &schema).records);
            }
        }
        assert!(records.len() > 20, "only {} sample records", records.len());
        records
    }

    fn run(node: &CondNode, record: &Record, keep: Keep) -> (Truth, Trace) {
        let ctx = Ctx {
            root: &record.value,
            item: &record.value,
            item_pointer: "",
        };
        let mut trace = Trace::new(keep);
        let truth = eval(node, ctx, &mut trace);
        (truth, trace)
    }

    #[test]
    fn keep_modes_agree_with_full_trace() {
        let rules = RuleSet::shipped().unwrap_or_else(|errors| panic!("{errors:?}"));
        let records = sample_records();
        let mut outcomes = [0usize; 2];
        for pack in &rules.packs {
            let conditions = pack
                .rules
                .iter()
                .flat_map(|rule| std::iter::once(&rule.evidence).chain(rule.when.as_ref()))
                .chain(pack.applies_when.as_ref());
            for node in conditions {
                for record in &records {
                    let (truth, full) = run(node, record, Keep::Everything);
                    outcomes[usize::from(truth == Truth::True)] += 1;

                    let (nothing_truth, nothing) = run(node, record, Keep::Nothing);
                    assert_eq!(nothing_truth, truth, "{}", record.id);
                    assert!(nothing.evidence.is_empty(), "{}", record.id);
                    assert!(nothing.misses.is_empty(), "{}", record.id);

                    let (evidence_truth, evidence) = run(node, record, Keep::Evidence);
                    assert_eq!(evidence_truth, truth, "{}", record.id);
                    assert!(evidence.misses.is_empty(), "{}", record.id);
                    if truth == Truth::True {
                        assert_eq!(evidence.evidence, full.evidence, "{}", record.id);
                        assert!(full.misses.is_empty(), "{}", record.id);
                    }

                    let (misses_truth, misses) = run(node, record, Keep::Misses);
                    assert_eq!(misses_truth, truth, "{}", record.id);
                    assert!(misses.evidence.is_empty(), "{}", record.id);
                    assert_eq!(misses.misses, full.misses, "{}", record.id);
                }
            }
        }
        assert!(outcomes[0] > 0, "no condition failed on the samples");
        assert!(outcomes[1] > 0, "no condition held on the samples");
    }

    #[test]
    fn plain_steps_select_like_jsonpath() {
        let record = serde_json::json!({
            "notes": [{"id": "n1"}, {"id": "n2"}],
            "portal": {"status": "offered", "offered_at": null},
            "records": [
                {"service_lines": [{"code": "99490"}, {"code": "99439"}]},
                {"service_lines": []},
                {"other": 1},
                {"service_lines": [{"code": "G0506"}]}
            ],
            "by_key": {"b": 2, "a/b~c": {"x": [1]}, "a": 1},
            "scalar": "text"
        });
        let queries = [
            "$",
            "$.notes[*]",
            "$.notes.*",
            "$.portal",
            "$.portal.offered_at",
            "$.missing[*]",
            "$.scalar[*]",
            "$.scalar.name",
            "$.records[*].service_lines[*]",
            "$.records[*].service_lines[*].code",
            "$.by_key[*]",
            "$['by_key']['a/b~c'].x[*]",
            "$.notes[0]",
        ];
        let item = &record["records"][0];
        for query in queries {
            let syntax = rsonpath_syntax::parse(query).unwrap();
            let steps = crate::rules::select_steps(syntax.segments());
            assert_eq!(steps.is_none(), query.contains("[0]"), "{query}");
            for scope in [Scope::Record, Scope::Item] {
                let selection = |steps| Selection {
                    text: query.to_string(),
                    scope,
                    query: serde_json_path::JsonPath::parse(query).unwrap(),
                    anchor: Vec::new(),
                    steps,
                };
                let direct = selection(steps.clone());
                let general = selection(None);
                let ctx = Ctx {
                    root: &record,
                    item,
                    item_pointer: "/records/0",
                };
                for located in [true, false] {
                    let expected = select(&general, ctx, located);
                    let found = select(&direct, ctx, located);
                    let pointers = |items: &[Selected<'_>]| -> Vec<String> {
                        items.iter().map(|item| item.pointer.clone()).collect()
                    };
                    assert_eq!(pointers(&found), pointers(&expected), "{query}");
                    assert_eq!(found.len(), expected.len(), "{query}");
                    for (a, b) in found.iter().zip(&expected) {
                        assert!(std::ptr::eq(a.value, b.value), "{query}");
                    }
                }
            }
        }
    }

    #[test]
    fn strings_equal_trims_and_normalizes() {
        assert!(strings_equal(" portal.offered ", "portal.offered", false));
        assert!(!strings_equal("Email", "email", false));
        assert!(strings_equal("Ann@Example.org", "ann@example.ORG", true));
        assert!(!strings_equal("ann@example.org", "anne@example.org", true));
        // U+00E9 against e followed by U+0301 (combining acute accent).
        assert!(strings_equal("Ren\u{e9}e", "Rene\u{301}e", false));
        assert!(strings_equal("REN\u{c9}E", "rene\u{301}e", true));
        // The Kelvin sign normalizes to the ASCII letter K.
        assert!(strings_equal("\u{212a}", "K", false));
        assert!(!strings_equal("\u{e9}", "e", false));
        // A capital sigma at the end of a word lowercases to a final sigma.
        assert!(strings_equal(
            "\u{39f}\u{394}\u{39f}\u{3a3}",
            "\u{3bf}\u{3b4}\u{3bf}\u{3c2}",
            true
        ));
    }
}
