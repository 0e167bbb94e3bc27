// Compares the CCM32 findings of claimlint and of the Spectral ruleset.
//
// usage: node compare.js CLAIMLINT_JSON SPECTRAL_JSON
//
// CLAIMLINT_JSON is the output of `claimlint check --format json`, and
// SPECTRAL_JSON that of `spectral lint --format json`, over the same folder
// of one-record files. Relative file names in the claimlint report are
// resolved from the current folder, so run this where claimlint ran. Prints the records with a CCM32 finding in each tool
// and the findings per rule, and exits 1 when the (record, rule, outcome)
// sets differ, listing up to ten differences, so that the benchmark times
// rulesets that agree. The outcome is "fail" or "undecided" (a date too
// imprecise to decide); Spectral's "-undecided" rules give the latter.

import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { RULE_CODES } from "./lib/ccm32.js";

const MAX_LISTED = 10;
const UNDECIDED_SUFFIX = "-undecided";

function readJson(path, tool) {
  let text;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new Error(`cannot read the ${tool} report ${path}: ${error.message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`the ${tool} report ${path} is not valid JSON (${error.message}); run the tool again with --format json`);
  }
}

/// "file<TAB>code<TAB>outcome" for each CCM32 finding of a claimlint report.
function claimlintFindings(report) {
  if (!Array.isArray(report?.findings)) {
    throw new Error("the claimlint report has no `findings` list; is it `check --format json` output?");
  }
  return new Set(
    report.findings
      .filter((finding) => RULE_CODES.includes(finding.code))
      .map((finding) => `${resolve(finding.file)}\t${finding.code}\t${finding.outcome}`),
  );
}

/// "file<TAB>code<TAB>outcome" for each CCM32 result of a Spectral report.
function spectralFindings(results) {
  if (!Array.isArray(results)) {
    throw new Error("the Spectral report is not a list of results; is it `lint --format json` output?");
  }
  return new Set(
    results
      .map((result) => {
        const code = String(result.code);
        const undecided = code.endsWith(UNDECIDED_SUFFIX);
        return {
          source: result.source,
          code: undecided ? code.slice(0, -UNDECIDED_SUFFIX.length) : code,
          outcome: undecided ? "undecided" : "fail",
        };
      })
      .filter((result) => RULE_CODES.includes(result.code))
      .map((result) => `${resolve(result.source)}\t${result.code}\t${result.outcome}`),
  );
}

function recordsOf(findings) {
  return new Set([...findings].map((key) => key.split("\t")[0]));
}

function countByRule(findings) {
  const counts = Object.fromEntries(RULE_CODES.map((code) => [code, 0]));
  for (const key of findings) {
    counts[key.split("\t")[1]] += 1;
  }
  return counts;
}

function main(argv) {
  if (argv.length !== 2) {
    console.error("usage: node compare.js CLAIMLINT_JSON SPECTRAL_JSON");
    return 2;
  }
  const claimlint = claimlintFindings(readJson(argv[0], "claimlint"));
  const spectral = spectralFindings(readJson(argv[1], "Spectral"));
  const claimlintRecords = recordsOf(claimlint);
  const spectralRecords = recordsOf(spectral);
  const bothRecords = [...claimlintRecords].filter((record) => spectralRecords.has(record));

  console.log(
    `records with a CCM32 finding: claimlint ${claimlintRecords.size}, Spectral ${spectralRecords.size}, both ${bothRecords.length}`,
  );
  const claimlintCounts = countByRule(claimlint);
  const spectralCounts = countByRule(spectral);
  for (const code of RULE_CODES) {
    console.log(`  ${code}: claimlint ${claimlintCounts[code]}, Spectral ${spectralCounts[code]}`);
  }

  const onlyClaimlint = [...claimlint].filter((key) => !spectral.has(key));
  const onlySpectral = [...spectral].filter((key) => !claimlint.has(key));
  if (onlyClaimlint.length === 0 && onlySpectral.length === 0) {
    console.log("the rulesets agree on every (record, rule, outcome)");
    return 0;
  }
  console.log(`the rulesets disagree: ${onlyClaimlint.length} findings only in claimlint, ${onlySpectral.length} only in Spectral`);
  for (const key of onlyClaimlint.slice(0, MAX_LISTED)) {
    console.log(`  only claimlint: ${key.replaceAll("\t", " ")}`);
  }
  for (const key of onlySpectral.slice(0, MAX_LISTED)) {
    console.log(`  only Spectral:  ${key.replaceAll("\t", " ")}`);
  }
  return 1;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (error) {
  console.error(`compare.js: ${error.message}`);
  process.exitCode = 2;
}
