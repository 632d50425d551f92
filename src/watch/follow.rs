//! Following logs as they grow, steering the runs behind them, and the headless watch loop.

use super::{Aggregate, WatchSummary};
use crate::cluster::{Engine, JobId, ShardSignal};
use crate::eventlog::schema::{LogReadError, LogTail};
use crossbeam_channel::{Receiver, select};
use poolwatch_core::{Counters, Event, HaltMode, HaltOn, HaltPolicy, HaltReason};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How often the logs are read again (the bound: at most 100 ms).
pub const POLL_EVERY: Duration = Duration::from_millis(100);
/// How often the cluster engine is asked which tasks are left.
const ENGINE_EVERY: Duration = Duration::from_millis(500);
/// Once the engine lists no task, how long to wait for logs that have not written `end`
/// (a shard killed outright, or cancelled before it started) before ending anyway.
const ENDLESS_GRACE: Duration = Duration::from_secs(3);

/// Unix time now, seconds.
#[must_use]
pub fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Every followed log and their aggregate.
#[derive(Debug)]
pub struct Follower {
    tails: Vec<LogTail>,
    /// What the logs say so far.
    pub aggregate: Aggregate,
}

impl Follower {
    /// Follows `paths` (which may not exist yet) from their beginning.
    #[must_use]
    pub fn new(paths: &[PathBuf]) -> Self {
        Self {
            tails: paths.iter().map(|p| LogTail::new(p)).collect(),
            aggregate: Aggregate::new(paths.iter().map(|path| shown_path(path)).collect()),
        }
    }

    /// Reads what the logs gained since the last call.
    ///
    /// # Errors
    /// When a log cannot be read or holds a line that is not an event.
    pub fn poll(&mut self) -> Result<Vec<Event>, LogReadError> {
        let mut events = Vec::new();
        for (index, tail) in self.tails.iter_mut().enumerate() {
            let records = tail.poll()?;
            events.extend(self.aggregate.ingest(index, records));
        }
        Ok(events)
    }

    /// Each followed log as shown (see [`shown_path`]) and whether its file exists yet.
    #[must_use]
    pub fn files(&self) -> Vec<(String, bool)> {
        self.tails
            .iter()
            .map(|tail| (shown_path(tail.path()), tail.path().exists()))
            .collect()
    }

    /// True when a log holds more than the last poll read (logs are read a slice at a time).
    #[must_use]
    pub fn behind(&self) -> bool {
        self.tails.iter().any(LogTail::behind)
    }

    /// Reads every log to its current end, a slice at a time (the events are in the aggregate).
    ///
    /// # Errors
    /// As [`Follower::poll`].
    pub fn catch_up(&mut self) -> Result<(), LogReadError> {
        self.poll()?;
        while self.behind() {
            self.poll()?;
        }
        Ok(())
    }
}

/// What the watcher can ask of the runs it follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// End every run now (`t`, or the halt policy).
    HaltNow,
    /// No new work anywhere; running tasks complete (`f`).
    Finish,
    /// Pause submission everywhere (`p`).
    Pause,
    /// Resume it.
    Resume,
}

/// Carries out [`Action`]s on the runs behind the logs.
pub trait Steer {
    /// Applies `action`; an error is shown, not fatal.
    ///
    /// # Errors
    /// The engine's or the system's message.
    fn apply(&mut self, action: Action, aggregate: &Aggregate) -> Result<(), String>;
    /// `Some(true)` while the engine still lists tasks, `Some(false)` once it lists none,
    /// `None` when there is no engine (plain `watch`).
    fn tasks_left(&mut self) -> Option<bool>;
    /// True when the watcher owns the runs: a signal to the watcher ends them too.
    fn owns_runs(&self) -> bool;
}

/// Steers runs on this machine by signalling their processes (the pid in each `start`).
#[derive(Debug, Default)]
pub struct LocalSteer;

impl Steer for LocalSteer {
    fn apply(&mut self, action: Action, aggregate: &Aggregate) -> Result<(), String> {
        let signal = match action {
            Action::HaltNow => libc::SIGTERM,
            Action::Finish => libc::SIGUSR1,
            Action::Pause => libc::SIGUSR2,
            Action::Resume => libc::SIGCONT,
        };
        let here = crate::eventlog::recorder::host_name();
        let mut sent = 0;
        for start in aggregate
            .logs
            .iter()
            .filter(|l| l.end.is_none())
            .filter_map(|l| l.start.as_ref())
        {
            let Ok(pid) = libc::pid_t::try_from(start.pid) else {
                continue;
            };
            // A crashed run leaves no `end` and its pid may be reused: signal only a poolwatch.
            if start.host == here && pid > 0 && is_poolwatch(pid) {
                // SAFETY: kill has no memory effects; a stale pid at worst gets ESRCH.
                let result = unsafe { libc::kill(pid, signal) };
                sent += usize::from(result == 0);
            }
        }
        if sent == 0 {
            return Err("no live run on this machine to signal".to_string());
        }
        Ok(())
    }

