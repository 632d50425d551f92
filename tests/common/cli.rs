//! The built poolwatch as a child process: a command for it, its end awaited under a deadline, and its JSON summary read back.

use serde_json::Value;
use std::io::Read;
use std::process::{Child, Command, Output, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How often [`finish`] looks whether the child has exited.
const EXIT_POLL: Duration = Duration::from_millis(5);

/// The built poolwatch, with no arguments yet.
pub fn poolwatch() -> Command {
    Command::new(assert_cmd::cargo::cargo_bin("poolwatch"))
}

/// The built poolwatch with `--headless --json`: a run that prints its summary as one JSON
/// value on stdout.
pub fn headless_json() -> Command {
    let mut command = poolwatch();
    command.args(["--headless", "--json"]);
    command
}

/// Waits for `child` at most `limit` and returns what it wrote. Its stdout and stderr, where
/// piped, are read while it runs, so a child that writes more than a pipe holds does not stall.
/// Past `limit` the child is killed and reaped, and the test fails.
pub fn finish(mut child: Child, limit: Duration) -> Output {
    let stdout = read_on_a_thread(child.stdout.take());
    let stderr = read_on_a_thread(child.stderr.take());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("poll poolwatch") {
            break status;
        }
        if started.elapsed() > limit {
            let _killed = child.kill();
            let _reaped = child.wait();
            panic!("poolwatch still running after {limit:?}");
        }
        std::thread::sleep(EXIT_POLL);
    };
    Output {
        status,
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
    }
}

/// Everything `pipe` yields, read on a thread (nothing for no pipe).
fn read_on_a_thread(pipe: Option<impl Read + Send + 'static>) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            pipe.read_to_end(&mut bytes).expect("read poolwatch's output");
        }
        bytes
    })
}

/// Spawns `command` with stdout and stderr piped (stdin as the command has it) and
/// [`finish`]es it within `limit`.
pub fn run_piped(command: &mut Command, limit: Duration) -> Output {
    let child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn poolwatch");
    finish(child, limit)
}

/// The JSON summary that is the whole of `output`'s stdout (one value, nothing else); panics
/// with stdout and stderr where it is not.
pub fn summary_of(output: &Output) -> Value {
    let stdout = String::from_utf8_lossy(&output.stdout);
    serde_json::from_str(stdout.trim()).unwrap_or_else(|err| {
        panic!(
            "the summary is not JSON ({err}): stdout {stdout:?}, stderr {:?}",
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// The JSON value on the last line of `text` (a summary printed after other output).
pub fn last_json_line(text: &[u8]) -> Value {
    let text = String::from_utf8_lossy(text);
    let line = text.lines().last().unwrap_or_default();
    serde_json::from_str(line).unwrap_or_else(|err| panic!("{err}: {text:?}"))
}

/// Asserts that `output` is poolwatch refusing bad input: exit code 2 and one line on stderr,
/// not a panic, that contains `needle`; `case` names the input in a failure. Returns stderr.
pub fn assert_refused(output: &Output, needle: &str, case: &str) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(2), "{case}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{case}: {stderr}");
    assert!(stderr.contains(needle), "{case}: {stderr}");
    assert!(!stderr.contains("panicked"), "{case}: {stderr}");
    stderr
}

/// Sends `signal` to `child`.
pub fn signal(child: &Child, signal: i32) {
    let pid = i32::try_from(child.id()).expect("a pid fits in pid_t");
    // SAFETY: kill(2) on the child this test started; no memory is involved.
    unsafe { libc::kill(pid, signal) };
}
