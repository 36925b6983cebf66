//! Figures of images and classes: captioned images (the book's figure 8-3 of misclassified test
//! digits) and a confusion matrix.

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::{Figure, PlotError};

/// Draws `images` (each `shape.0 × shape.1` values in row-major order, 0 white to 1 black as
/// the book's `cmap=gray_r`, clamped) `per_row` to a row, each with its caption under it, below
/// `title`, and writes the PNG atomically.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("digits.png");
/// let img = (0..16).map(|k| k as f64 / 15.0).collect::<Vec<_>>();
/// scratchnet_plot::captioned_images(&path, "two images", &[(img.clone(), "7 → 1".into()),
///     (img, "4 → 9".into())], (4, 4), 5).unwrap();
/// assert!(std::fs::metadata(&path).unwrap().len() > 500);
/// ```
///
/// # Errors
/// [`PlotError`] if the figure cannot be drawn or written.
pub fn captioned_images(
    path: impl AsRef<Path>,
    title: &str,
    images: &[(Vec<f64>, String)],
    shape: (usize, usize),
    per_row: usize,
) -> Result<(), PlotError> {
    let (ih, iw) = (shape.0.max(1) as u32, shape.1.max(1) as u32);
    let cols = per_row.max(1) as u32;
    let rows = (images.len() as u32).div_ceil(cols).max(1);
    let (cell, caption, gap, band) = (112u32, 26u32, 14u32, 44u32);
    let width = cols * (cell + gap) + gap;
    let height = band + rows * (cell + caption + gap) + gap;
    Figure::new(width, height).save(path, |root, s| {
        root.fill(&WHITE)?;
        let centered = |size| {
            s.font(size)
                .into_text_style(root)
                .pos(Pos::new(HPos::Center, VPos::Center))
        };
        root.draw(&Text::new(
            title.to_string(),
            (s.i(width as i32 / 2), s.i(band as i32 / 2)),
            centered(20),
        ))?;
        for (k, (img, text)) in images.iter().enumerate() {
            let (c, r) = (k as u32 % cols, k as u32 / cols);
            let x0 = gap + c * (cell + gap);
            let y0 = band + r * (cell + caption + gap);
            root.draw(&Rectangle::new(
                [
                    (s.i(x0 as i32 - 1), s.i(y0 as i32 - 1)),
                    (s.i((x0 + cell) as i32 + 1), s.i((y0 + cell) as i32 + 1)),
                ],
                RGBColor(200, 200, 200).stroke_width(1),
            ))?;
            for (n, &v) in img.iter().enumerate().take((ih * iw) as usize) {
                let (i, j) = (n as u32 / iw, n as u32 % iw);
                let v = if v.is_finite() {
                    v.clamp(0.0, 1.0)
                } else {
                    0.0
                };
                if v == 0.0 {
                    continue;
                }
                let g = (255.0 * (1.0 - v)).round() as u8;
                let (px0, py0) = (x0 + j * cell / iw, y0 + i * cell / ih);
                let (px1, py1) = (x0 + (j + 1) * cell / iw, y0 + (i + 1) * cell / ih);
                root.draw(&Rectangle::new(
                    [
                        (s.i(px0 as i32), s.i(py0 as i32)),
                        (s.i(px1 as i32), s.i(py1 as i32)),
                    ],
                    RGBColor(g, g, g).filled(),
                ))?;
            }
            root.draw(&Text::new(
                text.clone(),
                (
                    s.i((x0 + cell / 2) as i32),
                    s.i((y0 + cell + caption / 2 + 2) as i32),
                ),
                centered(16),
            ))?;
        }
        Ok(())
    })
}

/// Draws a confusion matrix: `counts[i][j]` is the number of samples of true class `i`
/// predicted as `j`, one square per pair, shaded by its share of row `i` (white 0, dark blue
/// 1), with the count written in it; rows are the true classes (`labels` top to bottom),
/// columns the predictions. Writes the PNG atomically.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("confusion.png");
/// let counts = vec![vec![9, 1], vec![2, 8]];
/// scratchnet_plot::confusion_figure(&path, "2 classes", &counts, &["0", "1"]).unwrap();
/// assert!(path.exists());
/// ```
///
/// # Errors
/// [`PlotError`] if the figure cannot be drawn or written.
pub fn confusion_figure(
    path: impl AsRef<Path>,
    title: &str,
    counts: &[Vec<u64>],
    labels: &[&str],
) -> Result<(), PlotError> {
    let n = counts.len() as u32;
    let (cell, left, top) = (56u32, 90u32, 90u32);
    let (width, height) = (left + n.max(1) * cell + 30, top + n.max(1) * cell + 30);
    Figure::new(width, height).save(path, |root, s| {
        root.fill(&WHITE)?;
        let centered = |size| {
            s.font(size)
                .into_text_style(root)
                .pos(Pos::new(HPos::Center, VPos::Center))
        };
        let mid = |a: u32, k: u32| s.i((a + k * cell + cell / 2) as i32);
        root.draw(&Text::new(
            title.to_string(),
            (s.i(width as i32 / 2), s.i(22)),
            centered(20),
        ))?;
        root.draw(&Text::new(
            "predicted".to_string(),
            (s.i((left + n * cell / 2) as i32), s.i(50)),
            centered(16),
        ))?;
        let vertical = s
            .font(16)
            .transform(FontTransform::Rotate270)
            .into_text_style(root)
            .pos(Pos::new(HPos::Center, VPos::Center));
        root.draw(&Text::new(
            "label".to_string(),
            (s.i(20), s.i((top + n * cell / 2) as i32)),
            vertical,
        ))?;
        for k in 0..n {
            let name = labels.get(k as usize).copied().unwrap_or("").to_string();
            root.draw(&Text::new(
                name.clone(),
                (mid(left, k), s.i(74)),
                centered(15),
            ))?;
            root.draw(&Text::new(
                name,
                (s.i(left as i32 - 18), mid(top, k)),
                centered(15),
            ))?;
        }
        for (i, row) in counts.iter().enumerate() {
            let total = row.iter().sum::<u64>().max(1) as f64;
            for (j, &c) in row.iter().enumerate() {
                let share = c as f64 / total;
                // white to (31, 80, 160): light for a small share, dark for a large one
                let mix = |hi: f64| (255.0 - share * (255.0 - hi)).round() as u8;
                let (x0, y0) = (left + j as u32 * cell, top + i as u32 * cell);
                root.draw(&Rectangle::new(
                    [
                        (s.i(x0 as i32), s.i(y0 as i32)),
                        (s.i((x0 + cell) as i32), s.i((y0 + cell) as i32)),
                    ],
                    RGBColor(mix(31.0), mix(80.0), mix(160.0)).filled(),
                ))?;
                root.draw(&Rectangle::new(
                    [
                        (s.i(x0 as i32), s.i(y0 as i32)),
                        (s.i((x0 + cell) as i32), s.i((y0 + cell) as i32)),
                    ],
                    RGBColor(220, 220, 220).stroke_width(1),
                ))?;
                if c > 0 {
                    let ink = if share > 0.5 { WHITE } else { BLACK };
                    let style = centered(14).color(&ink);
                    root.draw(&Text::new(
                        c.to_string(),
                        (mid(left, j as u32), mid(top, i as u32)),
                        style,
                    ))?;
                }
            }
        }
        Ok(())
    })
}
