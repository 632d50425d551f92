//! Scratch directories under the system's temporary folder that remove themselves when dropped, passed or failed.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// A fresh, empty directory `poolwatch-NAME-PID-N` in [`std::env::temp_dir`], removed with
/// everything in it when dropped: at the end of the test that holds it, and also when that
/// test panics (the unwinding drops it). Hold it for as long as anything reads the files in
/// it, including files a child process was told to write there.
#[derive(Debug)]
pub struct Scratch {
    dir: PathBuf,
}

impl Scratch {
    /// Creates the directory; `name` says which test it belongs to.
    pub fn new(name: &str) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("poolwatch-{name}-{}-{n}", std::process::id()));
        // A directory of that name could only be left by an earlier process with this pid.
        let _stale = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|err| panic!("cannot create {}: {err}", dir.display()));
        Self { dir }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// `name` inside the directory (not created).
    pub fn join(&self, name: impl AsRef<Path>) -> PathBuf {
        self.dir.join(name)
    }

    /// `name` inside the directory as a `&str` argument for a command line.
    pub fn arg(&self, name: &str) -> String {
        self.join(name).display().to_string()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        // Nothing to do about a failure here: the test's own result is what matters.
        let _ignored = std::fs::remove_dir_all(&self.dir);
    }
}
