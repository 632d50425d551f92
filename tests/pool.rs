//! Engine tests with real threads: halting, policies, controls, panics and the accounting invariant.
#![allow(
    clippy::unwrap_used,
    reason = "a failed unwrap here is a failed test, with its message"
)]

use poolwatch::Outcome;
use poolwatch::Search;
use poolwatch::search::Needle;
use poolwatch::{
    CancelToken, Event, HaltPolicy, HaltReason, Run, RunConfig, RunReport, RunState, WorkerState,
};
use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod common;
use common::{PATIENCE, wait_for, wait_until};

/// A search that records every id it runs, sleeps a little, and matches a set of ids.
struct Recorder {
    tasks: u64,
    matches: HashSet<u64>,
    sleep: Duration,
    seen: Mutex<Vec<u64>>,
    panic_on: Option<u64>,
}

impl Recorder {
    fn new(tasks: u64, matches: &[u64], sleep_us: u64) -> Arc<Self> {
        Arc::new(Self {
            tasks,
            matches: matches.iter().copied().collect(),
            sleep: Duration::from_micros(sleep_us),
            seen: Mutex::new(Vec::new()),
            panic_on: None,
        })
    }

    fn seen(&self) -> Vec<u64> {
        self.seen.lock().unwrap().clone()
    }
}

impl Search for Recorder {
    fn name(&self) -> &str {
        "recorder"
    }
    fn params(&self) -> String {
        String::new()
    }
    fn space(&self) -> u64 {
        self.tasks
    }
    fn run(&self, task: u64, cancel: &CancelToken) -> Outcome {
        self.seen.lock().unwrap().push(task);
        if self.panic_on == Some(task) {
            panic!("task {task} exploded");
        }
        if !self.sleep.is_zero() && cancel.sleep(self.sleep) {
            return Outcome::Cancelled;
        }
        if self.matches.contains(&task) {
            Outcome::Match {
                value: format!("m{task}"),
                score: None,
            }
        } else {
            Outcome::Miss
        }
    }
}

fn config(workers: usize, policy: HaltPolicy) -> RunConfig {
    RunConfig::default().with_workers(workers).with_policy(policy)
}

/// Collects every event until `Finished`.
fn drain(run: &Run) -> (Vec<Event>, RunReport) {
    let mut events = Vec::new();
    loop {
        let event = run
            .events()
            .recv_timeout(Duration::from_secs(60))
            .expect("run finishes");
        if let Event::Finished(report) = event {
            return (events, report);
        }
        events.push(event);
    }
}

/// Sorted task ids of the match events.
fn matched_tasks(events: &[Event]) -> Vec<u64> {
    sorted_tasks(events, |e| {
        if let Event::Match { task, .. } = e {
            Some(*task)
        } else {
            None
        }
    })
}

/// Sorted task ids of the error events.
fn failed_tasks(events: &[Event]) -> Vec<u64> {
    sorted_tasks(events, |e| {
        if let Event::Error { task, .. } = e {
            Some(*task)
        } else {
            None
        }
    })
}

fn sorted_tasks(events: &[Event], task_of: impl Fn(&Event) -> Option<u64>) -> Vec<u64> {
    let mut tasks: Vec<u64> = events.iter().filter_map(task_of).collect();
    tasks.sort_unstable();
    tasks
}

fn assert_invariant(report: &RunReport, seen: &[u64]) {
    let unique: HashSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "a task ran twice");
    assert_eq!(
        report.completed + report.cancelled + (report.total - report.submitted),
        report.total
    );
    assert!(report.completed <= seen.len() as u64);
}

#[test]
fn first_match_halts_now_and_cancels_the_rest() {
    let search = Recorder::new(100_000, &[300], 200);
    let run = Run::start(search.clone(), &config(4, HaltPolicy::Now));
    let (events, report) = drain(&run);
    assert_eq!(report.reason, HaltReason::Match);
    assert_eq!(report.matches, 1);
    assert!(report.submitted < report.total, "queued work was not dropped");
    // Speed is the benches' business: here the latency is measured and the run did not hang.
    assert!(report.halt_latency.expect("latency") < PATIENCE);
    assert!(events.iter().any(|e| matches!(e, Event::Match { task: 300, .. })));
    assert!(events.iter().any(|e| matches!(
        e,
        Event::Halted {
            reason: HaltReason::Match,
            ..
        }
    )));
    assert_invariant(&report, &search.seen());
}

