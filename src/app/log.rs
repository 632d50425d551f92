//! The result log: matches, errors and new bests with their run time, newest first, bounded.

use std::collections::VecDeque;
use std::time::Duration;

/// Most entries kept (older ones are still in the `--log` file).
pub const MAX_LOG_ENTRIES: usize = 5_000;

/// What kind of entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// A match.
    Match,
    /// A task error or panic.
    Error,
    /// Something about a task that is not its outcome (a worker restarted while idle).
    Notice,
    /// A new best score.
    Best,
    /// Run lifecycle: start, pause, resume, workers, halt.
    Info,
    /// The header line that opens each run.
    Run,
}

/// One line of the log.
#[derive(Debug, Clone, PartialEq)]
pub struct LogEntry {
    /// Run time when it happened.
    pub at: Duration,
    /// Kind.
    pub kind: EntryKind,
    /// Text.
    pub text: String,
}

/// Which entries are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFilter {
    /// Everything logged.
    #[default]
    All,
    /// Matches only.
    MatchesOnly,
}

/// The log with its scroll position and filter.
#[derive(Debug, Clone, Default)]
pub struct ResultLog {
    entries: VecDeque<LogEntry>,
    /// Lines scrolled down from the newest.
    pub scroll: usize,
    /// What is shown.
    pub filter: LogFilter,
    /// The line clicked last: its place among the visible lines, newest first.
    pub selected: Option<usize>,
}

impl ResultLog {
    /// Adds an entry at the top.
    pub fn push(&mut self, at: Duration, kind: EntryKind, text: String) {
        if self.entries.len() >= MAX_LOG_ENTRIES {
            self.entries.pop_back();
        }
        // Inputs and commands' output reach the log: shown, never obeyed by the terminal.
        let text = crate::escape::keep_lines(&text).into_owned();
        self.entries.push_front(LogEntry { at, kind, text });
        if self.passes(kind) {
            // The selected line stays the same entry.
            self.selected = self.selected.map(|line| line + 1);
            if self.scroll > 0 {
                // Keep the lines the user is reading in place.
                self.scroll += 1;
            }
        }
    }

    fn passes(&self, kind: EntryKind) -> bool {
        self.filter == LogFilter::All || matches!(kind, EntryKind::Match | EntryKind::Run)
    }

    /// Entries that pass the filter, newest first.
    pub fn visible(&self) -> impl Iterator<Item = &LogEntry> {
        self.entries.iter().filter(|e| self.passes(e.kind))
    }

    /// Number of entries that pass the filter.
    #[must_use]
    pub fn visible_len(&self) -> usize {
        self.visible().count()
    }

    /// Scrolls by `delta` lines (positive: toward older entries), clamped.
    pub fn scroll_by(&mut self, delta: isize) {
        let max = self.visible_len().saturating_sub(1);
        self.scroll = self.scroll.saturating_add_signed(delta).min(max);
    }

    /// Switches between all entries and matches only.
    pub fn toggle_filter(&mut self) {
        self.filter = match self.filter {
            LogFilter::All => LogFilter::MatchesOnly,
            LogFilter::MatchesOnly => LogFilter::All,
        };
        self.scroll = 0;
        self.selected = None;
    }

    /// Empties the log.
    pub fn clear(&mut self) {
        self.entries.clear();
        self.scroll = 0;
        self.selected = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newest_first_filtered_and_clamped() {
        let mut log = ResultLog::default();
        log.push(Duration::from_secs(1), EntryKind::Best, "b".into());
        log.push(Duration::from_secs(2), EntryKind::Match, "m".into());
        log.push(Duration::from_secs(3), EntryKind::Error, "e".into());
        let texts: Vec<_> = log.visible().map(|e| e.text.as_str()).collect();
        assert_eq!(texts, ["e", "m", "b"]);
        log.toggle_filter();
        let texts: Vec<_> = log.visible().map(|e| e.text.as_str()).collect();
        assert_eq!(texts, ["m"]);
        log.toggle_filter();
        log.scroll_by(10);
        assert_eq!(log.scroll, 2);
        log.scroll_by(-10);
        assert_eq!(log.scroll, 0);
    }
}
