//! Audit-trail events from AuditEvent, Communication and Procedure
//! resources, and the portal object derived from them.
//!
//! A resource is an event when one of its codes is listed under `events` in
//! the FHIR mapping. A Procedure filed as patient education is portal
//! education when its text names the portal. Portal education from a
//! Procedure becomes an audit event, not a note: it is structured data,
//! not the signed progress note the portal-education rule requires, and
//! presenting it as one would overstate the evidence.
//!
//! Only evidence of something done is mapped: a Communication must be
//! `completed`, a Procedure `completed`, an AuditEvent must have succeeded
//! (outcome `0`). A matching resource that fails this is reported.

use serde_json::{Map, Value};

use super::people::actor;
use super::record::{RecordBuilder, Source};
use super::Ctx;
use crate::fhir::index::{describe_reference, Res};
use crate::fhir::values::{
    codings, codings_at, contact_point, date_time_or_period_start, items, text,
};

/// One audit-trail event with the resource it came from.
#[derive(Debug, Clone)]
pub(crate) struct Event {
    pub value: Map<String, Value>,
    pub source: Source,
}

impl Event {
    fn event_type(&self) -> Option<&str> {
        self.value.get("type").and_then(Value::as_str)
    }

    fn timestamp(&self) -> Option<&str> {
        self.value.get("timestamp").and_then(Value::as_str)
    }

    fn actor(&self) -> Option<&str> {
        self.value.get("actor").and_then(Value::as_str)
    }
}

/// Reads the audit-trail event an AuditEvent, Communication or Procedure
/// records, if it records one.
pub(crate) fn read_event(
    ctx: &Ctx<'_>,
    resource: Res<'_>,
    builder: &mut RecordBuilder,
) -> Option<Event> {
    match resource.resource_type() {
        "AuditEvent" => audit_event(ctx, resource, builder),
        "Communication" => communication(ctx, resource, builder),
        "Procedure" => procedure(ctx, resource, builder),
        _ => None,
    }
}

fn audit_event(ctx: &Ctx<'_>, event: Res<'_>, builder: &mut RecordBuilder) -> Option<Event> {
    let type_codings = event
        .value
        .get("type")
        .map(codings)
        .unwrap_or_default()
        .into_iter()
        .chain(items(event.value, "subtype").flat_map(codings));
    let event_type = type_codings
        .into_iter()
        .find_map(|c| ctx.mapping.event_type(c.system, c.code))?
        .to_string();

    if let Some(outcome) = text(event.value, "outcome").filter(|o| *o != "0") {
        skip(
            ctx,
            event,
            builder,
            &event_type,
            &format!("records a failed action (outcome {outcome})"),
        );
        return None;
    }

    let mut value = Map::new();
    value.insert("type".to_string(), Value::String(event_type));
    if let Some(recorded) = text(event.value, "recorded") {
        value.insert("timestamp".to_string(), Value::String(recorded.to_string()));
    }
    let agents: Vec<&Value> = items(event.value, "agent").collect();
    let agent = agents
        .iter()
        .find(|a| a.get("requestor").and_then(Value::as_bool) == Some(true))
        .or_else(|| agents.first());
    if let Some(agent) = agent {
        let name = agent
            .get("who")
            .and_then(|who| actor(ctx, event, who).name)
            .or_else(|| text(agent, "name").map(str::to_string));
        if let Some(name) = name {
            value.insert("actor".to_string(), Value::String(name));
        }
    }

    // The channel and recipient: entity details named `channel` and
    // `recipient` first, then the Communication an entity names.
    for detail in items(event.value, "entity").flat_map(|entity| items(entity, "detail")) {
        let key = match text(detail, "type") {
            Some("channel") => "channel",
            Some("recipient") => "recipient",
            _ => continue,
        };
        if let Some(detail_value) = text(detail, "valueString") {
            value
                .entry(key)
                .or_insert_with(|| Value::String(detail_value.to_string()));
        }
    }
    let communication = items(event.value, "entity")
        .filter_map(|entity| entity.get("what"))
        .filter_map(|what| ctx.index.resolve(event, what))
        .find(|target| target.is("Communication"));
    if let Some(communication) = communication {
        let (channel, recipient) = channel_and_recipient(ctx, communication, builder);
        if let Some(channel) = channel {
            value.entry("channel").or_insert(Value::String(channel));
        }
        if let Some(recipient) = recipient {
            value.entry("recipient").or_insert(Value::String(recipient));
        }
    }
    Some(finish(ctx, event, value))
}

