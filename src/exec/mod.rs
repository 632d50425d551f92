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
mod check;
mod describe;
mod error;
mod input;
mod joblog;
mod keep;
mod process;
mod quoting;
mod results;
mod runner;
pub mod shell;
mod spec;
mod template;
mod worker;
mod worker_search;

use check::{Checked, open_inputs};
use describe::{describe_signal, error, matched, truncate};
pub use error::ExecError;
pub use input::{IntRange, LazyLines, LineSource};
use joblog::{JobLog, JobRecord, Previous};
use keep::{Keep, job_record};
use results::{Printer, ResultsDir};
pub use runner::{CancelWatch, Ending, Finished, Limits, RunError, Tees};
pub use spec::{ExecSpec, MAX_RETRIES};
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
}
