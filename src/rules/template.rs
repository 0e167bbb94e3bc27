//! Message and help templates (minijinja, strict about undefined names).
//!
//! Templates see only the variables in [`TEMPLATE_VARIABLES`]. The patient
//! object is deliberately absent, so a lint message cannot print patient
//! data even if a rule author asks for it.

use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;

use crate::finding::{Evidence, Miss};

/// The names a message or help template may use.
pub const TEMPLATE_VARIABLES: &[&str] = &[
    "record_id",
    "date_of_service",
    "claim_id",
    "payer_name",
    "rule",
    "pack",
    "evidence",
    "misses",
];

/// The names that only patient-month rules' templates may use: the month
/// (`YYYY-MM`) and the encounter ids of the group's records.
pub const GROUP_TEMPLATE_VARIABLES: &[&str] = &["month", "group_records"];

/// The values a message or help template is rendered with.
#[derive(Debug, Serialize)]
pub struct TemplateContext<'a> {
    pub record_id: &'a str,
    pub date_of_service: &'a str,
    pub claim_id: &'a str,
    pub payer_name: &'a str,
    pub rule: RuleInfo<'a>,
    pub pack: PackInfo<'a>,
    pub evidence: &'a [Evidence],
    pub misses: &'a [Miss],
    /// The group's month, for patient-month rules only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub month: Option<&'a str>,
    /// The encounter ids of the group's records, for patient-month rules only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_records: Option<&'a [String]>,
}

#[derive(Debug, Serialize)]
pub struct RuleInfo<'a> {
    pub code: &'a str,
    pub name: &'a str,
}

#[derive(Debug, Serialize)]
pub struct PackInfo<'a> {
    pub id: &'a str,
    pub version: &'a str,
}

/// Creates the template environment: strict undefined handling, no HTML
/// auto-escaping (output is plain text).
pub fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    env
}

/// Adds a template, rejecting syntax errors and names outside
/// [`TEMPLATE_VARIABLES`] and `extra`.
pub fn add(
    env: &mut Environment<'static>,
    name: String,
    source: &str,
    extra: &[&str],
) -> Result<(), String> {
    env.add_template_owned(name.clone(), source.to_string())
        .map_err(|e| format!("invalid template: {}", e.detail().unwrap_or(&e.to_string())))?;
    let template = env
        .get_template(&name)
        .map_err(|e| format!("invalid template: {e}"))?;
    let available: Vec<&str> = TEMPLATE_VARIABLES.iter().chain(extra).copied().collect();
    let mut unknown: Vec<String> = template
        .undeclared_variables(false)
        .into_iter()
        .filter(|v| !available.contains(&v.as_str()))
        .collect();
    unknown.sort();
    if let Some(first) = unknown.first() {
        if GROUP_TEMPLATE_VARIABLES.contains(&first.as_str()) {
            return Err(format!(
                "template uses `{first}`, which only rules with `scope: patient-month` have"
            ));
        }
        let hint = match crate::yaml::suggest(first, &available) {
            Some(near) => format!(" (did you mean `{near}`?)"),
            None => String::new(),
        };
        return Err(format!(
            "template uses undefined variable `{first}`{hint}; available: {}",
            available.join(", ")
        ));
    }
    Ok(())
}

/// Renders a compiled template. A render error (a filter failing on a value)
/// falls back to the error text, so that a finding is never lost.
pub fn render(env: &Environment<'static>, name: &str, context: &TemplateContext) -> String {
    match env
        .get_template(name)
        .and_then(|t| t.render(minijinja::value::Serde(context)))
    {
        Ok(text) => text.trim().to_string(),
        Err(error) => format!("(message template failed: {error})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_variable_is_rejected_with_suggestion() {
        let mut env = environment();
        let error = add(
            &mut env,
            "t".into(),
            "no invite on {{ date_of_servce }}",
            &[],
        )
        .unwrap_err();
        assert!(error.contains("`date_of_servce`"), "{error}");
        assert!(error.contains("did you mean `date_of_service`?"), "{error}");
    }

    #[test]
    fn patient_data_is_not_available() {
        let mut env = environment();
        assert!(add(&mut env, "t".into(), "{{ patient.email }}", &[]).is_err());
    }

    #[test]
    fn syntax_error_is_rejected() {
        let mut env = environment();
        assert!(add(&mut env, "t".into(), "{{ record_id ", &[]).is_err());
    }

    #[test]
    fn group_variables_need_a_patient_month_rule() {
        let mut env = environment();
        let error = add(&mut env, "t".into(), "billed twice in {{ month }}", &[]).unwrap_err();
        assert_eq!(
            error,
            "template uses `month`, which only rules with `scope: patient-month` have"
        );
        assert!(add(
            &mut env,
            "u".into(),
            "billed twice in {{ month }}",
            GROUP_TEMPLATE_VARIABLES
        )
        .is_ok());
    }
}
