//! The article's search: task p sleeps a while, then matches when p is the needle.

use super::{Outcome, Search};
use crate::cancel::CancelToken;
use std::hint::black_box;
use std::ops::Range;
use std::time::Duration;

/// Task `p` sleeps `sleep` (waking on cancel) and matches when `p == needle`.
#[derive(Debug, Clone)]
pub struct Needle {
    /// Size of the space.
    pub tasks: u64,
    /// The task id that matches.
    pub needle: u64,
    /// How long each task sleeps; zero makes the task near-trivial.
    pub sleep: Duration,
}

impl Needle {
    /// The article's example 2: 50,000 tasks of 1 ms, needle 10,000.
    #[must_use]
    pub fn article() -> Self {
        Self {
            tasks: 50_000,
            needle: 10_000,
            sleep: Duration::from_millis(1),
        }
    }
}

impl Search for Needle {
    fn name(&self) -> &str {
        "needle"
    }

    fn match_odds(&self) -> super::MatchOdds {
        super::MatchOdds::OneUniform
    }

    fn params(&self) -> String {
        format!(
            "tasks={} needle={} sleep-ms={}",
            self.tasks,
            self.needle,
            self.sleep.as_secs_f64() * 1e3
        )
    }

    fn space(&self) -> u64 {
        self.tasks
    }

    fn run(&self, task: u64, cancel: &CancelToken) -> Outcome {
        if !self.sleep.is_zero() && cancel.sleep(self.sleep) {
            return Outcome::Cancelled;
        }
        if task == self.needle {
            Outcome::Match {
                value: task.to_string(),
                score: None,
            }
        } else {
            Outcome::Miss
        }
    }

    fn tight_batches(&self) -> bool {
        self.sleep.is_zero()
    }

    fn run_batch(
        &self,
        tasks: Range<u64>,
        cancel: &CancelToken,
        notable: &mut dyn FnMut(u64, Outcome),
    ) -> u64 {
        if !self.sleep.is_zero() {
            return super::run_each(self, tasks, cancel, notable);
        }
        let len = tasks.end - tasks.start;
        for task in tasks {
            // black_box keeps the comparison per id, as a real check would be.
            if black_box(task) == self.needle {
                notable(
                    task,
                    Outcome::Match {
                        value: task.to_string(),
                        score: None,
                    },
                );
            }
        }
        len
    }
}
