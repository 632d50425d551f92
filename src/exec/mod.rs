//! `poolwatch exec`: a command template run once per input, each in its own process group, as a `Search`.
//!
//! # What is kept in memory
//!
//! Memory does not grow with the number of inputs. A `--range` input is worked out from its
//! task id when it runs. Lines (`--input FILE`, stdin) are read on a thread of their own, at
//! most a thousand or so ahead of what the engine has asked for, and numbered as they are
//! read; a line is held from when it is read until a worker takes it, so those held are the
//! ones of the engine's queued batches. Lines of ids the run will never hand out (before
//! `--skip`, past `--limit`, other shards' chunks under `--shard`, ids done before under
//! `--resume`) are counted, so that numbering stays right, and dropped as they are read: the
//! engine tells the search which ids it will hand out as the run starts ([`Search::learn_plan`]). One
//! line is at most 1 MiB; a longer one ends the run. Beside the lines: the inputs of matches and
//! errors (at most ten thousand, for their labels), each `--worker` process's window of inputs
//! in flight, and with exec's own `--resume` the job numbers the earlier job log holds.

mod answer;
mod input;
mod joblog;
mod process;
mod quoting;
mod results;
mod runner;
pub mod shell;
mod template;
mod worker;
mod worker_search;

pub use input::{IntRange, LazyLines, LineSource};
use joblog::{JobLog, JobRecord, Previous};
use results::{Printer, ResultsDir};
pub use runner::{CancelWatch, Ending, Finished, Limits, RunError, Tees};
pub use template::Template;
pub use worker::{DEFAULT_WINDOW, MAX_WINDOW};
pub use worker_search::WorkerSearch;

use crate::console::os_reason;
use poolwatch_core::CancelToken;
use poolwatch_core::search::{Goal, Outcome, Search, SpaceStatus};
use poolwatch_core::sync::lock;
use std::collections::{HashMap, HashSet};
use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime};

/// Output lines copied into a match's value or an error's message.
const OUTPUT_LINES: usize = 5;
/// Characters kept of each such line.
const LINE_CHARS: usize = 200;
/// Inputs of notable tasks (matches, errors) kept for their labels in the log and the summary.
const MAX_NOTABLE_INPUTS: usize = 10_000;
/// Characters of the input shown in the workers table.
const DETAIL_CHARS: usize = 40;
/// Default time between SIGTERM and SIGKILL, seconds.
pub const DEFAULT_GRACE_S: f64 = 2.0;
/// Most `--retries` accepted.
pub const MAX_RETRIES: u32 = 1000;

/// `poolwatch exec` described as data: the subcommand's options (clap) and a preset's
/// `[search]` table (serde), declared once.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, clap::Args)]
#[serde(deny_unknown_fields)]
pub struct ExecSpec {
    /// The command: {} is replaced by the input, {#} by the task number (1-based);
    /// with no {}, the input is appended. Run directly, not through a shell. A placeholder
    /// that is a whole argument passes the input unchanged; inside a longer argument
    /// (sh -c 'echo {}') the input is shell-quoted for where it stands, so it never runs as
    /// code. Safest: sh -c '... "$1"' sh {}
    #[arg(
        value_name = "CMD",
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub command: Vec<String>,
    /// Integer inputs: A..B (B excluded, like Rust) or A..=B (B included)
    #[arg(long, value_name = "A..B", conflicts_with = "input")]
    #[serde(default)]
    pub range: Option<String>,
    /// Inputs are the lines of FILE, read as workers need them [default: stdin]
    #[arg(long, value_name = "FILE")]
    #[serde(default)]
    pub input: Option<PathBuf>,
    /// The number of inputs, shown as the total until input ends
    #[arg(long, value_name = "N")]
    #[serde(default)]
    pub total: Option<u64>,
    /// A match is stdout matching REGEX (instead of exit status 0)
    #[arg(long, value_name = "REGEX")]
    #[serde(default)]
    pub match_stdout: Option<String>,
    /// Kill a task's process group after SECS seconds; the task is an error
    #[arg(long = "timeout", value_name = "SECS")]
    #[serde(default)]
    pub timeout_s: Option<f64>,
    /// Seconds between SIGTERM and SIGKILL when a process group is killed
    #[arg(long = "grace", value_name = "SECS", default_value_t = DEFAULT_GRACE_S)]
    #[serde(default = "default_grace")]
    pub grace_s: f64,
    /// Run an input up to N more times when it ends in an error (exit status other than 0/1, signal, timeout)
    #[arg(long, value_name = "N", default_value_t = 0)]
    #[serde(default)]
    pub retries: u32,
    /// Write GNU parallel's job log (TSV, one line per finished job) to FILE
    #[arg(long, value_name = "FILE")]
    #[serde(default)]
    pub joblog: Option<PathBuf>,
    /// Skip the jobs that already have a line in the --joblog FILE, and append to it
    #[arg(long, requires = "joblog", conflicts_with = "resume_failed")]
    #[serde(default)]
    pub resume: bool,
    /// As --resume, but run again the jobs whose line in the job log shows an error
    #[arg(long, requires = "joblog")]
    #[serde(default)]
    pub resume_failed: bool,
    /// Keep every job's stdout and stderr in DIR/1/INPUT/{stdout,stderr,seq} (as GNU parallel)
    #[arg(long, value_name = "DIR")]
    #[serde(default)]
    pub results: Option<PathBuf>,
    /// Pass each job's stdout through to stdout, one job at a time (implies --headless; the summary goes to stderr)
    #[arg(long)]
    #[serde(default)]
    pub output: bool,
    /// With --output: print the jobs' output in input order
    #[arg(short = 'k', long, requires = "output")]
    #[serde(default)]
    pub keep_order: bool,
    /// Start CMD once per worker and keep it: one input line per task on its stdin, one answer
    /// line back. CMD is run as written: {} and {#} in it are not replaced (python3 -c 'd = {}' is fine)
    #[arg(long)]
    #[serde(default)]
    pub worker: bool,
    /// With --worker: most inputs in flight per worker process (adaptive below it) [default: 4096]
    #[arg(long, value_name = "N")]
    #[serde(default)]
    pub window: Option<usize>,
    /// With --worker: scores in answers count toward a best, higher (max) or lower (min) being better
    #[arg(long, value_name = "max|min")]
    #[serde(default)]
    pub goal: Option<String>,
    /// Insert {} and {#} inside a longer argument as they are, not shell-quoted: an input
    /// then runs as code in sh -c 'echo {}'. Unsafe with untrusted input
    #[arg(long)]
    #[serde(default)]
    pub unquoted_replacements: bool,
}

