//! The FHIR mapping configuration: which codes mean what.
//!
//! The built-in mapping is `mappings/fhir-r4.yaml`, compiled into the
//! binary; that file documents every key. A user file is read over it: each
//! section the file names replaces the built-in one key by key, and every
//! problem is a located [`YamlError`], as in rule packs.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use regex::Regex;

use crate::diagnostic::SourceDiagnostic;
use crate::yaml::{parse, suggest, MapReader, Node, ParseLimits, Span, YamlError};

/// The built-in mapping's YAML text.
pub const BUILTIN_MAPPING_TEXT: &str = include_str!("../../mappings/fhir-r4.yaml");

/// Audit event types the portal rules and the record's portal object read.
pub const PORTAL_EVENT_TYPES: &[&str] = &[
    "portal.offered",
    "portal.invitation.sent",
    "portal.declined",
    "portal.enrolled",
    "portal.education",
];

const CLAIM_STATUSES: &[&str] = &[
    "draft",
    "submitted",
    "paid",
    "denied",
    "partially-paid",
    "rejected",
];
const PAYER_TYPES: &[&str] = &[
    "medicare",
    "medicare-advantage",
    "medicaid",
    "commercial",
    "other",
];

/// Codes a [`CodeMatch`] accepts within its system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeSet {
    /// Every code of the system.
    Any,
    /// These codes, compared exactly.
    Codes(Vec<String>),
    /// Codes that start with this prefix (hierarchical code systems).
    Prefix(String),
}

/// A code system and the codes of it that match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeMatch {
    pub system: String,
    pub codes: CodeSet,
}

impl CodeMatch {
    /// Returns a match for one code.
    pub fn code(system: &str, code: &str) -> CodeMatch {
        CodeMatch {
            system: system.to_string(),
            codes: CodeSet::Codes(vec![code.to_string()]),
        }
    }

    /// True when a coding with `system` and `code` matches.
    pub fn matches(&self, system: Option<&str>, code: Option<&str>) -> bool {
        if system != Some(self.system.as_str()) {
            return false;
        }
        match (&self.codes, code) {
            (CodeSet::Any, _) => true,
            (CodeSet::Codes(codes), Some(code)) => codes.iter().any(|c| c == code),
            (CodeSet::Prefix(prefix), Some(code)) => code.starts_with(prefix.as_str()),
            (_, None) => false,
        }
    }

    /// Returns the match's specificity: a longer prefix ranks above a shorter one.
    pub fn specificity(&self) -> usize {
        match &self.codes {
            CodeSet::Any => 0,
            CodeSet::Prefix(prefix) => prefix.len(),
            CodeSet::Codes(_) => usize::MAX,
        }
    }
}

/// Code systems whose codes claimlint reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CodeSystems {
    pub cpt: Vec<String>,
    pub hcpcs: Vec<String>,
    pub carc: Vec<String>,
    pub rarc: Vec<String>,
    pub npi: Vec<String>,
    pub tax_id: Vec<String>,
}

impl CodeSystems {
    /// True for a CPT or HCPCS system.
    pub fn is_procedure_code(&self, system: Option<&str>) -> bool {
        system.is_some_and(|s| self.cpt.iter().chain(&self.hcpcs).any(|c| c == s))
    }
}

/// Codes that make a resource an audit-trail event of `event_type`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventMapping {
    pub event_type: String,
    pub codes: Vec<CodeMatch>,
}

/// Patient-education Procedures that count as portal education.
#[derive(Debug, Clone)]
pub struct PatientEducation {
    pub categories: Vec<CodeMatch>,
    /// Matched against the Procedure's code text, code displays and notes.
    pub portal_text: Regex,
    pub event_type: String,
}

/// A Communication medium and the event channel it means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelMapping {
    pub code: CodeMatch,
    pub channel: String,
}

/// A DocumentReference type and the note type written for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteTypeMapping {
    pub code: CodeMatch,
    pub note_type: String,
}

