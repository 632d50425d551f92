//! A search described as data: the command line's subcommands and a preset's `[search]` table, declared once.

use crate::exec::ExecSpec;
use clap::{Args, FromArgMatches, Subcommand};
use poolwatch_core::search::{Collatz, Needle, PanicEvery, Pow, Rastrigin, Search};
use std::sync::Arc;
use std::time::Duration;

/// Every built-in search with its options.
///
/// One declaration serves both front ends: clap reads the `#[arg]` attributes (flags, help,
/// defaults) for the command line's subcommands, and serde reads presets' `[search]` tables,
/// taking missing fields from the same defaults ([`Default`] on each options struct parses an
/// empty command line). `clap::CommandFactory` on the CLI exposes the definitions to other
/// front ends.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, Subcommand)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum SearchSpec {
    /// The article's search: task p sleeps, then matches when p == needle
    Needle(NeedleSpec),
    /// Find a nonce whose SHA-256 (data ++ nonce as 8 LE bytes) has enough leading zero bits
    Pow(PowSpec),
    /// Find the start below a bound with the longest Collatz chain
    Collatz(CollatzSpec),
    /// Random-restart local searches on the Rastrigin function; the best value descends to 0
    Rastrigin(RastriginSpec),
    /// Run a command once per input (like GNU parallel): exit 0 is a match, 1 a miss, else an error
    Exec(ExecSpec),
}

/// Options of `needle` (see [`Needle`]); the defaults are the article's numbers.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, Args)]
#[serde(default, deny_unknown_fields)]
pub struct NeedleSpec {
    /// Size of the space 0..N
    #[arg(long, default_value_t = 50_000, allow_negative_numbers = true)]
    pub tasks: u64,
    /// The task id that matches
    #[arg(long, default_value_t = 10_000, allow_negative_numbers = true)]
    pub needle: u64,
    /// Milliseconds each task sleeps (0: no sleep, a near-trivial task)
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    pub sleep_ms: f64,
    /// Make every Nth task panic, to see panics caught and logged as errors (0: never)
    #[arg(long, allow_negative_numbers = true, default_value_t = 0)]
    pub panic_every: u64,
}

/// Options of `pow` (see [`Pow`]).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, Args)]
#[serde(default, deny_unknown_fields)]
pub struct PowSpec {
    /// Size of the nonce space 0..N
    #[arg(long, default_value_t = 1 << 32, allow_negative_numbers = true)]
    pub tasks: u64,
    /// Bytes hashed before the nonce
    #[arg(long, default_value = "poolwatch")]
    pub data: String,
    /// Leading zero bits for a match
    #[arg(long, default_value_t = 24, allow_negative_numbers = true)]
    pub bits: u32,
}

/// Options of `collatz` (see [`Collatz`]).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, Args)]
#[serde(default, deny_unknown_fields)]
pub struct CollatzSpec {
    /// Starts are 1..BELOW
    #[arg(long, default_value_t = 10_000_000, allow_negative_numbers = true)]
    pub below: u64,
    /// A chain of at least this many steps is a match
    #[arg(long, allow_negative_numbers = true)]
    pub target: Option<u64>,
}

/// Options of `rastrigin` (see [`Rastrigin`]).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, Args)]
#[serde(default, deny_unknown_fields)]
pub struct RastriginSpec {
    /// Number of restarts
    #[arg(long, default_value_t = 200_000, allow_negative_numbers = true)]
    pub tasks: u64,
    /// Dimensions
    #[arg(long, default_value_t = 5, allow_negative_numbers = true)]
    pub dims: usize,
    /// A value at or below this is a match
    #[arg(long, default_value_t = 1e-6, allow_negative_numbers = true)]
    pub target: f64,
    /// Seed for the restart points; on the command line it is the global `--seed`
    #[arg(skip)]
    pub seed: u64,
}

/// The options' defaults as the command line declares them: `T` parsed from no arguments.
fn command_line_defaults<T: Args + FromArgMatches>() -> T {
    let command = T::augment_args(clap::Command::new("defaults").no_binary_name(true));
    let parsed = command
        .try_get_matches_from(std::iter::empty::<String>())
        .and_then(|matches| T::from_arg_matches(&matches));
    // Every option of the searches above has a default or is optional (the tests parse each).
    parsed.expect("every search option has a default or is optional")
}

