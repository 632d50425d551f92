//! The submission queue: bounded batches of ids from the submitter to the workers, with its counts and the submitter's wake-up.

use super::doorbell::Doorbell;
use crossbeam_channel::{Receiver, Sender, TryRecvError};
use crossbeam_utils::CachePadded;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

/// The worker side of the queue, plus what the submitter publishes about it.
pub(crate) struct Queue {
    batches: Receiver<Range<u64>>,
    /// Most batches queued at once: the submitter waits for room beyond it. It follows the
    /// worker count ([`capacity_for`]).
    capacity: AtomicUsize,
    /// Ids handed out so far (a count: the plan may skip ids).
    submitted: CachePadded<AtomicU64>,
    /// True while the submitter sleeps on a full queue, waiting for it to drain.
    submitter_idle: CachePadded<AtomicBool>,
    wake: Sender<()>,
    batch_size: AtomicU64,
    submit_done: AtomicBool,
    /// Ids left in the queue when the run finished.
    drained: AtomicU64,
    /// Idle workers sleep on it; rung for every batch sent and every change they must see.
    doorbell: Doorbell,
}

/// What the submitter holds: the sending end and its wake-ups.
pub(crate) struct SubmitEnds {
    pub batches: Sender<Range<u64>>,
    pub wake: Receiver<()>,
}

impl Queue {
    /// A queue of `capacity` batches, the first ones `initial_batch` ids long.
    ///
    /// The channel itself is crossbeam's list flavour, bounded by the submitter (see
    /// [`Queue::is_full`]): a receiver of the array flavour spins without yielding while a
    /// sender that has claimed a slot is preempted before writing it, and with hundreds of
    /// workers on a few cores the submitter is preempted often; the list flavour yields.
    pub fn new(capacity: usize, initial_batch: u64) -> (Self, SubmitEnds) {
        let (batch_tx, batch_rx) = crossbeam_channel::unbounded();
        let (wake_tx, wake_rx) = crossbeam_channel::unbounded();
        let queue = Self {
            batches: batch_rx,
            capacity: AtomicUsize::new(capacity),
            submitted: CachePadded::new(AtomicU64::new(0)),
            submitter_idle: CachePadded::new(AtomicBool::new(false)),
            wake: wake_tx,
            batch_size: AtomicU64::new(initial_batch),
            submit_done: AtomicBool::new(false),
            drained: AtomicU64::new(0),
            doorbell: Doorbell::new(),
        };
        let ends = SubmitEnds {
            batches: batch_tx,
            wake: wake_rx,
        };
        (queue, ends)
    }

    /// A queued batch if there is one: `Some(None)` once none will ever come (submission is
    /// over and the queue empty), `None` while the queue is empty for now.
    pub fn take_batch(&self) -> Option<Option<Range<u64>>> {
        // Closed is read before the queue: every batch is sent before the submitter closes
        // it, so once closed is seen an empty queue is the end. (Read after, a batch sent
        // between the two reads would be taken for the end.)
        let closed = self.is_closed();
        match self.batches.try_recv() {
            Ok(batch) => Some(Some(batch)),
            Err(TryRecvError::Disconnected) => Some(None),
            Err(TryRecvError::Empty) if closed => Some(None),
            Err(TryRecvError::Empty) => None,
        }
    }

    /// The bell idle workers sleep on.
    pub fn doorbell(&self) -> &Doorbell {
        &self.doorbell
    }

    /// Wakes the submitter (a control changed, or the queue ran low).
    pub fn wake_submitter(&self) {
        // The queue holds the sender and the submitter the receiver; after it exits nobody listens.
        let _woken = self.wake.send(());
    }

    /// Most batches queued at once now.
    fn capacity(&self) -> usize {
        self.capacity.load(Ordering::Relaxed)
    }

    /// Sizes the queue for `workers` workers; a submitter waiting for room must be woken
    /// after a rise (see [`Queue::wake_submitter`]).
    pub fn fit_capacity(&self, workers: usize) {
        self.capacity.store(capacity_for(workers), Ordering::Relaxed);
    }

    /// Called by a worker after taking a batch: wakes the idle submitter once the queue is half empty.
    pub fn refill_if_low(&self) {
        if self.submitter_idle.load(Ordering::SeqCst)
            && self.batches.len() <= low_water(self.capacity())
            && self.submitter_idle.swap(false, Ordering::SeqCst)
        {
            self.wake_submitter();
        }
    }

    /// The submitter: sleeps until the queue has drained to half full (a worker wakes it)
    /// or a control does. Refilling in bursts costs one wake-up per half queue, not one per
    /// batch, which matters when workers and the submitter compete for too few CPUs.
    ///
    /// With `patience`, it also wakes after that long: an open space refreshes what it knows
    /// of its size (a file counted in the background) even while the queue stays full.
    pub fn wait_for_room(&self, ends: &SubmitEnds, patience: Option<std::time::Duration>) {
        self.submitter_idle.store(true, Ordering::SeqCst);
        if ends.batches.len() > low_water(self.capacity()) {
            // The queue holds a sender, so recv cannot fail while it lives.
            let _woken = match patience {
                Some(patience) => ends.wake.recv_timeout(patience).is_ok(),
                None => ends.wake.recv().is_ok(),
            };
        }
        self.submitter_idle.store(false, Ordering::SeqCst);
    }

    /// True when the queue holds as many batches as it may.
    pub fn is_full(&self) -> bool {
        self.batches.len() >= self.capacity()
    }

    /// Counts `ids` more handed out.
    pub fn add_submitted(&self, ids: u64) {
        self.submitted.fetch_add(ids, Ordering::AcqRel);
    }

    pub fn submitted(&self) -> u64 {
        self.submitted.load(Ordering::Acquire)
    }

    pub fn batch_size(&self) -> u64 {
        self.batch_size.load(Ordering::Relaxed)
    }

    pub fn set_batch_size(&self, size: u64) {
        self.batch_size.store(size, Ordering::Relaxed);
    }

    /// Marks the submitter gone.
    pub fn close(&self) {
        self.submit_done.store(true, Ordering::SeqCst);
    }

    pub fn is_closed(&self) -> bool {
        self.submit_done.load(Ordering::SeqCst)
    }

    /// Empties the queue at the end of the run; the dropped ids count as cancelled.
    pub fn drain(&self) {
        let dropped: u64 = self.batches.try_iter().map(|batch| batch.end - batch.start).sum();
        self.drained.store(dropped, Ordering::Release);
    }

    pub fn drained(&self) -> u64 {
        self.drained.load(Ordering::Acquire)
    }
}

/// Most batches queued at once for `workers` workers: four each, at least 32.
pub(crate) fn capacity_for(workers: usize) -> usize {
    workers.saturating_mul(4).max(32)
}

/// Queue length at or below which a worker wakes the idle submitter: half the capacity.
fn low_water(capacity: usize) -> usize {
    capacity / 2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bound_follows_the_worker_count() {
        let (queue, ends) = Queue::new(capacity_for(2), 1);
        for id in 0..32 {
            ends.batches
                .send(id..id + 1)
                .expect("the queue holds the receiver");
        }
        assert!(queue.is_full(), "2 workers: 32 batches");
        queue.fit_capacity(100);
        assert!(!queue.is_full(), "100 workers: room for 400");
        queue.fit_capacity(8);
        assert!(queue.is_full(), "8 workers: 32 again");
    }
}
