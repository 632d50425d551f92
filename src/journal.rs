//! What a run leaves behind: every event into the `--log` file, and the matches kept for the summary.

use crate::eventlog::EventLog;
use crate::pool::{Event, RunConfig, RunReport};
use crate::search::Search;
use crate::summary::{MAX_SUMMARY_MATCHES, MatchEntry, Summary};
use serde_json::json;
use std::time::Duration;

/// Follows one run: logs its events and keeps what the summary needs.
#[derive(Debug)]
pub struct Journal {
    log: EventLog,
    search: String,
    params: String,
    policy: String,
    can_match: bool,
    matches: Vec<MatchEntry>,
}

impl Journal {
    /// Starts following a run and logs its `start` event.
    #[must_use]
    pub fn start(log: EventLog, search: &dyn Search, config: &RunConfig) -> Self {
        let mut journal = Self {
            log,
            search: search.name().to_string(),
            params: search.params(),
            policy: config.policy.to_string(),
            can_match: search.can_match(),
            matches: Vec::new(),
        };
        let fields = json!({
            "search": journal.search,
            "params": journal.params,
            "workers": config.workers,
            "halt": journal.policy,
        });
        journal.log.write("start", Duration::ZERO, fields);
        journal.log.flush();
        journal
    }

    /// Logs a control action (pause, resume, workers, halt request) taken at run time `at`.
    pub fn control(&mut self, kind: &str, at: Duration, fields: serde_json::Value) {
        self.log.write(kind, at, fields);
    }

    /// Logs one pool event and remembers matches. `Finished` is left to [`Journal::finish`].
    pub fn event(&mut self, event: &Event) {
        match event {
            Event::Match {
                task,
                value,
                score,
                worker,
                at,
            } => {
                if self.matches.len() < MAX_SUMMARY_MATCHES {
                    self.matches.push(MatchEntry {
                        task: *task,
                        value: value.clone(),
                    });
                }
                let fields = json!({ "task": task, "value": value, "score": score, "worker": worker });
                self.log.write("match", *at, fields);
            }
            Event::Error {
                task,
                message,
                worker,
                at,
            } => {
                self.log.write(
                    "error",
                    *at,
                    json!({ "task": task, "message": message, "worker": worker }),
                );
            }
            Event::NewBest {
                task,
                score,
                worker,
                at,
            } => {
                self.log.write(
                    "best",
                    *at,
                    json!({ "task": task, "score": score, "worker": worker }),
                );
            }
            Event::Halted { reason, at } => self.log.write("halt", *at, json!({ "reason": reason })),
            Event::Finished(_) => {}
        }
    }

    /// Writes the log lines gathered so far (call it when the reader has nothing else to do).
    pub fn flush(&mut self) {
        self.log.flush();
    }

    /// Builds the summary, logs the `end` event with it, and returns it. When the log could
    /// not be written whole, the summary says so and its exit code is
    /// [`crate::summary::EXIT_LOG_INCOMPLETE`].
    pub fn finish(&mut self, report: &RunReport, signal: Option<i32>) -> Summary {
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
        if self.log.failure().is_none() {
            let fields = serde_json::to_value(&summary).unwrap_or_default();
            self.log
                .write("end", report.elapsed, json!({ "summary": fields }));
            self.log.flush();
        }
        if let Some(failure) = self.log.failure() {
            summary.mark_log_incomplete(failure);
        }
        summary
    }
}
