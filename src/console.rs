//! The process's own output: lines to stderr in one write each, stdout writes that note a
//! closed pipe or a failure, the exit codes, and the text of OS errors and arguments in an
//! error line. A leaf: every layer may say something.

use std::io::Write;
use std::sync::atomic::{AtomicU8, Ordering};

/// Exit code: a match was found, or a search without a match condition completed.
pub const EXIT_FOUND: u8 = 0;
/// Exit code: the run ended without a match.
pub const EXIT_NOT_FOUND: u8 = 1;
/// Exit code: bad arguments or input (a command that cannot be run included).
pub const EXIT_USAGE: u8 = 2;
/// Exit code: the `--log` file could not be written whole (it holds whole lines only, up
/// to the failure). Takes precedence over the run's own exit code.
pub const EXIT_LOG_INCOMPLETE: u8 = 3;
/// Exit code: standard output or standard error could not be written (other than a closed
/// pipe on standard output). Takes precedence over every other code.
pub const EXIT_OUTPUT_FAILED: u8 = 4;
/// Exit code: standard output was a pipe whose reader went away (as a filter killed by
/// SIGPIPE would report: 128 + 13). Nothing is printed.
pub const EXIT_BROKEN_PIPE: u8 = 141;

/// What went wrong writing to stdout or stderr: nothing, a closed pipe on stdout, or a failure.
static OUTPUT_STATE: AtomicU8 = AtomicU8::new(OUTPUT_OK);
const OUTPUT_OK: u8 = 0;
const OUTPUT_BROKEN_PIPE: u8 = 1;
const OUTPUT_FAILED: u8 = 2;

/// Descriptors 1 and 2 were closed when the process started (bits 1 and 2), as the binary saw
/// before Rust's runtime opened `/dev/null` on them (see [`note_closed_at_start`]).
static CLOSED_AT_START: AtomicU8 = AtomicU8::new(0);
const STDOUT_CLOSED: u8 = 1;
const STDERR_CLOSED: u8 = 2;

/// Records that standard output and/or error were closed when the process started (`>&-`):
/// Rust's runtime opens `/dev/null` on a closed descriptor before `main`, so writes there
/// would succeed and vanish. From then on a write to a closed one is a failure (exit 4).
pub fn note_closed_at_start(stdout: bool, stderr: bool) {
    let bits = if stdout { STDOUT_CLOSED } else { 0 } | if stderr { STDERR_CLOSED } else { 0 };
    CLOSED_AT_START.fetch_or(bits, Ordering::AcqRel);
}

/// Fails when standard output was closed when the process started, before anything is
/// written to the `/dev/null` that stands in for it.
pub fn stdout_open() -> std::io::Result<()> {
    if CLOSED_AT_START.load(Ordering::Acquire) & STDOUT_CLOSED == 0 {
        Ok(())
    } else {
        Err(std::io::Error::other(
            "it was closed when poolwatch started (>&-)",
        ))
    }
}

/// Writes `text` to stdout. A closed pipe is noted quietly (as a filter would end); any
/// other failure is said on stderr, once, and noted; neither panics.
pub fn print_out(text: &str, what: &str) {
    let text = crate::escape::keep_lines(text);
    let written = stdout_open().and_then(|()| {
        let mut stdout = std::io::stdout().lock();
        stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush())
    });
    if let Err(err) = written {
        note_stdout(&err, what);
    }
}

/// Notes a failed write of `what` to stdout: a closed pipe quietly (as a filter would end),
/// any other failure said on stderr the first time only, and both kept for the exit code.
pub fn note_stdout(err: &std::io::Error, what: &str) {
    if err.kind() == std::io::ErrorKind::BrokenPipe {
        OUTPUT_STATE.fetch_max(OUTPUT_BROKEN_PIPE, Ordering::AcqRel);
        return;
    }
    if OUTPUT_STATE.swap(OUTPUT_FAILED, Ordering::AcqRel) != OUTPUT_FAILED {
        say(&format!(
            "poolwatch: cannot write {what} to standard output: {}",
            os_reason(err)
        ));
    }
}

/// Writes one line to stderr in one write (so that lines from several threads or processes
/// sharing the terminal never interleave); a failure is noted for the exit code, never a panic.
pub fn say(line: &str) {
    let line = crate::escape::keep_lines(line);
    let mut stderr = std::io::stderr().lock();
    let written = write_line(&mut stderr, &line);
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

/// Notes the result of a write to stderr (here, or elsewhere: the progress line); a write to
/// a stderr closed at the start is a failure too.
pub fn note_stderr(written: &std::io::Result<()>) {
    // Written to the `/dev/null` that stands for a closed stderr: no one can read it.
    if written.is_err() || CLOSED_AT_START.load(Ordering::Acquire) & STDERR_CLOSED != 0 {
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

/// The system's reason for an I/O error, without Rust's " (os error N)" suffix.
#[must_use]
pub fn os_reason(err: &std::io::Error) -> String {
    let text = err.to_string();
    match text.rfind(" (os error ") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

/// Writes newlines inside `'...'` as `\n`, so an argument that holds one stays whole on
/// the one line of the error.
pub fn escape_quoted_newlines(text: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