#[test]
fn never_policy_runs_everything_and_keeps_every_match() {
    let search = Recorder::new(2_000, &[0, 7, 1999, 1000], 0);
    let run = Run::start(search.clone(), &config(3, HaltPolicy::Never));
    let (events, report) = drain(&run);
    assert_eq!(report.reason, HaltReason::Exhausted);
    assert_eq!(report.completed, 2_000);
    assert_eq!(report.cancelled, 0);
    let found = matched_tasks(&events);
    assert_eq!(found, vec![0, 7, 1000, 1999]);
    let mut seen = search.seen();
    seen.sort_unstable();
    assert_eq!(seen, (0..2_000).collect::<Vec<_>>());
}

#[test]
fn after_policy_halts_at_the_nth_match() {
    let search = Recorder::new(50_000, &[10, 20, 30, 40_000], 100);
    let run = Run::start(search.clone(), &config(2, HaltPolicy::After(3)));
    let (_, report) = drain(&run);
    assert_eq!(report.reason, HaltReason::After);
    assert!(report.matches >= 3);
    assert!(report.completed < 40_000);
    assert_invariant(&report, &search.seen());
}

#[test]
fn soon_policy_lets_running_tasks_finish() {
    let search = Recorder::new(10_000, &[5], 20_000);
    let run = Run::start(search.clone(), &config(4, HaltPolicy::Soon));
    let (_, report) = drain(&run);
    assert_eq!(report.reason, HaltReason::Match);
    // Tasks running at the halt complete rather than being cancelled mid-sleep.
    let seen = search.seen();
    assert_eq!(
        report.completed,
        seen.len() as u64,
        "every started task completed"
    );
    assert_invariant(&report, &seen);
}

#[test]
fn halt_now_wakes_sleeping_tasks_at_once() {
    let search = Arc::new(Needle {
        tasks: 100,
        needle: 1_000_000,
        sleep: Duration::from_secs(30),
    });
    let run = Run::start(search, &config(4, HaltPolicy::Now));
    wait_until("four workers inside their 30 s task", || {
        let snapshot = run.snapshot();
        snapshot
            .workers
            .iter()
            .filter(|w| w.current_task.is_some())
            .count()
            == 4
    });
    let asked = Instant::now();
    run.halt_now();
    let report = run.wait();
    // Far below the 30 s the tasks would sleep if not woken.
    assert!(asked.elapsed() < Duration::from_secs(15));
    assert_eq!(report.reason, HaltReason::User);
    assert_eq!(report.completed, 0);
    assert_eq!(report.completed + report.cancelled, report.submitted);
}

#[test]
fn pause_stops_submission_and_resume_continues() {
    let search = Recorder::new(5_000, &[], 500);
    let run = Run::start(search.clone(), &config(2, HaltPolicy::Now));
    wait_until("the first completed task", || run.snapshot().completed > 0);
    run.pause();
    // Parked: no worker running a task on two looks in a row (one may wait Idle on an empty queue).
    let mut previous: Option<poolwatch::Snapshot> = None;
    let frozen = wait_for("both workers parked", || {
        let snapshot = run.snapshot();
        let parked = snapshot.state == RunState::Paused
            && snapshot.workers.iter().all(|w| w.state != WorkerState::Running);
        let settled = previous
            .take()
            .is_some_and(|before| before.completed == snapshot.completed);
        if parked && settled {
            return Some(snapshot);
        }
        previous = parked.then_some(snapshot);
        None
    });
    // Watch the paused run for a while (its own clock, not the test's sleep, says how long).
    let later = wait_for("100 ms of the paused run", || {
        let snapshot = run.snapshot();
        (snapshot.elapsed >= frozen.elapsed + Duration::from_millis(100)).then_some(snapshot)
    });
    assert_eq!(
        frozen.submitted, later.submitted,
        "submission continued while paused"
    );
    assert_eq!(frozen.completed, later.completed, "work continued while paused");
    assert_eq!(frozen.active, later.active, "pause time counted as active");
    run.resume();
    wait_until("progress after resume", || {
        run.snapshot().completed > later.completed
    });
    run.halt_now();
    let report = run.wait();
    assert_invariant(&report, &search.seen());
}

