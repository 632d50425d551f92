//! Process groups shared by one-shot commands and `--worker` processes: the kill-on-exit guard, group signals, pidfds, polling and non-blocking pipes.

use poolwatch_core::sync::lock;
use rustix::event::{PollFd, Timespec, poll};
use rustix::fs::{OFlags, fcntl_getfl, fcntl_setfl};
use rustix::io::Errno;
use rustix::process::{Pid, Signal, kill_process_group, test_kill_process_group};
use std::io::{self, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

/// How long after SIGKILL a group may take to vanish before we stop waiting for it.
pub(super) const AFTER_KILL: Duration = Duration::from_secs(2);

/// The process group a child started with `process_group(0)` leads, and what can be done
/// to all of its processes at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ProcessGroup(Pid);

impl ProcessGroup {
    /// The group `child` leads; `None` when it has no valid pid (never seen: a live
    /// child's pid is positive and fits an `i32`).
    pub(super) fn led_by(child: &Child) -> Option<Self> {
        i32::try_from(child.id()).ok().and_then(Pid::from_raw).map(Self)
    }

    /// The leader's pid (the group's id).
    pub(super) fn leader(self) -> Pid {
        self.0
    }

    /// Sends `signal` to every process of the group.
    pub(super) fn signal(self, signal: Signal) {
        // A group that is already gone (ESRCH) is what we want anyway.
        let _sent = kill_process_group(self.0, signal);
    }

    /// Sends SIGTERM, and SIGCONT so that a stopped process sees it.
    pub(super) fn terminate(self) {
        self.signal(Signal::TERM);
        self.signal(Signal::CONT);
    }

    /// True while a live process is in the group. Zombies do not count: a grandchild whose
    /// parent died is reparented to init and stays a zombie until init reaps it, which
    /// would hold up a halt for nothing (and forever where poolwatch itself is PID 1).
    pub(super) fn alive(self) -> bool {
        let found = matches!(test_kill_process_group(self.0), Ok(()) | Err(Errno::PERM));
        found && live_member_in(self.0.as_raw_nonzero().get()).unwrap_or(true)
    }
}

/// A [`ProcessGroup`] listed with the guard process for as long as this value lives: if
/// poolwatch dies, even by SIGKILL, the guard kills the group, the child's own children
/// included.
///
/// Drop it once the group is gone (killed and its leader reaped): dropping unlists it.
#[derive(Debug)]
pub(super) struct Group {
    group: ProcessGroup,
}

impl Group {
    /// Lists the group that `child` leads with the guard; `None` when the child has no
    /// valid pid.
    pub(super) fn register(child: &Child) -> Option<Self> {
        let group = ProcessGroup::led_by(child)?;
        tell_guard('+', group.leader());
        Some(Self { group })
    }

    /// The group, to signal or look at.
    pub(super) fn id(&self) -> ProcessGroup {
        self.group
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        tell_guard('-', self.group.leader());
    }
}

/// The guard's program: it keeps the groups it is told about (`+PGID` when a command
/// starts, `-PGID` once its group is gone) and, when its input ends (poolwatch exited or
/// was killed, even with SIGKILL: the kernel closes the pipe), kills those still listed.
/// In its own process group and deaf to terminal signals, so it outlives poolwatch.
const GUARD_SCRIPT: &str = r#"trap '' INT HUP TERM QUIT
g=' '
while read -r op pg; do
  case $op in
    +) g="$g$pg " ;;
    -) case $g in *" $pg "*) g="${g%% $pg *} ${g#* $pg }" ;; esac ;;
  esac
done
for pg in $g; do kill -9 -"$pg" 2>/dev/null; done"#;

/// The pipe to the guard process, started with the first group; `None` if `sh` is missing.
static GUARD: OnceLock<Option<Mutex<ChildStdin>>> = OnceLock::new();

