//! Locating problems in the input files and rendering them, for every
//! subcommand: input errors, and diagnostics about a node of a record.

use std::collections::HashMap;
use std::sync::Arc;

use claimlint::diagnostic::SourceDiagnostic;
use claimlint::input::{InputError, InputErrorKind};
use claimlint::record::{Origin, Record};
use claimlint::report::SourceRange;

/// File texts for rendering snippets. Files are read again from disk when a
/// snippet is needed, so that a large run keeps no file text in memory;
/// standard input is kept because it cannot be read twice.
#[derive(Default)]
pub struct SourceCache {
    texts: HashMap<Arc<str>, Option<Arc<str>>>,
    /// Masked text of each file, made once per file rather than per finding.
    masked: HashMap<Arc<str>, Arc<str>>,
    /// Byte offset where each line starts, per file, for NDJSON origins.
    line_starts: HashMap<Arc<str>, Vec<usize>>,
    /// Show patient data in snippets instead of masking it (`--show-phi`).
    pub show_phi: bool,
}

impl SourceCache {
    pub fn keep(&mut self, name: Arc<str>, bytes: Vec<u8>) {
        let text = String::from_utf8(bytes)
            .ok()
            .map(|t| Arc::from(t.trim_start_matches('\u{feff}')));
        self.texts.insert(name, text);
    }

    /// Marks an input as unavailable for snippets, such as standard input
    /// once it has been read.
    pub fn forget(&mut self, name: Arc<str>) {
        self.texts.entry(name).or_insert(None);
    }

    fn get(&mut self, name: &Arc<str>) -> Option<Arc<str>> {
        self.texts
            .entry(name.clone())
            .or_insert_with(|| {
                let bytes = std::fs::read(&**name).ok()?;
                let text = String::from_utf8(bytes).ok()?;
                Some(Arc::from(text.strip_prefix('\u{feff}').unwrap_or(&text)))
            })
            .clone()
    }
}

/// Sorts input errors by file and position.
pub fn sort_input_errors(errors: &mut [InputError]) {
    errors.sort_by(|a, b| {
        (
            &a.origin.file,
            a.origin.line,
            a.span.as_ref().map(|s| s.start),
            &a.origin.pointer,
        )
            .cmp(&(
                &b.origin.file,
                b.origin.line,
                b.span.as_ref().map(|s| s.start),
                &b.origin.pointer,
            ))
    });
}

/// The byte range of the document an origin refers to: its NDJSON line, or
/// the whole file. Line starts are indexed once per file.
fn document_range(
    file: &Arc<str>,
    text: &str,
    line: Option<usize>,
    sources: &mut SourceCache,
) -> std::ops::Range<usize> {
    let len = text.len();
    let Some(line) = line else {
        return 0..len;
    };
    let starts = sources.line_starts.entry(file.clone()).or_insert_with(|| {
        std::iter::once(0)
            .chain(text.match_indices('\n').map(|(index, _)| index + 1))
            .collect()
    });
    let Some(&start) = line.checked_sub(1).and_then(|index| starts.get(index)) else {
        return len..len;
    };
    let end = starts.get(line).map_or(len, |&next| next);
    let body = text[start..end].trim_end_matches(['\n', '\r']);
    start..start + body.len()
}

/// Locates `origin` in its file: the span to label and the masked text.
fn locate(
    origin: &Origin,
    sources: &mut SourceCache,
) -> Option<(Arc<str>, std::ops::Range<usize>)> {
    let text = sources.get(&origin.file)?;
    let document = document_range(&origin.file, &text, origin.line, sources);
    let span =
        match claimlint::source::locate_pointer_within(&text, document.clone(), &origin.pointer) {
            Some(located) => label_span(&text, located),
            None => document.start..document.start,
        };
    Some((text, span))
}

/// Labels the key of a container member (a whole list would fill the
/// screen) and the value of a scalar member.
pub fn label_span(text: &str, located: claimlint::source::Located) -> std::ops::Range<usize> {
    let is_container = matches!(text.as_bytes().get(located.value.start), Some(b'{' | b'['));
    match (is_container, located.key) {
        (true, Some(key)) => key,
        (true, None) => located.value.start..located.value.start + 1,
        (false, _) => located.value,
    }
}

/// The snippet text: masked, unless the user asked to see patient data.
/// Each file is masked once, however many findings it has.
fn snippet_text(file: &Arc<str>, text: &Arc<str>, sources: &mut SourceCache) -> Arc<str> {
    if sources.show_phi {
        return text.clone();
    }
    sources
        .masked
        .entry(file.clone())
        .or_insert_with(|| Arc::from(claimlint::phi::mask_json(text, claimlint::phi::PHI_KEYS)))
        .clone()
}

