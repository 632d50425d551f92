//! Headless mode: run with no dashboard, a progress line on stderr and the summary on stdout.

use crate::app::Throughput;
use crate::format::{Progress, count, estimate, human_count, plural, ratio};
use crate::session::{Ending, Request, Session};
use crate::signals::Control;
use crossbeam_channel::{Receiver, never, select, tick};
use poolwatch_core::search::MatchOdds;
use poolwatch_core::{Event, HaltMode, Snapshot};
use std::io::{IsTerminal, Write};
use std::time::Duration;

/// How often the progress line is rewritten on a terminal.
pub(crate) const TTY_PROGRESS_EVERY: Duration = Duration::from_millis(200);
/// Notices printed on stderr in a run (the rest only in `--log`).
const NOTICES_SHOWN: u32 = 5;
/// How often a progress line is printed when stderr is a file or pipe.
pub(crate) const PLAIN_PROGRESS_EVERY: Duration = Duration::from_secs(5);

/// Runs `session` to the end, following signals (`controls`: see [`crate::signals::CONTROL`]),
/// and returns how it ended.
pub fn run(mut session: Session, signals: &Receiver<i32>, controls: &Receiver<i32>) -> Ending {
    let stderr_tty = std::io::stderr().is_terminal();
    let ticker = tick(if stderr_tty {
        TTY_PROGRESS_EVERY
    } else {
        PLAIN_PROGRESS_EVERY
    });
    let status = tick(session.status_every());
    let events = session.run().events().clone();
    let name = session.search().name().to_string();
    let odds = session.search().match_odds();
    let successes = session.search().matches_are_successes();
    let mut signal = None;
    let mut throughput = Throughput::default();
    let mut signal_rx = signals.clone();
    let mut notices = 0;
    let report = loop {
        select! {
            recv(events) -> event => match event {
                Ok(Event::Finished(report)) => break report,
                Ok(event) => {
                    if let Event::Notice { message, .. } = &event {
                        notices += 1;
                        show_notice(message, notices, stderr_tty);
                    }
                    session.record(&event);
                    // Lines are written in bulk while events queue up, at once when none do.
                    if events.is_empty() {
                        session.flush();
                    }
                }
                // The run holds the sender until Finished is sent; disconnection means it is gone.
                Err(_) => break session.run().wait(),
            },
            recv(signal_rx) -> received => {
                if let Ok(number) = received {
                    signal = Some(number);
                    session.run().halt(HaltMode::Now, poolwatch_core::StopRequest::Signal);
                }
                // A second signal needs no further action: the halt is already under way.
                signal_rx = never();
            },
            recv(controls) -> received => {
                if let Some(request) = received.ok().and_then(Control::of).map(request_of) {
                    session.request(request);
                }
            },
            recv(ticker) -> _ => {
                session.flush();
                let snapshot = session.run().snapshot();
                throughput.observe(snapshot.active, snapshot.counters.completed);
                let line = progress_line_of(&snapshot, &name, throughput.windowed_rate, odds, successes);
                progress(&line, stderr_tty);
            }
            recv(status) -> _ => {
                session.tick();
                session.flush();
            }
        }
    };
    if stderr_tty {
        clear_progress();
    }
    session.finish(&report, signal)
}

/// The request a control signal makes, as the dashboard's key for it makes it.
fn request_of(control: Control) -> Request {
    match control {
        Control::Finish => Request::HaltSoon,
        Control::Pause => Request::Pause,
        Control::Resume => Request::Resume,
    }
}

/// Prints the `number`th notice of the run on stderr, up to [`NOTICES_SHOWN`], then says
/// once that the rest are only logged (a notice tells of a rule the user may not expect, such
/// as scores ignored without `--goal`, or of a worker process restarted while idle).
fn show_notice(message: &str, number: u32, tty: bool) {
    let line = match number {
        number if number <= NOTICES_SHOWN => format!("notice: {message}"),
        number if number == NOTICES_SHOWN + 1 => "notice: further notices are only in --log".to_string(),
        _ => return,
    };
    if tty {
        clear_progress();
    }
    progress(&line, false);
}

/// One progress line on stderr: `rewrite` draws it over the last one (a terminal), else it
/// ends with a newline (a file or pipe).
pub(crate) fn progress(line: &str, rewrite: bool) {
    let line = crate::escape::controls(line);
    let written = write_progress(&mut std::io::stderr().lock(), &line, rewrite);
    crate::console::note_stderr(&written);
}

