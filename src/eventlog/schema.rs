//! The `--log` format, defined once: every event a run writes, as typed records that the journal writes and `watch` and `--resume` read.
//!
//! A log is JSON lines, one [`Record`] per line: `{"event": KIND, "t": run seconds, "ts": unix
//! seconds, ...fields}`. Lines are written whole and flushed; a reader skips a last line that
//! was cut short (a crash or a power cut mid-write), see [`parse_log`] and [`LogTail`].
//!
//! | event | when | fields |
//! |---|---|---|
//! | `start` | first line of each run | [`StartEvent`]: format version, search, spec, workers, halt, space, window, shard, host, pid, resumed |
//! | `progress` | every `--status-every` (default 1 s), at each halt and just before `end` | [`ProgressEvent`]: counters, rate, best, times, state, `done` ranges |
//! | `match` | a task matched | task, input, value (in full), score, worker |
//! | `error` | a task failed | task, input, message, worker |
//! | `notice` | something about a task that is not its outcome (format 2) | task, input, message, worker |
//! | `best` | a new best score | task, score, worker |
//! | `halt` | the first halt of the run | reason |
//! | `pause` / `resume` | submission paused or resumed (dashboard) | |
//! | `workers` | the worker count changed (dashboard) | from, to |
//! | `halt-request` | the user asked for a halt (dashboard) | mode |
//! | `end` | last line of a run | summary (the `--json` summary object) |
//!
//! `progress` is both the live status that wrappers and `poolwatch watch` read (hashcat's
//! `--status-json`) and the checkpoint that `--resume` continues from: its `done` field lists
//! the ids completed so far as merged half-open ranges `[start, end)` of the whole space.

use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{self, BufRead, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// The version written in every `start` event; readers refuse a newer one and read every
/// older one. 2 added the `notice` event (a poolwatch that reads only 1 would take the line
/// for corruption; with the version it says the log is newer instead).
pub const FORMAT_VERSION: u32 = 2;

/// One line of the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Seconds since the run started (continuing across a resume).
    pub t: f64,
    /// Unix time of the write, seconds.
    pub ts: f64,
    /// What happened.
    #[serde(flatten)]
    pub event: LogEvent,
}

/// A [`Record`] to write, borrowing its event: the writer's side of the same line. The event
/// comes first, so every line starts `{"event":"KIND"` (handy for `grep`).
#[derive(Debug, Serialize)]
pub struct RecordRef<'a> {
    /// What happened.
    #[serde(flatten)]
    pub event: &'a LogEvent,
    /// Seconds since the run started.
    pub t: f64,
    /// Unix time of the write, seconds.
    pub ts: f64,
}

/// Every kind of event, tagged by its `event` field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum LogEvent {
    /// The run started (or was resumed).
    Start(StartEvent),
    /// Live status and checkpoint.
    Progress(ProgressEvent),
    /// A task matched.
    Match {
        /// Task id in the whole space.
        task: u64,
        /// The user's own name for the task (an exec input, a collatz start), when it differs from the id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        input: Option<String>,
        /// The search's description of the match, in full.
        value: String,
        /// Its score, for scoring searches.
        #[serde(default)]
        score: Option<f64>,
        /// Worker slot that ran it.
        worker: usize,
    },
    /// A task failed.
    Error {
        /// Task id in the whole space.
        task: u64,
        /// The user's own name for the task, when it differs from the id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        input: Option<String>,
        /// What went wrong.
        message: String,
        /// Worker slot that ran it.
        worker: usize,
    },
    /// Something about a task that is not its outcome (a `--worker` process that died
    /// while idle after answering it): neither an error nor a match.
    Notice {
        /// Task id in the whole space.
        task: u64,
        /// The user's own name for the task, when it differs from the id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        input: Option<String>,
        /// What happened.
        message: String,
        /// Worker slot that reported it.
        worker: usize,
    },
    /// A better score than any before.
    Best {
        /// Task id in the whole space.
        task: u64,
        /// The score.
        score: f64,
        /// Worker slot that ran it.
        worker: usize,
    },
    /// The run was asked to halt (once, for the first halt).
    Halt {
        /// Why (`match`, `user`, `signal`, ...).
        reason: String,
    },
    /// Submission paused.
    Pause {},
    /// Submission resumed.
    Resume {},
    /// The worker count changed.
    Workers {
        /// Before.
        from: usize,
        /// After.
        to: usize,
    },
    /// The user asked for a halt.
    HaltRequest {
        /// `now` or `soon`.
        mode: String,
    },
    /// The run ended; the last line of a run.
    End {
        /// The `--json` summary object.
        summary: EndSummary,
    },
}

