//! The engine: a pool of worker threads that searches `0..N` in batches, halts early and reports live counters.

mod control;
mod crew;
mod crowding;
mod doorbell;
mod halt;
mod outbox;
pub mod panics;
mod queue;
mod shared;
mod stats;
mod submit;
mod tally;
mod worker;

pub use halt::{BadHaltPolicy, HaltLimit, HaltMode, HaltOn, HaltPolicy, HaltReason, StopRequest};
pub use stats::{Best, Counters, RunState, Snapshot, WorkerRow, WorkerState, bucket_of, bucket_span};

use crate::plan::{IdPlan, Shard};
use crate::search::Search;
use crossbeam_channel::Receiver;
use shared::Shared;
use std::sync::Arc;
use std::time::Duration;

/// Worker threads are named with this prefix and their slot number.
pub const WORKER_THREAD_PREFIX: &str = worker::THREAD_PREFIX;

/// Most workers a run may have.
pub const MAX_WORKERS: usize = 1024;

/// A handle to a run's `--halt lowest` bound, for a thread that learns of matches found
/// elsewhere (another shard's): see [`Run::bound_lowest`].
#[derive(Clone)]
pub struct LowestBound {
    shared: Arc<Shared>,
}

impl LowestBound {
    /// A match at `task` found elsewhere: see [`Run::bound_lowest`].
    pub fn lower(&self, task: u64) {
        if self.shared.policy == HaltPolicy::Lowest && self.shared.lowest.lower(task, &self.shared.crew) {
            // The submitter stops at the new bound now, not after its next wait.
            self.shared.queue.wake_submitter();
        }
    }

    /// True once the run has finished.
    #[must_use]
    pub fn is_finished(&self) -> bool {
        self.shared.report().is_some()
    }
}

/// How a run is set up: start from [`RunConfig::default`] and chain the `with_` setters.
///
/// ```
/// use poolwatch_core::{HaltPolicy, RunConfig};
/// let config = RunConfig::default().with_workers(4).with_policy(HaltPolicy::Never);
/// assert_eq!(config.workers, 4);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RunConfig {
    /// Worker threads at the start (1..=[`MAX_WORKERS`]).
    pub workers: usize,
    /// What a match does.
    pub policy: HaltPolicy,
    /// Number of coverage buckets the ids this run covers are split into for the coverage strip.
    pub coverage_buckets: usize,
    /// Most events queued for the reader of [`Run::events`]; `None` (the default) for no
    /// bound. See [`RunConfig::with_event_capacity`].
    pub event_capacity: Option<usize>,
    /// Which ids of the space this run covers (window, shard, ids done before).
    pub plan: IdPlan,
}

impl RunConfig {
    /// The same config with `workers` worker threads at the start.
    #[must_use]
    pub fn with_workers(mut self, workers: usize) -> Self {
        self.workers = workers;
        self
    }