#[test]
fn workers_grow_and_shrink_without_losing_tasks() {
    let search = Recorder::new(10_000, &[], 300);
    let run = Run::start(search.clone(), &config(1, HaltPolicy::Never));
    let running = || {
        run.snapshot()
            .workers
            .iter()
            .filter(|w| w.state != poolwatch::WorkerState::Stopped)
            .count()
    };
    wait_until("the first completed task", || run.snapshot().completed > 0);
    run.set_workers(4);
    wait_until("4 workers after growing", || running() == 4);
    run.set_workers(2);
    wait_until("2 workers after shrinking", || running() == 2);
    let (_, report) = drain(&run);
    assert_eq!(report.completed, 10_000);
    let mut seen = search.seen();
    seen.sort_unstable();
    assert_eq!(seen, (0..10_000).collect::<Vec<_>>());
}

#[test]
fn a_panicking_task_is_an_error_and_the_worker_goes_on() {
    let mut search = Recorder::new(500, &[], 0);
    Arc::get_mut(&mut search).unwrap().panic_on = Some(42);
    let run = Run::start(search.clone(), &config(2, HaltPolicy::Never));
    let (events, report) = drain(&run);
    assert_eq!(report.errors, 1);
    assert_eq!(report.completed, 500);
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Error { task: 42, message, .. } if message.contains("exploded")))
    );
}

#[test]
fn tight_batches_count_every_id_once() {
    let search = Arc::new(Needle {
        tasks: 5_000_000,
        needle: 1_234_567,
        sleep: Duration::ZERO,
    });
    let run = Run::start(search, &config(2, HaltPolicy::Never));
    let (events, report) = drain(&run);
    assert_eq!(report.reason, HaltReason::Exhausted);
    assert_eq!(report.completed, 5_000_000);
    assert_eq!(report.cancelled, 0);
    let found = matched_tasks(&events);
    assert_eq!(found, vec![1_234_567]);
    // Every id lands in its coverage bucket exactly once.
    let snapshot = run.snapshot();
    for (index, &count) in snapshot.coverage.iter().enumerate() {
        let (start, end) = snapshot.coverage_span(index);
        assert_eq!(count, end - start, "bucket {index}");
    }
}

#[test]
fn memory_channel_stays_bounded_for_a_huge_space() {
    // 10^12 ids: a queue per task would exhaust memory; batches over a bounded channel do not.
    let calls = Arc::new(AtomicU64::new(0));
    struct Huge(Arc<AtomicU64>);
    impl Search for Huge {
        fn name(&self) -> &str {
            "huge"
        }
        fn params(&self) -> String {
            String::new()
        }
        fn space(&self) -> u64 {
            1_000_000_000_000
        }
        fn run(&self, task: u64, _: &CancelToken) -> Outcome {
            self.0.fetch_add(1, Ordering::Relaxed);
            if task == 20_000 {
                Outcome::Match {
                    value: String::new(),
                    score: None,
                }
            } else {
                Outcome::Miss
            }
        }
    }
    let run = Run::start(Arc::new(Huge(calls.clone())), &config(2, HaltPolicy::Now));
    let report = run.wait();
    assert_eq!(report.reason, HaltReason::Match);
    assert!(report.submitted < 10_000_000, "submitted {}", report.submitted);
    assert_eq!(calls.load(Ordering::Relaxed), report.completed);
}

#[test]
fn user_halt_soon_lets_running_tasks_complete_and_drops_the_queue() {
    let search = Recorder::new(10_000, &[], 100_000);
    let run = Run::start(search.clone(), &config(3, HaltPolicy::Never));
    wait_until("all three workers inside their first (100 ms) task", || {
        search.seen().len() >= 3
    });
    run.halt_soon();
    let report = run.wait();
    assert_eq!(report.reason, HaltReason::User);
    let seen = search.seen();
    // The three tasks that were running when the halt came slept their full 100 ms and completed.
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert_eq!(report.completed, 3);
    assert_eq!(report.completed + report.cancelled, report.submitted);
    assert!(report.elapsed >= Duration::from_millis(100));
}

