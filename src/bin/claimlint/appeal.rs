//! `claimlint appeal`: letters for denied claims, or why none was written.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use claimlint::appeal::assess::{
    assess, assess_denial, AppealSettings, Assessment, Case, CaseOutcome, MissingItem, Refusal,
    RefusalReason,
};
use claimlint::appeal::eligibility::ClaimDenial;
use claimlint::appeal::manifest::{unmatched_recommendation, Manifest, ManifestEntry};
use claimlint::appeal::output::{self, Format};
use claimlint::appeal::profile::{PayerDirectory, PracticeProfile};
use claimlint::appeal::template::{LetterTemplate, TemplateError};
use claimlint::diagnostic::{Level, SourceDiagnostic};
use claimlint::record::Record;
use claimlint::remit::{DenialOutcome, RemitDenial};
use claimlint::rules::{Pack, RuleSet};
use clap::{Args, ValueEnum};
use jiff::civil::Date;
use serde_json::Value;

use crate::render::Renderer;
use crate::report::{self, plural, SourceCache};
use crate::{inputs, remit, remittance, rules_arg, ExitStatus};

#[derive(Debug, Args)]
pub struct AppealArgs {
    /// Files or folders of encounter records; `-` reads standard input.
    #[arg(value_name = "PATH", required = true)]
    paths: Vec<PathBuf>,

    /// Practice profile (YAML): the letterhead, NPI and signer. Required.
    #[arg(long, value_name = "FILE")]
    practice: Option<PathBuf>,

    /// Payer profiles (YAML): appeals address and appeal window of each
    /// payer, by payer id. Required.
    #[arg(long, value_name = "FILE")]
    payers: Option<PathBuf>,

    /// Rule pack file or folder; repeat for several. Defaults to the packs
    /// shipped with claimlint.
    #[arg(long = "rules", value_name = "PATH")]
    rules: Vec<PathBuf>,

    /// FHIR mapping file (YAML) naming the local codes of portal offers,
    /// invitations and education; its sections replace those of the
    /// built-in mapping, mappings/fhir-r4.yaml.
    #[arg(long = "fhir-mapping", value_name = "FILE")]
    fhir_mapping: Option<PathBuf>,

    /// Remittance file (X12 835, or FHIR ExplanationOfBenefit or
    /// ClaimResponse JSON) whose denials to appeal; repeat for several.
    /// Each denial replaces the claim.denial of the record whose claim.id
    /// is its claim id (CLP01), and records that no denial names are not
    /// assessed.
    #[arg(long, value_name = "FILE")]
    remittance: Vec<PathBuf>,

    /// Letter template (Markdown with minijinja) to use instead of each
    /// pack's own.
    #[arg(long, value_name = "FILE")]
    template: Option<PathBuf>,

    /// Letter formats to write; repeat the option or separate with commas.
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [FormatArg::Md])]
    format: Vec<FormatArg>,

    /// Folder for the letters and manifest.json; created owner-only if
    /// missing.
    #[arg(long, value_name = "DIR", default_value = "appeals")]
    out: PathBuf,

    /// Replace letters that already exist.
    #[arg(long)]
    force: bool,

    /// Show what would be written, and write nothing.
    #[arg(long)]
    dry_run: bool,

    /// Write letters even when the appeal deadline has passed.
    #[arg(long)]
    allow_late: bool,

    /// The letters' date, from which deadlines are counted (YYYY-MM-DD).
    /// Defaults to today's date on this machine.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    today: Option<Date>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
enum FormatArg {
    Md,
    Txt,
    Pdf,
}

impl From<FormatArg> for Format {
    fn from(format: FormatArg) -> Self {
        match format {
            FormatArg::Md => Format::Md,
            FormatArg::Txt => Format::Txt,
            FormatArg::Pdf => Format::Pdf,
        }
    }
}

fn parse_date(text: &str) -> Result<Date, String> {
    claimlint::appeal::deadline::parse_notice_date(text)
        .ok_or_else(|| format!("`{text}` is not a date (YYYY-MM-DD)"))
}

