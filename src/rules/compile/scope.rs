//! Compiles a rule's `scope` and, for patient-month rules, the shape their
//! evidence is checked against and the `members` that join a group.

use std::collections::BTreeMap;

use super::condition::compile_condition;
use super::path::ShapeScope;
use crate::rules::condition::CondNode;
use crate::rules::shape::{ScalarKind, Shape};
use crate::rules::RuleScope;
use crate::yaml::{MapReader, YamlError};

/// Reads `scope: record | patient-month`; a rule without it is `record`.
pub fn read_scope(map: &mut MapReader<'_>, errors: &mut Vec<YamlError>) -> RuleScope {
    let Some(node) = map.optional("scope") else {
        return RuleScope::Record;
    };
    match node.as_str("scope") {
        Ok("record") => RuleScope::Record,
        Ok("patient-month") => RuleScope::PatientMonth,
        Ok(other) => {
            errors.push(
                YamlError::new(format!("unknown scope `{other}`"), node.span.clone())
                    .with_help("use `record` (the default) or `patient-month`"),
            );
            RuleScope::Record
        }
        Err(error) => {
            errors.push(error);
            RuleScope::Record
        }
    }
}

/// Builds the shape of a patient-month group: the patient id, the month
/// (`YYYY-MM`) and the records of that patient in that month.
pub fn group_shape(record: &Shape) -> Shape {
    let mut fields = BTreeMap::new();
    fields.insert("patient_id".to_string(), Shape::Scalar(ScalarKind::String));
    fields.insert("month".to_string(), Shape::Scalar(ScalarKind::String));
    fields.insert(
        "records".to_string(),
        Shape::Array(Box::new(record.clone())),
    );
    Shape::Object(fields)
}

/// Compiles `members`, a condition on each record that decides whether it
/// joins its patient's month. Only patient-month rules take it.
pub fn compile_members(
    map: &mut MapReader<'_>,
    scope: RuleScope,
    record: ShapeScope<'_>,
    errors: &mut Vec<YamlError>,
) -> Option<CondNode> {
    let node = map.optional("members")?;
    if scope != RuleScope::PatientMonth {
        errors.push(
            YamlError::new(
                "`members` applies only to rules with `scope: patient-month`",
                node.span.clone(),
            )
            .with_help(
                "add `scope: patient-month`, or use `when` to limit where a record rule applies",
            ),
        );
        return None;
    }
    compile_condition(node, record, errors)
}
