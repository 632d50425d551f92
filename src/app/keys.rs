//! Key handling for `App::update`: overlays first, then the dashboard's hotkeys.

use super::{App, Command, Focus, Overlay, PAGE, Phase};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

impl App {
    pub(super) fn on_key(&mut self, key: KeyEvent) -> Vec<Command> {
        if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
            // Immediate, like SIGINT in headless mode: no question asked.
            self.quit = true;
            return vec![Command::Interrupt];
        }
        match self.overlay {
            Overlay::Help => self.on_help_key(key.code),
            Overlay::Launcher { cursor } => self.on_launcher_key(key.code, cursor),
            Overlay::Form(_) => self.on_form_key(key),
            Overlay::Runs => self.on_runs_key(key.code),
            Overlay::ConfirmQuit => self.on_confirm_key(key.code),
            Overlay::None => self.on_main_key(key.code),
        }
    }

    fn on_confirm_key(&mut self, code: KeyCode) -> Vec<Command> {
        match code {
            KeyCode::Char('y' | 'Y') => {
                self.overlay = Overlay::None;
                self.quit_back = None;
                self.quit_commands()
            }
            KeyCode::Char('n' | 'N') | KeyCode::Esc => {
                self.overlay = self.quit_back.take().map_or(Overlay::None, Overlay::Form);
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    fn on_help_key(&mut self, code: KeyCode) -> Vec<Command> {
        match code {
            KeyCode::Char('q') => self.ask_quit(),
            KeyCode::Char('?') | KeyCode::Esc | KeyCode::Enter => {
                self.overlay = Overlay::None;
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    fn on_launcher_key(&mut self, code: KeyCode, cursor: usize) -> Vec<Command> {
        if let Some(row) = self.deleting.take() {
            return self.on_delete_answer(code, row);
        }
        let last = self.presets.len().saturating_sub(1);
        match code {
            KeyCode::Char('d') | KeyCode::Delete if cursor == 0 => {
                self.info("the command-line run is not a saved preset: nothing to delete");
            }
            KeyCode::Char('d') | KeyCode::Delete => self.deleting = Some(cursor),
            KeyCode::Char('n') => return self.open_rename(cursor),
            KeyCode::Up | KeyCode::Char('k') => {
                self.overlay = Overlay::Launcher {
                    cursor: cursor.saturating_sub(1),
                }
            }
            KeyCode::Down | KeyCode::Char('j') => {
                self.overlay = Overlay::Launcher {
                    cursor: (cursor + 1).min(last),
                }
            }
            KeyCode::Esc | KeyCode::Char('l') => self.overlay = Overlay::None,
            KeyCode::Char('q') => return self.ask_quit(),
            KeyCode::Char('e') => return self.open_form(cursor),
            KeyCode::Enter => {
                self.overlay = Overlay::None;
                if let Some(preset) = self.presets.get(cursor) {
                    self.selected = cursor;
                    return vec![Command::Launch(Box::new(preset.clone()))];
                }
            }
            _ => {}
        }
        Vec::new()
    }

    /// `y` deletes launcher row `row`'s saved file; any other key keeps it.
    fn on_delete_answer(&mut self, code: KeyCode, row: usize) -> Vec<Command> {
        match (code, self.presets.get(row)) {
            (KeyCode::Char('y' | 'Y'), Some(preset)) => vec![Command::DeletePreset(preset.name.clone())],
            _ => Vec::new(),
        }
    }

    fn on_main_key(&mut self, code: KeyCode) -> Vec<Command> {
        match code {
            KeyCode::Char('q') | KeyCode::Esc => self.ask_quit(),
            KeyCode::Char('?') => {
                self.overlay = Overlay::Help;
                Vec::new()
            }
            KeyCode::Char('l') => {
                self.overlay = Overlay::Launcher {
                    cursor: self.selected,
                };
                Vec::new()
            }
            KeyCode::Char('r') => self.open_runs(),
            // What `?` says: the selected run, in the form (a live run keeps running meanwhile).
            KeyCode::Char('e') => self.open_form(self.selected),
            KeyCode::Enter if !self.phase.is_live() => self
                .selected_preset()
                .cloned()
                .map(|preset| Command::Launch(Box::new(preset)))
                .into_iter()
                .collect(),
            KeyCode::Char('p' | ' ') => self.toggle_pause(),
            KeyCode::Char('t') if self.phase.is_live() => {
                self.info("terminate requested (t)");
                vec![Command::HaltNow]
            }
            KeyCode::Char('f') if matches!(self.phase, Phase::Running | Phase::Paused) => {
                self.info("finish requested (f): running tasks complete");
                vec![Command::HaltSoon]
            }
            KeyCode::Char('+' | '=') => self.resize_by(1),
            KeyCode::Char('-' | '_') => self.resize_by(-1),
            KeyCode::Up | KeyCode::Char('k') => self.scroll(-1),
            KeyCode::Down | KeyCode::Char('j') => self.scroll(1),
            KeyCode::PageUp => self.scroll(-PAGE),
            KeyCode::PageDown => self.scroll(PAGE),
            KeyCode::Char('m') => {
                self.log.toggle_filter();
                Vec::new()
            }
            KeyCode::Tab | KeyCode::BackTab => {
                self.focus = match self.focus {
                    Focus::Log => Focus::Workers,
                    Focus::Workers => Focus::Log,
                };
                Vec::new()
            }
            KeyCode::Char('s') => {
                self.workers_sort = self.workers_sort.next();
                self.workers_scroll = 0;
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    fn toggle_pause(&mut self) -> Vec<Command> {
        match self.phase {
            Phase::Running => {
                self.phase = Phase::Paused;
                self.info("paused: workers finish what they hold");
                vec![Command::Pause]
            }
            Phase::Paused => {
                self.phase = Phase::Running;
                self.info("resumed");
                vec![Command::Resume]
            }
            _ => Vec::new(),
        }
    }

    fn resize_by(&mut self, delta: isize) -> Vec<Command> {
        match self.phase {
            Phase::Running | Phase::Paused => {}
            Phase::Halting => {
                self.info("workers: the run is halting; the next run's count is set in the form (e)");
                return Vec::new();
            }
            _ => {
                self.resize_next_run(delta);
                return Vec::new();
            }
        }
        let current = self.snapshot.as_ref().map_or(1, |s| s.target_workers);
        let wanted = current
            .saturating_add_signed(delta)
            .clamp(1, poolwatch_core::MAX_WORKERS);
        if wanted == current {
            return Vec::new();
        }
        if let Some(snapshot) = self.snapshot.as_mut() {
            snapshot.target_workers = wanted;
        }
        self.info(format!("workers: {current} -> {wanted}"));
        vec![Command::SetWorkers(wanted)]
    }

    /// `+`/`-` with no run live: the selected run's worker count, for its next launch.
    fn resize_next_run(&mut self, delta: isize) {
        let Some(preset) = self.presets.get_mut(self.selected) else {
            self.info("workers: no run selected (l picks one)");
            return;
        };
        let current = preset.worker_count();
        let wanted = current
            .saturating_add_signed(delta)
            .clamp(1, poolwatch_core::MAX_WORKERS);
        if wanted == current {
            self.info(format!("workers: {current} is the limit"));
            return;
        }
        preset.workers = Some(wanted);
        self.info(format!("workers for the next run: {current} -> {wanted}"));
    }

    fn scroll(&mut self, delta: isize) -> Vec<Command> {
        match self.focus {
            Focus::Log => self.log.scroll_by(delta),
            Focus::Workers => self.scroll_workers(delta),
        }
        Vec::new()
    }

    /// Scrolls the workers (or shards) table by `delta` rows, within what was last drawn.
    pub(super) fn scroll_workers(&mut self, delta: isize) {
        self.workers_scroll = self
            .workers_scroll
            .saturating_add_signed(delta)
            .min(self.workers_scroll_limit());
    }
}
