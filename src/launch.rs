//! From parsed arguments to a finished run: validation, the log, signals, headless or dashboard.

use crate::app::App;
use crate::cli::Cli;
use crate::dashboard::{LoopOptions, run_loop};
use crate::eventlog::EventLog;
use crate::journal::Journal;
use crate::pool::RunConfig;
use crate::preset::Preset;
use crate::resume::{Carried, Checkpoint, Resumption};
use crate::summary::{EXIT_BROKEN_PIPE, EXIT_OUTPUT_FAILED, EXIT_USAGE, Summary};
use crate::term::TerminalGuard;
use anyhow::Context;
use clap::FromArgMatches;
use clap::error::ErrorKind;
use std::fmt;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

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
pub fn app_main(cli: &Cli, signals: &crossbeam_channel::Receiver<i32>) -> Result<u8, Failure> {
    if let Some(crate::cli::Subcommand::Watch(args)) = &cli.search {
        return crate::watch::entry::watch_main(cli, args, signals);
    }
    let (plan, checkpoint) = match &cli.resume {
        None => (cli.plan().map_err(Failure::usage)?, None),
        Some(path) => match crate::resume::prepare(cli, path).map_err(Failure::usage)? {
            Resumption::Finished { message, code } => {
                say(&format!("poolwatch: {message}"));
                return Ok(code);
            }
            Resumption::Continue { plan, checkpoint } => (*plan, Some(checkpoint)),
        },
    };
    if let Some(engine) = &cli.cluster {
        return crate::watch::entry::cluster_main(cli, engine, &plan, signals);
    }
    // A resumed run appends to the log it continues.
    let log_path = cli.log.clone().or_else(|| cli.resume.clone());
    let log = EventLog::open(log_path.as_deref()).map_err(|source| {
        Failure::usage(crate::cli::UsageError::Log {
            path: log_path.clone().unwrap_or_default(),
            source,
        })
    })?;
    if let Some(path) = &cli.runs {
        crate::runlog::check_writable(path).map_err(|err| {
            Failure::usage(anyhow::anyhow!("cannot open runs file {}: {err}", path.display()))
        })?;
    }
    // `exec --output` writes the jobs' output on stdout: never under the dashboard.
    let passes_output = plan.preset.passes_output();
    if wants_headless(cli) || passes_output {
        let controls =
            crate::signals::listen_controls().map_err(|err| Failure::from(anyhow::Error::new(err)))?;
        let summary = {
            let search = plan.search;
            let config = run_config(cli, &plan.preset, checkpoint.as_deref());
            // A resumed run keeps the shard its log records.
            let config = if checkpoint.is_none() {
                sharded(config, cli.shard)
            } else {
                config
            };
            let spec = Some(&plan.preset.spec);
            let journal = match checkpoint.as_deref() {
                None => Journal::start(log, &search, &config, spec),
                Some(checkpoint) => {
                    let carried = Carried::from_checkpoint(checkpoint, search.goal());
                    Journal::resume(log, &search, &config, spec, carried)
                }
            };
            let mut journal = journal.with_status_every(std::time::Duration::from_secs_f64(cli.status_every));
            crate::headless::run(Arc::clone(&search), &config, &mut journal, signals, &controls)
            // The search is dropped here: `exec --output` prints what still waits before the summary.
        };
        if let Some(path) = &cli.runs {
            let record = crate::runlog::RunRecord::new(&plan.preset, &summary);
            if let Err(err) = crate::runlog::append(path, &record) {
                say(&format!("poolwatch: cannot append to {}: {err}", path.display()));
            }
        }
        if passes_output {
            // stdout carries the jobs' output: the summary goes beside the progress lines.
            say(summary_text(&summary, cli.json).trim_end());
        } else {
            print_summary(&summary, cli.json);
        }
        if let Some(message) = &summary.fatal {
            // The run halted on it (exit code 2); say it once, on one line.
            say(&format!("poolwatch: {message}"));
        }
        if let Some(reason) = &summary.log_incomplete {
            say(&format!("poolwatch: the log is incomplete: {reason}"));
        }
        return Ok(summary.exit_code);
    }
    drop(log);
    if cli.shard.is_some() {
        return Err(Failure::usage(anyhow::anyhow!(
            "--shard runs headless (add --headless): a shard is one part of a search that `poolwatch watch` shows whole"
        )));
    }
    if plan.preset.reads_stdin() && std::io::stdin().is_terminal() {
        return Err(Failure::usage(anyhow::anyhow!(
            "exec reads its inputs from standard input, which is the dashboard's terminal: pipe them in, or use --range or --input"
        )));
    }
    run_dashboard(cli, plan, checkpoint, signals)
}

