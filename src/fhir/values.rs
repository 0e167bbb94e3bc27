//! Reading FHIR R4 datatypes (Coding, CodeableConcept, HumanName,
//! ContactPoint, Period, Attachment) out of `serde_json` values.
//!
//! Exports are not always valid FHIR, so every reader here tolerates a
//! single object where the specification requires a list, empty strings and
//! missing fields, and returns `None` rather than failing.

use serde_json::{Map, Value};

/// Returns the non-empty string at `key`.
pub(crate) fn text<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value
        .get(key)?
        .as_str()
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// Iterates over a list element, accepting a single object in its place.
pub(crate) fn items<'a>(value: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> + 'a {
    let slice: &'a [Value] = match value.get(key) {
        Some(Value::Array(list)) => list,
        Some(single @ Value::Object(_)) => std::slice::from_ref(single),
        _ => &[],
    };
    slice.iter()
}

/// One Coding, with empty strings treated as absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Coding<'a> {
    pub system: Option<&'a str>,
    pub code: Option<&'a str>,
    pub display: Option<&'a str>,
}

impl<'a> Coding<'a> {
    fn from_value(value: &'a Value) -> Coding<'a> {
        Coding {
            system: text(value, "system"),
            code: text(value, "code"),
            display: text(value, "display"),
        }
    }
}

/// Returns the codings of a CodeableConcept, of a bare Coding, or of a list
/// of either.
pub(crate) fn codings(concept: &Value) -> Vec<Coding<'_>> {
    match concept {
        Value::Array(list) => list.iter().flat_map(codings).collect(),
        Value::Object(map) if map.contains_key("coding") => {
            items(concept, "coding").map(Coding::from_value).collect()
        }
        Value::Object(map) if map.contains_key("code") || map.contains_key("system") => {
            vec![Coding::from_value(concept)]
        }
        _ => Vec::new(),
    }
}

/// Returns the codings of the concept at `key`, if any.
pub(crate) fn codings_at<'a>(value: &'a Value, key: &str) -> Vec<Coding<'a>> {
    value.get(key).map(codings).unwrap_or_default()
}

/// Returns a readable label for a concept: its text, else the first
/// display, else the first code.
pub(crate) fn concept_label(concept: &Value) -> Option<String> {
    if let Some(t) = text(concept, "text") {
        return Some(t.to_string());
    }
    let codings = codings(concept);
    codings
        .iter()
        .find_map(|c| c.display)
        .or_else(|| codings.iter().find_map(|c| c.code))
        .map(str::to_string)
}

/// Returns the calendar date written at the start of a FHIR date or
/// dateTime: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`. The date is the one written
/// in the value's own offset, so `2024-03-04T23:30:00-05:00` is 2024-03-04.
pub(crate) fn date_part(value: &str) -> Option<String> {
    let value = value.trim();
    let candidate = value.get(..10).unwrap_or(value);
    let bytes = candidate.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        bytes
            .get(range)
            .is_some_and(|b| b.iter().all(u8::is_ascii_digit))
    };
    let valid = match bytes.len() {
        4 => digits(0..4),
        7 => digits(0..4) && bytes[4] == b'-' && digits(5..7),
        10 => digits(0..4) && bytes[4] == b'-' && digits(5..7) && bytes[7] == b'-' && digits(8..10),
        _ => false,
    };
    // A longer value must continue with a time, not with more date digits.
    let continues_with_time =
        value.len() == candidate.len() || matches!(value.as_bytes().get(10), Some(b'T' | b' '));
    (valid && continues_with_time).then(|| candidate.to_string())
}

/// Returns the start of a `[x]` choice element that is either a dateTime
/// (`{prefix}DateTime`) or a Period (`{prefix}Period`).
pub(crate) fn date_time_or_period_start<'a>(value: &'a Value, prefix: &str) -> Option<&'a str> {
    text(value, &format!("{prefix}DateTime"))
        .or_else(|| {
            value
                .get(format!("{prefix}Period"))
                .and_then(|p| text(p, "start"))
        })
        .or_else(|| text(value, &format!("{prefix}Instant")))
}

