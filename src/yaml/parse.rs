//! Builds a [`Node`] tree from yaml-rust2 parser events, within limits.

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use super::{Node, NodeKind, YamlError};

/// Bounds that keep a hostile configuration file from exhausting memory.
#[derive(Debug, Clone, Copy)]
pub struct ParseLimits {
    /// Maximum nesting of lists and mappings.
    pub max_depth: usize,
    /// Maximum number of nodes in the document.
    pub max_nodes: usize,
    /// Maximum size of the source text in bytes.
    pub max_bytes: usize,
}

impl Default for ParseLimits {
    fn default() -> Self {
        ParseLimits {
            max_depth: 64,
            max_nodes: 200_000,
            max_bytes: 16 * 1024 * 1024,
        }
    }
}

const DEPTH_HELP: &str = "flatten the document; configuration files are never nested this deep";

/// Parses one YAML document.
///
/// An empty document is an error, and so is a stream of several documents:
/// a configuration file holds exactly one.
pub fn parse(text: &str, limits: ParseLimits) -> Result<Node, YamlError> {
    if text.len() > limits.max_bytes {
        return Err(YamlError::new(
            format!(
                "file is {} bytes, over the limit of {} bytes",
                text.len(),
                limits.max_bytes
            ),
            0..0,
        )
        .with_help("split the file; a configuration file this large is almost certainly not one written by hand"));
    }
    let mut builder = Builder {
        text,
        offsets: CharOffsets::new(text),
        limits,
        stack: Vec::new(),
        documents: Vec::new(),
        nodes: 0,
        error: None,
    };
    let mut parser = Parser::new_from_str(text);
    if let Err(scan) = parser.load(&mut builder, true) {
        let at = CharOffsets::new(text).byte(scan.marker().index());
        // yaml-rust2 stops flow collections (`[[[...`) nested too deep
        // before the depth limit above is reached.
        if scan.info().contains("recursion limit") {
            return Err(YamlError::new(
                format!(
                    "the document is nested deeper than {} levels",
                    limits.max_depth
                ),
                at..at,
            )
            .with_help(DEPTH_HELP));
        }
        return Err(YamlError::new(
            format!("invalid YAML: {}", scan.info()),
            at..at,
        ));
    }
    if let Some(error) = builder.error {
        return Err(error);
    }
    let mut documents = builder.documents;
    match documents.len() {
        0 => Err(YamlError::new("the file holds no YAML document", 0..0)),
        1 => {
            let node = documents.remove(0);
            if node.is_null() {
                Err(YamlError::new("the YAML document is empty", 0..0))
            } else {
                Ok(node)
            }
        }
        _ => Err(YamlError::new(
            "the file holds several YAML documents; put each in its own file",
            documents[1].span.clone(),
        )),
    }
}

enum Frame {
    Seq {
        start: usize,
        items: Vec<Node>,
    },
    Map {
        start: usize,
        entries: Vec<(Node, Node)>,
        pending_key: Option<Node>,
    },
}

struct Builder<'a> {
    text: &'a str,
    offsets: CharOffsets,
    limits: ParseLimits,
    stack: Vec<Frame>,
    documents: Vec<Node>,
    nodes: usize,
    error: Option<YamlError>,
}

