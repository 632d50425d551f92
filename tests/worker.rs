//! `poolwatch exec --worker` end to end with real worker processes: Python and shell workers, crashes, garbage, hangs, halts and orphans.
#![allow(
    clippy::unwrap_used,
    reason = "a failed unwrap here is a failed test, with its message"
)]

use common::cli::{assert_refused, finish, headless_json, summary_of};
use common::logs::{complete_lines, of_kind, read_jsonl};
use common::procfs::{self, live_with};
use common::scratch::Scratch;
use common::{PATIENCE, holds_within};
use serde_json::Value;
use std::io::Write;
use std::path::Path;
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

mod common;

fn spawn(args: &[&str]) -> Child {
    headless_json()
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn run(args: &[&str]) -> (Value, Output) {
    let output = finish(spawn(args), Duration::from_secs(90));
    (summary_of(&output), output)
}

/// The worker processes whose command line holds `token` (not poolwatch itself, whose
/// arguments hold the script too): (pid, process group).
fn workers_with(token: &str) -> Vec<(i32, i32)> {
    live_with(token)
        .into_iter()
        .filter(|process| !process.cmdline().contains("--headless"))
        .map(|process| (process.pid, process.stat.pgrp()))
        .collect()
}

/// The `error` events in a `--log` file: (task, message).
fn error_events(log: &Path) -> Vec<(u64, String)> {
    events_of_kind(log, "error")
}

/// The `notice` events (task, message) in a `--log` file, in order.
fn notice_events(log: &Path) -> Vec<(u64, String)> {
    events_of_kind(log, "notice")
}

/// The events of one kind in a `--log` file as (task, message), in order.
fn events_of_kind(log: &Path, kind: &str) -> Vec<(u64, String)> {
    of_kind(&read_jsonl(log), kind)
        .into_iter()
        .map(|event| {
            (
                event["task"].as_u64().unwrap(),
                event["message"].as_str().unwrap().into(),
            )
        })
        .collect()
}

/// The `error` events' messages in a `--log` file.
fn error_messages(log: &Path) -> Vec<String> {
    of_kind(&read_jsonl(log), "error")
        .into_iter()
        .map(|event| event["message"].as_str().unwrap().to_string())
        .collect()
}

const PY_MATCH_5000: &str = "from poolwatch_worker import serve\nserve(lambda p: p == 5000)";

#[test]
fn a_python_function_served_by_the_helper_halts_on_its_first_true() {
    let (summary, output) = run(&[
        "-w",
        "2",
        "exec",
        "--worker",
        "--range",
        "0..100000",
        "--",
        "python3",
        "-c",
        PY_MATCH_5000,
    ]);
    assert_eq!(output.status.code(), Some(0), "{summary}");
    assert_eq!(summary["halt_reason"], "match");
    assert_eq!(summary["matches"][0]["task"], 5000);
    assert_eq!(summary["matches"][0]["value"], "5000");
    assert_eq!(summary["errors"], 0);
    let (completed, cancelled) = (
        summary["completed"].as_u64().unwrap(),
        summary["cancelled"].as_u64().unwrap(),
    );
    assert_eq!(
        completed + cancelled,
        summary["submitted"].as_u64().unwrap(),
        "{summary}"
    );
}

#[test]
fn python_workers_visit_ids_near_their_order_and_report_the_first_match() {
    // Tasks of 1 ms with matches at 1000 and 1100 on 10 workers. Handing out 1,024-id blocks
    // before any task is timed gave worker 1 the block holding 1100, found after 100 ms,
    // while worker 0 reached 1000 after a second. 1100 is also 500 ms slower than the rest,
    // so a worker process held up for a moment on a loaded machine cannot swap them.
    let script = "import time\nfrom poolwatch_worker import serve\n\
        def f(p):\n\
        \x20   time.sleep(0.5 if p == 1100 else 0.001)\n\
        \x20   return p in (1000, 1100)\n\
        serve(f)";
    let (summary, output) = run(&[
        "-w", "10", "exec", "--worker", "--range", "0..50000", "--", "python3", "-c", script,
    ]);
    assert_eq!(output.status.code(), Some(0), "{summary}");
    assert_eq!(summary["matches"][0]["task"], 1000, "{summary}");
    // Little more than the ids below it ran: none of the 1,024-id blocks beyond them.
    let completed = summary["completed"].as_u64().unwrap();
    assert!((1000..1100).contains(&completed), "{summary}");
}

#[test]
fn halt_lowest_reports_the_lowest_match_when_a_higher_one_is_found_first() {
    // 996 takes a second, 1993 a millisecond: 1993 is found first, bounds the run, and 996
    // replaces it once every id below it has run.
    let scratch = Scratch::new("worker-lowest");
    let log = scratch.join("log.jsonl");
    let script = "import time\nfrom poolwatch_worker import serve\n\
        def f(p):\n\
        \x20   time.sleep(1.0 if p == 996 else 0.001)\n\
        \x20   return p in (996, 1993)\n\
        serve(f)";
    let (summary, output) = run(&logged_python_workers(&log, "lowest", "0..50000", script));
    assert_eq!(output.status.code(), Some(0), "{summary}");
    assert_eq!(summary["halt_reason"], "match", "{summary}");
    assert_eq!(summary["matches"][0]["task"], 996, "{summary}");
    let events = read_jsonl(&log);
    let found: Vec<u64> = of_kind(&events, "match")
        .iter()
        .map(|event| event["task"].as_u64().unwrap())
        .collect();
    assert_eq!(found, [1993, 996], "1993 should be found first: {found:?}");
    // Every id below 996 ran; ids above the first match were never handed out.
    assert!(summary["completed"].as_u64().unwrap() >= 997, "{summary}");
    assert!(summary["submitted"].as_u64().unwrap() < 2100, "{summary}");
}

#[test]
fn summaries_list_the_failed_inputs_with_python_line_numbers() {
    let script = "from poolwatch_worker import serve\n\
        def f(p):\n\
        \x20   if p % 3 == 0: raise ValueError('bad %d' % p)\n\
        \x20   return False\n\
        serve(f)";
    let args = [
        "-w", "2", "exec", "--worker", "--range", "0..60", "--", "python3", "-c", script,
    ];
    let (summary, _) = run(&args);
    assert_eq!(summary["errors"], 20, "{summary}");
    let failures = summary["failures"].as_array().unwrap();
    assert_eq!(failures.len(), 20, "{summary}");
    assert_eq!(failures[1]["task"], 3, "{summary}");
    let first_line = failures[1]["message"].as_str().unwrap().lines().next().unwrap();
    assert_eq!(first_line, "3: ValueError: bad 3 (<string>:3 in f)", "{summary}");
    // The text summary: the first 10, then the count of the rest.
    let output = common::cli::poolwatch()
        .arg("--headless")
        .args(args)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("  failed: 0: ValueError: bad 0 (<string>:3 in f)\n"),
        "{text}"
    );
    assert_eq!(text.matches("  failed: ").count(), 10, "{text}");
    assert!(text.contains("... 10 more failed"), "{text}");
}

