//! State shared by the submitter, the workers and the run handle: flags, counters, halting and the final accounting.

use super::stats::{Best, NO_TASK, RunState, Snapshot, WorkerRow, WorkerSlot, WorkerState};
use super::{
    Event, HaltMode, HaltPolicy, HaltReason, MAX_WORKERS, RunConfig, RunReport, rate, submit, worker,
};
use crate::search::{Goal, Search, SpaceStatus};
use crate::sync::lock;
use crossbeam_channel::{Receiver, Sender};
use crossbeam_utils::CachePadded;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The first halt: why and when the halting result was produced.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HaltRecord {
    pub reason: HaltReason,
    pub at: Instant,
}

#[derive(Debug, Default)]
struct PauseClock {
    since: Option<Instant>,
    total: Duration,
}

impl PauseClock {
    fn paused_for(&self, now: Instant) -> Duration {
        self.total
            + self
                .since
                .map_or(Duration::ZERO, |since| now.saturating_duration_since(since))
    }
}

pub(crate) type Slot = Arc<CachePadded<WorkerSlot>>;

pub(crate) struct Shared {
    pub search: Arc<dyn Search>,
    /// Size of the space; for an open space, what is known so far (it only grows).
    total: AtomicU64,
    /// True while an open space has no known or estimated size.
    total_open: AtomicBool,
    pub policy: HaltPolicy,
    pub goal: Goal,
    pub started: Instant,
    pub cancel: crate::cancel::CancelToken,
    /// 0 while running; otherwise 1 + ns from start to the halt moment. Workers stop when it is set.
    pub halt_ns: CachePadded<AtomicU64>,
    halt: Mutex<Option<HaltRecord>>,
    paused: AtomicBool,
    pause_clock: Mutex<PauseClock>,
    pub submitted: CachePadded<AtomicU64>,
    /// True while the submitter sleeps on a full queue, waiting for it to drain.
    pub submitter_idle: CachePadded<AtomicBool>,
    submit_done: AtomicBool,
    drained: AtomicU64,
    pub match_count: AtomicU64,
    best: Mutex<Option<Best>>,
    best_bits: AtomicU64,
    slots: RwLock<Vec<Slot>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    target_workers: AtomicUsize,
    live_workers: AtomicUsize,
    workers_stopped_at: Mutex<Option<Instant>>,
    finished: AtomicBool,
    /// The first fatal error's message.
    fatal: Mutex<Option<String>>,
    report: Mutex<Option<RunReport>>,
    report_ready: Condvar,
    pub events: Sender<Event>,
    pub batch_size: AtomicU64,
    pub coverage: Box<[AtomicU64]>,
    /// Ids completed, exactly (updated once per batch).
    completed: Mutex<super::RangeSet>,
    pub batches: Receiver<Range<u64>>,
    pub retire_tx: Sender<()>,
    pub retire_rx: Receiver<()>,
    pub wake_submitter: Sender<()>,
    resume_tx: Sender<()>,
    pub resume_rx: Receiver<()>,
    halt_gate: Mutex<Option<Sender<()>>>,
    pub halt_gate_rx: Receiver<()>,
}

