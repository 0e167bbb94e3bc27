// The four CCM32 rules of claimlint's rules/ccm32.yaml (pack version 1.0.0),
// written out in JavaScript for the Spectral side-by-side benchmark.
//
// Each rule returns TRUE (the evidence is there: pass), FALSE (fail) or
// UNKNOWN (a date is too imprecise to decide), as claimlint's evaluator
// does. Field tests follow src/eval/condition.rs: a missing, null, blank or
// empty value counts as absent, strings compare trimmed and NFC-normalized,
// and regexes are case-insensitive and run on NFKC-normalized text.

import { FALSE, UNKNOWN, TRUE, and, or, not, truth, dayNumber, parseTemporal, sameDay, order } from "./temporal.js";

export { FALSE, UNKNOWN, TRUE };

export const RULE_CODES = ["CCM32-001", "CCM32-002", "CCM32-003", "CCM32-004"];

// Pack `applies_when`: a CCM service line.
const CCM_CODES = ["99490", "99439", "99491", "99437", "99487", "99489", "G0506"];
// Pack `effective.from`.
const EFFECTIVE_FROM = dayNumber(2024, 1, 1);

// The regexes of CCM32-002, as written in the pack (YAML '' unescaped).
const CLINICAL_ROLE =
  "^\\s*(rn|lpn|lvn|ma|cma|rma|md|do|np|pa|pa-c|aprn|fnp|cns|registered nurse|licensed (practical|vocational) nurse|medical assistant|physician|nurse practitioner|physician assistant|nurse|care (manager|coordinator)|clinical staff)\\s*$";
const MENTIONS_PORTAL = "\\bportal\\b";
const DOCUMENTS_EDUCATION =
  "\\b(educat\\w*|instruct\\w*|taught|teach\\w*|explain\\w*|review\\w*|demonstrat\\w*|walked\\s+\\w+\\s+through|showed)\\b";
const EDUCATION_NOT_GIVEN =
  "\\b(declin\\w*|refus\\w*)\\s+(the\\s+)?(portal\\s+)?(education|teaching|instruction|training)\\b|\\b(not|never)\\s+(been\\s+)?(educated|instructed|taught|trained)\\b|\\bno\\s+(portal\\s+)?(education|teaching|instruction|training)\\b|\\b(education|teaching|instruction|training)\\s+(was\\s+|were\\s+)?(not|never)\\s+(provided|given|done|completed|performed|documented)\\b|\\b(unable|did\\s+not|didn't|could\\s+not|couldn't)\\s+(to\\s+)?(educate|instruct|teach|complete\\s+(the\\s+)?(portal\\s+)?education)\\b|\\beducation\\s+(was\\s+)?deferred\\b";

// claimlint uses the Rust regex crate, whose \w and \b are Unicode-aware.
// JavaScript's \w and \b are ASCII-only even with the u flag, so a second
// form spells out the Unicode classes. ASCII text, the common case, uses
// the native form: on ASCII input both forms match the same strings.
const WORD_CHAR = "[\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\p{Join_Control}]";
const WORD_BOUNDARY = `(?:(?<=${WORD_CHAR})(?!${WORD_CHAR})|(?<!${WORD_CHAR})(?=${WORD_CHAR}))`;

function compilePattern(source) {
  const unicodeSource = source.replaceAll("\\w", WORD_CHAR).replaceAll("\\b", WORD_BOUNDARY);
  return { ascii: new RegExp(source, "i"), unicode: new RegExp(unicodeSource, "iu") };
}

const PATTERNS = {
  clinicalRole: compilePattern(CLINICAL_ROLE),
  mentionsPortal: compilePattern(MENTIONS_PORTAL),
  documentsEducation: compilePattern(DOCUMENTS_EDUCATION),
  educationNotGiven: compilePattern(EDUCATION_NOT_GIVEN),
};

const ASCII = /^[\x00-\x7f]*$/;

