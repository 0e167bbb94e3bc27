// Dates as encounter records write them, compared with three-valued truth.
//
// This mirrors claimlint's src/eval/dates.rs so that the Spectral ruleset
// decides the same way. A partial date (`2026`, `2026-03`) is a range of
// days, and a date-time sits on the calendar day written in it (its own
// offset). A comparison that the record's precision cannot settle is
// UNKNOWN.

export const FALSE = 0;
export const UNKNOWN = 1;
export const TRUE = 2;

export const and = (a, b) => Math.min(a, b);
export const or = (a, b) => Math.max(a, b);
export const not = (a) => TRUE - a;
export const truth = (flag) => (flag ? TRUE : FALSE);

const SECONDS_PER_DAY = 86400;
const MIN_YEAR = -9999;
const MAX_YEAR = 9999;

/// Days since 1970-01-01 for a proleptic Gregorian date, or null when the
/// date does not exist (month 13, February 30) or is out of range.
export function dayNumber(year, month, day) {
  if (year < MIN_YEAR || year > MAX_YEAR || month < 1 || month > 12 || day < 1) {
    return null;
  }
  const date = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not map years 0 to 99 to 19xx.
  date.setUTCFullYear(year, month - 1, day);
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) {
    return null;
  }
  return Math.round(date.getTime() / (SECONDS_PER_DAY * 1000));
}

function lastDayOfMonth(year, month) {
  for (let day = 31; day >= 28; day--) {
    const number = dayNumber(year, month, day);
    if (number !== null) {
      return number;
    }
  }
  return null;
}

const YEAR = /^[+-]?\d{1,4}$/;
const YEAR_MONTH = /^(\d{4})-(\d{2})$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const CIVIL_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2})(?::?(\d{2})(?::?(\d{2})(?:[.,](\d{1,9}))?)?)?$/;

/// Parses the date forms the record schema allows; returns null for
/// anything else. The result is one of
///   { kind: "partial", first, last }            (day numbers)
///   { kind: "day", first, last }                (first === last)
///   { kind: "datetime", first, last, seconds, nanos, offset }
/// where `seconds` counts civil seconds since 1970 and `offset` is the
/// written UTC offset in seconds, or null when the text has none.
export function parseTemporal(value) {
  if (typeof value !== "string") {
    return null;
  }
  const text = value.trim();
  if (text.length === 4) {
    if (!YEAR.test(text)) {
      return null;
    }
    const year = Number(text);
    const first = dayNumber(year, 1, 1);
    const last = dayNumber(year, 12, 31);
    return first === null || last === null ? null : { kind: "partial", first, last };
  }
  if (text.length === 7) {
    const match = YEAR_MONTH.exec(text);
    if (!match) {
      return null;
    }
    const year = Number(match[1]);
    const month = Number(match[2]);
    const first = dayNumber(year, month, 1);
    if (first === null) {
      return null;
    }
    return { kind: "partial", first, last: lastDayOfMonth(year, month) };
  }
  if (text.length === 10) {
    const match = DATE.exec(text);
    const day = match && dayNumber(Number(match[1]), Number(match[2]), Number(match[3]));
    return day === null || day === undefined ? null : { kind: "day", first: day, last: day };
  }
  return parseDateTime(text);
}

function parseDateTime(text) {
  const offset = offsetSuffix(text);
  const separator = text.search(/[Tt ]/);
  const timePart = separator < 0 ? "" : text.slice(separator + 1);
  if (/[+\-Zz]/.test(timePart) && offset === null) {
    return null;
  }

  let civilText = text;
  if (offset !== null) {
    civilText = /[Zz]$/.test(text)
      ? text.slice(0, -1)
      : text.slice(0, Math.max(text.lastIndexOf("+"), text.lastIndexOf("-")));
  }
  const match = CIVIL_DATE_TIME.exec(civilText.replace(" ", "T"));
  if (!match) {
    return null;
  }

  const day = dayNumber(Number(match[1]), Number(match[2]), Number(match[3]));
  const hour = Number(match[4]);
  const minute = Number(match[5] ?? "0");
  const writtenSecond = Number(match[6] ?? "0");
  if (day === null || hour > 23 || minute > 59 || writtenSecond > 60) {
    return null;
  }
  // A leap second (:60) is read as :59, as jiff does.
  const second = Math.min(writtenSecond, 59);

  const nanos = Number((match[7] ?? "").padEnd(9, "0"));
  return {
    kind: "datetime",
    first: day,
    last: day,
    seconds: day * SECONDS_PER_DAY + hour * 3600 + minute * 60 + second,
    nanos,
    offset,
  };
}

