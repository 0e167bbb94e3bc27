//! `claimlint explain`: a rule's documentation, built from the pack file
//! itself, so that the text a user reads cannot drift from the rule.
//!
//! Every rule is documented with the same sections. The examples are the
//! rule's own `examples`, evaluated here, and the message and help shown are
//! those the failing example really produces.

use std::path::PathBuf;

use claimlint::eval::check_rule;
use claimlint::finding::Layer;
use claimlint::rules::{Example, Pack, Rule, RuleScope, RuleSet};
use clap::{Args, ValueEnum};
use serde_json::Value;

use crate::render::Renderer;
use crate::rules_cmd::effective_text;
use crate::{rules_arg, ExitStatus};

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// Rule codes to explain, e.g. CCM32-003.
    #[arg(value_name = "CODE", required_unless_present = "all")]
    codes: Vec<String>,

    /// Explain every loaded rule.
    #[arg(long, conflicts_with = "codes")]
    all: bool,

    /// Rule pack file or folder; repeat for several. Defaults to the packs
    /// shipped with claimlint.
    #[arg(long = "rules", value_name = "PATH")]
    rules: Vec<PathBuf>,

    /// Output format: text for a terminal, md for Markdown.
    #[arg(long, value_enum, default_value_t = DocFormat::Text)]
    format: DocFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DocFormat {
    Text,
    Md,
}

/// Width of wrapped paragraphs in text output.
const TEXT_WIDTH: usize = 100;

pub fn run(args: ExplainArgs, renderer: &Renderer) -> ExitStatus {
    let rules = match rules_arg::load(&args.rules) {
        Ok(rules) => rules,
        Err(diagnostics) => {
            rules_arg::print_errors(&diagnostics, renderer, "nothing was explained");
            return ExitStatus::Error;
        }
    };

    let mut selected: Vec<(&Pack, &Rule)> = Vec::new();
    if args.all {
        selected.extend(all_rules(&rules));
    }
    let mut unknown = Vec::new();
    for code in &args.codes {
        let matches: Vec<(&Pack, &Rule)> = all_rules(&rules)
            .filter(|(_, rule)| rule.code.eq_ignore_ascii_case(code))
            .collect();
        if matches.is_empty() {
            unknown.push(code.as_str());
        }
        selected.extend(matches);
    }
    if !unknown.is_empty() {
        let codes: Vec<&str> = all_rules(&rules).map(|(_, r)| r.code.as_str()).collect();
        for code in unknown {
            let hint = match claimlint::yaml::suggest(&code.to_ascii_uppercase(), &codes) {
                Some(near) => format!("; did you mean {near}?"),
                None => "; `claimlint rules` lists the loaded rules".to_string(),
            };
            eprintln!("claimlint: no rule `{code}` in the loaded packs{hint}");
        }
        return ExitStatus::Error;
    }

    let pages: Vec<String> = selected
        .into_iter()
        .map(|(pack, rule)| {
            let doc = RuleDoc::new(&rules, pack, rule);
            match args.format {
                DocFormat::Text => doc.to_text(),
                DocFormat::Md => doc.to_markdown("#"),
            }
        })
        .collect();
    print!("{}", pages.join("\n"));
    ExitStatus::Clean
}

/// Returns every rule of every pack, in load order.
pub fn all_rules(rules: &RuleSet) -> impl Iterator<Item = (&Pack, &Rule)> {
    rules
        .packs
        .iter()
        .flat_map(|pack| pack.rules.iter().map(move |rule| (pack, rule)))
}

/// The documentation of one rule, section by section.
pub struct RuleDoc<'a> {
    pack: &'a Pack,
    rule: &'a Rule,
    applies: Vec<String>,
    fail: Option<ExampleDoc>,
    pass: Option<ExampleDoc>,
    help: String,
}

/// One example as shown: its JSON, and the message of the finding it
/// produces (failing examples only).
struct ExampleDoc {
    json: String,
    message: Option<String>,
}

