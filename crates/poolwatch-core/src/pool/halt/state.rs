//! Halt state: the first halt's record, the flag workers check before each task, and the tokens that cancel running tasks and stop short-task loops.

use super::HaltMode;
use super::HaltReason;
use crate::cancel::CancelToken;
use crate::sync::lock;
use crossbeam_utils::CachePadded;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// The first halt: why, when the halting result was produced, and when the flag became visible.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HaltRecord {
    pub reason: HaltReason,
    pub at: Instant,
}

/// Everything about stopping a run.
pub(crate) struct HaltState {
    /// 0 while running; otherwise 1 + ns from the run's start to the moment the flag was set
    /// (read after the store, so a worker whose clock read is later must see the flag).
    visible_ns: CachePadded<AtomicU64>,
    record: Mutex<Option<HaltRecord>>,
    cancel: CancelToken,
    /// Cancelled at every halt (`now` or `soon`): tight loops of short tasks stop starting tasks.
    stop: CancelToken,
}

impl HaltState {
    pub fn new() -> Self {
        Self {
            visible_ns: CachePadded::new(AtomicU64::new(0)),
            record: Mutex::new(None),
            cancel: CancelToken::new(),
            stop: CancelToken::new(),
        }
    }

    /// True once a halt (now or soon) was requested: no new task may start.
    #[inline]
    pub fn halting(&self) -> bool {
        self.visible_ns.load(Ordering::SeqCst) != 0
    }

    /// 0 while running; else 1 + the run time (ns) at which the halt flag was visible.
    #[inline]
    pub fn visible_ns(&self) -> u64 {
        self.visible_ns.load(Ordering::SeqCst)
    }

    /// The first halt, if any.
    pub fn record(&self) -> Option<HaltRecord> {
        *lock(&self.record)
    }

    /// The token running tasks poll.
    pub fn cancel_token(&self) -> &CancelToken {
        &self.cancel
    }

    /// The token short-task loops check before each task: cancelled at every halt.
    pub fn stop_token(&self) -> &CancelToken {
        &self.stop
    }

    /// Puts the flag up and stops tasks at once, ahead of [`HaltState::trigger`]: a worker
    /// that halts on its own result stops the others before it announces that result.
    pub fn raise(&self, mode: HaltMode) {
        self.stop.cancel();
        // Only the marker: the first halt's time is stored by `trigger`.
        let _raised = self
            .visible_ns
            .compare_exchange(0, u64::MAX, Ordering::SeqCst, Ordering::SeqCst);
        if mode == HaltMode::Now {
            self.cancel.cancel();
        }
    }

    /// Records the first halt (calling `announce` for it, under the lock so that nothing
    /// overtakes it), sets the flag, and for `Now` cancels running tasks. `now_ns` reads the run clock.
    pub fn trigger(
        &self,
        mode: HaltMode,
        record: HaltRecord,
        now_ns: impl Fn() -> u64,
        announce: impl FnOnce(HaltRecord),
    ) {
        let mut first = lock(&self.record);
        if first.is_none() {
            *first = Some(record);
            // Short-task loops stop first; then a marker, so that the flag is up at once;
            // then the clock read after it.
            self.stop.cancel();
            self.visible_ns.store(u64::MAX, Ordering::SeqCst);
            if mode == HaltMode::Now {
                // Before the announcement, which may wake (and hand the CPU to) a reader.
                self.cancel.cancel();
            }
            self.visible_ns
                .store(now_ns().saturating_add(1).min(u64::MAX - 1), Ordering::SeqCst);
            announce(record);
        }
        drop(first);
        if mode == HaltMode::Now {
            self.cancel.cancel();
        }
    }
}
