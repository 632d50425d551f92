//! Convergence panel: the best score over time for scoring searches; for the needle, the share searched and where the match landed.

use super::fit::first_fit;
use super::{Theme, count, duration, ratio, score};
use crate::app::App;
use poolwatch_core::search::Goal;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Chart, Dataset, GraphType, Paragraph, Wrap};
use std::time::Duration;

/// Draws the panel that fits the running search.
pub fn render(frame: &mut Frame<'_>, area: Rect, app: &App, theme: Theme) {
    let goal = app.run.as_ref().map_or(Goal::None, |run| run.goal);
    match goal {
        Goal::None => render_needle(frame, area, app, theme),
        Goal::Maximize | Goal::Minimize => render_chart(frame, area, app, goal, theme),
    }
}

fn render_chart(frame: &mut Frame<'_>, area: Rect, app: &App, goal: Goal, theme: Theme) {
    let points = &app.best.points;
    let width = usize::from(area.width.saturating_sub(2));
    let title = match (app.best.latest(), goal) {
        (Some((at, best)), goal) => {
            let (what, better) = if goal == Goal::Minimize {
                ("value", "lower")
            } else {
                ("score", "higher")
            };
            let (best, at) = (score(best), duration(Duration::from_secs_f64(at)));
            first_fit(
                &[
                    format!(" best {what} ({better} is better): {best} at {at} "),
                    format!(" best {what}: {best} at {at} "),
                    format!(" best {best} at {at} "),
                    format!(" best {best} "),
                ],
                width,
            )
        }
        (None, _) => " best score: none yet ".to_string(),
    };
    let block = theme.panel(title, false);
    if points.is_empty() {
        frame.render_widget(
            Paragraph::new("waiting for the first scored task").block(block),
            area,
        );
        return;
    }
    let now = app
        .now()
        .as_secs_f64()
        .max(points.last().map_or(0.0, |p| p.0))
        .max(1.0);
    let line = step_line(points, now);
    let (low, high) = y_bounds(points, goal);
    let dataset = Dataset::default()
        .marker(Marker::Braille)
        .graph_type(GraphType::Line)
        .style(theme.good())
        .data(&line);
    let x_axis = Axis::default()
        .bounds([0.0, now])
        .labels([Span::raw("0s"), Span::raw(format!("{now:.0}s"))])
        .style(theme.dim());
    let y_axis = Axis::default()
        .bounds([low, high])
        .labels([Span::raw(score(low)), Span::raw(score(high))])
        .style(theme.dim());
    frame.render_widget(
        Chart::new(vec![dataset])
            .block(block)
            .x_axis(x_axis)
            .y_axis(y_axis),
        area,
    );
}

/// A step line: each best holds until the next one, and the last one until `now`.
fn step_line(points: &[(f64, f64)], now: f64) -> Vec<(f64, f64)> {
    let mut line = Vec::with_capacity(points.len() * 2 + 1);
    for (index, &(at, value)) in points.iter().enumerate() {
        if index > 0 {
            line.push((at, points[index - 1].1));
        }
        line.push((at, value));
    }
    if let Some(&(_, last)) = points.last() {
        line.push((now, last));
    }
    line
}

/// The y range: from 0 for a value to minimise (it descends toward 0), else around the scores.
fn y_bounds(points: &[(f64, f64)], goal: Goal) -> (f64, f64) {
    let (low, high) = points
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
            (lo.min(p.1), hi.max(p.1))
        });
    match goal {
        Goal::Minimize => (0.0_f64.min(low), high.max(low + 1e-9)),
        _ => (low.min(high - 1.0).floor(), high.ceil() + 1.0),
    }
}

fn render_needle(frame: &mut Frame<'_>, area: Rect, app: &App, theme: Theme) {
    let block = theme.panel(" search space ", false);
    let inner_width = usize::from(block.inner(area).width);
    let Some(snapshot) = app.snapshot.as_ref() else {
        let text = app.selected_preset().map_or_else(String::new, |preset| {
            format!("Enter launches: {}\n{}", preset.name, preset.description)
        });
        frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }).block(block), area);
        return;
    };
    if snapshot.total_open {
        // An open total: counts only, no share of a space whose size is unknown.
        let text = format!(
            "{} done of {} read so far (total open){}",
            count(snapshot.counters.completed),
            count(snapshot.counters.total),
            if app.match_marks.is_empty() {
                ", no match yet"
            } else {
                ""
            }
        );
        frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }).block(block), area);
        return;
    }
    let searched = ratio(snapshot.counters.completed, snapshot.counters.total);
    let bar = Line::styled(
        position_bar(inner_width, snapshot.counters.total, searched, &app.match_marks),
        theme.good(),
    );
    let space = app
        .run
        .as_ref()
        .and_then(|run| run.space_label.clone())
        .unwrap_or_else(|| format!("the space 0..{}", count(snapshot.counters.total)));
    let searched_text = format!("searched {:.2}% of {space}", searched * 100.0);
    let lines = if let Some((first, name)) = app.first_match.as_ref() {
        let share = ratio(*first, snapshot.counters.total) * 100.0;
        let mut lines = vec![
            Line::styled(
                format!("match at {name} ({share:.2}% into the space)"),
                theme.found(),
            ),
            bar,
            Line::raw(searched_text),
        ];
        if app.match_marks.len() > 1 {
            lines.push(Line::raw(format!(
                "{} matches so far",
                count(u64::try_from(app.match_marks.len()).unwrap_or(u64::MAX))
            )));
        }
        lines
    } else if app.phase.is_live() {
        let rest = (1.0 - searched) * 100.0;
        let estimate = app.estimate();
        let percent = format!("{:.2}%", searched * 100.0);
        let mut lines = vec![
            Line::raw(first_fit(
                &[
                    format!("{searched_text}: no match yet"),
                    format!("{percent} of {space} searched, no match yet"),
                    format!("{percent} searched, no match yet"),
                    format!("{percent}, no match yet"),
                ],
                inner_width,
            )),
            bar,
            // One whole sentence on one line: the panel may have no room for a second.
            Line::raw(first_fit(
                &[
                    format!("if there is a match, it is in the remaining {rest:.2}%"),
                    format!("a match, if any, is in the remaining {rest:.2}%"),
                    format!("{rest:.2}% left to search"),
                ],
                inner_width,
            )),
        ];
        if estimate.match_text().is_some() {
            lines.push(Line::raw(estimate.text()));
        }
        lines
    } else {
        vec![Line::raw(format!("{searched_text}: no match")), bar]
    };
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }).block(block), area);
}

/// `0 [=====◆----] N`: the searched share, with each match's position.
fn position_bar(width: usize, total: u64, searched: f64, marks: &[u64]) -> String {
    let cells = width.saturating_sub(2);
    if cells == 0 {
        return String::new();
    }
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss,
        reason = "bounded by cells"
    )]
    let filled = ((searched * cells as f64).round() as usize).min(cells);
    let mut bar: Vec<char> = (0..cells).map(|i| if i < filled { '=' } else { '-' }).collect();
    for mark in marks {
        let cell = poolwatch_core::bucket_of(total, cells, *mark).min(cells - 1);
        bar[cell] = '◆';
    }
    format!("[{}]", bar.into_iter().collect::<String>())
}
