//! The care-management time log, from Procedures.
//!
//! FHIR R4 has no time-log resource. A Procedure that names the encounter
//! and carries one of the mapping's `time_log` codes records time spent:
//! its minutes are the length of its `performedPeriod` and its staff member
//! is its first performer.

use jiff::civil::DateTime;
use jiff::Timestamp;
use serde_json::{Map, Value};

use super::claim::date_value;
use super::people::actor;
use super::record::RecordBuilder;
use super::Ctx;
use crate::fhir::index::Res;
use crate::fhir::values::{codings_at, concept_label, items, text};

/// Adds a time-log entry for each completed care-management Procedure.
pub(crate) fn map_time_log(ctx: &Ctx<'_>, procedures: &[Res<'_>], builder: &mut RecordBuilder) {
    for procedure in procedures {
        let is_time = codings_at(procedure.value, "code").iter().any(|c| {
            ctx.mapping
                .time_log_codes
                .iter()
                .any(|m| m.matches(c.system, c.code))
        });
        if !is_time || text(procedure.value, "status") != Some("completed") {
            continue;
        }
        let period = procedure.value.get("performedPeriod");
        let start = period.and_then(|p| text(p, "start"));
        let end = period.and_then(|p| text(p, "end"));
        let Some(minutes) = start
            .zip(end)
            .and_then(|(start, end)| minutes_between(start, end))
        else {
            builder.warn(
                ctx.index.origin(*procedure),
                format!(
                    "record {}: {} is care-management time but has no performedPeriod with a start and an end in order, so its minutes are unknown and it was left out",
                    builder.id,
                    ctx.index.key(*procedure)
                ),
                "record the Procedure's performedPeriod start and end as date-times",
            );
            continue;
        };

        let mut entry = Map::new();
        entry.insert("id".to_string(), Value::String(ctx.index.key(*procedure)));
        if let Some(start) = start {
            entry.insert("date".to_string(), date_value(start));
        }
        entry.insert("minutes".to_string(), Value::from(minutes));
        let performer = items(procedure.value, "performer")
            .find_map(|p| p.get("actor"))
            .map(|reference| actor(ctx, *procedure, reference))
            .unwrap_or_default();
        if let Some(name) = performer.name {
            entry.insert("staff_name".to_string(), Value::String(name));
        }
        if let Some(role) = performer.role {
            entry.insert("staff_role".to_string(), Value::String(role));
        }
        if let Some(activity) = procedure.value.get("code").and_then(concept_label) {
            entry.insert("activity".to_string(), Value::String(activity));
        }
        builder.push("time_log", Value::Object(entry), &ctx.source(*procedure));
    }
}

/// Returns the whole minutes from `start` to `end`: both date-times with an
/// offset, or both without. `None` for dates without a time, mixed forms or
/// an end before the start.
fn minutes_between(start: &str, end: &str) -> Option<i64> {
    let seconds = match (start.parse::<Timestamp>(), end.parse::<Timestamp>()) {
        (Ok(start), Ok(end)) => end.as_second() - start.as_second(),
        _ => {
            let start: DateTime = start.parse().ok()?;
            let end: DateTime = end.parse().ok()?;
            let span = start.until(end).ok()?;
            span.total(jiff::Unit::Second).ok()? as i64
        }
    };
    (seconds >= 0).then_some(seconds / 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minutes_between_date_times() {
        assert_eq!(
            minutes_between("2024-03-12T09:00:00-04:00", "2024-03-12T09:24:30-04:00"),
            Some(24)
        );
        assert_eq!(
            minutes_between("2024-03-12T13:00:00Z", "2024-03-12T09:20:00-04:00"),
            Some(20)
        );
        assert_eq!(
            minutes_between("2024-03-12T09:00:00", "2024-03-12T09:45:00"),
            Some(45)
        );
    }

    #[test]
    fn minutes_between_rejects_dates_and_reversed_periods() {
        assert_eq!(minutes_between("2024-03-12", "2024-03-13"), None);
        assert_eq!(
            minutes_between("2024-03-12T10:00:00Z", "2024-03-12T09:00:00Z"),
            None
        );
        assert_eq!(
            minutes_between("2024-03-12T09:00:00Z", "2024-03-12T09:30:00"),
            None
        );
    }
}
