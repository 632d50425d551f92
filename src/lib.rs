//! poolwatch: run a search across a pool of worker threads, watch it converge, stop it the instant it is done.
//!
//! The crate has three layers, each using only the ones above it:
//!
//! 1. **Engine** (always built): [`Run`] starts a pool of worker threads over a [`Search`],
//!    hands out task ids in batches, keeps per-worker counters ([`Snapshot`]), sends notable
//!    results as [`Event`]s and halts by a [`HaltPolicy`] or on request.
//! 2. **Searches** ([`search`]): the [`Search`] trait, [`search::from_fn`] for closures, and the
//!    built-in workloads.
//! 3. **Application** (cargo feature `app`, on by default): the command line, the dashboard,
//!    `exec`, presets and the event log. A program that only embeds the pool turns it off:
//!    `poolwatch = { version = "0.1", default-features = false }`.
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

// Engine: leaves first.
mod cancel;
mod pool;
mod sync;

// Searches.
pub mod search;

pub use cancel::CancelToken;
pub use pool::{
    BadHaltPolicy, BadShard, Best, Counters, Event, HaltLimit, HaltMode, HaltOn, HaltPolicy, HaltReason,
    IdPlan, MAX_SHARD_CHUNK, MAX_WORKERS, PlannedIds, RangeSet, Run, RunConfig, RunReport, RunState, Shard,
    Snapshot, StopRequest, WORKER_THREAD_PREFIX, WorkerRow, WorkerState,
};
pub use search::{Goal, InputNaming, MatchOdds, Outcome, Search, SpaceStatus};

// The application runs commands in process groups and handles signals: Unix only (and built
// and tested on Linux only; see the README's "Platform" section).
#[cfg(all(feature = "app", not(unix)))]
compile_error!(
    "poolwatch's application (feature \"app\") needs Unix process groups and signals; build the engine alone with default-features = false"
);

// Application (feature "app"): private modules; the binary enters through `cli_main`.
#[cfg(feature = "app")]
mod app;
#[cfg(feature = "app")]
mod cli;
#[cfg(feature = "app")]
mod cluster;
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
mod format;
#[cfg(feature = "app")]
mod headless;
#[cfg(feature = "app")]
mod journal;
#[cfg(feature = "app")]
mod launch;
#[cfg(feature = "app")]
mod logformat;
#[cfg(feature = "app")]
mod preset;
#[cfg(feature = "app")]
mod resume;
#[cfg(feature = "app")]
mod runform;
#[cfg(feature = "app")]
mod runlog;
#[cfg(feature = "app")]
mod safefs;
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
pub use launch::main as cli_main;

/// The application's parts that poolwatch's own tests and benchmarks drive.
///
/// Not part of the public API: anything here may change in any release.
#[cfg(feature = "app")]
#[doc(hidden)]
pub mod internals {
    pub use crate::app::{App, Command, Focus, Msg, Overlay, Phase, RunInfo, WorkerSort};
    pub use crate::dashboard::{LoopEnd, LoopOptions, run_loop};
    pub use crate::docgen::command as cli_command;
    pub use crate::exec::{ExecSearch, ExecSpec, WorkerSearch};
    pub use crate::logformat::{LogEvent, LogTail, ProgressEvent, Record, StartEvent, parse_log};
    pub use crate::pool::{bucket_of, bucket_span};
    pub use crate::preset::Preset;
    pub use crate::resume::Checkpoint;
    pub use crate::runlog::{RunOutcome, RunRecord};
    pub use crate::spec::{CollatzSpec, NeedleSpec, PowSpec, RastriginSpec, SearchSpec};
    pub use crate::term::Input;
    pub use crate::ui::{CoverageCell, coverage_cells, render};
    pub use crate::watch::ShardRow;
    pub use crate::watch::follow::{LocalSteer, Watcher};
    pub use crate::watch::view::run_loop as watch_loop;
}
