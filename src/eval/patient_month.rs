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

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::condition::{eval, Ctx, Keep, Trace};
use super::dates::Temporal;
use super::{build_finding, within_effective_dates, FindingSource, RuleResult, Truth};
use crate::finding::{Evidence, Finding, Miss, Outcome};
use crate::record::Record;
use crate::rules::{Pack, RuleScope, RuleSet};

/// Collects records for patient-month rules and evaluates them at the end.
pub struct PatientMonths<'r> {
    rules: &'r RuleSet,
    /// Indexes of the packs whose patient-month rules are evaluated.
    packs: Vec<usize>,
    records: Vec<Record>,
    members: Vec<Membership>,
}

/// One kept record joining one rule's group.
struct Membership {
    pack: usize,
    rule: usize,
    record: usize,
    patient: String,
    /// `YYYY-MM`, or `None` when the date of service has no single month.
    month: Option<String>,
}

/// The records kept and the result of every group.
#[derive(Debug)]
pub struct PatientMonthReport {
    /// The records that joined some group, in the order they were added.
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
    /// Indexes into [`PatientMonthReport::records`] of the group's records.
    pub members: Vec<usize>,
    /// The outcome, with evidence and misses located in the group document
    /// (`/records/N/...`).
    pub rule: RuleResult,
    /// One finding per record of a failing group, located in that record:
    /// the record's index and the finding.
    pub findings: Vec<(usize, Finding)>,
}

