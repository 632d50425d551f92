//! The `--log FILE` writer: one JSON object per line, written in whole lines only.

use serde_json::{Value, json};
use std::fs::{File, OpenOptions};
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
            Some(path) => Some(OpenOptions::new().create(true).append(true).open(path)?),
            None => None,
        };
        let length = match &file {
            Some(file) => file.metadata()?.len(),
            None => 0,
        };
        Ok(Self {
            file,
            length,
            buffer: Vec::new(),
            failure: None,
        })
    }

    /// Writes one typed event (see [`crate::logformat`]).
    pub fn write_event(&mut self, run_time: Duration, event: &crate::logformat::LogEvent) {
        if self.file.is_none() {
            return;
        }
        let Ok(Value::Object(mut fields)) = serde_json::to_value(event) else {
            return;
        };
        let kind = match fields.remove("event") {
            Some(Value::String(kind)) => kind,
            _ => return,
        };
        self.write(&kind, run_time, Value::Object(fields));
    }

    /// Queues one event: `{"event": kind, "t": run seconds, "ts": unix seconds, ...fields}`.
    /// A write error stops logging (see [`EventLog::failure`]) rather than the run.
    pub fn write(&mut self, kind: &str, run_time: Duration, fields: Value) {
        if self.file.is_none() {
            return;
        }
        let unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        let mut record = json!({ "event": kind, "t": run_time.as_secs_f64(), "ts": unix });
        if let (Some(record), Value::Object(fields)) = (record.as_object_mut(), fields) {
            record.extend(fields);
        }
        // Serializing into a Vec cannot fail for a `Value`.
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
        let reason = crate::exec::os_reason(err);
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
