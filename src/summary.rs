//! The end-of-run summary: the JSON object, the human paragraph, and the exit code.

use crate::format::{count, human_count, plural, score};
use crate::pool::{Best, HaltReason, RunReport};
use serde::Serialize;

/// Most matches kept in the summary's `matches` array (all of them go to `--log`).
pub const MAX_SUMMARY_MATCHES: usize = 10_000;

/// Exit code: a match was found, or a search without a match condition completed.
pub const EXIT_FOUND: u8 = 0;
/// Exit code: the run ended without a match.
pub const EXIT_NOT_FOUND: u8 = 1;
/// Exit code: bad arguments or input (a command that cannot be run included).
pub const EXIT_USAGE: u8 = 2;

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
    /// Size of the space.
    pub total: u64,
    /// Ids handed out.
    pub submitted: u64,
    /// Tasks run to an outcome.
    pub completed: u64,
    /// Submitted but not completed.
    pub cancelled: u64,
    /// The matches (at most [`MAX_SUMMARY_MATCHES`]).
    pub matches: Vec<MatchEntry>,
    /// How many matches there were in all.
    pub match_count: u64,
    /// Errors recorded.
    pub errors: u64,
    /// Why the run ended.
    pub halt_reason: HaltReason,
    /// Wall time, seconds.
    pub elapsed_s: f64,
    /// Time not paused, seconds.
    pub active_s: f64,
    /// From the halting result to every worker stopped, milliseconds.
    pub halt_latency_ms: Option<f64>,
    /// Tasks that started after the halt moment.
    pub started_after_halt: u64,
    /// Completed tasks per active second.
    pub tasks_per_s: f64,
    /// Best score.
    pub best: Option<Best>,
    /// Peak resident memory of the process so far, KiB (Linux `VmHWM`).
    pub peak_rss_kb: u64,
    /// Why a fatal error stopped the run (a command that cannot be run), if one did.
    pub fatal: Option<String>,
    /// The exit code the process ends with.
    pub exit_code: u8,
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
            total: report.total,
            submitted: report.submitted,
            completed: report.completed,
            cancelled: report.cancelled,
            matches,
            match_count: report.matches,
            errors: report.errors,
            halt_reason: report.reason,
            elapsed_s: report.elapsed.as_secs_f64(),
            active_s: report.active.as_secs_f64(),
            halt_latency_ms: report.halt_latency.map(|d| d.as_secs_f64() * 1e3),
            started_after_halt: report.started_after_halt,
            tasks_per_s: report.tasks_per_s(),
            best: report.best,
            peak_rss_kb: peak_rss_kb(),
            fatal: report.fatal.clone(),
            exit_code,
        }
    }

    /// One JSON object on one line.
    #[must_use]
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|err| format!("{{\"error\":\"{err}\"}}"))
    }

    /// A short human paragraph.
    #[must_use]
    pub fn to_text(&self) -> String {
        let mut text = format!(
            "poolwatch {} ({}) with {}, halt {}: {}\n",
            self.search,
            self.params,
            plural(u64::try_from(self.workers).unwrap_or(u64::MAX), "worker"),
            self.halt_policy,
            describe_reason(self.halt_reason)
        );
        for entry in self.matches.iter().take(20) {
            let task = match &entry.input {
                Some(input) => format!("input {input} (task {})", count(entry.task)),
                None => format!("task {}", count(entry.task)),
            };
            text.push_str(&format!("  match: {task} -> {}\n", entry.value));
        }
        if self.match_count > 20 {
            text.push_str(&format!("  ... {} in all\n", plural(self.match_count, "match")));
        }
        text.push_str(&format!(
            "  {} of {} tasks completed, {} cancelled, {} never submitted, {}\n",
            count(self.completed),
            count(self.total),
            count(self.cancelled),
            count(self.total.saturating_sub(self.submitted)),
            plural(self.errors, "error")
        ));
        text.push_str(&format!(
            "  {:.3} s elapsed ({:.3} s active), {} tasks/s",
            self.elapsed_s,
            self.active_s,
            human_count(self.tasks_per_s)
        ));
        if let Some(latency) = self.halt_latency_ms {
            text.push_str(&format!(
                ", halt latency {latency:.3} ms, {} started after the halt",
                plural(self.started_after_halt, "task")
            ));
        }
        text.push_str(&format!(", peak memory {} KiB", count(self.peak_rss_kb)));
        if let Some(best) = self.best {
            text.push_str(&format!(
                "\n  best score {} (task {})",
                score(best.score),
                count(best.task)
            ));
        }
        text.push('\n');
        text
    }
}

/// The exit code for a finished run.
#[must_use]
pub fn exit_code(report: &RunReport, can_match: bool, signal: Option<i32>) -> u8 {
    if let Some(signal) = signal {
        return crate::signals::exit_code(signal);
    }
    if report.reason == HaltReason::Fatal {
        return EXIT_USAGE;
    }
    let complete_without_condition = !can_match && report.reason == HaltReason::Exhausted;
    if report.matches > 0 || complete_without_condition {
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
        HaltReason::User => "stopped by the user",
        HaltReason::Exhausted => "searched the whole space",
        HaltReason::Signal => "interrupted by a signal",
        HaltReason::Fatal => "stopped by an error no task can get past",
    }
}