impl Default for ExecSpec {
    /// No command (it must be set), stdin inputs, no limits, nothing kept.
    fn default() -> Self {
        Self {
            command: Vec::new(),
            range: None,
            input: None,
            total: None,
            match_stdout: None,
            timeout_s: None,
            grace_s: DEFAULT_GRACE_S,
            retries: 0,
            joblog: None,
            resume: false,
            resume_failed: false,
            results: None,
            output: false,
            keep_order: false,
            worker: false,
            window: None,
            goal: None,
            unquoted_replacements: false,
        }
    }
}

impl ExecSpec {
    /// True for one-shot commands without `--match-stdout`: a match is a job that exited 0,
    /// so every input runs unless a halt is asked for, and matches read as "succeeded".
    #[must_use]
    pub fn runs_every_job(&self) -> bool {
        !self.worker && self.match_stdout.is_none()
    }
}

fn default_grace() -> f64 {
    DEFAULT_GRACE_S
}

/// Why an exec spec cannot run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExecError {
    /// No program after `--`.
    #[error("exec needs a command: poolwatch exec [OPTIONS] -- CMD [ARGS...]")]
    EmptyCommand,
    /// `--range` is not `A..B` / `A..=B` with A < B.
    #[error("--range must be A..B (B excluded) or A..=B with integers and A < B, got {0:?}")]
    BadRange(String),
    /// A `--range` bound does not fit a 64-bit signed integer.
    #[error(
        "--range bounds must lie between -9223372036854775808 and 9223372036854775807 (64-bit integers), got {0:?}"
    )]
    RangeLimit(String),
    /// `--range` and `--input` together.
    #[error("--range and --input cannot be used together")]
    TwoSources,
    /// The input file cannot be read.
    #[error("cannot read input file {path}: {reason}")]
    Input {
        /// The path.
        path: String,
        /// Why.
        reason: String,
    },
    /// `--match-stdout` does not compile.
    #[error("--match-stdout {pattern:?} is not a valid regex: {reason}")]
    BadRegex {
        /// The pattern.
        pattern: String,
        /// The regex error's last line.
        reason: String,
    },
    /// A bad `--timeout`.
    #[error("--timeout must be a positive number of seconds, got {0}")]
    BadTimeout(String),
    /// A bad `--grace`.
    #[error("--grace must be between 0 and 3600 seconds, got {0}")]
    BadGrace(String),
    /// `--retries` too high.
    #[error("--retries must be at most {MAX_RETRIES}, got {0}")]
    BadRetries(u32),
    /// `--resume` or `--resume-failed` without a job log.
    #[error("--resume and --resume-failed need --joblog FILE")]
    ResumeNeedsJoblog,
    /// `--keep-order` without `--output`.
    #[error("--keep-order needs --output")]
    KeepOrderNeedsOutput,
    /// A file or folder for what the jobs leave behind cannot be used.
    #[error("cannot use {what} {path}: {reason}")]
    Keep {
        /// `--joblog FILE`, `--results DIR`...
        what: &'static str,
        /// The path.
        path: String,
        /// Why.
        reason: String,
    },
    /// An option that needs or excludes `--worker`.
    #[error("{0}")]
    Worker(String),
    /// The program cannot be run.
    #[error("cannot run '{program}': {reason}")]
    CannotRun {
        /// The program as written.
        program: String,
        /// The system's reason.
        reason: String,
    },
}

