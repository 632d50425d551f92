//! The workloads: the `Search` trait a library user implements, and the built-in searches.

mod collatz;
mod fault;
mod needle;
#[cfg(feature = "pow")]
mod pow;
mod rastrigin;
#[cfg(feature = "pow")]
mod sha256x8;

pub use collatz::Collatz;
pub use fault::PanicEvery;
pub use needle::Needle;
#[cfg(feature = "pow")]
pub use pow::{Pow, leading_zero_bits};
pub use rastrigin::Rastrigin;

use crate::cancel::CancelToken;
use std::cell::Cell;
use std::ops::Range;
use std::time::Duration;

/// Which direction a search's score improves in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum Goal {
    /// The search reports no score.
    None,
    /// Higher scores are better (leading zero bits, chain length).
    Maximize,
    /// Lower scores are better (a function value to minimise).
    Minimize,
}

impl Goal {
    /// True when `candidate` is strictly better than `current` under this goal.
    #[must_use]
    pub fn improves(self, candidate: f64, current: f64) -> bool {
        match self {
            Goal::None => false,
            Goal::Maximize => candidate > current,
            Goal::Minimize => candidate < current,
        }
    }
}

/// What one task produced.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Nothing notable; only counted.
    Miss,
    /// No match, but a score that may be a new best.
    Scored(f64),
    /// The task meets the search's match condition.
    Match {
        /// A short human-readable value (the needle, a nonce's hash, a point).
        value: String,
        /// The score of the match, for scoring searches.
        score: Option<f64>,
    },
    /// The task failed; the message is logged.
    Error(String),
    /// The search cannot go on (a command that cannot be run at all): logged as an error,
    /// and the run halts at once with [`crate::HaltReason::Fatal`].
    Fatal(String),
    /// The task saw the cancel token and gave up before finishing.
    Cancelled,
    /// Something worth telling about a task that is not its outcome (it keeps the one it
    /// had): a `--worker` process that died while idle after answering it. Logged and shown
    /// as a notice; it counts as neither an error nor a match and no halt policy reads it.
    /// Returned from [`Search::run`] as a task's outcome, the task counts as done with no
    /// outcome of its own (as a miss with a notice).
    Notice(String),
}

/// What a search knows of its chance of a match, for an expected time to the first one.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum MatchOdds {
    /// Nothing: only the time to exhaust the space is estimated.
    #[default]
    Unknown,
    /// One match, anywhere in the space with equal chance (the needle): expected halfway through what is left.
    OneUniform,
    /// Each task matches independently with this probability (proof of work: `2^-bits`).
    PerTask(f64),
}

/// How much of an open space (see [`Search::open_space`]) can be handed out now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpaceStatus {
    /// Ids `0..available` may be handed out.
    pub available: u64,
    /// True once no id beyond `available` will ever come (end of input).
    pub complete: bool,
    /// A total to show while the space is still open (the user's `--total`), if known.
    pub estimate: Option<u64>,
}

/// A space of tasks `0..space()` that the pool can search.
///
/// Implement [`Search::run`]; the engine handles batching, workers, halting,
/// cancellation, panics and statistics. Searches whose tasks take well under a
/// microsecond can also override [`Search::run_batch`] and return true from
/// [`Search::tight_batches`] so that a whole chunk of ids runs in one tight loop.
pub trait Search: Send + Sync {
    /// Short name, as typed on the command line (`needle`, `pow`...).
    fn name(&self) -> &str;

    /// The parameters, one line, for headers and summaries.
    fn params(&self) -> String;

    /// Number of tasks: the space is `0..space()`.
    fn space(&self) -> u64;

    /// Whether and how this search scores its tasks.
    fn goal(&self) -> Goal {
        Goal::None
    }

    /// True when the search has a match condition (false: it only climbs a score).
    fn can_match(&self) -> bool {
        true
    }

