//! The command line end to end: the article's runs, exit codes, the JSON summary, the log and bad input.
#![allow(
    clippy::unwrap_used,
    reason = "a failed unwrap here is a failed test, with its message"
)]

use assert_cmd::Command;
use serde_json::Value;
use std::time::Duration;

mod common;
use common::cli::assert_refused;
use common::logs::{of_kind, read_jsonl};
use common::scratch::Scratch;
use common::wait_until;

fn poolwatch() -> Command {
    Command::cargo_bin("poolwatch").expect("binary built")
}

fn json_run(args: &[&str]) -> (Value, i32) {
    let output = poolwatch()
        .args(["--headless", "--json"])
        .args(args)
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    (
        common::cli::summary_of(&output),
        output.status.code().unwrap_or(-1),
    )
}

#[test]
fn article_example_2_finds_10000_and_halts() {
    let (summary, code) = json_run(&["-w", "10", "needle"]);
    assert_eq!(code, 0);
    assert_eq!(summary["search"], "needle");
    assert_eq!(summary["workers"], 10);
    assert_eq!(summary["halt_reason"], "match");
    assert_eq!(summary["matches"][0]["task"], 10000);
    assert_eq!(summary["total"], 50000);
    let submitted = summary["submitted"].as_u64().unwrap();
    assert!(submitted < 50_000, "queued work was not dropped: {submitted}");
    assert_eq!(
        summary["completed"].as_u64().unwrap() + summary["cancelled"].as_u64().unwrap(),
        submitted
    );
    for field in [
        "elapsed_s",
        "active_s",
        "halt_latency_ms",
        "tasks_per_s",
        "errors",
    ] {
        assert!(summary[field].is_number(), "{field} missing: {summary}");
    }
    assert!(summary.get("best").is_some());
}

#[test]
fn article_example_3_halts_with_flat_memory() {
    let (small, _) = json_run(&["-w", "2", "needle", "--tasks", "50000"]);
    let (huge, code) = json_run(&["-w", "2", "needle", "--tasks", "50000000"]);
    assert_eq!(code, 0);
    assert_eq!(huge["halt_reason"], "match");
    assert_eq!(huge["matches"][0]["task"], 10000);
    let small_kb = small["peak_rss_kb"].as_i64().unwrap();
    let huge_kb = huge["peak_rss_kb"].as_i64().unwrap();
    assert!(small_kb > 0);
    assert!(
        (huge_kb - small_kb).abs() < 2048,
        "50k tasks: {small_kb} KiB, 50M tasks: {huge_kb} KiB"
    );
}

#[test]
fn exhausting_the_space_without_a_match_exits_1() {
    let (summary, code) = json_run(&["pow", "--tasks", "200", "--bits", "200"]);
    assert_eq!(code, 1);
    assert_eq!(summary["halt_reason"], "exhausted");
    assert_eq!(summary["completed"], 200);
    assert!(summary["best"]["score"].as_f64().unwrap() >= 1.0);
}

#[test]
fn a_search_without_a_match_condition_that_completes_exits_0() {
    let (summary, code) = json_run(&["collatz", "--below", "10000"]);
    assert_eq!(code, 0);
    assert_eq!(summary["halt_reason"], "exhausted");
    // 6171 has the longest chain below 10,000: 261 steps.
    assert_eq!(summary["best"]["score"], 261.0);
    assert_eq!(summary["best"]["task"], 6170);
}

#[test]
fn halt_after_n_keeps_going_to_the_nth_match() {
    let (summary, code) = json_run(&["--halt", "after=3", "pow", "--tasks", "100000", "--bits", "8"]);
    assert_eq!(code, 0);
    assert_eq!(summary["halt_reason"], "after");
    assert!(summary["match_count"].as_u64().unwrap() >= 3);
}

#[test]
fn the_log_has_every_event_as_json_lines() {
    let dir = Scratch::new("cli-log");
    let path = dir.join("events.jsonl");
    let (_, code) = json_run(&[
        "--log",
        path.to_str().unwrap(),
        "needle",
        "--tasks",
        "3000",
        "--needle",
        "500",
    ]);
    assert_eq!(code, 0);
    let events = read_jsonl(&path);
    let kinds: Vec<&str> = events.iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(kinds.first(), Some(&"start"));
    assert_eq!(kinds.last(), Some(&"end"));
    assert!(kinds.contains(&"match") && kinds.contains(&"halt"), "{kinds:?}");
    let matched = of_kind(&events, "match")[0];
    assert_eq!(matched["task"], 500);
    assert_eq!(events.last().unwrap()["summary"]["halt_reason"], "match");
}

