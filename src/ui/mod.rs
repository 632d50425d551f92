//! Rendering of `&App` into a frame: the layout, delegating each panel to its own file. No state, no I/O.

mod convergence;
mod coverage;
mod overlay;
mod progress;
mod results;
mod shards;
mod theme;
mod workers;

pub use crate::summary::format_score as score;
pub use coverage::{Cell as CoverageCell, cells as coverage_cells};
pub use theme::{Theme, count, duration, ratio};

use crate::app::{App, Overlay, Phase};
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

/// Draws the whole dashboard.
pub fn render(frame: &mut Frame<'_>, app: &App) {
    let area = frame.area();
    let theme = Theme::new(app.color);
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        render_too_small(frame, area, app, theme);
        return;
    }
    let worker_rows = match &app.shards {
        Some(rows) => rows.len(),
        None => app.snapshot.as_ref().map_or(0, |s| s.workers.len()),
    };
    let worker_rows = u16::try_from(worker_rows)
        .unwrap_or(u16::MAX)
        .min(MAX_WORKER_ROWS);
    // Header, progress, coverage and footer are fixed; the table gets up to 2/5 of the rest.
    let flexible = area.height.saturating_sub(11);
    let workers_height = (worker_rows + 3).min((flexible * 2 / 5).max(3));
    let [header, progress, middle, coverage, workers, bottom, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(5),
        Constraint::Fill(1),
        Constraint::Length(4),
        Constraint::Length(workers_height),
        Constraint::Fill(1),
        Constraint::Length(1),
    ])
    .areas(area);
    render_header(frame, header, app, theme);
    progress::render(frame, progress, app, theme);
    let [convergence_area, throughput_area] =
        Layout::horizontal([Constraint::Percentage(60), Constraint::Percentage(40)]).areas(middle);
    convergence::render(frame, convergence_area, app, theme);
    progress::render_sparkline(frame, throughput_area, app, theme);
    coverage::render(frame, coverage, app, theme);
    match &app.shards {
        Some(rows) => shards::render(frame, workers, app, rows, theme),
        None => workers::render(frame, workers, app, theme),
    }
    results::render(frame, bottom, app, theme);
    render_footer(frame, footer, app, theme);
    match app.overlay {
        Overlay::None => {}
        Overlay::Help => overlay::render_help(frame, area, theme),
        Overlay::Launcher { cursor } => overlay::render_launcher(frame, area, app, cursor, theme),
    }
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
        Phase::Running | Phase::Found => theme.good(),
        Phase::Paused | Phase::Halting => theme.warn(),
        Phase::Stopped => theme.bad(),
        Phase::Ready | Phase::Exhausted => theme.title(),
    }
}

fn render_header(frame: &mut Frame<'_>, area: Rect, app: &App, theme: Theme) {
    let mut spans = vec![
        Span::styled(" poolwatch ", theme.title()),
        Span::styled(format!("[{}] ", app.phase.label()), phase_style(app.phase, theme)),
    ];
    match (&app.run, app.selected_preset()) {
        (Some(run), _) => {
            if let Some(snapshot) = &app.snapshot {
                spans.push(Span::raw(format!(
                    "{} ({} active)  {} workers  ",
                    duration(snapshot.elapsed),
                    duration(snapshot.active),
                    snapshot.target_workers
                )));
            }
            spans.push(Span::styled(format!("{} ", run.search), theme.title()));
            spans.push(Span::raw(format!("{}  halt {}", run.params, run.halt)));
        }
        (None, Some(preset)) => {
            spans.push(Span::raw(format!(
                "selected: {} ({}, halt {})",
                preset.name,
                preset.spec.kind(),
                preset.halt
            )));
        }
        (None, None) => {}
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The hotkeys that make sense in `phase`.
#[must_use]
pub fn footer_keys(phase: Phase) -> &'static str {
    match phase {
        Phase::Ready => "Enter launch  l launcher  ? help  q quit",
        Phase::Running => "p pause  t terminate  f finish  +/- workers  j/k scroll  m filter  ? help  q quit",
        Phase::Paused => "p resume  t terminate  f finish  +/- workers  j/k scroll  m filter  ? help  q quit",
        Phase::Halting => "stopping...  j/k scroll  m filter  ? help  q quit",
        Phase::Found | Phase::Exhausted | Phase::Stopped => {
            "Enter run again  l launcher  j/k scroll  m filter  ? help  q quit"
        }
    }
}

fn render_footer(frame: &mut Frame<'_>, area: Rect, app: &App, theme: Theme) {
    frame.render_widget(
        Paragraph::new(Line::styled(format!(" {}", footer_keys(app.phase)), theme.dim())),
        area,
    );
}
