//! Pause and resize: the pause flag and clock, the worker count asked for, and the retire tokens workers take.

use crate::sync::lock;
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
    /// Workers asked to retire that have not yet: each retiring worker takes one.
    retire_tokens: AtomicUsize,
}

impl Control {
    pub fn new(workers: usize) -> Self {
        Self {
            paused: AtomicBool::new(false),
            clock: Mutex::new(PauseClock::default()),
            target: AtomicUsize::new(workers),
            retire_tokens: AtomicUsize::new(0),
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

    /// Pauses or resumes unless `blocked` (checked under the lock) says the run may not change.
    /// Returns true if the state changed (the caller rings the workers' doorbell on resume).
    pub fn set_paused(&self, paused: bool, blocked: impl FnOnce() -> bool) -> bool {
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
        self.paused.store(paused, Ordering::Release);
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

    /// The worker count asked for.
    pub fn target(&self) -> usize {
        self.target.load(Ordering::Acquire)
    }

    /// Asks for `workers`; returns the count asked for before.
    pub fn set_target(&self, workers: usize) -> usize {
        self.target.swap(workers, Ordering::AcqRel)
    }

    /// Asks `count` more workers to retire (each takes one token; the caller rings the doorbell).
    pub fn retire(&self, count: usize) {
        self.retire_tokens.fetch_add(count, Ordering::SeqCst);
    }

    /// Takes a retire token if there is one: true means the caller retires (or, for a
    /// spawn, that it cancels a retirement instead of adding a worker).
    pub fn take_retire_token(&self) -> bool {
        self.retire_tokens
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |tokens| tokens.checked_sub(1))
            .is_ok()
    }
}
