//! From parsed arguments to a finished run: validation, the log, signals, headless or dashboard.

use crate::cli::Cli;
use crate::eventlog::EventLog;
use crate::journal::Journal;
use crate::summary::{EXIT_USAGE, Summary};
use std::fmt;
use std::io::IsTerminal;
use std::sync::Arc;

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
            code: EXIT_USAGE,
        }
    }

    /// The exit code.
    #[must_use]
    pub fn exit_code(&self) -> u8 {
        self.code
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#}", self.error)
    }
}

impl From<anyhow::Error> for Failure {
    fn from(error: anyhow::Error) -> Self {
        Self { error, code: 1 }
    }
}

/// True when the dashboard should not be used: `--headless`, or stdout is not a terminal.
#[must_use]
pub fn wants_headless(cli: &Cli) -> bool {
    cli.headless || !std::io::stdout().is_terminal()
}

/// Runs what the command line asks for and returns the exit code.
///
/// # Errors
/// A [`Failure`] for bad input (code 2) or a failure to set up (code 1).
pub fn app_main(cli: &Cli) -> Result<u8, Failure> {
    let plan = cli.plan().map_err(Failure::usage)?;
    let log = EventLog::open(cli.log.as_deref()).map_err(|source| {
        Failure::usage(crate::cli::UsageError::Log {
            path: cli.log.clone().unwrap_or_default(),
            source,
        })
    })?;
    let search = plan.spec.build().map_err(Failure::usage)?;
    let signals = crate::signals::listen().map_err(|err| Failure::from(anyhow::Error::new(err)))?;
    let mut journal = Journal::start(log, &plan.spec, &plan.config, search.params(), search.can_match());
    let summary = crate::headless::run(Arc::clone(&search), &plan.config, &mut journal, &signals);
    print_summary(&summary, cli.json);
    if let Some(message) = search.fatal_error() {
        // The run halted on it (exit code 2); say it once, on one line.
        eprintln!("poolwatch: {message}");
    }
    Ok(summary.exit_code)
}

/// Prints the summary on stdout as JSON or text.
pub fn print_summary(summary: &Summary, json: bool) {
    if json {
        println!("{}", summary.to_json());
    } else {
        print!("{}", summary.to_text());
    }
}
