//! Through real Slurm: a one-node cluster started by tests/slurm/slurm-local, shards submitted with sbatch.
//!
//! Ignored by a plain `cargo test` (they install and start Slurm); run them with
//! `cargo test --test slurm -- --ignored` (as root, with apt-get; `.ci/run` does).
#![allow(
    clippy::unwrap_used,
    reason = "a failed unwrap here is a failed test, with its message"
)]

mod common;

use common::cli::{poolwatch, summary_of};
use common::logs::read_jsonl;
use common::procfs::processes;
use common::pty::{Pty, poolwatch_command};
use common::scratch::Scratch;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

/// Generous bound for anything the cluster does.
const WAIT: Duration = Duration::from_secs(60);

/// The one cluster every test shares (started once; left running for the next run or `slurm-local stop`).
fn cluster() -> Option<MutexGuard<'static, PathBuf>> {
    static CLUSTER: OnceLock<Option<Mutex<PathBuf>>> = OnceLock::new();
    let cluster = CLUSTER.get_or_init(|| {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/slurm/slurm-local");
        let output = Command::new(&script).arg("start").output().expect("run slurm-local");
        if output.status.code() == Some(3) {
            // In CI the cluster is part of the deal: no silent pass there.
            assert!(
                std::env::var_os("CI").is_none(),
                "CI is set but slurm-local could not install Slurm (no apt-get):\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
            eprintln!(
                "\n!!!!!!!! SKIPPED: the Slurm tests need apt-get to install slurm-wlm and munge !!!!!!!!\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
            return None;
        }
        assert!(
            output.status.success(),
            "slurm-local start failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let line = String::from_utf8(output.stdout).unwrap();
        let conf = line.trim().strip_prefix("export SLURM_CONF=").expect("export line");
        Some(Mutex::new(PathBuf::from(conf)))
    });
    // One test at a time: they share the node's CPUs and measure halts.
    cluster
        .as_ref()
        .map(|m| m.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
}

/// A fresh `--cluster-dir` for one test, removed when it ends (the shards have ended by then).
fn fresh_dir(name: &str) -> Scratch {
    Scratch::new(&format!("slurm-{name}"))
}

/// Runs poolwatch with `args`; returns its exit code, stdout JSON and stderr.
fn run(conf: &Path, args: &[&str]) -> (i32, Value, String) {
    let output = poolwatch()
        .args(args)
        .env("SLURM_CONF", conf)
        .output()
        .expect("run poolwatch");
    let json = summary_of(&output);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status.code().unwrap_or(-1), json, stderr)
}

/// A one-machine run of the same search, for comparison.
fn one_machine(search: &[&str], halt: &str) -> Value {
    let mut args = vec!["--headless", "--json", "-w", "2", "--halt", halt];
    args.extend(search);
    summary_of(&poolwatch().args(&args).output().unwrap())
}

/// Runs `search` as 4 shards of 1 worker through sbatch; returns exit code, summary, job id, dir.
fn four_shards(conf: &Path, name: &str, halt: &str, search: &[&str]) -> (i32, Value, String, Scratch) {
    let dir = fresh_dir(name);
    let mut args = vec![
        "--cluster",
        "slurm",
        "--shards",
        "4",
        "--headless",
        "--json",
        "-w",
        "1",
        "--halt",
        halt,
    ];
    let dir_text = dir.path().display().to_string();
    args.extend(["--cluster-dir", &dir_text, "--status-every", "0.2"]);
    args.extend(search);
    let (code, summary, stderr) = run(conf, &args);
    let job = job_id(&stderr);
    (code, summary, job, dir)
}

/// The job id from "poolwatch: submitted slurm job ID: ...".
fn job_id(stderr: &str) -> String {
    let rest = stderr
        .split("submitted slurm job ")
        .nth(1)
        .unwrap_or_else(|| panic!("no job id in {stderr}"));
    rest.split(':').next().unwrap().to_string()
}

/// Unix time at which `squeue` stopped listing any task of `job`.
fn queue_empty_at(conf: &Path, job: &str) -> f64 {
    let deadline = Instant::now() + WAIT;
    loop {
        let out = Command::new("squeue")
            .args(["-h", "-r", "-j", job])
            .env("SLURM_CONF", conf)
            .output()
            .unwrap();
        let listed = String::from_utf8_lossy(&out.stdout);
        if listed.trim().is_empty() {
            return unix_now();
        }
        assert!(Instant::now() < deadline, "job {job} still queued: {listed}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// Processes whose command line mentions `dir` (the shards of that job).
fn processes_of(dir: &Path) -> Vec<String> {
    let needle = dir.display().to_string();
    processes()
        .into_iter()
        .map(|process| process.cmdline())
        .filter(|cmdline| cmdline.contains(&needle))
        .collect()
}

/// Unix times of every line of `kind` in the shards' logs.
fn log_times(dir: &Path, kind: &str) -> Vec<f64> {
    let mut times = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().filter_map(Result::ok) {
        if entry.path().extension().is_some_and(|e| e == "jsonl") {
            for record in read_jsonl(&entry.path()) {
                if record["event"] == kind {
                    times.push(record["ts"].as_f64().unwrap());
                }
            }
        }
    }
    times
}

fn match_tasks(summary: &Value) -> Vec<u64> {
    summary["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["task"].as_u64().unwrap())
        .collect()
}

#[test]
#[ignore = "needs Slurm: cargo test --test slurm -- --ignored"]
fn four_needle_shards_find_the_needle_and_leave_nothing_behind() {
    let Some(conf) = cluster() else { return };
    let search = [
        "needle",
        "--tasks",
        "40000",
        "--needle",
        "23456",
        "--sleep-ms",
        "1",
    ];
    let (code, summary, job, dir) = four_shards(&conf, "needle", "now", &search);
    // At once, before anything else takes time: when did the queue empty?
    let empty = queue_empty_at(&conf, &job);
    let single = one_machine(&search, "now");
    assert_eq!(code, 0, "{summary}");
    for field in [
        "search",
        "params",
        "halt_policy",
        "total",
        "halt_reason",
        "exit_code",
        "match_count",
    ] {
        assert_eq!(
            summary[field], single[field],
            "{field}: {summary}\none machine: {single}"
        );
    }
    assert_eq!(match_tasks(&summary), vec![23456]);
    assert_eq!(summary["shards"].as_array().unwrap().len(), 4);
    let halt = log_times(dir.path(), "match")
        .into_iter()
        .fold(f64::INFINITY, f64::min);
    assert!(
        empty - halt <= 2.0,
        "squeue still listed tasks {:.3} s after the match",
        empty - halt
    );
    assert!(
        processes_of(dir.path()).is_empty(),
        "shards left: {:?}",
        processes_of(dir.path())
    );
}

#[test]
#[ignore = "needs Slurm: cargo test --test slurm -- --ignored"]
fn four_pow_shards_halt_now_on_a_valid_nonce() {
    let Some(conf) = cluster() else { return };
    let search = ["pow", "--tasks", "400000", "--bits", "14", "--data", "shards"];
    let (code, summary, job, dir) = four_shards(&conf, "pow", "now", &search);
    assert_eq!(code, 0, "{summary}");
    assert_eq!(summary["halt_reason"], "match", "{summary}");
    // Every nonce the shards report is one a full one-machine run finds.
    let all = one_machine(&search, "never");
    let valid = match_tasks(&all);
    let found = match_tasks(&summary);
    assert!(
        !found.is_empty() && found.iter().all(|task| valid.contains(task)),
        "{found:?} not in {valid:?}"
    );
    assert!(
        summary["completed"].as_u64().unwrap() < 400_000,
        "halt now stopped early: {summary}"
    );
    queue_empty_at(&conf, &job);
    assert!(
        processes_of(dir.path()).is_empty(),
        "shards left: {:?}",
        processes_of(dir.path())
    );
}

#[test]
#[ignore = "needs Slurm: cargo test --test slurm -- --ignored"]
fn four_collatz_shards_add_up_to_one_machine() {
    let Some(conf) = cluster() else { return };
    let search = ["collatz", "--below", "300000"];
    let (code, summary, _job, _dir) = four_shards(&conf, "collatz", "never", &search);
    let single = one_machine(&search, "never");
    assert_eq!(code, 0, "{summary}");
    for field in [
        "total",
        "completed",
        "submitted",
        "cancelled",
        "match_count",
        "errors",
        "best",
        "halt_reason",
        "exit_code",
    ] {
        assert_eq!(
            summary[field], single[field],
            "{field}: {summary}\none machine: {single}"
        );
    }
    let shards = summary["shards"].as_array().unwrap();
    let per_shard: u64 = shards.iter().map(|s| s["completed"].as_u64().unwrap()).sum();
    assert_eq!(per_shard, single["completed"].as_u64().unwrap());
}

#[test]
#[ignore = "needs Slurm: cargo test --test slurm -- --ignored"]
fn t_in_the_cluster_dashboard_cancels_every_shard() {
    let Some(conf) = cluster() else { return };
    let dir = fresh_dir("pty");
    let mut command = poolwatch_command(&["--cluster", "slurm", "--shards", "4", "-w", "1", "--cluster-dir"]);
    command.arg(dir.path().as_os_str());
    command.args([
        "needle",
        "--tasks",
        "1000000",
        "--needle",
        "999999",
        "--sleep-ms",
        "2",
    ]);
    command.env("SLURM_CONF", &*conf);
    let mut session = Pty::spawn(command);
    let running_rows = |s: &str| {
        s.lines()
            .filter(|line| {
                line.trim_start_matches('│')
                    .starts_with(|c: char| c.is_ascii_digit())
            })
            .filter(|line| line.contains(" running "))
            .count()
    };
    session.wait_until("4 running shards", |s| {
        s.contains("shards: 4 of 4 live") && running_rows(s) == 4
    });
    let rows_in = |s: &str, state: &str| {
        s.lines()
            .filter(|line| line.contains(&format!(" {state} ")))
            .count()
    };
    // p pauses every shard (scancel --signal), p again resumes them.
    session.press("p");
    session.wait_until("4 paused shards", |s| rows_in(s, "paused") == 4);
    session.press("p");
    session.wait_until("4 running shards again", |s| running_rows(s) == 4);
    session.press("t");
    let text = session.wait_for("[Stopped]");
    assert!(text.contains("shards: 0 of 4 live"), "{text}");
    session.press("q");
    let status = session.wait_exit();
    // Stopped by the user without a match: exit 1, as on one machine.
    assert_eq!(status.exit_code(), 1);
    assert!(
        processes_of(dir.path()).is_empty(),
        "shards left: {:?}",
        processes_of(dir.path())
    );
    let out = Command::new("squeue")
        .args(["-h", "-n", "poolwatch"])
        .env("SLURM_CONF", &*conf)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).trim().is_empty());
}

/// Issue 23: `--halt lowest` across Slurm shards: a shard's match bounds the others (through
/// the shared `--bounds` folder `--cluster` gives them), and the search ends with the lowest
/// valid nonce, the one a single machine proves lowest, without running the whole space.
#[test]
#[ignore = "needs Slurm: cargo test --test slurm -- --ignored"]
fn four_pow_shards_find_the_lowest_nonce_together() {
    let Some(conf) = cluster() else { return };
    let search = ["pow", "--tasks", "400000", "--bits", "14", "--data", "lowest"];
    let (code, summary, job, dir) = four_shards(&conf, "pow-lowest", "lowest", &search);
    let single = one_machine(&search, "lowest");
    assert_eq!(code, 0, "{summary}");
    assert_eq!(summary["halt_reason"], "match", "{summary}");
    assert_eq!(
        match_tasks(&summary).first(),
        match_tasks(&single).first(),
        "the lowest: {summary}\none machine: {single}"
    );
    assert!(
        summary["completed"].as_u64().unwrap() < 400_000,
        "the bound cut the other shards: {summary}"
    );
    let shards = summary["shards"].as_array().unwrap();
    assert!(
        shards.iter().any(|shard| shard.to_string().contains("bounded")),
        "a shard without the lowest match ends bounded: {summary}"
    );
    assert!(dir.path().join("bounds").is_dir(), "the shards' bounds folder");
    queue_empty_at(&conf, &job);
    assert!(
        processes_of(dir.path()).is_empty(),
        "shards left: {:?}",
        processes_of(dir.path())
    );
}
