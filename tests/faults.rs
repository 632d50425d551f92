//! Hostile conditions against the built binary: closed pipes, full disks, file-size limits,
//! endless or unreadable input, signals from the first millisecond, SIGKILL with children
//! (commands, `--worker` processes' children) running, and a log reader far slower than the
//! workers. Each must end cleanly.
#![allow(
    clippy::unwrap_used,
    reason = "a failed unwrap here is a failed test, with its message"
)]

use common::cli::{assert_refused, finish, signal, summary_of};
use common::logs::read_jsonl;
use common::procfs::{self, processes, unique_marker};
use common::scratch::Scratch;
use common::{holds_within, next_random};
use serde_json::Value;
use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

mod common;

const BIN: &str = env!("CARGO_BIN_EXE_poolwatch");
/// Generous: these are deadlines against hangs, not speed bounds.
const DEADLINE: Duration = Duration::from_secs(60);

/// Exit codes from the guide's table (2, bad input, is `assert_refused`'s).
const EXIT_LOG_INCOMPLETE: i32 = 3;
const EXIT_OUTPUT_FAILED: i32 = 4;
const EXIT_BROKEN_PIPE: i32 = 141;

fn poolwatch(args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command.args(args).stdin(Stdio::null());
    command
}

/// Waits for `child` under the deadline, reading what it writes; kills it (and fails) if it hangs.
fn output_within(child: Child) -> Output {
    finish(child, DEADLINE)
}

/// Runs `command` with `stdout` and `stderr` under the deadline; returns what it wrote.
fn output_with(mut command: Command, stdout: Stdio, stderr: Stdio) -> Output {
    output_within(command.stdout(stdout).stderr(stderr).spawn().unwrap())
}

fn dev_full() -> File {
    OpenOptions::new().write(true).open("/dev/full").unwrap()
}

/// The write end of a pipe whose read end is closed before poolwatch starts: its first write
/// there fails, however early it comes (a reader dropped after the spawn can come too late).
fn closed_pipe() -> Stdio {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    Stdio::from(writer)
}

/// A quick run that succeeds and prints a summary.
const QUICK: [&str; 7] = ["--headless", "--json", "needle", "--tasks", "50", "--needle", "5"];

#[test]
fn a_closed_pipe_on_stdout_ends_quietly() {
    // The reader is gone before poolwatch writes its summary.
    let output = output_with(poolwatch(&QUICK), closed_pipe(), Stdio::piped());
    assert_eq!(output.status.code(), Some(EXIT_BROKEN_PIPE), "{output:?}");
    assert!(
        output.stderr.is_empty(),
        "{:?}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn a_full_disk_on_stdout_is_one_line_and_exit_4() {
    let output = output_with(poolwatch(&QUICK), dev_full().into(), Stdio::piped());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(EXIT_OUTPUT_FAILED), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(lines[0].contains("No space left on device"), "{stderr}");
}

#[test]
fn a_full_disk_on_stderr_is_exit_4_without_a_panic() {
    // A bad argument: the one message goes to stderr, which cannot take it.
    let child = poolwatch(&["--headless", "needle", "--tasks", "0"])
        .stdout(Stdio::piped())
        .stderr(dev_full())
        .spawn()
        .unwrap();
    let output = output_within(child);
    assert_eq!(output.status.code(), Some(EXIT_OUTPUT_FAILED), "{output:?}");
}

#[test]
fn a_closed_pipe_on_stderr_is_exit_4_without_a_panic() {
    // A bad argument: the one message goes to stderr, whose reader is already gone.
    let child = poolwatch(&["--headless", "needle", "--tasks", "0"])
        .stdout(Stdio::piped())
        .stderr(closed_pipe())
        .spawn()
        .unwrap();
    let output = output_within(child);
    assert_eq!(output.status.code(), Some(EXIT_OUTPUT_FAILED), "{output:?}");
}

/// `command` with descriptor `fd` closed in the child, as `>&-` (or `2>&-`) leaves it.
fn with_closed(mut command: Command, fd: i32) -> Command {
    // SAFETY: close(2) is async-signal-safe, and the child owns its descriptor table here.
    unsafe {
        command.pre_exec(move || {
            libc::close(fd);
            Ok(())
        });
    }
    command
}

/// Issue 22: `>&-` lost the summary and exited 0 (Rust's runtime opens /dev/null on a closed
/// descriptor, so the writes "succeeded"). A summary that cannot be written is exit 4, said.
#[test]
fn a_closed_stdout_is_said_and_exit_4() {
    let output = output_with(with_closed(poolwatch(&QUICK), 1), Stdio::null(), Stdio::piped());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(EXIT_OUTPUT_FAILED), "{stderr}");
    assert_eq!(
        stderr.trim_end(),
        "poolwatch: cannot write the summary to standard output: it was closed when poolwatch started (>&-)"
    );
    // The same run into /dev/null (opened, not closed) is a success: nothing asked is lost.
    let output = output_within(
        poolwatch(&QUICK)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    assert_eq!(output.status.code(), Some(0), "{output:?}");
}

/// A message for a stderr closed at the start cannot be read: exit 4, as for a full disk;
/// a run with nothing to say there ends with its own code.
#[test]
fn a_closed_stderr_is_exit_4_only_when_something_was_said_there() {
    let refused = with_closed(poolwatch(&["--headless", "needle", "--tasks", "0"]), 2);
    let output = output_with(refused, Stdio::piped(), Stdio::null());
    assert_eq!(output.status.code(), Some(EXIT_OUTPUT_FAILED), "{output:?}");
    let output = output_with(with_closed(poolwatch(&QUICK), 2), Stdio::piped(), Stdio::null());
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("\"match_count\":1"),
        "{output:?}"
    );
}