#[test]
fn text_summary_names_the_match() {
    let output = poolwatch()
        .args(["--headless", "needle", "--tasks", "100", "--needle", "42"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("match: task 42 "), "{text}");
    assert!(text.contains("halted on a match"), "{text}");
}

#[test]
fn bad_input_gets_one_line_and_exit_2() {
    let cases: &[(&[&str], &str)] = &[
        (&["-w", "0"], "--workers"),
        (&["needle", "--needle", "50000"], "outside the space"),
        (&["--halt", "later"], "halt policy"),
        (&["--halt", "now,fail=0"], "\"now,fail=0\""),
        (&["--halt", "soon,done=150%"], "\"soon,done=150%\""),
        (
            &["--log", "/nonexistent-dir/x/events.log"],
            "cannot open log file",
        ),
        (&["frobnicate"], "frobnicate"),
        (&["needle", "--tasks", "0"], "--tasks"),
        (&["pow", "--bits", "999"], "--bits"),
        (&["--workers", "many"], "many"),
        (&["needle", "--sleep-ms", "-1"], "sleep"),
    ];
    for (args, needle) in cases {
        let output = poolwatch()
            .arg("--headless")
            .args(*args)
            .timeout(Duration::from_secs(30))
            .output()
            .unwrap();
        assert_refused(&output, needle, &format!("{args:?}"));
    }
}

#[test]
fn sigint_halts_the_run_and_exits_130() {
    let scratch = Scratch::new("cli-sigint");
    let log = scratch.join("log.jsonl");
    let child = common::cli::headless_json()
        .args([
            "--log",
            log.to_str().unwrap(),
            "needle",
            "--tasks",
            "1000000",
            "--needle",
            "999999",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // The run's start is logged after the signal handlers are installed.
    wait_until("the start event in the log", || {
        std::fs::read_to_string(&log).is_ok_and(|text| text.contains("\"start\""))
    });
    common::cli::signal(&child, libc::SIGINT);
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130));
    let summary = common::cli::summary_of(&output);
    assert_eq!(summary["halt_reason"], "signal");
    assert!(summary["completed"].as_u64().unwrap() < 1_000_000);
}

#[test]
fn a_preset_file_runs_and_workers_on_the_command_line_override_it() {
    let preset = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/runs/article-example-2.toml");
    let (summary, code) = json_run(&["--config", preset, "-w", "3"]);
    assert_eq!(code, 0);
    assert_eq!(summary["workers"], 3);
    assert_eq!(summary["matches"][0]["task"], 10000);
    let (summary, _) = json_run(&["--config", preset]);
    assert_eq!(summary["workers"], 10, "the file's worker count");
}

#[test]
fn every_flag_on_the_command_line_overrides_the_preset() {
    let dir = Scratch::new("cli-config");
    let preset = dir.join("rastrigin.toml");
    std::fs::write(
        &preset,
        "name = \"r\"\nworkers = 2\nhalt = \"now\"\n[search]\nkind = \"rastrigin\"\ntasks = 300\ndims = 2\ntarget = 1e9\n",
    )
    .unwrap();
    let preset = preset.to_str().unwrap();
    let (summary, _) = json_run(&["--config", preset]);
    assert_eq!(summary["halt_policy"], "now");
    assert!(
        summary["params"].as_str().unwrap().contains("seed=0"),
        "{summary}"
    );
    // --halt and --seed given before or after --config both win over the file.
    let (summary, _) = json_run(&["--halt", "never", "--config", preset, "--seed", "7"]);
    assert_eq!(summary["halt_policy"], "never", "{summary}");
    assert!(
        summary["params"].as_str().unwrap().contains("seed=7"),
        "{summary}"
    );
    assert_eq!(summary["completed"], 300, "halt never runs the whole space");
}

#[test]
fn a_search_named_with_config_is_one_line_and_exit_2() {
    let preset = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/runs/article-example-2.toml");
    let output = poolwatch()
        .args(["--headless", "--config", preset, "pow", "--bits", "8"])
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    let stderr = assert_refused(&output, "--config", "pow with --config");
    assert!(stderr.contains("pow"), "{stderr}");
}

#[test]
fn machine_output_carries_users_numbers_and_full_values() {
    let dir = Scratch::new("cli-numbers");
    let log = dir.join("events.jsonl");
    let log_arg = log.to_str().unwrap();
    // exec: the input and its 1-based number, as the user wrote them.
    let (summary, code) = json_run(&[
        "--log", log_arg, "--halt", "now", "-w", "2", "exec", "--range", "1..200", "--", "test", "{}", "-eq",
        "150",
    ]);
    assert_eq!(code, 0, "{summary}");
    assert_eq!(summary["matches"][0]["task"], 149);
    assert_eq!(summary["matches"][0]["input"], "150", "{summary}");
    let events = read_jsonl(&log);
    let matched = of_kind(&events, "match")[0];
    assert_eq!(matched["input"], "150", "{matched}");
    // pow: the full digest, never cut.
    let (summary, code) = json_run(&["-w", "2", "pow", "--bits", "8"]);
    assert_eq!(code, 0);
    let value = summary["matches"][0]["value"].as_str().unwrap();
    let hash = value.rsplit(' ').next().unwrap();
    assert_eq!(hash.len(), 64, "{value}");
    assert!(!value.contains('…'), "{value}");
    // collatz: start values, not task ids.
    let (summary, _) = json_run(&["-w", "2", "collatz", "--below", "1000", "--target", "100"]);
    let first = &summary["matches"][0];
    assert_eq!(
        first["input"].as_str().unwrap(),
        (first["task"].as_u64().unwrap() + 1).to_string(),
        "{summary}"
    );
}

#[test]
fn the_text_summary_uses_separators_and_plurals() {
    let output = poolwatch()
        .args([
            "--headless",
            "-w",
            "1",
            "needle",
            "--tasks",
            "20000",
            "--needle",
            "12345",
            "--sleep-ms",
            "0",
        ])
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("with 1 worker,"), "{text}");
    assert!(text.contains("match: task 12,345"), "{text}");
    assert!(text.contains("of 20,000 tasks completed"), "{text}");
    assert!(text.contains("0 errors"), "{text}");
}