/// Where the inputs come from.
enum Inputs {
    Range(IntRange),
    /// Boxed: the reader's state is much larger than a range.
    Lines(Box<LazyLines>),
}

/// What both exec searches are set up with: the command, its inputs and how they are named,
/// and the fatal error said once.
struct Setup {
    template: Template,
    inputs: Inputs,
    /// The inputs in words (`range 1..4`, `lines of FILE`), for the search's parameters.
    source: String,
    /// Set once a fatal error was reported.
    fatal: OnceLock<()>,
}

impl Setup {
    /// Opens the inputs of `spec`, whose `range` [`Checked::of`] parsed (nothing is read
    /// from stdin until the run starts).
    fn open(spec: &ExecSpec, template: Template, range: Option<IntRange>) -> Result<Self, ExecError> {
        let (inputs, source) = open_inputs(spec, range)?;
        Ok(Self {
            template,
            inputs,
            source,
            fatal: OnceLock::new(),
        })
    }

    /// A fatal message, reported once: the first worker to fail says it, the others stand down.
    fn fatal_once(&self, message: String) -> Outcome {
        if self.fatal.set(()).is_ok() {
            Outcome::Fatal(message)
        } else {
            Outcome::Cancelled
        }
    }

    /// True once a fatal error was reported: the run is ending.
    fn failed(&self) -> bool {
        self.fatal.get().is_some()
    }

    /// The input of `task`, taken from the lazy reader's buffer or computed from the range;
    /// `Err` when reading the input failed at this line, or the line is not there (handed
    /// out already): the run cannot go on.
    fn input(&self, task: u64) -> Result<Vec<u8>, String> {
        match &self.inputs {
            Inputs::Range(range) => Ok(range.input(task).into_bytes()),
            Inputs::Lines(lines) => lines.take(task).unwrap_or_else(|| Err(lines.not_available(task))),
        }
    }

    /// The input of `task` when it can be told again at any time: a range's (a line is handed
    /// out once, and only its search knows where it went).
    fn range_input(&self, task: u64) -> Option<String> {
        match &self.inputs {
            Inputs::Range(range) => Some(range.input(task)),
            Inputs::Lines(_) => None,
        }
    }

    /// [`Search::params`]: the command and where its inputs come from.
    fn params(&self) -> String {
        format!("{} <- {}", self.template.display(), self.source)
    }

    /// [`Search::space`]: a range's size; lines are an open space.
    fn space(&self) -> u64 {
        match &self.inputs {
            Inputs::Range(range) => range.len,
            Inputs::Lines(_) => 0,
        }
    }

    /// [`Search::open_space`].
    fn open_space(&self) -> bool {
        matches!(self.inputs, Inputs::Lines(_))
    }

    /// [`Search::learn_plan`]: lines of ids the run will not hand out are not kept.
    fn learn_plan(&self, ids: &poolwatch_core::PlannedIds) {
        if let Inputs::Lines(lines) = &self.inputs {
            lines.keep_only(ids.clone());
        }
    }

    /// [`Search::extend_space`]: lines are read as far as asked. The promise (that of
    /// `LazyLines::extend`): it returns before `wait` is over only once `wanted` lines are
    /// there or the input has ended, so a slow reader never shrinks a batch to the one line
    /// it had read; and never later than `wait`.
    fn extend_space(&self, wanted: u64, wait: Duration) -> SpaceStatus {
        match &self.inputs {
            Inputs::Lines(lines) => lines.extend(wanted, wait),
            Inputs::Range(range) => SpaceStatus {
                available: range.len,
                complete: true,
                estimate: None,
            },
        }
    }
}

/// The [`Search`] methods that both exec searches answer alike, mostly from their `setup`
/// field (a [`Setup`]): parameters, space, and what a task's value is called (an input).
macro_rules! search_space_from_setup {
    () => {
        fn params(&self) -> String {
            self.setup.params()
        }

        fn space(&self) -> u64 {
            self.setup.space()
        }

        fn open_space(&self) -> bool {
            self.setup.open_space()
        }

        fn extend_space(
            &self,
            wanted: u64,
            wait: std::time::Duration,
        ) -> poolwatch_core::search::SpaceStatus {
            self.setup.extend_space(wanted, wait)
        }

        fn learn_plan(&self, ids: &poolwatch_core::PlannedIds) {
            self.setup.learn_plan(ids);
        }

        fn input_naming(&self) -> Option<poolwatch_core::search::InputNaming<'_>> {
            Some(poolwatch_core::search::InputNaming {
                noun: "input",
                numbered: true,
            })
        }
    };
}
use search_space_from_setup;

/// Builds the search `spec` describes: [`WorkerSearch`] with `--worker`, else [`ExecSearch`].
///
/// # Errors
/// An [`ExecError`] naming the first problem, including a program not found on `PATH`.
pub fn build(spec: &ExecSpec) -> Result<Arc<dyn Search>, ExecError> {
    Ok(if spec.worker {
        Arc::new(WorkerSearch::new(spec)?)
    } else {
        Arc::new(ExecSearch::new(spec)?)
    })
}

