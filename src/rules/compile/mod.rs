//! Compiles one pack file: pack metadata, rules and their templates.

mod condition;
mod denial;
mod examples;
mod path;
mod scope;

pub(crate) use self::examples::as_record as example_record;

use jiff::civil::Date;

use self::condition::compile_condition;
#[cfg(test)]
pub(crate) use self::path::select_steps;
use self::path::ShapeScope;
use super::error::{RuleFileError, RuleProblem};
use super::shape::Shape;
use super::template;
use super::{AppealSpec, DenialCode, Pack, PackSource, Rule, RuleScope};
use crate::finding::{Layer, Severity};
use crate::yaml::{parse, Node, ParseLimits, YamlError};

/// Compiles one pack file against the record `shape`, adding its templates
/// to `templates`.
pub fn compile_pack(
    source: &PackSource,
    shape: &Shape,
    templates: &mut minijinja::Environment<'static>,
) -> Result<Pack, RuleFileError> {
    let root = parse(&source.text, ParseLimits::default())
        .map_err(|e| RuleFileError::new(source, vec![e.into()]))?;
    let mut errors: Vec<YamlError> = Vec::new();
    let pack = compile_root(&root, source, shape, templates, &mut errors);
    if !errors.is_empty() {
        return Err(RuleFileError::new(
            source,
            errors.into_iter().map(RuleProblem::from).collect(),
        ));
    }
    pack.ok_or_else(|| {
        RuleFileError::new(
            source,
            vec![RuleProblem::new(
                "the pack could not be compiled",
                0..0,
                None,
            )],
        )
    })
}

fn compile_root(
    root: &Node,
    source: &PackSource,
    shape: &Shape,
    templates: &mut minijinja::Environment<'static>,
    errors: &mut Vec<YamlError>,
) -> Option<Pack> {
    let mut top = root
        .as_map("the pack file")
        .map_err(|e| errors.push(e))
        .ok()?;
    let header = top.required("pack").map_err(|e| errors.push(e)).ok();
    let rules_node = top.required("rules").map_err(|e| errors.push(e)).ok();
    errors.extend(top.finish());
    let header = header?;
    let scope = ShapeScope {
        root: shape,
        item: shape,
    };

    let mut map = header.as_map("`pack`").map_err(|e| errors.push(e)).ok()?;
    let id = required_str(&mut map, "id", errors);
    let title = required_str(&mut map, "title", errors);
    let version = required_str(&mut map, "version", errors);
    let layer = map
        .required("layer")
        .map_err(|e| errors.push(e))
        .ok()
        .and_then(|n| parse_layer(n, errors));
    let (effective_from, effective_until) = match map.optional("effective") {
        Some(node) => compile_effective(node, errors),
        None => (None, None),
    };
    let denials = match map.optional("denials") {
        Some(node) => compile_denials(node, errors),
        None => Vec::new(),
    };
    let applies_when = map
        .optional("applies_when")
        .and_then(|node| compile_condition(node, scope, errors));
    let appeal = map
        .optional("appeal")
        .and_then(|node| compile_appeal(node, source, errors));
    errors.extend(map.finish());

    if let Some(id) = &id {
        if !is_kebab_or_code(id) {
            errors.push(YamlError::new(
                format!("pack id `{id}` must be lowercase letters, digits and hyphens"),
                header.span.clone(),
            ));
        }
    }

    let mut rules = Vec::new();
    if let (Some(node), Some(pack_id), Some(pack_layer)) = (rules_node, &id, layer) {
        // Templates are named per pack version, because two versions of a
        // pack share rule codes.
        let namespace = format!("{pack_id}@{}", version.as_deref().unwrap_or_default());
        match node.as_seq("`rules`") {
            Ok([]) => errors.push(YamlError::new("`rules` is empty", node.span.clone())),
            Ok(items) => {
                for item in items {
                    if let Some(rule) =
                        compile_rule(item, &namespace, pack_layer, scope, templates, errors)
                    {
                        check_duplicate(&rules, &rule, item, errors);
                        rules.push(rule);
                    }
                }
            }
            Err(e) => errors.push(e),
        }
    }

    Some(Pack {
        id: id?,
        title: title?,
        version: version?,
        layer: layer?,
        effective_from,
        effective_until,
        denials,
        applies_when,
        appeal,
        rules,
        source: source.path.clone(),
    })
}

