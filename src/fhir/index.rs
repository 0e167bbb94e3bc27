//! An index of collected resources and FHIR reference resolution.
//!
//! Every resource is indexed once by `Type/id`, by Bundle `fullUrl`, by
//! id alone and by identifier, so resolving a reference is a hash lookup
//! and mapping stays linear in the size of the export.
//!
//! References resolve in these forms:
//! - contained: `#id` (a resource in the referring resource's `contained`);
//! - relative: `Type/id`, with or without `/_history/n`, tried against the
//!   referring entry's `fullUrl` base first;
//! - absolute: a URL equal to some entry's `fullUrl`, else ending in `Type/id`;
//! - `urn:uuid:` and `urn:oid:`: the entry with that `fullUrl`;
//! - conditional: `Type?identifier=system|value` (or `identifier=value`,
//!   any system), matched against resource identifiers;
//! - logical: a Reference with only an `identifier` (and optionally `type`).
//!
//! A reference that matches nothing, or more than one resource, does not
//! resolve: the target is not in this export.

use std::collections::HashMap;

use serde_json::Value;

use super::values::{items, reference_text, text};
use super::FhirResource;
use crate::record::Origin;

/// A resolved resource: a top-level resource or one contained in it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Res<'r> {
    pub value: &'r Value,
    /// Position of the top-level resource in the index.
    pub top: usize,
    /// Position in the top-level resource's `contained` list.
    pub contained: Option<usize>,
}

impl<'r> Res<'r> {
    pub fn resource_type(&self) -> &'r str {
        text(self.value, "resourceType").unwrap_or_default()
    }

    pub fn id(&self) -> Option<&'r str> {
        text(self.value, "id")
    }

    pub fn is(&self, resource_type: &str) -> bool {
        self.resource_type() == resource_type
    }

    /// True when both refer to the same resource.
    pub fn same(&self, other: &Res<'_>) -> bool {
        self.top == other.top && self.contained == other.contained
    }
}

/// Lookup tables over a sorted list of resources.
pub(crate) struct Index<'r> {
    resources: &'r [FhirResource],
    by_key: HashMap<(&'r str, &'r str), usize>,
    by_id: HashMap<&'r str, Vec<usize>>,
    by_full_url: HashMap<&'r str, usize>,
    by_identifier: HashMap<(&'r str, &'r str), Vec<usize>>,
    by_identifier_value: HashMap<&'r str, Vec<usize>>,
    duplicate_of: Vec<Option<usize>>,
}

impl<'r> Index<'r> {
    /// Indexes `resources`. A later resource with the same `Type/id` as an
    /// earlier one is a duplicate: it is not indexed, and
    /// [`Index::duplicate_of`] names the one kept.
    pub fn new(resources: &'r [FhirResource]) -> Index<'r> {
        let mut index = Index {
            resources,
            by_key: HashMap::with_capacity(resources.len()),
            by_id: HashMap::with_capacity(resources.len()),
            by_full_url: HashMap::new(),
            by_identifier: HashMap::new(),
            by_identifier_value: HashMap::new(),
            duplicate_of: vec![None; resources.len()],
        };
        for (position, resource) in resources.iter().enumerate() {
            let value = &resource.value;
            let resource_type = text(value, "resourceType").unwrap_or_default();
            if let Some(id) = text(value, "id") {
                if let Some(&first) = index.by_key.get(&(resource_type, id)) {
                    index.duplicate_of[position] = Some(first);
                    continue;
                }
                index.by_key.insert((resource_type, id), position);
                index.by_id.entry(id).or_default().push(position);
            }
            if let Some(url) = resource.full_url.as_deref() {
                index.by_full_url.entry(url).or_insert(position);
            }
            for identifier in items(value, "identifier") {
                let Some(id_value) = text(identifier, "value") else {
                    continue;
                };
                let system = text(identifier, "system").unwrap_or_default();
                index
                    .by_identifier
                    .entry((system, id_value))
                    .or_default()
                    .push(position);
                index
                    .by_identifier_value
                    .entry(id_value)
                    .or_default()
                    .push(position);
            }
        }
        index
    }

    pub fn len(&self) -> usize {
        self.resources.len()
    }

    /// Returns the resource kept in place of the duplicate at `position`.
    pub fn duplicate_of(&self, position: usize) -> Option<usize> {
        self.duplicate_of.get(position).copied().flatten()
    }

    /// Returns the top-level resource at `position`.
    pub fn top(&self, position: usize) -> Res<'r> {
        Res {
            value: &self.resources[position].value,
            top: position,
            contained: None,
        }
    }

    /// Returns where `res` is in its input file.
    pub fn origin(&self, res: Res<'_>) -> Origin {
        let origin = &self.resources[res.top].origin;
        match res.contained {
            Some(position) => origin.child(&format!("/contained/{position}")),
            None => origin.clone(),
        }
    }

