//! What the submitter, the workers and the run handle share: the search and its plan, and the run's parts (halt, controls, queue, results, workers).

use super::control::Control;
use super::crew::{Crew, Slot};
use super::halt::lowest::Lowest;
use super::halt::state::{HaltRecord, HaltState};
use super::outbox::Outbox;
use super::queue::{Queue, SubmitEnds, capacity_for};
use super::stats::{Counters, NO_TASK, RunState, Snapshot, WorkerRow, WorkerSlot, WorkerState};
use super::tally::Tally;
use super::{
    Event, HaltMode, HaltPolicy, HaltReason, MAX_WORKERS, RunConfig, RunReport, rate, submit, worker,
};
use crate::plan::{PlannedIds, ResolvedPlan};
use crate::search::{Search, SpaceStatus};
use crate::sync::lock;
use crossbeam_channel::Receiver;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// The state of one run, in cohesive parts each with its own small API.
pub(crate) struct Shared {
    pub search: Arc<dyn Search>,
    /// Which ids this run covers.
    pub plan: ResolvedPlan,
    pub policy: HaltPolicy,
    pub started: Instant,
    /// Size of the space; for an open space, what is known so far (it only grows).
    space: AtomicU64,
    /// True while an open space has no known or estimated size.
    space_open: AtomicBool,
    pub events: Outbox,
    pub halt: HaltState,
    /// The bound of a `lowest` run (unused under other policies: no match lowers it).
    pub lowest: Lowest,
    pub control: Control,
    pub queue: Queue,
    pub tally: Tally,
    pub crew: Crew,
    finish: Finish,
}

/// The end of the run: the flag, the report and the waiters on it.
#[derive(Default)]
struct Finish {
    finished: AtomicBool,
    report: Mutex<Option<RunReport>>,
    ready: Condvar,
}

impl Shared {
    pub fn launch(search: Arc<dyn Search>, config: &RunConfig) -> (Arc<Self>, Receiver<Event>) {
        let workers = config.workers.clamp(1, MAX_WORKERS);
        let open = search.open_space();
        let space = if open { 0 } else { search.space() };
        let plan = ResolvedPlan::new(&config.plan, (!open).then_some(space));
        if open {
            // Before the submitter asks for the first ids: a reader ahead keeps only these.
            search.learn_plan(&PlannedIds::from_resolved(&plan));
        }
        let (events_tx, events_rx) = match config.event_capacity {
            Some(capacity) => crossbeam_channel::bounded(capacity),
            None => crossbeam_channel::unbounded(),
        };
        // About 1 ms of work per batch: 32+ queued batches keep workers fed even when the
        // submitter waits tens of milliseconds for a CPU on a loaded machine.
        let initial_batch = search.first_batch_size().max(1);
        let (queue, ends) = Queue::new(capacity_for(workers), initial_batch);
        // An open space has no fixed size to split into buckets: keep no coverage for it.
        let buckets = if open { 0 } else { config.coverage_buckets.max(1) };
        let tally = Tally::new(search.goal(), buckets, &plan);
        let started = Instant::now();
        let shared = Arc::new(Self {
            search,
            plan,
            policy: config.policy,
            started,
            space: AtomicU64::new(space),
            space_open: AtomicBool::new(open),
            events: Outbox::new(events_tx),
            halt: HaltState::new(),
            lowest: Lowest::new(),
            control: Control::new(workers),
            queue,
            tally,
            crew: Crew::new(started),
            finish: Finish::default(),
        });
        shared.cover_done_before();
        Self::start_threads(&shared, workers, ends);
        (shared, events_rx)
    }

    /// Fills the coverage buckets with the ids completed before this run.
    fn cover_done_before(&self) {
        let space = self.space.load(Ordering::Acquire);
        let total = self.total();
        for &(start, end) in self.plan.done().ranges() {
            let (from, to) = (self.plan.rank(start.min(space)), self.plan.rank(end.min(space)));
            self.tally.cover(from, to - from, total);
        }
    }

