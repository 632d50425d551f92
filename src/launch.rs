//! From parsed arguments to a finished run: validation, the log, signals, headless or dashboard.

use crate::app::App;
use crate::cli::{Cli, Failure};
use crate::console::EXIT_USAGE;
use crate::console::{final_exit_code, print_out, say};
use crate::dashboard::{LoopOptions, run_loop};
use crate::eventlog::checkpoint::Checkpoint;
use crate::eventlog::file::EventLog;
use crate::preset::Preset;
use crate::resume::Resumption;
use crate::session::{Launch, Session};
use crate::summary::Summary;
use crate::term::TerminalGuard;
use crate::term::{color_enabled, wants_headless};
use anyhow::Context;
use clap::FromArgMatches;
use clap::error::ErrorKind;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

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
    if cli.bounds.is_some() && plan.preset.halt != poolwatch_core::HaltPolicy::Lowest {
        return Err(Failure::usage(anyhow::anyhow!(
            "--bounds shares the matches of a --halt lowest search between its shards: add --halt lowest, or drop --bounds"
        )));
    }
    if let Some(dir) = &cli.bounds {
        crate::bounds::open_folder(dir).map_err(|err| {
            Failure::usage(anyhow::anyhow!(
                "--bounds {}: {}: give a folder of yours that can be made or written",
                dir.display(),
                crate::console::os_reason(&err)
            ))
        })?;
    }
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
        crate::runs_file::check_writable(path).map_err(|err| {
            Failure::usage(anyhow::anyhow!("cannot open runs file {}: {err}", path.display()))
        })?;
    }
    // `exec --output` writes the jobs' output on stdout: never under the dashboard.
    let passes_output = plan.preset.passes_output();
    if wants_headless(cli) || passes_output {
        let controls =
            crate::signals::listen_controls().map_err(|err| Failure::from(anyhow::Error::new(err)))?;
        let session = Session::start(Launch {
            preset: &plan.preset,
            search: plan.search,
            window: cli_window(cli),
            shard: cli.shard,
            checkpoint: checkpoint.as_deref(),
            log,
            status_every: std::time::Duration::from_secs_f64(cli.status_every),
            runs_path: cli.runs.clone(),
            bounds: cli.bounds.clone(),
        });
        // The session, and with it the search, ends inside: `exec --output` prints what still
        // waits before the summary.
        let ending = crate::headless::run(session, signals, &controls);
        if let Some(problem) = &ending.runs_problem {
            say(&format!("poolwatch: {problem}"));
        }
        let summary = ending.summary;
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
    crate::eventlog::schema::window_of(cli.skip.unwrap_or(0), cli.limit)
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
                cli.typed = Some(typed_ids(&matches));
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
            let args: Vec<String> = std::env::args().skip(1).collect();
            let first = usage_line(&err, &args);
            say(&format!("poolwatch: {first} (see --help)"));
            return EXIT_USAGE;
        }
    };
    crate::term::set_mouse(!cli.no_mouse);
    match app_main(&cli, signals) {
        Ok(code) => code,
        Err(err) => {
            // One line, whatever the error holds: a newline in an argument is shown as `\n`.
            say(&crate::escape::controls(&format!("poolwatch: {err:#}")));
            err.exit_code()
        }
    }
}

/// The ids of the options typed on the command line, before or after the command.
fn typed_ids(matches: &clap::ArgMatches) -> Vec<String> {
    use clap::parser::ValueSource;
    let typed = |m: &clap::ArgMatches| -> Vec<String> {
        m.ids()
            .filter(|id| m.value_source(id.as_str()) == Some(ValueSource::CommandLine))
            .map(|id| id.as_str().to_string())
            .collect()
    };
    let mut ids = typed(matches);
    if let Some((_, sub)) = matches.subcommand() {
        ids.extend(typed(sub));
    }
    ids.sort();
    ids.dedup();
    ids
}

/// True when the argument `id` was typed on the command line, before or after the command (globals).
fn given_on_command_line(matches: &clap::ArgMatches, id: &str) -> bool {
    use clap::parser::ValueSource;
    let typed = |m: &clap::ArgMatches| {
        m.try_get_raw(id).is_ok() && m.value_source(id) == Some(ValueSource::CommandLine)
    };
    typed(matches) || matches.subcommand().is_some_and(|(_, sub)| typed(sub))
}

/// The one line said for a command line clap refused, with how to fix it where a common
/// habit explains the mistake: clap's suggestion of a similar option, `-w` for the `-j` of
/// GNU parallel and make, "non-negative" for a negative count, and the global
/// `--resume FILE` for `exec --resume` without `--joblog`. `args` are the arguments given.
#[must_use]
pub fn usage_line(err: &clap::Error, args: &[String]) -> String {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let context = |kind| match err.get(kind) {
        Some(ContextValue::String(text)) => Some(text.clone()),
        Some(ContextValue::Strings(texts)) => texts.first().cloned(),
        _ => None,
    };
    let line = crate::form_schema::error_line(err);
    match err.kind() {
        ErrorKind::UnknownArgument => {
            let given = context(ContextKind::InvalidArg).unwrap_or_default();
            let flag = given.split('=').next().unwrap_or_default();
            if matches!(flag, "-j" | "--jobs" | "-P" | "--max-procs") {
                return format!("{line}: the number of workers is -w N (--workers N)");
            }
            match context(ContextKind::SuggestedArg) {
                Some(similar) => format!("{line}: did you mean '{similar}'?"),
                None => line,
            }
        }
        ErrorKind::ValueValidation | ErrorKind::InvalidValue => {
            let value = context(ContextKind::InvalidValue).unwrap_or_default();
            let negative = value.starts_with('-') && value[1..].parse::<f64>().is_ok();
            match context(ContextKind::InvalidArg) {
                Some(arg) if negative => {
                    let name = arg.split([' ', '=']).next().unwrap_or(&arg);
                    format!("{name} must be a non-negative number, got {value}")
                }
                _ => line,
            }
        }
        ErrorKind::MissingRequiredArgument
            if line.contains("--joblog") && args.iter().any(|arg| arg == "--resume") =>
        {
            "exec --resume skips the jobs in its --joblog FILE, and needs one; to continue a run from its --log, give the global option before the search: poolwatch --resume FILE".to_string()
        }
        _ => line,
    }
}
