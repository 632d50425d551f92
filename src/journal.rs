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
    /// The search, for the user's own value of a task ([`Search::input_label`]).
    labels: Arc<dyn Search>,
    search: String,
    params: String,
    policy: String,
    can_match: bool,
    matches: Vec<MatchEntry>,
}

impl Journal {
    /// Starts following a run and logs its `start` event.
    #[must_use]
    pub fn start(log: EventLog, search: &Arc<dyn Search>, config: &RunConfig) -> Self {
        let mut journal = Self {
            log,
            labels: Arc::clone(search),
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
                let input = self.labels.input_label(*task);
                if self.matches.len() < MAX_SUMMARY_MATCHES {
                    self.matches.push(MatchEntry {
                        task: *task,
                        input: input.clone(),
                        value: value.clone(),
                    });
                }
                let fields = json!({ "task": task, "value": value, "score": score, "worker": worker });
                self.log.write("match", *at, with_input(fields, input));
            }
            Event::Error {
                task,
                message,
                worker,
                at,
            } => {
                let fields = json!({ "task": task, "message": message, "worker": worker });
                let input = self.labels.input_label(*task);
                self.log.write("error", *at, with_input(fields, input));
            }
            Event::NewBest {
                task,
                score,
                worker,
                at,
            } => {
                let fields = json!({ "task": task, "score": score, "worker": worker });
                let input = self.labels.input_label(*task);
                self.log.write("best", *at, with_input(fields, input));
            }
            Event::Halted { reason, at } => self.log.write("halt", *at, json!({ "reason": reason })),
            Event::Finished(_) => {}
        }
    }

    /// Builds the summary, logs the `end` event with it, and returns it.
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
        let fields = serde_json::to_value(&summary).unwrap_or_default();
        self.log
            .write("end", report.elapsed, json!({ "summary": fields }));
        summary
    }
}

/// Adds the user's own value of the task as `input`, when the search has one.
fn with_input(mut fields: serde_json::Value, input: Option<String>) -> serde_json::Value {
    if let (Some(object), Some(input)) = (fields.as_object_mut(), input) {
        object.insert("input".to_string(), serde_json::Value::String(input));
    }
    fields
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal")
            .field("search", &self.search)
            .field("matches", &self.matches.len())
            .finish_non_exhaustive()
    }
}
