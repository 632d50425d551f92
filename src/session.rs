//! One run's life, the same for every front end (headless, the dashboard, and the Python
//! package that drives the binary): its configuration from a preset and the command line,
//! `--resume`, the engine's [`Run`], the `--log` recorder, the `--runs` file, the control
//! requests (keys and signals alike) and the end with its summary.
//!
//! A front end builds a [`Launch`], calls [`Session::start`], feeds every pool event to
//! [`Session::record`], turns keys and signals into [`Request`]s for [`Session::request`],
//! and ends with [`Session::finish`]. What it shows and how it waits is its own.

use crate::eventlog::checkpoint::{Carried, Checkpoint};
use crate::eventlog::file::EventLog;
use crate::eventlog::recorder::Recorder;
use crate::eventlog::schema::LogEvent;
use crate::preset::Preset;
use crate::runs_file::RunRecord;
use crate::summary::Summary;
use poolwatch_core::search::{Goal, Search};
use poolwatch_core::{Best, Event, Run, RunConfig, RunReport, Shard, Snapshot};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// What to run and where to record it.
pub struct Launch<'a> {
    /// The run as a preset describes it: search spec, workers, halt policy.
    pub preset: &'a Preset,
    /// The search, built from the preset's spec.
    pub search: Arc<dyn Search>,
    /// `--skip`/`--limit` as a window `[start, end)`; a resumed run keeps its logged window.
    pub window: Option<(u64, u64)>,
    /// `--shard I/N` of a fresh run; a resumed run keeps its logged shard.
    pub shard: Option<Shard>,
    /// `--resume FILE`: where the logged run stopped.
    pub checkpoint: Option<&'a Checkpoint>,
    /// The `--log` file (or none).
    pub log: EventLog,
    /// How often a `progress` event is logged (`--status-every`).
    pub status_every: Duration,
    /// `--runs FILE`: the finished run's record is appended there.
    pub runs_path: Option<PathBuf>,
    /// `--bounds DIR`: under `--halt lowest`, matches shared with the search's other shards.
    pub bounds: Option<PathBuf>,
}

/// A control request, from a key or a signal: each is applied, and logged, in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    /// Stop submitting; running tasks go on.
    Pause,
    /// Submit again.
    Resume,
    /// Halt now: queued work dropped, running tasks cancelled.
    HaltNow,
    /// Halt soon: no new work, running tasks finish.
    HaltSoon,
    /// Change the worker count.
    SetWorkers(usize),
}

/// How a session ended.
pub struct Ending {
    /// The summary, as the log's `end` event holds it.
    pub summary: Summary,
    /// The run's line of the runs history (appended to `--runs` when given).
    pub record: RunRecord,
    /// Why the record could not be appended to `--runs`, as one line.
    pub runs_problem: Option<String>,
}

/// A live run and everything recorded about it.
pub struct Session {
    run: Run,
    recorder: Recorder,
    preset: Preset,
    search: Arc<dyn Search>,
    config: RunConfig,
    runs_path: Option<PathBuf>,
    /// A resumed run's earlier figures and best, and its goal: what the screen adds to the
    /// pool's own (see [`Session::snapshot`]), as the summary does.
    carried: Option<(Carried, Goal)>,
    /// `--bounds DIR` under `--halt lowest`: this run's share of the folder.
    bounds: Option<crate::bounds::BoundShare>,
}

impl Session {
    /// The pool settings of a run: the preset's workers and halt policy, the window, and for
    /// a resumed run its logged window, shard and the ids done before.
    #[must_use]
    pub fn config(
        preset: &Preset,
        window: Option<(u64, u64)>,
        shard: Option<Shard>,
        checkpoint: Option<&Checkpoint>,
    ) -> RunConfig {
        let Some(checkpoint) = checkpoint else {
            let config = crate::resume::configure(preset.run_config(), window, None);
            return match shard {
                Some(shard) => config.with_shard(shard),
                None => config,
            };
        };
        let done = Some(checkpoint.done.clone());
        let config = crate::resume::configure(preset.run_config(), checkpoint.start.window, done);
        crate::resume::with_logged_shard(config, checkpoint.start.shard)
    }