/// Erases the progress line drawn on a terminal.
pub(crate) fn clear_progress() {
    progress("", true);
}

/// Writes a progress line, built whole in memory and handed over in one `write_all`: stderr
/// is unbuffered, so pieces written one by one could have another process's output (a
/// Slurm log, a terminal shared with the job) land between them.
fn write_progress(out: &mut impl Write, line: &str, rewrite: bool) -> std::io::Result<()> {
    let text = if rewrite {
        format!("\r\x1b[K{line}")
    } else {
        format!("{line}\n")
    };
    out.write_all(text.as_bytes())?;
    out.flush()
}

/// The text of the progress line: the same rate window and ETA definition as the dashboard.
#[must_use]
pub fn progress_line(snapshot: &Snapshot, name: &str, rate: f64, odds: MatchOdds) -> String {
    progress_line_of(snapshot, name, rate, odds, false)
}

/// [`progress_line`], with matches counted as `N succeeded` where they are jobs that
/// succeeded ([`Search::matches_are_successes`]).
fn progress_line_of(snapshot: &Snapshot, name: &str, rate: f64, odds: MatchOdds, successes: bool) -> String {
    let matches = if successes {
        format!("{} succeeded", count(snapshot.counters.matches))
    } else {
        plural(snapshot.counters.matches, "match")
    };
    let counts = format!(
        "{matches}, {}, {}, {} tasks/s",
        plural(snapshot.counters.errors, "error"),
        plural(
            u64::try_from(snapshot.target_workers).unwrap_or(u64::MAX),
            "worker"
        ),
        human_count(rate),
    );
    if snapshot.total_open {
        // Input still being read: the count so far, no percentage or ETA.
        return format!(
            "{name} {} done, {} read so far (total open), {counts}",
            count(snapshot.counters.completed),
            count(snapshot.counters.total)
        );
    }
    let percent = ratio(snapshot.counters.completed, snapshot.counters.total) * 100.0;
    let eta = estimate(Progress::of(snapshot, rate), odds).text();
    let best = snapshot
        .best
        .map_or_else(|| "-".to_string(), |b| crate::format::score(b.score));
    format!(
        "{name} {percent:5.1}% {}/{} done, {counts}, {eta}, best {best}",
        count(snapshot.counters.completed),
        count(snapshot.counters.total)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Writes;

    fn snapshot(total: u64, completed: u64, open: bool) -> Snapshot {
        Snapshot {
            counters: poolwatch_core::Counters {
                total,
                completed,
                ..poolwatch_core::Counters::default()
            },
            total_open: open,
            target_workers: 1,
            ..Snapshot::default()
        }
    }

    #[test]
    fn a_progress_line_is_written_whole_in_one_write() {
        let line = progress_line(&snapshot(200, 50, false), "collatz", 12.5, MatchOdds::Unknown);
        for (rewrite, expected) in [(false, format!("{line}\n")), (true, format!("\r\x1b[K{line}"))] {
            let mut writes = Writes::default();
            write_progress(&mut writes, &line, rewrite).unwrap();
            let written: Vec<String> = writes
                .0
                .iter()
                .map(|w| String::from_utf8_lossy(w).into())
                .collect();
            assert_eq!(
                written,
                [expected],
                "one write for the whole line, rewrite: {rewrite}"
            );
        }
    }

    #[test]
    fn the_progress_line_uses_the_dashboards_eta_words() {
        let pow = MatchOdds::PerTask(0.5_f64.powi(28));
        let line = progress_line(&snapshot(1 << 32, 1 << 28, false), "pow", 7.5e6, pow);
        assert!(
            line.contains("expected match in 35.8s (63% chance by now)"),
            "{line}"
        );
        assert!(line.contains("exhaust in 8m 56s"), "{line}");
        assert!(line.contains("1 worker,") && line.contains("0 matches"), "{line}");
        assert!(line.contains("268,435,456/4,294,967,296"), "{line}");
        let open = progress_line(&snapshot(1_960, 1_936, true), "exec", 100.0, MatchOdds::Unknown);
        assert!(!open.contains('%') && !open.contains("exhaust"), "{open}");
        assert!(
            open.contains("1,936 done, 1,960 read so far (total open)"),
            "{open}"
        );
    }
}
