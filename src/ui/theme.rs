//! Colours and text helpers shared by the panels; every colour disappears under `NO_COLOR`.

use ratatui::style::{Color, Modifier, Style};

/// The colours: from xterm's 256-colour cube and grey ramp, whose values every terminal
/// with 256 colours keeps (a theme changes only the 16 base colours), each picked to read at
/// a contrast of 3:1 or more on a black and on a white background (see the tests): the base
/// green, yellow and cyan are faint on white, and the base blue is faint on black.
const CYAN: Color = Color::Indexed(30);
const GREEN: Color = Color::Indexed(28);
const YELLOW: Color = Color::Indexed(136);
const RED: Color = Color::Indexed(160);
const MAGENTA: Color = Color::Indexed(164);
const GREY: Color = Color::Indexed(244);
const BLUE: Color = Color::Indexed(32);

/// The palette, or plain styles when colour is off.
#[derive(Debug, Clone, Copy)]
pub struct Theme {
    color: bool,
}

impl Theme {
    /// A theme for `color` on or off.
    #[must_use]
    pub const fn new(color: bool) -> Self {
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
        self.fg(CYAN).add_modifier(Modifier::BOLD)
    }
    /// Done, found, good news.
    #[must_use]
    pub fn good(self) -> Style {
        self.fg(GREEN)
    }
    /// In flight, paused, attention.
    #[must_use]
    pub fn warn(self) -> Style {
        self.fg(YELLOW)
    }
    /// Stragglers and a stopped run.
    #[must_use]
    pub fn bad(self) -> Style {
        self.fg(RED).add_modifier(Modifier::BOLD)
    }
    /// Matches, in the log and on the strip: green, bold.
    #[must_use]
    pub fn found(self) -> Style {
        self.fg(GREEN).add_modifier(Modifier::BOLD)
    }
    /// Errors and cut-short work: red.
    #[must_use]
    pub fn error(self) -> Style {
        self.fg(RED)
    }
    /// A space searched to the end without a match.
    #[must_use]
    pub fn exhausted(self) -> Style {
        self.fg(MAGENTA).add_modifier(Modifier::BOLD)
    }
    /// Secondary text.
    #[must_use]
    pub fn dim(self) -> Style {
        if self.color {
            Style::new().fg(GREY)
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
        self.fg(BLUE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The colour xterm shows for `color` (the 256-colour cube and grey ramp).
    fn rgb(color: Color) -> [f64; 3] {
        let Color::Indexed(index) = color else {
            panic!("{color:?} is no 256-colour index: its value is up to the terminal's theme");
        };
        let level = |step: u8| if step == 0 { 0.0 } else { f64::from(55 + 40 * step) };
        match index {
            16..=231 => {
                let cube = index - 16;
                [level(cube / 36), level(cube / 6 % 6), level(cube % 6)]
            }
            232..=255 => [f64::from(8 + 10 * (index - 232)); 3],
            _ => panic!("{index} is one of the 16 colours a terminal theme changes"),
        }
    }

    /// WCAG's relative luminance of an sRGB colour.
    fn luminance([r, g, b]: [f64; 3]) -> f64 {
        let linear = |channel: f64| {
            let c = channel / 255.0;
            if c <= 0.039_28 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)
    }

    fn contrast(a: f64, b: f64) -> f64 {
        (a.max(b) + 0.05) / (a.min(b) + 0.05)
    }

    /// Issue 25: every colour of the theme reads on a dark and on a light background.
    #[test]
    fn every_colour_reads_on_black_and_on_white() {
        let theme = Theme::new(true);
        let styles = [
            ("title", theme.title()),
            ("good", theme.good()),
            ("warn", theme.warn()),
            ("bad", theme.bad()),
            ("found", theme.found()),
            ("error", theme.error()),
            ("exhausted", theme.exhausted()),
            ("dim", theme.dim()),
            ("gauge", theme.gauge()),
        ];
        for (name, style) in styles {
            let fg = style.fg.unwrap_or_else(|| panic!("{name} has no colour"));
            let light = luminance(rgb(fg));
            let (on_black, on_white) = (contrast(light, 0.0), contrast(light, 1.0));
            assert!(
                on_black >= 3.0 && on_white >= 3.0,
                "{name} ({fg:?}): {on_black:.2}:1 on black, {on_white:.2}:1 on white"
            );
        }
        // The hints and the selection use the terminal's own colours.
        assert_eq!(theme.hint().fg, None);
        assert_eq!(theme.selected().fg, None);
    }

    /// Colours are named here only: a colour picked anywhere else escapes the check above.
    #[test]
    fn no_colour_is_named_outside_the_theme() {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut stack = vec![src];
        let mut named = Vec::new();
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|ext| ext == "rs")
                    && !path.ends_with("ui/theme.rs")
                    && std::fs::read_to_string(&path).unwrap().contains("Color::")
                {
                    named.push(path);
                }
            }
        }
        assert!(
            named.is_empty(),
            "colours named outside src/ui/theme.rs: {named:?}"
        );
    }
}
