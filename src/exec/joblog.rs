//! `exec --joblog FILE`: GNU parallel's tab-separated job log, written one line per finished job and read back to resume.

use poolwatch_core::sync::lock;
use std::collections::HashSet;
use std::fs::File;
use std::io::{self, Write};
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The first line of a job log, as GNU parallel writes it.
pub const HEADER: &str = "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand";

/// One finished job, as a job log line describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct JobRecord {
    /// The job's number, 1-based (`{#}`).
    pub seq: u64,
    /// When it started.
    pub start: SystemTime,
    /// How long it ran.
    pub runtime: Duration,
    /// Bytes it wrote to stdout.
    pub receive: u64,
    /// Its exit status; -1 when it was killed on a timeout (as GNU parallel writes it).
    pub exitval: i32,
    /// The signal that ended it, 0 if none.
    pub signal: i32,
    /// The command as a shell would read it.
    pub command: String,
}

impl JobRecord {
    /// The line, without its newline: `Starttime` has 3 decimals, `JobRuntime` is `%10.3f`, `Host` is `:`.
    #[must_use]
    pub fn line(&self) -> String {
        let start = self
            .start
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis();
        format!(
            "{}\t:\t{}.{:03}\t{:10.3}\t0\t{}\t{}\t{}\t{}",
            self.seq,
            start / 1000,
            start % 1000,
            self.runtime.as_secs_f64(),
            self.receive,
            self.exitval,
            self.signal,
            one_line(&self.command)
        )
    }
}

/// Tabs and newlines in a command would break the layout: they are written as spaces.
fn one_line(command: &str) -> String {
    command.replace(['\t', '\n', '\r'], " ")
}

/// The job log being written; lines from several workers never mix.
#[derive(Debug)]
pub struct JobLog {
    file: Mutex<Option<File>>,
}

impl JobLog {
    /// Creates `path` anew with the header, or, when `append` (resuming), adds to it
    /// (writing the header only if the file is empty).
    ///
    /// # Errors
    /// When the file cannot be opened or written.
    pub fn open(path: &Path, append: bool) -> io::Result<Self> {
        let keep = if append {
            crate::safefs::Keep::Append
        } else {
            crate::safefs::Keep::Truncate
        };
        let mut file = crate::safefs::open_log(path, keep)?;
        if append {
            // A crash (or a full disk) may have left a torn last line: the next line must
            // not be glued onto it.
            crate::safefs::cut_torn_tail(
                &file,
                path,
                |reader| starts_with(reader, HEADER.as_bytes()),
                "it is not a job log (its first line is not the header) and is kept as it is: give --joblog a new file or a job log",
            )?;
        }
        if file.metadata()?.len() == 0 {
            file.write_all(format!("{HEADER}\n").as_bytes())?;
        }
        Ok(Self {
            file: Mutex::new(Some(file)),
        })
    }

    /// Appends one line (one write, so a crash leaves at most a torn last line).
    /// A write error stops the job log, reported once on stderr, rather than the run.
    pub fn write(&self, record: &JobRecord) {
        let mut file = lock(&self.file);
        let Some(open) = file.as_mut() else { return };
        let line = format!("{}\n", record.line());
        if let Err(err) = open.write_all(line.as_bytes()) {
            crate::console::say(&format!(
                "poolwatch: job log write failed, job log stopped: {err}"
            ));
            *file = None;
        }
    }
}

/// True when the file `reader` reads starts with `prefix` (or with part of it: a job log
/// torn in its header is still one).
fn starts_with(reader: &mut File, prefix: &[u8]) -> io::Result<bool> {
    use std::io::Read;
    let mut first = vec![0_u8; prefix.len()];
    let mut got = 0;
    while got < first.len() {
        match reader.read(&mut first[got..])? {
            0 => break,
            read => got += read,
        }
    }
    Ok(prefix.starts_with(&first[..got]))
}

/// What an earlier job log says about the jobs, by `Seq`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Previous {
    /// Jobs with a line that shows no failure.
    pub succeeded: HashSet<u64>,
    /// Jobs whose only lines show a failure.
    pub failed: HashSet<u64>,
}

