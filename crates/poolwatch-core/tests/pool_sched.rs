//! Worker threads' timer slack and scheduling policy follow how crowded the CPUs are, read from `/proc` (a test binary of its own, so that no other run's workers are in the process).
#![cfg(target_os = "linux")]
#![allow(
    clippy::unwrap_used,
    reason = "a failed unwrap here is a failed test, with its message"
)]

mod support;

use poolwatch_core::search::Needle;
use poolwatch_core::{HaltPolicy, Run, RunConfig};
use std::sync::Arc;
use std::time::Duration;
use support::procfs::Stat;
use support::wait_for;

/// Tasks of 1 ms whose needle no test reaches.
fn sleepy() -> Arc<Needle> {
    Arc::new(Needle {
        tasks: u64::MAX / 2,
        needle: u64::MAX / 2 - 1,
        sleep: Duration::from_millis(1),
    })
}

/// `SCHED_OTHER` and `SCHED_BATCH`, as `/proc/TID/stat` gives them.
const SCHED_OTHER: u32 = 0;
const SCHED_BATCH: u32 = 3;

/// Timer slack and scheduling policy of one worker thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Fit {
    slack_ns: u64,
    policy: u32,
}

/// The fit of every live worker thread of this process (threads named `poolwatch-worker-N`,
/// which the kernel cuts to 15 bytes).
fn worker_fits() -> Vec<Fit> {
    let mut fits = Vec::new();
    for entry in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        let tid = entry.file_name().to_string_lossy().into_owned();
        let comm = std::fs::read_to_string(format!("/proc/self/task/{tid}/comm")).unwrap_or_default();
        if !comm.starts_with("poolwatch-worke") {
            continue;
        }
        // A thread that ended between the listing and the reads is skipped.
        let stat = Stat::read(&entry.path().join("stat"));
        let slack = std::fs::read_to_string(format!("/proc/{tid}/timerslack_ns"));
        let (Some(stat), Ok(slack)) = (stat, slack) else {
            continue;
        };
        fits.push(Fit {
            slack_ns: slack.trim().parse().unwrap(),
            policy: stat.policy(),
        });
    }
    fits
}

/// Waits until exactly `workers` worker threads exist and every one has `fit`.
fn wait_for_fit(workers: usize, fit: Fit) {
    wait_for(&format!("{workers} workers with {fit:?}"), || {
        let fits = worker_fits();
        (fits.len() == workers && fits.iter().all(|f| *f == fit)).then_some(())
    });
}

#[test]
fn workers_batch_schedule_on_crowded_cpus_and_go_back_when_the_crowd_thins() {
    let uncrowded = Fit {
        slack_ns: 1,
        policy: SCHED_OTHER,
    };
    let crowded = Fit {
        slack_ns: 250_000,
        policy: SCHED_BATCH,
    };
    // The line is 16 workers per CPU.
    let cpus = num_cpus::get();
    let config = RunConfig::default()
        .with_workers(2)
        .with_policy(HaltPolicy::Never);
    let run = Run::start(sleepy(), &config);
    wait_for_fit(2, uncrowded);

    run.set_workers(16 * cpus + 4);
    wait_for_fit(16 * cpus + 4, crowded);

    run.set_workers(16 * cpus);
    wait_for_fit(16 * cpus, uncrowded);

    run.halt_now();
    let report = run.wait();
    assert!(report.counters.completed > 0);
}
