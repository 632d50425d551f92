//! Command-line parsing: global options, one subcommand per search (declared in `spec`), and validation into a `RunPlan`.

use crate::preset::BadWorkers;
use crate::preset::Preset;
use crate::spec::{SearchSpec, SpecError};
use clap::Parser;
use poolwatch_core::HaltPolicy;
use poolwatch_core::search::Search;
use std::path::PathBuf;
use std::sync::Arc;

/// Run a search across a pool of worker threads, watch it converge, stop it the instant it is done.
#[derive(Debug, Parser)]
#[command(name = "poolwatch", version, about, long_about = None)]
pub struct Cli {
    /// Worker threads [default: number of CPUs]
    #[arg(short = 'w', long, global = true, allow_negative_numbers = true)]
    pub workers: Option<usize>,
    /// What a match does: now, soon, never, after=N or lowest (the lowest matching id: ids
    /// above a match are cancelled, ids below it all run) [default: now, never for exec of
    /// one-shot commands without --match-stdout (every input runs), or the preset's]
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
    /// Append each finished run's summary to FILE as one JSON line (the runs history)
    #[arg(long, global = true, value_name = "FILE")]
    pub runs: Option<PathBuf>,
    /// Seconds between `progress` events in the log (live status and checkpoint)
    #[arg(long, global = true, value_name = "SECONDS", default_value_t = 1.0, value_parser = parse_status_every)]
    pub status_every: f64,
    /// Seed for searches that use randomness (rastrigin)
    #[arg(long, global = true)]
    pub seed: Option<u64>,
    /// Dashboard: launch the run at once instead of waiting in Ready
    #[arg(long, global = true)]
    pub start: bool,
    /// Dashboard: quit when the run ends, printing no summary (for programs that embed the
    /// dashboard, such as the Python `Pool`; they read the outcome from --runs or --log)
    #[arg(long, global = true)]
    pub quit_when_done: bool,
    /// Load a run preset (TOML, like assets/runs/*.toml); it becomes the selected run.
    /// Flags given on the command line (-w, --halt, --seed) override the preset's values
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Dashboard: no mouse (clicks and the wheel are left to the terminal, which then
    /// selects text on a plain drag; every action has its key)
    #[arg(long, global = true)]
    pub no_mouse: bool,
    /// Dashboard frames per second while a run is live (1..=120)
    #[arg(long, global = true, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=120))]
    pub fps: u32,
    /// Continue the run logged in FILE (its --log): same search and options, completed ids not run again; appends to FILE
    #[arg(long, value_name = "FILE")]
    pub resume: Option<PathBuf>,
    /// Search ids N.. of the space (hashcat's --skip)
    #[arg(long, global = true, value_name = "N")]
    pub skip: Option<u64>,
    /// Search at most N ids from the skip on (hashcat's --limit)
    #[arg(long, global = true, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub limit: Option<u64>,
    /// Cover one shard of the space: I/N (shards take interleaved chunks; 0 <= I < N)
    #[arg(long, global = true, value_name = "I/N", value_parser = parse_shard)]
    pub shard: Option<poolwatch_core::Shard>,
    /// With --halt lowest: share matches with the other shards of the search through folder DIR (made if missing), so that one shard's match bounds them all
    #[arg(long, global = true, value_name = "DIR")]
    pub bounds: Option<PathBuf>,
    /// Run the search on a cluster engine (slurm) as --shards array tasks, and watch them
    #[arg(long, global = true, value_name = "ENGINE")]
    pub cluster: Option<String>,
    /// With --cluster: how many shards (array tasks)
    #[arg(long, global = true, value_name = "N", default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub shards: u32,
    /// With --cluster slurm: an argument for sbatch (repeatable): --sbatch-arg=--partition=long
    #[arg(
        long = "sbatch-arg",
        global = true,
        value_name = "ARG",
        allow_hyphen_values = true
    )]
    pub sbatch_args: Vec<String>,
    /// With --cluster: the directory for the job script and the shards' logs (shared by every node)
    /// [default: ./poolwatch-cluster-UNIXTIME]
    #[arg(long, global = true, value_name = "DIR")]
    pub cluster_dir: Option<PathBuf>,
    /// The search to run [default: needle with the article's numbers], or `watch`
    #[command(subcommand)]
    pub search: Option<Subcommand>,
    /// True when `--halt` was given on the command line (not its default): set by the launcher.
    #[arg(skip)]
    pub halt_given: bool,
    /// The options typed on the command line, by id (set by the launcher; `None` when
    /// unknown): `watch` refuses the global options it has no use for, and an error about a
    /// default value can say it is one.
    #[arg(skip)]
    pub typed: Option<Vec<String>>,
}