/// Runs a command template once per input, each in a process of its own; exit 0 is a match,
/// 1 a miss, anything else an error.
pub struct ExecSearch {
    setup: Setup,
    match_stdout: Option<regex::Regex>,
    limits: Limits,
    running: Mutex<HashMap<u64, (String, u32)>>,
    /// Inputs of tasks whose outcome was notable, read back by [`Search::input_label`] once
    /// the lazy reader has handed them out (bounded by [`MAX_NOTABLE_INPUTS`]).
    notable_inputs: Mutex<HashMap<u64, String>>,
    /// The wake-up descriptor of the run's cancel token, made on the first task.
    cancel_watch: Mutex<Option<Arc<CancelWatch>>>,
    retries: u32,
    keep: Keep,
    tally: Tally,
}

/// What the jobs leave behind: the job log, the results folder, the output passed through.
struct Keep {
    joblog: Option<JobLog>,
    /// Job numbers (`{#}`) the job log says need not run again.
    skip: HashSet<u64>,
    /// Those of them that failed (`--resume` skips failures too): skipped, they are errors
    /// still, so that the counts say how many jobs failed.
    skip_failed: HashSet<u64>,
    results: Option<ResultsDir>,
    printer: Option<Printer>,
}

/// Counts for the summary.
#[derive(Default)]
struct Tally {
    attempts: AtomicU64,
    retried: AtomicU64,
    skipped: AtomicU64,
}

impl ExecSearch {
    /// Checks `spec` and builds the search. Nothing is read from stdin until the run starts.
    ///
    /// # Errors
    /// An [`ExecError`] naming the first problem, including a program not found on `PATH`.
    pub fn new(spec: &ExecSpec) -> Result<Self, ExecError> {
        if spec.worker {
            return Err(ExecError::Worker(
                "--worker runs as its own search (exec::build makes it)".into(),
            ));
        }
        let Checked {
            template,
            range,
            match_stdout,
            limits,
            ..
        } = Checked::of(spec)?;
        Ok(Self {
            setup: Setup::open(spec, template, range)?,
            match_stdout,
            limits,
            running: Mutex::new(HashMap::new()),
            notable_inputs: Mutex::new(HashMap::new()),
            retries: spec.retries,
            keep: Keep::open(spec)?,
            tally: Tally::default(),
            cancel_watch: Mutex::new(None),
        })
    }

    /// The watch on `cancel`'s wake-up descriptor, shared by every worker of the run.
    fn cancel_watch(&self, cancel: &CancelToken) -> std::io::Result<Arc<CancelWatch>> {
        let mut watch = lock(&self.cancel_watch);
        if let Some(current) = watch.as_ref().filter(|current| current.follows(cancel)) {
            return Ok(Arc::clone(current));
        }
        let fresh = Arc::new(CancelWatch::new(cancel)?);
        *watch = Some(Arc::clone(&fresh));
        Ok(fresh)
    }

    /// Turns a finished command into an outcome.
    fn outcome(&self, input: &str, finished: &Finished) -> Outcome {
        let code = match finished.ending {
            Ending::Cancelled => return Outcome::Cancelled,
            Ending::TimedOut => {
                let secs = self.limits.timeout.unwrap_or_default().as_secs_f64();
                return error(input, &format!("timed out after {secs} s"), finished);
            }
            Ending::Exited(status) => status,
        };
        if let Some(regex) = &self.match_stdout
            && regex.is_match(&String::from_utf8_lossy(&finished.stdout))
        {
            return matched(input, finished);
        }
        match (code.code(), self.match_stdout.is_some()) {
            (Some(0), false) => matched(input, finished),
            (Some(0 | 1), _) => Outcome::Miss,
            (Some(other), _) => error(input, &format!("exit status {other}"), finished),
            (None, _) => error(input, &describe_signal(code), finished),
        }
    }

    /// A spawn failure: fatal (reported once) when the program cannot be run at all.
    fn spawn_failed(&self, input: &str, program: &str, err: &std::io::Error) -> Outcome {
        let fatal = matches!(
            err.raw_os_error(),
            Some(libc::ENOENT | libc::EACCES | libc::ENOEXEC | libc::ENOTDIR | libc::ELOOP)
        );
        if !fatal {
            return Outcome::Error(format!("{input}: cannot start '{program}': {}", os_reason(err)));
        }
        let message = ExecError::CannotRun {
            program: program.to_string(),
            reason: os_reason(err),
        }
        .to_string();
        self.setup.fatal_once(message)
    }
}

impl Search for ExecSearch {
    fn name(&self) -> &str {
        "exec"
    }

    fn matches_are_successes(&self) -> bool {
        self.match_stdout.is_none()
    }

    search_space_from_setup!();

    fn input_label(&self, task: u64) -> Option<String> {
        let line = || lock(&self.notable_inputs).get(&task).cloned();
        self.setup.range_input(task).or_else(line)
    }

    fn task_detail(&self, task: u64) -> Option<String> {
        let running = lock(&self.running);
        let (input, pid) = running.get(&task)?;
        Some(format!("input={} pid={pid}", truncate(input, DETAIL_CHARS)))
    }

