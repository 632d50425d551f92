//! `poolwatch watch`: follow one or more `--log` files (one run, or the shards of one search) and aggregate them into one picture.
//!
//! [`Aggregate`] is the pure part: records in (from [`crate::eventlog::schema::LogTail`]), a [`Snapshot`]
//! of the whole search, pool-style [`Event`]s for the result log, the shards table and the
//! combined [`Summary`] out. [`follow`] reads the files; [`view`] draws the dashboard.

pub mod entry;
pub mod follow;
pub mod view;

use crate::app::ShardRow;
use crate::eventlog::schema::{EndSummary, LogEvent, LoggedBest, ProgressEvent, Record, StartEvent};
use crate::summary::{MAX_SUMMARY_MATCHES, MatchEntry, Summary};
use poolwatch_core::search::Goal;
use poolwatch_core::search::MatchOdds;
use poolwatch_core::{
    Best, Counters, Event, HaltReason, RangeSet, RunReport, RunState, Snapshot, bucket_span,
};
use serde::Serialize;
use std::time::Duration;

/// A shard is flagged silent after this many status intervals without a line.
pub const SILENT_INTERVALS: f64 = 3.0;
/// The status interval assumed until two `progress` events show the real one.
const DEFAULT_INTERVAL_S: f64 = 1.0;
/// Coverage buckets of the aggregated snapshot (as a single run's default).
const COVERAGE_BUCKETS: usize = 512;

/// What the watcher knows of one log (one shard, or one unsharded run).
#[derive(Debug, Clone, Default)]
pub struct ShardLog {
    /// The `start` event of the log's latest run.
    pub start: Option<StartEvent>,
    /// Unix time of that `start`.
    pub started_ts: f64,
    /// Its latest `progress` event.
    pub progress: Option<ProgressEvent>,
    /// Unix time of the latest line.
    pub last_ts: f64,
    /// Seconds between its last two `progress` events.
    pub interval_s: f64,
    /// Paused by a `pause` event (and not resumed since).
    pub paused: bool,
    /// Its `halt` reason, once it halted.
    pub halt: Option<String>,
    /// Its `end` summary, once it ended.
    pub end: Option<EndSummary>,
    /// Unix time of the `end` line.
    pub end_ts: f64,
    /// Unix time of its first `match` line.
    pub first_match_ts: Option<f64>,
}

impl ShardLog {
    /// The shard's index in the search (its log's position when unsharded).
    #[must_use]
    pub fn index(&self, position: usize) -> u64 {
        self.start
            .as_ref()
            .and_then(|s| s.shard)
            .map_or(position as u64, |shard| shard.index)
    }

    /// One word for the shards table.
    #[must_use]
    pub fn state(&self) -> String {
        if let Some(end) = &self.end {
            return format!("ended: {}", end.halt_reason);
        }
        if self.start.is_none() {
            return "waiting".to_string();
        }
        if self.halt.is_some() {
            return "halting".to_string();
        }
        if self.paused {
            return "paused".to_string();
        }
        self.progress
            .as_ref()
            .map_or_else(|| "starting".to_string(), |p| p.state.clone())
    }
}

/// The aggregated summary: a single run's fields plus the shards.
#[derive(Debug, Clone, Serialize)]
pub struct WatchSummary {
    /// The same fields as a single run's summary, for the whole search.
    #[serde(flatten)]
    pub summary: Summary,
    /// One entry per shard.
    pub shards: Vec<ShardRow>,
}

