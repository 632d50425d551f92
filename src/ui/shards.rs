//! Shards table: one row per shard of a watched search (in place of the workers table), silent shards flagged.

use super::table::{Column, DataTable, TableRow};
use super::{Theme, count};
use crate::app::ShardRow;
use crate::format::human_count;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::widgets::Paragraph;

/// Rows of the table's frame: the two borders and the header.
const CHROME: u16 = 3;

/// Where the table stands: rows scrolled past and whether it has the keys' focus.
#[derive(Debug, Clone, Copy, Default)]
pub struct View {
    /// Rows of the attention order scrolled past.
    pub scroll: usize,
    /// True when the arrow keys scroll this table.
    pub focused: bool,
    /// The selected shard, by its index.
    pub selected: Option<u64>,
}

/// The table's columns, the least needed dropped first on a narrow screen.
const COLUMNS: [Column; 8] = [
    Column::new("shard", 5, 0),
    Column::new("host", 12, 2),
    Column::new("state", 16, 0),
    Column::new("done", 22, 0),
    Column::new("match", 6, 1),
    Column::new("err", 5, 3),
    Column::new("rate/s", 8, 4),
    Column::fill("heard", 8, 1),
];

fn cells(row: &ShardRow) -> Vec<String> {
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
    vec![
        row.shard.to_string(),
        crate::escape::controls(&row.host).into_owned(),
        crate::escape::controls(&row.state).into_owned(),
        done,
        count(row.matches),
        count(row.errors),
        human_count(row.rate),
        heard,
    ]
}

fn style(row: &ShardRow, theme: Theme) -> Style {
    if row.silent {
        theme.bad()
    } else if row.state.starts_with("ended") || row.state == "waiting" {
        theme.dim()
    } else if row.errors > 0 {
        theme.warn()
    } else {
        Style::new()
    }
}

/// Draws the table of `rows`; returns how many shard rows it had room for and where each
/// shard drawn is, by its index. When they do not all fit, the ones that need attention come
/// first (silent, then live, then ended, each by shard index), the table scrolls through that
/// order, and the last line counts the rest, so that no shard is left off without a word.
pub fn render(
    frame: &mut Frame<'_>,
    area: Rect,
    rows: &[ShardRow],
    view: View,
    theme: Theme,
) -> (usize, Vec<(u64, Rect)>) {
    let live = rows.iter().filter(|r| !r.state.starts_with("ended")).count();
    let silent = rows.iter().filter(|r| r.silent).count();
    let title = if silent == 0 {
        format!(" shards: {live} of {} live ", rows.len())
    } else {
        format!(" shards: {live} of {} live, {silent} silent ", rows.len())
    };
    let room = usize::from(area.height.saturating_sub(CHROME));
    let (shown, hidden) = fit(rows, room, view.scroll);
    let fitted = shown.len();
    let table = DataTable {
        block: theme.panel(title, view.focused),
        columns: COLUMNS.to_vec(),
        rows: shown
            .iter()
            .map(|row| TableRow {
                cells: cells(row),
                style: style(row, theme),
            })
            .collect(),
        offset: 0,
        selected: shown.iter().position(|row| Some(row.shard) == view.selected),
    };
    let drawn = table
        .render(frame, area, theme)
        .into_iter()
        .take(fitted)
        .map(|(index, rect)| (shown[index].shard, rect))
        .collect();
    // The count takes the table's last line whole: the states of the rest outgrow a column.
    if let Some(hidden) = hidden
        && room > 0
    {
        let line = Rect {
            x: area.x + 1,
            y: area.y + area.height - 2,
            width: area.width.saturating_sub(2),
            height: 1,
        };
        let text = format!("      +{} more: {}", hidden.len(), more_states(&hidden));
        frame.render_widget(Paragraph::new(text).style(theme.dim()), line);
    }
    (fitted, drawn)
}

/// The rows to draw in `room` lines and, when some do not fit, the ones left off (the last
/// line then counts them): a window of the attention order from `scroll` (clamped so that the
/// window stays full), shown by shard index.
fn fit(rows: &[ShardRow], room: usize, scroll: usize) -> (Vec<&ShardRow>, Option<Vec<&ShardRow>>) {
    if rows.len() <= room {
        return (rows.iter().collect(), None);
    }
    let mut ordered: Vec<&ShardRow> = rows.iter().collect();
    ordered.sort_by_key(|row| (attention(row), row.shard));
    let window = room.saturating_sub(1);
    let start = scroll.min(ordered.len() - window);
    let mut hidden = ordered.split_off(start);
    let after = hidden.split_off(window);
    let mut shown = std::mem::replace(&mut hidden, ordered);
    hidden.extend(after);
    shown.sort_by_key(|row| row.shard);
    (shown, Some(hidden))
}

/// How much a shard needs a look: 0 silent, 1 live, 2 waiting, 3 ended.
fn attention(row: &ShardRow) -> u8 {
    if row.silent {
        0
    } else if row.state.starts_with("ended") {
        3
    } else if row.state == "waiting" {
        2
    } else {
        1
    }
}