/// A search (declared in `spec`), or `watch`.
#[derive(Debug, Clone, clap::Subcommand)]
#[expect(clippy::large_enum_variant, reason = "one value per process, parsed once")]
pub enum Subcommand {
    /// One of the searches.
    #[command(flatten)]
    Search(SearchSpec),
    /// Follow one or more --log files (a run, or the shards of one search) as one live dashboard
    Watch(WatchArgs),
}

/// The global options `watch` reads (the others shape a run, and watch runs none): its
/// `--help` shows only these, and it refuses the others.
pub const WATCH_OPTIONS: [&str; 2] = ["headless", "json"];

/// Options of `watch`.
#[derive(Debug, Clone, clap::Args)]
pub struct WatchArgs {
    /// The logs to follow (they may not exist yet)
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,
}

/// `--shard I/N`: N >= 1 and I < N.
fn parse_shard(text: &str) -> Result<poolwatch_core::Shard, String> {
    text.parse()
        .map_err(|err: poolwatch_core::BadShard| err.to_string())
}

fn parse_halt(text: &str) -> Result<HaltPolicy, String> {
    text.parse()
        .map_err(|err: poolwatch_core::BadHaltPolicy| err.to_string())
}

/// Bad input found after parsing; reported on one line with exit code 2.
#[derive(Debug, thiserror::Error)]
pub enum UsageError {
    /// Zero workers or too many (the field is the message, not a cause: said once).
    #[error("--{0}")]
    Workers(BadWorkers),
    /// A search parameter.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// The preset file is unreadable or invalid.
    #[error(transparent)]
    Preset(#[from] crate::preset::PresetError),
    /// The default `--needle` does not fit a smaller `--tasks`.
    #[error(
        "--needle is {needle} by default, outside the space 0..{tasks}: give --needle N with N below {tasks}"
    )]
    DefaultNeedleOutside {
        /// The default needle.
        needle: u64,
        /// The space size given.
        tasks: u64,
    },
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

