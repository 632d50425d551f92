//! The run form: a launcher row opened for editing, its fields read from the command line's definitions.

use super::{App, Command, Overlay};
use crate::form_schema::{self, Checked, Checker, FieldDef};
use crate::preset::Preset;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Rows before the search's fields: the run's name, then the search kind.
pub const FIXED_ROWS: usize = 2;

/// A run being edited.
#[derive(Debug, Clone, PartialEq)]
pub struct Form {
    /// The launcher row it was opened from (Esc goes back to it).
    pub origin: usize,
    /// The run's name (the preset name when saved).
    pub name: String,
    /// The searches: `(name, about)`.
    pub kinds: Vec<(String, String)>,
    /// The chosen search.
    pub kind: usize,
    /// Its fields, as the command line declares them.
    pub defs: Vec<FieldDef>,
    /// The text of each field; empty means the default.
    pub values: Vec<String>,
    /// The valid values of each field, probed through the checks.
    pub ranges: Vec<Option<String>>,
    /// The latest check of every field.
    pub checked: Checked,
    /// Each field's own check, kept so that a key press checks again only the field it changed.
    own_errors: Vec<Option<String>>,
    /// Highlighted row: 0 name, 1 search, then the fields.
    pub cursor: usize,
    /// While a row is being typed into: its text before the edit (Esc restores it).
    pub editing: Option<String>,
    /// Set when Enter or `s` met invalid fields.
    pub blocked: bool,
    /// The name, search and values it was opened with, to tell whether it was edited.
    opened: (String, usize, Vec<String>),
    /// Opened with `n` in the launcher: the saved preset's old name, whose file `s` replaces.
    pub renames: Option<String>,
}

impl Form {
    /// A form holding `preset`'s run.
    #[must_use]
    pub fn new(origin: usize, preset: &Preset) -> Self {
        let kinds = form_schema::kinds();
        let kind_name = preset.spec.kind();
        let kind = kinds.iter().position(|(name, _)| name == kind_name).unwrap_or(0);
        let defs = form_schema::fields(kind_name);
        let values = form_schema::values_of(preset, &defs);
        let mut form = Self {
            origin,
            name: preset.name.clone(),
            kinds,
            kind,
            defs,
            values,
            ranges: Vec::new(),
            checked: Checked {
                errors: Vec::new(),
                general: None,
                run: None,
            },
            own_errors: Vec::new(),
            cursor: FIXED_ROWS,
            editing: None,
            blocked: false,
            opened: (preset.name.clone(), kind, Vec::new()),
            renames: None,
        };
        form.opened.2.clone_from(&form.values);
        form.check_all();
        form
    }

    /// True when the name, the search or a field differs from what the form was opened with.
    #[must_use]
    pub fn is_edited(&self) -> bool {
        let (name, kind, values) = &self.opened;
        *name != self.name || *kind != self.kind || *values != self.values
    }

    /// The chosen search's name.
    #[must_use]
    pub fn kind_name(&self) -> &str {
        self.kinds.get(self.kind).map_or("", |(name, _)| name.as_str())
    }

    /// The equivalent command line, as words.
    #[must_use]
    pub fn argv(&self) -> Vec<String> {
        form_schema::argv(self.kind_name(), &self.defs, &self.values)
    }

    /// Rows in all.
    #[must_use]
    pub fn rows(&self) -> usize {
        FIXED_ROWS + self.defs.len()
    }

    /// Checks every field, then the whole form, and probes the valid ranges.
    fn check_all(&mut self) {
        Checker::with(|checker| {
            self.own_errors = checker.fields(self.kind_name(), &self.defs, &self.values);
            self.check_form(checker);
        });
        self.probe_ranges();
    }

    /// After the highlighted row's text changed: that field's own check (the others' are
    /// unchanged), then the whole form.
    fn check_row(&mut self) {
        Checker::with(|checker| {
            if let Some(index) = self.cursor.checked_sub(FIXED_ROWS)
                && let (Some(def), Some(value)) = (self.defs.get(index), self.values.get(index))
            {
                let own = checker.field(self.kind_name(), def, value);
                if let Some(slot) = self.own_errors.get_mut(index) {
                    *slot = own;
                }
            }
            self.check_form(checker);
        });
    }

    /// The whole form, from the fields' own checks.
    fn check_form(&mut self, checker: &mut Checker) {
        self.checked = checker.form(
            &self.name,
            self.kind_name(),
            &self.defs,
            &self.values,
            &self.own_errors,
        );
        if self.checked.run.is_some() {
            self.blocked = false;
        }
    }