/// A person's name in the record's shape.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct PersonName {
    pub given: Option<String>,
    pub family: Option<String>,
    pub suffix: Option<String>,
    pub text: Option<String>,
}

impl PersonName {
    /// Returns the name as one string: the written text, else given and family
    /// names followed by suffixes such as credentials (`Pat Lee, RN`).
    pub fn full(&self) -> Option<String> {
        if let Some(text) = &self.text {
            return Some(text.clone());
        }
        let base = [self.given.as_deref(), self.family.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        match (&self.suffix, base.is_empty()) {
            (_, true) => None,
            (Some(suffix), false) => Some(format!("{base}, {suffix}")),
            (None, false) => Some(base),
        }
    }

    /// Returns the record's `person_name` object.
    pub fn to_json(&self) -> Option<Value> {
        let mut map = Map::new();
        for (key, part) in [
            ("given", &self.given),
            ("family", &self.family),
            ("text", &self.text),
        ] {
            if let Some(part) = part {
                map.insert(key.to_string(), Value::String(part.clone()));
            }
        }
        (!map.is_empty()).then_some(Value::Object(map))
    }
}

/// Picks a resource's current name: `official`, else `usual`, else the
/// first name that is not `old` or `maiden`. Accepts a single HumanName
/// where R4 has a list.
pub(crate) fn person_name(resource: &Value) -> Option<PersonName> {
    let names: Vec<&Value> = items(resource, "name").collect();
    let by_use = |wanted: &str| {
        names
            .iter()
            .copied()
            .find(|n| text(n, "use") == Some(wanted))
    };
    let chosen = by_use("official").or_else(|| by_use("usual")).or_else(|| {
        names
            .iter()
            .copied()
            .find(|n| !matches!(text(n, "use"), Some("old" | "maiden")))
    })?;
    let join = |key: &str| {
        let parts: Vec<&str> = match chosen.get(key) {
            Some(Value::Array(list)) => list
                .iter()
                .filter_map(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect(),
            Some(Value::String(s)) if !s.trim().is_empty() => vec![s.trim()],
            _ => Vec::new(),
        };
        (!parts.is_empty()).then(|| parts.join(if key == "suffix" { ", " } else { " " }))
    };
    let name = PersonName {
        given: join("given"),
        family: join("family"),
        suffix: join("suffix"),
        text: text(chosen, "text").map(str::to_string),
    };
    (name != PersonName::default()).then_some(name)
}

/// One ContactPoint with its position in the `telecom` list.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ContactPoint<'a> {
    pub value: &'a str,
    pub element: &'a Value,
}

/// Picks the contact point of `system` (`email`, `phone`) a message would be
/// sent to: lowest `rank`, then `home` use, then list order. Contact points
/// whose use is `old` or whose period has ended are skipped.
pub(crate) fn contact_point<'a>(resource: &'a Value, system: &str) -> Option<ContactPoint<'a>> {
    let mut candidates: Vec<(usize, &'a Value)> = items(resource, "telecom")
        .enumerate()
        .filter(|(_, t)| text(t, "system") == Some(system) && text(t, "value").is_some())
        .filter(|(_, t)| {
            text(t, "use") != Some("old") && t.get("period").and_then(|p| text(p, "end")).is_none()
        })
        .collect();
    candidates.sort_by_key(|(position, t)| {
        let rank = t.get("rank").and_then(Value::as_u64).unwrap_or(u64::MAX);
        let home = text(t, "use") != Some("home");
        (rank, home, *position)
    });
    let (_, element) = candidates.into_iter().next()?;
    Some(ContactPoint {
        value: text(element, "value")?,
        element,
    })
}

