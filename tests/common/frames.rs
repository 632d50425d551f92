//! The dashboard drawn in-process on ratatui's `TestBackend`: the launcher's presets, keys as messages and inputs, a frame of an `App` at a size.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use poolwatch::internals::{App, Input, Msg, Preset, SearchSpec};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

/// The launcher's rows as a command line without a preset sees them: "Command line" (the
/// default needle search, 2 workers, halt now) first, then the shipped presets.
pub fn presets() -> Vec<Preset> {
    let command_line = Preset {
        name: "Command line".into(),
        description: "needle tasks=50000 needle=10000 sleep-ms=1 (2 workers, halt now)".into(),
        spec: SearchSpec::default(),
        workers: Some(2),
        halt: poolwatch::HaltPolicy::Now,
    };
    let mut all = vec![command_line];
    all.extend(Preset::shipped());
    all
}

/// `code` pressed without modifiers.
pub fn key_event(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

/// `code` pressed without modifiers, as a message to [`App::update`].
pub fn key(code: KeyCode) -> Msg {
    Msg::Key(key_event(code))
}

/// `code` pressed without modifiers, as an input to the dashboard's main loop.
pub fn key_input(code: KeyCode) -> Input {
    Input::Key(key_event(code))
}

/// Each character of `text` typed into `app`.
pub fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        app.update(key(KeyCode::Char(c)));
    }
}

/// One frame of `app` at `width` x `height`.
pub fn draw(app: &App, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("a test terminal");
    terminal
        .draw(|frame| {
            poolwatch::internals::render(frame, app);
        })
        .expect("draw a frame");
    terminal
}
