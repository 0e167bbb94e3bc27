//! Patient-month rules: rules evaluated over all records of one patient in
//! one calendar month, such as "CCM billed twice in a month".
//!
//! Records are offered one at a time as inputs are read. A record is kept
//! only when it joins some patient-month rule's group: its pack is in effect
//! on its date of service, and it meets the rule's `members` condition. So
//! memory grows with the relevant records, not with the whole batch.
//! Once every input is read, each group is evaluated as one document:
//! `{patient_id, month, records: [...]}`. A failing group yields one finding
//! per record in it, located in that record.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{json, Map, Value};

use super::condition::{eval, Ctx, Keep, Trace};
use super::dates::Temporal;
use super::{build_finding, within_effective_dates, FindingSource, RuleResult, Truth};
use crate::finding::{Evidence, Finding, Miss, Outcome};
use crate::record::{Origin, Record, SourceFormat};
use crate::rules::condition::{Aggregate, CondNode, Condition, FieldTest, Quantity, Scope};
use crate::rules::{Pack, RuleScope, RuleSet};
use crate::spill::{Slot, Spill};

/// The patient-month rules that apply and the parts of a record they read.
/// Deciding whether a record joins a group ([`MonthPlan::join`]) needs
/// only this, so it can run on any thread.
#[derive(Clone)]
pub struct MonthPlan<'r> {
    rules: &'r RuleSet,
    /// Indexes of the packs whose patient-month rules are evaluated.
    packs: Vec<usize>,
    /// Top-level record members the rules read whole; `None` when a rule
    /// can read anything (a descendant query, say).
    keep: Option<Vec<String>>,
    /// (pack index, rule index) of every patient-month rule, at most 64.
    rules_list: Vec<(usize, usize)>,
}

/// A record that joins some patient-month group, reduced to what the
/// groups' rules read. Made by [`MonthPlan::join`], stored with
/// [`PatientMonths::push`].
pub struct Joined {
    /// Bit `i` is set when the record joins the group of rule `i` of
    /// [`MonthPlan::rules`].
    rules: u64,
    patient: String,
    /// `YYYYMM`, or `None` when the date of service has no single month.
    month: Option<u32>,
    /// The record with only the members the rules read.
    record: Record,
    /// The document the record was read from, when the caller keeps it to
    /// locate findings later (for input that cannot be read twice).
    pub source_text: Option<String>,
    /// Byte offset of the record's document in its file, when known.
    pub source_offset: Option<u64>,
    /// A number the caller gives the record, such as its place in input
    /// order; returned with it by [`PatientMonths::finish_each`].
    pub sequence: u32,
    /// The record already encoded by [`Joined::encode`].
    encoded: Option<Vec<u8>>,
}

/// Collects records for patient-month rules and evaluates them at the end.
///
/// Kept records are stored compactly, and in a temporary file once they
/// pass a few megabytes ([`crate::spill`]), so memory stays small on large
/// exports: about 40 bytes per kept record.
pub struct PatientMonths<'r> {
    plan: MonthPlan<'r>,
    kept: Vec<Kept>,
    /// Records that are not stored (mapped FHIR records), by `Kept::len`
    /// `u32::MAX` and `Kept::offset` the index here.
    memory: Vec<KeptRecord>,
    patients: HashMap<Arc<str>, u32>,
    patient_names: Vec<Arc<str>>,
    files: Vec<Arc<str>>,
    spill: Spill,
    /// The first failure to store a record; reported by [`PatientMonths::finish_each`].
    failure: Option<String>,
    /// The position of [`PatientMonths::read_groups`] among the groups.
    cursor: Cursor,
}

/// The rule whose groups are being read, and the next group's start.
#[derive(Default)]
struct Cursor {
    /// The bit of the next rule in [`MonthPlan::rules_list`].
    next_bit: usize,
    pack: usize,
    rule: usize,
    order: Vec<u32>,
    position: usize,
}

/// One kept record: where it is stored (or its index in
/// `PatientMonths::memory`), and the groups it joins. 40 bytes.
struct Kept {
    offset: u64,
    len: u32,
    file: u32,
    /// NDJSON line, 0 for a whole-file document.
    line: u32,
    patient: u32,
    /// Byte offset of the document in its file, `u64::MAX` when unknown.
    source_offset: u64,
    /// `YYYYMM`, 0 when the date of service has no single month.
    month: u32,
    /// The groups it joins; see [`Joined::rules`].
    rules: u64,
    sequence: u32,
}

/// A kept record as [`PatientMonths::finish_each`] returns it.
#[derive(Debug, Clone)]
pub struct KeptRecord {
    /// The record, with only the members the patient-month rules read.
    pub record: Record,
    /// The text of the record's document, when it was kept.
    pub source_text: Option<String>,
    /// Byte offset of the record's document in its file, when known.
    pub source_offset: Option<u64>,
    /// The number given with [`Joined::sequence`].
    pub sequence: u32,
}