impl Shared {
    pub fn launch(search: Arc<dyn Search>, config: &RunConfig) -> (Arc<Self>, Receiver<Event>) {
        let workers = config.workers.clamp(1, MAX_WORKERS);
        let open = search.open_space();
        let total = if open { 0 } else { search.space() };
        let goal = search.goal();
        let (events_tx, events_rx) = crossbeam_channel::unbounded();
        // About 1 ms of work per batch: 32+ queued batches keep workers fed even when the
        // submitter waits tens of milliseconds for a CPU on a loaded machine.
        let (batch_tx, batch_rx) = crossbeam_channel::bounded((4 * workers).max(32));
        let (resume_tx, resume_rx) = crossbeam_channel::unbounded();
        let (retire_tx, retire_rx) = crossbeam_channel::unbounded();
        let (wake_tx, wake_rx) = crossbeam_channel::unbounded();
        let (gate_tx, gate_rx) = crossbeam_channel::bounded(0);
        let initial_batch = if search.tight_batches() { 1024 } else { 1 };
        // An open space has no fixed size to split into buckets: keep no coverage for it.
        let buckets = if open { 0 } else { config.coverage_buckets.max(1) };
        let shared = Arc::new(Self {
            search,
            total: AtomicU64::new(total),
            total_open: AtomicBool::new(open),
            policy: config.policy,
            goal,
            started: Instant::now(),
            cancel: crate::cancel::CancelToken::new(),
            halt_ns: CachePadded::new(AtomicU64::new(0)),
            halt: Mutex::new(None),
            paused: AtomicBool::new(false),
            pause_clock: Mutex::new(PauseClock::default()),
            submitted: CachePadded::new(AtomicU64::new(0)),
            submitter_idle: CachePadded::new(AtomicBool::new(false)),
            submit_done: AtomicBool::new(false),
            drained: AtomicU64::new(0),
            match_count: AtomicU64::new(0),
            best: Mutex::new(None),
            best_bits: AtomicU64::new(initial_best(goal).to_bits()),
            slots: RwLock::new(Vec::new()),
            threads: Mutex::new(Vec::new()),
            target_workers: AtomicUsize::new(workers),
            live_workers: AtomicUsize::new(0),
            workers_stopped_at: Mutex::new(None),
            finished: AtomicBool::new(false),
            fatal: Mutex::new(None),
            report: Mutex::new(None),
            report_ready: Condvar::new(),
            events: events_tx,
            batch_size: AtomicU64::new(initial_batch),
            coverage: (0..buckets).map(|_| AtomicU64::new(0)).collect(),
            completed: Mutex::new(super::RangeSet::new()),
            batches: batch_rx,
            retire_tx,
            retire_rx,
            wake_submitter: wake_tx,
            resume_tx,
            resume_rx,
            halt_gate: Mutex::new(Some(gate_tx)),
            halt_gate_rx: gate_rx,
        });
        Self::start_threads(&shared, workers, batch_tx, wake_rx);
        (shared, events_rx)
    }

    /// Spawns the workers, then the submitter that feeds them.
    fn start_threads(shared: &Arc<Self>, workers: usize, batches: Sender<Range<u64>>, wake: Receiver<()>) {
        for _ in 0..workers {
            Self::spawn_worker(shared);
        }
        let submitter = Arc::clone(shared);
        let handle = std::thread::Builder::new()
            .name("poolwatch-submitter".into())
            .spawn(move || submit::run_submitter(&submitter, &batches, &wake));
        match handle {
            Ok(handle) => lock(&shared.threads).push(handle),
            // Without a submitter nothing is handed out: finish as an empty run would.
            Err(_) => shared.submitter_exited(),
        }
    }

