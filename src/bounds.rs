//! `--bounds DIR`: the shards of one `--halt lowest` search share their matches through a
//! folder, so that a match in one shard bounds every other shard at once: each cancels its
//! ids above the match and still runs every id below it, and the search ends with the lowest
//! match, proven lowest because every shard has run every id below it.
//!
//! Each shard writes its own lowest match, a decimal id, to its own file `DIR/NAME.bound`,
//! replaced whole by a rename (a reader never sees half a number, and no two shards write
//! the same file). Every shard reads every `*.bound` file of the folder each [`POLL`] and
//! lowers its run's bound to the least. The folder is made if missing and must be this
//! user's; files are written under its descriptor and never through a link. A file that
//! does not hold a number is ignored.

use crate::safefs;
use poolwatch_core::LowestBound;
use std::io::{self, Read, Write};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// How often a shard reads the other shards' matches.
pub const POLL: Duration = Duration::from_millis(100);

/// Longest `.bound` file read: a decimal id and a newline.
const MAX_BOUND_FILE: u64 = 32;

/// One run's share of a bounds folder: publishes its matches, applies everyone's.
pub struct BoundShare {
    dir: Arc<OwnedFd>,
    /// This run's file name in the folder.
    name: PathBuf,
    /// The least id published so far (`u64::MAX`: none).
    published: u64,
    stop: Arc<AtomicBool>,
    poller: Option<JoinHandle<()>>,
}

impl BoundShare {
    /// Opens (or makes) the folder `dir`, and starts reading it for `bound`'s run, whose own
    /// matches go to `name.bound`.
    ///
    /// # Errors
    /// When the folder cannot be made or opened, is a link or is another user's.
    pub fn start(dir: &Path, name: &str, bound: LowestBound) -> io::Result<Self> {
        let dir = Arc::new(open_folder(dir)?);
        let stop = Arc::new(AtomicBool::new(false));
        let poller = {
            let (dir, stop) = (Arc::clone(&dir), Arc::clone(&stop));
            std::thread::Builder::new()
                .name("poolwatch-bounds".into())
                .spawn(move || {
                    while !stop.load(Ordering::Acquire) && !bound.is_finished() {
                        if let Some(least) = least_bound(&dir) {
                            bound.lower(least);
                        }
                        // Woken early by Drop: a run's end never waits out a poll.
                        std::thread::park_timeout(POLL);
                    }
                })?
        };
        Ok(Self {
            dir,
            name: PathBuf::from(format!("{name}.bound")),
            published: u64::MAX,
            stop,
            poller: Some(poller),
        })
    }

    /// This run matched at `task`: published when it is below what this run published before.
    ///
    /// # Errors
    /// When the file cannot be written.
    pub fn publish(&mut self, task: u64) -> io::Result<()> {
        if task >= self.published {
            return Ok(());
        }
        let temporary = PathBuf::from(format!(".{}.{}.tmp", self.name.display(), std::process::id()));
        let mut file = safefs::file_at(&*self.dir, &temporary, 0o644, false)?;
        file.write_all(format!("{task}\n").as_bytes())?;
        file.sync_data()?;
        rustix::fs::renameat(&*self.dir, &temporary, &*self.dir, &self.name)?;
        self.published = task;
        Ok(())
    }
}

impl Drop for BoundShare {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(poller) = self.poller.take() {
            poller.thread().unpark();
            let _finished = poller.join();
        }
    }
}

/// The bounds folder `dir`, made if missing, opened without following a link, and this
/// user's: the launcher checks it before a run starts (a bad one is exit 2).
///
/// # Errors
/// When it cannot be made or opened, is a link or is another user's.
pub fn open_folder(dir: &Path) -> io::Result<OwnedFd> {
    safefs::dir_at(rustix::fs::CWD, dir, 0o755)
}

/// The least id in the folder's `*.bound` files, if any holds one.
fn least_bound(dir: &OwnedFd) -> Option<u64> {
    let listing = rustix::fs::Dir::read_from(dir).ok()?;
    listing
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().to_bytes();
            let wanted = name.ends_with(b".bound") && !name.starts_with(b".");
            wanted.then(|| {
                PathBuf::from(<std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(
                    name,
                ))
            })
        })
        .filter_map(|name| read_bound(dir, &name))
        .min()
}

/// The id in one `.bound` file; `None` when it cannot be read or holds no number.
fn read_bound(dir: &OwnedFd, name: &Path) -> Option<u64> {
    let mut text = String::new();
    safefs::read_at(dir, name)
        .ok()?
        .take(MAX_BOUND_FILE)
        .read_to_string(&mut text)
        .ok()?;
    text.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_least_number_of_the_folder_is_the_bound_and_other_files_are_ignored() {
        let dir = crate::testing::TempPath::dir("bounds");
        let fd = safefs::dir_at(rustix::fs::CWD, &dir, 0o755).unwrap();
        assert_eq!(least_bound(&fd), None);
        for (name, text) in [
            ("shard-0.bound", "1993\n"),
            ("shard-1.bound", "996\n"),
            ("notes.txt", "5\n"),
            (".shard-2.bound.7.tmp", "3\n"),
            ("shard-3.bound", "not a number"),
        ] {
            std::fs::write(dir.join(name), text).unwrap();
        }
        assert_eq!(least_bound(&fd), Some(996));
    }
}
