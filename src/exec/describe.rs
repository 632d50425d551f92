//! A job's outcome as text: a match's value and an error's message, with the first lines of its output.

use super::*;

pub(super) fn matched(input: &str, finished: &Finished) -> Outcome {
    Outcome::Match {
        value: with_output(input.to_string(), &finished.stdout, &finished.stderr),
        score: None,
    }
}

pub(super) fn error(input: &str, what: &str, finished: &Finished) -> Outcome {
    Outcome::Error(with_output(
        format!("{input}: {what}"),
        &finished.stderr,
        &finished.stdout,
    ))
}

/// Appends the first [`OUTPUT_LINES`] lines, from `first` then `second`, each on its own line.
pub(super) fn with_output(mut text: String, first: &[u8], second: &[u8]) -> String {
    let lines = String::from_utf8_lossy(first);
    let more = String::from_utf8_lossy(second);
    for line in lines.lines().chain(more.lines()).take(OUTPUT_LINES) {
        text.push_str("\n  ");
        text.push_str(&truncate(line, LINE_CHARS));
    }
    text
}

pub(super) fn truncate(text: &str, chars: usize) -> String {
    match text.char_indices().nth(chars) {
        Some((at, _)) => format!("{}...", &text[..at]),
        None => text.to_string(),
    }
}

pub(super) fn describe_signal(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match status.signal() {
        Some(signal) => format!("killed by signal {signal}"),
        None => format!("ended with {status}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_lines_are_capped() {
        let text = with_output("x".into(), b"1\n2\n3\n", b"4\n5\n6\n");
        assert_eq!(text, "x\n  1\n  2\n  3\n  4\n  5");
        assert_eq!(truncate("abcdef", 3), "abc...");
    }
}
