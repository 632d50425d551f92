//! The submitter: walks the run's id plan and hands out batches sized to the measured task time, over a bounded channel.

use super::plan::PlanCursor;
use super::queue::SubmitEnds;
use super::shared::Shared;
use crossbeam_channel::TrySendError;
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
pub(crate) const MAX_BATCH: u64 = 1 << 18;

/// Longest wait for an open space to grow before the submitter looks at halt and pause again.
const SPACE_WAIT: Duration = Duration::from_millis(20);

/// The submitter thread's context.
pub(crate) struct Submitter<'a> {
    shared: &'a Shared,
    ends: SubmitEnds,
    cursor: PlanCursor,
    open: bool,
}

impl<'a> Submitter<'a> {
    pub fn new(shared: &'a Shared, ends: SubmitEnds) -> Self {
        Self {
            shared,
            ends,
            cursor: PlanCursor::default(),
            open: shared.search.open_space(),
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
            let size = next_batch_size(shared);
            shared.queue.set_batch_size(size);
            let Some(batch) = self.next_batch(size) else {
                break;
            };
            if batch.is_empty() {
                // An open space with nothing new yet: look at halt and pause, then ask again.
                continue;
            }
            let ids = batch.end - batch.start;
            match self.ends.batches.try_send(batch) {
                Ok(()) => shared.queue.add_submitted(ids),
                Err(TrySendError::Full(batch)) => {
                    self.cursor.put_back(batch);
                    let patience = self.open.then_some(OPEN_SPACE_REFRESH);
                    shared.queue.wait_for_room(&self.ends, patience);
                }
                Err(TrySendError::Disconnected(_)) => break,
            }
        }
        shared.submitter_exited();
    }

    /// The next batch of at most `size` ids; empty when an open space has nothing yet,
    /// `None` once every id of the plan is handed out.
    fn next_batch(&mut self, size: u64) -> Option<Range<u64>> {
        let shared = self.shared;
        if !self.open {
            return self.cursor.next_range(&shared.plan, size, shared.search.space());
        }
        let wanted = self.cursor.position().saturating_add(size);
        let status = shared.search.extend_space(wanted, SPACE_WAIT);
        shared.set_space(status);
        match self.cursor.next_range(&shared.plan, size, status.available) {
            Some(batch) => Some(batch),
            None if status.complete || self.cursor.window_done(&shared.plan) => None,
            None => Some(0..0),
        }
    }
}

/// How often a submitter waiting on a full queue asks an open space how big it is now.
const OPEN_SPACE_REFRESH: std::time::Duration = std::time::Duration::from_millis(100);

/// Ids per batch from the measured mean task time (busy time over tasks done).
fn next_batch_size(shared: &Shared) -> u64 {
    let (busy_ns, done) = shared.busy_and_done();
    if done < 16 {
        return shared.queue.batch_size();
    }
    let mean_task_ns = (busy_ns / done).max(1);
    let workers = shared.target_workers() as u64;
    let target_ns = TARGET_BATCH_NS.max(workers.saturating_mul(BATCH_NS_PER_WORKER));
    (target_ns / mean_task_ns).clamp(1, MAX_BATCH)
}
