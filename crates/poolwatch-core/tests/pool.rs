//! Engine tests with real threads: halting, policies, controls, panics and the accounting invariant.
#![allow(
    clippy::unwrap_used,
    reason = "a failed unwrap here is a failed test, with its message"
)]

use poolwatch_core::Outcome;
use poolwatch_core::Search;
use poolwatch_core::search::Needle;
use poolwatch_core::{
    CancelToken, Event, HaltPolicy, HaltReason, Run, RunConfig, RunReport, RunState, WorkerState,
};
use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod support;
use support::{PATIENCE, wait_for, wait_until};

/// A search that records every id it runs, sleeps a little, and matches a set of ids.
struct Recorder {
    tasks: u64,
    matches: HashSet<u64>,
    sleep: Duration,
    seen: Mutex<Vec<u64>>,
    panic_on: Option<u64>,
    /// Matching tasks skip the sleep (the others are under way when one matches).
    fast_matches: bool,
    /// While set, every task waits (waking on cancel) before its sleep: the test lets them go.
    hold: std::sync::atomic::AtomicBool,
}

impl Recorder {
    fn new(tasks: u64, matches: &[u64], sleep_us: u64) -> Arc<Self> {
        Arc::new(Self {
            tasks,
            matches: matches.iter().copied().collect(),
            sleep: Duration::from_micros(sleep_us),
            seen: Mutex::new(Vec::new()),
            panic_on: None,
            fast_matches: false,
            hold: std::sync::atomic::AtomicBool::new(false),
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
        while self.hold.load(Ordering::SeqCst) {
            if cancel.sleep(Duration::from_millis(1)) {
                return Outcome::Cancelled;
            }
        }
        let sleeps = !(self.fast_matches && self.matches.contains(&task));
        if sleeps && !self.sleep.is_zero() && cancel.sleep(self.sleep) {
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
/// [`drain`], and the largest batch size seen while the run went on (the last batches of a
/// closed space are small: the tail is shared out id by id).
fn drain_watching_batches(run: &Run) -> (Vec<Event>, RunReport, u64) {
    std::thread::scope(|scope| {
        let watcher = scope.spawn(|| {
            let mut largest = 0;
            while run.report().is_none() {
                largest = largest.max(run.snapshot().batch_size);
                std::thread::yield_now();
            }
            largest
        });
        let (events, report) = drain(run);
        (events, report, watcher.join().unwrap())
    })
}

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
        report.counters.completed
            + report.counters.cancelled
            + (report.counters.total - report.counters.submitted),
        report.counters.total
    );
    assert!(report.counters.completed <= seen.len() as u64);
}

#[test]
fn first_match_halts_now_and_cancels_the_rest() {
    // Ids go out one a batch at first: 0, 1 and 2 sleep 10 s on three workers, so the match
    // at 3 falls on the fourth while they are under way, however the threads are scheduled.
    let search = Arc::new(Recorder {
        fast_matches: true,
        ..Arc::into_inner(Recorder::new(100_000, &[3], 10_000_000)).unwrap()
    });
    let run = Run::start(search.clone(), &config(4, HaltPolicy::Now));
    let (events, report) = drain(&run);
    assert_eq!(report.reason, HaltReason::Match);
    assert_eq!(report.counters.matches, 1);
    assert!(
        report.counters.submitted < report.counters.total,
        "queued work was not dropped"
    );
    // Speed is the benches' business: here work under way or queued was cut, none began after.
    assert!(report.halt_latency.is_some());
    assert!(
        report.counters.cancelled >= 3,
        "the tasks under way were not cut short"
    );
    assert_eq!(report.counters.started_after_halt, 0);
    assert!(events.iter().any(|e| matches!(e, Event::Match { task: 3, .. })));
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
    assert_eq!(report.counters.completed, 2_000);
    assert_eq!(report.counters.cancelled, 0);
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
    assert!(report.counters.matches >= 3);
    assert!(report.counters.completed < 40_000);
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
        report.counters.completed,
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
    assert_eq!(report.counters.completed, 0);
    assert_eq!(
        report.counters.completed + report.counters.cancelled,
        report.counters.submitted
    );
}

#[test]
fn pause_stops_submission_and_resume_continues() {
    let search = Recorder::new(5_000, &[], 500);
    let run = Run::start(search.clone(), &config(2, HaltPolicy::Now));
    wait_until("the first completed task", || {
        run.snapshot().counters.completed > 0
    });
    run.pause();
    // Parked: no worker running a task on two looks in a row (one may wait Idle on an empty queue).
    let mut previous: Option<poolwatch_core::Snapshot> = None;
    let frozen = wait_for("both workers parked", || {
        let snapshot = run.snapshot();
        let parked = snapshot.state == RunState::Paused
            && snapshot.workers.iter().all(|w| w.state != WorkerState::Running);
        let settled = previous
            .take()
            .is_some_and(|before| before.counters.completed == snapshot.counters.completed);
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
        frozen.counters.submitted, later.counters.submitted,
        "submission continued while paused"
    );
    assert_eq!(
        frozen.counters.completed, later.counters.completed,
        "work continued while paused"
    );
    assert_eq!(frozen.active, later.active, "pause time counted as active");
    run.resume();
    wait_until("progress after resume", || {
        run.snapshot().counters.completed > later.counters.completed
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
            .filter(|w| w.state != poolwatch_core::WorkerState::Stopped)
            .count()
    };
    wait_until("the first completed task", || {
        run.snapshot().counters.completed > 0
    });
    run.set_workers(4);
    wait_until("4 workers after growing", || running() == 4);
    run.set_workers(2);
    wait_until("2 workers after shrinking", || running() == 2);
    let (_, report) = drain(&run);
    assert_eq!(report.counters.completed, 10_000);
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
    assert_eq!(report.counters.errors, 1);
    assert_eq!(report.counters.completed, 500);
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
    assert_eq!(report.counters.completed, 5_000_000);
    assert_eq!(report.counters.cancelled, 0);
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
    assert!(
        report.counters.submitted < 10_000_000,
        "submitted {}",
        report.counters.submitted
    );
    assert_eq!(calls.load(Ordering::Relaxed), report.counters.completed);
}

#[test]
fn user_halt_soon_lets_running_tasks_complete_and_drops_the_queue() {
    // Each task waits until the test lets it go: all three are under way at the halt, however
    // late this thread gets to halt (a fixed-length task could end first and a fourth begin).
    let search = Recorder::new(10_000, &[], 0);
    search.hold.store(true, Ordering::SeqCst);
    let run = Run::start(search.clone(), &config(3, HaltPolicy::Never));
    wait_until("all three workers inside their first task", || {
        search.seen().len() >= 3
    });
    run.halt_soon();
    search.hold.store(false, Ordering::SeqCst);
    let report = run.wait();
    assert_eq!(report.reason, HaltReason::User);
    let seen = search.seen();
    // The three tasks that were running when the halt came ran on after it and completed
    // (a task woken by a cancel would count as cancelled).
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert_eq!(report.counters.completed, 3);
    assert_eq!(
        report.counters.completed + report.counters.cancelled,
        report.counters.submitted
    );
}

#[test]
fn many_panics_inside_one_batch_are_each_an_error_and_nothing_is_skipped() {
    let needle = Arc::new(Needle {
        tasks: 70_000,
        needle: 69_999,
        sleep: Duration::ZERO,
    });
    let search = Arc::new(poolwatch_core::search::PanicEvery {
        inner: needle,
        every: 7,
    });
    let run = Run::start(search, &config(2, HaltPolicy::Never));
    let (events, report, largest_batch) = drain_watching_batches(&run);
    assert_eq!(report.counters.completed, 70_000);
    assert_eq!(report.counters.errors, 70_000 / 7);
    let failed = failed_tasks(&events);
    assert_eq!(failed, (1..=70_000 / 7).map(|k| k * 7 - 1).collect::<Vec<_>>());
    assert!(largest_batch > 7, "the panics shared batches");
}

#[test]
fn pause_and_resume_racing_from_two_threads_never_strand_a_worker() {
    // A per-task search (not tight batches) with a space far too big to finish.
    let needle = Arc::new(Needle {
        tasks: 1 << 40,
        needle: 0,
        sleep: Duration::ZERO,
    });
    let search = Arc::new(poolwatch_core::search::PanicEvery {
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
fn parked_while_running(run: &Run) -> Vec<poolwatch_core::WorkerRow> {
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
fn still_parked_while_running(run: &Run) -> Vec<poolwatch_core::WorkerRow> {
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
        assert_eq!(report.counters.completed, 50_000, "tight {tight}");
        assert_eq!(report.counters.cancelled, 50_000, "tight {tight}");
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

/// Tasks that sleep `sleep_us` (waking on cancel); `fail_every`/`match_every` pick errors and matches.
struct Sleepy {
    tasks: u64,
    sleep_us: u64,
    fail_every: u64,
    match_every: u64,
    panic_every: u64,
    /// Ids whose task ran to an outcome (cancelled ones left out; panics included).
    outcomes: Mutex<Vec<u64>>,
}

impl Sleepy {
    fn new(tasks: u64, sleep_us: u64) -> Self {
        Self {
            tasks,
            sleep_us,
            fail_every: 0,
            match_every: 0,
            panic_every: 0,
            outcomes: Mutex::new(Vec::new()),
        }
    }

    fn outcomes(&self) -> Vec<u64> {
        let mut ids = self.outcomes.lock().unwrap().clone();
        ids.sort_unstable();
        ids
    }
}

impl Search for Sleepy {
    fn name(&self) -> &str {
        "sleepy"
    }
    fn params(&self) -> String {
        String::new()
    }
    fn space(&self) -> u64 {
        self.tasks
    }
    fn run(&self, task: u64, cancel: &CancelToken) -> Outcome {
        if self.sleep_us > 0 && cancel.sleep(Duration::from_micros(self.sleep_us)) {
            return Outcome::Cancelled;
        }
        self.outcomes.lock().unwrap().push(task);
        let every = |n: u64| n > 0 && task % n == n - 1;
        if every(self.panic_every) {
            panic!("task {task} exploded");
        }
        if every(self.fail_every) {
            Outcome::Error(format!("task {task} failed"))
        } else if every(self.match_every) {
            Outcome::Match {
                value: task.to_string(),
                score: None,
            }
        } else {
            Outcome::Miss
        }
    }
}

fn busy_of(run: &Run, worker: usize) -> f64 {
    run.snapshot().workers[worker].busy
}

/// Waits until the run is `work` old and ten times as old as it was when the last of its
/// workers began its first batch: the start-up a loaded machine drags out then weighs a
/// tenth of the workers' lives at most.
fn wait_for_work(run: &Run, work: Duration) {
    let begun = wait_for("every worker's first batch", || {
        let begun = run
            .snapshot()
            .workers
            .iter()
            .all(|w| w.state == WorkerState::Running || w.done > 0);
        begun.then(|| run.elapsed())
    });
    wait_until("the work", || run.elapsed() >= work.max(begun * 10));
}

#[test]
fn busy_counts_the_task_a_worker_is_inside() {
    // One 30 s task: the worker is inside it from the start, asleep.
    let run = Run::start(
        Arc::new(Sleepy::new(1, 30_000_000)),
        &config(1, HaltPolicy::Never),
    );
    // The thread starts a little after the run (later on a loaded machine): once the task has
    // run nine times as long as the run went on before it, 90% of the worker's life is in it.
    wait_until(
        "the task to run 300 ms, and 9 times as long as the run before it",
        || {
            let snapshot = run.snapshot();
            let on_task = snapshot.workers[0].on_task_for;
            let before = snapshot.elapsed.saturating_sub(on_task);
            on_task >= Duration::from_millis(300) && on_task >= before * 9
        },
    );
    let busy = busy_of(&run, 0);
    assert!(busy > 0.8, "a worker inside a task all along shows {busy}");
    run.halt_now();
}

#[test]
fn busy_of_an_added_worker_counts_from_its_start() {
    // Counted from its start, a worker flat out since it was added shows near 1; counted from
    // the run's start, at most a quarter (it lives a third as long as the run before it). The
    // time a loaded machine takes to bring the new thread to its first batch counts against
    // it too: an attempt where that took over a tenth of its life says nothing, and is run
    // again (the last attempt is asserted whatever it took).
    const ATTEMPTS: u32 = 5;
    for attempt in 1..=ATTEMPTS {
        let search = Arc::new(Sleepy::new(u64::MAX / 2, 1_000));
        let run = Run::start(search, &config(1, HaltPolicy::Never));
        wait_until("the run to be 600 ms old", || {
            run.elapsed() >= Duration::from_millis(600)
        });
        let added_at = run.elapsed();
        run.set_workers(2);
        let first_batch = wait_for("the new worker's first batch", || {
            let workers = run.snapshot().workers;
            let started =
                workers.len() == 2 && (workers[1].state == WorkerState::Running || workers[1].done > 0);
            started.then(|| run.elapsed() - added_at)
        });
        wait_until("the new worker to live a third as long", || {
            run.elapsed() >= added_at + added_at / 3
        });
        let busy = busy_of(&run, 1);
        let life = run.elapsed() - added_at;
        run.halt_now();
        if first_batch * 10 > life && attempt < ATTEMPTS {
            continue;
        }
        assert!(
            busy > 0.6,
            "a worker flat out since it was added shows {busy} (attempt {attempt}, first batch \
             {first_batch:?} after it was added, {life:?} before the look)"
        );
        return;
    }
}

#[test]
fn pause_time_is_not_idle_time() {
    let run = Run::start(
        Arc::new(Sleepy::new(u64::MAX / 2, 1_000)),
        &config(1, HaltPolicy::Never),
    );
    wait_for_work(&run, Duration::from_millis(200));
    run.pause();
    wait_until("the worker to park", || {
        run.snapshot().workers[0].state == WorkerState::Paused
    });
    let active = run.snapshot().active;
    wait_until("a pause three times as long as the work", || {
        let snapshot = run.snapshot();
        snapshot.elapsed - snapshot.active >= active * 3
    });
    let busy = busy_of(&run, 0);
    assert!(busy > 0.6, "a worker flat out until the pause shows {busy}");
    run.halt_now();
}

#[test]
fn a_stopped_worker_keeps_the_busy_share_of_its_life() {
    let run = Run::start(
        Arc::new(Sleepy::new(u64::MAX / 2, 1_000)),
        &config(2, HaltPolicy::Never),
    );
    wait_for_work(&run, Duration::from_millis(300));
    run.set_workers(1);
    wait_until("one worker to retire", || {
        run.snapshot()
            .workers
            .iter()
            .any(|w| w.state == WorkerState::Stopped)
    });
    let retired_at = run.elapsed();
    let retired = run
        .snapshot()
        .workers
        .iter()
        .position(|w| w.state == WorkerState::Stopped)
        .unwrap();
    wait_until("the run to last three times as long", || {
        run.elapsed() >= retired_at * 3
    });
    let busy = busy_of(&run, retired);
    assert!(busy > 0.6, "a worker flat out until it retired shows {busy}");
    run.halt_now();
    let report = run.wait();
    let after = run.snapshot().workers;
    // After the halt: the worker that was flat out stays near 1, none is above 1.
    assert!(after.iter().all(|w| w.busy <= 1.0), "{after:?}");
    assert_eq!(report.reason, HaltReason::User);
}

/// Two threads spinning until dropped: a machine with no spare CPU.
struct CpuHog {
    stop: Arc<std::sync::atomic::AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl CpuHog {
    fn start(threads: usize) -> Self {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let threads = (0..threads)
            .map(|_| {
                let stop = Arc::clone(&stop);
                std::thread::spawn(move || {
                    let mut x = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
                    }
                })
            })
            .collect();
        Self { stop, threads }
    }
}

impl Drop for CpuHog {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            thread.join().unwrap();
        }
    }
}

#[test]
fn no_task_starts_after_a_visible_halt_under_load() {
    let _hog = CpuHog::start(2);
    let needle = Needle {
        tasks: 20_000,
        needle: 300,
        sleep: Duration::from_millis(1),
    };
    let search: Arc<dyn Search> = Arc::new(needle);
    let mut late = Vec::new();
    for run_index in 0..100 {
        let policy = if run_index % 2 == 0 {
            HaltPolicy::Now
        } else {
            HaltPolicy::Soon
        };
        let report = Run::start(Arc::clone(&search), &config(10, policy)).wait();
        assert_eq!(report.reason, HaltReason::Match);
        if report.counters.started_after_halt != 0 {
            late.push((run_index, report.counters.started_after_halt));
        }
    }
    assert!(
        late.is_empty(),
        "runs with tasks started after the halt: {late:?}"
    );
}

/// Expands ranges into the ids they hold.
fn ids_of(ranges: &[(u64, u64)]) -> Vec<u64> {
    ranges.iter().flat_map(|&(start, end)| start..end).collect()
}

#[test]
fn completed_ranges_are_exactly_the_tasks_that_ran_to_an_outcome() {
    let mut sleepy = Sleepy::new(200_000, 300);
    sleepy.panic_every = 97;
    sleepy.fail_every = 41;
    let search = Arc::new(sleepy);
    let run = Run::start(search.clone(), &config(3, HaltPolicy::Never));
    wait_until("some work", || run.snapshot().counters.completed >= 200);
    run.pause();
    wait_until("the pause to settle", || {
        run.snapshot()
            .workers
            .iter()
            .all(|w| w.state != WorkerState::Running)
    });
    let paused_ranges = run.completed_ranges();
    assert_eq!(ids_of(&paused_ranges), search.outcomes(), "while paused");
    run.set_workers(6);
    run.resume();
    wait_until("more work", || run.snapshot().counters.completed >= 600);
    run.set_workers(2);
    wait_until("still more work", || run.snapshot().counters.completed >= 900);
    let live = run.completed_ranges();
    assert!(
        live.len() <= 2 * 8 + 2,
        "the range list stays short: {} ranges",
        live.len()
    );
    run.halt_now();
    let report = run.wait();
    let ranges = run.completed_ranges();
    assert!(
        ranges.windows(2).all(|w| w[0].1 < w[1].0),
        "merged and ordered: {ranges:?}"
    );
    assert_eq!(ids_of(&ranges), search.outcomes());
    assert_eq!(ids_of(&ranges).len() as u64, report.counters.completed);
    assert!(report.counters.errors > 0, "panics and failures happened");
}

#[test]
fn a_resumed_run_skips_the_done_ranges_and_reports_them() {
    let search = Arc::new(Sleepy::new(5_000, 0));
    let done = vec![(0, 1_000), (2_000, 2_500), (4_990, 6_000)];
    let config = config(2, HaltPolicy::Never).with_done(done.clone());
    let run = Run::start(search.clone(), &config);
    let report = run.wait();
    let ran = search.outcomes();
    assert!(
        ran.iter()
            .all(|id| !done.iter().any(|&(s, e)| (s..e).contains(id)))
    );
    assert_eq!(ran.len(), 5_000 - 1_000 - 500 - 10);
    assert_eq!(report.counters.done_before, 1_510);
    assert_eq!(report.counters.completed, 3_490);
    assert_eq!(report.reason, HaltReason::Exhausted);
    assert_eq!(run.completed_ranges(), vec![(0, 6_000)]);
    assert_eq!(run.snapshot().remaining(), 0);
    assert_eq!(run.snapshot().coverage.iter().sum::<u64>(), 5_000);
}

#[test]
fn skip_and_limit_cover_exactly_their_window() {
    let search = Arc::new(Sleepy::new(5_000, 0));
    let config = config(3, HaltPolicy::Never).with_skip(1_234).with_limit(2_000);
    let run = Run::start(search.clone(), &config);
    let report = run.wait();
    assert_eq!(search.outcomes(), (1_234..3_234).collect::<Vec<_>>());
    assert_eq!(report.counters.total, 2_000);
    assert_eq!(report.counters.completed, 2_000);
    assert_eq!(run.completed_ranges(), vec![(1_234, 3_234)]);
    let snapshot = run.snapshot();
    assert_eq!(snapshot.coverage.iter().sum::<u64>(), 2_000);
    // A window past the end of the space is cut at the end.
    let search = Arc::new(Sleepy::new(100, 0));
    let report = Run::start(search.clone(), &RunConfig::default().with_skip(90).with_limit(50)).wait();
    assert_eq!(report.counters.total, 10);
    assert_eq!(search.outcomes(), (90..100).collect::<Vec<_>>());
}

/// Runs `search` under `policy` (text) with 2 workers; returns the report.
fn run_policy(search: Sleepy, policy: &str, window: Option<u64>) -> RunReport {
    let policy: HaltPolicy = policy.parse().unwrap();
    let mut config = config(2, policy);
    if let Some(limit) = window {
        config = config.with_limit(limit);
    }
    Run::start(Arc::new(search), &config).wait()
}

#[test]
fn every_halt_form_halts_on_its_count() {
    let failing = || {
        let mut search = Sleepy::new(2_000, 200);
        search.fail_every = 10;
        search
    };
    let matching = || {
        let mut search = Sleepy::new(2_000, 200);
        search.match_every = 10;
        search
    };
    for (policy, search, window, reason, count_of, at_least) in [
        ("now,fail=3", failing(), None, HaltReason::Fail, 0, 3),
        ("soon,fail=3", failing(), None, HaltReason::Fail, 0, 3),
        ("now,fail=5%", failing(), Some(1_000), HaltReason::Fail, 0, 50),
        ("now,success=2", matching(), None, HaltReason::After, 1, 2),
        ("soon,success=2", matching(), None, HaltReason::After, 1, 2),
        ("soon,success=1%", matching(), None, HaltReason::After, 1, 20),
        ("now,done=50", matching(), None, HaltReason::Done, 2, 50),
        ("soon,done=50", failing(), None, HaltReason::Done, 2, 50),
        (
            "now,done=5%",
            Sleepy::new(2_000, 200),
            Some(1_000),
            HaltReason::Done,
            2,
            50,
        ),
    ] {
        let report = run_policy(search, policy, window);
        let counters = report.counters;
        let count = [counters.errors, counters.matches, counters.completed][count_of];
        assert_eq!(report.reason, reason, "{policy}: {report:?}");
        assert!(count >= at_least, "{policy}: {count} < {at_least}");
        assert!(count < at_least + 10, "{policy}: halted late at {count}");
        assert!(counters.completed < counters.total, "{policy}: it halted early");
    }
    // Policies that never reach their count run everything.
    let report = run_policy(Sleepy::new(300, 0), "now,fail=1", None);
    assert_eq!(report.reason, HaltReason::Exhausted);
    assert_eq!(report.counters.completed, 300);
}

/// Tasks of `run` alone, a few nanoseconds each: the engine runs them in its short-task loop.
fn short_needle(tasks: u64, needle: u64, panic_every: Option<u64>) -> Arc<dyn Search> {
    let search = poolwatch_core::search::from_fn(tasks, move |id, _| {
        if panic_every.is_some_and(|every| (id + 1) % every == 0) {
            panic!("task {id} exploded");
        }
        if std::hint::black_box(id) == needle {
            Outcome::Match {
                value: id.to_string(),
                score: None,
            }
        } else {
            Outcome::Miss
        }
    });
    Arc::new(search)
}

#[test]
fn short_tasks_pin_each_panic_on_its_task_and_skip_nothing() {
    let tasks = 3_000_000;
    let run = Run::start(
        short_needle(tasks, u64::MAX, Some(100_003)),
        &config(2, HaltPolicy::Never),
    );
    let (events, report, largest_batch) = drain_watching_batches(&run);
    assert!(largest_batch > 64, "batches long enough for the short-task loop");
    assert_eq!(report.counters.completed, tasks);
    assert_eq!(report.counters.cancelled, 0);
    let expected: Vec<u64> = (1..=tasks / 100_003).map(|k| k * 100_003 - 1).collect();
    assert_eq!(failed_tasks(&events), expected);
    assert_eq!(run.completed_ranges(), vec![(0, tasks)]);
}

#[test]
fn one_worker_starts_no_short_task_after_the_halting_match() {
    for policy in [HaltPolicy::Now, HaltPolicy::Soon] {
        let run = Run::start(short_needle(50_000_000, 25_000_000, None), &config(1, policy));
        let (events, report, largest_batch) = drain_watching_batches(&run);
        assert!(largest_batch > 64, "{policy:?}: short-task loop");
        assert_eq!(matched_tasks(&events), vec![25_000_000], "{policy:?}");
        // The match halts the run inside the loop: the next id never starts.
        assert_eq!(report.counters.completed, 25_000_001, "{policy:?}");
        assert_eq!(run.completed_ranges(), vec![(0, 25_000_001)], "{policy:?}");
    }
}

/// A tight search whose loop panics at one id: which ids of that chunk ran is unknown.
struct TightPanics {
    at: u64,
}

impl Search for TightPanics {
    fn name(&self) -> &str {
        "tight-panics"
    }
    fn params(&self) -> String {
        String::new()
    }
    fn space(&self) -> u64 {
        1_000_000
    }
    fn run(&self, _: u64, _: &CancelToken) -> Outcome {
        Outcome::Miss
    }
    fn tight_batches(&self) -> bool {
        true
    }
    fn run_batch(
        &self,
        tasks: std::ops::Range<u64>,
        _: &CancelToken,
        _: &mut dyn FnMut(u64, Outcome),
    ) -> u64 {
        assert!(!tasks.contains(&self.at), "loop exploded");
        tasks.end - tasks.start
    }
}

#[test]
fn a_panic_in_a_tight_loop_leaves_its_chunk_to_be_run_again() {
    let run = Run::start(
        Arc::new(TightPanics { at: 700_000 }),
        &config(2, HaltPolicy::Never),
    );
    let (events, report) = drain(&run);
    let failed = failed_tasks(&events);
    assert_eq!(failed.len(), 1, "one error for the chunk");
    let ranges = run.completed_ranges();
    assert_eq!(ranges.len(), 2, "one hole: {ranges:?}");
    let hole = ranges[0].1..ranges[1].0;
    assert!(hole.contains(&700_000), "the hole holds the panic: {ranges:?}");
    assert_eq!(hole.start, failed[0], "the error names the chunk's first id");
    assert_eq!(report.counters.cancelled, hole.end - hole.start);
    assert_eq!(report.counters.completed, 1_000_000 - report.counters.cancelled);
}

#[test]
fn the_last_ids_of_a_closed_space_go_out_one_by_one() {
    let search = Recorder::new(400_000, &[], 0);
    let run = Run::start(search.clone(), &config(2, HaltPolicy::Never));
    let (_, report, largest_batch) = drain_watching_batches(&run);
    assert_eq!(report.counters.completed, 400_000);
    assert!(
        largest_batch > 16,
        "batches grew with short tasks: {largest_batch}"
    );
    assert_eq!(
        run.snapshot().batch_size,
        1,
        "the tail is shared out in single ids"
    );
}

#[test]
fn hundreds_of_workers_run_every_id_once_and_halt_on_the_needle() {
    let search = Arc::new(Sleepy::new(20_000, 100));
    let run = Run::start(search.clone(), &config(512, HaltPolicy::Never));
    let report = run.wait();
    assert_eq!(report.counters.completed, 20_000);
    assert_eq!(search.outcomes(), (0..20_000).collect::<Vec<_>>());
    assert_eq!(run.completed_ranges(), vec![(0, 20_000)]);

    let needle = Recorder::new(20_000, &[19_999], 100);
    let run = Run::start(needle, &config(512, HaltPolicy::Now));
    let (events, report) = drain(&run);
    assert_eq!(matched_tasks(&events), vec![19_999]);
    let (halt, exit) = (report.halt_latency.unwrap(), report.exit_latency.unwrap());
    assert!(
        halt <= exit,
        "tasks stop before the last thread leaves: {halt:?} {exit:?}"
    );
}

#[test]
fn a_halt_with_no_task_under_way_has_no_latency() {
    let run = Run::start(
        Recorder::new(1_000_000, &[], 1_000),
        &config(4, HaltPolicy::Never),
    );
    wait_until("some work", || run.snapshot().counters.completed >= 8);
    run.pause();
    wait_until("every worker paused", || {
        run.snapshot()
            .workers
            .iter()
            .all(|w| w.state == WorkerState::Paused)
    });
    run.halt_now();
    let report = run.wait();
    assert_eq!(report.halt_latency, Some(Duration::ZERO));
    assert!(report.exit_latency.is_some());
}

#[test]
fn tiny_runs_never_take_the_end_of_submission_for_an_empty_queue() {
    // The submitter sends a few ids and closes the queue at once: a worker that looked at
    // the queue before the send and at "closed" after it would end with the ids unrun.
    // With many workers to start, the submitter may be done before the first one exists.
    for (workers, rounds) in [(2, 1000), (64, 30)] {
        for round in 0..rounds {
            let search = Recorder::new(4, &[], 0);
            let report = Run::start(search.clone(), &config(workers, HaltPolicy::Never)).wait();
            assert_eq!(report.counters.completed, 4, "{workers} workers, round {round}");
            assert_eq!(report.counters.cancelled, 0, "{workers} workers, round {round}");
        }
    }
}

/// Task 0 runs until released (or cancelled: a halt soon never cancels it, but a failed
/// assertion's unwinding halts now and must not wait on it forever); every other task is
/// instant.
#[derive(Default)]
struct OneLong {
    release: std::sync::atomic::AtomicBool,
}
impl Search for OneLong {
    fn name(&self) -> &str {
        "one-long"
    }
    fn params(&self) -> String {
        String::new()
    }
    fn space(&self) -> u64 {
        10_000_000
    }
    fn run(&self, task: u64, cancel: &CancelToken) -> Outcome {
        if task == 0 {
            while !self.release.load(Ordering::SeqCst) {
                if cancel.sleep(Duration::from_millis(1)) {
                    return Outcome::Cancelled;
                }
            }
        }
        Outcome::Miss
    }
}

/// shared.rs halt(): "Idle workers are woken once no batch is under way (by the worker that
/// ends the last one)". The submitter's exit at the halt rings them all anyway.
#[test]
fn idle_workers_stay_asleep_while_the_last_task_winds_down() {
    let search = Arc::new(OneLong::default());
    let run = Run::start(
        search.clone(),
        &RunConfig::default()
            .with_workers(16)
            .with_policy(HaltPolicy::Never),
    );
    let long_worker = wait_for("task 0 under way", || {
        let workers = run.snapshot().workers;
        workers.iter().find(|w| w.current_task == Some(0)).map(|w| w.id)
    });
    run.pause();
    wait_until("the other workers parked", || {
        run.snapshot()
            .workers
            .iter()
            .all(|w| w.id == long_worker || w.state == WorkerState::Paused)
    });
    // Paused is set just before a worker sleeps: give the last of them time to fall asleep.
    std::thread::sleep(Duration::from_millis(50));
    run.halt_soon();
    // Task 0 runs until released: however slow this thread, the halt waits on it meanwhile.
    std::thread::sleep(Duration::from_millis(300));
    let snap = run.snapshot();
    assert_eq!(
        snap.workers[long_worker].current_task,
        Some(0),
        "the long task is still running"
    );
    let stopped = snap
        .workers
        .iter()
        .filter(|w| w.state == WorkerState::Stopped)
        .count();
    search.release.store(true, Ordering::SeqCst);
    let report = run.wait();
    assert!(report.halt_latency.unwrap() >= Duration::from_millis(300));
    // Woken at the halt, all 15 would have left; one or two still awake when it came may leave.
    assert!(
        stopped <= 2,
        "{stopped} idle workers woke and left while a task was still winding down"
    );
}

/// An open space of one id: task 0 runs until released; the space is complete once told so.
#[derive(Default)]
struct OneIdThenEnd {
    complete: std::sync::atomic::AtomicBool,
    release: std::sync::atomic::AtomicBool,
}
impl Search for OneIdThenEnd {
    fn name(&self) -> &str {
        "one-id-then-end"
    }
    fn params(&self) -> String {
        String::new()
    }
    fn space(&self) -> u64 {
        1
    }
    fn open_space(&self) -> bool {
        true
    }
    fn extend_space(&self, _wanted: u64, wait: Duration) -> poolwatch_core::SpaceStatus {
        let complete = self.complete.load(Ordering::SeqCst);
        if !complete {
            std::thread::sleep(wait.min(Duration::from_millis(5)));
        }
        poolwatch_core::SpaceStatus {
            available: 1,
            complete,
            estimate: None,
        }
    }
    fn run(&self, _task: u64, _cancel: &CancelToken) -> Outcome {
        while !self.release.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(1));
        }
        Outcome::Miss
    }
}

/// shared.rs submitter_exited(): idle workers learn that submission is over once no batch is
/// under way; woken at once, they would go back to sleep until then.
#[test]
fn idle_workers_stay_asleep_when_submission_ends_under_a_running_batch() {
    let search = Arc::new(OneIdThenEnd::default());
    let run = Run::start(search.clone(), &config(16, HaltPolicy::Never));
    wait_until("task 0 under way and the other workers idle", || {
        let workers = run.snapshot().workers;
        workers.iter().any(|w| w.current_task == Some(0))
            && workers.iter().filter(|w| w.state == WorkerState::Idle).count() == 15
    });
    // Idle is set just before a worker sleeps: give the last of them time to fall asleep.
    std::thread::sleep(Duration::from_millis(50));
    search.complete.store(true, Ordering::SeqCst);
    wait_until("the space closed", || !run.snapshot().total_open);
    std::thread::sleep(Duration::from_millis(300));
    let stopped = run
        .snapshot()
        .workers
        .iter()
        .filter(|w| w.state == WorkerState::Stopped)
        .count();
    search.release.store(true, Ordering::SeqCst);
    // The worker ending the last batch wakes them: the run ends.
    let report = run.wait();
    assert_eq!(report.counters.completed, 1);
    // Woken at the end of submission, all 15 would have left; one or two still awake may.
    assert!(
        stopped <= 2,
        "{stopped} idle workers woke and left while the last batch was under way"
    );
}

/// An open space of 1,000 ids that records the ids the engine says it will hand out.
#[derive(Default)]
struct PlanListener {
    told: Mutex<Option<Vec<u64>>>,
}
impl Search for PlanListener {
    fn name(&self) -> &str {
        "plan-listener"
    }
    fn params(&self) -> String {
        String::new()
    }
    fn space(&self) -> u64 {
        1_000
    }
    fn open_space(&self) -> bool {
        true
    }
    fn extend_space(&self, _wanted: u64, _wait: Duration) -> poolwatch_core::SpaceStatus {
        poolwatch_core::SpaceStatus {
            available: 1_000,
            complete: true,
            estimate: None,
        }
    }
    fn learn_plan(&self, ids: &poolwatch_core::PlannedIds) {
        let listed = (0..1_000).filter(|&id| ids.contains(id)).collect();
        *self.told.lock().unwrap() = Some(listed);
    }
    fn run(&self, _task: u64, _cancel: &CancelToken) -> Outcome {
        Outcome::Miss
    }
}

/// The engine tells an open space, before the run, exactly the ids it then hands out.
#[test]
fn an_open_space_is_told_the_ids_the_run_hands_out() {
    let search = Arc::new(PlanListener::default());
    let shard = poolwatch_core::Shard::new(1, 3).unwrap().with_chunk(7);
    let config = config(3, HaltPolicy::Never)
        .with_skip(10)
        .with_shard(shard)
        .with_done(vec![(40, 60)]);
    let run = Run::start(search.clone(), &config);
    let report = run.wait();
    let told = search
        .told
        .lock()
        .unwrap()
        .clone()
        .expect("learn_plan was called");
    // The completed ranges hold the done ones too.
    let ran: Vec<u64> = ids_of(&run.completed_ranges())
        .into_iter()
        .filter(|id| !(40..60).contains(id))
        .collect();
    assert_eq!(told, ran);
    assert_eq!(report.counters.completed, told.len() as u64);
}

/// Matches at 996 and 1993, with 996 answering only once 1993 has matched (so the higher
/// match is known first, as when 996 is slow and 1993 fast); 1500 and 2500 sleep 30 s
/// unless cancelled, every other id 1 ms.
struct SlowLowMatch {
    seen: Mutex<Vec<u64>>,
    high_found: AtomicU64,
}

impl Search for SlowLowMatch {
    fn name(&self) -> &str {
        "slow-low"
    }
    fn params(&self) -> String {
        String::new()
    }
    fn space(&self) -> u64 {
        100_000
    }
    fn run(&self, task: u64, cancel: &CancelToken) -> Outcome {
        self.seen.lock().unwrap().push(task);
        let matched = Outcome::Match {
            value: task.to_string(),
            score: None,
        };
        match task {
            996 => {
                let deadline = Instant::now() + Duration::from_secs(30);
                while self.high_found.load(Ordering::SeqCst) == 0 && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(1));
                }
                matched
            }
            1993 => {
                self.high_found.store(1, Ordering::SeqCst);
                matched
            }
            1500 | 2500 if cancel.sleep(Duration::from_secs(30)) => Outcome::Cancelled,
            _ if cancel.sleep(Duration::from_millis(1)) => Outcome::Cancelled,
            _ => Outcome::Miss,
        }
    }
}

#[test]
fn lowest_policy_finishes_every_id_below_the_lowest_match_and_cancels_the_rest() {
    let search = Arc::new(SlowLowMatch {
        seen: Mutex::new(Vec::new()),
        high_found: AtomicU64::new(0),
    });
    let started = Instant::now();
    let run = Run::start(search.clone(), &config(4, HaltPolicy::Lowest));
    let (events, report) = drain(&run);
    assert_eq!(report.reason, HaltReason::Match);
    // 1993 was found first, then 996 replaced it.
    let found: Vec<u64> = events
        .iter()
        .filter_map(|event| match event {
            Event::Match { task, .. } => Some(*task),
            _ => None,
        })
        .collect();
    assert_eq!(found, [1993, 996], "{found:?}");
    // Every id below 996 ran: 996 is proven lowest.
    let ran = search.seen.lock().unwrap().clone();
    let seen: HashSet<u64> = ran.iter().copied().collect();
    assert!(
        (0..996).all(|id| seen.contains(&id)),
        "an id below the lowest match never ran"
    );
    // 1500 (under way when 996 matched) and 2500 (above 1993) were cancelled at once, not slept out.
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    assert!(
        !run.completed_ranges()
            .iter()
            .any(|&(start, end)| start <= 1500 && 1500 < end)
    );
    // Ids above the first bound were handed out only until it was known.
    assert!(report.counters.submitted < 5_000, "{report:?}");
    assert!(report.counters.completed >= 997, "{report:?}");
    assert_invariant(&report, &ran);
}

/// Ids 0..20,000, each 1 ms; the ids in `matches` match. Records every id that ran.
struct TimedMatches {
    matches: Vec<u64>,
    ran: Mutex<HashSet<u64>>,
}

impl Search for TimedMatches {
    fn name(&self) -> &str {
        "timed-matches"
    }
    fn params(&self) -> String {
        String::new()
    }
    fn space(&self) -> u64 {
        20_000
    }
    fn run(&self, task: u64, cancel: &CancelToken) -> Outcome {
        if cancel.sleep(Duration::from_millis(1)) {
            return Outcome::Cancelled;
        }
        self.ran.lock().unwrap().insert(task);
        if self.matches.contains(&task) {
            Outcome::Match {
                value: task.to_string(),
                score: None,
            }
        } else {
            Outcome::Miss
        }
    }
}

/// Issue 23: under `lowest`, a match found elsewhere (another shard's) bounds the run as its
/// own would: every id below it runs, the run ends `Bounded` without a match of its own; a
/// lower match of its own still wins.
#[test]
fn a_bound_from_elsewhere_ends_a_lowest_run_once_every_id_below_it_ran() {
    for (own, bound, reason) in [
        (vec![15_000], 600, HaltReason::Bounded),
        (vec![300, 15_000], 600, HaltReason::Match),
    ] {
        let search = Arc::new(TimedMatches {
            matches: own.clone(),
            ran: Mutex::new(HashSet::new()),
        });
        let run = Run::start(search.clone(), &config(2, HaltPolicy::Lowest));
        run.bound_lowest(bound);
        let report = run.wait();
        assert_eq!(report.reason, reason, "own matches {own:?}");
        let ran = search.ran.lock().unwrap().clone();
        let lowest_own = own.iter().copied().min().unwrap();
        let proven_below = bound.min(lowest_own);
        assert!(
            (0..proven_below).all(|id| ran.contains(&id)),
            "an id below the bound did not run"
        );
        assert!(
            !ran.contains(&15_000),
            "ran far past the bound: {} ids",
            ran.len()
        );
        assert_eq!(report.counters.matches, u64::from(reason == HaltReason::Match));
    }
}