/// How a run was set up: enough to rebuild it (`--resume`) and to place it among shards (`watch`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StartEvent {
    /// The writer's format version (`FORMAT_VERSION`).
    pub format: u32,
    /// Search name (`needle`, `pow`, `exec`...).
    pub search: String,
    /// Its parameters, one line.
    pub params: String,
    /// The search as a preset's `[search]` table, or null for a search the log cannot rebuild.
    #[serde(default)]
    pub spec: Option<LoggedSpec>,
    /// Workers at the start.
    pub workers: usize,
    /// The halt policy, as typed on the command line.
    pub halt: String,
    /// Size of the whole space (null while it is open: input still being read).
    #[serde(default)]
    pub space: Option<u64>,
    /// The window of the space this run searches, `[skip, skip + limit)`, if not all of it.
    #[serde(default)]
    pub window: Option<(u64, u64)>,
    /// Which shard of the window this run covers, if sharded.
    #[serde(default)]
    pub shard: Option<ShardInfo>,
    /// Host name of the machine that runs it.
    #[serde(default)]
    pub host: String,
    /// Process id of the writer.
    #[serde(default)]
    pub pid: u32,
    /// What an earlier run of the same log had done, when this run resumes it.
    #[serde(default)]
    pub resumed: Option<crate::summary::ResumedFrom>,
}

/// A `start` event's search spec: one this poolwatch knows, or one it does not (a newer
/// poolwatch's search, a hand-edited log), kept as written so that `--resume` can say why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum LoggedSpec {
    /// A search this poolwatch can rebuild.
    Known(Box<crate::spec::SearchSpec>),
    /// Anything else, as written.
    Unknown(serde_json::Value),
}

impl LoggedSpec {
    /// The search spec, or the parser's reason why it is not one this poolwatch knows.
    ///
    /// # Errors
    /// That reason.
    pub fn known(&self) -> Result<&crate::spec::SearchSpec, String> {
        match self {
            Self::Known(spec) => Ok(spec),
            Self::Unknown(value) => Err(serde_json::from_value::<crate::spec::SearchSpec>(value.clone())
                .err()
                .map_or_else(|| "unreadable".to_string(), |err| err.to_string())),
        }
    }
}

/// The `end` event's summary: the fields that readers of the log use (`--resume`, `watch`),
/// typed, and every other field of the `--json` summary kept as written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndSummary {
    /// Why the run ended (`match`, `exhausted`, `signal`...).
    pub halt_reason: String,
    /// Its exit code.
    pub exit_code: u8,
    /// The fatal error that halted it, if one did.
    #[serde(default)]
    pub fatal: Option<String>,
    /// Peak resident memory, KiB.
    #[serde(default)]
    pub peak_rss_kb: u64,
    /// Tasks started after the halt.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub started_after_halt: u64,
    /// The rest of the summary, as the `--json` summary has it.
    #[serde(flatten)]
    pub rest: serde_json::Map<String, serde_json::Value>,
}

fn is_zero(value: &u64) -> bool {
    *value == 0
}

impl EndSummary {
    /// The end event of `summary`.
    #[must_use]
    pub fn of(summary: &crate::summary::Summary) -> Self {
        let mut rest = match serde_json::to_value(summary) {
            Ok(serde_json::Value::Object(fields)) => fields,
            _ => serde_json::Map::new(),
        };
        for typed in [
            "halt_reason",
            "exit_code",
            "fatal",
            "peak_rss_kb",
            "started_after_halt",
        ] {
            rest.remove(typed);
        }
        Self {
            halt_reason: summary.halt_reason.as_str().to_string(),
            exit_code: summary.exit_code,
            fatal: summary.fatal.clone(),
            peak_rss_kb: summary.peak_rss_kb,
            started_after_halt: summary.counters.started_after_halt,
            rest,
        }
    }