    fn run(&self, task: u64, cancel: &CancelToken) -> Outcome {
        if self.setup.failed() {
            return Outcome::Cancelled;
        }
        let raw = match self.setup.input(task) {
            Ok(raw) => raw,
            Err(message) => return self.setup.fatal_once(message),
        };
        let input = input::label(&raw);
        let watch = match self.cancel_watch(cancel) {
            Ok(watch) => watch,
            Err(err) => return Outcome::Error(format!("{input}: cannot wait for the command: {err}")),
        };
        let seq = task + 1;
        if self.keep.printer.as_ref().is_some_and(Printer::stdout_closed) {
            // Nobody reads the output any more (`| head`): stop, as parallel would on SIGPIPE.
            self.print(task, None);
            return self
                .setup
                .fatal_once("standard output was closed: --output has no reader".into());
        }
        if self.keep.skip.contains(&seq) {
            self.tally.skipped.fetch_add(1, Ordering::Relaxed);
            self.print(task, None);
            if self.keep.skip_failed.contains(&seq) {
                return Outcome::Error(format!(
                    "{input}: failed in the run the job log records; skipped by --resume (--resume-failed runs it again)"
                ));
            }
            return Outcome::Miss;
        }
        let argv = match self.setup.template.render(&raw, seq) {
            Ok(argv) => argv,
            Err(err) => {
                self.print(task, None);
                let outcome = Outcome::Error(format!("{input}: {err}"));
                return self.remember(task, input, outcome);
            }
        };
        let mut attempts = 0;
        let (outcome, output) = loop {
            attempts += 1;
            self.tally.attempts.fetch_add(1, Ordering::Relaxed);
            let (outcome, output, retry) = self.attempt(task, (&input, &raw), &argv, attempts, &watch);
            if !retry {
                break (outcome, output);
            }
            if let (Some(printer), Some(kept)) = (&self.keep.printer, output) {
                printer.discard(&kept);
            }
        };
        if attempts > 1 {
            self.tally.retried.fetch_add(1, Ordering::Relaxed);
        }
        self.print(task, output);
        self.remember(task, input, outcome)
    }

    fn tallies(&self) -> Vec<(&'static str, u64)> {
        let count = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        vec![
            ("attempts", count(&self.tally.attempts)),
            ("retried", count(&self.tally.retried)),
            ("skipped", count(&self.tally.skipped)),
        ]
    }
}

impl ExecSearch {
    /// Keeps the input of a task whose `outcome` is notable, for its label; returns the outcome.
    fn remember(&self, task: u64, input: String, outcome: Outcome) -> Outcome {
        if matches!(
            outcome,
            Outcome::Match { .. } | Outcome::Error(_) | Outcome::Fatal(_)
        ) {
            let mut notable = lock(&self.notable_inputs);
            if notable.len() < MAX_NOTABLE_INPUTS {
                notable.insert(task, input);
            }
        }
        outcome
    }
}

/// Where a job's stdout went, for `--output`.
type Spooled = Option<results::Kept>;

impl ExecSearch {
    /// Runs `argv` once for `input` (its label and its bytes); returns the outcome, where its
    /// stdout went, and whether to run it again.
    fn attempt(
        &self,
        task: u64,
        (input, raw): (&str, &[u8]),
        argv: &[OsString],
        attempt: u32,
        cancel: &CancelWatch,
    ) -> (Outcome, Spooled, bool) {
        let (tees, output) = match self.tees(task, raw) {
            Ok(opened) => opened,
            Err(err) => {
                let message = format!("{input}: cannot keep its output: {}", os_reason(&err));
                return (Outcome::Error(message), None, false);
            }
        };
        let (started, clock) = (SystemTime::now(), Instant::now());
        let ran = runner::run(
            argv,
            self.limits,
            cancel,
            |pid| {
                lock(&self.running).insert(task, (input.to_string(), pid));
            },
            tees,
        );
        lock(&self.running).remove(&task);
        let finished = match ran {
            Ok(finished) => finished,
            Err(RunError::Spawn(err)) => {
                let program = argv[0].to_string_lossy();
                return (self.spawn_failed(input, &program, &err), output, false);
            }
            Err(err @ RunError::Follow(_)) => {
                return (Outcome::Error(format!("{input}: {err}")), output, false);
            }
        };
        let outcome = match &finished.kept {
            Some(err) if finished.ending != Ending::Cancelled => error(
                input,
                &format!("cannot keep its output: {}", os_reason(err)),
                &finished,
            ),
            _ => self.outcome(input, &finished),
        };
        let failed = matches!(outcome, Outcome::Error(_));
        if failed && attempt <= self.retries && finished.ending != Ending::Cancelled {
            return (outcome, output, true);
        }
        if finished.ending != Ending::Cancelled
            && let Some(joblog) = &self.keep.joblog
        {
            joblog.write(&job_record(task + 1, started, clock.elapsed(), &finished, argv));
        }
        let outcome = match outcome {
            Outcome::Error(message) if attempt > 1 => {
                Outcome::Error(format!("{message} (after {attempt} attempts)"))
            }
            other => other,
        };
        (outcome, output, false)
    }

