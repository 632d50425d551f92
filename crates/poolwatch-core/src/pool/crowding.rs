//! How worker threads ask the kernel to schedule them (timer slack, scheduling policy), by how many workers share each CPU.

use std::cell::Cell;

/// With at most this many workers per CPU the CPUs are not crowded.
const UNCROWDED_WORKERS_PER_CPU: usize = 16;
/// Timer slack of workers on uncrowded CPUs, in ns: a 1 ms sleep lasts ~1 ms, not ~1.05 ms.
const TIGHT_SLACK_NS: u64 = 1;
/// Timer slack of workers on crowded CPUs, in ns.
const LOOSE_SLACK_NS: u64 = 250_000;

/// How crowded the CPUs are with workers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Crowding {
    /// At most [`UNCROWDED_WORKERS_PER_CPU`] workers per CPU: each wake-up should be prompt.
    Uncrowded,
    /// More: the CPUs are the bottleneck, and each wake-up that takes a CPU from a worker
    /// already running costs everyone.
    Crowded,
}

impl Crowding {
    /// The crowding of `workers` workers on this machine's CPUs.
    pub fn of(workers: usize) -> Self {
        if workers > UNCROWDED_WORKERS_PER_CPU.saturating_mul(num_cpus::get()) {
            Self::Crowded
        } else {
            Self::Uncrowded
        }
    }
}

/// What one worker thread last asked of the kernel; asks again when the crowding changes.
pub(crate) struct ThreadFit {
    applied: Cell<Option<Crowding>>,
    /// The worker count the thread was last fitted to: the CPUs are counted again only when
    /// it changes. Counting them (`num_cpus::get`: a `sched_getaffinity` call and a count of
    /// its 1,024-bit mask) before every batch was 59 % of the instructions of a 1,024-worker
    /// run of 1 ms tasks (issue 27).
    fitted: Cell<Option<usize>>,
}

impl ThreadFit {
    pub fn new() -> Self {
        Self {
            applied: Cell::new(None),
            fitted: Cell::new(None),
        }
    }

    /// Fits the calling thread to `workers` workers, if that changes how crowded the CPUs are
    /// (a worker count lowered or raised at run time crosses the line): one compare otherwise.
    pub fn fit(&self, workers: usize) {
        if self.fitted.get() == Some(workers) {
            return;
        }
        self.fitted.set(Some(workers));
        let crowding = Crowding::of(workers);
        if self.applied.get() != Some(crowding) {
            apply(crowding);
            self.applied.set(Some(crowding));
        }
    }
}

/// Sets the calling thread's timer slack and scheduling policy for `crowding`.
///
/// - Uncrowded: timer slack 1 ns (Linux's default is 50 us), the normal policy.
/// - Crowded: timer slack 250 us, so that the kernel wakes many sleepers on one timer
///   interrupt, and `SCHED_BATCH`, so that a worker whose sleep ends waits for a CPU to
///   come free instead of preempting a worker that is running (it keeps its fair share;
///   only the wake-up preemption goes). With 1,024 workers of 1 ms tasks on 2 CPUs this
///   cut the median halt latency by more than half and the time to halt by about 15 % in
///   a scratch comparison; the suite's `many-workers` workload measures the result.
///
/// [`crate::CancelToken::sleep`] learns the mean overshoot and asks for that much less, so
/// the mean sleep stays on time under either slack. Changing between these two policies
/// needs no privilege.
fn apply(crowding: Crowding) {
    let (slack_ns, policy) = match crowding {
        Crowding::Uncrowded => (TIGHT_SLACK_NS, SchedPolicy::Normal),
        Crowding::Crowded => (LOOSE_SLACK_NS, SchedPolicy::Batch),
    };
    set_timer_slack(slack_ns);
    set_policy(policy);
}

/// The two fair-share scheduling policies a worker uses.
#[derive(Debug, Clone, Copy)]
enum SchedPolicy {
    Normal,
    Batch,
}

#[cfg(target_os = "linux")]
fn set_timer_slack(slack_ns: u64) {
    // SAFETY: PR_SET_TIMERSLACK only changes this thread's timer slack; the arguments are plain integers.
    unsafe {
        libc::prctl(libc::PR_SET_TIMERSLACK, slack_ns as libc::c_ulong, 0, 0, 0);
    }
}

#[cfg(target_os = "linux")]
fn set_policy(policy: SchedPolicy) {
    let policy = match policy {
        SchedPolicy::Normal => libc::SCHED_OTHER,
        SchedPolicy::Batch => libc::SCHED_BATCH,
    };
    let param = libc::sched_param { sched_priority: 0 };
    // SAFETY: pid 0 is the calling thread; `param` outlives the call. A refusal (a seccomp
    // filter, say) only leaves the thread as it was, which is harmless.
    unsafe {
        libc::sched_setscheduler(0, policy, &raw const param);
    }
}

#[cfg(not(target_os = "linux"))]
fn set_timer_slack(_slack_ns: u64) {}

#[cfg(not(target_os = "linux"))]
fn set_policy(_policy: SchedPolicy) {}