    /// Probes each field's valid range with the others as they are, the invalid ones at their defaults.
    fn probe_ranges(&mut self) {
        let kind = self.kind_name().to_string();
        let base: Vec<String> = self
            .values
            .iter()
            .zip(&self.checked.errors)
            .map(|(value, error)| {
                if error.is_some() {
                    String::new()
                } else {
                    value.clone()
                }
            })
            .collect();
        self.ranges = (0..self.defs.len())
            .map(|index| match self.defs[index].id.as_str() {
                // Checked by the command line after parsing, on a plan without the search.
                "workers" => Some(form_schema::workers_range()),
                _ => {
                    let mut probe = base.clone();
                    probe[index].clone_from(&self.values[index]);
                    form_schema::valid_range(&kind, &self.defs, &probe, index)
                }
            })
            .collect();
    }

    /// The text of the highlighted row, if it is typed into.
    fn text_mut(&mut self) -> Option<&mut String> {
        match self.cursor {
            0 => Some(&mut self.name),
            1 => None,
            row => self.values.get_mut(row - FIXED_ROWS),
        }
    }

    fn choose_kind(&mut self, step: isize) {
        let count = self.kinds.len();
        if count == 0 {
            return;
        }
        self.kind = (self.kind + count).saturating_add_signed(step) % count;
        self.defs = form_schema::fields(self.kind_name());
        self.values = vec![String::new(); self.defs.len()];
        self.check_all();
    }

    /// A click on row `row`: an edit under way is kept, and the row is highlighted.
    pub(super) fn click(&mut self, row: usize) {
        if self.editing.is_some() {
            self.commit();
        }
        self.cursor = row.min(self.rows().saturating_sub(1));
    }

    fn move_cursor(&mut self, step: isize) {
        let last = self.rows().saturating_sub(1);
        self.cursor = self.cursor.saturating_add_signed(step).min(last);
    }

    fn begin_edit(&mut self, replace_with: Option<char>) {
        let Some(text) = self.text_mut() else { return };
        let before = text.clone();
        if let Some(first) = replace_with {
            *text = first.to_string();
        }
        self.editing = Some(before);
        if replace_with.is_some() {
            self.check_row();
        }
    }

    /// Ends the edit; the checks are up to date, the ranges follow the new value.
    fn commit(&mut self) {
        self.editing = None;
        self.probe_ranges();
    }

    /// Keys while a row is typed into.
    fn on_edit_key(&mut self, key: KeyEvent) {
        let control = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Esc => {
                let before = self.editing.take().unwrap_or_default();
                if let Some(text) = self.text_mut() {
                    *text = before;
                }
                self.check_row();
            }
            KeyCode::Enter => self.commit(),
            KeyCode::Tab | KeyCode::Down => {
                self.commit();
                self.move_cursor(1);
            }
            KeyCode::BackTab | KeyCode::Up => {
                self.commit();
                self.move_cursor(-1);
            }
            KeyCode::Backspace => {
                if let Some(text) = self.text_mut() {
                    text.pop();
                }
                self.check_row();
            }
            KeyCode::Char('u') if control => {
                if let Some(text) = self.text_mut() {
                    text.clear();
                }
                self.check_row();
            }
            KeyCode::Char(c) if !control => {
                if let Some(text) = self.text_mut() {
                    text.push(c);
                }
                self.check_row();
            }
            _ => {}
        }
    }
}

impl App {
    /// Opens the form on launcher row `cursor`.
    pub(super) fn open_form(&mut self, cursor: usize) -> Vec<Command> {
        if let Some(preset) = self.presets.get(cursor) {
            self.overlay = Overlay::Form(Box::new(Form::new(cursor, preset)));
        }
        Vec::new()
    }

