//! poolwatch: run a search across a pool of worker threads, watch it converge, stop it the instant it is done.
//!
//! Two crates make it:
//!
//! 1. **Engine** ([`poolwatch_core`], re-exported here at the root): [`Run`] starts a pool of
//!    worker threads over a [`Search`], hands out task ids in batches, keeps per-worker
//!    counters ([`Snapshot`]), sends notable results as [`Event`]s and halts by a
//!    [`HaltPolicy`] or on request; [`search`] holds the [`Search`] trait, [`search::from_fn`]
//!    for closures, and the built-in workloads.
//! 2. **Application** (cargo feature `app`, on by default): the command line, the dashboard,
//!    `exec`, presets and the event log. A program that only embeds the pool turns it off:
//!    `poolwatch = { version = "0.1", default-features = false }`, or depends on
//!    `poolwatch-core` itself.
//!
//! ```
//! use poolwatch::{HaltPolicy, HaltReason, Outcome, Run, RunConfig, search};
//! use std::sync::Arc;
//!
//! // Which of 0..10_000 has a square ending in 1024?
//! let squares = search::from_fn(10_000, |id, _cancel| {
//!     if (id * id) % 10_000 == 1_024 {
//!         Outcome::Match { value: format!("{id}^2 = {}", id * id), score: None }
//!     } else {
//!         Outcome::Miss
//!     }
//! });
//! let config = RunConfig::default().with_workers(2).with_policy(HaltPolicy::Now);
//! let report = Run::start(Arc::new(squares), &config).wait();
//! assert_eq!(report.reason, HaltReason::Match);
//! ```

// The engine, whole: today's library users keep compiling.
pub use poolwatch_core::{
    BadHaltPolicy, BadShard, Best, CancelToken, Counters, Event, Goal, HaltLimit, HaltMode, HaltOn,
    HaltPolicy, HaltReason, IdPlan, InputNaming, MAX_SHARD_CHUNK, MAX_WORKERS, MatchOdds, Outcome,
    PlannedIds, RangeSet, Run, RunConfig, RunReport, RunState, Search, Shard, Snapshot, SpaceStatus,
    StopRequest, WORKER_THREAD_PREFIX, WorkerRow, WorkerState, search,
};

// The application runs commands in process groups and handles signals: Unix only (and built
// and tested on Linux only; see GUIDE.md's "Platform" section).
#[cfg(all(feature = "app", not(unix)))]
compile_error!(
    "poolwatch's application (feature \"app\") needs Unix process groups and signals; build the engine alone with default-features = false"
);

// Application (feature "app"): private modules; the binary enters through `cli_main`.
#[cfg(feature = "app")]
mod app;
#[cfg(feature = "app")]
mod bounds;
#[cfg(feature = "app")]
mod cli;
#[cfg(feature = "app")]
mod cluster;
#[cfg(feature = "app")]
mod console;
#[cfg(feature = "app")]
mod dashboard;
#[cfg(feature = "app")]
mod docgen;
#[cfg(feature = "app")]
mod escape;
#[cfg(feature = "app")]
mod eventlog;
#[cfg(feature = "app")]
mod exec;
#[cfg(feature = "app")]
mod form_schema;
#[cfg(feature = "app")]
mod format;
#[cfg(feature = "app")]
mod headless;
#[cfg(feature = "app")]
mod launch;
#[cfg(feature = "app")]
mod preset;
#[cfg(feature = "app")]
mod resume;
#[cfg(feature = "app")]
mod runs_file;
#[cfg(feature = "app")]
mod safefs;
#[cfg(feature = "app")]
mod session;
#[cfg(feature = "app")]
mod signals;
#[cfg(feature = "app")]
mod spec;
#[cfg(feature = "app")]
mod summary;
#[cfg(feature = "app")]
mod term;
#[cfg(all(test, feature = "app"))]
mod testing;
#[cfg(feature = "app")]
mod ui;
#[cfg(feature = "app")]
mod userpresets;
#[cfg(feature = "app")]
mod watch;

#[cfg(feature = "app")]
pub use console::note_closed_at_start;
#[cfg(feature = "app")]
pub use launch::main as cli_main;

/// The application's parts that poolwatch's own tests and benchmarks drive.
///
/// Not part of the public API: anything here may change in any release.
#[cfg(feature = "app")]
#[doc(hidden)]
pub mod internals {
    pub use crate::app::ShardRow;
    pub use crate::app::{App, Command, Focus, MouseKind, Msg, Overlay, Phase, RunInfo, WorkerSort};
    pub use crate::dashboard::{LoopEnd, LoopOptions, run_loop};
    pub use crate::docgen::command as cli_command;
    pub use crate::eventlog::checkpoint::Checkpoint;
    pub use crate::eventlog::schema::{LogEvent, LogTail, ProgressEvent, Record, StartEvent, parse_log};
    pub use crate::exec::{ExecSearch, ExecSpec, WorkerSearch};
    pub use crate::preset::Preset;
    pub use crate::runs_file::{RunOutcome, RunRecord};
    pub use crate::spec::{CollatzSpec, NeedleSpec, PowSpec, RastriginSpec, SearchSpec};
    pub use crate::term::{FrameSync, Input};
    pub use crate::ui::{CoverageCell, Theme, coverage_cells, render};
    pub use crate::watch::follow::{LocalSteer, Watcher};
    pub use crate::watch::view::run_loop as watch_loop;
    pub use poolwatch_core::{bucket_of, bucket_span};
}