    /// The same config with another halt policy.
    #[must_use]
    pub fn with_policy(mut self, policy: HaltPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The same config with at most `capacity` events queued for the reader.
    ///
    /// When the reader falls behind, workers wait for room before announcing a match or
    /// an error (nothing is dropped) and new bests are coalesced into the latest one, so
    /// memory stays flat however many matches there are. The reader must then read
    /// [`Run::events`] up to [`Event::Finished`] (or drop the run) rather than call
    /// [`Run::wait`] alone, which could wait on workers waiting for room.
    #[must_use]
    pub fn with_event_capacity(mut self, capacity: usize) -> Self {
        self.event_capacity = Some(capacity.max(1));
        self
    }

    /// The same config with `buckets` coverage buckets.
    #[must_use]
    pub fn with_coverage_buckets(mut self, buckets: usize) -> Self {
        self.coverage_buckets = buckets;
        self
    }

    /// The same config starting at id `skip` of the space (hashcat's `--skip`).
    #[must_use]
    pub fn with_skip(mut self, skip: u64) -> Self {
        self.plan.skip = skip;
        self
    }

    /// The same config covering at most `limit` ids from the skip on (hashcat's `--limit`).
    #[must_use]
    pub fn with_limit(mut self, limit: u64) -> Self {
        self.plan.limit = Some(limit);
        self
    }

    /// The same config covering one shard of the window: see [`Shard`].
    #[must_use]
    pub fn with_shard(mut self, shard: Shard) -> Self {
        self.plan.shard = Some(shard);
        self
    }

    /// The same config skipping the ids of `done` (ranges `[start, end)` of absolute ids completed
    /// before, as [`Run::completed_ranges`] reported them): a resumed run.
    #[must_use]
    pub fn with_done(mut self, done: Vec<(u64, u64)>) -> Self {
        self.plan.done = done;
        self
    }

    /// Where a run of this config over a space of `space` ids starts, before it runs: the ids
    /// it covers (`counters.total`), those done before (`counters.done_before`) and the
    /// coverage strip they fill, as the running pool counts them. What a front end shows of
    /// a resumed run (of the whole space, a window or a shard) before it is launched.
    ///
    /// ```
    /// use poolwatch_core::{RunConfig, Shard};
    /// let config = RunConfig::default()
    ///     .with_shard(Shard::new(1, 2).unwrap().with_chunk(10))
    ///     .with_done(vec![(0, 40)]);
    /// let start = config.starting_point(100);
    /// assert_eq!((start.counters.total, start.counters.done_before), (50, 20));
    /// ```
    #[must_use]
    pub fn starting_point(&self, space: u64) -> Snapshot {
        let plan = crate::plan::ResolvedPlan::new(&self.plan, Some(space));
        let total = plan.total(space);
        let buckets = self.coverage_buckets.max(1);
        let mut coverage = vec![0; buckets];
        for &(start, end) in plan.done().ranges() {
            let (from, to) = (plan.rank(start.min(space)), plan.rank(end.min(space)));
            if from == to {
                continue;
            }
            let (first, last) = (bucket_of(total, buckets, from), bucket_of(total, buckets, to - 1));
            for (index, cell) in coverage.iter_mut().enumerate().take(last + 1).skip(first) {
                let (low, high) = bucket_span(total, buckets, index);
                *cell += to.min(high).saturating_sub(from.max(low));
            }
        }
        let mut snapshot = Snapshot::default();
        snapshot.counters.total = total;
        snapshot.counters.done_before = plan.done_count(space);
        snapshot.coverage = coverage;
        snapshot
    }
}

impl Default for RunConfig {
    fn default() -> Self {
        Self {
            workers: num_cpus::get(),
            policy: HaltPolicy::Now,
            coverage_buckets: 512,
            plan: IdPlan::default(),
            event_capacity: None,
        }
    }
}

/// Something notable, sent on a channel that never drops messages.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A task met the match condition.
    Match {
        /// Task id.
        task: u64,
        /// The search's description of the match.
        value: String,
        /// Its score, for scoring searches.
        score: Option<f64>,
        /// Worker slot that ran it.
        worker: usize,
        /// Time since the run started.
        at: Duration,
    },
    /// A task failed or panicked.
    Error {
        /// Task id.
        task: u64,
        /// What went wrong (a panic's message included).
        message: String,
        /// Worker slot that ran it.
        worker: usize,
        /// Time since the run started.
        at: Duration,
    },
    /// Something about a task that is not its outcome ([`crate::search::Outcome::Notice`]).
    Notice {
        /// Task id.
        task: u64,
        /// What happened.
        message: String,
        /// Worker slot that reported it.
        worker: usize,
        /// Time since the run started.
        at: Duration,
    },
    /// A better score than any before.
    NewBest {
        /// Task id.
        task: u64,
        /// The score.
        score: f64,
        /// Worker slot that ran it.
        worker: usize,
        /// Time since the run started.
        at: Duration,
    },
    /// The run was asked to halt (sent once, for the first halt).
    Halted {
        /// Why.
        reason: HaltReason,
        /// Time since the run started.
        at: Duration,
    },
    /// Every worker has stopped; the last event of a run.
    Finished(RunReport),
}

/// The final accounting of a run.
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct RunReport {
    /// Why it ended.
    pub reason: HaltReason,
    /// The counters at the end (`submitted` is the raw count of ids handed out).
    #[cfg_attr(feature = "serde", serde(flatten))]
    pub counters: Counters,
    /// Worker count at the end.
    pub workers: usize,
    /// Wall time.
    pub elapsed: Duration,
    /// Wall time minus pauses.
    pub active: Duration,
    /// From the halting result to the end of the last task that was under way (no task of
    /// the run runs after it; a queued batch that was dropped counts as ended at once).
    pub halt_latency: Option<Duration>,
    /// From the halting result to the last worker leaving the run (before its thread's
    /// teardown): the halt latency plus the time idle workers take to wake and leave (a
    /// thousand threads on two cores take tens of milliseconds, with no task running).
    pub exit_latency: Option<Duration>,
    /// Best score.
    pub best: Option<Best>,
    /// The message of the [`crate::search::Outcome::Fatal`] that halted the run, if one did.
    pub fatal: Option<String>,
}

impl RunReport {
    /// Completed tasks per second of active time.
    #[must_use]
    pub fn tasks_per_s(&self) -> f64 {
        rate(self.counters.completed, self.active)
    }
}

/// `count / duration` in per-second units, 0 for an empty duration.
#[must_use]
pub fn rate(count: u64, duration: Duration) -> f64 {
    let secs = duration.as_secs_f64();
    if secs > 0.0 {
        #[expect(clippy::cast_precision_loss, reason = "a rate needs no exact integer")]
        let count = count as f64;
        count / secs
    } else {
        0.0
    }
}

