//! Claims, their service lines, payers and payer decisions.
//!
//! The claim of a record is a Claim that names the encounter, or, when the
//! export has no such Claim, an ExplanationOfBenefit that does. Its status
//! and denial come from the ExplanationOfBenefit and ClaimResponse
//! resources about it: adjudication reasons coded as CARCs in a denial or
//! rejection category, CARCs in an adjustment category on something the
//! payer paid nothing for, or an explicit payment status code. The
//! `outcome` element only says whether processing finished, so it never
//! makes a claim denied.

use serde_json::{Map, Value};

use super::people::{actor, member_id};
use super::record::{RecordBuilder, Source};
use super::Ctx;
use crate::fhir::index::{reference_id, Res};
use crate::fhir::mapping::{CodeMatch, FhirMapping};
use crate::fhir::values::{codings, codings_at, date_part, items, text, Coding};

/// Maps the claim of `encounter` into the record: `claim`, the service
/// lines, the billing NPI and the patient's member id. Returns the Claim
/// (or ExplanationOfBenefit) mapped, if any.
pub(crate) fn map_claim<'r>(
    ctx: &Ctx<'r>,
    encounter: Res<'r>,
    builder: &mut RecordBuilder,
) -> Option<Res<'r>> {
    let billed = choose_claim(ctx, encounter, builder)?;
    let source = ctx.source(billed);

    for item in billed_items(ctx, billed, encounter) {
        if let Some(line) = service_line(ctx, item, billed, builder) {
            builder.push("service_lines", line, &source);
        }
    }

    let adjudications = adjudications_for(ctx, billed);
    let (payer, coverage) = payer(ctx, billed, &adjudications);
    let mut claim = Map::new();
    if let Some(id) = claim_id(billed) {
        claim.insert("id".to_string(), Value::String(id));
    }
    if let Some(payer) = payer {
        claim.insert("payer".to_string(), payer);
    }
    if let Some(created) = text(billed.value, "created") {
        claim.insert(
            "submitted_at".to_string(),
            Value::String(created.to_string()),
        );
    }

    // A Claim on its own is submitted (or a draft); the latest adjudication
    // that shows a decision replaces that status.
    let mut status = match text(billed.value, "status") {
        Some("draft") => Some("draft".to_string()),
        _ if billed.is("Claim") => Some("submitted".to_string()),
        _ => None,
    };
    let decided = adjudications
        .iter()
        .rev()
        .map(|res| (*res, read_decision(res.value, ctx.mapping)))
        .find(|(_, decision)| decision.status.is_some());
    let mut decision_traces = Vec::new();
    if let Some((decider, decision)) = decided {
        status = decision.status;
        decision_traces.push(("/claim/status", ctx.source(decider)));
        if let Some(denial) = decision.denial.and_then(|d| d.to_json()) {
            claim.insert("denial".to_string(), denial);
            decision_traces.push(("/claim/denial", ctx.source(decider)));
        }
    }
    if let Some(status) = status {
        claim.insert("status".to_string(), Value::String(status));
    }
    builder.set("claim", Value::Object(claim), &source);
    for (pointer, decider) in decision_traces {
        builder.trace(pointer.to_string(), &decider);
    }

    add_billing_npi(ctx, billed, &source, builder);
    if let Some(coverage) = coverage {
        add_member_id(ctx, coverage, builder);
    }
    Some(billed)
}

/// Returns the claim's id: a Claim's first identifier, else its resource
/// id; for an EOB standing in for its Claim, the id of the Claim it names.
fn claim_id(billed: Res<'_>) -> Option<String> {
    if billed.is("Claim") {
        return items(billed.value, "identifier")
            .find_map(|i| text(i, "value"))
            .or_else(|| billed.id())
            .map(str::to_string);
    }
    billed
        .value
        .get("claim")
        .and_then(reference_id)
        .or_else(|| billed.id().map(str::to_string))
}