impl<'a> RuleDoc<'a> {
    pub fn new(rules: &RuleSet, pack: &'a Pack, rule: &'a Rule) -> RuleDoc<'a> {
        let mut applies = Vec::new();
        let effective = effective_text(
            pack.effective_from.map(|d| d.to_string()).as_deref(),
            pack.effective_until.map(|d| d.to_string()).as_deref(),
        );
        match rule.scope {
            RuleScope::Record => {
                applies.push(match &pack.applies_when {
                    Some(condition) => format!(
                        "Records with {}; the pack is {effective}.",
                        condition.describe()
                    ),
                    None => format!("Every record; the pack is {effective}."),
                });
                if let Some(when) = &rule.when {
                    applies.push(format!(
                        "The rule checks only records with {}.",
                        when.describe()
                    ));
                }
            }
            RuleScope::PatientMonth => {
                let members = rule.members.as_ref().or(pack.applies_when.as_ref());
                applies.push(match members {
                    Some(condition) => format!(
                        "All records of one patient in one calendar month, among records with {}; the pack is {effective}.",
                        condition.describe()
                    ),
                    None => format!("All records of one patient in one calendar month; the pack is {effective}."),
                });
                if let Some(when) = &rule.when {
                    applies.push(format!(
                        "The rule checks only months with {}.",
                        when.describe()
                    ));
                }
                applies.push("A finding is reported on each record of the month.".to_string());
            }
        }

        let mut help = None;
        let mut document = |example: &Example, wants_finding: bool| {
            let records = example.to_records(&pack.source);
            let finding = check_rule(rules, pack, rule, &records)
                .findings
                .into_iter()
                .next();
            let message = match (&finding, wants_finding) {
                (Some(finding), true) => {
                    help = Some(finding.help.clone());
                    Some(format!(
                        "{} (record {})",
                        finding.message, finding.record_id
                    ))
                }
                _ => None,
            };
            ExampleDoc {
                json: example_json(example),
                message,
            }
        };
        let (fail, pass) = match &rule.examples {
            Some(examples) => (
                Some(document(&examples.fail, true)),
                Some(document(&examples.pass, false)),
            ),
            None => (None, None),
        };
        let help = help.or_else(|| rules.help_source(rule)).unwrap_or_default();
        RuleDoc {
            pack,
            rule,
            applies,
            fail,
            pass,
            help,
        }
    }

    /// Returns the sections in order: heading and body.
    fn sections(&self) -> Vec<(&'static str, Section)> {
        vec![
            (
                "What it checks",
                Section::Text(self.rule.description.clone()),
            ),
            ("Applies to", Section::Text(self.applies.join(" "))),
            ("Why it matters", Section::Text(layer_text(self.rule.layer))),
            ("Failing example", self.example_section(&self.fail)),
            ("Passing example", self.example_section(&self.pass)),
            ("How to fix", Section::Text(self.help.clone())),
            ("Source", Section::Text(self.rule.citation.clone())),
        ]
    }

    fn example_section(&self, example: &Option<ExampleDoc>) -> Section {
        match example {
            Some(example) => Section::Example {
                json: example.json.clone(),
                message: example.message.clone(),
            },
            None => Section::Text(
                "None written yet: add `examples: { fail: …, pass: … }` to the rule.".to_string(),
            ),
        }
    }

    fn facts(&self) -> String {
        format!(
            "pack {} {} ({}), layer {}, severity {}, scope {}",
            self.pack.id,
            self.pack.version,
            self.pack.source.display(),
            self.rule.layer,
            self.rule.severity,
            self.rule.scope.as_str()
        )
    }

    /// Renders the documentation for a terminal, paragraphs wrapped.
    pub fn to_text(&self) -> String {
        let mut out = format!("{} {}\n{}\n", self.rule.code, self.rule.name, self.facts());
        for (heading, section) in self.sections() {
            out.push_str(&format!("\n{heading}\n"));
            match section {
                Section::Text(text) => out.push_str(&wrap(&text)),
                Section::Example { json, message } => {
                    for line in json.lines() {
                        out.push_str(&format!("  {line}\n"));
                    }
                    if let Some(message) = message {
                        out.push_str(&wrap(&format!("Reported as: {message}")));
                    }
                }
            }
        }
        out
    }

    /// Renders the documentation as Markdown, with the rule's heading one
    /// level below `parent` (`#` for a page of its own).
    pub fn to_markdown(&self, parent: &str) -> String {
        let mut out = format!("{parent}# {} {}\n\n", self.rule.code, self.rule.name);
        out.push_str("| Pack | Layer | Severity | Scope |\n|---|---|---|---|\n");
        out.push_str(&format!(
            "| {} {} | {} | {} | {} |\n",
            self.pack.id,
            self.pack.version,
            self.rule.layer,
            self.rule.severity,
            self.rule.scope.as_str()
        ));
        for (heading, section) in self.sections() {
            out.push_str(&format!("\n{parent}## {heading}\n\n"));
            match section {
                Section::Text(text) => {
                    out.push_str(&markdown_text(&text));
                    out.push('\n');
                }
                Section::Example { json, message } => {
                    out.push_str(&format!("```json\n{json}\n```\n"));
                    if let Some(message) = message {
                        out.push_str(&format!("\nReported as: {}\n", markdown_text(&message)));
                    }
                }
            }
        }
        out
    }
}

