//! End to end: the real binary in a pseudo-terminal, driven by keys and signals, its screen read with vt100.
#![allow(
    clippy::unwrap_used,
    reason = "a failed unwrap here is a failed test, with its message"
)]

mod common;

use common::logs::{kinds_but_progress, read_jsonl};
use common::procfs::Stat;
use common::pty::{Pty, poolwatch_command};
use common::scratch::Scratch;
use std::time::Duration;

/// A needle run long enough to press keys during it.
const LONG_RUN: [&str; 6] = ["-w", "2", "needle", "--tasks", "1000000", "--needle=999999"];

/// [`LONG_RUN`] launched at once.
fn started_long_run() -> Vec<&'static str> {
    [["--start"].as_slice(), &LONG_RUN].concat()
}

#[test]
fn keys_drive_a_run_from_ready_to_quit() {
    let scratch = Scratch::new("pty-keys");
    let log = scratch.join("log.jsonl");
    let mut args = vec!["--log", log.to_str().unwrap()];
    args.extend(LONG_RUN);
    let mut session = Pty::start(&args);
    session.wait_for("[Ready]");
    session.wait_for("Enter launch");
    assert!(session.alternate_screen());

    session.press("\r");
    session.wait_for("[Running]");
    session.wait_for("p pause");
    session.wait_for("running  ");

    session.press("p");
    session.wait_for("[Paused]");
    session.wait_for("p resume");
    session.wait_for("paused: workers finish what they hold");

    session.press("p");
    session.wait_for("resumed");
    session.wait_for("[Running]");

    session.press("t");
    session.wait_for("[Stopped]");
    session.wait_for("stopped by the user");
    session.wait_for("halt latency");
    session.wait_for("Enter run again");

    session.press("q");
    let status = session.wait_exit();
    session.assert_terminal_restored();
    assert_eq!(status.exit_code(), 1, "a run stopped without a match exits 1");
    let after = session.screen();
    assert!(
        after.contains("stopped by the user"),
        "summary printed after restore:\n{after}"
    );
    let kinds = kinds_but_progress(&read_jsonl(&log));
    assert_eq!(
        kinds,
        ["start", "pause", "resume", "halt-request", "halt", "end"],
        "{kinds:?}"
    );
}

#[test]
fn help_launcher_and_workers_respond() {
    let mut session = Pty::start(&started_long_run());
    session.wait_for("[Running]");
    session.press("+");
    session.wait_for("workers: 2 -> 3");
    session.wait_for("3 workers");
    session.press("?");
    session.wait_for("hotkeys");
    session.press("?");
    session.press("l");
    session.wait_for("launch a run");
    session.wait_for("Article example 3");
    session.press("\x1b");
    session.wait_gone("launch a run");
    session.press("q");
    session.wait_for("quit and stop the run? y/n");
    session.press("y");
    let status = session.wait_exit();
    session.assert_terminal_restored();
    assert_eq!(status.exit_code(), 1);
}

#[test]
fn sigterm_sigint_and_sighup_mid_run_restore_the_terminal() {
    for (signal, code) in [(libc::SIGTERM, 143), (libc::SIGINT, 130), (libc::SIGHUP, 129)] {
        let mut session = Pty::start(&started_long_run());
        session.wait_for("[Running]");
        session.wait_for("running  ");
        let status = session.signal_and_wait(signal);
        assert_eq!(status.exit_code(), code, "128 + signal {signal}");
        let after = session.screen();
        assert!(
            after.contains("interrupted by a signal"),
            "signal {signal}: {after}"
        );
    }
}

#[test]
fn a_finished_run_shows_found() {
    let mut session = Pty::start(&[
        "--start", "-w", "4", "needle", "--tasks", "20000", "--needle", "300",
    ]);
    session.wait_for("[Found]");
    session.wait_for("match at task 300");
    session.press("q");
    let status = session.wait_exit();
    session.assert_terminal_restored();
    assert_eq!(status.exit_code(), 0);
}

