//! Text from inputs and commands made safe to show a person: control characters written
//! as escapes (`\e`, `\t`, `\x07`, `\u{9b}`), as `ls` and `git` show odd names, so that an
//! input or an output holding `ESC]0;...` or `ESC[2J` never drives the terminal. Printable
//! text, Unicode included, is kept as it is.
//!
//! Only what a person reads goes through here: the commands, `--results`, `--output`, the
//! log and the JSON summary (whose strings JSON escapes itself) keep the bytes as they are.

use std::borrow::Cow;
use std::fmt::Write;

/// `text` with every control character escaped, line breaks included: for one cell or one line.
#[must_use]
pub fn controls(text: &str) -> Cow<'_, str> {
    escaped(text, false)
}

/// `text` with every control character escaped except `\n`, which stays a line break: for a
/// message or a summary of several lines.
#[must_use]
pub fn keep_lines(text: &str) -> Cow<'_, str> {
    escaped(text, true)
}

/// `bytes` as text to show: valid UTF-8 as [`controls`] shows it, each byte of an invalid
/// sequence as `\xNN` (`caf\xe9`).
#[must_use]
pub fn bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.push_str(&controls(chunk.valid()));
        for byte in chunk.invalid() {
            let _infallible = write!(out, "\\x{byte:02x}");
        }
    }
    out
}

/// True for a character that must not reach a terminal raw: C0 and C1 controls, DEL, and the
/// bidirectional overrides that reorder what is shown.
fn unsafe_char(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn escaped(text: &str, keep_newlines: bool) -> Cow<'_, str> {
    let needs = |c: char| unsafe_char(c) && !(keep_newlines && c == '\n');
    if !text.chars().any(needs) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if !needs(c) {
            out.push(c);
            continue;
        }
        let _infallible = match c {
            '\x1b' => out.write_str("\\e"),
            '\n' => out.write_str("\\n"),
            '\r' => out.write_str("\\r"),
            '\t' => out.write_str("\\t"),
            '\0'..='\x7f' => write!(out, "\\x{:02x}", u32::from(c)),
            _ => write!(out, "\\u{{{:x}}}", u32::from(c)),
        };
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_printable_text_kept() {
        assert_eq!(controls("\x1b]0;PWNED\x07\x1b[2J"), r"\e]0;PWNED\x07\e[2J");
        assert_eq!(controls("a\tb\r\nc\x7f"), r"a\tb\r\nc\x7f");
        assert_eq!(controls("\u{9b}2J \u{202e}x"), r"\u{9b}2J \u{202e}x");
        assert_eq!(controls("café ☕ \\ plain"), "café ☕ \\ plain");
        assert!(matches!(controls("plain"), Cow::Borrowed("plain")));
        assert_eq!(keep_lines("one\x1b[2J\ntwo\r"), "one\\e[2J\ntwo\\r");
        assert_eq!(bytes(b"caf\xe9\x1b!"), r"caf\xe9\e!");
    }
}
