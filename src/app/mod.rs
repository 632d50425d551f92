//! The dashboard's model: `App`, the `Msg` it receives and a pure `update` that returns `Command`s; no I/O, no clock.

mod form;
mod history;
mod keys;
mod log;
mod mouse;
mod runs;
mod shards;

pub use form::{FIXED_ROWS as FORM_FIXED_ROWS, Form};
pub use history::{BestHistory, Throughput};
pub use log::{EntryKind, LogEntry, LogFilter, ResultLog};
pub use mouse::{Hit, MouseKind, Target};
pub use runs::{COLUMNS as RUN_COLUMNS, Column as RunColumn, RunsHistory, run_text};
pub use shards::ShardRow;

use crate::format::{Estimate, Progress, estimate, plural};
use crate::preset::Preset;
use crossterm::event::KeyEvent;
use poolwatch_core::search::{Goal, MatchOdds};
use poolwatch_core::{Event, RunReport, RunState, Snapshot};
use std::time::Duration;

/// Most match positions kept for the needle view.
const MAX_MATCH_MARKS: usize = 1_000;
/// Lines moved by PgUp / PgDn in the log.
const PAGE: isize = 10;

/// The run state shown in the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Nothing running; Enter launches the selected run.
    Ready,
    /// Running.
    Running,
    /// Submission paused.
    Paused,
    /// A halt was asked for; workers are stopping.
    Halting,
    /// Finished with at least one match.
    Found,
    /// Searched the whole space without a match.
    Exhausted,
    /// Stopped by the user or a signal.
    Stopped,
}

impl Phase {
    /// The header label.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::Ready => "Ready",
            Self::Running => "Running",
            Self::Paused => "Paused",
            Self::Halting => "Halting",
            Self::Found => "Found",
            Self::Exhausted => "Exhausted",
            Self::Stopped => "Stopped",
        }
    }

    /// True while a run is live (its workers may still be running).
    #[must_use]
    pub fn is_live(self) -> bool {
        matches!(self, Self::Running | Self::Paused | Self::Halting)
    }
}

/// What is drawn over the dashboard.
#[derive(Debug, Clone, PartialEq)]
pub enum Overlay {
    /// Nothing.
    None,
    /// The hotkey list.
    Help,
    /// The preset list, with the highlighted row.
    Launcher {
        /// Highlighted preset.
        cursor: usize,
    },
    /// The run form, opened with `e` in the launcher.
    Form(Box<Form>),
    /// The runs history (`App::runs`), opened with `r`.
    Runs,
    /// `quit and stop the run? y/n`, asked when q or Esc is pressed during a live run, or
    /// `q` in a form with unsaved edits ([`App::quit_question`]).
    ConfirmQuit,
}

/// Which panel the arrow keys scroll.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Focus {
    /// The result log.
    #[default]
    Log,
    /// The workers table.
    Workers,
}

/// The order of the workers table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WorkerSort {
    /// By slot number.
    #[default]
    Slot,
    /// Longest on its current task first: stragglers come to the top.
    TaskTime,
    /// Most tasks done first.
    Done,
    /// Most errors first.
    Errors,
}

impl WorkerSort {
    /// The next order in the cycle `s` steps through.
    #[must_use]
    pub fn next(self) -> Self {
        match self {
            Self::Slot => Self::TaskTime,
            Self::TaskTime => Self::Done,
            Self::Done => Self::Errors,
            Self::Errors => Self::Slot,
        }
    }

    /// How the table's title names it.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::Slot => "by #",
            Self::TaskTime => "by task time",
            Self::Done => "by done",
            Self::Errors => "by errors",
        }
    }
}

/// The furthest the workers table scrolls: rows scrolled past when the last of `workers`
/// rows is at the bottom of a table with room for `shown` (each row can still reach the top
/// of a table not drawn yet).
#[must_use]
pub fn workers_scroll_limit(workers: usize, shown: usize) -> usize {
    workers.saturating_sub(shown.max(1))
}

/// What a drawn frame showed that keys and the mouse depend on.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Drawn {
    /// The worker rows the workers table had room for (0 when it was not drawn).
    pub worker_rows: usize,
    /// Where panels, rows and footer hints were drawn, bottom layer first.
    pub hits: Vec<Hit>,
}

