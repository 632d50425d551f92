//! No write goes through a planted symbolic link (`--joblog`, `--log`, `--runs`, `exec
//! --results`), the `--output` spool is private and leaves nothing behind, and a spool that
//! cannot be written is an error on its input.
#![allow(
    clippy::unwrap_used,
    reason = "a failed unwrap here is a failed test, with its message"
)]

use common::cli::{assert_refused, finish, headless_json, poolwatch, run_piped};
use common::logs::{of_kind, read_jsonl};
use common::scratch::Scratch;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

mod common;

const PRECIOUS: &str = "precious data\n";

/// A victim file in `dir` and a link to it at `at`.
fn plant(dir: &Scratch, at: &Path) -> std::path::PathBuf {
    let victim = dir.join("victim");
    std::fs::write(&victim, PRECIOUS).unwrap();
    symlink(&victim, at).unwrap();
    victim
}

fn run(command: &mut Command) -> Output {
    run_piped(command.stdin(Stdio::null()), Duration::from_secs(60))
}

fn exec(args: &[&str]) -> Output {
    run(headless_json().args(["exec", "--range", "1..4"]).args(args))
}

#[test]
fn a_job_log_behind_a_link_is_refused_and_the_target_kept() {
    for resume in [false, true] {
        let dir = Scratch::new("link-joblog");
        let joblog = dir.join("job.tsv");
        let victim = plant(&dir, &joblog);
        let mut args = vec!["--joblog", joblog.to_str().unwrap()];
        if resume {
            args.push("--resume");
        }
        args.extend(["--", "true"]);
        let output = exec(&args);
        assert_refused(&output, "symbolic link", &format!("resume {resume}"));
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), PRECIOUS);
    }
}

#[test]
fn the_event_log_and_the_runs_file_behind_a_link_are_refused() {
    for flag in ["--log", "--runs"] {
        let dir = Scratch::new("link-log");
        let path = dir.join("file");
        let victim = plant(&dir, &path);
        let output = run(poolwatch()
            .args(["--headless", "--json", flag])
            .arg(&path)
            .args(["exec", "--range", "1..3", "--", "true"]));
        assert_refused(&output, "symbolic link", flag);
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), PRECIOUS, "{flag}");
    }
}

#[test]
fn a_results_tree_holding_a_link_is_refused() {
    // Where the link is planted, under DIR (the job of input 1 keeps its files in DIR/1/1).
    for (case, under) in [
        ("DIR/1", "1"),
        ("DIR/1/VALUE", "1/1"),
        ("DIR/1/VALUE/stdout", "1/1/stdout"),
    ] {
        let dir = Scratch::new("link-results");
        let results = dir.join("results");
        let at = results.join(under);
        std::fs::create_dir_all(at.parent().unwrap()).unwrap();
        let target = dir.join("target");
        std::fs::create_dir_all(&target).unwrap();
        let victim = target.join("stdout");
        std::fs::write(&victim, PRECIOUS).unwrap();
        let pointed = if case.ends_with("stdout") {
            &victim
        } else {
            &target
        };
        symlink(pointed, &at).unwrap();
        let output = exec(&["--results", results.to_str().unwrap(), "--", "echo", "out"]);
        assert_refused(&output, "symbolic link", case);
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), PRECIOUS, "{case}");
        let entries: Vec<_> = std::fs::read_dir(&target).unwrap().flatten().collect();
        assert_eq!(entries.len(), 1, "{case}: written into the link's target");
    }
}

/// `poolwatch --halt never exec --output ARGS` with `TMPDIR` set to `temp`.
fn with_spool_in(temp: &Path, args: &[&str]) -> Command {
    let mut command = poolwatch();
    command
        .env("TMPDIR", temp)
        .args(["--halt", "never", "-w", "2", "exec", "--output"])
        .args(args)
        .stdin(Stdio::null());
    command
}

fn spools_in(temp: &Path) -> Vec<String> {
    std::fs::read_dir(temp)
        .unwrap()
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("poolwatch-output-"))
        .collect()
}

