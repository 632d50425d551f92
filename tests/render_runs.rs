//! Frame tests of the run form and the runs history (issue 13), snapshotted with insta at 80x24 and 120x40.
#![allow(
    clippy::unwrap_used,
    reason = "a failed unwrap here is a failed test, with its message"
)]

use common::frames::{draw, key, presets, typed};
use crossterm::event::KeyCode;
use poolwatch::internals::{App, MouseKind, Msg, Overlay, RunOutcome, RunRecord};

mod common;

/// The launcher's pow row opened in the form, its --bits set to `bits` and committed.
fn pow_form(bits: &str) -> App {
    let mut app = App::new(presets(), false);
    app.update(key(KeyCode::Char('l')));
    let pow = app.presets.iter().position(|p| p.spec.kind() == "pow").unwrap();
    for _ in 0..pow {
        app.update(key(KeyCode::Down));
    }
    app.update(key(KeyCode::Char('e')));
    // The cursor starts on the first option (--tasks); --bits is two rows down.
    app.update(key(KeyCode::Down));
    app.update(key(KeyCode::Down));
    typed(&mut app, bits);
    app.update(key(KeyCode::Enter));
    app
}

fn record(
    name: &str,
    bits: u32,
    outcome: RunOutcome,
    rate: f64,
    elapsed: f64,
    latency: Option<f64>,
) -> RunRecord {
    RunRecord {
        name: name.into(),
        // Through serde: the form of a preset's [search] table, whatever the Rust shape.
        search: serde_json::from_value(serde_json::json!({"kind": "pow", "bits": bits})).unwrap(),
        params: format!("tasks=4294967296 data=\"poolwatch\" bits={bits}"),
        workers: 2,
        halt: "now".into(),
        outcome,
        matches: u64::from(outcome == RunOutcome::Found),
        completed: 1_000,
        total: 1 << 32,
        elapsed_s: elapsed,
        active_s: elapsed,
        tasks_per_s: rate,
        halt_latency_ms: latency,
        best: Some(f64::from(bits)),
    }
}

fn history() -> App {
    let mut app = App::new(presets(), false);
    let runs = [
        record(
            "Proof of work, 28 bits",
            20,
            RunOutcome::Found,
            1_200_000.0,
            0.8,
            Some(0.21),
        ),
        record(
            "Proof of work, 28 bits",
            24,
            RunOutcome::Found,
            1_350_000.0,
            14.6,
            Some(0.35),
        ),
        record("Pow on 1 worker", 24, RunOutcome::Stopped, 610_000.0, 4.2, None),
    ];
    for run in runs {
        app.update(Msg::RunRecorded(Box::new(run)));
    }
    app.update(key(KeyCode::Char('r')));
    // Sort by tasks/s, largest first; the highlight on the second row.
    for _ in 0..6 {
        app.update(key(KeyCode::Right));
    }
    app.update(key(KeyCode::Char('s')));
    app.update(key(KeyCode::Down));
    app
}

#[test]
fn the_form_valid_and_with_an_invalid_field() {
    for (name, app) in [("form_valid", pow_form("20")), ("form_invalid", pow_form("300"))] {
        for (width, height) in [(120, 40), (80, 24)] {
            let terminal = draw(&app, width, height);
            insta::assert_snapshot!(format!("{name}_{width}x{height}"), terminal.backend());
        }
    }
}

#[test]
fn the_runs_history() {
    let app = history();
    for (width, height) in [(120, 40), (80, 24)] {
        let terminal = draw(&app, width, height);
        insta::assert_snapshot!(format!("runs_{width}x{height}"), terminal.backend());
    }
}

#[test]
fn the_form_and_the_history_render_at_every_size_from_0x0() {
    let sizes = [0, 1, 2, 5, 10, 20, 40, 50, 60, 80, 100, 120, 200];
    for app in [pow_form("20"), pow_form("300"), history()] {
        for width in sizes {
            for height in sizes {
                draw(&app, width, height);
            }
        }
    }
}

/// The launcher's "Article example 2 in Python" row (exec of a multi-line Python command)
/// opened in the form, the cursor on its row `row`.
fn python_form(row: usize) -> App {
    let mut app = App::new(presets(), false);
    let index = app
        .presets
        .iter()
        .position(|p| p.name == "Article example 2 in Python")
        .unwrap();
    app.update(key(KeyCode::Char('l')));
    for _ in 0..index {
        app.update(key(KeyCode::Down));
    }
    app.update(key(KeyCode::Char('e')));
    let form = app.form().unwrap();
    for _ in form.cursor..row {
        app.update(key(KeyCode::Down));
    }
    app
}

#[test]
fn the_exec_form_shows_its_help_whole_and_its_command_with_newlines_escaped() {
    // The command's row: its help is long, the command has newlines.
    let cmd = python_form(0)
        .form()
        .unwrap()
        .defs
        .iter()
        .position(|d| d.label.contains("CMD"))
        .unwrap();
    let app = python_form(2 + cmd);
    for (width, height) in [(120, 40), (80, 24)] {
        let terminal = draw(&app, width, height);
        let text = terminal.backend().to_string();
        if width == 80 {
            // The form spans the screen: its rows joined are the text it shows.
            let joined: String = text
                .lines()
                .map(|line| line.trim_matches('"').trim_matches('│'))
                .collect();
            assert!(
                joined.contains(r"-c $'import time\nfrom poolwatch_worker"),
                "{text}"
            );
            assert!(joined.contains("the input is shell-quoted"), "help whole: {text}");
        }
        assert!(!text.contains("timefrom"), "{text}");
        insta::assert_snapshot!(format!("form_exec_{width}x{height}"), terminal.backend());
    }
}