enum Section {
    Text(String),
    Example {
        json: String,
        message: Option<String>,
    },
}

/// Why a rule of this layer matters, and how an appeal may present it.
fn layer_text(layer: Layer) -> String {
    match layer {
        Layer::Cms => "A Medicare requirement (layer cms), set by CMS or a Medicare Administrative \
                       Contractor. A claim that does not meet it can be denied or recovered on audit."
            .to_string(),
        Layer::Payer => "A payer's own policy (layer payer), not a Medicare requirement. The payer denies \
                         claims that do not meet it, but an appeal must never present it as Medicare law."
            .to_string(),
    }
}

/// Formats the example's records as JSON: one object, or an array of them.
fn example_json(example: &Example) -> String {
    let value = match example.records.as_slice() {
        [one] => one.clone(),
        many => Value::Array(many.to_vec()),
    };
    let mut out = String::new();
    write_json(&value, 0, &mut out);
    out
}

/// Maximum line length, in characters, at which an object or list stays on one line.
const JSON_LINE: usize = 80;

/// Writes `value` indented by two spaces a level, keeping each object or
/// list on one line when it fits, so that examples stay short.
fn write_json(value: &Value, depth: usize, out: &mut String) {
    let inline = inline_json(value);
    if depth * 2 + inline.chars().count() <= JSON_LINE || !is_container(value) {
        out.push_str(&inline);
        return;
    }
    let indent = "  ".repeat(depth + 1);
    let (open, close) = if value.is_array() {
        ('[', ']')
    } else {
        ('{', '}')
    };
    out.push(open);
    out.push('\n');
    let mut first = true;
    let mut item = |key: Option<&str>, child: &Value, out: &mut String| {
        if !first {
            out.push_str(",\n");
        }
        first = false;
        out.push_str(&indent);
        if let Some(key) = key {
            out.push_str(&format!("{}: ", Value::from(key)));
        }
        write_json(child, depth + 1, out);
    };
    match value {
        Value::Array(items) => items.iter().for_each(|child| item(None, child, out)),
        Value::Object(fields) => fields
            .iter()
            .for_each(|(key, child)| item(Some(key), child, out)),
        _ => {}
    }
    out.push('\n');
    out.push_str(&"  ".repeat(depth));
    out.push(close);
}

fn is_container(value: &Value) -> bool {
    matches!(value, Value::Array(items) if !items.is_empty())
        || matches!(value, Value::Object(fields) if !fields.is_empty())
}

/// Formats `value` on one line, with a space inside braces and after separators.
fn inline_json(value: &Value) -> String {
    match value {
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(inline_json).collect();
            format!("[{}]", parts.join(", "))
        }
        Value::Object(fields) if fields.is_empty() => "{}".to_string(),
        Value::Object(fields) => {
            let parts: Vec<String> = fields
                .iter()
                .map(|(key, child)| {
                    format!("{}: {}", Value::from(key.as_str()), inline_json(child))
                })
                .collect();
            format!("{{ {} }}", parts.join(", "))
        }
        scalar => scalar.to_string(),
    }
}

fn wrap(text: &str) -> String {
    let options = textwrap::Options::new(TEXT_WIDTH)
        .initial_indent("  ")
        .subsequent_indent("  ")
        .word_splitter(textwrap::WordSplitter::NoHyphenation);
    format!("{}\n", textwrap::fill(text.trim(), options))
}

/// Escapes the characters that would turn rule text into Markdown markup.
pub fn markdown_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.trim().chars() {
        if matches!(c, '*' | '_' | '<' | '>' | '[' | ']' | '|' | '`' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
