//! Property tests: random control sequences at random moments never break the accounting invariant.
#![allow(
    clippy::unwrap_used,
    reason = "a failed unwrap here is a failed test, with its message"
)]

use poolwatch_core::{CancelToken, HaltPolicy, Run, RunConfig};
use poolwatch_core::{Outcome, Search};
use proptest::prelude::*;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Records each id it runs; sleeps a few microseconds; matches a chosen set.
struct Ledger {
    tasks: u64,
    matches: HashSet<u64>,
    seen: Mutex<Vec<u64>>,
    reported: Mutex<Vec<u64>>,
    gave_up: std::sync::atomic::AtomicU64,
}

impl Search for Ledger {
    fn name(&self) -> &str {
        "ledger"
    }
    fn params(&self) -> String {
        String::new()
    }
    fn space(&self) -> u64 {
        self.tasks
    }
    fn run(&self, task: u64, cancel: &CancelToken) -> Outcome {
        self.seen.lock().unwrap().push(task);
        if cancel.sleep(Duration::from_micros(50 + task % 100)) {
            self.gave_up.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return Outcome::Cancelled;
        }
        if self.matches.contains(&task) {
            self.reported.lock().unwrap().push(task);
            Outcome::Match {
                value: task.to_string(),
                score: None,
            }
        } else {
            Outcome::Miss
        }
    }
}

#[derive(Debug, Clone)]
enum Control {
    Wait(u64),
    Pause,
    Resume,
    Workers(usize),
    HaltNow,
    HaltSoon,
}

fn control() -> impl Strategy<Value = Control> {
    prop_oneof![
        3 => (0u64..15).prop_map(Control::Wait),
        1 => Just(Control::Pause),
        1 => Just(Control::Resume),
        2 => (1usize..6).prop_map(Control::Workers),
        1 => Just(Control::HaltNow),
        1 => Just(Control::HaltSoon),
    ]
}