/// Counts for the summary line.
#[derive(Debug, Default)]
struct Totals {
    records: usize,
    not_denied: usize,
    uncovered: usize,
    appealed: usize,
    refused: usize,
    errors: usize,
    /// Remittance denials whose claim no record has, unprocessable ones aside.
    unmatched: usize,
    /// Records that no remittance denial names, with --remittance.
    not_remitted: usize,
}

/// The remittance denials of `--remittance`, by claim id, with whether a
/// record matched each.
struct RemittanceJoin {
    denials: Vec<(RemitDenial, DenialOutcome)>,
    by_claim: HashMap<String, Vec<usize>>,
    matched: Vec<bool>,
    /// Notes for records that several denials name.
    notes: Vec<String>,
}

impl RemittanceJoin {
    fn new(denials: Vec<RemitDenial>, rules: &RuleSet) -> Self {
        let mut by_claim: HashMap<String, Vec<usize>> = HashMap::new();
        for (index, denial) in denials.iter().enumerate() {
            by_claim
                .entry(denial.claim_id.clone())
                .or_default()
                .push(index);
        }
        let matched = vec![false; denials.len()];
        let denials = denials
            .into_iter()
            .map(|denial| {
                let outcome = denial.classify(rules);
                (denial, outcome)
            })
            .collect();
        RemittanceJoin {
            denials,
            by_claim,
            matched,
            notes: Vec::new(),
        }
    }

    /// Returns the record once per remittance denial of its claim, each with
    /// `claim.denial` replaced by that denial, and the denial to assess.
    fn join(&mut self, record: &Record) -> Vec<(Record, ClaimDenial)> {
        let claim_id = record
            .value
            .pointer("/claim/id")
            .and_then(Value::as_str)
            .map(str::trim)
            .unwrap_or_default();
        let Some(indexes) = self.by_claim.get(claim_id) else {
            return Vec::new();
        };
        if indexes.len() > 1 {
            let places: Vec<String> = indexes
                .iter()
                .map(|&i| remittance_place(&self.denials[i].0))
                .collect();
            self.notes.push(format!(
                "claim {claim_id} (record {}): {} denials in the remittance files ({}); each is assessed on its own",
                record.id,
                indexes.len(),
                places.join(", ")
            ));
        }
        let mut joined = Vec::new();
        for &index in indexes {
            self.matched[index] = true;
            let (denial, outcome) = &self.denials[index];
            // NOTE: the join is on the claim id alone. A remittance payer id
            // that differs from the record's claim.payer.id is not reported,
            // and the letter goes to the record's payer.
            let mut copy = record.clone();
            if let Some(claim) = copy.value.get_mut("claim").and_then(Value::as_object_mut) {
                claim.insert("status".to_string(), Value::from("denied"));
                claim.insert("denial".to_string(), denial.record_denial(outcome));
            }
            if let Some(mut claim_denial) = ClaimDenial::from_record(&copy) {
                claim_denial.remittance = denial.remittance_source();
                joined.push((copy, claim_denial));
            }
        }
        joined
    }

    /// Returns the denials that no record matched.
    fn unmatched(&self) -> impl Iterator<Item = &(RemitDenial, DenialOutcome)> {
        self.denials
            .iter()
            .zip(&self.matched)
            .filter(|(_, matched)| !**matched)
            .map(|(denial, _)| denial)
    }
}

/// "file:line" of a remittance denial, or the file for JSON input.
fn remittance_place(denial: &RemitDenial) -> String {
    match denial.position {
        Some(position) => format!("{}:{}", denial.source, position.line),
        None => denial.source.clone(),
    }
}

/// A denied claim kept until output, so it can be located and sorted.
struct Considered<'r> {
    record: Record,
    case: Case<'r>,
}

