//! A logged run read back: where it stopped (its checkpoint) and what a resumed run carries over.
//!
//!
//! A log may hold several runs one after the other; the run resumed is the last one, with
//! every earlier run it continues (their `start` events carry `resumed`). Its checkpoint is
//! the union of the `done` ranges of the last `progress` event of each part and the ids of
//! the `match` and `error` events logged after it (those tasks ran to an outcome even if no
//! `progress` event said so before a crash). Ids that were in flight at a crash are in
//! neither and run again: at-least-once for those, exactly-once for the rest.

use crate::eventlog::schema::{EndSummary, LogEvent, LoggedBest, Record, StartEvent, for_each_record};
use crate::summary::{MAX_SUMMARY_MATCHES, MatchEntry, ResumedFrom};
use poolwatch_core::{HaltReason, RangeSet};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Error events kept to find the one a fatal `end` names (it comes just before the end).
const RECENT_ERRORS: usize = 16;

/// Halt reasons that end a run for good: resuming it has nothing left to do.
const FINAL_REASONS: [HaltReason; 5] = [
    HaltReason::Exhausted,
    HaltReason::Match,
    HaltReason::After,
    HaltReason::Done,
    HaltReason::Bounded,
];

/// Why a log cannot be resumed.
#[derive(Debug, thiserror::Error)]
pub enum ResumeError {
    /// The log cannot be read or is corrupt.
    #[error(transparent)]
    Read(#[from] crate::eventlog::schema::LogReadError),
    /// No `start` event.
    #[error("{0}: no run to resume (no start event)")]
    NoRun(PathBuf),
    /// The `start` event's window ends before it begins.
    #[error("{0}: the logged window [{1}, {2}) ends before it begins")]
    BadWindow(PathBuf, u64, u64),
    /// The `start` event has no spec (a search the log cannot rebuild).
    #[error("{0}: this run cannot be resumed (its start event has no search spec)")]
    NoSpec(PathBuf),
    /// The command line asks for something else than the logged run.
    #[error("--resume {path}: {what}")]
    Conflict {
        /// The log.
        path: PathBuf,
        /// What differs.
        what: String,
    },
    /// The logged halt policy no longer parses.
    #[error("{path}: the logged halt policy {halt:?} is not one this poolwatch knows")]
    BadHalt {
        /// The log.
        path: PathBuf,
        /// As logged.
        halt: String,
    },
    /// The spec does not parse.
    #[error("{path}: the start event's search spec is not one this poolwatch knows: {reason}")]
    BadSpec {
        /// The log.
        path: PathBuf,
        /// The parser's message.
        reason: String,
    },
}

/// A logged run, as far as it got. Its size does not grow with the log's: ids are merged
/// ranges, and only the matches a summary lists are kept with their values.
#[derive(Debug, Clone)]
pub struct Checkpoint {
    /// The first `start` event of the run: its search, options, window and shard.
    pub start: StartEvent,
    /// The search, rebuilt from `start.spec`.
    pub spec: crate::spec::SearchSpec,
    /// Ids that ran to an outcome, merged half-open ranges, sorted.
    pub done: Vec<(u64, u64)>,
    /// The lowest `MAX_SUMMARY_MATCHES` (10,000) matches by task (the value of the first time each
    /// was logged): what a summary lists.
    pub matches: BTreeMap<u64, String>,
    /// Tasks that matched, each counted once.
    pub match_count: u64,
    /// Tasks that ended in an error, each counted once.
    pub error_count: u64,
    /// The most matches a `progress` or `end` event of the run counted: more than
    /// `match_count` when `match` lines are missing from the log.
    pub counted_matches: u64,
    /// The first best score logged, and the highest and lowest (the caller picks with the
    /// search's goal).
    pub bests: Vec<LoggedBest>,
    /// Run time of the last record, seconds (times continue from it).
    pub elapsed_s: f64,
    /// Active time of the last `progress` event, seconds.
    pub active_s: f64,
    /// When the run's last part ended for good: its halt reason and exit code.
    pub finished: Option<(String, u8)>,
}

impl Checkpoint {
    /// Reads the checkpoint of the last run logged in `path`, one line at a time.
    ///
    /// # Errors
    /// A [`ResumeError`] when the log cannot be read or holds no run that can be rebuilt.
    pub fn read(path: &Path) -> Result<Self, ResumeError> {
        let mut reading = Reading::default();
        for_each_record(path, |record| reading.add(&record))?;
        reading.finish(path)
    }

