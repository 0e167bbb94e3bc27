//! Human output: miette's graphical report handler, colour-free when the
//! output is not a terminal so that CI logs and tests are stable.

use std::io::IsTerminal;

use miette::{Diagnostic, GraphicalReportHandler, GraphicalTheme};

use crate::ColorChoice;

/// Width used when stdout is not a terminal, so output is reproducible.
const DEFAULT_WIDTH: usize = 100;

pub struct Renderer {
    handler: GraphicalReportHandler,
}

impl Renderer {
    pub fn new(color: ColorChoice) -> Self {
        let stdout = std::io::stdout();
        let is_tty = stdout.is_terminal();
        let colored = match color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => is_tty && std::env::var_os("NO_COLOR").is_none(),
        };
        let theme = if colored {
            GraphicalTheme::unicode()
        } else {
            GraphicalTheme::unicode_nocolor()
        };
        let width = if is_tty {
            terminal_width().unwrap_or(DEFAULT_WIDTH)
        } else {
            DEFAULT_WIDTH
        };
        let handler = GraphicalReportHandler::new_themed(theme)
            .with_width(width)
            .with_links(false)
            .with_context_lines(1)
            .without_syntax_highlighting()
            // Dates and codes contain hyphens; never wrap inside them.
            .with_word_splitter(textwrap::WordSplitter::NoHyphenation);
        Renderer { handler }
    }

    /// Renders one diagnostic to a string ending in a newline.
    pub fn render(&self, diagnostic: &dyn Diagnostic) -> String {
        let mut out = String::new();
        if self.handler.render_report(&mut out, diagnostic).is_err() {
            out = format!("{diagnostic}\n");
        }
        out.push('\n');
        out
    }
}

fn terminal_width() -> Option<usize> {
    std::env::var("COLUMNS").ok()?.parse().ok()
}
