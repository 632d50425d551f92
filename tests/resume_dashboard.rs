//! The dashboard resumes too: the real main loop on a `TestBackend`, loaded with a logged run's checkpoint.
#![allow(
    clippy::unwrap_used,
    reason = "a failed unwrap here is a failed test, with its message"
)]

use common::frames::key_input as key;
use common::logs::complete_lines;
use common::scratch::Scratch;
use crossterm::event::KeyCode;
use poolwatch::HaltPolicy;
use poolwatch::internals::CollatzSpec;
use poolwatch::internals::{App, Checkpoint, LoopOptions, Phase, Preset, SearchSpec, run_loop};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::time::{Duration, Instant};

mod common;

fn preset(spec: SearchSpec) -> Preset {
    Preset {
        name: "resumable".into(),
        description: String::new(),
        spec,
        workers: Some(2),
        halt: HaltPolicy::Never,
    }
}

#[test]
fn the_dashboard_opens_ready_with_the_run_loaded_and_continues_it() {
    let scratch = Scratch::new("resume-dashboard");
    let log = scratch.join("log.jsonl");
    let spec = SearchSpec::Collatz(CollatzSpec {
        below: 300_000,
        target: None,
    });
    // A first run, stopped by the user with `t` part way.
    let options = |resume: Option<Box<Checkpoint>>| LoopOptions {
        fps: 30,
        log_path: Some(log.clone()),
        status_every: Duration::from_millis(100),
        window: None,
        resume,
        runs_path: None,
        presets_dir: None,
    };
    let first = {
        let (key_tx, key_rx) = crossbeam_channel::unbounded();
        let (_signal_tx, signal_rx) = crossbeam_channel::unbounded::<i32>();
        let opts = options(None);
        let spec = spec.clone();
        let handle = std::thread::spawn(move || {
            let mut terminal = Terminal::new(TestBackend::new(100, 30)).unwrap();
            let mut app = App::new(vec![preset(spec)], false);
            run_loop(&mut terminal, &mut app, &key_rx, &signal_rx, opts, false).unwrap()
        });
        key_tx.send(key(KeyCode::Enter)).unwrap();
        let started = Instant::now();
        while !complete_lines(&log)
            .iter()
            .any(|e| e["event"] == "progress" && e["completed"].as_u64() > Some(10_000))
        {
            assert!(started.elapsed() < Duration::from_secs(60));
            std::thread::sleep(Duration::from_millis(20));
        }
        key_tx.send(key(KeyCode::Char('t'))).unwrap();
        // `q` while the halt still winds down would ask first: wait for the run's end.
        let stopping = Instant::now();
        while !complete_lines(&log).iter().any(|e| e["event"] == "end") {
            assert!(
                stopping.elapsed() < Duration::from_secs(60),
                "the run never ended"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        key_tx.send(key(KeyCode::Char('q'))).unwrap();
        handle.join().unwrap()
    };
    let first = first.summary.unwrap();
    assert!(first.halt_reason.as_str() == "user", "{first:?}");

    let checkpoint = Checkpoint::read(&log).unwrap();
    assert!(checkpoint.done_count() >= 10_000 && checkpoint.finished.is_none());
    let (key_tx, key_rx) = crossbeam_channel::unbounded();
    let (_signal_tx, signal_rx) = crossbeam_channel::unbounded::<i32>();
    let opts = options(Some(Box::new(checkpoint.clone())));
    let handle = std::thread::spawn(move || {
        let mut terminal = Terminal::new(TestBackend::new(100, 30)).unwrap();
        let mut app = App::new(vec![preset(checkpoint.spec.clone())], false);
        assert_eq!(app.phase, Phase::Ready);
        let end = run_loop(&mut terminal, &mut app, &key_rx, &signal_rx, opts, false).unwrap();
        (app, end)
    });
    key_tx.send(key(KeyCode::Enter)).unwrap();
    let started = Instant::now();
    while complete_lines(&log)
        .iter()
        .filter(|e| e["event"] == "end")
        .count()
        < 2
    {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the resumed run never ended"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    key_tx.send(key(KeyCode::Char('q'))).unwrap();
    let (_app, end) = handle.join().unwrap();
    let summary = end.summary.unwrap();
    let json: serde_json::Value = serde_json::from_str(&summary.to_json()).unwrap();
    assert_eq!(json["halt_reason"], "exhausted", "{json}");
    assert_eq!(
        json["completed"], 299_999,
        "every id once across both parts: {json}"
    );
    assert!(json["resumed"]["completed"].as_u64() >= Some(10_000), "{json}");
    let restart = complete_lines(&log)
        .into_iter()
        .filter(|e| e["event"] == "start")
        .nth(1)
        .unwrap();
    assert!(restart["resumed"].is_object(), "{restart}");
}
