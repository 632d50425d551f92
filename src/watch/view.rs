//! The watch dashboard: the single-run dashboard fed with aggregated snapshots, the shards table in place of the workers.

use super::WatchSummary;
use super::follow::{Action, POLL_EVERY, Watcher, unix_now};
use crate::app::{App, Command, Msg, RunInfo};
use crate::term::{FrameSync, Input, TerminalGuard};
use anyhow::Context;
use crossbeam_channel::{Receiver, select, tick};
use poolwatch_core::{Event, HaltReason};
use ratatui::Terminal;
use ratatui::backend::Backend;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// After `q` with shards still running, how long to wait for their summaries.
const QUIT_WAIT: Duration = Duration::from_secs(10);
/// Longest a dashboard tick spends reading logs that are behind before it draws.
const CATCH_UP_SLICE: Duration = Duration::from_millis(50);

/// Opens the terminal and runs the watch dashboard until `q`.
///
/// # Errors
/// When the terminal cannot be set up or drawn, or a log cannot be read.
pub fn run(
    watcher: &mut Watcher,
    signals: &Receiver<i32>,
    title: &str,
    color: bool,
) -> anyhow::Result<(WatchSummary, Option<i32>)> {
    let stop_input = Arc::new(AtomicBool::new(false));
    let (_guard, mut terminal) = TerminalGuard::enter().context("cannot set up the terminal")?;
    let inputs =
        crate::term::spawn_input_thread(Arc::clone(&stop_input)).context("cannot read the keyboard")?;
    let result = run_loop(&mut terminal, watcher, &inputs, signals, title, color);
    stop_input.store(true, Ordering::Release);
    result
}

/// The loop, generic over the backend.
///
/// # Errors
/// When drawing fails or a log cannot be read.
pub fn run_loop<B>(
    terminal: &mut Terminal<B>,
    watcher: &mut Watcher,
    inputs: &Receiver<Input>,
    signals: &Receiver<i32>,
    title: &str,
    color: bool,
) -> anyhow::Result<(WatchSummary, Option<i32>)>
where
    B: Backend + FrameSync,
    B::Error: Send + Sync + 'static,
{
    let mut app = App::new(Vec::new(), color);
    let mut started = false;
    let mut ended = false;
    let mut signal = None;
    let ticker = tick(POLL_EVERY);
    while !app.quit {
        if started {
            // Also tells the app how many shard rows fit, which bounds their scrolling.
            crate::dashboard::draw(terminal, &mut app)?;
        } else {
            let waiting = waiting_for(watcher);
            let theme = crate::ui::Theme::new(color);
            terminal.backend_mut().begin_frame()?;
            terminal.draw(|frame| render_waiting(frame, &waiting, theme))?;
            terminal.backend_mut().end_frame()?;
        }
        select! {
            recv(inputs) -> input => {
                let commands = match input {
                    Ok(Input::Key(key)) if !key_acts(&key, started) => Vec::new(),
                    Ok(Input::Key(key)) => app.update(Msg::Key(key)),
                    Ok(Input::Mouse(mouse)) => crate::dashboard::mouse_msg(&mouse)
                        .map_or_else(Vec::new, |msg| app.update(msg)),
                    Ok(Input::Resize) => Vec::new(),
                    Err(_) => app.update(Msg::Signal(libc::SIGHUP)),
                };
                steer(watcher, &mut app, commands);
            },
            recv(ticker) -> _ => {
                // Logs are read a slice at a time: a long one is read on for a while each tick.
                let tick = Instant::now();
                loop {
                    let (events, problem) = watcher.step()?;
                    if let Some(problem) = problem {
                        app.update(Msg::Problem(problem));
                    }
                    if !started && let Some(info) = run_info(watcher, title) {
                        app.update(Msg::Started(info));
                        started = true;
                    }
                    for event in events {
                        app.update(Msg::Pool(event));
                    }
                    if !watcher.follower.behind() || tick.elapsed() >= CATCH_UP_SLICE {
                        break;
                    }
                }
                let now = unix_now();
                let aggregate = &watcher.follower.aggregate;
                if started {
                    app.update(Msg::Frame(aggregate.snapshot(now)));
                    app.shards = Some(aggregate.shard_rows(now));
                    app.live_active = Some(aggregate.live_active(now));
                }
                if !ended && started && watcher.finished() {
                    ended = true;
                    let report = watcher.follower.aggregate.report(now);
                    app.update(Msg::Pool(Event::Finished(report)));
                }
            },
            recv(signals) -> received => {
                if let Ok(number) = received {
                    signal = Some(number);
                    if watcher.steer.owns_runs() {
                        let _ignored = watcher.halt(HaltReason::Signal, Action::HaltNow);
                    }
                    app.quit = true;
                }
            },
        }
    }
    if watcher.steer.owns_runs() {
        let deadline = Instant::now() + QUIT_WAIT;
        while !watcher.finished() && Instant::now() < deadline {
            watcher.step()?;
            std::thread::sleep(POLL_EVERY);
        }
    }
    watcher.follower.catch_up()?;
    Ok((watcher.follower.aggregate.summary(unix_now(), signal), signal))
}

