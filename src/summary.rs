//! The end-of-run summary: the JSON object, the human paragraph, and the exit code.

use crate::console::{EXIT_FOUND, EXIT_LOG_INCOMPLETE, EXIT_NOT_FOUND, EXIT_USAGE};
use crate::format::{count, halt_latency, human_count, plural, score};
use poolwatch_core::{Best, Counters, HaltReason, RunReport};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Most matches kept in the summary's `matches` array (all of them go to `--log`).
pub const MAX_SUMMARY_MATCHES: usize = 10_000;

/// What a resumed run inherited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct ResumedFrom {
    /// Ids completed before the resume.
    pub completed: u64,
    /// Matches found before.
    pub matches: u64,
    /// Errors recorded before.
    pub errors: u64,
    /// Active seconds spent before.
    pub active_s: f64,
}

/// Most failed tasks kept in the summary's `failures` array (all of them go to `--log`).
pub const MAX_SUMMARY_FAILURES: usize = 100;
/// Failed tasks listed in the text summary; the rest are counted.
const TEXT_FAILURES: usize = 10;

/// One failed task in the summary: an error outcome and its message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FailureEntry {
    /// Task id.
    pub task: u64,
    /// The user's own value for the task, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    /// What went wrong (it starts with the input for exec; it may hold output lines).
    pub message: String,
}

/// One match in the summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MatchEntry {
    /// Task id.
    pub task: u64,
    /// The user's own value for the task (an exec input, a collatz start), when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    /// The search's description of it.
    pub value: String,
}

/// Everything printed at the end of a run.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Search name.
    pub search: String,
    /// Its parameters.
    pub params: String,
    /// The halt policy.
    pub halt_policy: String,
    /// Workers at the end.
    pub workers: usize,
    /// The run's counters, written flat into the JSON object (`total`, `submitted`, `completed`,
    /// `cancelled`, `match_count`, `errors`, `started_after_halt`, and `done_before` when not 0).
    #[serde(flatten)]
    pub counters: Counters,
    /// The matches (at most [`MAX_SUMMARY_MATCHES`]).
    pub matches: Vec<MatchEntry>,
    /// The first failed tasks by id, with their messages (at most [`MAX_SUMMARY_FAILURES`]
    /// of those seen first; `errors` counts them all).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<FailureEntry>,
    /// Why the run ended.
    pub halt_reason: HaltReason,
    /// Wall time, seconds.
    pub elapsed_s: f64,
    /// Time not paused, seconds.
    pub active_s: f64,
    /// From the halting result to the end of the last task under way, milliseconds.
    pub halt_latency_ms: Option<f64>,
    /// From the halting result to the last worker thread gone, milliseconds.
    pub exit_latency_ms: Option<f64>,
    /// Completed tasks per active second.
    pub tasks_per_s: f64,
    /// Best score.
    pub best: Option<Best>,
    /// Peak resident memory of the process so far, KiB (Linux `VmHWM`).
    pub peak_rss_kb: u64,
    /// Why a fatal error stopped the run (a command that cannot be run), if one did.
    pub fatal: Option<String>,
    /// Why the `--log` file is incomplete, if a write to it failed.
    pub log_incomplete: Option<String>,
    /// The exit code the process ends with.
    pub exit_code: u8,
    /// The search's own counts (exec: `attempts`, `retried`, `skipped`); absent when it has none.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub counts: BTreeMap<&'static str, u64>,
    /// For a resumed run (`--resume FILE`): what was done before it; the counts and times
    /// above include it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resumed: Option<ResumedFrom>,
    /// When a match means only a job that succeeded ([`poolwatch_core::search::Search::matches_are_successes`]):
    /// how many succeeded (`match_count`), set by [`Summary::count_as_jobs`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub succeeded: Option<u64>,
}

impl Summary {
    /// Builds the summary of a finished run.
    #[must_use]
    pub fn new(
        search: &str,
        params: String,
        policy: String,
        report: &RunReport,
        matches: Vec<MatchEntry>,
        signal: Option<i32>,
        can_match: bool,
    ) -> Self {
        let exit_code = exit_code(report, can_match, signal);
        Self {
            search: search.to_string(),
            params,
            halt_policy: policy,
            workers: report.workers,
            counters: report.counters,
            matches,
            failures: Vec::new(),
            halt_reason: report.reason,
            elapsed_s: report.elapsed.as_secs_f64(),
            active_s: report.active.as_secs_f64(),
            halt_latency_ms: report.halt_latency.map(|d| d.as_secs_f64() * 1e3),
            exit_latency_ms: report.exit_latency.map(|d| d.as_secs_f64() * 1e3),
            tasks_per_s: report.tasks_per_s(),
            best: report.best,
            peak_rss_kb: peak_rss_kb(),
            fatal: report.fatal.clone(),
            log_incomplete: None,
            exit_code,
            counts: BTreeMap::new(),
            resumed: None,
            succeeded: None,
        }
    }

