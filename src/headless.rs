//! Headless mode: run with no dashboard, a progress line on stderr and the summary on stdout.

use crate::journal::Journal;
use crate::logformat::LogEvent;
use crate::pool::{Event, HaltMode, Run, RunConfig, Snapshot};
use crate::search::Search;
use crate::signals::Control;
use crate::summary::{Summary, human_count};
use crossbeam_channel::{Receiver, never, select, tick};
use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::Duration;

/// How often the progress line is rewritten on a terminal.
const TTY_PROGRESS_EVERY: Duration = Duration::from_millis(200);
/// How often a progress line is printed when stderr is a file or pipe.
const PLAIN_PROGRESS_EVERY: Duration = Duration::from_secs(5);

/// Runs `search` to the end, following signals (`controls`: see [`crate::signals::CONTROL`]),
/// and returns the summary.
pub fn run(
    search: Arc<dyn Search>,
    config: &RunConfig,
    journal: &mut Journal,
    signals: &Receiver<i32>,
    controls: &Receiver<i32>,
) -> Summary {
    let stderr_tty = std::io::stderr().is_terminal();
    let ticker = tick(if stderr_tty {
        TTY_PROGRESS_EVERY
    } else {
        PLAIN_PROGRESS_EVERY
    });
    let run = Run::start(Arc::clone(&search), config);
    let status = tick(journal.status_every());
    let mut signal = None;
    let mut signal_rx = signals.clone();
    let report = loop {
        select! {
            recv(run.events()) -> event => match event {
                Ok(Event::Finished(report)) => break report,
                Ok(event) => {
                    journal.event(&run, &event);
                    // Lines are written in bulk while events queue up, at once when none do.
                    if run.events().is_empty() {
                        journal.flush();
                    }
                }
                // The run holds the sender until Finished is sent; disconnection means it is gone.
                Err(_) => break run.wait(),
            },
            recv(signal_rx) -> received => {
                if let Ok(number) = received {
                    signal = Some(number);
                    run.halt(HaltMode::Now, crate::pool::StopRequest::Signal);
                }
                // A second signal needs no further action: the halt is already under way.
                signal_rx = never();
            },
            recv(controls) -> received => {
                if let Ok(control) = received.map(Control::of) {
                    apply_control(&run, journal, control);
                }
            },
            recv(ticker) -> _ => {
                journal.flush();
                progress(&run.snapshot(), search.name(), stderr_tty);
            }
            recv(status) -> _ => {
                journal.tick(&run);
                journal.flush();
            }
        }
    };
    if stderr_tty {
        let mut stderr = std::io::stderr().lock();
        let cleared = write!(stderr, "\r\x1b[K").and_then(|()| stderr.flush());
        crate::launch::note_stderr(&cleared);
    }
    journal.finish(&run, &report, signal)
}

/// Carries out a control signal and logs it as the dashboard logs the same key.
fn apply_control(run: &Run, journal: &mut Journal, control: Option<Control>) {
    let event = match control {
        Some(Control::Finish) => {
            run.halt_soon();
            LogEvent::HaltRequest {
                mode: "soon".to_string(),
            }
        }
        Some(Control::Pause) if !run.is_paused() && !run.is_finished() => {
            run.pause();
            LogEvent::Pause {}
        }
        Some(Control::Resume) if run.is_paused() => {
            run.resume();
            LogEvent::Resume {}
        }
        _ => return,
    };
    journal.control(run.elapsed(), &event);
}

/// One progress line on stderr.
fn progress(snapshot: &Snapshot, name: &str, rewrite: bool) {
    let line = progress_line(snapshot, name);
    let mut stderr = std::io::stderr().lock();
    let written = if rewrite {
        write!(stderr, "\r\x1b[K{line}")
    } else {
        writeln!(stderr, "{line}")
    };
    crate::launch::note_stderr(&written.and_then(|()| stderr.flush()));
}

/// The text of the progress line.
#[must_use]
pub fn progress_line(snapshot: &Snapshot, name: &str) -> String {
    let counts = format!(
        "{} matches, {} errors, {} workers, {} tasks/s",
        snapshot.counters.matches,
        snapshot.counters.errors,
        snapshot.target_workers,
        human_count(snapshot.tasks_per_s),
    );
    if snapshot.total_open {
        // Input still being read: the count so far, no percentage or ETA.
        return format!(
            "{name} {}/{}+ done (total open), {counts}",
            snapshot.counters.completed, snapshot.counters.total
        );
    }
    #[expect(clippy::cast_precision_loss, reason = "a percentage")]
    let percent = if snapshot.counters.total == 0 {
        100.0
    } else {
        snapshot.counters.completed as f64 * 100.0 / snapshot.counters.total as f64
    };
    let remaining = snapshot.remaining();
    let eta = if snapshot.tasks_per_s > 0.0 {
        #[expect(clippy::cast_precision_loss, reason = "an estimate")]
        let secs = remaining as f64 / snapshot.tasks_per_s;
        format!("{secs:.0}s")
    } else {
        "-".to_string()
    };
    let best = snapshot
        .best
        .map_or_else(|| "-".to_string(), |b| crate::summary::format_score(b.score));
    format!(
        "{name} {percent:5.1}% {}/{} done, {counts}, ETA {eta}, best {best}",
        snapshot.counters.completed, snapshot.counters.total
    )
}
