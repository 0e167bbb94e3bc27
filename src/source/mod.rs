//! Positions in JSON source text, and the checks on raw input that
//! `serde_json` does not make.
//!
//! `serde_json::Value` keeps no positions, and parsing every input twice
//! would be wasted on the many records without findings. So claimlint keeps
//! the text and scans it again only for findings that are rendered.
//! [`locate_pointer`] turns a JSON pointer into a byte range, and
//! [`line_col`] and [`LineIndex`] turn a byte offset into a line and column.
//!
//! Before parsing, the loader can run the checks that `serde_json` cannot:
//!
//! - [`check_utf8`] finds the first invalid UTF-8 byte with its line and
//!   column, and strips a byte order mark, which `serde_json` rejects.
//! - [`find_duplicate_keys`] reports member names that occur twice in one
//!   object, where `serde_json` silently keeps the last value. The loader
//!   parses with [`crate::input::parse_value`], which notes duplicates in
//!   the same pass, and runs this scan only on documents that have one.
//! - [`split_documents`] finds several concatenated documents in one file,
//!   which `serde_json` reports only as "trailing characters".
//! - [`max_depth_exceeds`] finds nesting deeper than a limit, so the loader
//!   can reject it with its own message.
//!
//! Lone UTF-16 surrogates in `\u` escapes need no check of their own:
//! `serde_json` 1.x rejects them with a line and column, and the scanner here
//! rejects them too.
//!
//! All scans work on bytes in one forward pass, build no values, and keep
//! nesting on an explicit stack, so deep or multi-megabyte input cannot
//! overflow the call stack.

mod depth;
mod documents;
mod duplicates;
mod lines;
mod pointer;
mod scan;
mod strings;
mod utf8;

#[cfg(test)]
mod tests;

pub use depth::{max_depth_exceeds, SERDE_JSON_MAX_DEPTH};
pub use documents::split_documents;
pub use duplicates::{find_duplicate_keys, DuplicateKey};
pub use lines::{line_col, LineIndex};
pub use pointer::{
    locate_pointer, locate_pointer_within, parse_pointer, push_pointer_token, Located,
};
pub use scan::{SyntaxError, SyntaxErrorKind};
pub use utf8::{check_utf8, DecodedText, Utf8Problem, Utf8ProblemKind};