    /// Spawns the submitter, then the workers it feeds: with a thousand workers spawning takes
    /// tens of milliseconds, and the first ones should find batches waiting meanwhile.
    fn start_threads(shared: &Arc<Self>, workers: usize, ends: SubmitEnds) {
        // Until the workers exist, a submitter that is done already must not end the run.
        shared.crew.hold_open();
        Self::spawn_submitter(shared, ends);
        for _ in 0..workers {
            // A thread spawned after a halt would only end again, taking the CPUs from the
            // tasks winding down (spawning a thousand takes longer than many runs last).
            if shared.halting() {
                break;
            }
            Self::spawn_worker(shared);
        }
        if shared.crew.release_hold() {
            shared.try_finish();
        }
    }

    fn spawn_submitter(shared: &Arc<Self>, ends: SubmitEnds) {
        let submitter = Arc::clone(shared);
        let handle = std::thread::Builder::new()
            .name("poolwatch-submitter".into())
            .spawn(move || submit::Submitter::new(&submitter, ends).run());
        match handle {
            Ok(handle) => shared.crew.keep(handle),
            // Without a submitter nothing is handed out: finish as an empty run would.
            Err(_) => shared.submitter_exited(),
        }
    }

    /// Nanoseconds since the run started.
    #[inline]
    pub fn now_ns(&self) -> u64 {
        ns_between(self.started, Instant::now())
    }

    /// Ids this run covers (window ∩ shard) as known now.
    #[inline]
    pub fn total(&self) -> u64 {
        self.plan.total(self.space.load(Ordering::Acquire))
    }

    /// The total a percentage halt policy is taken of: `None` while an open space has no
    /// known or estimated size (percentages wait for it).
    pub fn settled_total(&self) -> Option<u64> {
        (!self.space_open.load(Ordering::Acquire)).then(|| self.total())
    }

    /// Records what an open space reported: the size so far (or the user's estimate
    /// while input is still read) and whether the size is still unknown.
    pub fn set_space(&self, status: SpaceStatus) {
        let space = if status.complete {
            status.available
        } else {
            status.available.max(status.estimate.unwrap_or(0))
        };
        self.space.fetch_max(space, Ordering::AcqRel);
        if status.complete {
            // The estimate may have overshot the real count: the real one wins at the end.
            self.space.store(status.available, Ordering::Release);
        }
        let open = !status.complete && status.estimate.is_none();
        self.space_open.store(open, Ordering::Release);
    }

    /// True once a halt (now or soon) was requested: no new task may start.
    #[inline]
    pub fn halting(&self) -> bool {
        self.halt.halting()
    }

    fn is_finished(&self) -> bool {
        self.finish.finished.load(Ordering::Acquire)
    }

    fn spawn_worker(shared: &Arc<Self>) {
        let now = Instant::now();
        let (now_ns, paused_ns) = (
            ns_between(shared.started, now),
            duration_ns(shared.control.paused_for(now)),
        );
        let (index, slot) = shared.crew.enlist(|slot| slot.begin_life(now_ns, paused_ns));
        let worker_shared = Arc::clone(shared);
        let worker_slot = Arc::clone(&slot);
        let spawned = std::thread::Builder::new()
            .name(format!("{}{index}", worker::THREAD_PREFIX))
            .spawn(move || worker::WorkerThread::new(&worker_shared, index, &worker_slot).run());
        match spawned {
            Ok(handle) => shared.crew.keep(handle),
            Err(_) => shared.worker_exited(&slot),
        }
    }

    pub fn target_workers(&self) -> usize {
        self.control.target()
    }

    pub fn set_workers(self: &Arc<Self>, workers: usize) {
        let workers = workers.clamp(1, MAX_WORKERS);
        if self.halting() || self.is_finished() {
            return;
        }
        let previous = self.control.set_target(workers);
        self.queue.fit_capacity(workers);
        if workers > previous {
            let mut to_add = workers - previous;
            // A retire token nobody has picked up yet cancels one spawn.
            while to_add > 0 && self.control.take_retire_token() {
                to_add -= 1;
            }
            for _ in 0..to_add {
                Self::spawn_worker(self);
            }
            // Join the workers that retired since, so their stacks go now, not at the end.
            self.crew.join_retired();
            // The queue may hold more now: a submitter waiting for room fills it.
            self.queue.wake_submitter();
        } else {
            self.control.retire(previous - workers);
            self.queue.doorbell().ring_all();
        }
    }

    pub fn set_paused(&self, paused: bool) {
        let changed = self
            .control
            .set_paused(paused, || self.is_finished() || self.halting());
        if changed && !paused {
            self.queue.doorbell().ring_all();
        }
        self.queue.wake_submitter();
    }