    /// The halt reason, when it is one this poolwatch knows.
    #[must_use]
    pub fn reason(&self) -> Option<poolwatch_core::HaltReason> {
        poolwatch_core::HaltReason::from_name(&self.halt_reason)
    }
}

/// The window `[skip, end)` that `--skip`/`--limit` describe (`end` `u64::MAX`: to the end of
/// the space), or `None` for the whole space: the form `start` events log it in.
#[must_use]
pub fn window_of(skip: u64, limit: Option<u64>) -> Option<(u64, u64)> {
    (skip != 0 || limit.is_some()).then(|| (skip, limit.map_or(u64::MAX, |limit| skip.saturating_add(limit))))
}

/// The `--skip` and `--limit` of a window `[skip, end)`: no limit when it runs to the end of the
/// space (`end` `u64::MAX`).
#[must_use]
pub fn skip_limit((skip, end): (u64, u64)) -> (u64, Option<u64>) {
    (skip, (end != u64::MAX).then(|| end.saturating_sub(skip)))
}

/// One shard's place in a sharded search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardInfo {
    /// This shard, `0..count`.
    pub index: u64,
    /// How many shards.
    pub count: u64,
    /// Ids per chunk; chunk `k` goes to shard `k % count`.
    pub chunk: u64,
}

/// The best score so far, as logged.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LoggedBest {
    /// The score.
    pub score: f64,
    /// The task id in the whole space.
    pub task: u64,
}

impl From<poolwatch_core::Best> for LoggedBest {
    fn from(best: poolwatch_core::Best) -> Self {
        Self {
            score: best.score,
            task: best.task,
        }
    }
}

impl From<LoggedBest> for poolwatch_core::Best {
    fn from(best: LoggedBest) -> Self {
        Self {
            score: best.score,
            task: best.task,
        }
    }
}

/// Live status and checkpoint of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProgressEvent {
    /// `running`, `paused`, `halting` or `finished`.
    pub state: String,
    /// Ids this run covers (a lower bound while `total_open`).
    pub total: u64,
    /// True while the size is not known yet.
    #[serde(default)]
    pub total_open: bool,
    /// Ids handed out.
    pub submitted: u64,
    /// Tasks run to an outcome (earlier runs of a resumed log included).
    pub completed: u64,
    /// Submitted tasks that did not complete.
    pub cancelled: u64,
    /// Matches so far.
    pub matches: u64,
    /// Errors so far.
    pub errors: u64,
    /// Tasks per second since the previous `progress` event.
    pub rate: f64,
    /// Best score so far.
    #[serde(default)]
    pub best: Option<LoggedBest>,
    /// Wall seconds since the run started.
    pub elapsed_s: f64,
    /// Seconds not paused.
    pub active_s: f64,
    /// Workers asked for.
    pub workers: usize,
    /// Completed ids, merged half-open ranges `[start, end)` of the whole space, sorted.
    pub done: Vec<(u64, u64)>,
}

/// Why a log could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LogReadError {
    /// The file could not be opened or read.
    #[error("cannot read log {path}: {cause}")]
    Io {
        /// The log.
        path: PathBuf,
        /// The cause, in the message (not a chained source: printed once).
        cause: io::Error,
    },
    /// A whole line (not the torn last one) is not a record.
    #[error("log {path} line {line}: not a poolwatch event ({message})")]
    Corrupt {
        /// The log.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The parser's message.
        message: String,
    },
    /// The log was written by a newer poolwatch.
    #[error("log {path} has format {found}; this poolwatch reads format {FORMAT_VERSION}")]
    NewerFormat {
        /// The log.
        path: PathBuf,
        /// Its version.
        found: u32,
    },
}

/// A logged number of seconds as a duration: negative or not a number is zero, too large for a
/// duration is the largest one (a log is input: it must not panic the reader).
#[must_use]
pub fn seconds(value: f64) -> std::time::Duration {
    std::time::Duration::try_from_secs_f64(value.max(0.0)).unwrap_or(std::time::Duration::MAX)
}

/// Parses one line (without its newline).
///
/// # Errors
/// The serde message when the line is not a record.
pub fn parse_line(line: &str) -> Result<Record, String> {
    serde_json::from_str(line).map_err(|err| err.to_string())
}

