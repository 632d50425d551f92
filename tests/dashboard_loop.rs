//! The dashboard's real main loop driven in-process on a `TestBackend`: keys in, runs launched, frames drawn.
#![allow(
    clippy::unwrap_used,
    reason = "a failed unwrap here is a failed test, with its message"
)]

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use poolwatch::internals::Input;
use poolwatch::internals::Preset;
use poolwatch::internals::SearchSpec;
use poolwatch::internals::{App, Phase};
use poolwatch::internals::{LoopEnd, LoopOptions, run_loop};
use poolwatch::{HaltPolicy, HaltReason};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::time::Duration;

fn needle(tasks: u64, needle: u64) -> Preset {
    Preset {
        name: "test run".into(),
        description: String::new(),
        spec: SearchSpec::Needle {
            tasks,
            needle,
            panic_every: 0,
            sleep_ms: 1.0,
        },
        workers: Some(2),
        halt: HaltPolicy::Now,
    }
}

fn key(code: KeyCode) -> Input {
    Input::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

/// Runs the loop on a thread, feeding `script` (key, pause after it), and returns the end state.
fn drive(preset: Preset, script: &[(Input, u64)]) -> (Terminal<TestBackend>, App, LoopEnd) {
    drive_logged(preset, script, None)
}

/// [`drive`], with the runs' events appended to `log_path`.
fn drive_logged(
    preset: Preset,
    script: &[(Input, u64)],
    log_path: Option<std::path::PathBuf>,
) -> (Terminal<TestBackend>, App, LoopEnd) {
    let (key_tx, key_rx) = crossbeam_channel::unbounded();
    let (_signal_tx, signal_rx) = crossbeam_channel::unbounded::<i32>();
    let handle = std::thread::spawn(move || {
        let mut terminal = Terminal::new(TestBackend::new(100, 30)).unwrap();
        let mut app = App::new(vec![preset], false);
        let options = LoopOptions {
            fps: 30,
            log_path,
            status_every: Duration::from_secs(1),
        };
        let end = run_loop(&mut terminal, &mut app, &key_rx, &signal_rx, options, false).unwrap();
        (terminal, app, end)
    });
    for (input, pause_ms) in script {
        key_tx.send(input.clone()).unwrap();
        std::thread::sleep(Duration::from_millis(*pause_ms));
    }
    handle.join().unwrap()
}

#[test]
fn enter_launches_t_terminates_q_quits() {
    // Enter after `t` launches a second run only if `t` really ended the first one.
    let log = std::env::temp_dir().join(format!("poolwatch-loop-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&log);
    let script = [
        (key(KeyCode::Enter), 300),
        (key(KeyCode::Char('p')), 100),
        (key(KeyCode::Char('p')), 100),
        (key(KeyCode::Char('t')), 300),
        (key(KeyCode::Enter), 300),
        (key(KeyCode::Char('t')), 300),
        (key(KeyCode::Char('q')), 0),
    ];
    let (terminal, app, end) = drive_logged(needle(1_000_000, 999_999), &script, Some(log.clone()));
    assert_eq!(app.phase, Phase::Stopped);
    let report = app.report.expect("the run ended");
    assert_eq!(report.reason, HaltReason::User);
    assert!(report.completed > 100, "it ran: {}", report.completed);
    assert_eq!(end.summary.expect("summary of the run").exit_code, 1);
    let screen = terminal.backend().to_string();
    assert!(
        screen.contains("[Stopped]") && screen.contains("Enter run again"),
        "{screen}"
    );
    let kinds: Vec<String> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["event"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
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
    let script = [
        (key(KeyCode::Enter), 400),
        (key(KeyCode::Enter), 400),
        (key(KeyCode::Char('q')), 0),
    ];
    let (terminal, app, end) = drive(needle(100_000, 40), &script);
    assert_eq!(app.phase, Phase::Found);
    assert_eq!(app.match_marks, vec![40]);
    assert_eq!(end.summary.expect("summary").exit_code, 0);
    let screen = terminal.backend().to_string();
    assert!(screen.contains("match at task 40"), "{screen}");
}

#[test]
fn quitting_mid_run_terminates_it_first() {
    // q asks first while the run is live; y confirms.
    let script = [
        (key(KeyCode::Enter), 200),
        (key(KeyCode::Char('q')), 100),
        (key(KeyCode::Char('y')), 0),
    ];
    let (_, app, end) = drive(needle(1_000_000, 999_999), &script);
    let report = app.report.expect("the run was stopped and waited for");
    assert_eq!(report.reason, HaltReason::User);
    assert_eq!(report.completed + report.cancelled, report.submitted);
    assert!(end.summary.is_some());
}

#[test]
fn ctrl_c_stops_a_live_run_as_sigint_would() {
    let ctrl_c = Input::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    let script = [(key(KeyCode::Enter), 200), (ctrl_c, 0)];
    let (_, app, end) = drive(needle(1_000_000, 999_999), &script);
    assert_eq!(
        app.report.expect("stopped and waited for").reason,
        HaltReason::Signal
    );
    assert_eq!(end.signal, Some(libc::SIGINT));
    assert_eq!(end.summary.expect("summary").exit_code, 130);
}