#[test]
fn a_highlighted_field_at_its_default_shows_the_default() {
    let mut app = pow_form("20");
    // Down to --halt, left at its default (now).
    for _ in 0..10 {
        app.update(key(KeyCode::Down));
    }
    let text = draw(&app, 120, 40).backend().to_string();
    let halt = text
        .lines()
        .find(|line| line.contains("> --halt"))
        .unwrap_or_default();
    assert!(halt.contains("--halt         now"), "{halt}\n{text}");
}

#[test]
fn q_in_an_edited_form_asks_and_n_goes_back_to_the_edits() {
    let mut app = pow_form("20");
    app.update(key(KeyCode::Char('q')));
    assert!(!app.quit, "a bare q does not drop the edits");
    let text = draw(&app, 80, 24).backend().to_string();
    assert!(text.contains("quit and drop the form's edits? y/n"), "{text}");
    app.update(key(KeyCode::Char('n')));
    assert_eq!(app.form().unwrap().values, pow_form("20").form().unwrap().values);
    app.update(key(KeyCode::Char('q')));
    app.update(key(KeyCode::Char('y')));
    assert!(app.quit);
    // An unedited form has nothing to lose: q quits at once.
    let mut app = python_form(0);
    app.update(key(KeyCode::Char('q')));
    assert!(app.quit);
}

#[test]
fn runs_whose_names_share_a_long_start_read_apart_at_80x24() {
    let mut app = App::new(presets(), false);
    for name in ["Article example 2", "Article example 2 quick"] {
        let run = record(name, 20, RunOutcome::Found, 1_000.0, 1.0, None);
        app.update(Msg::RunRecorded(Box::new(run)));
    }
    app.update(key(KeyCode::Char('r')));
    for (width, height) in [(80, 24), (120, 40)] {
        let text = draw(&app, width, height).backend().to_string();
        let cells: Vec<&str> = text
            .lines()
            .filter_map(|line| line.split_once(" Article")?.1.split("  ").next())
            .collect();
        assert_eq!(cells.len(), 2, "{text}");
        assert_ne!(cells[0], cells[1], "{text}");
        assert!(text.contains("quick"), "{width}: {text}");
    }
}

/// Draws `app` at `width` x `height` as the main loop does, telling it where things were
/// drawn (for the mouse); returns the screen, one string a row.
fn drawn(app: &mut App, width: u16, height: u16) -> Vec<String> {
    let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(width, height)).unwrap();
    let mut hits = None;
    terminal
        .draw(|frame| hits = Some(poolwatch::internals::render(frame, app)))
        .unwrap();
    app.update(Msg::Drawn(hits.unwrap()));
    let buffer = terminal.backend().buffer();
    (0..height)
        .map(|y| (0..width).map(|x| buffer[(x, y)].symbol()).collect())
        .collect()
}

/// Where `text` first shows (column, row).
fn at(screen: &[String], text: &str) -> (u16, u16) {
    screen
        .iter()
        .enumerate()
        .find_map(|(row, line)| {
            let byte = line.find(text)?;
            let column = line[..byte].chars().count();
            Some((u16::try_from(column).ok()?, u16::try_from(row).ok()?))
        })
        .unwrap_or_else(|| panic!("{text:?} not on\n{}", screen.join("\n")))
}

#[test]
fn clicks_pick_form_fields_history_rows_and_presets_and_the_wheel_moves_the_highlight() {
    for (width, height) in [(80, 24), (120, 40)] {
        let mut app = pow_form("20");
        let screen = drawn(&mut app, width, height);
        let (x, y) = at(&screen, "--halt");
        app.update(Msg::Mouse(MouseKind::Click, x, y));
        let form = app.form().unwrap();
        assert_eq!(form.defs[form.cursor - 2].label, "--halt", "{width}");
        assert_eq!(
            form.values,
            pow_form("20").form().unwrap().values,
            "a click edits nothing"
        );

        let mut app = history();
        let screen = drawn(&mut app, width, height);
        let (x, y) = at(&screen, "stopped");
        app.update(Msg::Mouse(MouseKind::Click, x, y));
        assert_eq!(
            app.history.cursor, 2,
            "{width}: the third row of the sorted table"
        );
        app.update(Msg::Mouse(MouseKind::WheelUp, x, y));
        assert_eq!(app.history.cursor, 1);

        let mut app = App::new(presets(), false);
        app.update(key(KeyCode::Char('l')));
        let screen = drawn(&mut app, width, height);
        let (x, y) = at(&screen, "Proof of work");
        app.update(Msg::Mouse(MouseKind::Click, x, y + 1));
        let cursor = match app.overlay {
            Overlay::Launcher { cursor } => cursor,
            _ => panic!("the launcher closed"),
        };
        assert_eq!(app.presets[cursor].spec.kind(), "pow", "{width}");
        // A click outside the launcher closes it, as Esc does.
        app.update(Msg::Mouse(MouseKind::Click, 0, 0));
        assert_eq!(app.overlay, Overlay::None);
    }
}
