//! Practice and payer profiles: who sends an appeal, and where it goes.
//!
//! Profiles are YAML files validated against the JSON Schemas in `schemas/`
//! (`practice-profile.schema.json`, `payer-profiles.schema.json`). They are
//! read with [`crate::yaml`], so that every problem is located in the file and
//! an unknown key comes with a "did you mean" hint. A letter never carries a
//! placeholder, so a missing field is an error that names the field.
//!
//! Plain YAML scalars are read as the schema expects them: `npi: 1497758544`
//! and `postal_code: 06101` are strings, so a leading zero is never lost.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::diagnostic::SourceDiagnostic;
use crate::yaml::{parse, Node, NodeKind, ParseLimits, Span, YamlError};

/// The practice profile JSON Schema (draft 2020-12), as shipped in `schemas/`.
pub const PRACTICE_SCHEMA_TEXT: &str = include_str!("../../schemas/practice-profile.schema.json");
/// The payer profiles JSON Schema (draft 2020-12), as shipped in `schemas/`.
pub const PAYERS_SCHEMA_TEXT: &str = include_str!("../../schemas/payer-profiles.schema.json");

/// A postal address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostalAddress {
    pub lines: Vec<String>,
    pub city: String,
    pub state: String,
    pub postal_code: String,
}

impl PostalAddress {
    /// Returns the address as it is printed: street lines, then "City, ST 12345".
    pub fn printed_lines(&self) -> Vec<String> {
        let mut lines = self.lines.clone();
        lines.push(format!(
            "{}, {} {}",
            self.city, self.state, self.postal_code
        ));
        lines
    }
}

/// The person who signs the letters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signer {
    pub name: String,
    pub title: String,
}

/// The practice that sends appeal letters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PracticeProfile {
    pub name: String,
    pub address: PostalAddress,
    pub phone: String,
    pub npi: String,
    pub signer: Signer,
}

/// A payer's appeals address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppealsAddress {
    /// Department or attention line.
    #[serde(default)]
    pub attention: Option<String>,
    #[serde(flatten)]
    pub address: PostalAddress,
}

/// One payer: where its appeals go and how long it allows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayerProfile {
    pub name: String,
    pub appeals_address: AppealsAddress,
    /// Days from the notice date within which the payer accepts an appeal;
    /// `None` when the profile leaves the default.
    #[serde(default)]
    pub appeal_window_days: Option<u32>,
}

/// The payer profiles file: payers keyed by the id that claims carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayerDirectory {
    /// The file the profiles were read from, for messages.
    pub path: PathBuf,
    pub payers: BTreeMap<String, PayerProfile>,
}

#[derive(Deserialize)]
struct PayersFile {
    payers: BTreeMap<String, PayerProfile>,
}

impl PayerDirectory {
    /// Returns the profile of `payer_id`.
    pub fn get(&self, payer_id: &str) -> Option<&PayerProfile> {
        self.payers.get(payer_id.trim())
    }

    /// Parses a payer profiles file.
    pub fn parse(path: &Path, text: &str) -> Result<PayerDirectory, ProfileError> {
        let file: PayersFile = read_profile(path, text, payers_schema(), "payer profiles")?;
        Ok(PayerDirectory {
            path: path.to_path_buf(),
            payers: file.payers,
        })
    }
}

impl PracticeProfile {
    /// Parses a practice profile file.
    pub fn parse(path: &Path, text: &str) -> Result<PracticeProfile, ProfileError> {
        let profile: PracticeProfile =
            read_profile(path, text, practice_schema(), "practice profile")?;
        if !npi_check_digit_is_valid(&profile.npi) {
            let root = parse(text, ParseLimits::default()).ok();
            let span = root
                .as_ref()
                .and_then(|root| node_at(root, &["npi"]))
                .map_or(0..0, |node| node.span.clone());
            return Err(ProfileError::new(
                path,
                text,
                vec![YamlError::new(
                    format!("`npi` {} has an invalid check digit", profile.npi),
                    span,
                )
                .with_help("copy the NPI from the NPPES registry; one digit is likely mistyped")],
            ));
        }
        Ok(profile)
    }
}

/// Returns whether a ten-digit NPI has a valid check digit: the Luhn
/// algorithm over the digits prefixed with 80840, as the NPI standard
/// (45 CFR 162.406) specifies.
pub fn npi_check_digit_is_valid(npi: &str) -> bool {
    if npi.len() != 10 || !npi.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let digits: Vec<u32> = format!("80840{npi}")
        .bytes()
        .map(|b| u32::from(b - b'0'))
        .collect();
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(index, &digit)| {
            if index % 2 == 1 {
                let doubled = digit * 2;
                if doubled > 9 {
                    doubled - 9
                } else {
                    doubled
                }
            } else {
                digit
            }
        })
        .sum();
    sum % 10 == 0
}

