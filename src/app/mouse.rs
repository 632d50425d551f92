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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::{Drawn, Msg, Phase};
    use poolwatch_core::{Snapshot, WorkerRow};
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    /// Draws `app` at 120x40 as the main loop does, telling it what was drawn; returns the screen.
    fn frame(app: &mut App) -> String {
        let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
        let mut drawn = Drawn::default();
        terminal
            .draw(|frame| drawn = crate::ui::render(frame, app))
            .unwrap();
        app.update(Msg::Drawn(drawn));
        terminal.backend().to_string()
    }

    /// Where `text` first shows on `screen` (0-based column, row).
    fn find(screen: &str, text: &str) -> (u16, u16) {
        screen
            .lines()
            .enumerate()
            .find_map(|(row, line)| {
                let byte = line.find(text)?;
                let column = line[..byte].chars().count() - 1;
                Some((u16::try_from(column).ok()?, u16::try_from(row).ok()?))
            })
            .unwrap_or_else(|| panic!("{text:?} not on\n{screen}"))
    }

    fn running(workers: usize) -> App {
        let mut app = App::new(Vec::new(), false);
        app.phase = Phase::Running;
        let workers = (0..workers)
            .map(|id| WorkerRow {
                id,
                ..WorkerRow::default()
            })
            .collect();
        app.update(Msg::Frame(Snapshot {
            workers,
            target_workers: 1,
            ..Snapshot::default()
        }));
        for line in 0..20 {
            app.info(format!("line {line}"));
        }
        app
    }

    #[test]
    fn the_wheel_scrolls_the_panel_under_the_pointer_and_a_click_selects_a_row() {
        let mut app = running(12);
        let screen = frame(&mut app);
        let (x, y) = find(&screen, "workers:");
        app.update(Msg::Mouse(MouseKind::WheelDown, x, y + 3));
        assert_eq!(app.workers_scroll, 3, "the workers table scrolled");
        assert_eq!(app.log.scroll, 0, "not the log");
        let (x, y) = find(&screen, "results:");
        app.update(Msg::Mouse(MouseKind::WheelDown, x + 5, y + 2));
        assert_eq!(app.log.scroll, 3);
        assert_eq!(app.focus, Focus::Log, "the wheel does not move the focus");

        let screen = frame(&mut app);
        let (x, y) = find(&screen, "workers:");
        // The fourth row down, scrolled 3: worker 3.
        app.update(Msg::Mouse(MouseKind::Click, x + 1, y + 2));
        assert_eq!(app.selected_row, Some(3));
        assert_eq!(app.focus, Focus::Workers);
        let (x, y) = find(&screen, "results:");
        app.update(Msg::Mouse(MouseKind::Click, x + 5, y + 2));
        assert_eq!(app.focus, Focus::Log);
        assert_eq!(app.log.selected, Some(4), "the second line shown, scrolled 3");
    }

    #[test]
    fn a_click_on_a_footer_hint_presses_its_key() {
        let mut app = running(2);
        let screen = frame(&mut app);
        let (x, y) = find(&screen, "t terminate");
        assert_eq!(
            app.update(Msg::Mouse(MouseKind::Click, x + 1, y)),
            [Command::HaltNow]
        );
        let (x, y) = find(&screen, "+/- workers");
        // `+/-`: the `+` adds a worker, the rest of the hint removes one.
        app.update(Msg::Mouse(MouseKind::Click, x, y));
        assert_eq!(app.snapshot.as_ref().map(|s| s.target_workers), Some(2));
        app.update(Msg::Mouse(MouseKind::Click, x + 2, y));
        assert_eq!(app.snapshot.as_ref().map(|s| s.target_workers), Some(1));
        let (x, y) = find(&screen, "? help");
        app.update(Msg::Mouse(MouseKind::Click, x + 1, y));
        assert_eq!(app.overlay, Overlay::Help);
        // A click outside the help closes it.
        app.update(Msg::Mouse(MouseKind::Click, 0, 0));
        assert_eq!(app.overlay, Overlay::None);
    }

    #[test]
    fn in_watch_a_click_selects_a_shard_and_the_wheel_scrolls_the_shards() {
        let mut app = running(0);
        app.shards = Some(
            (0..20)
                .map(|shard| crate::app::ShardRow {
                    shard,
                    host: format!("node{shard}"),
                    state: "running".to_string(),
                    completed: 0,
                    total: 100,
                    matches: 0,
                    errors: 0,
                    rate: 1.0,
                    last_heard_s: 0.5,
                    silent: false,
                    exit_code: None,
                    log: format!("shard{shard}.jsonl"),
                })
                .collect(),
        );
        let screen = frame(&mut app);
        let (x, y) = find(&screen, "node2 ");
        app.update(Msg::Mouse(MouseKind::Click, x, y));
        assert_eq!(app.selected_row, Some(2));
        assert_eq!(app.focus, Focus::Workers);
        app.update(Msg::Mouse(MouseKind::WheelDown, x, y));
        assert_eq!(app.workers_scroll, 3);
        let screen = frame(&mut app);
        assert!(!screen.contains("node2 "), "scrolled past shard 2:\n{screen}");
    }
}
