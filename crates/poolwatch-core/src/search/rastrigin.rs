//! Rastrigin: random-restart local searches; the best value descends toward the minimum 0.

use super::{Goal, Outcome, Search};
use crate::cancel::CancelToken;
use std::f64::consts::TAU;

/// Task `n` runs one local search from a random start seeded by `n` and `seed`.
#[derive(Debug, Clone)]
pub struct Rastrigin {
    /// Number of restarts.
    pub tasks: u64,
    /// Dimensions of the function.
    pub dims: usize,
    /// A value at or below this is a match.
    pub target: f64,
    /// Seed mixed into every restart.
    pub seed: u64,
}

/// Half-width of the usual Rastrigin domain.
const BOUND: f64 = 5.12;

/// The Rastrigin function: `10 d + sum(x^2 - 10 cos(2 pi x))`, minimum 0 at the origin.
#[must_use]
pub fn rastrigin(point: &[f64]) -> f64 {
    #[expect(clippy::cast_precision_loss, reason = "dimension counts are tiny")]
    let base = 10.0 * point.len() as f64;
    base + point.iter().map(|x| x * x - 10.0 * (TAU * x).cos()).sum::<f64>()
}

/// `SplitMix64`: a tiny deterministic generator, enough for restart points.
struct SplitMix(u64);

impl SplitMix {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[-BOUND, BOUND)`.
    fn next_coordinate(&mut self) -> f64 {
        #[expect(clippy::cast_precision_loss, reason = "53 random bits fit exactly")]
        let unit = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        (unit * 2.0 - 1.0) * BOUND
    }
}

impl Rastrigin {
    /// Compass search from the task's random start; returns the point and its value.
    #[must_use]
    pub fn local_search(&self, task: u64) -> (Vec<f64>, f64) {
        let mut rng = SplitMix(self.seed ^ task.wrapping_mul(0xA24B_AED4_963E_E407));
        let mut point: Vec<f64> = (0..self.dims).map(|_| rng.next_coordinate()).collect();
        let mut value = rastrigin(&point);
        let mut step = 0.25;
        while step > 1e-9 {
            let mut improved = false;
            for dim in 0..self.dims {
                for delta in [step, -step] {
                    let old = point[dim];
                    point[dim] = (old + delta).clamp(-BOUND, BOUND);
                    let candidate = rastrigin(&point);
                    if candidate < value {
                        value = candidate;
                        improved = true;
                    } else {
                        point[dim] = old;
                    }
                }
            }
            if !improved {
                step *= 0.5;
            }
        }
        (point, value)
    }
}

impl Search for Rastrigin {
    fn name(&self) -> &str {
        "rastrigin"
    }

    fn params(&self) -> String {
        format!(
            "tasks={} dims={} target={} seed={}",
            self.tasks, self.dims, self.target, self.seed
        )
    }

    fn space(&self) -> u64 {
        self.tasks
    }

    fn goal(&self) -> Goal {
        Goal::Minimize
    }

    fn run(&self, task: u64, cancel: &CancelToken) -> Outcome {
        if cancel.is_cancelled() {
            return Outcome::Cancelled;
        }
        let (point, value) = self.local_search(task);
        if value <= self.target {
            let coords: Vec<String> = point.iter().map(|x| format!("{x:.4}")).collect();
            Outcome::Match {
                value: format!("f={value:.3e} at [{}]", coords.join(", ")),
                score: Some(value),
            }
        } else {
            Outcome::Scored(value)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimum_is_zero_at_origin() {
        assert!(rastrigin(&[0.0, 0.0, 0.0]).abs() < 1e-12);
        assert!(rastrigin(&[1.0, 0.0]) > 0.9);
    }

    #[test]
    fn local_search_is_deterministic_and_improves() {
        let search = Rastrigin {
            tasks: 10,
            dims: 3,
            target: 1e-6,
            seed: 7,
        };
        let (_, first) = search.local_search(3);
        let (_, again) = search.local_search(3);
        assert!((first - again).abs() < f64::EPSILON);
        assert!(first < 60.0);
    }
}
