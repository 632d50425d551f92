//! Workers table: one row per worker, sorted and scrolled as the user asks, with hidden rows counted and a straggler (far longer on its task than the median) highlighted.

use super::table::{Column, DataTable, TableRow};
use super::{TABLE_CHROME, Theme, count, duration};
use crate::app::{App, Focus, WorkerSort, workers_scroll_limit};
use poolwatch_core::{WorkerRow, WorkerState};
use ratatui::Frame;
use ratatui::layout::Rect;
use std::time::Duration;

/// A task is a straggler when it has run this many times the median...
const STRAGGLER_FACTOR: u32 = 4;
/// ...and at least this long.
const STRAGGLER_MIN: Duration = Duration::from_millis(250);
/// Below this inner width busy is a percentage only (and the detail column has no room).
const NARROW: u16 = 100;
/// The detail column's least width: the other columns and their gaps take the other 74 of [`NARROW`].
const DETAIL_MIN: u16 = NARROW - 74;

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

fn row_cells(row: &WorkerRow, narrow: bool) -> Vec<String> {
    let task = row.current_task.map_or_else(|| "-".to_string(), count);
    let on_task = if row.current_task.is_some() {
        duration(row.on_task_for)
    } else {
        "-".to_string()
    };
    let detail = row.detail.as_deref().unwrap_or_default();
    vec![
        row.id.to_string(),
        row.state.label().to_string(),
        task,
        on_task,
        count(row.done),
        count(row.matches),
        count(row.errors),
        busy_bar(row.busy, narrow),
        crate::escape::controls(detail).into_owned(),
    ]
}

/// The table's columns; the busy column is a bare percentage when `narrow`.
fn columns(narrow: bool) -> Vec<Column> {
    vec![
        Column::new("#", 3, 0),
        Column::new("state", 8, 0),
        Column::new("task", 13, 1),
        Column::new("on task", 8, 2),
        Column::new("done", 11, 0),
        Column::new("match", 5, 3),
        Column::new("err", 5, 3),
        Column::new("busy", if narrow { 4 } else { 13 }, 4),
        // Shown from 100 columns inside the frame on.
        Column::fill("detail", DETAIL_MIN, 5),
    ]
}

fn title(app: &App, rows: &[WorkerRow], slow: usize, hidden: usize, width: u16) -> String {
    let active = rows.iter().filter(|r| r.state != WorkerState::Stopped).count();
    let mut title = format!(" workers: {active} active");
    if slow > 0 {
        title.push_str(&format!(", {slow} straggling"));
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
    super::fit::first_fit(
        &[
            format!(
                "{title}{more}{}{sort} ",
                if hidden > 0 { " (Tab, j/k)" } else { "" }
            ),
            format!("{title}{more}{sort} "),
            format!(" {active} active{more}{sort} "),
            format!(" {active} active{more} "),
        ],
        usize::from(width.saturating_sub(2)),
    )
}

/// Draws the table; returns how many worker rows it has room for and where each worker
/// drawn is, by its number.
pub fn render(frame: &mut Frame<'_>, area: Rect, app: &App, theme: Theme) -> (usize, Vec<(u64, Rect)>) {
    let rows = app.snapshot.as_ref().map_or(&[][..], |s| s.workers.as_slice());
    let slow = stragglers(rows);
    // Border and header take three rows; the rest shows workers.
    let fits = usize::from(area.height.saturating_sub(TABLE_CHROME));
    let hidden = rows.len().saturating_sub(fits);
    let narrow = area.width.saturating_sub(2) < NARROW;
    let order = sorted(rows, app.workers_sort);
    let table_rows = order
        .iter()
        .map(|&index| {
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
            TableRow {
                cells: row_cells(row, narrow),
                style,
            }
        })
        .collect();
    let id = |index: usize| u64::try_from(rows[index].id).unwrap_or(u64::MAX);
    let title = title(app, rows, slow.len(), hidden, area.width);
    let table = DataTable {
        block: theme.panel(title, app.focus == Focus::Workers),
        columns: columns(narrow),
        rows: table_rows,
        offset: app.workers_scroll.min(workers_scroll_limit(rows.len(), fits)),
        selected: order
            .iter()
            .position(|&index| Some(id(index)) == app.selected_row),
    };
    let drawn = table
        .render(frame, area, theme)
        .into_iter()
        .map(|(position, rect)| (id(order[position]), rect))
        .collect();
    (fits, drawn)
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
