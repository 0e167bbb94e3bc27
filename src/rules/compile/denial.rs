//! Compiles the `matches` of a pack's denial: the adjustment and remark
//! code combinations (CARC with RARCs) that mean the pack's denial label,
//! optionally limited to some payers (`payer_ids`) or to claims that carry
//! given REF segments (`refs`).

use crate::rules::{DenialMatch, RefCondition, GROUP_CODES};
use crate::yaml::{Node, YamlError};

/// Compiles a `matches` list. Each entry names a CARC, optionally its group
/// code, and the RARCs of which any one must accompany it.
pub(super) fn compile_matches(node: &Node, errors: &mut Vec<YamlError>) -> Vec<DenialMatch> {
    let Ok(items) = node.as_seq("`matches`").map_err(|e| errors.push(e)) else {
        return Vec::new();
    };
    if items.is_empty() {
        errors.push(
            YamlError::new("`matches` is empty", node.span.clone())
                .with_help("list at least one {carc, rarcs} combination, or remove `matches`"),
        );
    }
    items
        .iter()
        .filter_map(|item| compile_match(item, errors))
        .collect()
}

fn compile_match(node: &Node, errors: &mut Vec<YamlError>) -> Option<DenialMatch> {
    let mut map = node
        .as_map("a denial match")
        .map_err(|e| errors.push(e))
        .ok()?;
    let group_code = map
        .optional("group_code")
        .and_then(|n| group_code(n, errors));
    let carc = map
        .required("carc")
        .map_err(|e| errors.push(e))
        .ok()
        .and_then(|n| carc(n, errors));
    let rarcs_node = map.required("rarcs").map_err(|e| errors.push(e)).ok();
    let rarcs = rarcs_node.and_then(|n| rarcs(n, errors));
    let payer_ids = match map.optional("payer_ids") {
        Some(n) => payer_ids(n, errors),
        None => Some(Vec::new()),
    };
    let refs = match map.optional("refs") {
        Some(n) => refs(n, errors),
        None => Some(Vec::new()),
    };
    errors.extend(map.finish());

    let denial_match = DenialMatch {
        group_code,
        carc: carc?,
        rarcs: rarcs?,
        payer_ids: payer_ids?,
        refs: refs?,
    };
    if let (Some(reason), Some(node)) = (denial_match.unprocessable_reason(), rarcs_node) {
        errors.push(
            YamlError::new(
                format!("this combination marks a claim as unprocessable ({reason}), which cannot be appealed"),
                node.span.clone(),
            )
            .with_help("remove it: an unprocessable claim must be corrected and submitted again"),
        );
        return None;
    }
    Some(denial_match)
}

fn group_code(node: &Node, errors: &mut Vec<YamlError>) -> Option<String> {
    let text = node.as_str("group_code").map_err(|e| errors.push(e)).ok()?;
    let upper = text.trim().to_ascii_uppercase();
    if GROUP_CODES.contains(&upper.as_str()) {
        return Some(upper);
    }
    // Two-letter codes are too short for edit-distance hints alone; a zero
    // typed for the letter O is the usual slip.
    let help = match crate::yaml::suggest(&upper.replace('0', "O"), GROUP_CODES) {
        Some(near) => format!("did you mean `{near}`?"),
        None => format!(
            "use one of the X12 claim adjustment group codes: {}",
            GROUP_CODES.join(", ")
        ),
    };
    errors.push(
        YamlError::new(format!("unknown group code `{text}`"), node.span.clone()).with_help(help),
    );
    None
}

fn carc(node: &Node, errors: &mut Vec<YamlError>) -> Option<String> {
    let text = node.as_str("carc").map_err(|e| errors.push(e)).ok()?.trim();
    if is_carc(text) {
        return Some(text.to_ascii_uppercase());
    }
    let help = if text.contains('-') {
        "write the group code apart: `group_code: CO` and `carc: 16`"
    } else {
        "a CARC is 1 to 3 digits, or a letter and 1 or 2 digits (16, 252, B7)"
    };
    errors.push(
        YamlError::new(
            format!("`{text}` is not a claim adjustment reason code"),
            node.span.clone(),
        )
        .with_help(help),
    );
    None
}

