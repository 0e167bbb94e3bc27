//! Strict walking of YAML mappings: every key is either read or reported.

use super::{Node, NodeKind, Span, YamlError};

/// Reads the entries of one mapping and reports the keys that were never read.
///
/// Call [`MapReader::required`] / [`MapReader::optional`] for each known key,
/// then [`MapReader::finish`], which returns an error for each remaining key
/// with the closest known key as a suggestion.
pub struct MapReader<'a> {
    entries: &'a [(Node, Node)],
    used: Vec<bool>,
    known: Vec<&'static str>,
    span: Span,
    what: String,
}

impl<'a> MapReader<'a> {
    pub(super) fn new(entries: &'a [(Node, Node)], span: Span, what: &str) -> Self {
        MapReader {
            entries,
            used: vec![false; entries.len()],
            known: Vec::new(),
            span,
            what: what.to_string(),
        }
    }

    /// Span of the whole mapping.
    pub fn span(&self) -> Span {
        self.span.clone()
    }

    /// Returns the value of `key`, if present and not null.
    pub fn optional(&mut self, key: &'static str) -> Option<&'a Node> {
        self.known.push(key);
        let position = self
            .entries
            .iter()
            .position(|(k, _)| matches!(&k.kind, NodeKind::Scalar { text, .. } if text == key))?;
        self.used[position] = true;
        let value = &self.entries[position].1;
        (!value.is_null()).then_some(value)
    }

    /// Returns the value of `key`, or an error naming the missing key.
    ///
    /// When an unread key looks like a misspelling of `key`, the error is
    /// reported on that key instead, and it is not reported again as unknown.
    pub fn required(&mut self, key: &'static str) -> Result<&'a Node, YamlError> {
        if let Some(value) = self.optional(key) {
            return Ok(value);
        }
        let misspelled = self.entries.iter().enumerate().find(|(i, (k, _))| {
            !self.used[*i]
                && matches!(&k.kind, NodeKind::Scalar { text, .. } if suggest(text, &[key]).is_some())
        });
        if let Some((index, (found, _))) = misspelled {
            self.used[index] = true;
            let name = match &found.kind {
                NodeKind::Scalar { text, .. } => text.clone(),
                _ => String::new(),
            };
            return Err(YamlError::new(
                format!("unknown key `{name}` in {}", self.what),
                found.span.clone(),
            )
            .with_help(format!("did you mean `{key}`?")));
        }
        Err(YamlError::new(
            format!("{} is missing the required key `{key}`", self.what),
            self.span.start..self.span.start + 1,
        ))
    }

    /// Returns the key node of `key`, for locating errors about it.
    pub fn key_span(&self, key: &str) -> Option<Span> {
        self.entries
            .iter()
            .find(|(k, _)| matches!(&k.kind, NodeKind::Scalar { text, .. } if text == key))
            .map(|(k, _)| k.span.clone())
    }

    /// All entries, for mappings whose keys are data (not a fixed set).
    pub fn entries(&mut self) -> &'a [(Node, Node)] {
        self.used.iter_mut().for_each(|u| *u = true);
        self.entries
    }

    /// True when some key has not been read yet.
    pub fn has_unread(&self) -> bool {
        self.used.iter().any(|used| !used)
    }

    /// Reports every key that was not read, with a suggestion where one of
    /// the known keys is close.
    pub fn finish(self) -> Vec<YamlError> {
        let mut errors = Vec::new();
        for ((key, _), used) in self.entries.iter().zip(&self.used) {
            if *used {
                continue;
            }
            let name = match &key.kind {
                NodeKind::Scalar { text, .. } => text.as_str(),
                _ => "(non-scalar key)",
            };
            let mut error = YamlError::new(
                format!("unknown key `{name}` in {}", self.what),
                key.span.clone(),
            );
            error.help = Some(match suggest(name, &self.known) {
                Some(near) => format!("did you mean `{near}`?"),
                None => format!("expected one of: {}", self.known.join(", ")),
            });
            errors.push(error);
        }
        errors
    }
}

/// Returns the candidate closest to `name`, when it is close enough to be a
/// likely misspelling.
pub fn suggest<'c>(name: &str, candidates: &[&'c str]) -> Option<&'c str> {
    candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(name, c), *c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::super::{parse, ParseLimits};

    #[test]
    fn unknown_key_suggests_the_closest() {
        let text = "code: A\nseverty: error\n";
        let node = parse(text, ParseLimits::default()).unwrap();
        let mut map = node.as_map("rule").unwrap();
        map.required("code").unwrap();
        map.optional("severity");
        let errors = map.finish();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].message, "unknown key `severty` in rule");
        assert_eq!(errors[0].help.as_deref(), Some("did you mean `severity`?"));
        assert_eq!(&text[errors[0].span.clone()], "severty");
    }

    #[test]
    fn misspelled_required_key_is_reported_once() {
        let text = "code: A\ncitaton: x\n";
        let node = parse(text, ParseLimits::default()).unwrap();
        let mut map = node.as_map("a rule").unwrap();
        let error = map.required("citation").unwrap_err();
        assert_eq!(error.message, "unknown key `citaton` in a rule");
        assert_eq!(error.help.as_deref(), Some("did you mean `citation`?"));
        map.required("code").unwrap();
        assert!(map.finish().is_empty());
    }

    #[test]
    fn missing_required_key_is_reported() {
        let node = parse("a: 1\n", ParseLimits::default()).unwrap();
        let mut map = node.as_map("rule").unwrap();
        let error = map.required("code").unwrap_err();
        assert_eq!(error.message, "rule is missing the required key `code`");
    }
}
