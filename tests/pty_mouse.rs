//! The mouse end to end: SGR mouse reports typed into the built binary's pseudo-terminal, their
//! effect read back from the screen; and `--no-mouse`, which leaves the mouse to the terminal.
#![allow(
    clippy::unwrap_used,
    reason = "a failed unwrap here is a failed test, with its message"
)]

mod common;

use common::pty::{Pty, ROWS};

/// A needle run long enough to click during it, launched at once.
const LONG_RUN: [&str; 7] = [
    "--start",
    "-w",
    "2",
    "needle",
    "--tasks",
    "1000000",
    "--needle=999999",
];

/// A click on the footer's `? help` opens the help; a click outside it closes it.
fn click_help_open_and_closed(session: &mut Pty) {
    let (x, y) = session.find("? help").unwrap();
    session.click(x, y);
    session.wait_for("hotkeys");
    session.click(0, ROWS - 1);
    session.wait_gone("hotkeys");
}

/// Waits until the cell at (`x`, `y`) is drawn reversed: its row is the selected one.
fn wait_highlighted(session: &Pty, x: u16, y: u16) {
    let selected = common::poll_within(
        std::time::Duration::from_secs(30),
        std::time::Duration::from_millis(50),
        || session.reversed_at(x, y).then_some(()),
    );
    assert!(selected.is_some(), "row not highlighted:\n{}", session.screen());
}

#[test]
fn clicks_press_footer_keys_focus_panels_and_the_wheel_scrolls_the_log() {
    let mut session = Pty::start(&LONG_RUN);
    session.wait_for("[Running]");
    session.wait_for("p pause");
    assert!(session.mouse_reported(), "the dashboard asks for mouse reports");

    // A click on the footer's `p pause` pauses, as `p` does.
    let (x, y) = session.find("p pause").unwrap();
    session.click(x + 2, y);
    session.wait_for("[Paused]");
    session.wait_for("p resume");

    // A click on a worker's row selects it: the row is highlighted.
    let (x, y) = session.find("workers:").unwrap();
    assert!(!session.reversed_at(x, y + 2));
    session.click(x, y + 2);
    wait_highlighted(&session, x, y + 2);

    // Enough log lines to scroll, then the wheel over the log scrolls it, not the workers.
    for _ in 0..3 {
        session.press("p");
        session.press("p");
    }
    let (x, y) = session.find("results:").unwrap();
    session.wheel(true, x, y + 3);
    session.wait_for("scrolled 3");
    session.wheel(false, x, y + 3);
    session.wait_for("scrolled 0");

    // A click on `? help` opens the help, a click outside it closes it.
    click_help_open_and_closed(&mut session);

    session.press("t");
    session.wait_for("[Stopped]");
    let (x, y) = session.find("q quit").unwrap();
    session.click(x, y);
    let status = session.wait_exit();
    session.assert_terminal_restored();
    assert_eq!(status.exit_code(), 1, "a click on `q quit` quits as q does");
}

#[test]
fn no_mouse_leaves_the_mouse_to_the_terminal_and_the_keys_still_work() {
    let args = [["--no-mouse"].as_slice(), &LONG_RUN].concat();
    let mut session = Pty::start(&args);
    session.wait_for("[Running]");
    session.wait_for("p pause");
    assert!(!session.mouse_reported(), "--no-mouse asks for no mouse reports");
    session.press("p");
    session.wait_for("[Paused]");
    session.press("q");
    session.wait_for("quit and stop the run? y/n");
    session.press("y");
    session.wait_exit();
    session.assert_terminal_restored();
}

/// Writes the log of shard `index` of `count`, running (no end yet), last heard at `ts`.
fn live_shard_log(path: &std::path::Path, index: u64, count: u64, ts: f64) {
    let start = format!(
        r#"{{"event":"start","t":0.0,"ts":{},"format":2,"search":"needle","params":"tasks=100000","spec":null,"workers":1,"halt":"now","space":100000,"window":null,"shard":{{"index":{index},"count":{count},"chunk":10}},"host":"node{index}","pid":0,"resumed":null}}"#,
        ts - 1.0
    );
    let progress = format!(
        r#"{{"event":"progress","t":1.0,"ts":{ts},"state":"running","total":3000,"submitted":50,"completed":40,"cancelled":0,"matches":0,"errors":0,"rate":40.0,"best":null,"elapsed_s":1.0,"active_s":1.0,"workers":1,"done":[[0,40]]}}"#
    );
    std::fs::write(path, format!("{start}\n{progress}\n")).unwrap();
}

/// Issue 25: the mouse in `watch`, end to end: a click selects a shard's row, the wheel over
/// the shards table scrolls it, the footer's hints are buttons, and `q quit` quits.
#[test]
fn in_watch_clicks_select_shards_the_wheel_scrolls_them_and_hints_are_buttons() {
    let scratch = common::scratch::Scratch::new("pty-watch-mouse");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let paths: Vec<String> = (0..40)
        .map(|index| {
            let path = scratch.join(format!("shard-{index}.jsonl"));
            live_shard_log(&path, index, 40, now);
            path.display().to_string()
        })
        .collect();
    let mut args = vec!["watch"];
    args.extend(paths.iter().map(String::as_str));
    let mut session = Pty::start(&args);
    session.wait_for("shards: 40 of 40 live");
    session.wait_for("node1 ");
    assert!(session.mouse_reported(), "watch asks for mouse reports");

    // A click on shard 2's row selects it: the row is highlighted.
    let (x, y) = session.find("node2 ").unwrap();
    assert!(!session.reversed_at(x, y));
    session.click(x, y);
    wait_highlighted(&session, x, y);

    // The wheel over the table scrolls it: shard 1's row goes out of view.
    session.wheel(true, x, y);
    session.wait_gone("node1 ");

    // The footer's `? help` opens the help; a click outside closes it.
    click_help_open_and_closed(&mut session);

    // `q quit` in the footer asks, as `q` does, while the shards run.
    let (x, y) = session.find("q quit").unwrap();
    session.click(x, y);
    session.wait_for("quit and stop the run? y/n");
    session.press("y");
    session.wait_exit();
    session.assert_terminal_restored();
}
