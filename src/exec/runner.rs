//! Runs one command in its own process group, captures its output, and kills the whole group on cancel or timeout.

use crate::cancel::CancelToken;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Bytes kept of each of stdout and stderr; the rest is read and dropped.
pub const CAPTURE_LIMIT: usize = 1 << 20;
/// Longest wait between looks at the cancel token and the timeout.
const SLICE: Duration = Duration::from_millis(5);
/// How long after SIGKILL a group may take to vanish before we stop waiting for it.
const AFTER_KILL: Duration = Duration::from_secs(2);

/// Limits on one command.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Wall-time limit, if any.
    pub timeout: Option<Duration>,
    /// Time between SIGTERM and SIGKILL.
    pub grace: Duration,
}

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// It exited (or died of a signal) by itself.
    Exited(ExitStatus),
    /// It ran past the timeout and its group was killed.
    TimedOut,
    /// The run was cancelled and its group was killed.
    Cancelled,
}

/// A finished command: how it ended and the start of its output.
#[derive(Debug)]
pub struct Finished {
    /// How it ended.
    pub ending: Ending,
    /// The first [`CAPTURE_LIMIT`] bytes of stdout.
    pub stdout: Vec<u8>,
    /// The first [`CAPTURE_LIMIT`] bytes of stderr.
    pub stderr: Vec<u8>,
}

/// Why a command could not be run to its end.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// It could not be started (the program is missing, not executable...).
    #[error("cannot start: {0}")]
    Spawn(#[source] io::Error),
    /// It started but could not be followed to its end.
    #[error("lost track of the command: {0}")]
    Follow(#[source] io::Error),
}

/// Runs `argv` in a new process group with stdin null and stdout/stderr captured,
/// calls `on_spawn` with its pid, and returns once the command and every process
/// left in its group are gone.
///
/// # Errors
/// [`RunError::Spawn`] when the command cannot be started, [`RunError::Follow`] in
/// the unlikely case that it cannot be waited for or killed.
pub fn run(
    argv: &[String],
    limits: Limits,
    cancel: &CancelToken,
    on_spawn: impl FnOnce(u32),
) -> Result<Finished, RunError> {
    let (program, args) = argv
        .split_first()
        .ok_or_else(|| RunError::Spawn(io::Error::new(io::ErrorKind::InvalidInput, "empty command")))?;
    let mut child = Command::new(program)
        .args(args)
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(RunError::Spawn)?;
    on_spawn(child.id());
    let mut watch = match Watch::new(&mut child, limits) {
        Ok(watch) => watch,
        Err(err) => {
            // Cannot follow it: do not leave it behind either.
            signal_group(libc::pid_t::try_from(child.id()).unwrap_or(0), libc::SIGKILL);
            let _reaped = child.wait();
            return Err(RunError::Follow(err));
        }
    };
    let ending = watch.follow(&mut child, cancel).map_err(RunError::Follow)?;
    Ok(Finished {
        ending,
        stdout: watch.out.captured,
        stderr: watch.err.captured,
    })
}

/// Why we started killing the group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    Cancelled,
    TimedOut,
    /// The leader exited and left processes behind in its group.
    Leftovers,
}

/// One running command: its pipes, its exit and the kill escalation.
struct Watch {
    pgid: libc::pid_t,
    out: Pipe,
    err: Pipe,
    exit_fd: Option<OwnedFd>,
    started: Instant,
    limits: Limits,
    kill: Killer,
}

impl Watch {
    fn new(child: &mut Child, limits: Limits) -> io::Result<Self> {
        let pgid = libc::pid_t::try_from(child.id()).map_err(io::Error::other)?;
        Ok(Self {
            pgid,
            out: Pipe::new(child.stdout.take().map(OwnedFd::from))?,
            err: Pipe::new(child.stderr.take().map(OwnedFd::from))?,
            exit_fd: pidfd_open(pgid),
            started: Instant::now(),
            limits,
            kill: Killer::new(pgid, limits.grace),
        })
    }

    /// Reads output and watches exit, cancel and timeout until the group is gone.
    fn follow(&mut self, child: &mut Child, cancel: &CancelToken) -> io::Result<Ending> {
        let mut exit: Option<ExitStatus> = None;
        let mut stop: Option<Stop> = None;
        loop {
            self.wait_for_news(exit.is_none());
            self.out.drain();
            self.err.drain();
            if exit.is_none() {
                exit = child.try_wait()?;
                if exit.is_some() {
                    self.exit_fd = None;
                }
            }
            if exit.is_some() {
                // The leader is reaped: an empty group is truly gone (a zombie would still count).
                if !group_alive(self.pgid) {
                    break;
                }
                stop.get_or_insert(Stop::Leftovers);
                self.kill.start();
            } else if stop.is_none() {
                stop = self.stop_reason(cancel);
                if stop.is_some() {
                    self.kill.start();
                }
            }
            if self.kill.step() {
                break;
            }
        }
        self.out.drain();
        self.err.drain();
        match (stop, exit) {
            (Some(Stop::Cancelled), _) => Ok(Ending::Cancelled),
            (Some(Stop::TimedOut), _) => Ok(Ending::TimedOut),
            (_, Some(status)) => Ok(Ending::Exited(status)),
            (_, None) => Err(io::Error::other("the command could not be killed")),
        }
    }