pub fn run(args: AppealArgs, renderer: &Renderer) -> ExitStatus {
    let print_all = |diagnostics: &[SourceDiagnostic]| {
        for diagnostic in diagnostics {
            out!("{}", renderer.render(diagnostic));
        }
    };

    let rules = match rules_arg::load(&args.rules) {
        Ok(rules) => rules,
        Err(diagnostics) => {
            print_all(&diagnostics);
            outln!(
                "claimlint: the rule set has {} error(s); no appeal was assessed",
                diagnostics.len()
            );
            return ExitStatus::Error;
        }
    };
    // Profiles not given as options come from claimlint.yaml, found from
    // the current folder upward, as `check` finds it.
    let mut args = args;
    if args.practice.is_none() || args.payers.is_none() {
        let found = std::env::current_dir()
            .ok()
            .and_then(|dir| claimlint::config::discover(&dir));
        if let Some(path) = found {
            match claimlint::config::load(&path, &rules) {
                Ok(config) => {
                    args.practice = args.practice.take().or(config.practice_profile);
                    args.payers = args.payers.take().or(config.payer_profiles);
                }
                Err(diagnostics) => {
                    print_all(&diagnostics);
                    outln!("claimlint: no appeal was assessed; fix the configuration above");
                    return ExitStatus::Error;
                }
            }
        }
    }
    let (practice, payers) = match read_profiles(&args) {
        Ok(profiles) => profiles,
        Err(diagnostics) => {
            print_all(&diagnostics);
            outln!("claimlint: no appeal was assessed; fix the options or profiles above");
            return ExitStatus::Error;
        }
    };
    let fhir_mapping = match inputs::load_fhir_mapping(args.fhir_mapping.as_deref()) {
        Ok(mapping) => mapping,
        Err(diagnostics) => {
            print_all(&diagnostics);
            outln!(
                "claimlint: the FHIR mapping has {} error(s); no appeal was assessed",
                diagnostics.len()
            );
            return ExitStatus::Error;
        }
    };
    let override_template = match &args.template {
        Some(path) => match read_template(path) {
            Ok(template) => Some(template),
            Err(diagnostic) => {
                print_all(&[*diagnostic]);
                outln!("claimlint: the letter template could not be used; no appeal was assessed");
                return ExitStatus::Error;
            }
        },
        None => None,
    };
    let today = args
        .today
        .unwrap_or_else(|| jiff::ZonedDateTime::now().date());
    let settings = AppealSettings {
        practice: &practice,
        payers: &payers,
        today,
        allow_late: args.allow_late,
    };

    let mut remittance_errors = 0;
    let mut join = if args.remittance.is_empty() {
        None
    } else {
        let remittances = remittance::load(&args.remittance, &fhir_mapping);
        print_all(&remittances.diagnostics);
        remittance_errors = remittances.errors;
        Some(RemittanceJoin::new(remittances.denials, &rules))
    };

    let mut totals = Totals::default();
    let mut considered = Vec::new();
    let mut uncovered = Vec::new();
    let mut loaded = inputs::load(&args.paths, &fhir_mapping, |record| {
        totals.records += 1;
        let assessments = match &mut join {
            None => vec![(assess(&rules, &record, &settings), record)],
            Some(join) => {
                let joined = join.join(&record);
                if joined.is_empty() {
                    totals.not_remitted += 1;
                }
                joined
                    .into_iter()
                    .map(|(record, denial)| {
                        (assess_denial(&rules, &record, &settings, denial), record)
                    })
                    .collect()
            }
        };
        for (assessment, record) in assessments {
            match assessment {
                Assessment::NotDenied => totals.not_denied += 1,
                Assessment::Uncovered { denial } => {
                    totals.uncovered += 1;
                    uncovered.push((record.id.clone(), record.origin.file.to_string(), *denial));
                }
                Assessment::Considered(case) => considered.push(Considered {
                    record,
                    case: *case,
                }),
            }
        }
    });
    considered.sort_by(|a, b| {
        let key = |c: &Considered<'_>| {
            (
                c.record.origin.file.clone(),
                c.record.origin.line,
                c.record.origin.pointer.clone(),
            )
        };
        key(a).cmp(&key(b))
    });

    report::sort_input_errors(&mut loaded.errors);
    for error in &loaded.errors {
        out!(
            "{}",
            renderer.render(&report::input_diagnostic(error, &mut loaded.sources))
        );
    }
    report::sort_input_errors(&mut loaded.warnings);
    for warning in &loaded.warnings {
        let diagnostic =
            report::input_diagnostic(warning, &mut loaded.sources).with_level(Level::Warning);
        out!("{}", renderer.render(&diagnostic));
    }
    for (record_id, file, denial) in &uncovered {
        outln!("{}", uncovered_line(record_id, file, denial));
    }
    if let Some(join) = &join {
        for note in &join.notes {
            outln!("{note}");
        }
    }

    let formats: BTreeSet<Format> = args.format.iter().map(|f| Format::from(*f)).collect();
    let mut writer = Writer {
        out: &args.out,
        formats: &formats,
        force: args.force,
        dry_run: args.dry_run,
        used_stems: HashMap::new(),
        out_ready: false,
    };
    let mut templates = Templates {
        overridden: override_template,
        by_pack: HashMap::new(),
    };
    let mut manifest = Manifest::new(today.to_string());
    for entry in &considered {
        let (manifest_entry, diagnostics, lines) = process(
            entry,
            &mut templates,
            &mut writer,
            &mut totals,
            &mut loaded.sources,
        );
        print_all(&diagnostics);
        for line in lines {
            outln!("{line}");
        }
        manifest.claims.push(manifest_entry);
    }
    if let Some(join) = &join {
        for (denial, outcome) in join.unmatched() {
            outln!("{}", without_record_line(denial, outcome));
            match outcome {
                DenialOutcome::Unprocessable { .. } => totals.refused += 1,
                _ => totals.unmatched += 1,
            }
            manifest
                .claims
                .push(ManifestEntry::without_record(denial, outcome));
        }
    }

    if !manifest.claims.is_empty() {
        let path = args.out.join("manifest.json");
        if args.dry_run {
            outln!("would write {}", path.display());
        } else if let Err(error) = writer
            .ensure_out()
            .and_then(|()| output::write_atomic(&path, manifest.to_json().as_bytes(), true))
        {
            print_all(&[
                SourceDiagnostic::error(error.to_string()).with_code("claimlint::appeal::write")
            ]);
            totals.errors += 1;
        }
    }
    print_summary(
        &totals,
        loaded.errors.len() + remittance_errors,
        args.dry_run,
        join.is_some(),
    );

    if !loaded.errors.is_empty() || remittance_errors > 0 || totals.errors > 0 {
        ExitStatus::Error
    } else if totals.refused > 0 || totals.unmatched > 0 {
        ExitStatus::Findings
    } else {
        ExitStatus::Clean
    }
}