    /// The checkpoint of the last run in `records` (read from `path`).
    ///
    /// # Errors
    /// As [`Checkpoint::read`].
    pub fn from_records(path: &Path, records: &[Record]) -> Result<Self, ResumeError> {
        let mut reading = Reading::default();
        for record in records {
            reading.add(record);
        }
        reading.finish(path)
    }

    /// The matches the log's counts say are missing from it (deleted `match` lines), if any:
    /// (counted, found).
    #[must_use]
    pub fn missing_matches(&self) -> Option<(u64, u64)> {
        (self.counted_matches > self.match_count).then_some((self.counted_matches, self.match_count))
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
            matches: self.match_count,
            errors: self.error_count,
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
                input: None,
                value: value.clone(),
            })
            .collect()
    }

    /// The best logged score under `goal`.
    #[must_use]
    pub fn best(&self, goal: poolwatch_core::search::Goal) -> Option<LoggedBest> {
        self.bests.iter().copied().reduce(|best, candidate| {
            if goal.improves(candidate.score, best.score) {
                candidate
            } else {
                best
            }
        })
    }
}

/// A checkpoint being read, one record at a time. The run is the last one in the log with
/// every part that continues it: a `start` that is no resume begins it anew.
#[derive(Default)]
struct Reading {
    /// The run's first `start` event, once one was read.
    start: Option<StartEvent>,
    done: RangeSet,
    matched: RangeSet,
    matches: BTreeMap<u64, String>,
    errors: RangeSet,
    /// The latest error events (task, message): the one a fatal `end` names is undone.
    recent_errors: std::collections::VecDeque<(u64, String)>,
    counted_matches: u64,
    bests: Vec<LoggedBest>,
    elapsed_s: f64,
    active_s: f64,
    finished: Option<(String, u8)>,
}

impl Reading {
    fn add(&mut self, record: &Record) {
        if let LogEvent::Start(start) = &record.event
            && (start.resumed.is_none() || self.start.is_none())
        {
            *self = Self {
                start: Some(start.clone()),
                ..Self::default()
            };
        }
        if self.start.is_none() {
            return;
        }
        self.elapsed_s = self.elapsed_s.max(record.t);
        match &record.event {
            LogEvent::Start(_) => self.finished = None,
            LogEvent::Progress(progress) => {
                // Each progress event's `done` is cumulative: a set, not a list.
                for &range in &progress.done {
                    self.done.insert(range);
                }
                self.active_s = self.active_s.max(progress.active_s);
                self.counted_matches = self.counted_matches.max(progress.matches);
                if let Some(best) = progress.best {
                    self.offer_best(best);
                }
            }
            LogEvent::Match { task, value, .. } => {
                let id = (*task, task.saturating_add(1));
                self.done.insert(id);
                self.matched.insert(id);
                if self.matches.len() < MAX_SUMMARY_MATCHES
                    || self.matches.last_key_value().is_some_and(|(last, _)| task < last)
                {
                    self.matches.entry(*task).or_insert_with(|| value.clone());
                    if self.matches.len() > MAX_SUMMARY_MATCHES {
                        self.matches.pop_last();
                    }
                }
            }
            LogEvent::Error { task, message, .. } => {
                let id = (*task, task.saturating_add(1));
                self.done.insert(id);
                self.errors.insert(id);
                if self.recent_errors.len() == RECENT_ERRORS {
                    self.recent_errors.pop_front();
                }
                self.recent_errors.push_back((*task, message.clone()));
            }
            LogEvent::Best { task, score, .. } => self.offer_best(LoggedBest {
                score: *score,
                task: *task,
            }),
            LogEvent::End { summary } => {
                self.finished = final_end(summary);
                self.undo_fatal(summary.fatal.as_deref());
                let counted = summary
                    .rest
                    .get("match_count")
                    .and_then(serde_json::Value::as_u64);
                self.counted_matches = self.counted_matches.max(counted.unwrap_or(0));
            }
            _ => {}
        }
    }

