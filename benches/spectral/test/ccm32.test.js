// Tests of the Spectral CCM32 ruleset's JavaScript, with Node's built-in
// test runner and no npm packages:
//   node --test benches/spectral/test/
// The expected outcomes are those `claimlint check --rules rules/ccm32.yaml`
// reports on the same files; benches/spectral.sh checks that agreement
// against the claimlint binary.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { FALSE, UNKNOWN, TRUE, evaluateRecord, findingMessage } from "../lib/ccm32.js";
import { parseTemporal, sameDay, order } from "../lib/temporal.js";
import ccm32Evidence from "../functions/ccm32Evidence.js";

const testFolder = dirname(fileURLToPath(import.meta.url));
const repository = join(testFolder, "..", "..", "..");

function readRecord(path) {
  return JSON.parse(readFileSync(path, "utf8"));
}

/// Lists the rules that do not pass, as "CODE" for a failure and "CODE?"
/// for an undecided outcome. Returns null when the pack does not apply.
function findings(record) {
  const outcomes = evaluateRecord(record);
  if (outcomes === null) {
    return null;
  }
  return Object.entries(outcomes)
    .filter(([, outcome]) => outcome !== TRUE)
    .map(([code, outcome]) => (outcome === UNKNOWN ? `${code}?` : code))
    .sort();
}

const SAMPLE_EXPECTED = {
  "before-effective-date": null,
  "date-of-service-month": ["CCM32-001?", "CCM32-002?", "CCM32-003?", "CCM32-004?"],
  "declined-after-offer": [],
  "declined-before-offer": ["CCM32-003", "CCM32-004"],
  "enrolled-offer-date-only": [],
  "invitation-blank-recipient": ["CCM32-003", "CCM32-004"],
  "invitation-by-sms": ["CCM32-004"],
  "no-portal-evidence": ["CCM32-001", "CCM32-002", "CCM32-003", "CCM32-004"],
  "note-by-care-manager": [],
  "note-by-front-desk": ["CCM32-002"],
  "note-education-not-provided": ["CCM32-002"],
  "note-fullwidth-portal": [],
  "note-portal-joined-to-letter": ["CCM32-002"],
  "note-signed-next-day": ["CCM32-002"],
  "offer-month-only": ["CCM32-001?"],
  "office-visit": null,
  "recipient-other-case": [],
  "verified-after-invitation": ["CCM32-004"],
  "verified-after-invitation-utc": ["CCM32-004"],
  "verified-without-offset": ["CCM32-004?"],
};

test("sample records match claimlint outcomes", () => {
  const folder = join(testFolder, "..", "sample");
  const names = readdirSync(folder)
    .filter((name) => name.endsWith(".json"))
    .map((name) => name.slice(0, -".json".length))
    .sort();
  assert.deepEqual(names, Object.keys(SAMPLE_EXPECTED).sort());
  for (const name of names) {
    const record = readRecord(join(folder, `${name}.json`));
    assert.deepEqual(findings(record), SAMPLE_EXPECTED[name], name);
  }
});

