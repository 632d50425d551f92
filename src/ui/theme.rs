//! Colours and text helpers shared by the panels; every colour disappears under `NO_COLOR`.

use ratatui::style::{Color, Modifier, Style};

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

    /// A bordered panel titled `title`, its border in the title's style while it has the focus.
    #[must_use]
    pub fn panel<'a>(
        self,
        title: impl Into<std::borrow::Cow<'a, str>>,
        focused: bool,
    ) -> ratatui::widgets::Block<'a> {
        let border = if focused { self.title() } else { Style::new() };
        ratatui::widgets::Block::bordered()
            .border_style(border)
            .title(ratatui::text::Line::styled(title, self.title()))
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
    /// Stragglers and a stopped run.
    #[must_use]
    pub fn bad(self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }
    /// Matches, in the log and on the strip: green, bold.
    #[must_use]
    pub fn found(self) -> Style {
        self.fg(Color::Green).add_modifier(Modifier::BOLD)
    }
    /// Errors and cut-short work: red.
    #[must_use]
    pub fn error(self) -> Style {
        self.fg(Color::Red)
    }
    /// A space searched to the end without a match.
    #[must_use]
    pub fn exhausted(self) -> Style {
        self.fg(Color::Magenta).add_modifier(Modifier::BOLD)
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
    /// The footer's key hints: the terminal's own text colour, readable on a dark and a
    /// light background alike (a grey is faint on one or the other).
    #[must_use]
    pub fn hint(self) -> Style {
        Style::new()
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