fn rarcs(node: &Node, errors: &mut Vec<YamlError>) -> Option<Vec<String>> {
    let items = node.as_seq("`rarcs`").map_err(|e| errors.push(e)).ok()?;
    if items.is_empty() {
        errors.push(
            YamlError::new("`rarcs` is empty", node.span.clone()).with_help(
                "list the remark codes of which any one identifies the denial, e.g. [N706]",
            ),
        );
        return None;
    }
    let mut codes: Vec<String> = Vec::new();
    let mut valid = true;
    for item in items {
        let Ok(text) = item.as_str("a RARC").map_err(|e| errors.push(e)) else {
            valid = false;
            continue;
        };
        let code = text.trim().to_ascii_uppercase();
        if !is_rarc(&code) {
            errors.push(
                YamlError::new(
                    format!("`{text}` is not a remittance advice remark code"),
                    item.span.clone(),
                )
                .with_help("a RARC is M, MA or N followed by digits, e.g. N706, M127, MA130"),
            );
            valid = false;
        } else if codes.contains(&code) {
            errors.push(YamlError::new(
                format!("duplicate RARC `{code}`"),
                item.span.clone(),
            ));
        } else {
            codes.push(code);
        }
    }
    valid.then_some(codes)
}

fn payer_ids(node: &Node, errors: &mut Vec<YamlError>) -> Option<Vec<String>> {
    let items = node
        .as_seq("`payer_ids`")
        .map_err(|e| errors.push(e))
        .ok()?;
    if items.is_empty() {
        errors.push(
            YamlError::new("`payer_ids` is empty", node.span.clone())
                .with_help("list the payer ids this match is limited to, e.g. [\"60054\"], or remove `payer_ids` to match any payer"),
        );
        return None;
    }
    let mut ids: Vec<String> = Vec::new();
    let mut valid = true;
    for item in items {
        let Ok(text) = item.as_str("a payer id").map_err(|e| errors.push(e)) else {
            valid = false;
            continue;
        };
        let id = text.trim();
        if id.is_empty() || id.chars().any(char::is_whitespace) {
            errors.push(
                YamlError::new(format!("`{text}` is not a payer id"), item.span.clone())
                    .with_help("write the payer id as the remittance sends it in REF*2U or N1*PR, e.g. \"60054\""),
            );
            valid = false;
        } else if ids.iter().any(|known| known == id) {
            errors.push(YamlError::new(
                format!("duplicate payer id `{id}`"),
                item.span.clone(),
            ));
        } else {
            ids.push(id.to_string());
        }
    }
    valid.then_some(ids)
}

fn refs(node: &Node, errors: &mut Vec<YamlError>) -> Option<Vec<RefCondition>> {
    let items = node.as_seq("`refs`").map_err(|e| errors.push(e)).ok()?;
    if items.is_empty() {
        errors.push(
            YamlError::new("`refs` is empty", node.span.clone())
                .with_help("list {qualifier, value} pairs the claim must carry, e.g. [{qualifier: G1, value: CCM}], or remove `refs`"),
        );
        return None;
    }
    let conditions: Vec<Option<RefCondition>> = items
        .iter()
        .map(|item| ref_condition(item, errors))
        .collect();
    conditions.into_iter().collect()
}

fn ref_condition(node: &Node, errors: &mut Vec<YamlError>) -> Option<RefCondition> {
    let mut map = node
        .as_map("a REF condition")
        .map_err(|e| errors.push(e))
        .ok()?;
    let qualifier = map
        .required("qualifier")
        .map_err(|e| errors.push(e))
        .ok()
        .and_then(|n| ref_qualifier(n, errors));
    let value = map
        .required("value")
        .map_err(|e| errors.push(e))
        .ok()
        .and_then(|n| {
            let text = n.as_str("value").map_err(|e| errors.push(e)).ok()?.trim();
            if text.is_empty() {
                errors.push(
                    YamlError::new("the REF value is empty", n.span.clone())
                        .with_help("write the REF02 value the claim must carry"),
                );
                return None;
            }
            Some(text.to_string())
        });
    errors.extend(map.finish());
    Some(RefCondition {
        qualifier: qualifier?,
        value: value?,
    })
}