/// Whether `key` does anything under watch: before a log has started only quitting does;
/// after, every key but those of launching, worker counts and the runs history
/// ([`crate::ui::WATCH_INERT_KEYS`]), which watch has no use for.
fn key_acts(key: &crossterm::event::KeyEvent, started: bool) -> bool {
    use crossterm::event::{KeyCode, KeyModifiers};
    let control = key.modifiers.contains(KeyModifiers::CONTROL);
    match key.code {
        KeyCode::Char('q') | KeyCode::Esc => true,
        KeyCode::Char('c') if control => true,
        _ if !started => false,
        KeyCode::Enter | KeyCode::Char('l' | 'e' | 'r' | 'x' | 'X' | '+' | '-' | '=') => false,
        _ => true,
    }
}

/// Each followed log and whether its file exists yet, until one has started.
fn waiting_for(watcher: &Watcher) -> Vec<(String, bool)> {
    watcher.follower.files()
}

/// The screen before any followed log has started: which files watch waits for, and how
/// to leave. `waiting` holds each log's path and whether the file exists yet.
pub fn render_waiting(frame: &mut ratatui::Frame<'_>, waiting: &[(String, bool)], theme: crate::ui::Theme) {
    use ratatui::layout::{Constraint, Layout};
    use ratatui::text::Line;
    use ratatui::widgets::{Block, Paragraph, Wrap};
    let area = frame.area();
    let [body, footer] = Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(area);
    let count = crate::format::plural(waiting.len() as u64, "log");
    let mut lines = vec![
        Line::styled(format!("Waiting for {count} to start:"), theme.title()),
        Line::raw(""),
    ];
    for (path, exists) in waiting {
        let state = if *exists {
            "there, no run started in it yet"
        } else {
            "not there yet"
        };
        lines.push(Line::raw(format!("  {path}: {state}")));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        "A run started with --log FILE writes it; the dashboard opens at its first line.",
        theme.dim(),
    ));
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::bordered().title(" poolwatch watch ")),
        body,
    );
    let footer = footer.inner(ratatui::layout::Margin::new(1, 0));
    frame.render_widget(Paragraph::new(Line::styled("q quit", theme.dim())), footer);
}

/// The header's facts, once a log has started.
fn run_info(watcher: &Watcher, title: &str) -> Option<RunInfo> {
    let aggregate = &watcher.follower.aggregate;
    let start = aggregate.logs.iter().find_map(|l| l.start.as_ref())?;
    Some(RunInfo {
        name: title.to_string(),
        search: start.search.clone(),
        params: start.params.clone(),
        halt: start.halt.clone(),
        goal: aggregate.goal,
        can_match: aggregate.can_match,
        successes: false,
        workers: start.workers,
        odds: aggregate.match_odds(),
        input_noun: None,
        numbered_inputs: false,
        space_label: None,
    })
}

/// Carries out the app's commands on the runs.
fn steer(watcher: &mut Watcher, app: &mut App, commands: Vec<Command>) {
    for command in commands {
        let outcome = match command {
            Command::HaltNow if watcher.steer.owns_runs() || !app.quit => {
                watcher.halt(HaltReason::User, Action::HaltNow)
            }
            Command::HaltSoon => watcher.halt(HaltReason::User, Action::Finish),
            Command::Pause => watcher.steer.apply(Action::Pause, &watcher.follower.aggregate),
            Command::Resume => watcher.steer.apply(Action::Resume, &watcher.follower.aggregate),
            Command::SetWorkers(_) => Err("the worker count is set per shard at launch".to_string()),
            Command::Launch(_) => Err("watch cannot launch runs".to_string()),
            Command::SavePreset(_) | Command::DeletePreset(_) | Command::Export { .. } => {
                Err("watch keeps no presets or runs history".to_string())
            }
            // Ctrl-C: the runs this watcher owns stop as on SIGINT; others are left alone.
            Command::Interrupt if watcher.steer.owns_runs() => {
                watcher.halt(HaltReason::Signal, Action::HaltNow)
            }
            Command::HaltNow | Command::Quit | Command::Interrupt => Ok(()),
        };
        if let Err(problem) = outcome {
            app.update(Msg::Problem(problem));
        }
    }
}
