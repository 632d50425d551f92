//! One shard of a `watch` or `--cluster` search as the shards table and the summary show it.

use serde::Serialize;

/// One row of the shards table (and of the summary's `shards` array).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShardRow {
    /// Shard index.
    pub shard: u64,
    /// The machine it ran on.
    pub host: String,
    /// `waiting`, `running`, `paused`, `halting`, `ended: REASON`...
    pub state: String,
    /// Tasks it completed.
    pub completed: u64,
    /// Ids it covers.
    pub total: u64,
    /// Matches it found.
    pub matches: u64,
    /// Errors it recorded.
    pub errors: u64,
    /// Tasks per second at its last `progress` event (0 once ended).
    pub rate: f64,
    /// Seconds since its last line.
    pub last_heard_s: f64,
    /// True when it is live and has been silent for `SILENT_INTERVALS` (3) status intervals.
    pub silent: bool,
    /// Its exit code, once ended.
    pub exit_code: Option<u8>,
    /// The log it was read from.
    pub log: String,
}
