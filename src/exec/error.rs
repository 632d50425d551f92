//! What is wrong with an exec spec, or with what it names (a program, an input, a folder): one line each.

use super::*;

/// Why an exec spec cannot run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExecError {
    /// No program after `--`.
    #[error("exec needs a command: poolwatch exec [OPTIONS] -- CMD [ARGS...]")]
    EmptyCommand,
    /// `--range` is not `A..B` / `A..=B` with A < B.
    #[error("--range must be A..B (B excluded) or A..=B with integers and A < B, got {0:?}")]
    BadRange(String),
    /// A `--range` bound does not fit a 64-bit signed integer.
    #[error(
        "--range bounds must lie between -9223372036854775808 and 9223372036854775807 (64-bit integers), got {0:?}"
    )]
    RangeLimit(String),
    /// `--range` and `--input` together.
    #[error("--range and --input cannot be used together")]
    TwoSources,
    /// The input file cannot be read.
    #[error("cannot read input file {path}: {reason}")]
    Input {
        /// The path.
        path: String,
        /// Why.
        reason: String,
    },
    /// `--match-stdout` does not compile.
    #[error("--match-stdout {pattern:?} is not a valid regex: {reason}")]
    BadRegex {
        /// The pattern.
        pattern: String,
        /// The regex error's last line.
        reason: String,
    },
    /// A bad `--timeout`.
    #[error("--timeout must be a positive number of seconds, got {0}")]
    BadTimeout(String),
    /// A bad `--grace`.
    #[error("--grace must be between 0 and 3600 seconds, got {0}")]
    BadGrace(String),
    /// `--retries` too high.
    #[error("--retries must be at most {MAX_RETRIES}, got {0}")]
    BadRetries(u32),
    /// `--resume` or `--resume-failed` without a job log.
    #[error("--resume and --resume-failed need --joblog FILE")]
    ResumeNeedsJoblog,
    /// `--keep-order` without `--output`.
    #[error("--keep-order needs --output")]
    KeepOrderNeedsOutput,
    /// A file or folder for what the jobs leave behind cannot be used.
    #[error("cannot use {what} {path}: {reason}")]
    Keep {
        /// `--joblog FILE`, `--results DIR`...
        what: &'static str,
        /// The path.
        path: String,
        /// Why.
        reason: String,
    },
    /// An option that needs or excludes `--worker`.
    #[error("{0}")]
    Worker(String),
    /// The program cannot be run.
    #[error("cannot run '{program}': {reason}")]
    CannotRun {
        /// The program as written.
        program: String,
        /// The system's reason.
        reason: String,
    },
}
