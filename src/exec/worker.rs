//! `exec --worker`: one long-lived process per pool worker, fed one input line per task on stdin, answering one line per input in order, with a window of inputs in flight.

use super::answer::{Answer, parse_answer};
use super::process::{AFTER_KILL, Group, die_with_parent, exit_fd, set_nonblocking, wait_on};
use super::{ExecError, IntRange, LazyLines, Limits, truncate};
use crate::console::os_reason;
use poolwatch_core::CancelToken;
use poolwatch_core::search::{Goal, Outcome};
use poolwatch_core::sync::lock;
use rustix::event::{PollFd, PollFlags, Timespec};
use rustix::process::Signal;
use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::io::{self, Read, Write};
use std::ops::Range;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU8, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Default largest number of inputs in flight per worker process.
pub const DEFAULT_WINDOW: usize = 4096;
/// Largest `--window` accepted.
pub const MAX_WINDOW: usize = 1 << 16;
/// Work kept in flight per worker, by the measured time per answer: the window is
/// this over the mean answer time (so slow tasks get a window of 1).
const WINDOW_TARGET_NS: f64 = 2_000_000.0;
/// Longest sleep between looks at the cancel token.
const SLICE: Duration = Duration::from_millis(5);
/// Longest answer line kept; a longer one is garbage.
const MAX_LINE: usize = 1 << 20;
/// Bytes of a worker's stderr kept for fault messages.
const STDERR_TAIL: usize = 2048;
/// Least time a worker stays quiet with inputs in flight, after a line that is no answer,
/// before that line is taken for an answer after all (see [`Window::held`]).
const STRAY_WAIT: Duration = Duration::from_secs(1);
/// Lines that are no answer, read for one input, after which the worker is taken for one
/// that floods its stdout and is replaced (see [`Fault::Chatter`]).
const CHATTER_LIMIT: u64 = 10_000;
/// Bytes of a worker's stdout read in one exchange at most: a worker that floods its stdout
/// cannot keep the driver from its look at the cancel token.
const READ_BUDGET: usize = 1 << 20;
/// A broken answer protocol this soon after a process's start counts towards [`QUICK_DEATHS`]
/// (a worker that breaks it every time, as `yes 0` does, is fatal; one that breaks it once in
/// a long while is replaced each time, with an error on the input it was on).
const QUICK_FAULT: Duration = Duration::from_secs(1);
/// Texts of lines that are no answer kept for messages, per oldest input.
const HELD_TEXTS: usize = 64;
/// What a line that is no answer is told against, in messages.
const EXPECTED: &str = "expected 0, 1 [VALUE], s SCORE, e MESSAGE or a JSON object; \
    a worker's stdout is for answers only, one line per input: write other output to stderr";
/// Restarts in a row without a single answer after which the command is fatal.
const QUICK_DEATHS: u32 = 3;
/// The Python helper, written where worker processes can import it.
const PYTHON_HELPER: &str = include_str!("../../assets/python/poolwatch_worker.py");

/// What a worker process is doing, for the workers table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum ProcState {
    Starting = 0,
    Busy = 1,
    Restarting = 2,
    Stopping = 3,
}

/// Live facts about one worker process, shared with the dashboard.
#[derive(Debug, Default)]
pub struct ProcStatus {
    pid: AtomicU32,
    state: AtomicU8,
    answered: AtomicU64,
    restarts: AtomicU64,
    window: AtomicU64,
}

impl ProcStatus {
    /// `pid=123 busy answered=4567 window=512 restarts=1`.
    fn describe(&self) -> String {
        let state = match self.state.load(Ordering::Relaxed) {
            0 => "starting",
            1 => "busy",
            2 => "restarting",
            _ => "stopping",
        };
        let mut text = format!(
            "pid={} {state} answered={} window={}",
            self.pid.load(Ordering::Relaxed),
            self.answered.load(Ordering::Relaxed),
            self.window.load(Ordering::Relaxed),
        );
        let restarts = self.restarts.load(Ordering::Relaxed);
        if restarts > 0 {
            text.push_str(&format!(" restarts={restarts}"));
        }
        text
    }

    fn set_state(&self, state: ProcState) {
        self.state.store(state as u8, Ordering::Relaxed);
    }
}