impl From<BadWorkers> for UsageError {
    fn from(bad: BadWorkers) -> Self {
        Self::Workers(bad)
    }
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
        // `watch` runs no search of its own (launch sends it elsewhere first).
        let mut spec = match &self.search {
            Some(Subcommand::Search(spec)) => spec.clone(),
            Some(Subcommand::Watch(_)) | None => SearchSpec::default(),
        };
        // rastrigin's seed is the global `--seed`, shared by any search that may use randomness.
        if let SearchSpec::Rastrigin(rastrigin) = &mut spec {
            rastrigin.seed = self.seed.unwrap_or(0);
        }
        spec
    }

    /// Validates the options into a plan.
    ///
    /// # Errors
    /// A [`UsageError`] naming the first bad option.
    pub fn plan(&self) -> Result<RunPlan, UsageError> {
        crate::preset::check_workers(self.workers)?;
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
        if let (Some(wanted), SearchSpec::Rastrigin(rastrigin)) = (self.seed, &mut preset.spec) {
            rastrigin.seed = wanted;
        }
    }

    /// `--halt`, or the search's default when it was not given ([`SearchSpec::default_halt`]).
    pub(crate) fn halt_policy(&self) -> HaltPolicy {
        self.halt.unwrap_or_else(|| self.spec().default_halt())
    }

    /// The run described by the command-line options.
    fn command_line_plan(&self) -> Result<RunPlan, UsageError> {
        let spec = self.spec();
        let search = spec.build().map_err(|err| match err {
            SpecError::NeedleOutside { needle, tasks }
                if self
                    .typed
                    .as_ref()
                    .is_some_and(|typed| !typed.iter().any(|id| id == "needle")) =>
            {
                UsageError::DefaultNeedleOutside { needle, tasks }
            }
            other => UsageError::Spec(other),
        })?;
        let workers = self.workers.unwrap_or_else(num_cpus::get);
        let preset = Preset {
            name: "Command line".to_string(),
            description: Preset::describe(search.name(), &search.params(), Some(workers), self.halt_policy()),
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

/// An error that ends the process, with the exit code it ends with.
#[derive(Debug)]
pub struct Failure {
    /// What went wrong.
    pub error: anyhow::Error,
    /// 2 for bad input, 1 otherwise.
    pub code: u8,
}

impl Failure {
    /// Bad input: exit code 2.
    pub fn usage(error: impl Into<anyhow::Error>) -> Self {
        Self {
            error: error.into(),
            code: crate::console::EXIT_USAGE,
        }
    }

    /// The exit code.
    #[must_use]
    pub fn exit_code(&self) -> u8 {
        self.code
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#}", self.error)
    }
}

impl From<anyhow::Error> for Failure {
    fn from(error: anyhow::Error) -> Self {
        Self { error, code: 1 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Cli {
        Cli::try_parse_from(std::iter::once("poolwatch").chain(args.iter().copied()))
            .unwrap_or_else(|err| panic!("{args:?}: {err}"))
    }

    /// A preset that names only the kind gets the same options as the subcommand with no flags.
    #[test]
    fn presets_and_the_command_line_share_their_defaults() {
        for kind in ["needle", "pow", "collatz", "rastrigin"] {
            let text = format!("name = \"x\"\n[search]\nkind = \"{kind}\"\n");
            let preset = Preset::from_toml(&text, "x.toml").unwrap_or_else(|err| panic!("{err}"));
            assert_eq!(preset.spec, parse(&[kind]).spec(), "{kind}");
        }
        assert_eq!(parse(&[]).spec(), SearchSpec::default());
    }

    /// Flags and preset fields are the same fields: a value set either way gives the same spec.
    #[test]
    fn flags_and_preset_fields_build_the_same_spec() {
        let cli = parse(&["--seed", "7", "rastrigin", "--dims", "3", "--target", "-1.5"]);
        let text = "name = \"x\"\n[search]\nkind = \"rastrigin\"\ndims = 3\ntarget = -1.5\nseed = 7\n";
        assert_eq!(Preset::from_toml(text, "x.toml").unwrap().spec, cli.spec());
        let cli = parse(&["exec", "--range", "1..4", "--timeout", "2", "--", "echo", "{}"]);
        let text = "name = \"x\"\n[search]\nkind = \"exec\"\nrange = \"1..4\"\ntimeout_s = 2.0\ncommand = [\"echo\", \"{}\"]\n";
        assert_eq!(Preset::from_toml(text, "x.toml").unwrap().spec, cli.spec());
    }

    /// One-shot `exec` without `--match-stdout` runs every input unless a halt is asked for;
    /// `--worker`, `--match-stdout` and the other searches halt on the first match.
    #[test]
    fn exec_of_one_shot_commands_defaults_to_running_every_job() {
        let halt = |args: &[&str]| parse(args).halt_policy().to_string();
        assert_eq!(halt(&["exec", "--range", "0..3", "--", "true"]), "never");
        assert_eq!(
            halt(&["--halt", "now", "exec", "--range", "0..3", "--", "true"]),
            "now"
        );
        assert_eq!(
            halt(&["exec", "--range", "0..3", "--match-stdout", "x", "--", "echo"]),
            "now"
        );
        assert_eq!(halt(&["exec", "--worker", "--range", "0..3", "--", "cat"]), "now");
        assert_eq!(halt(&["needle"]), "now");
        let preset = |halt: &str| {
            let text = format!(
                "name = \"x\"\n{halt}[search]\nkind = \"exec\"\nrange = \"0..3\"\ncommand = [\"true\"]\n"
            );
            Preset::from_toml(&text, "x.toml").unwrap().halt.to_string()
        };
        assert_eq!(preset(""), "never");
        assert_eq!(preset("halt = \"soon\"\n"), "soon");
    }

    /// The option definitions can be read back (what a launcher form is built from).
    #[test]
    fn option_definitions_are_introspectable() {
        let command = Cli::command();
        let pow = command.find_subcommand("pow").expect("a pow subcommand");
        let bits = pow
            .get_arguments()
            .find(|arg| arg.get_id() == "bits")
            .expect("--bits");
        assert_eq!(bits.get_long(), Some("bits"));
        assert_eq!(bits.get_default_values(), ["24"]);
        let kinds: Vec<_> = command.get_subcommands().map(clap::Command::get_name).collect();
        // Every search, then `watch` (which follows logs and runs no search).
        assert_eq!(kinds, ["needle", "pow", "collatz", "rastrigin", "exec", "watch"]);
    }

    /// The command line and preset files refuse the same worker counts, with the same words.
    #[test]
    fn one_worker_check_for_flags_and_presets() {
        let flag = parse(&["-w", "0"]).plan().err().expect("0 workers refused");
        assert_eq!(flag.to_string(), "--workers must be between 1 and 1024, got 0");
        let text = "name = \"x\"\nworkers = 0\n[search]\nkind = \"needle\"\n";
        let file = Preset::from_toml(text, "x.toml").expect_err("0 workers refused");
        assert_eq!(
            file.to_string(),
            "bad preset x.toml: workers must be between 1 and 1024, got 0"
        );
    }
}
