//! `claimlint check`: read inputs, evaluate the packs, report.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::PathBuf;
use std::sync::{mpsc, Arc};

use claimlint::baseline::{Baseline, BaselineEntry};
use claimlint::diagnostic::Level;
use claimlint::eval::{KeptRecord, MonthPlan, PatientMonths, ReadGroup};
use claimlint::fhir::FhirResource;
use claimlint::finding::Outcome;
use claimlint::input::{self, Document, InputError, InputErrorKind};
use claimlint::record::{Origin, RecordSchema};
use claimlint::report::{
    json, BaselineSummary, CheckReport, InputProblem, ProblemLevel, RecordOutcome,
};
use claimlint::rules::RuleSet;
use clap::Args;
use rayon::prelude::*;

use crate::checker::{self, Checked, DocResult, Needs, Problem, Shared, Source, Text};
use crate::discover::{self, Input};
use crate::pipeline::{self, Format, PipelineArgs, Settings};
use crate::progress::Progress;
use crate::render::Renderer;
use crate::report::SourceCache;
use crate::store::{Part, Store};
use crate::{inputs, rules_arg, ExitStatus};

/// Documents sent to the workers at a time.
const BATCH_DOCUMENTS: usize = 256;
/// Bytes of document text sent to the workers at a time.
const BATCH_BYTES: usize = 4 * 1024 * 1024;

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Files or folders to check; `-` reads standard input. Defaults to the
    /// current folder.
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,

    /// Rule pack file or folder; repeat for several. Defaults to the packs
    /// shipped with claimlint.
    #[arg(long = "rules", value_name = "PATH")]
    rules: Vec<PathBuf>,

    /// FHIR mapping file (YAML) naming the local codes of portal offers,
    /// invitations and education; its sections replace those of the
    /// built-in mapping, mappings/fhir-r4.yaml.
    #[arg(long = "fhir-mapping", value_name = "FILE")]
    fhir_mapping: Option<PathBuf>,

    /// Show patient data (names, birth dates, contact details, member ids,
    /// note text) in source snippets instead of masking it. Never use it
    /// where the output is kept, such as CI logs.
    #[arg(long = "show-phi")]
    show_phi: bool,

    /// Worker threads for parsing and checking [default: RAYON_NUM_THREADS,
    /// or one per core]. The report is the same whatever the number.
    #[arg(long, short = 'j', value_name = "N", value_parser = parse_threads)]
    threads: Option<std::num::NonZeroUsize>,

    #[command(flatten)]
    pipeline: PipelineArgs,
}

