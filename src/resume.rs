//! `--resume FILE`: where a logged run stopped (its checkpoint), read back from the `--log` file it wrote.
//!
//! A log may hold several runs one after the other; the run resumed is the last one, with
//! every earlier run it continues (their `start` events carry `resumed`). Its checkpoint is
//! the union of the `done` ranges of the last `progress` event of each part and the ids of
//! the `match` and `error` events logged after it (those tasks ran to an outcome even if no
//! `progress` event said so before a crash). Ids that were in flight at a crash are in
//! neither and run again: at-least-once for those, exactly-once for the rest.

use crate::logformat::{LogEvent, LoggedBest, Record, ResumedFrom, StartEvent, parse_log};
use crate::summary::MatchEntry;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Halt reasons that end a run for good: resuming it has nothing left to do.
const FINAL_REASONS: [&str; 5] = ["exhausted", "match", "after", "success", "done"];

/// Why a log cannot be resumed.
#[derive(Debug, thiserror::Error)]
pub enum ResumeError {
    /// The log cannot be read or is corrupt.
    #[error(transparent)]
    Read(#[from] crate::logformat::LogReadError),
    /// No `start` event.
    #[error("{0}: no run to resume (no start event)")]
    NoRun(PathBuf),
    /// The `start` event has no spec (a search the log cannot rebuild).
    #[error("{0}: this run cannot be resumed (its start event has no search spec)")]
    NoSpec(PathBuf),
    /// The spec does not parse.
    #[error("{path}: the start event's search spec is not one this poolwatch knows: {reason}")]
    BadSpec {
        /// The log.
        path: PathBuf,
        /// The parser's message.
        reason: String,
    },
}

/// A logged run, as far as it got.
#[derive(Debug, Clone)]
pub struct Checkpoint {
    /// The first `start` event of the run: its search, options, window and shard.
    pub start: StartEvent,
    /// The search, rebuilt from `start.spec`.
    pub spec: crate::spec::SearchSpec,
    /// Ids that ran to an outcome, merged half-open ranges, sorted.
    pub done: Vec<(u64, u64)>,
    /// Matches, by task (the value of the first time each was logged).
    pub matches: BTreeMap<u64, String>,
    /// Tasks that ended in an error.
    pub errors: BTreeSet<u64>,
    /// Every best score logged (the caller picks with the search's goal).
    pub bests: Vec<LoggedBest>,
    /// Run time of the last record, seconds (times continue from it).
    pub elapsed_s: f64,
    /// Active time of the last `progress` event, seconds.
    pub active_s: f64,
    /// When the run's last part ended for good: its halt reason and exit code.
    pub finished: Option<(String, u8)>,
}

impl Checkpoint {
    /// Reads the checkpoint of the last run logged in `path`.
    ///
    /// # Errors
    /// A [`ResumeError`] when the log cannot be read or holds no run that can be rebuilt.
    pub fn read(path: &Path) -> Result<Self, ResumeError> {
        Self::from_records(path, &parse_log(path)?)
    }

    /// The checkpoint of the last run in `records` (read from `path`).
    ///
    /// # Errors
    /// As [`Checkpoint::read`].
    pub fn from_records(path: &Path, records: &[Record]) -> Result<Self, ResumeError> {
        let first = records
            .iter()
            .rposition(|record| matches!(&record.event, LogEvent::Start(start) if start.resumed.is_none()))
            .or_else(|| records.iter().position(|record| matches!(record.event, LogEvent::Start(_))))
            .ok_or_else(|| ResumeError::NoRun(path.to_path_buf()))?;
        let LogEvent::Start(start) = &records[first].event else {
            return Err(ResumeError::NoRun(path.to_path_buf()));
        };
        let spec_value = start.spec.clone().ok_or_else(|| ResumeError::NoSpec(path.to_path_buf()))?;
        let spec = serde_json::from_value(spec_value).map_err(|err| ResumeError::BadSpec {
            path: path.to_path_buf(),
            reason: err.to_string(),
        })?;
        let mut checkpoint = Self {
            start: start.clone(),
            spec,
            done: Vec::new(),
            matches: BTreeMap::new(),
            errors: BTreeSet::new(),
            bests: Vec::new(),
            elapsed_s: 0.0,
            active_s: 0.0,
            finished: None,
        };
        let mut done = Vec::new();
        for record in &records[first..] {
            checkpoint.elapsed_s = checkpoint.elapsed_s.max(record.t);
            match &record.event {
                LogEvent::Start(_) => checkpoint.finished = None,
                LogEvent::Progress(progress) => {
                    done.extend_from_slice(&progress.done);
                    checkpoint.active_s = checkpoint.active_s.max(progress.active_s);
                    checkpoint.bests.extend(progress.best);
                }
                LogEvent::Match { task, value, .. } => {
                    done.push((*task, task + 1));
                    checkpoint.matches.entry(*task).or_insert_with(|| value.clone());
                }
                LogEvent::Error { task, .. } => {
                    done.push((*task, task + 1));
                    checkpoint.errors.insert(*task);
                }
                LogEvent::Best { task, score, .. } => checkpoint.bests.push(LoggedBest {
                    score: *score,
                    task: *task,
                }),
                LogEvent::End { summary } => checkpoint.finished = final_end(summary),
                _ => {}
            }
        }
        checkpoint.done = merge(done);
        Ok(checkpoint)
    }

    /// Ids done, in all.
    #[must_use]
    pub fn done_count(&self) -> u64 {
        self.done.iter().map(|(start, end)| end - start).sum()
    }