/// Every followed log, combined.
#[derive(Debug, Clone)]
pub struct Aggregate {
    /// One per log, in the order given.
    pub logs: Vec<ShardLog>,
    /// The log paths, for the table.
    pub paths: Vec<String>,
    /// How the search's scores improve (from its spec).
    pub goal: Goal,
    /// Whether the search has a match condition (from its spec; true when unknown).
    pub can_match: bool,
    /// Best score over every shard.
    pub best: Option<Best>,
    /// The matches seen (at most [`MAX_SUMMARY_MATCHES`]).
    pub matches: Vec<MatchEntry>,
    /// Unix time of the earliest `start`: the search's time zero.
    pub origin_ts: Option<f64>,
    /// Set by whoever halted every shard (the cluster watcher), overriding the shards' own reasons.
    pub halt_override: Option<HaltReason>,
    /// The search's odds of a match (from its spec), for the expected match time.
    pub odds: MatchOdds,
}

impl Aggregate {
    /// The search's odds of a match, as its spec tells them.
    #[must_use]
    pub fn match_odds(&self) -> MatchOdds {
        self.odds
    }

    /// An aggregate of `paths`, nothing read yet.
    #[must_use]
    pub fn new(paths: Vec<String>) -> Self {
        Self {
            logs: vec![ShardLog::default(); paths.len()],
            paths,
            goal: Goal::None,
            can_match: true,
            odds: MatchOdds::Unknown,
            best: None,
            matches: Vec::new(),
            origin_ts: None,
            halt_override: None,
        }
    }

    /// Run time of unix time `ts` on the search's clock.
    #[must_use]
    pub fn at(&self, ts: f64) -> Duration {
        crate::eventlog::schema::seconds(ts - self.origin_ts.unwrap_or(ts))
    }

    /// Takes in the new records of log `index`; returns the pool-style events for the result log.
    pub fn ingest(&mut self, index: usize, records: Vec<Record>) -> Vec<Event> {
        let mut events = Vec::new();
        for record in records {
            if let Some(event) = self.ingest_one(index, record) {
                events.push(event);
            }
        }
        events
    }

    fn ingest_one(&mut self, index: usize, record: Record) -> Option<Event> {
        let ts = record.ts;
        let log = self.logs.get_mut(index)?;
        log.last_ts = log.last_ts.max(ts);
        match record.event {
            LogEvent::Start(start) => {
                // A new run in this log (a rerun or a resume) replaces what the log said before.
                *log = ShardLog {
                    started_ts: ts,
                    last_ts: ts,
                    interval_s: DEFAULT_INTERVAL_S,
                    ..ShardLog::default()
                };
                if self.origin_ts.is_none() {
                    (self.goal, self.can_match, self.odds) = nature_of(&start);
                }
                log.start = Some(start);
                self.origin_ts = Some(self.origin_ts.map_or(ts, |origin| origin.min(ts)));
                None
            }
            LogEvent::Progress(progress) => {
                if let Some(previous) = &log.progress {
                    let gap = progress.elapsed_s - previous.elapsed_s;
                    if gap > 0.0 {
                        log.interval_s = gap;
                    }
                }
                let best = progress.best;
                log.progress = Some(progress);
                // A best is also in the progress line: a log read from the middle still has it.
                best.and_then(|best| self.offer_best(best, index, ts))
            }
            LogEvent::Match {
                task,
                input,
                value,
                score,
                worker,
            } => {
                log.first_match_ts.get_or_insert(ts);
                if self.matches.len() < MAX_SUMMARY_MATCHES {
                    self.matches.push(MatchEntry {
                        task,
                        input: input.clone(),
                        value: value.clone(),
                    });
                }
                Some(Event::Match {
                    task,
                    value,
                    score,
                    worker,
                    at: self.at(ts),
                })
            }
            LogEvent::Error {
                task,
                message,
                worker,
                ..
            } => Some(Event::Error {
                task,
                message,
                worker,
                at: self.at(ts),
            }),
            LogEvent::Notice {
                task,
                message,
                worker,
                ..
            } => Some(Event::Notice {
                task,
                message,
                worker,
                at: self.at(ts),
            }),
            LogEvent::Best { task, score, .. } => self.offer_best(LoggedBest { score, task }, index, ts),
            LogEvent::Halt { reason } => {
                log.halt = Some(reason);
                None
            }
            LogEvent::Pause {} => {
                log.paused = true;
                None
            }
            LogEvent::Resume {} => {
                log.paused = false;
                None
            }
            LogEvent::End { summary } => {
                log.end = Some(summary);
                log.end_ts = ts;
                None
            }
            LogEvent::Workers { .. } | LogEvent::HaltRequest { .. } => None,
        }
    }