/// The records kept and the result of every group.
#[derive(Debug)]
pub struct PatientMonthReport {
    /// The records that joined some group, in the order they were added,
    /// with only the members the patient-month rules read.
    pub records: Vec<Record>,
    pub results: Vec<PatientMonthResult>,
}

/// One patient-month rule on one patient's month.
#[derive(Debug, Clone)]
pub struct PatientMonthResult {
    pub pack: String,
    pub version: String,
    pub patient_id: String,
    /// `YYYY-MM`; `None` for a record whose date of service has no single
    /// month, on which the rule is undecided.
    pub month: Option<String>,
    /// Indexes of the group's records, in the order they were added.
    pub members: Vec<usize>,
    /// The outcome, with evidence and misses located in the group document
    /// (`/records/N/...`).
    pub rule: RuleResult,
    /// One finding per record of a failing group, located in that record:
    /// the record's index and the finding.
    pub findings: Vec<(usize, Finding)>,
}

impl<'r> MonthPlan<'r> {
    /// Plans for the patient-month rules of every pack in `rules`.
    pub fn new(rules: &'r RuleSet) -> MonthPlan<'r> {
        let packs = (0..rules.packs.len()).collect();
        MonthPlan::with_packs(rules, packs)
    }

    /// Plans for the patient-month rules of `pack` only.
    pub fn for_pack(rules: &'r RuleSet, pack: &Pack) -> MonthPlan<'r> {
        let packs = rules
            .packs
            .iter()
            .position(|p| p.id == pack.id && p.version == pack.version)
            .into_iter()
            .collect();
        MonthPlan::with_packs(rules, packs)
    }

    fn with_packs(rules: &'r RuleSet, packs: Vec<usize>) -> MonthPlan<'r> {
        let packs: Vec<usize> = packs
            .into_iter()
            .filter(|&index| {
                rules.packs[index]
                    .rules
                    .iter()
                    .any(|rule| rule.scope == RuleScope::PatientMonth)
            })
            .collect();
        let mut paths = Vec::new();
        for &index in &packs {
            for rule in &rules.packs[index].rules {
                if rule.scope != RuleScope::PatientMonth {
                    continue;
                }
                // `members` is evaluated on the whole record when it joins.
                if let Some(when) = &rule.when {
                    collect_paths(when, &mut paths);
                }
                collect_paths(&rule.evidence, &mut paths);
            }
        }
        let keep = members_read(&paths);
        let mut group_rules = Vec::new();
        for &index in &packs {
            for (rule_index, rule) in rules.packs[index].rules.iter().enumerate() {
                if rule.scope == RuleScope::PatientMonth {
                    group_rules.push((index, rule_index));
                }
            }
        }
        // NOTE: patient-month rules past the 64th are not evaluated, because
        // a record's groups are a 64-bit mask. The shipped packs have two.
        group_rules.truncate(64);
        MonthPlan {
            rules,
            packs,
            keep,
            rules_list: group_rules,
        }
    }

    /// True when no loaded pack has a patient-month rule.
    pub fn is_empty(&self) -> bool {
        self.packs.is_empty()
    }

    /// Decides which groups `record` joins: for each patient-month rule, its
    /// pack must be in effect on the record's date of service and the
    /// record must meet the rule's `members` condition (the pack's
    /// applicability when there is none). `None` when it joins no group.
    pub fn join(&self, record: &Record) -> Option<Joined> {
        // NOTE: a record without a patient id cannot be grouped; the record
        // schema requires one, so only a faulty mapping can produce it.
        let patient = record.value.get("patient").and_then(|p| p.get("id"));
        let patient = patient.and_then(Value::as_str)?;
        let ctx = Ctx {
            root: &record.value,
            item: &record.value,
            item_pointer: "",
        };
        let mut joined = 0u64;
        for (bit, &(pack_index, rule_index)) in self.rules_list.iter().enumerate() {
            let pack = &self.rules.packs[pack_index];
            if !within_effective_dates(pack, record) {
                continue;
            }
            let rule = &pack.rules[rule_index];
            let condition = rule.members.as_ref().or(pack.applies_when.as_ref());
            let joins = condition
                .is_none_or(|c| eval(c, ctx, &mut Trace::new(Keep::Nothing)) == Truth::True);
            if joins {
                joined |= 1 << bit;
            }
        }
        if joined == 0 {
            return None;
        }
        Some(Joined {
            rules: joined,
            patient: patient.to_string(),
            month: record.date_of_service().and_then(month_of),
            record: Record {
                id: record.id.clone(),
                value: self.project(&record.value),
                format: record.format,
                origin: record.origin.clone(),
                provenance: record.provenance.clone(),
            },
            source_text: None,
            source_offset: None,
            sequence: 0,
            encoded: None,
        })
    }

    /// Keeps the members of `value` that the rules and the finding
    /// templates read.
    fn project(&self, value: &Value) -> Value {
        let Some(keep) = &self.keep else {
            return value.clone();
        };
        let Some(object) = value.as_object() else {
            return value.clone();
        };
        // What findings and grouping read of every record.
        const PARTS: [(&str, &[&str]); 3] = [
            ("patient", &["id"]),
            ("encounter", &["id", "date_of_service"]),
            ("claim", &["id", "payer"]),
        ];
        let mut projected = Map::new();
        for (key, child) in object {
            if keep.iter().any(|k| k == key) {
                projected.insert(key.clone(), child.clone());
            } else if let Some((_, names)) = PARTS.iter().find(|(name, _)| name == key) {
                let part: Map<String, Value> = child
                    .as_object()
                    .into_iter()
                    .flatten()
                    .filter(|(name, _)| names.contains(&name.as_str()))
                    .map(|(name, value)| (name.clone(), value.clone()))
                    .collect();
                projected.insert(key.clone(), Value::Object(part));
            }
        }
        Value::Object(projected)
    }
}

/// Encodes a kept canonical record for the spill store.
fn encode(record: &Record, source_text: Option<&str>) -> Result<Vec<u8>, String> {
    let blob = json!({
        "id": record.id,
        "pointer": record.origin.pointer,
        "value": record.value,
        "text": source_text,
    });
    serde_json::to_vec(&blob).map_err(|e| e.to_string())
}

impl Joined {
    /// Encodes the record for storage now, on the calling thread, so that
    /// [`PatientMonths::push`] only copies bytes. Call it after setting
    /// [`Joined::source_text`]; a later change of the text is not stored.
    pub fn encode(&mut self) {
        let canonical =
            self.record.format == SourceFormat::Canonical && self.record.provenance.is_empty();
        if canonical {
            self.encoded = encode(&self.record, self.source_text.as_deref()).ok();
            if self.encoded.is_some() {
                // The bytes hold the record; only its origin is still read.
                self.record.value = Value::Null;
                self.source_text = None;
            }
        }
    }
}

/// Collects every path a condition reads, with its scope.
fn collect_paths<'c>(node: &'c CondNode, paths: &mut Vec<(Scope, &'c str)>) {
    let filter = |filter: &'c Option<Box<CondNode>>, paths: &mut Vec<(Scope, &'c str)>| {
        if let Some(filter) = filter {
            collect_paths(filter, paths);
        }
    };
    match &node.condition {
        Condition::All(children) | Condition::Any(children) => {
            for child in children {
                collect_paths(child, paths);
            }
        }
        Condition::Not(inner) => collect_paths(inner, paths),
        Condition::Implies { condition, then } => {
            collect_paths(condition, paths);
            collect_paths(then, paths);
        }
        Condition::Count {
            select,
            filter: f,
            bounds,
            evidence,
        } => {
            paths.push((select.scope, &select.text));
            filter(f, paths);
            for bound in bounds {
                collect_quantity(&bound.limit, paths);
            }
            for field in [&evidence.id, &evidence.date, &evidence.author]
                .into_iter()
                .flatten()
            {
                paths.push((field.scope, &field.text));
            }
        }
        Condition::Sum {
            select,
            filter: f,
            of,
            bounds,
            ..
        } => {
            paths.push((select.scope, &select.text));
            paths.push((of.scope, &of.text));
            filter(f, paths);
            for bound in bounds {
                collect_quantity(&bound.limit, paths);
            }
        }
        Condition::Field { field, test } => {
            paths.push((field.scope, &field.text));
            match test {
                FieldTest::EqualsField { other, .. } => paths.push((other.scope, &other.text)),
                FieldTest::Within { of, .. } => paths.push((of.scope, &of.text)),
                FieldTest::Order { other, .. } => paths.push((other.scope, &other.text)),
                FieldTest::Compare(bound) => collect_quantity(&bound.limit, paths),
                _ => {}
            }
        }
    }
}

fn collect_quantity<'c>(quantity: &'c Quantity, paths: &mut Vec<(Scope, &'c str)>) {
    let Quantity::Computed { base, .. } = quantity else {
        return;
    };
    match base.as_ref() {
        Aggregate::Sum {
            select, filter, of, ..
        } => {
            paths.push((select.scope, &select.text));
            paths.push((of.scope, &of.text));
            if let Some(filter) = filter {
                collect_paths(filter, paths);
            }
        }
        Aggregate::Count { select, filter } => {
            paths.push((select.scope, &select.text));
            if let Some(filter) = filter {
                collect_paths(filter, paths);
            }
        }
        Aggregate::Field(field) => paths.push((field.scope, &field.text)),
    }
}

/// The top-level record members that paths into a group document
/// (`{patient_id, month, records: [...]}`) read through `records[...]`.
/// `None` when some path can reach any member.
///
/// Paths relative to an item start below a member that a group path
/// selected, so only paths that start at `records` matter, whatever their
/// scope (at the top of a group rule the item is the group itself).
fn members_read(paths: &[(Scope, &str)]) -> Option<Vec<String>> {
    use rsonpath_syntax::{Segment, Selector};
    let mut keep: Vec<String> = Vec::new();
    for (_, text) in paths {
        let text = text.trim();
        let query = if text.starts_with('$') {
            text.to_string()
        } else if let Some(rest) = text.strip_prefix('@') {
            format!("${rest}")
        } else {
            format!("$.{text}")
        };
        // Compiled rules hold only paths that parse.
        let Ok(syntax) = rsonpath_syntax::parse(&query) else {
            return None;
        };
        let segments = syntax.segments();
        let Some(first) = segments.first() else {
            continue;
        };
        let names_records = match first {
            Segment::Child(selectors) => selectors
                .iter()
                .any(|s| matches!(s, Selector::Name(n) if n.unquoted() == "records")),
            Segment::Descendant(_) => return None,
        };
        let only_other_names = match first {
            Segment::Child(selectors) => selectors
                .iter()
                .all(|s| matches!(s, Selector::Name(n) if n.unquoted() != "records")),
            Segment::Descendant(_) => false,
        };
        if only_other_names {
            continue;
        }
        if !names_records {
            // A wildcard or index at the top can reach `records`.
            return None;
        }
        let member = match (segments.get(1), segments.get(2)) {
            (Some(Segment::Child(_)), Some(Segment::Child(selectors))) => selectors
                .iter()
                .map(|s| match s {
                    Selector::Name(n) => Some(n.unquoted().to_string()),
                    _ => None,
                })
                .collect::<Option<Vec<String>>>(),
            (Some(Segment::Child(_)), None) | (None, _) => None,
            _ => None,
        };
        match member {
            Some(names) => {
                for name in names {
                    if !keep.contains(&name) {
                        keep.push(name);
                    }
                }
            }
            None => return None,
        }
    }
    Some(keep)
}

impl<'r> PatientMonths<'r> {
    /// Collects for the patient-month rules of every pack in `rules`.
    pub fn new(rules: &'r RuleSet) -> PatientMonths<'r> {
        PatientMonths::with_plan(MonthPlan::new(rules))
    }

    /// Collects for the patient-month rules of `pack` only.
    pub fn for_pack(rules: &'r RuleSet, pack: &Pack) -> PatientMonths<'r> {
        PatientMonths::with_plan(MonthPlan::for_pack(rules, pack))
    }

    /// Collects for the rules of `plan`.
    pub fn with_plan(plan: MonthPlan<'r>) -> PatientMonths<'r> {
        PatientMonths {
            plan,
            kept: Vec::new(),
            memory: Vec::new(),
            patients: HashMap::new(),
            patient_names: Vec::new(),
            files: Vec::new(),
            spill: Spill::default(),
            failure: None,
            cursor: Cursor::default(),
        }
    }

    /// Returns the plan, for [`MonthPlan::join`] on other threads.
    pub fn plan(&self) -> &MonthPlan<'r> {
        &self.plan
    }

    /// Offers a record; returns whether it was kept for some group.
    pub fn add(&mut self, record: &Record) -> bool {
        match self.plan.join(record) {
            Some(joined) => {
                self.push(joined);
                true
            }
            None => false,
        }
    }

    /// Stores a record that joins some group.
    pub fn push(&mut self, joined: Joined) {
        let patient = match self.patients.get(joined.patient.as_str()) {
            Some(&id) => id,
            None => {
                let id = self.patient_names.len() as u32;
                let name: Arc<str> = Arc::from(joined.patient.as_str());
                self.patient_names.push(name.clone());
                self.patients.insert(name, id);
                id
            }
        };
        let record = joined.record;
        let mut kept = Kept {
            offset: 0,
            len: u32::MAX,
            file: 0,
            line: record
                .origin
                .line
                .map_or(0, |l| u32::try_from(l).unwrap_or(u32::MAX)),
            patient,
            source_offset: joined.source_offset.unwrap_or(u64::MAX),
            month: joined.month.unwrap_or(0),
            rules: joined.rules,
            sequence: joined.sequence,
        };
        let canonical = record.format == SourceFormat::Canonical && record.provenance.is_empty();
        let stored = if canonical {
            let bytes = match joined.encoded {
                Some(bytes) => Ok(bytes),
                None => encode(&record, joined.source_text.as_deref()),
            };
            bytes
                .and_then(|bytes| self.spill.push(&bytes).map_err(|e| e.to_string()))
                .map_err(|error| {
                    self.failure.get_or_insert(format!(
                        "cannot store records for patient-month rules in a temporary file: {error}"
                    ));
                })
                .ok()
        } else {
            None
        };
        match stored {
            Some(slot) => {
                kept.offset = slot.offset();
                kept.len = slot.len() as u32;
                kept.file = match self.files.last() {
                    Some(last) if Arc::ptr_eq(last, &record.origin.file) => self.files.len() - 1,
                    _ => {
                        self.files.push(record.origin.file.clone());
                        self.files.len() - 1
                    }
                } as u32;
            }
            // Mapped records carry their provenance; a record that could
            // not be stored is kept in memory rather than lost.
            None => {
                kept.offset = self.memory.len() as u64;
                self.memory.push(KeptRecord {
                    record,
                    source_text: joined.source_text,
                    source_offset: joined.source_offset,
                    sequence: joined.sequence,
                });
            }
        }
        self.kept.push(kept);
    }

    fn load(&mut self, index: usize) -> Result<KeptRecord, String> {
        self.read_raw(index)?.decode()
    }

    /// Reads a kept record's stored bytes; decoding them is left to
    /// [`Raw::decode`], which can run on another thread.
    fn read_raw(&mut self, index: usize) -> Result<Raw, String> {
        let Some(kept) = self.kept.get(index) else {
            return Err(format!("no kept record {index}"));
        };
        if kept.len == u32::MAX {
            return usize::try_from(kept.offset)
                .ok()
                .and_then(|i| self.memory.get(i))
                .cloned()
                .map(Raw::Ready)
                .ok_or_else(|| format!("no kept record {index}"));
        }
        let slot = Slot::new(kept.offset, kept.len);
        let (file, line, sequence) = (kept.file, kept.line, kept.sequence);
        let source_offset = (kept.source_offset != u64::MAX).then_some(kept.source_offset);
        let bytes = self
            .spill
            .read(slot)
            .map_err(|e| format!("cannot read back a record for patient-month rules: {e}"))?;
        let file = self
            .files
            .get(file as usize)
            .cloned()
            .unwrap_or_else(|| Arc::from(""));
        Ok(Raw::Stored {
            bytes,
            file,
            line,
            source_offset,
            sequence,
        })
    }

    /// Reads the records of the next groups to evaluate, at most `max`
    /// groups, in pack, rule, patient and month order. The result is empty
    /// once every group was read. Each group is evaluated with
    /// [`MonthPlan::evaluate_group`], which can run on several threads.
    /// Besides the groups returned, only one rule's record order is held
    /// (4 bytes per record).
    pub fn read_groups(&mut self, max: usize) -> Vec<ReadGroup> {
        let mut reads = Vec::new();
        while reads.len() < max {
            let Some(job) = self.next_group() else { break };
            reads.push(self.read_group(job));
        }
        reads
    }

    /// Returns the next group of the current rule, moving to the next rule
    /// when one is done.
    fn next_group(&mut self) -> Option<GroupJob> {
        loop {
            if self.cursor.position < self.cursor.order.len() {
                break;
            }
            let bit = self.cursor.next_bit;
            let &(pack, rule) = self.plan.rules_list.get(bit)?;
            self.cursor = Cursor {
                next_bit: bit + 1,
                pack,
                rule,
                order: self.sorted_members(bit),
                position: 0,
            };
        }
        let kept = &self.kept;
        let order = &self.cursor.order;
        let start = self.cursor.position;
        let first = &kept[order[start] as usize];
        let key = (first.patient, first.month);
        let mut end = start + 1;
        while end < order.len() {
            let k = &kept[order[end] as usize];
            if (k.patient, k.month) != key {
                break;
            }
            end += 1;
        }
        self.cursor.position = end;
        Some(GroupJob {
            pack: self.cursor.pack,
            rule: self.cursor.rule,
            patient: self.patient_names[key.0 as usize].clone(),
            month: (key.1 != 0).then_some(key.1),
            members: order[start..end].iter().map(|&i| i as usize).collect(),
        })
    }

    /// Returns the kept records in the groups of rule `bit`, sorted by
    /// patient, month and the order they were added.
    fn sorted_members(&self, bit: usize) -> Vec<u32> {
        let mut order: Vec<u32> = (0..self.kept.len() as u32)
            .filter(|&i| self.kept[i as usize].rules & (1 << bit) != 0)
            .collect();
        let kept = &self.kept;
        let names = &self.patient_names;
        order.sort_by(|&a, &b| {
            let (x, y) = (&kept[a as usize], &kept[b as usize]);
            let month = |k: &Kept| (k.month != 0).then_some(k.month);
            (&names[x.patient as usize], month(x), a).cmp(&(
                &names[y.patient as usize],
                month(y),
                b,
            ))
        });
        order
    }

    /// Reads the stored records of one group.
    fn read_group(&mut self, job: GroupJob) -> ReadGroup {
        let mut raws = Vec::with_capacity(job.members.len());
        let mut failure = None;
        for &index in &job.members {
            match self.read_raw(index) {
                Ok(raw) => raws.push((index, raw)),
                Err(error) => {
                    failure.get_or_insert(error);
                }
            }
        }
        ReadGroup { job, raws, failure }
    }

    /// Returns, once, the first failure to store a record.
    pub fn take_failure(&mut self) -> Option<String> {
        self.failure.take()
    }

    /// Evaluates every group, in pack, rule, patient and month order, and
    /// returns every result with all kept records.
    pub fn finish(mut self) -> PatientMonthReport {
        let records = (0..self.kept.len())
            .filter_map(|index| self.load(index).ok().map(|kept| kept.record))
            .collect();
        let mut results = Vec::new();
        self.finish_each(|result, _| results.push(result));
        PatientMonthReport { records, results }
    }

    /// Evaluates every group, in pack, rule, patient and month order, and
    /// passes each result to `each` with the group's records (in the order
    /// of [`PatientMonthResult::members`]). Only one group's records are in
    /// memory at a time. Returns a message when kept records could not be
    /// stored or read back; the groups that could be read are still
    /// evaluated.
    pub fn finish_each(
        &mut self,
        mut each: impl FnMut(PatientMonthResult, &[KeptRecord]),
    ) -> Option<String> {
        let mut failure = self.failure.take();
        while let Some(job) = self.next_group() {
            let read = self.read_group(job);
            let evaluated = self.plan.evaluate_group(read);
            if let Some(error) = evaluated.failure {
                failure.get_or_insert(error);
            }
            for (result, records) in evaluated.results {
                each(result, &records);
            }
        }
        failure
    }
}

/// One patient-month group: a rule and one patient's month.
#[derive(Debug, Clone)]
pub struct GroupJob {
    pack: usize,
    rule: usize,
    patient: Arc<str>,
    /// `YYYYMM`; `None` for records whose date of service has no month.
    month: Option<u32>,
    /// Indexes of the kept records, in the order they were added.
    members: Vec<usize>,
}

/// A group's records as stored, from [`PatientMonths::read_group`].
pub struct ReadGroup {
    job: GroupJob,
    raws: Vec<(usize, Raw)>,
    failure: Option<String>,
}

/// A kept record as stored, not yet decoded.
enum Raw {
    Stored {
        bytes: Vec<u8>,
        file: Arc<str>,
        line: u32,
        source_offset: Option<u64>,
        sequence: u32,
    },
    Ready(KeptRecord),
}

impl Raw {
    fn decode(self) -> Result<KeptRecord, String> {
        let (bytes, file, line, source_offset, sequence) = match self {
            Raw::Ready(kept) => return Ok(kept),
            Raw::Stored {
                bytes,
                file,
                line,
                source_offset,
                sequence,
            } => (bytes, file, line, source_offset, sequence),
        };
        let mut blob: Value = serde_json::from_slice(&bytes)
            .map_err(|e| format!("cannot read back a record for patient-month rules: {e}"))?;
        let text = |v: &mut Value, key: &str| match v.get_mut(key).map(Value::take) {
            Some(Value::String(s)) => Some(s),
            _ => None,
        };
        let id = text(&mut blob, "id").unwrap_or_default();
        let pointer = text(&mut blob, "pointer").unwrap_or_default();
        let source_text = text(&mut blob, "text");
        let value = blob.get_mut("value").map(Value::take).unwrap_or_default();
        Ok(KeptRecord {
            record: Record {
                id,
                value,
                format: SourceFormat::Canonical,
                origin: Origin::new(file, (line > 0).then_some(line as usize), pointer),
                provenance: Vec::new(),
            },
            source_text,
            source_offset,
            sequence,
        })
    }
}

/// The results of one group, each with its records (in the order of
/// [`PatientMonthResult::members`]).
pub struct EvaluatedGroup {
    pub results: Vec<(PatientMonthResult, Vec<KeptRecord>)>,
    /// A record of the group that could not be read back.
    pub failure: Option<String>,
}

impl<'r> MonthPlan<'r> {
    /// Decodes a group's records and evaluates its rule on them.
    pub fn evaluate_group(&self, read: ReadGroup) -> EvaluatedGroup {
        let ReadGroup {
            job,
            raws,
            mut failure,
        } = read;
        let mut records = Vec::with_capacity(raws.len());
        let mut members = Vec::with_capacity(raws.len());
        for (index, raw) in raws {
            match raw.decode() {
                Ok(kept) => {
                    records.push(kept);
                    members.push(index);
                }
                Err(error) => {
                    failure.get_or_insert(error);
                }
            }
        }
        let refs: Vec<&Record> = records.iter().map(|k| &k.record).collect();
        let group = Group {
            pack: job.pack,
            rule: job.rule,
            patient: &job.patient,
            members: &members,
            records: &refs,
        };
        let mut results = Vec::new();
        match job.month {
            Some(month) => {
                let month = format!("{:04}-{:02}", month / 100, month % 100);
                if let Some(result) = self.evaluate(&group, &month) {
                    results.push((result, records));
                }
            }
            // Each record without a month is undecided on its own.
            None => {
                for (position, kept) in records.iter().enumerate() {
                    let result = self.undecided(&group, position);
                    results.push((result, vec![kept.clone()]));
                }
            }
        }
        EvaluatedGroup { results, failure }
    }

    fn evaluate(&self, group: &Group<'_>, month: &str) -> Option<PatientMonthResult> {
        let rules = self.rules;
        let pack = rules.packs.get(group.pack)?;
        let rule = pack.rules.get(group.rule)?;
        let values: Vec<&Value> = group.records.iter().map(|r| &r.value).collect();
        let document = json!({ "patient_id": group.patient, "month": month, "records": values });
        let ctx = Ctx {
            root: &document,
            item: &document,
            item_pointer: "",
        };
        if let Some(when) = &rule.when {
            if eval(when, ctx, &mut Trace::new(Keep::Nothing)) != Truth::True {
                return None;
            }
        }

        let (outcome, trace) = super::evaluate_rule(rule, ctx);
        let record_ids: Vec<String> = group.records.iter().map(|r| r.id.clone()).collect();
        let mut findings = Vec::new();
        if outcome != Outcome::Pass {
            for (position, (&record, &index)) in group.records.iter().zip(group.members).enumerate()
            {
                let source = FindingSource {
                    pack,
                    rule,
                    record,
                    group: Some((month, &record_ids)),
                };
                let (misses, evidence) = located_in(position, &trace, &record_ids);
                let finding = build_finding(rules, source, outcome, misses, evidence);
                findings.push((index, finding));
            }
        }
        Some(PatientMonthResult {
            pack: pack.id.clone(),
            version: pack.version.clone(),
            patient_id: group.patient.to_string(),
            month: Some(month.to_string()),
            members: group.members.to_vec(),
            rule: RuleResult {
                code: rule.code.clone(),
                outcome,
                evidence: trace.evidence,
                misses: trace.misses,
            },
            findings,
        })
    }

    fn undecided(&self, group: &Group<'_>, position: usize) -> PatientMonthResult {
        let rules = self.rules;
        let pack = &rules.packs[group.pack];
        let rule = &pack.rules[group.rule];
        let record = group.records[position];
        let index = group.members[position];
        let miss = Miss {
            pointer: "/encounter/date_of_service".to_string(),
            expected: "a date of service in a single calendar month, to group the patient's records by month"
                .to_string(),
            found: Some("not precise enough to decide".to_string()),
        };
        let record_ids = [record.id.clone()];
        // The month cannot be named, so templates see the date as written.
        let source = FindingSource {
            pack,
            rule,
            record,
            group: Some((record.date_of_service().unwrap_or_default(), &record_ids)),
        };
        let finding = build_finding(
            rules,
            source,
            Outcome::Undecided,
            vec![miss.clone()],
            Vec::new(),
        );
        PatientMonthResult {
            pack: pack.id.clone(),
            version: pack.version.clone(),
            patient_id: group.patient.to_string(),
            month: None,
            members: vec![index],
            rule: RuleResult {
                code: rule.code.clone(),
                outcome: Outcome::Undecided,
                evidence: Vec::new(),
                misses: vec![miss],
            },
            findings: vec![(index, finding)],
        }
    }
}

/// One patient-month group being evaluated.
struct Group<'a> {
    pack: usize,
    rule: usize,
    patient: &'a str,
    /// Indexes of the group's records, as reported in results.
    members: &'a [usize],
    records: &'a [&'a Record],
}

/// Returns the `YYYYMM` of a date of service, when all of it lies in one
/// month.
fn month_of(date_of_service: &str) -> Option<u32> {
    let (first, last) = Temporal::parse(date_of_service)?.days();
    if (first.year(), first.month()) != (last.year(), last.month()) {
        return None;
    }
    let year = u32::try_from(first.year()).ok()?;
    let month = u32::try_from(first.month()).ok()?;
    Some(year * 100 + month)
}

/// Returns the misses and evidence of a group's trace that concern its
/// record at `position`, with pointers relocated into that record. When no
/// miss lies inside the record, the other misses are returned with an empty
/// pointer, which locates them at the record itself: those about the group
/// as a whole (such as a count over all records) as they are, and those in
/// another record naming it by its id from `record_ids`.
fn located_in(position: usize, trace: &Trace, record_ids: &[String]) -> (Vec<Miss>, Vec<Evidence>) {
    let prefix = format!("/records/{position}");
    let relocate = |pointer: &str| -> Option<String> {
        let rest = pointer.strip_prefix(&prefix)?;
        (rest.is_empty() || rest.starts_with('/')).then(|| rest.to_string())
    };

    let mut own = Vec::new();
    let mut elsewhere = Vec::new();
    for miss in &trace.misses {
        if let Some(pointer) = relocate(&miss.pointer) {
            own.push(Miss {
                pointer,
                ..miss.clone()
            });
            continue;
        }
        let found = match other_record(&miss.pointer).and_then(|index| record_ids.get(index)) {
            Some(id) => Some(format!(
                "in record {id}: {}",
                miss.found.as_deref().unwrap_or("found")
            )),
            None => miss.found.clone(),
        };
        elsewhere.push(Miss {
            pointer: String::new(),
            expected: miss.expected.clone(),
            found,
        });
    }
    let misses = if own.is_empty() { elsewhere } else { own };

    let evidence = trace
        .evidence
        .iter()
        .filter_map(|item| {
            relocate(&item.pointer).map(|pointer| Evidence {
                pointer,
                ..item.clone()
            })
        })
        .collect();
    (misses, evidence)
}

/// Returns N for a pointer `/records/N/...` into a group document.
fn other_record(pointer: &str) -> Option<usize> {
    let rest = pointer.strip_prefix("/records/")?;
    rest.split('/').next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_of_dates() {
        assert_eq!(month_of("2026-03-31"), Some(202603));
        assert_eq!(month_of("2026-03"), Some(202603));
        assert_eq!(month_of("2026-03-31T23:30:00-05:00"), Some(202603));
        assert_eq!(month_of("2026"), None);
    }

    #[test]
    fn misses_are_relocated_to_their_record() {
        let mut trace = Trace::new(Keep::Everything);
        trace.misses = vec![
            Miss {
                pointer: "/records/0/service_lines/0".to_string(),
                expected: "x".to_string(),
                found: None,
            },
            Miss {
                pointer: "/records/1/service_lines/2".to_string(),
                expected: "x".to_string(),
                found: None,
            },
        ];
        let ids = ids(11);
        let (misses, _) = located_in(1, &trace, &ids);
        let pointers: Vec<&str> = misses.iter().map(|m| m.pointer.as_str()).collect();
        assert_eq!(pointers, ["/service_lines/2"]);
        let (misses, _) = located_in(10, &trace, &ids);
        let found: Vec<Option<&str>> = misses.iter().map(|m| m.found.as_deref()).collect();
        assert_eq!(
            found,
            [Some("in record E0: found"), Some("in record E1: found")],
            "/records/1 is not /records/10's prefix"
        );
        assert!(misses.iter().all(|m| m.pointer.is_empty()));
    }

    #[test]
    fn kept_records_hold_only_what_the_rules_read() {
        let rules = RuleSet::shipped().unwrap();
        let plan = MonthPlan::new(&rules);
        assert_eq!(
            plan.keep.as_deref(),
            Some(&["service_lines".to_string()][..])
        );
        let record = Record {
            id: "E1".to_string(),
            value: json!({
                "patient": {"id": "P1", "name": {"family": "Doe"}},
                "encounter": {"id": "E1", "date_of_service": "2026-03-02", "type": "x"},
                "service_lines": [{"code": "99490"}],
                "notes": [{"text": "long note"}],
                "claim": {"id": "C1", "payer": {"name": "Acme"}, "total": 10}
            }),
            format: SourceFormat::Canonical,
            origin: Origin::new(Arc::from("a.ndjson"), Some(3), ""),
            provenance: Vec::new(),
        };
        let joined = plan.join(&record).expect("a CCM record joins");
        assert_eq!(
            joined.record.value,
            json!({
                "patient": {"id": "P1"},
                "encounter": {"id": "E1", "date_of_service": "2026-03-02"},
                "service_lines": [{"code": "99490"}],
                "claim": {"id": "C1", "payer": {"name": "Acme"}}
            })
        );
    }

    #[test]
    fn paths_that_reach_any_member_keep_whole_records() {
        let keep = |paths: &[&str]| {
            let paths: Vec<(Scope, &str)> = paths.iter().map(|p| (Scope::Record, *p)).collect();
            members_read(&paths)
        };
        assert_eq!(
            keep(&["$.month", "$.records[*].a[*]"]),
            Some(vec!["a".to_string()])
        );
        assert_eq!(keep(&["$..code"]), None);
        assert_eq!(keep(&["$.records[*]"]), None);
        assert_eq!(keep(&["$[*]"]), None);
        assert_eq!(
            keep(&["$.records[0]['a','b']"]),
            Some(vec!["a".to_string(), "b".to_string()])
        );
    }

    #[test]
    fn stored_records_read_back_whole() {
        let rules = RuleSet::shipped().unwrap();
        let mut months = PatientMonths::new(&rules);
        months.spill = Spill::new(0);
        for i in 0..3 {
            let record = Record {
                id: format!("E{i}"),
                value: json!({
                    "patient": {"id": "P1"},
                    "encounter": {"id": format!("E{i}"), "date_of_service": "2026-03-02"},
                    "service_lines": [{"code": "99490", "units": serde_json::from_str::<Value>("1.50").unwrap()}]
                }),
                format: SourceFormat::Canonical,
                origin: Origin::new(Arc::from("a.ndjson"), Some(i + 1), ""),
                provenance: Vec::new(),
            };
            let mut joined = months.plan().join(&record).unwrap();
            joined.source_offset = Some(100 * i as u64);
            months.push(joined);
        }
        let mut seen = Vec::new();
        let failure = months.finish_each(|result, records| {
            for kept in records {
                seen.push((
                    result.rule.code.clone(),
                    kept.record.id.clone(),
                    kept.record.origin.line,
                    kept.source_offset,
                    kept.record.value["service_lines"][0]["units"].to_string(),
                ));
            }
        });
        assert_eq!(failure, None);
        assert!(
            seen.contains(&(
                "CMS-CCM-012".to_string(),
                "E2".to_string(),
                Some(3),
                Some(200),
                "1.50".to_string()
            )),
            "{seen:?}"
        );
    }

    fn ids(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("E{i}")).collect()
    }

    #[test]
    fn group_misses_point_at_the_record() {
        let mut trace = Trace::new(Keep::Everything);
        trace.misses = vec![Miss {
            pointer: "/records".to_string(),
            expected: "x".to_string(),
            found: None,
        }];
        let (misses, _) = located_in(0, &trace, &ids(1));
        assert_eq!(misses[0].pointer, "");
        assert_eq!(misses[0].found, None);
    }
}
