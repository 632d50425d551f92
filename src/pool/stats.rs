//! Per-worker counters (cache-padded atomics written by their worker alone) and the plain snapshot the UI reads.

use super::halt::HaltReason;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::Duration;

/// What a worker is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
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
    pub busy_ns: AtomicU64,
    pub started_after_halt: AtomicU64,
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
            started_after_halt: AtomicU64::new(0),
        }
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
#[non_exhaustive]
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
    /// Share of the run's wall time (since the run started) this slot spent running tasks, 0..=1.
    pub busy: f64,
    /// The search's description of the current task ([`crate::search::Search::task_detail`]).
    pub detail: Option<String>,
}

/// The lifecycle of a run, as a snapshot sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
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

/// A plain copy of everything the pool knows, cheap enough to take at 30 fps.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Snapshot {
    /// Lifecycle state.
    pub state: RunState,
    /// Size of the space (a lower bound while `total_open`).
    pub total: u64,
    /// True while the size of the space is not known yet (input still being read).
    pub total_open: bool,
    /// Ids handed to the queue so far.
    pub submitted: u64,
    /// Tasks that ran to an outcome.
    pub completed: u64,
    /// Submitted tasks that never completed (dropped or cut short by a halt).
    pub cancelled: u64,
    /// Submitted, not yet completed or cancelled.
    pub in_flight: u64,
    /// Matches so far.
    pub matches: u64,
    /// Errors so far.
    pub errors: u64,
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
    /// Completed tasks per coverage bucket; bucket `i` spans `coverage_span(i)`.
    /// Empty for an open space (its size was unknown while tasks completed).
    pub coverage: Vec<u64>,
    /// From the halting result to the last worker stopping, once known.
    pub halt_latency: Option<Duration>,
    /// Tasks that started after the halt moment.
    pub started_after_halt: u64,
}

impl Snapshot {
    /// The id range `start..end` covered by coverage bucket `index`.
    #[must_use]
    pub fn coverage_span(&self, index: usize) -> (u64, u64) {
        bucket_span(self.total, self.coverage.len(), index)
    }

    /// Tasks neither completed nor cancelled yet: what an ETA is about.
    #[must_use]
    pub fn remaining(&self) -> u64 {
        self.total.saturating_sub(self.completed + self.cancelled)
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
