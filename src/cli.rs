//! Command-line parsing: global options, one subcommand per search, and validation into a `RunPlan`.

use crate::pool::HaltPolicy;
use crate::preset::Preset;
use crate::search::Search;
use crate::spec::{DEFAULT_NEEDLE, DEFAULT_NEEDLE_TASKS, SearchSpec, SpecError};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::sync::Arc;

/// Run a search across a pool of worker threads, watch it converge, stop it the instant it is done.
#[derive(Debug, Parser)]
#[command(name = "poolwatch", version, about, long_about = None)]
pub struct Cli {
    /// Worker threads [default: number of CPUs]
    #[arg(short = 'w', long, global = true)]
    pub workers: Option<usize>,
    /// What a match does: now, soon, never or after=N [default: now, or the preset's]
    #[arg(long, global = true, value_parser = parse_halt)]
    pub halt: Option<HaltPolicy>,
    /// Run without the dashboard: progress on stderr, summary on stdout
    #[arg(long, global = true)]
    pub headless: bool,
    /// Print the summary as one JSON object
    #[arg(long, global = true)]
    pub json: bool,
    /// Append every event to FILE as JSON lines
    #[arg(long, global = true, value_name = "FILE")]
    pub log: Option<PathBuf>,
    /// Seconds between `progress` events in the log (live status and checkpoint)
    #[arg(long, global = true, value_name = "SECONDS", default_value_t = 1.0, value_parser = parse_status_every)]
    pub status_every: f64,
    /// Seed for searches that use randomness (rastrigin)
    #[arg(long, global = true)]
    pub seed: Option<u64>,
    /// Dashboard: launch the run at once instead of waiting in Ready
    #[arg(long, global = true)]
    pub start: bool,
    /// Load a run preset (TOML, like assets/runs/*.toml); it becomes the selected run.
    /// Flags given on the command line (-w, --halt, --seed) override the preset's values
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Dashboard frames per second while a run is live (1..=120)
    #[arg(long, global = true, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=120))]
    pub fps: u32,
    /// The search to run [default: needle with the article's numbers]
    #[command(subcommand)]
    pub search: Option<SearchCommand>,
}

fn parse_halt(text: &str) -> Result<HaltPolicy, String> {
    text.parse()
        .map_err(|err: crate::pool::BadHaltPolicy| err.to_string())
}

/// The built-in searches.
#[derive(Debug, Subcommand)]
pub enum SearchCommand {
    /// The article's search: task p sleeps, then matches when p == needle
    Needle(NeedleArgs),
    /// Find a nonce whose SHA-256 (data ++ nonce as 8 LE bytes) has enough leading zero bits
    Pow(PowArgs),
    /// Find the start below a bound with the longest Collatz chain
    Collatz(CollatzArgs),
    /// Random-restart local searches on the Rastrigin function; the best value descends to 0
    Rastrigin(RastriginArgs),
    /// Run a command once per input (like GNU parallel): exit 0 is a match, 1 a miss, else an error
    Exec(ExecArgs),
}

/// Options of `exec`.
#[derive(Debug, Args)]
pub struct ExecArgs {
    /// Integer inputs: A..B (B excluded, like Rust) or A..=B (B included)
    #[arg(long, value_name = "A..B", conflicts_with = "input")]
    pub range: Option<String>,
    /// Inputs are the lines of FILE, read as workers need them [default: stdin]
    #[arg(long, value_name = "FILE")]
    pub input: Option<PathBuf>,
    /// The number of inputs, shown as the total until input ends
    #[arg(long, value_name = "N")]
    pub total: Option<u64>,
    /// A match is stdout matching REGEX (instead of exit status 0)
    #[arg(long, value_name = "REGEX")]
    pub match_stdout: Option<String>,
    /// Kill a task's process group after SECS seconds; the task is an error
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<f64>,
    /// Seconds between SIGTERM and SIGKILL when a process group is killed
    #[arg(long, value_name = "SECS", default_value_t = crate::exec::DEFAULT_GRACE_S)]
    pub grace: f64,
    /// The command: {} is replaced by the input, {#} by the task number (1-based);
    /// with no {}, the input is appended. Run directly, not through a shell
    #[arg(
        value_name = "CMD",
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub command: Vec<String>,
}

/// Options of `needle`.
#[derive(Debug, Args)]
pub struct NeedleArgs {
    /// Size of the space 0..N
    #[arg(long, default_value_t = DEFAULT_NEEDLE_TASKS)]
    pub tasks: u64,
    /// The task id that matches
    #[arg(long, default_value_t = DEFAULT_NEEDLE)]
    pub needle: u64,
    /// Milliseconds each task sleeps (0: no sleep, a near-trivial task)
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    pub sleep_ms: f64,
    /// Make every Nth task panic, to see panics caught and logged as errors (0: never)
    #[arg(long, default_value_t = 0)]
    pub panic_every: u64,
}

/// Options of `pow`.
#[derive(Debug, Args)]
pub struct PowArgs {
    /// Size of the nonce space 0..N
    #[arg(long, default_value_t = 1 << 32)]
    pub tasks: u64,
    /// Bytes hashed before the nonce
    #[arg(long, default_value = "poolwatch")]
    pub data: String,
    /// Leading zero bits for a match
    #[arg(long, default_value_t = 24)]
    pub bits: u32,
}