pub fn run(args: CheckArgs, renderer: &Renderer) -> ExitStatus {
    let mut rules = match rules_arg::load(&args.rules) {
        Ok(rules) => rules,
        Err(diagnostics) => {
            for diagnostic in &diagnostics {
                out!("{}", renderer.render(diagnostic));
            }
            outln!(
                "claimlint: the rule set has {} error(s); nothing was checked",
                diagnostics.len()
            );
            return ExitStatus::Error;
        }
    };
    let mut settings = match Settings::load(args.pipeline, args.fhir_mapping, &mut rules) {
        Ok(settings) => settings,
        Err(diagnostics) => {
            for diagnostic in &diagnostics {
                out!("{}", renderer.render(diagnostic));
            }
            outln!(
                "claimlint: the configuration has {} error(s); nothing was checked",
                diagnostics.len()
            );
            return ExitStatus::Error;
        }
    };
    let fhir_mapping = match inputs::load_fhir_mapping(settings.fhir_mapping.as_deref()) {
        Ok(mapping) => mapping,
        Err(diagnostics) => {
            for diagnostic in &diagnostics {
                out!("{}", renderer.render(diagnostic));
            }
            outln!(
                "claimlint: the FHIR mapping has {} error(s); nothing was checked",
                diagnostics.len()
            );
            return ExitStatus::Error;
        }
    };
    let pool = match thread_pool(args.threads) {
        Ok(pool) => pool,
        Err(error) => {
            outln!("claimlint: cannot start worker threads: {error}");
            return ExitStatus::Error;
        }
    };
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths
    };

    let needs = needs(&settings);
    let schema = RecordSchema::new();
    let plan = MonthPlan::new(&rules);
    let known: HashSet<String> = settings
        .baseline
        .as_ref()
        .map(|b| b.fingerprints().into_iter().map(str::to_string).collect())
        .unwrap_or_default();
    let shared = Shared {
        rules: &rules,
        schema: &schema,
        plan: &plan,
        config: settings.config.as_ref(),
        suppressions: settings.suppressions.as_ref(),
        known: &known,
        renderer,
        needs,
        show_phi: args.show_phi,
    };
    let mut run = Run::new(PatientMonths::with_plan(plan.clone()), needs);
    let progress = Progress::start(settings.quiet);

    let discovered = discover::discover(&paths);
    run.skipped = discovered.skipped;
    for (path, reason) in &discovered.errors {
        let error = InputError::new(
            InputErrorKind::Io,
            Origin::new(Arc::from(path.as_str()), None, ""),
            format!("cannot read: {reason}"),
        )
        .with_help(
            "check that the path exists and is readable; the other inputs are still checked",
        );
        run.problems.push(checker::problem(
            &shared,
            error,
            &mut Text::Missing,
            Level::Error,
        ));
    }
    run.files = discovered.inputs.len();

    let (sender, batches) = mpsc::sync_channel::<Vec<(Arc<Source>, Document)>>(2);
    std::thread::scope(|scope| {
        let inputs = discovered.inputs;
        let reader = std::thread::Builder::new()
            .name("claimlint-read".to_string())
            .spawn_scoped(scope, move || read_inputs(inputs, &sender));
        if let Err(error) = reader {
            // Without the reader thread nothing is read, so the run fails.
            run.store
                .failure
                .get_or_insert(format!("cannot start the input reader thread: {error}"));
        }
        // With a pool, the results of one batch are taken in order while
        // the workers check the next one.
        let mut pending: Option<(Vec<DocResult>, usize)> = None;
        for batch in batches {
            let bytes: usize = batch.iter().map(|(_, d)| document_bytes(d)).sum();
            let check = |batch: Vec<(Arc<Source>, Document)>| -> Vec<DocResult> {
                batch
                    .into_par_iter()
                    .map(|(source, document)| checker::check_document(&shared, &source, document))
                    .collect()
            };
            match &pool {
                Some(pool) => {
                    let previous = pending.take();
                    let previous_bytes = previous.as_ref().map_or(0, |(_, bytes)| *bytes);
                    let (results, ()) = pool.install(|| {
                        rayon::join(
                            || check(batch),
                            || {
                                if let Some((results, _)) = previous {
                                    run.accept_all(results);
                                }
                            },
                        )
                    });
                    progress.update(run.records, previous_bytes);
                    pending = Some((results, bytes));
                }
                None => {
                    let results = batch
                        .into_iter()
                        .map(|(source, document)| {
                            checker::check_document(&shared, &source, document)
                        })
                        .collect();
                    run.accept_all(results);
                    progress.update(run.records, bytes);
                }
            }
        }
        if let Some((results, bytes)) = pending {
            run.accept_all(results);
            progress.update(run.records, bytes);
        }
    });
    progress.finish();

    // FHIR resources are mapped once every input is read, because a
    // Bulk-FHIR export spreads one encounter over several files.
    let mut sources = SourceCache::default();
    sources.show_phi = args.show_phi;
    let fhir = std::mem::take(&mut run.fhir);
    check_fhir(&shared, &mut run, fhir, &fhir_mapping, &mut sources);
    report_duplicates(&shared, &mut run, &mut sources);
    // Patient-month rules run once every record of the month has been read.
    report_patient_months(&shared, &rules, &mut run, &mut sources, pool.as_ref());

    let report = finish_report(&mut settings, &rules, &mut run);
    let report = match report {
        Ok(report) => report,
        Err(message) => {
            outln!("error: {message}");
            return ExitStatus::Error;
        }
    };
    let failures = write_outputs(&settings, &report, &mut run);
    let is_human = settings.format == Format::Human;
    // NDJSON and GitLab reports hold findings only, so their input problems
    // are listed on stderr, where a map step's caller sees them.
    let problems_elsewhere = matches!(settings.format, Format::Ndjson | Format::Gitlab);
    let notes = [
        problems_elsewhere.then(|| pipeline::input_problem_lines(&report)),
        (!settings.quiet).then(|| pipeline::suppression_warning_lines(&report)),
        settings
            .statistics
            .then(|| pipeline::statistics_text(&run.store.tally.statistics())),
        Some(failures.iter().map(|f| format!("error: {f}\n")).collect()),
        (is_human || !settings.quiet).then(|| format!("{}\n", pipeline::summary_line(&report))),
    ];
    // A machine format keeps stdout for the report; the rest goes to stderr.
    for note in notes.into_iter().flatten().filter(|n| !n.is_empty()) {
        if is_human {
            out!("{note}");
        } else {
            eprint!("{note}");
        }
    }
    pipeline::exit_status(
        &settings,
        &report,
        run.store.tally.highest,
        !failures.is_empty(),
    )
}