    /// A new best across every shard becomes a `NewBest` event.
    fn offer_best(&mut self, candidate: LoggedBest, shard: usize, ts: f64) -> Option<Event> {
        let better = self.best.is_none_or(|best| {
            self.goal.improves(candidate.score, best.score)
                || (candidate.score == best.score && candidate.task < best.task)
        });
        if !better || self.goal == Goal::None {
            return None;
        }
        self.best = Some(candidate.into());
        Some(Event::NewBest {
            task: candidate.task,
            score: candidate.score,
            worker: shard,
            at: self.at(ts),
        })
    }

    /// True once at least one log has started and every started log has ended.
    #[must_use]
    pub fn all_ended(&self) -> bool {
        let started: Vec<&ShardLog> = self.logs.iter().filter(|l| l.start.is_some()).collect();
        !started.is_empty() && started.iter().all(|l| l.end.is_some())
    }

    /// Size of the whole search: the space (or window) the shards split.
    #[must_use]
    pub fn total(&self) -> u64 {
        let declared = self
            .logs
            .iter()
            .filter_map(|l| l.start.as_ref())
            .find_map(|start| match (start.window, start.shard) {
                (Some(window), Some(_)) => crate::eventlog::schema::skip_limit(window).1,
                (None, Some(_)) => start.space,
                _ => None,
            });
        declared.unwrap_or_else(|| {
            self.logs
                .iter()
                .filter_map(|l| l.progress.as_ref())
                .map(|p| p.total)
                .sum()
        })
    }

    /// The union of every shard's completed ranges.
    #[must_use]
    pub fn done_ranges(&self) -> Vec<(u64, u64)> {
        let mut done = RangeSet::new();
        for progress in self.logs.iter().filter_map(|l| l.progress.as_ref()) {
            for &range in &progress.done {
                done.insert(range);
            }
        }
        done.ranges().to_vec()
    }

    /// The whole search as one snapshot, at unix time `now` (the workers table stays empty:
    /// the shards table takes its place).
    #[must_use]
    pub fn snapshot(&self, now: f64) -> Snapshot {
        let progresses: Vec<&ProgressEvent> = self.logs.iter().filter_map(|l| l.progress.as_ref()).collect();
        let sum = |field: fn(&ProgressEvent) -> u64| progresses.iter().map(|p| field(p)).sum::<u64>();
        let counters = Counters {
            total: self.total(),
            submitted: sum(|p| p.submitted),
            completed: sum(|p| p.completed),
            cancelled: sum(|p| p.cancelled),
            matches: sum(|p| p.matches),
            errors: sum(|p| p.errors),
            started_after_halt: self
                .logs
                .iter()
                .filter_map(|l| l.end.as_ref())
                .map(|end| end.started_after_halt)
                .sum(),
            ..Counters::default()
        };
        let live_rates = self
            .logs
            .iter()
            .filter(|l| l.end.is_none())
            .filter_map(|l| l.progress.as_ref())
            .map(|p| p.rate);
        let end = if self.all_ended() { self.last_end_ts() } else { now };
        Snapshot {
            state: self.run_state(),
            total_open: progresses.iter().any(|p| p.total_open),
            target_workers: self.workers(),
            // 0.0 + ...: a float sum of nothing is -0.0.
            tasks_per_s: 0.0 + live_rates.sum::<f64>(),
            elapsed: self.at(end),
            active: self.active().min(self.at(end)),
            best: self.best,
            coverage: coverage(counters.total, &self.done_ranges()),
            counters,
            ..Snapshot::default()
        }
    }