/// A profile file that could not be read, with every problem found in it.
#[derive(Debug, Clone)]
pub struct ProfileError {
    pub path: PathBuf,
    pub text: Arc<str>,
    pub problems: Vec<YamlError>,
}

impl ProfileError {
    pub fn new(path: &Path, text: &str, problems: Vec<YamlError>) -> Self {
        ProfileError {
            path: path.to_path_buf(),
            text: Arc::from(text),
            problems,
        }
    }

    /// Returns one located diagnostic per problem, in file order.
    pub fn diagnostics(&self) -> Vec<SourceDiagnostic> {
        let messages: Vec<String> = self
            .problems
            .iter()
            .map(|p| format!("{}: {}", self.path.display(), p.message))
            .collect();
        crate::yaml::file_diagnostics(
            "claimlint::profile",
            &self.path,
            &self.text,
            self.problems
                .iter()
                .zip(&messages)
                .map(|(p, message)| (message.as_str(), &p.span, p.help.as_deref())),
        )
    }
}

impl std::fmt::Display for ProfileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let messages: Vec<&str> = self.problems.iter().map(|p| p.message.as_str()).collect();
        write!(f, "{}: {}", self.path.display(), messages.join("; "))
    }
}

impl std::error::Error for ProfileError {}

/// A compiled profile schema.
struct ProfileSchema {
    document: Value,
    validator: jsonschema::Validator,
}

fn compile_schema(text: &str) -> ProfileSchema {
    // The schemas are compiled into the binary and covered by tests, so a
    // failure here is a build defect, not a user error.
    let document: Value = serde_json::from_str(text).expect("shipped profile schema is valid JSON");
    let validator =
        jsonschema::draft202012::new(&document).expect("shipped profile schema compiles");
    ProfileSchema {
        document,
        validator,
    }
}

fn practice_schema() -> &'static ProfileSchema {
    static SCHEMA: OnceLock<ProfileSchema> = OnceLock::new();
    SCHEMA.get_or_init(|| compile_schema(PRACTICE_SCHEMA_TEXT))
}

fn payers_schema() -> &'static ProfileSchema {
    static SCHEMA: OnceLock<ProfileSchema> = OnceLock::new();
    SCHEMA.get_or_init(|| compile_schema(PAYERS_SCHEMA_TEXT))
}

/// Parses `text`, validates it against `schema` and deserializes it.
fn read_profile<T: serde::de::DeserializeOwned>(
    path: &Path,
    text: &str,
    schema: &ProfileSchema,
    what: &str,
) -> Result<T, ProfileError> {
    let root =
        parse(text, ParseLimits::default()).map_err(|e| ProfileError::new(path, text, vec![e]))?;
    let value = to_json(&root, Some(&schema.document), &schema.document);

    let mut problems: Vec<YamlError> = schema
        .validator
        .iter_errors(&value)
        .flat_map(|error| describe(&error, &root, &schema.document, what))
        .collect();
    if !problems.is_empty() {
        problems.sort_by_key(|p| p.span.start);
        problems.dedup();
        return Err(ProfileError::new(path, text, problems));
    }
    serde_json::from_value(value).map_err(|error| {
        ProfileError::new(
            path,
            text,
            vec![YamlError::new(
                format!("invalid {what}: {error}"),
                root.span.clone(),
            )],
        )
    })
}

/// Converts a YAML node to JSON, reading plain scalars as strings wherever
/// the schema expects a string.
fn to_json(node: &Node, schema: Option<&Value>, root: &Value) -> Value {
    let schema = schema.map(|s| resolve(s, root));
    match &node.kind {
        NodeKind::Scalar { text, .. } if !node.is_null() && expects_string(schema) => {
            Value::String(text.clone())
        }
        NodeKind::Seq(items) => {
            let item_schema = schema.and_then(|s| s.get("items"));
            Value::Array(
                items
                    .iter()
                    .map(|item| to_json(item, item_schema, root))
                    .collect(),
            )
        }
        NodeKind::Map(entries) => Value::Object(
            entries
                .iter()
                .map(|(key, value)| {
                    let key = scalar_text(key);
                    let child = schema.and_then(|s| property_schema(s, &key));
                    let converted = to_json(value, child, root);
                    (key, converted)
                })
                .collect(),
        ),
        _ => node.to_json(),
    }
}

fn expects_string(schema: Option<&Value>) -> bool {
    schema.and_then(|s| s.get("type")).and_then(Value::as_str) == Some("string")
}

/// Follows a local `$ref` (`#/$defs/…`).
fn resolve<'v>(schema: &'v Value, root: &'v Value) -> &'v Value {
    let mut current = schema;
    for _ in 0..16 {
        match current
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix('#'))
        {
            Some(pointer) => match root.pointer(pointer) {
                Some(target) => current = target,
                None => break,
            },
            None => break,
        }
    }
    current
}