/// Sets `encounter.billing_npi` from the claim's `provider`.
fn add_billing_npi(
    ctx: &Ctx<'_>,
    claim: Res<'_>,
    claim_source: &Source,
    builder: &mut RecordBuilder,
) {
    let Some(provider) = claim.value.get("provider") else {
        return;
    };
    let Some(npi) = actor(ctx, claim, provider).npi else {
        return;
    };
    let source = ctx
        .index
        .resolve(claim, provider)
        .map(|target| ctx.source(target));
    if let Some(encounter) = builder.section_mut("encounter") {
        encounter.insert("billing_npi".to_string(), Value::String(npi));
        builder.trace(
            "/encounter/billing_npi".to_string(),
            source.as_ref().unwrap_or(claim_source),
        );
    }
}

/// Sets `patient.member_id` from the Coverage, unless the Patient gave one.
fn add_member_id(ctx: &Ctx<'_>, coverage: Res<'_>, builder: &mut RecordBuilder) {
    let Some(member) = text(coverage.value, "subscriberId").or_else(|| member_id(coverage.value))
    else {
        return;
    };
    let Some(patient) = builder.section_mut("patient") else {
        return;
    };
    if patient.contains_key("member_id") {
        return;
    }
    patient.insert("member_id".to_string(), Value::String(member.to_string()));
    builder.trace("/patient/member_id".to_string(), &ctx.source(coverage));
}

/// Picks the claim billed for `encounter`. Preauthorizations,
/// predeterminations and entered-in-error or cancelled claims are not
/// bills. When several remain, a claim with CPT or HCPCS lines wins, then a
/// professional claim, then an institutional one (before pharmacy, oral or
/// vision claims), then the first in input order; the others are reported.
fn choose_claim<'r>(
    ctx: &Ctx<'r>,
    encounter: Res<'r>,
    builder: &mut RecordBuilder,
) -> Option<Res<'r>> {
    let claims = ctx.links.claims.get(&encounter.top);
    let mut candidates: Vec<Res<'r>> = claims
        .into_iter()
        .flatten()
        .map(|&p| ctx.index.top(p))
        .filter(|claim| is_bill(claim.value))
        .collect();
    if candidates.is_empty() {
        candidates = ctx
            .links
            .eobs_by_encounter
            .get(&encounter.top)
            .into_iter()
            .flatten()
            .map(|&p| ctx.index.top(p))
            .filter(|eob| is_bill(eob.value))
            .collect();
    }
    let rank = |claim: &Res<'r>| {
        let has_codes = billed_items(ctx, *claim, encounter)
            .into_iter()
            .any(|item| procedure_coding(ctx.mapping, item).is_some());
        let claim_type = codings_at(claim.value, "type");
        let kind = match claim_type.iter().find_map(|c| c.code) {
            Some("professional") => 0,
            Some("institutional") => 1,
            _ => 2,
        };
        (!has_codes, kind)
    };
    candidates.sort_by_key(|c| rank(c));
    let chosen = *candidates.first()?;
    if candidates.len() > 1 {
        let others: Vec<String> = candidates[1..].iter().map(|c| ctx.index.key(*c)).collect();
        builder.warn(
            ctx.index.origin(encounter),
            format!(
                "record {}: the encounter is billed on {} claims; {} was mapped and {} left out",
                builder.id,
                candidates.len(),
                ctx.index.key(chosen),
                others.join(", ")
            ),
            "a record carries one claim; check the export for duplicate or split claims",
        );
    }
    Some(chosen)
}

/// True for a claim that bills: not a preauthorization or predetermination,
/// and not cancelled or entered-in-error.
fn is_bill(claim: &Value) -> bool {
    !matches!(
        text(claim, "use"),
        Some("preauthorization" | "predetermination")
    ) && !matches!(
        text(claim, "status"),
        Some("entered-in-error" | "cancelled")
    )
}

