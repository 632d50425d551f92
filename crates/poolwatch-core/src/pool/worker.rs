//! The worker loop: take a batch, run its tasks under `catch_unwind`, publish counters, apply the halt policy.

use super::Event;
use super::crowding::ThreadFit;
use super::halt::{HaltMode, HaltOn, HaltPolicy, HaltReason};
use super::shared::Shared;
use super::stats::{NO_TASK, WorkerSlot, WorkerState, bump};
use crate::cancel::CancelToken;
use crate::search::Outcome;
use std::any::Any;
use std::cell::Cell;
use std::ops::Range;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::Ordering;
use std::time::Instant;

/// Worker threads are named with this prefix and a slot number.
pub(crate) const THREAD_PREFIX: &str = "poolwatch-worker-";
/// Batches at most this long time every task (clock reads are cheap next to such tasks).
const FINE_TIMING_MAX: u64 = 64;
/// Ids per call of a tight batch: the cancel flag is checked between chunks.
const TIGHT_CHUNK: u64 = 4096;

/// The text of a panic payload.
fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        format!("panic: {text}")
    } else if let Some(text) = payload.downcast_ref::<String>() {
        format!("panic: {text}")
    } else {
        "panic with a non-text payload".to_string()
    }
}

/// One worker thread's context: the run it serves, its slot number and its counters.
pub(crate) struct WorkerThread<'a> {
    shared: &'a Shared,
    index: usize,
    slot: &'a WorkerSlot,
    /// This thread's timer slack and scheduling policy, fitted to the worker count.
    fit: ThreadFit,
}

impl<'a> WorkerThread<'a> {
    pub fn new(shared: &'a Shared, index: usize, slot: &'a WorkerSlot) -> Self {
        Self {
            shared,
            index,
            slot,
            fit: ThreadFit::new(),
        }
    }

    /// Body of the thread: take batches until halted, retired or the queue closes.
    pub fn run(&self) {
        let leaving = loop {
            match self.next_work() {
                Work::Batch(batch) => {
                    // The worker count may have changed since the last batch.
                    self.fit.fit(self.shared.target_workers());
                    self.shared.queue.refill_if_low();
                    self.run_batch(batch);
                }
                other => break other,
            }
        };
        debug_assert!(
            !matches!(leaving, Work::Batch(_)),
            "the loop leaves on End or Retire"
        );
        self.shared.worker_exited(self.slot);
        if matches!(leaving, Work::End) {
            // The run is ending: the thread ends only once no batch is under way. Its
            // teardown (glibc hands the stack back with an madvise, a TLB shootdown on every
            // CPU) would take the CPUs from the tasks still running or winding down.
            let crew = &self.shared.crew;
            let doorbell = self.shared.queue.doorbell();
            doorbell.wait_for(|| (crew.in_batch() == 0).then_some(()));
        }
    }

    /// Waits for what to do next.
    fn next_work(&self) -> Work {
        self.slot.current.store(NO_TASK, Ordering::Relaxed);
        self.shared.queue.doorbell().wait_for(|| self.look_for_work())
    }

    /// One look at what this worker should do; `None`: sleep until the doorbell rings.
    fn look_for_work(&self) -> Option<Work> {
        let (shared, slot) = (self.shared, self.slot);
        if shared.halting() {
            return Some(Work::End);
        }
        if shared.control.take_retire_token() {
            return Some(Work::Retire);
        }
        if shared.control.is_paused() {
            // Paused: leave queued batches alone until resume, halt or retirement.
            slot.set_state(WorkerState::Paused);
            return None;
        }
        slot.set_state(WorkerState::Idle);
        match shared.queue.take_batch()? {
            Some(batch) => Some(Work::Batch(batch)),
            None => Some(Work::End),
        }
    }

