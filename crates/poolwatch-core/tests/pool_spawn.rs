//! A run that halts while its workers are still being spawned spawns no more (a test binary of its own, so that no other test's threads are counted).
#![cfg(target_os = "linux")]

use poolwatch_core::search::Needle;
use poolwatch_core::{HaltPolicy, HaltReason, Run, RunConfig};
use std::sync::Arc;
use std::time::Duration;

/// The id the kernel gives a new thread: ids are handed out in rising order, so the
/// difference between two of them bounds how many threads were created in between.
fn fresh_thread_id() -> i64 {
    // SAFETY: gettid has no preconditions and cannot fail.
    std::thread::spawn(|| i64::from(unsafe { libc::gettid() }))
        .join()
        .expect("the probe thread")
}

#[test]
fn a_halt_while_workers_are_still_spawning_spawns_no_more() {
    // The first task matches at once; spawning 1,024 threads takes tens of milliseconds.
    let needle = Needle {
        tasks: 1_000_000,
        needle: 0,
        sleep: Duration::ZERO,
    };
    let config = RunConfig::default()
        .with_workers(1024)
        .with_policy(HaltPolicy::Now);
    let before = fresh_thread_id();
    let report = Run::start(Arc::new(needle), &config).wait();
    let created = fresh_thread_id() - before - 1;
    assert_eq!(report.reason, HaltReason::Match);
    // Without the check every worker and the submitter are created (1,025). With it, the
    // spawner stops once the first worker has halted the run: within a few threads on an
    // idle machine; the bound leaves room for a loaded one, and for other processes' threads.
    assert!(
        created < 1000,
        "{created} threads were created for a run of 1,024 workers that halted on its first task"
    );
}