    fn stop_reason(&self, cancel: &CancelToken) -> Option<Stop> {
        if cancel.is_cancelled() {
            return Some(Stop::Cancelled);
        }
        let timed_out = self
            .limits
            .timeout
            .is_some_and(|limit| self.started.elapsed() >= limit);
        timed_out.then_some(Stop::TimedOut)
    }

    /// Sleeps until output arrives, a pipe closes, the leader exits, or a slice passes.
    fn wait_for_news(&self, watch_exit: bool) {
        let mut fds: Vec<libc::pollfd> = [self.out.fd(), self.err.fd()]
            .into_iter()
            .flatten()
            .chain(
                self.exit_fd
                    .as_ref()
                    .filter(|_| watch_exit)
                    .map(AsRawFd::as_raw_fd),
            )
            .map(|fd| libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            })
            .collect();
        let slice_ms = libc::c_int::try_from(SLICE.as_millis()).unwrap_or(5);
        let count = libc::nfds_t::try_from(fds.len()).unwrap_or(0);
        // SAFETY: `fds` is a valid array of `count` pollfd structs that outlives the call.
        unsafe {
            libc::poll(fds.as_mut_ptr(), count, slice_ms);
        }
    }
}

/// One captured output stream, non-blocking.
struct Pipe {
    file: Option<File>,
    captured: Vec<u8>,
}

impl Pipe {
    fn new(fd: Option<OwnedFd>) -> io::Result<Self> {
        if let Some(fd) = &fd {
            set_nonblocking(fd.as_raw_fd())?;
        }
        Ok(Self {
            file: fd.map(File::from),
            captured: Vec::new(),
        })
    }

    fn fd(&self) -> Option<RawFd> {
        self.file.as_ref().map(AsRawFd::as_raw_fd)
    }

    /// Reads everything available now; closes the pipe at EOF or on an error.
    fn drain(&mut self) {
        let Some(file) = self.file.as_mut() else { return };
        let mut buffer = [0_u8; 16 * 1024];
        loop {
            match file.read(&mut buffer) {
                Ok(0) => break self.file = None,
                Ok(read) => {
                    let room = CAPTURE_LIMIT.saturating_sub(self.captured.len());
                    self.captured.extend_from_slice(&buffer[..read.min(room)]);
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => break,
                Err(_) => break self.file = None,
            }
        }
    }
}

/// SIGTERM to the group, then SIGKILL after the grace period.
struct Killer {
    pgid: libc::pid_t,
    grace: Duration,
    state: KillState,
}

#[derive(Debug, Clone, Copy)]
enum KillState {
    Idle,
    Terminated(Instant),
    Killed(Instant),
}

impl Killer {
    fn new(pgid: libc::pid_t, grace: Duration) -> Self {
        Self {
            pgid,
            grace,
            state: KillState::Idle,
        }
    }

    /// Sends SIGTERM (and SIGCONT, so a stopped process sees it) unless already under way.
    fn start(&mut self) {
        if matches!(self.state, KillState::Idle) {
            signal_group(self.pgid, libc::SIGTERM);
            signal_group(self.pgid, libc::SIGCONT);
            self.state = KillState::Terminated(Instant::now());
        }
    }

