//! Runs one command in its own process group, captures its output, and kills the whole group on cancel or timeout.

use super::process::{AFTER_KILL, Group, ProcessGroup, exit_fd, set_nonblocking, wait_on};
use poolwatch_core::CancelToken;
use rustix::event::{PollFd, PollFlags};
use rustix::process::Signal;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Bytes kept of each of stdout and stderr; the rest is read and dropped.
pub const CAPTURE_LIMIT: usize = 1 << 20;
/// Longest wait between looks at the group while it is being killed (or where the
/// kernel has no pidfd): the only times a worker wakes without news.
const SLICE: Duration = Duration::from_millis(5);

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
    /// Every byte the command wrote to stdout, counted (GNU parallel's `Receive`).
    pub stdout_bytes: u64,
    /// Why copying its output to the [`Tees`] failed (a full disk), if it did: that output is lost.
    pub kept: Option<io::Error>,
}

/// Files that receive a copy of everything a command writes (for `--results`, `--output`).
#[derive(Debug, Default)]
pub struct Tees {
    /// Gets all of stdout.
    pub stdout: Option<File>,
    /// Gets all of stderr.
    pub stderr: Option<File>,
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

/// A cancel token and a descriptor that becomes readable the moment it is cancelled,
/// so a worker can sleep in `poll` on its command and still hear a halt at once.
///
/// Make one per run (per token) and share it between workers: each registers one
/// hook with the token, which the token keeps until it is cancelled.
#[derive(Debug)]
pub struct CancelWatch {
    token: CancelToken,
    fd: Arc<OwnedFd>,
}

impl CancelWatch {
    /// Registers a pipe with `token` that is written when the token is cancelled.
    ///
    /// # Errors
    /// When no pipe can be made (out of descriptors).
    pub fn new(token: &CancelToken) -> io::Result<Self> {
        let (reader, mut writer) = io::pipe()?;
        token.on_cancel(move || {
            // Never read back: the pipe stays readable from now on, for every poller.
            let _written = writer.write_all(b"!");
        });
        Ok(Self {
            token: token.clone(),
            fd: Arc::new(OwnedFd::from(reader)),
        })
    }

    /// True when this watch follows `token`.
    #[must_use]
    pub fn follows(&self, token: &CancelToken) -> bool {
        self.token.same_token(token)
    }