    fn last_end_ts(&self) -> f64 {
        self.logs
            .iter()
            .map(|l| l.end_ts)
            .fold(self.origin_ts.unwrap_or(0.0), f64::max)
    }

    /// The workers of the whole search: each started shard's latest count (its `progress`
    /// line's, or its `start` line's before the first progress), ended shards included, as
    /// the summary counts them.
    #[must_use]
    pub fn workers(&self) -> usize {
        self.logs
            .iter()
            .filter_map(|l| {
                let start = l.start.as_ref()?;
                Some(l.progress.as_ref().map_or(start.workers, |p| p.workers))
            })
            .sum()
    }

    /// The active time of the search as of unix time `now`, for people to read: as
    /// [`Aggregate::active`], but a live shard that is not paused is active until now (its
    /// paused time so far is its last `progress` line's elapsed less active), where the
    /// snapshot's figure stops at that line, to go with the completed count it holds.
    #[must_use]
    pub fn live_active(&self, now: f64) -> Duration {
        let seconds = self
            .logs
            .iter()
            .filter(|l| l.end.is_none() && !l.paused)
            .filter_map(|l| {
                let progress = l.progress.as_ref()?;
                let paused = (progress.elapsed_s - progress.active_s).max(0.0);
                let elapsed = (now - l.started_ts).max(progress.elapsed_s);
                Some(l.started_ts - self.origin_ts.unwrap_or(l.started_ts) + elapsed - paused)
            })
            .fold(self.active().as_secs_f64(), f64::max);
        let end = if self.all_ended() { self.last_end_ts() } else { now };
        crate::eventlog::schema::seconds(seconds).min(self.at(end))
    }

    /// The longest stretch any shard was not paused, measured from the search's time zero:
    /// an ended shard's own figure from its summary (its last `progress` line is older than
    /// its end), a live shard's from its latest `progress` line, the moment its completed
    /// count is from (the throughput meter divides one by the other).
    fn active(&self) -> Duration {
        let seconds = self
            .logs
            .iter()
            .filter_map(|l| {
                let progress = l.progress.as_ref();
                let active = match &l.end {
                    Some(end) => end
                        .rest
                        .get("active_s")
                        .and_then(serde_json::Value::as_f64)
                        .or_else(|| progress.map(|p| p.active_s))?,
                    None => progress?.active_s,
                };
                Some(l.started_ts - self.origin_ts.unwrap_or(l.started_ts) + active)
            })
            .fold(0.0, f64::max);
        crate::eventlog::schema::seconds(seconds)
    }

    fn run_state(&self) -> RunState {
        if self.all_ended() {
            return RunState::Finished(self.halt_reason());
        }
        let live: Vec<&ShardLog> = self
            .logs
            .iter()
            .filter(|l| l.start.is_some() && l.end.is_none())
            .collect();
        if self.halt_override.is_some() || live.iter().any(|l| l.halt.is_some()) {
            RunState::Halting(self.halt_reason())
        } else if !live.is_empty() && live.iter().all(|l| l.paused) {
            RunState::Paused
        } else {
            RunState::Running
        }
    }

    /// Why the search as a whole ended: the watcher's own decision if it made one, else the
    /// most telling of the shards' reasons (a fatal error, then a match, ..., exhausted last).
    #[must_use]
    pub fn halt_reason(&self) -> HaltReason {
        if let Some(reason) = self.halt_override {
            return reason;
        }
        let reasons: Vec<&str> = self
            .logs
            .iter()
            .filter_map(|l| {
                l.end
                    .as_ref()
                    .map(|end| end.halt_reason.as_str())
                    .or(l.halt.as_deref())
            })
            .collect();
        // The shard reason that explains the whole run best, most telling first.
        let order = [
            HaltReason::Fatal,
            HaltReason::Match,
            HaltReason::After,
            HaltReason::Fail,
            HaltReason::Done,
            HaltReason::User,
            HaltReason::Signal,
            HaltReason::Bounded,
        ];
        order
            .into_iter()
            .find(|reason| reasons.contains(&reason.as_str()))
            .unwrap_or(HaltReason::Exhausted)
    }