    /// Escalates to SIGKILL after the grace period; true once waiting longer is pointless.
    fn step(&mut self) -> bool {
        match self.state {
            KillState::Terminated(at) if at.elapsed() >= self.grace => {
                signal_group(self.pgid, libc::SIGKILL);
                self.state = KillState::Killed(Instant::now());
                false
            }
            KillState::Killed(at) => at.elapsed() >= AFTER_KILL,
            KillState::Idle | KillState::Terminated(_) => false,
        }
    }
}

fn signal_group(pgid: libc::pid_t, signal: libc::c_int) {
    // SAFETY: kill(2) with a negative pid signals one process group; it has no memory effects.
    unsafe {
        libc::kill(-pgid, signal);
    }
}

/// True while a live process is in group `pgid`. Zombies do not count: a grandchild whose
/// parent died is reparented to init and stays a zombie until init reaps it, which would
/// hold up a halt for nothing (and forever where poolwatch itself is PID 1).
fn group_alive(pgid: libc::pid_t) -> bool {
    // SAFETY: signal 0 only checks that the group exists and may be signalled.
    let found = unsafe { libc::kill(-pgid, 0) } == 0;
    let found = found || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
    found && live_member_in(pgid).unwrap_or(true)
}

/// Whether `/proc` lists a process of group `pgid` that is not a zombie; `None` without `/proc`.
fn live_member_in(pgid: libc::pid_t) -> Option<bool> {
    let entries = std::fs::read_dir("/proc").ok()?;
    let live = entries
        .filter_map(Result::ok)
        .filter(|entry| {
            entry
                .file_name()
                .to_str()
                .is_some_and(|name| name.bytes().all(|b| b.is_ascii_digit()))
        })
        .filter_map(|entry| std::fs::read_to_string(entry.path().join("stat")).ok())
        .any(|stat| stat_is_live_member(&stat, pgid));
    Some(live)
}

/// Parses `/proc/PID/stat`: after the `(comm)` field come the state and, two fields on, the group.
fn stat_is_live_member(stat: &str, pgid: libc::pid_t) -> bool {
    let Some(after_comm) = stat.rfind(')').map(|end| &stat[end + 1..]) else {
        return false;
    };
    let mut fields = after_comm.split_whitespace();
    let state = fields.next();
    let group = fields.nth(1).and_then(|text| text.parse::<libc::pid_t>().ok());
    group == Some(pgid) && state.is_some_and(|state| state != "Z" && state != "X")
}

fn set_nonblocking(fd: RawFd) -> io::Result<()> {
    // SAFETY: fcntl on a descriptor we own, with integer flags only.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    // SAFETY: as above.
    if flags < 0 || unsafe { libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// A descriptor that becomes readable when `pid` exits (Linux 5.3+); `None` where unsupported.
#[cfg(target_os = "linux")]
fn pidfd_open(pid: libc::pid_t) -> Option<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    let fd = RawFd::try_from(fd).ok().filter(|fd| *fd >= 0)?;
    // SAFETY: the kernel just returned this descriptor to us; nothing else owns it.
    Some(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// No pidfd outside Linux: the exit is seen by polling the child instead.
#[cfg(not(target_os = "linux"))]
fn pidfd_open(_pid: libc::pid_t) -> Option<OwnedFd> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(args: &[&str]) -> Vec<String> {
        args.iter().map(ToString::to_string).collect()
    }

    const LIMITS: Limits = Limits {
        timeout: None,
        grace: Duration::from_secs(2),
    };

    #[test]
    fn captures_both_streams_and_the_status() {
        let cancel = CancelToken::new();
        let done = run(
            &argv(&["sh", "-c", "echo out; echo err >&2; exit 3"]),
            LIMITS,
            &cancel,
            |_| {},
        )
        .unwrap();
        assert_eq!(done.ending, Ending::Exited(ExitStatus::from_raw_code(3)));
        assert_eq!(done.stdout, b"out\n");
        assert_eq!(done.stderr, b"err\n");
    }

    #[test]
    fn a_chatty_command_does_not_deadlock_and_is_capped() {
        let cancel = CancelToken::new();
        let done = run(
            &argv(&[
                "sh",
                "-c",
                "head -c 3000000 /dev/zero; head -c 200000 /dev/zero >&2",
            ]),
            LIMITS,
            &cancel,
            |_| {},
        )
        .unwrap();
        assert!(matches!(done.ending, Ending::Exited(status) if status.success()));
        assert_eq!(done.stdout.len(), CAPTURE_LIMIT);
        assert_eq!(done.stderr.len(), 200_000);
    }

    #[test]
    fn timeout_kills_a_group_that_ignores_sigterm() {
        let cancel = CancelToken::new();
        let started = Instant::now();
        let limits = Limits {
            timeout: Some(Duration::from_millis(200)),
            grace: Duration::from_millis(300),
        };
        let done = run(
            &argv(&["sh", "-c", "trap '' TERM; sleep 30 & wait"]),
            limits,
            &cancel,
            |_| {},
        )
        .unwrap();
        assert_eq!(done.ending, Ending::TimedOut);
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(500) && took < Duration::from_secs(5),
            "{took:?}"
        );
    }

    trait FromRawCode {
        fn from_raw_code(code: i32) -> Self;
    }
    impl FromRawCode for ExitStatus {
        fn from_raw_code(code: i32) -> Self {
            std::os::unix::process::ExitStatusExt::from_raw(code << 8)
        }
    }
}
