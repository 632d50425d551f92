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
            let first = rendered
                .lines()
                .next()
                .unwrap_or("bad arguments")
                .trim_start_matches("error: ");
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