    pub(super) fn on_form_key(&mut self, key: KeyEvent) -> Vec<Command> {
        let Overlay::Form(form) = &mut self.overlay else {
            return Vec::new();
        };
        if form.editing.is_some() {
            form.on_edit_key(key);
            return Vec::new();
        }
        match key.code {
            KeyCode::Up | KeyCode::Char('k') | KeyCode::BackTab => form.move_cursor(-1),
            KeyCode::Down | KeyCode::Char('j') | KeyCode::Tab => form.move_cursor(1),
            KeyCode::Left | KeyCode::Char('h') if form.cursor == 1 => form.choose_kind(-1),
            KeyCode::Right | KeyCode::Char('l') if form.cursor == 1 => form.choose_kind(1),
            KeyCode::Char('i') | KeyCode::F(2) => form.begin_edit(None),
            KeyCode::Char(c) if c.is_ascii_digit() || c == '.' || c == '-' => form.begin_edit(Some(c)),
            KeyCode::Backspace => {
                form.begin_edit(None);
                form.on_edit_key(key);
            }
            KeyCode::Esc => {
                let cursor = form.origin;
                self.overlay = Overlay::Launcher { cursor };
            }
            KeyCode::Char('q') => return self.ask_quit(),
            KeyCode::Enter => return self.launch_form(),
            KeyCode::Char('s') => return self.save_form(),
            _ => {}
        }
        Vec::new()
    }

    /// The form's run, or `None` (and the form marked blocked) when a field is invalid.
    fn form_run(&mut self) -> Option<Preset> {
        let Overlay::Form(form) = &mut self.overlay else {
            return None;
        };
        let run = form.checked.run.clone();
        form.blocked = run.is_none();
        run
    }

    fn launch_form(&mut self) -> Vec<Command> {
        let Some(run) = self.form_run() else {
            return Vec::new();
        };
        self.overlay = Overlay::None;
        self.selected = match self.presets.iter().position(|preset| *preset == run) {
            Some(index) => index,
            None => {
                self.presets.push(run.clone());
                self.presets.len() - 1
            }
        };
        vec![Command::Launch(Box::new(run))]
    }

    /// Opens the form on launcher row `cursor` to rename its saved preset: the name is
    /// highlighted, `s` saves it under the new name and deletes the old file.
    pub(super) fn open_rename(&mut self, cursor: usize) -> Vec<Command> {
        if cursor == 0 {
            self.info("the command-line run is not a saved preset: save it from the form (e, s)");
            return Vec::new();
        }
        if let Some(preset) = self.presets.get(cursor) {
            let mut form = Form::new(cursor, preset);
            form.cursor = 0;
            form.renames = Some(preset.name.clone());
            form.begin_edit(None);
            self.overlay = Overlay::Form(Box::new(form));
        }
        Vec::new()
    }

    fn save_form(&mut self) -> Vec<Command> {
        let renames = self.form().and_then(|form| form.renames.clone());
        let Some(run) = self.form_run() else {
            return Vec::new();
        };
        let mut commands = Vec::new();
        // A rename: the old file goes once the new one is written.
        if let Some(old) = renames.filter(|old| *old != run.name) {
            commands.push(Command::SavePreset(Box::new(run)));
            commands.push(Command::DeletePreset(old));
            if let Overlay::Form(form) = &mut self.overlay {
                form.renames = None;
            }
        } else {
            commands.push(Command::SavePreset(Box::new(run)));
        }
        commands
    }

    /// A saved preset's file was deleted: its launcher row goes (the last of that name: saved
    /// presets follow the shipped ones), the highlight and the selected run stay in range.
    pub(super) fn on_preset_deleted(&mut self, name: &str, path: &str) {
        self.info(format!("deleted preset {name:?} ({path})"));
        let Some(index) = self.presets.iter().skip(1).rposition(|p| p.name == name) else {
            return;
        };
        self.presets.remove(index + 1);
        let last = self.presets.len().saturating_sub(1);
        if self.selected > index {
            self.selected -= 1;
        }
        self.selected = self.selected.min(last);
        if let Overlay::Launcher { cursor } = &mut self.overlay {
            *cursor = (*cursor).min(last);
        }
    }

