//! The mouse, for `App::update`: a click or a wheel turn at a cell, mapped through the areas
//! the last frame reported ([`Drawn::hits`](super::Drawn)) to focus, a selection or the key a
//! footer hint names. Pure: the areas come in a message, nothing is measured here.

use super::{App, Command, Focus, Overlay};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::{Position, Rect};

/// Lines one notch of the wheel scrolls.
pub const WHEEL_LINES: isize = 3;

/// What the mouse did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MouseKind {
    /// The left button went down.
    Click,
    /// The wheel turned up (toward the top).
    WheelUp,
    /// The wheel turned down.
    WheelDown,
}

impl MouseKind {
    /// The kind of a terminal mouse event worth a message (moves, drags and releases are not).
    #[must_use]
    pub fn of(event: &MouseEvent) -> Option<Self> {
        match event.kind {
            MouseEventKind::Down(MouseButton::Left) => Some(Self::Click),
            MouseEventKind::ScrollUp => Some(Self::WheelUp),
            MouseEventKind::ScrollDown => Some(Self::WheelDown),
            _ => None,
        }
    }
}

/// What was drawn at a place on the screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A panel the keys can focus: the result log or the workers (shards) table.
    Panel(Focus),
    /// A worker's row (by its number) or a shard's (by its index).
    Row(u64),
    /// A result line: its place among the lines the log shows, newest first.
    LogLine(usize),
    /// A footer hint: clicking it presses its key.
    Key(KeyCode),
    /// A row of an overlay's list: a preset, a run of the history or a form field.
    Item(usize),
    /// An overlay's box: clicks inside it stay in it.
    Overlay,
}

/// One clickable area of the last frame; later ones lie on top of earlier ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    /// Where on the screen.
    pub area: Rect,
    /// What is there.
    pub target: Target,
}

impl App {
    /// The topmost targets at column `x`, row `y` of the last frame, topmost first.
    fn targets_at(&self, x: u16, y: u16) -> Vec<Target> {
        self.hits
            .iter()
            .rev()
            .filter(|hit| hit.area.contains(Position::new(x, y)))
            .map(|hit| hit.target)
            .collect()
    }

    pub(super) fn on_mouse(&mut self, kind: MouseKind, x: u16, y: u16) -> Vec<Command> {
        let targets = self.targets_at(x, y);
        if !matches!(self.overlay, Overlay::None) {
            return self.on_overlay_mouse(kind, &targets);
        }
        let Some(&top) = targets.first() else {
            return Vec::new();
        };
        let panel = targets.iter().find_map(|target| match target {
            Target::Panel(focus) => Some(*focus),
            _ => None,
        });
        match (kind, top) {
            (MouseKind::Click, Target::Key(code)) => self.on_key(KeyEvent::new(code, KeyModifiers::NONE)),
            (MouseKind::Click, target) => {
                if let Some(focus) = panel {
                    self.focus = focus;
                }
                match target {
                    Target::Row(id) => self.selected_row = Some(id),
                    Target::LogLine(line) => self.log.selected = Some(line),
                    _ => {}
                }
                Vec::new()
            }
            (wheel, _) => {
                let step = if wheel == MouseKind::WheelUp {
                    -WHEEL_LINES
                } else {
                    WHEEL_LINES
                };
                match panel {
                    Some(Focus::Log) => self.log.scroll_by(step),
                    Some(Focus::Workers) => self.scroll_workers(step),
                    None => {}
                }
                Vec::new()
            }
        }
    }

    /// A click or wheel turn while an overlay is open: the wheel moves its highlight, a click
    /// on a row highlights it, a click outside a list overlay closes it as Esc would.
    fn on_overlay_mouse(&mut self, kind: MouseKind, targets: &[Target]) -> Vec<Command> {
        let key = |code| KeyEvent::new(code, KeyModifiers::NONE);
        match kind {
            MouseKind::WheelUp => return self.on_key(key(KeyCode::Up)),
            MouseKind::WheelDown => return self.on_key(key(KeyCode::Down)),
            MouseKind::Click => {}
        }
        let item = targets.iter().find_map(|target| match target {
            Target::Item(index) => Some(*index),
            _ => None,
        });
        let inside = targets.contains(&Target::Overlay);
        match (&mut self.overlay, item) {
            (Overlay::Launcher { cursor }, Some(index)) => *cursor = index,
            (Overlay::Runs, Some(index)) => self.history.cursor = index,
            (Overlay::Form(form), Some(index)) => form.click(index),
            (Overlay::Help | Overlay::Launcher { .. } | Overlay::Runs, None) if !inside => {
                self.overlay = Overlay::None;
            }
            _ => {}
        }
        Vec::new()
    }
}
