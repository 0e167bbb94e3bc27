//! Letter files: formats, safe names and atomic, owner-only writes.
//!
//! Letters hold patient data, so every file is created readable and
//! writable by its owner only (mode 0600 on Unix) and a folder this module
//! creates is owner-only too (0700). A file is written to a temporary file
//! in the same folder and then renamed into place, so a reader never sees a
//! half-written letter. An existing letter is replaced only when the caller
//! asks for it.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::pdf::{self, PdfError};
use super::plain;

/// Width of plain-text letters, in characters.
pub const TEXT_WIDTH: usize = 78;

/// Maximum length of a file stem derived from a claim id, in bytes.
const MAX_STEM: usize = 96;

/// A letter file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Markdown, as the template renders it.
    Md,
    /// Plain text wrapped at [`TEXT_WIDTH`] characters.
    Txt,
    Pdf,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Md => "md",
            Format::Txt => "txt",
            Format::Pdf => "pdf",
        }
    }
}

/// Converts a rendered Markdown letter into `format`. `title` becomes the
/// PDF's document title; keep patient data out of it.
pub fn convert(markdown: &str, format: Format, title: &str) -> Result<Vec<u8>, PdfError> {
    match format {
        Format::Md => Ok(markdown.as_bytes().to_vec()),
        Format::Txt => Ok(plain::to_text(&plain::blocks(markdown), TEXT_WIDTH).into_bytes()),
        Format::Pdf => pdf::render(&plain::blocks(markdown), title),
    }
}

/// Returns a file stem for a claim id that is a single, ordinary file name
/// on every platform: ASCII letters, digits, `.`, `_` and `-`, not starting
/// with a dot. When the id had to be changed, a hash of the original is
/// appended, so two different ids never share a stem.
pub fn safe_file_stem(claim_id: &str) -> String {
    let mapped: String = claim_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut stem = mapped.trim_start_matches('.').to_string();
    stem.truncate(MAX_STEM);
    let mut changed = stem != claim_id;
    if stem.is_empty() {
        stem = "claim".to_string();
    }
    if is_reserved_on_windows(&stem) {
        stem = format!("claim-{stem}");
        changed = true;
    }
    if changed {
        stem = format!(
            "{}-{:08x}",
            stem.trim_end_matches('.'),
            fnv1a(claim_id.as_bytes()) as u32
        );
    }
    stem
}

fn is_reserved_on_windows(stem: &str) -> bool {
    let base = stem.split('.').next().unwrap_or(stem).to_ascii_uppercase();
    matches!(base.as_str(), "CON" | "PRN" | "AUX" | "NUL")
        || (base.len() == 4
            && (base.starts_with("COM") || base.starts_with("LPT"))
            && base
                .as_bytes()
                .get(3)
                .is_some_and(|d| (b'1'..=b'9').contains(d)))
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// A failure to write a letter file.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("{} already exists; use --force to replace it", path.display())]
    Exists { path: PathBuf },
    #[error("cannot write {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl WriteError {
    fn io(path: &Path, source: std::io::Error) -> Self {
        WriteError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Creates `dir` and its missing parents, owner-only on Unix.
pub fn create_dir(dir: &Path) -> Result<(), WriteError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|e| WriteError::io(dir, e))
}

