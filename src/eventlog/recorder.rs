//! What a run leaves behind: every event into the `--log` file, and the matches kept for the summary.

use crate::eventlog::checkpoint::{Carried, Figures};
use crate::eventlog::file::EventLog;
use crate::eventlog::schema::{FORMAT_VERSION, LogEvent, LoggedBest, ProgressEvent, ShardInfo, StartEvent};
use crate::spec::SearchSpec;
use crate::summary::{MAX_SUMMARY_MATCHES, MatchEntry, Summary};
use poolwatch_core::search::{Goal, Search};
use poolwatch_core::{Event, Run, RunConfig, RunReport, RunState, Snapshot};
use std::sync::Arc;
use std::time::Duration;

/// How often a run writes a `progress` event unless told otherwise (`--status-every`).
pub const DEFAULT_STATUS_EVERY: Duration = Duration::from_secs(1);

/// Follows one run: logs its events and keeps what the summary needs.
pub struct Recorder {
    log: EventLog,
    /// Asked for its own counts ([`Search::tallies`]) when the run ends.
    source: Arc<dyn Search>,
    search: String,
    params: String,
    policy: String,
    can_match: bool,
    matches: Vec<MatchEntry>,
    /// The first failed tasks, for the summary ([`crate::summary::MAX_SUMMARY_FAILURES`]).
    failures: Vec<crate::summary::FailureEntry>,
    status_every: Duration,
    /// Run time and completed count of the last `progress` event, for its windowed rate.
    last_progress: Option<(Duration, u64)>,
    /// A resumed run's inheritance: offsets for times and counts, earlier matches and best.
    carried: Option<Carried>,
    goal: Goal,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("log", &self.log)
            .field("search", &self.search)
            .field("matches", &self.matches.len())
            .finish_non_exhaustive()
    }
}

impl Recorder {
    /// Starts following a run and logs its `start` event. `spec`, when given, lets the log
    /// rebuild the search (`--resume`, `watch`).
    #[must_use]
    pub fn start(
        log: EventLog,
        search: &Arc<dyn Search>,
        config: &RunConfig,
        spec: Option<&SearchSpec>,
    ) -> Self {
        Self::open(log, search, config, spec, None)
    }

    /// As [`Recorder::start`] for a run that continues a logged one (`--resume FILE`): its
    /// `start` event says what was done before, and times, counts, matches and the best
    /// continue from `carried` in every later event and in the summary.
    #[must_use]
    pub fn resume(
        log: EventLog,
        search: &Arc<dyn Search>,
        config: &RunConfig,
        spec: Option<&SearchSpec>,
        carried: Carried,
    ) -> Self {
        Self::open(log, search, config, spec, Some(carried))
    }

    fn open(
        log: EventLog,
        search: &Arc<dyn Search>,
        config: &RunConfig,
        spec: Option<&SearchSpec>,
        carried: Option<Carried>,
    ) -> Self {
        let mut journal = Self {
            log,
            source: Arc::clone(search),
            search: search.name().to_string(),
            params: search.params(),
            policy: config.policy.to_string(),
            can_match: search.can_match(),
            matches: Vec::new(),
            failures: Vec::new(),
            status_every: DEFAULT_STATUS_EVERY,
            last_progress: None,
            carried,
            goal: search.goal(),
        };
        let start = StartEvent {
            format: FORMAT_VERSION,
            search: journal.search.clone(),
            params: journal.params.clone(),
            spec: spec.map(|spec| crate::eventlog::schema::LoggedSpec::Known(Box::new(spec.clone()))),
            workers: config.workers,
            halt: journal.policy.clone(),
            space: (!search.open_space()).then(|| search.space()),
            window: journal
                .carried
                .as_ref()
                .and_then(|carried| carried.window)
                .or_else(|| plan_window(config, search)),
            shard: journal
                .carried
                .as_ref()
                .and_then(|carried| carried.shard)
                .or_else(|| plan_shard(config, search)),
            host: host_name(),
            pid: std::process::id(),
            resumed: journal.carried.as_ref().map(|carried| carried.before),
        };
        journal.write(Duration::ZERO, &LogEvent::Start(start));
        journal.log.flush();
        journal
    }

