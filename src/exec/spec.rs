//! `poolwatch exec` described as data: the subcommand's options (clap) and a preset's `[search]` table (serde), declared once.

use super::*;

/// Default time between SIGTERM and SIGKILL, seconds.
pub const DEFAULT_GRACE_S: f64 = 2.0;

/// Most `--retries` accepted.
pub const MAX_RETRIES: u32 = 1000;

/// `poolwatch exec` described as data: the subcommand's options (clap) and a preset's
/// `[search]` table (serde), declared once.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, clap::Args)]
#[serde(deny_unknown_fields)]
pub struct ExecSpec {
    /// The command: {} is replaced by the input, {#} by the task number (1-based);
    /// with no {}, the input is appended. Run directly, not through a shell. A placeholder
    /// that is a whole argument passes the input unchanged; inside a longer argument
    /// (sh -c 'echo {}') the input is shell-quoted for where it stands, so it never runs as
    /// code. Safest: sh -c '... "$1"' sh {}
    #[arg(
        value_name = "CMD",
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub command: Vec<String>,
    /// Integer inputs: A..B (B excluded, like Rust) or A..=B (B included)
    #[arg(long, value_name = "A..B", conflicts_with = "input")]
    #[serde(default)]
    pub range: Option<String>,
    /// Inputs are the lines of FILE, read as workers need them [default: stdin]
    #[arg(long, value_name = "FILE")]
    #[serde(default)]
    pub input: Option<PathBuf>,
    /// The number of inputs, shown as the total until input ends
    #[arg(long, value_name = "N")]
    #[serde(default)]
    pub total: Option<u64>,
    /// A match is stdout matching REGEX (instead of exit status 0)
    #[arg(long, value_name = "REGEX")]
    #[serde(default)]
    pub match_stdout: Option<String>,
    /// Kill a task's process group after SECS seconds; the task is an error
    #[arg(long = "timeout", value_name = "SECS")]
    #[serde(default)]
    pub timeout_s: Option<f64>,
    /// Seconds between SIGTERM and SIGKILL when a process group is killed
    #[arg(long = "grace", value_name = "SECS", default_value_t = DEFAULT_GRACE_S)]
    #[serde(default = "default_grace")]
    pub grace_s: f64,
    /// Run an input up to N more times when it ends in an error (exit status other than 0/1, signal, timeout)
    #[arg(long, value_name = "N", default_value_t = 0)]
    #[serde(default)]
    pub retries: u32,
    /// Write GNU parallel's job log (TSV, one line per finished job) to FILE
    #[arg(long, value_name = "FILE")]
    #[serde(default)]
    pub joblog: Option<PathBuf>,
    /// Skip the jobs that already have a line in the --joblog FILE, and append to it
    #[arg(long, requires = "joblog", conflicts_with = "resume_failed")]
    #[serde(default)]
    pub resume: bool,
    /// As --resume, but run again the jobs whose line in the job log shows an error
    #[arg(long, requires = "joblog")]
    #[serde(default)]
    pub resume_failed: bool,
    /// Keep every job's stdout and stderr in DIR/1/INPUT/{stdout,stderr,seq} (as GNU parallel)
    #[arg(long, value_name = "DIR")]
    #[serde(default)]
    pub results: Option<PathBuf>,
    /// Pass each job's stdout through to stdout, one job at a time (implies --headless; the summary goes to stderr)
    #[arg(long)]
    #[serde(default)]
    pub output: bool,
    /// With --output: print the jobs' output in input order
    #[arg(short = 'k', long, requires = "output")]
    #[serde(default)]
    pub keep_order: bool,
    /// Start CMD once per worker and keep it: one input line per task on its stdin, one answer
    /// line back. CMD is run as written: {} and {#} in it are not replaced (python3 -c 'd = {}' is fine)
    #[arg(long)]
    #[serde(default)]
    pub worker: bool,
    /// With --worker: most inputs in flight per worker process (adaptive below it) [default: 4096]
    #[arg(long, value_name = "N")]
    #[serde(default)]
    pub window: Option<usize>,
    /// With --worker: scores in answers count toward a best, higher (max) or lower (min) being better
    #[arg(long, value_name = "max|min")]
    #[serde(default)]
    pub goal: Option<String>,
    /// Insert {} and {#} inside a longer argument as they are, not shell-quoted: an input
    /// then runs as code in sh -c 'echo {}'. Unsafe with untrusted input
    #[arg(long)]
    #[serde(default)]
    pub unquoted_replacements: bool,
}

impl Default for ExecSpec {
    /// No command (it must be set), stdin inputs, no limits, nothing kept.
    fn default() -> Self {
        Self {
            command: Vec::new(),
            range: None,
            input: None,
            total: None,
            match_stdout: None,
            timeout_s: None,
            grace_s: DEFAULT_GRACE_S,
            retries: 0,
            joblog: None,
            resume: false,
            resume_failed: false,
            results: None,
            output: false,
            keep_order: false,
            worker: false,
            window: None,
            goal: None,
            unquoted_replacements: false,
        }
    }
}

impl ExecSpec {
    /// True for one-shot commands without `--match-stdout`: a match is a job that exited 0,
    /// so every input runs unless a halt is asked for, and matches read as "succeeded".
    #[must_use]
    pub fn runs_every_job(&self) -> bool {
        !self.worker && self.match_stdout.is_none()
    }
}

pub(super) fn default_grace() -> f64 {
    DEFAULT_GRACE_S
}
