//! A figure's title with a subtitle of any length: the subtitle is wrapped at word boundaries to
//! the figure's width, never clipped at its edges.

use std::error::Error;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::{Area, Scale};

/// Draws `title` (26 px) and under it `subtitle` (18 px, wrapped to the width of `root` at
/// spaces and after commas), centred, and returns the area below them.
///
/// ```
/// use scratchnet_plot::{Figure, titled};
/// let dir = tempfile::tempdir().unwrap();
/// let long = "backprop, f32, hidden 100,100,100,100,100 relu, batch norm, dropout 0.15, init he, adam, batch 100, lr 0.001";
/// Figure::new(400, 300).save(dir.path().join("t.png"), |root, s| {
///     let below = titled(root, s, "Training loss per iteration", long)?;
///     assert!(below.dim_in_pixel().1 < 300 * scratchnet_plot::SUPERSAMPLE);
///     Ok(())
/// }).unwrap();
/// ```
pub fn titled<'a>(
    root: &Area<'a>,
    s: Scale,
    title: &str,
    subtitle: &str,
) -> Result<Area<'a>, Box<dyn Error>> {
    let (width, _) = root.dim_in_pixel();
    let room = width.saturating_sub(s.px(40));
    let small = s.font(18);
    let lines = wrap(subtitle, |t| {
        root.estimate_text_size(t, &small)
            .map(|(w, _)| w <= room)
            .unwrap_or(true)
    });
    let (title_h, line_h) = (s.px(34), s.px(24));
    let height = title_h + line_h * lines.len() as u32 + s.px(8);
    let (top, rest) = root.split_vertically(height);
    let centre = (width / 2) as i32;
    let anchor = Pos::new(HPos::Center, VPos::Top);
    top.draw(&Text::new(
        title.to_string(),
        (centre, s.i(6)),
        s.font(26).pos(anchor),
    ))?;
    for (k, line) in lines.iter().enumerate() {
        let y = (title_h + line_h * k as u32) as i32;
        top.draw(&Text::new(
            line.clone(),
            (centre, y),
            small.clone().pos(anchor).color(&RGBColor(60, 60, 60)),
        ))?;
    }
    Ok(rest)
}

/// `text` in lines that `fits`, broken after spaces (a single word too long for a line gets a
/// line of its own).
fn wrap(text: &str, fits: impl Fn(&str) -> bool) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_inclusive(' ') {
        let candidate = format!("{line}{word}");
        if line.is_empty() || fits(candidate.trim_end()) {
            line = candidate;
        } else {
            lines.push(line.trim_end().to_string());
            line = word.to_string();
        }
    }
    if !line.trim().is_empty() {
        lines.push(line.trim_end().to_string());
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn wraps_at_spaces_within_the_width_and_keeps_every_word() {
        let text = "backprop, f64, hidden 100,100 relu, batch norm, adam, batch 100, lr 0.001";
        let lines = wrap(text, |t| t.chars().count() <= 20);
        assert!(lines.iter().all(|l| l.chars().count() <= 20), "{lines:?}");
        assert_eq!(lines.join(" "), text);
        assert_eq!(wrap("short", |_| true), ["short"]);
        // a word longer than a line stands alone
        assert_eq!(
            wrap("a verylongword b", |t| t.len() <= 3),
            ["a", "verylongword", "b"]
        );
        assert!(wrap("", |_| true).is_empty());
    }
}
