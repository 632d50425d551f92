//! Colours and text helpers shared by the panels; every colour disappears under `NO_COLOR`.

use ratatui::style::{Color, Modifier, Style};
use std::time::Duration;

/// The palette, or plain styles when colour is off.
#[derive(Debug, Clone, Copy)]
pub struct Theme {
    color: bool,
}

impl Theme {
    /// A theme for `color` on or off.
    #[must_use]
    pub fn new(color: bool) -> Self {
        Self { color }
    }

    fn fg(self, color: Color) -> Style {
        if self.color {
            Style::new().fg(color)
        } else {
            Style::new()
        }
    }

    /// Titles and the header.
    #[must_use]
    pub fn title(self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }
    /// Done, found, good news.
    #[must_use]
    pub fn good(self) -> Style {
        self.fg(Color::Green)
    }
    /// In flight, paused, attention.
    #[must_use]
    pub fn warn(self) -> Style {
        self.fg(Color::Yellow)
    }
    /// Errors, stragglers, matches on the strip.
    #[must_use]
    pub fn bad(self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }
    /// Secondary text.
    #[must_use]
    pub fn dim(self) -> Style {
        if self.color {
            Style::new().fg(Color::DarkGray)
        } else {
            Style::new().add_modifier(Modifier::DIM)
        }
    }
    /// The highlighted row of a list.
    #[must_use]
    pub fn selected(self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }
    /// Gauge fill.
    #[must_use]
    pub fn gauge(self) -> Style {
        self.fg(Color::Blue)
    }
}

/// `done / total` as a ratio clamped to 0..=1 (0 for an empty total; never NaN).
#[must_use]
pub fn ratio(done: u64, total: u64) -> f64 {
    if total == 0 {
        return 0.0;
    }
    #[expect(clippy::cast_precision_loss, reason = "a ratio for a bar")]
    let value = done as f64 / total as f64;
    if value.is_finite() {
        value.clamp(0.0, 1.0)
    } else {
        0.0
    }
}

/// A duration as `850ms`, `12.3s`, `4m 05s` or `2h 03m`.
#[must_use]
pub fn duration(value: Duration) -> String {
    let secs = value.as_secs_f64();
    if secs < 1.0 {
        format!("{}ms", value.as_millis())
    } else if secs < 60.0 {
        format!("{secs:.1}s")
    } else if secs < 3600.0 {
        format!("{}m {:02}s", value.as_secs() / 60, value.as_secs() % 60)
    } else {
        format!("{}h {:02}m", value.as_secs() / 3600, (value.as_secs() / 60) % 60)
    }
}

/// An integer with thousands separators: `50,000,000`.
#[must_use]
pub fn count(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers_format_and_clamp() {
        assert_eq!(count(50_000_000), "50,000,000");
        assert_eq!(count(999), "999");
        assert!(ratio(5, 0).abs() < f64::EPSILON);
        assert!((ratio(7, 5) - 1.0).abs() < f64::EPSILON);
        assert_eq!(duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(duration(Duration::from_secs(245)), "4m 05s");
    }
}