/// Facts about a run that has just been started.
#[derive(Debug, Clone, PartialEq)]
pub struct RunInfo {
    /// The preset's name.
    pub name: String,
    /// The search's command-line name.
    pub search: String,
    /// Its parameters.
    pub params: String,
    /// The halt policy, as text.
    pub halt: String,
    /// How scores improve.
    pub goal: Goal,
    /// Whether the search has a match condition.
    pub can_match: bool,
    /// Whether a match means only a job that succeeded (one-shot `exec` without
    /// `--match-stdout`): counts and the log say "succeeded".
    pub successes: bool,
    /// Workers at the start.
    pub workers: usize,
    /// What the search knows of its odds of a match (for the expected match time).
    pub odds: MatchOdds,
    /// What the user calls a task's own value (`input` for exec, `start` for collatz), if it has one.
    pub input_noun: Option<String>,
    /// Whether the log names a task by its value and its 1-based number (`input a.txt (#3)`);
    /// false when the value is that number ([`poolwatch_core::search::InputNaming::numbered`]).
    pub numbered_inputs: bool,
    /// The space in the user's numbers (`inputs 1..=200`), if they differ from task ids.
    pub space_label: Option<String>,
}

/// Input to [`App::update`].
#[derive(Debug, Clone)]
pub enum Msg {
    /// A key press.
    Key(KeyEvent),
    /// A click or a wheel turn at a column and row of the screen.
    Mouse(MouseKind, u16, u16),
    /// The main loop started a run.
    Started(RunInfo),
    /// A fresh snapshot of the pool, once per frame while a run is live.
    Frame(Snapshot),
    /// A notable result or lifecycle event from the pool.
    Pool(Event),
    /// Before the launch of a resumed run (`--resume FILE`): what its log says was done, for
    /// Ready to show (the phase stays Ready; the launch replaces it).
    Carried(Snapshot),
    /// A notable result with the user's own value of its task ([`poolwatch_core::search::Search::input_label`]).
    Labelled(Event, String),
    /// A signal (SIGINT, SIGTERM, SIGHUP) arrived.
    Signal(i32),
    /// Something went wrong outside the pool (a launch refused, a background thread's panic).
    Problem(String),
    /// Something the main loop did (an export written), for the log.
    Note(String),
    /// A run finished: its row of the runs history.
    RunRecorded(Box<crate::runs_file::RunRecord>),
    /// A frame was drawn (`ui::render`): what the keys that scroll need to know of it.
    Drawn(Drawn),
    /// A saved preset's file was deleted.
    PresetDeleted {
        /// Its name.
        name: String,
        /// Where its file was.
        path: String,
    },
    /// The form's run was saved as a preset file.
    PresetSaved {
        /// The preset written.
        preset: Box<Preset>,
        /// Where.
        path: String,
    },
}

/// What the main loop must do after an update.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Start this preset (halting a live run first).
    Launch(Box<Preset>),
    /// Pause submission.
    Pause,
    /// Resume submission.
    Resume,
    /// Terminate now: queued work dropped, running tasks cancelled.
    HaltNow,
    /// Finish: no new tasks, running ones complete.
    HaltSoon,
    /// Grow or shrink the pool.
    SetWorkers(usize),
    /// Leave (after terminating a live run).
    Quit,
    /// Write this run as a preset file in the user's presets directory.
    SavePreset(Box<Preset>),
    /// Delete the saved preset of this name from the user's presets directory.
    DeletePreset(String),
    /// Write the runs history to `file_name` in the runs directory (where presets are saved).
    Export {
        /// The file name.
        file_name: String,
        /// Its contents.
        contents: String,
        /// How many runs it holds, for the log line.
        runs: usize,
    },
    /// Ctrl-C: stop a live run as SIGINT would (exit code 130), then leave.
    Interrupt,
}

/// Every hotkey and what it does, for the help overlay and the README.
pub const HOTKEYS: [(&str, &str); 18] = [
    ("Enter", "launch the selected run (Ready, or after a run ends)"),
    ("l", "launcher: presets, command-line run (n renames, d deletes)"),
    ("e", "edit the selected run in a form (Enter launches, s saves)"),
    ("r", "runs history: Left/Right sort, s reverses, Enter relaunches"),
    ("x / X", "runs history: export as Markdown / CSV"),
    ("p / Space", "pause / resume submission"),
    ("t", "terminate now: drop queued work, cancel running"),
    ("f", "finish: no new tasks, running ones complete"),
    ("+ / -", "add / remove a worker (no run live: the next run's)"),
    ("Tab", "focus: result log / workers table"),
    ("Up Down j k", "scroll the focused panel"),
    ("PgUp PgDn", "scroll the focused panel a page"),
    ("s", "sort workers: # / task time / done / errors"),
    ("m", "log filter: matches only / everything"),
    ("?", "this help"),
    ("Esc", "close an overlay; else quit (asks if a run is live)"),
    ("q", "quit (asks first, y/n, while a run is live)"),
    ("Ctrl-C", "quit at once, stopping a live run (exit 130)"),
];

