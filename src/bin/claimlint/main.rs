//! The `claimlint` command: argument parsing, dispatch and the exit code.
//!
//! Each subcommand lives in its own module and returns an [`ExitStatus`];
//! the process exit code is decided once, here.

/// Writes to stdout like `print!`. When the reader has gone away (a closed
/// pipe, as with `claimlint check | head`), output stops quietly and the
/// command still finishes with its own exit code.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::output::write(format_args!($($arg)*))
    };
}

/// Writes a line to stdout like `println!`; see [`out!`].
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::output::write(format_args!("{}\n", format_args!($($arg)*)))
    };
}

mod output {
    use std::io::Write;
    use std::sync::atomic::{AtomicBool, Ordering};

    static CLOSED: AtomicBool = AtomicBool::new(false);

    pub fn write(args: std::fmt::Arguments<'_>) {
        if CLOSED.load(Ordering::Relaxed) {
            return;
        }
        let mut stdout = std::io::stdout().lock();
        if stdout.write_fmt(args).is_err() {
            // Broken pipe or a full disk: nothing more can be shown.
            CLOSED.store(true, Ordering::Relaxed);
        }
    }
}

#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod appeal;
mod check;
mod checker;
mod discover;
mod docs;
mod explain;
mod inputs;
mod pipeline;
mod progress;
mod remit;
mod remittance;
mod render;
mod report;
mod rules_arg;
mod rules_cmd;
mod store;
mod test_cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// Lint US medical-billing encounter exports against compliance rule packs.
#[derive(Debug, Parser)]
#[command(name = "claimlint", version, about, long_about = None)]
struct Cli {
    /// When to use colour in human output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true)]
    color: ColorChoice,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check encounter records against rule packs before claims are submitted.
    Check(check::CheckArgs),
    /// Write appeal letters for denied claims from the evidence in their
    /// records, or say what evidence is missing.
    Appeal(appeal::AppealArgs),
    /// List the denials in X12 835 remittance files (or FHIR
    /// ExplanationOfBenefit and ClaimResponse JSON) and the pack label each
    /// maps to.
    Remit(remit::RemitArgs),
    /// Write the rule documentation pages (docs/rules/), or check they are current.
    Docs(docs::DocsArgs),
    /// Show a rule's documentation: what it checks, examples, how to fix it.
    Explain(explain::ExplainArgs),
    /// List the loaded rule packs and their rules.
    Rules(rules_cmd::RulesArgs),
    /// Run each pack's pass and fail fixtures and report every rule that misbehaves.
    Test(test_cmd::TestArgs),
    /// Compile rule pack files and report every problem, without reading records.
    Validate(rules_cmd::ValidateArgs),
}

/// How a command ended, mapped to the documented exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: nothing at or above the failure severity.
    Clean,
    /// 1: findings at or above the failure severity.
    Findings,
    /// 2: a usage, rule-set or input error.
    Error,
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> Self {
        match status {
            ExitStatus::Clean => ExitCode::SUCCESS,
            ExitStatus::Findings => ExitCode::from(1),
            ExitStatus::Error => ExitCode::from(2),
        }
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            // clap exits 0 for --help and --version, 2 for usage errors.
            return if error.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let renderer = render::Renderer::new(cli.color);
    let status = match cli.command {
        Command::Check(args) => check::run(args, &renderer),
        Command::Appeal(args) => appeal::run(args, &renderer),
        Command::Docs(args) => docs::run(args, &renderer),
        Command::Remit(args) => remit::run(args, &renderer),
        Command::Explain(args) => explain::run(args, &renderer),
        Command::Rules(args) => rules_cmd::run(args, &renderer),
        Command::Test(args) => test_cmd::run(args, &renderer),
        Command::Validate(args) => rules_cmd::validate(args, &renderer),
    };
    status.into()
}