    /// The files this attempt's output is copied to: `--results` and, for `--output`, a spool file.
    fn tees(&self, task: u64, input: &[u8]) -> std::io::Result<(Tees, Spooled)> {
        let mut tees = Tees::default();
        let mut spooled = None;
        if let Some(results) = &self.keep.results {
            let files = results.open_job(task + 1, input)?;
            tees.stdout = Some(files.stdout);
            tees.stderr = Some(files.stderr);
            spooled = Some(files.kept);
        }
        if let Some(printer) = &self.keep.printer
            && spooled.is_none()
        {
            let (file, kept) = printer.spool_file(task)?;
            tees.stdout = Some(file);
            spooled = Some(kept);
        }
        Ok((tees, spooled))
    }

    /// Hands a finished task's output to the `--output` printer, if there is one.
    fn print(&self, task: u64, output: Spooled) {
        if let Some(printer) = &self.keep.printer {
            printer.finished(task, output);
        }
    }
}

/// What [`ExecSearch::new`] checks and works out from a spec before it opens anything.
struct Checked {
    template: Template,
    /// `--range`, parsed and within its limits.
    range: Option<IntRange>,
    match_stdout: Option<regex::Regex>,
    limits: Limits,
    workers: Option<worker::Workers>,
    goal: Goal,
}

impl Checked {
    /// Every check on `spec` that opens nothing: no input, job log, results folder or spool.
    fn of(spec: &ExecSpec) -> Result<Self, ExecError> {
        let quoted = !spec.unquoted_replacements;
        let template = Template::new(spec.command.clone(), quoted).ok_or(ExecError::EmptyCommand)?;
        if let Some(program) = template.fixed_program() {
            check_program(program)?;
        }
        let range = match &spec.range {
            None => None,
            Some(_) if spec.input.is_some() => return Err(ExecError::TwoSources),
            Some(text) if IntRange::out_of_limits(text) => {
                return Err(ExecError::RangeLimit(text.clone()));
            }
            Some(text) => Some(IntRange::parse(text).ok_or_else(|| ExecError::BadRange(text.clone()))?),
        };
        let match_stdout = spec.match_stdout.as_deref().map(compile).transpose()?;
        if spec.retries > MAX_RETRIES {
            return Err(ExecError::BadRetries(spec.retries));
        }
        let limits = limits(spec)?;
        let (workers, goal) = worker_options(spec, limits)?;
        Keep::check(spec)?;
        Ok(Self {
            template,
            range,
            match_stdout,
            limits,
            workers,
            goal,
        })
    }
}

impl ExecSearch {
    /// Checks `spec` as [`ExecSearch::new`] does, but opens nothing: a saved preset is
    /// validated without reading its input or truncating its job log.
    ///
    /// # Errors
    /// The [`ExecError`] `new` would give for the same flags (an input file's own errors aside).
    pub fn check(spec: &ExecSpec) -> Result<(), ExecError> {
        Checked::of(spec).map(drop)
    }
}

impl Keep {
    /// The flag combinations keeping output allows.
    fn check(spec: &ExecSpec) -> Result<(), ExecError> {
        if (spec.resume || spec.resume_failed) && spec.joblog.is_none() {
            return Err(ExecError::ResumeNeedsJoblog);
        }
        if spec.keep_order && !spec.output {
            return Err(ExecError::KeepOrderNeedsOutput);
        }
        Ok(())
    }

    /// Reads the earlier job log when resuming, then opens the job log, the results folder and the printer.
    fn open(spec: &ExecSpec) -> Result<Self, ExecError> {
        let resuming = spec.resume || spec.resume_failed;
        let mut skip = HashSet::new();
        let mut skip_failed = HashSet::new();
        let joblog = match &spec.joblog {
            Some(path) => {
                if resuming {
                    let previous = Previous::read(path).map_err(cannot("--joblog", path))?;
                    if !spec.resume_failed {
                        skip_failed.clone_from(&previous.failed);
                    }
                    skip = previous.skip(spec.resume_failed);
                }
                Some(JobLog::open(path, resuming).map_err(cannot("--joblog", path))?)
            }
            None => None,
        };
        let results = match &spec.results {
            Some(dir) => Some(ResultsDir::open(dir).map_err(cannot("--results", dir))?),
            None => None,
        };
        let printer = if spec.output {
            let temp = std::env::temp_dir();
            let reader = results.as_ref().map(ResultsDir::reader).transpose();
            let printer = reader.and_then(|reader| Printer::new(spec.keep_order, reader));
            Some(printer.map_err(cannot("the spool folder in", &temp))?)
        } else {
            None
        };
        Ok(Self {
            joblog,
            skip,
            skip_failed,
            results,
            printer,
        })
    }
}

/// Turns an I/O error on `path` (given as `what`) into an [`ExecError::Keep`].
fn cannot<'a>(what: &'static str, path: &'a std::path::Path) -> impl Fn(std::io::Error) -> ExecError + 'a {
    move |err| ExecError::Keep {
        what,
        path: path.display().to_string(),
        reason: os_reason(&err),
    }
}

