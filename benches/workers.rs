//! Benchmark: `poolwatch exec --worker` with the Python helper against `multiprocessing.Pool`, beside `exec`'s process-per-input rate; skipped with a message without `python3`.
//!
//! Run with `cargo bench --bench workers` (add `-- --json` for one JSON object). Workloads:
//! 1. throughput: `def f(p): return p == -1` over 2,000,000 inputs on 2 workers, against
//!    `Pool(2).imap_unordered(f, range(2_000_000), chunksize=1000)`, runs alternated, medians;
//!    and `exec` (one process per input) running `true`, for scale;
//! 2. the article's example 2 in Python (preset `article-example-2-python.toml`) against the
//!    ideal 1.0 s plus the start-up of its 10 Python workers (measured alone);
//! 3. the article's example 3 shape in Python (50,000,000 inputs) against the same run over
//!    50,000 inputs: peak memory must not grow with the input count.
#![allow(
    clippy::unwrap_used,
    reason = "a failed unwrap here aborts the measurement with its message"
)]

use serde_json::{Value, json};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs per tool for the throughput comparison; medians are reported.
const RUNS: usize = 3;
/// Inputs of the throughput workload.
const TASKS: u64 = 2_000_000;
/// The worker script of the throughput workload.
const WORKER_SCRIPT: &str = "from poolwatch_worker import serve\ndef f(p): return p == -1\nserve(f)";
/// The Pool script: prints its rate, timed from the first submit to the last result.
const POOL_SCRIPT: &str = r"
import multiprocessing, sys, time
def f(p): return p == -1
if __name__ == '__main__':
    n = int(sys.argv[1])
    with multiprocessing.Pool(2) as pool:
        t = time.perf_counter()
        for r in pool.imap_unordered(f, range(n), chunksize=1000):
            if r: break
        print(n / (time.perf_counter() - t))
";

fn poolwatch() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_poolwatch"));
    command.args(["--headless", "--json"]);
    command
}

/// The summary of one headless run.
fn summary(command: &mut Command) -> Value {
    let output = command
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .unwrap();
    serde_json::from_slice(&output.stdout).unwrap()
}

/// The Python interpreter itself (not a version manager's shim, whose start-up would be timed too).
fn python() -> Option<String> {
    let output = Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .ok()?;
    let path = String::from_utf8(output.stdout).ok()?.trim().to_string();
    (output.status.success() && !path.is_empty()).then_some(path)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn worker_rate(python: &str) -> f64 {
    let tasks = format!("0..{TASKS}");
    let summary = summary(poolwatch().args([
        "--halt",
        "never",
        "-w",
        "2",
        "exec",
        "--worker",
        "--range",
        &tasks,
        "--",
        python,
        "-c",
        WORKER_SCRIPT,
    ]));
    assert_eq!(summary["completed"], TASKS, "{summary}");
    summary["tasks_per_s"].as_f64().unwrap()
}

fn pool_rate(python: &str) -> f64 {
    let output = Command::new(python)
        .args(["-c", POOL_SCRIPT, &TASKS.to_string()])
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout).trim().parse().unwrap()
}

fn exec_rate() -> f64 {
    let summary = summary(poolwatch().args([
        "--halt", "never", "-w", "2", "exec", "--range", "0..400", "--", "true",
    ]));
    summary["tasks_per_s"].as_f64().unwrap()
}

/// Wall time for 10 Python workers to start at once (what example 2 pays before its first task).
fn python_startup(workers: usize) -> Duration {
    let started = Instant::now();
    let children: Vec<_> = (0..workers)
        .map(|_| {
            Command::new("python3")
                .args(["-c", "import time, poolwatch_worker"])
                .env(
                    "PYTHONPATH",
                    concat!(env!("CARGO_MANIFEST_DIR"), "/assets/python"),
                )
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        child.wait().unwrap();
    }
    started.elapsed()
}

fn preset(name: &str) -> String {
    format!("{}/assets/runs/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn example2() -> Value {
    let startup = python_startup(10).as_secs_f64();
    let run = summary(poolwatch().args(["--config", &preset("article-example-2-python.toml")]));
    let elapsed = run["elapsed_s"].as_f64().unwrap();
    let ideal = 1.0 + startup;
    println!(
        "example 2 in Python (10 workers, 1 ms each): {elapsed:.3} s; ideal 1.0 s + start-up {startup:.3} s = {ideal:.3} s; ratio {:.3}",
        elapsed / ideal
    );
    json!({"elapsed_s": elapsed, "startup_s": startup, "ideal_s": ideal, "ratio": elapsed / ideal,
           "matched": run["matches"][0]["task"]})
}

fn example3() -> Value {
    let big = summary(poolwatch().args(["--config", &preset("article-example-3-python.toml")]));
    let text = std::fs::read_to_string(preset("article-example-3-python.toml")).unwrap();
    let small_path = std::env::temp_dir().join(format!("poolwatch-bench-ex3-{}.toml", std::process::id()));
    std::fs::write(&small_path, text.replace("0..50000000", "0..50000")).unwrap();
    let small = summary(poolwatch().args(["--config", small_path.to_str().unwrap()]));
    let _ = std::fs::remove_file(&small_path);
    let (big_kb, small_kb) = (
        big["peak_rss_kb"].as_f64().unwrap(),
        small["peak_rss_kb"].as_f64().unwrap(),
    );
    println!(
        "example 3 shape in Python: 50,000,000 inputs peak RSS {big_kb} kB, 50,000 inputs {small_kb} kB (halted at {} after {:.2} s)",
        big["matches"][0]["task"],
        big["elapsed_s"].as_f64().unwrap()
    );
    json!({"peak_rss_kb_50m": big_kb, "peak_rss_kb_50k": small_kb, "elapsed_s": big["elapsed_s"]})
}

fn main() {
    let json_out = std::env::args().any(|arg| arg == "--json");
    let Some(python) = python() else {
        println!("python3 not found: workers bench skipped");
        return;
    };
    let (mut workers, mut pools) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        workers.push(worker_rate(&python));
        pools.push(pool_rate(&python));
    }
    let (worker, pool, exec) = (median(workers.clone()), median(pools.clone()), exec_rate());
    println!(
        "throughput, f(p) = p == -1 over {TASKS} inputs, 2 workers: exec --worker (Python helper) {:.2} M/s, \
         multiprocessing.Pool(2) chunksize=1000 {:.2} M/s, ratio {:.2}x; exec (process per input, `true`) {:.0}/s",
        worker / 1e6,
        pool / 1e6,
        worker / pool,
        exec
    );
    let example2 = example2();
    let example3 = example3();
    if json_out {
        let report = json!({
            "throughput": {"worker_per_s": worker, "pool_per_s": pool, "ratio": worker / pool,
                           "worker_runs": workers, "pool_runs": pools, "exec_per_s": exec},
            "example2": example2,
            "example3": example3,
        });
        println!("{report}");
    }
}
