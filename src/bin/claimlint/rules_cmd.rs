//! `claimlint rules` lists the loaded packs and rules, and `claimlint
//! validate` compiles rule files without reading any record.

use std::path::PathBuf;

use claimlint::finding::{Layer, Severity};
use claimlint::rules::{Pack, RuleSet};
use clap::{Args, ValueEnum};
use serde::Serialize;

use crate::render::Renderer;
use crate::{rules_arg, ExitStatus};

#[derive(Debug, Args)]
pub struct RulesArgs {
    /// Rule pack file or folder; repeat for several. Defaults to the packs
    /// shipped with claimlint.
    #[arg(long = "rules", value_name = "PATH")]
    rules: Vec<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Text)]
    format: ListFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Rule pack files or folders of `.yaml` files to compile.
    #[arg(value_name = "PATH", required = true)]
    paths: Vec<PathBuf>,
}

pub fn run(args: RulesArgs, renderer: &Renderer) -> ExitStatus {
    let rules = match rules_arg::load(&args.rules) {
        Ok(rules) => rules,
        Err(diagnostics) => {
            rules_arg::print_errors(&diagnostics, renderer, "nothing was listed");
            return ExitStatus::Error;
        }
    };
    let catalog = Catalog::new(&rules);
    match args.format {
        ListFormat::Text => print!("{}", catalog.to_text()),
        ListFormat::Json => match serde_json::to_string_pretty(&catalog) {
            Ok(json) => println!("{json}"),
            Err(error) => {
                eprintln!("claimlint: cannot write the rule list as JSON: {error}");
                return ExitStatus::Error;
            }
        },
    }
    ExitStatus::Clean
}

pub fn validate(args: ValidateArgs, renderer: &Renderer) -> ExitStatus {
    match rules_arg::load(&args.paths) {
        Ok(rules) => {
            let count: usize = rules.packs.iter().map(|p| p.rules.len()).sum();
            println!(
                "claimlint: the rule set is valid: {} with {}",
                plural(rules.packs.len(), "pack"),
                plural(count, "rule")
            );
            ExitStatus::Clean
        }
        Err(diagnostics) => {
            rules_arg::print_errors(&diagnostics, renderer, "fix them and validate again");
            ExitStatus::Error
        }
    }
}

/// The loaded packs and rules, in load order.
#[derive(Debug, Serialize)]
struct Catalog {
    packs: Vec<PackEntry>,
}

#[derive(Debug, Serialize)]
struct PackEntry {
    id: String,
    title: String,
    version: String,
    layer: Layer,
    /// First and last dates of service the pack applies to; `null` is open.
    effective_from: Option<String>,
    effective_until: Option<String>,
    source: String,
    rules: Vec<RuleEntry>,
}

#[derive(Debug, Serialize)]
struct RuleEntry {
    code: String,
    name: String,
    layer: Layer,
    severity: Severity,
    scope: &'static str,
    citation: String,
}

impl Catalog {
    fn new(rules: &RuleSet) -> Catalog {
        Catalog {
            packs: rules.packs.iter().map(PackEntry::new).collect(),
        }
    }

    fn to_text(&self) -> String {
        let mut out = String::new();
        let code_width = self.width(|r| r.code.len());
        let name_width = self.width(|r| r.name.len());
        for (index, pack) in self.packs.iter().enumerate() {
            if index > 0 {
                out.push('\n');
            }
            out.push_str(&format!("{} {}  {}\n", pack.id, pack.version, pack.title));
            out.push_str(&format!(
                "  layer {}; {}; {}; {}\n",
                pack.layer,
                effective_text(
                    pack.effective_from.as_deref(),
                    pack.effective_until.as_deref()
                ),
                plural(pack.rules.len(), "rule"),
                pack.source
            ));
            for rule in &pack.rules {
                let line = format!(
                    "  {:code_width$}  {:name_width$}  {:5}  {:7}  {}",
                    rule.code, rule.name, rule.layer, rule.severity, rule.scope
                );
                out.push_str(line.trim_end());
                out.push('\n');
            }
        }
        out
    }

    fn width(&self, measure: impl Fn(&RuleEntry) -> usize) -> usize {
        self.packs
            .iter()
            .flat_map(|p| p.rules.iter())
            .map(measure)
            .max()
            .unwrap_or(0)
    }
}

impl PackEntry {
    fn new(pack: &Pack) -> PackEntry {
        PackEntry {
            id: pack.id.clone(),
            title: pack.title.clone(),
            version: pack.version.clone(),
            layer: pack.layer,
            effective_from: pack.effective_from.map(|d| d.to_string()),
            effective_until: pack.effective_until.map(|d| d.to_string()),
            source: pack.source.display().to_string(),
            rules: pack
                .rules
                .iter()
                .map(|rule| RuleEntry {
                    code: rule.code.clone(),
                    name: rule.name.clone(),
                    layer: rule.layer,
                    severity: rule.severity,
                    scope: rule.scope.as_str(),
                    citation: rule.citation.clone(),
                })
                .collect(),
        }
    }
}

/// Describes a pack's effective dates, e.g. `effective 2024-01-01 to 2025-12-31`.
pub fn effective_text(from: Option<&str>, until: Option<&str>) -> String {
    match (from, until) {
        (None, None) => "always effective".to_string(),
        (Some(from), None) => format!("effective from {from}"),
        (None, Some(until)) => format!("effective until {until}"),
        (Some(from), Some(until)) => format!("effective {from} to {until}"),
    }
}

pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}
