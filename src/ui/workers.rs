//! Workers table: one row per worker, with a straggler (far longer on its task than the median) highlighted.

use super::{Theme, count, duration};
use crate::app::App;
use crate::pool::{WorkerRow, WorkerState};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Cell, Row, Table};
use std::time::Duration;

/// A task is a straggler when it has run this many times the median...
const STRAGGLER_FACTOR: u32 = 4;
/// ...and at least this long.
const STRAGGLER_MIN: Duration = Duration::from_millis(250);

/// Indexes of workers whose current task has run far longer than the median running task.
#[must_use]
pub fn stragglers(rows: &[WorkerRow]) -> Vec<usize> {
    let mut times: Vec<Duration> = rows
        .iter()
        .filter(|r| r.state == WorkerState::Running)
        .map(|r| r.on_task_for)
        .collect();
    if times.len() < 2 {
        return Vec::new();
    }
    times.sort_unstable();
    let median = times[times.len() / 2];
    let limit = (median * STRAGGLER_FACTOR).max(STRAGGLER_MIN);
    rows.iter()
        .enumerate()
        .filter(|(_, r)| r.state == WorkerState::Running && r.on_task_for > limit)
        .map(|(index, _)| index)
        .collect()
}

fn busy_bar(busy: f64) -> String {
    #[expect(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "0..=8")]
    let filled = (busy.clamp(0.0, 1.0) * 8.0).round() as usize;
    format!(
        "{}{} {:>3.0}%",
        "█".repeat(filled),
        "░".repeat(8 - filled),
        busy * 100.0
    )
}

/// Draws the table.
pub fn render(frame: &mut Frame<'_>, area: Rect, app: &App, theme: Theme) {
    let rows = app.snapshot.as_ref().map_or(&[][..], |s| s.workers.as_slice());
    let slow = stragglers(rows);
    let active = rows.iter().filter(|r| r.state != WorkerState::Stopped).count();
    let title = if slow.is_empty() {
        format!(" workers: {active} active ")
    } else {
        format!(" workers: {active} active, {} straggling ", slow.len())
    };
    let header = Row::new([
        "#", "state", "task", "on task", "done", "match", "err", "busy", "detail",
    ])
    .style(theme.dim());
    let body = rows.iter().enumerate().map(|(index, row)| {
        let task = row
            .current_task
            .map_or_else(|| "-".to_string(), |t| t.to_string());
        let on_task = if row.current_task.is_some() {
            duration(row.on_task_for)
        } else {
            "-".to_string()
        };
        let cells = vec![
            Cell::from(row.id.to_string()),
            Cell::from(row.state.label()),
            Cell::from(task),
            Cell::from(on_task),
            Cell::from(count(row.done)),
            Cell::from(count(row.matches)),
            Cell::from(count(row.errors)),
            Cell::from(busy_bar(row.busy)),
            Cell::from(row.detail.clone().unwrap_or_default()),
        ];
        let style = if slow.contains(&index) {
            theme.bad()
        } else if row.state == WorkerState::Stopped {
            theme.dim()
        } else if row.errors > 0 {
            theme.warn()
        } else {
            ratatui::style::Style::new()
        };
        Row::new(cells).style(style)
    });
    let widths = [
        Constraint::Length(3),
        Constraint::Length(8),
        Constraint::Length(12),
        Constraint::Length(8),
        Constraint::Length(12),
        Constraint::Length(6),
        Constraint::Length(5),
        Constraint::Length(13),
        Constraint::Min(0),
    ];
    let table = Table::new(body, widths)
        .header(header)
        .block(Block::bordered().title(Line::styled(title, theme.title())));
    frame.render_widget(table, area);
}
