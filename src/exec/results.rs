//! Keeping each job's output: `exec --results DIR` (files per input, as GNU parallel lays them out) and `--output` (stdout passed through, grouped per job).

use poolwatch_core::sync::lock;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Longest folder name most file systems take, in bytes.
const NAME_MAX: usize = 255;

/// `--results DIR`: `DIR/1/VALUE/{seq,stdout,stderr}` for each job, as GNU parallel writes them.
#[derive(Debug, Clone)]
pub struct ResultsDir {
    root: PathBuf,
}

/// The files one job writes into.
#[derive(Debug)]
pub struct JobFiles {
    /// Receives all of stdout.
    pub stdout: File,
    /// Receives all of stderr.
    pub stderr: File,
    /// Where stdout goes.
    pub stdout_path: PathBuf,
}

impl ResultsDir {
    /// Results kept under `root` (created when the first job starts).
    #[must_use]
    pub fn new(root: PathBuf) -> Self {
        Self { root }
    }

    /// The folder of the job numbered `seq` whose input is `input`.
    #[must_use]
    pub fn job_dir(&self, seq: u64, input: &str) -> PathBuf {
        self.root.join("1").join(folder_name(seq, input))
    }

    /// Creates the job's folder, writes its `seq` file and creates (truncating: a retry
    /// keeps only its last attempt) its `stdout` and `stderr` files.
    ///
    /// # Errors
    /// When the folder or a file cannot be written.
    pub fn open(&self, seq: u64, input: &str) -> io::Result<JobFiles> {
        let dir = self.job_dir(seq, input);
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join("seq"), seq.to_string())?;
        let stdout_path = dir.join("stdout");
        Ok(JobFiles {
            stdout: File::create(&stdout_path)?,
            stderr: File::create(dir.join("stderr"))?,
            stdout_path,
        })
    }
}

/// GNU parallel's folder name for a value: `\` becomes `\\` and `/` becomes `\_`. Values
/// it would turn into `.`, `..`, nothing or a name too long for a folder become `\#SEQ`.
#[must_use]
pub fn folder_name(seq: u64, input: &str) -> String {
    let name = input
        .replace('\\', r"\\")
        .replace('/', r"\_")
        .replace('\0', r"\0");
    if matches!(name.as_str(), "" | "." | "..") || name.len() > NAME_MAX {
        format!(r"\#{seq}")
    } else {
        name
    }
}

/// `--output`: each job's stdout is spooled to a file while it runs and copied to our
/// stdout in one piece when it ends, so jobs never interleave; with `keep_order`, in
/// input order. Memory stays flat: output waits on disk, not in memory.
#[derive(Debug)]
pub struct Printer {
    keep_order: bool,
    spool: PathBuf,
    state: Mutex<PrintState>,
}

#[derive(Debug, Default)]
struct PrintState {
    /// The next task to print (keep-order only).
    next: u64,
    /// Finished tasks waiting for earlier ones: their output file, if any, and whether it is ours to delete.
    waiting: BTreeMap<u64, Option<(PathBuf, bool)>>,
    /// Set once stdout is closed (a pipe reader went away): output is dropped from then on.
    closed: bool,
}

impl Printer {
    /// A printer spooling under a fresh temporary folder.
    ///
    /// # Errors
    /// When the folder cannot be created.
    pub fn new(keep_order: bool) -> io::Result<Self> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let spool = std::env::temp_dir().join(format!(
            "poolwatch-output-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&spool)?;
        Ok(Self {
            keep_order,
            spool,
            state: Mutex::new(PrintState::default()),
        })
    }

    /// A new spool file for `task`'s stdout (truncated if a retry reuses it).
    ///
    /// # Errors
    /// When the file cannot be created.
    pub fn spool_file(&self, task: u64) -> io::Result<(File, PathBuf)> {
        let path = self.spool.join(task.to_string());
        Ok((File::create(&path)?, path))
    }

    /// True once stdout was found closed (the reader of a pipe went away).
    pub fn stdout_closed(&self) -> bool {
        lock(&self.state).closed
    }

    /// `task` is over: prints its output (`None`: nothing to print), now or once the tasks
    /// before it are over. `owned` files are deleted once printed.
    pub fn finished(&self, task: u64, output: Option<&Path>, owned: bool) {
        let entry = output.map(|path| (path.to_path_buf(), owned));
        let mut state = lock(&self.state);
        if !self.keep_order {
            print_one(&mut state.closed, entry);
            return;
        }
        state.waiting.insert(task, entry);
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
        let _ignored = std::fs::remove_dir_all(&self.spool);
    }
}

/// Copies one job's output to stdout in one piece and deletes it if it is a spool file.
fn print_one(closed: &mut bool, entry: Option<(PathBuf, bool)>) {
    let Some((path, owned)) = entry else { return };
    if !*closed {
        let copied = File::open(&path).and_then(|mut file| {
            let mut stdout = io::stdout().lock();
            io::copy(&mut file, &mut stdout)?;
            stdout.flush()
        });
        if let Err(err) = copied {
            *closed = err.kind() == io::ErrorKind::BrokenPipe;
            if !*closed {
                crate::console::say(&format!(
                    "poolwatch: cannot pass on the output in {}: {err}",
                    path.display()
                ));
            }
        }
    }
    if owned {
        let _ignored = std::fs::remove_file(&path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_names_escape_like_parallel() {
        assert_eq!(folder_name(1, "a/b c"), r"a\_b c");
        assert_eq!(folder_name(2, r"x\y"), r"x\\y");
        assert_eq!(folder_name(3, ""), r"\#3");
        assert_eq!(folder_name(4, ".."), r"\#4");
        assert_eq!(folder_name(5, &"x".repeat(300)), r"\#5");
    }
}
