//! Helpers shared by the unit tests of several modules.

use std::io::Write;

/// A writer that keeps every write call it gets, as made: for checking that a line is handed
/// over whole in one write.
#[derive(Default)]
pub(crate) struct Writes(pub(crate) Vec<Vec<u8>>);

impl Write for Writes {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.push(bytes.to_vec());
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A path in the temporary directory, named after the test and this process, removed (file
/// or directory) when dropped: also when the test fails, so no run leaves files behind.
pub(crate) struct TempPath(std::path::PathBuf);

impl TempPath {
    /// `poolwatch-NAME-PID` in the temporary directory, with nothing there yet.
    pub(crate) fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!("poolwatch-{name}-{}", std::process::id()));
        remove(&path);
        Self(path)
    }

    /// Like [`TempPath::new`], made a directory.
    pub(crate) fn dir(name: &str) -> Self {
        let dir = Self::new(name);
        std::fs::create_dir_all(&dir.0).expect("a temporary directory");
        dir
    }
}

impl std::ops::Deref for TempPath {
    type Target = std::path::Path;

    fn deref(&self) -> &std::path::Path {
        &self.0
    }
}

impl AsRef<std::path::Path> for TempPath {
    fn as_ref(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        remove(&self.0);
    }
}

/// Removes a file or a directory tree; nothing there is fine.
fn remove(path: &std::path::Path) {
    let _gone = std::fs::remove_dir_all(path).or_else(|_| std::fs::remove_file(path));
}