/// The dashboard's whole state.
#[derive(Debug, Clone)]
pub struct App {
    /// Runs the launcher offers; the command-line run comes first.
    pub presets: Vec<Preset>,
    /// The run Enter launches.
    pub selected: usize,
    /// Header state.
    pub phase: Phase,
    /// Overlay on top.
    pub overlay: Overlay,
    /// The current or last run.
    pub run: Option<RunInfo>,
    /// The latest snapshot.
    pub snapshot: Option<Snapshot>,
    /// Throughput history and smoothed rate.
    pub throughput: Throughput,
    /// Best score over time.
    pub best: BestHistory,
    /// Matches, errors, bests and lifecycle lines.
    pub log: ResultLog,
    /// Task ids of matches (for the needle view).
    pub match_marks: Vec<u64>,
    /// The earliest match in the space and its name in the user's numbers.
    pub first_match: Option<(u64, String)>,
    /// The final report, once the run ended.
    pub report: Option<RunReport>,
    /// Set when the user asked to leave.
    pub quit: bool,
    /// False under `NO_COLOR`.
    pub color: bool,
    /// Every run finished since the dashboard started.
    pub history: RunsHistory,
    /// The shards of a watched search (`poolwatch watch`, `--cluster`): shown in place of the workers.
    pub shards: Option<Vec<ShardRow>>,
    /// A watched search's active time as of now, for the header: the snapshot's own lags
    /// to the shards' last `progress` lines, to match the completed count it goes with.
    pub live_active: Option<Duration>,
    /// The panel the arrow keys scroll.
    pub focus: Focus,
    /// Rows of the workers table scrolled past, at most [`App::workers_scroll_limit`].
    pub workers_scroll: usize,
    /// The worker rows the workers table had room for in the last frame drawn.
    pub workers_shown: usize,
    /// The workers table's order.
    pub workers_sort: WorkerSort,
    /// Runs started so far (numbers the run headers in the log).
    pub runs: u64,
    /// The worker (by number) or shard (by index) clicked last, highlighted in its table.
    pub selected_row: Option<u64>,
    /// Where the last frame drew what the mouse can click.
    pub hits: Vec<Hit>,
    /// The form a quit question was asked from: `n` goes back to it, edits and all.
    pub quit_back: Option<Box<Form>>,
    /// The launcher row whose deletion awaits `y` (`d` in the launcher).
    pub deleting: Option<usize>,
    /// `--quit-when-done`: leave as soon as a run ends (a program embedding the dashboard).
    pub quit_when_done: bool,
}

impl App {
    /// A dashboard in Ready with `presets` (the first is selected).
    #[must_use]
    pub fn new(presets: Vec<Preset>, color: bool) -> Self {
        Self {
            presets,
            selected: 0,
            phase: Phase::Ready,
            overlay: Overlay::None,
            run: None,
            snapshot: None,
            throughput: Throughput::default(),
            best: BestHistory::default(),
            log: ResultLog::default(),
            match_marks: Vec::new(),
            first_match: None,
            report: None,
            quit: false,
            color,
            history: RunsHistory::default(),
            shards: None,
            live_active: None,
            focus: Focus::Log,
            workers_scroll: 0,
            workers_shown: 0,
            workers_sort: WorkerSort::Slot,
            quit_when_done: false,
            runs: 0,
            selected_row: None,
            hits: Vec::new(),
            quit_back: None,
            deleting: None,
        }
    }

    /// The run form, while it is open.
    #[must_use]
    pub fn form(&self) -> Option<&Form> {
        match &self.overlay {
            Overlay::Form(form) => Some(form),
            _ => None,
        }
    }

    /// The selected preset, if any.
    #[must_use]
    pub fn selected_preset(&self) -> Option<&Preset> {
        self.presets.get(self.selected)
    }

    /// The furthest the workers table scrolls, as last drawn.
    #[must_use]
    pub fn workers_scroll_limit(&self) -> usize {
        let rows = match &self.shards {
            Some(shards) => shards.len(),
            None => self.snapshot.as_ref().map_or(0, |s| s.workers.len()),
        };
        workers_scroll_limit(rows, self.workers_shown)
    }

    /// Run time of the latest snapshot.
    #[must_use]
    pub fn now(&self) -> Duration {
        self.snapshot.as_ref().map_or(Duration::ZERO, |s| s.elapsed)
    }

