//! The shared test helpers themselves: a scratch directory goes away also when its test fails, and `/proc` is read right.
#![allow(
    clippy::unwrap_used,
    reason = "a failed unwrap here is a failed test, with its message"
)]

mod common;

use common::procfs::{self, Stat};
use common::scratch::Scratch;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::process::{Command, Stdio};

#[test]
fn a_scratch_directory_is_removed_when_its_test_panics() {
    let mut made = None;
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let scratch = Scratch::new("helpers-panic");
        std::fs::create_dir_all(scratch.join("deep/er")).unwrap();
        std::fs::write(scratch.join("deep/er/log.jsonl"), "{}\n").unwrap();
        made = Some(scratch.path().to_path_buf());
        panic!("a failing test (on purpose: its scratch directory must go)");
    }));
    assert!(outcome.is_err());
    let dir = made.expect("the scratch directory was made");
    assert!(dir.starts_with(std::env::temp_dir()), "{}", dir.display());
    assert!(!dir.exists(), "{} was left behind", dir.display());
}

#[test]
fn a_stat_line_is_split_after_the_last_parenthesis() {
    let scratch = Scratch::new("helpers-stat");
    let path = scratch.join("stat");
    // A command name with spaces and a ')' in it; fields 4 to 41 numbered as proc(5) does.
    let fields: Vec<String> = (4..=41).map(|number| number.to_string()).collect();
    std::fs::write(&path, format!("123 (a b) c) S {}\n", fields.join(" "))).unwrap();
    let stat = Stat::read(&path).unwrap();
    assert_eq!(stat.state(), 'S');
    assert_eq!((stat.ppid(), stat.pgrp()), (4, 5));
    assert_eq!(stat.cpu_ticks(), 14 + 15);
    assert_eq!(stat.policy(), 41);
    assert!(!stat.has_exited());
    assert!(Stat::read(&scratch.join("missing")).is_none());
}

#[test]
fn the_process_table_finds_a_child_by_its_marker_until_it_has_exited() {
    let marker = procfs::unique_marker(30);
    let mut child = Command::new("sleep")
        .arg(&marker)
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let pid = i32::try_from(child.id()).unwrap();
    let found = procfs::live_with(&marker);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].pid, pid);
    assert_eq!(found[0].argv, ["sleep", marker.as_str()]);
    assert_eq!(found[0].stat.ppid(), i32::try_from(std::process::id()).unwrap());
    assert!(!procfs::has_exited(pid));
    child.kill().unwrap();
    // Killed, not yet reaped: a zombie has exited, and is not live.
    common::wait_until("the killed sleep to be a zombie", || procfs::has_exited(pid));
    assert!(procfs::live_with(&marker).is_empty());
    child.wait().unwrap();
    assert!(procfs::has_exited(pid), "reaped: gone from the table");
}
