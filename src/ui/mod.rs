//! Rendering of `&App` into a frame: the layout, delegating each panel to its own file. No state, no I/O.

mod convergence;
mod coverage;
mod fit;
mod form;
mod overlay;
mod progress;
mod results;
mod runs;
mod shards;
mod table;
mod theme;
mod workers;

pub use crate::format::{count, duration, ratio, score};
pub use coverage::{Cell as CoverageCell, cells as coverage_cells};
pub use theme::Theme;

use crate::app::{App, Drawn, Focus, Hit, Overlay, Phase, Target};
use crate::format::plural;
use crossterm::event::KeyCode;
use poolwatch_core::HaltPolicy;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// Below this size only a one-line notice is drawn.
const MIN_WIDTH: u16 = 50;
/// Below this height only a one-line notice is drawn.
const MIN_HEIGHT: u16 = 16;
/// Most worker rows shown before the table scrolls off.
const MAX_WORKER_ROWS: u16 = 12;
/// Worker rows the table keeps whenever there are that many workers and 22 rows or more:
/// a pool of two shows whole at 80x24.
const MIN_WORKER_ROWS: u16 = 2;
/// Rows of the workers table around its worker rows: borders and the column titles.
const TABLE_CHROME: u16 = 3;

/// Draws the whole dashboard and tells what the app's keys need to know of it
/// ([`crate::app::Msg::Drawn`]; a caller that only draws can leave it).
pub fn render(frame: &mut Frame<'_>, app: &App) -> Drawn {
    let area = frame.area();
    let theme = Theme::new(app.color);
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        render_too_small(frame, area, app, theme);
        return Drawn::default();
    }
    let halt = results::halt_panel(app, area.width);
    let [header, progress, middle, coverage, workers, bottom, footer] =
        rows(app, area, results::halt_height(halt.as_ref()));
    render_header(frame, header, app, theme);
    progress::render(frame, progress, app, theme);
    let [convergence_area, throughput_area] =
        Layout::horizontal([Constraint::Percentage(60), Constraint::Percentage(40)]).areas(middle);
    convergence::render(frame, convergence_area, app, theme);
    progress::render_sparkline(frame, throughput_area, app, theme);
    coverage::render(frame, coverage, app, theme);
    let mut hits = Vec::new();
    let (worker_rows, rows) = match &app.shards {
        Some(rows) => {
            let view = shards::View {
                scroll: app.workers_scroll,
                focused: app.focus == Focus::Workers,
                selected: app.selected_row,
            };
            shards::render(frame, workers, rows, view, theme)
        }
        None => workers::render(frame, workers, app, theme),
    };
    if workers.height > 0 {
        hits.push(Hit {
            area: workers,
            target: Target::Panel(Focus::Workers),
        });
    }
    hits.extend(rows.into_iter().map(|(id, area)| Hit {
        area,
        target: Target::Row(id),
    }));
    results::render(frame, bottom, app, halt, theme, &mut hits);
    render_footer(frame, footer, app, theme, &mut hits);
    match &app.overlay {
        Overlay::None => {}
        Overlay::Help => hits.push(overlay::render_help(frame, area, watching(app), theme)),
        Overlay::Launcher { cursor } => {
            hits.extend(overlay::render_launcher(frame, area, app, *cursor, theme));
        }
        Overlay::Form(form) => hits.extend(form::render(frame, area, form, theme)),
        Overlay::Runs => hits.extend(runs::render(frame, area, &app.history, theme)),
        Overlay::ConfirmQuit => hits.push(overlay::render_confirm_quit(frame, area, app, theme)),
    }
    Drawn { worker_rows, hits }
}

/// The dashboard's rows, top to bottom: header, progress, middle (convergence and
/// throughput), coverage, workers, bottom (log and a halt panel of `halt` rows), footer.
fn rows(app: &App, area: Rect, halt: u16) -> [Rect; 7] {
    // Header, progress, coverage and footer are fixed.
    // A fourth progress row (the ETA line) when there is room for it.
    let progress_height = if area.height >= 22 { 6 } else { 5 };
    let flexible = area.height.saturating_sub(6 + progress_height);
    let workers = workers_height(app, area.height, flexible);
    let (workers, bottom) = room_for_halt(flexible, workers, halt);
    Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(progress_height),
        Constraint::Fill(1),
        Constraint::Length(4),
        Constraint::Length(workers),
        bottom,
        Constraint::Length(1),
    ])
    .areas(area)
}

/// The workers (or shards) table's rows: up to 2/5 of the `flexible` rows, at least
/// [`MIN_WORKER_ROWS`] worker rows whenever there are workers; none below 22 rows (the header keeps the worker
/// count) so that the log keeps a few lines.
fn workers_height(app: &App, height: u16, flexible: u16) -> u16 {
    if height < 22 {
        return 0;
    }
    let worker_rows = match &app.shards {
        Some(rows) => rows.len(),
        None => app.snapshot.as_ref().map_or(0, |s| s.workers.len()),
    };
    let worker_rows = u16::try_from(worker_rows)
        .unwrap_or(u16::MAX)
        .min(MAX_WORKER_ROWS);
    (worker_rows + TABLE_CHROME).min((flexible * 2 / 5).max(TABLE_CHROME + worker_rows.min(MIN_WORKER_ROWS)))
}

