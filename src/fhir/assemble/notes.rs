//! Clinical notes from DocumentReference resources.
//!
//! The note text is the document's `text/plain` attachments, decoded from
//! base64 in their declared charset. Other content types (PDF, CDA, HTML,
//! images) and attachments held only at a `url` are not text in this export
//! and are skipped without a warning.
//!
//! A note is signed when a Provenance signature targets it (its time is
//! `signed_at`), or when its `docStatus` is `final` or `amended`, or it names
//! an `authenticator` (then `signed_at` is the document `date`). A
//! preliminary note, or one with no status, has no `signed_at`, because
//! nothing in it shows a signature.

use base64::alphabet::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;
use serde_json::{Map, Value};

use super::people::{actor, Actor};
use super::record::RecordBuilder;
use super::Ctx;
use crate::fhir::index::Res;
use crate::fhir::values::{codings_at, concept_label, items, text};

/// Base64 as FHIR writes it, with or without padding.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Adds the note of one DocumentReference to the record.
pub(crate) fn map_note(ctx: &Ctx<'_>, document: Res<'_>, builder: &mut RecordBuilder) {
    let mut note = Map::new();
    note.insert("id".to_string(), Value::String(ctx.index.key(document)));
    if let Some(note_type) = note_type(ctx, document.value) {
        note.insert("type".to_string(), Value::String(note_type));
    }
    if let Some(author) = note_author(ctx, document).and_then(|a| a.to_author()) {
        note.insert("author".to_string(), author);
    }
    if let Some(signed_at) = signed_at(ctx, document) {
        note.insert(
            "signed_at".to_string(),
            Value::String(signed_at.to_string()),
        );
    }

    let mut texts = Vec::new();
    for (position, content) in items(document.value, "content").enumerate() {
        let Some(attachment) = content.get("attachment") else {
            continue;
        };
        match attachment_text(attachment) {
            AttachmentText::Text(text) => texts.push(text),
            AttachmentText::NotText => {}
            AttachmentText::Invalid(problem) => builder.warn(
                ctx.index.origin(document).child(&format!("/content/{position}/attachment")),
                format!("record {}: the note text of {} was left out: {problem}", builder.id, ctx.index.key(document)),
                "re-export the document with its text as base64 in the charset its contentType names",
            ),
        }
    }
    if !texts.is_empty() {
        note.insert("text".to_string(), Value::String(texts.join("\n\n")));
    }
    builder.push("notes", Value::Object(note), &ctx.source(document));
}

/// Returns the configured note type of the document's type, else its label.
fn note_type(ctx: &Ctx<'_>, document: &Value) -> Option<String> {
    let codings = codings_at(document, "type");
    ctx.mapping
        .note_types
        .iter()
        .find(|t| codings.iter().any(|c| t.code.matches(c.system, c.code)))
        .map(|t| t.note_type.clone())
        .or_else(|| document.get("type").and_then(concept_label))
}

/// Returns the first author who is a person (Practitioner or
/// PractitionerRole), else the first author with any name.
fn note_author(ctx: &Ctx<'_>, document: Res<'_>) -> Option<Actor> {
    let authors: Vec<&Value> = items(document.value, "author").collect();
    let person = authors.iter().find(|reference| {
        ctx.index
            .resolve(document, reference)
            .is_some_and(|target| target.is("Practitioner") || target.is("PractitionerRole"))
    });
    let chosen = person.or_else(|| authors.first())?;
    let found = actor(ctx, document, chosen);
    (found != Actor::default()).then_some(found)
}

fn signed_at<'r>(ctx: &Ctx<'r>, document: Res<'r>) -> Option<&'r str> {
    let signature = ctx
        .links
        .provenance
        .get(&document.top)
        .into_iter()
        .flatten()
        .flat_map(|&p| items(ctx.index.top(p).value, "signature").collect::<Vec<_>>())
        .find_map(|signature| text(signature, "when"));
    if signature.is_some() {
        return signature;
    }
    let final_status = matches!(text(document.value, "docStatus"), Some("final" | "amended"));
    let authenticated = document.value.get("authenticator").is_some();
    (final_status || authenticated)
        .then(|| text(document.value, "date"))
        .flatten()
}

/// The text of one Attachment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AttachmentText {
    Text(String),
    /// Not `text/plain`, or no inline data: nothing to read here.
    NotText,
    /// Declared as text but unreadable; the reason never quotes content.
    Invalid(String),
}

/// Decodes an Attachment's inline `text/plain` data.
pub(crate) fn attachment_text(attachment: &Value) -> AttachmentText {
    let Some(content_type) = text(attachment, "contentType") else {
        return AttachmentText::NotText;
    };
    let mut parts = content_type.split(';').map(str::trim);
    let media_type = parts.next().unwrap_or_default().to_ascii_lowercase();
    if media_type != "text/plain" {
        return AttachmentText::NotText;
    }
    let charset = parts
        .filter_map(|p| p.split_once('='))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("charset"))
        .map(|(_, value)| value.trim().trim_matches('"').to_ascii_lowercase())
        .unwrap_or_else(|| "utf-8".to_string());
    let Some(data) = attachment.get("data").and_then(Value::as_str) else {
        return AttachmentText::NotText;
    };

    let compact: String = data.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let bytes = match BASE64.decode(compact.as_bytes()) {
        Ok(bytes) => bytes,
        Err(_) => {
            return AttachmentText::Invalid("the attachment data is not valid base64".to_string())
        }
    };
    match decode_charset(&bytes, &charset) {
        Ok(text) => AttachmentText::Text(text),
        Err(problem) => AttachmentText::Invalid(problem),
    }
}