#[test]
fn many_panics_inside_one_batch_are_each_an_error_and_nothing_is_skipped() {
    let needle = Arc::new(Needle {
        tasks: 10_000,
        needle: 9_999,
        sleep: Duration::ZERO,
    });
    let search = Arc::new(poolwatch::search::PanicEvery {
        inner: needle,
        every: 7,
    });
    let run = Run::start(search, &config(2, HaltPolicy::Never));
    let (events, report) = drain(&run);
    assert_eq!(report.completed, 10_000);
    assert_eq!(report.errors, 10_000 / 7);
    let failed = failed_tasks(&events);
    assert_eq!(failed, (1..=10_000 / 7).map(|k| k * 7 - 1).collect::<Vec<_>>());
    assert!(run.snapshot().batch_size > 7, "the panics shared batches");
}

#[test]
fn pause_and_resume_racing_from_two_threads_never_strand_a_worker() {
    // A per-task search (not tight batches) with a space far too big to finish.
    let needle = Arc::new(Needle {
        tasks: 1 << 40,
        needle: 0,
        sleep: Duration::ZERO,
    });
    let search = Arc::new(poolwatch::search::PanicEvery {
        inner: needle,
        every: u64::MAX,
    });
    let run = Arc::new(Run::start(search, &config(2, HaltPolicy::Never)));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let resumer = {
        let (run, stop) = (Arc::clone(&run), Arc::clone(&stop));
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                if run.is_paused() {
                    run.resume();
                }
            }
        })
    };
    let started = Instant::now();
    let mut pairs = 0u64;
    let mut stranded = Vec::new();
    while started.elapsed() < Duration::from_secs(3) && stranded.is_empty() {
        run.pause();
        while run.is_paused() {
            std::hint::spin_loop();
        }
        pairs += 1;
        if pairs.is_multiple_of(500) {
            // A lost wake-up shows as a worker parked in Paused while the run is not paused;
            // one only slow to wake (a loaded machine) gets a generous deadline: a lost one stays lost.
            stranded = still_parked_while_running(&run);
        }
    }
    stop.store(true, Ordering::Relaxed);
    resumer.join().unwrap();
    assert!(
        stranded.is_empty(),
        "after {pairs} pause/resume pairs, parked while not paused: {stranded:?}"
    );
    run.halt_now();
}

/// The workers parked in Paused although the run is not paused.
fn parked_while_running(run: &Run) -> Vec<poolwatch::WorkerRow> {
    let snapshot = run.snapshot();
    if run.is_paused() {
        return Vec::new();
    }
    snapshot
        .workers
        .into_iter()
        .filter(|w| w.state == WorkerState::Paused)
        .collect()
}

/// [`parked_while_running`] once every worker had [`PATIENCE`] to wake: empty unless a wake-up was lost.
fn still_parked_while_running(run: &Run) -> Vec<poolwatch::WorkerRow> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let stranded = parked_while_running(run);
        if stranded.is_empty() || Instant::now() >= deadline {
            return stranded;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// A search whose odd ids give up as if cancelled; `.0` picks tight batches.
struct HalfGivesUp(bool);

impl Search for HalfGivesUp {
    fn name(&self) -> &str {
        "half"
    }
    fn params(&self) -> String {
        String::new()
    }
    fn space(&self) -> u64 {
        100_000
    }
    fn run(&self, task: u64, _: &CancelToken) -> Outcome {
        if task % 2 == 1 {
            Outcome::Cancelled
        } else {
            Outcome::Miss
        }
    }
    fn tight_batches(&self) -> bool {
        self.0
    }
}

#[test]
fn tasks_that_give_up_count_as_cancelled_and_not_as_coverage() {
    for tight in [true, false] {
        let run = Run::start(Arc::new(HalfGivesUp(tight)), &config(2, HaltPolicy::Never));
        let report = run.wait();
        assert_eq!(report.completed, 50_000, "tight {tight}");
        assert_eq!(report.cancelled, 50_000, "tight {tight}");
        let snapshot = run.snapshot();
        for (index, &count) in snapshot.coverage.iter().enumerate() {
            let (start, end) = snapshot.coverage_span(index);
            assert_eq!(
                count,
                (end - start) / 2 + (end - start) % 2 * u64::from(start % 2 == 0),
                "tight {tight}"
            );
        }
    }
}