impl Default for NeedleSpec {
    fn default() -> Self {
        command_line_defaults()
    }
}

impl Default for PowSpec {
    fn default() -> Self {
        command_line_defaults()
    }
}

impl Default for CollatzSpec {
    fn default() -> Self {
        command_line_defaults()
    }
}

impl Default for RastriginSpec {
    fn default() -> Self {
        command_line_defaults()
    }
}

/// The article's search: `needle` with its defaults.
impl Default for SearchSpec {
    fn default() -> Self {
        Self::Needle(NeedleSpec::default())
    }
}

/// A search parameter that makes no sense.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SpecError {
    /// The space is empty.
    #[error("--tasks must be at least 1")]
    NoTasks,
    /// The needle cannot be found.
    #[error("--needle {needle} is outside the space 0..{tasks}")]
    NeedleOutside {
        /// The needle asked for.
        needle: u64,
        /// The space size.
        tasks: u64,
    },
    /// A negative, infinite or absurd sleep.
    #[error("--sleep-ms must be between 0 and 3600000, got {0}")]
    BadSleep(f64),
    /// More bits than a SHA-256 digest has.
    #[error("--bits must be between 1 and 256, got {0}")]
    BadBits(u32),
    /// Collatz needs at least one start.
    #[error("--below must be at least 2, got {0}")]
    BadBelow(u64),
    /// Rastrigin dimensions.
    #[error("--dims must be between 1 and 64, got {0}")]
    BadDims(usize),
    /// A target that is not a number.
    #[error("--target must be a finite number, got {0}")]
    BadTarget(f64),
    /// An `exec` option, or a command that cannot be run.
    #[error(transparent)]
    Exec(#[from] crate::exec::ExecError),
}

impl SearchSpec {
    /// The command-line name of the search.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Needle(_) => "needle",
            Self::Pow(_) => "pow",
            Self::Collatz(_) => "collatz",
            Self::Rastrigin(_) => "rastrigin",
            Self::Exec(_) => "exec",
        }
    }

    /// The halt policy when neither `--halt` nor a preset gives one: `never` for `exec` of
    /// one-shot commands without `--match-stdout`, where a match means no more than exit
    /// status 0 (every input runs, as with GNU parallel); `now` for every other search,
    /// `exec --worker` included, whose matches are what the search looks for.
    #[must_use]
    pub fn default_halt(&self) -> poolwatch_core::HaltPolicy {
        match self {
            Self::Exec(exec) if exec.runs_every_job() => poolwatch_core::HaltPolicy::Never,
            _ => poolwatch_core::HaltPolicy::Now,
        }
    }

    /// The size of the space when it is known without building the search or reading input
    /// (what Ready shows as the total), `None` for inputs read from a file or stdin.
    #[must_use]
    pub fn known_space(&self) -> Option<u64> {
        match self {
            Self::Needle(needle) => Some(needle.tasks),
            Self::Pow(pow) => Some(pow.tasks),
            Self::Rastrigin(rastrigin) => Some(rastrigin.tasks),
            Self::Collatz(collatz) => Some(collatz.below.saturating_sub(1)),
            Self::Exec(exec) => exec
                .range
                .as_deref()
                .and_then(crate::exec::IntRange::parse)
                .map(|range| range.len),
        }
    }

    /// Checks the parameters as [`SearchSpec::build`] does, with no side effect: an `exec`
    /// search opens neither its input nor its job log (which opening truncates).
    ///
    /// # Errors
    /// The [`SpecError`] `build` would give.
    pub fn check(&self) -> Result<(), SpecError> {
        match self {
            Self::Exec(spec) => Ok(crate::exec::ExecSearch::check(spec)?),
            other => other.build().map(drop),
        }
    }

    /// Checks the parameters and builds the search.
    ///
    /// # Errors
    /// A [`SpecError`] naming the first bad parameter.
    pub fn build(&self) -> Result<Arc<dyn Search>, SpecError> {
        Ok(match self {
            Self::Needle(needle) => needle.build()?,
            Self::Pow(pow) => {
                check_tasks(pow.tasks)?;
                if !(1..=256).contains(&pow.bits) {
                    return Err(SpecError::BadBits(pow.bits));
                }
                Arc::new(Pow {
                    tasks: pow.tasks,
                    data: pow.data.clone(),
                    bits: pow.bits,
                })
            }
            Self::Exec(spec) => crate::exec::build(spec)?,
            Self::Collatz(CollatzSpec { below, target }) => {
                if *below < 2 {
                    return Err(SpecError::BadBelow(*below));
                }
                Arc::new(Collatz {
                    below: *below,
                    target: *target,
                })
            }
            Self::Rastrigin(rastrigin) => rastrigin.build()?,
        })
    }
}