/// Returns the items of `claim` that belong to `encounter`: those that name it,
/// and those that name no encounter at all.
fn billed_items<'r>(ctx: &Ctx<'r>, claim: Res<'r>, encounter: Res<'r>) -> Vec<&'r Value> {
    items(claim.value, "item")
        .filter(|item| {
            let mut references = items(item, "encounter").peekable();
            if references.peek().is_none() {
                return true;
            }
            references.any(|r| {
                ctx.index
                    .resolve(claim, r)
                    .is_none_or(|target| target.same(&encounter))
            })
        })
        .collect()
}

/// Returns the CPT or HCPCS coding of a claim item.
fn procedure_coding<'v>(mapping: &FhirMapping, item: &'v Value) -> Option<Coding<'v>> {
    codings_at(item, "productOrService")
        .into_iter()
        .find(|c| mapping.code_systems.is_procedure_code(c.system) && c.code.is_some())
}

/// Builds the service line of a claim item that has a CPT or HCPCS code.
fn service_line(
    ctx: &Ctx<'_>,
    item: &Value,
    claim: Res<'_>,
    builder: &mut RecordBuilder,
) -> Option<Value> {
    let coding = procedure_coding(ctx.mapping, item)?;
    let mut line = Map::new();
    if let Some(sequence) = item.get("sequence").filter(|s| s.is_number()) {
        line.insert("id".to_string(), Value::String(sequence.to_string()));
    }
    line.insert("code".to_string(), Value::String(coding.code?.to_string()));
    let modifiers: Vec<Value> = items(item, "modifier")
        .flat_map(codings)
        .filter_map(|c| c.code)
        .map(|code| Value::String(code.to_string()))
        .collect();
    if !modifiers.is_empty() {
        line.insert("modifiers".to_string(), Value::Array(modifiers));
    }
    if let Some(quantity) = item.get("quantity") {
        if let Some(value) = quantity.get("value").filter(|v| v.is_number()) {
            let minutes = text(quantity, "code") == Some("min")
                || text(quantity, "unit").is_some_and(|u| {
                    matches!(
                        u.to_ascii_lowercase().as_str(),
                        "min" | "mins" | "minute" | "minutes"
                    )
                });
            line.insert(
                (if minutes { "minutes" } else { "units" }).to_string(),
                value.clone(),
            );
        }
    }
    let served = text(item, "servicedDate")
        .or_else(|| item.get("servicedPeriod").and_then(|p| text(p, "start")));
    if let Some(served) = served {
        line.insert("date".to_string(), date_value(served));
    }
    if let Some(net) = item.get("net") {
        match (net.get("value").filter(|v| v.is_number()), text(net, "currency")) {
            (Some(value), None | Some("USD")) => {
                line.insert("charge".to_string(), value.clone());
            }
            (Some(_), Some(currency)) => builder.warn(
                ctx.index.origin(claim),
                format!(
                    "record {}: the charge of a {} line on {} is in {currency}, not US dollars, so it was left out",
                    builder.id,
                    coding.code.unwrap_or_default(),
                    ctx.index.key(claim)
                ),
                "claimlint records charges in US dollars; export USD amounts",
            ),
            _ => {}
        }
    }
    Some(Value::Object(line))
}

/// Returns the date part of `raw`, or `raw` as written when it is not a
/// date, so that schema validation reports it instead of it disappearing.
pub(crate) fn date_value(raw: &str) -> Value {
    Value::String(date_part(raw).unwrap_or_else(|| raw.to_string()))
}

/// Returns the ExplanationOfBenefit and ClaimResponse resources about
/// `claim`, oldest first by `created`. An EOB used as the claim is its own adjudication.
fn adjudications_for<'r>(ctx: &Ctx<'r>, claim: Res<'r>) -> Vec<Res<'r>> {
    let mut found: Vec<Res<'r>> = ctx
        .links
        .adjudications
        .get(&claim.top)
        .into_iter()
        .flatten()
        .map(|&p| ctx.index.top(p))
        .collect();
    if claim.is("ExplanationOfBenefit") {
        found.push(claim);
    }
    found.retain(|res| text(res.value, "status") != Some("entered-in-error"));
    found.sort_by(|a, b| {
        let created = |r: &Res<'_>| text(r.value, "created").unwrap_or_default().to_string();
        created(a).cmp(&created(b)).then(a.top.cmp(&b.top))
    });
    found.dedup_by(|a, b| a.same(b));
    found
}