    fn tasks_left(&mut self) -> Option<bool> {
        None
    }

    fn owns_runs(&self) -> bool {
        false
    }
}

/// Steers the shards of one array job through a cluster engine.
pub struct ClusterSteer {
    engine: Box<dyn Engine>,
    job: JobId,
    last_asked: Option<Instant>,
    left: bool,
}

impl ClusterSteer {
    /// Steers `job` through `engine`.
    #[must_use]
    pub fn new(engine: Box<dyn Engine>, job: JobId) -> Self {
        Self {
            engine,
            job,
            last_asked: None,
            left: true,
        }
    }
}

impl Steer for ClusterSteer {
    fn apply(&mut self, action: Action, _aggregate: &Aggregate) -> Result<(), String> {
        let result = match action {
            Action::HaltNow => self.engine.cancel(&self.job),
            Action::Finish => self.engine.signal(&self.job, ShardSignal::Finish),
            Action::Pause => self.engine.signal(&self.job, ShardSignal::Pause),
            Action::Resume => self.engine.signal(&self.job, ShardSignal::Resume),
        };
        // Ask the engine again soon: the tasks are on their way out.
        self.last_asked = None;
        result.map_err(|err| err.to_string())
    }

    fn tasks_left(&mut self) -> Option<bool> {
        if self.last_asked.is_none_or(|at| at.elapsed() >= ENGINE_EVERY) {
            self.last_asked = Some(Instant::now());
            // A failed query keeps the last answer: the tasks are not known to be gone.
            if let Ok(tasks) = self.engine.status(&self.job) {
                self.left = !tasks.is_empty();
            }
        }
        Some(self.left)
    }

    fn owns_runs(&self) -> bool {
        true
    }
}

/// The halt policy applied across shards: what to do, and why, once the counts of every shard
/// together call for it (a shard's own policy only sees its own counts).
#[must_use]
pub fn policy_action(policy: HaltPolicy, counters: &Counters) -> Option<(HaltReason, Action)> {
    let action = |mode| {
        if mode == HaltMode::Now {
            Action::HaltNow
        } else {
            Action::Finish
        }
    };
    match policy {
        HaltPolicy::Now if counters.matches >= 1 => return Some((HaltReason::Match, Action::HaltNow)),
        HaltPolicy::Soon if counters.matches >= 1 => return Some((HaltReason::Match, Action::Finish)),
        _ => {}
    }
    let counted = [
        (HaltOn::Success, counters.matches, HaltReason::After),
        (HaltOn::Fail, counters.errors, HaltReason::Fail),
        (HaltOn::Done, counters.completed, HaltReason::Done),
    ];
    counted.into_iter().find_map(|(on, count, reason)| {
        let (mode, limit) = policy.limit(on, Some(counters.total))?;
        (count >= limit).then(|| (reason, action(mode)))
    })
}

/// The follow-and-steer state both the headless loop and the dashboard use.
pub struct Watcher {
    /// The logs.
    pub follower: Follower,
    /// The runs behind them.
    pub steer: Box<dyn Steer>,
    /// The policy the watcher applies across shards (`None`: the runs apply their own).
    pub policy: Option<HaltPolicy>,
    /// True once the watcher halted everything (policy, key or signal).
    pub halted: bool,
    /// When the engine first listed no task.
    engine_empty_since: Option<Instant>,
}

impl Watcher {
    /// A watcher of `paths` steered by `steer`.
    #[must_use]
    pub fn new(paths: &[PathBuf], steer: Box<dyn Steer>, policy: Option<HaltPolicy>) -> Self {
        Self {
            follower: Follower::new(paths),
            steer,
            policy,
            halted: false,
            engine_empty_since: None,
        }
    }

    /// Reads the logs and applies the policy; returns the new events and any problem to show.
    ///
    /// # Errors
    /// When a log cannot be read.
    pub fn step(&mut self) -> Result<(Vec<Event>, Option<String>), LogReadError> {
        let events = self.follower.poll()?;
        let counters = self.follower.aggregate.snapshot(unix_now()).counters;
        let problem = match self.policy.and_then(|policy| policy_action(policy, &counters)) {
            Some((reason, action)) if !self.halted => self.halt(reason, action).err(),
            _ => None,
        };
        Ok((events, problem))
    }