    /// True when a match means no more than a task that succeeded (`exec` of one-shot commands
    /// without `--match-stdout`: exit status 0). Summaries and the dashboard then say
    /// "succeeded", and the exit code is 0 only when every task succeeded (as GNU parallel's).
    fn matches_are_successes(&self) -> bool {
        false
    }

    /// What the search knows of its chance of a match, for the expected time to the first one.
    fn match_odds(&self) -> MatchOdds {
        MatchOdds::Unknown
    }

    /// The user's own value for task `task` (an exec input, a collatz start value), or `None`
    /// when the task id is what the user knows it by. Shown on screen and in machine output.
    fn input_label(&self, _task: u64) -> Option<String> {
        None
    }

    /// How the user names a task's own value ([`Search::input_label`]); `None` when the
    /// task id is what the user knows a task by.
    fn input_naming(&self) -> Option<InputNaming<'_>> {
        None
    }

    /// A short description of a running task for the workers table (an input, a pid),
    /// or `None`. Called at frame rate for each worker's current task.
    fn task_detail(&self, _task: u64) -> Option<String> {
        None
    }

    /// True when the space grows while the run goes on (inputs read lazily): the
    /// submitter then asks [`Search::extend_space`] before each batch instead of
    /// using [`Search::space`], and stops once it reports the space complete.
    fn open_space(&self) -> bool {
        false
    }

    /// For an open space: makes ids up to `wanted` available if it can within `wait`
    /// (it must return by then, so that a halt is never held up) and reports how far
    /// the space goes now. Never called unless [`Search::open_space`] is true.
    fn extend_space(&self, _wanted: u64, _wait: Duration) -> SpaceStatus {
        SpaceStatus {
            available: self.space(),
            complete: true,
            estimate: None,
        }
    }

    /// For an open space: told by the engine once, as the run starts and before the first
    /// [`Search::extend_space`], which ids the run will hand out (its window and shard, minus
    /// the ids done before), so that inputs read ahead for other ids need not be kept.
    /// Ignored by default.
    fn learn_plan(&self, _ids: &crate::plan::PlannedIds) {}

    /// Extra counts for the summary and the log's `end` event, by name (exec's
    /// `attempts`, `retried`, `skipped`); none by default.
    fn tallies(&self) -> Vec<(&'static str, u64)> {
        Vec::new()
    }

    /// Runs one task. Long tasks should poll or sleep on `cancel`.
    fn run(&self, task: u64, cancel: &CancelToken) -> Outcome;

    /// True if [`Search::run_batch`] is a tight loop worth calling on chunks of ids.
    fn tight_batches(&self) -> bool {
        false
    }

    /// Ids in each batch handed out before any task has been timed (after that, batches are
    /// sized to about a millisecond of measured work). By default 1,024 for
    /// [`Search::tight_batches`] searches, whose tasks are expected to be tiny, else 1. A
    /// search whose batched tasks may each take milliseconds (such as `exec --worker`) asks
    /// for 1, so that the first batches do not hand whole blocks of ids to single workers.
    fn first_batch_size(&self) -> u64 {
        if self.tight_batches() { 1024 } else { 1 }
    }

    /// Runs the ids of `tasks` in order, passing every outcome that is not a
    /// [`Outcome::Miss`] to `notable`. Returns how many ids were run (a prefix of
    /// `tasks`); it may stop early when `cancel` fires.
    fn run_batch(
        &self,
        tasks: Range<u64>,
        cancel: &CancelToken,
        notable: &mut dyn FnMut(u64, Outcome),
    ) -> u64 {
        run_each(self, tasks, cancel, notable)
    }

    /// The engine's loop for short tasks that only [`Search::run`] implements: runs the ids
    /// of `tasks` in order until `stop` is cancelled (at any halt, `now` or `soon`), passing
    /// every outcome but [`Outcome::Miss`] to `notable`, and keeping in `running` the id under
    /// way, so that a panic is pinned on its task. Returns how many ids ran.
    ///
    /// The engine calls it on chunks of ids once it has measured the tasks to be short. The
    /// provided body is right for every search; it is a trait method only so that it is
    /// compiled for each search type, which lets `run` inline into the loop (through
    /// `dyn Search` each call would be an indirect one). There is no reason to override it.
    fn run_short(
        &self,
        tasks: Range<u64>,
        stop: &CancelToken,
        cancel: &CancelToken,
        running: &Cell<u64>,
        notable: &mut dyn FnMut(u64, Outcome),
    ) -> u64 {
        let mut ran = 0;
        for task in tasks {
            if stop.is_cancelled() {
                break;
            }
            running.set(task);
            match self.run(task, cancel) {
                Outcome::Miss => {}
                other => notable(task, other),
            }
            ran += 1;
        }
        ran
    }
}