/// An explicit payment status code and the claim status it means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentStatusMapping {
    pub code: CodeMatch,
    pub status: String,
}

/// A Coverage type code and the payer type it means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayerTypeMapping {
    pub code: CodeMatch,
    pub payer_type: String,
}

/// Rules for reading payer decisions from adjudications.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DenialMapping {
    pub denial_categories: Vec<CodeMatch>,
    pub rejection_categories: Vec<CodeMatch>,
    pub adjustment_categories: Vec<CodeMatch>,
    pub paid_categories: Vec<CodeMatch>,
    pub payment_status: Vec<PaymentStatusMapping>,
    pub label_systems: Vec<String>,
    pub group_code_systems: Vec<String>,
}

/// The complete FHIR mapping configuration.
#[derive(Debug, Clone)]
pub struct FhirMapping {
    pub code_systems: CodeSystems,
    pub events: Vec<EventMapping>,
    pub patient_education: PatientEducation,
    pub channels: Vec<ChannelMapping>,
    /// Extension URL of an email ContactPoint's verification date-time.
    pub email_verified_extension: String,
    /// Consent categories that mark the CCM consent.
    pub ccm_consent_categories: Vec<CodeMatch>,
    /// Extension URL of the CCM consent's method (`verbal` or `written`).
    pub consent_method_extension: String,
    /// Extension URL of a disclosure made when consent was obtained.
    pub consent_disclosure_extension: String,
    /// Extension URLs of a CarePlan's review and revision date-times.
    pub care_plan_reviewed_extension: String,
    pub care_plan_revised_extension: String,
    /// Procedure codes whose performed period is care-management time.
    pub time_log_codes: Vec<CodeMatch>,
    pub note_types: Vec<NoteTypeMapping>,
    pub chronic_conditions: Vec<CodeMatch>,
    pub denial: DenialMapping,
    pub payer_types: Vec<PayerTypeMapping>,
}

impl Default for FhirMapping {
    fn default() -> Self {
        FhirMapping::builtin()
    }
}

impl FhirMapping {
    /// Returns the built-in mapping, `mappings/fhir-r4.yaml`.
    pub fn builtin() -> FhirMapping {
        static BUILTIN: OnceLock<FhirMapping> = OnceLock::new();
        BUILTIN
            .get_or_init(|| {
                // The file is compiled in and covered by tests, so a failure
                // here is a build defect, not a user error.
                read(BUILTIN_MAPPING_TEXT, FhirMapping::empty())
                    .expect("built-in FHIR mapping is valid")
            })
            .clone()
    }

    /// Reads mapping YAML over the built-in mapping.
    pub fn parse(text: &str) -> Result<FhirMapping, Vec<YamlError>> {
        read(text, FhirMapping::builtin())
    }

    /// Reads a mapping file's `text`, reporting problems under `path`.
    pub fn load(
        path: impl Into<PathBuf>,
        text: impl Into<Arc<str>>,
    ) -> Result<FhirMapping, MappingFileError> {
        let text = text.into();
        FhirMapping::parse(&text).map_err(|problems| MappingFileError {
            path: path.into(),
            text,
            problems,
        })
    }

    /// Returns the event type a coding maps to, if any.
    pub fn event_type(&self, system: Option<&str>, code: Option<&str>) -> Option<&str> {
        self.events
            .iter()
            .find(|event| event.codes.iter().any(|m| m.matches(system, code)))
            .map(|event| event.event_type.as_str())
    }