    /// Halts every run for `reason` with `action` (once).
    ///
    /// # Errors
    /// The engine's message.
    pub fn halt(&mut self, reason: HaltReason, action: Action) -> Result<(), String> {
        if self.halted {
            return Ok(());
        }
        self.halted = true;
        self.follower.aggregate.halt_override = Some(reason);
        self.steer.apply(action, &self.follower.aggregate)
    }

    /// True when there is nothing more to wait for.
    pub fn finished(&mut self) -> bool {
        let aggregate = &self.follower.aggregate;
        match self.steer.tasks_left() {
            None => aggregate.all_ended(),
            Some(true) => {
                self.engine_empty_since = None;
                false
            }
            Some(false) => {
                let since = *self.engine_empty_since.get_or_insert_with(Instant::now);
                let waiting = aggregate
                    .logs
                    .iter()
                    .any(|l| l.start.is_some() && l.end.is_none());
                !waiting || since.elapsed() >= ENDLESS_GRACE
            }
        }
    }
}

/// The headless progress line of every followed log, combined.
fn progress_line_of(aggregate: &super::Aggregate) -> String {
    let snapshot = aggregate.snapshot(unix_now());
    let name = aggregate
        .logs
        .iter()
        .find_map(|l| l.start.as_ref())
        .map_or("watch", |s| s.search.as_str());
    crate::headless::progress_line(&snapshot, name, snapshot.tasks_per_s, aggregate.match_odds())
}

/// While no followed log has started a run: the line that says which files watch waits
/// for, and how to stop it.
fn waiting_line(follower: &Follower) -> Option<String> {
    if follower.aggregate.logs.iter().any(|log| log.start.is_some()) {
        return None;
    }
    let files: Vec<String> = follower
        .files()
        .into_iter()
        .map(|(path, exists)| match exists {
            true => format!("{path} (no run started in it yet)"),
            false => format!("{path} (not there yet)"),
        })
        .collect();
    Some(format!("waiting for {}; Ctrl-C stops", files.join(", ")))
}

/// Follows to the end without a dashboard: a progress line on stderr, the summary returned.
///
/// # Errors
/// When a log cannot be read.
pub fn run_headless(
    watcher: &mut Watcher,
    signals: &Receiver<i32>,
) -> Result<(WatchSummary, Option<i32>), LogReadError> {
    let stderr_tty = std::io::stderr().is_terminal();
    let progress_every = if stderr_tty {
        crate::headless::TTY_PROGRESS_EVERY
    } else {
        crate::headless::PLAIN_PROGRESS_EVERY
    };
    // The first line goes out at once: a watch that waits says so before the first interval.
    let mut last_line = Instant::now()
        .checked_sub(progress_every)
        .unwrap_or_else(Instant::now);
    let mut signal = None;
    loop {
        let (_events, problem) = watcher.step()?;
        if let Some(problem) = problem {
            crate::console::say(&format!("poolwatch: {problem}"));
        }
        if watcher.finished() {
            break;
        }
        if last_line.elapsed() >= progress_every {
            last_line = Instant::now();
            // Until a log starts, the line says what is waited for; signals are still
            // answered below (a cluster watcher halts its queued jobs).
            let aggregate = &watcher.follower.aggregate;
            let line = waiting_line(&watcher.follower).unwrap_or_else(|| progress_line_of(aggregate));
            crate::headless::progress(&line, stderr_tty);
        }
        select! {
            recv(signals) -> received => {
                if let Ok(number) = received {
                    signal = Some(number);
                    if !watcher.steer.owns_runs() {
                        break; // a plain watcher stops watching; the runs go on
                    }
                    if let Err(problem) = watcher.halt(HaltReason::Signal, Action::HaltNow) {
                        crate::console::say(&format!("poolwatch: {problem}"));
                    }
                }
            },
            // A log read only in part is read on at once.
            default(if watcher.follower.behind() { Duration::ZERO } else { POLL_EVERY }) => {},
        }
    }
    if stderr_tty {
        crate::headless::clear_progress();
    }
    // One last read: the final lines written while the loop decided to stop.
    watcher.follower.catch_up()?;
    Ok((watcher.follower.aggregate.summary(unix_now(), signal), signal))
}

/// A log's path as shown: bytes that are no UTF-8 as `\xNN`, control characters escaped
/// (the file itself is opened by its real path).
fn shown_path(path: &std::path::Path) -> String {
    crate::escape::bytes(std::os::unix::ffi::OsStrExt::as_bytes(path.as_os_str()))
}

/// True when process `pid` runs a program named poolwatch (its `/proc/PID/comm`).
fn is_poolwatch(pid: libc::pid_t) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .is_ok_and(|name| name.trim_end().starts_with("poolwatch"))
}
