//! The notebook's two figures: the training loss per iteration (§4.5.2) and the train/test
//! accuracy per epoch (§4.5.3), as PNG files drawn with `scratchnet-plot` (plotters, anti-aliased,
//! the embedded DejaVu Sans font: no system fonts needed).

use std::path::Path;

use plotters::prelude::*;
use scratchnet_plot::{Area, DrawResult, Figure, PlotError, Scale, segments, whole};

use crate::{AccuracyRow, HeldOut, TrainError};

/// File name of the loss figure in a run folder.
pub const LOSS_PNG: &str = "loss.png";
/// File name of the accuracy figure in a run folder.
pub const ACCURACY_PNG: &str = "accuracy.png";

const SIZE: (u32, u32) = (1000, 640);

/// Draws with `draw` through [`scratchnet_plot::Figure`] (anti-aliased, the embedded font,
/// written atomically: a reader never sees a half-drawn image, and a `path` that is a
/// directory, device or FIFO is refused, never replaced).
fn draw_atomically(
    path: &Path,
    draw: impl FnOnce(&Area<'_>, Scale) -> DrawResult,
) -> Result<(), TrainError> {
    // Refuse a bad target before drawing.
    scratchnet_fileio::resolve_output(path).map_err(TrainError::Output)?;
    Figure::new(SIZE.0, SIZE.1)
        .save(path, |root, s| {
            root.fill(&WHITE)?;
            draw(root, s)
        })
        .map_err(|e| match e {
            PlotError::File(e) => TrainError::Output(e),
            PlotError::Draw { path, what } => TrainError::Plot { path, what },
        })
}

/// Draws the loss of every iteration (`loss.csv`) as the notebook's `plt.plot(x, train_loss_list)`:
/// x is the iteration (from 1), y the batch loss; `subtitle` goes under the title.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let p = dir.path().join("loss.png");
/// scratchnet_trainer::plot::draw_loss(&p, &[2.3, 1.0, 0.5], "backprop").unwrap();
/// assert!(std::fs::metadata(&p).unwrap().len() > 1000);
/// ```
pub fn draw_loss(path: &Path, losses: &[f64], subtitle: &str) -> Result<(), TrainError> {
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
        let area = scratchnet_plot::titled(root, s, "Training loss per iteration", &title)?;
        let mut chart = ChartBuilder::on(&area)
            .margin(s.px(20))
            // room for the last x tick label ("10000") inside the image
            .margin_right(s.px(40))
            .x_label_area_size(s.px(60))
            .y_label_area_size(s.px(80))
            .build_cartesian_2d(0f64..n, scratchnet_plot::finite_range(0.0..ymax))?;
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
        (top * 1.05).min(scratchnet_plot::AXIS_LIMIT)
    } else {
        1.0
    };
    let above = losses.iter().filter(|&&l| l > top).count();
    (top, above)
}

