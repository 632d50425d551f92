//! Small synchronisation helpers: a poison-free lock (public: poolwatch's application uses it too) and the Linux futex calls the engine's waits need.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// Locks a mutex, ignoring poisoning. Use it only where every critical section leaves its data
/// consistent (as the engine's and poolwatch's do), so that a panic while holding the lock
/// cannot leave a half-updated value behind.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The two futex calls the engine's waits need (Linux): a sleeper blocks on a 32-bit word
/// without any lock, and one call wakes as many sleepers as asked, however many there are.
#[cfg(target_os = "linux")]
pub(crate) mod futex {
    use std::sync::atomic::AtomicU32;
    use std::time::Duration;

    /// Blocks while `word` holds `expected`, for at most `timeout` (forever with `None`);
    /// returns early on a wake, a signal or a spurious wake-up: callers look at the word again.
    #[allow(
        clippy::unnecessary_fallible_conversions,
        reason = "c_long is 32 bits wide on 32-bit targets"
    )]
    pub fn wait(word: &AtomicU32, expected: u32, timeout: Option<Duration>) {
        let timeout = timeout.map(|timeout| libc::timespec {
            tv_sec: libc::time_t::try_from(timeout.as_secs()).unwrap_or(libc::time_t::MAX),
            tv_nsec: libc::c_long::try_from(timeout.subsec_nanos()).unwrap_or(0),
        });
        let timeout_ptr = timeout.as_ref().map_or(std::ptr::null(), std::ptr::from_ref);
        // SAFETY: FUTEX_WAIT reads the aligned 32-bit word, which outlives the call, and the
        // timespec (or none); it writes nothing. Every outcome (woken, timed out, value
        // changed, interrupted) is handled by the caller looking at the word again.
        unsafe {
            libc::syscall(
                libc::SYS_futex,
                word.as_ptr(),
                libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
                expected,
                timeout_ptr,
                std::ptr::null::<u32>(),
                0u32,
            );
        }
    }

    /// Wakes up to `count` threads blocked in [`wait`] on `word`.
    pub fn wake(word: &AtomicU32, count: i32) {
        // SAFETY: FUTEX_WAKE uses the word's address as a key only; nothing is read or written.
        unsafe {
            libc::syscall(
                libc::SYS_futex,
                word.as_ptr(),
                libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG,
                count,
            );
        }
    }
}
