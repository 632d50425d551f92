//! Progress panel: completed and submitted gauges, rates and ETA, and the throughput sparkline.

use super::fit::{by_rank, first_fit};
use super::{Theme, count, ratio};
use crate::app::{App, Phase};
use crate::format::human_count;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{LineGauge, Paragraph, Sparkline};

/// Draws the two gauges, the counters and (when there is a row for it) the ETA line.
pub fn render(frame: &mut Frame<'_>, area: Rect, app: &App, theme: Theme) {
    let block = theme.panel(" progress ", false);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let with_eta_row = inner.height >= 4;
    // One line each, as many as fit: the gauges first, then the counters, then the ETA.
    let rows: Vec<Rect> = (0..4u16)
        .map(|index| {
            if index < inner.height {
                Rect {
                    y: inner.y + index,
                    height: 1,
                    ..inner
                }
            } else {
                Rect { height: 0, ..inner }
            }
        })
        .collect();
    let width = usize::from(inner.width);
    let snapshot = app.snapshot.as_ref();
    let known = app.selected_preset().and_then(|preset| preset.spec.known_space());
    let total = snapshot.map_or(known.unwrap_or(0), |s| s.counters.total);
    let open = snapshot.is_some_and(|s| s.total_open);
    let total_known = snapshot.is_some() || known.is_some();
    // Ids completed before a resume count: the gauge is the whole run's, as the summary is.
    let completed = snapshot.map_or(0, |s| s.counters.completed + s.counters.done_before);
    let submitted = snapshot.map_or(0, |s| s.counters.submitted);
    let gauge = |name: &str, value: u64, fill| {
        // An open total has no percentage: only the count and what has been read so far.
        let (share, label) = if open {
            (
                0.0,
                format!(
                    "{name} {} (total open, {} read so far)",
                    count(value),
                    count(total)
                ),
            )
        } else if total_known {
            let share = ratio(value, total);
            (
                share,
                format!(
                    "{name} {:>6.2}% {} / {}",
                    share * 100.0,
                    count(value),
                    count(total)
                ),
            )
        } else {
            (0.0, format!("{name} {} / -", count(value)))
        };
        LineGauge::default()
            .ratio(share)
            .label(label)
            .filled_style(fill)
            .unfilled_style(theme.dim())
    };
    frame.render_widget(gauge("completed", completed, theme.good()), rows[0]);
    frame.render_widget(gauge("submitted", submitted, theme.gauge()), rows[1]);
    frame.render_widget(
        Paragraph::new(figures_line(app, theme, width, !with_eta_row)),
        rows[2],
    );
    if with_eta_row {
        frame.render_widget(Paragraph::new(eta_line(app, theme, width)), rows[3]);
    }
}

fn eta_parts(app: &App, theme: Theme, rank: u8) -> Vec<(u8, Span<'static>)> {
    let Some(snapshot) = app.snapshot.as_ref() else {
        return Vec::new();
    };
    if snapshot.total_open || !matches!(app.phase, Phase::Running | Phase::Paused) {
        return Vec::new();
    }
    let estimate = app.estimate();
    let mut parts = Vec::new();
    if let Some(text) = estimate.match_text() {
        parts.push((rank, Span::styled(text, theme.good())));
    }
    parts.push((rank + 1, Span::raw(estimate.exhaust_text())));
    parts
}

fn eta_line(app: &App, theme: Theme, width: usize) -> Line<'static> {
    by_rank(eta_parts(app, theme, 0), "   ", width)
}

fn figures_line(app: &App, theme: Theme, width: usize, with_eta: bool) -> Line<'static> {
    let Some(snapshot) = app.snapshot.as_ref() else {
        return Line::raw(first_fit(
            &[
                "press Enter to launch, l for the launcher".to_string(),
                "Enter launches".to_string(),
            ],
            width,
        ));
    };
    let mut parts = vec![
        (
            0,
            Span::raw(format!("{} tasks/s", human_count(app.throughput.windowed_rate))),
        ),
        (
            0,
            Span::styled(
                if app.run.as_ref().is_some_and(|run| run.successes) {
                    format!("succeeded {}", count(snapshot.counters.matches))
                } else {
                    format!("matches {}", count(snapshot.counters.matches))
                },
                theme.found(),
            ),
        ),
        (
            0,
            Span::styled(
                format!("errors {}", count(snapshot.counters.errors)),
                theme.error(),
            ),
        ),
        (
            0,
            Span::raw(format!("cancelled {}", count(snapshot.counters.cancelled))),
        ),
        (
            4,
            Span::raw(format!("in flight {}", count(snapshot.counters.in_flight()))),
        ),
        (5, Span::raw(format!("batch {}", count(snapshot.batch_size)))),
    ];
    if with_eta {
        parts.extend(eta_parts(app, theme, 2));
    }
    by_rank(parts, "   ", width)
}

/// Draws tasks completed per second over the last minute.
pub fn render_sparkline(frame: &mut Frame<'_>, area: Rect, app: &App, theme: Theme) {
    let samples: Vec<u64> = app.throughput.per_second.iter().copied().collect();
    let peak = samples.iter().copied().max().unwrap_or(0);
    #[expect(clippy::cast_precision_loss, reason = "a display figure")]
    let peak = human_count(peak as f64);
    // No whole second measured yet (or a run shorter than one): no peak to claim.
    let titles = if samples.is_empty() {
        vec![
            " throughput: no whole second yet ".to_string(),
            " throughput ".to_string(),
        ]
    } else {
        vec![
            format!(" throughput, last {}s (peak {peak}/s) ", samples.len()),
            format!(" throughput (peak {peak}/s) "),
            format!(" peak {peak}/s "),
        ]
    };
    let title = first_fit(&titles, usize::from(area.width.saturating_sub(2)));
    let block = theme.panel(title, false);
    // Newest at the right edge: keep the samples that fit.
    let width = usize::from(block.inner(area).width);
    let shown = &samples[samples.len().saturating_sub(width)..];
    let sparkline = Sparkline::default().block(block).data(shown).style(theme.good());
    frame.render_widget(sparkline, area);
}
