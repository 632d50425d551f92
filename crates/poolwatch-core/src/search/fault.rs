//! Fault injection: wraps a search so that every Nth task panics, to show how errors are caught and logged.

use super::{Goal, Outcome, Search};
use crate::cancel::CancelToken;
use std::sync::Arc;

/// Runs `inner`, except that task ids `p` with `(p + 1) % every == 0` panic.
pub struct PanicEvery {
    /// The wrapped search.
    pub inner: Arc<dyn Search>,
    /// Period of the panics (at least 1).
    pub every: u64,
}

impl Search for PanicEvery {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn params(&self) -> String {
        format!("{} panic-every={}", self.inner.params(), self.every)
    }

    fn space(&self) -> u64 {
        self.inner.space()
    }

    fn goal(&self) -> Goal {
        self.inner.goal()
    }

    fn can_match(&self) -> bool {
        self.inner.can_match()
    }

    fn match_odds(&self) -> super::MatchOdds {
        self.inner.match_odds()
    }

    fn input_label(&self, task: u64) -> Option<String> {
        self.inner.input_label(task)
    }

    fn input_naming(&self) -> Option<super::InputNaming<'_>> {
        self.inner.input_naming()
    }

    fn task_detail(&self, task: u64) -> Option<String> {
        self.inner.task_detail(task)
    }

    fn run(&self, task: u64, cancel: &CancelToken) -> Outcome {
        if (task + 1).is_multiple_of(self.every) {
            panic!("task {task} panicked on purpose (--panic-every {})", self.every);
        }
        self.inner.run(task, cancel)
    }
}
