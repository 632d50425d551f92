//! The dashboard's main loop, generic over the ratatui backend: input, pool events and frame ticks in, commands out.

use crate::app::{App, Command, Msg, RunInfo};
use crate::eventlog::checkpoint::Checkpoint;
use crate::eventlog::file::EventLog;
use crate::preset::Preset;
use crate::session::{Launch, Request, Session};
use crate::summary::Summary;
use crate::term::{FrameSync, Input};
use crossbeam_channel::{Receiver, never, select, tick};
use poolwatch_core::search::Search;
use poolwatch_core::{Event, HaltMode};
use ratatui::Terminal;
use ratatui::backend::Backend;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Frame interval while a run is paused: the clocks still move, nothing else does.
const PAUSED_FRAME: Duration = Duration::from_millis(250);

/// Settings of the loop.
#[derive(Debug, Clone)]
pub struct LoopOptions {
    /// Frames per second while a run is live.
    pub fps: u32,
    /// `--log FILE`, appended to by every run.
    pub log_path: Option<PathBuf>,
    /// How often a live run writes a `progress` event to the log (`--status-every`).
    pub status_every: Duration,
    /// `--runs FILE`: each finished run's record is appended as one JSON line.
    pub runs_path: Option<PathBuf>,
    /// Where the form saves presets (`userpresets::dir`); `None`: saving says why it cannot.
    pub presets_dir: Option<PathBuf>,
    /// `--skip`/`--limit`: the window `[start, end)` of the space every run searches.
    pub window: Option<(u64, u64)>,
    /// `--resume FILE`: the first launch of the logged search continues from this checkpoint.
    pub resume: Option<Box<Checkpoint>>,
}

/// How the loop ended.
#[derive(Debug, Default)]
pub struct LoopEnd {
    /// The summary of the last run, if any ran.
    pub summary: Option<Summary>,
    /// The signal that ended it, if one did.
    pub signal: Option<i32>,
    /// A search's fatal error (a command that cannot be run), to print once after restore.
    pub fatal: Option<String>,
    /// Panics of background threads (shown in the log), to print once after restore.
    pub background_panics: Vec<String>,
}

/// The facts about a run the dashboard shows, taken from its search.
fn run_info(preset: &Preset, search: &dyn Search, workers: usize) -> RunInfo {
    let naming = search.input_naming();
    let input_noun = naming.map(|naming| naming.noun.to_string());
    let space = search.space();
    let space_label = match (&input_noun, space.checked_sub(1)) {
        (Some(noun), Some(last)) => search
            .input_label(0)
            .zip(search.input_label(last))
            .map(|(first, last)| format!("{noun}s {first}..={last}")),
        _ => None,
    };
    RunInfo {
        name: preset.name.clone(),
        search: search.name().to_string(),
        params: search.params(),
        halt: preset.halt.to_string(),
        goal: search.goal(),
        can_match: search.can_match(),
        successes: search.matches_are_successes(),
        workers,
        odds: search.match_odds(),
        numbered_inputs: naming.is_some_and(|naming| naming.numbered),
        input_noun,
        space_label,
    }
}

/// Owns the live run; carries out the app's commands.
struct Controller {
    live: Option<Session>,
    options: LoopOptions,
    ticker: Receiver<Instant>,
    last_summary: Option<Summary>,
    signal: Option<i32>,
    fatal: Option<String>,
    /// True once a run has read standard input: it cannot be read again.
    stdin_used: bool,
    /// Panics of background threads seen so far.
    background_panics: Vec<String>,
}

impl Controller {
    fn events(&self) -> Receiver<Event> {
        self.live
            .as_ref()
            .map_or_else(never, |live| live.run().events().clone())
    }

    fn launch(&mut self, app: &mut App, preset: &Preset) {
        self.stop_live(app);
        if preset.passes_output() {
            let text = "cannot launch: this exec run passes its jobs' output to stdout (--output), which is the dashboard's terminal: run it with --headless";
            app.update(Msg::Problem(text.to_string()));
            return;
        }
        if preset.reads_stdin() {
            if self.stdin_used {
                let text = "cannot launch: standard input was consumed by the previous run (use --range or --input to run again)";
                app.update(Msg::Problem(text.to_string()));
                return;
            }
            self.stdin_used = true;
        }
        // Presets are validated when loaded; a failure here is shown in the log, not fatal.
        let search = match preset.spec.build() {
            Ok(search) => search,
            Err(err) => {
                app.update(Msg::Problem(format!("cannot launch: {err}")));
                return;
            }
        };
        let resumed = self
            .options
            .resume
            .take_if(|checkpoint| checkpoint.spec == preset.spec);
        let session = Session::start(Launch {
            preset,
            search,
            window: self.options.window,
            shard: None,
            checkpoint: resumed.as_deref(),
            log: EventLog::open(self.options.log_path.as_deref()).unwrap_or_default(),
            status_every: self.options.status_every,
            runs_path: self.options.runs_path.clone(),
            bounds: None,
        });
        let info = run_info(preset, session.search().as_ref(), session.run_config().workers);
        app.update(Msg::Started(info));
        if let Some(best) = session.carried_best() {
            // The earlier best stays the best: the curve starts from it.
            app.update(Msg::Pool(Event::NewBest {
                task: best.task,
                score: best.score,
                worker: 0,
                at: Duration::ZERO,
            }));
        }
        app.update(Msg::Frame(session.snapshot()));
        self.ticker = tick(self.frame_interval());
        self.live = Some(session);
    }

