//! `--quit-when-done`: the dashboard of a program that embeds poolwatch (the Python `Pool`)
//! closes by itself when its run ends, restores the terminal and prints no summary.
#![allow(
    clippy::unwrap_used,
    reason = "a failed unwrap here is a failed test, with its message"
)]

mod common;

use common::pty::Pty;

#[test]
fn the_dashboard_quits_when_the_run_ends_and_prints_no_summary() {
    let mut session = Pty::start(&[
        "--start",
        "--quit-when-done",
        "-w",
        "4",
        "needle",
        "--tasks",
        "20000",
        "--needle",
        "300",
    ]);
    let status = session.wait_exit();
    session.assert_terminal_restored();
    assert_eq!(status.exit_code(), 0, "a match: exit 0, with no key pressed");
    let after = session.screen();
    assert!(!after.contains("poolwatch needle"), "no summary:\n{after}");
}

#[test]
fn t_ends_the_run_and_the_dashboard_at_once() {
    let mut session = Pty::start(&[
        "--start",
        "--quit-when-done",
        "-w",
        "2",
        "needle",
        "--tasks",
        "1000000",
        "--needle=999999",
    ]);
    session.wait_for("[Running]");
    session.wait_for("running  ");
    session.press("t");
    let status = session.wait_exit();
    session.assert_terminal_restored();
    assert_eq!(status.exit_code(), 1, "stopped without a match: exit 1");
}
