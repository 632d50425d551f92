//! Bottom panels: the scrollable result log, and once a run ended, what stopped it and what the stop cost.

use super::fit::{drop_by_rank, fit_or_clip};
use super::{Theme, count, duration};
use crate::app::{App, EntryKind, Focus, Hit, LogEntry, LogFilter, Phase, Target};
use crate::format::{halt_latency, plural};
use crate::summary::{brief_reason, describe_reason};
use poolwatch_core::{HaltReason, RunReport};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

/// The halt panel's lines in display order with their ranks (0 most important).
pub type HaltLines = Vec<(u8, String)>;

/// Draws the log, with the halt panel's `halt` lines ([`halt_panel`]) beside it once the run
/// ended; adds the log's panel and each line drawn to `hits`.
pub fn render(
    frame: &mut Frame<'_>,
    area: Rect,
    app: &App,
    halt: Option<HaltLines>,
    theme: Theme,
    hits: &mut Vec<Hit>,
) {
    match halt {
        Some(lines) => {
            let [log_area, halt_area] = split(area);
            render_log(frame, log_area, app, theme, hits);
            render_halt(frame, halt_area, lines, theme);
        }
        None => render_log(frame, area, app, theme, hits),
    }
}

/// The log's and the halt panel's parts of the bottom row.
fn split(area: Rect) -> [Rect; 2] {
    Layout::horizontal([Constraint::Percentage(60), Constraint::Percentage(40)]).areas(area)
}

/// The halt panel's lines for a bottom row `width` columns wide, once a run has ended:
/// formatted once a frame, for the panel's height ([`halt_height`]) and its drawing.
#[must_use]
pub fn halt_panel(app: &App, width: u16) -> Option<HaltLines> {
    let report = app.report.as_ref()?;
    let [_, halt_area] = split(Rect::new(0, 0, width, 1));
    Some(halt_lines(
        app,
        report,
        usize::from(halt_area.width.saturating_sub(2)),
    ))
}

/// Rows (borders included) the halt panel needs to show all its `lines`; 0 without a panel.
#[must_use]
pub fn halt_height(lines: Option<&HaltLines>) -> u16 {
    lines.map_or(0, |lines| {
        u16::try_from(lines.len()).unwrap_or(u16::MAX).saturating_add(2)
    })
}

fn render_log(frame: &mut Frame<'_>, area: Rect, app: &App, theme: Theme, hits: &mut Vec<Hit>) {
    let filter = match app.log.filter {
        LogFilter::All => "everything",
        LogFilter::MatchesOnly => "matches only",
    };
    let total = app.log.visible_len();
    let title = super::fit::first_fit(
        &[
            format!(
                " results: {filter} ({total}), newest first, scrolled {} ",
                app.log.scroll
            ),
            format!(" results: {filter} ({total}), scrolled {} ", app.log.scroll),
            format!(" results ({total}), scrolled {} ", app.log.scroll),
            format!(" results ({total}) "),
        ],
        usize::from(area.width.saturating_sub(2)),
    );
    let block = theme.panel(title, app.focus == Focus::Log);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    hits.push(Hit {
        area,
        target: Target::Panel(Focus::Log),
    });
    // Messages wrap (never cut at the panel's edge); a message's own lines stay lines.
    let mut y = inner.y;
    let entries = app.log.visible().enumerate().skip(app.log.scroll);
    for (line, entry) in entries.take(usize::from(inner.height)) {
        let bottom = inner.y + inner.height;
        if y >= bottom {
            break;
        }
        let mut paragraph = Paragraph::new(entry_lines(entry, theme)).wrap(Wrap { trim: false });
        if app.log.selected == Some(line) {
            paragraph = paragraph.style(theme.selected());
        }
        let height = u16::try_from(paragraph.line_count(inner.width)).unwrap_or(u16::MAX);
        let place = Rect::new(inner.x, y, inner.width, height.min(bottom - y));
        frame.render_widget(paragraph, place);
        hits.push(Hit {
            area: place,
            target: Target::LogLine(line),
        });
        y = y.saturating_add(height);
    }
}

