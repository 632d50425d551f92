//! Files and folders opened so that nothing planted in the way is written through: the last
//! component of a path is never followed when it is a symbolic link (`O_NOFOLLOW`), files
//! and folders of another user are refused, and nothing is truncated before it was checked.
//!
//! Used for the files poolwatch writes at a path it was given (`--log`, `--runs`, `--joblog`)
//! and for the trees it writes into (`exec --results`, the `--output` spool).

use rustix::fs::{AtFlags, FileType, Mode, OFlags};
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

/// What a log file opened with [`open_log`] keeps of what it held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// Everything: new lines are appended.
    Append,
    /// Nothing: it is emptied, once checked.
    Truncate,
}

/// Why a path is refused.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    /// A symbolic link where a file or folder is written.
    #[error("it is a symbolic link (refused: a link planted there could point anywhere)")]
    Symlink,
    /// A file or folder of another user.
    #[error("it belongs to another user (uid {0})")]
    Owner(u32),
}

impl From<Refused> for io::Error {
    fn from(refused: Refused) -> Self {
        let kind = match refused {
            Refused::Symlink => io::ErrorKind::InvalidInput,
            Refused::Owner(_) => io::ErrorKind::PermissionDenied,
        };
        Self::new(kind, refused)
    }
}

/// Opens the log file `path` for appending, creating it (mode 0666 less the umask) when
/// missing. A symbolic link there is refused, unless it leads to something that is not a
/// regular file (a device, a pipe); a regular file must be this user's. With
/// [`Keep::Truncate`] the file is emptied only after these checks. The process's own
/// streams (`/dev/stdout`, `/dev/fd/N`...) are opened as they are, never emptied.
///
/// # Errors
/// The system's error, or a [`Refused`] one.
pub fn open_log(path: &Path, keep: Keep) -> io::Result<File> {
    let flags = OFlags::WRONLY | OFlags::APPEND | OFlags::CLOEXEC;
    let mode = Mode::from_raw_mode(0o666);
    if own_stream(path) {
        return Ok(File::from(rustix::fs::openat(
            rustix::fs::CWD,
            path,
            flags,
            mode,
        )?));
    }
    let fd = match rustix::fs::openat(
        rustix::fs::CWD,
        path,
        flags | OFlags::CREATE | OFlags::NOFOLLOW,
        mode,
    ) {
        Ok(fd) => fd,
        Err(rustix::io::Errno::LOOP) => {
            // A link: followed only to a device or a pipe, which nothing can truncate (a
            // dangling one is refused as a link, not created through).
            let fd = rustix::fs::openat(rustix::fs::CWD, path, flags, mode).map_err(|_| Refused::Symlink)?;
            if file_type(&fd)? == FileType::RegularFile {
                return Err(Refused::Symlink.into());
            }
            fd
        }
        Err(err) => return Err(err.into()),
    };
    let file = File::from(fd);
    if file_type(&file)? == FileType::RegularFile {
        check_owner(&file)?;
        if keep == Keep::Truncate {
            file.set_len(0)?;
        }
    }
    Ok(file)
}

/// True for the links to the process's own descriptors that the system provides.
fn own_stream(path: &Path) -> bool {
    ["/dev/stdout", "/dev/stderr"]
        .iter()
        .any(|stream| path == Path::new(stream))
        || path.starts_with("/dev/fd")
        || path.starts_with("/proc/self/fd")
}

/// A folder at `name` under `parent` (a folder's descriptor, or [`rustix::fs::CWD`]),
/// created with `mode` if missing, opened without following a link, and this user's.
///
/// # Errors
/// The system's error, or a [`Refused`] one.
pub fn dir_at(parent: impl AsFd, name: &Path, mode: u32) -> io::Result<OwnedFd> {
    match rustix::fs::mkdirat(&parent, name, Mode::from_raw_mode(mode)) {
        Ok(()) | Err(rustix::io::Errno::EXIST) => open_dir_at(parent, name),
        Err(err) => Err(err.into()),
    }
}

/// The existing folder `name` under `parent`, opened without following a link, and this user's.
///
/// # Errors
/// The system's error, or a [`Refused`] one.
pub fn open_dir_at(parent: impl AsFd, name: &Path) -> io::Result<OwnedFd> {
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let fd =
        rustix::fs::openat(&parent, name, flags, Mode::empty()).map_err(|err| refusal(&parent, name, err))?;
    check_owner(&fd)?;
    Ok(fd)
}

/// A private folder made anew at `path` (mode 0700): fails if anything is there already.
///
/// # Errors
/// The system's error (`AlreadyExists` when the name is taken).
pub fn new_private_dir(path: &Path) -> io::Result<OwnedFd> {
    rustix::fs::mkdirat(rustix::fs::CWD, path, Mode::from_raw_mode(0o700))?;
    dir_at(rustix::fs::CWD, path, 0o700)
}

/// The file `name` under the folder `dir`, opened to read and write and emptied (after the
/// checks), created with `mode` if missing (`exclusive`: it must not exist); a link there is
/// refused and an existing file must be this user's.
///
/// # Errors
/// The system's error, or a [`Refused`] one.
pub fn file_at(dir: impl AsFd, name: &Path, mode: u32, exclusive: bool) -> io::Result<File> {
    let mut flags = OFlags::RDWR | OFlags::CREATE | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    if exclusive {
        flags |= OFlags::EXCL;
    }
    let fd = rustix::fs::openat(&dir, name, flags, Mode::from_raw_mode(mode))
        .map_err(|err| refusal(&dir, name, err))?;
    let file = File::from(fd);
    if file_type(&file)? != FileType::RegularFile {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "it is not a regular file",
        ));
    }
    check_owner(&file)?;
    file.set_len(0)?;
    Ok(file)
}

