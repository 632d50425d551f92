//! The `--log FILE` writer: one JSON object per line, flushed after every event.

use serde_json::{Value, json};
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// An append-only JSON-lines event log; a no-op when no path was given.
#[derive(Debug, Default)]
pub struct EventLog {
    file: Option<File>,
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
        Ok(Self { file })
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

    /// Writes one event: `{"event": kind, "t": run seconds, "ts": unix seconds, ...fields}`.
    /// A write error stops logging (reported once on stderr) rather than the run.
    pub fn write(&mut self, kind: &str, run_time: Duration, fields: Value) {
        let Some(file) = self.file.as_mut() else { return };
        let unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        let mut record = json!({ "event": kind, "t": run_time.as_secs_f64(), "ts": unix });
        if let (Some(record), Value::Object(fields)) = (record.as_object_mut(), fields) {
            record.extend(fields);
        }
        let mut line = record.to_string();
        line.push('\n');
        // One write per line keeps lines whole when several processes append to one file.
        if let Err(err) = file.write_all(line.as_bytes()).and_then(|()| file.flush()) {
            eprintln!("poolwatch: log write failed, logging stopped: {err}");
            self.file = None;
        }
    }
}
