//! The submitter: hands out task ids in batches sized to the measured task time, over a bounded channel.

use super::shared::Shared;
use crossbeam_channel::{Receiver, Sender, TrySendError};
use std::ops::Range;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// How long one batch should take a worker: long enough to amortise the channel,
/// short enough that pause and shrink take effect quickly.
const TARGET_BATCH_NS: u64 = 1_000_000;
/// Largest batch, so that coverage and the workers table stay lively for tiny tasks.
const MAX_BATCH: u64 = 1 << 18;

/// Longest wait for an open space to grow before the submitter looks at halt and pause again.
const SPACE_WAIT: Duration = Duration::from_millis(20);

/// Submits `0..total` until done or halted, blocking while paused.
/// For an open space the end is learnt as input runs out.
pub(crate) fn run_submitter(shared: &Shared, batches: &Sender<Range<u64>>, wake: &Receiver<()>) {
    let open = shared.search.open_space();
    let mut next: u64 = 0;
    while !shared.halting() {
        if shared.is_paused() {
            // Resume, halt and worker changes all send a wake-up; the pool holds a sender.
            if wake.recv().is_err() {
                break;
            }
            continue;
        }
        let size = next_batch_size(shared);
        shared.batch_size.store(size, Ordering::Relaxed);
        let wanted = next.saturating_add(size);
        let Some(available) = available(shared, open, next, wanted) else {
            break;
        };
        if available <= next {
            // An open space with nothing new yet: look at halt and pause, then ask again.
            continue;
        }
        let end = wanted.min(available);
        match batches.try_send(next..end) {
            Ok(()) => {
                next = end;
                shared.submitted.store(end, Ordering::Release);
            }
            Err(TrySendError::Full(_)) => wait_for_room(shared, batches, wake),
            Err(TrySendError::Disconnected(_)) => break,
        }
    }
    shared.submitter_exited();
}

/// Sleeps until the queue has drained to half full (a worker wakes us) or a control
/// wakes us. Refilling in bursts costs one wake-up per half queue, not one per batch,
/// which matters when workers and the submitter compete for too few CPUs.
fn wait_for_room(shared: &Shared, batches: &Sender<Range<u64>>, wake: &Receiver<()>) {
    shared.submitter_idle.store(true, Ordering::SeqCst);
    if batches.len() > low_water(batches.capacity()) {
        // Every sender is the pool's, so recv fails only if the pool is gone.
        let _woken = wake.recv();
    }
    shared.submitter_idle.store(false, Ordering::SeqCst);
}

/// Queue length at or below which a worker wakes the idle submitter: half the capacity.
fn low_water(capacity: Option<usize>) -> usize {
    capacity.unwrap_or(0) / 2
}

/// Called by a worker after taking a batch: wakes the submitter once the queue is half empty.
pub(crate) fn refill_if_low(shared: &Shared) {
    if shared.submitter_idle.load(Ordering::SeqCst)
        && shared.batches.len() <= low_water(shared.batches.capacity())
        && shared.submitter_idle.swap(false, Ordering::SeqCst)
    {
        let _woken = shared.wake_submitter.send(());
    }
}

/// How far ids may be handed out now, or `None` once every id from `next` on is gone.
fn available(shared: &Shared, open: bool, next: u64, wanted: u64) -> Option<u64> {
    if !open {
        let total = shared.total();
        return (next < total).then_some(total);
    }
    let status = shared.search.extend_space(wanted, SPACE_WAIT);
    shared.set_space(status);
    if status.complete && status.available <= next {
        None
    } else {
        Some(status.available)
    }
}

/// Ids per batch from the measured mean task time (busy time over tasks done).
fn next_batch_size(shared: &Shared) -> u64 {
    let (busy_ns, done) = shared.busy_and_done();
    if done < 16 {
        return shared.batch_size.load(Ordering::Relaxed);
    }
    let mean_task_ns = (busy_ns / done).max(1);
    (TARGET_BATCH_NS / mean_task_ns).clamp(1, MAX_BATCH)
}
