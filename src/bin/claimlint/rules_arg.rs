//! Loading the rule packs named by `--rules`, or the shipped ones.

use std::path::PathBuf;

use claimlint::diagnostic::SourceDiagnostic;
use claimlint::rules::{PackSource, RuleSet};
use walkdir::WalkDir;

/// Reads and compiles the packs at `paths` (files, or folders of `.yaml` /
/// `.yml` files), or the shipped packs when `paths` is empty.
pub fn load(paths: &[PathBuf]) -> Result<RuleSet, Vec<SourceDiagnostic>> {
    if paths.is_empty() {
        return RuleSet::shipped().map_err(to_diagnostics);
    }
    let mut sources = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        let files: Vec<PathBuf> = if path.is_dir() {
            WalkDir::new(path)
                .sort_by_file_name()
                .into_iter()
                .filter_map(Result::ok)
                .filter(|e| e.file_type().is_file())
                .map(|e| e.into_path())
                .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")))
                .collect()
        } else {
            vec![path.clone()]
        };
        if files.is_empty() {
            errors.push(
                SourceDiagnostic::error(format!(
                    "no rule files (.yaml, .yml) in {}",
                    path.display()
                ))
                .with_code("claimlint::rules"),
            );
        }
        for file in files {
            match std::fs::read_to_string(&file) {
                Ok(text) => sources.push(PackSource::new(file, text)),
                Err(error) => errors.push(
                    SourceDiagnostic::error(format!(
                        "cannot read rule file {}: {error}",
                        file.display()
                    ))
                    .with_code("claimlint::rules"),
                ),
            }
        }
    }
    let compiled = RuleSet::compile(&sources);
    match compiled {
        Ok(set) if errors.is_empty() => Ok(set),
        Ok(_) => Err(errors),
        Err(file_errors) => {
            errors.extend(to_diagnostics(file_errors));
            Err(errors)
        }
    }
}

fn to_diagnostics(errors: Vec<claimlint::rules::RuleFileError>) -> Vec<SourceDiagnostic> {
    errors.iter().flat_map(|e| e.diagnostics()).collect()
}

/// Prints rule-set diagnostics and a closing line saying what was skipped.
pub fn print_errors(
    diagnostics: &[SourceDiagnostic],
    renderer: &crate::render::Renderer,
    skipped: &str,
) {
    for diagnostic in diagnostics {
        print!("{}", renderer.render(diagnostic));
    }
    println!(
        "claimlint: the rule set has {} error(s); {skipped}",
        diagnostics.len()
    );
}
