//! The one place numbers, durations, plurals and the ETA are computed and written, for the dashboard, headless mode and summaries.

use poolwatch_core::Snapshot;
use poolwatch_core::search::MatchOdds;
use std::time::Duration;

/// `done / total` as a ratio clamped to 0..=1 (0 for an empty total; never NaN).
#[must_use]
pub fn ratio(done: u64, total: u64) -> f64 {
    if total == 0 {
        return 0.0;
    }
    #[expect(clippy::cast_precision_loss, reason = "a ratio for a bar")]
    let value = done as f64 / total as f64;
    if value.is_finite() {
        value.clamp(0.0, 1.0)
    } else {
        0.0
    }
}

/// A duration as `850ms`, `12.3s`, `4m 05s`, `2h 03m` or `3d 04h`.
#[must_use]
pub fn duration(value: Duration) -> String {
    let secs = value.as_secs_f64();
    let whole = value.as_secs();
    if secs < 1.0 {
        format!("{}ms", value.as_millis())
    } else if secs < 60.0 {
        format!("{secs:.1}s")
    } else if secs < 3600.0 {
        format!("{}m {:02}s", whole / 60, whole % 60)
    } else if secs < 86_400.0 {
        format!("{}h {:02}m", whole / 3600, (whole / 60) % 60)
    } else {
        format!("{}d {:02}h", whole / 86_400, (whole / 3600) % 24)
    }
}

/// An integer with thousands separators: `50,000,000`.
#[must_use]
pub fn count(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// `1 worker`, `2 workers`: a count with thousands separators and its noun, plural when it must be.
#[must_use]
pub fn plural(value: u64, noun: &str) -> String {
    if value == 1 {
        format!("1 {noun}")
    } else if noun.ends_with("ch") || noun.ends_with('s') {
        format!("{} {noun}es", count(value))
    } else {
        format!("{} {noun}s", count(value))
    }
}

/// A halt latency (halting result to the end of the last task under way) in milliseconds as `0.322 ms`, or
/// `-` for a run that never halted: the dashboard's halt panel, its runs table and the summary.
#[must_use]
pub fn halt_latency(ms: Option<f64>) -> String {
    ms.map_or_else(|| "-".to_string(), |ms| format!("{ms:.3} ms"))
}

/// 1234567.0 as "1.23M".
#[must_use]
pub fn human_count(value: f64) -> String {
    let abs = value.abs();
    if abs >= 1e9 {
        format!("{:.2}G", value / 1e9)
    } else if abs >= 1e6 {
        format!("{:.2}M", value / 1e6)
    } else if abs >= 1e3 {
        format!("{:.1}k", value / 1e3)
    } else {
        format!("{value:.0}")
    }
}

/// A score without noise: integers as integers, small values in scientific notation.
#[must_use]
pub fn score(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{value:.0}")
    } else if value.abs() < 1e-2 {
        format!("{value:.3e}")
    } else {
        format!("{value:.4}")
    }
}

/// What a run's progress says about the time left; see [`estimate`].
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Estimate {
    /// Time to run every remaining task at the current rate (`None`: no rate yet, or an open total).
    pub exhaust: Option<Duration>,
    /// Expected time to the first match, for a search that knows its odds and has no match yet.
    pub expected_match: Option<Duration>,
    /// The chance that a match would have been found by now, for per-task odds.
    pub chance_by_now: Option<f64>,
}

/// The facts an [`Estimate`] is made from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    /// Completed tasks per second, measured over a window (the dashboard's and headless mode's rate alike).
    pub rate: f64,
    /// Tasks not yet completed or cancelled.
    pub remaining: u64,
    /// Tasks completed.
    pub completed: u64,
    /// True while the total is unknown: nothing is estimated then.
    pub open: bool,
    /// Matches so far.
    pub matches: u64,
}

impl Progress {
    /// What `snapshot` says at `rate` completed tasks per second: the one reading of a
    /// snapshot that the dashboard and the headless progress line estimate from.
    #[must_use]
    pub fn of(snapshot: &Snapshot, rate: f64) -> Self {
        Self {
            rate,
            remaining: snapshot.remaining(),
            completed: snapshot.counters.completed,
            open: snapshot.total_open,
            matches: snapshot.counters.matches,
        }
    }
}

/// The one ETA definition: time to exhaust the space at `rate`, and where the search knows its
/// odds, the expected time to its first match (per-task odds: `1/p` tasks at `rate`, memoryless,
/// with the chance `1 - (1-p)^completed` of having found one by now; one match placed uniformly:
/// half the time to exhaust).
#[must_use]
pub fn estimate(progress: Progress, odds: MatchOdds) -> Estimate {
    if progress.open || progress.rate <= 0.0 || !progress.rate.is_finite() {
        return Estimate::default();
    }
    #[expect(clippy::cast_precision_loss, reason = "an estimate")]
    let exhaust_secs = progress.remaining as f64 / progress.rate;
    let exhaust = seconds(exhaust_secs);
    if progress.matches > 0 {
        return Estimate {
            exhaust,
            ..Estimate::default()
        };
    }
    match odds {
        MatchOdds::Unknown => Estimate {
            exhaust,
            ..Estimate::default()
        },
        MatchOdds::OneUniform => Estimate {
            exhaust,
            expected_match: seconds(exhaust_secs / 2.0),
            chance_by_now: None,
        },
        MatchOdds::PerTask(p) if p > 0.0 && p <= 1.0 => {
            #[expect(clippy::cast_precision_loss, reason = "an estimate")]
            let done = progress.completed as f64;
            let chance = 1.0 - (1.0 - p).powf(done);
            Estimate {
                exhaust,
                expected_match: seconds((1.0 / p / progress.rate).min(exhaust_secs)),
                chance_by_now: chance.is_finite().then_some(chance.clamp(0.0, 1.0)),
            }
        }
        MatchOdds::PerTask(_) => Estimate {
            exhaust,
            ..Estimate::default()
        },
    }
}

