//! The process table as Linux's `/proc` shows it: who is alive, in which process group, with which command line, using how much CPU and memory.

use std::fmt::Debug;
use std::path::Path;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};

/// One `stat` file of `/proc` (`/proc/PID/stat` or `/proc/PID/task/TID/stat`), split into
/// fields. The command name, in parentheses, may hold spaces: the fields after it start at
/// the last `)`.
#[derive(Debug, Clone)]
pub struct Stat {
    /// Fields 3 onwards of proc(5)'s numbering (state, ppid, pgrp, ...).
    after_name: Vec<String>,
}

impl Stat {
    /// The `stat` file at `path`; `None` if it cannot be read (the process is gone).
    pub fn read(path: &Path) -> Option<Self> {
        let text = std::fs::read_to_string(path).ok()?;
        let rest = &text[text.rfind(')')? + 1..];
        let after_name = rest.split_whitespace().map(str::to_string).collect();
        Some(Self { after_name })
    }

    /// `/proc/PID/stat`; `None` once the process is gone (reaped).
    pub fn of(pid: impl Into<i64>) -> Option<Self> {
        let pid = pid.into();
        Self::read(Path::new(&format!("/proc/{pid}/stat")))
    }

    /// Field `number` as proc(5) numbers them (1 is the pid, 2 the name, 3 the state); fields
    /// 1 and 2 are not kept.
    ///
    /// # Panics
    /// For field 1 or 2, or past the end of the line.
    pub fn field(&self, number: usize) -> &str {
        assert!(number >= 3, "field {number} is not kept");
        self.after_name
            .get(number - 3)
            .unwrap_or_else(|| panic!("no field {number} in {:?}", self.after_name))
    }

    /// Field `number` (see [`Stat::field`]) as a number.
    ///
    /// # Panics
    /// Where it is not one.
    pub fn number<T: FromStr<Err: Debug>>(&self, number: usize) -> T {
        let text = self.field(number);
        text.parse()
            .unwrap_or_else(|err| panic!("field {number} {text:?}: {err:?}"))
    }

    /// The state letter: `R`, `S`, `D`, `Z` (zombie), `X` (dead), ...
    pub fn state(&self) -> char {
        self.field(3).chars().next().unwrap_or('?')
    }

    /// The parent's pid.
    pub fn ppid(&self) -> i32 {
        self.number(4)
    }

    /// The process group.
    pub fn pgrp(&self) -> i32 {
        self.number(5)
    }

    /// CPU time used, in clock ticks: user (field 14) plus system (field 15).
    pub fn cpu_ticks(&self) -> u64 {
        self.number::<u64>(14) + self.number::<u64>(15)
    }

    /// The scheduling policy (field 41): 0 `SCHED_OTHER`, 3 `SCHED_BATCH`, ...
    pub fn policy(&self) -> u32 {
        self.number(41)
    }

    /// True for a process that has exited: a zombie not yet reaped, or dead.
    pub fn has_exited(&self) -> bool {
        matches!(self.state(), 'Z' | 'X')
    }
}

/// One process of the table.
#[derive(Debug, Clone)]
pub struct Proc {
    /// Its pid.
    pub pid: i32,
    /// Its `stat` line.
    pub stat: Stat,
    /// Its arguments, `argv[0]` first (empty for a zombie or a kernel thread).
    pub argv: Vec<String>,
}

impl Proc {
    /// The arguments joined with spaces, as `ps` shows them.
    pub fn cmdline(&self) -> String {
        self.argv.join(" ")
    }

    /// True until the process has exited (see [`Stat::has_exited`]).
    pub fn is_live(&self) -> bool {
        !self.stat.has_exited()
    }
}

/// A decimal number that no other process on the machine has in its command line:
/// `SECONDS.PPPPPPPNNN`, this process's pid (7 digits) and a count (3 digits), all of one
/// length so that none is part of another. It serves as `sleep`'s argument (about
/// `whole_seconds` seconds) and as a marker that finds the processes given it.
pub fn unique_marker(whole_seconds: u32) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{whole_seconds}.{:07}{n:03}", std::process::id())
}

/// Every process in `/proc` now; one that ends while the table is read is left out.
pub fn processes() -> Vec<Proc> {
    let entries = std::fs::read_dir("/proc").expect("read /proc");
    entries
        .flatten()
        .filter_map(|entry| {
            let pid = entry.file_name().to_str()?.parse().ok()?;
            let stat = Stat::read(&entry.path().join("stat"))?;
            let raw = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
            let argv = raw
                .split(|byte| *byte == 0)
                .filter(|arg| !arg.is_empty())
                .map(|arg| String::from_utf8_lossy(arg).into_owned())
                .collect();
            Some(Proc { pid, stat, argv })
        })
        .collect()
}

/// Live processes whose command line contains `text` (a token no other process has).
pub fn live_with(text: &str) -> Vec<Proc> {
    processes()
        .into_iter()
        .filter(|process| process.is_live() && process.cmdline().contains(text))
        .collect()
}

/// Pids of the live processes in any of `groups`.
pub fn live_in_groups(groups: &[i32]) -> Vec<i32> {
    processes()
        .into_iter()
        .filter(|process| process.is_live() && groups.contains(&process.stat.pgrp()))
        .map(|process| process.pid)
        .collect()
}

/// True once process `pid` has exited: gone from the table, or a zombie not yet reaped.
pub fn has_exited(pid: i32) -> bool {
    Stat::of(pid).is_none_or(|stat| stat.has_exited())
}

/// The value of the line `key:` of `/proc/PID/status`, trimmed; `None` when the process is
/// gone or has no such line.
pub fn status_field(pid: u32, key: &str) -> Option<String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let prefix = format!("{key}:");
    status
        .lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .map(|value| value.trim().to_string())
}

/// Resident memory of process `pid` now (`VmRSS`), KiB; 0 when it cannot be read.
pub fn rss_kb(pid: u32) -> u64 {
    status_field(pid, "VmRSS")
        .and_then(|value| value.trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// The signals process `pid` has handlers for (`SigCgt`: bit N-1 for signal N); 0 when it
/// cannot be read.
pub fn caught_signals(pid: u32) -> u64 {
    status_field(pid, "SigCgt")
        .and_then(|mask| u64::from_str_radix(&mask, 16).ok())
        .unwrap_or(0)
}
