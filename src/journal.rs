//! What a run leaves behind: every event into the `--log` file, and the matches kept for the summary.

use crate::eventlog::EventLog;
use crate::pool::{Event, RunConfig, RunReport};
use crate::search::Search;
use crate::summary::{MAX_SUMMARY_MATCHES, MatchEntry, Summary};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

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
    /// Starts following a run and logs its `start` event.
    #[must_use]
    pub fn start(log: EventLog, search: &Arc<dyn Search>, config: &RunConfig) -> Self {
        let mut journal = Self {
            log,
            source: Arc::clone(search),
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

    /// Builds the summary, logs the `end` event with it, and returns it.
    pub fn finish(&mut self, report: &RunReport, signal: Option<i32>) -> Summary {
        let mut matches = std::mem::take(&mut self.matches);
        matches.sort_by_key(|entry| entry.task);
        let mut summary = Summary::new(
            &self.search,
            self.params.clone(),
            self.policy.clone(),
            report,
            matches,
            signal,
            self.can_match,
        );
        summary.counts = self.source.tallies().into_iter().collect();
        let fields = serde_json::to_value(&summary).unwrap_or_default();
        self.log
            .write("end", report.elapsed, json!({ "summary": fields }));
        summary
    }
}