    /// Writes `progress` events every `every` instead of [`DEFAULT_STATUS_EVERY`].
    #[must_use]
    pub fn with_status_every(mut self, every: Duration) -> Self {
        self.status_every = every;
        self
    }

    /// How often `progress` events are due.
    #[must_use]
    pub fn status_every(&self) -> Duration {
        self.status_every
    }

    fn write(&mut self, at: Duration, event: &LogEvent) {
        let offset = self
            .carried
            .as_ref()
            .map_or(Duration::ZERO, |carried| carried.elapsed);
        self.log.write_event(at.saturating_add(offset), event);
    }

    /// Logs a control action (pause, resume, workers, halt request) taken at run time `at`.
    pub fn control(&mut self, at: Duration, event: &LogEvent) {
        self.write(at, event);
    }

    /// Writes a `progress` event when one is due (call it on any tick). Without a log file
    /// nothing is built: a snapshot copies every worker's row (1,024 of them at `-w 1024`)
    /// and the checkpoint merges every completed range, work no one would read.
    pub fn tick(&mut self, run: &Run) {
        if !self.log.is_open() {
            return;
        }
        let now = run.elapsed();
        let due = self
            .last_progress
            .is_none_or(|(last, _)| now.saturating_sub(last) >= self.status_every);
        if due {
            self.progress(&run.snapshot(), run.completed_ranges());
        }
    }

    /// Writes a `progress` event now: the live status and the checkpoint (`done` ranges).
    pub fn progress(&mut self, snapshot: &Snapshot, done: Vec<(u64, u64)>) {
        let (since, completed_then) = self.last_progress.unwrap_or((Duration::ZERO, 0));
        let rate = poolwatch_core::rate(
            snapshot.counters.completed.saturating_sub(completed_then),
            snapshot.elapsed.saturating_sub(since),
        );
        self.last_progress = Some((snapshot.elapsed, snapshot.counters.completed));
        let event = ProgressEvent {
            state: state_name(snapshot.state).to_string(),
            total: snapshot.counters.total,
            total_open: snapshot.total_open,
            submitted: snapshot.counters.submitted,
            completed: snapshot.counters.completed,
            cancelled: snapshot.counters.cancelled,
            matches: snapshot.counters.matches,
            errors: snapshot.counters.errors,
            rate,
            best: snapshot.best.map(LoggedBest::from),
            elapsed_s: snapshot.elapsed.as_secs_f64(),
            active_s: snapshot.active.as_secs_f64(),
            workers: snapshot.target_workers,
            done,
        };
        let event = self.continued(event);
        self.write(snapshot.elapsed, &LogEvent::Progress(event));
    }

    /// Logs one pool event of `run` and remembers matches; a halt also writes a checkpoint.
    /// `Finished` is left to [`Recorder::finish`].
    pub fn event(&mut self, run: &Run, event: &Event) {
        self.event_only(event);
        // Without a log file the halt's checkpoint has no reader (see [`Recorder::tick`]):
        // building it would take a snapshot of every worker while they wind down.
        if matches!(event, Event::Halted { .. }) && self.log.is_open() {
            self.progress(&run.snapshot(), run.completed_ranges());
        }
    }

    fn event_only(&mut self, event: &Event) {
        let (at, logged) = match event {
            Event::Match {
                task,
                value,
                score,
                worker,
                at,
            } => {
                let input = self.source.input_label(*task);
                if self.matches.len() < MAX_SUMMARY_MATCHES {
                    self.matches.push(MatchEntry {
                        task: *task,
                        input: input.clone(),
                        value: value.clone(),
                    });
                }
                let logged = LogEvent::Match {
                    task: *task,
                    input,
                    value: value.clone(),
                    score: *score,
                    worker: *worker,
                };
                (*at, logged)
            }
            Event::Error {
                task,
                message,
                worker,
                at,
            } => {
                let input = self.source.input_label(*task);
                if self.failures.len() < crate::summary::MAX_SUMMARY_FAILURES {
                    self.failures.push(crate::summary::FailureEntry {
                        task: *task,
                        input: input.clone(),
                        message: message.clone(),
                    });
                }
                let logged = LogEvent::Error {
                    task: *task,
                    input,
                    message: message.clone(),
                    worker: *worker,
                };
                (*at, logged)
            }
            Event::Notice {
                task,
                message,
                worker,
                at,
            } => {
                let logged = LogEvent::Notice {
                    task: *task,
                    input: self.source.input_label(*task),
                    message: message.clone(),
                    worker: *worker,
                };
                (*at, logged)
            }
            Event::NewBest {
                task,
                score,
                worker,
                at,
            } => {
                let logged = LogEvent::Best {
                    task: *task,
                    score: *score,
                    worker: *worker,
                };
                (*at, logged)
            }
            Event::Halted { reason, at } => (
                *at,
                LogEvent::Halt {
                    reason: reason.to_string(),
                },
            ),
            _ => return,
        };
        self.write(at, &logged);
    }