fn check_duplicate(rules: &[Rule], rule: &Rule, node: &Node, errors: &mut Vec<YamlError>) {
    let span = node
        .as_map("rule")
        .ok()
        .and_then(|m| m.key_span("code"))
        .unwrap_or(node.span.clone());
    if rules.iter().any(|r| r.code == rule.code) {
        errors.push(
            YamlError::new(format!("duplicate rule code `{}`", rule.code), span.clone()).with_help(
                "give each rule a code of its own; codes identify findings across versions",
            ),
        );
    }
    if rules.iter().any(|r| r.name == rule.name) {
        errors.push(YamlError::new(
            format!("duplicate rule name `{}`", rule.name),
            span,
        ));
    }
}

fn compile_rule(
    node: &Node,
    namespace: &str,
    pack_layer: Layer,
    scope: ShapeScope<'_>,
    templates: &mut minijinja::Environment<'static>,
    errors: &mut Vec<YamlError>,
) -> Option<Rule> {
    let mut map = node.as_map("a rule").map_err(|e| errors.push(e)).ok()?;
    let code_node = map.required("code").map_err(|e| errors.push(e)).ok();
    let code = code_node.and_then(|n| n.as_str("code").map_err(|e| errors.push(e)).ok());
    let name_node = map.required("name").map_err(|e| errors.push(e)).ok();
    let name = name_node.and_then(|n| n.as_str("name").map_err(|e| errors.push(e)).ok());
    let layer = match map.optional("layer") {
        Some(n) => parse_layer(n, errors),
        None => Some(pack_layer),
    };
    let severity = map
        .required("severity")
        .map_err(|e| errors.push(e))
        .ok()
        .and_then(|n| parse_severity(n, errors));
    let citation = required_str(&mut map, "citation", errors);
    let description = required_str(&mut map, "description", errors);
    let message = map.required("message").map_err(|e| errors.push(e)).ok();
    let help = map.required("help").map_err(|e| errors.push(e)).ok();

    // A patient-month rule's `when` and evidence read the group; its
    // `members` and examples are records.
    let rule_scope = scope::read_scope(&mut map, errors);
    let group = scope::group_shape(scope.root);
    let evidence_scope = match rule_scope {
        RuleScope::Record => scope,
        RuleScope::PatientMonth => ShapeScope {
            root: &group,
            item: &group,
        },
    };
    let members = scope::compile_members(&mut map, rule_scope, scope, errors);
    let when = map
        .optional("when")
        .and_then(|n| compile_condition(n, evidence_scope, errors));
    let evidence = map
        .required("evidence")
        .map_err(|e| errors.push(e))
        .ok()
        .and_then(|n| compile_condition(n, evidence_scope, errors));
    let examples = map
        .optional("examples")
        .and_then(|n| examples::compile_examples(n, scope.root, errors));
    errors.extend(map.finish());

    if let (Some(code), Some(node)) = (code, code_node) {
        if !is_rule_code(code) {
            errors.push(
                YamlError::new(
                    format!("rule code `{code}` is not a valid code"),
                    node.span.clone(),
                )
                .with_help(
                    "use uppercase letters and digits, a hyphen, then digits, e.g. CCM32-001",
                ),
            );
        }
    }
    if let (Some(name), Some(node)) = (name, name_node) {
        if !is_kebab(name) {
            errors.push(
                YamlError::new(
                    format!("rule name `{name}` is not kebab-case"),
                    node.span.clone(),
                )
                .with_help(
                    "use lowercase words joined by hyphens, e.g. portal-invitation-not-logged",
                ),
            );
        }
    }

    let code = code?;
    let message_template = add_template(
        templates, namespace, code, "message", rule_scope, message?, errors,
    )?;
    let help_template = add_template(
        templates, namespace, code, "help", rule_scope, help?, errors,
    )?;
    Some(Rule {
        code: code.to_string(),
        name: name?.to_string(),
        layer: layer?,
        severity: severity?,
        scope: rule_scope,
        citation: citation?,
        description: description?,
        message_template,
        help_template,
        members,
        when,
        evidence: evidence?,
        examples,
    })
}

