//! The cancel token every task receives: poll it, or sleep on it and wake at once on cancel.

use std::cell::Cell;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Something to run once, the moment the token is cancelled.
type Hook = Box<dyn FnOnce() + Send>;

/// Gives every token an id of its own, so a thread can remember which token it is registered with.
#[cfg(not(target_os = "linux"))]
static NEXT_TOKEN_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

struct Shared {
    /// 0, then 1 once cancelled. A 32-bit word: on Linux sleepers wait on it as a futex, so
    /// that one system call wakes them all however many there are.
    cancelled: AtomicU32,
    /// Elsewhere: which token a thread registered with as a sleeper.
    #[cfg(not(target_os = "linux"))]
    id: u64,
    /// Hooks registered with [`CancelToken::on_cancel`], run (and dropped) on cancel.
    lock: Mutex<Vec<Hook>>,
    /// Elsewhere: threads that have slept on this token, unparked on cancel. Each registers
    /// once, so a sleep takes no lock.
    #[cfg(not(target_os = "linux"))]
    sleepers: Mutex<Vec<std::thread::Thread>>,
}

impl Default for Shared {
    fn default() -> Self {
        Self {
            cancelled: AtomicU32::new(0),
            #[cfg(not(target_os = "linux"))]
            id: NEXT_TOKEN_ID.fetch_add(1, Ordering::Relaxed),
            lock: Mutex::new(Vec::new()),
            #[cfg(not(target_os = "linux"))]
            sleepers: Mutex::new(Vec::new()),
        }
    }
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("cancelled", &self.cancelled)
            .finish_non_exhaustive()
    }
}

/// A cheap, clonable cancellation flag shared by every task of one run.
///
/// Tasks poll [`CancelToken::is_cancelled`] in loops, or call [`CancelToken::sleep`]
/// instead of `thread::sleep`, which returns early the moment the run is cancelled.
#[derive(Debug, Clone, Default)]
pub struct CancelToken {
    shared: Arc<Shared>,
}

impl CancelToken {
    /// A fresh token that is not cancelled.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// True once [`CancelToken::cancel`] has been called.
    #[must_use]
    #[inline]
    pub fn is_cancelled(&self) -> bool {
        self.shared.cancelled.load(Ordering::Acquire) != 0
    }

    /// Cancels the token, wakes every thread sleeping on it and runs the
    /// [`CancelToken::on_cancel`] hooks.
    pub fn cancel(&self) {
        if self.shared.cancelled.swap(1, Ordering::SeqCst) == 1 {
            // Cancelled before: its sleepers were woken and its hooks run (a hook added since
            // ran at once, in `on_cancel`).
            return;
        }
        self.wake_sleepers();
        let hooks = std::mem::take(&mut *crate::sync::lock(&self.shared.lock));
        for hook in hooks {
            hook();
        }
    }

    /// Wakes every thread in [`CancelToken::sleep`]: one futex wake for all of them.
    #[cfg(target_os = "linux")]
    fn wake_sleepers(&self) {
        crate::sync::futex::wake(&self.shared.cancelled, i32::MAX);
    }

    /// Waits until cancelled or `timeout` passes (or spuriously earlier).
    #[cfg(target_os = "linux")]
    fn wait(&self, timeout: Duration) {
        crate::sync::futex::wait(&self.shared.cancelled, 0, Some(timeout));
    }

    /// Unparks every thread that has slept on this token.
    #[cfg(not(target_os = "linux"))]
    fn wake_sleepers(&self) {
        // A sleeper registers before its first look at the flag: either it is in this list
        // and gets unparked, or it registered after this lock and then sees the flag.
        for sleeper in crate::sync::lock(&self.shared.sleepers).iter() {
            sleeper.unpark();
        }
    }

    /// Waits until unparked or `timeout` passes (or spuriously earlier).
    #[cfg(not(target_os = "linux"))]
    fn wait(&self, timeout: Duration) {
        std::thread::park_timeout(timeout);
    }

    /// Adds the calling thread to the sleepers unparked on cancel, once per thread and token.
    #[cfg(not(target_os = "linux"))]
    fn register_sleeper(&self) {
        if REGISTERED_WITH.with(Cell::get) == self.shared.id {
            return;
        }
        let current = std::thread::current();
        let mut sleepers = crate::sync::lock(&self.shared.sleepers);
        if !sleepers.iter().any(|thread| thread.id() == current.id()) {
            sleepers.push(current);
        }
        drop(sleepers);
        REGISTERED_WITH.with(|registered| registered.set(self.shared.id));
    }

    /// Runs `hook` once when the token is cancelled (at once if it already is).
    ///
    /// This lets a task that blocks in the operating system (in `poll`, say) be woken
    /// through a descriptor of its own: the hook writes to it. Hooks run on the
    /// cancelling thread, so they must be quick and must not block.
    pub fn on_cancel(&self, hook: impl FnOnce() + Send + 'static) {
        let mut hooks = crate::sync::lock(&self.shared.lock);
        if self.is_cancelled() {
            drop(hooks);
            hook();
        } else {
            hooks.push(Box::new(hook));
        }
    }