impl NeedleSpec {
    /// Checks the options and builds the search (wrapped in [`PanicEvery`] if asked).
    fn build(&self) -> Result<Arc<dyn Search>, SpecError> {
        let Self {
            tasks,
            needle,
            sleep_ms,
            panic_every,
        } = *self;
        check_tasks(tasks)?;
        if needle >= tasks {
            return Err(SpecError::NeedleOutside { needle, tasks });
        }
        if !(0.0..=3_600_000.0).contains(&sleep_ms) {
            return Err(SpecError::BadSleep(sleep_ms));
        }
        let needle: Arc<dyn Search> = Arc::new(Needle {
            tasks,
            needle,
            sleep: Duration::from_secs_f64(sleep_ms / 1e3),
        });
        Ok(if panic_every == 0 {
            needle
        } else {
            Arc::new(PanicEvery {
                inner: needle,
                every: panic_every,
            })
        })
    }
}

impl RastriginSpec {
    /// Checks the options and builds the search.
    fn build(&self) -> Result<Arc<dyn Search>, SpecError> {
        let Self {
            tasks,
            dims,
            target,
            seed,
        } = *self;
        check_tasks(tasks)?;
        if !(1..=64).contains(&dims) {
            return Err(SpecError::BadDims(dims));
        }
        if !target.is_finite() {
            return Err(SpecError::BadTarget(target));
        }
        Ok(Arc::new(Rastrigin {
            tasks,
            dims,
            target,
            seed,
        }))
    }
}

fn check_tasks(tasks: u64) -> Result<(), SpecError> {
    if tasks == 0 {
        Err(SpecError::NoTasks)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_the_article() {
        let search = SearchSpec::default().build().unwrap();
        assert_eq!(search.name(), "needle");
        assert_eq!(search.space(), 50_000);
        assert_eq!(
            SearchSpec::default(),
            SearchSpec::Needle(NeedleSpec {
                tasks: 50_000,
                needle: 10_000,
                sleep_ms: 1.0,
                panic_every: 0,
            })
        );
    }

    /// Each options struct's defaults come from its clap declaration.
    #[test]
    fn defaults_are_the_command_lines() {
        assert_eq!(
            PowSpec::default(),
            PowSpec {
                tasks: 1 << 32,
                data: "poolwatch".into(),
                bits: 24
            }
        );
        assert_eq!(
            CollatzSpec::default(),
            CollatzSpec {
                below: 10_000_000,
                target: None
            }
        );
        assert_eq!(
            RastriginSpec::default(),
            RastriginSpec {
                tasks: 200_000,
                dims: 5,
                target: 1e-6,
                seed: 0
            }
        );
    }

    #[test]
    fn rejects_bad_parameters() {
        let outside = SearchSpec::Needle(NeedleSpec {
            tasks: 10,
            needle: 10,
            ..NeedleSpec::default()
        });
        assert_eq!(
            outside.build().err(),
            Some(SpecError::NeedleOutside {
                needle: 10,
                tasks: 10
            })
        );
        let no_bits = PowSpec {
            bits: 0,
            ..PowSpec::default()
        };
        assert!(SearchSpec::Pow(no_bits).build().is_err());
        let no_starts = CollatzSpec {
            below: 1,
            target: None,
        };
        assert!(SearchSpec::Collatz(no_starts).build().is_err());
        let no_dims = RastriginSpec {
            dims: 0,
            ..RastriginSpec::default()
        };
        assert!(SearchSpec::Rastrigin(no_dims).build().is_err());
    }
}
