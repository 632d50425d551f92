//! The built poolwatch in a pseudo-terminal: keys in, the screen read back through a vt100 parser.

use portable_pty::{Child, CommandBuilder, ExitStatus, MasterPty, PtySize, native_pty_system};
use std::io::{Read, Write};
use std::num::NonZeroU16;
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Rows of the pseudo-terminal.
pub const ROWS: u16 = 40;
/// Columns of the pseudo-terminal.
pub const COLS: u16 = 120;
/// How long a session waits for a screen or an exit: the whole binary on a loaded machine,
/// sometimes with a cluster behind it.
pub const PTY_PATIENCE: Duration = Duration::from_secs(60);
/// How often the screen is read while waiting (each read locks the parser).
const SCREEN_POLL: Duration = Duration::from_millis(50);
/// Time a key is given to be read and drawn before the next one (a lone Esc must not run
/// into the next key, and a screen read after it must show its effect).
const KEY_SETTLE: Duration = Duration::from_millis(100);

/// The built poolwatch with `args`, in a colour terminal (`TERM` set, `NO_COLOR` unset), ready
/// for more arguments, environment or a working directory before [`Pty::spawn`].
pub fn poolwatch_command(args: &[&str]) -> CommandBuilder {
    let mut command = CommandBuilder::new(assert_cmd::cargo::cargo_bin("poolwatch"));
    command.args(args);
    command.env("TERM", "xterm-256color");
    command.env_remove("NO_COLOR");
    command
}

/// A running poolwatch in a pty, with everything it wrote parsed into a screen.
pub struct Pty {
    child: Box<dyn Child + Send + Sync>,
    writer: Box<dyn Write + Send>,
    parser: Arc<Mutex<vt100::Parser>>,
    /// Signalled when the reader thread has read everything poolwatch wrote (end of the pty).
    read_all: Receiver<()>,
    _master: Box<dyn MasterPty + Send>,
}

impl Pty {
    /// Starts poolwatch with `args` in a [`ROWS`] x [`COLS`] pty.
    pub fn start(args: &[&str]) -> Self {
        Self::spawn(poolwatch_command(args))
    }

    /// Starts `command` (see [`poolwatch_command`]) in a [`ROWS`] x [`COLS`] pty.
    pub fn spawn(command: CommandBuilder) -> Self {
        let size = PtySize {
            rows: ROWS,
            cols: COLS,
            pixel_width: 0,
            pixel_height: 0,
        };
        let pair = native_pty_system().openpty(size).expect("open a pty");
        let child = pair.slave.spawn_command(command).expect("spawn poolwatch");
        drop(pair.slave);
        let reader = pair.master.try_clone_reader().expect("pty reader");
        let writer = pair.master.take_writer().expect("pty writer");
        let rows = NonZeroU16::new(ROWS).expect("ROWS is not 0");
        let cols = NonZeroU16::new(COLS).expect("COLS is not 0");
        let parser = Arc::new(Mutex::new(vt100::Parser::new(rows, cols, 0)));
        let read_all = read_into(reader, Arc::clone(&parser));
        Self {
            child,
            writer,
            parser,
            read_all,
            _master: pair.master,
        }
    }

    /// poolwatch's process id.
    pub fn pid(&self) -> u32 {
        self.child.process_id().expect("poolwatch has a pid")
    }