/// The workers table's height and the bottom row's constraint once the halt panel wants
/// `wanted` rows: what the bottom row's even share lacks is taken from the workers table (a
/// table left too short for one row goes whole), never from the middle row.
fn room_for_halt(flexible: u16, workers: u16, wanted: u16) -> (u16, Constraint) {
    let rest = flexible.saturating_sub(workers);
    // How Fill(1) and Fill(1) share `rest`: the odd row goes to the middle.
    let (middle, bottom) = (rest - rest / 2, rest / 2);
    if wanted <= bottom || workers == 0 {
        return (workers, Constraint::Fill(1));
    }
    let left = workers.saturating_sub(wanted - bottom);
    let workers = if left > TABLE_CHROME { left } else { 0 };
    let bottom = flexible.saturating_sub(workers + middle);
    (workers, Constraint::Length(bottom))
}

fn render_too_small(frame: &mut Frame<'_>, area: Rect, app: &App, theme: Theme) {
    let lines = vec![
        Line::styled(format!("poolwatch: {}", app.phase.label()), theme.title()),
        Line::raw(format!(
            "terminal too small ({}x{}), need {MIN_WIDTH}x{MIN_HEIGHT}",
            area.width, area.height
        )),
    ];
    frame.render_widget(Paragraph::new(lines), area);
}

fn phase_style(phase: Phase, theme: Theme) -> ratatui::style::Style {
    match phase {
        Phase::Ready => theme.title(),
        Phase::Running => theme.good(),
        Phase::Found => theme.found(),
        Phase::Paused | Phase::Halting => theme.warn(),
        Phase::Stopped => theme.bad(),
        Phase::Exhausted => theme.exhausted(),
    }
}

fn render_header(frame: &mut Frame<'_>, area: Rect, app: &App, theme: Theme) {
    // Rank 0 is never dropped; higher ranks go first when the line is too narrow.
    let mut parts = vec![
        (0, Span::styled("poolwatch", theme.title())),
        (
            0,
            Span::styled(format!("[{}]", app.phase.label()), phase_style(app.phase, theme)),
        ),
    ];
    match (&app.run, app.selected_preset()) {
        (Some(run), _) => {
            if let Some(snapshot) = &app.snapshot {
                parts.push((1, Span::raw(duration(snapshot.elapsed))));
                let active = app.live_active.unwrap_or(snapshot.active).min(snapshot.elapsed);
                parts.push((5, Span::raw(format!("({} active)", duration(active)))));
                let workers = u64::try_from(snapshot.target_workers).unwrap_or(u64::MAX);
                parts.push((2, Span::raw(plural(workers, "worker"))));
            }
            parts.push((3, Span::styled(run.search.clone(), theme.title())));
            parts.push((4, Span::raw(crate::escape::controls(&run.params).into_owned())));
            let halt = match (&app.first_match, run.halt == "lowest") {
                // The lowest match so far: every id below it still runs until it is proven.
                (Some((_, name)), true) if app.phase == Phase::Running || app.phase == Phase::Paused => {
                    format!("halt lowest, candidate {name}")
                }
                (Some((_, name)), true) => format!("halt lowest: {name}"),
                _ => format!("halt {}", run.halt),
            };
            parts.push((0, Span::raw(halt)));
        }
        (None, Some(preset)) => {
            parts.push((1, Span::raw(format!("selected: {}", preset.name))));
            parts.push((2, Span::raw(preset.spec.kind())));
            let halt = match &preset.spec {
                // Say which default applies where it is not the usual `now`.
                crate::spec::SearchSpec::Exec(exec)
                    if exec.runs_every_job() && preset.halt == HaltPolicy::Never =>
                {
                    "halt never: every input runs (exec's default; --halt now stops at the first success)"
                        .to_string()
                }
                _ => format!("halt {}", preset.halt),
            };
            parts.push((0, Span::raw(halt)));
        }
        (None, None) => {}
    }
    let _header = render_row(frame, area, parts);
}

/// The keys for browsing the panels, offered whenever a run is on screen.
const BROWSE_KEYS: [(&str, &str); 4] = [
    ("Tab", "focus"),
    ("j/k", "scroll"),
    ("s", "sort"),
    ("m", "filter"),
];

