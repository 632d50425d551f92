//! Per-worker counters (cache-padded atomics written by their worker alone) and the plain snapshot the UI reads.

use super::halt::HaltReason;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::Duration;

/// What a worker is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum WorkerState {
    /// Waiting for work.
    #[default]
    Idle,
    /// Running a task.
    Running,
    /// Waiting because submission is paused.
    Paused,
    /// Exited (halted, retired or the space is exhausted).
    Stopped,
}

impl WorkerState {
    fn from_u8(value: u8) -> Self {
        match value {
            0 => Self::Idle,
            1 => Self::Running,
            2 => Self::Paused,
            _ => Self::Stopped,
        }
    }

    /// A short label for tables.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::Idle => "idle",
            Self::Running => "running",
            Self::Paused => "paused",
            Self::Stopped => "stopped",
        }
    }
}

/// Marks "no current task" in [`WorkerSlot::current`].
pub(crate) const NO_TASK: u64 = u64::MAX;

/// One worker's live counters. Each field has a single writer: the worker thread
/// that owns the slot, so plain load + store replaces atomic read-modify-write.
#[derive(Debug)]
pub(crate) struct WorkerSlot {
    pub state: AtomicU8,
    pub current: AtomicU64,
    pub task_started_ns: AtomicU64,
    pub batch_start: AtomicU64,
    pub batch_end: AtomicU64,
    pub done: AtomicU64,
    pub cancelled: AtomicU64,
    pub matches: AtomicU64,
    pub errors: AtomicU64,
    /// Summed time inside finished batches (all lives of the slot: the batch sizer reads it).
    pub busy_ns: AtomicU64,
    /// Ids the batches in `busy_ns` held (run, cancelled or left when the batch stopped short).
    pub timed_tasks: AtomicU64,
    /// Start of the batch being run (valid while the state is `Running`).
    pub batch_started_ns: AtomicU64,
    pub started_after_halt: AtomicU64,
    /// This life of the slot: when its thread was spawned and how long the run had been paused by then.
    pub spawned_ns: AtomicU64,
    pub paused_at_spawn_ns: AtomicU64,
    /// `busy_ns` when this life began.
    pub busy_at_spawn_ns: AtomicU64,
    /// When this life ended (0 while alive) and how long the run had been paused by then.
    pub stopped_ns: AtomicU64,
    pub paused_at_stop_ns: AtomicU64,
}

impl WorkerSlot {
    pub fn new() -> Self {
        Self {
            state: AtomicU8::new(WorkerState::Idle as u8),
            current: AtomicU64::new(NO_TASK),
            task_started_ns: AtomicU64::new(0),
            batch_start: AtomicU64::new(0),
            batch_end: AtomicU64::new(0),
            done: AtomicU64::new(0),
            cancelled: AtomicU64::new(0),
            matches: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            busy_ns: AtomicU64::new(0),
            timed_tasks: AtomicU64::new(0),
            batch_started_ns: AtomicU64::new(0),
            started_after_halt: AtomicU64::new(0),
            spawned_ns: AtomicU64::new(0),
            paused_at_spawn_ns: AtomicU64::new(0),
            busy_at_spawn_ns: AtomicU64::new(0),
            stopped_ns: AtomicU64::new(0),
            paused_at_stop_ns: AtomicU64::new(0),
        }
    }

    /// Starts a life of this slot at `now_ns`, when the run had been paused for `paused_ns`.
    pub fn begin_life(&self, now_ns: u64, paused_ns: u64) {
        self.spawned_ns.store(now_ns, Ordering::Relaxed);
        self.paused_at_spawn_ns.store(paused_ns, Ordering::Relaxed);
        self.busy_at_spawn_ns
            .store(self.busy_ns.load(Ordering::Relaxed), Ordering::Relaxed);
        self.stopped_ns.store(0, Ordering::Relaxed);
        self.set_state(WorkerState::Idle);
    }

    /// Ends this life at `now_ns`, when the run had been paused for `paused_ns`.
    pub fn end_life(&self, now_ns: u64, paused_ns: u64) {
        self.current.store(NO_TASK, Ordering::Relaxed);
        self.paused_at_stop_ns.store(paused_ns, Ordering::Relaxed);
        self.stopped_ns.store(now_ns.max(1), Ordering::Relaxed);
        self.set_state(WorkerState::Stopped);
    }