/// Missing, null, an empty or blank string, or an empty list or object.
function isEmpty(value) {
  if (value === undefined || value === null) {
    return true;
  }
  if (typeof value === "string") {
    return value.trim() === "";
  }
  if (Array.isArray(value)) {
    return value.length === 0;
  }
  return typeof value === "object" && Object.keys(value).length === 0;
}

function isObject(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/// Follows `names` from `node`; returns undefined when a step is missing.
function resolve(node, names) {
  let current = node;
  for (const name of names) {
    if (!isObject(current) || !Object.hasOwn(current, name)) {
      return undefined;
    }
    current = current[name];
  }
  return current;
}

/// Like `resolve`, but an empty value counts as absent.
function present(node, names) {
  const value = resolve(node, names);
  return isEmpty(value) ? undefined : value;
}

/// JSONPath `$.name[*]`: the elements of a list or the values of an object.
function selectAll(record, name) {
  const value = resolve(record, [name]);
  if (Array.isArray(value)) {
    return value;
  }
  return isObject(value) ? Object.values(value) : [];
}

/// JSONPath `$.name`: the member itself, when the record has it.
function selectOne(record, name) {
  return isObject(record) && Object.hasOwn(record, name) ? [record[name]] : [];
}

/// `exists`: TRUE when an item surely matches, UNKNOWN when none does but
/// some cannot be decided.
function exists(items, test) {
  let result = FALSE;
  for (const item of items) {
    result = or(result, test(item));
    if (result === TRUE) {
      break;
    }
  }
  return result;
}

function textEquals(value, expected, ignoreCase) {
  let a = value.trim().normalize("NFC");
  let b = expected.trim().normalize("NFC");
  if (ignoreCase) {
    a = a.toLowerCase();
    b = b.toLowerCase();
  }
  return a === b;
}

/// `equals` / `one_of` with string literals: only a string field can match.
function fieldOneOf(item, names, options) {
  const value = present(item, names);
  return truth(typeof value === "string" && options.some((option) => textEquals(value, option, false)));
}

/// `equals_field` with `ignore_case: true`.
function fieldEqualsIgnoreCase(value, other) {
  if (value === undefined || other === undefined) {
    return FALSE;
  }
  if (typeof value === "string" && typeof other === "string") {
    return truth(textEquals(value, other, true));
  }
  return truth(JSON.stringify(value) === JSON.stringify(other));
}

function fieldMatches(item, names, pattern) {
  const value = present(item, names);
  if (typeof value !== "string") {
    return FALSE;
  }
  const text = ASCII.test(value) ? value : value.normalize("NFKC");
  const regex = ASCII.test(text) ? pattern.ascii : pattern.unicode;
  return truth(regex.test(text));
}

/// `within: { of: $.encounter.date_of_service, window: same-day }`.
function onDateOfService(record, item, names) {
  const value = parseTemporal(present(item, names));
  const reference = parseTemporal(resolve(record, ["encounter", "date_of_service"]));
  return value && reference ? sameDay(value, reference) : FALSE;
}

/// `field: A, <relation>: B` on two dates; an unparsable date fails.
function dateOrder(valueField, otherField, relation) {
  const value = parseTemporal(valueField);
  const other = parseTemporal(otherField);
  return value && other ? order(value, other, relation) : FALSE;
}

/// Portal declined after an offer (the last branch of CCM32-003 and -004).
function declinedAfterOffer(record) {
  return exists(selectOne(record, "portal"), (portal) =>
    and(
      fieldOneOf(portal, ["status"], ["declined"]),
      dateOrder(present(portal, ["declined_at"]), resolve(portal, ["offered_at"]), "on_or_after"),
    ),
  );
}

/// CCM32-001 portal-access-not-offered.
function portalOffered(record) {
  const offered = exists(selectOne(record, "portal"), (portal) =>
    and(fieldOneOf(portal, ["status"], ["offered", "enrolled"]), onDateOfService(record, portal, ["offered_at"])),
  );
  const declined = exists(selectOne(record, "portal"), (portal) =>
    [
      fieldOneOf(portal, ["status"], ["declined"]),
      onDateOfService(record, portal, ["offered_at"]),
      dateOrder(present(portal, ["declined_at"]), resolve(portal, ["offered_at"]), "on_or_after"),
    ].reduce(and),
  );
  const logged = exists(selectAll(record, "audit_trail"), (event) =>
    and(fieldOneOf(event, ["type"], ["portal.offered"]), onDateOfService(record, event, ["timestamp"])),
  );
  return [offered, declined, logged].reduce(or);
}

/// CCM32-002 portal-education-not-documented.
function educationDocumented(record) {
  return exists(selectAll(record, "notes"), (note) =>
    [
      onDateOfService(record, note, ["signed_at"]),
      fieldMatches(note, ["author", "role"], PATTERNS.clinicalRole),
      fieldMatches(note, ["text"], PATTERNS.mentionsPortal),
      fieldMatches(note, ["text"], PATTERNS.documentsEducation),
      not(fieldMatches(note, ["text"], PATTERNS.educationNotGiven)),
    ].reduce(and),
  );
}

/// CCM32-003 portal-invitation-not-logged.
function invitationLogged(record) {
  const logged = exists(selectAll(record, "audit_trail"), (event) =>
    [
      fieldOneOf(event, ["type"], ["portal.invitation.sent"]),
      onDateOfService(record, event, ["timestamp"]),
      truth(present(event, ["recipient"]) !== undefined),
    ].reduce(and),
  );
  return or(logged, declinedAfterOffer(record));
}

/// CCM32-004 portal-invitation-not-to-verified-email.
function invitationToVerifiedEmail(record) {
  const emailed = exists(selectAll(record, "audit_trail"), (event) =>
    [
      fieldOneOf(event, ["type"], ["portal.invitation.sent"]),
      onDateOfService(record, event, ["timestamp"]),
      fieldOneOf(event, ["channel"], ["email"]),
      fieldEqualsIgnoreCase(present(event, ["recipient"]), present(record, ["patient", "email"])),
      dateOrder(present(record, ["patient", "email_verified_at"]), resolve(event, ["timestamp"]), "on_or_before"),
    ].reduce(and),
  );
  return or(emailed, declinedAfterOffer(record));
}

const RULES = {
  "CCM32-001": portalOffered,
  "CCM32-002": educationDocumented,
  "CCM32-003": invitationLogged,
  "CCM32-004": invitationToVerifiedEmail,
};

/// Tests whether the pack applies: the date of service is on or after the
/// pack's effective date, and the record has a CCM service line.
export function packApplies(record) {
  const dateOfService = parseTemporal(resolve(record, ["encounter", "date_of_service"]));
  if (!dateOfService || dateOfService.first < EFFECTIVE_FROM) {
    return false;
  }
  return exists(selectAll(record, "service_lines"), (line) => fieldOneOf(line, ["code"], CCM_CODES)) === TRUE;
}

/// Evaluates every CCM32 rule on one canonical record. Returns null when the
/// pack does not apply, else an object from rule code to TRUE, FALSE or
/// UNKNOWN.
export function evaluateRecord(record) {
  if (!isObject(record) || !packApplies(record)) {
    return null;
  }
  const outcomes = {};
  for (const code of RULE_CODES) {
    outcomes[code] = RULES[code](record);
  }
  return outcomes;
}

const MESSAGES = {
  "CCM32-001": (date) => `no portal offer on the date of service ${date}, and no decline documented after an offer`,
  "CCM32-002": (date) => `no signed note by clinical staff documents portal education on ${date}`,
  "CCM32-003": (date) => `no portal registration invitation is logged in the audit trail on ${date}`,
  "CCM32-004": (date) => `no portal invitation on ${date} went by email to the patient's verified address`,
};

/// Builds the finding message claimlint prints for `code` on `record`.
export function findingMessage(code, record, outcome) {
  const date = resolve(record, ["encounter", "date_of_service"]);
  const message = MESSAGES[code](typeof date === "string" ? date : "");
  return outcome === UNKNOWN
    ? `${message} (cannot be decided: a date in the record is not precise enough)`
    : message;
}