/// `--skip`/`--limit` as a window `[skip, end)` (`end` `u64::MAX`: to the end of the space).
fn cli_window(cli: &Cli) -> Option<(u64, u64)> {
    crate::logformat::window_of(cli.skip.unwrap_or(0), cli.limit)
}

/// The run's config: the preset's workers and halt policy, the `--skip`/`--limit` window,
/// and for a resumed run the logged window and the ids done before.
fn run_config(cli: &Cli, preset: &Preset, checkpoint: Option<&Checkpoint>) -> RunConfig {
    let window = checkpoint.map_or_else(|| cli_window(cli), |checkpoint| checkpoint.start.window);
    let done = checkpoint.map(|checkpoint| checkpoint.done.clone());
    let config = crate::resume::configure(preset.run_config(), window, done);
    crate::resume::with_logged_shard(config, checkpoint.and_then(|checkpoint| checkpoint.start.shard))
}

/// `--shard I/N` applied to the run's config: the run covers its share of the space.
fn sharded(config: crate::pool::RunConfig, shard: Option<crate::pool::Shard>) -> crate::pool::RunConfig {
    match shard {
        Some(shard) => config.with_shard(shard),
        None => config,
    }
}

/// Opens the dashboard, runs it, restores the terminal, then prints the last summary.
fn run_dashboard(
    cli: &Cli,
    plan: crate::cli::RunPlan,
    checkpoint: Option<Box<Checkpoint>>,
    signals: &crossbeam_channel::Receiver<i32>,
) -> Result<u8, Failure> {
    // A shipped preset given with --config is listed once, as the selected run.
    let shipped: Vec<Preset> = Preset::shipped()
        .into_iter()
        .filter(|shipped| !(shipped.name == plan.preset.name && shipped.spec == plan.preset.spec))
        .collect();
    let mut presets = vec![plan.preset];
    presets.extend(shipped);
    let presets_dir = crate::userpresets::dir();
    let (saved, problems) = presets_dir
        .as_deref()
        .map(crate::userpresets::load)
        .unwrap_or_default();
    presets.extend(saved);
    let color = color_enabled(std::env::var_os("NO_COLOR").as_deref());
    let mut app = App::new(presets, color);
    app.quit_when_done = cli.quit_when_done;
    for problem in problems {
        app.update(crate::app::Msg::Problem(problem));
    }
    let options = LoopOptions {
        fps: cli.fps,
        log_path: cli.log.clone().or_else(|| cli.resume.clone()),
        status_every: std::time::Duration::from_secs_f64(cli.status_every),
        runs_path: cli.runs.clone(),
        presets_dir,
        window: cli_window(cli),
        resume: checkpoint,
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
        if !cli.quit_when_done {
            print_summary(summary, cli.json);
        }
        if let Some(reason) = &summary.log_incomplete {
            say(&format!("poolwatch: the log is incomplete: {reason}"));
        }
    } else {
        say("poolwatch: no run was launched");
    }
    if let Some(message) = &end.fatal {
        say(&format!("poolwatch: {message}"));
    }
    for message in end
        .background_panics
        .iter()
        .chain(&crate::term::take_background_panics())
    {
        say(&format!("poolwatch: {message}"));
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

/// Prints the summary on stdout as JSON or text (a failure is noted for the exit code).
pub fn print_summary(summary: &Summary, json: bool) {
    print_out(&summary_text(summary, json), "the summary");
}

/// The summary as printed: one JSON line, or the human paragraph.
#[must_use]
pub fn summary_text(summary: &Summary, json: bool) -> String {
    if json {
        format!("{}\n", summary.to_json())
    } else {
        summary.to_text()
    }
}

/// What went wrong writing to stdout or stderr: nothing, a closed pipe on stdout, or a failure.
static OUTPUT_STATE: AtomicU8 = AtomicU8::new(OUTPUT_OK);
const OUTPUT_OK: u8 = 0;
const OUTPUT_BROKEN_PIPE: u8 = 1;
const OUTPUT_FAILED: u8 = 2;

/// Writes `text` to stdout. A closed pipe is noted quietly (as a filter would end); any
/// other failure is said on stderr, once, and noted; neither panics.
pub fn print_out(text: &str, what: &str) {
    let mut stdout = std::io::stdout().lock();
    let written = stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush());
    drop(stdout);
    match written {
        Ok(()) => {}
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => {
            OUTPUT_STATE.fetch_max(OUTPUT_BROKEN_PIPE, Ordering::AcqRel);
        }
        Err(err) => {
            OUTPUT_STATE.store(OUTPUT_FAILED, Ordering::Release);
            say(&format!(
                "poolwatch: cannot write {what} to standard output: {}",
                crate::exec::os_reason(&err)
            ));
        }
    }
}

/// Writes one line to stderr in one write (so that lines from several threads or processes
/// sharing the terminal never interleave); a failure is noted for the exit code, never a panic.
pub fn say(line: &str) {
    let mut stderr = std::io::stderr().lock();
    let written = write_line(&mut stderr, line);
    note_stderr(&written);
}

/// Writes `line` and its newline to `out` in one write call, then flushes.
fn write_line(out: &mut impl Write, line: &str) -> std::io::Result<()> {
    let mut whole = String::with_capacity(line.len() + 1);
    whole.push_str(line);
    whole.push('\n');
    out.write_all(whole.as_bytes())?;
    out.flush()
}

/// Notes the result of a write to stderr made elsewhere (the progress line).
pub fn note_stderr(written: &std::io::Result<()>) {
    if written.is_err() {
        OUTPUT_STATE.store(OUTPUT_FAILED, Ordering::Release);
    }
}

/// The exit code once output failures are accounted for: [`EXIT_OUTPUT_FAILED`] when
/// stdout or stderr could not be written, [`EXIT_BROKEN_PIPE`] when stdout's reader went
/// away, otherwise `code`.
#[must_use]
pub fn final_exit_code(code: u8) -> u8 {
    match OUTPUT_STATE.load(Ordering::Acquire) {
        OUTPUT_FAILED => EXIT_OUTPUT_FAILED,
        OUTPUT_BROKEN_PIPE => EXIT_BROKEN_PIPE,
        _ => code,
    }
}

/// The `poolwatch` command: parses the arguments, runs, and returns the exit code.
///
/// Signal handlers come first, before anything else: from then on a SIGINT, SIGTERM or
/// SIGHUP is a message that ends a run with a summary and a complete log.
#[must_use]
pub fn main() -> ExitCode {
    let signals = match crate::signals::listen() {
        Ok(signals) => signals,
        Err(err) => {
            say(&format!("poolwatch: cannot handle signals: {err}"));
            return ExitCode::from(final_exit_code(1));
        }
    };
    ExitCode::from(final_exit_code(parse_and_run(&signals)))
}

/// Everything after the signal handlers: the arguments, then the run.
fn parse_and_run(signals: &crossbeam_channel::Receiver<i32>) -> u8 {
    let parsed = crate::docgen::command().try_get_matches().and_then(|matches| {
        Ok(match crate::docgen::handle(&matches) {
            Some(code) => Err(code),
            None => {
                let mut cli = Cli::from_arg_matches(&matches)?;
                cli.halt_given = given_on_command_line(&matches, "halt");
                Ok(cli)
            }
        })
    });
    let cli = match parsed {
        Ok(Ok(cli)) => cli,
        Ok(Err(code)) => return code,
        Err(err) if matches!(err.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            print_out(&err.to_string(), "the help");
            return 0;
        }
        Err(err) => {
            let first = crate::runform::error_line(&err);
            say(&format!("poolwatch: {first} (see --help)"));
            return EXIT_USAGE;
        }
    };
    match app_main(&cli, signals) {
        Ok(code) => code,
        Err(err) => {
            say(&format!("poolwatch: {err:#}"));
            err.exit_code()
        }
    }
}

/// Writes newlines inside `'...'` as `\n`, so an argument that holds one stays whole on
/// the one line of the error.
pub(crate) fn escape_quoted_newlines(text: &str) -> String {
    let mut quoted = false;
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '\'' => {
                quoted = !quoted;
                out.push(ch);
            }
            '\n' if quoted => out.push_str("\\n"),
            _ => out.push(ch),
        }
    }
    out
}