/// Options of `collatz`.
#[derive(Debug, Args)]
pub struct CollatzArgs {
    /// Starts are 1..BELOW
    #[arg(long, default_value_t = 10_000_000)]
    pub below: u64,
    /// A chain of at least this many steps is a match
    #[arg(long)]
    pub target: Option<u64>,
}

/// Options of `rastrigin`.
#[derive(Debug, Args)]
pub struct RastriginArgs {
    /// Number of restarts
    #[arg(long, default_value_t = 200_000)]
    pub tasks: u64,
    /// Dimensions
    #[arg(long, default_value_t = 5)]
    pub dims: usize,
    /// A value at or below this is a match
    #[arg(long, default_value_t = 1e-6, allow_negative_numbers = true)]
    pub target: f64,
}

/// Bad input found after parsing; reported on one line with exit code 2.
#[derive(Debug, thiserror::Error)]
pub enum UsageError {
    /// Zero workers or too many.
    #[error("--workers must be between 1 and {max}, got {got}")]
    Workers {
        /// Requested.
        got: usize,
        /// Allowed maximum.
        max: usize,
    },
    /// A search parameter.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// The preset file is unreadable or invalid.
    #[error(transparent)]
    Preset(#[from] crate::preset::PresetError),
    /// A search subcommand given together with `--config`, which names its own search.
    #[error("--config {path} names its own search: drop the '{search}' subcommand, or drop --config")]
    SearchWithConfig {
        /// The preset file.
        path: PathBuf,
        /// The subcommand given.
        search: String,
    },
    /// The log file cannot be opened.
    #[error("cannot open log file {path}")]
    Log {
        /// The path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// Everything a run needs, validated.
pub struct RunPlan {
    /// The run as a launcher entry: the search, its workers and halt policy.
    pub preset: Preset,
    /// The search, built once from `preset.spec` (the dashboard builds anew for each launch).
    pub search: Arc<dyn Search>,
}

impl Cli {
    /// The search named on the command line, or the article's needle search.
    #[must_use]
    pub fn spec(&self) -> SearchSpec {
        match &self.search {
            None => SearchSpec::default(),
            Some(SearchCommand::Needle(a)) => SearchSpec::Needle {
                tasks: a.tasks,
                needle: a.needle,
                panic_every: a.panic_every,
                sleep_ms: a.sleep_ms,
            },
            Some(SearchCommand::Pow(a)) => SearchSpec::Pow {
                tasks: a.tasks,
                data: a.data.clone(),
                bits: a.bits,
            },
            Some(SearchCommand::Collatz(a)) => SearchSpec::Collatz {
                below: a.below,
                target: a.target,
            },
            Some(SearchCommand::Rastrigin(a)) => SearchSpec::Rastrigin {
                tasks: a.tasks,
                dims: a.dims,
                target: a.target,
                seed: self.seed.unwrap_or(0),
            },
            Some(SearchCommand::Exec(a)) => SearchSpec::Exec(crate::exec::ExecSpec {
                command: a.command.clone(),
                range: a.range.clone(),
                input: a.input.clone(),
                total: a.total,
                match_stdout: a.match_stdout.clone(),
                timeout_s: a.timeout,
                grace_s: a.grace,
            }),
        }
    }

    /// Validates the options into a plan.
    ///
    /// # Errors
    /// A [`UsageError`] naming the first bad option.
    pub fn plan(&self) -> Result<RunPlan, UsageError> {
        if let Some(workers) = self.workers
            && !(1..=crate::pool::MAX_WORKERS).contains(&workers)
        {
            return Err(UsageError::Workers {
                got: workers,
                max: crate::pool::MAX_WORKERS,
            });
        }
        match &self.config {
            Some(path) => {
                if self.search.is_some() {
                    return Err(UsageError::SearchWithConfig {
                        path: path.clone(),
                        search: self.spec().kind().to_string(),
                    });
                }
                let mut preset = Preset::load(path)?;
                self.override_preset(&mut preset);
                let search = preset.spec.build()?;
                Ok(RunPlan { preset, search })
            }
            None => self.command_line_plan(),
        }
    }

    /// Every flag given on the command line wins over the preset's value, for the
    /// dashboard and headless alike.
    fn override_preset(&self, preset: &mut Preset) {
        preset.workers = self.workers.or(preset.workers);
        preset.halt = self.halt.unwrap_or(preset.halt);
        if let (Some(wanted), SearchSpec::Rastrigin { seed, .. }) = (self.seed, &mut preset.spec) {
            *seed = wanted;
        }
    }

    /// `--halt`, or `now` when it was not given.
    fn halt_policy(&self) -> HaltPolicy {
        self.halt.unwrap_or(HaltPolicy::Now)
    }

    /// The run described by the command-line options.
    fn command_line_plan(&self) -> Result<RunPlan, UsageError> {
        let spec = self.spec();
        let search = spec.build()?;
        let workers = self.workers.unwrap_or_else(num_cpus::get);
        let preset = Preset {
            name: "Command line".to_string(),
            description: format!(
                "{} {} ({workers} workers, halt {})",
                search.name(),
                search.params(),
                self.halt_policy()
            ),
            spec,
            workers: Some(workers),
            halt: self.halt_policy(),
        };
        Ok(RunPlan { preset, search })
    }
}

/// `--status-every`: a number of seconds from 0.05 to one day.
fn parse_status_every(text: &str) -> Result<f64, String> {
    let seconds: f64 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    if (0.05..=86_400.0).contains(&seconds) {
        Ok(seconds)
    } else {
        Err(format!("{seconds} is out of range (0.05 to 86400 seconds)"))
    }
}
