//! Helpers shared by the integration tests: waiting on a condition under a generous deadline, and poolwatch in a pty.
#![allow(
    dead_code,
    reason = "each test crate includes this module and uses part of it"
)]

pub mod pty;

use std::time::{Duration, Instant};

/// How long a test waits for something that should happen at once: generous, so that a
/// loaded machine slows a test down rather than failing it.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// How often a condition is polled.
const POLL: Duration = Duration::from_millis(2);

/// Polls `probe` every `every` until it returns `Some`, and returns that; `None` once
/// `patience` has passed without it.
pub fn poll_within<T>(
    patience: Duration,
    every: Duration,
    mut probe: impl FnMut() -> Option<T>,
) -> Option<T> {
    let deadline = Instant::now() + patience;
    loop {
        if let Some(value) = probe() {
            return Some(value);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(every);
    }
}

/// Polls `probe` until it returns `Some`, and returns that; panics naming `what` if
/// [`PATIENCE`] passes first.
pub fn wait_for<T>(what: &str, probe: impl FnMut() -> Option<T>) -> T {
    poll_within(PATIENCE, POLL, probe)
        .unwrap_or_else(|| panic!("gave up after {PATIENCE:?} waiting for {what}"))
}

/// Polls `condition` until it holds; panics naming `what` if [`PATIENCE`] passes first.
pub fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    wait_for(what, || condition().then_some(()));
}