    /// Nanoseconds since the run started.
    #[inline]
    pub fn now_ns(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// Size of the space as known now.
    #[inline]
    pub fn total(&self) -> u64 {
        self.total.load(Ordering::Acquire)
    }

    /// Records what an open space reported: the size so far (or the user's estimate
    /// while input is still read) and whether the size is still unknown.
    pub fn set_space(&self, status: SpaceStatus) {
        let total = if status.complete {
            status.available
        } else {
            status.available.max(status.estimate.unwrap_or(0))
        };
        self.total.fetch_max(total, Ordering::AcqRel);
        if status.complete {
            // The estimate may have overshot the real count: the real one wins at the end.
            self.total.store(status.available, Ordering::Release);
        }
        let open = !status.complete && status.estimate.is_none();
        self.total_open.store(open, Ordering::Release);
    }

    /// True once a halt (now or soon) was requested: no new task may start.
    #[inline]
    pub fn halting(&self) -> bool {
        self.halt_ns.load(Ordering::Acquire) != 0
    }

    fn spawn_worker(shared: &Arc<Self>) {
        let (index, slot) = {
            let mut slots = shared.slots.write().unwrap_or_else(PoisonError::into_inner);
            let reusable = slots.iter().position(|slot| slot.state() == WorkerState::Stopped);
            let index = reusable.unwrap_or(slots.len());
            if reusable.is_none() {
                slots.push(Arc::new(CachePadded::new(WorkerSlot::new())));
            }
            slots[index].set_state(WorkerState::Idle);
            (index, Arc::clone(&slots[index]))
        };
        shared.live_workers.fetch_add(1, Ordering::SeqCst);
        let worker_shared = Arc::clone(shared);
        let spawned = std::thread::Builder::new()
            .name(format!("{}{index}", worker::THREAD_PREFIX))
            .spawn(move || worker::run_worker(&worker_shared, index, &slot));
        match spawned {
            Ok(handle) => lock(&shared.threads).push(handle),
            Err(_) => {
                let slots = shared.slots.read().unwrap_or_else(PoisonError::into_inner);
                slots[index].set_state(WorkerState::Stopped);
                drop(slots);
                shared.worker_exited();
            }
        }
    }

    pub fn target_workers(&self) -> usize {
        self.target_workers.load(Ordering::Acquire)
    }

    pub fn set_workers(self: &Arc<Self>, workers: usize) {
        let workers = workers.clamp(1, MAX_WORKERS);
        if self.halting() || self.finished.load(Ordering::Acquire) {
            return;
        }
        let previous = self.target_workers.swap(workers, Ordering::AcqRel);
        if workers > previous {
            let mut to_add = workers - previous;
            // A retire token nobody has picked up yet cancels one spawn.
            while to_add > 0 && self.retire_rx.try_recv().is_ok() {
                to_add -= 1;
            }
            for _ in 0..to_add {
                Self::spawn_worker(self);
            }
        } else {
            for _ in workers..previous {
                // The pool holds a receiver, so this send cannot fail.
                let _sent = self.retire_tx.send(());
            }
        }
    }

    pub fn is_paused(&self) -> bool {
        self.paused.load(Ordering::Acquire)
    }

    pub fn set_paused(&self, paused: bool) {
        let mut clock = lock(&self.pause_clock);
        let finished = self.finished.load(Ordering::Acquire);
        if finished || self.halting() || self.paused.load(Ordering::Acquire) == paused {
            return;
        }
        let now = Instant::now();
        if paused {
            clock.since = Some(now);
        } else if let Some(since) = clock.since.take() {
            clock.total += now.saturating_duration_since(since);
        }
        self.paused.store(paused, Ordering::Release);
        // Under the lock: a pause's drain of stale wake-ups must not eat a later resume's.
        self.wake_paused_workers(paused);
        drop(clock);
        let _woken = self.wake_submitter.send(());
    }

    /// On pause, drops stale wake-ups; on resume, wakes every worker waiting in pause.
    fn wake_paused_workers(&self, paused: bool) {
        if paused {
            while self.resume_rx.try_recv().is_ok() {}
        } else {
            let slots = self.slots.read().unwrap_or_else(PoisonError::into_inner).len();
            for _ in 0..slots {
                // The pool holds a receiver, so this send cannot fail.
                let _sent = self.resume_tx.send(());
            }
        }
    }

    /// Records the first halt, stops new work, and for `Now` cancels running tasks.
    pub fn halt(&self, mode: HaltMode, reason: HaltReason, at: Instant) {
        let mut record = lock(&self.halt);
        if record.is_none() {
            *record = Some(HaltRecord { reason, at });
            let at_ns =
                u64::try_from(at.saturating_duration_since(self.started).as_nanos()).unwrap_or(u64::MAX - 1);
            self.halt_ns.store(at_ns + 1, Ordering::Release);
            let _sent = self.events.send(Event::Halted {
                reason,
                at: at.saturating_duration_since(self.started),
            });
        }
        drop(record);
        if mode == HaltMode::Now {
            self.cancel.cancel();
        }
        self.end_pause();
        drop(lock(&self.halt_gate).take());
        let _woken = self.wake_submitter.send(());
    }

    fn end_pause(&self) {
        let mut clock = lock(&self.pause_clock);
        if let Some(since) = clock.since.take() {
            clock.total += Instant::now().saturating_duration_since(since);
        }
        self.paused.store(false, Ordering::Release);
    }

    /// Keeps the first fatal error's message for the report.
    pub fn record_fatal(&self, message: &str) {
        lock(&self.fatal).get_or_insert_with(|| message.to_string());
    }

    /// Offers a score; records and announces it if it beats the best so far.
    pub fn offer_best(&self, task: u64, score: f64, worker: usize) {
        let current = f64::from_bits(self.best_bits.load(Ordering::Relaxed));
        if !self.goal.improves(score, current) {
            return;
        }
        let mut best = lock(&self.best);
        let better = best.is_none_or(|best| self.goal.improves(score, best.score));
        if better {
            *best = Some(Best { score, task });
            self.best_bits.store(score.to_bits(), Ordering::Relaxed);
            let at = self.started.elapsed();
            let _sent = self.events.send(Event::NewBest {
                task,
                score,
                worker,
                at,
            });
        }
    }

    pub fn worker_exited(&self) {
        // Recorded before the count drops, so whoever finishes the run sees the last stop.
        let now = Instant::now();
        {
            let mut stopped_at = lock(&self.workers_stopped_at);
            *stopped_at = Some(stopped_at.map_or(now, |earlier: Instant| earlier.max(now)));
        }
        if self.live_workers.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.try_finish();
        }
    }