/// A live (or finished) run: the handle the CLI and the dashboard steer it with.
///
/// Every method may be called from any thread. Dropping the handle halts the run
/// and waits for its threads.
pub struct Run {
    shared: Arc<Shared>,
    events: Receiver<Event>,
}

impl Run {
    /// Starts searching `0..search.space()` at once.
    #[must_use]
    pub fn start(search: Arc<dyn Search>, config: &RunConfig) -> Self {
        panics::install();
        let (shared, events) = Shared::launch(search, config);
        Self { shared, events }
    }

    /// Notable results, in the order they happened; ends with [`Event::Finished`].
    #[must_use]
    pub fn events(&self) -> &Receiver<Event> {
        &self.events
    }

    /// A plain copy of all counters.
    #[must_use]
    pub fn snapshot(&self) -> Snapshot {
        self.shared.snapshot()
    }

    /// Wall time since the run started (still counting after it finished).
    #[must_use]
    pub fn elapsed(&self) -> Duration {
        self.shared.started.elapsed()
    }

    /// Ranges `[start, end)` of absolute ids whose task ran to an outcome (ids done before
    /// this run included), merged and in order: the checkpoint a resumed run passes to
    /// [`RunConfig::with_done`]. Recorded once per batch; cheap to call every second (the
    /// list stays about as long as the number of workers, plus one range per shard chunk).
    /// While the run goes on, a batch that ends during this call may be missing (it is in
    /// the next call): a checkpoint never lists a task that did not run. Once the run has
    /// finished, the list is complete.
    #[must_use]
    pub fn completed_ranges(&self) -> Vec<(u64, u64)> {
        self.shared.tally.completed_ranges()
    }

    /// The shard chunk size this run uses (`u64::MAX` when it covers its window unsplit).
    #[must_use]
    pub fn shard_chunk(&self) -> u64 {
        self.shared.plan.chunk()
    }

    /// Stops handing out work; workers finish what they hold, then wait.
    pub fn pause(&self) {
        self.shared.set_paused(true);
    }

    /// Resumes submission after [`Run::pause`].
    pub fn resume(&self) {
        self.shared.set_paused(false);
    }

    /// True while submission is paused.
    #[must_use]
    pub fn is_paused(&self) -> bool {
        self.shared.control.is_paused()
    }

    /// Grows or shrinks the pool to `workers` (clamped to 1..=[`MAX_WORKERS`]).
    /// A retiring worker finishes the batch it holds, so no task is lost or repeated.
    pub fn set_workers(&self, workers: usize) {
        self.shared.set_workers(workers);
    }

    /// The worker count asked for.
    #[must_use]
    pub fn workers(&self) -> usize {
        self.shared.target_workers()
    }

    /// Halts the run from outside; the first halt's reason is the one reported.
    ///
    /// Only [`HaltReason::User`] and [`HaltReason::Signal`] can be asked for: a match, an
    /// exhausted space or a fatal error are facts the engine alone establishes.
    pub fn halt(&self, mode: HaltMode, request: StopRequest) {
        self.shared
            .halt(mode, request.reason(), std::time::Instant::now());
    }

    /// Under `--halt lowest`: a match at `task` found elsewhere (another shard of the same
    /// search) bounds this run as one of its own would: ids at or above `task` are not run
    /// (running ones are cancelled), every id below it still runs. The run then ends with
    /// [`HaltReason::Bounded`] unless it finds a lower match of its own. Nothing under any
    /// other policy.
    pub fn bound_lowest(&self, task: u64) {
        self.lowest_bound().lower(task);
    }

    /// A handle that lowers this run's `lowest` bound from another thread.
    #[must_use]
    pub fn lowest_bound(&self) -> LowestBound {
        LowestBound {
            shared: Arc::clone(&self.shared),
        }
    }

    /// Drops queued work and cancels running tasks.
    pub fn halt_now(&self) {
        self.halt(HaltMode::Now, StopRequest::User);
    }

    /// Drops queued work and lets running tasks finish.
    pub fn halt_soon(&self) {
        self.halt(HaltMode::Soon, StopRequest::User);
    }

    /// True once every worker has stopped.
    #[must_use]
    pub fn is_finished(&self) -> bool {
        self.shared.report().is_some()
    }

    /// The final report, once finished.
    #[must_use]
    pub fn report(&self) -> Option<RunReport> {
        self.shared.report()
    }

    /// Blocks until the run finishes, then returns its report.
    #[must_use]
    pub fn wait(&self) -> RunReport {
        self.shared.wait()
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        if !self.is_finished() {
            self.halt_now();
        }
        // Workers may wait for room on a bounded event channel: make it while waiting.
        while !self.is_finished() {
            let _unread = self.events.recv_timeout(Duration::from_millis(10));
        }
        self.shared.crew.join();
    }
}
