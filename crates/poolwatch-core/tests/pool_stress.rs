//! Random controls at random moments with many workers and short tasks: no id runs twice, the counts add up, and a watchdog turns a hang into a failure.
#![allow(
    clippy::unwrap_used,
    clippy::cast_possible_truncation,
    reason = "a failed unwrap here is a failed test; ids index a vector in memory"
)]

use poolwatch_core::{CancelToken, Event, HaltPolicy, Outcome, Run, RunConfig, Search};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::{Duration, Instant};

mod support;

struct Counts {
    tasks: u64,
    runs: Vec<AtomicU8>,
    gave_up: AtomicU64,
    /// How many times `run` returned a match (the needle, at most once).
    matched: AtomicU64,
    sleep_every: u64,
    matches_at: Option<u64>,
}

impl Counts {
    fn new(tasks: u64, sleep_every: u64, matches_at: Option<u64>) -> Arc<Self> {
        Arc::new(Self {
            tasks,
            runs: (0..tasks).map(|_| AtomicU8::new(0)).collect(),
            gave_up: AtomicU64::new(0),
            matched: AtomicU64::new(0),
            sleep_every,
            matches_at,
        })
    }
    fn seen(&self) -> u64 {
        self.runs
            .iter()
            .map(|r| u64::from(r.load(Ordering::Relaxed)))
            .sum()
    }
    fn twice(&self) -> Option<u64> {
        (0..self.tasks).find(|&t| self.runs[t as usize].load(Ordering::Relaxed) > 1)
    }
}

impl Search for Counts {
    fn name(&self) -> &str {
        "counts"
    }
    fn params(&self) -> String {
        String::new()
    }
    fn space(&self) -> u64 {
        self.tasks
    }
    fn run(&self, task: u64, cancel: &CancelToken) -> Outcome {
        self.runs[task as usize].fetch_add(1, Ordering::Relaxed);
        if self.sleep_every != 0
            && task.is_multiple_of(self.sleep_every)
            && cancel.sleep(Duration::from_micros(200))
        {
            self.gave_up.fetch_add(1, Ordering::Relaxed);
            return Outcome::Cancelled;
        }
        if self.matches_at == Some(task) {
            self.matched.fetch_add(1, Ordering::Relaxed);
            return Outcome::Match {
                value: String::new(),
                score: None,
            };
        }
        Outcome::Miss
    }
}

/// Random choices that are the same on every run.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        support::next_random(&mut self.0)
    }
}

/// How long a round may take before it counts as a hang: generous, as a hang never ends.
/// Round 10 runs 13,099 tasks that sleep 200 us on one worker (about 3 s on a quiet
/// machine, and a loaded one can make that many times longer).
const HANG: Duration = Duration::from_secs(120);

/// Waits for the run's report (a hang past [`HANG`] fails, naming `what`), reading its events
/// as they come; returns the report and the tasks of every `Match` event, in order.
fn wait_or_hang(run: &Run, what: &str) -> (poolwatch_core::RunReport, Vec<u64>) {
    let deadline = Instant::now() + HANG;
    let mut matches = Vec::new();
    let read_events = |matches: &mut Vec<u64>| {
        for event in run.events().try_iter() {
            if let Event::Match { task, .. } = event {
                matches.push(task);
            }
        }
    };
    loop {
        if let Some(report) = run.report() {
            // `Finished` is queued before the report is set: every event is in the channel.
            read_events(&mut matches);
            return (report, matches);
        }
        read_events(&mut matches);
        if Instant::now() > deadline {
            let s = run.snapshot();
            panic!(
                "HANG {what}: state {:?} counters {:?} workers {:?}",
                s.state,
                s.counters,
                s.workers.iter().map(|w| w.state).collect::<Vec<_>>()
            );
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn random_controls_many_workers() {
    let rounds: u64 = std::env::var("ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for round in 0..rounds {
        let tasks = 1 + rng.next() % 40_000;
        let workers = 1 + (rng.next() % 96) as usize;
        let sleep_every = [0, 1, 7, 100][(rng.next() % 4) as usize];
        let policy = [HaltPolicy::Never, HaltPolicy::Now, HaltPolicy::Soon][(rng.next() % 3) as usize];
        let matches_at = rng.next().is_multiple_of(2).then(|| rng.next() % tasks);
        let search = Counts::new(tasks, sleep_every, matches_at);
        let run = Run::start(
            search.clone(),
            &RunConfig::default().with_workers(workers).with_policy(policy),
        );
        let mut log = Vec::new();
        for _ in 0..(rng.next() % 10) {
            let op = rng.next() % 8;
            log.push(op);
            match op {
                0 => std::thread::sleep(Duration::from_micros(rng.next() % 3000)),
                1 => run.pause(),
                2 => run.resume(),
                3 => run.set_workers(1 + (rng.next() % 128) as usize),
                4 => run.halt_now(),
                5 => run.halt_soon(),
                6 => std::thread::yield_now(),
                _ => run.set_workers(1),
            }
        }
        run.resume();
        let what = format!(
            "round {round} tasks {tasks} workers {workers} sleep_every {sleep_every} policy {policy:?} ops {log:?}"
        );
        let (report, match_events) = wait_or_hang(&run, &what);
        let c = report.counters;
        // The needle's match, whenever the search returned it, was reported once, and counted.
        let matched = search.matched.load(Ordering::Relaxed);
        let expected: Vec<u64> = matches_at.filter(|_| matched > 0).into_iter().collect();
        assert_eq!(matched, expected.len() as u64, "{what}");
        assert_eq!(match_events, expected, "{what}");
        assert_eq!(c.matches, matched, "{what} {c:?}");
        if report.reason == poolwatch_core::HaltReason::Match {
            assert_eq!(matched, 1, "a halt on a match without the needle: {what}");
        }
        assert_eq!(search.twice(), None, "{what}");
        assert_eq!(c.completed + c.cancelled, c.submitted, "{what} {c:?}");
        assert_eq!(
            c.completed,
            search.seen() - search.gave_up.load(Ordering::Relaxed),
            "{what} {c:?}"
        );
        if report.reason == poolwatch_core::HaltReason::Exhausted {
            assert_eq!(c.completed, tasks, "{what} {c:?}");
        }
        drop(run);
    }
}