fn read_profiles(
    args: &AppealArgs,
) -> Result<(PracticeProfile, PayerDirectory), Vec<SourceDiagnostic>> {
    let mut diagnostics = Vec::new();
    if args.practice.is_none() {
        diagnostics.push(
            SourceDiagnostic::error("missing option --practice FILE")
                .with_code("claimlint::appeal::usage")
                .with_help("name the practice profile (YAML) that gives the letterhead, NPI and signer, e.g. --practice examples/profiles/practice.yaml"),
        );
    }
    if args.payers.is_none() {
        diagnostics.push(
            SourceDiagnostic::error("missing option --payers FILE")
                .with_code("claimlint::appeal::usage")
                .with_help("name the payer profiles (YAML) that give each payer's appeals address, e.g. --payers examples/profiles/payers.yaml"),
        );
    }
    let (Some(practice_path), Some(payers_path)) = (&args.practice, &args.payers) else {
        return Err(diagnostics);
    };

    let practice = read_file(practice_path, "practice profile")
        .and_then(|text| PracticeProfile::parse(practice_path, &text).map_err(|e| e.diagnostics()));
    let payers = read_file(payers_path, "payer profiles")
        .and_then(|text| PayerDirectory::parse(payers_path, &text).map_err(|e| e.diagnostics()));
    match (practice, payers) {
        (Ok(practice), Ok(payers)) => Ok((practice, payers)),
        (practice, payers) => {
            diagnostics.extend(practice.err().unwrap_or_default());
            diagnostics.extend(payers.err().unwrap_or_default());
            Err(diagnostics)
        }
    }
}