fn ref_qualifier(node: &Node, errors: &mut Vec<YamlError>) -> Option<String> {
    let text = node
        .as_str("qualifier")
        .map_err(|e| errors.push(e))
        .ok()?
        .trim();
    let upper = text.to_ascii_uppercase();
    if (2..=3).contains(&upper.len()) && upper.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Some(upper);
    }
    errors.push(
        YamlError::new(
            format!("`{text}` is not a REF qualifier"),
            node.span.clone(),
        )
        .with_help("a REF01 qualifier is 2 or 3 letters or digits, e.g. F8, G1, 6R"),
    );
    None
}

/// True for a CARC as X12 writes it: 1 to 3 digits, or one letter and 1 or
/// 2 digits.
pub(crate) fn is_carc(text: &str) -> bool {
    let bytes = text.as_bytes();
    match bytes {
        [first, rest @ ..] if first.is_ascii_alphabetic() => {
            (1..=2).contains(&rest.len()) && rest.iter().all(u8::is_ascii_digit)
        }
        _ => (1..=3).contains(&bytes.len()) && bytes.iter().all(u8::is_ascii_digit),
    }
}

/// True for a RARC: `M`, `MA` or `N` followed by 1 to 4 digits.
pub(crate) fn is_rarc(text: &str) -> bool {
    let digits = text
        .strip_prefix("MA")
        .or_else(|| text.strip_prefix('M'))
        .or_else(|| text.strip_prefix('N'));
    digits.is_some_and(|d| (1..=4).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{PackSource, RuleSet};

    const RULES: &str = "rules:\n  - code: T-001\n    name: t\n    severity: error\n    citation: c\n    description: d\n    message: m\n    help: h\n    evidence: { field: $.claim.id, present: true }\n";

    fn pack(header_extra: &str) -> String {
        format!(
            "pack:\n  id: t\n  title: T\n  version: 1.0.0\n  layer: payer\n{header_extra}{RULES}"
        )
    }

    fn denials(body: &str) -> String {
        pack(&format!(
            "  denials:\n    - label: CCM32\n      description: d\n{body}"
        ))
    }

    /// Compiles `text` and returns its problems as (message, help, located text).
    fn problems(text: &str) -> Vec<(String, Option<String>, String)> {
        match RuleSet::compile(&[PackSource::new("t.yaml", text.to_string())]) {
            Ok(_) => Vec::new(),
            Err(errors) => errors
                .into_iter()
                .flat_map(|e| e.problems)
                .map(|p| {
                    (
                        p.message,
                        p.help,
                        text.get(p.span.clone()).unwrap_or("").to_string(),
                    )
                })
                .collect(),
        }
    }

    #[test]
    fn matches_compile() {
        let text = denials("      matches:\n        - { group_code: co, carc: 16, rarcs: [n706, M127] }\n        - { carc: \"252\", rarcs: [N706] }\n");
        let set = RuleSet::compile(&[PackSource::new("t.yaml", text)]).expect("compiles");
        let matches = &set.packs[0].denials[0].matches;
        assert_eq!(matches.len(), 2);
        assert_eq!(matches[0].group_code.as_deref(), Some("CO"));
        assert_eq!(matches[0].carc, "16");
        assert_eq!(matches[0].rarcs, ["N706", "M127"]);
        assert_eq!(matches[1].group_code, None);
    }

    #[test]
    fn payer_and_ref_conditions_compile() {
        let text = denials("      matches:\n        - group_code: CO\n          carc: 16\n          rarcs: [N706]\n          payer_ids: [\"60054\", 77777]\n          refs: [{ qualifier: g1, value: CCM }]\n");
        let set = RuleSet::compile(&[PackSource::new("t.yaml", text)]).expect("compiles");
        let matched = &set.packs[0].denials[0].matches[0];
        assert_eq!(matched.payer_ids, ["60054", "77777"]);
        assert_eq!(matched.refs.len(), 1);
        assert_eq!(matched.refs[0].qualifier, "G1");
        assert_eq!(matched.refs[0].value, "CCM");
    }

    #[test]
    fn bad_payer_and_ref_conditions_are_located() {
        let found = problems(&denials(
            "      matches:\n        - { carc: 16, rarcs: [N706], payer_ids: [] }\n",
        ));
        assert!(
            found
                .iter()
                .any(|(m, _, at)| m == "`payer_ids` is empty" && at.starts_with('[')),
            "{found:?}"
        );

        let found = problems(&denials(
            "      matches:\n        - { carc: 16, rarcs: [N706], payer_ids: [\"600 54\"] }\n",
        ));
        assert!(
            found
                .iter()
                .any(|(m, _, at)| m == "`600 54` is not a payer id" && at == "\"600 54\""),
            "{found:?}"
        );

        let found = problems(&denials("      matches:\n        - { carc: 16, rarcs: [N706], refs: [{ qualifier: G-1, value: X }] }\n"));
        assert!(
            found
                .iter()
                .any(|(m, _, at)| m == "`G-1` is not a REF qualifier" && at == "G-1"),
            "{found:?}"
        );

        let found = problems(&denials("      matches:\n        - { carc: 16, rarcs: [N706], refs: [{ qualifier: G1, valu: X }] }\n"));
        assert!(
            found
                .iter()
                .any(|(m, h, at)| m == "unknown key `valu` in a REF condition"
                    && h.as_deref() == Some("did you mean `value`?")
                    && at == "valu"),
            "{found:?}"
        );

        let found = problems(&denials(
            "      matches:\n        - { carc: 16, rarcs: [N706], payer_id: [\"60054\"] }\n",
        ));
        assert!(
            found.iter().any(
                |(_, h, at)| h.as_deref() == Some("did you mean `payer_ids`?") && at == "payer_id"
            ),
            "{found:?}"
        );
    }

    #[test]
    fn misspelled_match_key_is_located() {
        let found = problems(&denials(
            "      matches:\n        - { carc: 16, rarc: [N706] }\n",
        ));
        assert!(
            found
                .iter()
                .any(|(m, h, at)| m == "unknown key `rarc` in a denial match"
                    && h.as_deref() == Some("did you mean `rarcs`?")
                    && at == "rarc"),
            "{found:?}"
        );
    }

    #[test]
    fn bad_codes_are_located() {
        let found = problems(&denials(
            "      matches:\n        - { group_code: C0, carc: CO-16, rarcs: [X706] }\n",
        ));
        let messages: Vec<&str> = found.iter().map(|(m, _, _)| m.as_str()).collect();
        assert!(
            messages.contains(&"unknown group code `C0`"),
            "{messages:?}"
        );
        assert!(
            messages.contains(&"`CO-16` is not a claim adjustment reason code"),
            "{messages:?}"
        );
        assert!(
            messages.contains(&"`X706` is not a remittance advice remark code"),
            "{messages:?}"
        );
        let group = found
            .iter()
            .find(|(m, _, _)| m.starts_with("unknown group"))
            .unwrap();
        assert_eq!(group.1.as_deref(), Some("did you mean `CO`?"));
        assert_eq!(group.2, "C0");
    }

    #[test]
    fn empty_rarcs_and_matches_are_rejected() {
        let found = problems(&denials(
            "      matches:\n        - { carc: 16, rarcs: [] }\n",
        ));
        assert!(
            found.iter().any(|(m, _, _)| m == "`rarcs` is empty"),
            "{found:?}"
        );
        let found = problems(&denials("      matches: []\n"));
        assert!(
            found.iter().any(|(m, _, _)| m == "`matches` is empty"),
            "{found:?}"
        );
        let found = problems(&denials("      matches:\n        - { carc: 16 }\n"));
        assert!(
            found
                .iter()
                .any(|(m, _, _)| m == "a denial match is missing the required key `rarcs`"),
            "{found:?}"
        );
    }

    #[test]
    fn unprocessable_match_is_rejected() {
        let found = problems(&denials(
            "      matches:\n        - { carc: 16, rarcs: [MA130] }\n",
        ));
        assert!(
            found
                .iter()
                .any(|(m, _, at)| m.contains("unprocessable") && at.starts_with("[MA130")),
            "{found:?}"
        );
        let found = problems(&denials(
            "      matches:\n        - { carc: 252, rarcs: [N706, N211] }\n",
        ));
        assert!(
            found.iter().any(|(m, _, _)| m.contains("N211")),
            "{found:?}"
        );
    }

    #[test]
    fn duplicate_labels_are_rejected() {
        let text = pack("  denials:\n    - { label: CCM32, description: a }\n    - { label: ccm32, description: b }\n");
        let found = problems(&text);
        assert!(
            found
                .iter()
                .any(|(m, _, _)| m == "duplicate denial label `ccm32`"),
            "{found:?}"
        );
    }

    #[test]
    fn label_answered_by_two_packs_is_rejected() {
        let a = denials("");
        let b = a.replace("id: t", "id: u").replace("T-001", "U-001");
        let errors =
            RuleSet::compile(&[PackSource::new("a.yaml", a), PackSource::new("b.yaml", b)])
                .unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(
            errors[0].problems[0].message,
            "denial `CCM32` is already answered by a.yaml"
        );
    }

    #[test]
    fn appeal_template_resolves_beside_the_pack() {
        let text = pack("  appeal:\n    template: t.appeal.md.j2\n");
        let set = RuleSet::compile(&[PackSource::new("packs/t.yaml", text)]).expect("compiles");
        let appeal = set.packs[0].appeal.as_ref().expect("appeal");
        assert_eq!(
            appeal.template,
            std::path::Path::new("packs/t.appeal.md.j2")
        );
        assert_eq!(appeal.embedded, None);
    }

    #[test]
    fn appeal_template_outside_the_pack_folder_is_rejected() {
        for path in ["../t.j2", "/etc/t.j2", "a/../../t.j2"] {
            let found = problems(&pack(&format!("  appeal:\n    template: {path}\n")));
            assert!(
                found
                    .iter()
                    .any(|(m, _, at)| m.contains("relative to the pack's folder") && at == path),
                "{path}: {found:?}"
            );
        }
        let found = problems(&pack("  appeal:\n    templat: t.j2\n"));
        assert!(
            found
                .iter()
                .any(|(_, h, _)| h.as_deref() == Some("did you mean `template`?")),
            "{found:?}"
        );
    }

    #[test]
    fn shipped_pack_embeds_its_template() {
        let set = RuleSet::shipped().expect("shipped packs compile");
        let appeal = set.packs[0]
            .appeal
            .as_ref()
            .expect("ccm32 has an appeal template");
        assert!(appeal.embedded.is_some());
        let mut missing = PackSource::shipped().remove(0);
        missing.text = missing
            .text
            .replace("ccm32.appeal.md.j2", "other.md.j2")
            .into();
        let errors = RuleSet::compile(&[missing]).unwrap_err();
        assert!(
            errors[0].problems[0]
                .message
                .contains("not among the files shipped"),
            "{:?}",
            errors[0].problems
        );
    }

    #[test]
    fn carc_and_rarc_shapes() {
        for ok in ["16", "252", "B7", "P12"] {
            assert!(is_carc(ok), "{ok}");
        }
        for bad in ["", "1234", "CO-16", "BB7", "16a"] {
            assert!(!is_carc(bad), "{bad}");
        }
        for ok in ["N706", "M127", "MA130", "N1"] {
            assert!(is_rarc(ok), "{ok}");
        }
        for bad in ["", "N", "X706", "N70612", "MA"] {
            assert!(!is_rarc(bad), "{bad}");
        }
    }
}
