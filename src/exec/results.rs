//! Keeping each job's output: `exec --results DIR` (files per input, as GNU parallel lays them out) and `--output` (stdout passed through, grouped per job).

use crate::safefs::{self, Refused};
use poolwatch_core::sync::lock;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Write};
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
    /// Where `--output` finds stdout again.
    pub kept: Kept,
}

/// Where a finished job's stdout waits to be printed: a name, not an open file, since under
/// `--keep-order` thousands of jobs may wait behind a slow one.
#[derive(Debug)]
pub enum Kept {
    /// A file of the spool folder, deleted once printed.
    Spool(PathBuf),
    /// `stdout` in this job folder of `DIR/1`.
    Results(PathBuf),
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
        Ok(JobFiles {
            stdout: file("stdout")?,
            stderr: file("stderr")?,
            kept: Kept::Results(name.to_path_buf()),
        })
    }

    /// Another descriptor of `DIR/1`, for the printer to read kept output from.
    ///
    /// # Errors
    /// When the descriptor cannot be duplicated.
    pub fn reader(&self) -> io::Result<OwnedFd> {
        self.one.try_clone()
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
/// The spool is a private folder (0700, a random name, made anew) of files (0600) created
/// under its descriptor, never through a link; a spool left by a killed run is removed by
/// the next `--output` run.
#[derive(Debug)]
pub struct Printer {
    keep_order: bool,
    spool: PathBuf,
    dirs: Dirs,
    state: Mutex<PrintState>,
}

/// The folders kept output is read from.
#[derive(Debug)]
struct Dirs {
    spool: OwnedFd,
    /// `DIR/1` of `--results`, if given.
    results: Option<OwnedFd>,
}

#[derive(Debug, Default)]
struct PrintState {
    /// The next task to print (keep-order only).
    next: u64,
    /// Finished tasks waiting for earlier ones, with their output, if any.
    waiting: BTreeMap<u64, Option<Kept>>,
    /// Set once stdout is closed (a pipe reader went away): output is dropped from then on.
    closed: bool,
}

impl Printer {
    /// A printer spooling under a fresh private folder in the temporary folder, reading the
    /// output of jobs with `--results` from `results` (`DIR/1`); spool folders left by
    /// poolwatch processes that are gone are removed first.
    ///
    /// # Errors
    /// When the folder cannot be created.
    pub fn new(keep_order: bool, results: Option<OwnedFd>) -> io::Result<Self> {
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
            dirs: Dirs {
                spool: spool_dir,
                results,
            },
            state: Mutex::new(PrintState::default()),
        })
    }

    /// A new spool file (0600, made anew) for `task`'s stdout, and where it is kept.
    ///
    /// # Errors
    /// When the file cannot be created.
    pub fn spool_file(&self, task: u64) -> io::Result<(File, Kept)> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let name = PathBuf::from(format!("{task}-{}", NEXT.fetch_add(1, Ordering::Relaxed)));
        let file = safefs::file_at(&self.dirs.spool, &name, 0o600, true)?;
        Ok((file, Kept::Spool(name)))
    }

    /// Deletes the output of an attempt that will not be printed (a retry replaces it).
    pub fn discard(&self, kept: &Kept) {
        if let Kept::Spool(name) = kept {
            let _ignored = safefs::unlink_at(&self.dirs.spool, name);
        }
    }

    /// True once stdout was found closed (the reader of a pipe went away).
    pub fn stdout_closed(&self) -> bool {
        lock(&self.state).closed
    }

    /// `task` is over: prints its output (`None`: nothing to print), now or once the tasks
    /// before it are over.
    pub fn finished(&self, task: u64, output: Option<Kept>) {
        let mut state = lock(&self.state);
        if !self.keep_order {
            self.dirs.print(&mut state.closed, output);
            return;
        }
        state.waiting.insert(task, output);
        loop {
            let next = state.next;
            let Some(entry) = state.waiting.remove(&next) else {
                break;
            };
            self.dirs.print(&mut state.closed, entry);
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
            self.dirs.print(&mut state.closed, entry);
        }
        let _ignored = std::fs::remove_dir_all(&self.spool);
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

/// Removes the spool folders in `temp` of poolwatch processes that are gone (killed before
/// they could), when they are this user's.
fn remove_stale_spools(temp: &Path) {
    use std::os::unix::fs::MetadataExt;
    let euid = rustix::process::geteuid().as_raw();
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
        let ours =
            std::fs::symlink_metadata(entry.path()).is_ok_and(|meta| meta.is_dir() && meta.uid() == euid);
        if ours && rustix::process::test_kill_process(pid) == Err(rustix::io::Errno::SRCH) {
            let _ignored = std::fs::remove_dir_all(entry.path());
        }
    }
}

impl Dirs {
    /// Copies one job's output to stdout in one piece (unless stdout is `closed`), and
    /// deletes it if it is a spool file.
    fn print(&self, closed: &mut bool, output: Option<Kept>) {
        let Some(kept) = output else { return };
        let copied = self.open(&kept).and_then(copy_out);
        if !*closed && let Err(err) = copied {
            // Said once; the exit code says it too (4, or 141 for a closed pipe, after which
            // output is dropped: no one reads it).
            crate::console::note_stdout(&err, "the jobs' output");
            *closed = err.kind() == io::ErrorKind::BrokenPipe;
        }
        if let Kept::Spool(name) = &kept {
            let _ignored = safefs::unlink_at(&self.spool, name);
        }
    }

    /// Opens kept output for reading, following no link.
    fn open(&self, kept: &Kept) -> io::Result<File> {
        match (kept, &self.results) {
            (Kept::Spool(name), _) => safefs::read_at(&self.spool, name),
            (Kept::Results(folder), Some(results)) => {
                let dir = safefs::open_dir_at(results, folder)?;
                safefs::read_at(&dir, Path::new("stdout"))
            }
            (Kept::Results(_), None) => Err(io::Error::other("no --results folder")),
        }
    }
}

/// Copies `file` to stdout in one piece.
fn copy_out(mut file: File) -> io::Result<()> {
    crate::console::stdout_open()?;
    let mut stdout = io::stdout().lock();
    io::copy(&mut file, &mut stdout)?;
    stdout.flush()
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
