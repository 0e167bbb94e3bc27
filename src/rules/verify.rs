//! Checks each rule's examples once the rule set is compiled: every example
//! record must be valid, the `fail` example must make the rule report a
//! finding, and the `pass` example must be evaluated and pass.
//!
//! An example that does not behave is a located error in the pack file, so
//! the documentation generated from examples cannot show a wrong example.

use crate::eval::check_rule;
use crate::record::RecordSchema;
use crate::yaml::Span;

use super::error::{RuleFileError, RuleProblem};
use super::{Example, Pack, PackSource, Rule, RuleSet};

/// Returns one error per pack file whose examples do not behave.
pub fn verify_examples(set: &RuleSet, sources: &[&PackSource]) -> Vec<RuleFileError> {
    let schema = RecordSchema::new();
    let mut errors = Vec::new();
    for (pack, source) in set.packs.iter().zip(sources) {
        let mut problems = Vec::new();
        for rule in &pack.rules {
            let Some(examples) = &rule.examples else {
                continue;
            };
            for (kind, example) in [("fail", &examples.fail), ("pass", &examples.pass)] {
                verify_example(set, &schema, pack, rule, kind, example, &mut problems);
            }
        }
        if !problems.is_empty() {
            errors.push(RuleFileError::new(source, problems));
        }
    }
    errors
}

fn verify_example(
    set: &RuleSet,
    schema: &RecordSchema,
    pack: &Pack,
    rule: &Rule,
    kind: &str,
    example: &Example,
    problems: &mut Vec<RuleProblem>,
) {
    let records = example.to_records(&pack.source);
    let mut valid = true;
    for (index, record) in records.iter().enumerate() {
        for violation in schema.validate(&record.value) {
            valid = false;
            let spans = example
                .spans
                .get(index)
                .map(Vec::as_slice)
                .unwrap_or_default();
            problems.push(RuleProblem::new(
                format!("the `{kind}` example of {} is not a valid record: {}", rule.code, violation.message),
                locate(spans, &violation.pointer, &example.span),
                Some("write the example as the record schema defines it (schemas/encounter-record.schema.json)".to_string()),
            ));
        }
    }
    if !valid {
        return;
    }

    let result = check_rule(set, pack, rule, &records);
    let problem = if result.evaluated == 0 {
        Some((
            format!(
                "the `{kind}` example of {} is not evaluated by the rule",
                rule.code
            ),
            "make the example meet the pack's `applies_when` (and the rule's `when`, if any)",
        ))
    } else if kind == "fail" && result.findings.is_empty() {
        Some((
            format!("the `fail` example of {} passes the rule", rule.code),
            "change the example so that it lacks what the rule requires",
        ))
    } else if kind == "pass" && !result.findings.is_empty() {
        Some((
            format!("the `pass` example of {} fails the rule", rule.code),
            "change the example so that it records everything the rule requires",
        ))
    } else {
        None
    };
    if let Some((message, help)) = problem {
        problems.push(RuleProblem::new(
            message,
            example.span.clone(),
            Some(help.to_string()),
        ));
    }
}

/// Returns the span of the node at `pointer`, or of its nearest written ancestor.
fn locate(spans: &[(String, Span)], pointer: &str, fallback: &Span) -> Span {
    let mut current = pointer;
    loop {
        if let Some((_, span)) = spans.iter().find(|(p, _)| p == current) {
            return span.clone();
        }
        match current.rfind('/') {
            Some(at) => current = &current[..at],
            None => return fallback.clone(),
        }
    }
}