/// Parses `--threads`: a whole number of at least 1.
fn parse_threads(text: &str) -> Result<std::num::NonZeroUsize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) => std::num::NonZeroUsize::new(n)
            .ok_or_else(|| "the number of threads must be at least 1".to_string()),
        Err(_) => Err(format!(
            "`{text}` is not a number of threads; give a whole number of at least 1"
        )),
    }
}

/// Builds the worker pool, or returns `None` for one thread, which checks
/// on the calling thread.
fn thread_pool(
    threads: Option<std::num::NonZeroUsize>,
) -> Result<Option<rayon::ThreadPool>, rayon::ThreadPoolBuildError> {
    let threads = threads.map(usize::from).unwrap_or_else(|| {
        std::env::var("RAYON_NUM_THREADS")
            .ok()
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|&n| n > 0)
            .unwrap_or_else(|| {
                std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
            })
    });
    if threads <= 1 {
        return Ok(None);
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|index| format!("claimlint-check-{index}"))
        .build()
        .map(Some)
}

/// Returns the renderings each finding needs for the run's outputs.
fn needs(settings: &Settings) -> Needs {
    let mut needs = Needs {
        baseline_entries: settings.baseline.is_some() || settings.write_baseline.is_some(),
        ..Needs::default()
    };
    let mut add = |format: Format, to_file: bool| match format {
        Format::Human if to_file => needs.human_lines = true,
        Format::Human => needs.human = true,
        Format::Json => needs.json = true,
        Format::Ndjson => needs.ndjson = true,
        Format::Junit => {
            needs.whole = true;
            needs.outcomes = true;
        }
        Format::Sarif | Format::Github | Format::Gitlab => needs.whole = true,
    };
    if !settings.quiet {
        add(settings.format, false);
    }
    for output in &settings.outputs {
        add(output.format, true);
    }
    if settings.format == Format::Github && std::env::var_os("GITHUB_STEP_SUMMARY").is_some() {
        needs.whole = true;
    }
    needs
}

fn document_bytes(document: &Document) -> usize {
    match document {
        Document::Line { text, .. } => text.len() + 1,
        Document::Whole { bytes, .. } => bytes.len(),
        Document::Error(_) => 0,
    }
}

/// Reads every input into batches of documents, in input order. Runs on
/// its own thread so that reading overlaps checking.
fn read_inputs(inputs: Vec<Input>, sender: &mpsc::SyncSender<Vec<(Arc<Source>, Document)>>) {
    let mut batch = Vec::new();
    let mut bytes = 0;
    for input in inputs {
        let name: Arc<str> = Arc::from(input.display_name());
        let is_stdin = matches!(input, Input::Stdin);
        let framing = checker::framing(is_stdin, &name);
        let reader: Box<dyn std::io::Read + Send> = match &input {
            Input::Stdin => Box::new(std::io::stdin()),
            Input::File(path) => match std::fs::File::open(path) {
                Ok(file) => Box::new(file),
                Err(error) => {
                    batch.push((
                        Arc::new(Source {
                            name: name.clone(),
                            keep_text: false,
                        }),
                        Document::Error(inputs::read_error(name, &error)),
                    ));
                    continue;
                }
            },
        };
        let documents = input::documents(name.clone(), reader, framing);
        let is_gzip = documents.is_gzip();
        let source = Arc::new(Source {
            name,
            keep_text: is_stdin || is_gzip,
        });
        for document in documents {
            bytes += document_bytes(&document);
            batch.push((source.clone(), document));
            if batch.len() >= BATCH_DOCUMENTS || bytes >= BATCH_BYTES {
                if sender.send(std::mem::take(&mut batch)).is_err() {
                    return;
                }
                bytes = 0;
            }
        }
    }
    if !batch.is_empty() {
        let _ = sender.send(batch);
    }
}