    /// Returns `Type/id`, or `Type/id#contained-id` for a contained resource.
    pub fn key(&self, res: Res<'_>) -> String {
        let top = self.top(res.top);
        let top_key = format!("{}/{}", top.resource_type(), top.id().unwrap_or("(no id)"));
        match res.contained {
            Some(_) => format!("{}#{}", top_key, res.id().unwrap_or_default()),
            None => top_key,
        }
    }

    /// Resolves a Reference element read from `from`.
    pub fn resolve(&self, from: Res<'r>, reference: &'r Value) -> Option<Res<'r>> {
        let type_hint = text(reference, "type");
        if let Some(target) = text(reference, "reference") {
            let resolved = self.resolve_str(from, target)?;
            return match type_hint {
                Some(kind) if !resolved.is(kind) => None,
                _ => Some(resolved),
            };
        }
        let identifier = reference.get("identifier")?;
        let value = text(identifier, "value")?;
        let candidates = match text(identifier, "system") {
            Some(system) => self.by_identifier.get(&(system, value)),
            None => self.by_identifier_value.get(value),
        }?;
        self.unique(
            candidates
                .iter()
                .copied()
                .filter(|&p| type_hint.is_none_or(|kind| self.top(p).is(kind))),
        )
    }

    /// Resolves a reference string read from `from`.
    pub fn resolve_str(&self, from: Res<'r>, reference: &str) -> Option<Res<'r>> {
        let reference = reference.trim();
        if let Some(local) = reference.strip_prefix('#') {
            return self.contained(from.top, local);
        }
        if reference.starts_with("urn:") {
            if let Some(&position) = self.by_full_url.get(reference) {
                return Some(self.top(position));
            }
            // Some exporters write the uuid as the id and omit fullUrl.
            let id = reference.rsplit(':').next()?;
            return self.unique(self.by_id.get(id)?.iter().copied());
        }
        if let Some((kind, query)) = reference.split_once('?') {
            return self.resolve_conditional(kind, query);
        }
        if reference.contains("://") {
            if let Some(&position) = self.by_full_url.get(reference) {
                return Some(self.top(position));
            }
            let (kind, id) = type_and_id(reference)?;
            return self.by_key.get(&(kind, id)).map(|&p| self.top(p));
        }

        let (kind, id) = type_and_id(reference)?;
        if let Some(base) = self.resources[from.top]
            .full_url
            .as_deref()
            .and_then(server_base)
        {
            if let Some(&position) = self.by_full_url.get(format!("{base}{kind}/{id}").as_str()) {
                return Some(self.top(position));
            }
        }
        self.by_key.get(&(kind, id)).map(|&p| self.top(p))
    }

    /// Returns a contained resource of the resource at `top`. A bare `#`
    /// is the container itself.
    fn contained(&self, top: usize, local: &str) -> Option<Res<'r>> {
        if local.is_empty() {
            return Some(self.top(top));
        }
        let container = &self.resources[top].value;
        let (position, value) = items(container, "contained")
            .enumerate()
            .find(|(_, c)| text(c, "id") == Some(local))?;
        Some(Res {
            value,
            top,
            contained: Some(position),
        })
    }

    /// `Type?identifier=system|value`; other search parameters are not
    /// supported and leave the reference unresolved.
    fn resolve_conditional(&self, kind: &str, query: &str) -> Option<Res<'r>> {
        let mut identifier = None;
        for parameter in query.split('&') {
            let (name, value) = parameter.split_once('=')?;
            if name != "identifier" || identifier.is_some() {
                return None;
            }
            identifier = Some(percent_decode(value));
        }
        let token = identifier?;
        let candidates = match token.split_once('|') {
            Some((system, value)) => self.by_identifier.get(&(system, value)),
            None => self.by_identifier_value.get(token.as_str()),
        }?;
        self.unique(candidates.iter().copied().filter(|&p| self.top(p).is(kind)))
    }

    /// Returns the single candidate, or `None` when there are none or several.
    fn unique(&self, mut candidates: impl Iterator<Item = usize>) -> Option<Res<'r>> {
        let first = candidates.next()?;
        match candidates.next() {
            Some(_) => None,
            None => Some(self.top(first)),
        }
    }
}

/// Splits `.../Type/id` or `.../Type/id/_history/n` into type and id.
fn type_and_id(reference: &str) -> Option<(&str, &str)> {
    let path = match reference.find("/_history/") {
        Some(at) => &reference[..at],
        None => reference,
    };
    let mut segments = path.rsplit('/');
    let id = segments.next().filter(|s| !s.is_empty())?;
    let kind = segments
        .next()
        .filter(|s| s.starts_with(|c: char| c.is_ascii_uppercase()))?;
    Some((kind, id))
}

