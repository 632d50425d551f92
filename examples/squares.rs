//! The README's library example: implement `Search` and get the whole engine (run: `cargo run --example squares`).
#![allow(
    clippy::unwrap_used,
    reason = "a failed unwrap here aborts the measurement with its message"
)]

use poolwatch::{CancelToken, Run, RunConfig};
use poolwatch::{Outcome, Search};
use std::sync::Arc;

/// Looks for the id whose square is 998,001.
struct Squares;

impl Search for Squares {
    fn name(&self) -> &str {
        "squares"
    }

    fn params(&self) -> String {
        String::new()
    }

    fn space(&self) -> u64 {
        1_000_000
    }

    fn run(&self, task: u64, _cancel: &CancelToken) -> Outcome {
        if task * task == 998_001 {
            Outcome::Match {
                value: task.to_string(),
                score: None,
            }
        } else {
            Outcome::Miss
        }
    }
}

fn main() {
    let run = Run::start(Arc::new(Squares), &RunConfig::default());
    let report = run.wait();
    println!(
        "{:?}: {} matches, {} of {} tasks completed, halt latency {:?}",
        report.reason,
        report.counters.matches,
        report.counters.completed,
        report.counters.total,
        report.halt_latency
    );
}
