//! The parse-only baseline for `benches/e2e.sh`: reads inputs and parses
//! each document into a `serde_json::Value`, and does nothing else.
//!
//! ```text
//! cargo run --release --example parse-baseline -- ndjson FILE
//! cargo run --release --example parse-baseline -- files FOLDER
//! ```
//!
//! `ndjson` reads FILE line by line through a buffered reader and parses
//! each non-blank line. `files` parses every `.json` file under FOLDER,
//! walked in name order. Both use one thread and the same serde_json
//! features as claimlint (`preserve_order`, `arbitrary_precision`), so the
//! figure is what reading and parsing the input costs claimlint at least.
//! The output is one line: documents parsed, bytes read, parse errors.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::ExitCode;

use serde_json::Value;

#[derive(Debug, Default)]
struct Counts {
    documents: u64,
    bytes: u64,
    errors: u64,
}

impl Counts {
    fn parse(&mut self, text: &[u8]) {
        self.bytes += text.len() as u64;
        match serde_json::from_slice::<Value>(text) {
            Ok(value) => {
                std::hint::black_box(value);
                self.documents += 1;
            }
            Err(_) => self.errors += 1,
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.as_slice() {
        [mode, path] if mode == "ndjson" => parse_ndjson(Path::new(path)),
        [mode, path] if mode == "files" => parse_files(Path::new(path)),
        _ => {
            eprintln!("usage: parse-baseline ndjson FILE | parse-baseline files FOLDER");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(counts) => {
            println!(
                "{} documents, {} bytes, {} parse errors",
                counts.documents, counts.bytes, counts.errors
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("parse-baseline: {error}");
            ExitCode::FAILURE
        }
    }
}

fn parse_ndjson(path: &Path) -> std::io::Result<Counts> {
    let mut reader = BufReader::with_capacity(1 << 16, File::open(path)?);
    let mut counts = Counts::default();
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Ok(counts);
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            counts.bytes += line.len() as u64;
            continue;
        }
        counts.parse(&line);
    }
}

fn parse_files(folder: &Path) -> std::io::Result<Counts> {
    let mut counts = Counts::default();
    for entry in walkdir::WalkDir::new(folder).sort_by_file_name() {
        let entry = entry.map_err(std::io::Error::other)?;
        let is_json = entry
            .path()
            .extension()
            .is_some_and(|extension| extension == "json");
        if entry.file_type().is_file() && is_json {
            counts.parse(&std::fs::read(entry.path())?);
        }
    }
    Ok(counts)
}