/// The results gathered so far, on the main thread.
struct Run<'r> {
    files: usize,
    skipped: usize,
    records: usize,
    not_applicable: usize,
    problems: Vec<Problem>,
    warnings: Vec<Problem>,
    fhir: Vec<FhirResource>,
    store: Store,
    months: PatientMonths<'r>,
    /// Where the first copy of each encounter was read, by a 128-bit hash
    /// of its id: (index in `seen_files`, NDJSON line or 0).
    // NOTE: two different ids with the same 128-bit hash would be taken for
    // a duplicate. At 2^-128 per pair this is far below any hardware error
    // rate, and the hash keeps 24 bytes per record instead of id and origin.
    seen: HashMap<u128, (u32, u32)>,
    seen_files: Vec<Arc<str>>,
    outcomes: Vec<RecordOutcome>,
    /// Index into `outcomes` by (file, record id), for patient-month rules.
    outcome_index: HashMap<(Arc<str>, Box<str>), usize>,
    suppressions_used: Vec<usize>,
    /// Second copies of encounters, located once the run is over.
    duplicates: Vec<InputError>,
    baseline: BaselineSummary,
    entries: Vec<BaselineEntry>,
    needs: Needs,
}

impl<'r> Run<'r> {
    fn new(months: PatientMonths<'r>, needs: Needs) -> Self {
        Run {
            files: 0,
            skipped: 0,
            records: 0,
            not_applicable: 0,
            problems: Vec::new(),
            warnings: Vec::new(),
            fhir: Vec::new(),
            store: Store::default(),
            months,
            seen: HashMap::new(),
            seen_files: Vec::new(),
            outcomes: Vec::new(),
            outcome_index: HashMap::new(),
            suppressions_used: Vec::new(),
            duplicates: Vec::new(),
            baseline: BaselineSummary::default(),
            entries: Vec::new(),
            needs,
        }
    }

    fn accept_all(&mut self, results: Vec<DocResult>) {
        for result in results {
            self.accept(result);
        }
    }

    fn accept(&mut self, result: DocResult) {
        self.problems.extend(result.problems);
        self.fhir.extend(result.fhir);
        for checked in result.records {
            self.accept_record(checked);
        }
    }

    /// Takes one checked record, unless an encounter with the same id was
    /// already read: a second copy is reported and not counted, so that one
    /// encounter read twice is not taken for two services.
    fn accept_record(&mut self, mut checked: Checked) {
        let key = id_hash(&checked.id);
        if let Some(&(file, line)) = self.seen.get(&key) {
            let file = self
                .seen_files
                .get(file as usize)
                .cloned()
                .unwrap_or_else(|| Arc::from(""));
            let at = match line {
                0 => file.to_string(),
                line => format!("{file} line {line}"),
            };
            let error = InputError::new(
                InputErrorKind::DuplicateRecord,
                checked.origin.clone(),
                format!(
                    "encounter {} was already read from {at}; this copy is not checked",
                    checked.id
                ),
            )
            .with_help("remove the duplicate from the export, or give each encounter its own id");
            self.duplicates.push(error);
            return;
        }
        if !self
            .seen_files
            .last()
            .is_some_and(|last| Arc::ptr_eq(last, &checked.origin.file))
        {
            self.seen_files.push(checked.origin.file.clone());
        }
        let file = (self.seen_files.len() - 1) as u32;
        let line = checked
            .origin
            .line
            .map_or(0, |l| u32::try_from(l).unwrap_or(u32::MAX));
        self.seen.insert(key, (file, line));
        let sequence = u32::try_from(self.records).unwrap_or(u32::MAX);
        self.records += 1;
        if checked.not_applicable {
            self.not_applicable += 1;
        }
        if let Some(outcome) = checked.outcome.take() {
            self.outcome_index.insert(
                (checked.origin.file.clone(), checked.id.as_str().into()),
                self.outcomes.len(),
            );
            self.outcomes.push(outcome);
        }
        if let Some(mut joined) = checked.joined.take() {
            joined.sequence = sequence;
            self.months.push(joined);
        }
        self.keep_findings(checked, sequence);
    }