    fn empty() -> FhirMapping {
        FhirMapping {
            code_systems: CodeSystems::default(),
            events: Vec::new(),
            patient_education: PatientEducation {
                categories: Vec::new(),
                portal_text: Regex::new(r"(?i)\bportal\b").expect("literal regex compiles"),
                event_type: "portal.education".to_string(),
            },
            channels: Vec::new(),
            email_verified_extension: String::new(),
            ccm_consent_categories: Vec::new(),
            consent_method_extension: String::new(),
            consent_disclosure_extension: String::new(),
            care_plan_reviewed_extension: String::new(),
            care_plan_revised_extension: String::new(),
            time_log_codes: Vec::new(),
            note_types: Vec::new(),
            chronic_conditions: Vec::new(),
            denial: DenialMapping::default(),
            payer_types: Vec::new(),
        }
    }
}

/// A mapping file that could not be read, with every problem found in it.
#[derive(Debug, Clone)]
pub struct MappingFileError {
    pub path: PathBuf,
    pub text: Arc<str>,
    pub problems: Vec<YamlError>,
}

impl MappingFileError {
    /// Returns one located diagnostic per problem, in file order.
    pub fn diagnostics(&self) -> Vec<SourceDiagnostic> {
        crate::yaml::file_diagnostics(
            "claimlint::fhir-mapping",
            &self.path,
            &self.text,
            self.problems
                .iter()
                .map(|p| (p.message.as_str(), &p.span, p.help.as_deref())),
        )
    }

    /// Returns the 1-based line and column of each problem, for plain reports.
    pub fn locations(&self) -> Vec<(usize, usize, &str)> {
        crate::yaml::file_locations(
            &self.text,
            self.problems.iter().map(|p| (p.message.as_str(), &p.span)),
        )
    }
}

impl std::fmt::Display for MappingFileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {} problem(s) in the FHIR mapping",
            self.path.display(),
            self.problems.len()
        )
    }
}

impl std::error::Error for MappingFileError {}