fn seconds(secs: f64) -> Option<Duration> {
    (secs.is_finite() && (0.0..1e12).contains(&secs)).then(|| Duration::from_secs_f64(secs))
}

impl Estimate {
    /// `expected match in 3.2s (63% chance by now)`, when there is an expected match time.
    #[must_use]
    pub fn match_text(&self) -> Option<String> {
        let within = self.expected_match?;
        Some(match self.chance_by_now {
            Some(chance) => format!(
                "expected match in {} ({:.0}% chance by now)",
                duration(within),
                chance * 100.0
            ),
            None => format!("expected match in {}", duration(within)),
        })
    }

    /// [`Estimate::match_text`] and [`Estimate::exhaust_text`], or the latter alone.
    #[must_use]
    pub fn text(&self) -> String {
        match self.match_text() {
            Some(within) => format!("{within}, {}", self.exhaust_text()),
            None => self.exhaust_text(),
        }
    }

    /// `exhaust in 9m 28s`, or `exhaust in -` without a rate.
    #[must_use]
    pub fn exhaust_text(&self) -> String {
        format!(
            "exhaust in {}",
            self.exhaust.map_or_else(|| "-".to_string(), duration)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers_format_and_clamp() {
        assert_eq!(count(50_000_000), "50,000,000");
        assert_eq!(count(999), "999");
        assert!(ratio(5, 0).abs() < f64::EPSILON);
        assert!((ratio(7, 5) - 1.0).abs() < f64::EPSILON);
        assert_eq!(duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(duration(Duration::from_secs(245)), "4m 05s");
        assert_eq!(duration(Duration::from_secs(2 * 86_400 + 3600)), "2d 01h");
        assert_eq!(plural(1, "worker"), "1 worker");
        assert_eq!(plural(1200, "error"), "1,200 errors");
        assert_eq!(plural(0, "match"), "0 matches");
        assert_eq!(halt_latency(Some(0.3217)), "0.322 ms");
        assert_eq!(halt_latency(None), "-");
    }

    #[test]
    fn scores_and_counts_read_well() {
        assert_eq!(score(24.0), "24");
        assert_eq!(score(0.000_012), "1.200e-5");
        assert_eq!(score(2.984_877), "2.9849");
        assert_eq!(human_count(1_234_567.0), "1.23M");
        assert_eq!(human_count(950.0), "950");
    }

    fn progress(rate: f64, remaining: u64, completed: u64) -> Progress {
        Progress {
            rate,
            remaining,
            completed,
            open: false,
            matches: 0,
        }
    }

    #[test]
    fn a_snapshot_gives_the_estimate_what_is_left_and_what_was_found() {
        let snapshot = Snapshot {
            counters: poolwatch_core::Counters {
                total: 1_000,
                completed: 300,
                cancelled: 100,
                matches: 2,
                ..poolwatch_core::Counters::default()
            },
            total_open: true,
            ..Snapshot::default()
        };
        let expected = Progress {
            open: true,
            matches: 2,
            ..progress(12.5, 600, 300)
        };
        assert_eq!(Progress::of(&snapshot, 12.5), expected);
    }

    #[test]
    fn pow_expects_its_match_long_before_the_space_is_exhausted() {
        // 28 bits at 7.5M hashes/s over 2^32 nonces: exhaust in ~9 min, a match in ~36 s.
        let p = 0.5_f64.powi(28);
        let odds = MatchOdds::PerTask(p);
        let estimate = estimate(progress(7.5e6, (1 << 32) - (1 << 28), 1 << 28), odds);
        let exhaust = estimate.exhaust.unwrap().as_secs_f64();
        let expected = estimate.expected_match.unwrap().as_secs_f64();
        assert!((500.0..600.0).contains(&exhaust), "{exhaust}");
        assert!((30.0..40.0).contains(&expected), "{expected}");
        let chance = estimate.chance_by_now.unwrap();
        assert!((0.62..0.64).contains(&chance), "{chance}");
        assert!(
            estimate
                .match_text()
                .unwrap()
                .starts_with("expected match in 35.")
        );
        assert!(estimate.exhaust_text().starts_with("exhaust in 8m 56s"));
        assert!(estimate.text().starts_with("expected match in 35."));
        assert!(estimate.text().contains("), exhaust in 8m 56s"));
    }

    #[test]
    fn a_needle_is_expected_halfway_and_open_totals_estimate_nothing() {
        let needle = estimate(progress(100.0, 1000, 0), MatchOdds::OneUniform);
        assert_eq!(needle.exhaust, Some(Duration::from_secs(10)));
        assert_eq!(needle.expected_match, Some(Duration::from_secs(5)));
        let open = Progress {
            open: true,
            ..progress(100.0, 1000, 0)
        };
        assert_eq!(estimate(open, MatchOdds::OneUniform), Estimate::default());
        let found = Progress {
            matches: 1,
            ..progress(100.0, 1000, 0)
        };
        assert_eq!(estimate(found, MatchOdds::OneUniform).expected_match, None);
    }
}
