// Spectral custom function: reports one CCM32 rule on a document that
// contains one canonical encounter record.
//
// Options: `rule` (a CCM32 rule code) and `outcome` ("fail" or "undecided").
// claimlint reports a failed rule at the rule's severity and an undecided
// one as a warning, so the ruleset has one Spectral rule for each pair and
// this function reports only the outcome it was given.

import { RULE_CODES, FALSE, UNKNOWN, evaluateRecord, findingMessage } from "../lib/ccm32.js";

// Every rule gets the same document root, so each record is evaluated once
// and the eight Spectral rules read the cached outcomes.
const outcomesByRecord = new WeakMap();

// Record members each rule's finding points at, the first existing one
// chosen: the part of the record that should contain the missing evidence.
const ANCHORS = {
  "CCM32-001": ["portal", "audit_trail"],
  "CCM32-002": ["notes"],
  "CCM32-003": ["audit_trail"],
  "CCM32-004": ["audit_trail"],
};

export default function ccm32Evidence(input, options) {
  const code = options?.rule;
  const reportedOutcome = options?.outcome === "undecided" ? UNKNOWN : FALSE;
  if (!RULE_CODES.includes(code)) {
    throw new Error(`ccm32Evidence: functionOptions.rule must be one of ${RULE_CODES.join(", ")}, got ${code}`);
  }
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    return [];
  }
  let outcomes = outcomesByRecord.get(input);
  if (outcomes === undefined) {
    outcomes = evaluateRecord(input);
    outcomesByRecord.set(input, outcomes);
  }
  if (outcomes === null || outcomes[code] !== reportedOutcome) {
    return [];
  }
  const anchor = ANCHORS[code].find((name) => Object.hasOwn(input, name));
  return [{ message: findingMessage(code, input, reportedOutcome), path: anchor ? [anchor] : [] }];
}
