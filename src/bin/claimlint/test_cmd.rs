//! `claimlint test`: runs each pack's fixtures and reports, rule by rule,
//! false positives, false negatives and rules without fixtures.
//!
//! The fixtures of a pack file `DIR/NAME.yaml` live in `DIR/NAME/tests/`.
//! `pass/` contains records on which no rule of the pack may report.
//! `fail/` contains records, each file with a sidecar `<file stem>.expect`
//! that lists the codes of the rules expected to report, one per line (`#`
//! starts a comment). A fixture file is any input `check` reads (JSON, a
//! JSON array or NDJSON), and all its records are evaluated together, so one
//! file can contain a patient's month.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use claimlint::fixture::{run_fixtures, Fixture, FixtureKind, RuleReport};
use claimlint::input::{self, Framing};
use claimlint::record::RecordSchema;
use claimlint::rules::{Pack, RuleSet};
use clap::Args;
use walkdir::WalkDir;

use crate::render::Renderer;
use crate::rules_cmd::plural;
use crate::{rules_arg, ExitStatus};

/// File extension of the sidecar that lists a fixture's expected rules.
const EXPECT_EXTENSION: &str = "expect";

#[derive(Debug, Args)]
pub struct TestArgs {
    /// Rule pack files or folders of them, whose fixtures to run. Defaults
    /// to `rules/` in the current folder.
    #[arg(value_name = "PACK")]
    packs: Vec<PathBuf>,
}

pub fn run(args: TestArgs, renderer: &Renderer) -> ExitStatus {
    let paths = if args.packs.is_empty() {
        let default = PathBuf::from("rules");
        if !default.is_dir() {
            eprintln!(
                "claimlint: no pack given and no rules/ folder here; name the pack files to test"
            );
            return ExitStatus::Error;
        }
        vec![default]
    } else {
        args.packs
    };
    let rules = match rules_arg::load(&paths) {
        Ok(rules) => rules,
        Err(diagnostics) => {
            rules_arg::print_errors(&diagnostics, renderer, "no fixture was run");
            return ExitStatus::Error;
        }
    };

    let schema = RecordSchema::new();
    let mut totals = Totals::default();
    let mut fixture_errors = Vec::new();
    for (index, pack) in rules.packs.iter().enumerate() {
        if index > 0 {
            println!();
        }
        let dir = fixture_dir(&pack.source);
        let fixtures = match read_fixtures(&dir, pack, &schema) {
            Ok(fixtures) => fixtures,
            Err(errors) => {
                println!(
                    "{} {} ({}): fixtures cannot be read",
                    pack.id,
                    pack.version,
                    pack.source.display()
                );
                fixture_errors.extend(errors);
                continue;
            }
        };
        print_pack(&rules, pack, &dir, &fixtures, &mut totals);
    }

    for error in &fixture_errors {
        println!("error: {error}");
    }
    println!(
        "claimlint test: {}, {}: {} passed, {} failed; {}, {}, {} without both kinds of fixture{}",
        plural(rules.packs.len(), "pack"),
        plural(totals.rules, "rule"),
        totals.passed,
        totals.rules - totals.passed,
        plural(totals.false_positives, "false positive"),
        plural(totals.false_negatives, "false negative"),
        plural(totals.uncovered, "rule"),
        if fixture_errors.is_empty() {
            String::new()
        } else {
            format!(
                "; {} in fixture files",
                plural(fixture_errors.len(), "error")
            )
        }
    );

    if !fixture_errors.is_empty() {
        ExitStatus::Error
    } else if totals.passed < totals.rules {
        ExitStatus::Findings
    } else {
        ExitStatus::Clean
    }
}

#[derive(Debug, Default)]
struct Totals {
    rules: usize,
    passed: usize,
    false_positives: usize,
    false_negatives: usize,
    uncovered: usize,
}

/// Returns `DIR/NAME/tests` for the pack file `DIR/NAME.yaml`.
pub fn fixture_dir(pack_file: &Path) -> PathBuf {
    let stem = pack_file.file_stem().unwrap_or_default();
    pack_file.with_file_name(stem).join("tests")
}

fn print_pack(rules: &RuleSet, pack: &Pack, dir: &Path, fixtures: &[Fixture], totals: &mut Totals) {
    println!(
        "{} {} ({}): {} in {}",
        pack.id,
        pack.version,
        pack.source.display(),
        plural(fixtures.len(), "fixture"),
        dir.display()
    );
    let reports = run_fixtures(rules, pack, fixtures);
    let width = reports
        .iter()
        .map(|r| r.code.len() + r.name.len() + 1)
        .max()
        .unwrap_or(0);
    for report in &reports {
        totals.rules += 1;
        totals.false_positives += report.false_positives.len();
        totals.false_negatives += report.false_negatives.len();
        if report.failing == 0 || report.passing == 0 {
            totals.uncovered += 1;
        }
        if report.is_ok() {
            totals.passed += 1;
        }
        print_rule(report, width);
    }
}

fn print_rule(report: &RuleReport, width: usize) {
    let status = if report.is_ok() { "ok  " } else { "FAIL" };
    let title = format!("{} {}", report.code, report.name);
    println!(
        "  {status}  {title:width$}  {} failing, {} passing",
        report.failing, report.passing
    );
    if report.failing == 0 {
        println!(
            "        no failing fixture: add one to fail/ and list {} in its .expect file",
            report.code
        );
    }
    if report.passing == 0 {
        println!(
            "        no passing fixture: add a record to pass/ that the rule evaluates and passes"
        );
    }
    for mismatch in &report.false_positives {
        println!(
            "        false positive: {}: {}",
            mismatch.fixture, mismatch.detail
        );
    }
    for mismatch in &report.false_negatives {
        println!(
            "        false negative: {}: {}",
            mismatch.fixture, mismatch.detail
        );
    }
}

