//! Letters as plain text: the Markdown a template renders, reduced to
//! paragraphs, hard-broken lines and list items.
//!
//! The plain-text and PDF outputs are both laid out from these blocks, so
//! the three formats carry the same words. The reader covers the Markdown
//! that letters use: paragraphs with soft and hard line breaks (a trailing
//! backslash or two spaces), ATX headings, ordered and bullet list items,
//! thematic breaks, emphasis markers and backslash escapes.
// NOTE: links, images, code blocks, block quotes, tables and HTML are kept
// as their source text; letter templates do not use them.

/// One block of a letter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    pub kind: BlockKind,
    /// True when a blank line separated this block from the previous one.
    pub gap_before: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlockKind {
    /// Lines separated by hard breaks; each line is wrapped on its own.
    Paragraph(Vec<String>),
    Heading(String),
    /// A list item with its marker (`1.`, `-`).
    ListItem {
        marker: String,
        text: String,
    },
    /// A thematic break (`---`).
    Rule,
}

/// Reads a Markdown letter into blocks.
pub fn blocks(markdown: &str) -> Vec<Block> {
    let mut out: Vec<Block> = Vec::new();
    let mut gap = false;
    // The lines of the paragraph or list item being read, and whether the
    // last one ended in a hard break.
    let mut open: Option<(BlockKind, bool)> = None;

    let close = |open: &mut Option<(BlockKind, bool)>, out: &mut Vec<Block>, gap: &mut bool| {
        if let Some((kind, _)) = open.take() {
            out.push(Block {
                kind,
                gap_before: *gap,
            });
            *gap = false;
        }
    };

    for raw in markdown.lines() {
        if raw.trim().is_empty() {
            close(&mut open, &mut out, &mut gap);
            if !out.is_empty() {
                gap = true;
            }
            continue;
        }
        let (content, hard_break) = strip_hard_break(raw);
        let trimmed = content.trim_start();

        if let Some(text) = heading(trimmed) {
            close(&mut open, &mut out, &mut gap);
            out.push(Block {
                kind: BlockKind::Heading(inline(text)),
                gap_before: gap,
            });
            gap = false;
            continue;
        }
        if is_rule(trimmed) {
            close(&mut open, &mut out, &mut gap);
            out.push(Block {
                kind: BlockKind::Rule,
                gap_before: gap,
            });
            gap = false;
            continue;
        }
        if let Some((marker, text)) = list_marker(trimmed) {
            close(&mut open, &mut out, &mut gap);
            open = Some((
                BlockKind::ListItem {
                    marker,
                    text: inline(text),
                },
                hard_break,
            ));
            continue;
        }

        let text = inline(trimmed);
        match &mut open {
            Some((BlockKind::Paragraph(lines), after_break)) => {
                if *after_break {
                    lines.push(text);
                } else if let Some(last) = lines.last_mut() {
                    last.push(' ');
                    last.push_str(&text);
                }
                *after_break = hard_break;
            }
            Some((BlockKind::ListItem { text: item, .. }, after_break)) => {
                item.push(if *after_break { '\n' } else { ' ' });
                item.push_str(&text);
                *after_break = hard_break;
            }
            _ => open = Some((BlockKind::Paragraph(vec![text]), hard_break)),
        }
    }
    close(&mut open, &mut out, &mut gap);
    out
}

/// Renders blocks as plain text wrapped at `width` characters.
pub fn to_text(blocks: &[Block], width: usize) -> String {
    let mut out = String::new();
    for (index, block) in blocks.iter().enumerate() {
        if index > 0 && block.gap_before {
            out.push('\n');
        }
        match &block.kind {
            BlockKind::Paragraph(lines) => {
                for line in lines {
                    for wrapped in wrap(line, width) {
                        out.push_str(&wrapped);
                        out.push('\n');
                    }
                }
            }
            BlockKind::Heading(text) => {
                out.push_str(text);
                out.push('\n');
            }
            BlockKind::ListItem { marker, text } => {
                let indent = " ".repeat(marker.chars().count() + 1);
                let mut first = true;
                for line in text.split('\n') {
                    for wrapped in wrap(line, width.saturating_sub(indent.len()).max(1)) {
                        if first {
                            out.push_str(marker);
                            out.push(' ');
                            first = false;
                        } else {
                            out.push_str(&indent);
                        }
                        out.push_str(&wrapped);
                        out.push('\n');
                    }
                }
            }
            BlockKind::Rule => {
                out.push_str(&"-".repeat(width.min(40)));
                out.push('\n');
            }
        }
    }
    out
}

/// Splits `text` into lines of at most `width` characters at spaces; a
/// word longer than `width` stays whole on its own line.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let needed =
            current.chars().count() + usize::from(!current.is_empty()) + word.chars().count();
        if !current.is_empty() && needed > width {
            lines.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(word);
    }
    if !current.is_empty() || lines.is_empty() {
        lines.push(current);
    }
    lines
}