    /// Starts the run: its `start` (or resumed `start`) event is logged first.
    #[must_use]
    pub fn start(launch: Launch<'_>) -> Self {
        let Launch {
            preset,
            search,
            window,
            shard,
            checkpoint,
            log,
            status_every,
            runs_path,
            bounds,
        } = launch;
        let config = Self::config(preset, window, shard, checkpoint);
        let spec = Some(&preset.spec);
        let goal = search.goal();
        let carried = checkpoint.map(|checkpoint| (Carried::from_checkpoint(checkpoint, goal), goal));
        let recorder = match &carried {
            None => Recorder::start(log, &search, &config, spec),
            Some((carried, _)) => Recorder::resume(log, &search, &config, spec, carried.clone()),
        }
        .with_status_every(status_every);
        let run = Run::start(Arc::clone(&search), &config);
        let bounds = bounds
            .filter(|_| config.policy == poolwatch_core::HaltPolicy::Lowest)
            .and_then(|dir| share_bounds(&dir, &config, &run));
        Self {
            run,
            recorder,
            preset: preset.clone(),
            search,
            config,
            runs_path,
            carried,
            bounds,
        }
    }

    /// The run's snapshot as the whole run's: a resumed run's earlier matches, errors, times
    /// and best are added (the ids it completed are the pool's `done_before`).
    #[must_use]
    pub fn snapshot(&self) -> Snapshot {
        let mut snapshot = self.run.snapshot();
        if let Some((carried, goal)) = &self.carried {
            carry(
                carried,
                *goal,
                &mut snapshot.counters,
                &mut snapshot.elapsed,
                &mut snapshot.active,
                &mut snapshot.best,
            );
        }
        snapshot
    }

    /// A resumed run's earlier best, which stays the best until this run beats it.
    #[must_use]
    pub fn carried_best(&self) -> Option<Best> {
        self.carried.as_ref().and_then(|(carried, _)| carried.best)
    }

    /// True when a new best of this run's own is no better than a resumed run's earlier best:
    /// the whole run has no new best.
    #[must_use]
    pub fn is_behind_carried_best(&self, score: f64) -> bool {
        self.carried
            .as_ref()
            .is_some_and(|(carried, goal)| carried.best.is_some_and(|best| !goal.improves(score, best.score)))
    }

    /// `report` as the whole run's, as [`Session::snapshot`] makes a snapshot.
    #[must_use]
    pub fn whole_report(&self, mut report: RunReport) -> RunReport {
        if let Some((carried, goal)) = &self.carried {
            carry(
                carried,
                *goal,
                &mut report.counters,
                &mut report.elapsed,
                &mut report.active,
                &mut report.best,
            );
        }
        report
    }

    /// The engine's run.
    #[must_use]
    pub fn run(&self) -> &Run {
        &self.run
    }

    /// The search.
    #[must_use]
    pub fn search(&self) -> &Arc<dyn Search> {
        &self.search
    }

    /// Its pool settings.
    #[must_use]
    pub fn run_config(&self) -> &RunConfig {
        &self.config
    }

    /// How often a `progress` event is due.
    #[must_use]
    pub fn status_every(&self) -> Duration {
        self.recorder.status_every()
    }

    /// Records one pool event (not `Finished`: that is [`Session::finish`]); under
    /// `--bounds`, a match is shared with the other shards.
    pub fn record(&mut self, event: &Event) {
        self.recorder.event(&self.run, event);
        if let (Event::Match { task, .. }, Some(share)) = (event, self.bounds.as_mut())
            && let Err(err) = share.publish(*task)
        {
            crate::console::say(&format!(
                "poolwatch: --bounds: cannot share the match at {task}: {}; the other shards go on without it",
                crate::console::os_reason(&err)
            ));
            self.bounds = None;
        }
    }

    /// Logs a `progress` event.
    pub fn tick(&mut self) {
        self.recorder.tick(&self.run);
    }

    /// Writes what the recorder holds.
    pub fn flush(&mut self) {
        self.recorder.flush();
    }