    pub fn submitter_exited(&self) {
        self.submit_done.store(true, Ordering::SeqCst);
        self.try_finish();
    }

    fn try_finish(&self) {
        if !self.submit_done.load(Ordering::SeqCst) || self.live_workers.load(Ordering::SeqCst) != 0 {
            return;
        }
        if self.finished.swap(true, Ordering::SeqCst) {
            return;
        }
        let dropped: u64 = self.batches.try_iter().map(|batch| batch.end - batch.start).sum();
        self.drained.store(dropped, Ordering::Release);
        let report = self.build_report();
        // Finished is queued before waiters wake, so whoever returns from wait() finds it.
        let _sent = self.events.send(Event::Finished(report.clone()));
        *lock(&self.report) = Some(report);
        self.report_ready.notify_all();
    }

    fn build_report(&self) -> RunReport {
        let snapshot = self.snapshot();
        let halt = *lock(&self.halt);
        let stopped_at = *lock(&self.workers_stopped_at);
        let halt_latency = match (halt, stopped_at) {
            (Some(halt), Some(stopped)) => Some(stopped.saturating_duration_since(halt.at)),
            _ => None,
        };
        RunReport {
            reason: halt.map_or(HaltReason::Exhausted, |halt| halt.reason),
            total: snapshot.total,
            // The raw count, not the snapshot's display clamp: the invariant checks must see it.
            submitted: self.submitted.load(Ordering::Acquire),
            completed: snapshot.completed,
            cancelled: snapshot.cancelled,
            matches: snapshot.matches,
            errors: snapshot.errors,
            workers: self.target_workers(),
            elapsed: snapshot.elapsed,
            active: snapshot.active,
            halt_latency,
            started_after_halt: snapshot.started_after_halt,
            best: snapshot.best,
            fatal: lock(&self.fatal).clone(),
        }
    }

    pub fn report(&self) -> Option<RunReport> {
        lock(&self.report).clone()
    }

