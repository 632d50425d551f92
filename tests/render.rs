//! Frame tests: `ui::render` of real `App` states on ratatui's `TestBackend`, snapshotted with insta, at every size from 0x0.
#![allow(
    clippy::unwrap_used,
    reason = "a failed unwrap here is a failed test, with its message"
)]

use common::frames::{draw, key, presets};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use poolwatch::Goal;
use poolwatch::internals::{App, Msg, RunInfo};
use poolwatch::{Best, Event, HaltReason, RunReport, RunState, Snapshot, WorkerRow, WorkerState};
use std::time::Duration;

mod common;

fn needle_info() -> RunInfo {
    RunInfo {
        name: "Command line".into(),
        search: "needle".into(),
        params: "tasks=50000 needle=10000 sleep-ms=1".into(),
        halt: "now".into(),
        goal: Goal::None,
        can_match: true,
        successes: false,
        workers: 2,
        odds: poolwatch::MatchOdds::OneUniform,
        input_noun: None,
        numbered_inputs: false,
        space_label: None,
    }
}

fn worker(id: usize, state: WorkerState, task: Option<u64>, on_task_ms: u64, done: u64) -> WorkerRow {
    {
        WorkerRow {
            id,
            state,
            current_task: task,
            on_task_for: Duration::from_millis(on_task_ms),
            batch: task.map_or((0, 0), |t| (t, t + 1)),
            done,
            matches: 0,
            errors: 0,
            busy: 0.97,
            detail: None,
        }
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
        Snapshot {
            state,
            total_open: false,
            workers: vec![
                worker(0, WorkerState::Running, Some(completed), 0, completed / 2),
                worker(1, WorkerState::Running, Some(completed + 1), 0, completed / 2),
            ],
            target_workers: 2,
            elapsed: Duration::from_millis(elapsed_ms),
            active: Duration::from_millis(elapsed_ms),
            tasks_per_s: 2_000.0,
            best: None,
            batch_size: 1,
            coverage,
            halt_latency: None,
            counters: poolwatch::Counters {
                total,
                submitted,
                completed,
                cancelled: 0,
                matches: 0,
                errors: 0,
                started_after_halt: 0,
                ..Default::default()
            },
        }
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
        RunReport {
            reason: HaltReason::Match,
            workers: 2,
            elapsed: Duration::from_millis(5_051),
            active: Duration::from_millis(5_051),
            halt_latency: Some(Duration::from_micros(322)),
            best: None,
            fatal: None,
            counters: poolwatch::Counters {
                total: 50_000,
                submitted: 10_011,
                completed: 10_002,
                cancelled: 9,
                matches: 1,
                errors: 0,
                started_after_halt: 0,
                ..Default::default()
            },
            ..Default::default()
        }
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
        successes: false,
        workers: 2,
        odds: poolwatch::MatchOdds::Unknown,
        input_noun: None,
        numbered_inputs: false,
        space_label: None,
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
fn main_states_at_120x40_80x24_and_70x20() {
    for (name, app) in states() {
        for (width, height) in [(120, 40), (80, 24), (70, 20)] {
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
    assert!(
        text.contains("completed 300 (total open, 320 read so far)"),
        "{text}"
    );
    // An open total pretends nothing: no percentage, no ETA, no "half the time left".
    let progress: String = text.lines().take(7).collect();
    assert!(!progress.contains('%'), "{text}");
    assert!(
        !text.contains("expected match") && !text.contains("exhaust in"),
        "{text}"
    );
    assert!(!text.contains("half the time"), "{text}");
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

fn finished_space(total: u64, reason: HaltReason, completed: u64, submitted: u64) -> Snapshot {
    let mut snapshot = space_snapshot(RunState::Finished(reason), total, completed, 1_000);
    let buckets = 512;
    snapshot.coverage = (0..buckets)
        .map(|i| {
            let (start, end) = poolwatch::internals::bucket_span(total, buckets, i);
            end.min(completed).saturating_sub(start)
        })
        .collect();
    snapshot.counters.submitted = submitted;
    snapshot.counters.cancelled = submitted - completed;
    for row in &mut snapshot.workers {
        row.state = WorkerState::Stopped;
        row.current_task = None;
    }
    snapshot
}

#[test]
fn a_small_space_fills_the_strip_it_has_when_finished() {
    use poolwatch::internals::CoverageCell;
    for total in [10, 29] {
        let snapshot = finished_space(total, HaltReason::Exhausted, total, total);
        let strip = poolwatch::internals::coverage_cells(&snapshot, &[5], 118);
        assert_eq!(
            strip.len() as u64,
            total,
            "one cell per id when the space is small"
        );
        assert!(
            strip
                .iter()
                .all(|cell| matches!(cell, CoverageCell::Done | CoverageCell::Match)),
            "{total} ids: {strip:?}"
        );
        assert_eq!(strip[5], CoverageCell::Match);
    }
}

#[test]
fn after_a_halt_nothing_is_queued_and_cut_short_work_has_its_own_cell() {
    use poolwatch::internals::CoverageCell;
    // 1,000 ids: 600 done, 200 more submitted and then cut short by the halt.
    let snapshot = finished_space(1_000, HaltReason::User, 600, 800);
    let strip = poolwatch::internals::coverage_cells(&snapshot, &[], 100);
    assert!(!strip.contains(&CoverageCell::Queued), "{strip:?}");
    assert_eq!(strip[70], CoverageCell::Cancelled, "{strip:?}");
    assert_eq!(strip[10], CoverageCell::Done);
    assert_eq!(strip[95], CoverageCell::NotSubmitted);
    let mut app = running_app(1);
    app.update(Msg::Frame(snapshot));
    let text = draw(&app, 120, 40).backend().to_string();
    assert!(
        text.contains("✕ cut short"),
        "the legend names the state:\n{text}"
    );
}

fn ten_workers_app() -> App {
    let mut app = running_app(2);
    let mut snapshot = needle_snapshot(RunState::Running, 4_000, 2_100);
    snapshot.workers = (0..10)
        .map(|id| {
            let slow = if id == 9 { 9_000 } else { 40 };
            let mut row = worker(
                id,
                WorkerState::Running,
                Some(4_000 + id as u64),
                slow,
                100 + id as u64,
            );
            row.errors = if id == 8 { 3 } else { 0 };
            row
        })
        .collect();
    snapshot.target_workers = 10;
    app.update(Msg::Frame(snapshot));
    app
}

#[test]
fn hidden_worker_rows_are_counted_and_the_table_can_be_focused_sorted_and_scrolled() {
    let mut app = ten_workers_app();
    let text = draw(&app, 120, 40).backend().to_string();
    assert!(text.contains("10 active"), "{text}");
    assert!(text.contains("more"), "hidden rows are announced:\n{text}");
    // Sort by task time: the straggler (slot 9, 9 s on its task) comes to the top.
    app.update(key(KeyCode::Char('s')));
    let text = draw(&app, 120, 40).backend().to_string();
    assert!(text.contains("by task time"), "{text}");
    let first_row = text
        .lines()
        .skip_while(|line| !line.contains("state"))
        .nth(1)
        .unwrap_or_default()
        .to_string();
    assert!(
        first_row.contains("9.0s"),
        "straggler on top: {first_row}\n{text}"
    );
    app.update(key(KeyCode::Char('s')));
    app.update(key(KeyCode::Char('s')));
    let text = draw(&app, 120, 40).backend().to_string();
    assert!(text.contains("by errors"), "{text}");
    // Tab moves the arrows to the workers table; Down scrolls it.
    app.update(key(KeyCode::Tab));
    for _ in 0..20 {
        app.update(key(KeyCode::Down));
    }
    assert!(app.workers_scroll > 0);
    let text = draw(&app, 120, 40).backend().to_string();
    assert!(text.contains("more"), "{text}");
    assert_eq!(app.log.scroll, 0, "the log did not move");
}

#[test]
fn q_and_esc_ask_before_stopping_a_live_run_and_ctrl_c_does_not() {
    use poolwatch::internals::{Command, Overlay};
    let mut app = running_app(1);
    assert!(app.update(key(KeyCode::Char('q'))).is_empty());
    assert_eq!(app.overlay, Overlay::ConfirmQuit);
    let text = draw(&app, 80, 24).backend().to_string();
    assert!(text.contains("quit and stop the run? y/n"), "{text}");
    assert!(app.update(key(KeyCode::Char('n'))).is_empty());
    assert_eq!(app.overlay, Overlay::None);
    assert!(!app.quit);
    assert!(app.update(key(KeyCode::Esc)).is_empty(), "Esc asks too");
    assert_eq!(app.overlay, Overlay::ConfirmQuit);
    assert!(
        app.update(key(KeyCode::Esc)).is_empty(),
        "Esc closes the question"
    );
    assert_eq!(app.overlay, Overlay::None);
    // Esc with the help open only closes it.
    app.update(key(KeyCode::Char('?')));
    assert!(app.update(key(KeyCode::Esc)).is_empty());
    assert_eq!(app.overlay, Overlay::None);
    assert!(!app.quit);
    app.update(key(KeyCode::Char('q')));
    assert_eq!(
        app.update(key(KeyCode::Char('y'))),
        vec![Command::HaltNow, Command::Quit]
    );
    assert!(app.quit);
    let mut app = running_app(1);
    let ctrl_c = Msg::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    assert_eq!(app.update(ctrl_c), vec![Command::Interrupt]);
    assert!(app.quit);
    // Nothing live: q quits at once.
    let mut found = found_app();
    assert_eq!(found.update(key(KeyCode::Char('q'))), vec![Command::Quit]);
}

fn pow_app() -> App {
    let mut app = App::new(presets(), false);
    app.update(Msg::Started(RunInfo {
        name: "pow".into(),
        search: "pow".into(),
        params: "tasks=4294967296 data=\"poolwatch\" bits=28".into(),
        halt: "now".into(),
        goal: Goal::Maximize,
        can_match: true,
        successes: false,
        workers: 2,
        odds: poolwatch::MatchOdds::PerTask(0.5_f64.powi(28)),
        input_noun: None,
        numbered_inputs: false,
        space_label: None,
    }));
    // 7.5M hashes/s for 20 s.
    for tenth in 1..=200u64 {
        let mut snapshot = space_snapshot(RunState::Running, 1 << 32, tenth * 750_000, tenth * 100);
        snapshot.best = Some(Best { score: 26.0, task: 7 });
        app.update(Msg::Frame(snapshot));
    }
    app
}

#[test]
fn pow_shows_the_expected_match_time_and_labels_the_time_to_exhaust() {
    let app = pow_app();
    for (width, height) in [(120, 40), (80, 24)] {
        let text = draw(&app, width, height).backend().to_string();
        assert!(
            text.contains("expected match in 35.8s (43% chance by now)"),
            "{width}x{height}:\n{text}"
        );
        assert!(text.contains("exhaust in 9m"), "{width}x{height}:\n{text}");
        assert!(!text.contains("ETA"), "{text}");
    }
    insta::assert_snapshot!("pow_120x40", draw(&app, 120, 40).backend());
}

/// The words that must survive at a size: the header's state and halt policy, every counter.
fn assert_nothing_cut(text: &str, size: &str) {
    let lines: Vec<&str> = text.lines().collect();
    for needed in ["[Running]", "halt now"] {
        assert!(
            lines[0].contains(needed),
            "{size} header lost {needed:?}: {}",
            lines[0]
        );
    }
    for needed in [
        "completed",
        "/ 50,000",
        "tasks/s",
        "matches 0",
        "errors 0",
        "cancelled 0",
    ] {
        assert!(text.contains(needed), "{size} lost {needed:?}:\n{text}");
    }
    let footer = lines.last().unwrap_or(&"");
    assert!(footer.contains("q quit"), "{size} footer: {footer}");
}

#[test]
fn no_number_or_label_is_cut_at_common_sizes() {
    let app = running_app(3);
    for (width, height) in [(120, 40), (80, 24), (70, 20)] {
        let text = draw(&app, width, height).backend().to_string();
        assert_nothing_cut(&text, &format!("{width}x{height}"));
    }
    let text = draw(&rastrigin_app(), 70, 20).backend().to_string();
    assert!(
        text.contains("at 7.0s"),
        "the chart title keeps its time whole:\n{text}"
    );
}

#[test]
fn the_footer_offers_the_runs_history_in_every_state_at_80_columns() {
    let mut halting = running_app(2);
    halting.update(Msg::Frame(needle_snapshot(
        RunState::Halting(HaltReason::User),
        4_000,
        2_100,
    )));
    let mut apps = states();
    apps.push(("halting", halting));
    for (name, app) in apps {
        let text = draw(&app, 80, 24).backend().to_string();
        let footer = text.lines().last().unwrap_or_default();
        // q quit comes last: present, nothing after it was cut.
        assert!(
            footer.contains("  r runs  ") && footer.contains("q quit"),
            "{name}: {footer}"
        );
    }
}

/// The run-ended panel's rows (the right-hand box of the bottom row), border stripped.
fn halt_panel(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let (top, at) = lines
        .iter()
        .enumerate()
        .find_map(|(index, line)| line.find("┌ run ended ").map(|at| (index, at)))
        .unwrap_or_else(|| panic!("no run ended panel:\n{text}"));
    let column = lines[top][..at].chars().count();
    lines[top + 1..]
        .iter()
        .take_while(|line| line.chars().nth(column) != Some('└'))
        .map(|line| {
            let row: String = line.chars().skip(column + 1).collect();
            row.trim_end_matches(['"', '│', ' ']).to_string()
        })
        .collect()
}

#[test]
fn the_run_ended_panel_shows_every_fact_whole_at_80x24_and_120x40() {
    let app = found_app();
    let facts = [
        "halt latency 0.322 ms",
        "9 tasks cut short or dropped",
        "39,989 tasks never submitted",
        "0 tasks started after the halt",
        "10,002 completed in 5.1s",
    ];
    for (width, height) in [(80, 24), (120, 40)] {
        let text = draw(&app, width, height).backend().to_string();
        let panel = halt_panel(&text);
        assert_eq!(panel[0], "Found: halted on a match", "{width}x{height}:\n{text}");
        for fact in facts {
            assert!(
                panel.iter().any(|row| row.starts_with(fact)),
                "{width}x{height} lacks {fact:?}:\n{text}"
            );
        }
        assert!(!text.contains('…'), "{width}x{height}:\n{text}");
    }
    let wide = halt_panel(&draw(&app, 120, 40).backend().to_string());
    assert!(wide.contains(&"(halting result to the last task stopped)".to_string()));
    assert!(wide.contains(&"10,002 completed in 5.1s (5.1s active)".to_string()));
    // 70x20 has rows for the two most important facts: they stay whole.
    let small = halt_panel(&draw(&app, 70, 20).backend().to_string());
    assert_eq!(small, ["Found: halted on a match", "halt latency 0.322 ms"]);
}

#[test]
fn every_halt_reason_fits_the_panel_at_80x24() {
    let reasons = [
        HaltReason::Match,
        HaltReason::After,
        HaltReason::Fail,
        HaltReason::Done,
        HaltReason::User,
        HaltReason::Exhausted,
        HaltReason::Signal,
        HaltReason::Fatal,
    ];
    for reason in reasons {
        let mut app = found_app();
        if let Some(report) = app.report.as_mut() {
            report.reason = reason;
        }
        let text = draw(&app, 80, 24).backend().to_string();
        let panel = halt_panel(&text);
        assert!(!text.contains('…'), "{reason:?}:\n{text}");
        // The reason (in some wording) and the five facts, none cut.
        assert_eq!(panel.len(), 6, "{reason:?}:\n{text}");
        assert!(panel[1].starts_with("halt latency"), "{reason:?}:\n{text}");
    }
}

#[test]
fn users_see_their_own_numbers() {
    let mut app = App::new(presets(), false);
    app.update(Msg::Started(RunInfo {
        name: "exec".into(),
        search: "exec".into(),
        params: "test {} -eq 150 <- range 1..200".into(),
        halt: "now".into(),
        goal: Goal::None,
        can_match: true,
        successes: false,
        workers: 1,
        odds: poolwatch::MatchOdds::Unknown,
        input_noun: Some("input".into()),
        numbered_inputs: true,
        space_label: Some("inputs 1..=199".into()),
    }));
    app.update(Msg::Frame(space_snapshot(RunState::Running, 199, 150, 1_000)));
    app.update(Msg::Labelled(
        Event::Match {
            task: 149,
            value: "150".into(),
            score: None,
            worker: 0,
            at: Duration::from_millis(900),
        },
        "150".into(),
    ));
    let text = draw(&app, 120, 40).backend().to_string();
    assert!(text.contains("match: input 150 (#150) -> 150"), "{text}");
    assert!(text.contains("inputs 1..=199"), "{text}");
    assert!(!text.contains("task 149"), "{text}");
    assert!(text.contains("1 worker"), "singular: {text}");
}

/// The log's line for a match on task 2, whose value is `value`, in a run whose tasks'
/// values are `noun`s, numbered or not.
fn match_line(noun: &str, numbered_inputs: bool, value: &str) -> String {
    let mut app = App::new(presets(), false);
    app.update(Msg::Started(RunInfo {
        input_noun: Some(noun.into()),
        numbered_inputs,
        ..needle_info()
    }));
    app.update(Msg::Labelled(
        Event::Match {
            task: 2,
            value: "yes".into(),
            score: None,
            worker: 0,
            at: Duration::from_millis(900),
        },
        value.into(),
    ));
    let text = draw(&app, 120, 40).backend().to_string();
    let line = text.lines().find(|line| line.contains("match:"));
    line.map_or_else(|| panic!("no match line:\n{text}"), str::to_string)
}

#[test]
fn a_task_is_named_by_its_value_with_its_number_unless_the_value_is_the_number() {
    // What the search says decides, whatever the noun: not the word "input".
    let cases = [
        ("line", true, "a.txt", "match: line a.txt (#3) -> yes"),
        ("input", false, "3", "match: input 3 -> yes"),
        ("start", false, "3", "match: start 3 -> yes"),
    ];
    for (noun, numbered, value, expected) in cases {
        let line = match_line(noun, numbered, value);
        assert!(line.contains(expected), "{expected:?} in {line:?}");
    }
}

#[test]
fn the_log_keeps_earlier_runs_and_a_best_is_logged_once() {
    let mut app = found_app();
    app.update(Msg::Started(needle_info()));
    let text = draw(&app, 120, 40).backend().to_string();
    assert!(text.contains("run 1: Command line"), "{text}");
    assert!(text.contains("run 2: Command line"), "{text}");
    assert!(
        text.contains("match: task 10000"),
        "the first run's match is kept:\n{text}"
    );
    let mut app = rastrigin_app();
    let before = app.log.visible_len();
    app.update(Msg::Pool(Event::NewBest {
        task: 9_999,
        score: 0.995,
        worker: 1,
        at: Duration::from_secs(8),
    }));
    assert_eq!(app.log.visible_len(), before, "the same best is not news");
}

#[test]
fn ready_shows_the_known_total() {
    let text = draw(&App::new(presets(), false), 120, 40).backend().to_string();
    assert!(text.contains("0 / 50,000"), "{text}");
    assert!(!text.contains("0 / -"), "{text}");
}

#[test]
fn matches_are_green_and_every_state_has_its_colour() {
    let mut app = found_app();
    app.color = true;
    let terminal = draw(&app, 120, 40);
    let buffer = terminal.backend().buffer().clone();
    let text = terminal.backend().to_string();
    let row = text
        .lines()
        .position(|l| l.contains("match: task 10000"))
        .unwrap();
    let line = text.lines().nth(row).unwrap();
    let col = line[..line.find("match: task").unwrap()].chars().count();
    // The backend's text starts each line with a quote.
    let cell = buffer
        .cell((u16::try_from(col).unwrap() - 1, u16::try_from(row).unwrap()))
        .unwrap();
    assert_eq!(Some(cell.fg), THEME.found().fg, "a match in the log is green");
    let header_colour = |app: &App| {
        let terminal = draw(app, 120, 40);
        let buffer = terminal.backend().buffer().clone();
        let line: String = terminal.backend().to_string().lines().next().unwrap().to_string();
        let at = line.chars().position(|c| c == '[').unwrap();
        buffer.cell((u16::try_from(at).unwrap() + 1, 0)).unwrap().fg
    };
    let mut ready = App::new(presets(), true);
    let ready_colour = header_colour(&ready);
    ready.phase = poolwatch::internals::Phase::Exhausted;
    assert_ne!(
        header_colour(&ready),
        ready_colour,
        "Exhausted has its own colour"
    );
}

/// The foreground colour of the first cell of the log line holding `needle`.
fn log_line_colour(app: &App, needle: &str) -> ratatui::style::Color {
    let terminal = draw(app, 120, 40);
    let buffer = terminal.backend().buffer().clone();
    let text = terminal.backend().to_string();
    let row = text
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle:?} in\n{text}"));
    let line = text.lines().nth(row).unwrap();
    let col = line[..line.find(needle).unwrap()].chars().count();
    // The backend's text starts each line with a quote.
    buffer
        .cell((u16::try_from(col).unwrap() - 1, u16::try_from(row).unwrap()))
        .unwrap()
        .fg
}

/// The dashboard's colours (the theme names them: red, green, yellow... each readable on a
/// dark and a light background).
const THEME: poolwatch::internals::Theme = poolwatch::internals::Theme::new(true);

#[test]
fn a_notice_is_a_yellow_line_of_its_own_kind_and_not_an_error() {
    let mut app = running_app(2);
    app.color = true;
    app.update(Msg::Pool(Event::Error {
        task: 7,
        message: "exit status 3".into(),
        worker: 0,
        at: Duration::from_millis(1_500),
    }));
    app.update(Msg::Pool(Event::Notice {
        task: 9,
        message: "worker pid 12 exited with status 5 while idle".into(),
        worker: 1,
        at: Duration::from_millis(1_600),
    }));
    assert_eq!(Some(log_line_colour(&app, "error: task 7")), THEME.error().fg);
    assert_eq!(
        Some(log_line_colour(&app, "notice: task 9: worker pid 12 exited")),
        THEME.warn().fg
    );
    // The matches-only view keeps neither.
    app.update(key(KeyCode::Char('m')));
    let text = draw(&app, 120, 40).backend().to_string();
    assert!(!text.contains("notice: task 9"), "{text}");
}

/// A watched search of `count` shards, all running, drawn and fed back as the loops do.
fn watched_app(count: u64) -> App {
    let mut app = running_app(2);
    app.shards = Some(
        (0..count)
            .map(|shard| poolwatch::internals::ShardRow {
                shard,
                host: format!("node{shard}"),
                state: "running".into(),
                completed: 10,
                total: 100,
                matches: 0,
                errors: 0,
                rate: 5.0,
                last_heard_s: 0.5,
                silent: false,
                exit_code: None,
                log: format!("shard-{shard}.jsonl"),
            })
            .collect(),
    );
    redraw(&mut app);
    app
}

/// Draws `app` at 120x40 and tells it what the frame showed; returns the screen's text.
fn redraw(app: &mut App) -> String {
    let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 40)).unwrap();
    let mut drawn = None;
    terminal
        .draw(|frame| drawn = Some(poolwatch::internals::render(frame, app)))
        .unwrap();
    app.update(Msg::Drawn(drawn.unwrap()));
    terminal.backend().to_string()
}

#[test]
fn the_shards_table_scrolls_with_the_keys_once_focused_and_stops_at_the_last_shard() {
    let mut app = watched_app(30);
    let text = redraw(&mut app);
    assert!(text.contains("node0 ") && !text.contains("node29 "), "{text}");
    // The arrows scroll the log until Tab gives the table the focus.
    app.update(key(KeyCode::Down));
    assert!(!redraw(&mut app).contains("node29 "));
    app.update(key(KeyCode::Tab));
    for _ in 0..100 {
        app.update(key(KeyCode::Down));
    }
    let text = redraw(&mut app);
    assert!(text.contains("node29 ") && !text.contains("node0 "), "{text}");
    let more = text.lines().find(|line| line.contains(" more: ")).unwrap();
    assert!(more.contains("live"), "{more}");
    // Back up to the top: one key press a row, no more than were scrolled.
    let scrolled = app.workers_scroll;
    assert!(scrolled > 0 && scrolled < 30, "{scrolled}");
    for _ in 0..scrolled {
        app.update(key(KeyCode::Up));
    }
    assert!(redraw(&mut app).contains("node0 "));
}

#[test]
fn the_header_names_the_candidate_of_a_lowest_run_and_jobs_read_succeeded() {
    let mut app = App::new(presets(), false);
    app.update(Msg::Started(RunInfo {
        halt: "lowest".into(),
        ..needle_info()
    }));
    app.update(Msg::Frame(needle_snapshot(RunState::Running, 2_000, 1_000)));
    for task in [1993, 996] {
        app.update(Msg::Pool(Event::Match {
            task,
            value: task.to_string(),
            score: None,
            worker: 0,
            at: Duration::from_millis(900),
        }));
    }
    let text = draw(&app, 160, 40).backend().to_string();
    assert!(text.contains("halt lowest, candidate task 996"), "{text}");
    // One-shot exec: a success is "succeeded", not a match.
    let mut jobs = App::new(presets(), false);
    jobs.update(Msg::Started(RunInfo {
        search: "exec".into(),
        halt: "never".into(),
        successes: true,
        ..needle_info()
    }));
    jobs.update(Msg::Frame(needle_snapshot(RunState::Running, 2_000, 1_000)));
    jobs.update(Msg::Pool(Event::Match {
        task: 3,
        value: "3".into(),
        score: None,
        worker: 0,
        at: Duration::from_millis(900),
    }));
    let text = draw(&jobs, 160, 40).backend().to_string();
    assert!(text.contains("succeeded: task 3"), "{text}");
    assert!(text.contains("succeeded 0"), "{text}");
    assert!(!text.contains("match:"), "{text}");
}

#[test]
fn a_resumed_run_shows_the_whole_runs_completed_count_as_the_summary_does() {
    // 700 ids done before the resume, 300 by this run: the whole space, none unsent.
    let mut app = App::new(presets(), false);
    app.update(Msg::Started(needle_info()));
    let mut snapshot = space_snapshot(RunState::Finished(HaltReason::Exhausted), 1_000, 300, 2_000);
    snapshot.counters.submitted = 300;
    snapshot.counters.done_before = 700;
    app.update(Msg::Frame(snapshot));
    app.update(Msg::Pool(Event::Finished(RunReport {
        reason: HaltReason::Exhausted,
        counters: poolwatch::Counters {
            total: 1_000,
            submitted: 300,
            completed: 300,
            done_before: 700,
            ..Default::default()
        },
        workers: 2,
        elapsed: Duration::from_secs(2),
        active: Duration::from_secs(2),
        ..Default::default()
    })));
    let text = draw(&app, 160, 40).backend().to_string();
    assert!(text.contains("1,000 / 1,000"), "{text}");
    assert!(text.contains("1,000 completed"), "{text}");
    assert!(!text.contains("700 tasks never submitted"), "{text}");
}

#[test]
fn ready_shows_what_a_resumed_run_carries_on_from() {
    // Before the launch: 700 of 1,000 ids done, the first 70% of the strip full.
    let mut app = App::new(presets(), false);
    let mut snapshot = Snapshot::default();
    snapshot.counters.total = 1_000;
    snapshot.counters.done_before = 700;
    snapshot.counters.matches = 2;
    snapshot.coverage = (0..10).map(|bucket| if bucket < 7 { 100 } else { 0 }).collect();
    app.update(Msg::Carried(snapshot));
    let text = draw(&app, 160, 40).backend().to_string();
    assert!(text.contains("70.00% 700 / 1,000"), "{text}");
    assert!(text.contains("█"), "{text}");
    assert!(text.contains("[Ready]"), "{text}");
}

#[test]
fn ready_says_that_every_input_of_a_one_shot_exec_runs_by_default() {
    let text = "name = \"gzip\"\n[search]\nkind = \"exec\"\nrange = \"0..6\"\ncommand = [\"gzip\", \"{}\"]\n";
    let preset = poolwatch::internals::Preset::from_toml(text, "gzip.toml").unwrap();
    let app = App::new(vec![preset], false);
    let text = draw(&app, 200, 40).backend().to_string();
    assert!(
        text.contains("halt never: every input runs (exec's default"),
        "{text}"
    );
}

/// Issue 25: an exec error names its input once (`error: input 8 (#9): ValueError`, not
/// `error: input 8 (#9): 8: ValueError`).
#[test]
fn an_error_names_its_input_once() {
    let mut app = App::new(presets(), false);
    app.update(Msg::Started(RunInfo {
        input_noun: Some("input".into()),
        numbered_inputs: true,
        ..needle_info()
    }));
    app.update(Msg::Labelled(
        Event::Error {
            task: 8,
            message: "8: ValueError: bad".into(),
            worker: 0,
            at: Duration::from_millis(900),
        },
        "8".into(),
    ));
    let text = draw(&app, 120, 40).backend().to_string();
    assert!(text.contains("error: input 8 (#9): ValueError: bad"), "{text}");
}

fn halting_app() -> App {
    let mut halting = running_app(2);
    halting.update(Msg::Frame(needle_snapshot(
        RunState::Halting(HaltReason::User),
        4_000,
        2_100,
    )));
    halting
}

#[test]
fn the_footer_shows_every_key_that_acts_in_its_phase_in_a_readable_colour() {
    // `t` cuts a slow halt short: Halting offers it, at 80 and 120 columns.
    let mut halting = halting_app();
    for (width, height) in [(80, 24), (120, 40)] {
        let text = draw(&halting, width, height).backend().to_string();
        let footer = text.lines().last().unwrap_or_default();
        assert!(footer.contains("t terminate"), "{width}: {footer}");
        assert!(
            !footer.contains("f finish"),
            "f does nothing while halting: {footer}"
        );
    }
    assert!(!halting.update(key(KeyCode::Char('t'))).is_empty());
    assert!(halting.update(key(KeyCode::Char('f'))).is_empty());
    // Ready offers `e` and `+/-`, and they act.
    let ready = App::new(presets(), true);
    let terminal = draw(&ready, 120, 40);
    let text = terminal.backend().to_string();
    let footer = text.lines().last().unwrap_or_default();
    assert!(
        footer.contains("e edit") && footer.contains("+/- workers"),
        "{footer}"
    );
    // The footer is in the terminal's own text colour, never a grey that fades on dark or light.
    let buffer = terminal.backend().buffer();
    let row = buffer.area.height - 1;
    for x in 0..buffer.area.width {
        let fg = buffer[(x, row)].fg;
        assert_eq!(fg, ratatui::style::Color::Reset, "column {x}: {fg:?}");
    }
}

#[test]
fn e_in_ready_opens_the_form_and_plus_minus_act_or_say_why_not() {
    let mut app = App::new(presets(), false);
    app.update(key(KeyCode::Char('e')));
    assert!(app.form().is_some(), "e edits the selected run, as ? says");
    app.update(key(KeyCode::Esc));
    app.update(key(KeyCode::Esc));
    app.update(key(KeyCode::Char('+')));
    assert_eq!(app.presets[0].workers, Some(3));
    let text = draw(&app, 120, 40).backend().to_string();
    assert!(text.contains("workers for the next run: 2 -> 3"), "{text}");
    let mut halting = halting_app();
    halting.update(key(KeyCode::Char('-')));
    let text = draw(&halting, 120, 40).backend().to_string();
    assert!(text.contains("the run is halting"), "{text}");
}

/// Issue 25: a watched search never paused read `2.5s (2.0s active)`: the header shows the
/// live active time the watcher gives, not the snapshot's, which stops at the shards' last
/// `progress` lines.
#[test]
fn a_watched_header_shows_the_live_active_time() {
    let mut app = watched_app(2);
    let mut snapshot = app.snapshot.clone().unwrap();
    snapshot.elapsed = Duration::from_millis(2_500);
    snapshot.active = Duration::from_millis(2_000);
    app.update(Msg::Frame(snapshot));
    let text = redraw(&mut app);
    assert!(text.contains("2.5s  (2.0s active)"), "{text}");
    app.live_active = Some(Duration::from_millis(2_500));
    let text = redraw(&mut app);
    assert!(text.contains("2.5s  (2.5s active)"), "{text}");
}
