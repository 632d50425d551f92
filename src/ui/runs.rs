//! The runs history overlay: one row per finished run, the sort column marked, the rate relative to the first run.

use super::overlay::overlay_hit;
use super::{Theme, duration};
use crate::app::{Hit, RUN_COLUMNS, RunColumn, RunsHistory, Target, run_text};
use crate::eventlog::schema::seconds;
use crate::format::{halt_latency, human_count, score as format_score};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Cell, Clear, Paragraph, Row, Table, TableState};

/// Draws the history over most of `area`; returns its box and where each run drawn is (its
/// place in the sorted table).
pub fn render(frame: &mut Frame<'_>, area: Rect, runs: &RunsHistory, theme: Theme) -> Vec<Hit> {
    let popup = area.centered(
        Constraint::Length(area.width.min(140)),
        Constraint::Length(area.height.saturating_sub(2).max(3)),
    );
    let block = Block::bordered()
        .title(format!(" runs ({}) ", runs.records.len()))
        .title_bottom(Line::styled(
            " Left/Right sort  s reverse  Enter relaunch  x Markdown  X CSV  Esc close ",
            theme.dim(),
        ));
    frame.render_widget(Clear, popup);
    if runs.records.is_empty() {
        let text = "no finished runs yet: launch one (Enter, or l for the launcher)";
        frame.render_widget(
            Paragraph::new(Line::styled(text, theme.dim())).block(block),
            popup,
        );
        return vec![overlay_hit(popup)];
    }
    let order = runs.order();
    // The runs file is text anyone could have written: shown, never obeyed by the terminal.
    let shown = |cell: String| crate::escape::controls(&cell).into_owned();
    let rows: Vec<Vec<String>> = order
        .iter()
        .map(|&index| cells(runs, index).into_iter().map(shown).collect())
        .collect();
    let headers: Vec<String> = RUN_COLUMNS
        .iter()
        .enumerate()
        .map(|(index, column)| {
            let arrow = match (index == runs.sort, runs.descending) {
                (false, _) => "",
                (true, false) => " ^",
                (true, true) => " v",
            };
            format!("{}{arrow}", column.title())
        })
        .collect();
    let widths: Vec<Constraint> = RUN_COLUMNS
        .iter()
        .enumerate()
        .map(|(index, column)| {
            if *column == RunColumn::Run {
                return Constraint::Fill(1);
            }
            let widest = rows
                .iter()
                .map(|row| row[index].chars().count())
                .chain([headers[index].chars().count()])
                .max()
                .unwrap_or(1);
            Constraint::Length(u16::try_from(widest).unwrap_or(u16::MAX))
        })
        .collect();
    // The run column's width: what the others, their gaps and the highlight mark leave.
    let fixed: u16 = widths
        .iter()
        .map(|width| match width {
            Constraint::Length(n) => *n,
            _ => 0,
        })
        .sum();
    let gaps = u16::try_from(widths.len().saturating_sub(1)).unwrap_or(u16::MAX);
    let run_width = popup.width.saturating_sub(2 + 2 + fixed + gaps);
    let run_column = RUN_COLUMNS.iter().position(|c| *c == RunColumn::Run);
    let rows: Vec<Vec<String>> = rows
        .into_iter()
        .zip(&order)
        .map(|(mut row, &index)| {
            if let Some(column) = run_column {
                let record = &runs.records[index];
                row[column] = fit_run(&shown(record.name.clone()), &row[column], usize::from(run_width));
            }
            row
        })
        .collect();
    let header = Row::new(headers.into_iter().enumerate().map(|(index, title)| {
        let style = if index == runs.sort {
            theme.warn()
        } else {
            theme.title()
        };
        Cell::from(title).style(style)
    }));
    let table = Table::new(rows.into_iter().map(Row::new), widths)
        .header(header)
        .block(block)
        .row_highlight_style(theme.selected())
        .highlight_symbol("> ");
    let mut state = TableState::default().with_selected(Some(runs.cursor));
    frame.render_stateful_widget(table, popup, &mut state);
    // The header takes the first line inside the frame.
    let inner = popup.inner(ratatui::layout::Margin::new(1, 1));
    let mut hits = vec![overlay_hit(popup)];
    hits.extend(
        (state.offset()..order.len())
            .zip(inner.y + 1..inner.bottom())
            .map(|(index, y)| Hit {
                area: Rect::new(inner.x, y, inner.width, 1),
                target: Target::Item(index),
            }),
    );
    hits
}

/// A run's cell in `width` columns: whole when it fits; else its name whole with as much of
/// the search as fits; else the name's start and end around `…`, so that two runs whose names
/// share a long start ("Article example 2", "Article example 2 quick") still read apart.
fn fit_run(name: &str, text: &str, width: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= width {
        return text.to_string();
    }
    let name: Vec<char> = name.chars().collect();
    if name.len() <= width {
        return chars[..width].iter().collect();
    }
    if width < 3 {
        return name[..width].iter().collect();
    }
    let tail = (width - 1) / 2;
    let head = width - 1 - tail;
    let mut out: String = name[..head].iter().collect();
    out.push('…');
    out.extend(&name[name.len() - tail..]);
    out
}

/// The table cells of record `index`, in [`RUN_COLUMNS`] order.
fn cells(runs: &RunsHistory, index: usize) -> Vec<String> {
    let record = &runs.records[index];
    RUN_COLUMNS
        .iter()
        .map(|column| match column {
            RunColumn::Number => (index + 1).to_string(),
            RunColumn::Run => run_text(record),
            RunColumn::Workers => record.workers.to_string(),
            RunColumn::Outcome => record.outcome.label().to_string(),
            // A runs file is input: its seconds go through the log's panic-free conversion.
            RunColumn::Elapsed => duration(seconds(record.elapsed_s)),
            RunColumn::Active => duration(seconds(record.active_s)),
            RunColumn::Rate => human_count(record.tasks_per_s),
            RunColumn::Relative => runs
                .relative(index)
                .map_or_else(|| "-".to_string(), |r| format!("{r:.2}")),
            RunColumn::Latency => halt_latency(record.halt_latency_ms),
            RunColumn::Best => record.best.map_or_else(|| "-".to_string(), format_score),
        })
        .collect()
}