    fn run_batch(&self, batch: Range<u64>) {
        let (shared, slot) = (self.shared, self.slot);
        let batch_started = shared.now_ns();
        slot.batch_start.store(batch.start, Ordering::Relaxed);
        slot.batch_end.store(batch.end, Ordering::Relaxed);
        slot.task_started_ns.store(batch_started, Ordering::Relaxed);
        slot.batch_started_ns.store(batch_started, Ordering::Relaxed);
        slot.set_state(WorkerState::Running);
        shared.crew.enter_batch();
        // Ids that gave up on cancel: rare, so a list is cheap; they are not completed.
        let mut gave_up = Vec::new();
        // Under `lowest`, ids at or above the lowest match are cut (and counted cancelled).
        let runs = batch.start..batch.end.min(shared.lowest.bound()).max(batch.start);
        let next = match self.loop_for(&runs) {
            Some(kind) => self.run_chunks(runs, kind, &mut gave_up),
            None => self.run_each(runs, &mut gave_up),
        };
        // Ids run in a batch are a prefix of it: completion is recorded once per batch, not per task.
        self.record_completed(batch.start, next, &mut gave_up);
        bump(&slot.cancelled, batch.end - next);
        let last_out = shared.crew.leave_batch();
        let halting = shared.halting();
        if halting {
            // The halt's latency runs until the last task under way has ended.
            shared.crew.task_stopped_after_halt();
        }
        if last_out && (halting || shared.queue.is_closed()) {
            // Workers leaving the run wait for the last batch to end: now they may go.
            shared.queue.doorbell().ring_all();
        }
        // Idle before the busy time is added, so a snapshot never counts the batch twice.
        slot.set_state(WorkerState::Idle);
        bump(&slot.busy_ns, shared.now_ns().saturating_sub(batch_started));
        bump(&slot.timed_tasks, next.saturating_sub(batch.start).max(1));
    }

    /// Records `start..next` minus the ids that gave up as completed (coverage and ranges).
    fn record_completed(&self, start: u64, next: u64, gave_up: &mut [u64]) {
        let total = self.shared.total();
        let (plan, tally) = (&self.shared.plan, &self.shared.tally);
        gave_up.sort_unstable();
        let mut from = start;
        for &task in gave_up.iter() {
            tally.complete(plan, total, from..task);
            from = task + 1;
        }
        tally.complete(plan, total, from..next);
    }

    /// Runs the batch one [`crate::search::Search::run`] call per id; returns the first id not run.
    fn run_each(&self, batch: Range<u64>, gave_up: &mut Vec<u64>) -> u64 {
        let mut cursor = Cursor {
            next: batch.start,
            end: batch.end,
            fine_timing: batch.end - batch.start <= FINE_TIMING_MAX,
            gave_up,
            cancel: self.task_cancel(),
        };
        // One unwinding frame per batch rather than per task: a panic leaves `cursor.next` on
        // the task that panicked, which is recorded as an error before the loop goes on after it.
        while cursor.next < cursor.end {
            let ran = catch_unwind(AssertUnwindSafe(|| cursor.run(self)));
            let Err(payload) = ran else { break };
            bump(&self.slot.done, 1);
            self.count_done(1);
            self.record(cursor.next, Outcome::Error(panic_message(payload.as_ref())));
            cursor.next += 1;
        }
        cursor.next
    }

    /// Which chunked loop runs `batch`, or `None` for one engine step per task.
    ///
    /// Short tasks (a batch longer than [`FINE_TIMING_MAX`] means well under 16 us a task) run
    /// through [`crate::search::Search::run_short`] unless a `done=` policy needs every task
    /// counted as it ends.
    fn loop_for(&self, batch: &Range<u64>) -> Option<ChunkLoop> {
        let search = &self.shared.search;
        if search.tight_batches() {
            Some(ChunkLoop::Tight)
        } else if batch.end - batch.start > FINE_TIMING_MAX && !self.shared.policy.counts_done() {
            Some(ChunkLoop::Short)
        } else {
            None
        }
    }

    /// Runs the batch in chunks of one search call each; returns the first id not run.
    fn run_chunks(&self, batch: Range<u64>, kind: ChunkLoop, gave_up: &mut Vec<u64>) -> u64 {
        let (shared, slot) = (self.shared, self.slot);
        let mut next = batch.start;
        let cancel = self.task_cancel();
        while next < batch.end.min(shared.lowest.bound()) && !shared.halting() {
            let end = next
                .saturating_add(TIGHT_CHUNK)
                .min(batch.end)
                .min(shared.lowest.bound());
            slot.current.store(next, Ordering::Relaxed);
            let mut gave_up_here = Vec::new();
            let chunk = self.run_chunk(next..end, kind, &cancel, &mut gave_up_here);
            gave_up_here.retain(|task| (next..next + chunk.ran).contains(task));
            if let Some(panicked) = chunk.panicked {
                // A task of the chunk panicked and nothing says which: none of it counts as run.
                gave_up_here = (next..end).collect();
                self.record(next, Outcome::Error(panicked));
            }
            let cancelled_here = gave_up_here.len() as u64;
            bump(&slot.done, chunk.ran - cancelled_here);
            self.count_done(chunk.ran - cancelled_here);
            bump(&slot.cancelled, cancelled_here);
            gave_up.append(&mut gave_up_here);
            next += chunk.ran;
            if chunk.stopped {
                break;
            }
        }
        next
    }

