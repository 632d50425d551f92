//! Frame tests: `ui::render` of real `App` states on ratatui's `TestBackend`, snapshotted with insta, at every size from 0x0.
#![allow(
    clippy::unwrap_used,
    reason = "a failed unwrap here is a failed test, with its message"
)]

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use poolwatch::Goal;
use poolwatch::internals::Preset;
use poolwatch::internals::SearchSpec;
use poolwatch::internals::{App, Msg, RunInfo};
use poolwatch::{Best, Event, HaltReason, RunReport, RunState, Snapshot, WorkerRow, WorkerState};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::time::Duration;

fn presets() -> Vec<Preset> {
    let command_line = Preset {
        name: "Command line".into(),
        description: "needle tasks=50000 needle=10000 sleep-ms=1 (2 workers, halt now)".into(),
        spec: SearchSpec::default(),
        workers: Some(2),
        halt: poolwatch::HaltPolicy::Now,
    };
    let mut all = vec![command_line];
    all.extend(Preset::shipped());
    all
}

fn needle_info() -> RunInfo {
    RunInfo {
        name: "Command line".into(),
        search: "needle".into(),
        params: "tasks=50000 needle=10000 sleep-ms=1".into(),
        halt: "now".into(),
        goal: Goal::None,
        can_match: true,
        workers: 2,
    }
}

fn worker(id: usize, state: WorkerState, task: Option<u64>, on_task_ms: u64, done: u64) -> WorkerRow {
    {
        let mut value = WorkerRow::default();
        value.id = id;
        value.state = state;
        value.current_task = task;
        value.on_task_for = Duration::from_millis(on_task_ms);
        value.batch = task.map_or((0, 0), |t| (t, t + 1));
        value.done = done;
        value.matches = 0;
        value.errors = 0;
        value.busy = 0.97;
        value.detail = None;
        value
    }
}

fn needle_snapshot(state: RunState, completed: u64, elapsed_ms: u64) -> Snapshot {
    space_snapshot(state, 50_000, completed, elapsed_ms)
}

fn space_snapshot(state: RunState, total: u64, completed: u64, elapsed_ms: u64) -> Snapshot {
    let submitted = completed + 10;
    let buckets = 64;
    let coverage = (0..buckets)
        .map(|i| {
            let (start, end) = poolwatch::internals::bucket_span(total, buckets, i);
            end.min(completed).saturating_sub(start)
        })
        .collect();
    {
        let mut value = Snapshot::default();
        value.state = state;
        value.counters.total = total;
        value.total_open = false;
        value.counters.submitted = submitted;
        value.counters.completed = completed;
        value.counters.cancelled = 0;
        value.counters.matches = 0;
        value.counters.errors = 0;
        value.workers = vec![
            worker(0, WorkerState::Running, Some(completed), 0, completed / 2),
            worker(1, WorkerState::Running, Some(completed + 1), 0, completed / 2),
        ];
        value.target_workers = 2;
        value.elapsed = Duration::from_millis(elapsed_ms);
        value.active = Duration::from_millis(elapsed_ms);
        value.tasks_per_s = 2_000.0;
        value.best = None;
        value.batch_size = 1;
        value.coverage = coverage;
        value.halt_latency = None;
        value.counters.started_after_halt = 0;
        value
    }
}

/// A needle run observed for `seconds` at 2,000 tasks/s.
fn running_app(seconds: u64) -> App {
    let mut app = App::new(presets(), false);
    app.update(Msg::Started(needle_info()));
    for tenth in 1..=seconds * 10 {
        app.update(Msg::Frame(needle_snapshot(
            RunState::Running,
            tenth * 200,
            tenth * 100,
        )));
    }
    app
}

fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn found_app() -> App {
    let mut app = running_app(5);
    app.update(Msg::Pool(Event::Match {
        task: 10_000,
        value: "10000".into(),
        score: None,
        worker: 1,
        at: Duration::from_millis(5_050),
    }));
    app.update(Msg::Pool(Event::Halted {
        reason: HaltReason::Match,
        at: Duration::from_millis(5_050),
    }));
    let mut last = needle_snapshot(RunState::Finished(HaltReason::Match), 10_002, 5_051);
    for row in &mut last.workers {
        row.state = WorkerState::Stopped;
        row.current_task = None;
    }
    app.update(Msg::Frame(last));
    app.update(Msg::Pool(Event::Finished({
        let mut value = RunReport::default();
        value.reason = HaltReason::Match;
        value.counters.total = 50_000;
        value.counters.submitted = 10_011;
        value.counters.completed = 10_002;
        value.counters.cancelled = 9;
        value.counters.matches = 1;
        value.counters.errors = 0;
        value.workers = 2;
        value.elapsed = Duration::from_millis(5_051);
        value.active = Duration::from_millis(5_051);
        value.halt_latency = Some(Duration::from_micros(322));
        value.counters.started_after_halt = 0;
        value.best = None;
        value.fatal = None;
        value
    })));
    app
}