    /// Halts a live run, waits for it, and records its summary.
    fn stop_live(&mut self, app: &mut App) {
        let Some(live) = self.live.as_ref() else { return };
        if !live.run().is_finished() {
            live.run().halt_now();
        }
        // Read up to Finished (which ends `live`): on a bounded channel, workers wait for room.
        while let Some(live) = self.live.as_ref() {
            match live.run().events().recv() {
                Ok(event) => self.on_event(app, event),
                // The run holds the sender until it is dropped: this cannot happen.
                Err(_) => break,
            }
        }
    }

    fn on_event(&mut self, app: &mut App, event: Event) {
        let Some(live) = self.live.as_mut() else { return };
        if let Event::Finished(report) = &event {
            let Some(session) = self.live.take() else { return };
            let last = session.snapshot();
            let whole = session.whole_report(report.clone());
            let ending = session.finish(report, self.signal);
            if let Some(problem) = ending.runs_problem {
                app.update(Msg::Problem(problem));
            }
            app.update(Msg::RunRecorded(Box::new(ending.record)));
            self.last_summary = Some(ending.summary);
            self.fatal.clone_from(&report.fatal);
            if let Some(message) = &self.fatal {
                app.update(Msg::Problem(message.clone()));
            }
            app.update(Msg::Frame(last));
            self.ticker = never();
            app.update(Msg::Pool(Event::Finished(whole)));
            return;
        }
        live.record(&event);
        if let Event::NewBest { score, .. } = &event
            && live.is_behind_carried_best(*score)
        {
            // Better than this run's own best, not the whole run's: no new best on screen.
            return;
        }
        let task = match &event {
            Event::Match { task, .. }
            | Event::Error { task, .. }
            | Event::Notice { task, .. }
            | Event::NewBest { task, .. } => Some(*task),
            _ => None,
        };
        match task.and_then(|task| live.search().input_label(task)) {
            Some(input) => app.update(Msg::Labelled(event, input)),
            None => app.update(Msg::Pool(event)),
        };
    }

    fn execute(&mut self, app: &mut App, commands: Vec<Command>) {
        for command in commands {
            match command {
                Command::Launch(preset) => self.launch(app, &preset),
                Command::Quit => self.stop_live(app),
                Command::SavePreset(preset) => self.save_preset(app, *preset),
                Command::DeletePreset(name) => self.delete_preset(app, &name),
                Command::Export {
                    file_name,
                    contents,
                    runs,
                } => export(
                    app,
                    self.options.presets_dir.as_deref(),
                    &file_name,
                    &contents,
                    runs,
                ),
                Command::Interrupt => self.interrupt(app),
                control => self.control(&control),
            }
        }
    }

    /// Applies a control to the live run; the session records it in the `--log` file.
    fn control(&mut self, command: &Command) {
        let Some(live) = self.live.as_mut() else { return };
        let request = match command {
            Command::Pause => Request::Pause,
            Command::Resume => Request::Resume,
            Command::HaltNow => Request::HaltNow,
            Command::HaltSoon => Request::HaltSoon,
            Command::SetWorkers(workers) => Request::SetWorkers(*workers),
            Command::Launch(_)
            | Command::Quit
            | Command::Interrupt
            | Command::SavePreset(_)
            | Command::DeletePreset(_)
            | Command::Export { .. } => return,
        };
        if !live.request(request) {
            return;
        }
        match request {
            Request::Pause => self.ticker = tick(PAUSED_FRAME),
            Request::Resume => self.ticker = tick(self.frame_interval()),
            _ => {}
        }
    }

    /// Writes a preset file for the form's `s`.
    fn save_preset(&self, app: &mut App, preset: Preset) {
        let Some(dir) = &self.options.presets_dir else {
            let text = format!("cannot save: set {} or HOME", crate::userpresets::DIR_ENV);
            app.update(Msg::Problem(text));
            return;
        };
        match crate::userpresets::save(dir, &preset) {
            Ok(path) => app.update(Msg::PresetSaved {
                preset: Box::new(preset),
                path: path.display().to_string(),
            }),
            Err(message) => app.update(Msg::Problem(message)),
        };
    }