/// Reads the `pass/` and `fail/` fixtures under `dir`, in file-name order.
/// A missing folder means no fixtures. Unreadable files and invalid
/// expectations are returned as errors.
fn read_fixtures(
    dir: &Path,
    pack: &Pack,
    schema: &RecordSchema,
) -> Result<Vec<Fixture>, Vec<String>> {
    let mut fixtures = Vec::new();
    let mut errors = Vec::new();
    for kind in [FixtureKind::Pass, FixtureKind::Fail] {
        let folder = dir.join(match kind {
            FixtureKind::Pass => "pass",
            FixtureKind::Fail => "fail",
        });
        if !folder.is_dir() {
            continue;
        }
        for entry in WalkDir::new(&folder).sort_by_file_name() {
            let path = match entry {
                Ok(entry) if entry.file_type().is_file() => entry.into_path(),
                Ok(_) => continue,
                Err(error) => {
                    errors.push(format!("{}: cannot read: {error}", folder.display()));
                    continue;
                }
            };
            let name = path
                .strip_prefix(dir)
                .unwrap_or(&path)
                .display()
                .to_string();
            match extension(&path) {
                Some("json" | "ndjson" | "jsonl") => {}
                Some(EXPECT_EXTENSION) => {
                    check_sidecar(&path, kind, &mut errors);
                    continue;
                }
                _ => continue,
            }
            let records = match read_records(&path, schema) {
                Ok(records) => records,
                Err(mut problems) => {
                    errors.append(&mut problems);
                    continue;
                }
            };
            let expected = match kind {
                FixtureKind::Pass => Vec::new(),
                FixtureKind::Fail => match read_expected(&path, pack) {
                    Ok(expected) => expected,
                    Err(problem) => {
                        errors.push(problem);
                        continue;
                    }
                },
            };
            fixtures.push(Fixture {
                name,
                kind,
                expected,
                records,
            });
        }
    }
    if errors.is_empty() {
        Ok(fixtures)
    } else {
        Err(errors)
    }
}

fn extension(path: &Path) -> Option<&str> {
    path.extension().and_then(|e| e.to_str())
}

/// Reports a sidecar in `pass/`, or one whose fixture file does not exist.
fn check_sidecar(path: &Path, kind: FixtureKind, errors: &mut Vec<String>) {
    if kind == FixtureKind::Pass {
        errors.push(format!(
            "{}: a pass fixture expects no findings; move the fixture and this file to fail/",
            path.display()
        ));
        return;
    }
    let has_fixture = ["json", "ndjson", "jsonl"]
        .iter()
        .any(|ext| path.with_extension(ext).is_file());
    if !has_fixture {
        errors.push(format!(
            "{}: no fixture file of this name (.json, .ndjson or .jsonl) next to it",
            path.display()
        ));
    }
}

fn read_records(
    path: &Path,
    schema: &RecordSchema,
) -> Result<Vec<claimlint::record::Record>, Vec<String>> {
    let name: Arc<str> = Arc::from(path.display().to_string());
    let bytes =
        std::fs::read(path).map_err(|error| vec![format!("{name}: cannot read: {error}")])?;
    let loaded = input::load_file(name.clone(), &bytes, Framing::from_path(&name), schema);
    let mapped = claimlint::fhir::map_records(
        loaded.fhir,
        &claimlint::fhir::FhirMapping::builtin(),
        schema,
    );
    let problems: Vec<String> = loaded
        .errors
        .iter()
        .chain(&mapped.errors)
        .map(|error| format!("{name}: {}", error.message))
        .collect();
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut records = loaded.records;
    records.extend(mapped.records);
    if records.is_empty() {
        return Err(vec![format!("{name}: the fixture holds no record")]);
    }
    Ok(records)
}

/// Reads the rule codes that the `.expect` sidecar of `fixture` lists.
fn read_expected(fixture: &Path, pack: &Pack) -> Result<Vec<String>, String> {
    let sidecar = fixture.with_extension(EXPECT_EXTENSION);
    let text = std::fs::read_to_string(&sidecar).map_err(|error| {
        format!(
            "{}: a fail fixture needs {} listing the expected rule codes ({error})",
            fixture.display(),
            sidecar.display()
        )
    })?;
    let mut codes = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let code = line.split('#').next().unwrap_or_default().trim();
        if code.is_empty() {
            continue;
        }
        if !pack.rules.iter().any(|rule| rule.code == code) {
            let known: Vec<&str> = pack.rules.iter().map(|r| r.code.as_str()).collect();
            let hint = match claimlint::yaml::suggest(code, &known) {
                Some(near) => format!("; did you mean {near}?"),
                None => String::new(),
            };
            return Err(format!(
                "{}:{}: `{code}` is not a rule of pack {}{hint}",
                sidecar.display(),
                index + 1,
                pack.id
            ));
        }
        codes.push(code.to_string());
    }
    if codes.is_empty() {
        return Err(format!("{}: lists no rule code", sidecar.display()));
    }
    Ok(codes)
}
