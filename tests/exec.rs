//! `poolwatch exec` end to end with real processes: halting, timeouts, output, lazy stdin, orphans, missing commands.
#![allow(
    clippy::unwrap_used,
    reason = "a failed unwrap here is a failed test, with its message"
)]

use common::cli::{assert_refused, finish, headless_json, signal, summary_of};
use common::logs::{of_kind, read_jsonl};
use common::procfs::{self, live_with, processes};
use common::scratch::Scratch;
use common::{PATIENCE, wait_until};
use poolwatch::internals::{ExecSearch, ExecSpec};
use poolwatch::{Run, RunConfig};
use serde_json::Value;
use std::collections::HashSet;
use std::io::Write;
use std::process::{Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

mod common;

fn run(args: &[&str]) -> (Value, Output) {
    let child = headless_json()
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let output = finish(child, Duration::from_secs(60));
    (summary_of(&output), output)
}

/// A token no other process on the machine has in its command line (also a `sleep` of
/// about 30 s).
fn token() -> String {
    procfs::unique_marker(30)
}

fn matched_input(summary: &Value) -> String {
    let value = summary["matches"][0]["value"].as_str().unwrap_or("");
    value.lines().next().unwrap_or("").to_string()
}

#[test]
fn without_a_halt_every_one_shot_job_runs_as_with_gnu_parallel() {
    // `exec --input list -- gzip {}` stopped at the first success and killed the second
    // gzip mid-run: a success of a one-shot command is no reason to stop.
    let scratch = Scratch::new("exec-every-job");
    let list = scratch.join("list.txt");
    let names: Vec<String> = (1..=6)
        .map(|n| scratch.join(format!("f{n}")).to_str().unwrap().to_string())
        .collect();
    std::fs::write(&list, names.join("\n") + "\n").unwrap();
    let script = r#"sleep 0.05; touch "$1.done""#;
    let args = [
        "-w",
        "2",
        "exec",
        "--input",
        list.to_str().unwrap(),
        "--",
        "sh",
        "-c",
        script,
        "sh",
        "{}",
    ];
    let (summary, output) = run(&args);
    assert_eq!(output.status.code(), Some(0), "{summary}");
    assert_eq!(summary["halt_policy"], "never", "{summary}");
    assert_eq!(summary["completed"], 6, "{summary}");
    assert_eq!(summary["succeeded"], 6, "{summary}");
    for name in &names {
        assert!(
            std::path::Path::new(&format!("{name}.done")).exists(),
            "{name} never ran"
        );
    }
    // The text summary says "succeeded"; a failed job makes the exit code 1.
    let text = common::cli::poolwatch()
        .args([
            "--headless",
            "-w",
            "2",
            "exec",
            "--range",
            "0..4",
            "--",
            "sh",
            "-c",
            "exit $(( $1 % 2 ))",
            "sh",
            "{}",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert_eq!(text.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("ran every input"), "{stdout}");
    assert!(stdout.contains("2 of 4 jobs run succeeded, 2 failed"), "{stdout}");
    assert!(!stdout.contains("match"), "{stdout}");
}

#[test]
fn halts_on_the_first_success_over_a_range() {
    let (summary, output) = run(&[
        "--halt",
        "now",
        "-w",
        "4",
        "exec",
        "--range",
        "1..50000",
        "--",
        "sh",
        "-c",
        r#"test "$1" = 10000"#,
        "sh",
        "{}",
    ]);
    assert_eq!(output.status.code(), Some(0), "{summary}");
    assert_eq!(summary["search"], "exec");
    assert_eq!(summary["halt_reason"], "match");
    assert_eq!(summary["match_count"], 1);
    assert_eq!(matched_input(&summary), "10000");
    assert_eq!(summary["matches"][0]["task"], 9999);
    assert_eq!(summary["total"], 49999);
    let submitted = summary["submitted"].as_u64().unwrap();
    assert!(
        submitted < 49_999,
        "not all inputs should be handed out: {submitted}"
    );
    assert_eq!(
        summary["completed"].as_u64().unwrap() + summary["cancelled"].as_u64().unwrap(),
        submitted
    );
    assert_eq!(summary["errors"], 0);
}

#[test]
fn a_timeout_kills_the_task_and_counts_an_error() {
    let scratch = Scratch::new("exec-timeout");
    let log = scratch.join("log.jsonl");
    let started = Instant::now();
    let (summary, output) = run(&[
        "--halt",
        "never",
        "--log",
        log.to_str().unwrap(),
        "exec",
        "--timeout",
        "3",
        "--range",
        "1..=3",
        "--",
        "sh",
        "-c",
        r#"echo "started $1"; if [ "$1" = 2 ]; then sleep 60; fi; exit 1"#,
        "sh",
    ]);
    // Killed at the timeout, far below the 60 s it would sleep. The timeout is long enough
    // for the other two to start and exit on a loaded machine: they must not time out too.
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(output.status.code(), Some(1), "{summary}");
    assert_eq!(summary["errors"], 1);
    assert_eq!(summary["completed"], 3);
    let events = read_jsonl(&log);
    let error = of_kind(&events, "error")[0];
    let message = error["message"].as_str().unwrap();
    assert!(message.starts_with("2: timed out after 3 s"), "{message}");
    assert!(message.contains("started 2"), "{message}");
}

#[test]
fn output_is_captured_per_task_into_the_log() {
    let scratch = Scratch::new("exec-output");
    let log = scratch.join("log.jsonl");
    let (summary, output) = run(&[
        "--halt",
        "never",
        "-w",
        "2",
        "--log",
        log.to_str().unwrap(),
        "exec",
        "--range",
        "1..=4",
        "--",
        "sh",
        "-c",
        r#"echo "out $1 #$2"; echo "err $1" >&2; exit $(( $1 % 3 ))"#,
        "sh",
        "{}",
        "{#}",
    ]);
    // stdout is the summary alone: no command output is interleaved with it. Exit 1, as
    // GNU parallel's: not every job succeeded.
    assert_eq!(output.status.code(), Some(1), "{summary}");
    assert_eq!(summary["match_count"], 1);
    assert_eq!(summary["errors"], 1);
    assert_eq!(summary["matches"][0]["value"], "3\n  out 3 #3\n  err 3");
    let events = read_jsonl(&log);
    let error = of_kind(&events, "error")[0];
    assert_eq!(error["message"], "2: exit status 2\n  err 2\n  out 2 #2");
    let matched = of_kind(&events, "match")[0];
    assert_eq!(matched["task"], 2);
}

#[test]
fn match_stdout_decides_by_output() {
    let (summary, output) = run(&[
        "exec",
        "--match-stdout",
        "^found [0-9]+$",
        "--range",
        "1..=6",
        "--",
        "sh",
        "-c",
        r#"if [ "$1" = 4 ]; then echo "found $1"; else echo "no $1"; fi; exit 1"#,
        "sh",
    ]);
    assert_eq!(output.status.code(), Some(0), "{summary}");
    assert_eq!(matched_input(&summary), "4");
    assert_eq!(summary["errors"], 0);
}

#[test]
fn stdin_is_read_lazily_and_an_endless_producer_does_not_hang_the_run() {
    let mut child = headless_json()
        .args([
            "--halt",
            "now",
            "-w",
            "2",
            "exec",
            "--",
            "sh",
            "-c",
            r#"test "$1" = 300"#,
            "sh",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let written = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&written);
    let producer = std::thread::spawn(move || {
        // Never ends by itself: stops only when poolwatch is gone (EPIPE).
        for line in 1_u64.. {
            let text = format!("{line}\n");
            if stdin.write_all(text.as_bytes()).is_err() {
                break;
            }
            counter.fetch_add(text.len() as u64, Ordering::Relaxed);
        }
    });
    let output = finish(child, Duration::from_secs(30));
    producer.join().unwrap();
    let summary = summary_of(&output);
    assert_eq!(output.status.code(), Some(0), "{summary}");
    assert_eq!(matched_input(&summary), "300");
    let written = written.load(Ordering::Relaxed);
    // An eager reader would have swallowed hundreds of MB by now; lazy reading stops at
    // the pipe buffer plus the read-ahead window.
    assert!(written < 2 << 20, "poolwatch read {written} bytes of stdin");
    let total = summary["total"].as_u64().unwrap();
    assert!((300..5000).contains(&total), "total so far: {total}");
}

#[test]
fn no_process_outlives_a_halt_now() {
    let tok = token();
    let scratch = Scratch::new("exec-no-orphans");
    let go = scratch.join("go");
    // Input 3 succeeds once the test says so: the sleepers exist by then, however slowly a
    // loaded machine starts them (a fixed wait could end before the test saw them).
    let script =
        r#"if [ "$1" = 3 ]; then while [ ! -e "$3" ]; do sleep 0.01; done; exit 0; fi; sleep "$2" & wait"#;
    let child = headless_json()
        .args([
            "--halt",
            "now",
            "-w",
            "4",
            "exec",
            "--range",
            "1..=8",
            "--",
            "sh",
            "-c",
            script,
            "sh",
            "{}",
            &tok,
            go.to_str().unwrap(),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The sleepers must exist for the check to mean anything.
    let sleepers = || {
        live_with(&tok)
            .iter()
            .filter(|p| p.argv.first().is_some_and(|program| program == "sleep"))
            .count()
    };
    wait_until("two of the sleepers", || sleepers() >= 2);
    std::fs::write(&go, "").unwrap();
    let output = finish(child, Duration::from_secs(60));
    let summary = summary_of(&output);
    assert_eq!(summary["halt_reason"], "match", "{summary}");
    assert_eq!(matched_input(&summary), "3");
    let left = live_with(&tok);
    assert!(left.is_empty(), "outlived the run: {left:?}");
}

#[test]
fn sigterm_kills_every_process_group_the_run_started() {
    let tok = token();
    let child = headless_json()
        .args(["-w", "2", "exec", "--range", "1..=10", "--", "sleep", &tok])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let me = i32::try_from(child.id()).unwrap();
    let started = Instant::now();
    let mut groups: HashSet<i32> = HashSet::new();
    while groups.len() < 2 && started.elapsed() < PATIENCE {
        // The commands, not the guard that kills their groups should poolwatch die.
        let commands = processes()
            .into_iter()
            .filter(|p| p.stat.ppid() == me && p.cmdline().contains(&tok));
        groups.extend(commands.map(|p| p.stat.pgrp()));
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(groups.len(), 2, "expected one group per worker: {groups:?}");
    assert!(
        !groups.contains(&me),
        "commands must run in their own process groups"
    );
    signal(&child, libc::SIGTERM);
    let sent = Instant::now();
    let output = finish(child, Duration::from_secs(20));
    assert!(sent.elapsed() < Duration::from_secs(5), "{:?}", sent.elapsed());
    assert_eq!(output.status.code(), Some(143));
    let summary = summary_of(&output);
    assert_eq!(summary["halt_reason"], "signal");
    let groups: Vec<i32> = groups.into_iter().collect();
    let left = procfs::live_in_groups(&groups);
    assert!(left.is_empty(), "outlived the run: {left:?}");
    assert!(live_with(&tok).is_empty());
}

#[test]
fn a_missing_command_is_reported_once_with_exit_2() {
    // Found missing before the run starts.
    let output = headless_json()
        .args(["exec", "--range", "1..50000", "--", "poolwatch-no-such-cmd"])
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert_eq!(
        stderr.trim_end(),
        "poolwatch: cannot run 'poolwatch-no-such-cmd': No such file or directory"
    );
    // Found missing at spawn time (a placeholder in the program hides it up front).
    let (summary, output) = run(&["exec", "--range", "1..50000", "--", "poolwatch-no-such-{}"]);
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert_eq!(
        stderr.matches("cannot run 'poolwatch-no-such-").count(),
        1,
        "{stderr}"
    );
    assert!(stderr.contains("No such file or directory"), "{stderr}");
    assert_eq!(summary["halt_reason"], "fatal");
    assert!(
        summary["fatal"]
            .as_str()
            .unwrap()
            .starts_with("cannot run 'poolwatch-no-such-"),
        "{summary}"
    );
    assert_eq!(summary["errors"], 1);
    assert!(summary["completed"].as_u64().unwrap() < 100, "{summary}");
}

#[test]
fn a_file_that_cannot_be_executed_is_fatal() {
    let scratch = Scratch::new("exec-not-executable");
    let path = scratch.join("not-executable.sh");
    std::fs::write(&path, "#!/bin/sh\nexit 0\n").unwrap();
    let output = headless_json()
        .args(["exec", "--range", "1..5", "--", path.to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("Permission denied"), "{stderr}");
}

#[test]
fn bad_exec_input_gets_one_line_and_exit_2() {
    let cases: &[(&[&str], &str)] = &[
        (&["exec"], "<CMD>"),
        (&["exec", "--range", "5..1", "--", "true"], "--range"),
        (&["exec", "--range", "x", "--", "true"], "--range"),
        (
            &["exec", "--input", "/nonexistent/inputs", "--", "true"],
            "cannot read input file",
        ),
        (&["exec", "--input", "/", "--", "true"], "is a directory"),
        (&["exec", "--match-stdout", "(", "--", "true"], "--match-stdout"),
        (&["exec", "--timeout", "0", "--", "true"], "--timeout"),
        (&["exec", "--grace", "-1", "--", "true"], "--grace"),
        (
            &["exec", "--range", "1..3", "--input", "f", "--", "true"],
            "--input",
        ),
        (&["exec", "--", ""], "needs a command"),
    ];
    for (args, needle) in cases {
        let output = headless_json().args(*args).stdin(Stdio::null()).output().unwrap();
        assert_refused(&output, needle, &format!("{args:?}"));
    }
}

/// An exec spec reading `lines` lines from a file in its own scratch directory (which holds
/// the file for as long as it is kept).
fn file_spec(lines: u64, command: &[&str]) -> (ExecSpec, Scratch) {
    let scratch = Scratch::new("exec-inputs");
    let path = scratch.join("inputs.txt");
    let text: String = (1..=lines).map(|i| format!("line{i}\n")).collect();
    std::fs::write(&path, text).unwrap();
    let spec = ExecSpec {
        command: command.iter().map(ToString::to_string).collect(),
        range: None,
        input: Some(path.clone()),
        total: None,
        match_stdout: None,
        timeout_s: None,
        grace_s: 2.0,
        ..ExecSpec::default()
    };
    (spec, scratch)
}

#[test]
fn the_dashboard_sees_each_running_input_and_pid_and_a_file_counted_up_front() {
    let (spec, _inputs) = file_spec(200, &["sh", "-c", "sleep 30", "sh"]);
    let search = Arc::new(ExecSearch::new(&spec).unwrap());
    let config = RunConfig::default().with_workers(2);
    let run = Run::start(search, &config);
    let started = Instant::now();
    let mut snapshot = run.snapshot();
    while (snapshot.workers.iter().filter(|w| w.detail.is_some()).count() < 2 || snapshot.total_open)
        && started.elapsed() < Duration::from_secs(30)
    {
        std::thread::sleep(Duration::from_millis(10));
        snapshot = run.snapshot();
    }
    // A regular file is counted on a background thread: its total is real long before the
    // reader gets to its end (only 2 of its 200 lines are running).
    assert!(!snapshot.total_open, "the file's lines were not counted");
    assert_eq!(snapshot.counters.total, 200);
    assert!(
        snapshot.counters.submitted < 200,
        "{}",
        snapshot.counters.submitted
    );
    let mut pids = Vec::new();
    for row in &snapshot.workers {
        let detail = row.detail.as_deref().unwrap();
        let (input, pid) = detail.split_once(" pid=").unwrap();
        assert!(input.starts_with("input=line"), "{detail}");
        let pid: i32 = pid.parse().unwrap();
        let proc = processes().into_iter().find(|p| p.pid == pid).unwrap();
        assert_eq!(proc.stat.pgrp(), pid, "each command leads its own process group");
        pids.push(pid);
    }
    run.halt_now();
    let report = run.wait();
    assert_eq!(
        report.counters.completed + report.counters.cancelled,
        report.counters.submitted
    );
    for pid in pids {
        assert!(procfs::has_exited(pid), "{pid} survived");
    }
}

#[test]
fn the_total_is_learnt_at_the_end_of_input() {
    let (spec, _inputs) = file_spec(30, &["false"]);
    let run = Run::start(Arc::new(ExecSearch::new(&spec).unwrap()), &RunConfig::default());
    let report = run.wait();
    let snapshot = run.snapshot();
    assert!(!snapshot.total_open);
    assert_eq!(
        (
            report.counters.total,
            report.counters.submitted,
            report.counters.completed
        ),
        (30, 30, 30)
    );
    assert_eq!(report.counters.cancelled, 0);
}

#[test]
fn orphaned_zombies_do_not_hold_up_a_halt() {
    // `sh -c 'sleep 30'` forks: killing the group leaves the sleep a zombie of init for a
    // moment. The halt must not wait for init to reap it (nor for the grace period).
    let (summary, output) = run(&[
        "--halt",
        "now",
        "-w",
        "4",
        "exec",
        "--grace",
        "20",
        "--range",
        "1..=8",
        "--",
        "sh",
        "-c",
        "if [ $1 = 3 ]; then sleep 0.3; exit 0; fi; sleep 30",
        "sh",
        "{}",
    ]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(summary["halt_reason"], "match");
    let latency = summary["halt_latency_ms"].as_f64().unwrap();
    // Far below the 20 s grace and the 30 s the other commands sleep: they were killed, not
    // waited for (how fast is the benches' business).
    assert!(latency < 10_000.0, "halt latency {latency} ms");
}

#[test]
fn the_text_summary_names_the_job_whose_success_halted_the_run() {
    let output = common::cli::poolwatch()
        .args([
            "--headless",
            "--halt",
            "now",
            "-w",
            "1",
            "exec",
            "--range",
            "1..5000",
            "--",
        ])
        .args(["sh", "-c", r#"test $(( $1 * $1 % 1000 )) -eq 289"#, "sh", "{}"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("halted on a job that succeeded"), "{text}");
    assert!(text.contains("  succeeded: input 17 (task 16)\n"), "{text}");
    // Without a halt, jobs that succeed are counted, not listed.
    let output = common::cli::poolwatch()
        .args(["--headless", "exec", "--range", "1..50", "--"])
        .args(["sh", "-c", r#"test $(( $1 * $1 % 1000 )) -eq 289"#, "sh", "{}"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("1 of 49 jobs run succeeded, 48 failed"), "{text}");
    assert!(!text.contains("succeeded: input"), "{text}");
}