    /// A line of `kind` in the result log, at the current run time.
    fn log_now(&mut self, kind: EntryKind, text: impl Into<String>) {
        let now = self.now();
        self.log.push(now, kind, text.into());
    }

    /// A lifecycle line in the result log, at the current run time.
    fn info(&mut self, text: impl Into<String>) {
        self.log_now(EntryKind::Info, text);
    }

    /// The estimates of the run while it is running or paused (none once it halts or ends):
    /// [`crate::format::estimate`] at the windowed rate, as the headless progress line makes them.
    #[must_use]
    pub fn estimate(&self) -> Estimate {
        let Some(snapshot) = self.snapshot.as_ref() else {
            return Estimate::default();
        };
        if !matches!(self.phase, Phase::Running | Phase::Paused) {
            return Estimate::default();
        }
        let odds = self.run.as_ref().map_or(MatchOdds::Unknown, |run| run.odds);
        estimate(Progress::of(snapshot, self.throughput.windowed_rate), odds)
    }

    /// Applies one message; returns what the main loop must do.
    pub fn update(&mut self, msg: Msg) -> Vec<Command> {
        match msg {
            Msg::Key(key) => self.on_key(key),
            Msg::Mouse(kind, x, y) => self.on_mouse(kind, x, y),
            Msg::Started(info) => {
                self.on_started(info);
                Vec::new()
            }
            Msg::Frame(snapshot) => {
                self.on_frame(snapshot);
                Vec::new()
            }
            Msg::Pool(event) => {
                self.on_event(event, None);
                Vec::new()
            }
            Msg::Carried(snapshot) => {
                self.snapshot = Some(snapshot);
                Vec::new()
            }
            Msg::Labelled(event, input) => {
                self.on_event(event, Some(&input));
                Vec::new()
            }
            Msg::Signal(_) => self.quit_commands(),
            Msg::Problem(text) => {
                self.log_now(EntryKind::Error, text);
                Vec::new()
            }
            Msg::Note(text) => {
                self.info(text);
                Vec::new()
            }
            Msg::RunRecorded(record) => {
                self.on_run_recorded(*record);
                Vec::new()
            }
            Msg::Drawn(drawn) => {
                self.workers_shown = drawn.worker_rows;
                self.hits = drawn.hits;
                // A table grown taller (fewer workers, a larger terminal) scrolls back with it.
                self.workers_scroll = self.workers_scroll.min(self.workers_scroll_limit());
                Vec::new()
            }
            Msg::PresetDeleted { name, path } => {
                self.on_preset_deleted(&name, &path);
                Vec::new()
            }
            Msg::PresetSaved { preset, path } => {
                self.on_preset_saved(*preset, &path);
                Vec::new()
            }
        }
    }

    fn on_started(&mut self, info: RunInfo) {
        self.phase = Phase::Running;
        self.overlay = Overlay::None;
        self.snapshot = None;
        self.throughput = Throughput::default();
        self.best = BestHistory::default();
        self.match_marks.clear();
        self.first_match = None;
        self.report = None;
        self.workers_scroll = 0;
        self.runs += 1;
        // Earlier runs stay in the (bounded) log below a header line for each run.
        let header = format!("── run {}: {} ──", self.runs, info.name);
        self.log.push(Duration::ZERO, EntryKind::Run, header);
        let text = format!(
            "started {} ({}), {}, halt {}",
            info.name,
            info.params,
            plural(u64::try_from(info.workers).unwrap_or(u64::MAX), "worker"),
            info.halt
        );
        self.log.push(Duration::ZERO, EntryKind::Info, text);
        self.run = Some(info);
    }

    fn on_frame(&mut self, snapshot: Snapshot) {
        self.throughput
            .observe(snapshot.active, snapshot.counters.completed);
        if self.report.is_none() {
            self.phase = match snapshot.state {
                RunState::Running => Phase::Running,
                RunState::Paused => Phase::Paused,
                RunState::Halting(_) | RunState::Finished(_) => Phase::Halting,
            };
        }
        self.snapshot = Some(snapshot);
    }

    /// How a task is named in the log: the user's own value where the search has one.
    #[must_use]
    pub fn task_name(&self, task: u64, input: Option<&str>) -> String {
        let Some(run) = self.run.as_ref() else {
            return format!("task {task}");
        };
        // An input is the user's data: shown escaped wherever the name goes.
        let input = input.map(crate::escape::controls);
        match (run.input_noun.as_deref(), input.as_deref()) {
            // exec: the input and the 1-based `{#}` the command saw.
            (Some(noun), Some(input)) if run.numbered_inputs => format!("{noun} {input} (#{})", task + 1),
            (Some(noun), Some(input)) => format!("{noun} {input}"),
            _ => format!("task {task}"),
        }
    }