/// Returns the payer and, when one is named, the focal Coverage.
fn payer<'r>(
    ctx: &Ctx<'r>,
    claim: Res<'r>,
    adjudications: &[Res<'r>],
) -> (Option<Value>, Option<Res<'r>>) {
    let mut map = Map::new();
    let insurers = std::iter::once(claim).chain(adjudications.iter().copied());
    for holder in insurers {
        if let Some(insurer) = holder.value.get("insurer") {
            fill_payer(ctx, holder, insurer, &mut map);
            break;
        }
    }

    let coverage_reference = items(claim.value, "insurance")
        .find(|i| i.get("focal").and_then(Value::as_bool) == Some(true))
        .or_else(|| items(claim.value, "insurance").next())
        .and_then(|i| i.get("coverage"));
    let coverage = coverage_reference.and_then(|r| ctx.index.resolve(claim, r));
    if let Some(coverage) = coverage {
        if !map.contains_key("name") {
            if let Some(payor) = items(coverage.value, "payor").next() {
                fill_payer(ctx, coverage, payor, &mut map);
            }
        }
        if let Some(payer_type) = payer_type(ctx.mapping, coverage.value) {
            map.insert("type".to_string(), Value::String(payer_type.to_string()));
        }
    }
    if !map.contains_key("name") {
        if let Some(display) = coverage_reference.and_then(|r| text(r, "display")) {
            map.insert("name".to_string(), Value::String(display.to_string()));
        }
    }
    ((!map.is_empty()).then_some(Value::Object(map)), coverage)
}

/// Sets the payer name and id from an insurer or payor reference.
fn fill_payer(ctx: &Ctx<'_>, holder: Res<'_>, reference: &Value, map: &mut Map<String, Value>) {
    let organization = ctx.index.resolve(holder, reference);
    let name = organization
        .and_then(|o| text(o.value, "name"))
        .or_else(|| text(reference, "display"));
    let id = organization
        .and_then(|o| items(o.value, "identifier").find_map(|i| text(i, "value")))
        .or_else(|| reference.get("identifier").and_then(|i| text(i, "value")));
    if let Some(name) = name {
        map.insert("name".to_string(), Value::String(name.to_string()));
    }
    if let Some(id) = id {
        map.insert("id".to_string(), Value::String(id.to_string()));
    }
}

/// Returns the payer type of a Coverage's `type`, by the most specific
/// match.
fn payer_type<'m>(mapping: &'m FhirMapping, coverage: &Value) -> Option<&'m str> {
    let codings = codings_at(coverage, "type");
    mapping
        .payer_types
        .iter()
        .filter(|p| codings.iter().any(|c| p.code.matches(c.system, c.code)))
        .max_by_key(|p| p.code.specificity())
        .map(|p| p.payer_type.as_str())
}

/// Payer decision about a claim, read from one adjudication
/// resource.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Decision {
    /// The record's claim status, when the resource shows one.
    pub status: Option<String>,
    pub denial: Option<Denial>,
}

/// The record's denial object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Denial {
    pub label: Option<String>,
    pub description: Option<String>,
    pub carc: Option<String>,
    pub group_code: Option<String>,
    pub rarcs: Vec<String>,
    pub notice_date: Option<String>,
    pub payer_claim_number: Option<String>,
}