/// Where inputs come from, as the batch driver sees them.
#[derive(Clone, Copy)]
pub(super) enum Feed<'a> {
    /// Integers computed from the task id.
    Range(&'a IntRange),
    /// Lines taken once from the lazy reader (kept while in flight).
    Lines(&'a LazyLines),
}

/// The worker processes of one `exec --worker` search.
pub struct Workers {
    command: Vec<String>,
    /// Whether scores count (`--goal`): told to worker processes in `POOLWATCH_GOAL`.
    goal: Goal,
    /// Set at the first score answered without `--goal`, which is told once as a notice.
    told_scores_ignored: std::sync::atomic::AtomicBool,
    window_max: usize,
    limits: Limits,
    /// Distinguishes this search's processes in a thread's slot.
    id: u64,
    /// The status of the process running each batch, by the batch's first task.
    running: Mutex<HashMap<u64, Arc<ProcStatus>>>,
}

thread_local! {
    /// The worker process owned by this pool thread, with the id of its search.
    /// Dropped (stdin closed, then the group killed) when the thread ends.
    static OWNED: RefCell<Option<(u64, WorkerProc)>> = const { RefCell::new(None) };
}

impl Workers {
    /// Worker processes running `command`, at most `window_max` inputs in flight each,
    /// for a search with `goal` (scores count only with one).
    pub fn new(command: Vec<String>, window_max: usize, limits: Limits, goal: Goal) -> Self {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        Self {
            command,
            goal,
            told_scores_ignored: std::sync::atomic::AtomicBool::new(false),
            window_max: window_max.clamp(1, MAX_WINDOW),
            limits,
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            running: Mutex::new(HashMap::new()),
        }
    }

    /// The workers-table line for the batch that starts at `task`.
    pub fn detail(&self, task: u64) -> Option<String> {
        lock(&self.running).get(&task).map(|status| status.describe())
    }

    /// Runs `tasks` through this thread's worker process (started on first use).
    /// Returns how many ids ran (a prefix) or the message of a fatal error.
    pub(super) fn run_batch(
        &self,
        feed: Feed<'_>,
        tasks: Range<u64>,
        cancel: &CancelToken,
        notable: &mut dyn FnMut(u64, Outcome),
    ) -> Result<u64, String> {
        let mut owned = OWNED.with(|slot| slot.borrow_mut().take());
        let mut proc = match owned.take() {
            Some((id, proc)) if id == self.id => proc,
            _ => WorkerProc::spawn(&self.command, self.goal, Arc::default())?,
        };
        lock(&self.running).insert(tasks.start, Arc::clone(&proc.status));
        let mut driver = Driver {
            workers: self,
            feed,
            window: Window::new(tasks.start),
            end: tasks.end,
            input_error: None,
        };
        let ran = driver.drive(&mut proc, cancel, notable);
        lock(&self.running).remove(&tasks.start);
        if proc.alive() {
            OWNED.with(|slot| *slot.borrow_mut() = Some((self.id, proc)));
        }
        ran.map(|next| next - tasks.start)
    }
}

/// The inputs of a batch on their way: `first..next` are in flight (sent, unanswered).
struct Window {
    first: u64,
    next: u64,
    /// While `first < retry_until`, inputs go one at a time (after a fault, to find its culprit).
    retry_until: u64,
    /// Input lines of `first..` already taken from a line source (empty for ranges).
    kept: VecDeque<Vec<u8>>,
    /// When each burst of inputs was sent: (its first task, the time).
    bursts: VecDeque<(u64, Instant)>,
    /// When the last answer arrived.
    last_answer: Option<Instant>,
    /// The input line of the latest answer (line sources only), until the driver takes it.
    answered_line: Option<Vec<u8>>,
    /// Lines that are no answer read while the oldest input in flight had none yet (their
    /// texts, at most [`HELD_TEXTS`], and their count). A worker may print before it answers:
    /// such a line is an error on that input, whose answer is still awaited (a match is
    /// never lost to it). If the worker then stays quiet for [`STRAY_WAIT`] with inputs in
    /// flight, the lines were answers after all, one per input.
    held: Vec<String>,
    held_count: u64,
    /// Lines that are no answer taken as stray output since nothing was last in flight: if
    /// the worker goes quiet with inputs in flight, one of them was perhaps an answer (and
    /// the answers since went to the input before theirs).
    unaccounted: u64,
    /// When the last line (an answer or not) was read.
    last_line: Option<Instant>,
    /// The last input given an error here: an input gets one at most.
    last_errored: Option<u64>,
}

impl Window {
    fn new(start: u64) -> Self {
        Self {
            first: start,
            next: start,
            retry_until: start,
            kept: VecDeque::new(),
            bursts: VecDeque::new(),
            last_answer: None,
            answered_line: None,
            held: Vec::new(),
            held_count: 0,
            unaccounted: 0,
            last_line: None,
            last_errored: None,
        }
    }

    fn in_flight(&self) -> u64 {
        self.next - self.first
    }

    /// Since when the worker has been on the oldest input: sent, or the answer before it.
    fn head_since(&mut self) -> Option<Instant> {
        if self.in_flight() == 0 {
            return None;
        }
        while self.bursts.len() > 1 && self.bursts[1].0 <= self.first {
            self.bursts.pop_front();
        }
        let sent = self.bursts.front().map(|(_, at)| *at)?;
        Some(self.last_answer.map_or(sent, |answer| answer.max(sent)))
    }
}

/// Why a worker process had to be replaced.
enum Fault {
    /// It exited or closed its stdout.
    Died,
    /// The oldest input in flight ran past `--timeout`.
    TimedOut,
    /// An answer line too long to be one.
    Overlong,
    /// An answer with no input in flight: more answers than inputs sent (the line's text).
    Overanswered(String),
    /// [`CHATTER_LIMIT`] lines that are no answer for one input.
    Chatter,
}

impl Fault {
    /// The worker broke the answer protocol (rather than died or ran too long).
    fn is_protocol(&self) -> bool {
        matches!(self, Self::Overlong | Self::Overanswered(_) | Self::Chatter)
    }
}

/// One batch's run through a worker process.
struct Driver<'a> {
    workers: &'a Workers,
    feed: Feed<'a>,
    window: Window,
    end: u64,
    /// Reading the input failed: the run cannot go on.
    input_error: Option<String>,
}