/// Longest line a log reader takes (a `start` event with a long command is far below it):
/// a longer one is corrupt, not a reason to read until memory runs out.
pub const MAX_LOG_LINE: usize = 64 << 20;

/// Every complete record of a log file, in order. A torn last line (no newline, or not parsable
/// at the very end of the file) is skipped; a bad line anywhere else is an error. Holds the
/// whole log: readers of logs of any length use `for_each_record`.
///
/// # Errors
/// When the file cannot be read, a whole line is not a record, or the format is newer.
pub fn parse_log(path: &Path) -> Result<Vec<Record>, LogReadError> {
    let mut records = Vec::new();
    for_each_record(path, |record| records.push(record))?;
    Ok(records)
}

/// Passes each complete record of a log file to `each`, in order, reading one line at a time:
/// memory stays flat however long the log is. Torn and bad lines as [`parse_log`].
///
/// # Errors
/// As [`parse_log`]; a line over [`MAX_LOG_LINE`] is corrupt.
pub fn for_each_record(path: &Path, mut each: impl FnMut(Record)) -> Result<(), LogReadError> {
    let io_error = |cause| LogReadError::Io {
        path: path.to_path_buf(),
        cause,
    };
    // A log is a file: a FIFO would block the read until some writer came, and a device
    // such as /dev/zero would be read until memory ran out. stat does not block.
    let metadata = std::fs::metadata(path).map_err(io_error)?;
    if !metadata.is_file() {
        return Err(io_error(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file (a log is a file that --log wrote)",
        )));
    }
    let mut reader = io::BufReader::with_capacity(1 << 20, File::open(path).map_err(io_error)?);
    let corrupt = |line: usize, message: String| LogReadError::Corrupt {
        path: path.to_path_buf(),
        line,
        message,
    };
    // A line that fails to parse is an error unless it is the file's last: then it is torn.
    let mut failed: Option<(usize, String)> = None;
    let mut line = Vec::new();
    let mut number = 0;
    loop {
        line.clear();
        let read = io::Read::take(&mut reader, MAX_LOG_LINE as u64 + 1)
            .read_until(b'\n', &mut line)
            .map_err(io_error)?;
        if read == 0 || line.last() != Some(&b'\n') {
            if line.len() > MAX_LOG_LINE {
                return Err(corrupt(
                    number + 1,
                    format!("a line longer than {MAX_LOG_LINE} bytes"),
                ));
            }
            return Ok(()); // the end, or torn: the writer never finished this line
        }
        if let Some((at, message)) = failed.take() {
            return Err(corrupt(at, message));
        }
        number += 1;
        let text = String::from_utf8_lossy(&line[..line.len() - 1]);
        if text.trim().is_empty() {
            continue;
        }
        match parse_line(&text) {
            Ok(record) => {
                check_version(path, &record)?;
                each(record);
            }
            Err(message) => failed = Some((number, message)),
        }
    }
}

fn check_version(path: &Path, record: &Record) -> Result<(), LogReadError> {
    match &record.event {
        LogEvent::Start(start) if start.format > FORMAT_VERSION => Err(LogReadError::NewerFormat {
            path: path.to_path_buf(),
            found: start.format,
        }),
        _ => Ok(()),
    }
}

/// Follows a log that another process is still writing: each [`LogTail::poll`] returns the
/// records completed since the last call, holding back a line until its newline arrives.
#[derive(Debug)]
pub struct LogTail {
    path: PathBuf,
    offset: u64,
    partial: Vec<u8>,
    line: usize,
    /// The file held more than the last poll read.
    behind: bool,
}

/// Bytes one [`LogTail::poll`] reads at most: a long log is read in slices, so a follower's
/// memory stays flat however long the log is (it polls again at once while behind).
const TAIL_SLICE: u64 = 1 << 20;

impl LogTail {
    /// Starts at the beginning of `path` (which may not exist yet).
    #[must_use]
    pub fn new(path: &Path) -> Self {
        Self {
            path: path.to_path_buf(),
            offset: 0,
            partial: Vec::new(),
            line: 0,
            behind: false,
        }
    }

