//! `poolwatch completions SHELL` and `poolwatch man [COMMAND]`: shell completions and man pages generated from the clap definition.

use crate::cli::{Cli, SearchCommand};
use clap::CommandFactory;
use std::io::{self, Write};

/// Prints what `completions` or `man` asks for and returns the exit code; `None` for any other command.
#[must_use]
pub fn handle(cli: &Cli) -> Option<u8> {
    let written = match &cli.search {
        Some(SearchCommand::Completions(args)) => completions(args.shell, &mut io::stdout().lock()),
        Some(SearchCommand::Man(args)) => man(args.command.as_deref(), &mut io::stdout().lock()),
        _ => return None,
    };
    Some(match written {
        Ok(()) => 0,
        Err(err) if err.kind() == io::ErrorKind::BrokenPipe => 0,
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            eprintln!("poolwatch: {err}");
            crate::summary::EXIT_USAGE
        }
        Err(err) => {
            eprintln!("poolwatch: cannot write: {err}");
            1
        }
    })
}

/// Writes the completion script for `shell`.
///
/// # Errors
/// When `out` cannot be written.
pub fn completions(shell: clap_complete::Shell, out: &mut dyn Write) -> io::Result<()> {
    let mut command = Cli::command();
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
pub fn man(command: Option<&str>, out: &mut dyn Write) -> io::Result<()> {
    let mut top = Cli::command();
    // Building propagates the global options into each command's page.
    top.build();
    let page = match command {
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
