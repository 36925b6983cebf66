//! A grid of small charts, one per curve pair: the book's `hyperparameter_optimization.py`
//! figure (the best trials' validation accuracy solid, training accuracy dashed, per epoch).

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::{Figure, PALETTE, PlotError, segments};

/// Two curves over epochs `0..` and a note, for one cell of [`draw_grid`].
#[derive(Clone, Debug, PartialEq)]
pub struct Curves<'a> {
    /// Drawn in the cell's top left, e.g. `lr 1.0e-2, wd 1.0e-6: 0.81`.
    pub note: String,
    /// The solid curve (validation accuracy), in `[0, 1]`.
    pub solid: &'a [f64],
    /// The dashed curve (training accuracy), in `[0, 1]`.
    pub dashed: &'a [f64],
}

/// Draws `cells` five to a row, captioned `Best-1`, `Best-2`, …, under `title`, y from 0 to 1
/// (ticks in the first column only, as the book's figure), and writes the PNG atomically.
///
/// ```
/// use scratchnet_plot::{Curves, draw_grid};
/// let dir = tempfile::tempdir().unwrap();
/// let p = dir.path().join("search.png");
/// let c = Curves { note: "lr 1e-2".into(), solid: &[0.1, 0.5, 0.7], dashed: &[0.1, 0.6, 0.8] };
/// draw_grid(&p, "the best trials", &[c.clone(), c]).unwrap();
/// assert!(std::fs::metadata(&p).unwrap().len() > 1000);
/// ```
pub fn draw_grid(path: &Path, title: &str, cells: &[Curves<'_>]) -> Result<(), PlotError> {
    let cols = 5;
    let rows = cells.len().div_ceil(cols).max(1);
    let (w, h) = (1500u32, 60 + 270 * rows as u32);
    Figure::new(w, h).save(path, |root, s| {
        root.fill(&WHITE)?;
        let (band, grid) = root.split_vertically(s.px(60));
        // centred in its band: `titled` puts the text's top at the band's edge, and the
        // supersampled font's ascent then runs off the image
        let (tw, th) = band.dim_in_pixel();
        let style = s
            .font(24)
            .into_text_style(&band)
            .pos(Pos::new(HPos::Center, VPos::Center));
        band.draw_text(title, &style, (tw as i32 / 2, th as i32 / 2))?;
        for (i, (cell, t)) in grid
            .split_evenly((rows, cols))
            .iter()
            .zip(cells)
            .enumerate()
        {
            let epochs = t.solid.len().max(2) - 1;
            let first_col = i % cols == 0;
            let mut c = ChartBuilder::on(cell)
                .caption(format!("Best-{}", i + 1), s.font(19))
                .margin(s.px(6))
                .margin_right(s.px(12))
                .x_label_area_size(s.px(8))
                .y_label_area_size(s.px(if first_col { 50 } else { 8 }))
                .build_cartesian_2d(0.0..epochs as f64, 0.0..1.0)?;
            let mut mesh = c.configure_mesh();
            // the book: no x ticks, y ticks in the first column only
            // 17 px: still about 10 px when GitHub scales the 1500 px figure to its page
            mesh.label_style(s.font(17))
                .x_labels(0)
                .y_labels(if first_col { 6 } else { 0 })
                .light_line_style(RGBColor(240, 240, 240));
            mesh.draw()?;
            let points = |v: &[f64]| -> Vec<(f64, f64)> {
                v.iter().enumerate().map(|(e, &a)| (e as f64, a)).collect()
            };
            c.draw_series(segments(points(t.solid), PALETTE[0].stroke_width(s.px(2))))?;
            c.draw_series(DashedLineSeries::new(
                points(t.dashed),
                s.px(6),
                s.px(4),
                PALETTE[1].stroke_width(s.px(2)),
            ))?;
            c.draw_series(std::iter::once(Text::new(
                t.note.clone(),
                (epochs as f64 * 0.04, 0.97),
                s.font(15),
            )))?;
        }
        Ok(())
    })
}