/// Reads `text` over `base`, collecting every problem.
fn read(text: &str, mut mapping: FhirMapping) -> Result<FhirMapping, Vec<YamlError>> {
    let root = parse(text, ParseLimits::default()).map_err(|e| vec![e])?;
    let mut errors = Vec::new();
    let mut top = match root.as_map("the FHIR mapping file") {
        Ok(top) => top,
        Err(error) => return Err(vec![error]),
    };

    if let Some(node) = top.optional("code_systems") {
        read_code_systems(node, &mut mapping.code_systems, &mut errors);
    }
    if let Some(node) = top.optional("events") {
        mapping.events = read_list(node, "`events`", &mut errors, read_event);
    }
    if let Some(node) = top.optional("patient_education") {
        read_patient_education(node, &mut mapping.patient_education, &mut errors);
    }
    if let Some(node) = top.optional("channels") {
        mapping.channels = read_list(node, "`channels`", &mut errors, |item, errors| {
            let mut map = item.as_map("a channel").map_err(|e| errors.push(e)).ok()?;
            let code = read_code_match_keys(&mut map, item, errors);
            let channel = read_name(&mut map, "channel", errors);
            errors.extend(map.finish());
            Some(ChannelMapping {
                code: code?,
                channel: channel?,
            })
        });
    }
    if let Some(node) = top.optional("patient") {
        if let Ok(mut map) = node.as_map("`patient`").map_err(|e| errors.push(e)) {
            if let Some(url) = map.optional("email_verified_extension") {
                if let Some(url) = read_uri(url, "`email_verified_extension`", &mut errors) {
                    mapping.email_verified_extension = url;
                }
            }
            errors.extend(map.finish());
        }
    }
    if let Some(node) = top.optional("ccm_consent") {
        if let Ok(mut map) = node.as_map("`ccm_consent`").map_err(|e| errors.push(e)) {
            if let Some(list) = map.optional("categories") {
                mapping.ccm_consent_categories =
                    read_code_matches(list, "`ccm_consent.categories`", &mut errors);
            }
            read_extension(
                &mut map,
                "method_extension",
                &mut mapping.consent_method_extension,
                &mut errors,
            );
            read_extension(
                &mut map,
                "disclosure_extension",
                &mut mapping.consent_disclosure_extension,
                &mut errors,
            );
            errors.extend(map.finish());
        }
    }
    if let Some(node) = top.optional("care_plan") {
        if let Ok(mut map) = node.as_map("`care_plan`").map_err(|e| errors.push(e)) {
            read_extension(
                &mut map,
                "reviewed_extension",
                &mut mapping.care_plan_reviewed_extension,
                &mut errors,
            );
            read_extension(
                &mut map,
                "revised_extension",
                &mut mapping.care_plan_revised_extension,
                &mut errors,
            );
            errors.extend(map.finish());
        }
    }
    if let Some(node) = top.optional("time_log") {
        if let Ok(mut map) = node.as_map("`time_log`").map_err(|e| errors.push(e)) {
            if let Some(list) = map.optional("codes") {
                mapping.time_log_codes = read_code_matches(list, "`time_log.codes`", &mut errors);
            }
            errors.extend(map.finish());
        }
    }
    if let Some(node) = top.optional("note_types") {
        mapping.note_types = read_list(node, "`note_types`", &mut errors, |item, errors| {
            let mut map = item
                .as_map("a note type")
                .map_err(|e| errors.push(e))
                .ok()?;
            let code = read_code_match_keys(&mut map, item, errors);
            let note_type = read_name(&mut map, "type", errors);
            errors.extend(map.finish());
            Some(NoteTypeMapping {
                code: code?,
                note_type: note_type?,
            })
        });
    }
    if let Some(node) = top.optional("chronic_conditions") {
        mapping.chronic_conditions = read_code_matches(node, "`chronic_conditions`", &mut errors);
    }
    if let Some(node) = top.optional("denial") {
        read_denial(node, &mut mapping.denial, &mut errors);
    }
    if let Some(node) = top.optional("payer_types") {
        mapping.payer_types = read_list(node, "`payer_types`", &mut errors, |item, errors| {
            let mut map = item
                .as_map("a payer type")
                .map_err(|e| errors.push(e))
                .ok()?;
            let code = read_code_match_keys(&mut map, item, errors);
            let payer_type = read_choice(&mut map, "type", PAYER_TYPES, errors);
            errors.extend(map.finish());
            Some(PayerTypeMapping {
                code: code?,
                payer_type: payer_type?,
            })
        });
    }
    errors.extend(top.finish());

    if errors.is_empty() {
        Ok(mapping)
    } else {
        Err(errors)
    }
}