/// The job log line of a finished command: a timeout is exit value -1 and signal 15, as in GNU parallel.
fn job_record(
    seq: u64,
    start: SystemTime,
    runtime: Duration,
    finished: &Finished,
    argv: &[OsString],
) -> JobRecord {
    use std::os::unix::process::ExitStatusExt;
    let (exitval, signal) = match finished.ending {
        Ending::Exited(status) => (status.code().unwrap_or(0), status.signal().unwrap_or(0)),
        Ending::TimedOut | Ending::Cancelled => (-1, libc::SIGTERM),
    };
    JobRecord {
        seq,
        start,
        runtime,
        receive: finished.stdout_bytes,
        exitval,
        signal,
        command: shell::words(
            &argv
                .iter()
                .map(|arg| arg.to_string_lossy().into_owned())
                .collect::<Vec<_>>(),
        ),
    }
}

/// The inputs: `range` (from `--range`, checked already) or the lines of `--input` or stdin.
fn open_inputs(spec: &ExecSpec, range: Option<IntRange>) -> Result<(Inputs, String), ExecError> {
    match (range, &spec.input) {
        (Some(range), _) => {
            let text = spec.range.as_deref().unwrap_or_default();
            Ok((Inputs::Range(range), format!("range {text}")))
        }
        (None, Some(path)) => {
            let source = LineSource::open(path).map_err(|reason| ExecError::Input {
                path: path.display().to_string(),
                reason,
            })?;
            let lines = LazyLines::new(source, spec.total);
            Ok((
                Inputs::Lines(Box::new(lines)),
                format!("lines of {}", path.display()),
            ))
        }
        (None, None) => Ok((
            Inputs::Lines(Box::new(LazyLines::new(LineSource::Stdin, spec.total))),
            "lines of stdin".to_string(),
        )),
    }
}

fn limits(spec: &ExecSpec) -> Result<Limits, ExecError> {
    let timeout = match spec.timeout_s {
        None => None,
        Some(secs) if secs > 0.0 && secs <= 1e9 => Some(Duration::from_secs_f64(secs)),
        Some(secs) => return Err(ExecError::BadTimeout(secs.to_string())),
    };
    if !(0.0..=3600.0).contains(&spec.grace_s) {
        return Err(ExecError::BadGrace(spec.grace_s.to_string()));
    }
    Ok(Limits {
        timeout,
        grace: Duration::from_secs_f64(spec.grace_s),
    })
}

/// The worker processes and score direction that `--worker`, `--window` and `--goal` ask for.
fn worker_options(spec: &ExecSpec, limits: Limits) -> Result<(Option<worker::Workers>, Goal), ExecError> {
    let goal = match spec.goal.as_deref() {
        None => Goal::None,
        Some("max") => Goal::Maximize,
        Some("min") => Goal::Minimize,
        Some(other) => {
            return Err(ExecError::Worker(format!(
                "--goal must be max or min, got {other:?}"
            )));
        }
    };
    let needs_worker = |what: &str| Err(ExecError::Worker(format!("{what} needs --worker")));
    if !spec.worker {
        return match (spec.window, spec.goal.is_some()) {
            (Some(_), _) => needs_worker("--window"),
            (None, true) => needs_worker("--goal"),
            (None, false) => Ok((None, goal)),
        };
    }
    let window = spec.window.unwrap_or(DEFAULT_WINDOW);
    if !(1..=MAX_WINDOW).contains(&window) {
        return Err(ExecError::Worker(format!(
            "--window must be between 1 and {MAX_WINDOW}, got {window}"
        )));
    }
    if spec.match_stdout.is_some() {
        return Err(ExecError::Worker(
            "--match-stdout does not apply to --worker (workers answer in lines)".into(),
        ));
    }
    // The job log, kept output and retries are about one process per input.
    let per_process = [
        (spec.retries > 0, "--retries"),
        (spec.joblog.is_some(), "--joblog"),
        (spec.results.is_some(), "--results"),
        (spec.output, "--output"),
        (spec.unquoted_replacements, "--unquoted-replacements"),
    ];
    if let Some((_, flag)) = per_process.iter().find(|(given, _)| *given) {
        return Err(ExecError::Worker(format!(
            "{flag} does not apply to --worker (it is about one process per input)"
        )));
    }
    let workers = worker::Workers::new(spec.command.clone(), window, limits, goal);
    Ok((Some(workers), goal))
}

fn compile(pattern: &str) -> Result<regex::Regex, ExecError> {
    regex::RegexBuilder::new(pattern)
        .multi_line(true)
        .build()
        .map_err(|err| ExecError::BadRegex {
            pattern: pattern.to_string(),
            reason: err
                .to_string()
                .lines()
                .last()
                .unwrap_or("invalid")
                .trim_start_matches("error: ")
                .to_string(),
        })
}