impl Builder<'_> {
    fn fail(&mut self, error: YamlError) {
        if self.error.is_none() {
            self.error = Some(error);
        }
    }

    fn push_node(&mut self, node: Node) {
        self.nodes += 1;
        if self.nodes > self.limits.max_nodes {
            let span = node.span.clone();
            self.fail(YamlError::new(
                format!("the document has more than {} nodes", self.limits.max_nodes),
                span,
            ));
            return;
        }
        let mut duplicate_of = None;
        match self.stack.last_mut() {
            None => self.documents.push(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map {
                entries,
                pending_key,
                ..
            }) => match pending_key.take() {
                None => *pending_key = Some(node),
                Some(key) => {
                    duplicate_of = entries
                        .iter()
                        .find(|(k, _)| same_key(k, &key))
                        .map(|(k, _)| (k.span.start, key.span.clone()));
                    entries.push((key, node));
                }
            },
        }
        if let Some((first, span)) = duplicate_of {
            let (line, _) = line_of(self.text, first);
            self.fail(
                YamlError::new(
                    format!("duplicate key (first defined on line {line})"),
                    span,
                )
                .with_help("remove one of the two entries"),
            );
        }
    }

    fn open(&mut self, frame: Frame, mark: Marker) {
        if self.stack.len() >= self.limits.max_depth {
            let at = mark.index();
            self.fail(
                YamlError::new(
                    format!(
                        "the document is nested deeper than {} levels",
                        self.limits.max_depth
                    ),
                    at..at + 1,
                )
                .with_help(DEPTH_HELP),
            );
        }
        self.stack.push(frame);
    }
}

impl MarkedEventReceiver for Builder<'_> {
    fn on_event(&mut self, event: Event, mark: Marker) {
        if self.error.is_some() {
            return;
        }
        let at = self.offsets.byte(mark.index());
        match event {
            Event::Scalar(text, style, _anchor, _tag) => {
                let quoted = !matches!(style, TScalarStyle::Plain);
                let end = scalar_end(self.text, at, style);
                self.push_node(Node {
                    kind: NodeKind::Scalar { text, quoted },
                    span: at..end,
                });
            }
            Event::Alias(_) => {
                self.fail(
                    YamlError::new("YAML aliases are not supported", at..at + 1)
                        .with_help("write the value out in full instead of referring to an anchor"),
                );
            }
            Event::SequenceStart(..) => self.open(
                Frame::Seq {
                    start: at,
                    items: Vec::new(),
                },
                mark,
            ),
            Event::MappingStart(..) => self.open(
                Frame::Map {
                    start: at,
                    entries: Vec::new(),
                    pending_key: None,
                },
                mark,
            ),
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(frame) = self.stack.pop() else {
                    return;
                };
                let end = trim_end(self.text, at);
                let node = match frame {
                    Frame::Seq { start, items } => Node {
                        kind: NodeKind::Seq(items),
                        span: start..end.max(start),
                    },
                    Frame::Map { start, entries, .. } => Node {
                        kind: NodeKind::Map(entries),
                        span: start..end.max(start),
                    },
                };
                self.push_node(node);
            }
            Event::Nothing
            | Event::StreamStart
            | Event::StreamEnd
            | Event::DocumentStart
            | Event::DocumentEnd => {}
        }
    }
}

fn same_key(a: &Node, b: &Node) -> bool {
    match (&a.kind, &b.kind) {
        (NodeKind::Scalar { text: x, .. }, NodeKind::Scalar { text: y, .. }) => x == y,
        _ => false,
    }
}

/// Converts yaml-rust2 marker indexes, which count characters, into the
/// byte offsets that spans use.
struct CharOffsets {
    /// Byte offset of each character; empty for ASCII text, where the two
    /// are equal.
    bytes: Vec<usize>,
    len: usize,
}

impl CharOffsets {
    fn new(text: &str) -> Self {
        let bytes = if text.is_ascii() {
            Vec::new()
        } else {
            text.char_indices().map(|(i, _)| i).collect()
        };
        CharOffsets {
            bytes,
            len: text.len(),
        }
    }

    fn byte(&self, char_index: usize) -> usize {
        if self.bytes.is_empty() {
            char_index.min(self.len)
        } else {
            self.bytes.get(char_index).copied().unwrap_or(self.len)
        }
    }
}