/// Attaches the source snippet of the record node at `pointer`, with patient
/// data masked, and notes the FHIR resource it was mapped from.
pub fn with_record_source(
    mut diagnostic: SourceDiagnostic,
    record: &Record,
    pointer: &str,
    label: String,
    sources: &mut SourceCache,
) -> SourceDiagnostic {
    let origin = record.locate(pointer);
    if let Some(resource) = record.source_resource(pointer) {
        diagnostic
            .notes
            .push(format!("mapped from FHIR {resource}"));
    }
    match locate(&origin, sources) {
        Some((text, span)) => {
            let shown = snippet_text(&origin.file, &text, sources);
            diagnostic.with_source(&*origin.file, shown, span, label)
        }
        None => diagnostic,
    }
}

/// Returns the diagnostic code of an input error.
pub fn input_code(kind: InputErrorKind) -> &'static str {
    match kind {
        InputErrorKind::Io => "claimlint::input::io",
        InputErrorKind::InvalidUtf8 => "claimlint::input::invalid-utf8",
        InputErrorKind::InvalidJson => "claimlint::input::invalid-json",
        InputErrorKind::DuplicateKey => "claimlint::input::duplicate-key",
        InputErrorKind::DuplicateRecord => "claimlint::input::duplicate-record",
        InputErrorKind::Compressed => "claimlint::input::compressed",
        InputErrorKind::Empty => "claimlint::input::empty",
        InputErrorKind::Unrecognized => "claimlint::input::unrecognized",
        InputErrorKind::Schema => "claimlint::input::schema",
        InputErrorKind::FhirVersion => "claimlint::input::fhir-version",
        InputErrorKind::FhirMapping => "claimlint::input::fhir-mapping",
    }
}

pub fn input_diagnostic(error: &InputError, sources: &mut SourceCache) -> SourceDiagnostic {
    let code = input_code(error.kind);
    let mut diagnostic = SourceDiagnostic::error(error.message.clone()).with_code(code);
    diagnostic.help = error.help.clone();
    if matches!(
        error.kind,
        InputErrorKind::Io | InputErrorKind::InvalidUtf8 | InputErrorKind::Compressed
    ) {
        diagnostic.message = format!("{}: {}", error.origin.file, error.message);
        return diagnostic;
    }
    let located = match &error.span {
        Some(span) => match sources.get(&error.origin.file) {
            Some(text) => {
                let base =
                    document_range(&error.origin.file, &text, error.origin.line, sources).start;
                Some((text, base + span.start..base + span.end))
            }
            None => None,
        },
        None => locate(&error.origin, sources),
    };
    match located {
        Some((text, span)) => {
            let shown = snippet_text(&error.origin.file, &text, sources);
            diagnostic.with_source(&*error.origin.file, shown, span, "here")
        }
        None => {
            diagnostic.message = format!("{}: {}", error.origin.file, error.message);
            diagnostic
        }
    }
}

/// Returns the character range of the record node at `pointer` in its
/// source file (for FHIR records, the resource it was mapped from).
pub fn record_range(
    record: &Record,
    pointer: &str,
    sources: &mut SourceCache,
) -> Option<SourceRange> {
    let origin = record.locate(pointer);
    let (text, span) = locate(&origin, sources)?;
    Some(char_range(&text, span))
}

/// Returns the 1-based line and column where an input error is.
pub fn input_position(error: &InputError, sources: &mut SourceCache) -> Option<(usize, usize)> {
    if matches!(
        error.kind,
        InputErrorKind::Io | InputErrorKind::InvalidUtf8 | InputErrorKind::Compressed
    ) {
        return None;
    }
    let (text, span) = match &error.span {
        Some(span) => {
            let text = sources.get(&error.origin.file)?;
            let base = document_range(&error.origin.file, &text, error.origin.line, sources).start;
            (text, base + span.start..base + span.end)
        }
        None => locate(&error.origin, sources)?,
    };
    Some(claimlint::source::line_col(&text, span.start))
}

fn char_range(text: &str, span: std::ops::Range<usize>) -> SourceRange {
    let (line, column) = claimlint::source::line_col(text, span.start);
    let (end_line, end_column) = claimlint::source::line_col(text, span.end);
    SourceRange {
        line,
        column,
        end_line,
        end_column,
    }
}

/// "1 file", "2 files".
pub fn plural(n: usize, word: &str) -> String {
    match (n, word) {
        (1, _) => format!("1 {word}"),
        (_, "info") => format!("{n} info"),
        _ => format!("{n} {word}s"),
    }
}