    /// Keeps a checked record's findings and baseline entries, and counts
    /// them for the baseline comparison and the suppressions used.
    fn keep_findings(&mut self, checked: Checked, sequence: u32) {
        self.baseline.unchanged += checked.unchanged;
        self.entries.extend(checked.entries);
        for prepared in checked.findings {
            match prepared.suppression {
                Some(index) => self.suppressions_used.push(index),
                None => self.baseline.new += 1,
            }
            self.store.push(prepared, sequence);
        }
    }
}

/// Hashes an encounter id to 128 bits with two 64-bit SipHash runs with
/// fixed keys, so the same id always gives the same hash.
fn id_hash(id: &str) -> u128 {
    use std::hash::{Hash, Hasher};
    let half = |salt: u8| {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        salt.hash(&mut hasher);
        id.hash(&mut hasher);
        hasher.finish()
    };
    (u128::from(half(0)) << 64) | u128::from(half(1))
}

/// Maps the FHIR resources read into records and checks them. Their
/// findings are located in the resources' files through `sources`.
fn check_fhir(
    shared: &Shared<'_>,
    run: &mut Run<'_>,
    fhir: Vec<FhirResource>,
    mapping: &claimlint::fhir::FhirMapping,
    sources: &mut SourceCache,
) {
    let fhir_count = fhir.len();
    let first_fhir_file = fhir.first().map(|r| r.origin.file.clone());
    let mapped = claimlint::fhir::map_records(fhir, mapping, shared.schema);
    let has_encounter = !mapped.records.is_empty()
        || !mapped.errors.is_empty()
        || run
            .problems
            .iter()
            .any(|p| p.error.kind == InputErrorKind::FhirMapping);
    for error in mapped.errors {
        let problem = checker::problem(shared, error, &mut Text::Cache(sources), Level::Error);
        run.problems.push(problem);
    }
    for warning in mapped.warnings {
        let problem = checker::problem(shared, warning, &mut Text::Cache(sources), Level::Warning);
        run.warnings.push(problem);
    }
    if let (Some(file), false) = (first_fhir_file, has_encounter) {
        // Say why FHIR input produced nothing to check, rather than a bare
        // "0 records".
        let warning = InputError::new(
            InputErrorKind::FhirMapping,
            Origin::new(file, None, ""),
            format!(
                "{fhir_count} FHIR resource(s) read, but none is an Encounter, so there is no record to check"
            ),
        )
        .with_help("claimlint checks one record per Encounter; include the Encounter resources in the export");
        let problem = checker::problem(shared, warning, &mut Text::Cache(sources), Level::Warning);
        run.warnings.push(problem);
    }
    for record in mapped.records {
        let mut masked = checker::masked();
        let checked =
            checker::check_record(shared, &record, &mut Text::Cache(sources), &mut masked);
        run.accept_record(checked);
    }
}

