//! Helpers shared by the integration tests: waiting on a condition under a generous deadline.
#![allow(
    dead_code,
    reason = "each test crate includes this module and uses part of it"
)]

use std::time::{Duration, Instant};

/// How long a test waits for something that should happen at once: generous, so that a
/// loaded machine slows a test down rather than failing it.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// How often a condition is polled.
const POLL: Duration = Duration::from_millis(2);

/// Polls `probe` until it returns `Some`, and returns that; panics naming `what` if
/// [`PATIENCE`] passes first.
pub fn wait_for<T>(what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(value) = probe() {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "gave up after {PATIENCE:?} waiting for {what}"
        );
        std::thread::sleep(POLL);
    }
}

/// Polls `condition` until it holds; panics naming `what` if [`PATIENCE`] passes first.
pub fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    wait_for(what, || condition().then_some(()));
}