/// True when the argument `id` was typed on the command line, before or after the command (globals).
fn given_on_command_line(matches: &clap::ArgMatches, id: &str) -> bool {
    use clap::parser::ValueSource;
    let typed = |m: &clap::ArgMatches| {
        m.try_get_raw(id).is_ok() && m.value_source(id) == Some(ValueSource::CommandLine)
    };
    typed(matches) || matches.subcommand().is_some_and(|(_, sub)| typed(sub))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn a_line_to_stderr_is_one_write_with_its_newline() {
        let mut writes = crate::testing::Writes::default();
        write_line(&mut writes, "poolwatch: shard 3 has written no summary").expect("a write");
        assert_eq!(
            writes.0,
            vec![b"poolwatch: shard 3 has written no summary\n".to_vec()]
        );
    }

    #[test]
    fn newlines_inside_quotes_are_escaped() {
        assert_eq!(
            escape_quoted_newlines("invalid value 'a\nb' for '--x'\n\nmore"),
            "invalid value 'a\\nb' for '--x'\n\nmore"
        );
    }

    #[test]
    fn no_color_set_and_non_empty_turns_colour_off() {
        assert!(color_enabled(None));
        assert!(color_enabled(Some(OsStr::new(""))));
        assert!(!color_enabled(Some(OsStr::new("1"))));
    }
}
