//! The run form overlay: one line per field with its default and valid range, the bad ones marked with their message.

use super::Theme;
use super::overlay::overlay_hit;
use crate::app::{FORM_FIXED_ROWS, Form, Hit, Target};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

/// Narrowest label column.
const LABEL: usize = 15;
/// Width of the value column.
const VALUE: usize = 22;

/// Draws `form` centred over `area`; returns its box and where each field drawn is.
pub fn render(frame: &mut Frame<'_>, area: Rect, form: &Form, theme: Theme) -> Vec<Hit> {
    let mut cursor_line = form.cursor.min(1);
    // The line of each row: name, search, then one a field (its message may follow it).
    let mut row_lines = vec![0, 1];
    let mut lines = vec![
        row_line(form, 0, "name", &form.name, None, theme),
        kind_line(form, theme),
    ];
    for (index, def) in form.defs.iter().enumerate() {
        let row = FORM_FIXED_ROWS + index;
        let mut notes = Vec::new();
        if let Some(default) = &def.default {
            notes.push(format!("default {default}"));
        }
        if let Some(range) = form.ranges.get(index).and_then(Option::as_ref) {
            notes.push(range.clone());
        }
        let value = form.values.get(index).map_or("", String::as_str);
        let shown = if value.is_empty() && form.cursor != row {
            def.default.as_deref().unwrap_or("")
        } else {
            value
        };
        if row == form.cursor {
            cursor_line = lines.len();
        }
        row_lines.push(lines.len());
        let mut line = row_line(form, row, &def.label, shown, Some(value.is_empty()), theme);
        line.push_span(Span::styled(notes.join(", "), theme.dim()));
        lines.push(line);
        if let Some(Some(message)) = form.checked.errors.get(index) {
            lines.push(Line::styled(format!("    {message}"), theme.bad()));
        }
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(help_text(form), theme.dim()));
    lines.push(Line::raw(format!("$ {}", form.argv().join(" "))));
    if let Some(message) = &form.checked.general {
        lines.push(Line::styled(message.clone(), theme.bad()));
    } else if form.blocked {
        lines.push(Line::styled(
            "fix the marked fields to launch or save",
            theme.bad(),
        ));
    }
    let height = u16::try_from(lines.len() + 3).unwrap_or(u16::MAX);
    let popup = area.centered(
        Constraint::Length(area.width.min(100)),
        Constraint::Length(height.min(area.height)),
    );
    // A form taller than the popup scrolls to keep the highlighted row (and its message) in view.
    let inner = usize::from(popup.height.saturating_sub(2));
    let scroll = u16::try_from((cursor_line + 2).saturating_sub(inner)).unwrap_or(0);
    let hint = if form.editing.is_some() {
        " Enter/Tab keep  Esc undo  Ctrl-U clear "
    } else {
        " type to edit  Left/Right search  Enter launch  s save  Esc back "
    };
    let block = Block::bordered()
        .title(format!(" edit run: {} ", form.kind_name()))
        .title_bottom(Line::styled(hint, theme.dim()));
    frame.render_widget(Clear, popup);
    frame.render_widget(Paragraph::new(lines).block(block).scroll((scroll, 0)), popup);
    let inner = popup.inner(ratatui::layout::Margin::new(1, 1));
    let mut hits = vec![overlay_hit(popup)];
    for (row, line) in row_lines.into_iter().enumerate() {
        let Some(shown) = line.checked_sub(usize::from(scroll)) else {
            continue;
        };
        let y = u16::try_from(shown).map_or(u16::MAX, |shown| inner.y.saturating_add(shown));
        if y < inner.bottom() {
            hits.push(Hit {
                area: Rect::new(inner.x, y, inner.width, 1),
                target: Target::Item(row),
            });
        }
    }
    hits
}

/// `> label  value` with the row's marks: `>` highlighted, `!` invalid, `_` while typed into.
fn row_line<'a>(
    form: &Form,
    row: usize,
    label: &str,
    value: &str,
    is_default: Option<bool>,
    theme: Theme,
) -> Line<'a> {
    let invalid = row >= FORM_FIXED_ROWS
        && form
            .checked
            .errors
            .get(row - FORM_FIXED_ROWS)
            .is_some_and(Option::is_some);
    let here = form.cursor == row;
    let mark = match (here, invalid) {
        (true, true) => ">!",
        (true, false) => "> ",
        (false, true) => " !",
        (false, false) => "  ",
    };
    let typing = here && form.editing.is_some();
    let text = if typing {
        format!("{value}_")
    } else {
        value.to_string()
    };
    let value_style = if invalid {
        theme.bad()
    } else if here {
        theme.selected()
    } else if is_default == Some(true) {
        theme.dim()
    } else {
        ratatui::style::Style::new()
    };
    Line::from(vec![
        Span::styled(mark, if invalid { theme.bad() } else { theme.title() }),
        Span::styled(
            format!("{label:<width$}", width = label_width(form)),
            theme.title(),
        ),
        Span::styled(format!("{text:<VALUE$}"), value_style),
        Span::raw(" "),
    ])
}

fn kind_line<'a>(form: &Form, theme: Theme) -> Line<'a> {
    let kind = format!("< {} >", form.kind_name());
    let mut line = row_line(form, 1, "search", &kind, None, theme);
    line.push_span(Span::styled(
        format!("{} searches", form.kinds.len()),
        theme.dim(),
    ));
    line
}

fn help_text(form: &Form) -> String {
    match form.cursor {
        0 => "name: the run's name in the launcher, the history and a saved preset".to_string(),
        1 => {
            let about = form.kinds.get(form.kind).map_or("", |(_, about)| about.as_str());
            format!("{}: {about} (Left/Right: another search)", form.kind_name())
        }
        row => form
            .defs
            .get(row - FORM_FIXED_ROWS)
            .map(|def| format!("{}: {}", def.label, def.help))
            .unwrap_or_default(),
    }
}

/// The label column: the longest label and a space, at least [`LABEL`].
fn label_width(form: &Form) -> usize {
    let longest = form
        .defs
        .iter()
        .map(|def| def.label.chars().count())
        .max()
        .unwrap_or(0);
    (longest + 1).max(LABEL)
}