    /// The token.
    #[must_use]
    pub fn token(&self) -> &CancelToken {
        &self.token
    }
}

/// Runs `argv` in a new process group with stdin null and stdout/stderr captured (and every
/// byte of them also written to `tees` as it arrives), calls `on_spawn` with its pid, and
/// returns once the command and every process left in its group are gone.
///
/// The command's group dies with poolwatch, even when poolwatch is killed with SIGKILL:
/// a guard process kills the groups still running when poolwatch's end of its pipe
/// closes. Processes that leave the group (`setsid`) escape that and the group kill.
///
/// # Errors
/// [`RunError::Spawn`] when the command cannot be started, [`RunError::Follow`] in
/// the unlikely case that it cannot be waited for or killed.
pub fn run(
    argv: &[impl AsRef<std::ffi::OsStr>],
    limits: Limits,
    cancel: &CancelWatch,
    on_spawn: impl FnOnce(u32),
    tees: Tees,
) -> Result<Finished, RunError> {
    let (program, args) = argv
        .split_first()
        .ok_or_else(|| RunError::Spawn(io::Error::new(io::ErrorKind::InvalidInput, "empty command")))?;
    let mut command = Command::new(program.as_ref());
    command
        .args(args.iter().map(AsRef::as_ref))
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().map_err(RunError::Spawn)?;
    // Listed with the guard until the group is gone (dropped at the return).
    let group = Group::register(&child);
    on_spawn(child.id());
    let followed = Watch::new(&mut child, limits, tees).and_then(|mut watch| {
        let ending = watch.follow(&mut child, cancel)?;
        Ok((watch, ending))
    });
    let (watch, ending) = match followed {
        Ok(done) => done,
        Err(err) => {
            // Cannot follow it: do not leave it behind either.
            if let Some(group) = &group {
                group.id().signal(Signal::KILL);
            }
            let _reaped = child.wait();
            return Err(RunError::Follow(err));
        }
    };
    Ok(Finished {
        ending,
        stdout: watch.out.captured,
        stderr: watch.err.captured,
        stdout_bytes: watch.out.total,
        kept: watch.out.tee_error.or(watch.err.tee_error),
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
    group: ProcessGroup,
    out: Pipe,
    err: Pipe,
    exit_fd: Option<OwnedFd>,
    started: Instant,
    limits: Limits,
    kill: Killer,
}

impl Watch {
    fn new(child: &mut Child, limits: Limits, tees: Tees) -> io::Result<Self> {
        let group =
            ProcessGroup::led_by(child).ok_or_else(|| io::Error::other("the child has no valid pid"))?;
        Ok(Self {
            group,
            out: Pipe::new(child.stdout.take().map(OwnedFd::from), tees.stdout)?,
            err: Pipe::new(child.stderr.take().map(OwnedFd::from), tees.stderr)?,
            exit_fd: exit_fd(group.leader()),
            started: Instant::now(),
            limits,
            kill: Killer::new(group, limits.grace),
        })
    }

    /// Reads output and watches exit, cancel and timeout until the group is gone.
    fn follow(&mut self, child: &mut Child, cancel: &CancelWatch) -> io::Result<Ending> {
        let mut exit: Option<ExitStatus> = None;
        let mut stop: Option<Stop> = None;
        loop {
            let hear_cancel = stop.is_none() && exit.is_none();
            self.wait_for_news(exit.is_none(), hear_cancel.then_some(cancel), stop.is_some());
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
                if !self.group.alive() {
                    break;
                }
                stop.get_or_insert(Stop::Leftovers);
                self.kill.start();
            } else if stop.is_none() {
                stop = self.stop_reason(cancel.token());
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

    /// How long `poll` may sleep: until the timeout, or a slice while killing the group
    /// (or while the exit cannot be watched through a pidfd); `None` is for ever.
    fn poll_timeout(&self, watch_exit: bool, killing: bool) -> Option<Duration> {
        if killing || (watch_exit && self.exit_fd.is_none()) {
            return Some(SLICE);
        }
        let left = self
            .limits
            .timeout
            .map(|limit| limit.saturating_sub(self.started.elapsed()));
        // A command whose leader exited but whose pipes are held open: look at the group now and then.
        if !watch_exit {
            return Some(left.map_or(SLICE, |left| left.min(SLICE)));
        }
        left
    }

    /// Sleeps until output arrives, a pipe closes, the leader exits, the run is cancelled
    /// or the timeout is reached; no periodic wake-ups while a command simply runs.
    fn wait_for_news(&self, watch_exit: bool, cancel: Option<&CancelWatch>, killing: bool) {
        let exit_fd = self.exit_fd.as_ref().filter(|_| watch_exit);
        let mut fds: Vec<PollFd<'_>> = [
            self.out.file.as_ref().map(AsFd::as_fd),
            self.err.file.as_ref().map(AsFd::as_fd),
            exit_fd.map(AsFd::as_fd),
            cancel.map(|cancel| cancel.fd.as_fd()),
        ]
        .into_iter()
        .flatten()
        .map(|fd| PollFd::from_borrowed_fd(fd, PollFlags::IN))
        .collect();
        wait_on(&mut fds, self.poll_timeout(watch_exit, killing));
    }
}

/// One captured output stream, non-blocking.
struct Pipe {
    file: Option<File>,
    captured: Vec<u8>,
    /// Bytes read in all.
    total: u64,
    /// Gets every byte read; dropped (and the rest only counted) after a write error.
    tee: Option<File>,
    /// The write error that dropped `tee`.
    tee_error: Option<io::Error>,
}

impl Pipe {
    fn new(fd: Option<OwnedFd>, tee: Option<File>) -> io::Result<Self> {
        if let Some(fd) = &fd {
            set_nonblocking(fd)?;
        }
        Ok(Self {
            file: fd.map(File::from),
            captured: Vec::new(),
            total: 0,
            tee,
            tee_error: None,
        })
    }

    /// Reads everything available now; closes the pipe at EOF or on an error.
    fn drain(&mut self) {
        let Some(file) = self.file.as_mut() else { return };
        let mut buffer = [0_u8; 16 * 1024];
        loop {
            match file.read(&mut buffer) {
                Ok(0) => break self.file = None,
                Ok(read) => {
                    self.total += read as u64;
                    if let Some(tee) = self.tee.as_mut()
                        && let Err(err) = tee.write_all(&buffer[..read])
                    {
                        self.tee = None;
                        self.tee_error = Some(err);
                    }
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
    group: ProcessGroup,
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
    fn new(group: ProcessGroup, grace: Duration) -> Self {
        Self {
            group,
            grace,
            state: KillState::Idle,
        }
    }

    /// Sends SIGTERM (and SIGCONT, so a stopped process sees it) unless already under way.
    fn start(&mut self) {
        if matches!(self.state, KillState::Idle) {
            self.group.terminate();
            self.state = KillState::Terminated(Instant::now());
        }
    }

    /// Escalates to SIGKILL after the grace period; true once waiting longer is pointless.
    fn step(&mut self) -> bool {
        match self.state {
            KillState::Terminated(at) if at.elapsed() >= self.grace => {
                self.group.signal(Signal::KILL);
                self.state = KillState::Killed(Instant::now());
                false
            }
            KillState::Killed(at) => at.elapsed() >= AFTER_KILL,
            KillState::Idle | KillState::Terminated(_) => false,
        }
    }
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
        let cancel = CancelWatch::new(&CancelToken::new()).unwrap();
        let done = run(
            &argv(&["sh", "-c", "echo out; echo err >&2; exit 3"]),
            LIMITS,
            &cancel,
            |_| {},
            Tees::default(),
        )
        .unwrap();
        assert_eq!(done.ending, Ending::Exited(ExitStatus::from_raw_code(3)));
        assert_eq!(done.stdout, b"out\n");
        assert_eq!(done.stderr, b"err\n");
    }

    #[test]
    fn a_chatty_command_does_not_deadlock_and_is_capped() {
        let cancel = CancelWatch::new(&CancelToken::new()).unwrap();
        let done = run(
            &argv(&[
                "sh",
                "-c",
                "head -c 3000000 /dev/zero; head -c 200000 /dev/zero >&2",
            ]),
            LIMITS,
            &cancel,
            |_| {},
            Tees::default(),
        )
        .unwrap();
        assert!(matches!(done.ending, Ending::Exited(status) if status.success()));
        assert_eq!(done.stdout.len(), CAPTURE_LIMIT);
        assert_eq!(done.stderr.len(), 200_000);
    }

    #[test]
    fn timeout_kills_a_group_that_ignores_sigterm() {
        let cancel = CancelWatch::new(&CancelToken::new()).unwrap();
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
            Tees::default(),
        )
        .unwrap();
        assert_eq!(done.ending, Ending::TimedOut);
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(500) && took < Duration::from_secs(5),
            "{took:?}"
        );
    }

    #[test]
    fn a_cancel_wakes_a_worker_blocked_on_its_command() {
        let token = CancelToken::new();
        let cancel = CancelWatch::new(&token).unwrap();
        let canceller = token.clone();
        let started = Instant::now();
        let handle = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            canceller.cancel();
        });
        let done = run(&argv(&["sleep", "30"]), LIMITS, &cancel, |_| {}, Tees::default()).unwrap();
        handle.join().unwrap();
        assert_eq!(done.ending, Ending::Cancelled);
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{:?}",
            started.elapsed()
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