    /// The shards table at unix time `now`, ordered by shard index.
    #[must_use]
    pub fn shard_rows(&self, now: f64) -> Vec<ShardRow> {
        let mut rows: Vec<ShardRow> = self
            .logs
            .iter()
            .enumerate()
            .map(|(position, log)| {
                let progress = log.progress.as_ref();
                let live = log.start.is_some() && log.end.is_none();
                let silent_for = (now - log.last_ts).max(0.0);
                ShardRow {
                    shard: log.index(position),
                    host: log.start.as_ref().map(|s| s.host.clone()).unwrap_or_default(),
                    state: log.state(),
                    completed: progress.map_or(0, |p| p.completed),
                    total: progress.map_or(0, |p| p.total),
                    matches: progress.map_or(0, |p| p.matches),
                    errors: progress.map_or(0, |p| p.errors),
                    rate: if live {
                        progress.map_or(0.0, |p| p.rate)
                    } else {
                        0.0
                    },
                    last_heard_s: if log.start.is_some() { silent_for } else { 0.0 },
                    silent: live && silent_for > SILENT_INTERVALS * log.interval_s,
                    exit_code: log.end.as_ref().map(|end| end.exit_code),
                    log: self.paths.get(position).cloned().unwrap_or_default(),
                }
            })
            .collect();
        rows.sort_by_key(|row| row.shard);
        rows
    }

    /// The report of the whole search, as a single run would give it.
    #[must_use]
    pub fn report(&self, now: f64) -> RunReport {
        let snapshot = self.snapshot(now);
        RunReport {
            reason: self.halt_reason(),
            counters: snapshot.counters,
            workers: self.workers(),
            elapsed: snapshot.elapsed,
            active: snapshot.active,
            halt_latency: self.halt_latency(),
            best: self.best,
            fatal: self
                .logs
                .iter()
                .find_map(|l| l.end.as_ref().and_then(|end| end.fatal.clone())),
            ..RunReport::default()
        }
    }

    /// The halt latency as the runs measured it: the summary's of the shard that matched
    /// first (of the one run, for one log), else the longest any shard's summary gives. When
    /// the watcher halted the shards itself, from the first match to the last shard ended.
    #[must_use]
    pub fn halt_latency(&self) -> Option<Duration> {
        if self.halt_override.is_none() {
            let logged = |l: &ShardLog| {
                l.end
                    .as_ref()?
                    .rest
                    .get("halt_latency_ms")
                    .and_then(serde_json::Value::as_f64)
            };
            let first_matched = self
                .logs
                .iter()
                .filter(|l| l.first_match_ts.is_some())
                .min_by(|a, b| {
                    a.first_match_ts
                        .partial_cmp(&b.first_match_ts)
                        .unwrap_or(std::cmp::Ordering::Equal)
                })
                .and_then(logged);
            let longest = self.logs.iter().filter_map(logged).reduce(f64::max);
            return first_matched
                .or(longest)
                .map(|ms| crate::eventlog::schema::seconds(ms / 1e3));
        }
        if !matches!(self.halt_reason(), HaltReason::Match | HaltReason::After) || !self.all_ended() {
            return None;
        }
        let first = self
            .logs
            .iter()
            .filter_map(|l| l.first_match_ts)
            .fold(f64::INFINITY, f64::min);
        first
            .is_finite()
            .then(|| crate::eventlog::schema::seconds(self.last_end_ts() - first))
    }