/// Reads a trailing `Z`, `±HH:MM` or `±HHMM` offset, in seconds east of UTC.
function offsetSuffix(text) {
  if (/[Zz]$/.test(text)) {
    return 0;
  }
  const signAt = Math.max(text.lastIndexOf("+"), text.lastIndexOf("-"));
  if (signAt < 0) {
    return null;
  }
  // A '-' inside the date part is not an offset sign.
  if (!/[Tt ]/.test(text.slice(0, signAt))) {
    return null;
  }
  const digits = text.slice(signAt + 1).replaceAll(":", "");
  if (!/^\d{4}$/.test(digits)) {
    return null;
  }
  const hours = Number(digits.slice(0, 2));
  const minutes = Number(digits.slice(2));
  // RFC 3339 offsets run from -23:59 to +23:59.
  if (hours > 23 || minutes > 59) {
    return null;
  }
  const seconds = hours * 3600 + minutes * 60;
  return text[signAt] === "-" ? -seconds : seconds;
}

/// Tests whether `value` falls on the same calendar day as `reference`.
export function sameDay(value, reference) {
  if (value.first === value.last && reference.first === reference.last) {
    return truth(value.first === reference.first);
  }
  if (value.last < reference.first || value.first > reference.last) {
    return FALSE;
  }
  return UNKNOWN;
}

function compareNumbers(a, b) {
  if (a < b) {
    return -1;
  }
  return a > b ? 1 : 0;
}

function compareInstants(secondsA, nanosA, secondsB, nanosB) {
  return compareNumbers(secondsA, secondsB) || compareNumbers(nanosA, nanosB);
}

/// Returns the exact ordering of two values (-1, 0, 1) when their precision
/// allows one, else null.
function exactOrder(a, b) {
  if (a.kind === "day" && b.kind === "day") {
    return compareNumbers(a.first, b.first);
  }
  if (a.kind !== "datetime" || b.kind !== "datetime") {
    return null;
  }
  if (a.offset !== null && b.offset !== null) {
    return compareInstants(a.seconds - a.offset, a.nanos, b.seconds - b.offset, b.nanos);
  }
  if (a.offset === null && b.offset === null) {
    return compareInstants(a.seconds, a.nanos, b.seconds, b.nanos);
  }
  // One side has no offset: offsets span at most 26 hours, so only a larger
  // gap decides.
  const gap = Math.abs(a.seconds - b.seconds);
  return gap > 26 * 3600 ? compareInstants(a.seconds, a.nanos, b.seconds, b.nanos) : null;
}

/// Orders `value` against `other`; `relation` is "before", "after",
/// "on_or_before" or "on_or_after".
export function order(value, other, relation) {
  const ordering = exactOrder(value, other);
  if (ordering !== null) {
    switch (relation) {
      case "before":
        return truth(ordering < 0);
      case "after":
        return truth(ordering > 0);
      case "on_or_before":
        return truth(ordering <= 0);
      default:
        return truth(ordering >= 0);
    }
  }
  // Day precision: decide only when the day ranges settle it. A whole date
  // stands for its calendar day, so any time on that day is on it.
  const wholeDay = value.kind === "day" || other.kind === "day";
  const sameSingleDay =
    value.first === value.last && other.first === other.last && value.first === other.first;
  const inclusive = relation === "on_or_before" || relation === "on_or_after";
  if (wholeDay && sameSingleDay && inclusive) {
    return TRUE;
  }
  const beforeward = relation === "before" || relation === "on_or_before";
  const surelyTrue = beforeward ? value.last < other.first : value.first > other.last;
  const surelyFalse = beforeward ? value.first > other.last : value.last < other.first;
  if (surelyTrue) {
    return TRUE;
  }
  return surelyFalse ? FALSE : UNKNOWN;
}