test("pack fixtures match their expect files", () => {
  const fixtures = join(repository, "rules", "ccm32", "tests");
  for (const name of readdirSync(join(fixtures, "pass")).filter((n) => n.endsWith(".json"))) {
    assert.deepEqual(findings(readRecord(join(fixtures, "pass", name))), [], `pass/${name}`);
  }
  const failing = readdirSync(join(fixtures, "fail")).filter((n) => n.endsWith(".json"));
  assert.ok(failing.length > 0, "no fail fixtures found");
  for (const name of failing) {
    const expectText = readFileSync(join(fixtures, "fail", name.replace(/\.json$/, ".expect")), "utf8");
    const expected = expectText
      .split("\n")
      .map((line) => line.replace(/#.*/, "").trim())
      .filter((line) => line !== "")
      .sort();
    assert.deepEqual(findings(readRecord(join(fixtures, "fail", name))), expected, `fail/${name}`);
  }
});

test("non-object documents are not records", () => {
  assert.equal(evaluateRecord([]), null);
  assert.equal(evaluateRecord("text"), null);
  assert.equal(evaluateRecord(null), null);
});

test("numeric service line code does not apply", () => {
  const record = readRecord(join(testFolder, "..", "sample", "no-portal-evidence.json"));
  record.service_lines[0].code = 99490;
  assert.equal(evaluateRecord(record), null);
});

test("parseTemporal reads every schema form", () => {
  assert.equal(parseTemporal("2026").kind, "partial");
  assert.equal(parseTemporal("2026-02").last - parseTemporal("2026-02").first, 27);
  assert.equal(parseTemporal("2024-02").last - parseTemporal("2024-02").first, 28);
  assert.equal(parseTemporal("2026-03-03").kind, "day");
  assert.equal(parseTemporal("2026-03-03T10:00:00-05:00").offset, -5 * 3600);
  assert.equal(parseTemporal("2026-03-03T10:00:00+0530").offset, 5 * 3600 + 30 * 60);
  assert.equal(parseTemporal("2026-03-03T10:00:00Z").offset, 0);
  assert.equal(parseTemporal("2026-03-03T10:00:00").offset, null);
  assert.equal(parseTemporal("2026-03-03 10:00").offset, null);
  assert.equal(parseTemporal(" 2026-03-03 ").kind, "day");
});

test("parseTemporal rejects invalid text", () => {
  for (const text of ["IGNORED_FIELD", "2026-02-30", "2026-13", "2026-03-03T24:00", "2026-03-03T10:00+24:00", "2026-03-03T10:00:61", ""]) {
    assert.equal(parseTemporal(text), null, text);
  }
  assert.equal(parseTemporal(20260303), null);
});

test("date-time keeps its written day", () => {
  const late = parseTemporal("2026-03-03T23:30:00-05:00");
  assert.equal(late.first, parseTemporal("2026-03-03").first);
});

test("sameDay decides only what precision allows", () => {
  const day = parseTemporal("2026-03-03");
  assert.equal(sameDay(parseTemporal("2026-03-03T09:00:00-05:00"), day), TRUE);
  assert.equal(sameDay(parseTemporal("2026-03-04T09:00:00-05:00"), day), FALSE);
  assert.equal(sameDay(parseTemporal("2026-03"), day), UNKNOWN);
  assert.equal(sameDay(parseTemporal("2026-04"), day), FALSE);
});

test("order compares instants across offsets", () => {
  const verified = parseTemporal("2026-03-03T09:00:00-05:00");
  const sent = parseTemporal("2026-03-03T15:00:00Z");
  assert.equal(order(verified, sent, "before"), TRUE);
  assert.equal(order(sent, verified, "before"), FALSE);
  assert.equal(order(sent, sent, "on_or_after"), TRUE);
  const fraction = parseTemporal("2026-03-03T15:00:00.5Z");
  assert.equal(order(fraction, sent, "after"), TRUE);
});

test("order on a whole date includes its times", () => {
  const day = parseTemporal("2026-03-31");
  const time = parseTemporal("2026-03-31T10:05:00-05:00");
  assert.equal(order(time, day, "on_or_before"), TRUE);
  assert.equal(order(time, day, "on_or_after"), TRUE);
  assert.equal(order(time, day, "before"), UNKNOWN);
  assert.equal(order(parseTemporal("2026-04-01T08:00:00-05:00"), day, "on_or_before"), FALSE);
  assert.equal(order(day, day, "before"), FALSE);
});

test("order without an offset needs a 26-hour gap", () => {
  const local = parseTemporal("2026-03-03T09:00:00");
  assert.equal(order(local, parseTemporal("2026-03-03T10:00:00Z"), "before"), UNKNOWN);
  assert.equal(order(local, parseTemporal("2026-03-05T10:00:00Z"), "before"), TRUE);
  assert.equal(order(parseTemporal("2026-02"), parseTemporal("2026-03-10"), "before"), TRUE);
  assert.equal(order(parseTemporal("2026-03"), parseTemporal("2026-03-10"), "before"), UNKNOWN);
});

test("ccm32Evidence reports only its outcome", () => {
  const record = readRecord(join(testFolder, "..", "sample", "offer-month-only.json"));
  assert.deepEqual(ccm32Evidence(record, { rule: "CCM32-001", outcome: "fail" }), []);
  const [result, ...rest] = ccm32Evidence(record, { rule: "CCM32-001", outcome: "undecided" });
  assert.equal(rest.length, 0);
  assert.deepEqual(result.path, ["portal"]);
  assert.equal(result.message, findingMessage("CCM32-001", record, UNKNOWN));
  assert.match(result.message, /cannot be decided/);
  assert.deepEqual(ccm32Evidence(record, { rule: "CCM32-002", outcome: "fail" }), []);
});

test("ccm32Evidence message names the date of service", () => {
  const record = readRecord(join(testFolder, "..", "sample", "invitation-by-sms.json"));
  const [result] = ccm32Evidence(record, { rule: "CCM32-004", outcome: "fail" });
  assert.equal(result.message, "no portal invitation on 2026-03-03 went by email to the patient's verified address");
  assert.deepEqual(result.path, ["audit_trail"]);
});

test("ccm32Evidence rejects an unknown rule", () => {
  assert.throws(() => ccm32Evidence({}, { rule: "CCM32-999", outcome: "fail" }), /functionOptions\.rule/);
});
