//! Helpers shared by the engine's and the application's integration tests: waiting on a condition under a generous deadline, a deterministic random generator, and `/proc`.
#![allow(
    dead_code,
    reason = "each test crate includes this module and uses part of it"
)]

pub mod procfs;

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

/// The next number of a small deterministic generator (xorshift64) whose state is `state`:
/// random-looking choices that are the same on every run.
pub fn next_random(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// Polls `condition` every 10 ms until it holds (true) or `patience` has passed (false):
/// for a test that says itself what a timeout means.
pub fn holds_within(patience: Duration, mut condition: impl FnMut() -> bool) -> bool {
    poll_within(patience, Duration::from_millis(10), || condition().then_some(())).is_some()
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
