//! The dashboard's real main loop driven in-process on a `TestBackend`: keys in, runs launched, frames drawn.
#![allow(
    clippy::unwrap_used,
    reason = "a failed unwrap here is a failed test, with its message"
)]

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use poolwatch::internals::Input;
use poolwatch::internals::Preset;
use poolwatch::internals::{App, Phase};
use poolwatch::internals::{LoopEnd, LoopOptions, run_loop};
use poolwatch::internals::{NeedleSpec, SearchSpec};
use poolwatch::{HaltPolicy, HaltReason};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::path::Path;
use std::time::Duration;

mod common;
use common::frames::key_input as key;
use common::logs::{complete_lines, kinds_but_progress, of_kind, read_jsonl};
use common::scratch::Scratch;
use common::wait_until;

fn needle(tasks: u64, needle: u64) -> Preset {
    Preset {
        name: "test run".into(),
        description: String::new(),
        spec: SearchSpec::Needle(NeedleSpec {
            tasks,
            needle,
            panic_every: 0,
            sleep_ms: 1.0,
        }),
        workers: Some(2),
        halt: HaltPolicy::Now,
    }
}

/// What the test waits for before sending the next key.
enum Then {
    /// The log holds this many events of this kind (`start`, `pause`, `end`, ...).
    Logged(&'static str, usize),
    /// The `run`th run (from 1) logged progress with more than this many tasks completed.
    Ran(usize, u64),
    /// Nothing: the key is the last one.
    Done,
}

impl Then {
    /// True once the log shows what this waits for.
    fn seen_in(&self, log: &Path) -> bool {
        let events = complete_lines(log);
        match self {
            Then::Logged(kind, count) => events.iter().filter(|e| e["event"] == *kind).count() >= *count,
            Then::Ran(run, tasks) => {
                let mut started = 0;
                events.iter().any(|e| {
                    started += usize::from(e["event"] == "start");
                    started == *run
                        && e["event"] == "progress"
                        && e["completed"].as_u64().is_some_and(|done| done > *tasks)
                })
            }
            Then::Done => true,
        }
    }
}

/// The summary in the log's first `end` event.
fn first_summary(log: &Path) -> serde_json::Value {
    let events = read_jsonl(log);
    let first_end = of_kind(&events, "end").into_iter().next().expect("an end event");
    first_end["summary"].clone()
}

/// Runs the loop on a thread with its runs logged to `log`, feeding `script`: each key, then
/// a wait for what it should lead to (seen in the log); returns the end state.
fn drive(preset: Preset, script: &[(Input, Then)], log: &Path) -> (Terminal<TestBackend>, App, LoopEnd) {
    let (key_tx, key_rx) = crossbeam_channel::unbounded();
    let (_signal_tx, signal_rx) = crossbeam_channel::unbounded::<i32>();
    let log_path = Some(log.to_path_buf());
    let handle = std::thread::spawn(move || {
        let mut terminal = Terminal::new(TestBackend::new(100, 30)).unwrap();
        let mut app = App::new(vec![preset], false);
        let options = LoopOptions {
            fps: 30,
            log_path,
            // Frequent progress events: the test waits on them.
            status_every: Duration::from_millis(50),
            runs_path: None,
            presets_dir: None,
            window: None,
            resume: None,
        };
        let end = run_loop(&mut terminal, &mut app, &key_rx, &signal_rx, options, false).unwrap();
        (terminal, app, end)
    });
    for (index, (input, then)) in script.iter().enumerate() {
        key_tx.send(input.clone()).unwrap();
        wait_until(&format!("the log to show step {index}'s effect"), || {
            then.seen_in(log)
        });
    }
    handle.join().unwrap()
}

#[test]
fn enter_launches_t_terminates_q_quits() {
    // Enter after `t` launches a second run only if `t` really ended the first one.
    let scratch = Scratch::new("loop-t");
    let log = scratch.join("log.jsonl");
    let script = [
        (key(KeyCode::Enter), Then::Ran(1, 100)),
        (key(KeyCode::Char('p')), Then::Logged("pause", 1)),
        (key(KeyCode::Char('p')), Then::Logged("resume", 1)),
        (key(KeyCode::Char('t')), Then::Logged("end", 1)),
        (key(KeyCode::Enter), Then::Ran(2, 100)),
        (key(KeyCode::Char('t')), Then::Logged("end", 2)),
        (key(KeyCode::Char('q')), Then::Done),
    ];
    let (terminal, app, end) = drive(needle(1_000_000, 999_999), &script, &log);
    assert_eq!(app.phase, Phase::Stopped);
    let report = app.report.expect("the run ended");
    assert_eq!(report.reason, HaltReason::User);
    assert!(
        report.counters.completed > 100,
        "it ran: {}",
        report.counters.completed
    );
    assert_eq!(end.summary.expect("summary of the run").exit_code, 1);
    let first = first_summary(&log);
    assert_eq!(first["halt_reason"], "user", "{first}");
    let screen = terminal.backend().to_string();
    assert!(
        screen.contains("[Stopped]") && screen.contains("Enter run again"),
        "{screen}"
    );
    let kinds = kinds_but_progress(&read_jsonl(&log));
    let starts = kinds.iter().filter(|k| *k == "start").count();
    let ends = kinds.iter().filter(|k| *k == "end").count();
    assert_eq!((starts, ends), (2, 2), "{kinds:?}");
    assert_eq!(
        kinds[..5],
        ["start", "pause", "resume", "halt-request", "halt"],
        "{kinds:?}"
    );
}

#[test]
fn a_run_that_finds_its_needle_shows_found_and_can_run_again() {
    let scratch = Scratch::new("loop-found");
    let log = scratch.join("log.jsonl");
    let script = [
        (key(KeyCode::Enter), Then::Logged("end", 1)),
        (key(KeyCode::Enter), Then::Logged("end", 2)),
        (key(KeyCode::Char('q')), Then::Done),
    ];
    let (terminal, app, end) = drive(needle(100_000, 40), &script, &log);
    assert_eq!(app.phase, Phase::Found);
    assert_eq!(app.match_marks, vec![40]);
    assert_eq!(end.summary.expect("summary").exit_code, 0);
    let screen = terminal.backend().to_string();
    assert!(screen.contains("match at task 40"), "{screen}");
}

#[test]
fn quitting_mid_run_terminates_it_first() {
    // q asks first while the run is live; y confirms.
    let scratch = Scratch::new("loop-quit");
    let log = scratch.join("log.jsonl");
    let script = [
        (key(KeyCode::Enter), Then::Logged("start", 1)),
        (key(KeyCode::Char('q')), Then::Done),
        (key(KeyCode::Char('y')), Then::Done),
    ];
    let (_, app, end) = drive(needle(1_000_000, 999_999), &script, &log);
    let report = app.report.expect("the run was stopped and waited for");
    assert_eq!(report.reason, HaltReason::User);
    assert_eq!(
        report.counters.completed + report.counters.cancelled,
        report.counters.submitted
    );
    assert!(end.summary.is_some());
}

#[test]
fn ctrl_c_stops_a_live_run_as_sigint_would() {
    let ctrl_c = Input::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    let scratch = Scratch::new("loop-ctrl-c");
    let log = scratch.join("log.jsonl");
    let script = [
        (key(KeyCode::Enter), Then::Logged("start", 1)),
        (ctrl_c, Then::Done),
    ];
    let (_, app, end) = drive(needle(1_000_000, 999_999), &script, &log);
    assert_eq!(
        app.report.expect("stopped and waited for").reason,
        HaltReason::Signal
    );
    assert_eq!(end.signal, Some(libc::SIGINT));
    assert_eq!(end.summary.expect("summary").exit_code, 130);
}