fn policy() -> impl Strategy<Value = HaltPolicy> {
    prop_oneof![
        Just(HaltPolicy::Now),
        Just(HaltPolicy::Soon),
        Just(HaltPolicy::Never),
        (1u64..4).prop_map(HaltPolicy::After),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn controls_never_lose_repeat_or_hide_tasks(
        tasks in 1u64..3_000,
        matches in proptest::collection::hash_set(0u64..3_000, 0..4),
        workers in 1usize..5,
        policy in policy(),
        controls in proptest::collection::vec(control(), 0..12),
    ) {
        let search = Arc::new(Ledger {
            tasks,
            matches,
            seen: Mutex::new(Vec::new()),
            reported: Mutex::new(Vec::new()),
            gave_up: std::sync::atomic::AtomicU64::new(0),
        });
        let run = Run::start(search.clone(), &RunConfig::default().with_workers(workers).with_policy(policy));
        for control in controls {
            match control {
                Control::Wait(ms) => std::thread::sleep(Duration::from_millis(ms)),
                Control::Pause => run.pause(),
                Control::Resume => run.resume(),
                Control::Workers(n) => run.set_workers(n),
                Control::HaltNow => run.halt_now(),
                Control::HaltSoon => run.halt_soon(),
            }
        }
        run.resume();
        let report = run.wait();
        let seen = search.seen.lock().unwrap().clone();
        let unique: HashSet<u64> = seen.iter().copied().collect();
        prop_assert_eq!(unique.len(), seen.len(), "a task ran twice");
        prop_assert!(seen.iter().all(|t| *t < tasks));
        prop_assert_eq!(report.counters.completed + report.counters.cancelled + (report.counters.total - report.counters.submitted), report.counters.total);
        // Counted exactly: every task the search ran either completed or gave up on cancel.
        let gave_up = search.gave_up.load(std::sync::atomic::Ordering::Relaxed);
        prop_assert_eq!(report.counters.completed, seen.len() as u64 - gave_up);
        prop_assert!(report.counters.submitted <= report.counters.total);
        let mut reported_events = Vec::new();
        while let Ok(event) = run.events().try_recv() {
            if let poolwatch_core::Event::Match { task, .. } = event {
                reported_events.push(task);
            }
        }
        let mut produced = search.reported.lock().unwrap().clone();
        produced.sort_unstable();
        reported_events.sort_unstable();
        prop_assert_eq!(&produced, &reported_events, "every match is reported");
        prop_assert_eq!(report.counters.matches, produced.len() as u64);
        if report.reason == poolwatch_core::HaltReason::Exhausted {
            prop_assert_eq!(report.counters.completed, tasks);
        }
    }
}

/// Records every id it runs; instant tasks.
struct Tally {
    tasks: u64,
    seen: Mutex<Vec<u64>>,
}

impl Search for Tally {
    fn name(&self) -> &str {
        "tally"
    }
    fn params(&self) -> String {
        String::new()
    }
    fn space(&self) -> u64 {
        self.tasks
    }
    fn run(&self, task: u64, _cancel: &CancelToken) -> Outcome {
        self.seen.lock().unwrap().push(task);
        Outcome::Miss
    }
}

/// Random done ranges inside `0..space`, possibly overlapping.
fn done_ranges(space: u64) -> impl Strategy<Value = Vec<(u64, u64)>> {
    proptest::collection::vec((0..space.max(1), 0u64..200), 0..4).prop_map(|starts| {
        starts
            .into_iter()
            .map(|(start, len)| (start, start + len))
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn shards_split_the_window_exactly_and_skip_done_ranges(
        (space, done) in (1u64..4_000).prop_flat_map(|space| (Just(space), done_ranges(space))),
        skip in 0u64..1_000,
        limit in proptest::option::of(0u64..4_000),
        count in 1u64..6,
        chunk in proptest::option::of(1u64..300),
    ) {
        let window_end = limit.map_or(space, |limit| (skip + limit).min(space));
        let in_done = |id: u64| done.iter().any(|&(s, e)| (s..e).contains(&id));
        let mut all = Vec::new();
        let mut totals = 0;
        for index in 0..count {
            let mut shard = poolwatch_core::Shard::new(index, count).unwrap();
            if let Some(chunk) = chunk {
                shard = shard.with_chunk(chunk);
            }
            let mut config = RunConfig::default().with_workers(2).with_policy(HaltPolicy::Never)
                .with_skip(skip).with_shard(shard).with_done(done.clone());
            if let Some(limit) = limit {
                config = config.with_limit(limit);
            }
            let search = Arc::new(Tally { tasks: space, seen: Mutex::new(Vec::new()) });
            // What a front end shows before the run (Ready of a resumed run) is what it starts from.
            let before = config.starting_point(space);
            let run = Run::start(search.clone(), &config);
            let report = run.wait();
            prop_assert_eq!(before.counters.total, report.counters.total);
            prop_assert_eq!(before.counters.done_before, report.counters.done_before);
            prop_assert_eq!(before.coverage.iter().sum::<u64>(), report.counters.done_before);
            let after = run.snapshot();
            prop_assert!(before.coverage.iter().zip(&after.coverage).all(|(b, a)| b <= a), "{:?} {:?}", before.coverage, after.coverage);
            let seen = search.seen.lock().unwrap().clone();
            prop_assert!(seen.iter().all(|&id| !in_done(id)), "a done id ran again");
            prop_assert_eq!(report.counters.completed, seen.len() as u64);
            prop_assert_eq!(report.counters.completed + report.counters.done_before, report.counters.total);
            totals += report.counters.total;
            all.extend(seen);
        }
        let unique: HashSet<u64> = all.iter().copied().collect();
        prop_assert_eq!(unique.len(), all.len(), "an id ran in two shards");
        let expected: HashSet<u64> = (skip.min(window_end)..window_end).filter(|&id| !in_done(id)).collect();
        prop_assert_eq!(unique, expected, "the shards' union is the window minus the done ids");
        prop_assert_eq!(totals, window_end.saturating_sub(skip));
    }
}