impl Driver<'_> {
    /// Sends inputs and reads answers until the batch is answered, cancelled or fatal.
    fn drive(
        &mut self,
        proc: &mut WorkerProc,
        cancel: &CancelToken,
        notable: &mut dyn FnMut(u64, Outcome),
    ) -> Result<u64, String> {
        proc.status.set_state(ProcState::Busy);
        loop {
            if self.window.first >= self.end {
                return Ok(self.end);
            }
            if cancel.is_cancelled() {
                proc.status.set_state(ProcState::Stopping);
                proc.kill(self.workers.limits.grace);
                return Ok(self.window.first);
            }
            self.fill(proc);
            if let Some(message) = self.input_error.take() {
                return Err(message);
            }
            let head_deadline = self.head_deadline();
            let head_since = self.window.head_since();
            let before = self.window.first;
            // The first answers of a new process include its start-up: not a task's time.
            let started = proc.answered_since_spawn > 0;
            let (lines, fault) = proc.exchange(head_deadline, &mut |line| self.answer(line, notable));
            if lines > 0 {
                self.window.last_line = Some(Instant::now());
            }
            if self.window.first > before {
                let now = self.window.last_line.unwrap_or_else(Instant::now);
                if let Some(since) = head_since.filter(|_| started) {
                    proc.measure(self.window.first - before, now.saturating_duration_since(since));
                }
                self.window.last_answer = Some(now);
                proc.quick_deaths = 0;
                proc.last_answered = Some(LastAnswer {
                    task: self.window.first - 1,
                    line: self
                        .window
                        .answered_line
                        .take()
                        .map(|line| super::input::label(&line)),
                });
            }
            if self.window.in_flight() == 0 {
                proc.idle_mark = proc.written;
                self.window.unaccounted = 0;
            } else {
                self.settle_if_quiet(proc, notable);
            }
            let fault = match fault {
                Some(fault) => Some(fault),
                None => head_deadline
                    .filter(|deadline| Instant::now() >= *deadline)
                    .map(|_| Fault::TimedOut),
            };
            if let Some(fault) = fault {
                self.recover(proc, &fault, notable)?;
            }
        }
    }

    /// Writes inputs until the window is full or the batch is all sent. Lines not taken yet
    /// are taken from the line source in one go for the whole burst.
    fn fill(&mut self, proc: &mut WorkerProc) {
        let window = &mut self.window;
        let limit = if window.first < window.retry_until {
            1
        } else {
            proc.window(self.workers.window_max)
        };
        let stop = self.end.min(window.first.saturating_add(limit));
        let burst_start = window.next;
        if stop <= burst_start {
            return;
        }
        match self.feed {
            Feed::Range(range) => {
                for task in burst_start..stop {
                    write_number(&mut proc.out, i128::from(range.start) + i128::from(task));
                    proc.out.push(b'\n');
                }
            }
            Feed::Lines(lines) => {
                let kept_until = window.first + window.kept.len() as u64;
                if kept_until < stop
                    && let Err(message) = lines.take_burst(kept_until..stop, &mut window.kept)
                {
                    self.input_error = Some(message);
                    return;
                }
                // `kept` now holds every line of `first..stop` (take_burst takes all or fails).
                let offset = |task: u64| usize::try_from(task - window.first).unwrap_or(usize::MAX);
                for text in window.kept.range(offset(burst_start)..offset(stop)) {
                    proc.out.extend_from_slice(text);
                    proc.out.push(b'\n');
                }
            }
        }
        window.next = stop;
        window.bursts.push_back((burst_start, Instant::now()));
    }

    fn head_deadline(&mut self) -> Option<Instant> {
        let timeout = self.workers.limits.timeout?;
        self.window.head_since().map(|since| since + timeout)
    }

    /// The input text of an in-flight task (of any task, for a range; empty for a line no longer kept).
    fn input_of(&self, task: u64) -> String {
        match self.feed {
            Feed::Range(range) => range.input(task),
            Feed::Lines(_) => {
                let index = task
                    .checked_sub(self.window.first)
                    .and_then(|at| usize::try_from(at).ok());
                index
                    .and_then(|index| self.window.kept.get(index))
                    .map(|line| super::input::label(line))
                    .unwrap_or_default()
            }
        }
    }

    /// One answer line for the oldest input in flight. A line that is no answer is held
    /// (see [`Window::held`]), up to [`CHATTER_LIMIT`] of them. With nothing in flight, an
    /// answer breaks the protocol (a fault: the worker is replaced), and a line that is no
    /// answer is an error on the input answered last, unless it has one already.
    fn answer(&mut self, line: &[u8], notable: &mut dyn FnMut(u64, Outcome)) -> Option<Fault> {
        let task = self.window.first;
        // `last_line` is set once per exchange that read lines (see `drive`), not per line.
        if task >= self.window.next {
            if !matches!(parse_answer(line), Answer::Garbage) {
                return Some(Fault::Overanswered(
                    truncate(&String::from_utf8_lossy(line), 80).to_string(),
                ));
            }
            let last = task
                .checked_sub(1)
                .filter(|last| self.window.last_errored != Some(*last))?;
            let text = String::from_utf8_lossy(line);
            let input = match self.feed {
                Feed::Range(range) => range.input(last),
                Feed::Lines(_) => self
                    .window
                    .answered_line
                    .as_deref()
                    .map(super::input::label)
                    .unwrap_or_default(),
            };
            self.window.last_errored = Some(last);
            notable(
                last,
                Outcome::Error(format!(
                    "{input}: the worker wrote a line after its answer to this input, with no input in flight: {:?} ({EXPECTED})",
                    truncate(&text, 80)
                )),
            );
            return None;
        }
        let answer = parse_answer(line);
        if matches!(answer, Answer::Garbage) {
            let window = &mut self.window;
            if window.held.len() < HELD_TEXTS {
                window
                    .held
                    .push(truncate(&String::from_utf8_lossy(line), 80).to_string());
            }
            window.held_count += 1;
            return (window.held_count >= CHATTER_LIMIT).then_some(Fault::Chatter);
        }
        let stray = self.take_held();
        let had_stray = stray.is_some();
        let outcome = match answer {
            Answer::Miss => Outcome::Miss,
            Answer::Score(score) => {
                if self.workers.goal == Goal::None
                    && !self.workers.told_scores_ignored.swap(true, Ordering::Relaxed)
                {
                    notable(
                        task,
                        Outcome::Notice(format!(
                            "{}: answered a score (s {score}); without --goal a score is neither a match nor a best, \
                             so it counts as a miss: pass --goal max or min to keep the best score, or answer 1 for a match \
                             (this is said once)",
                            self.input_of(task)
                        )),
                    );
                }
                Outcome::Scored(score)
            }
            Answer::Match { value, score } => {
                let input = self.input_of(task);
                let value = match value {
                    Some(value) => format!("{input}: {value}"),
                    None => input,
                };
                Outcome::Match { value, score }
            }
            Answer::Error(message) => match &stray {
                Some(stray) => {
                    Outcome::Error(format!("{}: {message}; before it, {stray}", self.input_of(task)))
                }
                None => Outcome::Error(format!("{}: {message}", self.input_of(task))),
            },
            // Held above: never read as an answer.
            Answer::Garbage => Outcome::Miss,
        };
        let errored = matches!(outcome, Outcome::Error(_));
        if !matches!(outcome, Outcome::Miss) {
            notable(task, outcome);
        }
        if let Some(stray) = stray.filter(|_| !errored) {
            notable(task, Outcome::Error(format!("{}: {stray}", self.input_of(task))));
        }
        if errored || had_stray {
            self.window.last_errored = Some(task);
        }
        self.consume();
        None
    }

    /// The lines held for the oldest input as one message (`unreadable answer line "..." before its
    /// answer (...)`), counted as taken for stray output; `None` when there are none.
    fn take_held(&mut self) -> Option<String> {
        let window = &mut self.window;
        if window.held_count == 0 {
            return None;
        }
        let first = window.held.first().cloned().unwrap_or_default();
        let more = match window.held_count {
            1 => String::new(),
            count => format!(" and {} more", count - 1),
        };
        window.unaccounted += window.held_count;
        window.held.clear();
        window.held_count = 0;
        Some(format!(
            "unreadable answer line {first:?}{more} before its answer ({EXPECTED})"
        ))
    }

    /// The oldest input in flight is answered: the window moves on.
    fn consume(&mut self) {
        self.window.first += 1;
        if let Some(line) = self.window.kept.pop_front() {
            self.window.answered_line = Some(line);
        }
    }

    /// A worker quiet for [`STRAY_WAIT`] (or ten mean answer times, if longer) with inputs in
    /// flight, after lines that are no answer: the held lines were the answers of the oldest
    /// inputs, one each; with none held, a line taken for stray output since was perhaps an
    /// answer, and the oldest input's answer will not come: it is an error.
    fn settle_if_quiet(&mut self, proc: &WorkerProc, notable: &mut dyn FnMut(u64, Outcome)) {
        let window = &self.window;
        if window.held_count == 0 && window.unaccounted == 0 {
            return;
        }
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "a positive time in ns"
        )]
        let wait = STRAY_WAIT.max(Duration::from_nanos((proc.mean_answer_ns * 10.0).min(1e15) as u64));
        let sent = window.bursts.back().map(|(_, at)| *at);
        let Some(since) = window.last_line.max(sent) else {
            return;
        };
        if since.elapsed() < wait {
            return;
        }
        if self.window.held_count > 0 {
            let held = std::mem::take(&mut self.window.held);
            let count = std::mem::take(&mut self.window.held_count);
            for index in 0..count.min(self.window.in_flight()) {
                let task = self.window.first;
                let text = held
                    .get(usize::try_from(index).unwrap_or(usize::MAX))
                    .cloned()
                    .unwrap_or_default();
                notable(
                    task,
                    Outcome::Error(format!(
                        "{}: unreadable answer line {text:?} ({EXPECTED})",
                        self.input_of(task)
                    )),
                );
                self.window.last_errored = Some(task);
                self.consume();
            }
        } else {
            let task = self.window.first;
            self.window.unaccounted -= 1;
            notable(
                task,
                Outcome::Error(format!(
                    "{}: no answer: the worker stayed quiet for {:.1} s with this input in flight, after a line that was no answer \
                     and was taken for stray output; perhaps it was an answer, and the answers since went to the input before theirs ({EXPECTED})",
                    self.input_of(task),
                    wait.as_secs_f64()
                )),
            );
            self.window.last_errored = Some(task);
            self.consume();
        }
        self.window.last_line = Some(Instant::now());
    }

    /// Replaces a faulty worker and reports it (see [`Driver::report_restart`]): the input
    /// in flight is blamed, or the inputs in flight are retried one at a time, unless the
    /// worker died while idle (nothing in flight, or none of it read): then a notice.
    fn recover(
        &mut self,
        proc: &mut WorkerProc,
        fault: &Fault,
        notable: &mut dyn FnMut(u64, Outcome),
    ) -> Result<(), String> {
        proc.status.set_state(ProcState::Restarting);
        let quick = proc.spawned.elapsed() < QUICK_FAULT;
        let old_pid = proc.pid();
        let idle = matches!(fault, Fault::Died) && proc.died_idle();
        // Died before it read a byte (a script that does not start): no input is to blame.
        let unread = matches!(fault, Fault::Died) && !idle && proc.read_nothing();
        let status = proc.kill(self.workers.limits.grace);
        let what = self.describe_fault(fault, status);
        let stderr = proc.stderr_tail();
        // Status 0 with an input in flight and no answer yet: a script that ends instead of
        // serving (a Python worker that forgot `serve(func)`), not a crash to retry.
        if !idle
            && proc.answered_since_spawn == 0
            && matches!(fault, Fault::Died)
            && status.is_some_and(|status| status.success())
        {
            return Err(format!(
                "worker '{}' exited before answering (status 0); a Python worker calls serve(func)",
                self.workers.command.join(" ")
            ));
        }
        if proc.answered_since_spawn == 0 && matches!(fault, Fault::Died) {
            proc.quick_deaths += 1;
            if proc.quick_deaths >= QUICK_DEATHS {
                // One line: the last line of its stderr; the restart errors before this
                // one carry its last lines each.
                let last_line = stderr.lines().map(str::trim).rfind(|line| !line.is_empty());
                let said = last_line.map_or_else(String::new, |line| {
                    format!(
                        "; its stderr ends: {line} (its last lines are in the restart messages, in --log)"
                    )
                });
                return Err(format!(
                    "worker '{}' exited {QUICK_DEATHS} times in a row without answering: {what}{said}",
                    self.workers.command.join(" ")
                ));
            }
        }
        if fault.is_protocol() {
            self.count_protocol_break(proc, quick, &what)?;
        }
        let last_answered = proc.last_answered.take();
        let status_arc = Arc::clone(&proc.status);
        let (quick_deaths, quick_faults) = (proc.quick_deaths, proc.quick_faults);
        *proc = WorkerProc::spawn(&self.workers.command, self.workers.goal, status_arc)?;
        proc.quick_deaths = quick_deaths;
        proc.quick_faults = quick_faults;
        proc.status.restarts.fetch_add(1, Ordering::Relaxed);
        let ended = format!("worker pid {old_pid} {what}");
        let restarted = format!("restarted as pid {}{stderr}", proc.pid());
        let died = matches!(fault, Fault::Died);
        if unread {
            // Sent again to the new process: a notice, which marks no input as run.
            let task = self.window.first;
            let input = self.input_of(task);
            let note = format!(
                "{input}: {ended} before it read this input, which goes to the new worker; {restarted}"
            );
            notable(task, Outcome::Notice(note));
        } else {
            self.report_restart(&ended, &restarted, died, idle, last_answered, notable);
        }
        self.window.next = self.window.first;
        self.window.bursts.clear();
        self.window.last_answer = None;
        self.window.held.clear();
        self.window.held_count = 0;
        self.window.unaccounted = 0;
        proc.status.set_state(ProcState::Busy);
        Ok(())
    }

    /// Counts a broken answer protocol towards [`QUICK_DEATHS`] when it came `quick`ly after
    /// the process started (else the count starts again); the message of a fatal error at the
    /// limit, where `what` says what the process did.
    fn count_protocol_break(&self, proc: &mut WorkerProc, quick: bool, what: &str) -> Result<(), String> {
        proc.quick_faults = if quick { proc.quick_faults + 1 } else { 0 };
        if proc.quick_faults < QUICK_DEATHS {
            return Ok(());
        }
        Err(format!(
            "worker '{}' broke the answer protocol {QUICK_DEATHS} times in a row, each within {} s of its start: \
             it {what}; a worker answers each input line it reads with one line, and writes all else to stderr",
            self.workers.command.join(" "),
            QUICK_FAULT.as_secs()
        ))
    }

    /// What went wrong, for messages: `exited with status 3`, `timed out after 0.5 s`...
    fn describe_fault(&self, fault: &Fault, status: Option<ExitStatus>) -> String {
        match fault {
            Fault::Died => status.map_or_else(|| "closed its output".to_string(), describe_exit),
            Fault::TimedOut => {
                let secs = self.workers.limits.timeout.unwrap_or_default().as_secs_f64();
                format!("timed out after {secs} s")
            }
            Fault::Overlong => format!("answered a line longer than {MAX_LINE} bytes"),
            Fault::Overanswered(line) => {
                format!("answered more lines than it was sent inputs ({line:?} came with no input in flight)")
            }
            Fault::Chatter => format!("wrote {CHATTER_LIMIT} lines that are no answer for one input"),
        }
    }

    /// Reports a restart. A process that `died` `idle`, or with nothing in flight: a notice
    /// on the last input it answered, and the inputs in flight (never read) go to the new
    /// process as they are (a fault of its own with nothing in flight is an error there). Otherwise on the one input in flight (which then counts as
    /// run); with several in flight, they are sent again one at a time to find the culprit.
    fn report_restart(
        &mut self,
        ended: &str,
        restarted: &str,
        died: bool,
        idle: bool,
        last_answered: Option<LastAnswer>,
        notable: &mut dyn FnMut(u64, Outcome),
    ) {
        let window = &mut self.window;
        match (idle || window.in_flight() == 0, window.in_flight()) {
            (true, _) => {
                // Set in both cases (`died_idle` requires it; nothing in flight means this batch
                // was answered): the fallback, the input before the window, is for form only.
                let (task, line) = last_answered.map_or((window.first.saturating_sub(1), None), |last| {
                    (last.task, last.line)
                });
                let input = line.unwrap_or_else(|| self.input_of(task));
                let idly = if died { " while idle" } else { "" };
                let note = format!("{input}: {ended}{idly}, after answering this input; {restarted}");
                if died || self.window.last_errored == Some(task) {
                    // That input has its outcome already: the restart is a notice on it, not
                    // a second outcome (nor an error a `fail=` policy would count).
                    notable(task, Outcome::Notice(note));
                } else {
                    // A fault of its own with nothing in flight (a line over the limit that no
                    // input asked for, an answer too many) is an error, put on the last input
                    // it answered; a notice where that input has its error already.
                    self.window.last_errored = Some(task);
                    notable(task, Outcome::Error(note));
                }
            }
            (false, 1) => {
                let task = window.first;
                let input = self.input_of(task);
                notable(task, Outcome::Error(format!("{input}: {ended}; {restarted}")));
                self.window.first += 1;
                if !self.window.kept.is_empty() {
                    self.window.kept.pop_front();
                }
            }
            (false, _) => window.retry_until = window.next,
        }
    }
}