#[test]
fn a_file_size_limit_leaves_whole_lines_and_says_the_log_is_incomplete() {
    let dir = Scratch::new("faults-fsize");
    let log = dir.join("run.log");
    let mut command = poolwatch(&["--headless", "--json", "--halt", "never", "--log"]);
    command
        .arg(&log)
        .args([
            "needle",
            "--tasks",
            "3000",
            "--needle",
            "1",
            "--sleep-ms",
            "0",
            "--panic-every",
            "1",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let limit = libc::rlimit {
        rlim_cur: 16 * 1024,
        rlim_max: 16 * 1024,
    };
    // SAFETY: setrlimit is async-signal-safe and touches only the child's own limits.
    unsafe {
        command.pre_exec(move || {
            if libc::setrlimit(libc::RLIMIT_FSIZE, &raw const limit) == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        });
    }
    let output = output_within(command.spawn().unwrap());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(EXIT_LOG_INCOMPLETE), "{stderr}");
    let summary = summary_of(&output);
    assert_eq!(summary["exit_code"], EXIT_LOG_INCOMPLETE);
    let reason = summary["log_incomplete"].as_str().unwrap();
    assert!(reason.contains("File too large"), "{reason}");
    assert!(stderr.contains("the log is incomplete"), "{stderr}");
    let lines = read_jsonl(&log);
    assert!(!lines.is_empty());
    assert!(std::fs::metadata(&log).unwrap().len() <= 16 * 1024);
    assert!(
        lines.iter().all(|line| line["event"] != "end"),
        "an end line after a failure"
    );
}

#[test]
fn an_input_line_over_one_mib_is_one_line_and_exit_2() {
    let dir = Scratch::new("faults-long-line");
    let input = dir.join("input");
    let mut text = b"short\n".to_vec();
    text.extend(std::iter::repeat_n(b'x', 3 << 20));
    std::fs::write(&input, text).unwrap();
    let mut command = poolwatch(&["--headless", "--json", "--halt", "never", "exec", "--input"]);
    command
        .arg(&input)
        .args(["--", "true"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let output = output_within(command.spawn().unwrap());
    assert_refused(&output, "line 2 is longer than 1 MiB", "a 3 MiB line");
    assert_eq!(summary_of(&output)["halt_reason"], "fatal");
}

#[test]
fn an_input_read_error_is_one_line_and_exit_2() {
    let output = output_within(
        poolwatch(&[
            "--headless",
            "--json",
            "exec",
            "--input",
            "/proc/self/mem",
            "--",
            "true",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap(),
    );
    assert_refused(&output, "read failed at line 1", "/proc/self/mem");
    let summary = summary_of(&output);
    assert_eq!(summary["halt_reason"], "fatal");
    assert!(summary["fatal"].as_str().unwrap().contains("/proc/self/mem"));
}

#[test]
fn signals_from_the_first_millisecond_end_with_a_summary_and_a_whole_log() {
    let dir = Scratch::new("faults-signals");
    let signals = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    for run in 0..50 {
        let signal = signals[run % signals.len()];
        // 0 to 3 ms after the handlers are in place (the first thing main does). "After the
        // exec" would not do: a loaded machine may take longer than that just to load the
        // program, and no program can handle a signal before its own code runs.
        let delay_us = next_random(&mut state) % 3000;
        // Every other run logs to a FIFO whose reader comes only after the signal, so the
        // signal surely lands while poolwatch is still setting up (opening its log).
        let through_fifo = run % 2 == 0;
        let log = dir.join(format!("run-{run}.log"));
        let (go, reader) = if through_fifo {
            make_fifo(&log);
            let (go, wait) = std::sync::mpsc::channel::<()>();
            let path = log.clone();
            let reader = std::thread::spawn(move || {
                let _ready = wait.recv();
                std::fs::read_to_string(path).unwrap()
            });
            (Some(go), Some(reader))
        } else {
            (None, None)
        };
        let mut command = poolwatch(&["--headless", "--json", "-w", "2", "--halt", "never", "--log"]);
        command
            .arg(&log)
            .args(["needle", "--tasks", "100000000", "--sleep-ms", "1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let child = command.spawn().unwrap();
        wait_for_runtime(child.id());
        std::thread::sleep(Duration::from_micros(delay_us));
        common::cli::signal(&child, signal);
        if let Some(go) = go {
            go.send(()).unwrap();
        }
        let output = output_within(child);
        assert_eq!(
            output.status.code(),
            Some(128 + signal),
            "run {run}: signal {signal} after {delay_us} us ended it with {:?}",
            output.status
        );
        let summary = summary_of(&output);
        assert_eq!(summary["halt_reason"], "signal", "run {run}");
        let text = match reader {
            Some(reader) => reader.join().unwrap(),
            None => std::fs::read_to_string(&log).unwrap(),
        };
        let last = text
            .lines()
            .last()
            .map(|line| serde_json::from_str::<Value>(line).unwrap());
        assert_eq!(
            last.map(|line| line["event"].clone()),
            Some("end".into()),
            "run {run}"
        );
    }
}

/// Waits until process `pid` has installed its handlers for SIGINT, SIGTERM and SIGHUP (seen
/// in `/proc/PID/status`): "from then on" every one of them must end in a summary.
fn wait_for_runtime(pid: u32) {
    let handled = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP]
        .iter()
        .fold(0_u64, |mask, signal| mask | 1_u64 << (signal - 1));
    let started = Instant::now();
    while started.elapsed() < DEADLINE {
        if procfs::caught_signals(pid) & handled == handled {
            return;
        }
        std::thread::yield_now();
    }
    panic!("process {pid} never installed its signal handlers");
}

/// Pids of live `sleep` processes whose command line holds `marker`.
fn processes_with(marker: &str) -> Vec<i32> {
    processes()
        .into_iter()
        .filter(|process| {
            process.is_live()
                && process.argv.first().is_some_and(|program| program == "sleep")
                && process.cmdline().contains(marker)
        })
        .map(|process| process.pid)
        .collect()
}

/// Spawns `command`, waits until `count` `sleep` processes carry `marker`, SIGKILLs poolwatch
/// and asserts that those sleeps die with it (`what` names them); any left are killed.
fn assert_kill_9_takes(mut command: Command, marker: &str, count: usize, what: &str) {
    let mut child = command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    if !holds_within(DEADLINE, || processes_with(marker).len() == count) {
        let _killed = child.kill();
        panic!("the {what} did not start");
    }
    // A worker tells the guard about its command's (or worker's) group just after the spawn
    // returns: give a loaded machine a moment for that write (README: the window in "Failure
    // behaviour").
    std::thread::sleep(Duration::from_millis(200));
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(libc::SIGKILL));
    let gone = holds_within(Duration::from_secs(10), || processes_with(marker).is_empty());
    let left = processes_with(marker);
    for pid in &left {
        // SAFETY: kill(2) on the leftover sleeps this test started; no memory is involved.
        unsafe {
            libc::kill(*pid, libc::SIGKILL);
        }
    }
    assert!(gone, "orphaned {what}: {left:?}");
}

#[test]
fn kill_9_takes_the_commands_with_it() {
    // A sleep length no other process uses, so the process table shows ours only.
    let marker = unique_marker(4321);
    let command = poolwatch(&[
        "--headless",
        "-w",
        "3",
        "exec",
        "--range",
        "0..3",
        "--",
        "sleep",
        &marker,
    ]);
    assert_kill_9_takes(command, &marker, 3, "commands");
}

#[test]
fn kill_9_takes_a_workers_children_with_it() {
    let marker = unique_marker(5432);
    // The worker's child stays in its group, out of reach of the worker's PR_SET_PDEATHSIG.
    let script = format!("sleep {marker} & while read x; do sleep 0.05; echo 0; done");
    let command = poolwatch(&[
        "--headless",
        "-w",
        "2",
        "exec",
        "--worker",
        "--range",
        "0..100000",
        "--",
        "sh",
        "-c",
        &script,
    ]);
    assert_kill_9_takes(command, &marker, 2, "children of workers");
}

/// What a log reader saw.
struct Seen {
    errors: u64,
    last: String,
}

/// Opens a FIFO at `path` for a reader that stalls `stall` before reading anything, then
/// reads 16 KiB every `pause` to the end (a log consumer far slower than the workers).
fn slow_reader(path: &Path, stall: Duration, pause: Duration) -> std::thread::JoinHandle<Seen> {
    let path = path.to_path_buf();
    std::thread::spawn(move || {
        let mut fifo = File::open(&path).unwrap();
        std::thread::sleep(stall);
        let mut text = Vec::new();
        let mut chunk = vec![0_u8; 16 * 1024];
        loop {
            let read = fifo.read(&mut chunk).unwrap();
            if read == 0 {
                break;
            }
            text.extend_from_slice(&chunk[..read]);
            std::thread::sleep(pause);
        }
        let text = String::from_utf8(text).unwrap();
        assert!(text.ends_with('\n'), "the log ends mid-line");
        let errors = text
            .lines()
            .filter(|line| line.starts_with("{\"event\":\"error\""))
            .count();
        Seen {
            errors: errors as u64,
            last: text.lines().last().unwrap_or_default().to_string(),
        }
    })
}

fn make_fifo(path: &Path) {
    let name = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: mkfifo reads a NUL-terminated path that outlives the call.
    assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
}

/// Many never-dropped events, as fast as a debug build makes them: with
/// `needle --panic-every 1` every task is an error.
fn many_events(tasks: &str, log: Option<&Path>) -> Command {
    let mut command = poolwatch(&["--headless", "--json", "-w", "2", "--halt", "never"]);
    if let Some(log) = log {
        command.arg("--log").arg(log);
    }
    command
        .args([
            "needle",
            "--tasks",
            tasks,
            "--sleep-ms",
            "0",
            "--panic-every",
            "1",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    command
}

#[test]
fn a_stalled_log_reader_bounds_memory_and_misses_no_event() {
    let dir = Scratch::new("faults-memory");
    let baseline = summary_of(&output_within(many_events("150000", None).spawn().unwrap()));
    let fifo = dir.join("log.fifo");
    make_fifo(&fifo);
    let reader = slow_reader(&fifo, Duration::from_secs(2), Duration::ZERO);
    let summary = summary_of(&output_within(
        many_events("150000", Some(&fifo)).spawn().unwrap(),
    ));
    let seen = reader.join().unwrap();
    assert_eq!(summary["errors"], 150_000);
    assert_eq!(seen.errors, 150_000, "every error is in the log");
    let end: Value = serde_json::from_str(&seen.last).unwrap();
    assert_eq!(end["event"], "end");
    let grew_kb = summary["peak_rss_kb"].as_i64().unwrap() - baseline["peak_rss_kb"].as_i64().unwrap();
    // Unbounded, the stall queues every event the workers make meanwhile (~130 bytes
    // each, tens of MB); bounded, the queue holds 1,024 of them.
    assert!(
        grew_kb < 4 * 1024,
        "memory grew by {grew_kb} KiB with a stalled log reader"
    );
}

#[test]
fn sigint_during_a_backlog_acts_at_once() {
    let dir = Scratch::new("faults-backlog");
    let fifo = dir.join("log.fifo");
    make_fifo(&fifo);
    // About 1.6 MB/s, some 12,000 lines a second: far behind the workers.
    let reader = slow_reader(&fifo, Duration::ZERO, Duration::from_millis(10));
    let child = many_events("100000000", Some(&fifo)).spawn().unwrap();
    std::thread::sleep(Duration::from_secs(2));
    let signalled = Instant::now();
    signal(&child, libc::SIGINT);
    let output = output_within(child);
    let took = signalled.elapsed();
    let summary = summary_of(&output);
    let seen = reader.join().unwrap();
    assert_eq!(output.status.code(), Some(130));
    assert_eq!(summary["halt_reason"], "signal");
    assert_eq!(
        Some(seen.errors),
        summary["errors"].as_u64(),
        "every error is in the log"
    );
    // The target is 200 ms; a backlog drained line by line takes many seconds.
    assert!(
        took < Duration::from_secs(2),
        "SIGINT took {took:?} to end the run"
    );
}

#[test]
fn a_log_that_is_not_a_log_is_refused_and_kept_and_errors_stay_on_one_line() {
    let dir = common::scratch::Scratch::new("not-a-log");
    let notes = dir.join("notes.txt");
    std::fs::write(&notes, "3,000 bytes of someone's notes, no newline at the end").unwrap();
    let output = common::cli::poolwatch()
        .args([
            "--headless",
            "--log",
            notes.to_str().unwrap(),
            "needle",
            "--tasks",
            "10",
            "--needle",
            "3",
        ])
        .output()
        .unwrap();
    common::cli::assert_refused(&output, "not a poolwatch log", "--log on a text file");
    let kept = std::fs::read_to_string(&notes).unwrap();
    assert_eq!(kept, "3,000 bytes of someone's notes, no newline at the end");
    // A newline inside an argument stays inside the one line of the error.
    let output = common::cli::poolwatch()
        .args([
            "--headless",
            "--log",
            "/nonexistent/a\nb",
            "needle",
            "--tasks",
            "10",
            "--needle",
            "3",
        ])
        .output()
        .unwrap();
    common::cli::assert_refused(&output, r"/nonexistent/a\nb", "a newline in --log");
}

#[test]
fn exec_output_to_a_full_device_is_said_once_and_exit_4() {
    let full = OpenOptions::new().write(true).open("/dev/full").unwrap();
    let output = common::cli::poolwatch()
        .args([
            "--headless",
            "--halt",
            "never",
            "exec",
            "--output",
            "--range",
            "1..20",
            "--",
            "echo",
            "{}",
        ])
        .stdout(std::process::Stdio::from(full))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(4), "{stderr}");
    assert_eq!(stderr.matches("cannot write").count(), 1, "{stderr}");
    assert!(stderr.contains("19 of 19 jobs run succeeded"), "{stderr}");
}
