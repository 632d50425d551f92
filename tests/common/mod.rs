//! Helpers shared by the integration tests: the engine's test support (waiting on a condition under a generous deadline, `/proc`), the built binary, scratch files, logs, frames and poolwatch in a pty.
#![allow(
    dead_code,
    reason = "each test crate includes this module and uses part of it"
)]

pub mod cli;
pub mod frames;
pub mod logs;
pub mod pty;
pub mod scratch;

#[path = "../../crates/poolwatch-core/tests/support/mod.rs"]
mod support;
pub use support::*;
