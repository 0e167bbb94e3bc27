//! `claimlint remit`: the denials in remittance files and what each means
//! for an appeal.

use std::path::PathBuf;

use claimlint::remit::{DenialOutcome, RemitDenial};
use clap::{Args, ValueEnum};
use serde::Serialize;

use crate::remittance::{self, Problem};
use crate::render::Renderer;
use crate::report::plural;
use crate::{inputs, rules_arg, ExitStatus};

/// The value of the JSON output's `format` field.
pub const REMIT_FORMAT: &str = "claimlint.remit/v1";

#[derive(Debug, Args)]
pub struct RemitArgs {
    /// X12 835 files, FHIR ExplanationOfBenefit or ClaimResponse JSON
    /// files, or folders of them.
    #[arg(value_name = "FILE", required = true)]
    paths: Vec<PathBuf>,

    /// Rule pack file or folder whose denial labels and `matches` classify
    /// the denials; repeat for several. Defaults to the shipped packs.
    #[arg(long = "rules", value_name = "PATH")]
    rules: Vec<PathBuf>,

    /// FHIR mapping file (YAML) for the denial codes of FHIR input; its
    /// sections replace those of the built-in mapping.
    #[arg(long = "fhir-mapping", value_name = "FILE")]
    fhir_mapping: Option<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = RemitFormat::Text)]
    format: RemitFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum RemitFormat {
    Text,
    Json,
}

/// JSON output, described by `schemas/remit-denials.schema.json`.
#[derive(Serialize)]
struct RemitReport<'a> {
    format: &'static str,
    denials: Vec<ListedDenial<'a>>,
    problems: &'a [Problem],
}

#[derive(Serialize)]
struct ListedDenial<'a> {
    #[serde(flatten)]
    denial: &'a RemitDenial,
    outcome: DenialOutcome,
}

pub fn run(args: RemitArgs, renderer: &Renderer) -> ExitStatus {
    let print_all = |diagnostics: &[claimlint::diagnostic::SourceDiagnostic]| {
        for diagnostic in diagnostics {
            out!("{}", renderer.render(diagnostic));
        }
    };
    let rules = match rules_arg::load(&args.rules) {
        Ok(rules) => rules,
        Err(diagnostics) => {
            print_all(&diagnostics);
            outln!(
                "claimlint: the rule set has {} error(s); no denial was listed",
                diagnostics.len()
            );
            return ExitStatus::Error;
        }
    };
    let mapping = match inputs::load_fhir_mapping(args.fhir_mapping.as_deref()) {
        Ok(mapping) => mapping,
        Err(diagnostics) => {
            print_all(&diagnostics);
            outln!(
                "claimlint: the FHIR mapping has {} error(s); no denial was listed",
                diagnostics.len()
            );
            return ExitStatus::Error;
        }
    };

    let loaded = remittance::load(&args.paths, &mapping);
    let listed: Vec<ListedDenial<'_>> = loaded
        .denials
        .iter()
        .map(|denial| ListedDenial {
            denial,
            outcome: denial.classify(&rules),
        })
        .collect();

    match args.format {
        RemitFormat::Json => {
            let report = RemitReport {
                format: REMIT_FORMAT,
                denials: listed,
                problems: &loaded.problems,
            };
            let text = serde_json::to_string_pretty(&report).unwrap_or_else(|_| "{}".to_string());
            outln!("{text}");
        }
        RemitFormat::Text => {
            print_all(&loaded.diagnostics);
            for entry in &listed {
                outln!("{}", denial_line(entry.denial, &entry.outcome));
            }
            outln!("{}", summary(&listed, loaded.files, loaded.errors));
        }
    }

    if loaded.errors > 0 {
        ExitStatus::Error
    } else {
        ExitStatus::Clean
    }
}

/// One line per denial: where, which claim, which payer, the codes and
/// what they mean.
pub fn denial_line(denial: &RemitDenial, outcome: &DenialOutcome) -> String {
    let place = match denial.position {
        Some(position) => format!("{}:{}", denial.source, position.line),
        None => denial.source.clone(),
    };
    let payer = match (&denial.payer.name, &denial.payer.id) {
        (Some(name), Some(id)) => format!("{name} ({id})"),
        (Some(name), None) => name.clone(),
        (None, Some(id)) => id.clone(),
        (None, None) => "unknown".to_string(),
    };
    let rarcs = if denial.rarcs.is_empty() {
        "none".to_string()
    } else {
        denial.rarcs.join(" ")
    };
    format!(
        "{place}: claim {}, payer claim {}, payer {payer}, status {}: {}; RARCs {rarcs} -> {}",
        denial.claim_id,
        denial.payer_claim_number.as_deref().unwrap_or("none"),
        denial.status.as_deref().unwrap_or("unknown"),
        denial.adjustments_text(),
        outcome_text(outcome),
    )
}

pub fn outcome_text(outcome: &DenialOutcome) -> String {
    match outcome {
        DenialOutcome::Covered { label, pack, .. } => format!("{label} ({pack})"),
        DenialOutcome::Unprocessable { reason, action } => {
            format!("unprocessable: {action} ({reason})")
        }
        DenialOutcome::Uncovered => "no pack covers it".to_string(),
    }
}

fn summary(listed: &[ListedDenial<'_>], files: usize, errors: usize) -> String {
    let covered = listed
        .iter()
        .filter(|l| matches!(l.outcome, DenialOutcome::Covered { .. }))
        .count();
    let unprocessable = listed
        .iter()
        .filter(|l| matches!(l.outcome, DenialOutcome::Unprocessable { .. }))
        .count();
    let uncovered = listed.len() - covered - unprocessable;
    let mut line = format!(
        "claimlint: {} in {}: {covered} covered by a rule pack, {unprocessable} unprocessable, {uncovered} that no pack covers",
        plural(listed.len(), "denied claim"),
        plural(files, "file"),
    );
    if errors > 0 {
        line.push_str(&format!("; {}", plural(errors, "input error")));
    }
    line
}
