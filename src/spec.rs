//! A search described as data: what the command line, presets and the launcher build searches from.

use crate::search::{Collatz, Needle, PanicEvery, Pow, Rastrigin, Search};
use std::sync::Arc;
use std::time::Duration;

/// The article's numbers: 50,000 tasks, needle 10,000, 1 ms each.
pub const DEFAULT_NEEDLE_TASKS: u64 = 50_000;
/// The article's needle.
pub const DEFAULT_NEEDLE: u64 = 10_000;

/// Every built-in search with its parameters; (de)serialises as a preset's `[search]` table.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum SearchSpec {
    /// See [`Needle`].
    Needle {
        /// Size of the space.
        #[serde(default = "default_needle_tasks")]
        tasks: u64,
        /// The matching id.
        #[serde(default = "default_needle")]
        needle: u64,
        /// Every Nth task panics (0: never), to try out error handling.
        #[serde(default)]
        panic_every: u64,
        /// Milliseconds each task sleeps.
        #[serde(default = "default_sleep_ms")]
        sleep_ms: f64,
    },
    /// See [`Pow`].
    Pow {
        /// Size of the nonce space.
        #[serde(default = "default_pow_tasks")]
        tasks: u64,
        /// The data hashed before the nonce.
        #[serde(default = "default_pow_data")]
        data: String,
        /// Leading zero bits wanted.
        #[serde(default = "default_pow_bits")]
        bits: u32,
    },
    /// See [`Collatz`].
    Collatz {
        /// Starts are `1..below`.
        #[serde(default = "default_collatz_below")]
        below: u64,
        /// Chain length that counts as a match.
        #[serde(default)]
        target: Option<u64>,
    },
    /// See [`crate::exec::ExecSearch`]: a command run once per input.
    Exec(crate::exec::ExecSpec),
    /// See [`Rastrigin`].
    Rastrigin {
        /// Number of restarts.
        #[serde(default = "default_rastrigin_tasks")]
        tasks: u64,
        /// Dimensions.
        #[serde(default = "default_dims")]
        dims: usize,
        /// A value at or below this is a match.
        #[serde(default = "default_rastrigin_target")]
        target: f64,
        /// Seed for the restart points.
        #[serde(default)]
        seed: u64,
    },
}

fn default_needle_tasks() -> u64 {
    DEFAULT_NEEDLE_TASKS
}
fn default_needle() -> u64 {
    DEFAULT_NEEDLE
}
fn default_sleep_ms() -> f64 {
    1.0
}
fn default_pow_tasks() -> u64 {
    1 << 32
}
fn default_pow_data() -> String {
    "poolwatch".to_string()
}
fn default_pow_bits() -> u32 {
    24
}
fn default_collatz_below() -> u64 {
    10_000_000
}
fn default_rastrigin_tasks() -> u64 {
    200_000
}
fn default_dims() -> usize {
    5
}
fn default_rastrigin_target() -> f64 {
    1e-6
}

impl Default for SearchSpec {
    fn default() -> Self {
        Self::Needle {
            tasks: DEFAULT_NEEDLE_TASKS,
            needle: DEFAULT_NEEDLE,
            panic_every: 0,
            sleep_ms: 1.0,
        }
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
            Self::Needle { .. } => "needle",
            Self::Pow { .. } => "pow",
            Self::Collatz { .. } => "collatz",
            Self::Rastrigin { .. } => "rastrigin",
            Self::Exec(_) => "exec",
        }
    }

    /// The size of the space when it is known without building the search or reading input
    /// (what Ready shows as the total), `None` for inputs read from a file or stdin.
    #[must_use]
    pub fn known_space(&self) -> Option<u64> {
        match self {
            Self::Needle { tasks, .. } | Self::Pow { tasks, .. } | Self::Rastrigin { tasks, .. } => {
                Some(*tasks)
            }
            Self::Collatz { below, .. } => Some(below.saturating_sub(1)),
            Self::Exec(exec) => exec
                .range
                .as_deref()
                .and_then(crate::exec::IntRange::parse)
                .map(|range| range.len),
        }
    }

    /// Checks the parameters and builds the search.
    ///
    /// # Errors
    /// A [`SpecError`] naming the first bad parameter.
    pub fn build(&self) -> Result<Arc<dyn Search>, SpecError> {
        Ok(match self.clone() {
            Self::Needle {
                tasks,
                needle,
                panic_every,
                sleep_ms,
            } => {
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
                if panic_every == 0 {
                    needle
                } else {
                    Arc::new(PanicEvery {
                        inner: needle,
                        every: panic_every,
                    })
                }
            }
            Self::Pow { tasks, data, bits } => {
                check_tasks(tasks)?;
                if !(1..=256).contains(&bits) {
                    return Err(SpecError::BadBits(bits));
                }
                Arc::new(Pow { tasks, data, bits })
            }
            Self::Exec(spec) => Arc::new(crate::exec::ExecSearch::new(&spec)?),
            Self::Collatz { below, target } => {
                if below < 2 {
                    return Err(SpecError::BadBelow(below));
                }
                Arc::new(Collatz { below, target })
            }
            Self::Rastrigin {
                tasks,
                dims,
                target,
                seed,
            } => {
                check_tasks(tasks)?;
                if !(1..=64).contains(&dims) {
                    return Err(SpecError::BadDims(dims));
                }
                if !target.is_finite() {
                    return Err(SpecError::BadTarget(target));
                }
                Arc::new(Rastrigin {
                    tasks,
                    dims,
                    target,
                    seed,
                })
            }
        })
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
    }

    #[test]
    fn rejects_bad_parameters() {
        let outside = SearchSpec::Needle {
            tasks: 10,
            needle: 10,
            panic_every: 0,
            sleep_ms: 1.0,
        };
        assert_eq!(
            outside.build().err(),
            Some(SpecError::NeedleOutside {
                needle: 10,
                tasks: 10
            })
        );
        assert!(
            SearchSpec::Pow {
                tasks: 1,
                data: String::new(),
                bits: 0
            }
            .build()
            .is_err()
        );
        assert!(
            SearchSpec::Collatz {
                below: 1,
                target: None
            }
            .build()
            .is_err()
        );
        assert!(
            SearchSpec::Rastrigin {
                tasks: 1,
                dims: 0,
                target: 0.0,
                seed: 0
            }
            .build()
            .is_err()
        );
    }
}