fn read_code_systems(node: &Node, systems: &mut CodeSystems, errors: &mut Vec<YamlError>) {
    let Some(mut map) = node
        .as_map("`code_systems`")
        .map_err(|e| errors.push(e))
        .ok()
    else {
        return;
    };
    let fields: [(&'static str, &mut Vec<String>); 6] = [
        ("cpt", &mut systems.cpt),
        ("hcpcs", &mut systems.hcpcs),
        ("carc", &mut systems.carc),
        ("rarc", &mut systems.rarc),
        ("npi", &mut systems.npi),
        ("tax_id", &mut systems.tax_id),
    ];
    for (key, field) in fields {
        if let Some(list) = map.optional(key) {
            *field = read_uri_list(list, &format!("`code_systems.{key}`"), errors);
        }
    }
    errors.extend(map.finish());
}

fn read_event(item: &Node, errors: &mut Vec<YamlError>) -> Option<EventMapping> {
    let mut map = item.as_map("an event").map_err(|e| errors.push(e)).ok()?;
    let event_type = map
        .required("type")
        .map_err(|e| errors.push(e))
        .ok()
        .and_then(|n| read_event_type(n, errors));
    let codes = map
        .required("codes")
        .map_err(|e| errors.push(e))
        .ok()
        .map(|n| read_code_matches(n, "`codes`", errors));
    errors.extend(map.finish());
    Some(EventMapping {
        event_type: event_type?,
        codes: codes?,
    })
}

fn read_patient_education(
    node: &Node,
    education: &mut PatientEducation,
    errors: &mut Vec<YamlError>,
) {
    let Some(mut map) = node
        .as_map("`patient_education`")
        .map_err(|e| errors.push(e))
        .ok()
    else {
        return;
    };
    if let Some(list) = map.optional("categories") {
        education.categories = read_code_matches(list, "`patient_education.categories`", errors);
    }
    if let Some(pattern) = map.optional("portal_text") {
        if let Ok(text) = pattern.as_str("`portal_text`").map_err(|e| errors.push(e)) {
            match Regex::new(text) {
                Ok(regex) => education.portal_text = regex,
                Err(error) => errors.push(
                    YamlError::new(
                        format!("`portal_text` is not a valid regular expression: {error}"),
                        pattern.span.clone(),
                    )
                    .with_help("use the syntax of the Rust regex crate, e.g. '(?i)\\bportal\\b'"),
                ),
            }
        }
    }
    if let Some(event) = map.optional("event") {
        if let Some(event_type) = read_event_type(event, errors) {
            education.event_type = event_type;
        }
    }
    errors.extend(map.finish());
}

fn read_denial(node: &Node, denial: &mut DenialMapping, errors: &mut Vec<YamlError>) {
    let Some(mut map) = node.as_map("`denial`").map_err(|e| errors.push(e)).ok() else {
        return;
    };
    let lists: [(&'static str, &mut Vec<CodeMatch>); 4] = [
        ("denial_categories", &mut denial.denial_categories),
        ("rejection_categories", &mut denial.rejection_categories),
        ("adjustment_categories", &mut denial.adjustment_categories),
        ("paid_categories", &mut denial.paid_categories),
    ];
    for (key, field) in lists {
        if let Some(list) = map.optional(key) {
            *field = read_code_matches(list, &format!("`denial.{key}`"), errors);
        }
    }
    if let Some(list) = map.optional("payment_status") {
        denial.payment_status =
            read_list(list, "`denial.payment_status`", errors, |item, errors| {
                let mut map = item
                    .as_map("a payment status")
                    .map_err(|e| errors.push(e))
                    .ok()?;
                let code = read_code_match_keys(&mut map, item, errors);
                let status = read_choice(&mut map, "status", CLAIM_STATUSES, errors);
                errors.extend(map.finish());
                Some(PaymentStatusMapping {
                    code: code?,
                    status: status?,
                })
            });
    }
    if let Some(list) = map.optional("label_systems") {
        denial.label_systems = read_uri_list(list, "`denial.label_systems`", errors);
    }
    if let Some(list) = map.optional("group_code_systems") {
        denial.group_code_systems = read_uri_list(list, "`denial.group_code_systems`", errors);
    }
    errors.extend(map.finish());
}

/// Reads the extension URL at `key`, when present, into `field`.
fn read_extension(
    map: &mut MapReader<'_>,
    key: &'static str,
    field: &mut String,
    errors: &mut Vec<YamlError>,
) {
    if let Some(node) = map.optional(key) {
        if let Some(url) = read_uri(node, &format!("`{key}`"), errors) {
            *field = url;
        }
    }
}

/// Reads a list whose items `read_item` turns into values; items with
/// problems are left out after reporting them.
fn read_list<T>(
    node: &Node,
    what: &str,
    errors: &mut Vec<YamlError>,
    mut read_item: impl FnMut(&Node, &mut Vec<YamlError>) -> Option<T>,
) -> Vec<T> {
    match node.as_seq(what) {
        Ok(items) => items
            .iter()
            .filter_map(|item| read_item(item, errors))
            .collect(),
        Err(error) => {
            errors.push(error);
            Vec::new()
        }
    }
}

fn read_code_matches(node: &Node, what: &str, errors: &mut Vec<YamlError>) -> Vec<CodeMatch> {
    read_list(node, what, errors, |item, errors| {
        let mut map = item
            .as_map("a code match")
            .map_err(|e| errors.push(e))
            .ok()?;
        let code = read_code_match_keys(&mut map, item, errors);
        errors.extend(map.finish());
        code
    })
}

/// Reads `system` and one of `code`, `codes` or `code_prefix` from `map`.
fn read_code_match_keys(
    map: &mut MapReader<'_>,
    item: &Node,
    errors: &mut Vec<YamlError>,
) -> Option<CodeMatch> {
    let system = map
        .required("system")
        .map_err(|e| errors.push(e))
        .ok()
        .and_then(|n| read_uri(n, "`system`", errors));
    let code = map.optional("code");
    let codes = map.optional("codes");
    let prefix = map.optional("code_prefix");

    let given = [code, codes, prefix].iter().filter(|n| n.is_some()).count();
    if given > 1 {
        errors.push(
            YamlError::new("a code match has more than one of `code`, `codes` and `code_prefix`", item.span.clone())
                .with_help("keep one: `code` for one code, `codes` for a list, `code_prefix` for a code family"),
        );
        return None;
    }
    let set = if let Some(node) = code {
        CodeSet::Codes(vec![read_code(node, errors)?])
    } else if let Some(node) = codes {
        let list = node.as_seq("`codes`").map_err(|e| errors.push(e)).ok()?;
        if list.is_empty() {
            errors.push(
                YamlError::new("`codes` is empty", node.span.clone()).with_help(
                    "list at least one code, or remove `codes` to match every code of the system",
                ),
            );
            return None;
        }
        let codes: Vec<String> = list.iter().filter_map(|n| read_code(n, errors)).collect();
        (codes.len() == list.len()).then_some(CodeSet::Codes(codes))?
    } else if let Some(node) = prefix {
        CodeSet::Prefix(read_code(node, errors)?)
    } else {
        CodeSet::Any
    };
    Some(CodeMatch {
        system: system?,
        codes: set,
    })
}

fn read_code(node: &Node, errors: &mut Vec<YamlError>) -> Option<String> {
    let text = node.as_str("a code").map_err(|e| errors.push(e)).ok()?;
    if text.trim().is_empty() || text.trim() != text {
        errors.push(YamlError::new(
            "a code must be non-empty and have no surrounding spaces",
            node.span.clone(),
        ));
        return None;
    }
    Some(text.to_string())
}

fn read_uri_list(node: &Node, what: &str, errors: &mut Vec<YamlError>) -> Vec<String> {
    read_list(node, what, errors, |item, errors| {
        read_uri(item, what, errors)
    })
}

/// Reads an absolute URI: a scheme, a colon and no spaces.
fn read_uri(node: &Node, what: &str, errors: &mut Vec<YamlError>) -> Option<String> {
    let text = node.as_str(what).map_err(|e| errors.push(e)).ok()?;
    let has_scheme = text.split_once(':').is_some_and(|(scheme, rest)| {
        !scheme.is_empty()
            && !rest.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    });
    if !has_scheme || text.chars().any(char::is_whitespace) {
        errors.push(
            YamlError::new(format!("{what} must be an absolute URI"), node.span.clone()).with_help(
                "write the code system URI as FHIR resources carry it, e.g. http://loinc.org",
            ),
        );
        return None;
    }
    Some(text.to_string())
}

/// Reads an event type: dot-separated lowercase words. Types under
/// `portal.` must be ones the portal rules read, so that a misspelling
/// cannot make evidence silently invisible.
fn read_event_type(node: &Node, errors: &mut Vec<YamlError>) -> Option<String> {
    let text = node
        .as_str("an event type")
        .map_err(|e| errors.push(e))
        .ok()?;
    let well_formed = !text.is_empty()
        && text.split('.').all(|word| {
            !word.is_empty()
                && word
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        });
    if !well_formed {
        errors.push(
            YamlError::new(
                format!("event type `{text}` must be lowercase words joined by dots"),
                node.span.clone(),
            )
            .with_help("e.g. portal.offered"),
        );
        return None;
    }
    if text.starts_with("portal.") && !PORTAL_EVENT_TYPES.contains(&text) {
        errors.push(unknown_choice(
            "portal event type",
            text,
            PORTAL_EVENT_TYPES,
            node.span.clone(),
        ));
        return None;
    }
    Some(text.to_string())
}

/// Reads a required non-empty string at `key`.
fn read_name(
    map: &mut MapReader<'_>,
    key: &'static str,
    errors: &mut Vec<YamlError>,
) -> Option<String> {
    let node = map.required(key).map_err(|e| errors.push(e)).ok()?;
    let text = node
        .as_str(&format!("`{key}`"))
        .map_err(|e| errors.push(e))
        .ok()?;
    if text.trim().is_empty() {
        errors.push(YamlError::new(
            format!("`{key}` is empty"),
            node.span.clone(),
        ));
        return None;
    }
    Some(text.to_string())
}

/// Reads a required string at `key` that must be one of `choices`.
fn read_choice(
    map: &mut MapReader<'_>,
    key: &'static str,
    choices: &[&str],
    errors: &mut Vec<YamlError>,
) -> Option<String> {
    let node = map.required(key).map_err(|e| errors.push(e)).ok()?;
    let text = node
        .as_str(&format!("`{key}`"))
        .map_err(|e| errors.push(e))
        .ok()?;
    if !choices.contains(&text) {
        errors.push(unknown_choice(
            &format!("`{key}` value"),
            text,
            choices,
            node.span.clone(),
        ));
        return None;
    }
    Some(text.to_string())
}

fn unknown_choice(what: &str, value: &str, choices: &[&str], span: Span) -> YamlError {
    let help = match suggest(value, choices) {
        Some(near) => format!("did you mean `{near}`?"),
        None => format!("expected one of: {}", choices.join(", ")),
    };
    YamlError::new(format!("unknown {what} `{value}`"), span).with_help(help)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PORTAL: &str = "http://claimlint.dev/fhir/CodeSystem/portal";

    #[test]
    fn builtin_mapping_reads() {
        let mapping = FhirMapping::builtin();
        assert_eq!(mapping.code_systems.cpt, ["http://www.ama-assn.org/go/cpt"]);
        assert_eq!(
            mapping.event_type(Some(PORTAL), Some("portal-invitation")),
            Some("portal.invitation.sent")
        );
        assert_eq!(
            mapping.event_type(Some(PORTAL), Some("portal-offered")),
            Some("portal.offered")
        );
        assert_eq!(
            mapping.event_type(Some("http://other"), Some("portal-offered")),
            None
        );
        assert!(mapping.patient_education.categories[0]
            .matches(Some("http://snomed.info/sct"), Some("311401005")));
        assert!(mapping.time_log_codes[0]
            .matches(Some("http://www.ama-assn.org/go/cpt"), Some("99490")));
        assert_eq!(
            mapping.consent_method_extension,
            "http://claimlint.dev/fhir/StructureDefinition/ccm-consent-method"
        );
        assert_eq!(
            mapping.care_plan_reviewed_extension,
            "http://claimlint.dev/fhir/StructureDefinition/care-plan-reviewed"
        );
        assert_eq!(
            mapping.ccm_consent_categories[0],
            CodeMatch::code("http://loinc.org", "59284-0")
        );
        assert_eq!(
            mapping.email_verified_extension,
            "http://claimlint.dev/fhir/StructureDefinition/email-verified"
        );
    }

    #[test]
    fn user_section_replaces_only_its_keys() {
        let text = "code_systems:\n  cpt: [urn:example:cpt]\nevents: []\n";
        let mapping = FhirMapping::parse(text).unwrap();
        assert_eq!(mapping.code_systems.cpt, ["urn:example:cpt"]);
        assert_eq!(
            mapping.code_systems.hcpcs,
            FhirMapping::builtin().code_systems.hcpcs
        );
        assert!(mapping.events.is_empty());
        assert_eq!(mapping.channels, FhirMapping::builtin().channels);
    }

    #[test]
    fn unknown_key_is_located_with_suggestion() {
        let text = "code_systems:\n  cpts: [urn:x:y]\n";
        let errors = FhirMapping::parse(text).unwrap_err();
        assert_eq!(errors[0].message, "unknown key `cpts` in `code_systems`");
        assert_eq!(errors[0].help.as_deref(), Some("did you mean `cpt`?"));
        assert_eq!(&text[errors[0].span.clone()], "cpts");
    }

    #[test]
    fn misspelled_portal_event_type_is_rejected() {
        let text = "events:\n  - type: portal.ofered\n    codes: [{system: 'urn:x:y', code: a}]\n";
        let errors = FhirMapping::parse(text).unwrap_err();
        assert_eq!(
            errors[0].message,
            "unknown portal event type `portal.ofered`"
        );
        assert_eq!(
            errors[0].help.as_deref(),
            Some("did you mean `portal.offered`?")
        );
    }

    #[test]
    fn invalid_regex_and_uri_are_reported_together() {
        let text = "patient_education:\n  portal_text: '(portal'\npatient:\n  email_verified_extension: not a uri\n";
        let errors = FhirMapping::parse(text).unwrap_err();
        assert_eq!(errors.len(), 2);
        assert!(errors[0]
            .message
            .starts_with("`portal_text` is not a valid regular expression"));
        assert_eq!(
            errors[1].message,
            "`email_verified_extension` must be an absolute URI"
        );
    }

    #[test]
    fn code_match_forms() {
        let text = "chronic_conditions:\n  - {system: 'http://hl7.org/fhir/sid/icd-10-cm', code_prefix: E11}\n  - {system: 'urn:x:any'}\n  - {system: 'urn:x:list', codes: [a, b]}\n";
        let mapping = FhirMapping::parse(text).unwrap();
        let [prefix, any, list] = &mapping.chronic_conditions[..] else {
            panic!("three matches expected");
        };
        assert!(prefix.matches(Some("http://hl7.org/fhir/sid/icd-10-cm"), Some("E11.9")));
        assert!(!prefix.matches(Some("http://hl7.org/fhir/sid/icd-10-cm"), Some("I10")));
        assert!(any.matches(Some("urn:x:any"), Some("whatever")));
        assert!(list.matches(Some("urn:x:list"), Some("b")));
        assert!(!list.matches(Some("urn:x:list"), None));
    }

    #[test]
    fn code_match_with_two_forms_is_rejected() {
        let text = "chronic_conditions:\n  - {system: 'urn:x:y', code: a, code_prefix: b}\n";
        let errors = FhirMapping::parse(text).unwrap_err();
        assert!(errors[0]
            .message
            .contains("more than one of `code`, `codes` and `code_prefix`"));
    }

    #[test]
    fn unknown_payer_type_suggests() {
        let text =
            "payer_types:\n  - {system: 'https://nahdo.org/sopt', code: '1', type: medicaire}\n";
        let errors = FhirMapping::parse(text).unwrap_err();
        assert_eq!(errors[0].message, "unknown `type` value `medicaire`");
        assert_eq!(errors[0].help.as_deref(), Some("did you mean `medicare`?"));
    }

    #[test]
    fn load_error_carries_path_and_locations() {
        let error =
            FhirMapping::load("site/mapping.yaml", "denial:\n  label_system: []\n").unwrap_err();
        assert_eq!(error.path, PathBuf::from("site/mapping.yaml"));
        assert_eq!(
            error.locations(),
            vec![(2, 3, "unknown key `label_system` in `denial`")]
        );
        assert_eq!(error.diagnostics().len(), 1);
    }
}
