//! Time series the dashboard and headless mode keep: per-second throughput, the windowed rate behind the ETA, and the best score over time.

use std::collections::VecDeque;
use std::time::Duration;

/// Seconds of throughput history kept for the sparkline.
pub const THROUGHPUT_WINDOW: usize = 60;
/// The rate behind the ETA is measured over this much active time (or the run so far).
const RATE_WINDOW: Duration = Duration::from_secs(10);
/// Most points kept for the convergence chart.
const MAX_BEST_POINTS: usize = 2_000;

/// Throughput samples and the windowed rate, fed from snapshots.
#[derive(Debug, Clone, Default)]
pub struct Throughput {
    /// Tasks completed in each of the last seconds (oldest first).
    pub per_second: VecDeque<u64>,
    /// Completion rate over the last [`RATE_WINDOW`] of active time, tasks per second.
    /// A window of seconds, not one frame, so slow tasks finishing in bursts do not make it jump.
    pub windowed_rate: f64,
    /// `(active time, completed)` observations covering the rate window.
    samples: VecDeque<(Duration, u64)>,
    second_start_completed: u64,
    second_start: Duration,
    /// The observation before the latest, `(active time, completed)`.
    last_observed: (Duration, u64),
}

impl Throughput {
    /// Takes a new observation of active time and completed tasks.
    pub fn observe(&mut self, active: Duration, completed: u64) {
        if self.samples.back().is_some_and(|&(last, _)| active <= last) {
            return;
        }
        if self.samples.is_empty() {
            self.samples.push_back((Duration::ZERO, 0));
        }
        self.samples.push_back((active, completed));
        // Keep one sample at or before the window's start as its anchor.
        while self.samples.len() > 2 && self.samples[1].0 + RATE_WINDOW <= active {
            self.samples.pop_front();
        }
        if let Some(&(since, done_then)) = self.samples.front() {
            let span = (active - since).as_secs_f64();
            #[expect(clippy::cast_precision_loss, reason = "a rate")]
            let rate = completed.saturating_sub(done_then) as f64 / span;
            self.windowed_rate = if rate.is_finite() { rate } else { 0.0 };
        }
        self.sample_seconds(active, completed);
    }

    /// Closes each whole second of active time that ended by `active`. Observations come
    /// far apart (a watched log's `progress` lines, once a second, not on the second): the
    /// count at a second's end is interpolated between the observations on either side, so
    /// that no second is credited with the tasks of the next.
    fn sample_seconds(&mut self, active: Duration, completed: u64) {
        let (before, done_before) = self.last_observed;
        let span = active.saturating_sub(before).as_secs_f64();
        let gained = completed.saturating_sub(done_before);
        while active >= self.second_start + Duration::from_secs(1) {
            let end = self.second_start + Duration::from_secs(1);
            let share = if span > 0.0 {
                (end.saturating_sub(before).as_secs_f64() / span).clamp(0.0, 1.0)
            } else {
                1.0
            };
            #[expect(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                clippy::cast_precision_loss,
                reason = "a share of a count, rounded"
            )]
            let done_at_end = done_before + (gained as f64 * share).round() as u64;
            self.per_second
                .push_back(done_at_end.saturating_sub(self.second_start_completed));
            if self.per_second.len() > THROUGHPUT_WINDOW {
                self.per_second.pop_front();
            }
            self.second_start = end;
            self.second_start_completed = done_at_end;
        }
        self.last_observed = (active, completed);
    }
}

/// The best score over time: `(seconds since start, score)` points.
#[derive(Debug, Clone, Default)]
pub struct BestHistory {
    /// Points in time order.
    pub points: Vec<(f64, f64)>,
}

impl BestHistory {
    /// Adds a new best; halves the resolution when the buffer is full.
    pub fn push(&mut self, at: Duration, score: f64) {
        if self.points.len() >= MAX_BEST_POINTS {
            let kept: Vec<_> = self.points.iter().copied().step_by(2).collect();
            self.points = kept;
        }
        self.points.push((at.as_secs_f64(), score));
    }

    /// The latest best.
    #[must_use]
    pub fn latest(&self) -> Option<(f64, f64)> {
        self.points.last().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::{Progress, estimate};
    use poolwatch_core::search::MatchOdds;

    /// The one ETA definition (crate::format::estimate) at this window's rate.
    fn eta(throughput: &Throughput, remaining: u64) -> Option<Duration> {
        let progress = Progress {
            rate: throughput.windowed_rate,
            remaining,
            completed: 0,
            open: false,
            matches: 0,
        };
        estimate(progress, MatchOdds::Unknown).exhaust
    }

    #[test]
    fn samples_one_value_per_second_and_smooths_the_rate() {
        let mut throughput = Throughput::default();
        for tenth in 1..=35u64 {
            throughput.observe(Duration::from_millis(tenth * 100), tenth * 100);
        }
        assert_eq!(throughput.per_second, VecDeque::from(vec![1000, 1000, 1000]));
        assert!((throughput.windowed_rate - 1000.0).abs() < 1.0);
        let eta = eta(&throughput, 5000).unwrap();
        assert!((eta.as_secs_f64() - 5.0).abs() < 0.1);
    }

    #[test]
    fn slow_tasks_finishing_in_bursts_give_their_true_rate() {
        // 2 workers, 1 s tasks: two completions at each whole second, frames every 33 ms.
        let mut throughput = Throughput::default();
        for frame in 1..=(12_000 / 33) {
            let active = Duration::from_millis(frame * 33);
            throughput.observe(active, 2 * active.as_secs());
        }
        assert!(
            (throughput.windowed_rate - 2.0).abs() < 0.25,
            "{}",
            throughput.windowed_rate
        );
        let eta = eta(&throughput, 376).unwrap().as_secs_f64();
        assert!((160.0..220.0).contains(&eta), "{eta}");
    }

    /// Issue 25: observations once a second, just off the second (a watched log), credit
    /// each second with its own tasks: no peak above the pool's most (2 workers x 1 ms).
    #[test]
    fn seconds_observed_off_the_second_have_no_false_peak() {
        let mut throughput = Throughput::default();
        for (ms, completed) in [
            (999, 1_998),
            (2_000, 4_000),
            (2_999, 5_998),
            (4_000, 8_000),
            (5_001, 10_002),
        ] {
            throughput.observe(Duration::from_millis(ms), completed);
        }
        let peak = throughput.per_second.iter().copied().max().unwrap_or(0);
        assert!(peak <= 2_002, "{:?}", throughput.per_second);
        assert_eq!(throughput.per_second.len(), 5);
    }

    #[test]
    fn a_burst_moves_the_eta_only_a_little() {
        let mut throughput = Throughput::default();
        for tenth in 1..=100u64 {
            throughput.observe(Duration::from_millis(tenth * 100), tenth * 100);
        }
        let before = eta(&throughput, 10_000).unwrap();
        // One frame at ten times the rate.
        throughput.observe(Duration::from_millis(10_100), 10_000 + 1_000);
        let after = eta(&throughput, 10_000).unwrap();
        assert!(
            after.as_secs_f64() > before.as_secs_f64() * 0.7,
            "{before:?} -> {after:?}"
        );
    }
}