/// The hotkeys that make sense in `phase`, most important first (the footer drops from the end).
#[must_use]
pub fn footer_keys(phase: Phase) -> Vec<(&'static str, &'static str)> {
    let mut keys = match phase {
        Phase::Ready => {
            return vec![
                ("q", "quit"),
                ("Enter", "launch"),
                ("l", "launcher"),
                ("e", "edit"),
                ("r", "runs"),
                ("?", "help"),
                ("+/-", "workers"),
            ];
        }
        Phase::Running | Phase::Paused => {
            let pause = if phase == Phase::Paused { "resume" } else { "pause" };
            vec![
                ("q", "quit"),
                ("p", pause),
                ("t", "terminate"),
                ("f", "finish"),
                ("+/-", "workers"),
                ("?", "help"),
                ("r", "runs"),
            ]
        }
        // `t` still cuts a slow halt short.
        Phase::Halting => vec![("q", "quit"), ("t", "terminate"), ("?", "help"), ("r", "runs")],
        Phase::Found | Phase::Exhausted | Phase::Stopped => {
            vec![
                ("q", "quit"),
                ("Enter", "run again"),
                ("l", "launcher"),
                ("e", "edit"),
                ("r", "runs"),
                ("?", "help"),
                ("+/-", "workers"),
            ]
        }
    };
    // A run is on screen: its panels can be browsed.
    keys.extend(BROWSE_KEYS);
    if phase.is_live() {
        // They act during a run too, after what the run itself needs.
        keys.extend([("l", "launcher"), ("e", "edit")]);
    }
    keys
}

/// The keys `poolwatch watch` has no use for: it launches nothing, sets no worker count
/// (each shard's is set at its launch) and keeps no runs history.
pub const WATCH_INERT_KEYS: [&str; 6] = ["Enter", "l", "e", "r", "x / X", "+ / -"];

/// True under `poolwatch watch`: the shards table takes the workers' place.
#[must_use]
pub fn watching(app: &App) -> bool {
    app.shards.is_some()
}

/// True when `key` (as the footer and the help name it) acts on this screen.
#[must_use]
pub fn key_acts(app: &App, key: &str) -> bool {
    !(watching(app) && WATCH_INERT_KEYS.contains(&key.replace("+/-", "+ / -").as_str()))
}

fn render_footer(frame: &mut Frame<'_>, area: Rect, app: &App, theme: Theme, hits: &mut Vec<Hit>) {
    let mut keys = footer_keys(app.phase);
    keys.retain(|(key, _)| key_acts(app, key));
    // Shown in the usual order (quit last), dropped from the least important.
    let rank = |index: usize| u8::try_from(index).unwrap_or(u8::MAX);
    let mut parts: Vec<(u8, Span<'_>)> = keys
        .iter()
        .enumerate()
        .skip(1)
        .map(|(index, (key, what))| (rank(index), Span::styled(format!("{key} {what}"), theme.hint())))
        .collect();
    if let Some((key, what)) = keys.first() {
        parts.push((0, Span::styled(format!("{key} {what}"), theme.hint())));
    }
    let line = render_row(frame, area, parts);
    // Each hint drawn presses its key; `a/b` hints press a on the `a`, b on the rest.
    let mut x = area.x + 1;
    for span in &line.spans {
        let width = u16::try_from(span.width()).unwrap_or(u16::MAX);
        let hint = keys
            .iter()
            .find(|(key, what)| span.content == format!("{key} {what}"));
        if let Some((key, _)) = hint {
            for (code, start, end) in hint_keys(key, width) {
                hits.push(Hit {
                    area: Rect::new(x + start, area.y, end - start, 1).intersection(area),
                    target: Target::Key(code),
                });
            }
        }
        x = x.saturating_add(width);
    }
}

/// The keys a hint `key` names, each with the columns of the hint (`width` wide) it takes.
fn hint_keys(key: &str, width: u16) -> Vec<(KeyCode, u16, u16)> {
    let code = |name: &str| match name {
        "Enter" => Some(KeyCode::Enter),
        "Tab" => Some(KeyCode::Tab),
        "Esc" => Some(KeyCode::Esc),
        name => {
            let mut chars = name.chars();
            chars.next().filter(|_| chars.next().is_none()).map(KeyCode::Char)
        }
    };
    match key.split_once('/') {
        Some((first, second)) => {
            let split = u16::try_from(first.len()).unwrap_or(0);
            [(code(first), 0, split), (code(second), split, width)]
                .into_iter()
                .filter_map(|(code, start, end)| Some((code?, start, end)))
                .collect()
        }
        None => code(key).map(|code| (code, 0, width)).into_iter().collect(),
    }
}

/// Draws `parts` on the row `area` inside a margin of one column each side, the least
/// important dropped whole until the rest fits between the margins.
fn render_row<'a>(frame: &mut Frame<'_>, area: Rect, parts: Vec<(u8, Span<'a>)>) -> Line<'a> {
    let inside = area.inner(ratatui::layout::Margin::new(1, 0));
    let line = fit::by_rank(parts, "  ", usize::from(inside.width));
    frame.render_widget(Paragraph::new(line.clone()), inside);
    line
}
