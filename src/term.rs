//! The terminal: raw mode and the alternate screen, the guard that always restores them, the panic hook, the input thread.

use crossbeam_channel::{Receiver, Sender};
use crossterm::event::{self, DisableMouseCapture, Event as TermEvent, KeyEvent, MouseEvent, MouseEventKind};
use crossterm::terminal::{
    BeginSynchronizedUpdate, EndSynchronizedUpdate, EnterAlternateScreen, LeaveAlternateScreen,
    disable_raw_mode, enable_raw_mode,
};
use crossterm::{cursor, execute, queue};
use ratatui::Terminal;
use ratatui::backend::{CrosstermBackend, TestBackend};
use std::io::{self, Stdout, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// True while raw mode and the alternate screen are on.
static ACTIVE: AtomicBool = AtomicBool::new(false);
/// Whether [`TerminalGuard::enter`] asks the terminal for mouse reports (not under `--no-mouse`).
static MOUSE: AtomicBool = AtomicBool::new(true);

/// Sets whether the dashboards ask the terminal for mouse reports: `--no-mouse` turns them off
/// (the terminal then selects text on a plain drag, and the keys do everything).
pub fn set_mouse(on: bool) {
    MOUSE.store(on, Ordering::SeqCst);
}

/// Asks for clicks and the wheel only, in SGR form (xterm modes 1000 and 1006): no motion
/// reports, so a pointer moved over the dashboard costs nothing. Shift and a drag still
/// select text in xterm, kitty, iTerm2, GNOME Terminal and most others.
#[derive(Debug, Clone, Copy)]
struct EnableClicks;

impl crossterm::Command for EnableClicks {
    fn write_ansi(&self, out: &mut impl std::fmt::Write) -> std::fmt::Result {
        out.write_str("\x1b[?1000h\x1b[?1006h")
    }
}

/// How often the input thread checks its stop flag when no key arrives.
const INPUT_POLL: Duration = Duration::from_millis(100);

/// What the input thread reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A key press (releases and repeats are dropped).
    Key(KeyEvent),
    /// A click or a wheel turn (moves, drags and releases are dropped).
    Mouse(MouseEvent),
    /// The terminal changed size.
    Resize,
}

/// Owns raw mode and the alternate screen; dropping it restores the terminal.
#[derive(Debug)]
pub struct TerminalGuard {
    _private: (),
}

impl TerminalGuard {
    /// Enters raw mode and the alternate screen, hides the cursor and, unless
    /// [`set_mouse`]`(false)`, asks for mouse clicks and the wheel.
    ///
    /// # Errors
    /// When the terminal refuses raw mode or the escape sequences cannot be written.
    pub fn enter() -> io::Result<(Self, Terminal<CrosstermBackend<Stdout>>)> {
        install_panic_hook();
        enable_raw_mode()?;
        ACTIVE.store(true, Ordering::SeqCst);
        let guard = Self { _private: () };
        execute!(io::stdout(), EnterAlternateScreen, cursor::Hide)?;
        if MOUSE.load(Ordering::SeqCst) {
            execute!(io::stdout(), EnableClicks)?;
        }
        let terminal = Terminal::new(CrosstermBackend::new(io::stdout()))?;
        Ok((guard, terminal))
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}

/// Turns mouse reports off, leaves the alternate screen, shows the cursor and turns raw mode
/// off; safe to call twice. Every way out comes here: the guard's drop, the panic hook, and
/// the signal paths, which end the loop and so drop the guard.
pub fn restore() {
    if ACTIVE.swap(false, Ordering::SeqCst) {
        // Off whether or not it was asked for: a terminal left reporting clicks is unusable.
        let _ignored = execute!(
            io::stdout(),
            DisableMouseCapture,
            EndSynchronizedUpdate,
            LeaveAlternateScreen,
            cursor::Show
        );
        let _ignored = disable_raw_mode();
    }
}

/// Panics on background threads (not the UI thread, not pool workers), kept to be shown
/// in the result log and printed once the terminal is restored.
static BACKGROUND_PANICS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Sets what a panic does outside the pool's workers (which the pool's one hook keeps silent):
/// - on the UI (main) thread, or with the terminal already restored: restore the terminal,
///   then print the panic as usual;
/// - on any other thread (input, signals, submitter, an exec reader): record the message
///   for the dashboard instead of printing over it or tearing the screen down under it.
fn install_panic_hook() {
    poolwatch_core::panics::handle_other_threads(Box::new(|info, previous| {
        let thread = std::thread::current();
        let name = thread.name().unwrap_or("unnamed");
        if name == "main" || !ACTIVE.load(Ordering::SeqCst) {
            restore();
            previous(info);
            return;
        }
        let message = format!("thread '{name}' panicked: {info}");
        poolwatch_core::sync::lock(&BACKGROUND_PANICS).push(message);
    }));
}