fn read_file(path: &Path, what: &str) -> Result<String, Vec<SourceDiagnostic>> {
    std::fs::read_to_string(path).map_err(|error| {
        vec![
            SourceDiagnostic::error(format!("cannot read {what} {}: {error}", path.display()))
                .with_code("claimlint::appeal::io"),
        ]
    })
}

fn read_template(path: &Path) -> Result<LetterTemplate, Box<SourceDiagnostic>> {
    let text = std::fs::read_to_string(path).map_err(|error| {
        Box::new(
            SourceDiagnostic::error(format!(
                "cannot read letter template {}: {error}",
                path.display()
            ))
            .with_code("claimlint::appeal::io"),
        )
    })?;
    LetterTemplate::compile(&path.display().to_string(), &text)
        .map_err(|e| Box::new(template_diagnostic(&e)))
}

fn template_diagnostic(error: &TemplateError) -> SourceDiagnostic {
    let mut diagnostic = SourceDiagnostic::error(format!("{}: {}", error.name, error.message))
        .with_code("claimlint::appeal::template");
    diagnostic.help = error.help.clone();
    match &error.span {
        Some(span) => {
            diagnostic.with_source(&error.name, error.source_text.clone(), span.clone(), "here")
        }
        None => diagnostic,
    }
}

/// Letter templates: the `--template` file, or each pack's own, compiled
/// once per pack.
struct Templates {
    overridden: Option<LetterTemplate>,
    by_pack: HashMap<String, Result<Arc<LetterTemplate>, Box<SourceDiagnostic>>>,
}

impl Templates {
    fn for_pack(&mut self, pack: &Pack) -> Result<&LetterTemplate, Box<SourceDiagnostic>> {
        if let Some(template) = &self.overridden {
            return Ok(template);
        }
        let entry = self
            .by_pack
            .entry(pack.id.clone())
            .or_insert_with(|| load_pack_template(pack).map(Arc::new));
        match entry {
            Ok(template) => Ok(template),
            Err(diagnostic) => Err(diagnostic.clone()),
        }
    }
}

fn load_pack_template(pack: &Pack) -> Result<LetterTemplate, Box<SourceDiagnostic>> {
    let Some(spec) = &pack.appeal else {
        return Err(Box::new(SourceDiagnostic::error(format!("pack {} has no appeal letter template", pack.id))
            .with_code("claimlint::appeal::template")
            .with_help(format!(
                "add `appeal: {{ template: FILE }}` to the pack header in {}, or pass --template FILE",
                pack.source.display()
            ))));
    };
    let name = spec.template.display().to_string();
    let text = match spec.embedded {
        Some(text) => text.to_string(),
        None => std::fs::read_to_string(&spec.template).map_err(|error| {
            Box::new(
                SourceDiagnostic::error(format!(
                    "cannot read letter template {name} of pack {}: {error}",
                    pack.id
                ))
                .with_code("claimlint::appeal::io"),
            )
        })?,
    };
    LetterTemplate::compile(&name, &text).map_err(|e| Box::new(template_diagnostic(&e)))
}

/// The output folder, formats and overwrite policy for letters.
struct Writer<'a> {
    out: &'a Path,
    formats: &'a BTreeSet<Format>,
    force: bool,
    dry_run: bool,
    /// File stems used in this run, so that two claims with the same id do
    /// not write to one file.
    used_stems: HashMap<String, usize>,
    out_ready: bool,
}

