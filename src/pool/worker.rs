//! The worker loop: take a batch, run its tasks under `catch_unwind`, publish counters, apply the halt policy.

use super::Event;
use super::halt::{HaltMode, HaltPolicy, HaltReason};
use super::shared::Shared;
use super::stats::{NO_TASK, WorkerSlot, WorkerState, bump};
use crate::search::Outcome;
use crossbeam_channel::select_biased;
use std::any::Any;
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

/// Lets a 1 ms sleep last ~1 ms instead of ~1.05 ms (Linux timer slack is 50 us by default).
fn tighten_timer_slack() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_TIMERSLACK only changes this thread's timer slack; the arguments are plain integers.
    unsafe {
        libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong, 0, 0, 0);
    }
}

/// Body of one worker thread.
pub(crate) fn run_worker(shared: &Shared, index: usize, slot: &WorkerSlot) {
    tighten_timer_slack();
    loop {
        slot.current.store(NO_TASK, Ordering::Relaxed);
        if shared.is_paused() && !shared.halting() {
            // Paused: leave queued batches alone until resume, halt or retirement.
            slot.set_state(WorkerState::Paused);
            select_biased! {
                recv(shared.halt_gate_rx) -> _ => break,
                recv(shared.retire_rx) -> _ => break,
                recv(shared.resume_rx) -> _ => continue,
            }
        }
        slot.set_state(WorkerState::Idle);
        let batch = select_biased! {
            recv(shared.halt_gate_rx) -> _ => break,
            recv(shared.retire_rx) -> _ => break,
            recv(shared.batches) -> batch => match batch {
                Ok(batch) => batch,
                Err(_) => break,
            },
        };
        super::submit::refill_if_low(shared);
        run_batch(shared, index, slot, batch);
    }
    slot.current.store(NO_TASK, Ordering::Relaxed);
    slot.set_state(WorkerState::Stopped);
    shared.worker_exited();
}

fn run_batch(shared: &Shared, index: usize, slot: &WorkerSlot, batch: Range<u64>) {
    let batch_started = shared.now_ns();
    slot.batch_start.store(batch.start, Ordering::Relaxed);
    slot.batch_end.store(batch.end, Ordering::Relaxed);
    slot.task_started_ns.store(batch_started, Ordering::Relaxed);
    slot.set_state(WorkerState::Running);
    // Ids that gave up on cancel: rare, so a list is cheap; they are not coverage.
    let mut gave_up = Vec::new();
    let next = if shared.search.tight_batches() {
        run_tight(shared, index, slot, batch.clone(), &mut gave_up)
    } else {
        run_each(shared, index, slot, batch.clone(), &mut gave_up)
    };
    // Ids run in a batch are a prefix of it: coverage is counted once per batch, not per task.
    let mut coverage = CoverageTally::new(shared);
    coverage.add(batch.start, next - batch.start);
    for &task in &gave_up {
        coverage.remove(task);
    }
    coverage.flush();
    shared.record_completed(batch.start..next, &gave_up);
    bump(&slot.cancelled, batch.end - next);
    bump(&slot.busy_ns, shared.now_ns().saturating_sub(batch_started));
}

/// Runs the batch one [`crate::search::Search::run`] call per id; returns the first id not run.
fn run_each(
    shared: &Shared,
    index: usize,
    slot: &WorkerSlot,
    batch: Range<u64>,
    gave_up: &mut Vec<u64>,
) -> u64 {
    let mut cursor = Cursor {
        next: batch.start,
        end: batch.end,
        fine_timing: batch.end - batch.start <= FINE_TIMING_MAX,
        gave_up,
    };
    // One unwinding frame per batch rather than per task: a panic leaves `cursor.next` on
    // the task that panicked, which is recorded as an error before the loop goes on after it.
    while cursor.next < cursor.end {
        let ran = catch_unwind(AssertUnwindSafe(|| cursor.run(shared, index, slot)));
        let Err(payload) = ran else { break };
        bump(&slot.done, 1);
        record(
            shared,
            index,
            slot,
            cursor.next,
            Outcome::Error(panic_message(payload.as_ref())),
        );
        cursor.next += 1;
    }
    cursor.next
}

/// Where a worker is in its batch of ordinary (non-tight) tasks.
struct Cursor<'a> {
    next: u64,
    end: u64,
    fine_timing: bool,
    gave_up: &'a mut Vec<u64>,
}

impl Cursor<'_> {
    /// Runs tasks from `next` until the batch ends or a halt; a panic escapes with `next` on the task.
    fn run(&mut self, shared: &Shared, index: usize, slot: &WorkerSlot) {
        while self.next < self.end && !shared.halting() {
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
            let outcome = shared.search.run(task, &shared.cancel);
            if self.fine_timing {
                let halt_ns = shared.halt_ns.load(Ordering::Acquire);
                if halt_ns != 0 && started_ns + 1 > halt_ns {
                    bump(&slot.started_after_halt, 1);
                }
            }
            if matches!(outcome, Outcome::Cancelled) {
                self.gave_up.push(task);
                bump(&slot.cancelled, 1);
            } else {
                bump(&slot.done, 1);
                record(shared, index, slot, task, outcome);
            }
            self.next += 1;
        }
    }
}