    /// The aggregated summary; `signal` is the one that stopped the watcher, if any.
    #[must_use]
    pub fn summary(&self, now: f64, signal: Option<i32>) -> WatchSummary {
        let start = self.logs.iter().find_map(|l| l.start.as_ref());
        let report = self.report(now);
        let mut matches = self.matches.clone();
        matches.sort_by_key(|entry| entry.task);
        let mut summary = Summary::new(
            start.map_or("", |s| s.search.as_str()),
            start.map(|s| s.params.clone()).unwrap_or_default(),
            start.map(|s| s.halt.clone()).unwrap_or_default(),
            &report,
            matches,
            signal,
            self.can_match,
        );
        summary.peak_rss_kb = self
            .logs
            .iter()
            .filter_map(|l| l.end.as_ref().map(|end| end.peak_rss_kb))
            .max()
            .unwrap_or(0);
        WatchSummary {
            summary,
            shards: self.shard_rows(now),
        }
    }
}

/// How scores improve, whether there is a match condition and the odds of a match, for the
/// search a `start` event describes (an `exec` search is not rebuilt: it has no score, always
/// a condition and unknown odds).
fn nature_of(start: &StartEvent) -> (Goal, bool, MatchOdds) {
    start
        .spec
        .as_ref()
        .and_then(|logged| logged.known().ok().cloned())
        .filter(|spec| !matches!(spec, crate::spec::SearchSpec::Exec(_)))
        .and_then(|spec| spec.build().ok())
        .map_or((Goal::None, true, MatchOdds::Unknown), |search| {
            (search.goal(), search.can_match(), search.match_odds())
        })
}