    /// A fatal error (a worker command that never starts, an input that cannot be read) is
    /// the run's, carried by the task it stopped at: that task did not run, and a resumed run
    /// (once the cause is fixed) runs it.
    fn undo_fatal(&mut self, fatal: Option<&str>) {
        let Some(fatal) = fatal else { return };
        if let Some(&(task, _)) = self
            .recent_errors
            .iter()
            .rev()
            .find(|(_, message)| message == fatal)
        {
            self.done.remove(task);
            self.errors.remove(task);
        }
    }

    /// Keeps the first best, the highest and the lowest: whatever the goal, its best is one of them.
    fn offer_best(&mut self, best: LoggedBest) {
        match self.bests.as_mut_slice() {
            [] => self.bests.extend([best, best, best]),
            [_, high, low] => {
                if best.score > high.score {
                    *high = best;
                }
                if best.score < low.score {
                    *low = best;
                }
            }
            _ => {}
        }
    }

    fn finish(self, path: &Path) -> Result<Checkpoint, ResumeError> {
        let start = self.start.ok_or_else(|| ResumeError::NoRun(path.to_path_buf()))?;
        if let Some((skip, end)) = start.window
            && end < skip
        {
            return Err(ResumeError::BadWindow(path.to_path_buf(), skip, end));
        }
        let logged = start
            .spec
            .as_ref()
            .ok_or_else(|| ResumeError::NoSpec(path.to_path_buf()))?;
        let spec = logged.known().cloned().map_err(|reason| ResumeError::BadSpec {
            path: path.to_path_buf(),
            reason,
        })?;
        Ok(Checkpoint {
            spec: continued(spec),
            start,
            done: self.done.ranges().to_vec(),
            matches: self.matches,
            match_count: self.matched.len(),
            error_count: self.errors.len(),
            counted_matches: self.counted_matches,
            bests: self.bests,
            elapsed_s: self.elapsed_s,
            active_s: self.active_s,
            finished: self.finished,
        })
    }
}

/// The counts and times of a record that a resumed run continues (a `progress` event, a
/// summary), borrowed so that [`Carried::continue_figures`] adds to them in place.
#[derive(Debug)]
pub struct Figures<'a> {
    /// Tasks run to an outcome.
    pub completed: &'a mut u64,
    /// Matches.
    pub matches: &'a mut u64,
    /// Errors.
    pub errors: &'a mut u64,
    /// Wall seconds.
    pub elapsed_s: &'a mut f64,
    /// Seconds not paused.
    pub active_s: &'a mut f64,
}

/// What a resumed run carries over from the log into its events and summary.
#[derive(Debug, Clone, Default)]
pub struct Carried {
    /// Counts and active time before the resume.
    pub before: ResumedFrom,
    /// Run time already spent: the new run's `t` and elapsed continue from it.
    pub elapsed: std::time::Duration,
    /// The earlier matches.
    pub matches: Vec<MatchEntry>,
    /// The earlier best.
    pub best: Option<poolwatch_core::Best>,
    /// The window and shard of the first run, written again in the new `start` event.
    pub window: Option<(u64, u64)>,
    /// See `window`.
    pub shard: Option<crate::eventlog::schema::ShardInfo>,
}