/// Finds where a scalar starting at `start` ends in the source.
fn scalar_end(text: &str, start: usize, style: TScalarStyle) -> usize {
    let rest = &text[start.min(text.len())..];
    let line_end = rest.find(['\n', '\r']).unwrap_or(rest.len());
    let line = &rest[..line_end];
    let len = match style {
        TScalarStyle::SingleQuoted => closing_quote(line, '\''),
        TScalarStyle::DoubleQuoted => closing_quote(line, '"'),
        TScalarStyle::Plain => {
            let cut = [": ", " #", ",", "]", "}"]
                .iter()
                .filter_map(|stop| line.find(stop))
                .min()
                .unwrap_or(line.len());
            line[..cut].trim_end().len()
        }
        // Block scalars: point at the indicator line only.
        _ => line.trim_end().len(),
    };
    start + len.max(1).min(rest.len().max(1))
}

fn closing_quote(line: &str, quote: char) -> usize {
    let mut chars = line.char_indices().skip(1).peekable();
    while let Some((i, c)) = chars.next() {
        if quote == '"' && c == '\\' {
            chars.next();
            continue;
        }
        if c == quote {
            if quote == '\'' && chars.peek().map(|(_, c)| *c) == Some('\'') {
                chars.next();
                continue;
            }
            return i + c.len_utf8();
        }
    }
    line.len()
}

fn trim_end(text: &str, at: usize) -> usize {
    let at = at.min(text.len());
    text[..at].trim_end().len()
}

/// Returns the 1-based line and column of a byte offset.
pub fn line_of(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(text: &str) -> Node {
        parse(text, ParseLimits::default()).expect("valid YAML")
    }

    #[test]
    fn spans_cover_keys_and_values() {
        let text = "pack:\n  id: ccm32\n  title: \"Portal: offered\"\n";
        let root = parse_ok(text);
        let NodeKind::Map(entries) = &root.kind else {
            panic!("mapping expected")
        };
        let (_, pack) = &entries[0];
        let NodeKind::Map(fields) = &pack.kind else {
            panic!("mapping expected")
        };
        assert_eq!(&text[fields[0].0.span.clone()], "id");
        assert_eq!(&text[fields[0].1.span.clone()], "ccm32");
        assert_eq!(&text[fields[1].1.span.clone()], "\"Portal: offered\"");
    }

    #[test]
    fn spans_are_bytes_after_non_ascii_text() {
        let text = "title: Bénédicte\nid: x\n";
        let root = parse_ok(text);
        let NodeKind::Map(entries) = &root.kind else {
            panic!("mapping expected")
        };
        assert_eq!(&text[entries[1].1.span.clone()], "x");
    }

    #[test]
    fn alias_is_rejected_with_location() {
        let text = "a: &x [1, 2]\nb: *x\n";
        let error = parse(text, ParseLimits::default()).unwrap_err();
        assert!(error.message.contains("aliases"));
        assert_eq!(error.span.start, text.find('*').unwrap());
    }

    #[test]
    fn duplicate_key_is_rejected() {
        let text = "id: a\nid: b\n";
        let error = parse(text, ParseLimits::default()).unwrap_err();
        assert!(error
            .message
            .contains("duplicate key (first defined on line 1)"));
        assert_eq!(error.span.start, 6);
    }

    #[test]
    fn deep_nesting_is_rejected() {
        let text = format!("{}{}", "[".repeat(100), "]".repeat(100));
        let error = parse(&text, ParseLimits::default()).unwrap_err();
        assert!(error.message.contains("nested deeper than 64"));
    }

    #[test]
    fn syntax_error_is_located() {
        let text = "a: [1, 2\nb: 3\n";
        let error = parse(text, ParseLimits::default()).unwrap_err();
        assert!(error.message.starts_with("invalid YAML"));
    }

    #[test]
    fn empty_document_is_rejected() {
        assert!(parse("", ParseLimits::default()).is_err());
        assert!(parse("# only a comment\n", ParseLimits::default()).is_err());
    }

    #[test]
    fn several_documents_are_rejected() {
        let error = parse("a: 1\n---\nb: 2\n", ParseLimits::default()).unwrap_err();
        assert!(error.message.contains("several YAML documents"));
    }
}