impl Denial {
    fn to_json(&self) -> Option<Value> {
        let mut map = Map::new();
        let strings = [
            ("label", &self.label),
            ("description", &self.description),
            ("carc", &self.carc),
            ("group_code", &self.group_code),
        ];
        for (key, value) in strings {
            if let Some(value) = value {
                map.insert(key.to_string(), Value::String(value.clone()));
            }
        }
        if !self.rarcs.is_empty() {
            map.insert(
                "rarcs".to_string(),
                self.rarcs.iter().cloned().map(Value::String).collect(),
            );
        }
        if let Some(date) = &self.notice_date {
            map.insert("notice_date".to_string(), date_value(date));
        }
        if let Some(number) = &self.payer_claim_number {
            map.insert(
                "payer_claim_number".to_string(),
                Value::String(number.clone()),
            );
        }
        (!map.is_empty()).then_some(Value::Object(map))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReasonKind {
    Denial,
    Rejection,
    Adjustment,
}

/// Reads the decision in an ExplanationOfBenefit or ClaimResponse.
pub(crate) fn read_decision(resource: &Value, mapping: &FhirMapping) -> Decision {
    let denial_mapping = &mapping.denial;
    let header: Vec<&Value> = items(resource, "adjudication").collect();
    let lines: Vec<Vec<&Value>> = items(resource, "item")
        .chain(items(resource, "addItem"))
        .map(|item| items(item, "adjudication").collect())
        .filter(|adjudications: &Vec<&Value>| !adjudications.is_empty())
        .collect();

    let explicit = header
        .iter()
        .chain(lines.iter().flatten())
        .flat_map(|adjudication| {
            codings_at(adjudication, "category")
                .into_iter()
                .chain(codings_at(adjudication, "reason"))
        })
        .find_map(|c| {
            denial_mapping
                .payment_status
                .iter()
                .find(|p| p.code.matches(c.system, c.code))
                .map(|p| p.status.clone())
        });

    let header_unpaid = resource
        .get("payment")
        .and_then(|p| p.get("amount"))
        .and_then(|a| a.get("value"))
        .and_then(Value::as_f64)
        .map(|paid| paid == 0.0)
        .or_else(|| level_unpaid(&header, mapping))
        .unwrap_or(false);
    let mut reasons = Reasons::default();
    reasons.header_denied = reasons.read_level(&header, header_unpaid, mapping);
    let mut denied_lines = 0;
    for line in &lines {
        let unpaid = level_unpaid(line, mapping).unwrap_or(false);
        if reasons.read_level(line, unpaid, mapping) {
            denied_lines += 1;
        }
    }

    let status = explicit.or_else(|| {
        if reasons.has(ReasonKind::Rejection) {
            Some("rejected".to_string())
        } else if reasons.header_denied || (denied_lines > 0 && denied_lines == lines.len()) {
            Some("denied".to_string())
        } else if denied_lines > 0 {
            Some("partially-paid".to_string())
        } else if items(resource, "error").next().is_some() {
            Some("rejected".to_string())
        } else if paid_anything(resource, &header, &lines, mapping) {
            Some("paid".to_string())
        } else {
            None
        }
    });

    let adverse = matches!(
        status.as_deref(),
        Some("denied" | "partially-paid" | "rejected")
    );
    let denial = adverse.then(|| {
        let first = reasons.found.first();
        Denial {
            label: first.and_then(|r| r.label.clone()),
            description: first
                .and_then(|r| r.label_display.clone())
                .or_else(|| text(resource, "disposition").map(str::to_string)),
            carc: first.and_then(|r| r.carc.clone()),
            group_code: first.and_then(|r| r.group_code.clone()),
            rarcs: reasons.rarcs.clone(),
            notice_date: text(resource, "created")
                .or_else(|| resource.get("payment").and_then(|p| text(p, "date")))
                .map(str::to_string),
            payer_claim_number: items(resource, "identifier")
                .find_map(|i| text(i, "value"))
                .map(str::to_string),
        }
    });
    Decision { status, denial }
}

/// Denial reasons found so far, in document order (header first).
#[derive(Debug, Default)]
struct Reasons {
    // NOTE: the record has room for one CARC, so when several reasons are found
    // only the first (header before lines) is mapped.
    found: Vec<Reason>,
    rarcs: Vec<String>,
    header_denied: bool,
}

#[derive(Debug)]
struct Reason {
    kind: ReasonKind,
    carc: Option<String>,
    group_code: Option<String>,
    label: Option<String>,
    label_display: Option<String>,
}

impl Reasons {
    /// Reads one level's adjudications (the header's or one line's).
    /// Returns true when the level has a denial reason.
    fn read_level(
        &mut self,
        adjudications: &[&Value],
        unpaid: bool,
        mapping: &FhirMapping,
    ) -> bool {
        let denial = &mapping.denial;
        let mut denied = false;
        for adjudication in adjudications {
            let category = codings_at(adjudication, "category");
            let in_any = |matches: &[CodeMatch]| {
                category
                    .iter()
                    .any(|c| matches.iter().any(|m| m.matches(c.system, c.code)))
            };
            let kind = if in_any(&denial.denial_categories) {
                ReasonKind::Denial
            } else if in_any(&denial.rejection_categories) {
                ReasonKind::Rejection
            } else if in_any(&denial.adjustment_categories) {
                ReasonKind::Adjustment
            } else {
                continue;
            };
            let reason_codings = codings_at(adjudication, "reason");
            let in_systems = |systems: &[String], c: &Coding<'_>| {
                c.system.is_some_and(|s| systems.iter().any(|x| x == s))
            };
            for rarc in reason_codings
                .iter()
                .filter(|c| in_systems(&mapping.code_systems.rarc, c))
            {
                if let Some(code) = rarc.code {
                    if !self.rarcs.iter().any(|r| r == code) {
                        self.rarcs.push(code.to_string());
                    }
                }
            }
            let carc = reason_codings
                .iter()
                .find(|c| in_systems(&mapping.code_systems.carc, c))
                .and_then(|c| c.code);
            let label = reason_codings
                .iter()
                .find(|c| in_systems(&denial.label_systems, c));
            if carc.is_none() && label.is_none() {
                continue;
            }
            if kind == ReasonKind::Adjustment && !unpaid {
                continue;
            }
            let (group_from_code, carc) = match carc.map(split_group_code) {
                Some((group, carc)) => (group, Some(carc.to_string())),
                None => (None, None),
            };
            let group_code = group_from_code.map(str::to_string).or_else(|| {
                reason_codings
                    .iter()
                    .find(|c| in_systems(&denial.group_code_systems, c))
                    .and_then(|c| c.code)
                    .map(str::to_string)
            });
            self.found.push(Reason {
                kind,
                carc,
                group_code,
                label: label.and_then(|c| c.code).map(str::to_string),
                label_display: label.and_then(|c| c.display).map(str::to_string),
            });
            denied = true;
        }
        denied
    }

    fn has(&self, kind: ReasonKind) -> bool {
        self.found.iter().any(|r| r.kind == kind)
    }
}

/// Splits a CARC written with its group code (`CO-16`, `CO16`, `CO 16`).
fn split_group_code(code: &str) -> (Option<&str>, &str) {
    for group in ["CO", "PR", "OA", "PI", "CR"] {
        if let Some(rest) = code.strip_prefix(group) {
            let rest = rest.trim_start_matches(['-', ' ']);
            if !rest.is_empty() && rest.chars().all(|c| c.is_ascii_alphanumeric()) {
                return (Some(group), rest);
            }
        }
    }
    (None, code)
}

/// True when the level has paid amounts and all of them are zero; `None`
/// when it has no paid amount at all.
fn level_unpaid(adjudications: &[&Value], mapping: &FhirMapping) -> Option<bool> {
    let amounts: Vec<f64> = paid_amounts(adjudications, mapping).collect();
    (!amounts.is_empty()).then(|| amounts.iter().all(|a| *a == 0.0))
}

/// Returns the paid amounts among `adjudications`.
fn paid_amounts<'a>(
    adjudications: &'a [&'a Value],
    mapping: &'a FhirMapping,
) -> impl Iterator<Item = f64> + 'a {
    adjudications.iter().filter_map(move |adjudication| {
        let paid = codings_at(adjudication, "category").iter().any(|c| {
            mapping
                .denial
                .paid_categories
                .iter()
                .any(|m| m.matches(c.system, c.code))
        });
        paid.then(|| adjudication.get("amount")?.get("value")?.as_f64())
            .flatten()
    })
}