/// Completed ids per coverage bucket, from merged ranges.
fn coverage(total: u64, done: &[(u64, u64)]) -> Vec<u64> {
    let mut buckets = vec![0; COVERAGE_BUCKETS];
    if total == 0 {
        return buckets;
    }
    let mut first = 0;
    for (index, bucket) in buckets.iter_mut().enumerate() {
        let (start, end) = bucket_span(total, COVERAGE_BUCKETS, index);
        while first < done.len() && done[first].1 <= start {
            first += 1;
        }
        *bucket = done[first..]
            .iter()
            .take_while(|&&(s, _)| s < end)
            .map(|&(s, e)| e.min(end) - s.max(start))
            .sum();
    }
    buckets
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eventlog::schema::{FORMAT_VERSION, ShardInfo};

    fn record(ts: f64, event: LogEvent) -> Record {
        Record { t: 0.0, ts, event }
    }

    fn start(index: u64) -> LogEvent {
        LogEvent::Start(StartEvent {
            format: FORMAT_VERSION,
            search: "collatz".into(),
            params: "below=1000".into(),
            spec: Some(crate::eventlog::schema::LoggedSpec::Known(Box::new(
                crate::spec::SearchSpec::Collatz(crate::spec::CollatzSpec {
                    below: 1000,
                    target: None,
                }),
            ))),
            workers: 1,
            halt: "never".into(),
            space: Some(999),
            window: None,
            shard: Some(ShardInfo {
                index,
                count: 2,
                chunk: 10,
            }),
            host: format!("node{index}"),
            pid: 1,
            resumed: None,
        })
    }

    fn progress(elapsed_s: f64, completed: u64, best: Option<LoggedBest>, done: Vec<(u64, u64)>) -> LogEvent {
        LogEvent::Progress(ProgressEvent {
            state: "running".into(),
            total: 500,
            total_open: false,
            submitted: completed,
            completed,
            cancelled: 0,
            matches: 0,
            errors: 0,
            rate: 100.0,
            best,
            elapsed_s,
            active_s: elapsed_s,
            workers: 1,
            done,
        })
    }

    fn two_shards() -> Aggregate {
        let mut aggregate = Aggregate::new(vec!["a".into(), "b".into()]);
        aggregate.ingest(
            0,
            vec![
                record(100.0, start(0)),
                record(
                    101.0,
                    progress(1.0, 10, Some(LoggedBest { score: 5.0, task: 3 }), vec![(0, 10)]),
                ),
            ],
        );
        aggregate.ingest(
            1,
            vec![
                record(100.5, start(1)),
                record(
                    101.5,
                    progress(1.0, 10, Some(LoggedBest { score: 9.0, task: 17 }), vec![(10, 20)]),
                ),
            ],
        );
        aggregate
    }

    #[test]
    fn shards_add_up_to_one_search() {
        let aggregate = two_shards();
        let snapshot = aggregate.snapshot(102.0);
        assert_eq!(
            snapshot.counters.total, 999,
            "the whole space, not a shard's share"
        );
        assert_eq!(snapshot.counters.completed, 20);
        assert_eq!(snapshot.coverage.iter().sum::<u64>(), 20);
        assert_eq!(
            snapshot.best,
            Some(Best { score: 9.0, task: 17 }),
            "collatz maximises"
        );
        assert!((snapshot.tasks_per_s - 200.0).abs() < 1e-9);
        assert_eq!(snapshot.elapsed, Duration::from_secs(2));
        assert_eq!(aggregate.done_ranges(), vec![(0, 20)]);
    }

    #[test]
    fn shards_of_a_window_open_to_the_end_add_up_their_totals() {
        let mut aggregate = Aggregate::new(vec!["a".into(), "b".into()]);
        for index in 0..2 {
            let LogEvent::Start(mut opened) = start(index) else {
                panic!("start() is a start event");
            };
            // Lines still being read, from the 6th on: no space, no end to the window.
            (opened.space, opened.window) = (None, Some((5, u64::MAX)));
            let events = vec![
                record(100.0, LogEvent::Start(opened)),
                record(101.0, progress(1.0, 10, None, vec![])),
            ];
            aggregate.ingest(usize::try_from(index).unwrap(), events);
        }
        assert_eq!(aggregate.total(), 1_000, "the shards' totals, not u64::MAX - 5");
    }

    #[test]
    fn a_shard_silent_for_three_intervals_is_flagged() {
        let aggregate = two_shards();
        let rows = aggregate.shard_rows(103.8);
        assert!(
            !rows[0].silent && !rows[1].silent,
            "2.8 s and 2.3 s: within 3 intervals of 1 s"
        );
        let rows = aggregate.shard_rows(104.2);
        assert!(
            rows[0].silent && !rows[1].silent,
            "3.2 s silent: flagged; 2.7 s: not"
        );
        assert_eq!(rows[1].host, "node1");
    }

    #[test]
    fn the_watcher_s_halt_decides_the_reason_and_a_match_beats_a_signal() {
        let mut aggregate = two_shards();
        let end = |reason: &str| LogEvent::End {
            summary: EndSummary {
                halt_reason: reason.to_string(),
                exit_code: 0,
                fatal: None,
                peak_rss_kb: 0,
                started_after_halt: 0,
                rest: serde_json::Map::new(),
            },
        };
        aggregate.ingest(0, vec![record(105.0, end("match"))]);
        aggregate.ingest(1, vec![record(105.2, end("signal"))]);
        assert!(aggregate.all_ended());
        assert_eq!(aggregate.halt_reason(), HaltReason::Match);
        aggregate.halt_override = Some(HaltReason::User);
        assert_eq!(aggregate.halt_reason(), HaltReason::User);
        assert_eq!(
            aggregate.snapshot(200.0).elapsed,
            Duration::from_secs_f64(5.2),
            "a finished search's clock stops at the last end"
        );
    }

    fn end_with(reason: &str, rest: serde_json::Value) -> LogEvent {
        LogEvent::End {
            summary: EndSummary {
                halt_reason: reason.to_string(),
                exit_code: 0,
                fatal: None,
                peak_rss_kb: 0,
                started_after_halt: 0,
                rest: rest.as_object().cloned().unwrap_or_default(),
            },
        }
    }

    /// Issue 25: a run never paused is as active as it is long once it ended.
    #[test]
    fn a_run_never_paused_is_active_all_along() {
        let mut aggregate = two_shards();
        aggregate.ingest(
            0,
            vec![record(
                102.5,
                end_with("exhausted", serde_json::json!({"active_s": 2.5})),
            )],
        );
        aggregate.ingest(
            1,
            vec![record(
                103.0,
                end_with("exhausted", serde_json::json!({"active_s": 2.5})),
            )],
        );
        let ended = aggregate.snapshot(200.0);
        assert_eq!(ended.elapsed, Duration::from_secs(3));
        let three = Duration::from_secs(3);
        assert!(
            three - ended.active < Duration::from_millis(1),
            "shard 1 started 0.5 s late, ran 2.5 s"
        );
    }

    /// Issue 25: a live search never paused reads as active as it is long, though its shards'
    /// last `progress` lines are a while old; the snapshot's own figure stays with them.
    #[test]
    fn a_live_search_never_paused_reads_active_all_along() {
        let aggregate = two_shards();
        // Shard 0 started at 100.0, last said 1.0 s active at 101.0; now is 102.5.
        let now = 102.5;
        assert_eq!(aggregate.snapshot(now).elapsed, Duration::from_millis(2500));
        assert!(aggregate.snapshot(now).active < Duration::from_millis(1600));
        let live = aggregate.live_active(now);
        assert!(
            Duration::from_millis(2500) - live < Duration::from_millis(1),
            "{live:?}"
        );
    }

    /// Issue 25: the halt latency is the one the runs' summaries give, not the time to the
    /// last shard's end.
    #[test]
    fn the_halt_latency_is_the_runs_own() {
        let mut aggregate = two_shards();
        let matched = LogEvent::Match {
            task: 12,
            input: None,
            value: "12".into(),
            score: None,
            worker: 0,
        };
        aggregate.ingest(1, vec![record(102.0, matched)]);
        let latency = serde_json::json!({"halt_latency_ms": 0.091});
        aggregate.ingest(1, vec![record(102.1, end_with("match", latency))]);
        aggregate.ingest(
            0,
            vec![record(104.0, end_with("exhausted", serde_json::json!({})))],
        );
        assert_eq!(aggregate.halt_latency(), Some(Duration::from_secs_f64(0.091e-3)));
        // A run halted otherwise than by a match still has its own latency.
        let mut one = Aggregate::new(vec!["a".into()]);
        one.ingest(0, vec![record(100.0, start(0))]);
        let latency = serde_json::json!({"halt_latency_ms": 0.339});
        one.ingest(0, vec![record(101.0, end_with("user", latency))]);
        assert_eq!(one.halt_latency(), Some(Duration::from_secs_f64(0.339e-3)));
    }

    /// Issue 25: the header's worker count is the logs', before the first progress line and
    /// after the end alike.
    #[test]
    fn the_worker_count_comes_from_the_logs() {
        let mut aggregate = Aggregate::new(vec!["a".into(), "b".into()]);
        aggregate.ingest(0, vec![record(100.0, start(0))]);
        aggregate.ingest(1, vec![record(100.0, start(1))]);
        assert_eq!(
            aggregate.snapshot(100.5).target_workers,
            2,
            "from the start lines"
        );
        let mut aggregate = two_shards();
        aggregate.ingest(
            0,
            vec![record(102.5, end_with("exhausted", serde_json::json!({})))],
        );
        aggregate.ingest(
            1,
            vec![record(103.0, end_with("exhausted", serde_json::json!({})))],
        );
        assert_eq!(aggregate.snapshot(104.0).target_workers, 2, "after the end");
        assert_eq!(aggregate.report(104.0).workers, 2);
    }

    #[test]
    fn coverage_counts_each_id_in_its_bucket() {
        let total = 1024;
        let buckets = coverage(total, &[(0, 3), (510, 1024)]);
        assert_eq!(buckets.iter().sum::<u64>(), 3 + 514);
        assert_eq!(buckets[0], 2);
        assert_eq!(buckets[1], 1);
        assert_eq!(buckets[255], 2);
        assert_eq!(buckets[511], 2);
    }
}
