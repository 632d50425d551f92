//! Workers table: one row per worker, sorted and scrolled as the user asks, with hidden rows counted and a straggler (far longer on its task than the median) highlighted.

use super::{TABLE_CHROME, Theme, count, duration};
use crate::app::{App, Focus, WorkerSort, workers_scroll_limit};
use poolwatch_core::{WorkerRow, WorkerState};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::widgets::{Cell, Row, Table};
use std::time::Duration;

/// A task is a straggler when it has run this many times the median...
const STRAGGLER_FACTOR: u32 = 4;
/// ...and at least this long.
const STRAGGLER_MIN: Duration = Duration::from_millis(250);
/// Below this inner width the detail column is dropped and busy is a percentage only.
const NARROW: u16 = 100;

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

/// Indexes of `rows` in the order `sort` asks for (ties by slot).
#[must_use]
pub fn sorted(rows: &[WorkerRow], sort: WorkerSort) -> Vec<usize> {
    let mut order: Vec<usize> = (0..rows.len()).collect();
    match sort {
        WorkerSort::Slot => {}
        WorkerSort::TaskTime => order.sort_by_key(|&i| std::cmp::Reverse(rows[i].on_task_for)),
        WorkerSort::Done => order.sort_by_key(|&i| std::cmp::Reverse(rows[i].done)),
        WorkerSort::Errors => order.sort_by_key(|&i| std::cmp::Reverse(rows[i].errors)),
    }
    order
}

fn busy_bar(busy: f64, narrow: bool) -> String {
    if narrow {
        return format!("{:>3.0}%", busy * 100.0);
    }
    #[expect(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "0..=8")]
    let filled = (busy.clamp(0.0, 1.0) * 8.0).round() as usize;
    format!(
        "{}{} {:>3.0}%",
        "█".repeat(filled),
        "░".repeat(8 - filled),
        busy * 100.0
    )
}

fn row_cells(row: &WorkerRow, narrow: bool) -> Vec<Cell<'static>> {
    let task = row.current_task.map_or_else(|| "-".to_string(), count);
    let on_task = if row.current_task.is_some() {
        duration(row.on_task_for)
    } else {
        "-".to_string()
    };
    let mut cells = vec![
        Cell::from(row.id.to_string()),
        Cell::from(row.state.label()),
        Cell::from(task),
        Cell::from(on_task),
        Cell::from(count(row.done)),
        Cell::from(count(row.matches)),
        Cell::from(count(row.errors)),
        Cell::from(busy_bar(row.busy, narrow)),
    ];
    if !narrow {
        let detail = row.detail.as_deref().unwrap_or_default();
        cells.push(Cell::from(crate::escape::controls(detail).into_owned()));
    }
    cells
}

