//! `poolwatch completions SHELL` and `poolwatch man [COMMAND]`: shell completions and man pages generated from the clap definition.

use crate::cli::Cli;
use clap::{Arg, ArgMatches, Command, CommandFactory};
use std::io::{self, Write};

/// The whole command line: the searches of `Cli` (the derived parser) plus `completions` and `man`.
#[must_use]
pub fn command() -> Command {
    let mut command = Cli::command()
        .subcommand(
            Command::new("completions")
                .about("Print a shell completion script (e.g. `poolwatch completions bash > /etc/bash_completion.d/poolwatch`)")
                .arg(
                    Arg::new("shell")
                        .required(true)
                        .value_parser(clap::value_parser!(clap_complete::Shell))
                        .help("The shell"),
                ),
        )
        .subcommand(
            Command::new("man")
                .about("Print the man page (roff) of poolwatch, or of one command as poolwatch-COMMAND(1)")
                .arg(Arg::new("command").help("A command (needle, pow, collatz, rastrigin, exec...) [default: poolwatch itself]")),
        );
    // Building copies the global options into every command; `watch` then hides the ones
    // it has no use for (and refuses them when given: `watch::entry::refuse_run_options`).
    command.build();
    command.mut_subcommand("watch", |watch| {
        watch.mut_args(|arg| {
            let own = crate::cli::WATCH_OPTIONS.contains(&arg.get_id().as_str());
            if arg.is_global_set() && !own {
                arg.hide(true)
            } else {
                arg
            }
        })
    })
}

/// Prints what `completions` or `man` asks for and returns the exit code; `None` for any other command.
#[must_use]
pub fn handle(matches: &ArgMatches) -> Option<u8> {
    let written = match matches.subcommand() {
        Some(("completions", args)) => {
            let shell = args.get_one::<clap_complete::Shell>("shell").copied()?;
            completions(shell, &mut io::stdout().lock())
        }
        Some(("man", args)) => {
            let name = args.get_one::<String>("command").map(String::as_str);
            man(name, &mut io::stdout().lock())
        }
        _ => return None,
    };
    Some(match written {
        Ok(()) => 0,
        Err(err) if err.kind() == io::ErrorKind::BrokenPipe => 0,
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            crate::console::say(&format!("poolwatch: {err}"));
            crate::console::EXIT_USAGE
        }
        Err(err) => {
            crate::console::say(&format!("poolwatch: cannot write: {err}"));
            1
        }
    })
}

/// Writes the completion script for `shell`.
///
/// # Errors
/// When `out` cannot be written.
pub fn completions(shell: clap_complete::Shell, out: &mut dyn Write) -> io::Result<()> {
    let mut command = command();
    // Generated into memory first: clap_complete panics on a write error (a closed pipe).
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "poolwatch", &mut script);
    out.write_all(&script)?;
    out.flush()
}

/// Writes the man page (roff) of `poolwatch`, or of `poolwatch COMMAND` as `poolwatch-COMMAND(1)`.
///
/// # Errors
/// [`io::ErrorKind::NotFound`] for an unknown command, or when `out` cannot be written.
pub fn man(name: Option<&str>, out: &mut dyn Write) -> io::Result<()> {
    let mut top = command();
    // Building propagates the global options into each command's page.
    top.build();
    let page = match name {
        None => clap_mangen::Man::new(top),
        Some(name) => {
            let sub = top.find_subcommand(name).cloned().ok_or_else(|| {
                io::Error::new(io::ErrorKind::NotFound, format!("man: no command named {name:?}"))
            })?;
            // The synopsis reads `poolwatch exec ...` (the bin name set by `build`).
            let title = format!("poolwatch-{}", sub.get_name());
            clap_mangen::Man::new(sub).title(title)
        }
    };
    page.render(out)?;
    out.flush()
}
