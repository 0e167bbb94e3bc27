//! Letters as PDF: US Letter pages, DejaVu Sans embedded as a subset.
//!
//! The font is written as a CID-keyed TrueType font (Type0, Identity-H)
//! with a ToUnicode map, so that a PDF reader can copy and search the text
//! and extraction tools get the letter's words back. Output is deterministic:
//! the same letter gives the same bytes (no creation date, a subset tag
//! derived from the glyphs used).
//!
//! Only one face is embedded, so Markdown emphasis is dropped rather than
//! set in bold.

use std::collections::BTreeMap;

use pdf_writer::types::{CidFontType, FontFlags, SystemInfo};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

use super::plain::{Block, BlockKind};

/// DejaVu Sans 2.37, from Debian's `fonts-dejavu-core`; license in
/// `assets/fonts/DejaVuSans.LICENSE`.
const FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
const FONT_NAME: &str = "DejaVuSans";

const PAGE_WIDTH: f32 = 612.0;
const PAGE_HEIGHT: f32 = 792.0;
const MARGIN: f32 = 72.0;
const FONT_SIZE: f32 = 11.0;
const HEADING_SIZE: f32 = 13.0;
const LEADING: f32 = 14.5;
/// Space between the marker of a list item and its text, in points.
const MARKER_GAP: f32 = 6.0;

/// A failure to make a PDF.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PdfError {
    #[error("the PDF font (DejaVu Sans) has no glyph for character U+{codepoint:04X}; write this letter as md or txt")]
    MissingGlyph { codepoint: u32 },
    #[error("the embedded PDF font could not be read: {0}")]
    Font(String),
}

/// Lays out `blocks` and returns the PDF file's bytes. `title` goes into
/// the document information; keep patient data out of it.
pub fn render(blocks: &[Block], title: &str) -> Result<Vec<u8>, PdfError> {
    let face = ttf_parser::Face::parse(FONT, 0).map_err(|e| PdfError::Font(e.to_string()))?;
    let font = Metrics::new(&face);
    let pages = layout(blocks, &font)?;

    // Collect every glyph, then subset the font to them.
    let mut remapper = subsetter::GlyphRemapper::new();
    let mut unicode: BTreeMap<u16, char> = BTreeMap::new();
    for line in pages.iter().flatten() {
        for (glyph, c) in &line.glyphs {
            let new = remapper.remap(*glyph);
            unicode.entry(new).or_insert(*c);
        }
    }
    let subset =
        subsetter::subset(FONT, 0, &remapper).map_err(|e| PdfError::Font(format!("{e:?}")))?;
    let base_font = format!("{}+{FONT_NAME}", subset_tag(&unicode));

    let mut ids = (1..).map(Ref::new);
    let mut next = || ids.next().unwrap_or(Ref::new(1));
    let catalog_id = next();
    let pages_id = next();
    let info_id = next();
    let type0_id = next();
    let cid_id = next();
    let descriptor_id = next();
    let font_file_id = next();
    let cmap_id = next();
    let page_ids: Vec<(Ref, Ref)> = pages.iter().map(|_| (next(), next())).collect();

    let mut pdf = Pdf::new();
    pdf.catalog(catalog_id).pages(pages_id);
    pdf.pages(pages_id)
        .kids(page_ids.iter().map(|(page, _)| *page))
        .count(i32::try_from(page_ids.len()).unwrap_or(i32::MAX));
    pdf.document_info(info_id)
        .title(TextStr(title))
        .producer(TextStr("claimlint"));

    let font_name = Name(b"F1");
    for (lines, (page_id, content_id)) in pages.iter().zip(&page_ids) {
        let mut page = pdf.page(*page_id);
        page.media_box(Rect::new(0.0, 0.0, PAGE_WIDTH, PAGE_HEIGHT))
            .parent(pages_id)
            .contents(*content_id);
        page.resources().fonts().pair(font_name, type0_id);
        page.finish();

        let mut content = Content::new();
        for line in lines {
            let encoded: Vec<u8> = line
                .glyphs
                .iter()
                .flat_map(|(glyph, _)| remapper.get(*glyph).unwrap_or(0).to_be_bytes())
                .collect();
            content
                .begin_text()
                .set_font(font_name, line.size)
                .next_line(line.x, line.y)
                .show(Str(&encoded))
                .end_text();
        }
        let compressed = deflate(&content.finish().into_vec());
        pdf.stream(*content_id, &compressed)
            .filter(Filter::FlateDecode);
    }

    pdf.type0_font(type0_id)
        .base_font(Name(base_font.as_bytes()))
        .encoding_predefined(Name(b"Identity-H"))
        .descendant_font(cid_id)
        .to_unicode(cmap_id);

    let system_info = SystemInfo {
        registry: Str(b"Adobe"),
        ordering: Str(b"Identity"),
        supplement: 0,
    };
    let mut cid = pdf.cid_font(cid_id);
    cid.subtype(CidFontType::Type2)
        .base_font(Name(base_font.as_bytes()))
        .system_info(system_info)
        .font_descriptor(descriptor_id)
        .cid_to_gid_map_predefined(Name(b"Identity"));
    let widths: Vec<f32> = remapper
        .remapped_gids()
        .map(|old| font.width(old))
        .collect();
    cid.widths().consecutive(0, widths);
    cid.finish();

    pdf.font_descriptor(descriptor_id)
        .name(Name(base_font.as_bytes()))
        .flags(FontFlags::NON_SYMBOLIC)
        .bbox(font.bbox)
        .italic_angle(0.0)
        .ascent(font.ascent)
        .descent(font.descent)
        .cap_height(font.cap_height)
        .stem_v(80.0)
        .font_file2(font_file_id);

    let compressed_font = deflate(&subset);
    pdf.stream(font_file_id, &compressed_font)
        .filter(Filter::FlateDecode);

    let mut cmap = pdf_writer::types::UnicodeCmap::new(Name(b"Custom"), system_info);
    for (glyph, c) in &unicode {
        cmap.pair(*glyph, *c);
    }
    pdf.stream(cmap_id, &cmap.finish().into_vec());

    Ok(pdf.finish())
}

