//! Bottom panels: the scrollable result log, and once a run ended, what stopped it and what the stop cost.

use super::{Theme, count, duration};
use crate::app::{App, EntryKind, LogFilter};
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
    let title = format!(
        " results: {filter} ({total}), newest first, scrolled {} ",
        app.log.scroll
    );
    let block = Block::bordered().title(Line::styled(title, theme.title()));
    let height = usize::from(block.inner(area).height);
    let lines: Vec<Line<'_>> = app
        .log
        .visible()
        .skip(app.log.scroll)
        .take(height)
        .map(|entry| {
            let style = match entry.kind {
                EntryKind::Match => theme.bad(),
                EntryKind::Error => theme.warn(),
                EntryKind::Best => theme.good(),
                EntryKind::Info => theme.dim(),
            };
            Line::from(vec![
                Span::styled(format!("{:>9} ", duration(entry.at)), theme.dim()),
                Span::styled(entry.text.clone(), style),
            ])
        })
        .collect();
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

fn render_halt(frame: &mut Frame<'_>, area: Rect, app: &App, theme: Theme) {
    let Some(report) = app.report.as_ref() else { return };
    let latency = report
        .halt_latency
        .map_or_else(|| "-".to_string(), |d| format!("{:.3} ms", d.as_secs_f64() * 1e3));
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
            count(report.counters.started_after_halt)
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
