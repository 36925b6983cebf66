//! What the chapter 6 examples share: the output folder, errors as messages, the MNIST data, and
//! the book's loop that trains several nets side by side on the same mini-batches. Each example
//! includes this module on its own and uses a part of it.

#![allow(dead_code)]

use std::error::Error;
use std::path::{Path, PathBuf};

use plotters::prelude::*;
use scratchnet_plot::{Figure, PALETTE, chart, legend, legend_line, segments, smooth_curve};

use scratchnet_network::Net;
use scratchnet_network::optimizer::{AnyOptimizer, Optimizer};
use scratchnet_tensor::{SparseRows, choice_with_replacement, rng_from_seed};

/// The MNIST training set, normalised and stored sparse, with its labels.
pub struct Train {
    pub images: SparseRows<f64>,
    pub labels: Vec<usize>,
}

/// Loads the training set from `scratchnet_mnist::default_dir()` (`MNIST_DIR` or `data/mnist`).
pub fn load_train() -> Result<Train, Box<dyn Error>> {
    let dir = scratchnet_mnist::default_dir();
    let raw = scratchnet_mnist::load_raw(&dir)?;
    Ok(Train {
        images: SparseRows::from_dense(&raw.train.images_as::<f64>(true)),
        labels: raw.train.labels_usize(),
    })
}

/// Runs the example and turns an error into a message and exit code 1 (never a panic).
pub fn main(run: impl FnOnce() -> Result<(), Box<dyn Error>>) {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

/// The folder given as the first argument, or `target/figures`, created if missing.
pub fn figure_dir() -> Result<PathBuf, Box<dyn Error>> {
    let dir = std::env::args_os()
        .nth(1)
        .map_or_else(|| PathBuf::from("target/figures"), PathBuf::from);
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    Ok(dir)
}

/// The book's loop: `iters` iterations; each draws one mini-batch of `batch` (with
/// replacement, seeded) and every net takes one step on it with its optimizer, then records
/// its loss on that batch. Prints the losses every 500 iterations; returns them per net.
pub fn train_side_by_side(
    train: &Train,
    nets: &mut [(String, Net<f64>, AnyOptimizer<f64>)],
    iters: usize,
    batch: usize,
    seed: u64,
) -> Vec<Vec<f64>> {
    let mut rng = rng_from_seed(seed);
    let mut losses = vec![Vec::with_capacity(iters); nets.len()];
    let mut xb = train.images.gather_rows(&[0]);
    for i in 0..iters {
        let idx = choice_with_replacement(&mut rng, train.labels.len(), batch);
        train.images.gather_rows_into(&idx, &mut xb);
        let t: Vec<usize> = idx.iter().map(|&k| train.labels[k]).collect();
        for ((_, net, opt), losses) in nets.iter_mut().zip(&mut losses) {
            // no dropout in these nets: the generator is never drawn from
            let grads = net.gradient(&xb, &t, &mut rng);
            net.update(opt, &grads);
            losses.push(net.loss(&xb, &t));
        }
        if i % 500 == 0 || i + 1 == iters {
            let line: Vec<String> = nets
                .iter()
                .zip(&losses)
                .map(|((name, _, opt), l)| format!("{name} (lr {}): {:.4}", opt.lr(), l[i]))
                .collect();
            println!("iteration {i:>5}  {}", line.join("  "));
        }
    }
    losses
}

/// The book's figure of these scripts: each net's loss per iteration through `smooth_curve`, one
/// colour per net, y from 0 to `ymax`, the legend at `legend_at` (where it hides no curve),
/// written to `path`.
pub fn plot_losses(
    path: &Path,
    title: &str,
    names: &[&str],
    losses: &[Vec<f64>],
    ymax: f64,
    legend_at: SeriesLabelPosition,
) -> Result<(), Box<dyn Error>> {
    let iters = losses.iter().map(Vec::len).max().unwrap_or(1) as f64;
    Figure::new(900, 620).save(path, |root, s| {
        root.fill(&WHITE)?;
        let mut c = chart(
            root,
            s,
            title,
            ("iterations", "loss"),
            0.0..iters,
            0.0..ymax,
        )?;
        for (k, (name, l)) in names.iter().zip(losses).enumerate() {
            let colour = PALETTE[k % PALETTE.len()];
            c.draw_series(segments(
                smooth_curve(l)
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| (i as f64, v)),
                colour.stroke_width(s.px(2)),
            ))?
            .label(*name)
            .legend(legend_line(colour, s));
        }
        legend(&mut c, s, legend_at)
    })?;
    println!("wrote {}", path.display());
    Ok(())
}

