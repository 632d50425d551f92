//! `--runs FILE` headless: each finished run appends one JSON line, so history survives the process.
#![allow(
    clippy::unwrap_used,
    reason = "a failed unwrap here is a failed test, with its message"
)]

use assert_cmd::Command;
use common::logs::read_jsonl;
use common::scratch::Scratch;

mod common;

#[test]
fn each_headless_run_appends_one_json_line() {
    let scratch = Scratch::new("runs-file");
    let path = scratch.join("runs.jsonl");
    for bits in ["4", "6"] {
        Command::cargo_bin("poolwatch")
            .unwrap()
            .args([
                "--headless",
                "--runs",
                path.to_str().unwrap(),
                "-w",
                "2",
                "pow",
                "--bits",
                bits,
            ])
            .assert()
            .success();
    }
    let records = read_jsonl(&path);
    assert_eq!(records.len(), 2);
    assert_eq!(records[0]["search"]["bits"], 4);
    assert_eq!(records[1]["search"]["bits"], 6);
    for record in &records {
        assert_eq!(record["name"], "Command line");
        assert_eq!(record["outcome"], "found");
        assert_eq!(record["workers"], 2);
        assert!(record["tasks_per_s"].as_f64().unwrap() > 0.0);
        assert!(record["halt_latency_ms"].is_number());
    }
}

#[test]
fn an_unwritable_runs_file_is_one_line_and_exit_code_2() {
    let output = Command::cargo_bin("poolwatch")
        .unwrap()
        .args([
            "--headless",
            "--runs",
            "/nonexistent-dir/runs.jsonl",
            "pow",
            "--bits",
            "4",
        ])
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&output.get_output().stderr).to_string();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("poolwatch: cannot open runs file /nonexistent-dir/runs.jsonl"),
        "{stderr}"
    );
}