    /// True when the last poll left bytes of the file unread: poll again without waiting.
    #[must_use]
    pub fn behind(&self) -> bool {
        self.behind
    }

    /// The followed file.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records whose lines were completed since the last poll, from at most [`TAIL_SLICE`]
    /// bytes (see [`LogTail::behind`]). A file that does not exist yet gives none; a file that
    /// shrank (rewritten) is read again from its start. A line longer than [`MAX_LOG_LINE`] is
    /// corrupt.
    ///
    /// # Errors
    /// When the file cannot be read, or a complete line is not a record.
    pub fn poll(&mut self) -> Result<Vec<Record>, LogReadError> {
        let path = self.path.clone();
        let io_error = |cause| LogReadError::Io {
            path: path.clone(),
            cause,
        };
        let mut file = match File::open(&self.path) {
            Ok(file) => file,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(err) => return Err(io_error(err)),
        };
        let length = file.metadata().map_err(io_error)?.len();
        if length < self.offset {
            *self = Self::new(&path);
        }
        file.seek(SeekFrom::Start(self.offset)).map_err(io_error)?;
        let mut fresh = Vec::new();
        file.take(TAIL_SLICE).read_to_end(&mut fresh).map_err(io_error)?;
        self.offset += fresh.len() as u64;
        self.behind = self.offset < length;
        self.partial.extend_from_slice(&fresh);
        if self.partial.len() > MAX_LOG_LINE {
            return Err(LogReadError::Corrupt {
                path: self.path.clone(),
                line: self.line + 1,
                message: format!("a line longer than {MAX_LOG_LINE} bytes"),
            });
        }
        self.take_lines()
    }