#[test]
fn the_output_spool_is_private_and_removed() {
    let dir = Scratch::new("spool-private");
    // Each job lists the modes of the spool folder and of the files in it (its own at least).
    let script = r#"for d in "$TMPDIR"/poolwatch-output-*; do stat -c '%a' "$d" "$d"/*; done"#;
    let output = run(&mut with_spool_in(
        dir.path(),
        &["--range", "1..4", "-k", "--", "sh", "-c", script],
    ));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let modes: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        modes.iter().filter(|mode| **mode == "700").count(),
        3,
        "{output:?}"
    );
    assert!(
        modes.iter().all(|mode| ["700", "600"].contains(mode)),
        "{output:?}"
    );
    assert!(modes.contains(&"600"), "{output:?}");
    assert_eq!(spools_in(dir.path()), Vec::<String>::new());
}

#[test]
fn a_spool_left_by_a_killed_run_is_private_and_goes_on_the_next_start() {
    let dir = Scratch::new("spool-killed");
    let mut child = with_spool_in(
        dir.path(),
        &["--range", "1..3", "--", "sh", "-c", "echo secret; sleep 30"],
    )
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    common::wait_until("the spool is made", || !spools_in(dir.path()).is_empty());
    std::thread::sleep(Duration::from_millis(300));
    child.kill().unwrap();
    child.wait().unwrap();
    let left = spools_in(dir.path());
    assert_eq!(left.len(), 1, "{left:?}");
    for spool in left {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join(&spool)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700, "{spool} is readable by others");
    }
    let output = run(&mut with_spool_in(dir.path(), &["--range", "1..2", "--", "true"]));
    assert!(output.status.success(), "{output:?}");
    assert_eq!(spools_in(dir.path()), Vec::<String>::new());
}

#[test]
fn a_spool_that_cannot_be_written_is_an_error_on_its_input() {
    let dir = Scratch::new("spool-full");
    // A file size limit stands in for a full disk: writes past 32 KiB fail (EFBIG).
    let script = r#"trap '' XFSZ; ulimit -f 64; exec "$@""#;
    let binary = assert_cmd::cargo::cargo_bin("poolwatch");
    let log = dir.join("run.log");
    let child = Command::new("sh")
        .env("TMPDIR", dir.path())
        .args(["-c", script, "sh"])
        .arg(binary)
        .args(["--halt", "never", "--json", "--log"])
        .arg(&log)
        .args(["exec", "--output", "--range", "1..3", "--"])
        .args(["sh", "-c", "yes | head -c 1000000"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let output = finish(child, Duration::from_secs(60));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let summary = common::cli::last_json_line(&output.stderr);
    assert_eq!(summary["errors"], 2, "{stderr}");
    let errors = read_jsonl(&log);
    let errors = of_kind(&errors, "error");
    assert_eq!(errors.len(), 2, "{stderr}");
    for error in errors {
        let message = error["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("cannot keep its output: File too large"),
            "{message}"
        );
    }
    assert_ne!(output.status.code(), Some(0), "{stderr}");
}

#[test]
fn a_log_of_another_user_is_refused_and_kept() {
    let dir = Scratch::new("other-owner");
    let joblog = dir.join("job.tsv");
    std::fs::write(&joblog, PRECIOUS).unwrap();
    let path = std::ffi::CString::new(joblog.to_str().unwrap()).unwrap();
    // SAFETY: chown(2) on a file this test made, with a valid C string.
    if unsafe { libc::chown(path.as_ptr(), 65534, 65534) } != 0 {
        eprintln!("skipped: giving a file to another user needs root");
        return;
    }
    let output = exec(&["--joblog", joblog.to_str().unwrap(), "--", "true"]);
    assert_refused(&output, "belongs to another user", "--joblog");
    assert_eq!(std::fs::read_to_string(&joblog).unwrap(), PRECIOUS);
}

#[test]
fn jobs_waiting_in_order_hold_no_open_file_each() {
    let dir = Scratch::new("spool-waiting");
    // Job 0 is slow; the 399 after it end first and wait, in order, behind it: with a
    // descriptor each they would run out of the 64 allowed.
    let script = r#"ulimit -n 64; exec "$@""#;
    let job = r#"if [ "$1" = 0 ]; then sleep 2; fi; echo "$1""#;
    let output = run(Command::new("sh")
        .env("TMPDIR", dir.path())
        .args(["-c", script, "sh"])
        .arg(assert_cmd::cargo::cargo_bin("poolwatch"))
        .args([
            "--halt", "never", "-w", "4", "exec", "--output", "-k", "--range", "0..400",
        ])
        .args(["--", "sh", "-c", job, "sh", "{}"]));
    let expected: String = (0..400).map(|n| format!("{n}\n")).collect();
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        expected,
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