    /// Reads matches as jobs that succeeded (one-shot `exec` without `--match-stdout`): the
    /// text says "succeeded", and the exit code follows GNU parallel's: 0 when every job ran
    /// and succeeded (jobs a job log's `--resume` skipped count as done), or when a halt on
    /// success asked for (`--halt now`, `after=N`...) ended the run; else 1. Codes other than
    /// 0 and 1 (a fatal error, a signal, an incomplete log) are kept.
    pub fn count_as_jobs(&mut self) {
        let counters = &self.counters;
        self.succeeded = Some(counters.matches);
        if !matches!(self.exit_code, EXIT_FOUND | EXIT_NOT_FOUND) {
            return;
        }
        let skipped = self.counts.get("skipped").copied().unwrap_or(0);
        let halted_on_success = matches!(self.halt_reason, HaltReason::Match | HaltReason::After);
        let all_succeeded = self.halt_reason == HaltReason::Exhausted
            && counters.errors == 0
            && counters.matches + skipped >= counters.completed
            && counters.completed >= counters.total;
        self.exit_code = if all_succeeded || halted_on_success {
            EXIT_FOUND
        } else {
            EXIT_NOT_FOUND
        };
    }

    /// Records that the `--log` file is incomplete, and why; the exit code becomes
    /// [`EXIT_LOG_INCOMPLETE`].
    pub fn mark_log_incomplete(&mut self, reason: &str) {
        self.log_incomplete = Some(reason.to_string());
        self.exit_code = EXIT_LOG_INCOMPLETE;
    }

    /// One JSON object on one line.
    #[must_use]
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|err| format!("{{\"error\":\"{err}\"}}"))
    }

    /// A short human paragraph.
    #[must_use]
    pub fn to_text(&self) -> String {
        let jobs = self.succeeded.is_some();
        let reason = match self.halt_reason {
            HaltReason::Match if self.halt_policy == "lowest" => {
                "found the lowest match, proven: every id below it ran"
            }
            HaltReason::Exhausted if jobs => "ran every input",
            HaltReason::Match if jobs => "halted on a job that succeeded",
            reason => describe_reason(reason),
        };
        let mut text = format!(
            "poolwatch {} ({}) with {}, halt {}: {reason}\n",
            self.search,
            self.params,
            plural(u64::try_from(self.workers).unwrap_or(u64::MAX), "worker"),
            self.halt_policy,
        );
        if let Some(succeeded) = self.succeeded {
            let skipped = self.counts.get("skipped").copied().unwrap_or(0);
            let ran = self.counters.completed.saturating_sub(skipped);
            text.push_str(&format!(
                "  {} of {} jobs run succeeded, {} failed\n",
                count(succeeded),
                count(ran),
                count(ran.saturating_sub(succeeded))
            ));
        }
        // Jobs that merely succeeded are counted, not listed, unless one halted the run: then
        // which one did is the answer.
        let listed_matches = if jobs && self.halt_reason != HaltReason::Match {
            0
        } else {
            20
        };
        for entry in self.matches.iter().take(listed_matches) {
            let task = match &entry.input {
                Some(input) => format!("input {input} (task {})", count(entry.task)),
                None => format!("task {}", count(entry.task)),
            };
            if jobs {
                text.push_str(&format!("  succeeded: {task}\n"));
            } else {
                text.push_str(&format!("  match: {task} -> {}\n", entry.value));
            }
        }
        let counters = &self.counters;
        if counters.matches > 20 && !jobs {
            text.push_str(&format!("  ... {} in all\n", plural(counters.matches, "match")));
        }
        for entry in self.failures.iter().take(TEXT_FAILURES) {
            // The message starts with the input where the search names tasks so (exec).
            let message = entry.message.lines().next().unwrap_or_default();
            let named = entry
                .input
                .as_ref()
                .is_some_and(|input| message.starts_with(&format!("{input}: ")));
            match (&entry.input, named) {
                (_, true) => text.push_str(&format!("  failed: {message}\n")),
                (Some(input), false) => text.push_str(&format!("  failed: input {input}: {message}\n")),
                (None, false) => text.push_str(&format!("  failed: task {}: {message}\n", count(entry.task))),
            }
        }
        let listed = self.failures.len().min(TEXT_FAILURES) as u64;
        if counters.errors > listed && listed > 0 {
            text.push_str(&format!(
                "  ... {} more failed (every one, with its whole message, in --log)\n",
                count(counters.errors - listed)
            ));
        }
        text.push_str(&format!(
            "  {} of {} tasks completed, {} cancelled, {} never submitted, {}\n",
            count(counters.completed),
            count(counters.total),
            count(counters.cancelled),
            count(
                counters
                    .total
                    .saturating_sub(counters.submitted + counters.done_before)
            ),
            plural(counters.errors, "error")
        ));
        text.push_str(&format!(
            "  {:.3} s elapsed ({:.3} s active), {} tasks/s",
            self.elapsed_s,
            self.active_s,
            human_count(self.tasks_per_s)
        ));
        if self.halt_latency_ms.is_some() {
            text.push_str(&format!(
                ", halt latency {}, {} started after the halt",
                halt_latency(self.halt_latency_ms),
                plural(counters.started_after_halt, "task")
            ));
        }
        text.push_str(&format!(", peak memory {} KiB", count(self.peak_rss_kb)));
        if let Some(before) = &self.resumed {
            text.push_str(&format!(
                "\n  resumed: {}, {}, {} and {:.3} s active were done before",
                plural(before.completed, "task"),
                plural(before.matches, "match"),
                plural(before.errors, "error"),
                before.active_s
            ));
        }
        if !self.counts.is_empty() {
            let counts: Vec<String> = self
                .counts
                .iter()
                .map(|(name, count)| format!("{} {name}", crate::format::count(*count)))
                .collect();
            text.push_str(&format!("\n  {}", counts.join(", ")));
        }
        if let Some(best) = self.best {
            text.push_str(&format!(
                "\n  best score {} (task {})",
                score(best.score),
                count(best.task)
            ));
        }
        if let Some(reason) = &self.log_incomplete {
            text.push_str(&format!("\n  the log is incomplete: {reason}"));
        }
        text.push('\n');
        text
    }
}