/// Splits a trailing hard break (an unescaped backslash, or two or more
/// spaces) from a line.
fn strip_hard_break(line: &str) -> (&str, bool) {
    let trailing_backslashes = line.len() - line.trim_end_matches('\\').len();
    if trailing_backslashes % 2 == 1 {
        return (&line[..line.len() - 1], true);
    }
    let trimmed = line.trim_end_matches(' ');
    (trimmed, line.len() - trimmed.len() >= 2)
}

fn heading(line: &str) -> Option<&str> {
    let hashes = line.len() - line.trim_start_matches('#').len();
    if !(1..=6).contains(&hashes) {
        return None;
    }
    let rest = &line[hashes..];
    if rest.is_empty() {
        return Some("");
    }
    rest.strip_prefix(' ')
        .map(|text| text.trim().trim_end_matches('#').trim_end())
}

fn is_rule(line: &str) -> bool {
    let compact: String = line.chars().filter(|c| !c.is_whitespace()).collect();
    compact.len() >= 3
        && ['-', '*', '_']
            .iter()
            .any(|&mark| compact.chars().all(|c| c == mark))
}

fn list_marker(line: &str) -> Option<(String, &str)> {
    if let Some(rest) = line.strip_prefix(['-', '*', '+']) {
        return rest
            .strip_prefix(' ')
            .map(|text| ("-".to_string(), text.trim_start()));
    }
    let digits = line.len() - line.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    if !(1..=9).contains(&digits) {
        return None;
    }
    let rest = &line[digits..];
    let delimiter = rest.chars().next().filter(|c| matches!(c, '.' | ')'))?;
    let text = rest[1..].strip_prefix(' ')?;
    Some((format!("{}{delimiter}", &line[..digits]), text.trim_start()))
}

/// Removes emphasis and code markers and resolves backslash escapes.
fn inline(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut index = 0;
    while let Some(&c) = chars.get(index) {
        match c {
            '\\' => match chars.get(index + 1) {
                Some(next) if next.is_ascii_punctuation() => {
                    out.push(*next);
                    index += 2;
                    continue;
                }
                _ => out.push('\\'),
            },
            '*' | '`' => {}
            '_' => {
                // Underscores inside a word are literal, as in CommonMark.
                let before = index.checked_sub(1).and_then(|i| chars.get(i));
                let after = chars.get(index + 1);
                let inside_word = before.is_some_and(|b| b.is_alphanumeric())
                    && after.is_some_and(|a| a.is_alphanumeric());
                if inside_word {
                    out.push('_');
                }
            }
            _ => out.push(c),
        }
        index += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paragraph(lines: &[&str], gap_before: bool) -> Block {
        Block {
            kind: BlockKind::Paragraph(lines.iter().map(|s| s.to_string()).collect()),
            gap_before,
        }
    }

    #[test]
    fn hard_and_soft_breaks() {
        let blocks = blocks("One\\\nTwo  \nthree\nfour\n\nNext");
        assert_eq!(
            blocks,
            [
                paragraph(&["One", "Two", "three four"], false),
                paragraph(&["Next"], true)
            ]
        );
    }

    #[test]
    fn escaped_backslash_is_not_a_break() {
        let blocks = blocks("a\\\\\nb");
        assert_eq!(blocks, [paragraph(&["a\\ b"], false)]);
    }

    #[test]
    fn emphasis_and_escapes_are_resolved() {
        let blocks = blocks("**RE: claim** O\\*Brien snake_case _em_ 1\\. x");
        assert_eq!(
            blocks,
            [paragraph(&["RE: claim O*Brien snake_case em 1. x"], false)]
        );
    }

    #[test]
    fn list_items_keep_their_markers() {
        let blocks = blocks("Intro\n\n1. First\n   continued\n2. Second\n- bullet\n\n10) Tenth");
        let items: Vec<(String, String)> = blocks
            .iter()
            .filter_map(|b| match &b.kind {
                BlockKind::ListItem { marker, text } => Some((marker.clone(), text.clone())),
                _ => None,
            })
            .collect();
        assert_eq!(
            items,
            [
                ("1.".to_string(), "First continued".to_string()),
                ("2.".to_string(), "Second".to_string()),
                ("-".to_string(), "bullet".to_string()),
                ("10)".to_string(), "Tenth".to_string()),
            ]
        );
    }

    #[test]
    fn headings_and_rules() {
        let blocks = blocks("# Title #\n---\ntext");
        assert_eq!(blocks[0].kind, BlockKind::Heading("Title".into()));
        assert_eq!(blocks[1].kind, BlockKind::Rule);
    }

    #[test]
    fn text_wraps_with_hanging_indent() {
        let text = to_text(&blocks("1. alpha beta gamma delta\n\nend"), 16);
        assert_eq!(text, "1. alpha beta\n   gamma delta\n\nend\n");
    }

    #[test]
    fn long_words_stay_whole() {
        assert_eq!(
            wrap("a verylongwordhere b", 6),
            ["a", "verylongwordhere", "b"]
        );
        assert_eq!(wrap("", 10), [""]);
    }
}