/// Takes the panic messages recorded from background threads so far.
#[must_use]
pub fn take_background_panics() -> Vec<String> {
    std::mem::take(&mut *poolwatch_core::sync::lock(&BACKGROUND_PANICS))
}

/// Wraps each frame in a synchronized update where the backend supports it.
pub trait FrameSync {
    /// Called before a frame is drawn.
    ///
    /// # Errors
    /// When the backend cannot be written.
    fn begin_frame(&mut self) -> io::Result<()> {
        Ok(())
    }
    /// Called after a frame is drawn.
    ///
    /// # Errors
    /// When the backend cannot be written.
    fn end_frame(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<W: Write> FrameSync for CrosstermBackend<W> {
    fn begin_frame(&mut self) -> io::Result<()> {
        queue!(self, BeginSynchronizedUpdate)
    }
    fn end_frame(&mut self) -> io::Result<()> {
        execute!(self, EndSynchronizedUpdate)
    }
}

impl FrameSync for TestBackend {}

/// Starts the thread that reads keys and resizes until `stop` is set or the receiver is gone.
///
/// # Errors
/// When the thread cannot be spawned.
pub fn spawn_input_thread(stop: Arc<AtomicBool>) -> io::Result<Receiver<Input>> {
    let (tx, rx) = crossbeam_channel::unbounded();
    std::thread::Builder::new()
        .name("poolwatch-input".into())
        .spawn(move || read_input(&tx, &stop))?;
    Ok(rx)
}

fn read_input(tx: &Sender<Input>, stop: &AtomicBool) {
    while !stop.load(Ordering::Acquire) {
        match event::poll(INPUT_POLL) {
            Ok(false) => {}
            Ok(true) => {
                let input = match event::read() {
                    Ok(TermEvent::Key(key)) if key.is_press() => Some(Input::Key(key)),
                    Ok(TermEvent::Resize(..)) => Some(Input::Resize),
                    Ok(TermEvent::Mouse(mouse)) if wanted(&mouse) => Some(Input::Mouse(mouse)),
                    Ok(_) => None,
                    // The terminal is gone: dropping the sender tells the main loop.
                    Err(_) => return,
                };
                if let Some(input) = input
                    && tx.send(input).is_err()
                {
                    return;
                }
            }
            Err(_) => return,
        }
    }
}

/// Clicks and wheel turns; not moves, drags or releases.
fn wanted(mouse: &MouseEvent) -> bool {
    matches!(
        mouse.kind,
        MouseEventKind::Down(_) | MouseEventKind::ScrollUp | MouseEventKind::ScrollDown
    )
}

/// Colour is on unless `NO_COLOR` is set to a non-empty value (no-color.org).
#[must_use]
pub fn color_enabled(no_color: Option<&std::ffi::OsStr>) -> bool {
    no_color.is_none_or(|value| value.is_empty())
}

/// True when the dashboard should not be used: `--headless`, or stdout is not a terminal.
#[must_use]
pub fn wants_headless(cli: &crate::cli::Cli) -> bool {
    cli.headless || !std::io::IsTerminal::is_terminal(&std::io::stdout())
}

#[cfg(test)]
mod color_tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn no_color_set_and_non_empty_turns_colour_off() {
        assert!(color_enabled(None));
        assert!(color_enabled(Some(OsStr::new(""))));
        assert!(!color_enabled(Some(OsStr::new("1"))));
    }
}