fn add_template(
    templates: &mut minijinja::Environment<'static>,
    namespace: &str,
    code: &str,
    kind: &str,
    scope: RuleScope,
    node: &Node,
    errors: &mut Vec<YamlError>,
) -> Option<String> {
    let text = node.as_str(kind).map_err(|e| errors.push(e)).ok()?;
    let name = format!("{namespace}/{code}/{kind}");
    let extra = match scope {
        RuleScope::Record => &[][..],
        RuleScope::PatientMonth => template::GROUP_TEMPLATE_VARIABLES,
    };
    match template::add(templates, name.clone(), text, extra) {
        Ok(()) => Some(name),
        Err(message) => {
            errors.push(YamlError::new(message, node.span.clone()));
            None
        }
    }
}

fn required_str(
    map: &mut crate::yaml::MapReader<'_>,
    key: &'static str,
    errors: &mut Vec<YamlError>,
) -> Option<String> {
    let node = map.required(key).map_err(|e| errors.push(e)).ok()?;
    let text = node.as_str(key).map_err(|e| errors.push(e)).ok()?;
    if text.trim().is_empty() {
        errors.push(YamlError::new(
            format!("`{key}` is empty"),
            node.span.clone(),
        ));
        return None;
    }
    Some(text.trim().to_string())
}

fn parse_layer(node: &Node, errors: &mut Vec<YamlError>) -> Option<Layer> {
    match node.as_str("layer") {
        Ok("cms") => Some(Layer::Cms),
        Ok("payer") => Some(Layer::Payer),
        Ok(other) => {
            errors.push(
                YamlError::new(format!("unknown layer `{other}`"), node.span.clone()).with_help(
                    "use `cms` for Medicare requirements or `payer` for a payer's own policy",
                ),
            );
            None
        }
        Err(e) => {
            errors.push(e);
            None
        }
    }
}

fn parse_severity(node: &Node, errors: &mut Vec<YamlError>) -> Option<Severity> {
    match node.as_str("severity") {
        Ok("error") => Some(Severity::Error),
        Ok("warning") => Some(Severity::Warning),
        Ok("info") => Some(Severity::Info),
        Ok(other) => {
            let help = match crate::yaml::suggest(other, &["error", "warning", "info"]) {
                Some(near) => format!("did you mean `{near}`?"),
                None => "use error, warning or info".to_string(),
            };
            errors.push(
                YamlError::new(format!("unknown severity `{other}`"), node.span.clone())
                    .with_help(help),
            );
            None
        }
        Err(e) => {
            errors.push(e);
            None
        }
    }
}

fn compile_effective(node: &Node, errors: &mut Vec<YamlError>) -> (Option<Date>, Option<Date>) {
    let Ok(mut map) = node.as_map("`effective`").map_err(|e| errors.push(e)) else {
        return (None, None);
    };
    let mut read = |key: &'static str| -> Option<Date> {
        let node = map.optional(key)?;
        let text = node.as_str(key).map_err(|e| errors.push(e)).ok()?;
        text.parse::<Date>()
            .map_err(|_| {
                errors.push(YamlError::new(
                    format!("`{key}` must be a date (YYYY-MM-DD), found `{text}`"),
                    node.span.clone(),
                ))
            })
            .ok()
    };
    let from = read("from");
    let until = read("until");
    errors.extend(map.finish());
    if let (Some(from), Some(until)) = (from, until) {
        if until < from {
            errors.push(YamlError::new(
                "`effective.until` is before `effective.from`",
                node.span.clone(),
            ));
        }
    }
    (from, until)
}

