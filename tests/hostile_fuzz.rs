//! The fuzz targets of fuzz/targets.rs, run on the stable toolchain.
//!
//! The always-on test feeds every saved regression input and the shipped
//! examples through each target. The ignored test adds random and mutated
//! inputs for `CLAIMLINT_FUZZ_SECONDS` seconds per target (default 10):
//!
//! ```sh
//! CLAIMLINT_FUZZ_SECONDS=600 cargo test --release --test hostile_fuzz -- --ignored --nocapture
//! ```
//!
//! It has no coverage feedback, so it finds less than `cargo fuzz run`.

#[path = "../fuzz/targets.rs"]
mod targets;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

type Target = fn(&[u8]);

const TARGETS: [(&str, Target); 3] = [
    ("load_records", targets::load_records),
    ("locate_pointer", targets::locate_pointer),
    ("load_config", targets::load_config),
];

/// Lists the files under `folder`, recursively and sorted.
fn files_in(folder: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let Ok(entries) = std::fs::read_dir(folder) else {
        return files;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(files_in(&path));
        } else {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// Saved regression inputs for `target`, then the shipped examples, rules,
/// mappings and hostile fixtures as seeds.
fn seeds(target: &str) -> Vec<Vec<u8>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut folders = vec![root.join("fuzz/regressions").join(target)];
    folders.extend(["examples", "rules", "mappings", "tests/data/hostile"].map(|f| root.join(f)));
    folders
        .iter()
        .flat_map(|folder| files_in(folder))
        .filter_map(|path| std::fs::read(path).ok())
        .collect()
}

#[test]
fn regressions_and_seeds_do_not_panic() {
    for (name, target) in TARGETS {
        for input in seeds(name) {
            target(&input);
        }
    }
}

/// xorshift64*: enough randomness to mutate seeds, with no dependency.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n.max(1) as u64).unwrap_or(0)
    }
}

/// Tokens that reach deep branches faster than random bytes.
const DICTIONARY: &[&[u8]] = &[
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"",
    b":",
    b",",
    b"\n",
    b"\r\n",
    b"\\u",
    b"\\ud800",
    b"null",
    b"-0",
    b"1e999",
    b"9007199254740993",
    b"\"resourceType\"",
    b"\"Bundle\"",
    b"\"entry\"",
    b"\"record_type\"",
    b"\"claimlint.encounter/v1\"",
    b"&a",
    b"*a",
    b"- ",
    b": ",
    b"  ",
    b"/",
    b"~1",
    b"~0",
    b"~",
    b"#",
    b"\xef\xbb\xbf",
    b"\xff",
    b"\x1f\x8b",
];

fn mutate(random: &mut Random, input: &mut Vec<u8>) {
    for _ in 0..=random.below(4) {
        let at = random.below(input.len() + 1);
        match random.below(5) {
            0 if !input.is_empty() => {
                let end = (at + random.below(16)).min(input.len());
                input.drain(at.min(end)..end);
            }
            1 => {
                let token = DICTIONARY[random.below(DICTIONARY.len())];
                input.splice(at..at, token.iter().copied());
            }
            2 if at < input.len() => input[at] = random.next() as u8,
            3 if !input.is_empty() => {
                let start = random.below(input.len());
                let end = (start + random.below(64)).min(input.len());
                let copy = input[start..end].to_vec();
                input.splice(at..at, copy);
            }
            _ => input.truncate(at),
        }
    }
}

#[test]
#[ignore = "runs for CLAIMLINT_FUZZ_SECONDS per target; see the module docs"]
fn random_inputs_do_not_panic() {
    let seconds: u64 = std::env::var("CLAIMLINT_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let seed: u64 = std::env::var("CLAIMLINT_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x9e37_79b9_7f4a_7c15);
    for (name, target) in TARGETS {
        let corpus = seeds(name);
        let mut random = Random(seed | 1);
        let started = Instant::now();
        let mut runs = 0u64;
        while started.elapsed() < Duration::from_secs(seconds) {
            let mut input = if corpus.is_empty() {
                Vec::new()
            } else {
                corpus[random.below(corpus.len())].clone()
            };
            mutate(&mut random, &mut input);
            let result = std::panic::catch_unwind(|| target(&input));
            if result.is_err() {
                let path = std::env::temp_dir().join(format!("claimlint-fuzz-{name}-crash"));
                let _ = std::fs::write(&path, &input);
                panic!("{name} panicked; input saved to {}", path.display());
            }
            runs += 1;
        }
        println!("{name}: {runs} inputs in {seconds} s");
    }
}