#[test]
fn a_panicking_task_is_logged_and_the_dashboard_keeps_running() {
    let mut session = Pty::start(&[
        "--start",
        "-w",
        "2",
        "needle",
        "--tasks",
        "100000",
        "--needle=99998",
        "--panic-every",
        "100",
    ]);
    session.wait_for("error: task 99: panic: task 99 panicked on purpose");
    session.wait_for("error: task 199: panic");
    let screen = session.wait_for("[Running]");
    assert!(
        !screen.contains("panicked at"),
        "a worker panic printed over the dashboard:\n{screen}"
    );
    assert!(session.alternate_screen());
    session.press("q");
    session.wait_for("quit and stop the run? y/n");
    session.press("y");
    let status = session.wait_exit();
    session.assert_terminal_restored();
    assert_eq!(status.exit_code(), 1);
    let after = session.screen();
    assert!(!after.contains("panicked at"), "{after}");
}

#[test]
fn a_panic_on_the_ui_thread_restores_the_terminal_before_printing() {
    let mut command = poolwatch_command(&started_long_run());
    command.env("POOLWATCH_TEST_PANIC_UI", "1");
    let mut session = Pty::spawn(command);
    let status = session.wait_exit();
    session.assert_terminal_restored();
    assert_ne!(status.exit_code(), 0);
    let after = session.screen();
    assert!(
        after.contains("UI panic requested by POOLWATCH_TEST_PANIC_UI"),
        "the panic message is readable:\n{after}"
    );
}

#[test]
fn a_signal_after_the_run_ended_exits_with_the_runs_code() {
    let mut session = Pty::start(&[
        "--json", "--start", "-w", "2", "needle", "--tasks", "20000", "--needle", "300",
    ]);
    session.wait_for("[Found]");
    let status = session.signal_and_wait(libc::SIGINT);
    let after = session.screen();
    assert!(after.contains("\"exit_code\":0"), "{after}");
    assert_eq!(status.exit_code(), 0, "the summary's exit code is the process's");
}

#[test]
fn q_and_esc_ask_before_stopping_a_live_run() {
    let mut session = Pty::start(&started_long_run());
    session.wait_for("[Running]");
    session.press("q");
    session.wait_for("quit and stop the run? y/n");
    session.press("n");
    session.wait_for("[Running]");
    // Esc with the help open only closes the help.
    session.press("?");
    session.wait_for("hotkeys");
    session.press("\x1b");
    session.wait_gone("hotkeys");
    assert!(session.is_running(), "Esc on the help quit");
    session.press("\x1b");
    session.wait_for("quit and stop the run? y/n");
    assert!(session.is_running(), "Esc quit a live run without asking");
    session.press("y");
    let status = session.wait_exit();
    session.assert_terminal_restored();
    assert_eq!(status.exit_code(), 1, "a run stopped without a match exits 1");
}

#[test]
fn ctrl_c_in_the_dashboard_stops_at_once_and_exits_130() {
    let mut session = Pty::start(&started_long_run());
    session.wait_for("[Running]");
    session.wait_for("running  ");
    session.press("\x03");
    let status = session.wait_exit();
    session.assert_terminal_restored();
    assert_eq!(status.exit_code(), 130, "like SIGINT in headless mode");
    let after = session.screen();
    assert!(after.contains("interrupted by a signal"), "{after}");
}

/// CPU time (user + system clock ticks) the process `pid` has used.
fn cpu_ticks(pid: u32) -> u64 {
    Stat::of(pid).expect("poolwatch is running").cpu_ticks()
}

#[test]
fn an_idle_dashboard_uses_no_cpu() {
    let mut session = Pty::start(&["-w", "2", "needle", "--tasks", "1000", "--needle", "5"]);
    session.wait_for("[Ready]");
    let pid = session.pid();
    let before = cpu_ticks(pid);
    std::thread::sleep(Duration::from_secs(2));
    let used = cpu_ticks(pid) - before;
    // CPU time, not wall time: a busy loop would use ~200 ticks (100 Hz) in 2 s whatever the load.
    assert!(used <= 10, "{used} ticks of CPU in 2 s idle in Ready");
    session.press("q");
    session.wait_exit();
}
