//! `poolwatch completions SHELL` and `poolwatch man`: generated from the clap definition, checked with the built binary.
#![allow(
    clippy::unwrap_used,
    reason = "a failed unwrap here is a failed test, with its message"
)]

use std::process::{Command, Output, Stdio};

fn poolwatch(args: &[&str]) -> Output {
    Command::new(assert_cmd::cargo::cargo_bin("poolwatch"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn completion_scripts_know_every_command_and_option() {
    for shell in ["bash", "zsh", "fish"] {
        let out = poolwatch(&["completions", shell]);
        assert!(out.status.success(), "{shell}: {out:?}");
        let script = String::from_utf8(out.stdout).unwrap();
        for word in [
            "poolwatch",
            "collatz",
            "exec",
            "retries",
            "joblog",
            "keep-order",
            "halt",
        ] {
            assert!(script.contains(word), "{shell} completion lacks {word}");
        }
    }
    // bash can at least parse its script.
    let script = poolwatch(&["completions", "bash"]).stdout;
    let path = std::env::temp_dir().join(format!("poolwatch-completion-{}.bash", std::process::id()));
    std::fs::write(&path, script).unwrap();
    let checked = Command::new("bash").arg("-n").arg(&path).output().unwrap();
    std::fs::remove_file(&path).unwrap();
    assert!(checked.status.success(), "{checked:?}");

    let bad = poolwatch(&["completions", "tcsh"]);
    assert_eq!(bad.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&bad.stderr).lines().count(), 1);
}

#[test]
fn man_pages_for_poolwatch_and_each_command() {
    let top = String::from_utf8(poolwatch(&["man"]).stdout).unwrap();
    assert!(top.contains(".TH poolwatch 1"), "{top}");
    assert!(top.contains("exec") && top.contains("completions"), "{top}");
    let exec = poolwatch(&["man", "exec"]);
    assert!(exec.status.success());
    let exec = String::from_utf8(exec.stdout).unwrap();
    assert!(
        exec.contains(".TH poolwatch\\-exec 1") || exec.contains(".TH poolwatch-exec 1"),
        "{exec}"
    );
    for option in ["joblog", "resume\\-failed", "results", "retries", "workers"] {
        assert!(exec.contains(option), "man exec lacks {option}");
    }
    let unknown = poolwatch(&["man", "nope"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&unknown.stderr).trim(),
        "poolwatch: man: no command named \"nope\""
    );
}