    /// Share of this life spent inside tasks: time in batches (the running one included) over
    /// the time the thread was alive while the run was not paused, 0..=1.
    pub fn busy_share(&self, now_ns: u64, paused_now_ns: u64) -> f64 {
        let stopped = self.stopped_ns.load(Ordering::Relaxed);
        let (end, paused_end) = if stopped != 0 && self.state() == WorkerState::Stopped {
            (stopped, self.paused_at_stop_ns.load(Ordering::Relaxed))
        } else {
            (now_ns, paused_now_ns)
        };
        let spawned = self.spawned_ns.load(Ordering::Relaxed);
        let paused = paused_end.saturating_sub(self.paused_at_spawn_ns.load(Ordering::Relaxed));
        let alive = end.saturating_sub(spawned).saturating_sub(paused);
        let mut busy = self
            .busy_ns
            .load(Ordering::Relaxed)
            .saturating_sub(self.busy_at_spawn_ns.load(Ordering::Relaxed));
        if self.state() == WorkerState::Running {
            busy += now_ns.saturating_sub(self.batch_started_ns.load(Ordering::Relaxed));
        }
        if alive == 0 {
            return 0.0;
        }
        #[expect(clippy::cast_precision_loss, reason = "a ratio for a bar")]
        let share = busy as f64 / alive as f64;
        share.clamp(0.0, 1.0)
    }

    pub fn state(&self) -> WorkerState {
        WorkerState::from_u8(self.state.load(Ordering::Acquire))
    }

    pub fn set_state(&self, state: WorkerState) {
        self.state.store(state as u8, Ordering::Release);
    }
}

/// Adds `amount` to a counter that only the calling thread writes.
#[inline]
pub(crate) fn bump(counter: &AtomicU64, amount: u64) {
    counter.store(counter.load(Ordering::Relaxed) + amount, Ordering::Relaxed);
}

/// One row of the workers table.
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct WorkerRow {
    /// Slot number, stable for the run.
    pub id: usize,
    /// What it is doing.
    pub state: WorkerState,
    /// The task it is running, if any.
    pub current_task: Option<u64>,
    /// How long it has been on the current task (or batch of tiny tasks).
    pub on_task_for: Duration,
    /// The batch of ids it holds, `start..end`.
    pub batch: (u64, u64),
    /// Tasks it completed.
    pub done: u64,
    /// Matches it found.
    pub matches: u64,
    /// Errors it recorded (including panics).
    pub errors: u64,
    /// Share of the worker's time spent inside tasks (a task sleeping or waiting on a child
    /// included): time in tasks over the time its thread was alive while the run was not paused, 0..=1.
    pub busy: f64,
    /// The search's description of the current task ([`crate::search::Search::task_detail`]).
    pub detail: Option<String>,
}

/// The lifecycle of a run, as a snapshot sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(
    feature = "serde",
    serde(rename_all = "lowercase", tag = "state", content = "reason")
)]
pub enum RunState {
    /// Tasks are being submitted and run.
    #[default]
    Running,
    /// Submission is paused.
    Paused,
    /// A halt was requested; workers are stopping.
    Halting(HaltReason),
    /// Every worker has stopped.
    Finished(HaltReason),
}

/// The best score so far and the task that produced it.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Best {
    /// The score.
    pub score: f64,
    /// The task id.
    pub task: u64,
}

/// The run's counters, shared by [`Snapshot`], [`crate::RunReport`] and the application's summary.
///
/// `total` and every count refer to the ids this run covers: the window `skip..skip+limit` of
/// the space, its shard if split (see [`crate::IdPlan`]). `completed + cancelled + done_before +
/// (total - submitted - done_before)` is `total` once the run is finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Counters {
    /// Ids this run covers (a lower bound while the space is open).
    pub total: u64,
    /// Ids handed to the queue by this run.
    pub submitted: u64,
    /// Tasks that ran to an outcome in this run.
    pub completed: u64,
    /// Submitted tasks that did not complete (dropped or cut short by a halt).
    pub cancelled: u64,
    /// Matches found.
    #[cfg_attr(feature = "serde", serde(rename = "match_count"))]
    pub matches: u64,
    /// Errors recorded (panics included).
    pub errors: u64,
    /// Tasks that started after their worker could have seen the halt (0 when the engine is right).
    pub started_after_halt: u64,
    /// Ids of this run completed before it started (a resumed run's done ranges): never submitted.
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "is_zero"))]
    pub done_before: u64,
}

