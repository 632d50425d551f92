//! The `poolwatch` binary: parse arguments, pick headless or dashboard, map the outcome to an exit code.

use clap::Parser;
use clap::error::ErrorKind;
use poolwatch::cli::Cli;
use poolwatch::summary::EXIT_USAGE;
use std::process::ExitCode;

fn main() -> ExitCode {
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
    match poolwatch::app_main(&cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("poolwatch: {err:#}");
            ExitCode::from(err.exit_code())
        }
    }
}