/// Looks `program` up the way `execvp` would (see [`shell::find_program`]).
fn check_program(program: &str) -> Result<(), ExecError> {
    shell::find_program(program)
        .map(drop)
        .map_err(|problem| ExecError::CannotRun {
            program: program.to_string(),
            reason: problem.reason().to_string(),
        })
}

fn matched(input: &str, finished: &Finished) -> Outcome {
    Outcome::Match {
        value: with_output(input.to_string(), &finished.stdout, &finished.stderr),
        score: None,
    }
}

fn error(input: &str, what: &str, finished: &Finished) -> Outcome {
    Outcome::Error(with_output(
        format!("{input}: {what}"),
        &finished.stderr,
        &finished.stdout,
    ))
}

/// Appends the first [`OUTPUT_LINES`] lines, from `first` then `second`, each on its own line.
fn with_output(mut text: String, first: &[u8], second: &[u8]) -> String {
    let lines = String::from_utf8_lossy(first);
    let more = String::from_utf8_lossy(second);
    for line in lines.lines().chain(more.lines()).take(OUTPUT_LINES) {
        text.push_str("\n  ");
        text.push_str(&truncate(line, LINE_CHARS));
    }
    text
}

fn truncate(text: &str, chars: usize) -> String {
    match text.char_indices().nth(chars) {
        Some((at, _)) => format!("{}...", &text[..at]),
        None => text.to_string(),
    }
}

fn describe_signal(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match status.signal() {
        Some(signal) => format!("killed by signal {signal}"),
        None => format!("ended with {status}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(command: &[&str]) -> ExecSpec {
        ExecSpec {
            command: command.iter().map(ToString::to_string).collect(),
            range: Some("1..4".into()),
            input: None,
            total: None,
            match_stdout: None,
            ..ExecSpec::default()
        }
    }

    #[test]
    fn bad_specs_are_rejected_up_front() {
        assert_eq!(ExecSearch::new(&spec(&[])).err(), Some(ExecError::EmptyCommand));
        let missing = ExecSearch::new(&spec(&["poolwatch-no-such-command"])).err();
        assert_eq!(
            missing.map(|e| e.to_string()).as_deref(),
            Some("cannot run 'poolwatch-no-such-command': No such file or directory")
        );
        let bad_regex = ExecSpec {
            match_stdout: Some("(".into()),
            ..spec(&["true"])
        };
        assert!(matches!(
            ExecSearch::new(&bad_regex),
            Err(ExecError::BadRegex { .. })
        ));
        let bad_range = ExecSpec {
            range: Some("5..5".into()),
            ..spec(&["true"])
        };
        assert!(matches!(ExecSearch::new(&bad_range), Err(ExecError::BadRange(_))));
    }

    #[test]
    fn exit_status_decides_the_outcome() {
        let search = ExecSearch::new(&spec(&["sh", "-c", "echo hi $1; exit $(( $1 - 1 ))", "sh"])).unwrap();
        let cancel = CancelToken::new();
        assert_eq!(
            search.run(0, &cancel),
            Outcome::Match {
                value: "1\n  hi 1".into(),
                score: None
            }
        );
        assert_eq!(search.run(1, &cancel), Outcome::Miss);
        assert_eq!(
            search.run(2, &cancel),
            Outcome::Error("3: exit status 2\n  hi 3".into())
        );
    }

    #[test]
    fn a_search_told_its_plan_keeps_only_the_lines_it_will_run() {
        let path = crate::testing::TempPath::new("exec-plan");
        let text: String = (0..40).map(|i| format!("line{i}\n")).collect();
        std::fs::write(&path, text).unwrap();
        let search = ExecSearch::new(&ExecSpec {
            range: None,
            input: Some(path.to_path_buf()),
            ..spec(&["echo"])
        })
        .unwrap();
        // Shard 1 of 2 in chunks of 5: ids 5..10, 15..20, 25..30, 35..40.
        let shard = poolwatch_core::Shard::new(1, 2).unwrap().with_chunk(5);
        let plan = poolwatch_core::RunConfig::default().with_shard(shard).plan;
        search.learn_plan(&poolwatch_core::PlannedIds::of_open_space(&plan));
        while !search.extend_space(u64::MAX, Duration::from_secs(5)).complete {}
        let Inputs::Lines(lines) = &search.setup.inputs else {
            panic!("lines expected")
        };
        assert_eq!(lines.held(), 20);
        let cancel = CancelToken::new();
        assert_eq!(
            search.run(5, &cancel),
            Outcome::Match {
                value: "line5\n  line5".into(),
                score: None
            }
        );
        let Outcome::Fatal(message) = search.run(4, &cancel) else {
            panic!("another shard's line is not kept: asked for, the run stops")
        };
        assert!(message.contains("line 5 is not available"), "{message}");
        assert_eq!(lines.held(), 19);
    }

    #[test]
    fn output_lines_are_capped() {
        let text = with_output("x".into(), b"1\n2\n3\n", b"4\n5\n6\n");
        assert_eq!(text, "x\n  1\n  2\n  3\n  4\n  5");
        assert_eq!(truncate("abcdef", 3), "abc...");
    }
}