/// The training and test sets, normalised and sparse, the training set cut to its first
/// `train_size` images (the book's `x_train[:300]`).
pub fn load_train_test(train_size: usize) -> Result<(Train, Train), Box<dyn Error>> {
    let dir = scratchnet_mnist::default_dir();
    let raw = scratchnet_mnist::load_raw(&dir)?;
    let first: Vec<usize> = (0..train_size.min(raw.train.len())).collect();
    let train = raw.train.batch(&first);
    let set = |s: &scratchnet_mnist::RawSplit| Train {
        images: SparseRows::from_dense(&s.images_as::<f64>(true)),
        labels: s.labels_usize(),
    };
    Ok((set(&train), set(&raw.test)))
}

/// The loop of the book's chapter 6.3–6.4 scripts (and of its `Trainer`): each iteration draws
/// one mini-batch of `batch` with replacement (seeded) and every net takes one SGD-style step on
/// it with its optimizer (dropout masks from the net's own seeded generator); after iteration
/// `i` with `i % iter_per_epoch == 0` (`iter_per_epoch = max(train_size / batch, 1)`) each net's
/// accuracy on each of `evals` is recorded, until `epochs` records. Returns
/// `acc[net][eval][epoch]`.
pub fn train_epochs(
    train: &Train,
    evals: &[&Train],
    nets: &mut [(Net<f64>, AnyOptimizer<f64>)],
    epochs: usize,
    batch: usize,
    seed: u64,
) -> Vec<Vec<Vec<f64>>> {
    let mut rng = rng_from_seed(seed);
    let mut masks: Vec<_> = (0..nets.len())
        .map(|k| rng_from_seed(seed + 1 + k as u64))
        .collect();
    let n = train.labels.len();
    let iter_per_epoch = (n / batch).max(1);
    let mut acc = vec![vec![Vec::with_capacity(epochs); evals.len()]; nets.len()];
    let mut xb = train.images.gather_rows(&[0]);
    for i in 0.. {
        let idx = choice_with_replacement(&mut rng, n, batch);
        train.images.gather_rows_into(&idx, &mut xb);
        let t: Vec<usize> = idx.iter().map(|&k| train.labels[k]).collect();
        for ((net, opt), mask_rng) in nets.iter_mut().zip(&mut masks) {
            let grads = net.gradient(&xb, &t, mask_rng);
            net.update(opt, &grads);
        }
        if i % iter_per_epoch == 0 {
            for ((net, _), acc) in nets.iter().zip(&mut acc) {
                for (set, acc) in evals.iter().zip(acc.iter_mut()) {
                    acc.push(net.accuracy(&set.images, &set.labels));
                }
            }
            if acc[0][0].len() >= epochs {
                break;
            }
        }
    }
    acc
}

/// The book's overfitting figures side by side, one panel per run: train and test accuracy
/// per epoch (blue and orange), y from 0 to 1.
pub fn plot_train_test(
    path: &Path,
    panels: &[(String, Vec<f64>, Vec<f64>)],
) -> Result<(), Box<dyn Error>> {
    Figure::new(700 * panels.len() as u32, 560).save(path, |root, s| {
        root.fill(&WHITE)?;
        for (area, (title, train, test)) in root.split_evenly((1, panels.len())).iter().zip(panels)
        {
            let epochs = train.len().max(2) as f64 - 1.0;
            let mut c = chart(
                area,
                s,
                title,
                ("epochs", "accuracy"),
                0.0..epochs,
                0.0..1.0,
            )?;
            for (k, (name, acc)) in [("train", train), ("test", test)].into_iter().enumerate() {
                let colour = PALETTE[k];
                let points = acc.iter().enumerate().map(|(i, &a)| (i as f64, a));
                c.draw_series(segments(points, colour.stroke_width(s.px(2))))?
                    .label(name)
                    .legend(legend_line(colour, s));
            }
            legend(&mut c, s, SeriesLabelPosition::LowerRight)?;
        }
        Ok(())
    })?;
    println!("wrote {}", path.display());
    Ok(())
}