#[test]
fn python_scores_errors_and_values_come_through() {
    let scratch = Scratch::new("worker-py");
    let log = scratch.join("log.jsonl");
    let script = "from poolwatch_worker import serve\n\
        def f(p):\n\
        \x20   if p == 7: raise ValueError('seven')\n\
        \x20   if p == 9: return 'nine!'\n\
        \x20   return float(p % 5)\n\
        serve(f)";
    let (summary, _) = run(&[
        "--halt",
        "never",
        "--log",
        log.to_str().unwrap(),
        "-w",
        "2",
        "exec",
        "--worker",
        "--goal",
        "min",
        "--range",
        "3..20",
        "--",
        "python3",
        "-c",
        script,
    ]);
    assert_eq!(summary["completed"], 17, "{summary}");
    assert_eq!(summary["matches"][0]["value"], "9: nine!", "{summary}");
    assert_eq!(summary["best"]["score"], 0.0, "{summary}");
    // The innermost frame's line, then the traceback, kept in --log.
    let messages = error_messages(&log);
    assert_eq!(messages.len(), 1, "{messages:?}");
    let mut lines = messages[0].lines();
    assert_eq!(
        lines.next(),
        Some("7: ValueError: seven (<string>:3 in f)"),
        "{messages:?}"
    );
    assert!(
        messages[0].contains("File \"<string>\", line 3, in f"),
        "{messages:?}"
    );
}

#[test]
fn a_shell_while_read_loop_is_a_worker() {
    let script = r#"while read x; do if [ "$x" = 42 ]; then echo "1 found $x"; else echo 0; fi; done"#;
    let (summary, _) = run(&[
        "-w", "3", "exec", "--worker", "--range", "0..500", "--", "sh", "-c", script,
    ]);
    assert_eq!(summary["halt_reason"], "match", "{summary}");
    assert_eq!(summary["matches"][0]["value"], "42: found 42");
}

#[test]
fn lines_of_a_file_are_inputs_too() {
    let scratch = Scratch::new("worker-lines");
    let input = scratch.join("lines.txt");
    let text: String = (0..300).map(|i| format!("word{i}\n")).collect();
    std::fs::write(&input, text).unwrap();
    let script = "from poolwatch_worker import serve\nserve(lambda w: w == 'word250')";
    let (summary, _) = run(&python_workers(&input, script));
    assert_eq!(summary["matches"][0]["value"], "word250", "{summary}");
}

#[test]
fn a_worker_that_crashes_every_nth_input_is_restarted_and_only_those_inputs_fail() {
    let scratch = Scratch::new("worker-crash");
    let log = scratch.join("log.jsonl");
    let script = "import os\nfrom poolwatch_worker import serve\n\
        def f(p):\n\
        \x20   if p % 100 == 37: os._exit(3)\n\
        \x20   return False\n\
        serve(f)";
    let (summary, _) = run(&[
        "--halt",
        "never",
        "--log",
        log.to_str().unwrap(),
        "-w",
        "2",
        "exec",
        "--worker",
        "--range",
        "0..1000",
        "--",
        "python3",
        "-c",
        script,
    ]);
    assert_eq!(summary["completed"], 1000, "{summary}");
    assert_eq!(summary["errors"], 10, "{summary}");
    let mut messages = error_messages(&log);
    messages.sort();
    assert_eq!(messages.len(), 10);
    for message in &messages {
        let input: u64 = message.split(':').next().unwrap().parse().unwrap();
        assert_eq!(input % 100, 37, "{message}");
        assert!(
            message.contains("exited with status 3; restarted as pid"),
            "{message}"
        );
    }
}

