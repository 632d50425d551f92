//! Escape sequences in inputs and in commands' output are shown escaped wherever a person
//! reads them (the summary, stderr, the dashboard) and passed on unchanged everywhere else
//! (`--output`, `--results`, the commands); non-UTF-8 input bytes reach the command as they are.
#![allow(
    clippy::unwrap_used,
    reason = "a failed unwrap here is a failed test, with its message"
)]

use common::cli::{poolwatch, run_piped};
use common::pty::Pty;
use common::scratch::Scratch;
use std::process::{Output, Stdio};
use std::time::Duration;

mod common;

/// Sets the window title, clears the screen.
const TITLE: &[u8] = b"\x1b]0;PWNED\x07";
const CLEAR: &[u8] = b"\x1b[2J";

/// An input file in `dir` holding a title-setting line and a screen-clearing line.
fn hostile_inputs(dir: &Scratch) -> std::path::PathBuf {
    let path = dir.join("inputs.txt");
    let mut text = [TITLE, b"a", CLEAR, b"b"].concat();
    text.insert(TITLE.len() + 1, b'\n');
    text.push(b'\n');
    std::fs::write(&path, text).unwrap();
    path
}

/// `--halt never exec` over the lines of `input`, each echoed by a command whose output
/// holds escape sequences of its own; every job matches, so each is listed with its output.
fn echo_each_line_of(input: &std::path::Path) -> Vec<&str> {
    vec![
        "--halt",
        "never",
        "exec",
        // Matches are listed with their output (a job that merely succeeds is counted).
        "--match-stdout",
        ".",
        "--input",
        input.to_str().unwrap(),
        "--",
        "sh",
        "-c",
        ECHO_WITH_ESCAPES,
        "sh",
        "{}",
    ]
}

fn run(dir: &Scratch, args: &[&str]) -> Output {
    let mut command = poolwatch();
    command.current_dir(dir.path()).args(args).stdin(Stdio::null());
    run_piped(&mut command, Duration::from_secs(60))
}

fn assert_no_escape(what: &str, bytes: &[u8]) {
    assert!(
        !bytes.contains(&0x1b) && !bytes.contains(&0x07),
        "{what} carries a raw control character: {:?}",
        String::from_utf8_lossy(bytes)
    );
}

/// A command that echoes its input after an escape sequence of its own.
const ECHO_WITH_ESCAPES: &str = r#"printf '\033]0;OUT\007%s\n' "$1""#;

#[test]
fn the_text_summary_shows_inputs_and_output_escaped() {
    let dir = Scratch::new("escapes-summary");
    let input = hostile_inputs(&dir);
    let mut args = vec!["--headless"];
    args.extend(echo_each_line_of(&input));
    let output = run(&dir, &args);
    assert_no_escape("stdout", &output.stdout);
    assert_no_escape("stderr", &output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains(r"input \e]0;PWNED\x07a"), "{stdout}");
    assert!(stdout.contains(r"\e]0;OUT\x07\e[2Jb"), "{stdout}");
}

#[test]
fn messages_on_stderr_show_inputs_escaped() {
    let dir = Scratch::new("escapes-stderr");
    let input = hostile_inputs(&dir);
    // The input is the program: it cannot be run, and the fatal message names it.
    let output = run(
        &dir,
        &[
            "--headless",
            "exec",
            "--input",
            input.to_str().unwrap(),
            "--",
            "{}",
        ],
    );
    assert_no_escape("stderr", &output.stderr);
    let stderr = String::from_utf8_lossy(&output.stderr);
    // The first input to fail is named, whichever that is.
    let named = [r"cannot run '\e]0;PWNED\x07a'", r"cannot run '\e[2Jb'"];
    assert!(named.iter().any(|message| stderr.contains(message)), "{stderr}");
}

#[test]
fn output_and_results_keep_the_raw_bytes() {
    let dir = Scratch::new("escapes-raw");
    let input = hostile_inputs(&dir);
    let results = dir.join("results");
    let output = run(
        &dir,
        &[
            "--halt",
            "never",
            "-w",
            "1",
            "exec",
            "--output",
            "-k",
            "--results",
            results.to_str().unwrap(),
            "--input",
            input.to_str().unwrap(),
            "--",
            "printf",
            "%s\\n",
            "{}",
        ],
    );
    let expected = [TITLE, b"a\n", CLEAR, b"b\n"].concat();
    assert_eq!(output.stdout, expected, "{output:?}");
    let kept = results
        .join("1")
        .join(String::from_utf8([TITLE, b"a"].concat()).unwrap());
    assert_eq!(
        std::fs::read(kept.join("stdout")).unwrap(),
        [TITLE, b"a\n"].concat()
    );
    assert_no_escape("stderr", &output.stderr);
}

#[test]
fn non_utf8_bytes_reach_the_command_unchanged() {
    use std::os::unix::ffi::OsStrExt;
    let dir = Scratch::new("escapes-latin1");
    let input = dir.join("inputs.txt");
    std::fs::write(&input, b"caf\xe9\n").unwrap();
    let results = dir.join("results");
    let output = run(
        &dir,
        &[
            "--halt",
            "never",
            "exec",
            // Matches are listed with their output (a job that merely succeeds is counted).
            "--match-stdout",
            ".",
            "--output",
            "--results",
            results.to_str().unwrap(),
            "--input",
            input.to_str().unwrap(),
            "--",
            "sh",
            "-c",
            r#"printf '%s|%s\n' "$1" x{}"#,
            "sh",
            "{}",
        ],
    );
    assert_eq!(output.stdout, b"caf\xe9|xcaf\xe9\n", "{output:?}");
    let folder = results.join("1").join(std::ffi::OsStr::from_bytes(b"caf\xe9"));
    assert!(folder.join("stdout").exists(), "{}", folder.display());
    let summary = String::from_utf8_lossy(&output.stderr);
    assert!(summary.contains(r"caf\xe9"), "{summary}");
}

#[test]
fn the_dashboard_shows_inputs_and_output_escaped() {
    let dir = Scratch::new("escapes-dashboard");
    let input = hostile_inputs(&dir);
    let mut pty = Pty::start(&echo_each_line_of(&input));
    pty.wait_for("press Enter to launch");
    pty.press("\r");
    let screen = pty.wait_for(r"\e]0;PWNED\x07a");
    assert!(screen.contains(r"\e]0;OUT\x07"), "{screen}");
    pty.press("q");
    pty.wait_exit();
}

#[test]
fn non_utf8_bytes_reach_a_worker_unchanged() {
    let dir = Scratch::new("escapes-latin1-worker");
    let input = dir.join("inputs.txt");
    std::fs::write(&input, b"caf\xe9\n").unwrap();
    let script = r#"want=$(printf 'caf\351'); while IFS= read -r x; do if [ "$x" = "$want" ]; then echo 1; else echo 0; fi; done"#;
    let output = run(
        &dir,
        &[
            "--headless",
            "--json",
            "exec",
            "--worker",
            "--input",
            input.to_str().unwrap(),
            "--",
            "sh",
            "-c",
            script,
        ],
    );
    let summary = common::cli::summary_of(&output);
    assert_eq!(summary["match_count"], 1, "{summary}");
    assert_eq!(summary["matches"][0]["value"], r"caf\xe9", "{summary}");
}
