//! Small synchronisation helpers shared by the engine and the application.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// Locks a mutex, ignoring poisoning: every critical section in this crate leaves its data consistent,
/// so a panic while holding the lock cannot leave a half-updated value behind.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