impl Previous {
    /// Reads a job log; a missing file is an empty log. Lines that do not parse (a torn
    /// last line, the header) are skipped.
    ///
    /// # Errors
    /// When the file exists but cannot be read.
    pub fn read(path: &Path) -> io::Result<Self> {
        let text = match std::fs::read(path) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(err) => return Err(err),
        };
        Ok(Self::parse(&text))
    }

    /// Parses a job log's text. A failure is what poolwatch counts as an error: an exit
    /// status other than 0 or 1 (0 is a match, 1 a miss), or a signal.
    #[must_use]
    pub fn parse(text: &str) -> Self {
        let mut previous = Self::default();
        // A line with no newline may be torn by a crash: it does not count.
        let whole = text.rsplit_once('\n').map_or("", |(whole, _torn)| whole);
        for line in whole.lines() {
            let fields: Vec<&str> = line.split('\t').collect();
            let (Some(seq), Some(exitval), Some(signal)) = (
                fields.first().and_then(|f| f.trim().parse::<u64>().ok()),
                fields.get(6).and_then(|f| f.trim().parse::<i64>().ok()),
                fields.get(7).and_then(|f| f.trim().parse::<i64>().ok()),
            ) else {
                continue;
            };
            if fields.len() < 9 {
                continue;
            }
            if signal == 0 && matches!(exitval, 0 | 1) {
                previous.failed.remove(&seq);
                previous.succeeded.insert(seq);
            } else if !previous.succeeded.contains(&seq) {
                previous.failed.insert(seq);
            }
        }
        previous
    }

    /// Jobs to skip: with `rerun_failed` only those that succeeded, else all that have a line.
    #[must_use]
    pub fn skip(self, rerun_failed: bool) -> HashSet<u64> {
        let mut skip = self.succeeded;
        if !rerun_failed {
            skip.extend(self.failed);
        }
        skip
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_has_parallels_columns() {
        let record = JobRecord {
            seq: 3,
            start: UNIX_EPOCH + Duration::from_millis(1_795_825_133_844),
            runtime: Duration::from_millis(17),
            receive: 6,
            exitval: 7,
            signal: 0,
            command: super::super::shell::words(&["sh".into(), "-c".into(), "exit 7".into()]),
        };
        assert_eq!(
            record.line(),
            "3\t:\t1795825133.844\t     0.017\t0\t6\t7\t0\tsh -c 'exit 7'"
        );
        assert_eq!(HEADER.split('\t').count(), record.line().split('\t').count());
    }

    #[test]
    fn failures_are_errors_and_a_torn_line_does_not_count() {
        let text = format!(
            "{HEADER}\n1\t:\t1.0\t0.1\t0\t0\t0\t0\ta\n2\t:\t1.0\t0.1\t0\t0\t1\t0\tb\n\
             3\t:\t1.0\t0.1\t0\t0\t7\t0\tc\n4\t:\t1.0\t0.1\t0\t0\t-1\t15\td\n\
             4\t:\t1.0\t0.1\t0\t0\t0\t0\td\n5\t:\t1.0\t0.1\t0\t0\t0\t0\te"
        );
        let previous = Previous::parse(&text);
        assert_eq!(previous.succeeded, HashSet::from([1, 2, 4]));
        assert_eq!(previous.failed, HashSet::from([3]));
        assert_eq!(previous.clone().skip(true), HashSet::from([1, 2, 4]));
        assert_eq!(previous.skip(false), HashSet::from([1, 2, 3, 4]));
    }

    #[test]
    fn resuming_cuts_a_torn_last_line_and_a_file_that_is_no_job_log_is_kept() {
        let dir = crate::testing::TempPath::dir("joblog-torn");
        let path = dir.join("job.tsv");
        // Job 20's line, then a crash (or `printf 1 >> job.tsv`) left a torn `1`.
        std::fs::write(&path, format!("{HEADER}\n20\t:\t1.0\t0.1\t0\t0\t0\t0\tt\n1")).unwrap();
        let log = JobLog::open(&path, true).unwrap();
        log.write(&JobRecord {
            seq: 21,
            start: SystemTime::UNIX_EPOCH,
            runtime: Duration::ZERO,
            receive: 0,
            exitval: 0,
            signal: 0,
            command: "u".into(),
        });
        drop(log);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.lines().skip(1).all(|line| line.split('\t').count() == 9),
            "{text}"
        );
        assert_eq!(Previous::parse(&text).succeeded, HashSet::from([20, 21]));
        let notes = dir.join("notes.txt");
        std::fs::write(&notes, "my notes, no newline").unwrap();
        assert!(JobLog::open(&notes, true).is_err());
        assert_eq!(std::fs::read_to_string(&notes).unwrap(), "my notes, no newline");
    }
}
