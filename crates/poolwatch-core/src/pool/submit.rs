//! The submitter: walks the run's id plan and hands out batches sized to the measured task time, over a bounded channel.

use super::queue::SubmitEnds;
use super::shared::Shared;
use crate::plan::PlanCursor;
use std::ops::Range;
use std::time::Duration;

/// How long one batch should take a worker: long enough to amortise the channel,
/// short enough that pause and shrink take effect quickly.
const TARGET_BATCH_NS: u64 = 1_000_000;
/// Per worker, the queue's share of a batch's time: with many workers a batch lasts at least
/// `workers` times this, so that one submitter hands out at most ~40,000 batches a second
/// (1,024 workers on 1 ms tasks: 25 ids a batch, not 1).
const BATCH_NS_PER_WORKER: u64 = 25_000;
/// Largest batch, so that coverage and the workers table stay lively for tiny tasks.
pub(crate) const MAX_BATCH: u64 = crate::plan::MAX_SHARD_CHUNK;
/// How often the batch size is worked out again from the measured task time: reading every
/// worker's counters per batch would cost more than the batch at a thousand workers.
const SIZE_REFRESH_NS: u64 = 2_000_000;
/// A batch holds at most the ids not yet handed out over this many times the workers, so the
/// last ids go out in ever smaller batches (guided scheduling) and no worker is left alone
/// with a long tail while the others have nothing to do.
const TAIL_SHARES_PER_WORKER: u64 = 2;

/// Longest wait for an open space to grow before the submitter looks at halt and pause again.
const SPACE_WAIT: Duration = Duration::from_millis(20);

/// The submitter thread's context.
pub(crate) struct Submitter<'a> {
    shared: &'a Shared,
    ends: SubmitEnds,
    cursor: PlanCursor,
    open: bool,
    sizer: BatchSizer,
}

impl<'a> Submitter<'a> {
    pub fn new(shared: &'a Shared, ends: SubmitEnds) -> Self {
        Self {
            shared,
            ends,
            cursor: PlanCursor::default(),
            open: shared.search.open_space(),
            sizer: BatchSizer::new(shared),
        }
    }

    /// Submits the plan's ids until done or halted, blocking while paused.
    /// For an open space the end is learnt as input runs out.
    pub fn run(mut self) {
        let shared = self.shared;
        while !shared.halting() {
            if shared.control.is_paused() {
                // Resume, halt and worker changes all send a wake-up; the queue holds a sender.
                if self.ends.wake.recv().is_err() {
                    break;
                }
                continue;
            }
            if shared.queue.is_full() {
                let patience = self.open.then_some(OPEN_SPACE_REFRESH);
                shared.queue.wait_for_room(&self.ends, patience);
                continue;
            }
            let size = self.sizer.next_size(shared, self.open);
            shared.queue.set_batch_size(size);
            let Some(batch) = self.next_batch(size) else {
                break;
            };
            if batch.is_empty() {
                // An open space with nothing new yet: look at halt and pause, then ask again.
                continue;
            }
            let ids = batch.end - batch.start;
            if self.ends.batches.send(batch).is_err() {
                break;
            }
            shared.queue.add_submitted(ids);
            shared.queue.doorbell().ring_one();
        }
        shared.submitter_exited();
    }

    /// The next batch of at most `size` ids; empty when an open space has nothing yet,
    /// `None` once every id of the plan is handed out.
    fn next_batch(&mut self, size: u64) -> Option<Range<u64>> {
        let shared = self.shared;
        // Under `lowest`, nothing at or above the lowest match is handed out.
        let bound = shared.lowest.bound();
        if self.cursor.position() >= bound {
            return None;
        }
        if !self.open {
            return self
                .cursor
                .next_range(&shared.plan, size, shared.search.space().min(bound));
        }
        let wanted = self.cursor.position().saturating_add(size);
        let status = shared.search.extend_space(wanted, SPACE_WAIT);
        shared.set_space(status);
        match self
            .cursor
            .next_range(&shared.plan, size, status.available.min(bound))
        {
            Some(batch) => Some(batch),
            None if status.complete || self.cursor.window_done(&shared.plan) => None,
            None => Some(0..0),
        }
    }
}

/// How often a submitter waiting on a full queue asks an open space how big it is now.
const OPEN_SPACE_REFRESH: std::time::Duration = std::time::Duration::from_millis(100);

/// Sizes batches: from the measured mean task time, refreshed every [`SIZE_REFRESH_NS`], and
/// capped by the share of the ids not yet handed out.
struct BatchSizer {
    /// The size from task time, and when it was worked out (run clock, ns; `None`: not yet).
    timed_size: u64,
    timed_at_ns: Option<u64>,
    /// Busy time and timed tasks summed over the workers when the size was last measured:
    /// later sizes come from the tasks timed since, so that slow first tasks (a worker
    /// process starting up) do not keep batches small long after.
    measured: (u64, u64),
    /// Ids of the plan done before the run (a resume): never handed out.
    done_before: u64,
}

impl BatchSizer {
    fn new(shared: &Shared) -> Self {
        Self {
            timed_size: shared.queue.batch_size(),
            timed_at_ns: None,
            measured: (0, 0),
            done_before: shared.plan.done_count(shared.search.space()),
        }
    }

    /// The size of the next batch.
    fn next_size(&mut self, shared: &Shared, open: bool) -> u64 {
        let now_ns = shared.now_ns();
        if self
            .timed_at_ns
            .is_none_or(|at| now_ns.saturating_sub(at) >= SIZE_REFRESH_NS)
            && let Some(size) = self.size_from_task_time(shared)
        {
            self.timed_size = size;
            self.timed_at_ns = Some(now_ns);
        }
        if open {
            return self.timed_size;
        }
        let handed_out = shared.queue.submitted() + self.done_before;
        let left = shared.total().saturating_sub(handed_out);
        let workers = shared.target_workers() as u64;
        let tail_share = left / workers.saturating_mul(TAIL_SHARES_PER_WORKER).max(1);
        self.timed_size.min(tail_share).max(1)
    }

    /// Ids per batch from the measured mean task time (time in finished batches over the
    /// ids they held, over the batches finished since the last measure); `None` until
    /// [`MIN_TIMED`] more tasks have been timed.
    fn size_from_task_time(&mut self, shared: &Shared) -> Option<u64> {
        let (busy_ns, timed) = shared.busy_and_timed();
        let (busy_before, timed_before) = self.measured;
        let (busy_ns, timed_now) = (
            busy_ns.saturating_sub(busy_before),
            timed.saturating_sub(timed_before),
        );
        if timed_now < MIN_TIMED {
            return None;
        }
        self.measured = (busy_before + busy_ns, timed);
        let mean_task_ns = (busy_ns / timed_now).max(1);
        let workers = shared.target_workers() as u64;
        let target_ns = TARGET_BATCH_NS.max(workers.saturating_mul(BATCH_NS_PER_WORKER));
        Some((target_ns / mean_task_ns).clamp(1, MAX_BATCH))
    }
}

/// Tasks timed since the last measure before the batch size is measured again.
const MIN_TIMED: u64 = 16;
