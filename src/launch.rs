//! From parsed arguments to a finished run: validation, the log, signals, headless or dashboard.

use crate::app::App;
use crate::cli::Cli;
use crate::dashboard::{LoopOptions, run_loop};
use crate::eventlog::EventLog;
use crate::journal::Journal;
use crate::preset::Preset;
use crate::summary::{EXIT_USAGE, Summary};
use crate::term::TerminalGuard;
use anyhow::Context;
use clap::Parser;
use clap::error::ErrorKind;
use std::fmt;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

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
    let signals = crate::signals::listen().map_err(|err| Failure::from(anyhow::Error::new(err)))?;
    if wants_headless(cli) {
        let (search, config) = (plan.search, plan.preset.run_config());
        let mut journal = Journal::start(log, &search, &config, Some(&plan.preset.spec))
            .with_status_every(std::time::Duration::from_secs_f64(cli.status_every));
        let summary = crate::headless::run(Arc::clone(&search), &config, &mut journal, &signals);
        print_summary(&summary, cli.json);
        if let Some(message) = &summary.fatal {
            // The run halted on it (exit code 2); say it once, on one line.
            eprintln!("poolwatch: {message}");
        }
        return Ok(summary.exit_code);
    }
    drop(log);
    if plan.preset.reads_stdin() && std::io::stdin().is_terminal() {
        return Err(Failure::usage(anyhow::anyhow!(
            "exec reads its inputs from standard input, which is the dashboard's terminal: pipe them in, or use --range or --input"
        )));
    }
    run_dashboard(cli, plan, &signals)
}

/// Opens the dashboard, runs it, restores the terminal, then prints the last summary.
fn run_dashboard(
    cli: &Cli,
    plan: crate::cli::RunPlan,
    signals: &crossbeam_channel::Receiver<i32>,
) -> Result<u8, Failure> {
    // A shipped preset given with --config is listed once, as the selected run.
    let shipped: Vec<Preset> = Preset::shipped()
        .into_iter()
        .filter(|shipped| !(shipped.name == plan.preset.name && shipped.spec == plan.preset.spec))
        .collect();
    let mut presets = vec![plan.preset];
    presets.extend(shipped);
    let color = color_enabled(std::env::var_os("NO_COLOR").as_deref());
    let mut app = App::new(presets, color);
    let options = LoopOptions {
        fps: cli.fps,
        log_path: cli.log.clone(),
        status_every: std::time::Duration::from_secs_f64(cli.status_every),
    };
    let stop_input = Arc::new(AtomicBool::new(false));
    let end = {
        let (_guard, mut terminal) = TerminalGuard::enter().context("cannot set up the terminal")?;
        let inputs =
            crate::term::spawn_input_thread(Arc::clone(&stop_input)).context("cannot read the keyboard")?;
        let end = run_loop(&mut terminal, &mut app, &inputs, signals, options, cli.start);
        stop_input.store(true, Ordering::Release);
        end?
    };
    if let Some(summary) = &end.summary {
        print_summary(summary, cli.json);
    } else {
        eprintln!("poolwatch: no run was launched");
    }
    if let Some(message) = &end.fatal {
        eprintln!("poolwatch: {message}");
    }
    for message in end
        .background_panics
        .iter()
        .chain(&crate::term::take_background_panics())
    {
        eprintln!("poolwatch: {message}");
    }
    // A signal that stopped a live run is already in its summary's exit code.
    Ok(match (&end.summary, end.signal) {
        (Some(summary), _) => summary.exit_code,
        (None, Some(signal)) => crate::signals::exit_code(signal),
        (None, None) => 0,
    })
}

/// Colour is on unless `NO_COLOR` is set to a non-empty value (no-color.org).
#[must_use]
pub fn color_enabled(no_color: Option<&std::ffi::OsStr>) -> bool {
    no_color.is_none_or(|value| value.is_empty())
}

/// Prints the summary on stdout as JSON or text.
pub fn print_summary(summary: &Summary, json: bool) {
    if json {
        println!("{}", summary.to_json());
    } else {
        print!("{}", summary.to_text());
    }
}

/// The `poolwatch` command: parses the arguments, runs, and returns the exit code.
#[must_use]
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) if matches!(err.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            print!("{err}");
            return ExitCode::SUCCESS;
        }
        Err(err) => {
            let rendered = err.render().to_string();
            let mut lines = rendered.lines().map(str::trim).filter(|line| !line.is_empty());
            let mut first = lines
                .next()
                .unwrap_or("bad arguments")
                .trim_start_matches("error: ")
                .to_string();
            // "the following required arguments were not provided:" names them on the next line.
            if first.ends_with(':')
                && let Some(next) = lines.next()
            {
                first = format!("{first} {next}");
            }
            eprintln!("poolwatch: {first} (see --help)");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    match app_main(&cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("poolwatch: {err:#}");
            ExitCode::from(err.exit_code())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn no_color_set_and_non_empty_turns_colour_off() {
        assert!(color_enabled(None));
        assert!(color_enabled(Some(OsStr::new(""))));
        assert!(!color_enabled(Some(OsStr::new("1"))));
    }
}
