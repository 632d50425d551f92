//! SIGINT, SIGTERM and SIGHUP turned into channel messages, so a run can halt and clean up instead of dying.

use crossbeam_channel::Receiver;
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM, SIGXFSZ};
use signal_hook::iterator::Signals;

/// The signals poolwatch handles.
pub const HANDLED: [i32; 3] = [SIGINT, SIGTERM, SIGHUP];

/// Starts a thread that forwards each handled signal's number on the returned channel.
///
/// Also catches SIGXFSZ (whose default action kills the process), so that a write past a
/// file-size limit fails with `EFBIG` and the log is closed on its last whole line.
///
/// # Errors
/// When the signal handlers cannot be registered.
pub fn listen() -> std::io::Result<Receiver<i32>> {
    let mut signals = Signals::new(HANDLED)?;
    signal_hook::flag::register(SIGXFSZ, std::sync::Arc::default())?;
    let (tx, rx) = crossbeam_channel::unbounded();
    std::thread::Builder::new()
        .name("poolwatch-signals".into())
        .spawn(move || {
            for signal in signals.forever() {
                if tx.send(signal).is_err() {
                    break;
                }
            }
        })?;
    Ok(rx)
}

/// The conventional exit code for death by `signal`: 128 + its number (130 for SIGINT).
#[must_use]
pub fn exit_code(signal: i32) -> u8 {
    u8::try_from(128 + signal).unwrap_or(1)
}