    /// One chunk through the search's loop, under one unwinding frame.
    fn run_chunk(
        &self,
        chunk: Range<u64>,
        kind: ChunkLoop,
        cancel: &CancelToken,
        gave_up: &mut Vec<u64>,
    ) -> ChunkRun {
        let shared = self.shared;
        let stop = shared.halt.stop_token();
        let running = Cell::new(chunk.start);
        let len = chunk.end - chunk.start;
        let mut notable = |task, outcome| {
            if matches!(outcome, Outcome::Cancelled) {
                gave_up.push(task);
            } else {
                self.record(task, outcome);
            }
        };
        let ran = catch_unwind(AssertUnwindSafe(|| match kind {
            ChunkLoop::Tight => shared.search.run_batch(chunk.clone(), cancel, &mut notable),
            ChunkLoop::Short => shared
                .search
                .run_short(chunk.clone(), stop, cancel, &running, &mut notable),
        }));
        match (ran, kind) {
            (Ok(ran), _) => {
                let ran = ran.min(len);
                ChunkRun {
                    ran,
                    stopped: ran < len,
                    panicked: None,
                }
            }
            (Err(payload), ChunkLoop::Short) => {
                // The panic is pinned on its task: the ids before it ran, it failed (and is
                // counted as run, as in `run_each`), the chunk goes on after it.
                // Clamped: a `run_short` of the search's own might not keep `running` right.
                let failed = running.get().clamp(chunk.start, chunk.end - 1);
                self.record(failed, Outcome::Error(panic_message(payload.as_ref())));
                ChunkRun {
                    ran: failed + 1 - chunk.start,
                    stopped: false,
                    panicked: None,
                }
            }
            (Err(payload), ChunkLoop::Tight) => ChunkRun {
                ran: len,
                stopped: false,
                panicked: Some(panic_message(payload.as_ref())),
            },
        }
    }

    /// The token this worker's tasks poll: the run's, or under `lowest` one of the worker's
    /// own that a lower match cancels alone (see [`super::halt::lowest::Lowest::token_for`]).
    fn task_cancel(&self) -> CancelToken {
        let run = self.shared.halt.cancel_token();
        if self.shared.policy == HaltPolicy::Lowest {
            self.shared.lowest.token_for(self.index, run)
        } else {
            run.clone()
        }
    }

    /// Counts completed tasks toward a `done=` halt policy (nothing to do under any other policy).
    #[inline]
    fn count_done(&self, tasks: u64) {
        let shared = self.shared;
        if !shared.policy.counts_done() || tasks == 0 {
            return;
        }
        let done = shared.tally.add_done(tasks);
        if let Some((mode, limit)) = shared.policy.limit(HaltOn::Done, shared.settled_total())
            && done >= limit
        {
            shared.halt(mode, HaltReason::Done, Instant::now());
        }
    }

    /// Acts on one outcome: counters, events, best score and the halt policy.
    fn record(&self, task: u64, outcome: Outcome) {
        let (shared, slot, index) = (self.shared, self.slot, self.index);
        match outcome {
            Outcome::Miss | Outcome::Cancelled => {}
            Outcome::Scored(score) => shared.offer_best(task, score, index),
            Outcome::Match { value, score } => {
                let found_at = Instant::now();
                if shared.policy == HaltPolicy::Lowest && shared.lowest.offer(task, &shared.crew) {
                    // The submitter stops at the new bound now, not after its next wait.
                    shared.queue.wake_submitter();
                }
                let count = shared.tally.add_match();
                bump(&slot.matches, 1);
                if let Some(score) = score {
                    shared.offer_best(task, score, index);
                }
                let at = found_at.saturating_duration_since(shared.started);
                let halt = self.match_halt(count);
                if let Some((mode, _)) = halt {
                    // Tasks are stopped before the event is sent: the send may wake the
                    // reader, and the scheduler may run it (and a thousand other threads)
                    // before this worker gets to the halt.
                    shared.halt.raise(mode);
                }
                // The match is announced before the halt it causes, so logs read in causal order.
                shared.events.send(Event::Match {
                    task,
                    value,
                    score,
                    worker: index,
                    at,
                });
                if let Some((mode, reason)) = halt {
                    shared.halt(mode, reason, found_at);
                }
            }
            Outcome::Notice(message) => shared.events.send(Event::Notice {
                task,
                message,
                worker: index,
                at: shared.started.elapsed(),
            }),
            Outcome::Fatal(message) => {
                shared.tally.record_fatal(&message);
                shared.halt(HaltMode::Now, HaltReason::Fatal, Instant::now());
                self.record(task, Outcome::Error(message));
            }
            Outcome::Error(message) => {
                let failed_at = Instant::now();
                bump(&slot.errors, 1);
                let errors = shared.tally.add_error();
                let halt = shared
                    .policy
                    .limit(HaltOn::Fail, shared.settled_total())
                    .and_then(|(mode, limit)| (errors >= limit).then_some(mode));
                if let Some(mode) = halt {
                    shared.halt.raise(mode);
                }
                shared.events.send(Event::Error {
                    task,
                    message,
                    worker: index,
                    at: failed_at.saturating_duration_since(shared.started),
                });
                if let Some(mode) = halt {
                    shared.halt(mode, HaltReason::Fail, failed_at);
                }
            }
        }
    }