/// True when the payer paid something: a positive `payment.amount`, else
/// a positive paid amount in the header, a line or the totals.
fn paid_anything(
    resource: &Value,
    header: &[&Value],
    lines: &[Vec<&Value>],
    mapping: &FhirMapping,
) -> bool {
    if let Some(paid) = resource
        .get("payment")
        .and_then(|p| p.get("amount"))
        .and_then(|a| a.get("value"))
        .and_then(Value::as_f64)
    {
        return paid > 0.0;
    }
    let totals: Vec<&Value> = items(resource, "total").collect();
    let mut levels = std::iter::once(header)
        .chain(lines.iter().map(Vec::as_slice))
        .chain(std::iter::once(totals.as_slice()));
    levels.any(|level| paid_amounts(level, mapping).any(|amount| amount > 0.0))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const C4BB: &str = "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBAdjudicationDiscriminator";
    const CARC: &str = "https://x12.org/codes/claim-adjustment-reason-codes";
    const RARC: &str = "https://x12.org/codes/remittance-advice-remark-codes";
    const ADJUDICATION: &str = "http://terminology.hl7.org/CodeSystem/adjudication";

    fn mapping() -> FhirMapping {
        FhirMapping::builtin()
    }

    /// The reason as a remittance writes it, e.g. `CO-16`.
    fn reason_label(decision: &Decision) -> Option<String> {
        let denial = decision.denial.as_ref()?;
        Some(match (&denial.group_code, &denial.carc) {
            (Some(group), Some(carc)) => format!("{group}-{carc}"),
            (None, Some(carc)) => carc.clone(),
            _ => denial.label.clone()?,
        })
    }

    fn blue_button_eob() -> Value {
        let text = include_str!("../../../tests/data/fhir-r4/eob_read_carrier_v2.json");
        serde_json::from_str(text).expect("vendored EOB is JSON")
    }

    #[test]
    fn blue_button_placeholder_denial_reason_is_not_a_denial() {
        let decision = read_decision(&blue_button_eob(), &mapping());
        assert_eq!(decision.status.as_deref(), Some("paid"));
        assert_eq!(decision.denial, None);
    }

    #[test]
    fn denial_reason_with_carc_and_rarc_denies_the_claim() {
        let eob = json!({
            "resourceType": "ExplanationOfBenefit", "outcome": "complete", "created": "2024-04-02",
            "identifier": [{"system": "urn:payer", "value": "ICN-1"}],
            "disposition": "Denied",
            "item": [{"sequence": 1, "adjudication": [
                {"category": {"coding": [{"system": C4BB, "code": "denialreason"}]},
                 "reason": {"coding": [{"system": CARC, "code": "CO-16"}, {"system": RARC, "code": "N706"}]}},
                {"category": {"coding": [{"system": ADJUDICATION, "code": "benefit"}]}, "amount": {"value": 0, "currency": "USD"}}
            ]}],
            "payment": {"amount": {"value": 0, "currency": "USD"}}
        });
        let decision = read_decision(&eob, &mapping());
        assert_eq!(decision.status.as_deref(), Some("denied"));
        let denial = decision.denial.clone().unwrap();
        assert_eq!(denial.carc.as_deref(), Some("16"));
        assert_eq!(denial.group_code.as_deref(), Some("CO"));
        assert_eq!(denial.rarcs, ["N706"]);
        assert_eq!(denial.notice_date.as_deref(), Some("2024-04-02"));
        assert_eq!(denial.payer_claim_number.as_deref(), Some("ICN-1"));
        assert_eq!(denial.description.as_deref(), Some("Denied"));
        assert_eq!(reason_label(&decision).as_deref(), Some("CO-16"));
    }

    #[test]
    fn outcome_alone_never_denies() {
        let eob = json!({"resourceType": "ExplanationOfBenefit", "outcome": "error", "disposition": "Claim denied"});
        assert_eq!(read_decision(&eob, &mapping()), Decision::default());
    }

    #[test]
    fn adjustment_on_a_paid_line_is_not_a_denial() {
        let line = |paid: f64| {
            json!({"adjudication": [
                {"category": {"coding": [{"system": C4BB, "code": "adjustmentreason"}]}, "reason": {"coding": [{"system": CARC, "code": "45"}]}},
                {"category": {"coding": [{"system": ADJUDICATION, "code": "benefit"}]}, "amount": {"value": paid}}
            ]})
        };
        let paid = json!({"resourceType": "ExplanationOfBenefit", "item": [line(80.0)]});
        assert_eq!(
            read_decision(&paid, &mapping()).status.as_deref(),
            Some("paid")
        );
        let mixed =
            json!({"resourceType": "ExplanationOfBenefit", "item": [line(80.0), line(0.0)]});
        let decision = read_decision(&mixed, &mapping());
        assert_eq!(decision.status.as_deref(), Some("partially-paid"));
        assert_eq!(decision.denial.unwrap().carc.as_deref(), Some("45"));
    }

    #[test]
    fn explicit_payment_status_wins() {
        let eob = json!({"resourceType": "ExplanationOfBenefit", "adjudication": [
            {"category": {"coding": [{"system": "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBPayerAdjudicationStatus", "code": "denied"}]}}
        ], "payment": {"amount": {"value": 10}}});
        assert_eq!(
            read_decision(&eob, &mapping()).status.as_deref(),
            Some("denied")
        );
    }

    #[test]
    fn rejection_and_claim_response_errors_reject() {
        let eob = json!({"resourceType": "ClaimResponse", "adjudication": [
            {"category": {"coding": [{"system": C4BB, "code": "rejectreason"}]}, "reason": {"coding": [{"system": CARC, "code": "16"}]}}
        ]});
        assert_eq!(
            read_decision(&eob, &mapping()).status.as_deref(),
            Some("rejected")
        );
        let response = json!({"resourceType": "ClaimResponse", "outcome": "error", "error": [{"code": {"coding": [{"code": "a001"}]}}]});
        assert_eq!(
            read_decision(&response, &mapping()).status.as_deref(),
            Some("rejected")
        );
    }

    #[test]
    fn payer_label_system_gives_the_label() {
        let mut mapping = mapping();
        mapping.denial.label_systems = vec!["urn:payer:labels".to_string()];
        let eob = json!({"resourceType": "ExplanationOfBenefit", "adjudication": [
            {"category": {"coding": [{"system": C4BB, "code": "denialreason"}]},
             "reason": {"coding": [{"system": "urn:payer:labels", "code": "CCM32", "display": "Patient portal utilization not promoted"}]}}
        ]});
        let denial = read_decision(&eob, &mapping).denial.unwrap();
        assert_eq!(denial.label.as_deref(), Some("CCM32"));
        assert_eq!(
            denial.description.as_deref(),
            Some("Patient portal utilization not promoted")
        );
    }

    #[test]
    fn group_code_prefix_forms() {
        assert_eq!(split_group_code("CO-16"), (Some("CO"), "16"));
        assert_eq!(split_group_code("PR1"), (Some("PR"), "1"));
        assert_eq!(split_group_code("16"), (None, "16"));
        assert_eq!(split_group_code("CO"), (None, "CO"));
    }
}