    /// A preset was saved: it joins the launcher (replacing one of the same name) and the log says where.
    pub(super) fn on_preset_saved(&mut self, preset: Preset, path: &str) {
        self.info(format!("saved preset {:?} to {path}", preset.name));
        match self.presets.iter().skip(1).position(|p| p.name == preset.name) {
            Some(index) => self.presets[index + 1] = preset,
            None => self.presets.push(preset),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::Msg;

    fn press(app: &mut App, code: KeyCode) -> Vec<Command> {
        app.update(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
    }

    fn type_text(app: &mut App, text: &str) {
        for c in text.chars() {
            press(app, KeyCode::Char(c));
        }
    }

    /// The launcher's pow preset open in the form, the cursor on --bits.
    fn on_bits() -> App {
        let mut app = App::new(Preset::shipped(), false);
        let pow = app.presets.iter().position(|p| p.spec.kind() == "pow").unwrap();
        app.overlay = Overlay::Launcher { cursor: pow };
        press(&mut app, KeyCode::Char('e'));
        press(&mut app, KeyCode::Down);
        press(&mut app, KeyCode::Down);
        app
    }

    #[test]
    fn invalid_fields_block_launch_and_save() {
        let mut app = on_bits();
        type_text(&mut app, "0");
        press(&mut app, KeyCode::Enter);
        assert!(press(&mut app, KeyCode::Enter).is_empty());
        assert!(press(&mut app, KeyCode::Char('s')).is_empty());
        assert!(app.form().unwrap().blocked);
    }

    #[test]
    fn esc_undoes_an_edit_and_enter_launches_the_edited_run() {
        let mut app = on_bits();
        type_text(&mut app, "99");
        press(&mut app, KeyCode::Esc);
        type_text(&mut app, "16");
        press(&mut app, KeyCode::Enter);
        let commands = press(&mut app, KeyCode::Char('s'));
        assert!(matches!(&commands[..], [Command::SavePreset(_)]), "{commands:?}");
        let commands = press(&mut app, KeyCode::Enter);
        let [Command::Launch(run)] = &commands[..] else {
            panic!("{commands:?}")
        };
        assert_eq!(serde_json::to_value(&run.spec).unwrap()["bits"], 16, "{run:?}");
        assert_eq!(app.overlay, Overlay::None);
        assert_eq!(
            app.selected_preset(),
            Some(run.as_ref()),
            "the edited run is selected"
        );
    }

    /// The form's check, made from scratch from what the form holds.
    fn checked_from_scratch(app: &App) -> Checked {
        let form = app.form().unwrap();
        form_schema::check(&form.name, form.kind_name(), &form.defs, &form.values)
    }

    #[test]
    fn a_key_parses_the_field_it_changed_and_then_the_whole_line_once() {
        let mut app = on_bits();
        // Every field holds a value: checking every field would parse each one's.
        let Overlay::Form(form) = &mut app.overlay else {
            panic!("the form is open")
        };
        for (def, value) in form.defs.iter().zip(form.values.iter_mut()) {
            if value.is_empty() {
                *value = match def.id.as_str() {
                    "data" => "abc",
                    "halt" => "soon",
                    _ => "2",
                }
                .to_string();
            }
        }
        form.check_all();
        // Per key: (the key, parses of its field's value, parses of the whole command line).
        let keys = [
            (KeyCode::Char('1'), 1, 1),
            (KeyCode::Char('6'), 1, 1),
            // An invalid field: the whole line is not parsed.
            (KeyCode::Char('x'), 1, 0),
            (KeyCode::Backspace, 1, 1),
            (KeyCode::Enter, 0, 0),
            (KeyCode::Up, 0, 0),
            (KeyCode::Up, 0, 0),
            (KeyCode::Up, 0, 0),
            (KeyCode::Up, 0, 0),
            // The name: no field of the command line changes.
            (KeyCode::Char('i'), 0, 0),
            (KeyCode::Char('z'), 0, 1),
            (KeyCode::Esc, 0, 1),
        ];
        for (code, field, whole) in keys {
            let before = form_schema::parses();
            press(&mut app, code);
            // Enter also probes the valid ranges, which parse many times.
            if code != KeyCode::Enter {
                assert_eq!(form_schema::parses() - before, field + whole, "{code:?}");
            }
            assert_eq!(
                app.form().unwrap().checked,
                checked_from_scratch(&app),
                "after {code:?}, the same messages as a check from scratch"
            );
        }
        let form = app.form().unwrap();
        assert_eq!(form.values[2], "16", "{form:?}");
        assert_eq!(form.cursor, 0);
    }

    #[test]
    fn another_search_brings_its_own_fields() {
        let mut app = on_bits();
        for _ in 0..3 {
            press(&mut app, KeyCode::Up);
        }
        press(&mut app, KeyCode::Left);
        let form = app.form().unwrap();
        assert_eq!(form.kind_name(), "needle");
        let ids: Vec<&str> = form.defs.iter().map(|def| def.id.as_str()).collect();
        assert_eq!(
            ids,
            ["tasks", "needle", "sleep_ms", "panic_every", "workers", "halt"]
        );
        assert!(form.checked.run.is_some());
    }
}