impl Carried {
    /// What `checkpoint` carries into a run of a search that scores toward `goal`.
    #[must_use]
    pub fn from_checkpoint(checkpoint: &Checkpoint, goal: poolwatch_core::search::Goal) -> Self {
        Self {
            before: checkpoint.before(),
            elapsed: crate::eventlog::schema::seconds(checkpoint.elapsed_s),
            matches: checkpoint.match_entries(),
            best: checkpoint.best(goal).map(Into::into),
            window: checkpoint.start.window,
            shard: checkpoint.start.shard,
        }
    }

    /// The better of the carried best and `now`'s under `goal`.
    #[must_use]
    fn best_with(
        &self,
        now: Option<poolwatch_core::Best>,
        goal: poolwatch_core::search::Goal,
    ) -> Option<poolwatch_core::Best> {
        match (self.best, now) {
            (Some(before), Some(now)) => Some(if goal.improves(now.score, before.score) {
                now
            } else {
                before
            }),
            (before, now) => now.or(before),
        }
    }

    /// The resumed part's figures made into the whole run's: the counts and times done
    /// before are added to `now`'s; returns the better of the carried best and `best`.
    /// The one rule for every record that carries the figures (a `progress` event, a summary).
    pub fn continue_figures(
        &self,
        now: Figures<'_>,
        best: Option<poolwatch_core::Best>,
        goal: poolwatch_core::search::Goal,
    ) -> Option<poolwatch_core::Best> {
        // Counts read from a log: a corrupt one saturates instead of overflowing.
        *now.completed = now.completed.saturating_add(self.before.completed);
        *now.matches = now.matches.saturating_add(self.before.matches);
        *now.errors = now.errors.saturating_add(self.before.errors);
        *now.elapsed_s += self.elapsed.as_secs_f64();
        *now.active_s += self.before.active_s;
        self.best_with(best, goal)
    }

    /// A summary of the resumed part made into the summary of the whole run: counts, times,
    /// matches and best continue, and `resumed` says how much was done before.
    pub fn continue_summary(
        &self,
        summary: &mut crate::summary::Summary,
        goal: poolwatch_core::search::Goal,
    ) {
        let figures = Figures {
            completed: &mut summary.counters.completed,
            matches: &mut summary.counters.matches,
            errors: &mut summary.counters.errors,
            elapsed_s: &mut summary.elapsed_s,
            active_s: &mut summary.active_s,
        };
        summary.best = self.continue_figures(figures, summary.best, goal);
        let mut matches = self.matches.clone();
        matches.append(&mut summary.matches);
        matches.sort_by_key(|entry| entry.task);
        matches.dedup_by_key(|entry| entry.task);
        matches.truncate(crate::summary::MAX_SUMMARY_MATCHES);
        summary.matches = matches;
        // Matches found before count: "none" becomes "found"; a signal or a fatal error stays.
        if summary.counters.matches > 0 && summary.exit_code == crate::console::EXIT_NOT_FOUND {
            summary.exit_code = crate::console::EXIT_FOUND;
        }
        summary.resumed = Some(self.before);
    }
}

/// `spec` as a resumed run runs it: an exec job log goes on (appended to, not created anew).
pub fn continued(mut spec: crate::spec::SearchSpec) -> crate::spec::SearchSpec {
    if let crate::spec::SearchSpec::Exec(exec) = &mut spec
        && exec.joblog.is_some()
        && !exec.resume_failed
    {
        exec.resume = true;
    }
    spec
}