fn compile_denials(node: &Node, errors: &mut Vec<YamlError>) -> Vec<DenialCode> {
    let Ok(items) = node.as_seq("`denials`").map_err(|e| errors.push(e)) else {
        return Vec::new();
    };
    let mut out: Vec<DenialCode> = Vec::new();
    for item in items {
        let Ok(mut map) = item.as_map("a denial").map_err(|e| errors.push(e)) else {
            continue;
        };
        let label_span = map.key_span("label");
        let label = required_str(&mut map, "label", errors);
        let description = required_str(&mut map, "description", errors);
        let matches = match map.optional("matches") {
            Some(node) => denial::compile_matches(node, errors),
            None => Vec::new(),
        };
        errors.extend(map.finish());
        let (Some(label), Some(description)) = (label, description) else {
            continue;
        };
        if out.iter().any(|d| d.label.eq_ignore_ascii_case(&label)) {
            let span = label_span.unwrap_or(item.span.clone());
            errors.push(YamlError::new(
                format!("duplicate denial label `{label}`"),
                span,
            ));
            continue;
        }
        out.push(DenialCode {
            label,
            description,
            matches,
        });
    }
    out
}

fn compile_appeal(
    node: &Node,
    source: &PackSource,
    errors: &mut Vec<YamlError>,
) -> Option<AppealSpec> {
    let mut map = node.as_map("`appeal`").map_err(|e| errors.push(e)).ok()?;
    let template = map.required("template").map_err(|e| errors.push(e)).ok();
    errors.extend(map.finish());
    let template = template?;
    let text = template
        .as_str("template")
        .map_err(|e| errors.push(e))
        .ok()?
        .trim();

    let relative = std::path::Path::new(text);
    let escapes = relative.components().any(|c| {
        !matches!(
            c,
            std::path::Component::Normal(_) | std::path::Component::CurDir
        )
    });
    if text.is_empty() || escapes {
        errors.push(
            YamlError::new(
                format!(
                    "appeal template `{text}` must be a file path relative to the pack's folder"
                ),
                template.span.clone(),
            )
            .with_help("keep the template beside the pack, e.g. `template: ccm32.appeal.md.j2`"),
        );
        return None;
    }
    let path = match source.path.parent() {
        Some(folder) => folder.join(relative),
        None => relative.to_path_buf(),
    };
    if !source.shipped {
        return Some(AppealSpec {
            template: path,
            embedded: None,
        });
    }
    match super::shipped_template(&path) {
        Some(text) => Some(AppealSpec {
            template: path,
            embedded: Some(text),
        }),
        None => {
            errors.push(YamlError::new(
                format!(
                    "appeal template `{}` is not among the files shipped with claimlint",
                    path.display()
                ),
                template.span.clone(),
            ));
            None
        }
    }
}

fn is_kebab(text: &str) -> bool {
    !text.is_empty()
        && !text.starts_with('-')
        && !text.ends_with('-')
        && !text.contains("--")
        && text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

fn is_kebab_or_code(text: &str) -> bool {
    is_kebab(text)
}

fn is_rule_code(text: &str) -> bool {
    let Some((prefix, number)) = text.rsplit_once('-') else {
        return false;
    };
    !prefix.is_empty()
        && prefix
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-')
        && prefix.starts_with(|c: char| c.is_ascii_uppercase())
        && !number.is_empty()
        && number.chars().all(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_codes_and_names_are_checked() {
        assert!(is_rule_code("CCM32-001"));
        assert!(is_rule_code("CMS-CCM-004"));
        assert!(!is_rule_code("ccm32-001"));
        assert!(!is_rule_code("CCM32"));
        assert!(is_kebab("portal-invitation-not-logged"));
        assert!(!is_kebab("Portal_Invite"));
    }
}
