//! SIGINT, SIGTERM and SIGHUP turned into channel messages, so a run can halt and clean up instead of dying.

use crossbeam_channel::Receiver;
use signal_hook::consts::{SIGCONT, SIGHUP, SIGINT, SIGTERM, SIGUSR1, SIGUSR2, SIGXFSZ};
use signal_hook::iterator::Signals;

/// The signals poolwatch handles.
pub const HANDLED: [i32; 3] = [SIGINT, SIGTERM, SIGHUP];

/// The signals a headless run takes as controls (what `--cluster` sends its shards):
/// SIGUSR1 finish (no new tasks, running ones complete), SIGUSR2 pause submission, SIGCONT resume.
pub const CONTROL: [i32; 3] = [SIGUSR1, SIGUSR2, SIGCONT];

/// What a control signal asks a headless run to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// SIGUSR1: stop new work, let running tasks finish.
    Finish,
    /// SIGUSR2: pause submission.
    Pause,
    /// SIGCONT: resume submission.
    Resume,
}

impl Control {
    /// The control a signal number stands for, if any.
    #[must_use]
    pub fn of(signal: i32) -> Option<Self> {
        match signal {
            SIGUSR1 => Some(Self::Finish),
            SIGUSR2 => Some(Self::Pause),
            SIGCONT => Some(Self::Resume),
            _ => None,
        }
    }
}

/// Starts a thread that forwards each handled signal's number on the returned channel.
///
/// Also catches SIGXFSZ (whose default action kills the process), so that a write past a
/// file-size limit fails with `EFBIG` and the log is closed on its last whole line.
///
/// # Errors
/// When the signal handlers cannot be registered.
pub fn listen() -> std::io::Result<Receiver<i32>> {
    signal_hook::flag::register(SIGXFSZ, std::sync::Arc::default())?;
    forward(&HANDLED, "poolwatch-signals")
}

/// Like [`listen`] for the [`CONTROL`] signals (headless runs only: the dashboard has keys).
///
/// # Errors
/// When the signal handlers cannot be registered.
pub fn listen_controls() -> std::io::Result<Receiver<i32>> {
    forward(&CONTROL, "poolwatch-controls")
}

fn forward(set: &[i32], thread: &str) -> std::io::Result<Receiver<i32>> {
    let mut signals = Signals::new(set)?;
    let (tx, rx) = crossbeam_channel::unbounded();
    std::thread::Builder::new().name(thread.into()).spawn(move || {
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
