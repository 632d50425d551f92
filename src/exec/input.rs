//! Where inputs come from: an integer range, or lines read lazily from a file or stdin on a reader thread.

use crossbeam_channel::{Receiver, RecvTimeoutError};
use poolwatch_core::PlannedIds;
use poolwatch_core::search::SpaceStatus;
use poolwatch_core::sync::lock;
use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::ops::Range;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Lines read ahead of the workers at most: memory stays flat whatever the input's length.
const READ_AHEAD: usize = 1024;
/// Longest input line accepted, in bytes (without its line ending): a longer one ends the run
/// with a fatal error rather than filling memory.
pub const MAX_LINE: usize = 1 << 20;

/// One input line, its bytes as read (not necessarily UTF-8), or why reading stopped there.
pub type Line = Result<Vec<u8>, String>;

/// An input as messages and labels name it: UTF-8 as it is (whoever shows it to a person
/// escapes its control characters), other bytes as `\xNN` (`caf\xe9`).
#[must_use]
pub fn label(input: &[u8]) -> String {
    match std::str::from_utf8(input) {
        Ok(text) => text.to_string(),
        Err(_) => crate::escape::bytes(input),
    }
}

/// An integer range `start..end` (half-open), parsed from `A..B` or `A..=B`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntRange {
    /// First input.
    pub start: i64,
    /// Number of inputs.
    pub len: u64,
}

impl IntRange {
    /// Parses `A..B` (B excluded, like Rust) or `A..=B` (B included). `None` if malformed or empty.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        Self::parse_bounds(text).filter(|_| !Self::out_of_limits(text))
    }

    /// True when `text` is `A..B` or `A..=B` with an integer beyond the 64-bit signed limits.
    #[must_use]
    pub fn out_of_limits(text: &str) -> bool {
        let Some((a, b)) = text.split_once("..") else {
            return false;
        };
        let b = b.strip_prefix('=').unwrap_or(b);
        [a, b].iter().any(|bound| {
            let bound = bound.trim();
            let digits = bound.strip_prefix(['-', '+']).unwrap_or(bound);
            !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) && bound.parse::<i64>().is_err()
        })
    }

    fn parse_bounds(text: &str) -> Option<Self> {
        let (start, end, inclusive) = if let Some((a, b)) = text.split_once("..=") {
            (a, b, true)
        } else {
            let (a, b) = text.split_once("..")?;
            (a, b, false)
        };
        let start: i64 = start.trim().parse().ok()?;
        let end: i64 = end.trim().parse().ok()?;
        let end = i128::from(end) + i128::from(inclusive);
        let len = u64::try_from(end - i128::from(start)).ok()?;
        (len > 0).then_some(Self { start, len })
    }

    /// The input of task `task`.
    #[must_use]
    pub fn input(&self, task: u64) -> String {
        (i128::from(self.start) + i128::from(task)).to_string()
    }
}

/// Where lazy input lines come from.
pub enum LineSource {
    /// Standard input.
    Stdin,
    /// An opened file and its name as given.
    File(File, String),
}

impl LineSource {
    /// Opens `path` for reading, refusing directories.
    ///
    /// # Errors
    /// The reason, as text, when the file cannot be read.
    pub fn open(path: &Path) -> Result<Self, String> {
        let file = File::open(path).map_err(|err| crate::console::os_reason(&err))?;
        let is_dir = file.metadata().map(|meta| meta.is_dir()).unwrap_or(false);
        if is_dir {
            return Err("is a directory".to_string());
        }
        Ok(Self::File(file, path.display().to_string()))
    }

    /// How messages name it.
    fn name(&self) -> String {
        match self {
            Self::Stdin => "standard input".to_string(),
            Self::File(_, name) => format!("input {name}"),
        }
    }
}

/// What the lazy reader has handed over so far.
#[derive(Debug, Default)]
struct Progress {
    available: u64,
    complete: bool,
}

