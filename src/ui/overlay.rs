//! Overlays drawn over the dashboard: the hotkey help and the run launcher.

use super::Theme;
use crate::app::{App, HOTKEYS, Hit, Target};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, List, ListItem, ListState, Paragraph};

fn centered(area: Rect, width: u16, height: u16) -> Rect {
    area.centered(
        Constraint::Length(width.min(area.width)),
        Constraint::Length(height.min(area.height)),
    )
}

/// The box of an overlay drawn at `area`: clicks inside it stay in it.
#[must_use]
pub fn overlay_hit(area: Rect) -> Hit {
    Hit {
        area,
        target: Target::Overlay,
    }
}

/// Draws the list of every hotkey (under `watch`, only those that act there); returns its box.
pub fn render_help(frame: &mut Frame<'_>, area: Rect, watching: bool, theme: Theme) -> Hit {
    let keys: Vec<&(&str, &str)> = HOTKEYS
        .iter()
        .filter(|(key, _)| !(watching && super::WATCH_INERT_KEYS.contains(key)))
        .collect();
    let height = u16::try_from(keys.len()).unwrap_or(u16::MAX).saturating_add(4);
    let popup = centered(area, 90, height);
    let mut lines: Vec<Line<'_>> = keys
        .into_iter()
        .map(|(key, what)| {
            Line::from(vec![
                Span::styled(format!("{key:>12}  "), theme.title()),
                Span::raw(*what),
            ])
        })
        .collect();
    lines.push(Line::raw(""));
    lines.push(Line::styled("? or Esc closes this help", theme.dim()));
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(" hotkeys ")),
        popup,
    );
    overlay_hit(popup)
}

/// Draws the preset list with `cursor` highlighted and kept in view; returns its box and
/// where each preset drawn is.
pub fn render_launcher(
    frame: &mut Frame<'_>,
    area: Rect,
    app: &App,
    cursor: usize,
    theme: Theme,
) -> Vec<Hit> {
    let height = u16::try_from(app.presets.len() * 2)
        .unwrap_or(u16::MAX)
        .saturating_add(3);
    let popup = centered(area, 100, height);
    let text_width = usize::from(popup.width.saturating_sub(8));
    let items: Vec<ListItem<'_>> = app
        .presets
        .iter()
        .map(|preset| {
            let title = format!("{} [{}, halt {}]", preset.name, preset.spec.kind(), preset.halt);
            let description = super::fit::clip_words(&preset.description, text_width);
            ListItem::new(vec![
                Line::styled(title, theme.title()),
                Line::styled(format!("  {description}"), theme.dim()),
            ])
        })
        .collect();
    let bottom = match app.deleting.and_then(|row| app.presets.get(row)) {
        Some(preset) => Line::styled(
            format!(" delete the saved preset {:?}? y/n ", preset.name),
            theme.warn(),
        ),
        None => Line::styled(
            " Up/Down pick, Enter launches, e edits, n renames, d deletes, Esc closes ",
            theme.dim(),
        ),
    };
    let block = Block::bordered().title(" launch a run ").title_bottom(bottom);
    let list = List::new(items)
        .block(block)
        .highlight_style(theme.selected())
        .highlight_symbol("> ");
    let mut state = ListState::default().with_selected(Some(cursor));
    frame.render_widget(Clear, popup);
    frame.render_stateful_widget(list, popup, &mut state);
    let inner = popup.inner(ratatui::layout::Margin::new(1, 1));
    let mut hits = vec![overlay_hit(popup)];
    // Two lines a preset, from the first the list kept in view.
    hits.extend(
        (state.offset()..app.presets.len())
            .zip((inner.y..inner.bottom()).step_by(2))
            .map(|(index, y)| Hit {
                area: Rect::new(inner.x, y, inner.width, 2).intersection(inner),
                target: Target::Item(index),
            }),
    );
    hits
}

/// Draws the quit question ([`App::quit_question`]); returns its box.
pub fn render_confirm_quit(frame: &mut Frame<'_>, area: Rect, app: &App, theme: Theme) -> Hit {
    let question = app.quit_question();
    let width = u16::try_from(question.len())
        .unwrap_or(u16::MAX)
        .saturating_add(4)
        .max(36);
    let popup = centered(area, width, 3);
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(Line::styled(question, theme.warn())).block(Block::bordered().title(" quit ")),
        popup,
    );
    overlay_hit(popup)
}