    fn on_event(&mut self, event: Event, input: Option<&str>) {
        match event {
            Event::Match { task, value, at, .. } => {
                if self.match_marks.len() < MAX_MATCH_MARKS {
                    self.match_marks.push(task);
                }
                let name = self.task_name(task, input);
                if self.first_match.as_ref().is_none_or(|(first, _)| task < *first) {
                    self.first_match = Some((task, name.clone()));
                }
                let text = if self.run.as_ref().is_some_and(|run| run.successes) {
                    format!("succeeded: {name}")
                } else {
                    format!("match: {name} -> {value}")
                };
                self.log.push(at, EntryKind::Match, text);
            }
            Event::Error {
                task, message, at, ..
            } => {
                let name = self.task_name(task, input);
                let message = without_input(&message, input);
                self.log
                    .push(at, EntryKind::Error, format!("error: {name}: {message}"));
            }
            Event::Notice {
                task, message, at, ..
            } => {
                let name = self.task_name(task, input);
                let message = without_input(&message, input);
                self.log
                    .push(at, EntryKind::Notice, format!("notice: {name}: {message}"));
            }
            Event::NewBest { task, score, at, .. } => {
                // The same value reached again is not news (the chart and the log keep the first).
                if self.best.latest().is_some_and(|(_, latest)| latest == score) {
                    return;
                }
                self.best.push(at, score);
                let name = self.task_name(task, input);
                self.log.push(
                    at,
                    EntryKind::Best,
                    format!("new best {} ({name})", crate::format::score(score)),
                );
            }
            Event::Halted { reason, at } => {
                self.log.push(
                    at,
                    EntryKind::Info,
                    format!("halt: {}", crate::summary::describe_reason(reason)),
                );
            }
            Event::Finished(report) => self.on_finished(report),
        }
    }

    fn on_finished(&mut self, report: RunReport) {
        // --quit-when-done (the Python Pool's dashboard): the run's end ends the dashboard.
        if self.quit_when_done {
            self.quit = true;
        }
        // One rule for found / exhausted / stopped, shared with the runs file and history.
        self.phase = match crate::runs_file::RunOutcome::of(report.reason, report.counters.matches) {
            crate::runs_file::RunOutcome::Found => Phase::Found,
            crate::runs_file::RunOutcome::Exhausted => Phase::Exhausted,
            crate::runs_file::RunOutcome::Stopped => Phase::Stopped,
        };
        if let Some(snapshot) = self.snapshot.as_mut() {
            snapshot.elapsed = report.elapsed;
            snapshot.active = report.active;
            snapshot.counters = report.counters;
        }
        self.log.push(
            report.elapsed,
            EntryKind::Info,
            format!("ended: {}", crate::summary::describe_reason(report.reason)),
        );
        self.report = Some(report);
    }

    /// Quit at once when nothing would be lost; during a live run, or from a form with
    /// unsaved edits (kept to go back to), ask first.
    fn ask_quit(&mut self) -> Vec<Command> {
        let edited = self.form().is_some_and(Form::is_edited);
        if !self.phase.is_live() && !edited {
            return self.quit_commands();
        }
        if let Overlay::Form(form) = std::mem::replace(&mut self.overlay, Overlay::ConfirmQuit) {
            self.quit_back = Some(form);
        }
        Vec::new()
    }

    /// The quit question: what quitting now would lose.
    #[must_use]
    pub fn quit_question(&self) -> &'static str {
        match (self.phase.is_live(), self.quit_back.is_some()) {
            (true, true) => "quit, stop the run and drop the edits? y/n",
            (false, true) => "quit and drop the form's edits? y/n",
            _ => "quit and stop the run? y/n",
        }
    }

    fn quit_commands(&mut self) -> Vec<Command> {
        self.quit = true;
        if self.phase.is_live() {
            vec![Command::HaltNow, Command::Quit]
        } else {
            vec![Command::Quit]
        }
    }
}

/// `message` without the `INPUT: ` it starts with where the search names its tasks so
/// (exec's errors): the log line's task name already gives the input.
fn without_input<'a>(message: &'a str, input: Option<&str>) -> &'a str {
    input
        .and_then(|input| message.strip_prefix(input)?.strip_prefix(": "))
        .unwrap_or(message)
}