    /// What was done before, as the resumed run's `start` event and summary carry it.
    #[must_use]
    pub fn before(&self) -> ResumedFrom {
        ResumedFrom {
            completed: self.done_count(),
            matches: self.matches.len() as u64,
            errors: self.errors.len() as u64,
            active_s: self.active_s,
        }
    }

    /// The earlier matches, for the summary.
    #[must_use]
    pub fn match_entries(&self) -> Vec<MatchEntry> {
        self.matches
            .iter()
            .map(|(task, value)| MatchEntry {
                task: *task,
                value: value.clone(),
            })
            .collect()
    }

    /// The best logged score under `goal`.
    #[must_use]
    pub fn best(&self, goal: crate::search::Goal) -> Option<LoggedBest> {
        self.bests.iter().copied().reduce(|best, candidate| {
            if goal.improves(candidate.score, best.score) { candidate } else { best }
        })
    }
}

/// The halt reason and exit code of an `end` summary, when its reason ends the run for good.
fn final_end(summary: &serde_json::Value) -> Option<(String, u8)> {
    let reason = summary.get("halt_reason")?.as_str()?;
    let code = summary.get("exit_code")?.as_u64()?;
    FINAL_REASONS
        .contains(&reason)
        .then(|| (reason.to_string(), u8::try_from(code).unwrap_or(1)))
}

/// Sorts and merges half-open ranges.
fn merge(mut ranges: Vec<(u64, u64)>) -> Vec<(u64, u64)> {
    ranges.retain(|(start, end)| start < end);
    ranges.sort_unstable();
    let mut merged: Vec<(u64, u64)> = Vec::with_capacity(ranges.len());
    for (start, end) in ranges {
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(t: f64, event: &str) -> Record {
        crate::logformat::parse_line(&format!(r#"{{"t":{t},"ts":0,{event}}}"#)).unwrap()
    }

    fn start(resumed: bool) -> String {
        let resumed = if resumed {
            r#","resumed":{"completed":1,"matches":0,"errors":0,"active_s":1}"#
        } else {
            ""
        };
        format!(
            r#""event":"start","format":1,"search":"collatz","params":"","spec":{{"kind":"collatz","below":100}},"workers":2,"halt":"never"{resumed}"#
        )
    }

    fn progress(done: &str) -> String {
        format!(
            r#""event":"progress","state":"running","total":99,"submitted":0,"completed":0,"cancelled":0,"matches":0,"errors":0,"rate":0,"elapsed_s":1,"active_s":2.5,"workers":2,"done":{done}"#
        )
    }

    #[test]
    fn the_checkpoint_is_the_done_ranges_and_the_outcomes_after_them() {
        let records = vec![
            record(0.0, &start(false)),
            record(1.0, &progress("[[0,10],[20,30]]")),
            record(1.2, r#""event":"match","task":40,"value":"x","worker":0"#),
            record(1.3, r#""event":"error","task":10,"message":"e","worker":1"#),
            record(1.4, r#""event":"best","task":40,"score":7,"worker":0"#),
        ];
        let checkpoint = Checkpoint::from_records(Path::new("log"), &records).unwrap();
        assert_eq!(checkpoint.done, [(0, 11), (20, 30), (40, 41)]);
        assert_eq!(checkpoint.done_count(), 22);
        assert_eq!(checkpoint.before().matches, 1);
        assert_eq!(checkpoint.before().errors, 1);
        assert!((checkpoint.elapsed_s - 1.4).abs() < 1e-9);
        assert!((checkpoint.active_s - 2.5).abs() < 1e-9);
        assert_eq!(checkpoint.finished, None);
    }

    #[test]
    fn a_resumed_part_continues_and_only_a_final_end_finishes() {
        let stopped = r#""event":"end","summary":{"halt_reason":"signal","exit_code":130}"#;
        let exhausted = r#""event":"end","summary":{"halt_reason":"exhausted","exit_code":0}"#;
        let mut records = vec![
            record(0.0, &start(false)),
            record(1.0, &progress("[[0,5]]")),
            record(1.1, stopped),
            record(1.1, &start(true)),
            record(2.0, &progress("[[0,9]]")),
        ];
        let checkpoint = Checkpoint::from_records(Path::new("log"), &records).unwrap();
        assert_eq!((checkpoint.done.clone(), checkpoint.finished.clone()), (vec![(0, 9)], None));
        records.push(record(3.0, exhausted));
        let checkpoint = Checkpoint::from_records(Path::new("log"), &records).unwrap();
        assert_eq!(checkpoint.finished, Some(("exhausted".to_string(), 0)));
        // A later, unrelated run in the same log is the one resumed.
        records.push(record(0.0, &start(false)));
        let checkpoint = Checkpoint::from_records(Path::new("log"), &records).unwrap();
        assert_eq!((checkpoint.done.clone(), checkpoint.finished), (Vec::new(), None));
    }

    #[test]
    fn the_best_follows_the_goal() {
        let mut records = vec![record(0.0, &start(false))];
        for score in [3, 9, 5] {
            records.push(record(1.0, &format!(r#""event":"best","task":{score},"score":{score},"worker":0"#)));
        }
        let checkpoint = Checkpoint::from_records(Path::new("log"), &records).unwrap();
        assert_eq!(checkpoint.best(crate::search::Goal::Maximize).map(|b| b.task), Some(9));
        assert_eq!(checkpoint.best(crate::search::Goal::Minimize).map(|b| b.task), Some(3));
    }
}