/// Tells the guard that group `pgid` started (`+`) or is gone (`-`). One small write:
/// no fork per command, so spawns keep `posix_spawn`'s speed.
fn tell_guard(change: char, pgid: Pid) {
    let guard = GUARD.get_or_init(|| {
        let mut guard = Command::new("sh")
            .args(["-c", GUARD_SCRIPT])
            .process_group(0)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        // Not waited for: it ends only when poolwatch does (its pipe closes).
        guard.stdin.take().map(Mutex::new)
    });
    if let Some(pipe) = guard {
        let line = format!("{change} {}\n", pgid.as_raw_nonzero());
        // A guard that died (killed from outside) only loses the protection it gave.
        let _written = lock(pipe).write_all(line.as_bytes());
    }
}

/// Whether `/proc` lists a process of group `pgid` that is not a zombie; `None` without `/proc`.
fn live_member_in(pgid: i32) -> Option<bool> {
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
fn stat_is_live_member(stat: &str, pgid: i32) -> bool {
    let Some(after_comm) = stat.rfind(')').map(|end| &stat[end + 1..]) else {
        return false;
    };
    let mut fields = after_comm.split_whitespace();
    let state = fields.next();
    let group = fields.nth(1).and_then(|text| text.parse::<i32>().ok());
    group == Some(pgid) && state.is_some_and(|state| state != "Z" && state != "X")
}

/// A descriptor that becomes readable when `pid` exits (Linux 5.3+); without one, the
/// exit must be looked at now and then.
#[cfg(target_os = "linux")]
pub(super) fn exit_fd(pid: Pid) -> Option<OwnedFd> {
    rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty()).ok()
}

/// No pidfd outside Linux: the exit must be looked at now and then.
#[cfg(not(target_os = "linux"))]
pub(super) fn exit_fd(_pid: Pid) -> Option<OwnedFd> {
    None
}

/// Makes reads and writes on `fd` return `WouldBlock` instead of waiting.
///
/// # Errors
/// When the descriptor's flags cannot be read or set.
pub(super) fn set_nonblocking(fd: impl AsFd) -> io::Result<()> {
    let flags = fcntl_getfl(&fd)?;
    fcntl_setfl(&fd, flags | OFlags::NONBLOCK)?;
    Ok(())
}

/// Sleeps until one of `fds` is ready or `wait` passes (`None`: for ever).
pub(super) fn wait_on(fds: &mut [PollFd<'_>], wait: Option<Duration>) {
    let timeout = wait.and_then(|wait| Timespec::try_from(wait).ok());
    // EINTR or a full table only shorten this wait: callers look at everything anyway.
    let _ready = poll(fds, timeout.as_ref());
}

/// Has `command`'s process get SIGKILL when the thread that spawns it ends (poolwatch's
/// death included), and fail to start if poolwatch is already gone. Turns the spawn into a
/// `fork` (a `pre_exec` hook): for long-lived processes only.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(super) fn die_with_parent(command: &mut Command) {
    use rustix::process::{getpid, getppid, set_parent_process_death_signal};
    let parent = getpid();
    // SAFETY: the hook runs in the child between fork and exec and makes only the prctl and
    // getppid system calls: async-signal-safe, no allocation, no lock.
    unsafe {
        command.pre_exec(move || {
            set_parent_process_death_signal(Some(Signal::KILL))?;
            if getppid() != Some(parent) {
                return Err(io::Error::other("poolwatch exited before the worker started"));
            }
            Ok(())
        });
    }
}

/// No parent-death signal here: the guard alone kills the group when poolwatch dies.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub(super) fn die_with_parent(_command: &mut Command) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stat_line_names_its_state_and_group() {
        let stat = "4242 (a (tricky) name) S 1 777 777 0 -1";
        assert!(stat_is_live_member(stat, 777));
        assert!(!stat_is_live_member(stat, 1));
        assert!(!stat_is_live_member("4242 (zombie) Z 1 777 777", 777));
        assert!(!stat_is_live_member("garbage", 777));
    }

    #[test]
    fn a_group_is_alive_until_its_last_process_is_killed() {
        let mut child = Command::new("sleep").arg("30").process_group(0).spawn().unwrap();
        let group = Group::register(&child).unwrap();
        assert!(group.id().alive());
        group.id().signal(Signal::KILL);
        child.wait().unwrap();
        assert!(!group.id().alive());
    }
}