    /// Deletes a saved preset's file for the launcher's `d`; shipped presets have none.
    fn delete_preset(&self, app: &mut App, name: &str) {
        let Some(dir) = &self.options.presets_dir else {
            let text = format!("cannot delete: set {} or HOME", crate::userpresets::DIR_ENV);
            app.update(Msg::Problem(text));
            return;
        };
        let path = dir.join(crate::userpresets::file_name(name));
        let msg = match std::fs::remove_file(&path) {
            Ok(()) => Msg::PresetDeleted {
                name: name.to_string(),
                path: path.display().to_string(),
            },
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Msg::Problem(format!(
                "nothing deleted: {name:?} has no file {} (shipped presets stay)",
                path.display()
            )),
            Err(err) => Msg::Problem(format!("cannot delete {}: {err}", path.display())),
        };
        app.update(msg);
    }

    fn frame_interval(&self) -> Duration {
        Duration::from_secs(1) / self.options.fps.max(1)
    }
}

/// The message for a mouse event the model acts on: a click or a wheel turn, where it was.
#[must_use]
pub fn mouse_msg(mouse: &crossterm::event::MouseEvent) -> Option<Msg> {
    crate::app::MouseKind::of(mouse).map(|kind| Msg::Mouse(kind, mouse.column, mouse.row))
}

/// Runs the dashboard until the user quits or a signal arrives.
///
/// # Errors
/// When drawing to the terminal fails.
pub fn run_loop<B>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    inputs: &Receiver<Input>,
    signals: &Receiver<i32>,
    options: LoopOptions,
    start: bool,
) -> anyhow::Result<LoopEnd>
where
    B: Backend + FrameSync,
    B::Error: Send + Sync + 'static,
{
    if let Some(snapshot) = options.resume.as_deref().and_then(crate::session::ready_snapshot) {
        app.update(Msg::Carried(snapshot));
    }
    let mut controller = Controller::new(options);
    if start && let Some(preset) = app.selected_preset().cloned() {
        controller.execute(app, vec![Command::Launch(Box::new(preset))]);
    }
    let mut dirty = true;
    while !app.quit {
        if dirty {
            draw(terminal, app)?;
            dirty = false;
            panic_for_tests(app);
        }
        dirty |= controller.collect_background_panics(app);
        let events = controller.events();
        let ticker = controller.ticker.clone();
        select! {
            recv(inputs) -> input => {
                controller.on_input(app, input.ok());
                dirty = true;
            },
            recv(events) -> event => {
                if let Ok(event) = event {
                    let finished = matches!(event, Event::Finished(_));
                    controller.on_event(app, event);
                    // While live, frames are drawn on ticks only; the end is drawn at once.
                    dirty |= finished || controller.live.is_none();
                }
            },
            recv(ticker) -> _ => {
                if let Some(live) = controller.live.as_mut() {
                    live.flush();
                    live.tick();
                    app.update(Msg::Frame(live.snapshot()));
                }
                dirty = true;
            },
            recv(signals) -> signal => {
                if let Ok(signal) = signal {
                    controller.on_signal(app, signal);
                }
            },
        }
    }
    Ok(controller.into_end())
}

impl Controller {
    fn new(options: LoopOptions) -> Self {
        Self {
            live: None,
            options,
            ticker: never(),
            last_summary: None,
            signal: None,
            fatal: None,
            stdin_used: false,
            background_panics: Vec::new(),
        }
    }

    /// A key or resize; `None` when the input thread is gone (the terminal went away).
    fn on_input(&mut self, app: &mut App, input: Option<Input>) {
        let commands = match input {
            Some(Input::Key(key)) => app.update(Msg::Key(key)),
            Some(Input::Mouse(mouse)) => mouse_msg(&mouse).map_or_else(Vec::new, |msg| app.update(msg)),
            Some(Input::Resize) => Vec::new(),
            None => app.update(Msg::Signal(libc::SIGHUP)),
        };
        self.execute(app, commands);
    }

    /// Ctrl-C in the dashboard: what SIGINT does, without asking (exit code 130 for a live run).
    fn interrupt(&mut self, app: &mut App) {
        // A run that already ended keeps its own exit code (its summary wins in `run_dashboard`).
        self.signal = Some(libc::SIGINT);
        if let Some(live) = self.live.as_ref() {
            live.run()
                .halt(HaltMode::Now, poolwatch_core::StopRequest::Signal);
        }
        self.stop_live(app);
    }

    /// A signal halts a live run (reason: signal), then quits.
    fn on_signal(&mut self, app: &mut App, signal: i32) {
        self.signal = Some(signal);
        if let Some(live) = self.live.as_ref() {
            live.run()
                .halt(HaltMode::Now, poolwatch_core::StopRequest::Signal);
        }
        let commands = app.update(Msg::Signal(signal));
        self.execute(app, commands);
    }