/// Draws the accuracy on the full train and test (or validation) sets per epoch, as the book's figure 4-12:
/// x is the epoch, y the accuracy from 0 to 1, a legend at the lower right.
///
/// ```
/// use scratchnet_trainer::AccuracyRow;
/// let dir = tempfile::tempdir().unwrap();
/// let p = dir.path().join("accuracy.png");
/// let rows = [AccuracyRow { epoch: 0, iteration: 1, train_acc: 0.1, test_acc: 0.11 },
///             AccuracyRow { epoch: 1, iteration: 601, train_acc: 0.8, test_acc: 0.79 }];
/// scratchnet_trainer::plot::draw_accuracy(&p, &rows, "backprop", scratchnet_trainer::HeldOut::Test).unwrap();
/// assert!(std::fs::metadata(&p).unwrap().len() > 1000);
/// ```
pub fn draw_accuracy(
    path: &Path,
    rows: &[AccuracyRow],
    subtitle: &str,
    held_out: HeldOut,
) -> Result<(), TrainError> {
    let held_out_label = format!("{} acc", held_out.short());
    draw_atomically(path, |root, s| {
        let last = rows.iter().map(|r| r.epoch).max().unwrap_or(0).max(1) as f64;
        let area = scratchnet_plot::titled(root, s, "Accuracy per epoch", subtitle)?;
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
                rows.iter().map(|r| (r.epoch as f64, r.train_acc)),
                BLUE.stroke_width(s.px(2)),
            ))?
            .label("train acc")
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + s.i(24), y)], BLUE.stroke_width(s.px(3)))
            });
        chart.draw_series(
            rows.iter()
                .map(|r| Circle::new((r.epoch as f64, r.train_acc), s.i(4), BLUE.filled())),
        )?;
        chart
            .draw_series(DashedLineSeries::new(
                rows.iter().map(|r| (r.epoch as f64, r.test_acc)),
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
        chart
            .draw_series(rows.iter().map(|r| {
                TriangleMarker::new((r.epoch as f64, r.test_acc), s.i(5), red.filled())
            }))?;
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

/// File name of the first misclassified test images (the book's figure 8-3).
pub const MISCLASSIFIED_PNG: &str = "misclassified.png";
/// File name of the confusion-matrix figure.
pub const CONFUSION_PNG: &str = "confusion.png";
/// File name of the confusion-matrix table.
pub const CONFUSION_CSV: &str = "confusion.csv";

fn plot_err(e: PlotError) -> TrainError {
    match e {
        PlotError::File(e) => TrainError::Output(e),
        PlotError::Draw { path, what } => TrainError::Plot { path, what },
    }
}

/// The book's `misclassified_mnist.py` and a confusion matrix for the predictions `predicted`
/// of the test images `x` (28×28 each) with labels `t`: writes [`MISCLASSIFIED_PNG`] (the first
/// 20 misclassified images, each captioned `label → prediction`), [`CONFUSION_PNG`] and
/// [`CONFUSION_CSV`] into `dir`, and returns the matrix and the book's printed dict
/// (`{1: (6, 0), 2: …}`, view index from 1: (label, inference)).
pub fn draw_mistakes<A: scratchnet_tensor::Scalar>(
    dir: &Path,
    x: &scratchnet_tensor::SparseRows<A>,
    t: &[usize],
    predicted: &[usize],
    title: &str,
) -> Result<(scratchnet_network::Confusion, String), TrainError> {
    let confusion = scratchnet_network::Confusion::new(10, t, predicted);
    let wrong = scratchnet_network::misclassified(t, predicted);
    let first: Vec<usize> = wrong.iter().copied().take(20).collect();
    let images: Vec<(Vec<f64>, String)> = first
        .iter()
        .map(|&i| {
            let mut img = vec![0.0; x.dim().1];
            let (cols, vals) = x.row(i);
            for (&c, &v) in cols.iter().zip(vals) {
                img[c as usize] = v.as_f64();
            }
            (img, format!("{} → {}", t[i], predicted[i]))
        })
        .collect();
    let pairs: Vec<String> = first
        .iter()
        .enumerate()
        .map(|(k, &i)| format!("{}: ({}, {})", k + 1, t[i], predicted[i]))
        .collect();
    let dict = format!("{{{}}}", pairs.join(", "));
    let mis = dir.join(MISCLASSIFIED_PNG);
    scratchnet_plot::captioned_images(
        &mis,
        &format!(
            "{title}: first {} of {} misclassified, label → prediction",
            first.len(),
            wrong.len()
        ),
        &images,
        (28, 28),
        5,
    )
    .map_err(plot_err)?;
    let labels: Vec<String> = (0..10).map(|k| k.to_string()).collect();
    let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
    scratchnet_plot::confusion_figure(
        dir.join(CONFUSION_PNG),
        &format!("{title}: test accuracy {:.4}", confusion.accuracy()),
        confusion.counts(),
        &labels,
    )
    .map_err(plot_err)?;
    scratchnet_fileio::write_atomic(dir.join(CONFUSION_CSV), confusion.to_csv().as_bytes())
        .map_err(TrainError::Output)?;
    Ok((confusion, dict))
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
        let limit = scratchnet_plot::AXIS_LIMIT;
        assert_eq!(loss_top(&[1.0, f64::NAN, f64::MAX]), (limit, 1));
        assert_eq!(loss_top(&[f64::MAX, f64::NAN, 1.0]), (1.05, 1));
    }
}
