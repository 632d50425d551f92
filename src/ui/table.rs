//! The data table the workers and shards panels share (after bottom's `data_table`): columns
//! with widths and priorities that drop whole on narrow screens, a scroll offset, a selected
//! row, and the screen area of every row drawn, for the mouse. The order of the rows (by slot,
//! by attention) is the caller's.

use super::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::widgets::{Block, Cell, Row, Table};

/// Columns between two cells.
const SPACING: u16 = 1;

/// One column: its title, width and how readily it goes when the screen is narrow.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// The header text.
    pub title: &'static str,
    /// Its width; for the filling column, the least width worth showing.
    pub width: u16,
    /// True for the one column that takes the width left over.
    pub fill: bool,
    /// 0 is never dropped; of the rest the highest goes first, then the next.
    pub priority: u8,
}

impl Column {
    /// A column `width` wide, dropped in `priority` order.
    #[must_use]
    pub const fn new(title: &'static str, width: u16, priority: u8) -> Self {
        Self {
            title,
            width,
            fill: false,
            priority,
        }
    }

    /// A column that takes the width left over, shown only with `min` columns to spare.
    #[must_use]
    pub const fn fill(title: &'static str, min: u16, priority: u8) -> Self {
        Self {
            title,
            width: min,
            fill: true,
            priority,
        }
    }
}

/// One row: its cells, in the columns' order, and its style.
#[derive(Debug, Clone)]
pub struct TableRow {
    /// One text per column.
    pub cells: Vec<String>,
    /// The row's style (attention colours).
    pub style: Style,
}

/// A table to draw: its frame, columns, rows and where the user stands in them.
#[derive(Debug)]
pub struct DataTable<'a> {
    /// The panel around it.
    pub block: Block<'a>,
    /// Every column, in display order.
    pub columns: Vec<Column>,
    /// Every row, in the caller's order.
    pub rows: Vec<TableRow>,
    /// Rows scrolled past.
    pub offset: usize,
    /// The selected row (an index into `rows`), drawn highlighted.
    pub selected: Option<usize>,
}

/// The indexes of the columns that fit `width`: the highest priority number dropped first
/// (of equal priorities the rightmost) until the rest fit.
#[must_use]
pub fn shown_columns(columns: &[Column], width: u16) -> Vec<usize> {
    let mut shown: Vec<usize> = (0..columns.len()).collect();
    let need = |shown: &[usize]| -> u16 {
        let cells: u16 = shown.iter().map(|&i| columns[i].width).sum();
        let gaps = u16::try_from(shown.len().saturating_sub(1)).unwrap_or(u16::MAX);
        cells.saturating_add(gaps * SPACING)
    };
    while need(&shown) > width {
        let Some(drop) = shown
            .iter()
            .enumerate()
            .filter(|(_, column)| columns[**column].priority > 0)
            .max_by_key(|(position, column)| (columns[**column].priority, *position))
            .map(|(position, _)| position)
        else {
            break;
        };
        shown.remove(drop);
    }
    shown
}

impl DataTable<'_> {
    /// Draws the table in `area`; returns each row drawn with its index in `rows`, top to bottom.
    pub fn render(self, frame: &mut Frame<'_>, area: Rect, theme: Theme) -> Vec<(usize, Rect)> {
        let inner = self.block.inner(area);
        let shown = shown_columns(&self.columns, inner.width);
        let header = Row::new(shown.iter().map(|&i| self.columns[i].title)).style(theme.dim());
        let widths: Vec<Constraint> = shown
            .iter()
            .map(|&i| match self.columns[i] {
                Column { fill: true, .. } => Constraint::Min(0),
                column => Constraint::Length(column.width),
            })
            .collect();
        // The header takes the first line inside the frame.
        let room = usize::from(inner.height.saturating_sub(1));
        let drawn: Vec<usize> = (self.offset..self.rows.len()).take(room).collect();
        let body = drawn.iter().map(|&index| {
            let row = &self.rows[index];
            let cells = shown
                .iter()
                .map(|&column| Cell::from(row.cells.get(column).cloned().unwrap_or_default()));
            let style = if self.selected == Some(index) {
                row.style.patch(theme.selected())
            } else {
                row.style
            };
            Row::new(cells).style(style)
        });
        let table = Table::new(body, widths)
            .header(header)
            .column_spacing(SPACING)
            .block(self.block);
        frame.render_widget(table, area);
        drawn
            .into_iter()
            .zip(inner.y + 1..)
            .map(|(index, y)| (index, Rect::new(inner.x, y, inner.width, 1)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrow_screens_drop_the_least_needed_columns_whole() {
        let columns = [
            Column::new("id", 3, 0),
            Column::new("rate", 8, 2),
            Column::new("host", 10, 1),
            Column::fill("detail", 20, 3),
        ];
        assert_eq!(shown_columns(&columns, 100), [0, 1, 2, 3]);
        // 3 + 8 + 10 + 20 and three gaps is 44: the filling column goes first.
        assert_eq!(shown_columns(&columns, 43), [0, 1, 2]);
        assert_eq!(shown_columns(&columns, 20), [0, 2]);
        assert_eq!(shown_columns(&columns, 2), [0], "priority 0 stays");
    }
}
