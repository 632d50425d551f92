//! The `--log FILE` writer: one JSON object per line, written in whole lines only.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Lines are written once this many bytes are waiting (or on [`EventLog::flush`]).
const FLUSH_AT: usize = 64 * 1024;

/// An append-only JSON-lines event log; a no-op when no path was given.
///
/// Lines are gathered and written together (each write holds whole lines only). If a
/// write fails (a full disk, a file-size limit), the file is cut back to its last whole
/// line, logging stops, and [`EventLog::failure`] says why: the log is then incomplete.
#[derive(Debug, Default)]
pub struct EventLog {
    file: Option<File>,
    /// The file's length after the last write that went through whole.
    length: u64,
    /// Whole lines not written yet.
    buffer: Vec<u8>,
    /// Why logging stopped early, if it did.
    failure: Option<String>,
}

impl EventLog {
    /// Opens `path` for appending (creating it), or a log that writes nothing.
    ///
    /// # Errors
    /// When the file cannot be opened for writing.
    pub fn open(path: Option<&Path>) -> io::Result<Self> {
        let file = match path {
            Some(path) => Some(crate::safefs::open_log(path, crate::safefs::Keep::Append)?),
            None => None,
        };
        let length = match (&file, path) {
            (Some(file), Some(path)) => crate::safefs::cut_torn_tail(
                file,
                path,
                starts_as_a_log,
                "it is not a poolwatch log (its first line is no event) and is kept as it is: give --log a new file or a log",
            )?,
            _ => 0,
        };
        Ok(Self {
            file,
            length,
            buffer: Vec::new(),
            failure: None,
        })
    }

    /// True when events go to a file (`--log`); a closed log writes nothing.
    #[must_use]
    pub fn is_open(&self) -> bool {
        self.file.is_some()
    }

    /// Queues one typed event (see [`crate::logformat`]) as a [`crate::eventlog::schema::Record`]:
    /// `{"event": KIND, "t": run seconds, "ts": unix seconds, ...fields}`. A write error stops
    /// logging (see [`EventLog::failure`]) rather than the run.
    pub fn write_event(&mut self, run_time: Duration, event: &crate::eventlog::schema::LogEvent) {
        if self.file.is_none() {
            return;
        }
        let unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        let record = crate::eventlog::schema::RecordRef {
            t: run_time.as_secs_f64(),
            ts: unix,
            event,
        };
        // Serializing plain data into a Vec cannot fail.
        if serde_json::to_writer(&mut self.buffer, &record).is_ok() {
            self.buffer.push(b'\n');
        }
        if self.buffer.len() >= FLUSH_AT {
            self.flush();
        }
    }

    /// Writes the queued lines. On failure, cuts the file back to its last whole line.
    pub fn flush(&mut self) {
        let Some(file) = self.file.as_mut() else { return };
        if self.buffer.is_empty() {
            return;
        }
        let mut done = 0;
        let result = loop {
            match file.write(&self.buffer[done..]) {
                Ok(0) => break Err(io::Error::from(io::ErrorKind::WriteZero)),
                Ok(wrote) => {
                    done += wrote;
                    if done == self.buffer.len() {
                        break Ok(());
                    }
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => break Err(err),
            }
        };
        match result {
            Ok(()) => {
                self.length += done as u64;
                self.buffer.clear();
            }
            Err(err) => self.fail(done, &err),
        }
    }

    /// After a write of `done` bytes then `err`: keeps whole lines only and stops logging.
    fn fail(&mut self, done: usize, err: &io::Error) {
        let whole = self.buffer[..done]
            .iter()
            .rposition(|byte| *byte == b'\n')
            .map_or(0, |at| at + 1);
        let keep = self.length + whole as u64;
        let cut = match self.file.take() {
            Some(file) if whole < done => file
                .set_len(keep)
                .map_err(|cut| format!(" (cutting it back failed: {cut})")),
            _ => Ok(()),
        };
        let reason = crate::console::os_reason(err);
        self.failure = Some(format!(
            "log write failed after {keep} bytes: {reason}{}; later events are missing",
            cut.err().unwrap_or_default()
        ));
        self.length = keep;
        self.buffer = Vec::new();
    }

    /// Why the log is incomplete, once a write has failed.
    #[must_use]
    pub fn failure(&self) -> Option<&str> {
        self.failure.as_deref()
    }
}

impl Drop for EventLog {
    /// Queued lines are written even when a run ends without [`EventLog::flush`] (an error path).
    fn drop(&mut self) {
        self.flush();
    }
}

/// True when the file `reader` reads starts as a poolwatch log does: a line that opens an
/// event object, `{"event":"` (whole or torn).
fn starts_as_a_log(reader: &mut File) -> io::Result<bool> {
    use std::io::Read;
    const OPENING: &[u8] = b"{\"event\":\"";
    let mut first = [0_u8; OPENING.len()];
    let mut got = 0;
    while got < first.len() {
        match reader.read(&mut first[got..])? {
            0 => break,
            read => got += read,
        }
    }
    Ok(OPENING.starts_with(&first[..got]) && (got == OPENING.len() || !first[..got].contains(&b'\n')))
}

#[cfg(test)]
mod torn_tail_tests {
    use super::*;

    #[test]
    fn opening_a_log_cuts_a_torn_last_line_so_the_next_run_starts_on_its_own_line() {
        let dir = crate::testing::TempPath::dir("torn-open");
        let path = dir.join("log.jsonl");
        std::fs::write(&path, "{\"event\":\"pause\",\"t\":0,\"ts\":0}\n{\"event\":\"mat").unwrap();
        let mut log = EventLog::open(Some(&path)).unwrap();
        log.write_event(Duration::ZERO, &crate::eventlog::schema::LogEvent::Resume {});
        drop(log);
        let records = crate::eventlog::schema::parse_log(&path).unwrap();
        assert_eq!(records.len(), 2, "the torn line is gone, the new one whole");
        assert_eq!(records[1].event, crate::eventlog::schema::LogEvent::Resume {});
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.lines().all(|line| line.starts_with("{\"event\":")), "{text}");
    }

    #[test]
    fn a_file_that_is_not_a_log_is_refused_and_kept_whole() {
        let dir = crate::testing::TempPath::dir("not-a-log");
        let path = dir.join("notes.txt");
        let notes = "x".repeat(3000);
        std::fs::write(&path, &notes).unwrap();
        let Err(err) = EventLog::open(Some(&path)) else {
            panic!("a text file must be refused")
        };
        assert!(err.to_string().contains("not a poolwatch log"), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), notes);
        let lines = "first line\nsecond without a newline";
        std::fs::write(&path, lines).unwrap();
        assert!(EventLog::open(Some(&path)).is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), lines);
        // A log torn in its first line is a log: the torn line goes.
        std::fs::write(&path, "{\"event\":\"sta").unwrap();
        drop(EventLog::open(Some(&path)).unwrap());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "");
    }
}
