//! `--resume FILE` and `--skip`/`--limit` with the built binary: kill -9 mid-run then resume, SIGTERM, a torn last line, a finished run, conflicting flags.
#![allow(
    clippy::unwrap_used,
    reason = "a failed unwrap here is a failed test, with its message"
)]

use common::cli::{assert_refused, headless_json, summary_of};
use common::logs::complete_lines as events;
use common::scratch::Scratch;
use serde_json::Value;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

mod common;

/// A whole resume run may take minutes on a loaded machine.
const RUN_LIMIT: Duration = Duration::from_secs(240);

fn poolwatch(args: &[&str]) -> Command {
    let mut command = headless_json();
    command.args(args);
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

fn finish(child: Child) -> Output {
    common::cli::finish(child, RUN_LIMIT)
}

fn run(args: &[&str]) -> (Value, Output) {
    let output = finish(poolwatch(args).spawn().unwrap());
    (summary_of(&output), output)
}

/// The `completed` of the last `progress` event logged so far.
fn logged_completed(log: &Path) -> u64 {
    events(log)
        .iter()
        .rev()
        .find(|event| event["event"] == "progress")
        .and_then(|event| event["completed"].as_u64())
        .unwrap_or(0)
}

/// Starts `args` logging to `log`, waits until its checkpoint shows `at_least` ids done,
/// and kills it with `signal`; fails if the run ends first.
fn interrupt(args: &[&str], log: &Path, at_least: u64, signal: i32) -> Output {
    let mut full = vec!["--log", log.to_str().unwrap(), "--status-every", "0.1"];
    full.extend_from_slice(args);
    let mut child = poolwatch(&full).spawn().unwrap();
    let started = Instant::now();
    while logged_completed(log) < at_least {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before it could be interrupted"
        );
        assert!(started.elapsed() < Duration::from_secs(120), "no progress logged");
        std::thread::sleep(Duration::from_millis(20));
    }
    common::cli::signal(&child, signal);
    finish(child)
}

const COLLATZ: [&str; 6] = ["--halt", "never", "-w", "2", "collatz", "--below"];