/// The halt reason and exit code of an `end` summary, when its reason ends the run for good.
fn final_end(summary: &EndSummary) -> Option<(String, u8)> {
    summary
        .reason()
        .is_some_and(|reason| FINAL_REASONS.contains(&reason))
        .then(|| (summary.halt_reason.clone(), summary.exit_code))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A log line, parsed.
    pub(crate) fn record(t: f64, event: &str) -> Record {
        crate::eventlog::schema::parse_line(&format!(r#"{{"t":{t},"ts":0,{event}}}"#)).unwrap()
    }

    /// The fields of a `start` event of a collatz run.
    pub(crate) fn start(resumed: bool) -> String {
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
        assert_eq!(
            (checkpoint.done.clone(), checkpoint.finished.clone()),
            (vec![(0, 9)], None)
        );
        records.push(record(3.0, exhausted));
        let checkpoint = Checkpoint::from_records(Path::new("log"), &records).unwrap();
        assert_eq!(checkpoint.finished, Some(("exhausted".to_string(), 0)));
        // A later, unrelated run in the same log is the one resumed.
        records.push(record(0.0, &start(false)));
        let checkpoint = Checkpoint::from_records(Path::new("log"), &records).unwrap();
        assert_eq!((checkpoint.done.clone(), checkpoint.finished), (Vec::new(), None));
    }

    #[test]
    fn a_resumed_runs_figures_add_up_and_the_better_best_stays() {
        use poolwatch_core::Best;
        let carried = Carried {
            before: ResumedFrom {
                completed: 10,
                matches: 1,
                errors: 2,
                active_s: 1.5,
            },
            elapsed: std::time::Duration::from_secs(3),
            best: Some(Best { score: 5.0, task: 4 }),
            ..Carried::default()
        };
        let now = Some(Best { score: 7.0, task: 9 });
        for (goal, better) in [
            (poolwatch_core::search::Goal::Minimize, carried.best),
            (poolwatch_core::search::Goal::Maximize, now),
        ] {
            let (figures, best) = continued(&carried, (5, 0, 1, 1.0, 0.5), now, goal);
            assert_eq!(best, better);
            let (completed, matches, errors, elapsed_s, active_s) = figures;
            assert_eq!((completed, matches, errors), (15, 1, 3));
            assert!((elapsed_s - 4.0).abs() < 1e-9 && (active_s - 2.0).abs() < 1e-9);
        }
    }

    /// Figures (completed, matches, errors, elapsed_s, active_s) carried on by `carried`,
    /// and the best it returns.
    fn continued(
        carried: &Carried,
        (mut completed, mut matches, mut errors, mut elapsed_s, mut active_s): (u64, u64, u64, f64, f64),
        best: Option<poolwatch_core::Best>,
        goal: poolwatch_core::search::Goal,
    ) -> ((u64, u64, u64, f64, f64), Option<poolwatch_core::Best>) {
        let figures = Figures {
            completed: &mut completed,
            matches: &mut matches,
            errors: &mut errors,
            elapsed_s: &mut elapsed_s,
            active_s: &mut active_s,
        };
        let best = carried.continue_figures(figures, best, goal);
        ((completed, matches, errors, elapsed_s, active_s), best)
    }

    /// Counts from a corrupt log saturate when carried on, instead of overflowing.
    #[test]
    fn huge_logged_counts_saturate_when_carried_on() {
        let carried = Carried {
            before: ResumedFrom {
                completed: u64::MAX,
                matches: u64::MAX,
                errors: u64::MAX,
                active_s: 0.0,
            },
            ..Carried::default()
        };
        let ((completed, matches, errors, _, _), _) = continued(
            &carried,
            (5, 1, 1, 0.0, 0.0),
            None,
            poolwatch_core::search::Goal::Maximize,
        );
        assert_eq!((completed, matches, errors), (u64::MAX, u64::MAX, u64::MAX));
    }

    #[test]
    fn the_best_follows_the_goal() {
        let mut records = vec![record(0.0, &start(false))];
        for score in [3, 9, 5] {
            records.push(record(
                1.0,
                &format!(r#""event":"best","task":{score},"score":{score},"worker":0"#),
            ));
        }
        let checkpoint = Checkpoint::from_records(Path::new("log"), &records).unwrap();
        assert_eq!(
            checkpoint
                .best(poolwatch_core::search::Goal::Maximize)
                .map(|b| b.task),
            Some(9)
        );
        assert_eq!(
            checkpoint
                .best(poolwatch_core::search::Goal::Minimize)
                .map(|b| b.task),
            Some(3)
        );
    }
}