    /// Records the first halt, stops new work, and for `Now` cancels running tasks.
    pub fn halt(&self, mode: HaltMode, reason: HaltReason, at: Instant) {
        let record = HaltRecord { reason, at };
        self.halt.trigger(
            mode,
            record,
            || self.now_ns(),
            |record| {
                // Never blocks: the caller may be the very reader of the events (a signal, a key).
                self.events.offer(Event::Halted {
                    reason: record.reason,
                    at: record.at.saturating_duration_since(self.started),
                });
            },
        );
        self.control.end_pause();
        // Idle workers are woken once no batch is under way (by the worker that ends the last
        // one): woken now, a thousand of them would take the CPUs from the tasks winding down.
        if self.crew.in_batch() == 0 {
            self.queue.doorbell().ring_all();
        }
        self.queue.wake_submitter();
    }

    /// Offers a score; records and announces it if it beats the best so far.
    pub fn offer_best(&self, task: u64, score: f64, worker: usize) {
        if self.tally.offer_best(task, score) {
            let at = self.started.elapsed();
            self.events.offer(Event::NewBest {
                task,
                score,
                worker,
                at,
            });
        }
    }

    /// A worker's thread ends (or never started): its slot stops, and the last one out finishes the run.
    pub fn worker_exited(&self, slot: &WorkerSlot) {
        let now = Instant::now();
        slot.end_life(
            ns_between(self.started, now),
            duration_ns(self.control.paused_for(now)),
        );
        if self.crew.discharge() {
            self.try_finish();
        }
    }

    pub fn submitter_exited(&self) {
        self.queue.close();
        // Idle workers learn that submission is over once no batch is under way: with batches
        // under way the worker ending the last one rings (it reads `closed` after leaving its
        // batch, and `closed` is visible before `in_batch` is read here, so one of the two
        // rings). Woken now, idle workers would only go back to sleep until then, and a
        // thousand of them would take the CPUs from the last tasks. Batches still queued were
        // each rung for when sent.
        if self.crew.in_batch() == 0 {
            self.queue.doorbell().ring_all();
        }
        self.try_finish();
    }

    fn try_finish(&self) {
        if !self.queue.is_closed() || self.crew.live() != 0 {
            return;
        }
        if self.finish.finished.swap(true, Ordering::SeqCst) {
            return;
        }
        self.queue.drain();
        let report = self.build_report();
        // Finished is queued before waiters wake, so whoever returns from wait() finds it.
        self.events.close_with(Event::Finished(report.clone()));
        *lock(&self.finish.report) = Some(report);
        self.finish.ready.notify_all();
    }

    fn build_report(&self) -> RunReport {
        let snapshot = self.snapshot();
        let halt = self.halt.record();
        let after_halt = |moment: Option<Instant>| {
            halt.map(|halt| moment.map_or(Duration::ZERO, |m| m.saturating_duration_since(halt.at)))
        };
        // Without a batch under way at the halt nothing had to stop: the latency is 0.
        let halt_latency = after_halt(self.crew.last_task_stop());
        let exit_latency = after_halt(self.crew.last_stop());
        let mut counters = snapshot.counters;
        // The raw count, not the snapshot's display clamp: the invariant checks must see it.
        counters.submitted = self.queue.submitted();
        RunReport {
            reason: halt.map_or_else(|| self.natural_end(), |halt| halt.reason),
            counters,
            workers: self.target_workers(),
            elapsed: snapshot.elapsed,
            active: snapshot.active,
            halt_latency,
            exit_latency,
            best: snapshot.best,
            fatal: self.tally.fatal(),
        }
    }

    /// Why a run ended without a halt: every id ran, or under `lowest`, every id below the
    /// lowest match did.
    fn natural_end(&self) -> HaltReason {
        if self.lowest.found().is_some() && !self.lowest.bounded_elsewhere() {
            HaltReason::Match
        } else if self.lowest.bounded_elsewhere() {
            HaltReason::Bounded
        } else {
            HaltReason::Exhausted
        }
    }

    pub fn report(&self) -> Option<RunReport> {
        lock(&self.finish.report).clone()
    }