/// Appends `value` in decimal (a hand-rolled loop: `fmt` costs more than the rest of a task).
fn write_number(out: &mut Vec<u8>, value: i128) {
    let Ok(value) = i64::try_from(value) else {
        let _infallible = write!(out, "{value}");
        return;
    };
    if value < 0 {
        out.push(b'-');
    }
    let mut rest = value.unsigned_abs();
    let mut digits = [0_u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        // `rest % 10` is below 10: the cast cannot truncate.
        digits[at] = b'0' + u8::try_from(rest % 10).unwrap_or(0);
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

/// Where a poll found news besides answers.
struct Ready {
    stderr: bool,
    exit: bool,
}

/// The input of a worker process's latest answer.
struct LastAnswer {
    task: u64,
    /// Its line, for line sources (a range's input is computed from the task).
    line: Option<String>,
}

/// One running worker process: its pipes, buffers and status.
struct WorkerProc {
    child: Child,
    /// Listed with the guard until this process is dropped (after its group is killed).
    group: Group,
    stdin: Option<File>,
    stdout: Option<File>,
    stderr: Option<File>,
    exit_fd: Option<OwnedFd>,
    /// Input bytes not yet written.
    out: Vec<u8>,
    out_at: usize,
    /// Answer bytes after the last complete line.
    partial: Vec<u8>,
    stderr_tail: VecDeque<u8>,
    /// Reused read buffer for answers.
    read_buffer: Vec<u8>,
    status: Arc<ProcStatus>,
    /// Mean nanoseconds per answer (0 until measured).
    mean_answer_ns: f64,
    answered_since_spawn: u64,
    /// Processes in a row, this one's predecessors, that died without a single answer: kept
    /// across batches (a batch may hold one input), the command is fatal at [`QUICK_DEATHS`].
    quick_deaths: u32,
    /// Processes in a row, this one's predecessors, replaced for breaking the answer protocol
    /// within [`QUICK_FAULT`] of their start: fatal at [`QUICK_DEATHS`].
    quick_faults: u32,
    /// When it was started.
    spawned: Instant,
    /// Its latest answer's input, if it answered one.
    last_answered: Option<LastAnswer>,
    /// Input bytes written to it in all.
    written: u64,
    /// `written` when it last had no input in flight.
    idle_mark: u64,
    exited: Option<ExitStatus>,
}

impl WorkerProc {
    /// Starts `command` in its own process group, killed if its parent thread dies, and
    /// listed with the guard so that its children die with poolwatch too.
    fn spawn(command: &[String], goal: Goal, status: Arc<ProcStatus>) -> Result<Self, String> {
        let (program, args) = command
            .split_first()
            .ok_or_else(|| ExecError::EmptyCommand.to_string())?;
        let mut cmd = Command::new(program);
        cmd.args(args)
            .process_group(0)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // The Python helper answers a number as a score with a goal, else by its truth.
        let goal_name = match goal {
            Goal::None => "none",
            Goal::Maximize => "max",
            Goal::Minimize => "min",
        };
        cmd.env("POOLWATCH_GOAL", goal_name);
        if let Some(dir) = python_helper_dir() {
            let mut path = dir.clone().into_os_string();
            if let Some(old) = std::env::var_os("PYTHONPATH").filter(|old| !old.is_empty()) {
                path.push(":");
                path.push(old);
            }
            cmd.env("PYTHONPATH", path);
        }
        die_with_parent(&mut cmd);
        let mut child = cmd.spawn().map_err(|err| {
            ExecError::CannotRun {
                program: program.clone(),
                reason: os_reason(&err),
            }
            .to_string()
        })?;
        let Some(group) = Group::register(&child) else {
            let _killed = child.kill();
            let _reaped = child.wait();
            return Err("the worker has no valid pid".to_string());
        };
        let pipes = (child.stdin.take(), child.stdout.take(), child.stderr.take());
        let (Some(stdin), Some(stdout), Some(stderr)) = pipes else {
            group.id().signal(Signal::KILL);
            let _reaped = child.wait();
            return Err("cannot set up the worker's pipes".to_string());
        };
        let files = [OwnedFd::from(stdin), OwnedFd::from(stdout), OwnedFd::from(stderr)];
        for fd in &files {
            let _best_effort = set_nonblocking(fd);
        }
        let [stdin, stdout, stderr] = files.map(File::from);
        status.pid.store(child.id(), Ordering::Relaxed);
        status.answered.store(0, Ordering::Relaxed);
        status.set_state(ProcState::Starting);
        let exit_fd = exit_fd(group.id().leader());
        Ok(Self {
            child,
            group,
            stdin: Some(stdin),
            stdout: Some(stdout),
            stderr: Some(stderr),
            exit_fd,
            out: Vec::new(),
            out_at: 0,
            partial: Vec::new(),
            stderr_tail: VecDeque::new(),
            read_buffer: vec![0; 64 * 1024],
            status,
            mean_answer_ns: 0.0,
            answered_since_spawn: 0,
            quick_deaths: 0,
            quick_faults: 0,
            spawned: Instant::now(),
            last_answered: None,
            written: 0,
            idle_mark: 0,
            exited: None,
        })
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn alive(&self) -> bool {
        self.exited.is_none() && self.stdout.is_some()
    }

    /// For a process that answered and then died: true when it read none of the input
    /// written since it last had nothing in flight (all of it is still in the pipe), so it
    /// died while idle, whatever was sent meanwhile. Needs stdin still open: the count of
    /// unread bytes is `FIONREAD` on the pipe's write end, which Linux answers. Where it
    /// fails this is false, and the death counts as one with its inputs in flight (one is
    /// blamed, several are sent again one at a time): never a notice where an input failed.
    fn died_idle(&self) -> bool {
        let unread = self
            .stdin
            .as_ref()
            .and_then(|stdin| rustix::io::ioctl_fionread(stdin).ok());
        self.last_answered.is_some() && unread == Some(self.written - self.idle_mark)
    }

    /// True for a process that never answered and read none of what was written to it: it
    /// died before it served (a syntax error), so no input in flight is to blame. Needs
    /// stdin open, as [`WorkerProc::died_idle`] does; where `FIONREAD` fails this is false.
    fn read_nothing(&self) -> bool {
        let unread = self
            .stdin
            .as_ref()
            .and_then(|stdin| rustix::io::ioctl_fionread(stdin).ok());
        self.answered_since_spawn == 0 && self.written > 0 && unread == Some(self.written)
    }

    /// Inputs to keep in flight: the work of [`WINDOW_TARGET_NS`] at the measured answer rate.
    fn window(&self, max: usize) -> u64 {
        let window = if self.mean_answer_ns <= 0.0 {
            1
        } else {
            #[expect(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                reason = "a positive ratio clamped below"
            )]
            let window = (WINDOW_TARGET_NS / self.mean_answer_ns).min(1e9) as usize;
            window.clamp(1, max)
        };
        let window = u64::try_from(window).unwrap_or(1);
        self.status.window.store(window, Ordering::Relaxed);
        window
    }

    /// Writes what it can, waits for news (answers, exit, room to write) until `deadline`
    /// or a slice, and passes each complete answer line to `answer` (a fault it returns ends
    /// the reading). Returns how many lines were read, and the fault if any. Stderr is read and the exit looked at only when the
    /// poll says there is news there (a failed write looks at both).
    fn exchange(
        &mut self,
        deadline: Option<Instant>,
        answer: &mut dyn FnMut(&[u8]) -> Option<Fault>,
    ) -> (u64, Option<Fault>) {
        let write_fault = self.write_some();
        let ready = if write_fault.is_none() {
            let mut wait = SLICE;
            if let Some(deadline) = deadline {
                wait = wait.min(deadline.saturating_duration_since(Instant::now()));
            }
            self.poll(wait)
        } else {
            Ready {
                stderr: true,
                exit: true,
            }
        };
        if ready.stderr {
            self.drain_stderr();
        }
        // Read even when the write failed: answers the worker gave before it died are in the
        // pipe, and each counts (dropped, their inputs would run again).
        let (lines, fault) = self.read_answers(answer);
        if let Some(fault) = fault.or(write_fault) {
            return (lines, Some(fault));
        }
        if ready.exit && self.exit_fd.is_some() && self.exited.is_none() {
            self.exited = self.child.try_wait().ok().flatten();
        }
        // Exited: its last answers are read above; now it is a fault.
        (lines, self.exited.is_some().then_some(Fault::Died))
    }

    /// Folds `answers` answered in `took` into the mean time per answer.
    fn measure(&mut self, answers: u64, took: Duration) {
        #[expect(clippy::cast_precision_loss, reason = "a mean needs no exact integer")]
        let sample = took.as_secs_f64() * 1e9 / answers as f64;
        self.mean_answer_ns = if self.mean_answer_ns <= 0.0 {
            sample
        } else {
            0.7 * self.mean_answer_ns + 0.3 * sample
        };
    }

    /// Writes pending input bytes without blocking; a closed stdin is a dead worker.
    fn write_some(&mut self) -> Option<Fault> {
        let Some(stdin) = self.stdin.as_mut() else {
            return (self.out_at < self.out.len()).then_some(Fault::Died);
        };
        while self.out_at < self.out.len() {
            match stdin.write(&self.out[self.out_at..]) {
                Ok(0) => return Some(Fault::Died),
                Ok(written) => {
                    self.out_at += written;
                    self.written += written as u64;
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => break,
                // Kept open (the worker is replaced next): `died_idle` reads what is left in the pipe.
                Err(_) => return Some(Fault::Died),
            }
        }
        if self.out_at == self.out.len() {
            self.out.clear();
            self.out_at = 0;
        }
        None
    }

    /// Sleeps until an answer, stderr output, the exit or room to write pending input, or
    /// `wait`; says where there is news (stderr output, the exit).
    fn poll(&self, wait: Duration) -> Ready {
        let reading = [
            self.stdout.as_ref().map(AsFd::as_fd),
            self.stderr.as_ref().map(AsFd::as_fd),
            self.exit_fd.as_ref().map(AsFd::as_fd),
        ];
        let mut fds: Vec<PollFd<'_>> = reading
            .into_iter()
            .flatten()
            .map(|fd| PollFd::from_borrowed_fd(fd, PollFlags::IN))
            .collect();
        if self.out_at < self.out.len()
            && let Some(stdin) = &self.stdin
        {
            fds.push(PollFd::new(stdin, PollFlags::OUT));
        }
        let timeout = Timespec::try_from(wait).ok();
        if rustix::event::poll(&mut fds, timeout.as_ref()).is_err() {
            // EINTR or a full table: look everywhere.
            return Ready {
                stderr: true,
                exit: true,
            };
        }
        // The fds are in `reading`'s order, the absent ones left out.
        let mut ready = Ready {
            stderr: false,
            exit: false,
        };
        let mut at = usize::from(self.stdout.is_some());
        let news = |fd: &PollFd<'_>| !fd.revents().is_empty();
        if self.stderr.is_some() {
            ready.stderr = fds.get(at).is_some_and(news);
            at += 1;
        }
        if self.exit_fd.is_some() {
            ready.exit = fds.get(at).is_some_and(news);
        }
        ready
    }

    /// Reads every answer available now; returns how many and any fault (EOF, an overlong line).
    fn read_answers(&mut self, answer: &mut dyn FnMut(&[u8]) -> Option<Fault>) -> (u64, Option<Fault>) {
        let Some(stdout) = self.stdout.as_mut() else {
            return (0, Some(Fault::Died));
        };
        let buffer = &mut self.read_buffer;
        let mut count = 0;
        let mut budget = READ_BUDGET;
        loop {
            match stdout.read(buffer) {
                Ok(0) => {
                    self.stdout = None;
                    return (self.counted(count), Some(Fault::Died));
                }
                Ok(read) => {
                    let short = read < buffer.len();
                    let mut data = &buffer[..read];
                    while let Some(at) = data.iter().position(|b| *b == b'\n') {
                        let fault = if self.partial.is_empty() {
                            answer(&data[..at])
                        } else {
                            self.partial.extend_from_slice(&data[..at]);
                            let fault = answer(&self.partial);
                            self.partial.clear();
                            fault
                        };
                        if fault.is_some() {
                            // The worker is replaced next: the rest of what it wrote is moot.
                            return (self.counted(count), fault);
                        }
                        count += 1;
                        data = &data[at + 1..];
                    }
                    self.partial.extend_from_slice(data);
                    if self.partial.len() > MAX_LINE {
                        return (self.counted(count), Some(Fault::Overlong));
                    }
                    budget = budget.saturating_sub(read);
                    if short || budget == 0 {
                        // The pipe is most likely empty: the next poll says if it is not
                        // (one read a look, not two). Or the budget is spent: the driver
                        // looks at its cancel token before it reads on.
                        break;
                    }
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => break,
                Err(_) => {
                    self.stdout = None;
                    return (self.counted(count), Some(Fault::Died));
                }
            }
        }
        (self.counted(count), None)
    }

    /// Adds `count` answers to the tallies; returns it.
    fn counted(&mut self, count: u64) -> u64 {
        self.answered_since_spawn += count;
        self.status.answered.fetch_add(count, Ordering::Relaxed);
        count
    }

    /// Keeps the last [`STDERR_TAIL`] bytes the worker wrote on stderr.
    fn drain_stderr(&mut self) {
        let Some(stderr) = self.stderr.as_mut() else {
            return;
        };
        let mut buffer = [0_u8; 8192];
        loop {
            match stderr.read(&mut buffer) {
                Ok(0) => break self.stderr = None,
                Ok(read) => {
                    self.stderr_tail.extend(&buffer[..read]);
                    let excess = self.stderr_tail.len().saturating_sub(STDERR_TAIL);
                    self.stderr_tail.drain(..excess);
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
    }

    /// The last lines of stderr, each on its own indented line (empty when there are none).
    fn stderr_tail(&mut self) -> String {
        self.drain_stderr();
        let bytes: Vec<u8> = self.stderr_tail.iter().copied().collect();
        let text = String::from_utf8_lossy(&bytes);
        let lines: Vec<&str> = text.lines().filter(|line| !line.trim().is_empty()).collect();
        let mut tail = String::new();
        for line in &lines[lines.len().saturating_sub(3)..] {
            tail.push_str("\n  ");
            tail.push_str(&truncate(line, 200));
        }
        tail
    }

    /// Ends the worker: SIGTERM to its group, SIGKILL after `grace`; reaps it.
    fn kill(&mut self, grace: Duration) -> Option<ExitStatus> {
        self.stdin = None;
        if self.exited.is_none() {
            self.group.id().terminate();
            self.wait_exit(grace);
        }
        self.finish()
    }

    /// Waits up to `limit` for the leader to exit (without reaping it).
    fn wait_exit(&mut self, limit: Duration) {
        let deadline = Instant::now() + limit;
        while self.exited.is_none() && Instant::now() < deadline {
            self.drain_stderr();
            if let Some(fd) = &self.exit_fd {
                let wait = deadline.saturating_duration_since(Instant::now()).min(SLICE);
                wait_on(&mut [PollFd::new(fd, PollFlags::IN)], Some(wait));
            } else {
                std::thread::sleep(Duration::from_millis(1));
            }
            self.exited = self.child.try_wait().ok().flatten();
        }
    }

    /// SIGKILL to whatever is left of the group, then reaps the leader.
    fn finish(&mut self) -> Option<ExitStatus> {
        self.group.id().signal(Signal::KILL);
        if self.exited.is_none() {
            self.wait_exit(AFTER_KILL);
        }
        self.stdout = None;
        self.stderr = None;
        self.exit_fd = None;
        self.exited
    }
}

impl Drop for WorkerProc {
    /// Closes stdin so a well-behaved worker exits, then kills what remains of its group.
    fn drop(&mut self) {
        self.status.set_state(ProcState::Stopping);
        self.stdin = None;
        if self.exited.is_none() {
            self.wait_exit(Duration::from_millis(500));
        }
        self.finish();
    }
}

/// Describes how a process ended.
fn describe_exit(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with status {code}"),
        (None, Some(signal)) => format!("was killed by signal {signal}"),
        _ => format!("ended with {status}"),
    }
}

/// A private directory holding `poolwatch_worker.py`, put on workers' `PYTHONPATH`
/// so `from poolwatch_worker import serve` works wherever poolwatch runs from.
pub fn python_helper_dir() -> Option<&'static std::path::PathBuf> {
    static DIR: OnceLock<Option<std::path::PathBuf>> = OnceLock::new();
    DIR.get_or_init(|| write_python_helper().ok()).as_ref()
}

fn write_python_helper() -> io::Result<std::path::PathBuf> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
    let uid = rustix::process::getuid().as_raw();
    let dir = std::env::temp_dir().join(format!("poolwatch-python-{uid}"));
    match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
        Ok(()) => {}
        Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {}
        Err(err) => return Err(err),
    }
    let meta = std::fs::symlink_metadata(&dir)?;
    if !meta.is_dir() || meta.uid() != uid || meta.permissions().mode() & 0o077 != 0 {
        return Err(io::Error::other("the helper directory is not private"));
    }
    let path = dir.join("poolwatch_worker.py");
    if std::fs::read_to_string(&path).ok().as_deref() != Some(PYTHON_HELPER) {
        let temp = dir.join(format!("poolwatch_worker.py.{}", std::process::id()));
        std::fs::write(&temp, PYTHON_HELPER)?;
        std::fs::rename(&temp, &path)?;
    }
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_written_in_decimal() {
        let mut out = Vec::new();
        for value in [
            0_i128,
            7,
            -7,
            1_234_567,
            i128::from(i64::MIN),
            i128::from(i64::MAX) + 1,
        ] {
            out.clear();
            write_number(&mut out, value);
            assert_eq!(String::from_utf8_lossy(&out), value.to_string());
        }
    }
}