    /// Writes the log lines gathered so far (call it when the reader has nothing else to do).
    pub fn flush(&mut self) {
        self.log.flush();
    }

    /// Writes the last checkpoint, builds the summary, logs the `end` event with it, and
    /// returns it. When the log could not be written whole, the summary says so and its
    /// exit code is [`crate::console::EXIT_LOG_INCOMPLETE`].
    pub fn finish(&mut self, run: &Run, report: &RunReport, signal: Option<i32>) -> Summary {
        if self.log.is_open() {
            self.progress(&run.snapshot(), run.completed_ranges());
        }
        let mut matches = std::mem::take(&mut self.matches);
        matches.sort_by_key(|entry| entry.task);
        let summary = Summary::new(
            &self.search,
            self.params.clone(),
            self.policy.clone(),
            report,
            matches,
            signal,
            self.can_match,
        );
        let mut summary = summary;
        summary.failures = std::mem::take(&mut self.failures);
        summary.failures.sort_by_key(|entry| entry.task);
        summary.counts = self.source.tallies().into_iter().collect();
        if let Some(carried) = &self.carried {
            carried.continue_summary(&mut summary, self.goal);
        }
        if self.source.matches_are_successes() {
            summary.count_as_jobs();
        }
        if self.log.failure().is_none() {
            let summary = crate::eventlog::schema::EndSummary::of(&summary);
            self.write(report.elapsed, &LogEvent::End { summary });
            self.log.flush();
        }
        if let Some(failure) = self.log.failure() {
            summary.mark_log_incomplete(failure);
        }
        summary
    }
}

impl Recorder {
    /// A resumed run's `progress` event with the earlier counts, times and best folded in.
    fn continued(&self, mut event: ProgressEvent) -> ProgressEvent {
        let Some(carried) = &self.carried else {
            return event;
        };
        let figures = Figures {
            completed: &mut event.completed,
            matches: &mut event.matches,
            errors: &mut event.errors,
            elapsed_s: &mut event.elapsed_s,
            active_s: &mut event.active_s,
        };
        let best = carried.continue_figures(figures, event.best.map(Into::into), self.goal);
        event.best = best.map(LoggedBest::from);
        event
    }
}

/// The window `[skip, end)` of `config`'s id plan, when it is not the whole space.
fn plan_window(config: &RunConfig, search: &Arc<dyn Search>) -> Option<(u64, u64)> {
    let (skip, end) = crate::eventlog::schema::window_of(config.plan.skip, config.plan.limit)?;
    let end = if search.open_space() {
        end
    } else {
        end.min(search.space())
    };
    Some((skip, end.max(skip)))
}

/// `config`'s shard with its chunk size decided, as the `start` event records it.
fn plan_shard(config: &RunConfig, search: &Arc<dyn Search>) -> Option<ShardInfo> {
    let shard = config.plan.shard.filter(|shard| shard.count > 1)?;
    let window = plan_window(config, search)
        .map(|(skip, end)| end - skip)
        .or_else(|| (!search.open_space()).then(|| search.space()));
    Some(ShardInfo {
        index: shard.index,
        count: shard.count,
        chunk: shard
            .chunk
            .unwrap_or_else(|| poolwatch_core::Shard::default_chunk(window, shard.count)),
    })
}

/// The lowercase name of a run state, as `progress` events carry it.
fn state_name(state: RunState) -> &'static str {
    match state {
        RunState::Paused => "paused",
        RunState::Halting(_) => "halting",
        RunState::Finished(_) => "finished",
        _ => "running",
    }
}

/// This machine's host name (empty when it cannot be read).
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_string())
        .unwrap_or_default()
}
