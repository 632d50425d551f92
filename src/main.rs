//! The `poolwatch` binary: everything it does lives in the library's application layer.

fn main() -> std::process::ExitCode {
    poolwatch::cli_main()
}
