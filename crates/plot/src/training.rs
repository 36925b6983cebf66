//! The notebook's two figures of a training run: the loss per iteration (§4.5.2) and the
//! train/test accuracy per epoch (§4.5.3, figure 4-12).

use std::path::Path;

use plotters::prelude::*;

use crate::{Area, DrawResult, Figure, PlotError, Scale, segments, whole};

const SIZE: (u32, u32) = (1000, 640);

/// Draws with `draw` through [`Figure`] (written atomically; a directory, device or FIFO under
/// `path` is refused before drawing).
fn draw_atomically(
    path: &Path,
    draw: impl FnOnce(&Area<'_>, Scale) -> DrawResult,
) -> Result<(), PlotError> {
    scratchnet_fileio::resolve_output(path)?;
    Figure::new(SIZE.0, SIZE.1).save(path, |root, s| {
        root.fill(&WHITE)?;
        draw(root, s)
    })
}

/// Draws the loss of every iteration (`loss.csv`) as the notebook's `plt.plot(x, train_loss_list)`:
/// x is the iteration (from 1), y the batch loss; `subtitle` goes under the title.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let p = dir.path().join("loss.png");
/// scratchnet_plot::loss_figure(&p, &[2.3, 1.0, 0.5], "backprop").unwrap();
/// assert!(std::fs::metadata(&p).unwrap().len() > 1000);
/// ```
pub fn loss_figure(path: &Path, losses: &[f64], subtitle: &str) -> Result<(), PlotError> {
    let (ymax, above) = loss_top(losses);
    let title = if above > 0 {
        // batch norm's running statistics start at 0: the loss after the first steps, in test
        // mode as the book's Trainer computes it, is far above the rest
        format!(
            "{subtitle}; {above} early losses above the top (test-mode loss while the running statistics warm up)"
        )
    } else {
        subtitle.to_string()
    };
    draw_atomically(path, |root, s| {
        let n = losses.len().max(2) as f64;
        let area = crate::titled(root, s, "Training loss per iteration", &title)?;
        let mut chart = ChartBuilder::on(&area)
            .margin(s.px(20))
            // room for the last x tick label ("10000") inside the image
            .margin_right(s.px(40))
            .x_label_area_size(s.px(60))
            .y_label_area_size(s.px(80))
            .build_cartesian_2d(0f64..n, crate::finite_range(0.0..ymax))?;
        chart
            .configure_mesh()
            .x_desc("iteration")
            .x_label_formatter(&|v| whole(*v))
            .y_desc("loss (cross-entropy of the mini-batch)")
            .label_style(s.font(18))
            .axis_desc_style(s.font(22))
            .draw()?;
        chart.draw_series(segments(
            losses
                .iter()
                .enumerate()
                .map(|(k, &l)| ((k + 1) as f64, l.min(ymax))),
            BLUE.stroke_width(s.px(1)),
        ))?;
        Ok(())
    })
}

/// The top of the loss axis and how many losses lie above it: the largest finite loss (× 1.05),
/// unless the first fiftieth of the run holds losses more than twice as high as any later one
/// (a batch-norm run's first, test-mode losses): then the largest later loss.
fn loss_top(losses: &[f64]) -> (f64, usize) {
    let finite = |v: &[f64]| {
        v.iter()
            .copied()
            .filter(|v| v.is_finite())
            .fold(0.0f64, f64::max)
    };
    let all = finite(losses);
    let later = finite(&losses[(losses.len() / 50).max(1).min(losses.len())..]);
    let top = if later > 0.0 && all > 2.0 * later {
        later
    } else {
        all
    };
    let top = if top > 0.0 {
        (top * 1.05).min(crate::AXIS_LIMIT)
    } else {
        1.0
    };
    let above = losses.iter().filter(|&&l| l > top).count();
    (top, above)
}

/// Draws the accuracy on the full train and test (or validation) sets per epoch, as the book's figure 4-12:
/// x is the epoch, y the accuracy from 0 to 1, a legend at the lower right. `rows` are
/// `(epoch, train accuracy, held-out accuracy)`; `held_out` names the second set (`test`).
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let p = dir.path().join("accuracy.png");
/// scratchnet_plot::accuracy_figure(&p, &[(0, 0.1, 0.11), (1, 0.8, 0.79)], "backprop", "test").unwrap();
/// assert!(std::fs::metadata(&p).unwrap().len() > 1000);
/// ```
pub fn accuracy_figure(
    path: &Path,
    rows: &[(usize, f64, f64)],
    subtitle: &str,
    held_out: &str,
) -> Result<(), PlotError> {
    let held_out_label = format!("{held_out} acc");
    draw_atomically(path, |root, s| {
        let last = rows.iter().map(|r| r.0).max().unwrap_or(0).max(1) as f64;
        let area = crate::titled(root, s, "Accuracy per epoch", subtitle)?;
        let mut chart = ChartBuilder::on(&area)
            .margin(s.px(20))
            // room for the last x tick label ("10000") inside the image
            .margin_right(s.px(40))
            .x_label_area_size(s.px(60))
            .y_label_area_size(s.px(80))
            .build_cartesian_2d(-0.25f64..last + 0.25, 0f64..1.0)?;
        chart
            .configure_mesh()
            .x_desc("epochs")
            .x_labels((last as usize + 1).min(21))
            .x_label_formatter(&|v| whole(*v))
            .y_desc("accuracy")
            .label_style(s.font(18))
            .axis_desc_style(s.font(22))
            .draw()?;
        let red = RGBColor(214, 39, 40);
        // The book's figure: train solid with circles, test dashed with triangles.
        chart
            .draw_series(LineSeries::new(
                rows.iter().map(|r| (r.0 as f64, r.1)),
                BLUE.stroke_width(s.px(2)),
            ))?
            .label("train acc")
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + s.i(24), y)], BLUE.stroke_width(s.px(3)))
            });
        chart.draw_series(
            rows.iter()
                .map(|r| Circle::new((r.0 as f64, r.1), s.i(4), BLUE.filled())),
        )?;
        chart
            .draw_series(DashedLineSeries::new(
                rows.iter().map(|r| (r.0 as f64, r.2)),
                s.px(8),
                s.px(5),
                red.stroke_width(s.px(2)),
            ))?
            .label(held_out_label.as_str())
            .legend(move |(x, y)| {
                EmptyElement::at((x, y))
                    + PathElement::new(vec![(0, 0), (s.i(9), 0)], red.stroke_width(s.px(3)))
                    + PathElement::new(vec![(s.i(15), 0), (s.i(24), 0)], red.stroke_width(s.px(3)))
            });
        chart.draw_series(
            rows.iter()
                .map(|r| TriangleMarker::new((r.0 as f64, r.2), s.i(5), red.filled())),
        )?;
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .label_font(s.font(20))
            .legend_area_size(s.px(34))
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .draw()?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::loss_top;

    #[test]
    fn the_loss_axis_covers_every_loss_unless_the_first_ones_stand_far_above() {
        // a chapter 4 run: the first loss is the largest, and shown
        let ch4: Vec<f64> = (0..1000).map(|k| 2.3 - k as f64 * 1e-3).collect();
        assert_eq!(loss_top(&ch4), (2.3 * 1.05, 0));
        // a batch-norm run: 8.7 at first, below 2.3 after a few steps
        let mut bn = vec![8.7, 6.1, 4.0];
        bn.extend((0..997).map(|k| 2.3 - k as f64 * 1e-3));
        let (top, above) = loss_top(&bn);
        // the largest loss after the first fiftieth (20 of 1000): bn[20]
        assert_eq!(top, bn[20] * 1.05);
        assert_eq!(above, 3);
        // f64::MAX and NaN never make the axis infinite
        let limit = crate::AXIS_LIMIT;
        assert_eq!(loss_top(&[1.0, f64::NAN, f64::MAX]), (limit, 1));
        assert_eq!(loss_top(&[f64::MAX, f64::NAN, 1.0]), (1.05, 1));
    }
}
