//! Overlays drawn over the dashboard: the hotkey help and the run launcher.

use super::Theme;
use crate::app::{App, HOTKEYS};
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

/// Draws the list of every hotkey (under `watch`, only those that act there).
pub fn render_help(frame: &mut Frame<'_>, area: Rect, watching: bool, theme: Theme) {
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
}

/// Draws the preset list with `cursor` highlighted and kept in view.
pub fn render_launcher(frame: &mut Frame<'_>, area: Rect, app: &App, cursor: usize, theme: Theme) {
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
    let block = Block::bordered()
        .title(" launch a run ")
        .title_bottom(Line::styled(
            " Up/Down pick, Enter launches, e edits, Esc closes ",
            theme.dim(),
        ));
    let list = List::new(items)
        .block(block)
        .highlight_style(theme.selected())
        .highlight_symbol("> ");
    let mut state = ListState::default().with_selected(Some(cursor));
    frame.render_widget(Clear, popup);
    frame.render_stateful_widget(list, popup, &mut state);
}

/// Draws `quit and stop the run? y/n`.
pub fn render_confirm_quit(frame: &mut Frame<'_>, area: Rect, theme: Theme) {
    let popup = centered(area, 36, 3);
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(Line::styled("quit and stop the run? y/n", theme.warn()))
            .block(Block::bordered().title(" quit ")),
        popup,
    );
}