/// Writes `bytes` to `path` atomically: a temporary file in the same
/// folder, synced, then renamed into place. Without `overwrite`, an
/// existing file at `path` is left alone and [`WriteError::Exists`] is
/// returned; the check and the rename are one step, so a file created
/// meanwhile is not replaced either.
pub fn write_atomic(path: &Path, bytes: &[u8], overwrite: bool) -> Result<(), WriteError> {
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    if !overwrite && std::fs::symlink_metadata(path).is_ok() {
        return Err(WriteError::Exists {
            path: path.to_path_buf(),
        });
    }
    // tempfile creates the file with mode 0600 on Unix.
    let mut temporary = tempfile::Builder::new()
        .prefix(".claimlint-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| WriteError::io(path, e))?;
    temporary
        .write_all(bytes)
        .map_err(|e| WriteError::io(path, e))?;
    temporary
        .as_file()
        .sync_all()
        .map_err(|e| WriteError::io(path, e))?;

    let persisted = if overwrite {
        temporary.persist(path)
    } else {
        temporary.persist_noclobber(path)
    };
    match persisted {
        Ok(_) => Ok(()),
        Err(error) if error.error.kind() == std::io::ErrorKind::AlreadyExists => {
            Err(WriteError::Exists {
                path: path.to_path_buf(),
            })
        }
        Err(error) => Err(WriteError::io(path, error.error)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_ids_are_kept() {
        assert_eq!(safe_file_stem("CLM-2026-0307"), "CLM-2026-0307");
        assert_eq!(safe_file_stem("claim_1.v2"), "claim_1.v2");
    }

    #[test]
    fn hostile_ids_stay_inside_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let hostile = [
            "../../x",
            "/etc/passwd",
            "a\\b",
            "",
            "..",
            ".",
            "a/../../b",
            "C:\\x",
            "con",
            "NUL.txt",
            "\u{0}x",
            "é/ü",
        ];
        let mut stems = Vec::new();
        for id in hostile {
            let stem = safe_file_stem(id);
            assert!(!stem.is_empty(), "{id:?}");
            assert!(!stem.starts_with('.'), "{id:?} -> {stem}");
            assert!(
                stem.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)),
                "{id:?} -> {stem}"
            );
            let path = dir.path().join(format!("{stem}.md"));
            assert_eq!(path.parent(), Some(dir.path()), "{id:?} -> {stem}");
            write_atomic(&path, b"letter", false).unwrap();
            let written: Vec<_> = std::fs::read_dir(dir.path())
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            assert!(
                written.contains(&path),
                "{id:?} was not written inside the folder"
            );
            stems.push(stem);
        }
        let mut unique = stems.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), stems.len(), "{stems:?}");
    }

    #[test]
    fn similar_ids_do_not_collide() {
        assert_ne!(safe_file_stem("a/b"), safe_file_stem("a\\b"));
        assert_ne!(safe_file_stem("a/b"), safe_file_stem("a_b"));
        assert_eq!(safe_file_stem("a/b"), safe_file_stem("a/b"));
    }

    #[test]
    fn long_ids_are_truncated() {
        let stem = safe_file_stem(&"x".repeat(500));
        assert!(stem.len() <= MAX_STEM + 9, "{}", stem.len());
    }

    #[test]
    fn existing_file_is_kept_without_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.md");
        write_atomic(&path, b"first", false).unwrap();
        let error = write_atomic(&path, b"second", false).unwrap_err();
        assert!(matches!(error, WriteError::Exists { .. }), "{error}");
        assert_eq!(std::fs::read(&path).unwrap(), b"first");
        write_atomic(&path, b"second", true).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            leftovers,
            [std::ffi::OsString::from("a.md")],
            "no temporary file is left behind"
        );
    }

    #[cfg(unix)]
    #[test]
    fn files_and_folders_are_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("appeals/2026");
        create_dir(&folder).unwrap();
        let mode = std::fs::metadata(&folder).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & 0o077, 0, "folder mode {mode:o}");
        let path = folder.join("a.md");
        write_atomic(&path, b"letter", false).unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        write_atomic(&path, b"again", true).unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    #[test]
    fn formats_carry_the_same_words() {
        let markdown = "**RE: claim** O\\*Brien\\\nsecond line\n";
        assert_eq!(
            convert(markdown, Format::Md, "t").unwrap(),
            markdown.as_bytes()
        );
        assert_eq!(
            convert(markdown, Format::Txt, "t").unwrap(),
            b"RE: claim O*Brien\nsecond line\n"
        );
        let pdf = convert(markdown, Format::Pdf, "t").unwrap();
        let text = pdf_extract::extract_text_from_mem(&pdf).unwrap();
        assert!(text.contains("RE: claim O*Brien"), "{text}");
    }
}