/// The log's `progress` events: at the `--status-every` interval, typed as `logformat` defines
/// them, and their `done` ranges are exactly the ids completed (a checkpoint to resume from).
#[test]
fn progress_events_carry_live_counters_and_exact_done_ranges() {
    use poolwatch::internals::{LogEvent, parse_log};
    let dir = Scratch::new("cli-progress");
    let path = dir.join("events.jsonl");
    let (summary, code) = json_run(&[
        "--log",
        path.to_str().unwrap(),
        "--status-every",
        "0.1",
        "-w",
        "3",
        "needle",
        "--tasks",
        "50000",
        "--needle",
        "600",
        "--sleep-ms",
        "1",
    ]);
    assert_eq!(code, 0);
    let records = parse_log(&path).unwrap();
    let progress: Vec<_> = records
        .iter()
        .filter_map(|record| match &record.event {
            LogEvent::Progress(progress) => Some((record.t, progress.clone())),
            _ => None,
        })
        .collect();
    // ~0.2 s of run at 0.1 s intervals, plus the one at the halt and the one before `end`.
    assert!(progress.len() >= 3, "{} progress events", progress.len());
    let (_, last) = progress.last().unwrap();
    assert_eq!(last.state, "finished");
    assert_eq!(last.completed, summary["completed"].as_u64().unwrap());
    let done_ids: u64 = last.done.iter().map(|(start, end)| end - start).sum();
    assert_eq!(done_ids, last.completed, "done ranges {:?}", last.done);
    assert!(last.done.iter().any(|&(start, end)| start <= 600 && 600 < end));
    assert!(
        last.done.windows(2).all(|pair| pair[0].1 < pair[1].0),
        "merged and sorted"
    );
    for pair in progress.windows(2) {
        assert!(pair[0].1.completed <= pair[1].1.completed, "counts only grow");
    }
}

/// Issue 25: a refused command line says how to fix it, on one line, with exit code 2.
#[test]
fn refusals_say_how_to_fix_the_mistake() {
    let cases: &[(&[&str], &str)] = &[
        (&["needle", "--sleep", "1"], "did you mean '--sleep-ms'?"),
        (&["-j", "4", "needle"], "-w N (--workers N)"),
        (&["needle", "-j", "4"], "-w N (--workers N)"),
        (
            &["needle", "--tasks", "-5"],
            "--tasks must be a non-negative number, got -5",
        ),
        (&["-w", "-2"], "--workers must be a non-negative number, got -2"),
        (
            &["--halt", "never", "needle", "--tasks", "100"],
            "--needle is 10000 by default, outside the space 0..100: give --needle N with N below 100",
        ),
        (&["exec", "--resume", "run.jsonl"], "poolwatch --resume FILE"),
    ];
    for (args, needle) in cases {
        let output = poolwatch()
            .arg("--headless")
            .args(*args)
            .timeout(Duration::from_secs(30))
            .output()
            .unwrap();
        assert_refused(&output, needle, &format!("{args:?}"));
    }
    // A --needle typed on the command line is not called a default.
    let output = poolwatch()
        .args(["--headless", "needle", "--tasks", "100", "--needle", "100"])
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    assert_refused(
        &output,
        "--needle 100 is outside the space 0..100",
        "typed needle",
    );
}

/// Issue 25: a bad worker count is said once, not twice over its own cause.
#[test]
fn a_bad_worker_count_is_said_once() {
    let output = poolwatch()
        .args(["--headless", "-w", "0"])
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    let stderr = assert_refused(&output, "--workers must be between 1 and 1024, got 0", "-w 0");
    assert_eq!(stderr.matches("between 1 and 1024").count(), 1, "{stderr}");
}

/// Issue 25: a worker script that never calls serve() ends the run with one line saying so.
#[test]
fn a_worker_that_forgot_serve_is_told_so() {
    let scratch = Scratch::new("cli-no-serve");
    let script = scratch.path().join("no_serve.py");
    std::fs::write(&script, "def work(x):\n    return x\n").unwrap();
    let output = poolwatch()
        .args([
            "--headless",
            "exec",
            "--worker",
            "--range",
            "0..3",
            "--",
            "python3",
        ])
        .arg(&script)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("exited before answering") && stderr.contains("a Python worker calls serve(func)"),
        "{stderr}"
    );
}