    /// True when `self` and `other` are clones of one token.
    #[must_use]
    pub fn same_token(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// Sleeps for `duration` unless cancelled first. Returns true if it was cancelled.
    ///
    /// Timed waits on Linux wake up late (about 65 us per call on a 2-core VM even with
    /// the timer slack at 1 ns), which would make every 1 ms task last 1.065 ms. Each
    /// thread learns its own overshoot and asks for that much less, so that the sleep
    /// lasts `duration` on average.
    pub fn sleep(&self, duration: Duration) -> bool {
        let started = Instant::now();
        let deadline = started + duration;
        let early = OVERSHOOT_NS.with(Cell::get).min(duration_ns(duration) / 2);
        let wake_at = deadline - Duration::from_nanos(early);
        // Registered before the first look at the flag: a cancel either finds this thread
        // in the list and unparks it, or came before the look and is seen by it.
        #[cfg(not(target_os = "linux"))]
        self.register_sleeper();
        loop {
            if self.is_cancelled() {
                return true;
            }
            let now = Instant::now();
            if now >= wake_at {
                break;
            }
            // Wakes early on cancel; a spurious wake-up just goes round again.
            self.wait(wake_at - now);
        }
        learn_overshoot(duration_ns(started.elapsed()), duration_ns(duration));
        false
    }
}

thread_local! {
    /// The id of the token this thread last registered with as a sleeper (0: none).
    #[cfg(not(target_os = "linux"))]
    static REGISTERED_WITH: Cell<u64> = const { Cell::new(0) };
    /// This thread's estimate of how late a timed wait wakes up, in nanoseconds.
    static OVERSHOOT_NS: Cell<u64> = const { Cell::new(0) };
}

fn duration_ns(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

/// Moves the overshoot estimate an eighth of the way toward the last sleep's error.
fn learn_overshoot(slept_ns: u64, wanted_ns: u64) {
    OVERSHOOT_NS.with(|estimate| {
        let current = i128::from(estimate.get());
        let error = i128::from(slept_ns) - i128::from(wanted_ns);
        let next = (current + error / 8).clamp(0, i128::from(wanted_ns / 2));
        estimate.set(u64::try_from(next).unwrap_or(0));
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::thread;

    #[test]
    fn sleep_runs_full_length_when_not_cancelled() {
        let token = CancelToken::new();
        let started = Instant::now();
        assert!(!token.sleep(Duration::from_millis(20)));
        assert!(started.elapsed() >= Duration::from_millis(19));
    }

    #[test]
    fn repeated_sleeps_average_close_to_the_request() {
        let token = CancelToken::new();
        let started = Instant::now();
        for _ in 0..200 {
            token.sleep(Duration::from_millis(1));
        }
        let mean = started.elapsed() / 200;
        // Timing on a loaded CI machine is noisy: only require the mean not to fall short.
        assert!(mean >= Duration::from_micros(950), "mean {mean:?}");
    }

    #[test]
    fn the_overshoot_estimate_converges_to_the_timer_lateness() {
        // A timer that always wakes 65 us late: after a while the request is shortened by that much.
        let wanted = 1_000_000;
        for _ in 0..300 {
            let asked = wanted - OVERSHOOT_NS.with(Cell::get);
            learn_overshoot(asked + 65_000, wanted);
        }
        let estimate = OVERSHOOT_NS.with(Cell::get);
        assert!((63_000..=67_000).contains(&estimate), "{estimate}");
    }

    #[test]
    fn hooks_run_once_on_cancel_or_at_once_when_already_cancelled() {
        use std::sync::atomic::AtomicUsize;
        let token = CancelToken::new();
        let runs = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&runs);
        token.on_cancel(move || {
            counter.fetch_add(1, Ordering::SeqCst);
        });
        assert_eq!(runs.load(Ordering::SeqCst), 0);
        token.cancel();
        token.cancel();
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        let counter = Arc::clone(&runs);
        token.on_cancel(move || {
            counter.fetch_add(1, Ordering::SeqCst);
        });
        assert_eq!(runs.load(Ordering::SeqCst), 2);
        assert!(token.same_token(&token.clone()));
        assert!(!token.same_token(&CancelToken::new()));
    }

    #[test]
    fn cancel_wakes_a_sleeper_early() {
        let token = CancelToken::new();
        let sleeper = token.clone();
        let handle = thread::spawn(move || {
            let started = Instant::now();
            let cancelled = sleeper.sleep(Duration::from_secs(30));
            (cancelled, started.elapsed())
        });
        thread::sleep(Duration::from_millis(30));
        token.cancel();
        let (cancelled, slept) = handle.join().expect("sleeper thread");
        assert!(cancelled);
        assert!(slept < Duration::from_secs(10), "slept {slept:?}");
    }
}
