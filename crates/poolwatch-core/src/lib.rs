//! poolwatch-core: poolwatch's engine. A pool of worker threads searches a space of task ids in
//! batches, keeps live per-worker counters, sends notable results as events and halts early.
//!
//! It knows nothing of terminals, processes or files: the `poolwatch` crate builds its command
//! line, dashboard, `exec` and event log on top of it, and re-exports it at its root.
//!
//! - [`Run`] starts a pool of worker threads over a [`Search`], hands out task ids in
//!   batches, keeps per-worker counters ([`Snapshot`]), sends notable results as [`Event`]s
//!   and halts by a [`HaltPolicy`] or on request.
//! - [`search`] holds the [`Search`] trait, [`search::from_fn`] for closures, and the built-in
//!   workloads.
//!
//! ```
//! use poolwatch_core::{HaltPolicy, HaltReason, Outcome, Run, RunConfig, search};
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

// Leaves first.
mod cancel;
pub mod sync;

pub mod plan;

pub mod search;

mod pool;

pub use cancel::CancelToken;
pub use plan::{BadShard, IdPlan, MAX_SHARD_CHUNK, PlannedIds, RangeSet, Shard};
pub use pool::{
    BadHaltPolicy, Best, Counters, Event, HaltLimit, HaltMode, HaltOn, HaltPolicy, HaltReason, LowestBound,
    MAX_WORKERS, Run, RunConfig, RunReport, RunState, Snapshot, StopRequest, WORKER_THREAD_PREFIX, WorkerRow,
    WorkerState, bucket_of, bucket_span, panics, rate,
};
pub use search::{Goal, InputNaming, MatchOdds, Outcome, Search, SpaceStatus};