/// Lines read on a dedicated thread into a bounded channel, numbered as they arrive.
///
/// The reader starts on the first [`LazyLines::extend`], so a search that is built
/// only to validate the command line reads nothing.
pub struct LazyLines {
    source: Mutex<Option<LineSource>>,
    lines: Mutex<Option<Receiver<Line>>>,
    progress: Mutex<Progress>,
    pending: Mutex<HashMap<u64, Line>>,
    /// The ids the run will take, once known: other lines are not kept in `pending`.
    wanted: OnceLock<PlannedIds>,
    /// How messages name the source (`input FILE`, `standard input`).
    name: String,
    estimate: Option<u64>,
    /// Lines of a regular file, counted up front on a background thread (like GNU parallel's
    /// `--eta`), so that the total and the ETA are real before the reader reaches the end.
    counted: Arc<OnceLock<u64>>,
}

impl LazyLines {
    /// Lines from `source`; `estimate` is the user's `--total`, shown until input ends.
    #[must_use]
    pub fn new(source: LineSource, estimate: Option<u64>) -> Self {
        Self {
            name: source.name(),
            source: Mutex::new(Some(source)),
            lines: Mutex::new(None),
            progress: Mutex::new(Progress::default()),
            pending: Mutex::new(HashMap::new()),
            wanted: OnceLock::new(),
            estimate,
            counted: Arc::new(OnceLock::new()),
        }
    }

    /// Keeps from now on only the lines of `wanted`; lines read already outside it are
    /// dropped. Set once: a second call changes nothing.
    pub fn keep_only(&self, wanted: PlannedIds) {
        if self.wanted.set(wanted).is_err() {
            return;
        }
        let mut progress = lock(&self.progress);
        let mut pending = lock(&self.pending);
        for (task, line) in std::mem::take(&mut *pending) {
            if let Some(slot) = self.slot_for(task, &line) {
                progress.available = progress.available.max(slot + 1);
                pending.insert(slot, line);
            }
        }
    }

    /// Where line `task` is kept until a worker takes it, or `None` when the run will not
    /// ask for it. A read failure ends the input wherever it falls: it is kept on the first id
    /// at or after it that the run hands out (its message names its own line), so that a
    /// shard whose next lines it cuts off ends with that error, not as if its input had ended.
    fn slot_for(&self, task: u64, line: &Line) -> Option<u64> {
        let Some(wanted) = self.wanted.get() else {
            return Some(task);
        };
        match line {
            Ok(_) => wanted.contains(task).then_some(task),
            Err(_) => wanted.first_from(task),
        }
    }

    /// Takes the input of task `task` (each is handed out once); `Err` names a read
    /// failure or an over-long line where this task's line should have been.
    pub fn take(&self, task: u64) -> Option<Line> {
        lock(&self.pending).remove(&task)
    }

    /// Why line `task` cannot be handed out when it is not held: each line runs once, so a
    /// caller that asks twice (or before it is read) has lost track of it, and must not run
    /// an empty input instead.
    #[must_use]
    pub fn not_available(&self, task: u64) -> String {
        format!(
            "{}: line {} is not available (handed out already, or not read yet): stopped rather than run an empty input",
            self.name,
            task.saturating_add(1)
        )
    }

    /// Takes the inputs of `tasks`, in order, onto the end of `into`, under one lock. Stops at
    /// the first line it cannot hand out, with a message naming it: a read failure or an
    /// over-long line, or a line handed out already or not read yet (each line runs once: a
    /// caller that asks twice has lost track of it, and must not run an empty input instead).
    ///
    /// # Errors
    /// That message; the lines before it are taken.
    pub fn take_burst(&self, tasks: Range<u64>, into: &mut VecDeque<Vec<u8>>) -> Result<(), String> {
        let mut pending = lock(&self.pending);
        for task in tasks {
            match pending.remove(&task) {
                Some(Ok(line)) => into.push_back(line),
                Some(Err(message)) => return Err(message),
                None => return Err(self.not_available(task)),
            }
        }
        Ok(())
    }

