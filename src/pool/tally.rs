//! Run-wide results: match, error and done counts the halt policies read, the best score, the fatal message, coverage and the completed-id ranges.

use super::RangeSet;
use super::plan::ResolvedPlan;
use super::stats::Best;
use super::{bucket_of, bucket_span};
use crate::search::Goal;
use crate::sync::lock;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Results shared by every worker (written on rare paths or once per batch, never per ordinary task).
pub(crate) struct Tally {
    goal: Goal,
    matches: AtomicU64,
    errors: AtomicU64,
    /// Tasks completed, counted only under a `done=` halt policy.
    done: AtomicU64,
    best: Mutex<Option<Best>>,
    best_bits: AtomicU64,
    fatal: Mutex<Option<String>>,
    /// Completed ids per bucket of plan positions.
    coverage: Box<[AtomicU64]>,
    completed: Mutex<RangeSet>,
}

impl Tally {
    /// A tally with `buckets` coverage buckets, starting from the plan's done ranges.
    pub fn new(goal: Goal, buckets: usize, plan: &ResolvedPlan) -> Self {
        Self {
            goal,
            matches: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            done: AtomicU64::new(0),
            best: Mutex::new(None),
            best_bits: AtomicU64::new(initial_best(goal).to_bits()),
            fatal: Mutex::new(None),
            coverage: (0..buckets).map(|_| AtomicU64::new(0)).collect(),
            completed: Mutex::new(plan.done().clone()),
        }
    }

    /// Counts a match; returns the count so far.
    pub fn add_match(&self) -> u64 {
        self.matches.fetch_add(1, Ordering::AcqRel) + 1
    }

    /// Counts an error; returns the count so far.
    pub fn add_error(&self) -> u64 {
        self.errors.fetch_add(1, Ordering::AcqRel) + 1
    }

    /// Counts `tasks` completed (for a `done=` policy); returns the count so far.
    pub fn add_done(&self, tasks: u64) -> u64 {
        self.done.fetch_add(tasks, Ordering::AcqRel) + tasks
    }

    pub fn matches(&self) -> u64 {
        self.matches.load(Ordering::Relaxed)
    }

    /// Keeps the first fatal error's message for the report.
    pub fn record_fatal(&self, message: &str) {
        lock(&self.fatal).get_or_insert_with(|| message.to_string());
    }

    pub fn fatal(&self) -> Option<String> {
        lock(&self.fatal).clone()
    }

    pub fn best(&self) -> Option<Best> {
        *lock(&self.best)
    }

    /// Records `score` if it beats the best so far; true if it did (the caller announces it).
    pub fn offer_best(&self, task: u64, score: f64) -> bool {
        let current = f64::from_bits(self.best_bits.load(Ordering::Relaxed));
        if !self.goal.improves(score, current) {
            return false;
        }
        let mut best = lock(&self.best);
        let better = best.is_none_or(|best| self.goal.improves(score, best.score));
        if better {
            *best = Some(Best { score, task });
            self.best_bits.store(score.to_bits(), Ordering::Relaxed);
        }
        better
    }

    /// Records `start..end` (absolute ids, one chunk of the plan) as completed: coverage and ranges.
    pub fn complete(&self, plan: &ResolvedPlan, total: u64, start: u64, end: u64) {
        if start >= end {
            return;
        }
        lock(&self.completed).insert((start, end));
        let rank = plan.rank(start);
        self.cover(rank, plan.rank(end) - rank, total);
    }

    /// Adds `count` ids at plan positions `rank..` to the coverage buckets.
    pub fn cover(&self, rank: u64, count: u64, total: u64) {
        let buckets = self.coverage.len();
        if buckets == 0 {
            return;
        }
        let (mut position, end) = (rank, rank + count);
        while position < end {
            let bucket = bucket_of(total, buckets, position);
            let span_end = bucket_span(total, buckets, bucket).1.max(position + 1);
            let here = end.min(span_end) - position;
            self.coverage[bucket].fetch_add(here, Ordering::Relaxed);
            position += here;
        }
    }

    pub fn coverage(&self) -> Vec<u64> {
        self.coverage.iter().map(|c| c.load(Ordering::Relaxed)).collect()
    }

    /// The completed ranges (done before included), merged, in order.
    pub fn completed_ranges(&self) -> Vec<(u64, u64)> {
        lock(&self.completed).ranges().to_vec()
    }
}

fn initial_best(goal: Goal) -> f64 {
    match goal {
        Goal::Minimize => f64::INFINITY,
        Goal::Maximize | Goal::None => f64::NEG_INFINITY,
    }
}