/// Draws the table; returns how many worker rows it has room for.
pub fn render(frame: &mut Frame<'_>, area: Rect, app: &App, theme: Theme) -> usize {
    let rows = app.snapshot.as_ref().map_or(&[][..], |s| s.workers.as_slice());
    let slow = stragglers(rows);
    let active = rows.iter().filter(|r| r.state != WorkerState::Stopped).count();
    // Border and header take three rows; the rest shows workers.
    let fits = usize::from(area.height.saturating_sub(TABLE_CHROME));
    let first = app.workers_scroll.min(workers_scroll_limit(rows.len(), fits));
    let hidden = rows.len().saturating_sub(fits);
    let mut title = format!(" workers: {active} active");
    if !slow.is_empty() {
        title.push_str(&format!(", {} straggling", slow.len()));
    }
    let more = if hidden > 0 {
        format!(", +{hidden} more")
    } else {
        String::new()
    };
    let sort = if app.workers_sort == WorkerSort::Slot {
        String::new()
    } else {
        format!(", {}", app.workers_sort.label())
    };
    let title = super::fit::first_fit(
        &[
            format!(
                "{title}{more}{}{sort} ",
                if hidden > 0 { " (Tab, j/k)" } else { "" }
            ),
            format!("{title}{more}{sort} "),
            format!(" {active} active{more}{sort} "),
            format!(" {active} active{more} "),
        ],
        usize::from(area.width.saturating_sub(2)),
    );
    let narrow = area.width.saturating_sub(2) < NARROW;
    let mut header = vec!["#", "state", "task", "on task", "done", "match", "err", "busy"];
    if !narrow {
        header.push("detail");
    }
    let header = Row::new(header).style(theme.dim());
    let body = sorted(rows, app.workers_sort)
        .into_iter()
        .skip(first)
        .take(fits)
        .map(|index| {
            let row = &rows[index];
            let style = if slow.contains(&index) {
                theme.bad()
            } else if row.state == WorkerState::Stopped {
                theme.dim()
            } else if row.errors > 0 {
                theme.warn()
            } else {
                ratatui::style::Style::new()
            };
            Row::new(row_cells(row, narrow)).style(style)
        });
    let mut widths = vec![
        Constraint::Length(3),
        Constraint::Length(8),
        Constraint::Length(13),
        Constraint::Length(8),
        Constraint::Length(11),
        Constraint::Length(5),
        Constraint::Length(5),
        Constraint::Length(if narrow { 4 } else { 13 }),
    ];
    if !narrow {
        widths.push(Constraint::Min(0));
    }
    let block = theme.panel(title, app.focus == Focus::Workers);
    let table = Table::new(body, widths).header(header).block(block);
    frame.render_widget(table, area);
    fits
}

#[cfg(test)]
mod tests {
    use crate::app::{App, Drawn, Msg};
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use poolwatch_core::{Snapshot, WorkerRow};
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    fn press(app: &mut App, code: KeyCode) {
        app.update(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    }

    /// Draws `app` as the main loop does, telling it what was drawn; returns the screen.
    fn frame(app: &mut App, width: u16, height: u16) -> String {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        let mut drawn = Drawn::default();
        terminal
            .draw(|frame| drawn = crate::ui::render(frame, app))
            .unwrap();
        app.update(Msg::Drawn(drawn));
        terminal.backend().to_string()
    }

    /// The workers in the table, top to bottom, by their numbers.
    fn shown(screen: &str) -> Vec<usize> {
        screen
            .lines()
            .skip_while(|line| !line.contains("state"))
            .skip(1)
            .map_while(|line| {
                let row = line.trim_start_matches(['"', '│', ' ']);
                row.split_whitespace().next()?.parse().ok()
            })
            .collect()
    }

    #[test]
    fn scrolling_to_the_end_shows_the_last_worker_and_goes_no_further() {
        let mut app = App::new(Vec::new(), false);
        let workers = (0..10)
            .map(|id| WorkerRow {
                id,
                ..WorkerRow::default()
            })
            .collect();
        app.update(Msg::Frame(Snapshot {
            workers,
            ..Snapshot::default()
        }));
        press(&mut app, KeyCode::Tab);
        // 120x40 has room for 8 of the 10 workers.
        assert_eq!(shown(&frame(&mut app, 120, 40)), (0..8).collect::<Vec<_>>());
        let mut end = String::new();
        for _ in 0..20 {
            press(&mut app, KeyCode::Down);
            end = frame(&mut app, 120, 40);
        }
        assert_eq!(shown(&end), (2..10).collect::<Vec<_>>(), "{end}");
        assert_eq!(app.workers_scroll, 2, "scrolled no further than shown");
        press(&mut app, KeyCode::Down);
        assert_eq!(frame(&mut app, 120, 40), end);
        press(&mut app, KeyCode::Up);
        assert_eq!(
            shown(&frame(&mut app, 120, 40)),
            (1..9).collect::<Vec<_>>(),
            "Up moves at once"
        );
        // A taller terminal shows them all: the scroll follows it back.
        assert_eq!(shown(&frame(&mut app, 120, 60)), (0..10).collect::<Vec<_>>());
        assert_eq!(app.workers_scroll, 0);
        press(&mut app, KeyCode::Down);
        assert_eq!(
            shown(&frame(&mut app, 120, 40)),
            (0..8).collect::<Vec<_>>(),
            "nothing to scroll at 60 rows"
        );
    }
}