/// One line of text placed on a page.
struct PlacedLine {
    x: f32,
    y: f32,
    size: f32,
    /// Glyph ids in the full font, with the character each one shows.
    glyphs: Vec<(u16, char)>,
}

/// Font measurements in PDF glyph units (1/1000 of the font size).
struct Metrics<'f> {
    face: &'f ttf_parser::Face<'f>,
    scale: f32,
    bbox: Rect,
    ascent: f32,
    descent: f32,
    cap_height: f32,
}

impl<'f> Metrics<'f> {
    fn new(face: &'f ttf_parser::Face<'f>) -> Self {
        let scale = 1000.0 / f32::from(face.units_per_em());
        let b = face.global_bounding_box();
        Metrics {
            face,
            scale,
            bbox: Rect::new(
                f32::from(b.x_min) * scale,
                f32::from(b.y_min) * scale,
                f32::from(b.x_max) * scale,
                f32::from(b.y_max) * scale,
            ),
            ascent: f32::from(face.ascender()) * scale,
            descent: f32::from(face.descender()) * scale,
            cap_height: f32::from(face.capital_height().unwrap_or(face.ascender())) * scale,
        }
    }

    /// Advance width of a glyph in glyph units.
    fn width(&self, glyph: u16) -> f32 {
        f32::from(
            self.face
                .glyph_hor_advance(ttf_parser::GlyphId(glyph))
                .unwrap_or(0),
        ) * self.scale
    }

    /// Maps text to glyphs; tabs become spaces and other control
    /// characters are dropped.
    fn glyphs(&self, text: &str) -> Result<Vec<(u16, char)>, PdfError> {
        text.chars()
            .map(|c| if c == '\t' { ' ' } else { c })
            .filter(|c| !c.is_control())
            .map(|c| {
                self.face
                    .glyph_index(c)
                    .map(|g| (g.0, c))
                    .ok_or(PdfError::MissingGlyph {
                        codepoint: u32::from(c),
                    })
            })
            .collect()
    }

    /// Width of `text` at `size`, in points.
    fn text_width(&self, glyphs: &[(u16, char)], size: f32) -> f32 {
        glyphs.iter().map(|(g, _)| self.width(*g)).sum::<f32>() * size / 1000.0
    }

    /// Breaks `text` into lines no wider than `max` points.
    fn wrap(&self, text: &str, size: f32, max: f32) -> Result<Vec<Vec<(u16, char)>>, PdfError> {
        let space = self.glyphs(" ")?;
        let space_width = self.text_width(&space, size);
        let mut lines = Vec::new();
        let mut current: Vec<(u16, char)> = Vec::new();
        let mut width = 0.0;
        for word in text.split(' ').filter(|w| !w.is_empty()) {
            let glyphs = self.glyphs(word)?;
            let word_width = self.text_width(&glyphs, size);
            if !current.is_empty() && width + space_width + word_width > max {
                lines.push(std::mem::take(&mut current));
                width = 0.0;
            }
            if !current.is_empty() {
                current.extend(space.iter().copied());
                width += space_width;
            }
            current.extend(glyphs);
            width += word_width;
        }
        lines.push(current);
        Ok(lines)
    }
}

