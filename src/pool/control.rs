//! Pause and resize: the pause flag and clock, the worker count asked for, and the wake-ups and retire tokens workers wait on.

use crate::sync::lock;
use crossbeam_channel::{Receiver, Sender};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

#[derive(Debug, Default)]
struct PauseClock {
    since: Option<Instant>,
    total: Duration,
}

impl PauseClock {
    fn paused_for(&self, now: Instant) -> Duration {
        self.total
            + self
                .since
                .map_or(Duration::ZERO, |since| now.saturating_duration_since(since))
    }
}

/// The controls a user steers a live run with: pause and the worker count.
pub(crate) struct Control {
    paused: AtomicBool,
    clock: Mutex<PauseClock>,
    target: AtomicUsize,
    resume_tx: Sender<()>,
    resume_rx: Receiver<()>,
    retire_tx: Sender<()>,
    retire_rx: Receiver<()>,
}

impl Control {
    pub fn new(workers: usize) -> Self {
        let (resume_tx, resume_rx) = crossbeam_channel::unbounded();
        let (retire_tx, retire_rx) = crossbeam_channel::unbounded();
        Self {
            paused: AtomicBool::new(false),
            clock: Mutex::new(PauseClock::default()),
            target: AtomicUsize::new(workers),
            resume_tx,
            resume_rx,
            retire_tx,
            retire_rx,
        }
    }

    #[inline]
    pub fn is_paused(&self) -> bool {
        self.paused.load(Ordering::Acquire)
    }

    /// Time spent paused up to `now`.
    pub fn paused_for(&self, now: Instant) -> Duration {
        lock(&self.clock).paused_for(now)
    }

    /// Pauses or resumes unless `blocked` (checked under the lock) says the run may not change;
    /// on resume wakes `workers` paused workers. Returns true if the state changed.
    pub fn set_paused(&self, paused: bool, workers: usize, blocked: impl FnOnce() -> bool) -> bool {
        let mut clock = lock(&self.clock);
        if blocked() || self.is_paused() == paused {
            return false;
        }
        let now = Instant::now();
        if paused {
            clock.since = Some(now);
        } else if let Some(since) = clock.since.take() {
            clock.total += now.saturating_duration_since(since);
        }
        // The flag first: a worker woken below must find it already changed.
        self.paused.store(paused, Ordering::Release);
        // Under the lock: a pause's drain of stale wake-ups must not eat a later resume's.
        if paused {
            while self.resume_rx.try_recv().is_ok() {}
        } else {
            for _ in 0..workers {
                // Control holds a receiver, so this send cannot fail.
                let _sent = self.resume_tx.send(());
            }
        }
        true
    }

    /// Ends a pause for good (at a halt): the clock stops, the flag drops.
    pub fn end_pause(&self) {
        let mut clock = lock(&self.clock);
        if let Some(since) = clock.since.take() {
            clock.total += Instant::now().saturating_duration_since(since);
        }
        self.paused.store(false, Ordering::Release);
    }

    /// Wakes a worker waiting in pause.
    pub fn resumed(&self) -> &Receiver<()> {
        &self.resume_rx
    }

    /// The worker count asked for.
    pub fn target(&self) -> usize {
        self.target.load(Ordering::Acquire)
    }

    /// Asks for `workers`; returns the count asked for before.
    pub fn set_target(&self, workers: usize) -> usize {
        self.target.swap(workers, Ordering::AcqRel)
    }

    /// Asks `count` workers to retire (each takes one token).
    pub fn retire(&self, count: usize) {
        for _ in 0..count {
            // Control holds a receiver, so this send cannot fail.
            let _sent = self.retire_tx.send(());
        }
    }

    /// Takes back a retire token nobody has picked up yet; true if there was one.
    pub fn unretire(&self) -> bool {
        self.retire_rx.try_recv().is_ok()
    }

    /// A worker that receives from this retires.
    pub fn retire_tokens(&self) -> &Receiver<()> {
        &self.retire_rx
    }
}
