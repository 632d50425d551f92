//! Progress panel: completed and submitted gauges, rates and ETA, and the throughput sparkline.

use super::{Theme, count, duration, ratio};
use crate::app::{App, Phase};
use crate::summary::human_count;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, LineGauge, Paragraph, Sparkline};

/// Draws the two gauges and the figures line.
pub fn render(frame: &mut Frame<'_>, area: Rect, app: &App, theme: Theme) {
    let block = Block::bordered().title(Line::styled(" progress ", theme.title()));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [completed_row, submitted_row, figures_row] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(inner);
    let snapshot = app.snapshot.as_ref();
    let total = snapshot.map_or(0, |s| s.counters.total);
    let open = snapshot.is_some_and(|s| s.total_open);
    let total_text = match snapshot {
        None => "-".to_string(),
        Some(_) if open => format!("{}+ (total open)", count(total)),
        Some(_) => count(total),
    };
    let completed = snapshot.map_or(0, |s| s.counters.completed);
    let submitted = snapshot.map_or(0, |s| s.counters.submitted);
    let gauge = |name: &str, value: u64, fill| {
        LineGauge::default()
            .ratio(ratio(value, total))
            .label(format!(
                "{name} {:>6.2}% {} / {total_text}",
                ratio(value, total) * 100.0,
                count(value)
            ))
            .filled_style(fill)
            .unfilled_style(theme.dim())
    };
    frame.render_widget(gauge("completed", completed, theme.good()), completed_row);
    frame.render_widget(gauge("submitted", submitted, theme.gauge()), submitted_row);
    frame.render_widget(Paragraph::new(figures_line(app)), figures_row);
}

fn figures_line(app: &App) -> String {
    let Some(snapshot) = app.snapshot.as_ref() else {
        return "press Enter to launch, l for the launcher".to_string();
    };
    let rate = app.throughput.windowed_rate;
    let remaining = snapshot.remaining();
    let eta = if matches!(app.phase, Phase::Running | Phase::Paused) && !snapshot.total_open {
        app.throughput
            .eta(remaining)
            .map_or_else(|| "-".to_string(), duration)
    } else {
        "-".to_string()
    };
    format!(
        "{} tasks/s   ETA {eta}   in flight {}   cancelled {}   matches {}   errors {}   batch {}",
        human_count(rate),
        count(snapshot.counters.in_flight()),
        count(snapshot.counters.cancelled),
        count(snapshot.counters.matches),
        count(snapshot.counters.errors),
        count(snapshot.batch_size),
    )
}

/// Draws tasks completed per second over the last minute.
pub fn render_sparkline(frame: &mut Frame<'_>, area: Rect, app: &App, theme: Theme) {
    let samples: Vec<u64> = app.throughput.per_second.iter().copied().collect();
    let peak = samples.iter().copied().max().unwrap_or(0);
    #[expect(clippy::cast_precision_loss, reason = "a display figure")]
    let title = format!(
        " throughput, last {}s (peak {}/s) ",
        samples.len(),
        human_count(peak as f64)
    );
    let block = Block::bordered().title(Line::styled(title, theme.title()));
    // Newest at the right edge: keep the samples that fit.
    let width = usize::from(block.inner(area).width);
    let shown = &samples[samples.len().saturating_sub(width)..];
    let sparkline = Sparkline::default().block(block).data(shown).style(theme.good());
    frame.render_widget(sparkline, area);
}