#[cfg(feature = "serde")]
#[expect(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's skip_serializing_if passes a reference"
)]
fn is_zero(value: &u64) -> bool {
    *value == 0
}

impl Counters {
    /// Submitted, not yet completed or cancelled.
    #[must_use]
    pub fn in_flight(&self) -> u64 {
        self.submitted.saturating_sub(self.completed + self.cancelled)
    }

    /// Ids neither completed (now or before) nor cancelled yet: what an ETA is about.
    #[must_use]
    pub fn remaining(&self) -> u64 {
        self.total
            .saturating_sub(self.completed + self.cancelled + self.done_before)
    }
}

/// A plain copy of everything the pool knows, cheap enough to take at 30 fps.
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Snapshot {
    /// Lifecycle state.
    pub state: RunState,
    /// The counters so far.
    pub counters: Counters,
    /// True while the size of the space is not known yet (input still being read).
    pub total_open: bool,
    /// One row per worker slot, retired ones included.
    pub workers: Vec<WorkerRow>,
    /// Workers asked for.
    pub target_workers: usize,
    /// Wall time since the run started.
    pub elapsed: Duration,
    /// Time not paused.
    pub active: Duration,
    /// Completed tasks per second of active time.
    pub tasks_per_s: f64,
    /// Best score so far.
    pub best: Option<Best>,
    /// Ids per batch the submitter is using now.
    pub batch_size: u64,
    /// Completed tasks per coverage bucket (done before included); bucket `i` spans
    /// `coverage_span(i)`: positions among the ids this run covers, in order (the absolute ids
    /// when the run covers the whole space).
    /// Empty for an open space (its size was unknown while tasks completed).
    pub coverage: Vec<u64>,
    /// From the halting result to the last worker stopping, once known.
    pub halt_latency: Option<Duration>,
}

impl Snapshot {
    /// The id range `start..end` covered by coverage bucket `index`.
    #[must_use]
    pub fn coverage_span(&self, index: usize) -> (u64, u64) {
        bucket_span(self.counters.total, self.coverage.len(), index)
    }

    /// Tasks neither completed (now or before) nor cancelled yet: what an ETA is about.
    #[must_use]
    pub fn remaining(&self) -> u64 {
        self.counters.remaining()
    }

    /// True once every worker has stopped.
    #[must_use]
    pub fn is_finished(&self) -> bool {
        matches!(self.state, RunState::Finished(_))
    }
}

/// The id range of bucket `index` when `total` ids are split into `buckets`
/// (0 buckets count as 1, as in [`bucket_of`]).
#[must_use]
pub fn bucket_span(total: u64, buckets: usize, index: usize) -> (u64, u64) {
    let buckets = buckets.max(1) as u64;
    let index = index as u64;
    let start = u64::try_from(u128::from(total) * u128::from(index) / u128::from(buckets)).unwrap_or(total);
    let end = u64::try_from(u128::from(total) * u128::from(index + 1) / u128::from(buckets)).unwrap_or(total);
    (start, end)
}

/// The bucket that id `task` falls in (0 buckets count as 1, as in [`bucket_span`]; ids past
/// the end fall in the last bucket).
#[must_use]
pub fn bucket_of(total: u64, buckets: usize, task: u64) -> usize {
    let buckets = buckets.max(1);
    if total == 0 {
        return 0;
    }
    let buckets_wide = buckets as u64;
    // Inverse of bucket_span: the largest index whose start is <= task.
    let guess = u128::from(task) * u128::from(buckets_wide) / u128::from(total);
    let mut index = usize::try_from(guess).unwrap_or(buckets - 1).min(buckets - 1);
    while index + 1 < buckets && bucket_span(total, buckets, index + 1).0 <= task {
        index += 1;
    }
    while index > 0 && bucket_span(total, buckets, index).0 > task {
        index -= 1;
    }
    index
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_tile_the_space() {
        for (total, buckets) in [(0, 4), (3, 8), (10, 3), (50_000_000, 512), (1000, 512)] {
            let mut next = 0;
            for index in 0..buckets {
                let (start, end) = bucket_span(total, buckets, index);
                assert_eq!(start, next);
                next = end;
                for task in start..end.min(start + 3) {
                    assert_eq!(bucket_of(total, buckets, task), index, "{total} {buckets} {task}");
                }
            }
            assert_eq!(next, total);
        }
    }
}