/// The states of the shards left off, counted: `3 live, 12 ended`.
fn more_states(hidden: &[&ShardRow]) -> String {
    let names = ["silent", "live", "waiting", "ended"];
    let mut counts = [0_usize; 4];
    for row in hidden {
        counts[usize::from(attention(row))] += 1;
    }
    names
        .iter()
        .zip(counts)
        .filter(|(_, n)| *n > 0)
        .map(|(name, n)| format!("{n} {name}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    fn shard(shard: u64, state: &str, silent: bool) -> ShardRow {
        ShardRow {
            shard,
            host: format!("node{shard}"),
            state: state.to_string(),
            completed: 10,
            total: 100,
            matches: 0,
            errors: 0,
            rate: 5.0,
            last_heard_s: 0.5,
            silent,
            exit_code: None,
            log: format!("shard{shard}.jsonl"),
        }
    }

    /// Issue 25: `2339 of 3010 completed` read without separators; every count in the table
    /// is written as people read it.
    #[test]
    fn the_counts_of_the_table_have_thousands_separators() {
        let row = ShardRow {
            completed: 2_339,
            total: 3_010_000,
            matches: 12_345,
            errors: 1_002,
            ..shard(0, "running", false)
        };
        let lines = draw(&[row], 6);
        let text = lines.join("\n");
        for count in ["2,339 / 3,010,000", "12,345", "1,002"] {
            assert!(text.contains(count), "{count}: {text}");
        }
    }

    fn draw(rows: &[ShardRow], height: u16) -> Vec<String> {
        draw_scrolled(rows, height, 0)
    }

    fn draw_scrolled(rows: &[ShardRow], height: u16, scroll: usize) -> Vec<String> {
        let mut terminal = Terminal::new(TestBackend::new(100, height)).expect("a test backend");
        terminal
            .draw(|frame| {
                render(
                    frame,
                    frame.area(),
                    rows,
                    View {
                        scroll,
                        focused: false,
                        selected: None,
                    },
                    Theme::new(false),
                );
            })
            .expect("drawing into a test backend");
        let buffer = terminal.backend().buffer();
        (0..height)
            .map(|y| (0..100).map(|x| buffer[(x, y)].symbol()).collect())
            .collect()
    }

    /// 20 shards: 0-9 ended, 10-18 running, 19 silent.
    fn twenty_shards() -> Vec<ShardRow> {
        (0..20)
            .map(|i| match i {
                0..=9 => shard(i, "ended: exhausted", false),
                19 => shard(i, "running", true),
                _ => shard(i, "running", false),
            })
            .collect()
    }

    #[test]
    fn shards_that_do_not_fit_are_counted_and_the_silent_ones_shown_first() {
        // 6 lines of room for rows.
        let rows = twenty_shards();
        let lines = draw(&rows, 6 + CHROME);
        let body = &lines[2..lines.len() - 1];
        assert!(body[0].contains("node10"), "{lines:#?}");
        assert!(
            body.iter().any(|l| l.contains("node19") && l.contains("SILENT")),
            "{lines:#?}"
        );
        assert!(!body.iter().any(|l| l.contains("node0 ")), "{lines:#?}");
        let last = &body[body.len() - 1];
        assert!(
            last.contains("+15 more") && last.contains("5 live, 10 ended"),
            "{last}"
        );
    }

    #[test]
    fn shards_that_fit_are_all_shown_in_order_with_no_count() {
        let rows: Vec<ShardRow> = (0..4).map(|i| shard(i, "running", false)).collect();
        let lines = draw(&rows, 6 + CHROME);
        let body = lines.join("\n");
        assert!(!body.contains("more"), "{body}");
        for i in 0..4 {
            assert!(body.contains(&format!("node{i}")), "{body}");
        }
    }

    #[test]
    fn the_table_scrolls_through_the_attention_order_and_counts_what_is_off_screen() {
        // In attention order: 19 silent, then 10-18 live, then 0-9 ended; 5 rows and the count fit.
        let rows = twenty_shards();
        let shown = |scroll: usize| {
            let lines = draw_scrolled(&rows, 6 + CHROME, scroll);
            let body = lines[2..lines.len() - 1].to_vec();
            let shards: Vec<u64> = (0..20)
                .filter(|i| body.iter().any(|l| l.contains(&format!("node{i} "))))
                .collect();
            (shards, body[body.len() - 1].clone())
        };
        assert_eq!(shown(0).0, [10, 11, 12, 13, 19]);
        // Five rows on: live 14-18, the window still ordered by shard.
        let (five_on, count) = shown(5);
        assert_eq!(five_on, [14, 15, 16, 17, 18]);
        assert!(
            count.contains("+15 more") && count.contains("1 silent, 4 live, 10 ended"),
            "{count}"
        );
        // Past the end the window stops at the last five: ended 5-9.
        let (last, count) = shown(100);
        assert_eq!(last, [5, 6, 7, 8, 9]);
        assert!(count.contains("1 silent, 9 live, 5 ended"), "{count}");
    }
}
