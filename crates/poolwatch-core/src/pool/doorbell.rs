//! The doorbell idle workers sleep on: rung for a new batch, a resume, a retirement, the end of submission or a halt.

use std::sync::atomic::{AtomicU32, Ordering};

/// A wait-for-news primitive for hundreds of sleepers.
///
/// A worker with nothing to do looks for work, and if there is none sleeps until the bell
/// rings. Whoever makes news (a batch sent, a halt) makes it visible first and rings after:
/// the ring bumps an epoch that the sleeper read before its last look, so news made after
/// that look is never slept through. On Linux the sleepers wait on the epoch as a futex:
/// no lock is taken to sleep or to wake, so a thousand workers woken at a halt do not queue
/// on one (a select over channels makes each woken worker take every channel's waker lock).
pub(crate) struct Doorbell {
    epoch: AtomicU32,
    /// Workers inside [`Doorbell::wait_for`]'s sleep, so that a ring with nobody to wake costs
    /// no system call.
    sleepers: AtomicU32,
    #[cfg(not(target_os = "linux"))]
    fallback: (std::sync::Mutex<()>, std::sync::Condvar),
}

impl Doorbell {
    pub fn new() -> Self {
        Self {
            epoch: AtomicU32::new(0),
            sleepers: AtomicU32::new(0),
            #[cfg(not(target_os = "linux"))]
            fallback: (std::sync::Mutex::new(()), std::sync::Condvar::new()),
        }
    }

    /// Returns the first `Some` of `look`, sleeping between looks until the bell rings.
    pub fn wait_for<T>(&self, mut look: impl FnMut() -> Option<T>) -> T {
        loop {
            if let Some(found) = look() {
                return found;
            }
            // Counted as a sleeper before the epoch is read: a ring after this point either
            // sees the count and wakes, or came before the read and changed the epoch.
            self.sleepers.fetch_add(1, Ordering::SeqCst);
            let seen = self.epoch.load(Ordering::SeqCst);
            if let Some(found) = look() {
                self.sleepers.fetch_sub(1, Ordering::SeqCst);
                return found;
            }
            self.sleep(seen);
            self.sleepers.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// Wakes one sleeper (news one worker can take: a batch).
    pub fn ring_one(&self) {
        self.ring(1);
    }

    /// Wakes every sleeper (news for all: halt, resume, retirement, end of submission).
    pub fn ring_all(&self) {
        self.ring(u32::MAX);
    }

    fn ring(&self, count: u32) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        if self.sleepers.load(Ordering::SeqCst) > 0 {
            self.wake(count);
        }
    }

    #[cfg(target_os = "linux")]
    fn sleep(&self, seen: u32) {
        crate::sync::futex::wait(&self.epoch, seen, None);
    }

    #[cfg(target_os = "linux")]
    fn wake(&self, count: u32) {
        crate::sync::futex::wake(&self.epoch, i32::try_from(count).unwrap_or(i32::MAX));
    }

    #[cfg(not(target_os = "linux"))]
    fn sleep(&self, seen: u32) {
        let (lock, condvar) = &self.fallback;
        let guard = crate::sync::lock(lock);
        if self.epoch.load(Ordering::SeqCst) == seen {
            // A spurious wake-up only means one more look.
            let _woken = condvar.wait(guard);
        }
    }

    #[cfg(not(target_os = "linux"))]
    fn wake(&self, _count: u32) {
        let (lock, condvar) = &self.fallback;
        let _guard = crate::sync::lock(lock);
        condvar.notify_all();
    }
}