/// Runs the batch in chunks through [`crate::search::Search::run_batch`]; returns the first id not run.
fn run_tight(
    shared: &Shared,
    index: usize,
    slot: &WorkerSlot,
    batch: Range<u64>,
    gave_up: &mut Vec<u64>,
) -> u64 {
    let mut next = batch.start;
    while next < batch.end && !shared.halting() {
        let end = next.saturating_add(TIGHT_CHUNK).min(batch.end);
        slot.current.store(next, Ordering::Relaxed);
        let mut gave_up_here = Vec::new();
        let ran = catch_unwind(AssertUnwindSafe(|| {
            shared
                .search
                .run_batch(next..end, &shared.cancel, &mut |task, outcome| {
                    if matches!(outcome, Outcome::Cancelled) {
                        gave_up_here.push(task);
                    } else {
                        record(shared, index, slot, task, outcome);
                    }
                })
        }));
        let ran = match ran {
            Ok(ran) => ran.min(end - next),
            Err(payload) => {
                // Which ids of the chunk ran is unknown: count the chunk as run, with one error.
                record(
                    shared,
                    index,
                    slot,
                    next,
                    Outcome::Error(panic_message(payload.as_ref())),
                );
                end - next
            }
        };
        gave_up_here.retain(|task| (next..next + ran).contains(task));
        let cancelled_here = gave_up_here.len() as u64;
        bump(&slot.done, ran - cancelled_here);
        bump(&slot.cancelled, cancelled_here);
        gave_up.append(&mut gave_up_here);
        next += ran;
        if next < end {
            break;
        }
    }
    next
}

/// Acts on one outcome: counters, events, best score and the halt policy.
fn record(shared: &Shared, index: usize, slot: &WorkerSlot, task: u64, outcome: Outcome) {
    match outcome {
        Outcome::Miss | Outcome::Cancelled => {}
        Outcome::Scored(score) => shared.offer_best(task, score, index),
        Outcome::Match { value, score } => {
            let found_at = Instant::now();
            let count = shared.match_count.fetch_add(1, Ordering::AcqRel) + 1;
            bump(&slot.matches, 1);
            if let Some(score) = score {
                shared.offer_best(task, score, index);
            }
            let at = found_at.saturating_duration_since(shared.started);
            // The match is announced before the halt it causes, so logs read in causal order.
            let _sent = shared.events.send(Event::Match {
                task,
                value,
                score,
                worker: index,
                at,
            });
            match shared.policy {
                HaltPolicy::Now => shared.halt(HaltMode::Now, HaltReason::Match, found_at),
                HaltPolicy::Soon => shared.halt(HaltMode::Soon, HaltReason::Match, found_at),
                HaltPolicy::After(limit) if count >= limit => {
                    shared.halt(HaltMode::Now, HaltReason::After, found_at);
                }
                HaltPolicy::After(_) | HaltPolicy::Never => {}
            }
        }
        Outcome::Fatal(message) => {
            shared.record_fatal(&message);
            shared.halt(HaltMode::Now, HaltReason::Fatal, Instant::now());
            record(shared, index, slot, task, Outcome::Error(message));
        }
        Outcome::Error(message) => {
            bump(&slot.errors, 1);
            let at = shared.started.elapsed();
            let _sent = shared.events.send(Event::Error {
                task,
                message,
                worker: index,
                at,
            });
        }
    }
}

/// Accumulates completed ids per coverage bucket locally; one shared add per bucket change.
struct CoverageTally<'a> {
    shared: &'a Shared,
    bucket: usize,
    span: (u64, u64),
    pending: u64,
}

impl<'a> CoverageTally<'a> {
    fn new(shared: &'a Shared) -> Self {
        Self {
            shared,
            bucket: 0,
            span: (0, 0),
            pending: 0,
        }
    }

    fn add(&mut self, start: u64, count: u64) {
        let buckets = self.shared.coverage.len();
        if buckets == 0 {
            return;
        }
        let mut task = start;
        let end = start + count;
        while task < end {
            if task < self.span.0 || task >= self.span.1 {
                self.flush();
                // Ids are handed out only below the known size (even for an open space): task < total.
                let total = self.shared.total();
                self.bucket = super::bucket_of(total, buckets, task);
                self.span = super::bucket_span(total, buckets, self.bucket);
            }
            let here = end.min(self.span.1) - task;
            self.pending += here;
            task += here;
        }
    }

    /// Takes back one id counted by `add` (a tight-batch task that gave up on cancel).
    fn remove(&mut self, task: u64) {
        self.flush();
        let buckets = self.shared.coverage.len();
        if buckets > 0 {
            let bucket = super::bucket_of(self.shared.total(), buckets, task);
            self.shared.coverage[bucket].fetch_sub(1, Ordering::Relaxed);
        }
    }

    fn flush(&mut self) {
        if self.pending > 0 {
            self.shared.coverage[self.bucket].fetch_add(self.pending, Ordering::Relaxed);
            self.pending = 0;
        }
    }
}