    /// The halt the policy calls for after the `count`th match, if any.
    fn match_halt(&self, count: u64) -> Option<(HaltMode, HaltReason)> {
        let shared = self.shared;
        match shared.policy {
            HaltPolicy::Now => Some((HaltMode::Now, HaltReason::Match)),
            HaltPolicy::Soon => Some((HaltMode::Soon, HaltReason::Match)),
            policy => policy
                .limit(HaltOn::Success, shared.settled_total())
                .and_then(|(mode, limit)| (count >= limit).then_some((mode, HaltReason::After))),
        }
    }
}

/// What a worker does next.
enum Work {
    Batch(Range<u64>),
    /// The run is over for every worker (halt, or no batch will ever come).
    End,
    /// This worker leaves a run that goes on (the worker count was lowered).
    Retire,
}

/// The chunked loops a batch can run in.
#[derive(Debug, Clone, Copy)]
enum ChunkLoop {
    /// The search's own [`crate::search::Search::run_batch`] (it asked for tight batches).
    Tight,
    /// [`crate::search::Search::run_short`] over `run`, for tasks measured to be short.
    Short,
}

/// What one chunk did.
struct ChunkRun {
    /// Ids run, from the chunk's start (a panicking task included).
    ran: u64,
    /// True when the search stopped before the chunk's end (halt or cancel).
    stopped: bool,
    /// A panic's message when a tight loop panicked somewhere in the chunk.
    panicked: Option<String>,
}

/// Where a worker is in its batch of ordinary (non-tight) tasks.
struct Cursor<'a> {
    next: u64,
    end: u64,
    fine_timing: bool,
    gave_up: &'a mut Vec<u64>,
    /// The token its tasks poll ([`WorkerThread::task_cancel`]).
    cancel: CancelToken,
}

impl Cursor<'_> {
    /// Runs tasks from `next` until the batch ends or a halt; a panic escapes with `next` on the task.
    ///
    /// The halt flag is the last thing read before a task starts (after the clock), so a task
    /// starts only if its worker could not yet see the halt: `started_after_halt` counts the
    /// tasks whose clock read came after the flag was visible, which this order keeps at 0.
    fn run(&mut self, worker: &WorkerThread<'_>) {
        let (shared, slot) = (worker.shared, worker.slot);
        while self.next < self.end.min(shared.lowest.bound()) {
            let task = self.next;
            slot.current.store(task, Ordering::Relaxed);
            // Short batches time every task; long ones keep the batch's start (set by run_batch).
            let started_ns = if self.fine_timing {
                let now = shared.now_ns();
                slot.task_started_ns.store(now, Ordering::Relaxed);
                now
            } else {
                0
            };
            if shared.halting() {
                break;
            }
            let outcome = shared.search.run(task, &self.cancel);
            if self.fine_timing {
                let visible_ns = shared.halt.visible_ns();
                if visible_ns != 0 && visible_ns != u64::MAX && started_ns + 1 > visible_ns {
                    bump(&slot.started_after_halt, 1);
                }
            }
            if matches!(outcome, Outcome::Cancelled) {
                if shared.halting() {
                    // Gave up at the halt: the batch ends here, this task not run (and no
                    // list to allocate while a thousand workers wind down at once).
                    break;
                }
                self.gave_up.push(task);
                bump(&slot.cancelled, 1);
            } else {
                bump(&slot.done, 1);
                worker.count_done(1);
                worker.record(task, outcome);
            }
            self.next += 1;
        }
    }
}