/// Decodes `bytes` in `charset`: UTF-8, US-ASCII, ISO-8859-1 or
/// Windows-1252.
fn decode_charset(bytes: &[u8], charset: &str) -> Result<String, String> {
    match charset {
        "utf-8" | "utf8" => {
            let bytes = bytes.strip_prefix(&[0xef, 0xbb, 0xbf]).unwrap_or(bytes);
            String::from_utf8(bytes.to_vec())
                .map_err(|e| format!("the attachment is not valid UTF-8 (byte {})", e.utf8_error().valid_up_to()))
        }
        "us-ascii" | "ascii" => match bytes.iter().position(|b| !b.is_ascii()) {
            Some(at) => Err(format!("the attachment is declared US-ASCII but byte {at} is not ASCII")),
            None => Ok(bytes.iter().map(|&b| char::from(b)).collect()),
        },
        "iso-8859-1" | "latin1" | "latin-1" | "iso_8859-1" => Ok(bytes.iter().map(|&b| char::from(b)).collect()),
        "windows-1252" | "cp1252" => Ok(bytes.iter().map(|&b| windows_1252(b)).collect()),
        other => Err(format!("the attachment charset `{other}` is not supported (UTF-8, US-ASCII, ISO-8859-1, Windows-1252)")),
    }
}

/// Windows-1252 differs from ISO-8859-1 only in 0x80..=0x9F.
fn windows_1252(byte: u8) -> char {
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž',
        '\u{8f}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}',
        'ž', 'Ÿ',
    ];
    match byte {
        0x80..=0x9f => HIGH[usize::from(byte - 0x80)],
        other => char::from(other),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn base64_text_is_decoded() {
        let attachment = json!({"contentType": "text/plain; charset=utf-8", "data": "UG9ydGFsIGVkdWNhdGlvbiBkb25lLg=="});
        assert_eq!(
            attachment_text(&attachment),
            AttachmentText::Text("Portal education done.".to_string())
        );
    }

    #[test]
    fn escaped_padding_and_missing_padding_decode() {
        // `\u003d` is `=` in JSON; serde_json unescapes it while parsing.
        let attachment: Value =
            serde_json::from_str(r#"{"contentType": "text/plain", "data": "SGVsbG8\u003d"}"#)
                .unwrap();
        assert_eq!(
            attachment_text(&attachment),
            AttachmentText::Text("Hello".to_string())
        );
        let unpadded = json!({"contentType": "text/plain", "data": "SGVsbG8"});
        assert_eq!(
            attachment_text(&unpadded),
            AttachmentText::Text("Hello".to_string())
        );
        let wrapped = json!({"contentType": "text/plain", "data": "SGVs\r\nbG8="});
        assert_eq!(
            attachment_text(&wrapped),
            AttachmentText::Text("Hello".to_string())
        );
    }

    #[test]
    fn charset_is_respected() {
        // "Bénédicte" in ISO-8859-1.
        let latin1 =
            json!({"contentType": "text/plain; charset=ISO-8859-1", "data": "Qulu6WRpY3Rl"});
        assert_eq!(
            attachment_text(&latin1),
            AttachmentText::Text("Bénédicte".to_string())
        );
        let cp1252 =
            json!({"contentType": "text/plain;charset=\"windows-1252\"", "data": "k3F1b3RlZJQ="});
        assert_eq!(
            attachment_text(&cp1252),
            AttachmentText::Text("“quoted”".to_string())
        );
    }

    #[test]
    fn invalid_text_is_reported_without_content() {
        let bad_base64 = json!({"contentType": "text/plain", "data": "!!!"});
        assert!(matches!(
            attachment_text(&bad_base64),
            AttachmentText::Invalid(_)
        ));
        let bad_utf8 = json!({"contentType": "text/plain", "data": "/w=="});
        assert_eq!(
            attachment_text(&bad_utf8),
            AttachmentText::Invalid("the attachment is not valid UTF-8 (byte 0)".to_string())
        );
        let unknown = json!({"contentType": "text/plain; charset=ebcdic", "data": "SGVsbG8="});
        assert!(
            matches!(attachment_text(&unknown), AttachmentText::Invalid(m) if m.contains("`ebcdic`"))
        );
    }

    #[test]
    fn non_text_and_url_only_attachments_are_skipped() {
        let pdf = json!({"contentType": "application/pdf", "data": "SGVsbG8="});
        assert_eq!(attachment_text(&pdf), AttachmentText::NotText);
        let by_url = json!({"contentType": "text/plain", "url": "http://example.org/note.txt"});
        assert_eq!(attachment_text(&by_url), AttachmentText::NotText);
    }
}