/// The exit code for a finished run.
#[must_use]
pub fn exit_code(report: &RunReport, can_match: bool, signal: Option<i32>) -> u8 {
    // A signal that came after the run had finished by itself changed nothing.
    if let Some(signal) = signal.filter(|_| report.reason == HaltReason::Signal) {
        return crate::signals::exit_code(signal);
    }
    if report.reason == HaltReason::Fatal {
        return EXIT_USAGE;
    }
    let complete_without_condition = !can_match && report.reason == HaltReason::Exhausted;
    if report.counters.matches > 0 || complete_without_condition {
        EXIT_FOUND
    } else {
        EXIT_NOT_FOUND
    }
}

/// Peak resident set size of this process in KiB (`VmHWM`), 0 where unknown.
///
/// Read from `/proc/self/status` rather than `getrusage`, whose `ru_maxrss` keeps the
/// peak of the process that called `exec`.
#[cfg(target_os = "linux")]
#[must_use]
pub fn peak_rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Peak resident set size: unknown (0) without Linux's `/proc`.
#[cfg(not(target_os = "linux"))]
#[must_use]
pub fn peak_rss_kb() -> u64 {
    0
}

/// A reason in words.
#[must_use]
pub fn describe_reason(reason: HaltReason) -> &'static str {
    match reason {
        HaltReason::Match => "halted on a match",
        HaltReason::After => "halted after the requested number of matches",
        HaltReason::Fail => "halted after the allowed number of failed tasks",
        HaltReason::Done => "halted after the requested number of completed tasks",
        HaltReason::User => "stopped by the user",
        HaltReason::Exhausted => "searched the whole space",
        HaltReason::Signal => "interrupted by a signal",
        HaltReason::Fatal => "stopped by an error no task can get past",
        HaltReason::Bounded => "bounded by a lower match in another shard: every id below it ran",
    }
}

/// A reason in at most 23 columns, for a narrow panel ([`describe_reason`] where there is room).
#[must_use]
pub fn brief_reason(reason: HaltReason) -> &'static str {
    match reason {
        HaltReason::Match => "halted on a match",
        HaltReason::After => "match limit reached",
        HaltReason::Fail => "failure limit reached",
        HaltReason::Done => "task limit reached",
        HaltReason::User => "stopped by the user",
        HaltReason::Exhausted => "whole space searched",
        HaltReason::Signal => "interrupted by a signal",
        HaltReason::Fatal => "fatal error",
        HaltReason::Bounded => "bounded by a shard",
    }
}

/// A reason, given by its JSON name, in words (the name itself if unknown).
#[must_use]
pub fn describe_reason_name(name: &str) -> String {
    HaltReason::from_name(name).map_or_else(
        || format!("halt reason {name}"),
        |reason| describe_reason(reason).to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 25: the resumed counts read as every other count, separated and in number.
    #[test]
    fn resumed_counts_read_as_people_read_them() {
        let report = poolwatch_core::RunReport::default();
        let mut summary = Summary::new(
            "needle",
            String::new(),
            "now".into(),
            &report,
            Vec::new(),
            None,
            true,
        );
        summary.resumed = Some(ResumedFrom {
            completed: 6_552_345,
            matches: 1,
            errors: 0,
            active_s: 2.5,
        });
        let text = summary.to_text();
        assert!(
            text.contains("resumed: 6,552,345 tasks, 1 match, 0 errors and 2.500 s active were done before"),
            "{text}"
        );
    }
}