impl Writer<'_> {
    fn ensure_out(&mut self) -> Result<(), output::WriteError> {
        if !self.out_ready {
            output::create_dir(self.out)?;
            self.out_ready = true;
        }
        Ok(())
    }

    fn stem(&mut self, claim_id: &str) -> String {
        let stem = output::safe_file_stem(claim_id);
        let count = self.used_stems.entry(stem.clone()).or_insert(0);
        *count += 1;
        if *count == 1 {
            stem
        } else {
            format!("{stem}-{count}")
        }
    }

    /// Writes one claim's letter in every format; returns the file names
    /// and what was done, or the error. Nothing is written when any of the
    /// files exists and `force` is off.
    fn write(
        &mut self,
        claim_id: &str,
        markdown: &str,
    ) -> Result<(Vec<String>, Vec<String>), String> {
        let stem = self.stem(claim_id);
        let title = format!("Appeal of claim {claim_id}");
        let mut files = Vec::new();
        for format in self.formats {
            let bytes = output::convert(markdown, *format, &title).map_err(|e| e.to_string())?;
            files.push((format!("{stem}.{}", format.extension()), bytes));
        }
        let names: Vec<String> = files.iter().map(|(name, _)| name.clone()).collect();

        if self.dry_run {
            let lines = files
                .iter()
                .map(|(name, bytes)| {
                    format!(
                        "would write {} ({})",
                        self.out.join(name).display(),
                        plural(bytes.len(), "byte")
                    )
                })
                .collect();
            return Ok((names, lines));
        }
        if !self.force {
            if let Some((name, _)) = files
                .iter()
                .find(|(name, _)| std::fs::symlink_metadata(self.out.join(name)).is_ok())
            {
                return Err(format!(
                    "{} already exists; use --force to replace it",
                    self.out.join(name).display()
                ));
            }
        }
        self.ensure_out().map_err(|e| e.to_string())?;
        let mut lines = Vec::new();
        for (name, bytes) in &files {
            let path = self.out.join(name);
            output::write_atomic(&path, bytes, self.force).map_err(|e| e.to_string())?;
            lines.push(format!("wrote {}", path.display()));
        }
        Ok((names, lines))
    }
}

/// Writes or refuses one claim; returns its manifest entry, the
/// diagnostics and the plain lines to print.
fn process(
    entry: &Considered<'_>,
    templates: &mut Templates,
    writer: &mut Writer<'_>,
    totals: &mut Totals,
    sources: &mut SourceCache,
) -> (ManifestEntry, Vec<SourceDiagnostic>, Vec<String>) {
    let Considered { record, case } = entry;
    let source = record.origin.file.to_string();
    let claim = format!("claim {} (record {})", case.denial.claim_id, record.id);
    let mut diagnostics = Vec::new();
    let mut lines = Vec::new();
    let entry_for = |letters, error| ManifestEntry::new(case, &record.id, &source, letters, error);

    match &case.outcome {
        CaseOutcome::Appeal(appeal) => {
            let written = case
                .pack
                .ok_or_else(|| Box::new(SourceDiagnostic::error("no pack covers this denial")))
                .and_then(|pack| templates.for_pack(pack))
                .and_then(|template| {
                    template
                        .render(&appeal.context)
                        .map_err(|e| Box::new(template_diagnostic(&e)))
                })
                .and_then(|markdown| {
                    writer
                        .write(&case.denial.claim_id, &markdown)
                        .map_err(|message| {
                            Box::new(
                                SourceDiagnostic::error(format!("{claim}: {message}"))
                                    .with_code("claimlint::appeal::write"),
                            )
                        })
                });
            match written {
                Ok((names, written_lines)) => {
                    totals.appealed += 1;
                    let deadline = &appeal.deadline;
                    lines.extend(written_lines);
                    lines.push(format!(
                        "{claim}: letter ready; appeal by {} ({}; {})",
                        deadline.due,
                        days_left(deadline.days_left),
                        deadline.rule.describe()
                    ));
                    for warning in &appeal.warnings {
                        diagnostics.push(
                            SourceDiagnostic::error(format!("{claim}: {warning}"))
                                .with_level(Level::Warning)
                                .with_code("claimlint::appeal::deadline"),
                        );
                    }
                    (entry_for(names, None), diagnostics, lines)
                }
                Err(diagnostic) => {
                    totals.errors += 1;
                    let message = diagnostic.message.clone();
                    diagnostics.push(*diagnostic);
                    (entry_for(Vec::new(), Some(message)), diagnostics, lines)
                }
            }
        }
        CaseOutcome::Refuse(refusal) => {
            totals.refused += 1;
            diagnostics.extend(refusal_diagnostics(
                &claim,
                record,
                &case.denial,
                refusal,
                sources,
            ));
            lines.push(format!(
                "{claim}: not appealed ({}); recommended action: {}",
                refusal_summary(refusal),
                refusal.action.describe()
            ));
            (entry_for(Vec::new(), None), diagnostics, lines)
        }
        CaseOutcome::Error(error) => {
            totals.errors += 1;
            diagnostics.push(
                SourceDiagnostic::error(format!("{claim}: {error}"))
                    .with_code("claimlint::appeal::profile")
                    .with_help(error.help()),
            );
            (entry_for(Vec::new(), None), diagnostics, lines)
        }
    }
}

