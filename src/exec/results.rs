//! Keeping each job's output: `exec --results DIR` (files per input, as GNU parallel lays them out) and `--output` (stdout passed through, grouped per job).

use crate::safefs::{self, Refused};
use crate::sync::lock;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Seek, Write};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Longest folder name most file systems take, in bytes.
const NAME_MAX: usize = 255;
/// Names tried for a spool folder before giving up (each taken name is someone else's).
const SPOOL_TRIES: u32 = 16;

/// `--results DIR`: `DIR/1/VALUE/{seq,stdout,stderr}` for each job, as GNU parallel writes
/// them. `DIR/1` and each job's folder are opened without following a link, and the files
/// are created under those folders' descriptors, so nothing planted there is written through.
#[derive(Debug)]
pub struct ResultsDir {
    /// `DIR/1`.
    one: OwnedFd,
}

/// The files one job writes into.
#[derive(Debug)]
pub struct JobFiles {
    /// Receives all of stdout.
    pub stdout: File,
    /// Receives all of stderr.
    pub stderr: File,
    /// The stdout file again, to read back (for `--output`).
    pub stdout_again: File,
}

impl ResultsDir {
    /// Creates `root` and `root/1` if missing and opens `root/1`.
    ///
    /// # Errors
    /// When they cannot be created or opened, or when `root/1`, a job folder in it or a file
    /// in one of those is a symbolic link, named in the message.
    pub fn open(root: &Path) -> io::Result<Self> {
        std::fs::create_dir_all(root)?;
        let one_path = root.join("1");
        let one = safefs::dir_at(rustix::fs::CWD, &one_path, 0o777).map_err(|err| named(&one_path, err))?;
        refuse_links(&one_path)?;
        Ok(Self { one })
    }

    /// Creates the job's folder, writes its `seq` file and creates (emptying: a retry keeps
    /// only its last attempt) its `stdout` and `stderr` files.
    ///
    /// # Errors
    /// When the folder or a file cannot be written, or a link stands in the way.
    pub fn open_job(&self, seq: u64, input: &[u8]) -> io::Result<JobFiles> {
        use std::os::unix::ffi::OsStrExt;
        let name = folder_name(seq, input);
        let name = Path::new(std::ffi::OsStr::from_bytes(&name));
        let dir = safefs::dir_at(&self.one, name, 0o777).map_err(|err| named(name, err))?;
        let file = |file: &str| {
            safefs::file_at(&dir, Path::new(file), 0o666, false).map_err(|err| named(&name.join(file), err))
        };
        file("seq")?.write_all(seq.to_string().as_bytes())?;
        let stdout = file("stdout")?;
        Ok(JobFiles {
            stdout_again: stdout.try_clone()?,
            stdout,
            stderr: file("stderr")?,
        })
    }
}

/// `err` about `path`, the path leading its message.
fn named(path: &Path, err: io::Error) -> io::Error {
    io::Error::new(
        err.kind(),
        format!("{}: {}", path.display(), super::os_reason(&err)),
    )
}

/// Refuses `one` (`DIR/1`) when a job folder in it or a file in one of those is a symbolic link.
fn refuse_links(one: &Path) -> io::Result<()> {
    for job in std::fs::read_dir(one)? {
        let job = job?;
        let kind = job.file_type()?;
        if kind.is_symlink() {
            return Err(named(&job.path(), Refused::Symlink.into()));
        }
        if !kind.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(job.path())? {
            let file = file?;
            if file.file_type()?.is_symlink() {
                return Err(named(&file.path(), Refused::Symlink.into()));
            }
        }
    }
    Ok(())
}

/// GNU parallel's folder name for a value: `\` becomes `\\` and `/` becomes `\_`. Values
/// it would turn into `.`, `..`, nothing or a name too long for a folder become `\#SEQ`.
#[must_use]
pub fn folder_name(seq: u64, input: &[u8]) -> Vec<u8> {
    let mut name = Vec::with_capacity(input.len());
    for &byte in input {
        match byte {
            b'\\' => name.extend_from_slice(br"\\"),
            b'/' => name.extend_from_slice(br"\_"),
            b'\0' => name.extend_from_slice(br"\0"),
            _ => name.push(byte),
        }
    }
    if matches!(name.as_slice(), b"" | b"." | b"..") || name.len() > NAME_MAX {
        format!(r"\#{seq}").into_bytes()
    } else {
        name
    }
}

/// `--output`: each job's stdout is spooled to a file while it runs and copied to our
/// stdout in one piece when it ends, so jobs never interleave; with `keep_order`, in
/// input order. Memory stays flat: output waits on disk, not in memory.
///
/// The spool is a private folder (0700, a random name, made anew) whose files (0600) are
/// unlinked as soon as they are created: a job's output is reachable only through
/// poolwatch's descriptor, and the kernel frees it whatever way poolwatch ends.
#[derive(Debug)]
pub struct Printer {
    keep_order: bool,
    spool: PathBuf,
    spool_dir: OwnedFd,
    state: Mutex<PrintState>,
}