/// Evaluates the patient-month groups and adds their findings to the
/// records they are about, and each member record's outcome.
fn report_patient_months<'r>(
    shared: &Shared<'_>,
    rules: &'r RuleSet,
    run: &mut Run<'r>,
    sources: &mut SourceCache,
    pool: Option<&rayon::ThreadPool>,
) {
    let mut months = std::mem::replace(&mut run.months, PatientMonths::new(rules));
    if let Some(failure) = months.take_failure() {
        run.store.failure.get_or_insert(failure);
    }
    loop {
        // Reading the stored records is serial; decoding, evaluating and
        // locating the findings run on the workers.
        let reads: Vec<ReadGroup> = months.read_groups(GROUP_BATCH);
        if reads.is_empty() {
            break;
        }
        let plan = months.plan();
        let work = |read: ReadGroup| {
            let evaluated = plan.evaluate_group(read);
            let prepared: Vec<GroupFindings> = evaluated
                .results
                .into_iter()
                .map(|(result, records)| prepare_group(shared, result, records))
                .collect();
            (prepared, evaluated.failure)
        };
        let done: Vec<(Vec<GroupFindings>, Option<String>)> = match pool {
            Some(pool) => pool.install(|| reads.into_par_iter().map(work).collect()),
            None => reads.into_iter().map(work).collect(),
        };
        for (groups, failure) in done {
            if let Some(failure) = failure {
                run.store.failure.get_or_insert(failure);
            }
            for group in groups {
                accept_group(shared, run, group, sources);
            }
        }
    }
}

/// Patient-month groups evaluated at a time.
const GROUP_BATCH: usize = 1024;

/// One evaluated group: the outcome of its rule on each record, its
/// findings prepared where the record's text could be read, and the
/// findings on mapped FHIR records, which are located on the main thread.
struct GroupFindings {
    pack: String,
    code: String,
    /// (file, record id, outcome) of each member, for JUnit.
    outcomes: Vec<(Arc<str>, String, Outcome)>,
    prepared: Vec<(Checked, u32)>,
    fhir: Vec<(KeptRecord, claimlint::finding::Finding)>,
}

fn prepare_group(
    shared: &Shared<'_>,
    result: claimlint::eval::PatientMonthResult,
    records: Vec<KeptRecord>,
) -> GroupFindings {
    let mut group = GroupFindings {
        pack: result.pack.clone(),
        code: result.rule.code.clone(),
        outcomes: Vec::new(),
        prepared: Vec::new(),
        fhir: Vec::new(),
    };
    if shared.needs.outcomes {
        for (position, kept) in records.iter().enumerate() {
            let Some(&member) = result.members.get(position) else {
                continue;
            };
            let outcome = result
                .findings
                .iter()
                .find(|(index, _)| *index == member)
                .map_or(Outcome::Pass, |(_, finding)| finding.outcome);
            group.outcomes.push((
                kept.record.origin.file.clone(),
                kept.record.id.clone(),
                outcome,
            ));
        }
    }
    for (member, finding) in result.findings {
        let Some(position) = result.members.iter().position(|&m| m == member) else {
            continue;
        };
        let Some(kept) = records.get(position) else {
            continue;
        };
        if kept.record.format == claimlint::record::SourceFormat::FhirR4 {
            group.fhir.push((kept.clone(), finding));
            continue;
        }
        let text = kept_text(kept);
        let mut located = match &text {
            Some((text, Some(number))) => Text::Line {
                text,
                number: *number,
            },
            Some((text, None)) => Text::Whole { text, index: None },
            None => Text::Missing,
        };
        let mut checked = empty_checked(kept);
        let mut masked = checker::masked();
        checker::prepare(
            shared,
            &kept.record,
            finding,
            &mut located,
            &mut masked,
            &mut checked,
        );
        group.prepared.push((checked, kept.sequence));
    }
    group
}

fn empty_checked(kept: &KeptRecord) -> Checked {
    Checked {
        id: kept.record.id.clone(),
        origin: kept.record.origin.clone(),
        not_applicable: false,
        outcome: None,
        findings: Vec::new(),
        unchanged: 0,
        entries: Vec::new(),
        joined: None,
    }
}