/// Places every block's lines on pages, top to bottom.
fn layout(blocks: &[Block], font: &Metrics<'_>) -> Result<Vec<Vec<PlacedLine>>, PdfError> {
    let text_width = PAGE_WIDTH - 2.0 * MARGIN;
    let top = PAGE_HEIGHT - MARGIN - FONT_SIZE;
    let mut pages: Vec<Vec<PlacedLine>> = vec![Vec::new()];
    let mut y = top;

    let place = |pages: &mut Vec<Vec<PlacedLine>>, y: &mut f32, x: f32, size: f32, glyphs| {
        if *y < MARGIN {
            pages.push(Vec::new());
            *y = top;
        }
        if let Some(page) = pages.last_mut() {
            page.push(PlacedLine {
                x,
                y: *y,
                size,
                glyphs,
            });
        }
        *y -= LEADING;
    };

    for (index, block) in blocks.iter().enumerate() {
        if index > 0 && block.gap_before && y < top {
            y -= LEADING * 0.6;
        }
        match &block.kind {
            BlockKind::Paragraph(lines) => {
                for line in lines {
                    for wrapped in font.wrap(line, FONT_SIZE, text_width)? {
                        place(&mut pages, &mut y, MARGIN, FONT_SIZE, wrapped);
                    }
                }
            }
            BlockKind::Heading(text) => {
                for wrapped in font.wrap(text, HEADING_SIZE, text_width)? {
                    place(&mut pages, &mut y, MARGIN, HEADING_SIZE, wrapped);
                }
            }
            BlockKind::ListItem { marker, text } => {
                let marker_glyphs = font.glyphs(marker)?;
                let indent = font
                    .text_width(&font.glyphs("00.")?, FONT_SIZE)
                    .max(font.text_width(&marker_glyphs, FONT_SIZE))
                    + MARKER_GAP;
                let mut first = true;
                for part in text.split('\n') {
                    for wrapped in font.wrap(part, FONT_SIZE, text_width - indent)? {
                        if first {
                            if y < MARGIN {
                                pages.push(Vec::new());
                                y = top;
                            }
                            if let Some(page) = pages.last_mut() {
                                page.push(PlacedLine {
                                    x: MARGIN,
                                    y,
                                    size: FONT_SIZE,
                                    glyphs: marker_glyphs.clone(),
                                });
                            }
                            first = false;
                        }
                        place(&mut pages, &mut y, MARGIN + indent, FONT_SIZE, wrapped);
                    }
                }
            }
            BlockKind::Rule => y -= LEADING,
        }
    }
    Ok(pages)
}

fn deflate(data: &[u8]) -> Vec<u8> {
    miniz_oxide::deflate::compress_to_vec_zlib(data, 6)
}

/// Six upper-case letters derived from the glyph set, as PDF requires for
/// the name of a subset font; the same glyphs always give the same tag.
fn subset_tag(glyphs: &BTreeMap<u16, char>) -> String {
    // FNV-1a over the original characters.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for c in glyphs.values() {
        for byte in u32::from(*c).to_le_bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    (0..6)
        .map(|i| {
            let letter = ((hash >> (i * 5)) % 26) as u8;
            char::from(b'A' + letter)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::appeal::plain;

    fn extract(bytes: &[u8]) -> String {
        pdf_extract::extract_text_from_mem(bytes).expect("text extracts")
    }

    fn squash(text: &str) -> String {
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn text_is_extractable() {
        let blocks = plain::blocks("Riverside Family Medicine\\\nPhone (217) 555-0100\n\n1. Progress note NOTE-5521 – signed by Dana Whitfield, RN\n2. Ünïcödé façade");
        let bytes = render(&blocks, "Appeal letter").expect("renders");
        assert!(bytes.starts_with(b"%PDF-"));
        let text = squash(&extract(&bytes));
        assert!(text.contains("Riverside Family Medicine"), "{text}");
        assert!(text.contains("Phone (217) 555-0100"), "{text}");
        assert!(
            text.contains("Progress note NOTE-5521 – signed by Dana Whitfield, RN"),
            "{text}"
        );
        assert!(text.contains("Ünïcödé façade"), "{text}");
    }

    #[test]
    fn long_letters_flow_onto_more_pages() {
        let paragraph = "word ".repeat(400);
        let markdown = vec![paragraph; 6].join("\n\n");
        let bytes = render(&plain::blocks(&markdown), "Appeal letter").expect("renders");
        let pages = pdf_extract::extract_text_from_mem_by_pages(&bytes).expect("text extracts");
        assert!(pages.len() >= 3, "{} pages", pages.len());
        let words: usize = pages.iter().map(|p| p.split_whitespace().count()).sum();
        assert_eq!(words, 2400, "every word is placed exactly once");
    }

    #[test]
    fn output_is_deterministic_and_subsetted() {
        let blocks = plain::blocks("Same letter");
        let first = render(&blocks, "t").unwrap();
        assert_eq!(first, render(&blocks, "t").unwrap());
        assert!(
            first.len() < 40_000,
            "{} bytes: the font was not subsetted",
            first.len()
        );
    }

    #[test]
    fn missing_glyph_is_an_error_naming_the_codepoint() {
        let error = render(&plain::blocks("患者"), "t").unwrap_err();
        assert_eq!(error, PdfError::MissingGlyph { codepoint: 0x60A3 });
    }
}