#[derive(Debug, Default)]
struct PrintState {
    /// The next task to print (keep-order only).
    next: u64,
    /// Finished tasks waiting for earlier ones, with their output, if any.
    waiting: BTreeMap<u64, Option<File>>,
    /// Set once stdout is closed (a pipe reader went away): output is dropped from then on.
    closed: bool,
}

impl Printer {
    /// A printer spooling under a fresh private folder in the temporary folder; empty spool
    /// folders left by poolwatch processes that are gone are removed first.
    ///
    /// # Errors
    /// When the folder cannot be created.
    pub fn new(keep_order: bool) -> io::Result<Self> {
        let temp = std::env::temp_dir();
        remove_stale_spools(&temp);
        let mut tries = 0;
        let (spool, spool_dir) = loop {
            let spool = temp.join(format!("{SPOOL_PREFIX}{}-{}", std::process::id(), random_name()));
            match safefs::new_private_dir(&spool) {
                Ok(dir) => break (spool, dir),
                Err(err) if err.kind() == io::ErrorKind::AlreadyExists && tries < SPOOL_TRIES => tries += 1,
                Err(err) => return Err(err),
            }
        };
        Ok(Self {
            keep_order,
            spool,
            spool_dir,
            state: Mutex::new(PrintState::default()),
        })
    }

    /// A new spool file for `task`'s stdout, already unlinked: the file to write and a
    /// second handle to read it back.
    ///
    /// # Errors
    /// When the file cannot be created.
    pub fn spool_file(&self, task: u64) -> io::Result<(File, File)> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let name = PathBuf::from(format!("{task}-{}", NEXT.fetch_add(1, Ordering::Relaxed)));
        let file = safefs::file_at(&self.spool_dir, &name, 0o600, true)?;
        safefs::unlink_at(&self.spool_dir, &name)?;
        Ok((file.try_clone()?, file))
    }

    /// True once stdout was found closed (the reader of a pipe went away).
    pub fn stdout_closed(&self) -> bool {
        lock(&self.state).closed
    }

    /// `task` is over: prints its output (`None`: nothing to print), now or once the tasks
    /// before it are over.
    pub fn finished(&self, task: u64, output: Option<File>) {
        let mut state = lock(&self.state);
        if !self.keep_order {
            print_one(&mut state.closed, output);
            return;
        }
        state.waiting.insert(task, output);
        loop {
            let next = state.next;
            let Some(entry) = state.waiting.remove(&next) else {
                break;
            };
            print_one(&mut state.closed, entry);
            state.next += 1;
        }
    }
}

impl Drop for Printer {
    /// Tasks that never ran (after a halt) leave gaps: what waits behind them is printed in order now.
    fn drop(&mut self) {
        let state = self
            .state
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (_task, entry) in std::mem::take(&mut state.waiting) {
            print_one(&mut state.closed, entry);
        }
        let _ignored = std::fs::remove_dir(&self.spool);
    }
}

/// How spool folders are named: `poolwatch-output-PID-RANDOM`.
const SPOOL_PREFIX: &str = "poolwatch-output-";

/// Sixteen hex digits no one can guess: std's hasher keys come from the system's randomness.
fn random_name() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    format!("{:016x}", hasher.finish())
}

/// Removes the empty spool folders in `temp` of poolwatch processes that are gone (killed
/// before they could): only empty folders go, and only this user's can.
fn remove_stale_spools(temp: &Path) {
    let Ok(entries) = std::fs::read_dir(temp) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|name| name.strip_prefix(SPOOL_PREFIX))
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<i32>().ok())
            .and_then(rustix::process::Pid::from_raw)
        else {
            continue;
        };
        if rustix::process::test_kill_process(pid) == Err(rustix::io::Errno::SRCH) {
            let _ignored = std::fs::remove_dir(entry.path());
        }
    }
}

/// Copies one job's output to stdout in one piece.
fn print_one(closed: &mut bool, output: Option<File>) {
    let Some(mut file) = output else { return };
    if *closed {
        return;
    }
    let copied = file.rewind().and_then(|()| {
        let mut stdout = io::stdout().lock();
        io::copy(&mut file, &mut stdout)?;
        stdout.flush()
    });
    if let Err(err) = copied {
        *closed = err.kind() == io::ErrorKind::BrokenPipe;
        if !*closed {
            crate::launch::say(&format!("poolwatch: cannot pass on a job's output: {err}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_names_escape_like_parallel() {
        assert_eq!(folder_name(1, b"a/b c"), br"a\_b c");
        assert_eq!(folder_name(2, br"x\y"), br"x\\y");
        assert_eq!(folder_name(3, b""), br"\#3");
        assert_eq!(folder_name(4, b".."), br"\#4");
        assert_eq!(folder_name(5, &[b'x'; 300]), br"\#5");
    }
}
