//! The run folder's figures, drawn by `scratchnet-plot`.

use std::path::Path;

use scratchnet_plot::PlotError;

use crate::TrainError;

use scratchnet_run::{ACCURACY_PNG, LOSS_PNG};

/// Writes `loss.png` and `accuracy.png` of `metrics` into `dir`.
pub(crate) fn draw_run(
    dir: &Path,
    metrics: &crate::Metrics,
    subtitle: &str,
    held_out: crate::HeldOut,
) -> Result<(), TrainError> {
    scratchnet_plot::loss_figure(&dir.join(LOSS_PNG), &metrics.losses, subtitle)
        .map_err(plot_err)?;
    let rows: Vec<_> = metrics
        .accuracy
        .iter()
        .map(|r| (r.epoch, r.train_acc, r.test_acc))
        .collect();
    scratchnet_plot::accuracy_figure(&dir.join(ACCURACY_PNG), &rows, subtitle, held_out.short())
        .map_err(plot_err)
}

/// Draws a convolutional net's first-layer filters `(FN, 1, FH, FW)` before and after
/// training (the book's figure 7-24).
pub(crate) fn draw_filters<A: scratchnet_tensor::Scalar>(
    path: &Path,
    before: &ndarray::ArrayD<A>,
    after: &ndarray::ArrayD<A>,
) -> Result<(), TrainError> {
    let tiles = |w: &ndarray::ArrayD<A>| -> Vec<Vec<f64>> {
        w.outer_iter()
            .map(|f| f.iter().map(|v| v.as_f64()).collect())
            .collect()
    };
    let s = after.shape();
    scratchnet_plot::tile_grid(
        path,
        &[
            ("before training".to_string(), tiles(before)),
            ("after training".to_string(), tiles(after)),
        ],
        (s[2], s[3]),
        10,
    )
    .map_err(plot_err)
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
