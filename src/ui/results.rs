//! Bottom panels: the scrollable result log, and once a run ended, what stopped it and what the stop cost.

use super::{Theme, count, duration};
use crate::app::{App, EntryKind, Focus, LogFilter};
use crate::summary::describe_reason;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

/// Draws the log, with the halt panel beside it once the run ended.
pub fn render(frame: &mut Frame<'_>, area: Rect, app: &App, theme: Theme) {
    if app.report.is_some() {
        let [log_area, halt_area] =
            Layout::horizontal([Constraint::Percentage(60), Constraint::Percentage(40)]).areas(area);
        render_log(frame, log_area, app, theme);
        render_halt(frame, halt_area, app, theme);
    } else {
        render_log(frame, area, app, theme);
    }
}

fn render_log(frame: &mut Frame<'_>, area: Rect, app: &App, theme: Theme) {
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
    let border_style = if app.focus == Focus::Log {
        theme.title()
    } else {
        ratatui::style::Style::new()
    };
    let block = Block::bordered()
        .border_style(border_style)
        .title(Line::styled(title, theme.title()));
    let height = usize::from(block.inner(area).height);
    // Messages wrap (never cut at the panel's edge); a message's own lines stay lines.
    let lines: Vec<Line<'_>> = app
        .log
        .visible()
        .skip(app.log.scroll)
        .take(height)
        .flat_map(|entry| {
            let style = match entry.kind {
                EntryKind::Match => theme.found(),
                EntryKind::Error => theme.error(),
                EntryKind::Best => theme.good(),
                EntryKind::Info => theme.dim(),
                EntryKind::Run => theme.title(),
            };
            let mut text = entry.text.lines();
            let first = Line::from(vec![
                Span::styled(format!("{:>9} ", duration(entry.at)), theme.dim()),
                Span::styled(text.next().unwrap_or_default().to_string(), style),
            ]);
            let rest: Vec<Line<'_>> = text
                .map(|line| Line::styled(format!("{:>9} {line}", ""), style))
                .collect();
            std::iter::once(first).chain(rest)
        })
        .collect();
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(block),
        area,
    );
}

fn render_halt(frame: &mut Frame<'_>, area: Rect, app: &App, theme: Theme) {
    let Some(report) = app.report.as_ref() else { return };
    let latency = crate::format::halt_latency(report.halt_latency.map(|d| d.as_secs_f64() * 1e3));
    let lines = vec![
        Line::styled(
            format!("{}: {}", app.phase.label(), describe_reason(report.reason)),
            theme.title(),
        ),
        Line::raw(format!(
            "halt latency {latency} (halting result to every worker stopped)"
        )),
        Line::raw(format!(
            "{} tasks cut short or dropped, {} never submitted",
            count(report.counters.cancelled),
            count(report.counters.total - report.counters.submitted)
        )),
        Line::raw(format!(
            "{} started after the halt",
            crate::format::plural(report.counters.started_after_halt, "task")
        )),
        Line::raw(format!(
            "{} completed in {} ({} active)",
            count(report.counters.completed),
            duration(report.elapsed),
            duration(report.active)
        )),
    ];
    let block = Block::bordered().title(Line::styled(" run ended ", theme.title()));
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }).block(block), area);
}