#[test]
fn a_worker_that_exits_after_each_answer_is_restarted_and_no_input_is_blamed() {
    let scratch = Scratch::new("worker-once");
    let log = scratch.join("log.jsonl");
    // Exits right after each answer (but the last input's): poolwatch may be writing the next input already.
    let script = r#"while read x; do echo 0; [ "$x" = 9 ] || exit 5; done"#;
    // `now,fail=1` would halt on the first error: restarts of idle workers are not errors.
    let mut args = logged_sh_worker(&log, &[], "0..10", script);
    assert_eq!(args[..2], ["--halt", "never"]);
    args[1] = "now,fail=1";
    let (summary, _) = run(&args);
    assert_eq!(summary["completed"], 10, "{summary}");
    assert_eq!(summary["errors"], 0, "{summary}");
    assert_eq!(summary["halt_reason"], "exhausted", "{summary}");
    assert_eq!(error_events(&log), []);
    let notices = notice_events(&log);
    assert_eq!(
        notices.iter().map(|(task, _)| *task).collect::<Vec<_>>(),
        (0..9).collect::<Vec<_>>()
    );
    let mut pids = Vec::new();
    for (task, message) in &notices {
        let words: Vec<&str> = message.split_whitespace().collect();
        let (old, new) = (words[3], words[words.len() - 1]);
        let expected = format!(
            "{task}: worker pid {old} exited with status 5 while idle, after answering this input; restarted as pid {new}"
        );
        assert_eq!(message, &expected);
        pids.push((old.to_string(), new.to_string()));
    }
    // One process per answer: each restart's new process is the next one to die.
    for pair in pids.windows(2) {
        assert_eq!(pair[0].1, pair[1].0, "{pids:?}");
    }
}