impl<'r> PatientMonths<'r> {
    /// Collects for the patient-month rules of every pack in `rules`.
    pub fn new(rules: &'r RuleSet) -> PatientMonths<'r> {
        let packs = (0..rules.packs.len()).collect();
        PatientMonths::with_packs(rules, packs)
    }

    /// Collects for the patient-month rules of `pack` only.
    pub fn for_pack(rules: &'r RuleSet, pack: &Pack) -> PatientMonths<'r> {
        let packs = rules
            .packs
            .iter()
            .position(|p| p.id == pack.id && p.version == pack.version)
            .into_iter()
            .collect();
        PatientMonths::with_packs(rules, packs)
    }

    fn with_packs(rules: &'r RuleSet, packs: Vec<usize>) -> PatientMonths<'r> {
        let packs = packs
            .into_iter()
            .filter(|&index| {
                rules.packs[index]
                    .rules
                    .iter()
                    .any(|rule| rule.scope == RuleScope::PatientMonth)
            })
            .collect();
        PatientMonths {
            rules,
            packs,
            records: Vec::new(),
            members: Vec::new(),
        }
    }

    /// Offers a record; returns whether it was kept for some group.
    pub fn add(&mut self, record: &Record) -> bool {
        // NOTE: a record without a patient id cannot be grouped; the record
        // schema requires one, so only a faulty mapping can produce it.
        let patient = record.value.get("patient").and_then(|p| p.get("id"));
        let Some(patient) = patient.and_then(Value::as_str) else {
            return false;
        };
        let month = record.date_of_service().and_then(month_of);
        let ctx = Ctx {
            root: &record.value,
            item: &record.value,
            item_pointer: "",
        };

        let mut kept_index: Option<usize> = None;
        for &pack_index in &self.packs {
            let pack = &self.rules.packs[pack_index];
            if !within_effective_dates(pack, record) {
                continue;
            }
            for (rule_index, rule) in pack.rules.iter().enumerate() {
                if rule.scope != RuleScope::PatientMonth {
                    continue;
                }
                let condition = rule.members.as_ref().or(pack.applies_when.as_ref());
                let joins = condition
                    .is_none_or(|c| eval(c, ctx, &mut Trace::new(Keep::Nothing)) == Truth::True);
                if !joins {
                    continue;
                }
                let index = *kept_index.get_or_insert_with(|| {
                    self.records.push(record.clone());
                    self.records.len() - 1
                });
                self.members.push(Membership {
                    pack: pack_index,
                    rule: rule_index,
                    record: index,
                    patient: patient.to_string(),
                    month: month.clone(),
                });
            }
        }
        kept_index.is_some()
    }

    /// Evaluates every group, in pack, rule, patient and month order.
    pub fn finish(self) -> PatientMonthReport {
        let mut groups: BTreeMap<(usize, usize, &str, Option<&str>), Vec<usize>> = BTreeMap::new();
        for member in &self.members {
            groups
                .entry((
                    member.pack,
                    member.rule,
                    &member.patient,
                    member.month.as_deref(),
                ))
                .or_default()
                .push(member.record);
        }

        let mut results = Vec::new();
        for ((pack_index, rule_index, patient, month), members) in groups {
            match month {
                Some(month) => {
                    if let Some(result) =
                        self.evaluate(pack_index, rule_index, patient, month, members)
                    {
                        results.push(result);
                    }
                }
                // Each record without a month is undecided on its own.
                None => results.extend(
                    members
                        .into_iter()
                        .map(|record| self.undecided(pack_index, rule_index, patient, record)),
                ),
            }
        }
        PatientMonthReport {
            records: self.records,
            results,
        }
    }

    fn evaluate(
        &self,
        pack_index: usize,
        rule_index: usize,
        patient: &str,
        month: &str,
        members: Vec<usize>,
    ) -> Option<PatientMonthResult> {
        let pack = &self.rules.packs[pack_index];
        let rule = &pack.rules[rule_index];
        let values: Vec<&Value> = members.iter().map(|&i| &self.records[i].value).collect();
        let group = json!({ "patient_id": patient, "month": month, "records": values });
        let ctx = Ctx {
            root: &group,
            item: &group,
            item_pointer: "",
        };
        if let Some(when) = &rule.when {
            if eval(when, ctx, &mut Trace::new(Keep::Nothing)) != Truth::True {
                return None;
            }
        }

        let (outcome, trace) = super::evaluate_rule(rule, ctx);
        let record_ids: Vec<String> = members
            .iter()
            .map(|&i| self.records[i].id.clone())
            .collect();
        let mut findings = Vec::new();
        if outcome != Outcome::Pass {
            for (position, &record_index) in members.iter().enumerate() {
                let source = FindingSource {
                    pack,
                    rule,
                    record: &self.records[record_index],
                    group: Some((month, &record_ids)),
                };
                let (misses, evidence) = located_in(position, &trace, &record_ids);
                let finding = build_finding(self.rules, source, outcome, misses, evidence);
                findings.push((record_index, finding));
            }
        }
        Some(PatientMonthResult {
            pack: pack.id.clone(),
            version: pack.version.clone(),
            patient_id: patient.to_string(),
            month: Some(month.to_string()),
            members,
            rule: RuleResult {
                code: rule.code.clone(),
                outcome,
                evidence: trace.evidence,
                misses: trace.misses,
            },
            findings,
        })
    }

    fn undecided(
        &self,
        pack_index: usize,
        rule_index: usize,
        patient: &str,
        record_index: usize,
    ) -> PatientMonthResult {
        let pack = &self.rules.packs[pack_index];
        let rule = &pack.rules[rule_index];
        let record = &self.records[record_index];
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
            self.rules,
            source,
            Outcome::Undecided,
            vec![miss.clone()],
            Vec::new(),
        );
        PatientMonthResult {
            pack: pack.id.clone(),
            version: pack.version.clone(),
            patient_id: patient.to_string(),
            month: None,
            members: vec![record_index],
            rule: RuleResult {
                code: rule.code.clone(),
                outcome: Outcome::Undecided,
                evidence: Vec::new(),
                misses: vec![miss],
            },
            findings: vec![(record_index, finding)],
        }
    }
}

/// Returns the `YYYY-MM` of a date of service, when all of it lies in one
/// month.
fn month_of(date_of_service: &str) -> Option<String> {
    let (first, last) = Temporal::parse(date_of_service)?.days();
    if (first.year(), first.month()) != (last.year(), last.month()) {
        return None;
    }
    Some(format!("{:04}-{:02}", first.year(), first.month()))
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
        assert_eq!(month_of("2026-03-31"), Some("2026-03".to_string()));
        assert_eq!(month_of("2026-03"), Some("2026-03".to_string()));
        assert_eq!(
            month_of("2026-03-31T23:30:00-05:00"),
            Some("2026-03".to_string())
        );
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