    /// Applies a control request and logs it; `false` when it does not apply (pausing a
    /// paused or finished run, resuming one that is not paused).
    pub fn request(&mut self, request: Request) -> bool {
        let run = &self.run;
        let logged = match request {
            Request::Pause if !run.is_paused() && !run.is_finished() => {
                run.pause();
                LogEvent::Pause {}
            }
            Request::Resume if run.is_paused() => {
                run.resume();
                LogEvent::Resume {}
            }
            Request::HaltNow => {
                run.halt_now();
                LogEvent::HaltRequest { mode: "now".into() }
            }
            Request::HaltSoon => {
                run.halt_soon();
                LogEvent::HaltRequest { mode: "soon".into() }
            }
            Request::SetWorkers(workers) => {
                let from = run.workers();
                run.set_workers(workers);
                LogEvent::Workers { from, to: workers }
            }
            Request::Pause | Request::Resume => return false,
        };
        self.recorder.control(run.elapsed(), &logged);
        true
    }

    /// Ends the session on the run's report: the `end` event, the summary, and the `--runs`
    /// line.
    #[must_use]
    pub fn finish(mut self, report: &RunReport, signal: Option<i32>) -> Ending {
        let summary = self.recorder.finish(&self.run, report, signal);
        let record = RunRecord::new(&self.preset, &summary);
        let runs_problem = self.runs_path.as_ref().and_then(|path| {
            crate::runs_file::append(path, &record)
                .err()
                .map(|err| format!("cannot append to {}: {err}", path.display()))
        });
        Ending {
            summary,
            record,
            runs_problem,
        }
    }
}

/// This run's share of the `--bounds` folder `dir`, named after its shard (`shard-I-of-N`),
/// or after this process where the run is not a shard. `None`, said in one line, when the
/// folder cannot be used: the run goes on unbounded by the others.
fn share_bounds(dir: &std::path::Path, config: &RunConfig, run: &Run) -> Option<crate::bounds::BoundShare> {
    let name = match config.plan.shard {
        Some(shard) => format!("shard-{}-of-{}", shard.index, shard.count),
        None => format!("run-{}", std::process::id()),
    };
    crate::bounds::BoundShare::start(dir, &name, run.lowest_bound())
        .map_err(|err| {
            crate::console::say(&format!(
                "poolwatch: --bounds {}: {}; this run goes on without the other shards' matches",
                dir.display(),
                crate::console::os_reason(&err)
            ));
        })
        .ok()
}

/// What Ready shows of the run `checkpoint` resumes: the ids done (counted and on the
/// coverage strip), matches, errors and times, as the run will go on from them, for the
/// whole space, a window or a shard alike (the engine's own count of the plan). `None` for a
/// space the log does not give.
pub fn ready_snapshot(checkpoint: &Checkpoint) -> Option<poolwatch_core::Snapshot> {
    let start = &checkpoint.start;
    let space = start.space?;
    let config = crate::resume::configure(
        poolwatch_core::RunConfig::default(),
        start.window,
        Some(checkpoint.done.clone()),
    );
    let config = crate::resume::with_logged_shard(config, start.shard);
    let mut snapshot = config.starting_point(space);
    let carried = Carried::from_checkpoint(checkpoint, Goal::None);
    carry(
        &carried,
        poolwatch_core::search::Goal::None,
        &mut snapshot.counters,
        &mut snapshot.elapsed,
        &mut snapshot.active,
        &mut snapshot.best,
    );
    Some(snapshot)
}

