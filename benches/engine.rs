//! Micro-benchmarks of the rule engine: compiling the shipped packs,
//! loading and evaluating one record, and locating a finding's node in
//! source text.
//!
//! Run with `cargo bench --bench engine`. Inputs are parsed before the timed
//! loops, so only the named step is measured.

use std::hint::black_box;
use std::sync::Arc;

use claimlint::input::{load_file, Framing};
use claimlint::record::{Record, RecordSchema};
use claimlint::rules::RuleSet;
use criterion::{criterion_group, criterion_main, Criterion};

const COMPLIANT: &str = include_str!("../examples/records/compliant.json");
const FAILING: &str = include_str!("../examples/records/fail-invitation-unverified-email.json");

fn record(name: &str, text: &str) -> Record {
    let mut loaded = load_file(
        Arc::from(name),
        text.as_bytes(),
        Framing::Json,
        &RecordSchema::new(),
    );
    assert!(
        loaded.errors.is_empty(),
        "{name} does not load: {:?}",
        loaded.errors
    );
    loaded.records.remove(0)
}

fn compile(c: &mut Criterion) {
    c.bench_function("compile shipped packs", |b| {
        b.iter(|| RuleSet::shipped().map(|set| black_box(set.packs.len())))
    });
}

fn load(c: &mut Criterion) {
    // Each example record as one compact NDJSON line: parsing, the
    // duplicate-key check, schema validation and classification.
    let schema = RecordSchema::new();
    let name: Arc<str> = Arc::from("batch.ndjson");
    let mut group = c.benchmark_group("load ndjson line");
    for (label, text) in [("compliant record", COMPLIANT), ("failing record", FAILING)] {
        let line = compact(text);
        let loaded = load_file(name.clone(), line.as_bytes(), Framing::Ndjson, &schema);
        assert_eq!(
            loaded.records.len(),
            1,
            "{label} does not load: {:?}",
            loaded.errors
        );
        group.bench_function(label, |b| {
            b.iter(|| {
                load_file(
                    name.clone(),
                    black_box(line.as_bytes()),
                    Framing::Ndjson,
                    &schema,
                )
            })
        });
    }
    // The floor for the steps above: parsing alone, as the parse-baseline
    // example does.
    let line = compact(COMPLIANT);
    group.bench_function("parse only, compliant record", |b| {
        b.iter(|| serde_json::from_str::<serde_json::Value>(black_box(&line)))
    });
    group.finish();
}

/// Re-serializes a pretty-printed JSON document on one line.
fn compact(text: &str) -> String {
    let value: serde_json::Value =
        serde_json::from_str(text).unwrap_or_else(|error| panic!("invalid example: {error}"));
    serde_json::to_string(&value).unwrap_or_else(|error| panic!("cannot serialize: {error}"))
}

fn evaluate(c: &mut Criterion) {
    let rules = RuleSet::shipped()
        .unwrap_or_else(|errors| panic!("shipped packs do not compile: {errors:?}"));
    let compliant = record("compliant.json", COMPLIANT);
    let failing = record("fail-invitation-unverified-email.json", FAILING);
    let findings = |record: &Record| -> usize {
        claimlint::eval::evaluate(&rules, record)
            .iter()
            .map(|r| r.findings.len())
            .sum()
    };
    assert_eq!(
        findings(&compliant),
        0,
        "the compliant example has findings"
    );
    assert!(findings(&failing) > 0, "the failing example has no finding");

    let mut group = c.benchmark_group("evaluate");
    group.bench_function("compliant record", |b| {
        b.iter(|| claimlint::eval::evaluate(&rules, black_box(&compliant)))
    });
    group.bench_function("failing record", |b| {
        b.iter(|| claimlint::eval::evaluate(&rules, black_box(&failing)))
    });
    group.finish();
}

fn locate(c: &mut Criterion) {
    // The node a CCM32-004 finding points at, near the end of the record.
    let pointer = "/audit_trail/1/recipient";
    let whole = 0..FAILING.len();
    assert!(claimlint::source::locate_pointer_within(FAILING, whole.clone(), pointer).is_some());

    // The same record as line 3 of an NDJSON batch, as when a finding is
    // rendered from a large file.
    let line = compact(FAILING);
    let batch = format!("{line}\n{line}\n{line}\n");
    let third = 2 * (line.len() + 1)..3 * (line.len() + 1) - 1;

    let mut group = c.benchmark_group("locate_pointer_within");
    group.bench_function("pretty-printed record", |b| {
        b.iter(|| {
            claimlint::source::locate_pointer_within(black_box(FAILING), whole.clone(), pointer)
        })
    });
    group.bench_function("ndjson line", |b| {
        b.iter(|| {
            claimlint::source::locate_pointer_within(black_box(&batch), third.clone(), pointer)
        })
    });
    group.finish();
}

criterion_group!(benches, compile, load, evaluate, locate);
criterion_main!(benches);
