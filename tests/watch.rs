//! `poolwatch watch` on logs written by real headless runs, the control signals headless runs take, and `--cluster` without Slurm.
#![allow(
    clippy::unwrap_used,
    reason = "a failed unwrap here is a failed test, with its message"
)]

use common::cli::{assert_refused, poolwatch, signal, summary_of};
use common::scratch::Scratch;
use common::{PATIENCE, holds_within};
use serde_json::Value;
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

mod common;

fn headless_run(log: &Path, search: &[&str]) -> Child {
    poolwatch()
        .args([
            "--headless",
            "--json",
            "-w",
            "2",
            "--status-every",
            "0.1",
            "--log",
        ])
        .arg(log)
        .args(search)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn watch(paths: &[&Path]) -> Child {
    poolwatch()
        .args(["watch", "--headless", "--json"])
        .args(paths)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

const SAME: [&str; 10] = [
    "search",
    "params",
    "halt_policy",
    "total",
    "completed",
    "submitted",
    "match_count",
    "errors",
    "halt_reason",
    "exit_code",
];

#[test]
fn watch_follows_a_live_run_from_before_its_log_exists_to_its_end() {
    let scratch = Scratch::new("watch-live");
    let log = scratch.join("live.jsonl");
    let watcher = watch(&[&log]);
    std::thread::sleep(Duration::from_millis(300)); // the watcher is polling a file that is not there yet
    let run = headless_run(
        &log,
        &["needle", "--tasks", "3000", "--needle", "2500", "--sleep-ms", "1"],
    );
    let run = summary_of(&run.wait_with_output().unwrap());
    let watched = watcher.wait_with_output().unwrap();
    assert_eq!(watched.status.code(), Some(0));
    let watched = summary_of(&watched);
    for field in SAME {
        assert_eq!(watched[field], run[field], "{field}: {watched}\nrun: {run}");
    }
    assert_eq!(watched["matches"], run["matches"]);
    let shards = watched["shards"].as_array().unwrap();
    assert_eq!(shards.len(), 1);
    assert_eq!(shards[0]["state"], "ended: match");
    assert_eq!(shards[0]["completed"], run["completed"]);
}

#[test]
fn watch_reports_on_finished_logs_of_two_runs_as_one_search() {
    let scratch = Scratch::new("watch-two-runs");
    let (first, second) = (scratch.join("first.jsonl"), scratch.join("second.jsonl"));
    let a = headless_run(&first, &["collatz", "--below", "20000"]);
    let b = headless_run(&second, &["collatz", "--below", "30000"]);
    let a = summary_of(&a.wait_with_output().unwrap());
    let b = summary_of(&b.wait_with_output().unwrap());
    let output = watch(&[&first, &second]).wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let watched = summary_of(&output);
    let sum = |field: &str| a[field].as_u64().unwrap() + b[field].as_u64().unwrap();
    assert_eq!(watched["total"].as_u64().unwrap(), sum("total"));
    assert_eq!(watched["completed"].as_u64().unwrap(), sum("completed"));
    assert_eq!(watched["halt_reason"], "exhausted");
    // The longest chain below 30000 beats the one below 20000: the best is the second run's.
    assert_eq!(watched["best"], b["best"], "{watched}");
    assert_eq!(watched["shards"].as_array().unwrap().len(), 2);
}

#[test]
fn a_corrupt_log_is_one_line_and_exit_2() {
    let scratch = Scratch::new("watch-corrupt");
    let log = scratch.join("corrupt.jsonl");
    std::fs::write(&log, "{\"event\":\"nonsense\"}\n{}\n").unwrap();
    let output = poolwatch()
        .args(["watch", "--headless"])
        .arg(&log)
        .output()
        .unwrap();
    assert_refused(&output, "not a poolwatch event", "a corrupt log");
}

#[test]
fn cluster_slurm_without_slurm_on_path_is_one_line_and_exit_2() {
    let output = poolwatch()
        .args(["--cluster", "slurm", "--shards", "2", "--headless", "needle"])
        .env("PATH", "/nonexistent")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        stderr.trim(),
        "poolwatch: --cluster slurm: `sbatch` not found on PATH"
    );
}

/// Waits until the log holds a line of `kind`.
fn wait_for_event(log: &Path, kind: &str) {
    let wanted = format!("\"event\":\"{kind}\"");
    common::wait_until(&format!("a {kind} event in {}", log.display()), || {
        std::fs::read_to_string(log).is_ok_and(|text| text.contains(&wanted))
    });
}

#[test]
fn a_headless_run_pauses_resumes_and_finishes_on_the_signals_the_cluster_sends() {
    let scratch = Scratch::new("watch-signals");
    let log = scratch.join("signals.jsonl");
    let run = headless_run(
        &log,
        &[
            "needle",
            "--tasks",
            "1000000",
            "--needle",
            "999999",
            "--sleep-ms",
            "1",
        ],
    );
    wait_for_event(&log, "progress");
    signal(&run, libc::SIGUSR2);
    wait_for_event(&log, "pause");
    signal(&run, libc::SIGCONT);
    wait_for_event(&log, "resume");
    signal(&run, libc::SIGUSR1);
    let output = run.wait_with_output().unwrap();
    let summary = summary_of(&output);
    // f on one machine: stopped by the user, running tasks completed, exit 1 (no match).
    assert_eq!(summary["halt_reason"], "user", "{summary}");
    assert_eq!(output.status.code(), Some(1));
    let text = std::fs::read_to_string(&log).unwrap();
    let request = text
        .lines()
        .find(|line| line.contains("\"event\":\"halt-request\""))
        .unwrap_or_default();
    assert!(request.contains("\"mode\":\"soon\""), "{text}");
}

/// A log line as a run writes it.
fn line(ts: f64, event: &str, fields: &str) -> String {
    format!("{{\"event\":\"{event}\",\"t\":0.0,\"ts\":{ts}{fields}}}\n")
}

fn shard_log(path: &Path, index: u64, ts: f64) {
    let start = format!(
        ",\"format\":1,\"search\":\"needle\",\"params\":\"tasks=1000\",\"spec\":null,\"workers\":1,\"halt\":\"now\",\"space\":1000,\"window\":null,\"shard\":{{\"index\":{index},\"count\":2,\"chunk\":10}},\"host\":\"node{index}\",\"pid\":0,\"resumed\":null"
    );
    let progress = ",\"state\":\"running\",\"total\":500,\"submitted\":50,\"completed\":40,\"cancelled\":0,\"matches\":0,\"errors\":0,\"rate\":40.0,\"best\":null,\"elapsed_s\":1.0,\"active_s\":1.0,\"workers\":1,\"done\":[[0,40]]";
    std::fs::write(
        path,
        line(ts - 1.0, "start", &start) + &line(ts, "progress", progress),
    )
    .unwrap();
}

/// A `TestBackend` that publishes the text of each frame it shows, so that another thread
/// can press a key once the screen shows what it waits for.
struct Published {
    inner: ratatui::backend::TestBackend,
    screen: Arc<Mutex<String>>,
}

impl ratatui::backend::Backend for Published {
    type Error = <ratatui::backend::TestBackend as ratatui::backend::Backend>::Error;
    fn draw<'a, I>(&mut self, content: I) -> Result<(), Self::Error>
    where
        I: Iterator<Item = (u16, u16, &'a ratatui::buffer::Cell)>,
    {
        self.inner.draw(content)
    }
    fn hide_cursor(&mut self) -> Result<(), Self::Error> {
        self.inner.hide_cursor()
    }
    fn show_cursor(&mut self) -> Result<(), Self::Error> {
        self.inner.show_cursor()
    }
    fn get_cursor_position(&mut self) -> Result<ratatui::layout::Position, Self::Error> {
        self.inner.get_cursor_position()
    }
    fn set_cursor_position<P: Into<ratatui::layout::Position>>(
        &mut self,
        position: P,
    ) -> Result<(), Self::Error> {
        self.inner.set_cursor_position(position)
    }
    fn clear(&mut self) -> Result<(), Self::Error> {
        self.inner.clear()
    }
    fn clear_region(&mut self, clear_type: ratatui::backend::ClearType) -> Result<(), Self::Error> {
        self.inner.clear_region(clear_type)
    }
    fn size(&self) -> Result<ratatui::layout::Size, Self::Error> {
        self.inner.size()
    }
    fn window_size(&mut self) -> Result<ratatui::backend::WindowSize, Self::Error> {
        self.inner.window_size()
    }
    fn flush(&mut self) -> Result<(), Self::Error> {
        self.inner.flush()?;
        let buffer = self.inner.buffer();
        let width = usize::from(buffer.area.width);
        *self.screen.lock().unwrap() = buffer
            .content()
            .chunks(width)
            .map(|row| row.iter().map(ratatui::buffer::Cell::symbol).collect::<String>() + "\n")
            .collect();
        Ok(())
    }
}

impl poolwatch::internals::FrameSync for Published {}

#[test]
fn the_watch_dashboard_shows_a_shards_table_and_flags_a_silent_shard() {
    use common::frames::key_input;
    use crossterm::event::KeyCode;
    use poolwatch::internals::{LocalSteer, Watcher, watch_loop};
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let scratch = Scratch::new("watch-silent-shard");
    let (quiet, live) = (scratch.join("quiet.jsonl"), scratch.join("live-shard.jsonl"));
    shard_log(&quiet, 0, now - 30.0);
    shard_log(&live, 1, now);
    let mut watcher = Watcher::new(&[quiet, live], Box::new(LocalSteer), None);
    let (key_tx, key_rx) = crossbeam_channel::unbounded();
    let (_signal_tx, signal_rx) = crossbeam_channel::unbounded::<i32>();
    let published = Arc::new(Mutex::new(String::new()));
    let shown = Arc::clone(&published);
    std::thread::spawn(move || {
        // `q` once a frame shows both shards read (the loop reads the logs on its ticks, which
        // a loaded machine delays); the frame the loop ends on shows them too. On a timeout
        // the assertions below show the screen.
        let _drawn = holds_within(PATIENCE, || {
            let screen = shown.lock().unwrap();
            screen.contains("shards: 2 of 2 live, 1 silent") && screen.contains("80 / 1,000")
        });
        key_tx.send(key_input(KeyCode::Char('q'))).unwrap();
    });
    let backend = Published {
        inner: TestBackend::new(120, 40),
        screen: Arc::clone(&published),
    };
    let mut terminal = Terminal::new(backend).unwrap();
    let (summary, _) = watch_loop(&mut terminal, &mut watcher, &key_rx, &signal_rx, "test", false).unwrap();
    let screen = published.lock().unwrap().clone();
    assert!(screen.contains("shards: 2 of 2 live, 1 silent"), "{screen}");
    let silent_row = screen.lines().find(|l| l.contains("node0")).unwrap();
    assert!(silent_row.contains("SILENT"), "{screen}");
    assert!(
        !screen
            .lines()
            .find(|l| l.contains("node1"))
            .unwrap()
            .contains("SILENT"),
        "{screen}"
    );
    assert!(
        screen.contains("80 / 1,000"),
        "completed of the whole space: {screen}"
    );
    assert_eq!(summary.summary.counters.completed, 80);
}

#[test]
fn two_local_shards_watched_together_add_up_to_one_run() {
    let scratch = Scratch::new("watch-two-shards");
    let (first, second, whole) = (
        scratch.join("shard0.jsonl"),
        scratch.join("shard1.jsonl"),
        scratch.join("whole.jsonl"),
    );
    let shard = |log: &Path, which: &str| {
        poolwatch()
            .args([
                "--headless",
                "--json",
                "-w",
                "1",
                "--halt",
                "never",
                "--shard",
                which,
                "--log",
            ])
            .arg(log)
            .args(["collatz", "--below", "50000"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (shard(&first, "0/2"), shard(&second, "1/2"));
    let one = headless_run(&whole, &["--halt", "never", "collatz", "--below", "50000"]);
    let (a, b, one) = (
        summary_of(&a.wait_with_output().unwrap()),
        summary_of(&b.wait_with_output().unwrap()),
        summary_of(&one.wait_with_output().unwrap()),
    );
    let completed = |summary: &Value| summary["completed"].as_u64().unwrap();
    for summary in [&a, &b] {
        assert!(
            completed(summary) < completed(&one),
            "a shard covers part: {summary}"
        );
    }
    assert_eq!(
        completed(&a) + completed(&b),
        completed(&one),
        "the two shards' own summaries add up to the whole run: {a}\n{b}"
    );
    let watched = summary_of(&watch(&[&first, &second]).wait_with_output().unwrap());
    for field in ["total", "completed", "best", "halt_reason", "exit_code"] {
        assert_eq!(watched[field], one[field], "{field}: {watched}\none run: {one}");
    }
}

/// Issue 25: `watch --help` lists watch's own options, and the options of a run are refused.
#[test]
fn watch_shows_and_takes_only_its_own_options() {
    let output = poolwatch().args(["watch", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{help}");
    for own in ["--headless", "--json", "<PATH>"] {
        assert!(help.contains(own), "{own} missing: {help}");
    }
    for foreign in [
        "--workers",
        "--halt",
        "--skip",
        "--seed",
        "--cluster",
        "--fps",
        "--log <FILE>",
    ] {
        assert!(!help.contains(foreign), "{foreign} shown: {help}");
    }
    let scratch = Scratch::new("watch-run-options");
    let log = scratch.join("a.jsonl");
    for args in [
        &["-w", "4"][..],
        &["--halt", "never"],
        &["--seed", "3"],
        &["--skip", "9"],
    ] {
        let output = poolwatch()
            .args(["watch", "--headless"])
            .args(args)
            .arg(&log)
            .output()
            .unwrap();
        assert_refused(
            &output,
            "watch follows logs and runs nothing",
            &format!("{args:?}"),
        );
    }
    // Before the command too: a global option is one option wherever it is typed.
    let output = poolwatch()
        .args(["-w", "4", "watch", "--headless"])
        .arg(&log)
        .output()
        .unwrap();
    assert_refused(&output, "--workers is for a run", "-w before watch");
}

/// Issue 25: the shards under the summary count as people read, in the right number.
#[test]
fn the_watch_summary_counts_in_words() {
    let scratch = Scratch::new("watch-summary-words");
    let log = scratch.join("one.jsonl");
    let mut run = headless_run(
        &log,
        &["needle", "--tasks", "3000", "--needle", "2900", "--sleep-ms", "0"],
    );
    assert!(run.wait().unwrap().success());
    let output = poolwatch()
        .args(["watch", "--headless"])
        .arg(&log)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("  1 shard:\n"), "{text}");
    assert!(
        text.contains(" of 3,000 completed, 1 match, 0 errors, exit 0"),
        "{text}"
    );
}

/// Runs the watch dashboard on `paths` in a `width` x `height` test terminal, pressing
/// `keys` in turn, each once the screen shows its text (`None`: no wait); returns each
/// screen seen when a key was pressed.
fn watch_screens(
    paths: &[std::path::PathBuf],
    size: (u16, u16),
    keys: &[(char, &'static str)],
) -> Vec<String> {
    use common::frames::key_input;
    use crossterm::event::KeyCode;
    use poolwatch::internals::{LocalSteer, Watcher, watch_loop};
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    let mut watcher = Watcher::new(paths, Box::new(LocalSteer), None);
    let (key_tx, key_rx) = crossbeam_channel::unbounded();
    let (_signal_tx, signal_rx) = crossbeam_channel::unbounded::<i32>();
    let published = Arc::new(Mutex::new(String::new()));
    let shown = Arc::clone(&published);
    let keys = keys.to_vec();
    let presser = std::thread::spawn(move || {
        let mut screens = Vec::new();
        for (key, wanted) in keys {
            let _seen = holds_within(PATIENCE, || shown.lock().unwrap().contains(wanted));
            screens.push(shown.lock().unwrap().clone());
            key_tx.send(key_input(KeyCode::Char(key))).unwrap();
        }
        screens
    });
    let backend = Published {
        inner: TestBackend::new(size.0, size.1),
        screen: Arc::clone(&published),
    };
    let mut terminal = Terminal::new(backend).unwrap();
    watch_loop(&mut terminal, &mut watcher, &key_rx, &signal_rx, "test", false).unwrap();
    presser.join().unwrap()
}

/// Issue 25: before any log exists, watch says which files it waits for (not a running run
/// of 0 / 0), at 80x24 and 120x40.
#[test]
fn watch_waits_for_its_logs_by_name() {
    let paths = [
        std::path::PathBuf::from("no-such-dir/shard-0.jsonl"),
        std::path::PathBuf::from("no-such-dir/shard-1.jsonl"),
    ];
    for (width, height) in [(80, 24), (120, 40)] {
        let screens = watch_screens(
            &paths,
            (width, height),
            &[('+', "Waiting for"), ('q', "Waiting for")],
        );
        let screen = &screens[1];
        assert!(
            screen.contains("no-such-dir/shard-1.jsonl: not there yet"),
            "{screen}"
        );
        assert!(
            !screen.contains("Running") && !screen.contains("0 / 0"),
            "{screen}"
        );
        insta::assert_snapshot!(format!("watch_waiting_{width}x{height}"), screen);
    }
}

/// Issue 25: once a run shows, the footer and `?` offer only the keys that act under watch.
#[test]
fn watch_offers_only_the_keys_that_act() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let scratch = Scratch::new("watch-keys");
    let (a, b) = (scratch.join("a.jsonl"), scratch.join("b.jsonl"));
    shard_log(&a, 0, now);
    shard_log(&b, 1, now);
    let screens = watch_screens(
        &[a, b],
        (120, 40),
        &[('+', "80 / 1,000"), ('?', "80 / 1,000"), ('q', "hotkeys")],
    );
    let (dashboard, help) = (&screens[1], &screens[2]);
    assert!(
        dashboard.contains("p pause") && dashboard.contains("t terminate"),
        "{dashboard}"
    );
    for inert in ["+/-", "Enter", "l launcher", "r runs", "set per shard"] {
        assert!(!dashboard.contains(inert), "{inert}: {dashboard}");
    }
    assert!(help.contains("pause / resume submission"), "{help}");
    for inert in [
        "add / remove a worker",
        "launch the selected run",
        "runs history",
        "launcher:",
    ] {
        assert!(!help.contains(inert), "{inert}: {help}");
    }
}

/// A headless `watch` of `log`, which does not exist: the child, the rest of its stderr, and
/// its first stderr line (the waiting line).
fn waiting_watch(log: &Path) -> (Child, std::io::BufReader<std::process::ChildStderr>, String) {
    let mut child = poolwatch()
        .args(["watch", "--headless"])
        .arg(log)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    std::io::BufRead::read_line(&mut stderr, &mut first).unwrap();
    (child, stderr, first)
}

#[test]
fn a_headless_watch_of_missing_files_says_what_it_waits_for_and_stops_on_ctrl_c() {
    let scratch = Scratch::new("watch-waiting");
    let missing = scratch.join("not-yet.jsonl");
    let (child, mut stderr, first) = waiting_watch(&missing);
    assert!(first.contains("waiting for"), "{first:?}");
    assert!(first.contains("not-yet.jsonl (not there yet)"), "{first:?}");
    signal(&child, libc::SIGINT);
    let output = common::cli::finish(child, PATIENCE);
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    assert_eq!(output.status.code(), Some(1), "{rest}");
    assert!(rest.contains("no run started in"), "{rest}");
    assert!(output.stdout.is_empty(), "no summary of nothing");
}

/// Issue 22: a log at a path that is no UTF-8 (`caf\xe9`, a Latin-1 name) is followed to its
/// end like any other, and shown with the byte escaped while it is waited for.
#[test]
fn watch_follows_a_log_whose_path_is_not_utf8() {
    use std::os::unix::ffi::OsStrExt;
    let scratch = Scratch::new("watch-latin1");
    let log = scratch.join(std::ffi::OsStr::from_bytes(b"caf\xe9.jsonl"));
    let run = headless_run(&log, &["collatz", "--below", "20000"]);
    let ran = summary_of(&run.wait_with_output().unwrap());
    let output = common::cli::finish(watch(&[&log]), PATIENCE);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(summary_of(&output)["completed"], ran["completed"]);
    std::fs::remove_file(&log).unwrap();
    let (child, _stderr, first) = waiting_watch(&log);
    assert!(first.contains(r"waiting for "), "{first:?}");
    assert!(first.contains(r"caf\xe9.jsonl (not there yet)"), "{first:?}");
    signal(&child, libc::SIGINT);
    let output = common::cli::finish(child, PATIENCE);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
}

/// Issue 23: the shards of a `--halt lowest` search share their matches through `--bounds`:
/// a match in one bounds the other, which runs only its ids below it and ends `bounded`, and
/// `watch` reports the lowest match of the search.
#[test]
fn the_shards_of_a_lowest_search_bound_each_other() {
    let scratch = Scratch::new("watch-lowest-shards");
    let bounds = scratch.join("bounds");
    let logs = [scratch.join("shard0.jsonl"), scratch.join("shard1.jsonl")];
    // 20,000 ids of 1 ms in chunks of 156 (ids 156..312 are shard 1's): the needle at 300 is
    // shard 1's, and shard 0 holds 10,000 ids, 156 of them below it (0..156).
    let shard = |index: usize| {
        poolwatch()
            .args(["--headless", "--json", "-w", "2", "--halt", "lowest", "--bounds"])
            .arg(&bounds)
            .args(["--shard", &format!("{index}/2"), "--log"])
            .arg(&logs[index])
            .args(["needle", "--tasks", "20000", "--needle", "300", "--sleep-ms", "1"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let one = summary_of(&shard(1).wait_with_output().unwrap());
    assert_eq!(one["halt_reason"], "match", "{one}");
    assert_eq!(
        std::fs::read_to_string(bounds.join("shard-1-of-2.bound")).unwrap(),
        "300\n"
    );
    // Shard 0 starts once shard 1's match is shared: bounded from its first look.
    let zero = summary_of(&shard(0).wait_with_output().unwrap());
    assert_eq!(zero["halt_reason"], "bounded", "{zero}");
    assert_eq!(zero["exit_code"], 1, "no match of its own: {zero}");
    assert!(
        zero["completed"].as_u64().unwrap() < 5_000,
        "ran far above the bound: {zero}"
    );
    let events = common::logs::read_jsonl(&logs[0]);
    let done = common::logs::of_kind(&events, "progress")
        .last()
        .map(|progress| progress["done"].clone())
        .unwrap();
    let below: Vec<(u64, u64)> = serde_json::from_value(done).unwrap();
    assert!(
        below.iter().any(|&(start, end)| start == 0 && end >= 156),
        "every id of shard 0 below the match ran: {below:?}"
    );
    let watched = summary_of(&watch(&[&logs[0], &logs[1]]).wait_with_output().unwrap());
    assert_eq!(watched["halt_reason"], "match", "{watched}");
    assert_eq!(watched["matches"][0]["task"], 300, "{watched}");
    assert_eq!(watched["exit_code"], 0, "{watched}");
}

/// `--bounds` without `--halt lowest` has nothing to share, and a folder that cannot be made
/// cannot share: each is one line and exit 2 before the run.
#[test]
fn bounds_without_halt_lowest_is_refused() {
    let output = poolwatch()
        .args([
            "--headless",
            "--bounds",
            "b",
            "needle",
            "--tasks",
            "10",
            "--needle",
            "3",
        ])
        .output()
        .unwrap();
    let said = common::cli::assert_refused(&output, "--bounds", "--bounds without --halt lowest");
    assert!(said.contains("add --halt lowest"), "{said}");
    // A folder that cannot be made is one line and exit 2 before the run, not a warning after.
    let output = poolwatch()
        .args([
            "--headless",
            "--halt",
            "lowest",
            "--bounds",
            "/proc/no/such",
            "needle",
        ])
        .args(["--tasks", "10", "--needle", "3"])
        .output()
        .unwrap();
    common::cli::assert_refused(&output, "--bounds /proc/no/such", "an unusable --bounds folder");
}
