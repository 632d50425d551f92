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