/// Returns the server base of an absolute `fullUrl` (`http://x/fhir/Patient/1` →
/// `http://x/fhir/`).
fn server_base(full_url: &str) -> Option<&str> {
    if !full_url.contains("://") {
        return None;
    }
    let (kind, id) = type_and_id(full_url)?;
    let suffix_len = kind.len() + 1 + id.len();
    let end = full_url.find("/_history/").unwrap_or(full_url.len());
    full_url.get(..end.checked_sub(suffix_len)?)
}

/// Decodes `%XX` escapes; invalid escapes are kept as written.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let decoded = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match decoded {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Returns the id a reference gives without resolving it: the id of `Type/id` or of
/// a `urn:uuid:`, the value of a conditional or logical identifier.
pub(crate) fn reference_id(reference: &Value) -> Option<String> {
    let Some(written) = reference_text(reference) else {
        return reference
            .get("identifier")
            .and_then(|i| text(i, "value"))
            .map(str::to_string);
    };
    let id = match written.split_once('?') {
        Some((_, query)) => query.rsplit(['|', '=']).next(),
        None => written
            .split("/_history/")
            .next()
            .and_then(|w| w.rsplit(['/', ':']).next()),
    };
    id.filter(|id| !id.is_empty()).map(str::to_string)
}

/// Describes a reference for a message without quoting search values,
/// which may be patient identifiers.
pub(crate) fn describe_reference(reference: &Value) -> String {
    match text(reference, "reference") {
        Some(target) => match target.split_once('?') {
            Some((kind, _)) => format!("{kind}?… (conditional reference)"),
            None => target.to_string(),
        },
        None if reference.get("identifier").is_some() => match text(reference, "type") {
            Some(kind) => format!("{kind} by identifier"),
            None => "a resource by identifier".to_string(),
        },
        None => "(no reference)".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::*;

    fn resource(value: Value, full_url: Option<&str>) -> FhirResource {
        FhirResource {
            value,
            origin: Origin::new(Arc::from("t.json"), None, ""),
            full_url: full_url.map(str::to_string),
        }
    }

    fn fixture() -> Vec<FhirResource> {
        vec![
            resource(
                json!({"resourceType": "Encounter", "id": "e1",
                "contained": [{"resourceType": "Practitioner", "id": "p1"}]}),
                Some("http://ehr.example/fhir/Encounter/e1"),
            ),
            resource(
                json!({"resourceType": "Patient", "id": "pat",
                "identifier": [{"system": "http://hospital.example/mrn", "value": "MRN-1"}]}),
                Some("http://ehr.example/fhir/Patient/pat"),
            ),
            resource(
                json!({"resourceType": "Practitioner", "id": "dr",
                "identifier": [{"system": "http://hl7.org/fhir/sid/us-npi", "value": "1234567893"}]}),
                Some("urn:uuid:7f1c"),
            ),
            resource(json!({"resourceType": "Organization", "id": "o1"}), None),
        ]
    }

    fn resolved_id<'r>(index: &Index<'r>, from: usize, reference: &str) -> Option<&'r str> {
        index
            .resolve_str(index.top(from), reference)
            .and_then(|r| r.id())
    }

    #[test]
    fn relative_reference_resolves() {
        let resources = fixture();
        let index = Index::new(&resources);
        assert_eq!(resolved_id(&index, 0, "Patient/pat"), Some("pat"));
        assert_eq!(
            resolved_id(&index, 0, "Patient/pat/_history/3"),
            Some("pat")
        );
        assert_eq!(resolved_id(&index, 0, "Organization/o1"), Some("o1"));
        assert_eq!(resolved_id(&index, 0, "Patient/missing"), None);
    }

    #[test]
    fn absolute_reference_resolves_by_full_url_or_tail() {
        let resources = fixture();
        let index = Index::new(&resources);
        assert_eq!(
            resolved_id(&index, 0, "http://ehr.example/fhir/Patient/pat"),
            Some("pat")
        );
        assert_eq!(
            resolved_id(&index, 0, "https://other.example/r4/Organization/o1"),
            Some("o1")
        );
    }

    #[test]
    fn urn_uuid_resolves_by_full_url() {
        let resources = fixture();
        let index = Index::new(&resources);
        assert_eq!(resolved_id(&index, 0, "urn:uuid:7f1c"), Some("dr"));
        assert_eq!(resolved_id(&index, 0, "urn:uuid:0000"), None);
    }

    #[test]
    fn urn_uuid_falls_back_to_the_id() {
        let resources = vec![
            resource(json!({"resourceType": "Encounter", "id": "e"}), None),
            resource(json!({"resourceType": "Patient", "id": "5b1e"}), None),
        ];
        let index = Index::new(&resources);
        assert_eq!(resolved_id(&index, 0, "urn:uuid:5b1e"), Some("5b1e"));
    }

    #[test]
    fn conditional_reference_matches_identifier() {
        let resources = fixture();
        let index = Index::new(&resources);
        assert_eq!(
            resolved_id(
                &index,
                0,
                "Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|1234567893"
            ),
            Some("dr")
        );
        assert_eq!(
            resolved_id(
                &index,
                0,
                "Practitioner?identifier=http%3A%2F%2Fhl7.org%2Ffhir%2Fsid%2Fus-npi%7C1234567893"
            ),
            Some("dr")
        );
        assert_eq!(
            resolved_id(&index, 0, "Patient?identifier=MRN-1"),
            Some("pat")
        );
        assert_eq!(
            resolved_id(
                &index,
                0,
                "Patient?identifier=http://hl7.org/fhir/sid/us-npi|1234567893"
            ),
            None
        );
        assert_eq!(resolved_id(&index, 0, "Patient?name=x"), None);
    }

    #[test]
    fn contained_reference_resolves_within_the_container() {
        let resources = fixture();
        let index = Index::new(&resources);
        let target = index.resolve_str(index.top(0), "#p1").unwrap();
        assert_eq!(target.contained, Some(0));
        assert_eq!(index.key(target), "Encounter/e1#p1");
        assert_eq!(index.origin(target).pointer, "/contained/0");
        assert!(index.resolve_str(index.top(1), "#p1").is_none());
        assert!(index
            .resolve_str(index.top(0), "#")
            .unwrap()
            .same(&index.top(0)));
    }

    #[test]
    fn logical_reference_resolves_by_identifier_and_type() {
        let resources = fixture();
        let index = Index::new(&resources);
        let reference = json!({"type": "Practitioner", "identifier": {"system": "http://hl7.org/fhir/sid/us-npi", "value": "1234567893"}});
        assert_eq!(
            index.resolve(index.top(0), &reference).and_then(|r| r.id()),
            Some("dr")
        );
        let wrong_type = json!({"type": "Patient", "identifier": {"system": "http://hl7.org/fhir/sid/us-npi", "value": "1234567893"}});
        assert!(index.resolve(index.top(0), &wrong_type).is_none());
    }

    #[test]
    fn reference_type_must_match() {
        let resources = fixture();
        let index = Index::new(&resources);
        let reference = json!({"reference": "Patient/pat", "type": "Group"});
        assert!(index.resolve(index.top(0), &reference).is_none());
    }

    #[test]
    fn duplicates_are_not_indexed() {
        let resources = vec![
            resource(
                json!({"resourceType": "Patient", "id": "p", "gender": "female"}),
                None,
            ),
            resource(
                json!({"resourceType": "Patient", "id": "p", "gender": "male"}),
                None,
            ),
        ];
        let index = Index::new(&resources);
        assert_eq!(index.duplicate_of(1), Some(0));
        let found = index.resolve_str(index.top(0), "Patient/p").unwrap();
        assert_eq!(found.top, 0);
    }

    #[test]
    fn server_base_strips_type_and_id() {
        assert_eq!(
            server_base("http://x/fhir/Patient/1"),
            Some("http://x/fhir/")
        );
        assert_eq!(
            server_base("http://x/fhir/Patient/1/_history/2"),
            Some("http://x/fhir/")
        );
        assert_eq!(server_base("urn:uuid:1"), None);
    }

    #[test]
    fn reference_id_reads_every_form() {
        let id = |reference: Value| reference_id(&reference);
        assert_eq!(
            id(json!({"reference": "Claim/100150"})).as_deref(),
            Some("100150")
        );
        assert_eq!(
            id(json!({"reference": "Claim/c1/_history/2"})).as_deref(),
            Some("c1")
        );
        assert_eq!(
            id(json!({"reference": "urn:uuid:5b1e"})).as_deref(),
            Some("5b1e")
        );
        assert_eq!(
            id(json!({"reference": "Patient?identifier=urn:mrn|M-7"})).as_deref(),
            Some("M-7")
        );
        assert_eq!(
            id(json!({"identifier": {"value": "ICN-1"}})).as_deref(),
            Some("ICN-1")
        );
        assert_eq!(id(json!({"display": "someone"})), None);
    }

    #[test]
    fn conditional_reference_description_hides_values() {
        let reference =
            json!({"reference": "Patient?identifier=http://hl7.org/fhir/sid/us-ssn|999-12-3456"});
        assert_eq!(
            describe_reference(&reference),
            "Patient?… (conditional reference)"
        );
    }
}