fn days_left(days: i64) -> String {
    match days {
        0 => "due today".to_string(),
        d if d < 0 => format!("{} late", plural(d.unsigned_abs() as usize, "day")),
        d => format!("{} left", plural(d as usize, "day")),
    }
}

fn refusal_summary(refusal: &Refusal) -> String {
    match &refusal.reason {
        RefusalReason::Unprocessable { .. } => "returned as unprocessable".to_string(),
        RefusalReason::NotApplicable { .. } => "the covering pack does not apply".to_string(),
        RefusalReason::MissingEvidence => {
            let rules = refusal.failed_rules();
            let letter_data = refusal.missing.iter().filter(|m| m.rule.is_none()).count();
            let mut parts = Vec::new();
            if !rules.is_empty() {
                parts.push(format!("no evidence for {}", rules.join(", ")));
            }
            if letter_data > 0 {
                parts.push(format!(
                    "{} the letter needs",
                    plural(letter_data, "record field")
                ));
            }
            parts.join("; ")
        }
        RefusalReason::Late => "the appeal deadline has passed".to_string(),
    }
}

/// Builds one diagnostic per missing piece, or one for the reason when
/// nothing is missing.
fn refusal_diagnostics(
    claim: &str,
    record: &Record,
    denial: &ClaimDenial,
    refusal: &Refusal,
    sources: &mut SourceCache,
) -> Vec<SourceDiagnostic> {
    let action = format!("recommended action: {}", refusal.action.describe());
    match &refusal.reason {
        RefusalReason::MissingEvidence => refusal
            .missing
            .iter()
            .map(|item| missing_diagnostic(claim, record, item, &action, sources))
            .collect(),
        RefusalReason::Unprocessable { detail } => {
            let codes = denial.codes_text().unwrap_or_default();
            let diagnostic = SourceDiagnostic::error(format!(
                "{claim}: not appealed: the claim was returned as unprocessable ({codes})"
            ))
            .with_code("claimlint::appeal::unprocessable")
            .with_help(format!(
                "{}\n{detail}",
                capitalize(refusal.action.describe())
            ));
            vec![report::with_record_source(
                diagnostic,
                record,
                "/claim/denial",
                "unprocessable".to_string(),
                sources,
            )]
        }
        RefusalReason::NotApplicable { detail } => {
            let diagnostic = SourceDiagnostic::error(format!("{claim}: not appealed: {detail}"))
                .with_code("claimlint::appeal::not-applicable")
                .with_help(capitalize(refusal.action.describe()));
            vec![report::with_record_source(
                diagnostic,
                record,
                "/claim/denial",
                "denial answered by the pack".to_string(),
                sources,
            )]
        }
        RefusalReason::Late => {
            let (due, late) = refusal
                .deadline
                .map(|d| (d.due.to_string(), days_left(d.days_left)))
                .unwrap_or_default();
            let mut diagnostic = SourceDiagnostic::error(format!(
                "{claim}: not appealed: the appeal deadline passed on {due} ({late})"
            ))
            .with_code("claimlint::appeal::late")
            .with_help(format!(
                "{}; to write the letter anyway, run again with --allow-late",
                capitalize(refusal.action.describe())
            ));
            if let Some(deadline) = refusal.deadline {
                diagnostic
                    .notes
                    .push(format!("deadline: {}", deadline.rule.describe()));
            }
            vec![report::with_record_source(
                diagnostic,
                record,
                "/claim/denial/notice_date",
                "notice date".to_string(),
                sources,
            )]
        }
    }
}