    fn take_lines(&mut self) -> Result<Vec<Record>, LogReadError> {
        let mut records = Vec::new();
        // Whole lines end at the last newline; the rest waits. One drain, not one per line.
        let Some(last) = self.partial.iter().rposition(|byte| *byte == b'\n') else {
            return Ok(records);
        };
        let whole: Vec<u8> = self.partial.drain(..=last).collect();
        for line in whole[..last].split(|byte| *byte == b'\n') {
            self.line += 1;
            let text = String::from_utf8_lossy(line);
            if text.trim().is_empty() {
                continue;
            }
            let record = parse_line(&text).map_err(|message| LogReadError::Corrupt {
                path: self.path.clone(),
                line: self.line,
                message,
            })?;
            check_version(&self.path, &record)?;
            records.push(record);
        }
        Ok(records)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn start_and_end_are_typed_and_an_unknown_spec_says_why() {
        let start = r#"{"t":0,"ts":0,"event":"start","format":2,"search":"collatz","params":"","spec":{"kind":"collatz","below":100},"workers":2,"halt":"never"}"#;
        let LogEvent::Start(start) = parse_line(start).unwrap().event else {
            panic!("a start")
        };
        assert!(matches!(start.spec, Some(LoggedSpec::Known(_))));
        let newer = r#"{"t":0,"ts":0,"event":"start","format":2,"search":"x","params":"","spec":{"kind":"teleport"},"workers":2,"halt":"never"}"#;
        let LogEvent::Start(newer) = parse_line(newer).unwrap().event else {
            panic!("a start")
        };
        let reason = newer.spec.as_ref().unwrap().known().unwrap_err();
        assert!(reason.contains("teleport"), "{reason}");
        let end =
            r#"{"t":1,"ts":1,"event":"end","summary":{"halt_reason":"match","exit_code":0,"completed":7}}"#;
        let LogEvent::End { summary } = parse_line(end).unwrap().event else {
            panic!("an end")
        };
        assert_eq!(
            (summary.reason(), summary.exit_code),
            (Some(poolwatch_core::HaltReason::Match), 0)
        );
        assert_eq!(summary.rest.get("completed"), Some(&serde_json::json!(7)));
        let untyped = r#"{"t":1,"ts":1,"event":"end","summary":{"exit_code":"zero"}}"#;
        assert!(parse_line(untyped).is_err());
    }

    fn progress(done: Vec<(u64, u64)>) -> LogEvent {
        LogEvent::Progress(ProgressEvent {
            state: "running".into(),
            total: 100,
            total_open: false,
            submitted: 60,
            completed: done.iter().map(|(start, end)| end - start).sum(),
            cancelled: 0,
            matches: 1,
            errors: 0,
            rate: 12.5,
            best: Some(LoggedBest { score: 3.0, task: 7 }),
            elapsed_s: 1.5,
            active_s: 1.5,
            workers: 2,
            done,
        })
    }

    #[test]
    fn every_event_round_trips_with_its_kind_name() {
        let events = [
            (progress(vec![(0, 10), (20, 30)]), "progress"),
            (
                LogEvent::Match {
                    task: 4,
                    input: Some("5".into()),
                    value: "x".into(),
                    score: None,
                    worker: 1,
                },
                "match",
            ),
            (LogEvent::HaltRequest { mode: "now".into() }, "halt-request"),
            (LogEvent::Pause {}, "pause"),
            (LogEvent::Workers { from: 2, to: 3 }, "workers"),
        ];
        for (event, kind) in events {
            let record = Record {
                t: 1.0,
                ts: 2.0,
                event,
            };
            let line = serde_json::to_string(&record).unwrap();
            assert!(line.contains(&format!("\"event\":\"{kind}\"")), "{line}");
            assert_eq!(parse_line(&line).unwrap(), record);
        }
    }

    #[test]
    fn a_torn_last_line_is_skipped_and_a_torn_middle_line_is_an_error() {
        let dir = crate::testing::TempPath::dir("logformat");
        let path = dir.join("torn.jsonl");
        let whole = serde_json::to_string(&Record {
            t: 0.0,
            ts: 0.0,
            event: progress(vec![(0, 5)]),
        })
        .unwrap();
        std::fs::write(&path, format!("{whole}\n{{\"event\":\"match\",\"score\":10.0,")).unwrap();
        assert_eq!(parse_log(&path).unwrap().len(), 1);
        std::fs::write(&path, format!("{{\"event\":\"mat\n{whole}\n")).unwrap();
        assert!(matches!(
            parse_log(&path),
            Err(LogReadError::Corrupt { line: 1, .. })
        ));
    }

    #[test]
    fn a_tail_returns_lines_only_once_complete() {
        let dir = crate::testing::TempPath::dir("tail");
        let path = dir.join("live.jsonl");
        let mut tail = LogTail::new(&path);
        assert!(tail.poll().unwrap().is_empty(), "no file yet");
        let line = serde_json::to_string(&Record {
            t: 0.0,
            ts: 0.0,
            event: LogEvent::Pause {},
        })
        .unwrap();
        let mut file = std::fs::File::create(&path).unwrap();
        file.write_all(&line.as_bytes()[..5]).unwrap();
        assert!(tail.poll().unwrap().is_empty(), "half a line");
        file.write_all(&line.as_bytes()[5..]).unwrap();
        file.write_all(b"\n").unwrap();
        assert_eq!(tail.poll().unwrap().len(), 1);
        assert!(tail.poll().unwrap().is_empty());
    }
}

#[cfg(test)]
mod window_tests {
    use super::{skip_limit, window_of};

    #[test]
    fn a_window_and_its_skip_and_limit_convert_both_ways() {
        assert_eq!(window_of(0, None), None);
        assert_eq!(window_of(100, Some(50)), Some((100, 150)));
        assert_eq!(window_of(100, None), Some((100, u64::MAX)));
        assert_eq!(window_of(0, Some(7)), Some((0, 7)));
        assert_eq!(window_of(u64::MAX - 1, Some(5)), Some((u64::MAX - 1, u64::MAX)));
        for (skip, limit) in [(100, Some(50)), (100, None), (0, Some(7))] {
            assert_eq!(window_of(skip, limit).map(skip_limit), Some((skip, limit)));
        }
    }
}

#[cfg(test)]
mod seconds_tests {
    #[test]
    fn any_logged_number_of_seconds_is_a_duration_without_panic() {
        use std::time::Duration;
        assert_eq!(super::seconds(1.5), Duration::from_millis(1_500));
        assert_eq!(super::seconds(-3.0), Duration::ZERO);
        assert_eq!(super::seconds(f64::NAN), Duration::ZERO);
        assert_eq!(super::seconds(1e300), Duration::MAX);
        assert_eq!(super::seconds(f64::INFINITY), Duration::MAX);
    }
}
