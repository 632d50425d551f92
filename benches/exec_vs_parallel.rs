//! Benchmark: `poolwatch exec` against GNU parallel on the same jobs; skipped with a message when `parallel` is missing.
//!
//! Run with `cargo bench --bench exec_vs_parallel` (add `-- --json` for one JSON object).
//! Two workloads, each run `RUNS` times per tool, median wall time reported:
//! 1. halt on first success: inputs 1..=1000, each `sleep 0.01` then succeed only for 500,
//!    vs `parallel --halt now,success=1`;
//! 2. per-job overhead: `true` over 2000 inputs, vs `parallel true ::: ...`.
#![allow(
    clippy::unwrap_used,
    reason = "a failed unwrap here aborts the measurement with its message"
)]

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs per tool and workload; the median is reported.
const RUNS: usize = 3;

/// One workload: the same jobs for both tools.
struct Workload {
    name: &'static str,
    jobs: usize,
    inputs: u64,
    poolwatch: Vec<String>,
    parallel: Vec<String>,
}

/// Median wall times of one workload.
struct Measured {
    name: &'static str,
    jobs: usize,
    inputs: u64,
    poolwatch_s: f64,
    parallel_s: f64,
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(ToString::to_string).collect()
}

fn workloads() -> Vec<Workload> {
    let halt_script = r#"sleep 0.01; test "$1" = 500"#;
    let inputs: Vec<String> = (1..=1000).map(|i: u64| i.to_string()).collect();
    let mut halt_parallel = strings(&["-q", "-j", "4", "--halt", "now,success=1"]);
    halt_parallel.extend(strings(&["sh", "-c", halt_script, "sh", ":::"]));
    halt_parallel.extend(inputs);
    let many: Vec<String> = (1..=2000).map(|i: u64| i.to_string()).collect();
    let mut true_parallel = strings(&["-j", "2", "true", ":::"]);
    true_parallel.extend(many);
    vec![
        Workload {
            name: "halt on first success (1000 x sleep 0.01, success at 500)",
            jobs: 4,
            inputs: 1000,
            poolwatch: strings(&[
                "--headless",
                "--json",
                "--halt",
                "now",
                "-w",
                "4",
                "exec",
                "--range",
                "1..=1000",
                "--",
                "sh",
                "-c",
                halt_script,
                "sh",
            ]),
            parallel: halt_parallel,
        },
        Workload {
            name: "per-job overhead (2000 x true)",
            jobs: 2,
            inputs: 2000,
            poolwatch: strings(&[
                "--headless",
                "--json",
                "--halt",
                "never",
                "-w",
                "2",
                "exec",
                "--range",
                "1..=2000",
                "--",
                "true",
            ]),
            parallel: true_parallel,
        },
    ]
}

/// Wall time of one run of `program args`, output discarded.
fn time_once(program: &str, args: &[String]) -> Duration {
    let started = Instant::now();
    let status = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    let took = started.elapsed();
    if let Err(err) = status {
        eprintln!("exec_vs_parallel: cannot run {program}: {err}");
    }
    took
}

fn median(program: &str, args: &[String]) -> f64 {
    let mut times: Vec<f64> = (0..RUNS)
        .map(|_| time_once(program, args).as_secs_f64())
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn has_parallel() -> bool {
    Command::new("parallel")
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

fn main() {
    let json = std::env::args().any(|arg| arg == "--json");
    if !has_parallel() {
        let message = "GNU parallel is not installed (apt-get install parallel): exec_vs_parallel skipped";
        if json {
            println!("{}", serde_json::json!({ "skipped": message }));
        } else {
            println!("{message}");
        }
        return;
    }
    let poolwatch = env!("CARGO_BIN_EXE_poolwatch");
    let measured: Vec<Measured> = workloads()
        .into_iter()
        .map(|work| Measured {
            name: work.name,
            jobs: work.jobs,
            inputs: work.inputs,
            poolwatch_s: median(poolwatch, &work.poolwatch),
            parallel_s: median("parallel", &work.parallel),
        })
        .collect();
    if json {
        print_json(&measured);
    } else {
        print_table(&measured);
    }
}

/// Milliseconds of one job slot per input: wall time x slots / inputs.
#[expect(clippy::cast_precision_loss, reason = "a rate")]
fn per_job_ms(seconds: f64, jobs: usize, inputs: u64) -> f64 {
    seconds * 1e3 * jobs as f64 / inputs as f64
}

fn print_table(measured: &[Measured]) {
    println!("median of {RUNS} runs; ratio = parallel / poolwatch (above 1: poolwatch is faster)");
    for m in measured {
        println!(
            "{}: poolwatch {:.3} s ({:.2} ms/job/slot), parallel {:.3} s ({:.2} ms/job/slot), ratio {:.2}",
            m.name,
            m.poolwatch_s,
            per_job_ms(m.poolwatch_s, m.jobs, m.inputs),
            m.parallel_s,
            per_job_ms(m.parallel_s, m.jobs, m.inputs),
            m.parallel_s / m.poolwatch_s,
        );
    }
}

fn print_json(measured: &[Measured]) {
    let rows: Vec<serde_json::Value> = measured
        .iter()
        .map(|m| {
            serde_json::json!({
                "workload": m.name,
                "jobs": m.jobs,
                "inputs": m.inputs,
                "poolwatch_s": m.poolwatch_s,
                "parallel_s": m.parallel_s,
                "ratio": m.parallel_s / m.poolwatch_s,
            })
        })
        .collect();
    println!("{}", serde_json::json!({ "runs": RUNS, "workloads": rows }));
}
