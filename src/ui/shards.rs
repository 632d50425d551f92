//! Shards table: one row per shard of a watched search (in place of the workers table), silent shards flagged.

use super::{Theme, count};
use crate::format::human_count;
use crate::watch::ShardRow;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::widgets::{Cell, Row, Table};

/// Draws the table of `rows`.
pub fn render(frame: &mut Frame<'_>, area: Rect, rows: &[ShardRow], theme: Theme) {
    let live = rows.iter().filter(|r| !r.state.starts_with("ended")).count();
    let silent = rows.iter().filter(|r| r.silent).count();
    let title = if silent == 0 {
        format!(" shards: {live} of {} live ", rows.len())
    } else {
        format!(" shards: {live} of {} live, {silent} silent ", rows.len())
    };
    let header = Row::new([
        "shard", "host", "state", "done", "match", "err", "rate/s", "heard",
    ])
    .style(theme.dim());
    let body = rows.iter().map(|row| {
        let heard = if row.state == "waiting" {
            "-".to_string()
        } else if row.silent {
            format!("{:.0}s ago SILENT", row.last_heard_s)
        } else {
            format!("{:.1}s ago", row.last_heard_s)
        };
        let done = if row.total > 0 {
            format!("{} / {}", count(row.completed), count(row.total))
        } else {
            count(row.completed)
        };
        let cells = vec![
            Cell::from(row.shard.to_string()),
            Cell::from(row.host.clone()),
            Cell::from(row.state.clone()),
            Cell::from(done),
            Cell::from(count(row.matches)),
            Cell::from(count(row.errors)),
            Cell::from(human_count(row.rate)),
            Cell::from(heard),
        ];
        let style = if row.silent {
            theme.bad()
        } else if row.state.starts_with("ended") || row.state == "waiting" {
            theme.dim()
        } else if row.errors > 0 {
            theme.warn()
        } else {
            ratatui::style::Style::new()
        };
        Row::new(cells).style(style)
    });
    let widths = [
        Constraint::Length(5),
        Constraint::Length(12),
        Constraint::Length(16),
        Constraint::Length(22),
        Constraint::Length(6),
        Constraint::Length(5),
        Constraint::Length(8),
        Constraint::Min(0),
    ];
    let table = Table::new(body, widths)
        .header(header)
        .block(theme.panel(title, false));
    frame.render_widget(table, area);
}