    pub fn wait(&self) -> RunReport {
        let mut report = lock(&self.report);
        loop {
            if let Some(report) = report.as_ref() {
                return report.clone();
            }
            report = self
                .report_ready
                .wait(report)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    pub fn join_threads(&self) {
        let handles: Vec<_> = lock(&self.threads).drain(..).collect();
        for handle in handles {
            // Worker bodies catch task panics; a join error would be an engine bug, already reported by the hook.
            let _joined = handle.join();
        }
    }

    fn run_state(&self) -> RunState {
        let halt = *lock(&self.halt);
        let finished = self.finished.load(Ordering::Acquire);
        match (finished, halt) {
            (true, record) => RunState::Finished(record.map_or(HaltReason::Exhausted, |h| h.reason)),
            (false, Some(record)) => RunState::Halting(record.reason),
            (false, None) if self.is_paused() => RunState::Paused,
            (false, None) => RunState::Running,
        }
    }

    fn end_instant(&self) -> Instant {
        if self.finished.load(Ordering::Acquire) {
            lock(&self.workers_stopped_at).unwrap_or_else(Instant::now)
        } else {
            Instant::now()
        }
    }

    /// Records the ids of a batch that ran to an outcome: `ran` minus those that gave up.
    pub fn record_completed(&self, ran: Range<u64>, gave_up: &[u64]) {
        let mut completed = lock(&self.completed);
        completed.insert((ran.start, ran.end));
        for &task in gave_up {
            completed.remove(task);
        }
    }

    /// A copy of the completed ranges.
    pub fn completed_ranges(&self) -> Vec<(u64, u64)> {
        lock(&self.completed).ranges().to_vec()
    }

    pub fn snapshot(&self) -> Snapshot {
        let state = self.run_state();
        let now = self.end_instant();
        let elapsed = now.saturating_duration_since(self.started);
        let active = elapsed.saturating_sub(lock(&self.pause_clock).paused_for(now));
        let now_ns = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        let paused = self.is_paused();
        let slots = self.slots.read().unwrap_or_else(PoisonError::into_inner).clone();
        let workers: Vec<WorkerRow> = slots
            .iter()
            .enumerate()
            .map(|(id, slot)| worker_row(id, slot, now_ns, paused))
            .map(|mut row| {
                row.detail = row.current_task.and_then(|task| self.search.task_detail(task));
                row
            })
            .collect();
        let completed: u64 = slots.iter().map(|s| s.done.load(Ordering::Relaxed)).sum();
        let cancelled: u64 = slots
            .iter()
            .map(|s| s.cancelled.load(Ordering::Relaxed))
            .sum::<u64>()
            + self.drained.load(Ordering::Acquire);
        let submitted = self.submitted.load(Ordering::Acquire).max(completed + cancelled);
        Snapshot {
            state,
            total: self.total(),
            total_open: self.total_open.load(Ordering::Acquire),
            submitted,
            completed,
            cancelled,
            in_flight: submitted - completed - cancelled,
            matches: self.match_count.load(Ordering::Relaxed),
            errors: slots.iter().map(|s| s.errors.load(Ordering::Relaxed)).sum(),
            workers,
            target_workers: self.target_workers(),
            elapsed,
            active,
            tasks_per_s: rate(completed, active),
            best: *lock(&self.best),
            batch_size: self.batch_size.load(Ordering::Relaxed),
            coverage: self.coverage.iter().map(|c| c.load(Ordering::Relaxed)).collect(),
            halt_latency: None,
            started_after_halt: slots
                .iter()
                .map(|s| s.started_after_halt.load(Ordering::Relaxed))
                .sum(),
        }
        .with_latency(self.report().and_then(|r| r.halt_latency))
    }
}

impl Snapshot {
    fn with_latency(mut self, latency: Option<Duration>) -> Self {
        self.halt_latency = latency;
        self
    }
}

fn initial_best(goal: Goal) -> f64 {
    match goal {
        Goal::Minimize => f64::INFINITY,
        Goal::Maximize | Goal::None => f64::NEG_INFINITY,
    }
}

fn worker_row(id: usize, slot: &WorkerSlot, now_ns: u64, paused: bool) -> WorkerRow {
    let mut state = slot.state();
    if state == WorkerState::Idle && paused {
        state = WorkerState::Paused;
    }
    let current = slot.current.load(Ordering::Relaxed);
    let running = state == WorkerState::Running && current != NO_TASK;
    let started_ns = slot.task_started_ns.load(Ordering::Relaxed);
    let busy_ns = slot.busy_ns.load(Ordering::Relaxed);
    #[expect(clippy::cast_precision_loss, reason = "a ratio for a bar")]
    let busy = if now_ns == 0 {
        0.0
    } else {
        (busy_ns as f64 / now_ns as f64).clamp(0.0, 1.0)
    };
    WorkerRow {
        id,
        state,
        current_task: running.then_some(current),
        on_task_for: if running {
            Duration::from_nanos(now_ns.saturating_sub(started_ns))
        } else {
            Duration::ZERO
        },
        batch: (
            slot.batch_start.load(Ordering::Relaxed),
            slot.batch_end.load(Ordering::Relaxed),
        ),
        done: slot.done.load(Ordering::Relaxed),
        matches: slot.matches.load(Ordering::Relaxed),
        errors: slot.errors.load(Ordering::Relaxed),
        busy,
        detail: None,
    }
}

impl Shared {
    /// Summed busy time and tasks done over all workers, for batch sizing.
    pub fn busy_and_done(&self) -> (u64, u64) {
        let slots = self.slots.read().unwrap_or_else(PoisonError::into_inner);
        slots.iter().fold((0, 0), |(busy, done), slot| {
            (
                busy + slot.busy_ns.load(Ordering::Relaxed),
                done + slot.done.load(Ordering::Relaxed) + slot.cancelled.load(Ordering::Relaxed),
            )
        })
    }
}