/// Adds a resumed run's earlier matches, errors and times to this run's, and keeps the
/// better best: [`Carried::continue_figures`], the summary's rule, on the screen's figures.
/// Completed ids are not added: the pool counts them apart, in `done_before`.
fn carry(
    carried: &Carried,
    goal: poolwatch_core::search::Goal,
    counters: &mut poolwatch_core::Counters,
    elapsed: &mut Duration,
    active: &mut Duration,
    best: &mut Option<poolwatch_core::Best>,
) {
    let mut completed = 0;
    let (mut elapsed_s, mut active_s) = (elapsed.as_secs_f64(), active.as_secs_f64());
    let figures = crate::eventlog::checkpoint::Figures {
        completed: &mut completed,
        matches: &mut counters.matches,
        errors: &mut counters.errors,
        elapsed_s: &mut elapsed_s,
        active_s: &mut active_s,
    };
    *best = carried.continue_figures(figures, *best, goal);
    *elapsed = Duration::try_from_secs_f64(elapsed_s).unwrap_or(*elapsed);
    *active = Duration::try_from_secs_f64(active_s).unwrap_or(*active);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 23: Ready showed nothing carried for a resumed window or shard; it now shows what
    /// the engine will start from: the plan's own ids, those done, and their place on the strip.
    #[test]
    fn ready_shows_what_a_resumed_window_or_shard_carries() {
        use crate::eventlog::checkpoint::tests::record;
        let spec = r#""spec":{"kind":"collatz","below":1000},"workers":2,"halt":"never","space":999"#;
        let start = |extra: &str| {
            format!(r#""event":"start","format":2,"search":"collatz","params":"",{spec}{extra}"#)
        };
        let progress = r#""event":"progress","state":"running","total":0,"submitted":0,"completed":0,"cancelled":0,"matches":0,"errors":0,"rate":0,"elapsed_s":1,"active_s":1,"workers":2,"done":[[100,300]]"#;
        // The window [100, 600): 200 of its 500 ids done, in its first 40 %.
        let window = [
            record(0.0, &start(r#","window":[100,600]"#)),
            record(1.0, progress),
        ];
        let checkpoint = Checkpoint::from_records(std::path::Path::new("log"), &window).unwrap();
        let ready = ready_snapshot(&checkpoint).unwrap();
        assert_eq!((ready.counters.total, ready.counters.done_before), (500, 200));
        let buckets = ready.coverage.len();
        assert_eq!(ready.coverage.iter().sum::<u64>(), 200);
        let in_first_200: u64 = (0..buckets)
            .filter(|&index| poolwatch_core::bucket_span(500, buckets, index).1 <= 200)
            .map(|index| ready.coverage[index])
            .sum();
        assert_eq!(
            in_first_200, 200,
            "the window's first 200 ids: {:?}",
            ready.coverage
        );
        // Shard 1 of 2 in chunks of 50 of the whole space: ids 50..100, 150..200, ...; of
        // 100..300 it holds 150..200 and 250..300.
        let shard = [
            record(0.0, &start(r#","shard":{"index":1,"count":2,"chunk":50}"#)),
            record(1.0, progress),
        ];
        let checkpoint = Checkpoint::from_records(std::path::Path::new("log"), &shard).unwrap();
        let ready = ready_snapshot(&checkpoint).unwrap();
        assert_eq!((ready.counters.total, ready.counters.done_before), (499, 100));
        assert_eq!(ready.coverage.iter().sum::<u64>(), 100);
    }

    /// A resumed run's screen adds the earlier matches, errors and times, and keeps the
    /// earlier best unless this run beats it (the summary's rule).
    #[test]
    fn a_resumed_runs_figures_carry_on_on_screen() {
        let carried = Carried {
            before: crate::summary::ResumedFrom {
                completed: 700,
                matches: 2,
                errors: 1,
                active_s: 10.0,
            },
            elapsed: Duration::from_secs(12),
            best: Some(poolwatch_core::Best {
                score: 612.0,
                task: 5,
            }),
            ..Carried::default()
        };
        let mut counters = poolwatch_core::Counters {
            matches: 1,
            ..poolwatch_core::Counters::default()
        };
        let (mut elapsed, mut active) = (Duration::from_secs(3), Duration::from_secs(3));
        let mut best = Some(poolwatch_core::Best {
            score: 514.0,
            task: 9,
        });
        let goal = poolwatch_core::search::Goal::Maximize;
        carry(
            &carried,
            goal,
            &mut counters,
            &mut elapsed,
            &mut active,
            &mut best,
        );
        assert_eq!((counters.matches, counters.errors, counters.completed), (3, 1, 0));
        assert_eq!(
            (elapsed, active),
            (Duration::from_secs(15), Duration::from_secs(13))
        );
        assert_eq!(best.map(|best| best.score), Some(612.0));
    }
}