fn communication(ctx: &Ctx<'_>, message: Res<'_>, builder: &mut RecordBuilder) -> Option<Event> {
    let event_type = ["category", "reasonCode", "topic"]
        .iter()
        .flat_map(|key| codings_at(message.value, key))
        .find_map(|c| ctx.mapping.event_type(c.system, c.code))?
        .to_string();
    let status = text(message.value, "status").unwrap_or("unknown");
    if status != "completed" {
        skip(
            ctx,
            message,
            builder,
            &event_type,
            &format!("has status {status}, not completed"),
        );
        return None;
    }

    let mut value = Map::new();
    value.insert("type".to_string(), Value::String(event_type));
    if let Some(sent) = text(message.value, "sent") {
        value.insert("timestamp".to_string(), Value::String(sent.to_string()));
    }
    if let Some(name) = message
        .value
        .get("sender")
        .and_then(|s| actor(ctx, message, s).name)
    {
        value.insert("actor".to_string(), Value::String(name));
    }
    let (channel, recipient) = channel_and_recipient(ctx, message, builder);
    if let Some(channel) = channel {
        value.insert("channel".to_string(), Value::String(channel));
    }
    if let Some(recipient) = recipient {
        value.insert("recipient".to_string(), Value::String(recipient));
    }
    Some(finish(ctx, message, value))
}

fn procedure(ctx: &Ctx<'_>, procedure: Res<'_>, builder: &mut RecordBuilder) -> Option<Event> {
    let code_codings = codings_at(procedure.value, "code");
    let event_type = code_codings
        .iter()
        .find_map(|c| ctx.mapping.event_type(c.system, c.code))
        .map(str::to_string)
        .or_else(|| {
            portal_education(ctx, procedure.value)
                .then(|| ctx.mapping.patient_education.event_type.clone())
        })?;
    let status = text(procedure.value, "status").unwrap_or("unknown");
    if status != "completed" {
        skip(
            ctx,
            procedure,
            builder,
            &event_type,
            &format!("has status {status}, not completed"),
        );
        return None;
    }

    let mut value = Map::new();
    value.insert("type".to_string(), Value::String(event_type));
    if let Some(performed) = date_time_or_period_start(procedure.value, "performed") {
        value.insert(
            "timestamp".to_string(),
            Value::String(performed.to_string()),
        );
    }
    let performer = items(procedure.value, "performer").find_map(|p| p.get("actor"));
    if let Some(name) = performer.and_then(|a| actor(ctx, procedure, a).name) {
        value.insert("actor".to_string(), Value::String(name));
    }
    Some(finish(ctx, procedure, value))
}

/// True for a Procedure in a patient-education category whose code text,
/// code displays or notes match the mapping's portal pattern.
fn portal_education(ctx: &Ctx<'_>, procedure: &Value) -> bool {
    let education = &ctx.mapping.patient_education;
    let in_category = codings_at(procedure, "category").iter().any(|c| {
        education
            .categories
            .iter()
            .any(|m| m.matches(c.system, c.code))
    });
    if !in_category {
        return false;
    }
    let code = procedure.get("code");
    let texts = code
        .and_then(|c| text(c, "text"))
        .into_iter()
        .chain(
            code.map(codings)
                .unwrap_or_default()
                .into_iter()
                .filter_map(|c| c.display),
        )
        .chain(items(procedure, "note").filter_map(|n| text(n, "text")));
    texts.into_iter().any(|t| education.portal_text.is_match(t))
}

