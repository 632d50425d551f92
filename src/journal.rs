//! What a run leaves behind: every event into the `--log` file, and the matches kept for the summary.

use crate::eventlog::EventLog;
use crate::logformat::{FORMAT_VERSION, LogEvent, LoggedBest, ProgressEvent, StartEvent};
use crate::pool::{Event, Run, RunConfig, RunReport, RunState, Snapshot};
use crate::search::Search;
use crate::spec::SearchSpec;
use crate::summary::{MAX_SUMMARY_MATCHES, MatchEntry, Summary};
use std::sync::Arc;
use std::time::Duration;

/// How often a run writes a `progress` event unless told otherwise (`--status-every`).
pub const DEFAULT_STATUS_EVERY: Duration = Duration::from_secs(1);

/// Follows one run: logs its events and keeps what the summary needs.
pub struct Journal {
    log: EventLog,
    /// Asked for its own counts ([`Search::tallies`]) when the run ends.
    source: Arc<dyn Search>,
    search: String,
    params: String,
    policy: String,
    can_match: bool,
    matches: Vec<MatchEntry>,
    status_every: Duration,
    /// Run time and completed count of the last `progress` event, for its windowed rate.
    last_progress: Option<(Duration, u64)>,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal")
            .field("log", &self.log)
            .field("search", &self.search)
            .field("matches", &self.matches.len())
            .finish_non_exhaustive()
    }
}

impl Journal {
    /// Starts following a run and logs its `start` event. `spec`, when given, lets the log
    /// rebuild the search (`--resume`, `watch`).
    #[must_use]
    pub fn start(
        log: EventLog,
        search: &Arc<dyn Search>,
        config: &RunConfig,
        spec: Option<&SearchSpec>,
    ) -> Self {
        let mut journal = Self {
            log,
            source: Arc::clone(search),
            search: search.name().to_string(),
            params: search.params(),
            policy: config.policy.to_string(),
            can_match: search.can_match(),
            matches: Vec::new(),
            status_every: DEFAULT_STATUS_EVERY,
            last_progress: None,
        };
        let start = StartEvent {
            format: FORMAT_VERSION,
            search: journal.search.clone(),
            params: journal.params.clone(),
            spec: spec.and_then(|spec| serde_json::to_value(spec).ok()),
            workers: config.workers,
            halt: journal.policy.clone(),
            space: (!search.open_space()).then(|| search.space()),
            window: None,
            shard: None,
            host: host_name(),
            pid: std::process::id(),
            resumed: None,
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
        self.log.write_event(at, event);
    }

    /// Logs a control action (pause, resume, workers, halt request) taken at run time `at`.
    pub fn control(&mut self, at: Duration, event: &LogEvent) {
        self.write(at, event);
    }

    /// Writes a `progress` event when one is due (call it on any tick).
    pub fn tick(&mut self, run: &Run) {
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
        let rate = crate::pool::rate(
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
            best: snapshot.best.map(|best| LoggedBest {
                score: best.score,
                task: best.task,
            }),
            elapsed_s: snapshot.elapsed.as_secs_f64(),
            active_s: snapshot.active.as_secs_f64(),
            workers: snapshot.target_workers,
            done,
        };
        self.write(snapshot.elapsed, &LogEvent::Progress(event));
    }

    /// Logs one pool event of `run` and remembers matches; a halt also writes a checkpoint.
    /// `Finished` is left to [`Journal::finish`].
    pub fn event(&mut self, run: &Run, event: &Event) {
        self.event_only(event);
        if matches!(event, Event::Halted { .. }) {
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
                let logged = LogEvent::Error {
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
    /// exit code is [`crate::summary::EXIT_LOG_INCOMPLETE`].
    pub fn finish(&mut self, run: &Run, report: &RunReport, signal: Option<i32>) -> Summary {
        self.progress(&run.snapshot(), run.completed_ranges());
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
        summary.counts = self.source.tallies().into_iter().collect();
        if self.log.failure().is_none() {
            let fields = serde_json::to_value(&summary).unwrap_or_default();
            self.write(report.elapsed, &LogEvent::End { summary: fields });
            self.log.flush();
        }
        if let Some(failure) = self.log.failure() {
            summary.mark_log_incomplete(failure);
        }
        summary
    }
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
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_string())
        .unwrap_or_default()
}
