//! Coverage strip: the space 0..N as one row of cells (at most one per id) showing done, partly done, running, queued, cut short and not submitted.

use super::Theme;
use super::fit::first_fit;
use crate::app::App;
use poolwatch_core::{RunState, Snapshot, WorkerState, bucket_of, bucket_span};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// What a cell of the strip shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell {
    /// Every id done.
    Done,
    /// Some ids done.
    Partial,
    /// A worker holds ids of this cell now.
    Running,
    /// Submitted, waiting in the queue.
    Queued,
    /// Not handed out yet.
    NotSubmitted,
    /// Submitted but cut short or dropped by a halt: it will never run.
    Cancelled,
    /// Holds a match.
    Match,
}

impl Cell {
    fn glyph(self) -> char {
        match self {
            Self::Done => '█',
            Self::Partial => '▓',
            Self::Running => '▒',
            Self::Queued => '░',
            Self::NotSubmitted => '·',
            Self::Cancelled => '✕',
            Self::Match => '◆',
        }
    }

    fn style(self, theme: Theme) -> Style {
        match self {
            Self::Done | Self::Partial => theme.good(),
            Self::Running | Self::Queued => theme.warn(),
            Self::NotSubmitted => theme.dim(),
            Self::Cancelled => theme.error(),
            Self::Match => theme.found(),
        }
    }
}

/// Classifies equal slices of the space into at most `cells` cells: a space smaller than
/// the strip gets one cell per id, so a finished run is all done or match.
#[must_use]
pub fn cells(snapshot: &Snapshot, marks: &[u64], cells: usize) -> Vec<Cell> {
    let cells = usize::try_from(snapshot.counters.total).map_or(cells, |total| cells.min(total));
    let done = DoneIndex::new(snapshot);
    (0..cells)
        .map(|index| {
            let (start, end) = bucket_span(snapshot.counters.total, cells, index);
            classify(snapshot, &done, marks, start, end)
        })
        .collect()
}

fn classify(snapshot: &Snapshot, done_index: &DoneIndex<'_>, marks: &[u64], start: u64, end: u64) -> Cell {
    if end <= start {
        return Cell::NotSubmitted;
    }
    if marks.iter().any(|m| (start..end).contains(m)) {
        return Cell::Match;
    }
    let done = if snapshot.coverage.is_empty() {
        done_below_held(snapshot, start, end)
    } else {
        done_index.done_in(start, end)
    };
    let size = end - start;
    let running = snapshot
        .workers
        .iter()
        .any(|w| w.state == WorkerState::Running && w.batch.0 < end && w.batch.1 > start);
    if done + size / 1000 >= size && done > 0 {
        Cell::Done
    } else if running {
        Cell::Running
    } else if done > 0 {
        Cell::Partial
    } else if start < snapshot.counters.submitted && halted(snapshot) {
        // After a halt nothing is queued: what was submitted and not done was cut short or dropped.
        Cell::Cancelled
    } else if start < snapshot.counters.submitted {
        Cell::Queued
    } else {
        Cell::NotSubmitted
    }
}

/// True once a halt was requested: queued work will never run.
fn halted(snapshot: &Snapshot) -> bool {
    matches!(snapshot.state, RunState::Halting(_) | RunState::Finished(_))
}

/// Without per-bucket counts (an open space): batches go out in id order, so every
/// submitted id below the oldest batch a worker still holds has finished (done or cancelled).
fn done_below_held(snapshot: &Snapshot, start: u64, end: u64) -> u64 {
    let oldest_held = snapshot
        .workers
        .iter()
        .filter(|w| w.state == WorkerState::Running)
        .map(|w| w.batch.0)
        .min()
        .unwrap_or(snapshot.counters.submitted);
    let finished_below = oldest_held.min(snapshot.counters.submitted);
    end.min(finished_below).saturating_sub(start)
}

/// Prefix sums of the coverage buckets: completed ids below any id in O(1), spreading each
/// bucket's count evenly over its span.
struct DoneIndex<'a> {
    snapshot: &'a Snapshot,
    /// `before[i]`: completed ids in buckets `0..i`.
    before: Vec<u64>,
}

impl<'a> DoneIndex<'a> {
    fn new(snapshot: &'a Snapshot) -> Self {
        let before = std::iter::once(0)
            .chain(snapshot.coverage.iter().scan(0u64, |sum, count| {
                *sum += count;
                Some(*sum)
            }))
            .collect();
        Self { snapshot, before }
    }

    /// Completed ids below `task` (interpolated inside its bucket).
    fn done_below(&self, task: u64) -> f64 {
        let buckets = self.snapshot.coverage.len();
        if buckets == 0 || task >= self.snapshot.counters.total {
            #[expect(clippy::cast_precision_loss, reason = "an estimate for a cell")]
            return self.before.last().copied().unwrap_or(0) as f64;
        }
        let bucket = bucket_of(self.snapshot.counters.total, buckets, task);
        let (start, end) = bucket_span(self.snapshot.counters.total, buckets, bucket);
        #[expect(clippy::cast_precision_loss, reason = "an estimate for a cell")]
        let inside =
            self.snapshot.coverage[bucket] as f64 * (task - start) as f64 / (end - start).max(1) as f64;
        #[expect(clippy::cast_precision_loss, reason = "an estimate for a cell")]
        let below = self.before[bucket] as f64;
        below + inside
    }

    /// Completed ids in `start..end`.
    fn done_in(&self, start: u64, end: u64) -> u64 {
        let done = (self.done_below(end) - self.done_below(start)).max(0.0);
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "non-negative, at most the space"
        )]
        let done = done.round() as u64;
        done
    }
}

/// Draws the strip and its legend.
pub fn render(frame: &mut Frame<'_>, area: Rect, app: &App, theme: Theme) {
    let width = usize::from(area.width.saturating_sub(2));
    let title = first_fit(
        &[
            " coverage of 0..N (completion is out of order) ".to_string(),
            " coverage of 0..N ".to_string(),
            " coverage ".to_string(),
        ],
        width,
    );
    let block = theme.panel(title, false);
    let inner = block.inner(area);
    let strip = app.snapshot.as_ref().map_or_else(Vec::new, |snapshot| {
        cells(snapshot, &app.match_marks, usize::from(inner.width))
            .into_iter()
            .map(|cell| Span::styled(cell.glyph().to_string(), cell.style(theme)))
            .collect()
    });
    let legend = Line::styled(
        first_fit(
            &[
                "█ done  ▓ partly done  ▒ running  ░ queued  · not submitted  ✕ cut short  ◆ match"
                    .to_string(),
                "█ done ▓ partly ▒ running ░ queued · unsent ✕ cut short ◆ match".to_string(),
                "█done ▓part ▒run ░queue ·unsent ✕cut ◆match".to_string(),
            ],
            width,
        ),
        theme.dim(),
    );
    frame.render_widget(Paragraph::new(vec![Line::from(strip), legend]).block(block), area);
}
