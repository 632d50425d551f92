//! What a finished run measured, as one record: the runs history's rows and the `--runs FILE` JSON lines.

use crate::preset::Preset;
use crate::spec::SearchSpec;
use crate::summary::Summary;
use poolwatch_core::{HaltPolicy, HaltReason};
use std::io::Write;
use std::path::Path;

/// How a run ended, in the history's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunOutcome {
    /// At least one match.
    Found,
    /// The whole space searched without a match.
    Exhausted,
    /// Stopped by the user, a signal or a fatal error.
    Stopped,
}

impl RunOutcome {
    /// The outcome of a run that ended for `reason` with `matches` matches.
    #[must_use]
    pub fn of(reason: HaltReason, matches: u64) -> Self {
        match reason {
            HaltReason::Match | HaltReason::After => Self::Found,
            HaltReason::Exhausted | HaltReason::Bounded if matches > 0 => Self::Found,
            // A shard bounded by another's match searched all of its part that counts.
            HaltReason::Exhausted | HaltReason::Bounded => Self::Exhausted,
            _ => Self::Stopped,
        }
    }

    /// The word shown.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::Found => "found",
            Self::Exhausted => "exhausted",
            Self::Stopped => "stopped",
        }
    }
}

/// One finished run: one row of the history, one line of `--runs FILE`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RunRecord {
    /// The run's name (preset or "Command line").
    pub name: String,
    /// The search, as a preset's `[search]` table.
    pub search: SearchSpec,
    /// The search's parameters in words.
    pub params: String,
    /// Workers at the end.
    pub workers: usize,
    /// The halt policy.
    pub halt: String,
    /// How it ended.
    pub outcome: RunOutcome,
    /// Matches found.
    pub matches: u64,
    /// Tasks run to an outcome.
    pub completed: u64,
    /// Size of the space.
    pub total: u64,
    /// Wall time, seconds.
    pub elapsed_s: f64,
    /// Time not paused, seconds.
    pub active_s: f64,
    /// Completed tasks per active second.
    pub tasks_per_s: f64,
    /// From the halting result to the end of the last task under way, milliseconds.
    pub halt_latency_ms: Option<f64>,
    /// Best score, for searches that score.
    pub best: Option<f64>,
}

impl RunRecord {
    /// The record of the run `preset` that ended with `summary`.
    #[must_use]
    pub fn new(preset: &Preset, summary: &Summary) -> Self {
        Self {
            name: preset.name.clone(),
            search: preset.spec.clone(),
            params: summary.params.clone(),
            workers: summary.workers,
            halt: summary.halt_policy.clone(),
            outcome: RunOutcome::of(summary.halt_reason, summary.counters.matches),
            matches: summary.counters.matches,
            completed: summary.counters.completed,
            total: summary.counters.total,
            elapsed_s: summary.elapsed_s,
            active_s: summary.active_s,
            tasks_per_s: summary.tasks_per_s,
            halt_latency_ms: summary.halt_latency_ms,
            best: summary.best.map(|best| best.score),
        }
    }

    /// The run again, as a launcher entry.
    #[must_use]
    pub fn preset(&self) -> Preset {
        Preset {
            name: self.name.clone(),
            description: format!("{} {} (again)", self.search.kind(), self.params),
            spec: self.search.clone(),
            workers: Some(self.workers),
            halt: self.halt.parse().unwrap_or(HaltPolicy::Now),
        }
    }
}

/// Appends `record` to `path` as one JSON line.
///
/// # Errors
/// When the file cannot be opened or written.
pub fn append(path: &Path, record: &RunRecord) -> std::io::Result<()> {
    let mut file = crate::safefs::open_log(path, crate::safefs::Keep::Append)?;
    write_line(&mut file, record)
}

/// Writes `record` as one JSON line, built whole in memory and handed over in one `write_all`:
/// runs appending to the same file at once never mix their lines, and a crash leaves at
/// most one torn last line (never a line without its newline followed by another).
fn write_line(out: &mut impl Write, record: &RunRecord) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(record).map_err(std::io::Error::other)?;
    line.push(b'\n');
    out.write_all(&line)
}

/// Checks that `path` can be appended to (creating it), before a run starts.
///
/// # Errors
/// When it cannot be opened for appending.
pub fn check_writable(path: &Path) -> std::io::Result<()> {
    crate::safefs::open_log(path, crate::safefs::Keep::Append).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Writes;

    #[test]
    fn a_record_is_written_as_one_whole_line_in_one_write() {
        let record: RunRecord = serde_json::from_str(
            r#"{"name":"Command line","search":{"kind":"collatz","below":100},"params":"below=100",
                "workers":2,"halt":"never","outcome":"exhausted","matches":0,"completed":99,"total":99,
                "elapsed_s":0.5,"active_s":0.5,"tasks_per_s":198.0,"halt_latency_ms":null,"best":111.0}"#,
        )
        .unwrap();
        let mut writes = Writes::default();
        write_line(&mut writes, &record).unwrap();
        assert_eq!(writes.0.len(), 1, "one write for the whole line");
        let line = String::from_utf8(writes.0.remove(0)).unwrap();
        let (json, rest) = line.split_once('\n').unwrap();
        assert_eq!(rest, "", "{line:?}");
        assert_eq!(serde_json::from_str::<RunRecord>(json).unwrap(), record);
    }

    #[test]
    fn outcomes_follow_the_reason_and_the_matches() {
        assert_eq!(RunOutcome::of(HaltReason::Match, 1), RunOutcome::Found);
        assert_eq!(RunOutcome::of(HaltReason::Exhausted, 2), RunOutcome::Found);
        assert_eq!(RunOutcome::of(HaltReason::Exhausted, 0), RunOutcome::Exhausted);
        assert_eq!(RunOutcome::of(HaltReason::User, 0), RunOutcome::Stopped);
        assert_eq!(RunOutcome::of(HaltReason::Signal, 3), RunOutcome::Stopped);
    }
}
