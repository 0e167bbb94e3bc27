//! Masking of patient-identifying values in JSON source text.
//!
//! Source snippets in lint output show the bytes around a finding. Before a
//! snippet is shown, every string value under a patient-identifying key is
//! overwritten with `*`, byte for byte, so spans computed on the original text
//! still point at the same places.

/// Keys whose string values (and everything nested under them) identify the
/// patient, in claimlint records and in FHIR R4 resources.
pub const PHI_KEYS: &[&str] = &[
    // claimlint records
    "name",
    "given",
    "family",
    "birth_date",
    "member_id",
    "email",
    "phone",
    "address",
    "recipient",
    "text",
    // FHIR R4
    "birthDate",
    "telecom",
    "identifier",
    "contentString",
    "data",
    "div",
    "line",
    "city",
    "postalCode",
];

/// Returns `text` with every string value, number and literal under a key in
/// `keys` replaced by asterisks of the same byte length. Keys are matched at any depth; the
/// quotes stay, so the masked text is still valid JSON when the input was.
pub fn mask_json(text: &str, keys: &[&str]) -> String {
    let bytes = text.as_bytes();
    let mut out = bytes.to_vec();
    // One entry per open container: whether values in it are masked, and for
    // objects the mask state of the current member.
    let mut stack: Vec<Frame> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                let end = string_end(bytes, i);
                let is_key = stack.last().is_some_and(|f| f.is_object && f.expecting_key);
                if is_key {
                    let key = &text[i + 1..end.saturating_sub(1).max(i + 1)];
                    if let Some(frame) = stack.last_mut() {
                        frame.member_masked = frame.masked || keys.contains(&key);
                        frame.expecting_key = false;
                    }
                } else if current_masked(&stack) {
                    for b in out.iter_mut().take(end.saturating_sub(1)).skip(i + 1) {
                        *b = b'*';
                    }
                }
                i = end;
                continue;
            }
            b'{' | b'[' => {
                let masked = current_masked(&stack);
                stack.push(Frame {
                    is_object: bytes[i] == b'{',
                    expecting_key: bytes[i] == b'{',
                    masked,
                    member_masked: masked,
                });
            }
            b'}' | b']' => {
                stack.pop();
            }
            b',' => {
                if let Some(frame) = stack.last_mut() {
                    if frame.is_object {
                        frame.expecting_key = true;
                        frame.member_masked = frame.masked;
                    }
                }
            }
            b if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'+' | b'.') => {
                // A number (or true, false, null) under a patient key is
                // patient data too, e.g. a member id written as a number.
                let start = i;
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric() || matches!(bytes[i], b'-' | b'+' | b'.'))
                {
                    i += 1;
                }
                if current_masked(&stack) {
                    out[start..i].iter_mut().for_each(|b| *b = b'*');
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    // Only ASCII '*' replaced whole UTF-8 sequences inside strings, so the
    // result is valid UTF-8; fall back to the original on any doubt.
    String::from_utf8(out).unwrap_or_else(|_| text.to_string())
}

struct Frame {
    is_object: bool,
    expecting_key: bool,
    /// Everything in this container is masked.
    masked: bool,
    /// The value of the current member is masked.
    member_masked: bool,
}

fn current_masked(stack: &[Frame]) -> bool {
    match stack.last() {
        Some(frame) if frame.is_object => frame.member_masked,
        Some(frame) => frame.masked,
        None => false,
    }
}

/// Index just past the closing quote of the string starting at `start`.
fn string_end(bytes: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_values_under_phi_keys_keeping_length() {
        let text = r#"{"patient":{"id":"p1","email":"ann@example.org","name":{"given":"Ann"}},"encounter":{"id":"e1"}}"#;
        let masked = mask_json(text, PHI_KEYS);
        assert_eq!(masked.len(), text.len());
        assert!(!masked.contains("ann@example.org"));
        assert!(!masked.contains("Ann"));
        assert!(masked.contains(r#""id":"p1""#));
        assert!(masked.contains(r#""id":"e1""#));
        assert!(serde_json::from_str::<serde_json::Value>(&masked).is_ok());
    }

    #[test]
    fn masks_multibyte_text_and_escapes() {
        let text = "{\"text\":\"B\u{e9}n\u{e9}dicte said \\\"no\\\"\",\"id\":\"n1\"}";
        let masked = mask_json(text, PHI_KEYS);
        assert_eq!(masked.len(), text.len());
        assert!(!masked.contains("dicte"));
        assert!(masked.contains("\"id\":\"n1\""));
    }

    #[test]
    fn masks_numbers_under_phi_keys() {
        let text =
            r#"{"member_id": 12345678, "phone": 15550142, "units": 2, "birth_date": 19510714}"#;
        let masked = mask_json(text, PHI_KEYS);
        assert_eq!(masked.len(), text.len());
        assert!(!masked.contains("12345678"));
        assert!(!masked.contains("15550142"));
        assert!(!masked.contains("19510714"));
        assert!(masked.contains(r#""units": 2"#));
    }

    #[test]
    fn masks_arrays_under_phi_keys() {
        let text = r#"{"address":{"lines":["1 Main St"],"city":"Springfield"},"type":"x"}"#;
        let masked = mask_json(text, PHI_KEYS);
        assert!(!masked.contains("Main"));
        assert!(!masked.contains("Springfield"));
        assert!(masked.contains(r#""type":"x""#));
    }
}