/// Adds one evaluated group's outcomes and findings to the run.
fn accept_group(
    shared: &Shared<'_>,
    run: &mut Run<'_>,
    mut group: GroupFindings,
    sources: &mut SourceCache,
) {
    for (file, id, outcome) in group.outcomes {
        if let Some(&index) = run.outcome_index.get(&(file, id.into_boxed_str())) {
            run.outcomes[index].rules.push(checker::rule_outcome(
                shared.rules,
                &group.pack,
                &group.code,
                outcome,
            ));
        }
    }
    for (kept, finding) in group.fhir {
        let mut checked = empty_checked(&kept);
        let mut masked = checker::masked();
        checker::prepare(
            shared,
            &kept.record,
            finding,
            &mut Text::Cache(sources),
            &mut masked,
            &mut checked,
        );
        group.prepared.push((checked, kept.sequence));
    }
    for (checked, sequence) in group.prepared {
        run.keep_findings(checked, sequence);
    }
}

/// Returns the text of a kept record's document and its NDJSON line
/// number, from the record or read again from its file.
fn kept_text(kept: &KeptRecord) -> Option<(String, Option<usize>)> {
    let line = kept.record.origin.line;
    if let Some(text) = &kept.source_text {
        return Some((text.clone(), line));
    }
    let path = &*kept.record.origin.file;
    match (line, kept.source_offset) {
        (Some(_), Some(offset)) => {
            use std::io::{BufRead, Seek};
            let mut file = std::io::BufReader::new(std::fs::File::open(path).ok()?);
            file.seek(std::io::SeekFrom::Start(offset)).ok()?;
            let mut bytes = Vec::new();
            file.read_until(b'\n', &mut bytes).ok()?;
            let text = String::from_utf8(bytes).ok()?;
            let text = text.trim_end_matches(['\n', '\r']).to_string();
            Some((text, line))
        }
        (None, _) => {
            let text = String::from_utf8(std::fs::read(path).ok()?).ok()?;
            Some((text.trim_start_matches('\u{feff}').to_string(), None))
        }
        (Some(_), None) => None,
    }
}

/// Builds the report from what the run gathered: the summary, input
/// problems, suppression warnings and baseline comparison, and the
/// findings themselves when a format needs them whole.
fn finish_report(
    settings: &mut Settings,
    rules: &RuleSet,
    run: &mut Run<'_>,
) -> Result<CheckReport, String> {
    if let Some(suppressions) = &mut settings.suppressions {
        for &index in &run.suppressions_used {
            suppressions.mark_used(index);
        }
    }
    if let Some(path) = &settings.write_baseline {
        let text = Baseline::new(run.entries.iter().cloned()).to_json();
        std::fs::write(path, text)
            .map_err(|error| format!("cannot write baseline file {}: {error}", path.display()))?;
    }
    if let Some(old) = &settings.baseline {
        let now: std::collections::BTreeSet<&str> =
            run.entries.iter().map(|e| e.fingerprint.as_str()).collect();
        run.baseline.fixed = old.fixed(&now);
    }
    if let Some(failure) = &run.store.failure {
        return Err(failure.clone());
    }

    let mut problems: Vec<&Problem> = run.problems.iter().collect();
    sort_problems(&mut problems);
    let mut warnings: Vec<&Problem> = run.warnings.iter().collect();
    sort_problems(&mut warnings);
    let input_problems = problems
        .iter()
        .map(|p| (ProblemLevel::Error, p))
        .chain(warnings.iter().map(|p| (ProblemLevel::Warning, p)))
        .map(|(level, problem)| InputProblem {
            level,
            code: crate::report::input_code(problem.error.kind).to_string(),
            file: problem.error.origin.file.to_string(),
            line: problem.position.map(|p| p.0),
            column: problem.position.map(|p| p.1),
            message: problem.error.message.clone(),
        })
        .collect();
    let unreadable: std::collections::BTreeSet<&str> =
        problems.iter().map(|p| &*p.error.origin.file).collect();
    let tally = &run.store.tally;
    let summary = claimlint::report::Summary {
        files: run.files,
        skipped_files: run.skipped,
        records: run.records,
        not_applicable: run.not_applicable,
        input_errors: problems.len(),
        unreadable_inputs: unreadable.len(),
        mapping_warnings: warnings.len(),
        errors: tally.errors,
        warnings: tally.warnings,
        infos: tally.infos,
        suppressed: tally.suppressed,
    };
    let findings = if run.needs.whole {
        run.store.reported(&run.store.report_order())
    } else {
        Vec::new()
    };
    Ok(CheckReport {
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        rules: pipeline::rule_metas(rules, settings.config.as_ref()),
        findings,
        records: std::mem::take(&mut run.outcomes),
        input_problems,
        suppression_warnings: settings
            .suppressions
            .as_ref()
            .map(|s| s.warnings())
            .unwrap_or_default(),
        baseline: settings.baseline.as_ref().map(|_| run.baseline),
        summary,
    })
}