/// The file `name` under the folder `dir`, opened to read, following no link.
///
/// # Errors
/// The system's error, or a [`Refused`] one.
pub fn read_at(dir: impl AsFd, name: &Path) -> io::Result<File> {
    let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let fd = rustix::fs::openat(&dir, name, flags, Mode::empty()).map_err(|err| refusal(&dir, name, err))?;
    Ok(File::from(fd))
}

/// Removes the name `name` from the folder `dir` (the file lives on while it is open).
///
/// # Errors
/// The system's error.
pub fn unlink_at(dir: impl AsFd, name: &Path) -> io::Result<()> {
    Ok(rustix::fs::unlinkat(dir, name, AtFlags::empty())?)
}

/// A failed no-follow open explained: [`Refused::Symlink`] when a link is what is there.
fn refusal(dir: &impl AsFd, name: &Path, err: rustix::io::Errno) -> io::Error {
    let link = rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW)
        .is_ok_and(|stat| FileType::from_raw_mode(stat.st_mode) == FileType::Symlink);
    if link { Refused::Symlink.into() } else { err.into() }
}

fn file_type(fd: &impl AsFd) -> io::Result<FileType> {
    Ok(FileType::from_raw_mode(rustix::fs::fstat(fd)?.st_mode))
}

/// Refuses what another user owns.
fn check_owner(fd: &impl AsFd) -> io::Result<()> {
    let owner = rustix::fs::fstat(fd)?.st_uid;
    if owner == rustix::process::geteuid().as_raw() {
        Ok(())
    } else {
        Err(Refused::Owner(owner).into())
    }
}

/// Cuts a last line that a crash left without its newline, so that the next line appended is
/// not glued onto it (readers skip a torn last line, but a torn line in the middle is corrupt).
/// `is_ours` reads the file's start and says whether it is the kind of file the caller
/// appends to; any other non-empty file is refused with `not_ours`, and kept whole.
/// Returns the file's length afterwards.
pub fn cut_torn_tail(
    file: &File,
    path: &Path,
    is_ours: impl FnOnce(&mut File) -> io::Result<bool>,
    not_ours: &str,
) -> io::Result<u64> {
    use std::io::{Read, Seek, SeekFrom};
    let metadata = file.metadata()?;
    let length = metadata.len();
    if !metadata.is_file() {
        // A pipe, a FIFO or a device: nothing to read back or cut.
        return Ok(length);
    }
    let mut reader = File::open(path)?;
    if length > 0 && !is_ours(&mut reader)? {
        // Never cut (or append to) a file that is not ours: a torn-looking tail is its data.
        return Err(io::Error::new(io::ErrorKind::InvalidData, not_ours));
    }
    let mut end = length;
    let mut chunk = vec![0_u8; 64 * 1024];
    while end > 0 {
        let start = end.saturating_sub(chunk.len() as u64);
        let wanted = usize::try_from(end - start).unwrap_or(chunk.len());
        reader.seek(SeekFrom::Start(start))?;
        reader.read_exact(&mut chunk[..wanted])?;
        if let Some(at) = chunk[..wanted].iter().rposition(|byte| *byte == b'\n') {
            let whole = start + at as u64 + 1;
            if whole < length {
                file.set_len(whole)?;
            }
            return Ok(whole);
        }
        end = start;
    }
    if length > 0 {
        file.set_len(0)?;
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_log_behind_a_link_is_refused_and_its_target_kept() {
        let dir = crate::testing::TempPath::dir("safefs");
        let victim = dir.join("victim");
        std::fs::write(&victim, "precious\n").unwrap();
        let link = dir.join("log");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        for keep in [Keep::Append, Keep::Truncate] {
            let err = open_log(&link, keep).unwrap_err();
            assert!(err.to_string().contains("symbolic link"), "{err}");
        }
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
        let mut log = open_log(&victim, Keep::Append).unwrap();
        log.write_all(b"more\n").unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\nmore\n");
        open_log(&victim, Keep::Truncate).unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "");
        assert!(open_log(Path::new("/dev/stdout"), Keep::Truncate).is_ok());
        let dangling = dir.join("dangling");
        std::os::unix::fs::symlink(dir.join("nowhere"), &dangling).unwrap();
        let err = open_log(&dangling, Keep::Append).unwrap_err();
        assert!(err.to_string().contains("symbolic link"), "{err}");
        assert!(!dir.join("nowhere").exists());
    }

    #[test]
    fn files_and_folders_under_a_folder_are_not_followed() {
        let dir = crate::testing::TempPath::dir("safefs-at");
        let root = dir_at(rustix::fs::CWD, &dir, 0o700).unwrap();
        std::os::unix::fs::symlink("/tmp", dir.join("sub")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", dir.join("file")).unwrap();
        assert!(dir_at(&root, Path::new("sub"), 0o700).is_err());
        assert!(file_at(&root, Path::new("file"), 0o600, false).is_err());
        let mut made = file_at(&root, Path::new("new"), 0o600, true).unwrap();
        made.write_all(b"x").unwrap();
        assert!(file_at(&root, Path::new("new"), 0o600, true).is_err());
        assert!(new_private_dir(&dir).is_err());
    }
}