/// Returns the channel (from `medium`) and recipient address of a
/// Communication.
///
/// The recipient is the first recipient that is a Patient or RelatedPerson
/// (else the first). Its address is a `mailto:` identifier on the
/// reference, else the email (for channel email) or phone (for sms) of the
/// resolved resource, contained ones included. For other channels, and
/// when no address is found, it is the recipient's `Type/id`.
fn channel_and_recipient(
    ctx: &Ctx<'_>,
    message: Res<'_>,
    builder: &mut RecordBuilder,
) -> (Option<String>, Option<String>) {
    let channel = items(message.value, "medium")
        .flat_map(codings)
        .find_map(|c| {
            ctx.mapping
                .channels
                .iter()
                .find(|m| m.code.matches(c.system, c.code))
                .map(|m| m.channel.clone())
        });

    let recipients: Vec<&Value> = items(message.value, "recipient").collect();
    let resolved: Vec<(&Value, Option<Res<'_>>)> = recipients
        .iter()
        .map(|r| (*r, ctx.index.resolve(message, r)))
        .collect();
    let chosen = resolved
        .iter()
        .find(|(_, target)| target.is_some_and(|t| t.is("Patient") || t.is("RelatedPerson")))
        .or_else(|| resolved.first())
        .copied();
    let Some((reference, target)) = chosen else {
        return (channel, None);
    };

    let mailto = reference
        .get("identifier")
        .and_then(|i| text(i, "value"))
        .and_then(|v| v.strip_prefix("mailto:"))
        .map(str::to_string);
    if mailto.is_some() {
        return (channel, mailto);
    }
    let telecom_system = match channel.as_deref() {
        Some("email") => Some("email"),
        Some("sms") => Some("phone"),
        _ => None,
    };
    let address = match (target, telecom_system) {
        (Some(target), Some(system)) => {
            contact_point(target.value, system).map(|c| c.value.to_string())
        }
        _ => None,
    };
    if let (None, Some(target), Some(system)) = (&address, target, telecom_system) {
        builder.warn(
            ctx.index.origin(message),
            format!(
                "record {}: the recipient {} of {} has no {system} contact point, so the address the message went to is unknown",
                builder.id,
                ctx.index.key(target),
                ctx.index.key(message),
            ),
            "record the address the message was sent to on the recipient's telecom",
        );
    }
    if address.is_none() && target.is_none() && telecom_system.is_some() {
        builder.warn(
            ctx.index.origin(message),
            format!(
                "record {}: the recipient {} of {} is not in this export, so the {} address it went to is unknown",
                builder.id,
                describe_reference(reference),
                ctx.index.key(message),
                channel.as_deref().unwrap_or_default()
            ),
            "include the recipient (usually the Patient) in the export, or contain it in the Communication",
        );
    }
    let recipient = address
        .or_else(|| target.map(|t| ctx.index.key(t)))
        .or_else(|| text(reference, "reference").map(str::to_string));
    (channel, recipient)
}

fn finish(ctx: &Ctx<'_>, resource: Res<'_>, mut value: Map<String, Value>) -> Event {
    let source = ctx.source(resource);
    let mut ordered = Map::new();
    ordered.insert("id".to_string(), Value::String(source.key.clone()));
    for key in ["type", "timestamp", "actor", "channel", "recipient"] {
        if let Some(field) = value.remove(key) {
            ordered.insert(key.to_string(), field);
        }
    }
    Event {
        value: ordered,
        source,
    }
}

fn skip(
    ctx: &Ctx<'_>,
    resource: Res<'_>,
    builder: &mut RecordBuilder,
    event_type: &str,
    why: &str,
) {
    builder.warn(
        ctx.index.origin(resource),
        format!(
            "record {}: {} would be a {event_type} event but {why}, so it is not evidence",
            builder.id,
            ctx.index.key(resource)
        ),
        "if the action did take place, correct the resource's status in the source system",
    );
}

/// Derives the record's portal object from the portal events: offered at
/// the first offer, declined or enrolled by the latest decline or
/// enrollment. Returns the object and the sources of its parts.
pub(crate) fn portal(events: &[Event]) -> Option<(Value, Vec<(String, Source)>)> {
    let mut by_time: Vec<&Event> = events.iter().collect();
    // Events without a timestamp sort last; ties keep input order.
    by_time.sort_by(|a, b| match (a.timestamp(), b.timestamp()) {
        (Some(x), Some(y)) => x.cmp(y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
    let offer = by_time
        .iter()
        .find(|e| e.event_type() == Some("portal.offered"));
    let last_answer = by_time
        .iter()
        .rev()
        .find(|e| matches!(e.event_type(), Some("portal.declined" | "portal.enrolled")));
    if offer.is_none() && last_answer.is_none() {
        return None;
    }

    let mut portal = Map::new();
    let mut sources = Vec::new();
    let status = match last_answer.and_then(|e| e.event_type()) {
        Some("portal.declined") => "declined",
        Some("portal.enrolled") => "enrolled",
        _ => "offered",
    };
    portal.insert("status".to_string(), Value::String(status.to_string()));
    if let Some(offer) = offer {
        sources.push(("/portal".to_string(), offer.source.clone()));
        if let Some(timestamp) = offer.timestamp() {
            portal.insert(
                "offered_at".to_string(),
                Value::String(timestamp.to_string()),
            );
        }
        if let Some(actor) = offer.actor() {
            portal.insert("offered_by".to_string(), Value::String(actor.to_string()));
        }
    }
    if let Some(answer) = last_answer {
        let pointer = if offer.is_some() {
            "/portal/status"
        } else {
            "/portal"
        };
        sources.push((pointer.to_string(), answer.source.clone()));
        if answer.event_type() == Some("portal.declined") {
            if let Some(timestamp) = answer.timestamp() {
                portal.insert(
                    "declined_at".to_string(),
                    Value::String(timestamp.to_string()),
                );
                sources.push(("/portal/declined_at".to_string(), answer.source.clone()));
            }
            if let Some(actor) = answer.actor() {
                portal.insert(
                    "decline_documented_by".to_string(),
                    Value::String(actor.to_string()),
                );
                sources.push((
                    "/portal/decline_documented_by".to_string(),
                    answer.source.clone(),
                ));
            }
        }
    }
    Some((Value::Object(portal), sources))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::*;
    use crate::record::Origin;

    fn event(event_type: &str, timestamp: &str, actor: &str) -> Event {
        let mut value = Map::new();
        value.insert("type".to_string(), json!(event_type));
        value.insert("timestamp".to_string(), json!(timestamp));
        value.insert("actor".to_string(), json!(actor));
        Event {
            value,
            source: Source {
                key: format!("AuditEvent/{event_type}"),
                origin: Origin::new(Arc::from("a.json"), None, ""),
            },
        }
    }

    #[test]
    fn portal_offer_then_decline() {
        let events = [
            event("portal.declined", "2024-03-04T10:30:00Z", "RN Lee"),
            event("portal.offered", "2024-03-04T10:00:00Z", "MA Kim"),
        ];
        let (portal, sources) = portal(&events).unwrap();
        assert_eq!(
            portal,
            json!({"status": "declined", "offered_at": "2024-03-04T10:00:00Z", "offered_by": "MA Kim",
                   "declined_at": "2024-03-04T10:30:00Z", "decline_documented_by": "RN Lee"})
        );
        assert_eq!(sources[0].0, "/portal");
        assert_eq!(sources[0].1.key, "AuditEvent/portal.offered");
        assert_eq!(sources[1].0, "/portal/status");
        assert_eq!(sources[1].1.key, "AuditEvent/portal.declined");
    }

    #[test]
    fn no_portal_events_means_no_portal() {
        assert!(portal(&[event("portal.invitation.sent", "2024-03-04", "x")]).is_none());
    }
}