    /// Moves panics recorded on background threads into the log; true if there were any.
    fn collect_background_panics(&mut self, app: &mut App) -> bool {
        let messages = crate::term::take_background_panics();
        for message in &messages {
            app.update(Msg::Problem(message.clone()));
        }
        let any = !messages.is_empty();
        self.background_panics.extend(messages);
        any
    }

    fn into_end(self) -> LoopEnd {
        LoopEnd {
            summary: self.last_summary,
            signal: self.signal,
            fatal: self.fatal,
            background_panics: self.background_panics,
        }
    }
}

/// Writes the runs history export into the current directory and names the file in the log.
/// Writes an export of the runs history into the runs directory (where presets are saved,
/// `POOLWATCH_RUNS_DIR`), not the current directory, often a checkout; the current directory
/// only when no runs directory is known (no `HOME`).
fn export(app: &mut App, runs_dir: Option<&std::path::Path>, file_name: &str, contents: &str, runs: usize) {
    let dir = runs_dir.map_or_else(
        || std::env::current_dir().unwrap_or_default(),
        std::path::Path::to_path_buf,
    );
    let path = dir.join(file_name);
    let written = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, contents));
    let msg = match written {
        // The file name first: a long directory is cut off at the panel's edge.
        Ok(()) => Msg::Note(format!(
            "exported {} to {file_name} in {}",
            crate::format::plural(u64::try_from(runs).unwrap_or(u64::MAX), "run"),
            dir.display()
        )),
        Err(err) => Msg::Problem(format!("cannot write {}: {err}", path.display())),
    };
    app.update(msg);
}

/// Debug builds only: `POOLWATCH_TEST_PANIC_UI=1` panics on the UI thread once a run is live,
/// so the end-to-end tests can check that a UI panic restores the terminal.
fn panic_for_tests(app: &App) {
    #[cfg(debug_assertions)]
    if app.phase.is_live() && std::env::var_os("POOLWATCH_TEST_PANIC_UI").is_some() {
        panic!("UI panic requested by POOLWATCH_TEST_PANIC_UI");
    }
    #[cfg(not(debug_assertions))]
    let _ = app;
}

/// Draws a frame, then tells the app what it showed (how far its keys may scroll).
pub(crate) fn draw<B>(terminal: &mut Terminal<B>, app: &mut App) -> anyhow::Result<()>
where
    B: Backend + FrameSync,
    B::Error: Send + Sync + 'static,
{
    terminal.backend_mut().begin_frame()?;
    let mut drawn = crate::app::Drawn::default();
    terminal.draw(|frame| drawn = crate::ui::render(frame, app))?;
    terminal.backend_mut().end_frame()?;
    app.update(Msg::Drawn(drawn));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser as _;

    /// The run info of the command line `poolwatch ARGS...`.
    fn info_of(args: &[&str]) -> RunInfo {
        let cli = crate::cli::Cli::try_parse_from(std::iter::once("poolwatch").chain(args.iter().copied()))
            .unwrap_or_else(|err| panic!("{args:?}: {err}"));
        let plan = cli.plan().unwrap_or_else(|err| panic!("{args:?}: {err}"));
        run_info(&plan.preset, plan.search.as_ref(), 2)
    }

    /// How the log names task `task` of the run `info`, whose own value is `input`.
    fn task_name(info: RunInfo, task: u64, input: &str) -> String {
        let mut app = App::new(Vec::new(), false);
        app.update(Msg::Started(info));
        app.task_name(task, Some(input))
    }

    /// Each search names its tasks' own values itself, `exec --worker` like `exec`.
    #[test]
    fn the_search_names_its_tasks_values() {
        let collatz = info_of(&["collatz", "--below=10"]);
        assert_eq!(collatz.input_noun.as_deref(), Some("start"));
        assert_eq!(collatz.space_label.as_deref(), Some("starts 1..=9"));
        assert_eq!(
            task_name(collatz, 6, "7"),
            "start 7",
            "a start value is its number"
        );
        for exec in [
            &["exec", "--range=1..4", "--", "echo", "{}"][..],
            &["exec", "--worker", "--range=1..4", "--", "cat"][..],
        ] {
            let info = info_of(exec);
            assert_eq!(info.input_noun.as_deref(), Some("input"), "{exec:?}");
            assert_eq!(info.space_label.as_deref(), Some("inputs 1..=3"), "{exec:?}");
            assert_eq!(task_name(info, 2, "3"), "input 3 (#3)", "{exec:?}");
        }
        for needle in [&["needle"][..], &["needle", "--panic-every=7"][..]] {
            let info = info_of(needle);
            assert_eq!((info.input_noun, info.space_label), (None, None), "{needle:?}");
        }
    }
}
