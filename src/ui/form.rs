//! The run form overlay: one line per field with its default and valid range, the bad ones marked with their message.

use super::Theme;
use super::overlay::overlay_hit;
use crate::app::{FORM_FIXED_ROWS, Form, Hit, Target};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

/// Narrowest label column.
const LABEL: usize = 15;
/// Width of the value column.
const VALUE: usize = 22;

/// Draws `form` centred over `area`; returns its box and where each field drawn is.
///
/// The fields scroll (keeping the highlighted one in view); below them the highlighted row's
/// help, the command line it makes and any message stay in view, wrapped, never cut.
pub fn render(frame: &mut Frame<'_>, area: Rect, form: &Form, theme: Theme) -> Vec<Hit> {
    let (fields, row_lines, cursor_line) = field_lines(form, theme);
    let width = area.width.min(100);
    let tail = tail_lines(form, usize::from(width.saturating_sub(2)), theme);
    let wanted = fields.len() + tail.len() + 3;
    let height = u16::try_from(wanted).unwrap_or(u16::MAX);
    let popup = area.centered(
        Constraint::Length(width),
        Constraint::Length(height.min(area.height)),
    );
    let hint = if form.editing.is_some() {
        " Enter/Tab keep  Esc undo  Ctrl-U clear "
    } else {
        " type to edit  Left/Right search  Enter launch  s save  Esc back "
    };
    let title = match &form.renames {
        Some(old) => format!(" rename {old:?}: type the new name, Enter, then s saves "),
        None => format!(" edit run: {} ", form.kind_name()),
    };
    let block = Block::bordered()
        .title(title)
        .title_bottom(Line::styled(hint, theme.dim()));
    let inner = block.inner(popup);
    frame.render_widget(Clear, popup);
    frame.render_widget(block, popup);
    // The tail keeps its lines while the fields keep three (the highlighted one and a message).
    let tail_height = u16::try_from(tail.len() + 1)
        .unwrap_or(u16::MAX)
        .min(inner.height.saturating_sub(3));
    let [fields_area, tail_area] =
        Layout::vertical([Constraint::Fill(1), Constraint::Length(tail_height)]).areas(inner);
    // Fields taller than their room scroll to keep the highlighted row (and its message) in view.
    let room = usize::from(fields_area.height);
    let scroll = (cursor_line + 2)
        .saturating_sub(room)
        .min(fields.len().saturating_sub(room));
    let scroll_rows = u16::try_from(scroll).unwrap_or(0);
    frame.render_widget(Paragraph::new(fields).scroll((scroll_rows, 0)), fields_area);
    let mut tail_lines = vec![Line::raw("")];
    tail_lines.extend(tail);
    frame.render_widget(Paragraph::new(tail_lines), tail_area);
    let mut hits = vec![overlay_hit(popup)];
    for (row, line) in row_lines.into_iter().enumerate() {
        let Some(shown) = line.checked_sub(scroll).filter(|shown| *shown < room) else {
            continue;
        };
        let y = fields_area.y + u16::try_from(shown).unwrap_or(0);
        hits.push(Hit {
            area: Rect::new(fields_area.x, y, fields_area.width, 1),
            target: Target::Item(row),
        });
    }
    hits
}

/// The field lines, the line of each row (name, search, then one a field; a field's message
/// follows it) and the highlighted row's line.
fn field_lines(form: &Form, theme: Theme) -> (Vec<Line<'static>>, Vec<usize>, usize) {
    let mut cursor_line = form.cursor.min(1);
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
        // A field left at its default shows the default, highlighted or not; typing starts empty.
        let typing = form.cursor == row && form.editing.is_some();
        let shown = if value.is_empty() && !typing {
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
    (lines, row_lines, cursor_line)
}

/// The highlighted row's help, the command line and any message, wrapped to `width`.
fn tail_lines(form: &Form, width: usize, theme: Theme) -> Vec<Line<'static>> {
    let mut lines: Vec<Line<'static>> = wrap(&help_text(form), width)
        .into_iter()
        .map(|line| Line::styled(line, theme.dim()))
        .collect();
    // The command line is broken where a line ends, not at its spaces: what shows is exact.
    let command: Vec<char> = format!("$ {}", shell_line(&form.argv())).chars().collect();
    lines.extend(
        command
            .chunks(width.max(1))
            .map(|chunk| Line::raw(chunk.iter().collect::<String>())),
    );
    let message = match &form.checked.general {
        Some(message) => Some(message.clone()),
        None if form.blocked => Some("fix the marked fields to launch or save".to_string()),
        None => None,
    };
    if let Some(message) = message {
        lines.extend(
            wrap(&message, width)
                .into_iter()
                .map(|line| Line::styled(line, theme.bad())),
        );
    }
    lines
}

/// `text` in lines of at most `width` columns, broken at spaces where it can be (a word
/// longer than a line is broken where the line ends).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let mut word: Vec<char> = word.chars().collect();
        let used = line.chars().count();
        if used > 0 && used + 1 + word.len() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        while line.chars().count() + word.len() > width {
            let room = width - line.chars().count();
            line.extend(word.drain(..room));
            lines.push(std::mem::take(&mut line));
        }
        line.extend(word);
    }
    lines.push(line);
    lines
}

/// `argv` as a shell line to paste: plain words bare, others in single quotes, and words with
/// control characters in bash's `$'…'` with them escaped (a newline reads `\n`, never breaks
/// the line).
fn shell_line(argv: &[String]) -> String {
    argv.iter()
        .map(|word| {
            let plain = |c: char| c.is_ascii_alphanumeric() || "-_./=:,+@%{}#".contains(c);
            if !word.is_empty() && word.chars().all(plain) {
                word.clone()
            } else if crate::escape::controls(word) == *word {
                format!("'{}'", word.replace('\'', r"'\''"))
            } else {
                let escaped: String = word
                    .chars()
                    .map(|c| match c {
                        '\\' => r"\\".to_string(),
                        '\'' => r"\'".to_string(),
                        c => crate::escape::controls(c.encode_utf8(&mut [0; 4])).into_owned(),
                    })
                    .collect();
                format!("$'{escaped}'")
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
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