/// Returns the schema of property `key` in an object schema: a named property, or
/// the `additionalProperties` schema when that is an object.
fn property_schema<'v>(schema: &'v Value, key: &str) -> Option<&'v Value> {
    schema
        .get("properties")
        .and_then(|p| p.get(key))
        .or_else(|| schema.get("additionalProperties").filter(|a| a.is_object()))
}

/// Returns the schema at an instance path, for naming the keys allowed there.
fn schema_at<'v>(root: &'v Value, path: &[String]) -> Option<&'v Value> {
    let mut current = resolve(root, root);
    for token in path {
        let next = match current.get("items") {
            Some(items)
                if token.parse::<usize>().is_ok() && current.get("properties").is_none() =>
            {
                items
            }
            _ => property_schema(current, token)?,
        };
        current = resolve(next, root);
    }
    Some(current)
}

fn scalar_text(node: &Node) -> String {
    match &node.kind {
        NodeKind::Scalar { text, .. } => text.clone(),
        _ => String::new(),
    }
}

/// Returns the node at an instance path.
fn node_at<'n, S: AsRef<str>>(root: &'n Node, path: &[S]) -> Option<&'n Node> {
    let mut current = root;
    for token in path {
        let token = token.as_ref();
        current = match &current.kind {
            NodeKind::Map(entries) => entries
                .iter()
                .find(|(k, _)| scalar_text(k) == token)
                .map(|(_, v)| v)?,
            NodeKind::Seq(items) => items.get(token.parse::<usize>().ok()?)?,
            NodeKind::Scalar { .. } => return None,
        };
    }
    Some(current)
}

/// Returns the span of a key in the mapping at `path`.
fn key_span(root: &Node, path: &[String], key: &str) -> Option<Span> {
    match &node_at(root, path)?.kind {
        NodeKind::Map(entries) => entries
            .iter()
            .find(|(k, _)| scalar_text(k) == key)
            .map(|(k, _)| k.span.clone()),
        _ => None,
    }
}

fn split_pointer(pointer: &str) -> Vec<String> {
    pointer
        .split('/')
        .skip(1)
        .map(|token| token.replace("~1", "/").replace("~0", "~"))
        .collect()
}

/// Returns the dotted name of a field, e.g. `signer.name` or `payers.60054.name`.
fn dotted(path: &[String], key: Option<&str>) -> String {
    let mut parts: Vec<&str> = path.iter().map(String::as_str).collect();
    parts.extend(key);
    parts.join(".")
}

/// Turns one schema violation into located problems.
fn describe(
    error: &jsonschema::ValidationError<'_>,
    root: &Node,
    schema: &Value,
    what: &str,
) -> Vec<YamlError> {
    use jsonschema::error::ValidationErrorKind as Kind;

    let path = split_pointer(error.instance_path().as_str());
    let here = node_at(root, &path).map_or(root.span.clone(), |n| n.span.clone());
    let field = dotted(&path, None);
    match error.kind() {
        Kind::AdditionalProperties { unexpected } => {
            let allowed: Vec<&str> = schema_at(schema, &path)
                .and_then(|s| s.get("properties"))
                .and_then(Value::as_object)
                .map(|p| p.keys().map(String::as_str).collect())
                .unwrap_or_default();
            unexpected
                .iter()
                .map(|key| {
                    let span = key_span(root, &path, key).unwrap_or(here.clone());
                    let help = match crate::yaml::suggest(key, &allowed) {
                        Some(near) => format!("did you mean `{near}`?"),
                        None => format!("expected one of: {}", allowed.join(", ")),
                    };
                    YamlError::new(
                        format!("unknown key `{}` in {what}", dotted(&path, Some(key))),
                        span,
                    )
                    .with_help(help)
                })
                .collect()
        }
        Kind::Required { property } => {
            let name = property.as_str().unwrap_or_default();
            let start = here.start;
            vec![YamlError::new(
                format!(
                    "{what} is missing the required field `{}`",
                    dotted(&path, Some(name))
                ),
                start..start + 1,
            )
            .with_help(format!(
                "add `{name}`; a letter never carries a placeholder"
            ))]
        }
        Kind::Pattern { pattern } if pattern == "\\S" => {
            vec![YamlError::new(
                format!("`{field}` is empty in {what}"),
                here,
            )]
        }
        Kind::Type { .. } => {
            vec![YamlError::new(
                format!("`{field}` in {what} {}", masked_message(error)),
                here,
            )]
        }
        _ => vec![YamlError::new(
            format!("`{field}` in {what}: {}", error),
            here,
        )],
    }
}

fn masked_message(error: &jsonschema::ValidationError<'_>) -> String {
    let text = error.masked().to_string();
    text.strip_prefix("value ").unwrap_or(&text).to_string()
}

#[cfg(test)]
mod tests;