/// Returns the value of the extension at `url` as a string, for the
/// primitive value types a date or text is written in.
pub(crate) fn extension_text<'a>(element: &'a Value, url: &str) -> Option<&'a str> {
    items(element, "extension")
        .filter(|e| text(e, "url") == Some(url))
        .find_map(|e| {
            [
                "valueDateTime",
                "valueInstant",
                "valueDate",
                "valueString",
                "valueUri",
                "valueUrl",
                "valueCode",
            ]
            .iter()
            .find_map(|key| text(e, key))
        })
}

/// Returns the `reference` string of a Reference element.
pub(crate) fn reference_text(reference: &Value) -> Option<&str> {
    text(reference, "reference")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn date_part_accepts_fhir_date_forms() {
        assert_eq!(
            date_part("2024-03-04T23:30:00-05:00").as_deref(),
            Some("2024-03-04")
        );
        assert_eq!(date_part("2024-03-04").as_deref(), Some("2024-03-04"));
        assert_eq!(date_part("2024-03").as_deref(), Some("2024-03"));
        assert_eq!(date_part("2024").as_deref(), Some("2024"));
    }

    #[test]
    fn date_part_rejects_placeholders() {
        assert_eq!(date_part("IGNORED_FIELD"), None);
        assert_eq!(date_part("2024-03-04X"), None);
        assert_eq!(date_part("20240304"), None);
        assert_eq!(date_part(""), None);
    }

    #[test]
    fn codings_accept_concept_coding_and_list() {
        let concept = json!({"coding": [{"system": "s", "code": "a"}], "text": "A"});
        assert_eq!(codings(&concept)[0].code, Some("a"));
        let coding = json!({"system": "s", "code": "b"});
        assert_eq!(codings(&coding)[0].code, Some("b"));
        let list = json!([{"coding": [{"code": "c"}]}, {"coding": {"code": "d"}}]);
        let codes: Vec<_> = codings(&list).iter().filter_map(|c| c.code).collect();
        assert_eq!(codes, ["c", "d"]);
    }

    #[test]
    fn concept_label_prefers_text_then_display() {
        assert_eq!(
            concept_label(&json!({"text": "T", "coding": [{"display": "D"}]})).as_deref(),
            Some("T")
        );
        assert_eq!(
            concept_label(&json!({"coding": [{"code": "C"}, {"display": "D"}]})).as_deref(),
            Some("D")
        );
        assert_eq!(
            concept_label(&json!({"coding": [{"code": "C"}]})).as_deref(),
            Some("C")
        );
    }

    #[test]
    fn person_name_prefers_official_and_appends_suffix() {
        let resource = json!({"name": [
            {"use": "maiden", "family": "Old"},
            {"use": "official", "given": ["Pat", "Q"], "family": "Lee", "suffix": ["RN"]}
        ]});
        let name = person_name(&resource).unwrap();
        assert_eq!(name.given.as_deref(), Some("Pat Q"));
        assert_eq!(name.full().as_deref(), Some("Pat Q Lee, RN"));
    }

    #[test]
    fn person_name_accepts_single_object() {
        let resource = json!({"name": {"text": "Dr Who"}});
        assert_eq!(
            person_name(&resource).unwrap().full().as_deref(),
            Some("Dr Who")
        );
    }

    #[test]
    fn contact_point_prefers_rank_and_skips_old() {
        let resource = json!({"telecom": [
            {"system": "email", "value": "old@example.org", "use": "old"},
            {"system": "email", "value": "work@example.org", "use": "work", "rank": 2},
            {"system": "email", "value": "home@example.org", "use": "home", "rank": 1},
            {"system": "phone", "value": "555"}
        ]});
        assert_eq!(
            contact_point(&resource, "email").unwrap().value,
            "home@example.org"
        );
        assert_eq!(contact_point(&resource, "phone").unwrap().value, "555");
    }

    #[test]
    fn extension_text_reads_date_time() {
        let element = json!({"extension": [{"url": "u", "valueDateTime": "2024-01-02T03:04:05Z"}]});
        assert_eq!(extension_text(&element, "u"), Some("2024-01-02T03:04:05Z"));
        assert_eq!(extension_text(&element, "other"), None);
    }
}
