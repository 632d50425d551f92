//! The workers' registry: their counter slots (kept after they stop, for the table), thread handles, how many live and when the last stopped.

use super::stats::{WorkerSlot, WorkerState};
use crate::sync::lock;
use crossbeam_utils::CachePadded;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::thread::JoinHandle;
use std::time::Instant;

/// One worker's counters, shared by its thread and the snapshots.
pub(crate) type Slot = Arc<CachePadded<WorkerSlot>>;

/// Every worker slot and thread of a run.
pub(crate) struct Crew {
    slots: RwLock<Vec<Slot>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    live: AtomicUsize,
    /// When the last worker stopped: nanoseconds after `epoch`, plus 1 (0: none yet). An
    /// atomic, not a lock: a thousand workers stopping at a halt must not queue on it.
    last_stop_ns: AtomicU64,
    epoch: Instant,
    /// When the last batch under way at a halt ended: ns after `epoch`, plus 1 (0: none).
    last_task_stop_ns: AtomicU64,
    /// Workers inside a batch.
    in_batch: AtomicUsize,
}

impl Crew {
    /// A crew whose stop times are kept relative to `epoch` (the run's start).
    pub fn new(epoch: Instant) -> Self {
        Self {
            slots: RwLock::new(Vec::new()),
            threads: Mutex::new(Vec::new()),
            live: AtomicUsize::new(0),
            last_stop_ns: AtomicU64::new(0),
            epoch,
            last_task_stop_ns: AtomicU64::new(0),
            in_batch: AtomicUsize::new(0),
        }
    }

    /// A slot for a new worker (a stopped one is reused) and its index, counted live.
    /// `begin` starts the slot's new life before any snapshot can see it.
    pub fn enlist(&self, begin: impl FnOnce(&WorkerSlot)) -> (usize, Slot) {
        let mut slots = self.slots.write().unwrap_or_else(PoisonError::into_inner);
        let reusable = slots.iter().position(|slot| slot.state() == WorkerState::Stopped);
        let index = reusable.unwrap_or(slots.len());
        if reusable.is_none() {
            slots.push(Arc::new(CachePadded::new(WorkerSlot::new())));
        }
        begin(&slots[index]);
        self.live.fetch_add(1, Ordering::SeqCst);
        (index, Arc::clone(&slots[index]))
    }

    /// Keeps a thread to join at the end.
    pub fn keep(&self, handle: JoinHandle<()>) {
        lock(&self.threads).push(handle);
    }

    /// Joins the threads that have already ended (retired workers), freeing their stacks.
    pub fn join_retired(&self) {
        let retired: Vec<JoinHandle<()>> = {
            let mut threads = lock(&self.threads);
            let (retired, live) = threads.drain(..).partition(JoinHandle::is_finished);
            *threads = live;
            retired
        };
        for thread in retired {
            let _joined = thread.join();
        }
    }

    /// Counts a worker gone; true if it was the last one live.
    pub fn discharge(&self) -> bool {
        // Recorded before the count drops, so whoever finishes the run sees the last stop.
        self.note_now(&self.last_stop_ns);
        self.live.fetch_sub(1, Ordering::SeqCst) == 1
    }

    /// A worker starts a batch.
    pub fn enter_batch(&self) {
        self.in_batch.fetch_add(1, Ordering::SeqCst);
    }

    /// A worker ends a batch; true if no worker is inside one any more.
    pub fn leave_batch(&self) -> bool {
        self.in_batch.fetch_sub(1, Ordering::SeqCst) == 1
    }

    /// Workers inside a batch now.
    pub fn in_batch(&self) -> usize {
        self.in_batch.load(Ordering::SeqCst)
    }

    /// Notes that a worker left a batch after the halt (its last task ended or never began).
    pub fn task_stopped_after_halt(&self) {
        self.note_now(&self.last_task_stop_ns);
    }

    /// When the last batch under way at the halt ended, if one did.
    pub fn last_task_stop(&self) -> Option<Instant> {
        self.moment(&self.last_task_stop_ns)
    }

    /// Moves `latest` (ns after the epoch, plus 1) up to now.
    fn note_now(&self, latest: &AtomicU64) {
        latest.fetch_max(self.ns_since_epoch() + 1, Ordering::SeqCst);
    }

    /// The moment `latest` holds, if one was noted.
    fn moment(&self, latest: &AtomicU64) -> Option<Instant> {
        match latest.load(Ordering::SeqCst) {
            0 => None,
            ns => Some(self.epoch + std::time::Duration::from_nanos(ns - 1)),
        }
    }

    fn ns_since_epoch(&self) -> u64 {
        let since_epoch = Instant::now().saturating_duration_since(self.epoch);
        u64::try_from(since_epoch.as_nanos()).unwrap_or(u64::MAX - 1)
    }

    /// Counts one more live worker while workers are still being started, so that a
    /// submitter done before the first worker exists does not finish the run.
    pub fn hold_open(&self) {
        self.live.fetch_add(1, Ordering::SeqCst);
    }

    /// Drops [`Crew::hold_open`]'s count; true if no worker is live any more.
    pub fn release_hold(&self) -> bool {
        self.live.fetch_sub(1, Ordering::SeqCst) == 1
    }

    pub fn live(&self) -> usize {
        self.live.load(Ordering::SeqCst)
    }

    /// When the last worker stopped.
    pub fn last_stop(&self) -> Option<Instant> {
        self.moment(&self.last_stop_ns)
    }

    /// A copy of the slot list (cheap: reference counts).
    pub fn slots(&self) -> Vec<Slot> {
        self.slots.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Folds `f` over every slot under the read lock.
    pub fn fold<T>(&self, init: T, f: impl FnMut(T, &Slot) -> T) -> T {
        self.slots
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .fold(init, f)
    }

    /// Joins every thread started so far.
    pub fn join(&self) {
        let handles: Vec<_> = lock(&self.threads).drain(..).collect();
        for handle in handles {
            // Worker bodies catch task panics; a join error would be an engine bug, already reported by the hook.
            let _joined = handle.join();
        }
    }
}
