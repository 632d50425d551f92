//! Run-wide results: match, error and done counts the halt policies read, the best score, the fatal message, coverage and the completed-id ranges.

use super::stats::Best;
use super::{bucket_of, bucket_span};
use crate::plan::{RangeSet, ResolvedPlan};
use crate::search::Goal;
use crate::sync::lock;
use crossbeam_channel::{Receiver, Sender};
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, TryLockError};

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
    /// Completed ranges that found `completed` locked, merged by whoever locks it next.
    arrived: Receiver<(u64, u64)>,
    arrived_sender: Sender<(u64, u64)>,
}

impl Tally {
    /// A tally with `buckets` coverage buckets, starting from the plan's done ranges.
    pub fn new(goal: Goal, buckets: usize, plan: &ResolvedPlan) -> Self {
        let (arrived_sender, arrived) = crossbeam_channel::unbounded();
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
            arrived,
            arrived_sender,
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

    /// Records `range` (absolute ids, one chunk of the plan) as completed: coverage, and the
    /// run's completed ranges. Never waits: when another thread holds the ranges' lock, the
    /// range is queued for the holder (or the next one) to merge. With a thousand workers on
    /// two CPUs, a worker preempted inside the lock made the others queue on it in a convoy
    /// that held hundreds of them in their batches for up to 28 ms after their last task.
    pub fn complete(&self, plan: &ResolvedPlan, total: u64, range: Range<u64>) {
        if range.is_empty() {
            return;
        }
        let rank = plan.rank(range.start);
        self.cover(rank, plan.rank(range.end) - rank, total);
        let completed = match self.completed.try_lock() {
            Ok(completed) => completed,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => {
                // Unbounded: the send never blocks, and the receiver lives in `self`.
                let _queued = self.arrived_sender.send((range.start, range.end));
                return;
            }
        };
        self.merge_arrived(completed).insert((range.start, range.end));
    }

    /// Merges the ranges queued while the lock was busy into the locked ranges.
    fn merge_arrived<'a>(&self, mut completed: MutexGuard<'a, RangeSet>) -> MutexGuard<'a, RangeSet> {
        for range in self.arrived.try_iter() {
            completed.insert(range);
        }
        completed
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
        self.merge_arrived(lock(&self.completed)).ranges().to_vec()
    }
}

fn initial_best(goal: Goal) -> f64 {
    match goal {
        Goal::Minimize => f64::INFINITY,
        Goal::Maximize | Goal::None => f64::NEG_INFINITY,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::IdPlan;
    use std::time::{Duration, Instant};

    #[test]
    fn completing_while_another_thread_holds_the_lock_does_not_wait_and_loses_nothing() {
        let plan = ResolvedPlan::new(&IdPlan::default(), Some(100));
        let tally = Tally::new(Goal::None, 4, &plan);
        std::thread::scope(|scope| {
            let held = lock(&tally.completed);
            let worker = scope.spawn(|| {
                tally.complete(&plan, 100, 0..10);
                tally.complete(&plan, 100, 10..20);
                tally.complete(&plan, 100, 30..40);
            });
            let deadline = Instant::now() + Duration::from_secs(10);
            while !worker.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(1));
            }
            assert!(worker.is_finished(), "complete waited for the lock");
            // Coverage counts at once; the ranges wait in the queue.
            assert_eq!(tally.coverage().iter().sum::<u64>(), 30);
            assert!(held.ranges().is_empty());
        });
        assert_eq!(tally.completed_ranges(), vec![(0, 20), (30, 40)]);
        // The next range recorded with the lock free merges anything queued with it.
        let held = lock(&tally.completed);
        let _queued = tally.arrived_sender.send((40, 45));
        drop(held);
        tally.complete(&plan, 100, 50..60);
        assert!(tally.arrived.is_empty());
        assert_eq!(tally.completed_ranges(), vec![(0, 20), (30, 45), (50, 60)]);
    }
}