#[test]
fn a_worker_that_dies_while_idle_is_restarted_with_a_notice_on_its_last_input() {
    let scratch = Scratch::new("worker-idle");
    let log = scratch.join("log.jsonl");
    let pids = scratch.join("idle.pids");
    // Each worker notes its pid once it has answered, then exits 5 with nothing in flight
    // (unless the input is "stay").
    let script = format!(
        r#"while read x; do echo 0; echo $$ >> {}; [ "$x" = stay ] || exit 5; done"#,
        pids.display()
    );
    let mut child = headless_json()
        .args(["--halt", "never", "--log", log.to_str().unwrap(), "-w", "1"])
        .args(["exec", "--worker", "--", "sh", "-c", &script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let noted = || std::fs::read_to_string(&pids).unwrap_or_default();
    for (line, input) in ["a", "b"].into_iter().enumerate() {
        writeln!(stdin, "{input}").unwrap();
        // The next input is written only once this worker is dead: it died idle, not on that input.
        common::wait_until("the worker to answer and exit", || {
            noted()
                .lines()
                .nth(line)
                .is_some_and(|pid| pid.parse().is_ok_and(procfs::has_exited))
        });
    }
    writeln!(stdin, "stay").unwrap();
    drop(stdin);
    let summary = summary_of(&finish(child, Duration::from_secs(90)));
    assert_eq!(summary["completed"], 3, "{summary}");
    assert_eq!(summary["errors"], 0, "{summary}");
    let noted = noted();
    let pid: Vec<&str> = noted.lines().collect();
    assert_eq!(pid.len(), 3, "{noted}");
    let idle = |task: usize, input: &str| {
        let message = format!(
            "{input}: worker pid {} exited with status 5 while idle, after answering this input; restarted as pid {}",
            pid[task],
            pid[task + 1]
        );
        (task as u64, message)
    };
    assert_eq!(notice_events(&log), [idle(0, "a"), idle(1, "b")]);
    assert_eq!(error_events(&log), []);
}

#[test]
fn print_in_a_python_function_changes_nothing() {
    // The helper keeps fd 1 for answers and sends the function's stdout to stderr. Before,
    // each printed line was read as an answer: 168 errors over 100 tasks and no match.
    let script = "from poolwatch_worker import serve\n\
        def f(p):\n\
        \x20   print('checking', p)\n\
        \x20   import os; os.write(1, b'and from C code\\n')\n\
        \x20   return p == 42\n\
        serve(f)";
    let (summary, output) = run(&[
        "-w", "2", "exec", "--worker", "--range", "0..100", "--", "python3", "-c", script,
    ]);
    assert_eq!(output.status.code(), Some(0), "{summary}");
    assert_eq!(summary["matches"][0]["task"], 42, "{summary}");
    assert_eq!(summary["errors"], 0, "{summary}");
}

#[test]
fn a_line_printed_before_each_answer_is_an_error_on_its_own_input_and_loses_no_match() {
    let scratch = Scratch::new("worker-stray");
    let log = scratch.join("log.jsonl");
    let script =
        r#"while read x; do echo "checking $x"; if [ "$x" = 42 ]; then echo 1; else echo 0; fi; done"#;
    let mut args = logged_sh_worker(&log, &[], "0..100", script);
    args[5] = "2";
    let (summary, _) = run(&args);
    assert_eq!(summary["completed"], 100, "{summary}");
    let matches: Vec<&Value> = summary["matches"].as_array().unwrap().iter().collect();
    assert_eq!(matches.len(), 1, "{summary}");
    assert_eq!(matches[0]["task"], 42, "{summary}");
    // One error per input, each on the input whose line it names: never more than the tasks.
    let errors = error_events(&log);
    assert_eq!(errors.len(), 100, "{errors:?}");
    for (task, message) in &errors {
        assert!(
            message.starts_with(&format!(
                "{task}: unreadable answer line \"checking {task}\" before its answer"
            )),
            "{task}: {message}"
        );
    }
}

#[test]
fn lines_after_the_last_answer_never_make_more_errors_than_tasks() {
    let scratch = Scratch::new("worker-after");
    let log = scratch.join("log.jsonl");
    // Each answer is followed by two lines that answer nothing.
    let script = r#"while read x; do echo 0; echo "done $x"; echo "really"; done"#;
    let (summary, _) = run(&logged_sh_worker(&log, &["--window", "1"], "0..20", script));
    assert_eq!(summary["completed"], 20, "{summary}");
    let errors = summary["errors"].as_u64().unwrap();
    assert!((1..=20).contains(&errors), "{summary}");
}

#[test]
fn a_python_number_without_a_goal_is_a_match_when_truthy() {
    // Before, the helper answered any int as a score, ignored without --goal: no match, exit 1.
    let script = "from poolwatch_worker import serve\nserve(lambda p: 1 if p == 42 else 0)";
    let (summary, output) = run(&[
        "-w", "2", "exec", "--worker", "--range", "0..100", "--", "python3", "-c", script,
    ]);
    assert_eq!(output.status.code(), Some(0), "{summary}");
    assert_eq!(summary["matches"][0]["task"], 42, "{summary}");
    // With --goal the same numbers are scores.
    let (summary, _) = run(&[
        "--halt",
        "never",
        "-w",
        "2",
        "exec",
        "--worker",
        "--goal",
        "max",
        "--range",
        "0..100",
        "--",
        "python3",
        "-c",
        "from poolwatch_worker import serve\nserve(lambda p: p % 50)",
    ]);
    assert_eq!(summary["match_count"], 0, "{summary}");
    assert_eq!(summary["best"]["score"], 49.0, "{summary}");
}

#[test]
fn a_score_answered_without_a_goal_is_told_once_on_stderr() {
    let (summary, output) = run(&[
        "-w",
        "2",
        "exec",
        "--worker",
        "--range",
        "0..100",
        "--",
        "sh",
        "-c",
        "while read x; do echo \"s $x\"; done",
    ]);
    assert_eq!(summary["match_count"], 0, "{summary}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let told: Vec<&str> = stderr
        .lines()
        .filter(|line| line.contains("without --goal a score"))
        .collect();
    assert_eq!(told.len(), 1, "{stderr}");
    assert!(told[0].starts_with("notice: "), "{stderr}");
}

#[test]
fn worker_progress_moves_per_answer() {
    // 400 tasks of 50 ms on 4 workers. Before, each worker took 50 ids (2.5 s) at once and
    // progress said "completed 0" at 1 s and at 2 s; now each answer counts as it comes.
    let scratch = Scratch::new("worker-progress");
    let log = scratch.join("log.jsonl");
    let script = "import time\nfrom poolwatch_worker import serve\n\
        def f(p):\n\
        \x20   time.sleep(0.05)\n\
        \x20   return False\n\
        serve(f)";
    let (summary, _) = run(&logged_python_workers(&log, "never", "0..400", script));
    assert_eq!(summary["completed"], 400, "{summary}");
    let events = read_jsonl(&log);
    let early: Vec<u64> = of_kind(&events, "progress")
        .into_iter()
        .filter(|event| event["state"] == "running" && event["t"].as_f64().unwrap() < 2.4)
        .map(|event| event["completed"].as_u64().unwrap())
        .collect();
    assert!(early.iter().any(|completed| *completed > 0), "{early:?}");
}

#[test]
fn a_garbage_answer_is_an_error_naming_the_line() {
    let scratch = Scratch::new("worker-garbage");
    let log = scratch.join("log.jsonl");
    let script = r#"while read x; do if [ "$x" = 3 ]; then echo "banana split"; else echo 0; fi; done"#;
    // One input in flight at a time: the line cannot be told from stray output printed
    // before an answer until the worker stays quiet, waiting for its next input.
    let (summary, _) = run(&logged_sh_worker(&log, &["--window", "1"], "0..10", script));
    assert_eq!(summary["completed"], 10, "{summary}");
    let messages = error_messages(&log);
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(
        messages[0].starts_with("3: unreadable answer line \"banana split\""),
        "{}",
        messages[0]
    );
}

#[test]
fn a_worker_that_never_answers_times_out_per_input() {
    let scratch = Scratch::new("worker-hang");
    let log = scratch.join("log.jsonl");
    let script = r#"while read x; do if [ "$x" = 5 ]; then sleep 60; fi; echo 0; done"#;
    let started = Instant::now();
    // Long enough for every other input's answer on a loaded machine: only 5 times out.
    let (summary, _) = run(&logged_sh_worker(
        &log,
        &["--timeout", "3", "--grace", "0.2"],
        "0..12",
        script,
    ));
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(summary["completed"], 12, "{summary}");
    let messages = error_messages(&log);
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(messages[0].starts_with("5: worker pid "), "{}", messages[0]);
    assert!(
        messages[0].contains("timed out after 3 s; restarted as pid"),
        "{}",
        messages[0]
    );
}

#[test]
fn a_command_that_keeps_dying_is_fatal_with_exit_2() {
    let (summary, output) = run(&[
        "-w",
        "2",
        "exec",
        "--worker",
        "--range",
        "0..100",
        "--",
        "sh",
        "-c",
        "echo one >&2; echo 'Oops: two' >&2; exit 4",
    ]);
    assert_eq!(output.status.code(), Some(2), "{summary}");
    let fatal = summary["fatal"].as_str().unwrap();
    assert!(
        fatal.contains("times in a row without answering: exited with status 4"),
        "{fatal}"
    );
    // One line, as the README promises: the last line of stderr, and where the rest is.
    assert!(!fatal.contains('\n'), "{fatal}");
    assert!(
        fatal.contains("its stderr ends: Oops: two (its last lines are in the restart messages"),
        "{fatal}"
    );
    // Each input is blamed once: never more errors than tasks run.
    assert!(
        summary["errors"].as_u64().unwrap() <= summary["completed"].as_u64().unwrap(),
        "{summary}"
    );
}

/// Issue 22: a worker that floods its stdout (answers it was never asked for, lines that are
/// no answer, a line with no end) is replaced each time, and fatal once its replacements break
/// the protocol as soon as they start; each input is blamed once at most.
#[test]
fn a_worker_that_floods_its_stdout_is_replaced_then_fatal() {
    let floods = [
        (
            "yes 0",
            "answered more lines than it was sent inputs (\"0\" came with no input in flight)",
        ),
        ("yes foo", "wrote 10000 lines that are no answer for one input"),
        ("yes | tr -d '\\n'", "answered a line longer than"),
        (
            "while read x; do echo 1; echo 0; done",
            "answered more lines than it was sent inputs",
        ),
    ];
    for (script, told) in floods {
        let (summary, output) = run(&[
            "-w", "2", "--halt", "never", "exec", "--worker", "--range", "0..1000", "--", "sh", "-c", script,
        ]);
        assert_eq!(output.status.code(), Some(2), "{script}: {summary}");
        let fatal = summary["fatal"].as_str().unwrap();
        assert!(
            fatal.contains("broke the answer protocol 3 times in a row"),
            "{script}: {fatal}"
        );
        assert!(fatal.contains(told), "{script}: {fatal}");
        assert!(
            summary["errors"].as_u64().unwrap() <= summary["completed"].as_u64().unwrap(),
            "{script}: {summary}"
        );
    }
}

/// Issue 22: a worker that floods its stdout at length, again and again, never keeps a
/// signal from ending the run with its summary (it was ignored for ten minutes).
#[test]
fn a_flooding_worker_never_keeps_a_signal_from_ending_the_run() {
    let scratch = Scratch::new("worker-flood-signal");
    let log = scratch.join("log.jsonl");
    // Each process floods only after its first second, so it is replaced, never fatal.
    let script = "sleep 1.1; yes foo";
    let child = spawn(&logged_sh_worker(&log, &[], "0..100", script));
    assert!(
        holds_within(PATIENCE, || !of_kind(&complete_lines(&log), "error").is_empty()),
        "no worker was ever replaced for its flood"
    );
    common::cli::signal(&child, libc::SIGTERM);
    let output = finish(child, PATIENCE);
    assert_eq!(output.status.code(), Some(128 + libc::SIGTERM), "{output:?}");
    let summary = summary_of(&output);
    assert_eq!(summary["halt_reason"], "signal", "{summary}");
    let errors = error_messages(&log);
    assert!(
        errors
            .iter()
            .all(|error| error.contains("wrote 10000 lines that are no answer")),
        "{errors:?}"
    );
}

/// Issue 23: a worker that fails to start (a syntax error) blamed each input it was fed, so
/// a resume after the fix skipped them. Now its restarts are notices, the fatal error's task
/// is not counted as run, and the resume runs every input.
#[test]
fn a_worker_that_never_starts_blames_no_input_and_a_fixed_resume_runs_them_all() {
    let scratch = Scratch::new("worker-never-starts");
    let (log, script) = (scratch.join("log.jsonl"), scratch.join("f.py"));
    std::fs::write(&script, "def f(x:\n    return 1\n").unwrap();
    let (log_arg, script_arg) = (log.to_str().unwrap(), script.to_str().unwrap());
    let (summary, output) = run(&[
        "--halt", "never", "--log", log_arg, "-w", "2", "exec", "--worker", "--range", "0..20", "--",
        "python3", script_arg,
    ]);
    assert_eq!(output.status.code(), Some(2), "{summary}");
    assert!(
        summary["fatal"].as_str().unwrap().contains("SyntaxError"),
        "{summary}"
    );
    assert_eq!(
        error_events(&log).len(),
        1,
        "only the fatal error: {:?}",
        error_events(&log)
    );
    assert!(!notice_events(&log).is_empty(), "the restarts are notices");
    std::fs::write(
        &script,
        "from poolwatch_worker import serve\ndef f(x):\n    return int(x) % 7 == 3\nserve(f)\n",
    )
    .unwrap();
    let (summary, output) = run(&["--resume", log_arg]);
    assert_eq!(output.status.code(), Some(0), "{summary}");
    assert_eq!(summary["completed"], 20, "{summary}");
    assert_eq!(summary["errors"], 0, "{summary}");
    let mut tasks: Vec<u64> = summary["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["task"].as_u64().unwrap())
        .collect();
    tasks.sort_unstable();
    assert_eq!(tasks, [3, 10, 17], "{summary}");
}

#[test]
fn no_worker_process_outlives_a_halt_now() {
    let tok = procfs::unique_marker(0);
    let scratch = Scratch::new("worker-no-orphans");
    let go = scratch.join("go");
    let go = go.to_str().unwrap();
    // Each worker also starts a grandchild in its group, which only a group kill ends. Input
    // 30 matches once the test has seen the three workers: however slowly a loaded machine
    // starts them, the run cannot end (and kill them) first.
    let script = format!(
        r#"sleep 600 & while read x; do if [ "$x" = 30 ]; then while [ ! -e '{go}' ]; do sleep 0.01; done; echo 1; else sleep 0.01; echo 0; fi; done # {tok}"#
    );
    let child = spawn(&[
        "-w",
        "3",
        "exec",
        "--worker",
        "--range",
        "0..100000",
        "--",
        "sh",
        "-c",
        &script,
    ]);
    assert!(
        holds_within(PATIENCE, || workers_with(&tok).len() >= 3),
        "the workers never started"
    );
    let groups: Vec<i32> = workers_with(&tok).iter().map(|(_, group)| *group).collect();
    std::fs::write(go, "").unwrap();
    let output = finish(child, Duration::from_secs(60));
    let summary = summary_of(&output);
    assert_eq!(summary["halt_reason"], "match", "{summary}");
    let left = || procfs::live_in_groups(&groups);
    assert!(
        holds_within(PATIENCE, || left().is_empty()),
        "outlived the run: {:?}",
        left()
    );
}

/// A run of two shell workers that answer every 50 ms, their script marked with a token of
/// their own (so that this test finds its processes among other tests'): (the token, the run).
fn two_slow_marked_workers() -> (String, Child) {
    let tok = procfs::unique_marker(0);
    let script = format!("while read x; do sleep 0.05; echo 0; done # {tok}");
    let child = spawn(&[
        "-w",
        "2",
        "exec",
        "--worker",
        "--range",
        "0..100000",
        "--",
        "sh",
        "-c",
        &script,
    ]);
    (tok, child)
}

#[test]
fn workers_die_with_a_killed_poolwatch() {
    let (tok, mut child) = two_slow_marked_workers();
    assert!(
        holds_within(PATIENCE, || workers_with(&tok).len() >= 2),
        "the workers never started"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        holds_within(Duration::from_secs(5), || workers_with(&tok).is_empty()),
        "outlived poolwatch: {:?}",
        workers_with(&tok)
    );
}

#[test]
fn each_worker_leads_its_own_process_group() {
    let (tok, mut child) = two_slow_marked_workers();
    assert!(holds_within(PATIENCE, || workers_with(&tok).len() >= 2));
    for (pid, group) in workers_with(&tok) {
        assert_eq!(pid, group, "a worker must lead its own process group");
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn braces_in_a_worker_script_are_left_as_written() {
    let script = r#"d={}; while read x; do if [ "$d" = "{}" ] && [ "{#}" = "{#}" ]; then echo 1; else echo "e got $d"; fi; done"#;
    // --halt never: every input answers, whichever worker is quicker.
    let output = headless_json()
        .args([
            "--halt", "never", "exec", "--worker", "--range", "0..3", "--", "sh", "-c", script,
        ])
        .output()
        .unwrap();
    let summary = summary_of(&output);
    assert_eq!(summary["match_count"], 3, "{summary}");
    assert_eq!(summary["errors"], 0, "{summary}");
}

#[test]
fn worker_options_are_checked_up_front() {
    for (args, message) in [
        (
            &["exec", "--window", "8", "--range", "0..3", "--", "true"][..],
            "--window needs --worker",
        ),
        (
            &[
                "exec",
                "--worker",
                "--unquoted-replacements",
                "--range",
                "0..3",
                "--",
                "cat",
            ][..],
            "--unquoted-replacements does not apply to --worker",
        ),
        (
            &[
                "exec", "--worker", "--goal", "up", "--range", "0..3", "--", "true",
            ][..],
            "--goal must be max or min",
        ),
        (
            &[
                "exec", "--worker", "--window", "0", "--range", "0..3", "--", "true",
            ][..],
            "--window must be between",
        ),
    ] {
        let output = headless_json().args(args).output().unwrap();
        assert_refused(&output, message, &format!("{args:?}"));
    }
}

#[test]
fn the_workers_table_shows_each_worker_process_pid_state_and_answers() {
    use poolwatch::internals::{ExecSpec, WorkerSearch};
    use poolwatch::{Run, RunConfig};
    let spec = ExecSpec {
        command: ["sh", "-c", "while read x; do sleep 0.002; echo 0; done"]
            .iter()
            .map(ToString::to_string)
            .collect(),
        range: Some("0..1000000".into()),
        input: None,
        total: None,
        match_stdout: None,
        timeout_s: None,
        grace_s: 2.0,
        worker: true,
        ..ExecSpec::default()
    };
    let search = std::sync::Arc::new(WorkerSearch::new(&spec).unwrap());
    let run = Run::start(search, &RunConfig::default().with_workers(2));
    let answered = |detail: &str| -> u64 {
        let field = detail
            .split_whitespace()
            .find_map(|word| word.strip_prefix("answered="));
        field.and_then(|count| count.parse().ok()).unwrap_or(0)
    };
    let seen = holds_within(Duration::from_secs(30), || {
        run.snapshot()
            .workers
            .iter()
            .filter_map(|row| row.detail.clone())
            .any(|detail| detail.starts_with("pid=") && detail.contains(" busy ") && answered(&detail) > 0)
    });
    let details: Vec<Option<String>> = run
        .snapshot()
        .workers
        .iter()
        .map(|row| row.detail.clone())
        .collect();
    run.halt_now();
    let report = run.wait();
    assert!(seen, "{details:?}");
    assert_eq!(
        report.counters.completed + report.counters.cancelled,
        report.counters.submitted
    );
}

/// A Python worker that copies each input line to a file of its own (`PREFIX.PID`) before it
/// answers 0 (a miss): every answered input is on file.
const RECORDING_WORKER: &str = "import os, sys
out = open(sys.argv[1] + '.' + str(os.getpid()), 'w')
for line in sys.stdin:
    out.write(line)
    out.flush()
    sys.stdout.write('0\\n')
    sys.stdout.flush()";

/// Line `id` of a generated input: its number, padded to 99 bytes.
fn numbered_line(id: u64) -> String {
    format!("{id:07} {}", "x".repeat(91))
}

/// Writes `lines` lines made by `line` to file `name` in `scratch`; its path and size in bytes.
fn write_input(
    scratch: &Scratch,
    name: &str,
    lines: u64,
    line: fn(u64) -> String,
) -> (std::path::PathBuf, u64) {
    let input = scratch.join(name);
    let text: String = (0..lines).map(|id| line(id) + "\n").collect();
    std::fs::write(&input, &text).unwrap();
    (input, text.len() as u64)
}

/// A never-halting run logged to `log`: one `sh -c SCRIPT` worker over the inputs `range`,
/// The arguments of `exec --worker` over `range` with four Python workers running `script`,
/// under `--halt halt`, logged to `log`.
fn logged_python_workers<'a>(log: &'a Path, halt: &'a str, range: &'a str, script: &'a str) -> Vec<&'a str> {
    let log = log.to_str().unwrap();
    vec![
        "--halt", halt, "--log", log, "-w", "4", "exec", "--worker", "--range", range, "--", "python3", "-c",
        script,
    ]
}

/// with the exec options `extra`.
fn logged_sh_worker<'a>(log: &'a Path, extra: &[&'a str], range: &'a str, script: &'a str) -> Vec<&'a str> {
    let log = log.to_str().unwrap();
    let mut args = vec!["--halt", "never", "--log", log, "-w", "1", "exec", "--worker"];
    args.extend_from_slice(extra);
    args.extend(["--range", range, "--", "sh", "-c", script]);
    args
}

/// The arguments of `exec --worker` over the lines of `input` with two Python workers running `script`.
fn python_workers<'a>(input: &'a std::path::Path, script: &'a str) -> Vec<&'a str> {
    let input = input.to_str().unwrap();
    vec![
        "-w", "2", "exec", "--worker", "--input", input, "--", "python3", "-c", script,
    ]
}

/// [`python_workers`] running [`RECORDING_WORKER`]s that file under `prefix`.
fn recording_exec<'a>(input: &'a std::path::Path, prefix: &'a std::path::Path) -> Vec<&'a str> {
    let mut args = python_workers(input, RECORDING_WORKER);
    args.push(prefix.to_str().unwrap());
    args
}

/// The lines the recording workers of `prefix` were fed, sorted; their files are removed.
fn recorded_lines(prefix: &std::path::Path) -> Vec<String> {
    let dir = prefix.parent().unwrap();
    let name = prefix.file_name().unwrap().to_string_lossy().to_string();
    let mut lines = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let file_name = entry.file_name().to_string_lossy().to_string();
        if file_name.starts_with(&format!("{name}.")) {
            let text = std::fs::read_to_string(entry.path()).unwrap();
            lines.extend(text.lines().map(str::to_string));
            std::fs::remove_file(entry.path()).unwrap();
        }
    }
    lines.sort();
    lines
}

#[test]
fn a_shard_of_a_large_input_runs_its_own_lines_once_and_keeps_no_other_shards_lines() {
    let (lines, chunk) = (600_000_u64, poolwatch::MAX_SHARD_CHUNK);
    let scratch = Scratch::new("worker-shard");
    let (input, input_bytes) = write_input(&scratch, "shard-input.txt", lines, numbered_line);
    let prefix = scratch.join("shard-record");
    let (summary, output) = run(&[&["--shard", "2/4"], &recording_exec(&input, &prefix)[..]].concat());
    std::fs::remove_file(&input).unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(summary["halt_reason"], "exhausted", "{summary} {stderr}");
    // Default chunks of MAX_SHARD_CHUNK ids: shard 2 of 4 starts at chunk 2, and the input
    // ends inside it.
    let expected: Vec<String> = (2 * chunk..lines).map(numbered_line).collect();
    assert_eq!(
        summary["completed"].as_u64(),
        Some(lines - 2 * chunk),
        "{summary}"
    );
    let recorded = recorded_lines(&prefix);
    assert!(
        recorded == expected,
        "{} lines recorded, {} expected",
        recorded.len(),
        expected.len()
    );
    // The 524,288 lines of shards 0 and 1 are read first (100 bytes each, 52 MB): none is kept.
    let input_kib = input_bytes / 1024;
    let peak = summary["peak_rss_kb"].as_u64().unwrap();
    assert!(peak > 0, "{summary}");
    assert!(
        peak < input_kib / 2,
        "peak memory {peak} KiB for an input of {input_kib} KiB"
    );
}

/// Line `id` of an input of long lines: its number, padded to 1,499 bytes.
fn long_line(id: u64) -> String {
    format!("{id:07} {}", "y".repeat(1491))
}

/// The `done` ranges of the last `progress` event in `log`.
fn logged_done(log: &std::path::Path) -> Vec<(u64, u64)> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let progress = text
        .lines()
        .rev()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .find(|event| event["event"] == "progress");
    let ranges = progress.map(|event| event["done"].clone()).unwrap_or_default();
    ranges
        .as_array()
        .map(|ranges| {
            ranges
                .iter()
                .map(|range| (range[0].as_u64().unwrap(), range[1].as_u64().unwrap()))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_resumed_run_over_lines_runs_each_line_not_done_once_and_keeps_no_done_line() {
    let lines = 60_000_u64;
    let scratch = Scratch::new("worker-resume-lines");
    let (input, _) = write_input(&scratch, "resume-input.txt", lines, long_line);
    let (log, prefix) = (scratch.join("resume.jsonl"), scratch.join("resume-record"));
    let logged = ["--log", log.to_str().unwrap(), "--status-every", "0.1"];
    let mut first = spawn(&[&logged[..], &recording_exec(&input, &prefix)].concat());
    let done_count = |done: &[(u64, u64)]| done.iter().map(|(start, end)| end - start).sum::<u64>();
    let done_enough = |done: &[(u64, u64)]| done_count(done) >= 45_000;
    let stopped = holds_within(Duration::from_secs(60), || {
        done_enough(&logged_done(&log)) || first.try_wait().unwrap().is_some()
    });
    first.kill().unwrap();
    first.wait().unwrap();
    let done = logged_done(&log);
    assert!(
        stopped && done_enough(&done),
        "the first run was not caught in time: {done:?}"
    );
    drop(recorded_lines(&prefix));
    let (summary, output) = run(&["--resume", log.to_str().unwrap()]);
    std::fs::remove_file(&input).unwrap();
    std::fs::remove_file(&log).unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(summary["halt_reason"], "exhausted", "{summary} {stderr}");
    let is_done = |id: &u64| done.iter().any(|(start, end)| (start..end).contains(&id));
    let expected: Vec<String> = (0..lines).filter(|id| !is_done(id)).map(long_line).collect();
    let recorded = recorded_lines(&prefix);
    assert!(
        recorded == expected,
        "{} lines recorded, {} expected (done before: {done:?})",
        recorded.len(),
        expected.len()
    );
    // 45,000 or more lines done before (1,500 bytes each, 67 MB) are read again: none is kept.
    let done_kib = done_count(&done) * 1500 / 1024;
    let peak = summary["peak_rss_kb"].as_u64().unwrap();
    assert!(
        peak > 0 && peak < done_kib * 2 / 3,
        "peak memory {peak} KiB with {done_kib} KiB of lines done before"
    );
}