/// Sorts input problems by file and position.
fn sort_problems(problems: &mut [&Problem]) {
    problems.sort_by(|a, b| {
        let key = |p: &Problem| {
            (
                p.error.origin.file.clone(),
                p.error.origin.line,
                p.error.span.as_ref().map(|s| s.start),
                p.error.origin.pointer.clone(),
            )
        };
        key(a).cmp(&key(b))
    });
}

/// Locates the second copies of encounters in their files.
fn report_duplicates(shared: &Shared<'_>, run: &mut Run<'_>, sources: &mut SourceCache) {
    // Standard input cannot be read again.
    sources.forget(Arc::from(Input::Stdin.display_name()));
    for error in std::mem::take(&mut run.duplicates) {
        let problem = checker::problem(shared, error, &mut Text::Cache(sources), Level::Error);
        run.problems.push(problem);
    }
}

/// Writes the report on stdout and to the `--output` files. Returns the
/// outputs that could not be written.
fn write_outputs(settings: &Settings, report: &CheckReport, run: &mut Run<'_>) -> Vec<String> {
    let mut failures = Vec::new();
    if !settings.quiet {
        let stdout = std::io::stdout();
        let mut out = std::io::BufWriter::with_capacity(256 * 1024, stdout.lock());
        let written =
            write_format(settings.format, false, report, run, &mut out).and_then(|()| out.flush());
        // A closed pipe (`| head`) is not an error worth reporting.
        if let Err(error) = written {
            if error.kind() != std::io::ErrorKind::BrokenPipe {
                failures.push(format!("cannot write the report: {error}"));
            }
        }
    }
    for output in &settings.outputs {
        let written = std::fs::File::create(&output.path).and_then(|file| {
            let mut out = std::io::BufWriter::with_capacity(256 * 1024, file);
            write_format(output.format, true, report, run, &mut out)?;
            out.flush()
        });
        if let Err(error) = written {
            failures.push(format!("cannot write {}: {error}", output.path.display()));
        }
    }
    if let Some(failure) = pipeline::append_step_summary(settings, report) {
        failures.push(failure);
    }
    failures
}

/// Writes one format. `to_file` selects the plain human text of
/// `--output human=FILE` instead of the report with snippets.
fn write_format(
    format: Format,
    to_file: bool,
    report: &CheckReport,
    run: &mut Run<'_>,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    match format {
        Format::Human if to_file => {
            let order = run.store.active(run.store.report_order());
            run.store.write_parts(&order, Part::HumanLine, out)?;
            writeln!(out, "{}", pipeline::summary_line(report))
        }
        Format::Human => {
            let mut problems: Vec<&Problem> = run.problems.iter().collect();
            sort_problems(&mut problems);
            let mut warnings: Vec<&Problem> = run.warnings.iter().collect();
            sort_problems(&mut warnings);
            for problem in problems.iter().chain(&warnings) {
                if let Some(text) = &problem.human {
                    out.write_all(text.as_bytes())?;
                }
            }
            let order = run.store.human_order();
            run.store.write_parts(&order, Part::Human, out)
        }
        Format::Json => {
            let order = run.store.report_order();
            let store = &mut run.store;
            let mut parts = order.iter().map(|&index| store.part(index, Part::Json));
            json::write_json(report, &mut parts, out)
        }
        Format::Ndjson => {
            let order = run.store.report_order();
            run.store.write_parts(&order, Part::Ndjson, out)
        }
        _ => match pipeline::render(format, report) {
            Some(text) => out.write_all(text.as_bytes()),
            None => Ok(()),
        },
    }
}
