//! Collatz: the start below a bound with the longest chain; the best score climbs.

use super::{Goal, Outcome, Search};
use crate::cancel::CancelToken;

/// Task `n` walks the Collatz chain of `n + 1`; the score is its number of steps.
#[derive(Debug, Clone)]
pub struct Collatz {
    /// Starts are `1..below`: task `n` is start `n + 1`.
    pub below: u64,
    /// A chain of at least this many steps is a match and may halt the run.
    pub target: Option<u64>,
}

/// Steps for `start` to reach 1 (0 for 1), or `None` on overflow.
#[must_use]
pub fn chain_steps(start: u64) -> Option<u64> {
    let mut value = start;
    let mut steps = 0;
    while value > 1 {
        value = if value.is_multiple_of(2) {
            value / 2
        } else {
            value.checked_mul(3)?.checked_add(1)?
        };
        steps += 1;
    }
    Some(steps)
}

impl Search for Collatz {
    fn name(&self) -> &str {
        "collatz"
    }

    fn params(&self) -> String {
        match self.target {
            Some(target) => format!("below={} target={target}", self.below),
            None => format!("below={}", self.below),
        }
    }

    fn space(&self) -> u64 {
        self.below.saturating_sub(1)
    }

    fn goal(&self) -> Goal {
        Goal::Maximize
    }

    fn input_label(&self, task: u64) -> Option<String> {
        Some((task + 1).to_string())
    }

    fn input_naming(&self) -> Option<super::InputNaming<'_>> {
        Some(super::InputNaming {
            noun: "start",
            numbered: false,
        })
    }

    fn can_match(&self) -> bool {
        self.target.is_some()
    }

    fn run(&self, task: u64, _cancel: &CancelToken) -> Outcome {
        let start = task + 1;
        let Some(steps) = chain_steps(start) else {
            return Outcome::Error(format!("chain of {start} overflows u64"));
        };
        #[expect(clippy::cast_precision_loss, reason = "chain lengths are far below 2^52")]
        let score = steps as f64;
        match self.target {
            Some(target) if steps >= target => Outcome::Match {
                value: format!("start {start}: {steps} steps"),
                score: Some(score),
            },
            _ => Outcome::Scored(score),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_chain_lengths() {
        assert_eq!(chain_steps(1), Some(0));
        assert_eq!(chain_steps(27), Some(111));
        assert_eq!(chain_steps(837_799), Some(524));
    }

    #[test]
    fn a_start_value_is_its_tasks_number_as_the_search_says() {
        let collatz = Collatz {
            below: 100,
            target: None,
        };
        assert!(collatz.input_naming().is_some_and(|naming| !naming.numbered));
        for task in [0, 26, 98] {
            assert_eq!(collatz.input_label(task), Some((task + 1).to_string()));
        }
    }
}