    pub fn wait(&self) -> RunReport {
        let mut report = lock(&self.finish.report);
        loop {
            if let Some(report) = report.as_ref() {
                return report.clone();
            }
            report = self
                .finish
                .ready
                .wait(report)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    fn run_state(&self) -> RunState {
        let halt = self.halt.record();
        match (self.is_finished(), halt) {
            (true, record) => RunState::Finished(record.map_or_else(|| self.natural_end(), |h| h.reason)),
            (false, Some(record)) => RunState::Halting(record.reason),
            (false, None) if self.control.is_paused() => RunState::Paused,
            (false, None) => RunState::Running,
        }
    }

    fn end_instant(&self) -> Instant {
        if self.is_finished() {
            self.crew.last_stop().unwrap_or_else(Instant::now)
        } else {
            Instant::now()
        }
    }

    pub fn snapshot(&self) -> Snapshot {
        let state = self.run_state();
        let now = self.end_instant();
        let elapsed = now.saturating_duration_since(self.started);
        let paused_for = self.control.paused_for(now);
        let active = elapsed.saturating_sub(paused_for);
        let clock = RowClock {
            now_ns: duration_ns(elapsed),
            paused_ns: duration_ns(paused_for),
            paused: self.control.is_paused(),
        };
        let slots = self.crew.slots();
        let workers: Vec<WorkerRow> = slots
            .iter()
            .enumerate()
            .map(|(id, slot)| worker_row(id, slot, clock))
            .map(|mut row| {
                row.detail = row.current_task.and_then(|task| self.search.task_detail(task));
                row
            })
            .collect();
        let counters = self.counters(&slots);
        Snapshot {
            state,
            counters,
            total_open: self.space_open.load(Ordering::Acquire),
            workers,
            target_workers: self.target_workers(),
            elapsed,
            active,
            tasks_per_s: rate(counters.completed, active),
            best: self.tally.best(),
            batch_size: self.queue.batch_size(),
            coverage: self.tally.coverage(),
            halt_latency: self.report().and_then(|r| r.halt_latency),
        }
    }

    fn counters(&self, slots: &[Slot]) -> Counters {
        let sum = |field: fn(&WorkerSlot) -> &AtomicU64| -> u64 {
            slots.iter().map(|slot| field(slot).load(Ordering::Relaxed)).sum()
        };
        let completed = sum(|s| &s.done);
        let cancelled = sum(|s| &s.cancelled) + self.queue.drained();
        let space = self.space.load(Ordering::Acquire);
        Counters {
            total: self.plan.total(space),
            submitted: self.queue.submitted().max(completed + cancelled),
            completed,
            cancelled,
            matches: self.tally.matches(),
            errors: sum(|s| &s.errors),
            started_after_halt: sum(|s| &s.started_after_halt),
            done_before: self.plan.done_count(space),
        }
    }

    /// Summed time in finished batches and the ids those batches held, for batch sizing.
    pub fn busy_and_timed(&self) -> (u64, u64) {
        self.crew.fold((0, 0), |(busy, timed), slot| {
            (
                busy + slot.busy_ns.load(Ordering::Relaxed),
                timed + slot.timed_tasks.load(Ordering::Relaxed),
            )
        })
    }
}

/// The clock a snapshot reads worker rows against.
#[derive(Clone, Copy)]
struct RowClock {
    now_ns: u64,
    paused_ns: u64,
    paused: bool,
}

fn worker_row(id: usize, slot: &WorkerSlot, clock: RowClock) -> WorkerRow {
    let mut state = slot.state();
    if state == WorkerState::Idle && clock.paused {
        state = WorkerState::Paused;
    }
    let current = slot.current.load(Ordering::Relaxed);
    let running = state == WorkerState::Running && current != NO_TASK;
    let started_ns = slot.task_started_ns.load(Ordering::Relaxed);
    WorkerRow {
        id,
        state,
        current_task: running.then_some(current),
        on_task_for: if running {
            Duration::from_nanos(clock.now_ns.saturating_sub(started_ns))
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
        busy: slot.busy_share(clock.now_ns, clock.paused_ns),
        detail: None,
    }
}

/// Nanoseconds from `from` to `to` (0 if `to` is earlier).
fn ns_between(from: Instant, to: Instant) -> u64 {
    duration_ns(to.saturating_duration_since(from))
}

fn duration_ns(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}