#[test]
fn resume_after_kill_9_gives_the_uninterrupted_result_and_runs_no_done_id_again() {
    // A run of about a second in a debug build: the kill lands long before its end.
    let below = "1000000";
    let (whole, _) = run(&[&COLLATZ[..], &[below]].concat());
    assert_eq!(whole["halt_reason"], "exhausted");

    let scratch = Scratch::new("resume-collatz");
    let log = scratch.join("log.jsonl");
    let killed = interrupt(&[&COLLATZ[..], &[below]].concat(), &log, 60_000, libc::SIGKILL);
    assert_eq!(killed.status.code(), None, "killed by SIGKILL");
    let before = events(&log);
    assert!(before.iter().all(|event| event["event"] != "end"));
    let last_t = before.last().unwrap()["t"].as_f64().unwrap();

    let (resumed, output) = run(&["--resume", log.to_str().unwrap()]);
    assert_eq!(resumed["halt_reason"], "exhausted", "{resumed}");
    assert_eq!(
        resumed["best"], whole["best"],
        "the same best as the uninterrupted run"
    );
    assert_eq!(resumed["total"], whole["total"]);
    assert_eq!(
        resumed["completed"], whole["completed"],
        "every id counted once: {resumed}"
    );
    assert_eq!(
        (resumed["match_count"].clone(), resumed["errors"].clone()),
        (whole["match_count"].clone(), whole["errors"].clone())
    );
    let done_before = resumed["resumed"]["completed"].as_u64().unwrap();
    assert!(done_before >= 60_000, "{resumed}");
    assert_eq!(output.status.code(), Some(0));
    // Times continue: the resumed part's events come after the first part's.
    let after = events(&log);
    let restart = &after[before.len()];
    assert_eq!(restart["event"], "start");
    assert_eq!(restart["resumed"]["completed"].as_u64(), Some(done_before));
    assert!(restart["t"].as_f64().unwrap() >= last_t, "{restart}");
    assert!(resumed["elapsed_s"].as_f64().unwrap() >= last_t);
    // The resumed part ran exactly the ids not done before: its own count is the rest.
    let end = after.last().unwrap();
    assert_eq!(end["event"], "end");
    let last_progress = after
        .iter()
        .rev()
        .find(|event| event["event"] == "progress")
        .unwrap();
    let done: u64 = last_progress["done"]
        .as_array()
        .unwrap()
        .iter()
        .map(|range| range[1].as_u64().unwrap() - range[0].as_u64().unwrap())
        .sum();
    assert_eq!(
        done,
        whole["total"].as_u64().unwrap(),
        "the checkpoint covers the space once"
    );

    // Resuming a finished run says so and exits with its code.
    let again = finish(poolwatch(&["--resume", log.to_str().unwrap()]).spawn().unwrap());
    assert_eq!(again.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(
        stderr.contains("already finished (searched the whole space)"),
        "{stderr}"
    );
    assert_eq!(events(&log).len(), after.len(), "nothing written");
}

#[test]
fn a_resumed_pow_search_finds_the_same_first_nonce() {
    let pow = ["-w", "1", "pow", "--bits", "18", "--tasks", "100000000"];
    let (whole, _) = run(&pow);
    assert_eq!(whole["halt_reason"], "match");
    let nonce = whole["matches"][0]["task"].as_u64().unwrap();

    let scratch = Scratch::new("resume-pow");
    let log = scratch.join("log.jsonl");
    let killed = interrupt(&pow, &log, nonce / 4, libc::SIGKILL);
    assert_eq!(killed.status.code(), None);
    let (resumed, output) = run(&["--resume", log.to_str().unwrap()]);
    assert_eq!(resumed["matches"][0]["task"].as_u64(), Some(nonce), "{resumed}");
    assert_eq!(resumed["match_count"], 1);
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn sigterm_then_a_torn_line_then_resume() {
    let scratch = Scratch::new("resume-term");
    let log = scratch.join("log.jsonl");
    // About a second in a debug build (below 200,000 it took 0.11 s, so the run could end
    // between its first progress line, at 0.1 s, and the signal).
    let args = [&COLLATZ[..], &["2000000"]].concat();
    let stopped = interrupt(&args, &log, 20_000, libc::SIGTERM);
    assert_eq!(stopped.status.code(), Some(128 + libc::SIGTERM));
    // A power cut mid-write: half a line at the end.
    let mut text = std::fs::read_to_string(&log).unwrap();
    text.push_str(r#"{"event":"progress","t":9"#);
    std::fs::write(&log, text).unwrap();
    let (resumed, _) = run(&["--resume", log.to_str().unwrap()]);
    assert_eq!(resumed["completed"], 1_999_999, "{resumed}");
    assert_eq!(resumed["halt_reason"], "exhausted");
}

#[test]
fn conflicting_flags_and_bad_logs_are_one_line_and_exit_2() {
    let scratch = Scratch::new("resume-conflict");
    let log = scratch.join("log.jsonl");
    // A space no run gets through before the kill: below 200,000 the run could end between
    // its first progress line and the signal, and its log then says it finished (which
    // `--resume` answers with exit 0, not a conflict).
    let args = [&COLLATZ[..], &["2000000000"]].concat();
    let killed = interrupt(&args, &log, 1, libc::SIGKILL);
    assert_eq!(killed.status.code(), None, "killed by SIGKILL, not ended");
    let path = log.to_str().unwrap();
    let missing = scratch.join("missing.jsonl");
    let other = scratch.arg("other.jsonl");
    // The logged run's window, edited to end before it begins (a log is input).
    let reversed = scratch.join("reversed.jsonl");
    let text = std::fs::read_to_string(&log).unwrap();
    let edited: Vec<String> = text
        .lines()
        .map(|line| {
            let mut event: Value = serde_json::from_str(line).unwrap();
            if event["event"] == "start" {
                event["window"] = serde_json::json!([50, 20]);
            }
            event.to_string()
        })
        .collect();
    std::fs::write(&reversed, edited.join("\n") + "\n").unwrap();
    // The logged worker count, edited out of range: refused, not clamped.
    let crowded = scratch.join("crowded.jsonl");
    std::fs::write(&crowded, text.replacen("\"workers\":2", "\"workers\":5000", 1)).unwrap();
    // A FIFO would hang the read; a device would be read until memory ran out.
    let fifo = scratch.join("fifo.jsonl");
    let fifo_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo(3) reads the NUL-terminated path, which outlives the call.
    assert_eq!(unsafe { libc::mkfifo(fifo_path.as_ptr(), 0o600) }, 0);
    let cases: [(&[&str], &str); 11] = [
        (&["--resume", fifo.to_str().unwrap()], "not a regular file"),
        (&["--resume", "/dev/zero"], "not a regular file"),
        (
            &["--resume", path, "-w", "0"],
            "--workers must be between 1 and 1024, got 0",
        ),
        (
            &["--resume", crowded.to_str().unwrap()],
            "the logged run's workers must be between 1 and 1024, got 5000",
        ),
        (
            &["--resume", path, "pow"],
            "continues the logged collatz run with its own options",
        ),
        (
            &["--resume", path, "--halt", "now"],
            "the logged run has --halt never, not now",
        ),
        (&["--resume", path, "--skip", "5"], "the logged run has --skip 0"),
        (
            &["--resume", path, "--log", &other],
            "--log must name the same file",
        ),
        (&["--resume", missing.to_str().unwrap()], "cannot read log"),
        (&["--resume", reversed.to_str().unwrap()], "ends before it begins"),
        (
            &["--resume", path, "--shard", "1/4"],
            "the logged run is not a shard: --shard 1/4 cannot be added to it",
        ),
    ];
    for (args, expected) in cases {
        let output = finish(poolwatch(args).spawn().unwrap());
        let stderr = assert_refused(&output, expected, &format!("{args:?}"));
        assert!(
            stderr.matches("os error").count() <= 1,
            "an OS error said once: {stderr}"
        );
    }
}

#[test]
fn a_resumed_shard_goes_on_with_its_own_shard_and_another_shard_is_one_line_and_exit_2() {
    // A shard of about a second in a debug build, not 0.12 s: the kill lands before its end.
    let args = [&COLLATZ[..], &["8000000"]].concat();
    let sharded = [&["--shard", "1/4"][..], &args].concat();
    let (whole, _) = run(&sharded);
    assert_eq!(whole["halt_reason"], "exhausted", "{whole}");

    let scratch = Scratch::new("resume-shard");
    let log = scratch.join("log.jsonl");
    let killed = interrupt(&sharded, &log, 20_000, libc::SIGKILL);
    assert_eq!(killed.status.code(), None, "killed by SIGKILL");
    let path = log.to_str().unwrap();
    let before = events(&log).len();
    let other = finish(poolwatch(&["--resume", path, "--shard", "2/4"]).spawn().unwrap());
    assert_refused(&other, "the logged run is shard 1/4, not 2/4", "--shard 2/4");
    assert_eq!(events(&log).len(), before, "nothing written");

    let (resumed, _) = run(&["--resume", path, "--shard", "1/4"]);
    assert_eq!(resumed["halt_reason"], "exhausted", "{resumed}");
    assert_eq!(
        (&resumed["total"], &resumed["completed"], &resumed["best"]),
        (&whole["total"], &whole["completed"], &whole["best"]),
        "the logged shard, done whole: {resumed}"
    );
}

/// The Collatz chain length of `n`, as the collatz search scores start `n`.
fn chain(mut n: u64) -> u64 {
    let mut steps = 0;
    while n != 1 {
        n = if n.is_multiple_of(2) { n / 2 } else { 3 * n + 1 };
        steps += 1;
    }
    steps
}

#[test]
fn skip_and_limit_search_a_window() {
    let scratch = Scratch::new("resume-window");
    let log = scratch.join("log.jsonl");
    let (summary, _) = run(&[
        "--log",
        log.to_str().unwrap(),
        "--halt",
        "never",
        "--skip",
        "100",
        "--limit",
        "50",
        "collatz",
        "--below",
        "1000",
    ]);
    assert_eq!(
        (summary["total"].as_u64(), summary["completed"].as_u64()),
        (Some(50), Some(50)),
        "{summary}"
    );
    // Task t is start t + 1: the window is starts 101..=150.
    let best = (101..=150)
        .map(|start| (chain(start), start - 1))
        .max_by_key(|&(steps, task)| (steps, std::cmp::Reverse(task)))
        .unwrap();
    assert_eq!(
        summary["best"]["score"].as_f64(),
        Some(f64::from(u32::try_from(best.0).unwrap())),
        "{summary}"
    );
    let start = &events(&log)[0];
    assert_eq!(start["window"], serde_json::json!([100, 150]), "{start}");
    let progress = events(&log)
        .into_iter()
        .rev()
        .find(|event| event["event"] == "progress")
        .unwrap();
    assert_eq!(progress["done"], serde_json::json!([[100, 150]]));

    // A window past the end of the space is cut at the end.
    let (tail, _) = run(&[
        "--halt", "never", "--skip", "990", "--limit", "50", "collatz", "--below", "1000",
    ]);
    assert_eq!(tail["total"].as_u64(), Some(9), "{tail}");
    let bad = finish(poolwatch(&["--limit", "0", "collatz"]).spawn().unwrap());
    assert_eq!(bad.status.code(), Some(2));
}

/// A log of one needle run over `tasks` ids with a match line for each of the first
/// `matches` ids, then a progress event that counts `counted` matches, and an end event
/// when `finished`: what a long run leaves, written without running it.
fn write_match_log(path: &Path, tasks: u64, matches: u64, counted: u64, finished: bool) {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(
        out,
        r#"{{"event":"start","format":2,"search":"needle","params":"tasks={tasks} needle=5 sleep-ms=0","spec":{{"kind":"needle","tasks":{tasks},"needle":5,"sleep_ms":0.0,"panic_every":0}},"workers":2,"halt":"never","space":{tasks},"window":null,"shard":null,"host":"h","pid":1,"resumed":null,"t":0.0,"ts":1.0}}"#
    )
    .unwrap();
    for task in 0..matches {
        writeln!(
            out,
            r#"{{"event":"match","task":{task},"value":"{task}","score":null,"worker":1,"t":0.5,"ts":1.5}}"#
        )
        .unwrap();
    }
    writeln!(
        out,
        r#"{{"event":"progress","state":"running","total":{tasks},"total_open":false,"submitted":{matches},"completed":{matches},"cancelled":0,"matches":{counted},"errors":0,"rate":1.0,"best":null,"elapsed_s":1.0,"active_s":1.0,"workers":2,"done":[[0,{matches}]],"t":1.0,"ts":2.0}}"#
    )
    .unwrap();
    if finished {
        writeln!(
            out,
            r#"{{"event":"end","summary":{{"halt_reason":"exhausted","exit_code":0,"match_count":{counted}}},"t":1.0,"ts":2.0}}"#
        )
        .unwrap();
    }
}

/// The peak resident memory (KiB) of the built poolwatch run with `args`, from wait4.
fn peak_kib(args: &[&std::ffi::OsStr]) -> i64 {
    // Reaped by wait4 below, which also gives its rusage (std's wait does not).
    #[expect(clippy::zombie_processes, reason = "wait4 reaps it")]
    let child = common::cli::poolwatch()
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    let mut status = 0;
    // SAFETY: an all-zero rusage is valid, and wait4 fills it and the status for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: wait4 on the child spawned above, with pointers to locals that outlive the call.
    let waited = unsafe { libc::wait4(pid, &raw mut status, 0, &raw mut usage) };
    assert_eq!(waited, pid, "{}", std::io::Error::last_os_error());
    assert!(
        libc::WIFEXITED(status),
        "{args:?} ended with wait status {status}"
    );
    usage.ru_maxrss
}

/// Issue 22: `--resume` of a finished 1.9 GB log peaked at 5.6 GB and `watch --headless` on it
/// at 9.2 GB. Both read a log a line (or a slice) at a time now: a log 16 times as long costs
/// them no more memory.
#[test]
fn resume_and_watch_read_a_log_in_memory_that_does_not_grow_with_its_length() {
    let dir = Scratch::new("resume-memory");
    let short = dir.join("short.jsonl");
    let long = dir.join("long.jsonl");
    write_match_log(&short, 1_000_000, 25_000, 25_000, true);
    write_match_log(&long, 1_000_000, 400_000, 400_000, true);
    let long_mib = std::fs::metadata(&long).unwrap().len() >> 20;
    for front in [&["--headless", "--resume"][..], &["watch", "--headless"][..]] {
        let peak = |log: &Path| {
            let mut args: Vec<&std::ffi::OsStr> = front.iter().map(std::ffi::OsStr::new).collect();
            args.push(log.as_os_str());
            peak_kib(&args)
        };
        let (short_kib, long_kib) = (peak(&short), peak(&long));
        // The long log is 36 MiB more than the short one; holding it would cost far more.
        assert!(
            long_kib < short_kib + 12 * 1024,
            "{front:?}: {short_kib} KiB on the short log, {long_kib} KiB on the long one ({long_mib} MiB)"
        );
    }
}

/// Issue 22: a log whose `match` lines were deleted resumed to fewer matches without a word,
/// though its progress events carried the true count. The resume says so.
#[test]
fn a_resume_says_when_match_lines_are_missing_from_the_log() {
    let dir = Scratch::new("resume-missing-matches");
    let log = dir.join("run.jsonl");
    write_match_log(&log, 3_200, 3_097, 3_134, false);
    let (summary, output) = run(&["--resume", log.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("its progress counted 3134 matches, but only 3097 match lines are in it"),
        "{stderr}"
    );
    assert_eq!(summary["completed"], 3_200, "{summary}");
    assert_eq!(summary["match_count"], 3_097, "{summary}");
}