/// The default [`Search::run_batch`]: [`Search::run`] on each id in order until cancelled.
/// Returns how many ids ran; every outcome but [`Outcome::Miss`] goes to `notable`.
pub fn run_each<S: Search + ?Sized>(
    search: &S,
    tasks: Range<u64>,
    cancel: &CancelToken,
    notable: &mut dyn FnMut(u64, Outcome),
) -> u64 {
    // The short-task loop with the cancel token as its stop: the same loop, written once.
    let running = Cell::new(tasks.start);
    search.run_short(tasks, cancel, cancel, &running, notable)
}

/// How a search's tasks are named by their own values ([`Search::input_naming`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputNaming<'a> {
    /// What the user calls a value, such as `input` or `start`: it names the tasks in the
    /// dashboard's log (`start 27`) and its space (`starts 1..=999`).
    pub noun: &'a str,
    /// Whether the task's 1-based number is shown beside its value (`input a.txt (#3)`, the
    /// number exec's command sees as `{#}`): false when the value is that number itself
    /// (collatz's start value is `task + 1`), which it would only repeat.
    pub numbered: bool,
}

/// A [`Search`] made from a closure: the quickest way to run your own function on the pool.
///
/// ```
/// use poolwatch_core::{Outcome, Run, RunConfig, search};
/// use std::sync::Arc;
///
/// let evens = search::from_fn(100, |id, _cancel| {
///     if id % 2 == 0 { Outcome::Scored(id as f64) } else { Outcome::Miss }
/// })
/// .named("evens")
/// .maximize();
/// let report = Run::start(Arc::new(evens), &RunConfig::default().with_workers(2)).wait();
/// assert_eq!(report.best.map(|best| best.task), Some(98));
/// ```
pub fn from_fn<F>(space: u64, task: F) -> FnSearch<F>
where
    F: Fn(u64, &CancelToken) -> Outcome + Send + Sync,
{
    FnSearch {
        space,
        task,
        name: "fn".to_string(),
        goal: Goal::None,
    }
}

/// The search [`from_fn`] builds: a closure over the ids `0..space`.
pub struct FnSearch<F> {
    space: u64,
    task: F,
    name: String,
    goal: Goal,
}

impl<F> FnSearch<F> {
    /// The same search under another name (shown in headers and summaries).
    #[must_use]
    pub fn named(mut self, name: &str) -> Self {
        self.name = name.to_string();
        self
    }

    /// Higher [`Outcome::Scored`] values are better.
    #[must_use]
    pub fn maximize(mut self) -> Self {
        self.goal = Goal::Maximize;
        self
    }

    /// Lower [`Outcome::Scored`] values are better.
    #[must_use]
    pub fn minimize(mut self) -> Self {
        self.goal = Goal::Minimize;
        self
    }
}

impl<F> Search for FnSearch<F>
where
    F: Fn(u64, &CancelToken) -> Outcome + Send + Sync,
{
    fn name(&self) -> &str {
        &self.name
    }

    fn params(&self) -> String {
        format!("space={}", self.space)
    }

    fn space(&self) -> u64 {
        self.space
    }

    fn goal(&self) -> Goal {
        self.goal
    }

    fn run(&self, task: u64, cancel: &CancelToken) -> Outcome {
        (self.task)(task, cancel)
    }
}
