//! Times the library's per-record work on an NDJSON corpus: loading
//! (parse, duplicate-key check, schema validation, classification) through
//! `input::load_file`, then `eval::evaluate` with the shipped packs on every
//! record. Nothing is printed per record, so the figures exclude reporting.
//!
//! ```text
//! cargo run --release --example gen-corpus -- --records 20000 --seed 1 --format ndjson --out c.ndjson
//! CLAIMLINT_BENCH_CORPUS=c.ndjson CLAIMLINT_BENCH_RUNS=3 cargo bench --bench load_evaluate
//! ```
//!
//! Without `CLAIMLINT_BENCH_CORPUS` the bench prints a note and does
//! nothing. Each run loads the whole file from memory and then evaluates
//! every record, on one thread. The output gives the median over
//! `CLAIMLINT_BENCH_RUNS` runs (default 3) of each phase, in µs per record
//! and records/s, and the number of findings, which must not change between
//! builds. It is a bench target rather than an example because the CLI
//! tests check every file under `examples/` as input.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use claimlint::input::{load_file, Framing};
use claimlint::record::RecordSchema;
use claimlint::rules::RuleSet;

/// The environment variable that names the corpus file.
const CORPUS_VARIABLE: &str = "CLAIMLINT_BENCH_CORPUS";
/// The environment variable that sets the number of runs.
const RUNS_VARIABLE: &str = "CLAIMLINT_BENCH_RUNS";

fn main() -> ExitCode {
    // `cargo bench` passes its own arguments (and any criterion filter) to
    // every bench target, so the corpus is named in the environment.
    let Ok(path) = std::env::var(CORPUS_VARIABLE) else {
        println!("load_evaluate: skipped; set {CORPUS_VARIABLE} to an NDJSON corpus to run it");
        return ExitCode::SUCCESS;
    };
    let runs = match std::env::var(RUNS_VARIABLE) {
        Err(_) => 3,
        Ok(text) => match text.parse::<usize>() {
            Ok(runs) if runs > 0 => runs,
            _ => {
                eprintln!("load_evaluate: {RUNS_VARIABLE} must be a positive whole number");
                return ExitCode::from(2);
            }
        },
    };
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(error) => {
            eprintln!("load_evaluate: cannot read {path}: {error}");
            return ExitCode::FAILURE;
        }
    };
    let rules = match RuleSet::shipped() {
        Ok(rules) => rules,
        Err(errors) => {
            eprintln!("load_evaluate: the shipped packs do not compile: {errors:?}");
            return ExitCode::FAILURE;
        }
    };
    let schema = RecordSchema::new();

    let mut load_times = Vec::with_capacity(runs);
    let mut evaluate_times = Vec::with_capacity(runs);
    let mut counts = (0, 0, 0);
    for _ in 0..runs {
        let started = Instant::now();
        let loaded = load_file(Arc::from(path.as_str()), &bytes, Framing::Ndjson, &schema);
        load_times.push(started.elapsed());

        let started = Instant::now();
        let findings: usize = loaded
            .records
            .iter()
            .flat_map(|record| claimlint::eval::evaluate(&rules, record))
            .map(|pack| pack.findings.len())
            .sum();
        evaluate_times.push(started.elapsed());
        counts = (loaded.records.len(), loaded.errors.len(), findings);
    }

    let (records, errors, findings) = counts;
    println!("{records} records, {errors} input errors, {findings} findings");
    let load = median(&mut load_times);
    let evaluate = median(&mut evaluate_times);
    for (phase, time) in [
        ("load", load),
        ("evaluate", evaluate),
        ("load + evaluate", load + evaluate),
    ] {
        let per_record = time.as_secs_f64() * 1e6 / records.max(1) as f64;
        let per_second = records as f64 / time.as_secs_f64().max(f64::MIN_POSITIVE);
        println!("{phase:>16}: {per_record:8.2} µs/record {per_second:10.0} records/s (median of {runs})");
    }
    ExitCode::SUCCESS
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times.get(times.len() / 2).copied().unwrap_or_default()
}