fn missing_diagnostic(
    claim: &str,
    record: &Record,
    item: &MissingItem,
    action: &str,
    sources: &mut SourceCache,
) -> SourceDiagnostic {
    let label = match &item.found {
        Some(found) => format!("expected {}; {found}", item.expected),
        None => format!("expected {}", item.expected),
    };
    let mut diagnostic = match &item.rule {
        Some(rule) => {
            let mut diagnostic = SourceDiagnostic::error(format!(
                "{claim}: not appealed: no evidence of {}",
                item.expected
            ))
            .with_code(format!("{} {}", rule.code, rule.name));
            if !rule.help.is_empty() {
                diagnostic.help = Some(rule.help.clone());
            }
            if item.any_of {
                diagnostic.notes.push(format!(
                    "{} accepts any one of its alternatives; none was found",
                    rule.code
                ));
            }
            diagnostic.notes.push(format!(
                "rule: {} {} ({} layer); source: {}",
                rule.code, rule.name, rule.layer, rule.citation
            ));
            diagnostic
        }
        None => SourceDiagnostic::error(format!(
            "{claim}: not appealed: the letter needs {}",
            item.expected
        ))
        .with_code("claimlint::appeal::letter-data")
        .with_help("add it to the record"),
    };
    diagnostic.notes.push(action.to_string());
    report::with_record_source(diagnostic, record, &item.pointer, label, sources)
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn uncovered_line(record_id: &str, file: &str, denial: &ClaimDenial) -> String {
    format!(
        "claim {} (record {record_id}, {file}): denial {} is not covered by any rule pack; not considered",
        denial.claim_id,
        denial.name()
    )
}

/// The line for a remittance denial whose claim id no record has.
fn without_record_line(denial: &RemitDenial, outcome: &DenialOutcome) -> String {
    let place = remittance_place(denial);
    match outcome {
        DenialOutcome::Unprocessable { .. } => format!(
            "claim {} ({place}): not appealed ({}); recommended action: {}",
            denial.claim_id,
            remit::outcome_text(outcome),
            claimlint::appeal::assess::Action::CorrectAndResubmit.describe()
        ),
        _ => format!(
            "claim {} ({place}): denial {}: {}",
            denial.claim_id,
            remit::outcome_text(outcome),
            unmatched_recommendation(&denial.claim_id)
        ),
    }
}

fn print_summary(totals: &Totals, input_errors: usize, dry_run: bool, remitted: bool) {
    let considered = totals.appealed + totals.refused + totals.errors;
    let mut line = format!(
        "claimlint: {} considered: {} {}, {} not appealed, {}",
        plural(considered, "denied claim"),
        totals.appealed,
        if dry_run {
            "would be appealed"
        } else {
            "appealed"
        },
        totals.refused,
        plural(totals.errors, "error"),
    );
    line.push_str(&format!(
        "; {} read ({} not denied, {} with a denial no pack covers)",
        plural(totals.records, "record"),
        totals.not_denied,
        totals.uncovered
    ));
    if remitted {
        line.push_str(&format!(
            "; {} without a record, {} that no remittance denial names",
            plural(totals.unmatched, "remittance denial"),
            plural(totals.not_remitted, "record")
        ));
    }
    if input_errors > 0 {
        line.push_str(&format!("; {}", plural(input_errors, "input error")));
    }
    if dry_run {
        line.push_str("; dry run: nothing was written");
    }
    outln!("{line}");
}
