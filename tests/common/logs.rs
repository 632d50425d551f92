//! JSON-lines files read back (`--log` event logs, `--runs` files): whole ones after the writer is done, and the complete lines of one still being written.

use serde_json::Value;
use std::path::Path;

/// Every line of a finished JSON-lines file, parsed. Panics if the file cannot be read, if it
/// ends mid-line, or on a line that is not JSON (a torn write).
pub fn read_jsonl(path: &Path) -> Vec<Value> {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()));
    if !text.is_empty() && !text.ends_with('\n') {
        let tail: String = text
            .chars()
            .skip(text.chars().count().saturating_sub(80))
            .collect();
        panic!("{} ends mid-line: {tail:?}", path.display());
    }
    parse_lines(&text)
}

/// The complete lines of a JSON-lines file that may still be written to, parsed: none while it
/// does not exist, and not the last line until its newline is there. Panics on a complete line
/// that is not JSON.
pub fn complete_lines(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let complete = text.rsplit_once('\n').map_or("", |(lines, _partial)| lines);
    parse_lines(complete)
}

fn parse_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|err| panic!("{err}: line {line:?}")))
        .collect()
}

/// The events of kind `kind` (their `event` field) among `events`.
pub fn of_kind<'a>(events: &'a [Value], kind: &str) -> Vec<&'a Value> {
    events.iter().filter(|event| event["event"] == kind).collect()
}

/// The `event` field of each of `events`, `progress` left out (it comes at every
/// `--status-every` and at each halt: its timing is seldom the point).
pub fn kinds_but_progress(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|event| event["event"].as_str().expect("an event kind").to_string())
        .filter(|kind| kind != "progress")
        .collect()
}
