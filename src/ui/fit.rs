//! Fitting text to a width without cutting a number: pick the longest variant that fits, or drop the least important parts.

use ratatui::text::{Line, Span};

/// The first of `variants` (longest first) that fits in `width` columns, else the last one.
#[must_use]
pub fn first_fit(variants: &[String], width: usize) -> String {
    variants
        .iter()
        .find(|text| Span::raw(text.as_str()).width() <= width)
        .or(variants.last())
        .cloned()
        .unwrap_or_default()
}

/// The longest of `variants` that fits in `width` columns; where none does, the last cut
/// after its last whole word that fits ([`clip_words`]).
#[must_use]
pub fn fit_or_clip(variants: &[String], width: usize) -> String {
    clip_words(&first_fit(variants, width), width)
}

/// Drops the least important of `parts` (highest rank; of equal ranks the last) one at a
/// time, keeping the display order, until `fits` holds or one part is left.
pub fn drop_by_rank<T>(parts: &mut Vec<(u8, T)>, fits: impl Fn(&[(u8, T)]) -> bool) {
    while parts.len() > 1 && !fits(parts) {
        let drop = parts
            .iter()
            .enumerate()
            .max_by_key(|(index, (rank, _))| (*rank, *index))
            .map_or(0, |(index, _)| index);
        parts.remove(drop);
    }
}

/// Parts kept in display order, the least important (highest `rank`) dropped whole until the
/// rest fits in `width` columns with `gap` between parts.
#[must_use]
pub fn by_rank<'a>(parts: Vec<(u8, Span<'a>)>, gap: &'a str, width: usize) -> Line<'a> {
    let mut parts = parts;
    drop_by_rank(&mut parts, |parts| {
        let text: usize = parts.iter().map(|(_, span)| span.width()).sum();
        text + gap.len() * parts.len().saturating_sub(1) <= width
    });
    let mut spans = Vec::with_capacity(parts.len() * 2);
    for (index, (_, span)) in parts.into_iter().enumerate() {
        if index > 0 {
            spans.push(Span::raw(gap));
        }
        spans.push(span);
    }
    Line::from(spans)
}

/// `text` cut after the last whole word that fits in `width` columns (with `…` when cut),
/// so that no number is shown in part.
#[must_use]
pub fn clip_words(text: &str, width: usize) -> String {
    if Span::raw(text).width() <= width {
        return text.to_string();
    }
    let mut out = String::new();
    for word in text.split(' ') {
        let candidate = if out.is_empty() {
            word.to_string()
        } else {
            format!("{out} {word}")
        };
        if Span::raw(candidate.as_str()).width() + 1 > width {
            break;
        }
        out = candidate;
    }
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_the_least_important_whole() {
        let parts = vec![
            (0, Span::raw("errors 0")),
            (2, Span::raw("batch 100")),
            (1, Span::raw("matches 12")),
        ];
        let line = by_rank(parts, "  ", 22);
        assert_eq!(line.to_string(), "errors 0  matches 12");
        assert_eq!(first_fit(&["long one".into(), "short".into()], 6), "short");
        assert_eq!(
            clip_words("the first True (task 10,000)", 24),
            "the first True (task…"
        );
        let variants = ["9 tasks cut short".to_string(), "9 cut short".to_string()];
        assert_eq!(fit_or_clip(&variants, 12), "9 cut short");
        assert_eq!(fit_or_clip(&variants, 8), "9 cut…");
    }
}