    /// True while poolwatch has not exited.
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().expect("poll poolwatch").is_none()
    }

    /// The screen's text now.
    pub fn screen(&self) -> String {
        self.parser.lock().expect("parser lock").screen().contents()
    }

    /// True while poolwatch draws on the alternate screen.
    pub fn alternate_screen(&self) -> bool {
        self.parser
            .lock()
            .expect("parser lock")
            .screen()
            .alternate_screen()
    }

    /// Waits until `done` holds for the screen and returns that screen; panics naming `what`,
    /// with the screen, after [`PTY_PATIENCE`].
    pub fn wait_until(&self, what: &str, mut done: impl FnMut(&str) -> bool) -> String {
        super::poll_within(PTY_PATIENCE, SCREEN_POLL, || {
            let screen = self.screen();
            done(&screen).then_some(screen)
        })
        .unwrap_or_else(|| panic!("timed out waiting for {what}; screen:\n{}", self.screen()))
    }

    /// Waits until the screen shows `text`, and returns it.
    pub fn wait_for(&self, text: &str) -> String {
        self.wait_until(&format!("{text:?}"), |screen| screen.contains(text))
    }

    /// Waits until the screen no longer shows `text`.
    pub fn wait_gone(&self, text: &str) {
        self.wait_until(&format!("{text:?} to go"), |screen| !screen.contains(text));
    }

    /// Types `keys`, then gives them time to be read and drawn.
    pub fn press(&mut self, keys: &str) {
        self.writer.write_all(keys.as_bytes()).expect("write keys");
        self.writer.flush().expect("flush keys");
        std::thread::sleep(KEY_SETTLE);
    }

    /// Waits for poolwatch to exit and for the last of its output to be parsed.
    pub fn wait_exit(&mut self) -> ExitStatus {
        let status = super::poll_within(PTY_PATIENCE, SCREEN_POLL, || {
            self.child.try_wait().expect("poll poolwatch")
        })
        .unwrap_or_else(|| panic!("poolwatch did not exit; screen:\n{}", self.screen()));
        // The reader thread ends at the end of the pty, once it has parsed everything.
        let _ = self.read_all.recv_timeout(PTY_PATIENCE);
        status
    }

    /// Sends `signal` to poolwatch, waits for it to exit and checks the terminal was restored.
    pub fn signal_and_wait(&mut self, signal: i32) -> ExitStatus {
        let pid = i32::try_from(self.pid()).expect("a pid fits in pid_t");
        // SAFETY: signalling the child this session started.
        unsafe { libc::kill(pid, signal) };
        let status = self.wait_exit();
        self.assert_terminal_restored();
        status
    }

    /// Asserts poolwatch left the alternate screen and showed the cursor again.
    pub fn assert_terminal_restored(&self) {
        let parser = self.parser.lock().expect("parser lock");
        assert!(
            !parser.screen().alternate_screen(),
            "still on the alternate screen"
        );
        assert!(!parser.screen().hide_cursor(), "cursor left hidden");
        assert_eq!(
            parser.screen().mouse_protocol_mode(),
            vt100::MouseProtocolMode::None,
            "mouse reports left on"
        );
    }

    /// True while poolwatch asks the terminal for mouse reports.
    pub fn mouse_reported(&self) -> bool {
        let parser = self.parser.lock().expect("parser lock");
        parser.screen().mouse_protocol_mode() != vt100::MouseProtocolMode::None
    }

    /// The 0-based column and row where `text` first shows on the screen.
    pub fn find(&self, text: &str) -> Option<(u16, u16)> {
        let screen = self.screen();
        screen.lines().enumerate().find_map(|(row, line)| {
            let byte = line.find(text)?;
            let column = line[..byte].chars().count();
            Some((u16::try_from(column).ok()?, u16::try_from(row).ok()?))
        })
    }

    /// True when the cell at 0-based `column`, `row` is drawn in reverse video (a highlight).
    pub fn reversed_at(&self, column: u16, row: u16) -> bool {
        let parser = self.parser.lock().expect("parser lock");
        parser
            .screen()
            .cell(row, column)
            .is_some_and(vt100::Cell::inverse)
    }

    /// A left click at 0-based `column`, `row`, as an SGR mouse report (press, then release).
    pub fn click(&mut self, column: u16, row: u16) {
        let (x, y) = (column + 1, row + 1);
        self.press(&format!("\x1b[<0;{x};{y}M\x1b[<0;{x};{y}m"));
    }

    /// One notch of the wheel, down (`true`) or up, at 0-based `column`, `row`.
    pub fn wheel(&mut self, down: bool, column: u16, row: u16) {
        let button = if down { 65 } else { 64 };
        self.press(&format!("\x1b[<{button};{};{}M", column + 1, row + 1));
    }
}

/// Feeds everything `reader` yields into `parser` on a thread; the receiver is signalled at
/// the end of the pty.
fn read_into(mut reader: Box<dyn Read + Send>, parser: Arc<Mutex<vt100::Parser>>) -> Receiver<()> {
    let (done, read_all) = channel();
    std::thread::spawn(move || {
        let mut buffer = [0u8; 8192];
        while let Ok(read) = reader.read(&mut buffer) {
            if read == 0 {
                break;
            }
            parser.lock().expect("parser lock").process(&buffer[..read]);
        }
        let _ = done.send(());
    });
    read_all
}
