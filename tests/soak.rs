//! A long `--halt never` run in a pseudo-terminal, with pause, resume, `+` and `-` pressed at
//! random: memory must stay flat and the log must hold every match. Ignored by default:
//! `POOLWATCH_SOAK_SECS=600 cargo test --release --test soak -- --ignored --nocapture`.
#![allow(
    clippy::unwrap_used,
    reason = "a failed unwrap here is a failed test, with its message"
)]

mod common;

use common::logs::read_jsonl;
use common::next_random;
use common::procfs::rss_kb;
use common::pty::{Pty, poolwatch_command};
use common::scratch::Scratch;
use std::time::{Duration, Instant};

#[test]
#[ignore = "a soak of 10 minutes by default: run it on purpose"]
fn a_long_run_with_random_controls_keeps_memory_flat_and_loses_nothing() {
    let secs: u64 = std::env::var("POOLWATCH_SOAK_SECS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(600);
    let scratch = Scratch::new("soak");
    let log = scratch.join("log.jsonl");
    let mut command = poolwatch_command(&[
        "--log",
        log.to_str().unwrap(),
        "-w",
        "2",
        "--start",
        "--halt",
        "never",
    ]);
    // About one match in 4,096 nonces: a steady stream of matches for hours.
    command.args(["pow", "--bits", "12", "--tasks", "1000000000000"]);
    let mut session = Pty::spawn(command);
    let pid = session.pid();
    std::thread::sleep(Duration::from_secs(3));
    let rss_start = rss_kb(pid);
    let started = Instant::now();
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut presses = [0_u32; 3];
    while started.elapsed() < Duration::from_secs(secs) {
        let roll = next_random(&mut state);
        let (key, slot) = match roll % 8 {
            0 | 1 => ("p", 0),
            2..=4 => ("+", 1),
            _ => ("-", 2),
        };
        // `press` itself waits 100 ms: 120 to 520 ms between keys.
        session.press(key);
        presses[slot] += 1;
        std::thread::sleep(Duration::from_millis(20 + next_random(&mut state) % 400));
    }
    // Resume if paused (an odd number of `p`), so the end is not a paused run.
    if presses[0] % 2 == 1 {
        session.press("p");
    }
    let rss_end = rss_kb(pid);
    assert!(
        rss_start > 0 && rss_end > 0,
        "could not read the process's memory"
    );
    // `q` on a live run asks first; `y` confirms.
    session.press("q");
    session.wait_for("quit and stop the run? y/n");
    session.press("y");
    session.wait_exit();
    // Whole lines only, the last one ended: no torn log.
    let lines = read_jsonl(&log);
    let logged = lines.iter().filter(|line| line["event"] == "match").count() as u64;
    let end = lines.last().unwrap();
    assert_eq!(end["event"], "end");
    let summary = &end["summary"];
    println!(
        "soak {secs} s: {} p, {} +, {} -; RSS {rss_start} KiB after 3 s, {rss_end} KiB at the end, peak {} KiB; \
         {} of {} tasks completed, {} matches in the summary, {logged} in the log",
        presses[0],
        presses[1],
        presses[2],
        summary["peak_rss_kb"],
        summary["completed"],
        summary["total"],
        summary["match_count"]
    );
    assert_eq!(
        Some(logged),
        summary["match_count"].as_u64(),
        "a match is missing from the log"
    );
    assert!(
        rss_end < rss_start + 16 * 1024,
        "memory grew from {rss_start} KiB to {rss_end} KiB"
    );
}
