//! The submitter: hands out task ids in batches sized to the measured task time, over a bounded channel.

use super::shared::Shared;
use crossbeam_channel::{Receiver, Sender, select};
use std::ops::Range;
use std::sync::atomic::Ordering;

/// How long one batch should take a worker: long enough to amortise the channel,
/// short enough that pause and shrink take effect quickly.
const TARGET_BATCH_NS: u64 = 1_000_000;
/// Largest batch, so that coverage and the workers table stay lively for tiny tasks.
const MAX_BATCH: u64 = 1 << 18;

/// Submits `0..total` until done or halted, blocking while paused.
pub(crate) fn run_submitter(shared: &Shared, batches: &Sender<Range<u64>>, wake: &Receiver<()>) {
    let mut next = 0;
    while next < shared.total && !shared.halting() {
        if shared.is_paused() {
            // Resume, halt and worker changes all send a wake-up; the pool holds a sender.
            if wake.recv().is_err() {
                break;
            }
            continue;
        }
        let size = next_batch_size(shared);
        shared.batch_size.store(size, Ordering::Relaxed);
        let end = next.saturating_add(size).min(shared.total);
        select! {
            send(batches, next..end) -> sent => {
                if sent.is_err() {
                    break;
                }
                next = end;
                shared.submitted.store(end, Ordering::Release);
            }
            recv(wake) -> _ => {}
        }
    }
    shared.submitter_exited();
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
