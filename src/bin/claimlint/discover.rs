//! Finding input files: paths, folders (walked in sorted order) and stdin.

use std::path::{Path, PathBuf};

use walkdir::WalkDir;

/// One input to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    File(PathBuf),
    Stdin,
}

impl Input {
    /// The name shown in diagnostics.
    pub fn display_name(&self) -> String {
        match self {
            Input::File(path) => path.display().to_string(),
            Input::Stdin => "<stdin>".to_string(),
        }
    }
}

/// The inputs found, files skipped, and paths that could not be walked.
#[derive(Debug, Default)]
pub struct Discovered {
    pub inputs: Vec<Input>,
    /// Files in walked folders that are not JSON or NDJSON.
    pub skipped: usize,
    /// Paths that do not exist or could not be listed, with the reason.
    pub errors: Vec<(String, String)>,
}

/// True for the extensions claimlint reads, also gzip-compressed
/// (`.ndjson.gz`, as Bulk-FHIR exports are often delivered).
pub fn is_json_file(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    [".json", ".ndjson", ".jsonl"]
        .iter()
        .any(|ext| name.ends_with(ext))
}

/// Expands the command-line paths. Files named explicitly are read whatever
/// their extension; files found in folders are read only when they are JSON
/// or NDJSON. Folders are walked in file-name order, symlinks are followed
/// and symlink loops are reported, not followed forever.
pub fn discover(paths: &[PathBuf]) -> Discovered {
    let mut found = Discovered::default();
    for path in paths {
        if path.as_os_str() == "-" {
            if found.inputs.contains(&Input::Stdin) {
                found.errors.push((
                    Input::Stdin.display_name(),
                    "standard input is named twice but can be read only once".to_string(),
                ));
            } else {
                found.inputs.push(Input::Stdin);
            }
            continue;
        }
        match std::fs::metadata(path) {
            Ok(metadata) if metadata.is_dir() => {}
            Ok(_) => {
                found.inputs.push(Input::File(path.clone()));
                continue;
            }
            Err(error) => {
                let reason = if error.kind() == std::io::ErrorKind::NotFound {
                    "no such file or folder".to_string()
                } else {
                    error.to_string()
                };
                found.errors.push((path.display().to_string(), reason));
                continue;
            }
        }
        let walker = WalkDir::new(path).follow_links(true).sort_by_file_name();
        for entry in walker {
            match entry {
                Ok(entry) if entry.file_type().is_file() => {
                    if is_json_file(entry.path()) {
                        found.inputs.push(Input::File(entry.into_path()));
                    } else {
                        found.skipped += 1;
                    }
                }
                Ok(_) => {}
                Err(error) => {
                    let at = error
                        .path()
                        .map(|p| p.display().to_string())
                        .unwrap_or_else(|| path.display().to_string());
                    let reason = if error.loop_ancestor().is_some() {
                        "symlink loop; not followed".to_string()
                    } else {
                        error
                            .io_error()
                            .map(|e| e.to_string())
                            .unwrap_or_else(|| error.to_string())
                    };
                    found.errors.push((at, reason));
                }
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_are_sorted_and_non_json_skipped() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("b.json"), "{}").unwrap();
        std::fs::write(dir.path().join("a.ndjson"), "{}").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "x").unwrap();
        let found = discover(&[dir.path().to_path_buf()]);
        let names: Vec<String> = found
            .inputs
            .iter()
            .map(|i| i.display_name().rsplit('/').next().unwrap().to_string())
            .collect();
        assert_eq!(names, ["a.ndjson", "b.json"]);
        assert_eq!(found.skipped, 1);
    }

    #[test]
    fn symlink_loop_named_directly_reports_the_loop() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("loopA");
        let b = dir.path().join("loopB");
        std::os::unix::fs::symlink(&b, &a).unwrap();
        std::os::unix::fs::symlink(&a, &b).unwrap();
        let found = discover(&[a]);
        assert_eq!(found.errors.len(), 1);
        assert!(
            found.errors[0].1.contains("symbolic links"),
            "{}",
            found.errors[0].1
        );
    }

    #[test]
    fn stdin_named_twice_is_an_error() {
        let found = discover(&[PathBuf::from("-"), PathBuf::from("-")]);
        assert_eq!(found.inputs, vec![Input::Stdin]);
        assert_eq!(found.errors.len(), 1);
    }

    #[test]
    fn missing_path_is_an_error() {
        let found = discover(&[PathBuf::from("/nonexistent/claimlint")]);
        assert_eq!(found.errors.len(), 1);
    }
}