    /// Reads lines until `wanted` are available, the input ends, or `wait` has passed, and
    /// reports how far the space goes then.
    ///
    /// The promise: it returns early only when `wanted` lines are available or the input has
    /// ended; otherwise it waits the whole of `wait` for more, so that a reader thread that
    /// is merely slow (a loaded machine) does not shrink the submitter's batches to the one
    /// line it had read. It never blocks longer than `wait`: a pipe that stalls delays the
    /// next batch by at most `wait`, never a halt.
    pub fn extend(&self, wanted: u64, wait: Duration) -> SpaceStatus {
        let deadline = Instant::now() + wait;
        let mut progress = lock(&self.progress);
        let mut lines = lock(&self.lines);
        if lines.is_none() && !progress.complete {
            *lines = self.start_reader();
            progress.complete = lines.is_none();
        }
        // Kept lines go to `pending` under one lock at the end: taking it per line would make
        // the workers' `take_burst` wait on it line by line. No one can ask for these lines
        // before then: they become available when `progress` is released.
        let mut kept = Vec::new();
        while let Some(rx) = lines.as_ref().filter(|_| progress.available < wanted) {
            // A past deadline still takes what the channel holds, without waiting.
            let received = rx
                .recv_deadline(deadline)
                .map_err(|err| err == RecvTimeoutError::Disconnected);
            match received {
                Ok(line) => {
                    let task = progress.available;
                    progress.available += 1;
                    if let Some(slot) = self.slot_for(task, &line) {
                        // A failure kept further on: the ids between are not the run's.
                        progress.available = progress.available.max(slot + 1);
                        kept.push((slot, line));
                    }
                }
                Err(true) => {
                    progress.complete = true;
                    *lines = None;
                }
                Err(false) => break,
            }
        }
        if !kept.is_empty() {
            lock(&self.pending).extend(kept);
        }
        SpaceStatus {
            available: progress.available,
            complete: progress.complete,
            estimate: self.counted.get().copied().or(self.estimate),
        }
    }

    /// How many lines are held, read and not taken yet.
    #[cfg(test)]
    #[must_use]
    pub fn held(&self) -> usize {
        lock(&self.pending).len()
    }

    /// The number of lines of the file, once the counting thread has finished.
    #[cfg(test)]
    #[must_use]
    pub fn counted(&self) -> Option<u64> {
        self.counted.get().copied()
    }