fn rastrigin_app() -> App {
    let mut app = App::new(presets(), false);
    app.update(Msg::Started(RunInfo {
        name: "Rastrigin, 5 dimensions".into(),
        search: "rastrigin".into(),
        params: "tasks=1000000 dims=5 target=0.000001 seed=0".into(),
        halt: "now".into(),
        goal: Goal::Minimize,
        can_match: true,
        workers: 2,
    }));
    let bests = [
        (0.1, 31.2),
        (0.3, 17.9),
        (0.9, 9.95),
        (2.0, 4.97),
        (4.5, 2.98),
        (7.0, 0.995),
    ];
    for (index, (at, score)) in bests.iter().enumerate() {
        app.update(Msg::Pool(Event::NewBest {
            task: index as u64 * 1000,
            score: *score,
            worker: 0,
            at: Duration::from_secs_f64(*at),
        }));
    }
    let mut snapshot = space_snapshot(RunState::Running, 1_000_000, 40_000, 8_000);
    snapshot.best = Some(Best {
        score: 0.995,
        task: 5000,
    });
    app.update(Msg::Frame(snapshot));
    app
}

fn draw(app: &App, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|frame| poolwatch::internals::render(frame, app))
        .unwrap();
    terminal
}

fn states() -> Vec<(&'static str, App)> {
    let ready = App::new(presets(), false);
    let running = running_app(3);
    let mut paused = running_app(3);
    paused.update(key(KeyCode::Char('p')));
    paused.update(Msg::Frame(needle_snapshot(RunState::Paused, 6_000, 3_200)));
    let found = found_app();
    let mut launcher = App::new(presets(), false);
    launcher.update(key(KeyCode::Char('l')));
    launcher.update(key(KeyCode::Down));
    let mut help = running_app(1);
    help.update(key(KeyCode::Char('?')));
    vec![
        ("ready", ready),
        ("running", running),
        ("paused", paused),
        ("found", found),
        ("launcher", launcher),
        ("help", help),
        ("rastrigin", rastrigin_app()),
    ]
}

#[test]
fn main_states_at_120x40_and_80x24() {
    for (name, app) in states() {
        for (width, height) in [(120, 40), (80, 24)] {
            let terminal = draw(&app, width, height);
            insta::assert_snapshot!(format!("{name}_{width}x{height}"), terminal.backend());
        }
    }
}

#[test]
fn a_tiny_terminal_says_so() {
    let terminal = draw(&running_app(1), 20, 5);
    insta::assert_snapshot!("running_20x5", terminal.backend());
}

#[test]
fn every_size_from_0x0_renders_without_panic() {
    let sizes = [0u16, 1, 2, 3, 5, 10, 16, 20, 24, 33, 49, 50, 51, 80, 120, 250];
    for (name, app) in states() {
        for width in sizes {
            for height in sizes {
                let result = std::panic::catch_unwind(|| draw(&app, width, height));
                assert!(result.is_ok(), "{name} panicked at {width}x{height}");
            }
        }
    }
}

#[test]
fn the_screen_shows_what_the_state_says() {
    let found = draw(&found_app(), 120, 40);
    let text = found.backend().to_string();
    assert!(text.contains("[Found]"), "{text}");
    assert!(text.contains("match at task 10000"), "{text}");
    assert!(text.contains("halt latency 0.322 ms"), "{text}");
    assert!(text.contains("◆"), "the match is marked on the coverage strip");
    let paused = states().into_iter().find(|(n, _)| *n == "paused").unwrap().1;
    let text = draw(&paused, 120, 40).backend().to_string();
    assert!(text.contains("[Paused]") && text.contains("p resume"), "{text}");
}

#[test]
fn an_open_total_is_labelled_and_its_strip_uses_held_batches() {
    let mut app = App::new(presets(), false);
    app.update(Msg::Started(needle_info()));
    let mut snapshot = needle_snapshot(RunState::Running, 300, 5_000);
    snapshot.counters.total = 320;
    snapshot.total_open = true;
    snapshot.coverage = Vec::new();
    app.update(Msg::Frame(snapshot.clone()));
    let text = draw(&app, 120, 40).backend().to_string();
    assert!(text.contains("/ 320+ (total open)"), "{text}");
    let strip = poolwatch::internals::coverage_cells(&snapshot, &[], 32);
    assert_eq!(strip[0], poolwatch::internals::CoverageCell::Done);
    assert_eq!(strip[31], poolwatch::internals::CoverageCell::NotSubmitted);
    assert!(strip.contains(&poolwatch::internals::CoverageCell::Running));
}

#[test]
fn no_color_means_no_colour_anywhere() {
    let plain = found_app();
    let mut coloured = found_app();
    coloured.color = true;
    let uses_colour = |app: &App| {
        let terminal = draw(app, 120, 40);
        let buffer = terminal.backend().buffer().clone();
        buffer
            .content()
            .iter()
            .any(|cell| cell.fg != ratatui::style::Color::Reset || cell.bg != ratatui::style::Color::Reset)
    };
    assert!(!uses_colour(&plain), "NO_COLOR frame has coloured cells");
    assert!(uses_colour(&coloured), "the coloured frame has no colour at all");
}

#[test]
fn every_size_up_to_60x30_renders_without_panic() {
    for (name, app) in states()
        .into_iter()
        .filter(|(n, _)| matches!(*n, "running" | "found" | "launcher"))
    {
        for width in 0..=60 {
            for height in 0..=30 {
                let result = std::panic::catch_unwind(|| draw(&app, width, height));
                assert!(result.is_ok(), "{name} panicked at {width}x{height}");
            }
        }
    }
}
