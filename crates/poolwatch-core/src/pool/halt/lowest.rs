//! `--halt lowest`: the lowest matching id, found in parallel. A match at id m bounds the run:
//! ids above m are cancelled at once (not handed out, cut from queued batches, and running
//! tasks above m cancelled through their worker's own token), every id below m still runs,
//! and a lower match lowers the bound. The run ends when every id below the bound has run,
//! so the lowest match is proven lowest.
//!
//! A match found elsewhere (another shard of the same search, [`crate::Run::bound_lowest`])
//! bounds the run the same way, without being this run's match.
//!
//! Batches leave the queue in id order, so once a worker is on an id above m, every batch it
//! takes after is above m too: cancelling its token can only cut work above the bound.

use crate::cancel::CancelToken;
use crate::pool::crew::Crew;
use crate::pool::stats::NO_TASK;
use crate::sync::lock;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// The bound of a `lowest` run and the workers' own cancel tokens.
pub(crate) struct Lowest {
    /// The lowest match so far, this run's or one found elsewhere; `u64::MAX` while there is none.
    bound: AtomicU64,
    /// This run's own lowest match; `u64::MAX` while it has none.
    own: AtomicU64,
    /// Each worker's token, by slot index, while it has one (see [`Lowest::token_for`]).
    tokens: Mutex<Vec<Option<CancelToken>>>,
}

impl Lowest {
    pub fn new() -> Self {
        Self {
            bound: AtomicU64::new(u64::MAX),
            own: AtomicU64::new(u64::MAX),
            tokens: Mutex::new(Vec::new()),
        }
    }

    /// Ids at or above this are not to run (the match at it has run); `u64::MAX` without a match.
    #[inline]
    pub fn bound(&self) -> u64 {
        self.bound.load(Ordering::Acquire)
    }

    /// This run's lowest match so far, if any.
    pub fn found(&self) -> Option<u64> {
        Some(self.own.load(Ordering::Acquire)).filter(|own| *own != u64::MAX)
    }

    /// True when a match found elsewhere bounds the run (and none of its own is as low).
    pub fn bounded_elsewhere(&self) -> bool {
        self.bound() < self.own.load(Ordering::Acquire)
    }

    /// A match of this run at `task`: see [`Lowest::lower`]. Returns true when the bound was lowered.
    pub fn offer(&self, task: u64, crew: &Crew) -> bool {
        self.own.fetch_min(task, Ordering::AcqRel);
        self.lower(task, crew)
    }

    /// Lowers the bound to `task` if it is below it, and cancels the tasks of the workers
    /// whose current id is above it. Returns true when the bound was lowered.
    pub fn lower(&self, task: u64, crew: &Crew) -> bool {
        let before = self.bound.fetch_min(task, Ordering::AcqRel);
        if task >= before {
            return false;
        }
        let slots = crew.slots();
        let tokens = lock(&self.tokens);
        for (token, slot) in tokens.iter().zip(&slots) {
            let current = slot.current.load(Ordering::Relaxed);
            if let Some(token) = token
                && current != NO_TASK
                && current > task
            {
                token.cancel();
            }
        }
        true
    }

    /// The token the tasks of worker `index` poll: cancelled with the run's `run` token, or
    /// alone when a lower match leaves this worker's task above the bound. A worker gets a
    /// fresh one once its last was cancelled by a bound (a run's cancel is for good).
    pub fn token_for(&self, index: usize, run: &CancelToken) -> CancelToken {
        let mut tokens = lock(&self.tokens);
        if tokens.len() <= index {
            tokens.resize(index + 1, None);
        }
        if let Some(token) = &tokens[index]
            && (!token.is_cancelled() || run.is_cancelled())
        {
            return token.clone();
        }
        let token = CancelToken::new();
        let follower = token.clone();
        run.on_cancel(move || follower.cancel());
        tokens[index] = Some(token.clone());
        token
    }
}