/// One entry's lines: its time, then its text in its kind's style.
fn entry_lines(entry: &LogEntry, theme: Theme) -> Vec<Line<'static>> {
    let style = match entry.kind {
        EntryKind::Match => theme.found(),
        EntryKind::Error => theme.error(),
        EntryKind::Notice => theme.warn(),
        EntryKind::Best => theme.good(),
        EntryKind::Info => theme.dim(),
        EntryKind::Run => theme.title(),
    };
    let mut text = entry.text.lines();
    let first = Line::from(vec![
        Span::styled(format!("{:>9} ", duration(entry.at)), theme.dim()),
        Span::styled(text.next().unwrap_or_default().to_string(), style),
    ]);
    let rest = text.map(|line| Line::styled(format!("{:>9} {line}", ""), style));
    std::iter::once(first).chain(rest).collect()
}

fn render_halt(frame: &mut Frame<'_>, area: Rect, mut lines: HaltLines, theme: Theme) {
    let block = theme.panel(" run ended ", false);
    let inner = block.inner(area);
    // Too few rows: the least important facts go whole rather than the panel cutting text.
    drop_by_rank(&mut lines, |lines| lines.len() <= usize::from(inner.height));
    let lines: Vec<Line<'_>> = lines
        .into_iter()
        .enumerate()
        .map(|(index, (_, text))| {
            if index == 0 {
                Line::styled(text, theme.title())
            } else {
                Line::raw(text)
            }
        })
        .collect();
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

/// What the halt latency measures, under it where the panel is wide enough.
const LATENCY_MEANING: &str = "(halting result to the last task stopped)";

/// The halt panel's lines in display order with their ranks (0 most important), each the
/// longest wording that fits `width` columns (the last one cut at a word if none does).
fn halt_lines(app: &App, report: &RunReport, width: usize) -> HaltLines {
    halt_facts(app.phase, report)
        .into_iter()
        .map(|(rank, wordings)| (rank, fit_or_clip(&wordings, width)))
        .filter(|(_, text)| !text.is_empty())
        .collect()
}

/// The halt panel's facts in display order, each with its rank and its wordings, longest
/// first; an empty last wording leaves the line out where no other fits.
fn halt_facts(phase: Phase, report: &RunReport) -> [(u8, Vec<String>); 7] {
    let counters = &report.counters;
    let latency = halt_latency(report.halt_latency.map(|d| d.as_secs_f64() * 1e3));
    // As the summary counts them: ids completed before a resume are neither unsent nor missing.
    let unsent = counters
        .total
        .saturating_sub(counters.submitted + counters.done_before);
    let (done, elapsed) = (
        count(counters.completed + counters.done_before),
        duration(report.elapsed),
    );
    let active = duration(report.active);
    [
        (0, reason_wordings(phase, report.reason)),
        (
            1,
            vec![format!("halt latency {latency}"), format!("latency {latency}")],
        ),
        (6, vec![LATENCY_MEANING.to_string(), String::new()]),
        (
            3,
            count_wordings(counters.cancelled, "cut short or dropped", "cut short"),
        ),
        (4, count_wordings(unsent, "never submitted", "unsent")),
        (
            5,
            count_wordings(
                counters.started_after_halt,
                "started after the halt",
                "started after halt",
            ),
        ),
        (
            2,
            vec![
                format!("{done} completed in {elapsed} ({active} active)"),
                format!("{done} completed in {elapsed}"),
                format!("{done} done in {elapsed}"),
            ],
        ),
    ]
}

/// `Found: halted on a match`, then shorter: without the state, in brief.
fn reason_wordings(phase: Phase, reason: HaltReason) -> Vec<String> {
    let (long, brief) = (describe_reason(reason), brief_reason(reason));
    let phase = phase.label();
    vec![
        format!("{phase}: {long}"),
        long.to_string(),
        format!("{phase}: {brief}"),
        brief.to_string(),
    ]
}

/// `9 tasks {long}`, `9 {long}`, `9 {short}`.
fn count_wordings(value: u64, long: &str, short: &str) -> Vec<String> {
    let number = count(value);
    vec![
        format!("{} {long}", plural(value, "task")),
        format!("{number} {long}"),
        format!("{number} {short}"),
    ]
}
