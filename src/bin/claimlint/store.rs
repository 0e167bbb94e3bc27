//! The findings of a run, kept compactly until the report is written: a
//! small sort key per finding in memory, and its rendered outputs in a
//! spill store that moves to a temporary file on large runs. Reports are
//! then written in sorted order without holding every finding in memory.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};
use std::sync::Arc;

use claimlint::finding::Severity;
use claimlint::report::{ReportedFinding, RuleCount};
use claimlint::spill::{Slot, Spill};

use crate::checker::Prepared;

/// One of the renderings kept for each finding.
#[derive(Debug, Clone, Copy)]
pub enum Part {
    Human = 0,
    Json = 1,
    Ndjson = 2,
    HumanLine = 3,
}

struct Item {
    file: u32,
    /// Line and column, `u32::MAX` when the finding could not be located.
    line: u32,
    column: u32,
    record_line: u32,
    /// The record's place in input order.
    sequence: u32,
    code: u32,
    active: bool,
    slot: Option<Slot>,
    lens: [u32; 4],
    reported: Option<Box<ReportedFinding>>,
}

/// Counts of the findings kept.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
    pub suppressed: usize,
    /// The highest severity of an active finding.
    pub highest: Option<Severity>,
    /// Active findings per rule code: name, highest severity, count.
    per_rule: BTreeMap<String, (String, Severity, usize)>,
}

impl Tally {
    /// Returns the number of active findings of each rule, most frequent
    /// first.
    pub fn statistics(&self) -> Vec<RuleCount> {
        let mut counts: Vec<RuleCount> = self
            .per_rule
            .iter()
            .map(|(code, (name, severity, count))| RuleCount {
                code: code.clone(),
                name: name.clone(),
                severity: *severity,
                count: *count,
            })
            .collect();
        counts.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.code.cmp(&b.code)));
        counts
    }
}

/// The store; see the module documentation.
#[derive(Default)]
pub struct Store {
    spill: Spill,
    items: Vec<Item>,
    files: Vec<Arc<str>>,
    file_index: HashMap<Arc<str>, u32>,
    codes: Vec<Box<str>>,
    code_index: HashMap<Box<str>, u32>,
    pub tally: Tally,
    /// The first failure to store a finding's rendering.
    pub failure: Option<String>,
}

impl Store {
    /// Keeps one finding of the record read `sequence`-th.
    pub fn push(&mut self, prepared: Prepared, sequence: u32) {
        let key = prepared.key;
        let file = match self.file_index.get(&key.file) {
            Some(&index) => index,
            None => {
                let index = self.files.len() as u32;
                self.files.push(key.file.clone());
                self.file_index.insert(key.file.clone(), index);
                index
            }
        };
        let code = match self.code_index.get(&key.code) {
            Some(&index) => index,
            None => {
                let index = self.codes.len() as u32;
                self.codes.push(key.code.clone());
                self.code_index.insert(key.code.clone(), index);
                index
            }
        };
        if prepared.suppression.is_none() {
            let tally = &mut self.tally;
            match prepared.severity {
                Severity::Error => tally.errors += 1,
                Severity::Warning => tally.warnings += 1,
                Severity::Info => tally.infos += 1,
            }
            tally.highest = tally.highest.max(Some(prepared.severity));
            let entry = tally
                .per_rule
                .entry(key.code.to_string())
                .or_insert_with(|| (prepared.name.clone(), prepared.severity, 0));
            entry.1 = entry.1.max(prepared.severity);
            entry.2 += 1;
        } else {
            self.tally.suppressed += 1;
        }

        let parts = [
            prepared.human,
            prepared.json,
            prepared.ndjson,
            prepared.human_line,
        ];
        let mut lens = [0u32; 4];
        let mut bytes = Vec::new();
        for (len, part) in lens.iter_mut().zip(&parts) {
            if let Some(part) = part {
                *len = u32::try_from(part.len()).unwrap_or(u32::MAX);
                bytes.extend_from_slice(part.as_bytes());
            }
        }
        let slot = if bytes.is_empty() {
            None
        } else {
            match self.spill.push(&bytes) {
                Ok(slot) => Some(slot),
                Err(error) => {
                    self.failure.get_or_insert_with(|| {
                        format!("cannot keep findings in a temporary file: {error}")
                    });
                    None
                }
            }
        };
        let to_u32 = |n: usize| u32::try_from(n).unwrap_or(u32::MAX - 1);
        let (line, column) = key
            .position
            .map_or((u32::MAX, u32::MAX), |(l, c)| (to_u32(l), to_u32(c)));
        self.items.push(Item {
            file,
            line,
            column,
            record_line: key.record_line.map_or(0, |l| to_u32(l) + 1),
            code,
            sequence,
            active: prepared.suppression.is_none(),
            slot,
            lens,
            reported: prepared.reported,
        });
    }

    /// Returns the item indexes in the order of the JSON-like reports:
    /// file, position (unlocated first), record (in input order), rule code.
    pub fn report_order(&self) -> Vec<usize> {
        self.order_by(|item| (item.line != u32::MAX).then_some((item.line, item.column)))
    }

    /// Returns the item indexes in the order of the human report: by record
    /// (file, line, input order), then rule code.
    pub fn human_order(&self) -> Vec<usize> {
        self.order_by(|item| item.record_line.checked_sub(1))
    }

    /// Sorts the item indexes by file, then `place`, then record sequence
    /// and rule code.
    fn order_by<P: Ord>(&self, place: impl Fn(&Item) -> P) -> Vec<usize> {
        let key = |index: usize| {
            let item = &self.items[index];
            (
                &self.files[item.file as usize],
                place(item),
                item.sequence,
                &self.codes[item.code as usize],
            )
        };
        let mut order: Vec<usize> = (0..self.items.len()).collect();
        order.sort_by(|&a, &b| key(a).cmp(&key(b)));
        order
    }

    /// Keeps the items of `order` that are not suppressed.
    pub fn active(&self, order: Vec<usize>) -> Vec<usize> {
        order
            .into_iter()
            .filter(|&index| self.items[index].active)
            .collect()
    }

    /// Reads one rendering of the item at `index`.
    pub fn part(&mut self, index: usize, part: Part) -> io::Result<Vec<u8>> {
        let item = &self.items[index];
        let Some(slot) = item.slot else {
            return Ok(Vec::new());
        };
        let start: usize = item.lens[..part as usize].iter().map(|&l| l as usize).sum();
        let len = item.lens[part as usize] as usize;
        let bytes = self.spill.read(slot)?;
        Ok(bytes.get(start..start + len).unwrap_or_default().to_vec())
    }

    /// Writes one rendering of every item in `order` to `out`.
    pub fn write_parts(
        &mut self,
        order: &[usize],
        part: Part,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        for &index in order {
            out.write_all(&self.part(index, part)?)?;
        }
        Ok(())
    }

    /// Returns the whole findings in `order`, for the formats that render
    /// from the whole report. It is empty unless findings were prepared whole.
    pub fn reported(&self, order: &[usize]) -> Vec<ReportedFinding> {
        order
            .iter()
            .filter_map(|&index| self.items[index].reported.as_deref().cloned())
            .collect()
    }
}