    /// Starts the reader thread; `None` (no input) when there is no source or no thread.
    fn start_reader(&self) -> Option<Receiver<Line>> {
        let source = lock(&self.source).take()?;
        if let LineSource::File(file, _) = &source {
            count_in_background(file, Arc::clone(&self.counted));
        }
        let (tx, rx) = crossbeam_channel::bounded(READ_AHEAD);
        let spawned = std::thread::Builder::new()
            .name("poolwatch-exec-input".into())
            .spawn(move || {
                let name = source.name();
                let reader: Box<dyn Read> = match source {
                    LineSource::Stdin => Box::new(std::io::stdin()),
                    LineSource::File(file, _) => Box::new(file),
                };
                for line in read_lines(BufReader::new(reader), &name) {
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
        spawned.ok().map(|_handle| rx)
    }
}

/// Counts the lines of a regular file on a thread of its own, with positional reads that leave
/// the reader's offset alone; pipes and terminals are not counted (they can be read once only).
fn count_in_background(file: &File, counted: Arc<OnceLock<u64>>) {
    let regular = file.metadata().is_ok_and(|meta| meta.is_file());
    let Some(file) = file.try_clone().ok().filter(|_| regular) else {
        return;
    };
    let spawned = std::thread::Builder::new()
        .name("poolwatch-exec-count".into())
        .spawn(move || {
            if let Some(lines) = count_lines(&file) {
                let _already = counted.set(lines);
            }
        });
    // Without the thread the total stays open, as for stdin.
    drop(spawned);
}

/// Lines in `file` as the reader will see them: newlines, plus a last line without one.
fn count_lines(file: &File) -> Option<u64> {
    use std::os::unix::fs::FileExt;
    let mut buffer = vec![0u8; 1 << 16];
    let (mut offset, mut lines, mut last) = (0u64, 0u64, b'\n');
    loop {
        let read = file.read_at(&mut buffer, offset).ok()?;
        if read == 0 {
            break;
        }
        let chunk = &buffer[..read];
        lines += chunk.iter().filter(|&&byte| byte == b'\n').count() as u64;
        last = chunk[read - 1];
        offset += read as u64;
    }
    Some(lines + u64::from(last != b'\n'))
}

/// Lines of `reader` without their `\n` or `\r\n`, their bytes as they are; ends at EOF,
/// or after one `Err` for a read error or a line longer than [`MAX_LINE`].
fn read_lines(mut reader: impl BufRead, name: &str) -> impl Iterator<Item = Line> {
    let mut buffer = Vec::new();
    let mut number: u64 = 0;
    let mut failed = false;
    let name = name.to_string();
    std::iter::from_fn(move || {
        if failed {
            return None;
        }
        buffer.clear();
        number += 1;
        let read = read_capped_line(&mut reader, &mut buffer).map_err(|problem| {
            failed = true;
            match problem {
                LineProblem::TooLong => {
                    format!(
                        "{name}: line {number} is longer than {} MiB, the limit",
                        MAX_LINE >> 20
                    )
                }
                LineProblem::Read(err) => {
                    format!(
                        "{name}: read failed at line {number}: {}",
                        crate::console::os_reason(&err)
                    )
                }
            }
        });
        match read {
            Err(message) => Some(Err(message)),
            Ok(false) => None,
            Ok(true) => {
                if buffer.last() == Some(&b'\n') {
                    buffer.pop();
                    if buffer.last() == Some(&b'\r') {
                        buffer.pop();
                    }
                }
                Some(Ok(buffer.clone()))
            }
        }
    })
}

/// Why a line could not be read.
enum LineProblem {
    TooLong,
    Read(std::io::Error),
}

/// Reads one line (with its `\n`, if any) into `buffer`; false at EOF with nothing read.
/// Holds at most [`MAX_LINE`] bytes plus one read buffer.
fn read_capped_line(reader: &mut impl BufRead, buffer: &mut Vec<u8>) -> Result<bool, LineProblem> {
    loop {
        let available = match reader.fill_buf() {
            Ok(available) => available,
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(LineProblem::Read(err)),
        };
        if available.is_empty() {
            return Ok(!buffer.is_empty());
        }
        let (taken, done) = match available.iter().position(|byte| *byte == b'\n') {
            Some(at) => (at + 1, true),
            None => (available.len(), false),
        };
        buffer.extend_from_slice(&available[..taken]);
        reader.consume(taken);
        let content = buffer.len() - usize::from(done) - usize::from(done && buffer.ends_with(b"\r\n"));
        if content > MAX_LINE {
            return Err(LineProblem::TooLong);
        }
        if done {
            return Ok(true);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use poolwatch_core::{IdPlan, Shard};

    #[test]
    fn ranges_are_half_open_or_inclusive() {
        assert_eq!(IntRange::parse("1..4"), Some(IntRange { start: 1, len: 3 }));
        assert_eq!(IntRange::parse("1..=4"), Some(IntRange { start: 1, len: 4 }));
        assert_eq!(IntRange::parse("-2..1").map(|r| r.input(0)), Some("-2".into()));
        for bad in ["", "1", "4..1", "3..3", "a..b", "1...3", "1..2..3"] {
            assert_eq!(IntRange::parse(bad), None, "{bad}");
            assert!(!IntRange::out_of_limits(bad), "{bad}");
        }
        assert!(IntRange::out_of_limits("1..18446744073709551615"));
        assert!(IntRange::out_of_limits("-9223372036854775809..=0"));
        assert!(!IntRange::out_of_limits(
            "-9223372036854775808..=9223372036854775807"
        ));
    }

    #[test]
    fn lines_lose_their_endings() {
        let lines: Vec<Vec<u8>> = read_lines(&b"a\r\nb\n\ncaf\xe9"[..], "test")
            .map(Result::unwrap)
            .collect();
        assert_eq!(lines, [&b"a"[..], b"b", b"", b"caf\xe9"]);
        assert_eq!(label(&lines[3]), r"caf\xe9");
    }

    #[test]
    fn a_line_over_the_cap_is_an_error_and_the_end() {
        let mut text = vec![b'x'; MAX_LINE];
        text.extend_from_slice(b"\r\nshort\n");
        text.extend(std::iter::repeat_n(b'y', MAX_LINE + 1));
        text.extend_from_slice(b"\nnever\n");
        let lines: Vec<Line> = read_lines(&text[..], "input t").collect();
        assert_eq!(
            lines.len(),
            3,
            "the line at the cap, the short one, then the error"
        );
        assert_eq!(lines[0].as_ref().map(Vec::len), Ok(MAX_LINE));
        assert_eq!(lines[1].as_deref(), Ok(&b"short"[..]));
        assert_eq!(
            lines[2],
            Err("input t: line 3 is longer than 1 MiB, the limit".to_string())
        );
    }

    #[test]
    fn a_file_is_read_only_as_far_as_asked() {
        let text: String = (0..5000).map(|i| format!("{i}\n")).collect();
        let (lazy, _path) = lazy_file("lines", &text);
        let status = lazy.extend(10, Duration::from_secs(5));
        assert_eq!((status.available, status.complete), (10, false));
        assert_eq!(lazy.take(3), Some(Ok("3".into())));
        assert_eq!(lazy.take(3), None);
        let status = lazy.extend(1000, Duration::from_secs(5));
        assert!(status.available <= 1000, "{status:?}");
        assert_eq!(read_to_the_end(&lazy), 5000);
    }

    #[test]
    fn extend_waits_for_the_count_asked_until_its_deadline() {
        use std::io::Write;
        let (reader, mut writer) = std::io::pipe().unwrap();
        let file = File::from(std::os::fd::OwnedFd::from(reader));
        let lazy = LazyLines::new(LineSource::File(file, "pipe".into()), None);
        writer.write_all(b"a\n").unwrap();
        let wait = Duration::from_millis(300);
        let started = std::time::Instant::now();
        let status = lazy.extend(3, wait);
        assert!(
            started.elapsed() >= wait,
            "returned after {:?}",
            started.elapsed()
        );
        assert_eq!((status.available, status.complete), (1, false));
        // Once the count asked is there, it returns without waiting out the deadline.
        writer.write_all(b"b\nc\n").unwrap();
        let status = lazy.extend(3, Duration::from_secs(60));
        assert_eq!((status.available, status.complete), (3, false));
        drop(writer);
        let status = lazy.extend(u64::MAX, Duration::from_secs(60));
        assert_eq!((status.available, status.complete), (3, true));
    }

    /// Lazy lines of a new file named after `name` holding `text`, and its path.
    fn lazy_file(name: &str, text: &str) -> (LazyLines, crate::testing::TempPath) {
        let path = crate::testing::TempPath::new(name);
        std::fs::write(&path, text).unwrap();
        (LazyLines::new(LineSource::open(&path).unwrap(), None), path)
    }

    /// Reads `lazy` to the end of its input; returns the number of lines read.
    fn read_to_the_end(lazy: &LazyLines) -> u64 {
        loop {
            let status = lazy.extend(u64::MAX, Duration::from_secs(5));
            if status.complete {
                return status.available;
            }
        }
    }

    #[test]
    fn lines_the_plan_will_not_hand_out_are_counted_and_not_kept() {
        let text: String = (0..5000).map(|i| format!("line {i}\n")).collect();
        let (lazy, _path) = lazy_file("wanted", &text);
        // The window 100..4100, shard 1 of 4 in chunks of 10, ids 2000..3000 done before.
        let plan = IdPlan {
            skip: 100,
            limit: Some(4000),
            shard: Some(Shard::new(1, 4).unwrap().with_chunk(10)),
            done: vec![(2000, 3000)],
        };
        lazy.keep_only(PlannedIds::of_open_space(&plan));
        let wanted: Vec<u64> = (100..4100)
            .filter(|id| (id - 100) / 10 % 4 == 1 && !(2000..3000).contains(id))
            .collect();
        assert_eq!(read_to_the_end(&lazy), 5000, "every line is counted");
        assert_eq!(lazy.held(), wanted.len(), "only the wanted lines are held");
        assert_eq!(wanted[..3], [110, 111, 112]);
        assert_eq!(lazy.take(111), Some(Ok("line 111".into())));
        for other in [0, 99, 100, 120, 2010, 4110, 4999] {
            assert_eq!(lazy.take(other), None, "line {other} is not kept");
        }
        let mut burst = VecDeque::new();
        lazy.take_burst(3030..3040, &mut burst).unwrap();
        assert_eq!(burst.front().map(Vec::as_slice), Some(&b"line 3030"[..]));
        assert_eq!(lazy.held(), wanted.len() - 11, "taken lines are let go");
    }

    #[test]
    fn lines_read_before_the_plan_is_known_are_let_go_when_it_is() {
        let text: String = (0..100).map(|i| format!("{i}\n")).collect();
        let (lazy, _path) = lazy_file("late-plan", &text);
        assert_eq!(read_to_the_end(&lazy), 100);
        assert_eq!(lazy.held(), 100);
        let window = IdPlan {
            skip: 90,
            ..IdPlan::default()
        };
        lazy.keep_only(PlannedIds::of_open_space(&window));
        assert_eq!(lazy.held(), 10);
        assert_eq!(lazy.take(95), Some(Ok("95".into())));
    }

    /// An over-long line in another shard's chunk ends the input there: the shard must end
    /// with that error on its next id, not as if its input had run out.
    #[test]
    fn a_failure_in_another_shards_chunk_falls_on_this_shards_next_id() {
        let long = "x".repeat(MAX_LINE + 1);
        let text: String = (0..30)
            .map(|i| {
                if i == 12 {
                    format!("{long}\n")
                } else {
                    format!("{i}\n")
                }
            })
            .collect();
        let shard = |late: bool| {
            let (lazy, _path) = lazy_file(&format!("fail-elsewhere-{late}"), &text);
            // Shard 2 of 2 in chunks of 5: ids 5..10, 15..20, 25..30; line 13 (id 12) is shard 1's.
            let plan = IdPlan {
                shard: Some(Shard::new(1, 2).unwrap().with_chunk(5)),
                ..IdPlan::default()
            };
            if !late {
                lazy.keep_only(PlannedIds::of_open_space(&plan));
            }
            read_to_the_end(&lazy);
            if late {
                lazy.keep_only(PlannedIds::of_open_space(&plan));
            }
            lazy
        };
        for late in [false, true] {
            let lazy = shard(late);
            assert_eq!(lazy.take(9), Some(Ok("9".into())), "plan told late: {late}");
            let failure = lazy.take(15).expect("the failure is on id 15");
            let message = failure.expect_err("id 15 holds the failure");
            assert!(message.contains("line 13 is longer than"), "{message}");
            let available = lazy.extend(u64::MAX, Duration::from_secs(1)).available;
            assert!(available > 15, "id 15 is handed out: {available} available");
        }
    }

    #[test]
    fn an_unsplit_plan_keeps_its_window_and_a_default_shard_uses_the_engines_chunk() {
        let whole = PlannedIds::of_open_space(&IdPlan::default());
        assert!(whole.contains(0) && whole.contains(u64::MAX - 1));
        let one_of_one = IdPlan {
            shard: Some(Shard::new(0, 1).unwrap()),
            ..IdPlan::default()
        };
        assert!(PlannedIds::of_open_space(&one_of_one).contains(12_345_678));
        let chunk = Shard::default_chunk(None, 4);
        let second = PlannedIds::of_open_space(&IdPlan {
            shard: Some(Shard::new(1, 4).unwrap()),
            ..IdPlan::default()
        });
        let ids = [0, chunk - 1, chunk, 2 * chunk - 1, 2 * chunk, 5 * chunk];
        let kept: Vec<bool> = ids.iter().map(|&id| second.contains(id)).collect();
        assert_eq!(kept, [false, false, true, true, false, true]);
    }

    #[test]
    fn a_regular_file_is_counted_up_front_so_its_total_is_known() {
        let text: String = (0..100_000).map(|i| format!("{i}\n")).collect();
        let (lazy, _path) = lazy_file("count", &format!("{text}last"));
        let status = lazy.extend(10, Duration::from_secs(5));
        assert!(!status.complete, "the reader is still far from the end");
        let deadline = Instant::now() + Duration::from_secs(30);
        while lazy.counted().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        let status = lazy.extend(20, Duration::from_secs(5));
        assert_eq!(status.estimate, Some(100_001), "{status:?}");
        assert!(!status.complete);
        assert_eq!(
            lazy.take(3),
            Some(Ok("3".into())),
            "the reader's offset is untouched"
        );
    }
}
