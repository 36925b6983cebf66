//! What the chapter 6 MNIST examples share: the data, the output folder, and the book's loop
//! that trains several nets side by side on the same mini-batches.

use std::error::Error;
use std::path::PathBuf;

use scratchnet_network::MultiLayerNet;
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
    nets: &mut [(String, MultiLayerNet<f64>, AnyOptimizer<f64>)],
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
            let grads = net.gradient_fast(&xb, &t);
            net.update(opt, &grads);
            losses.push(net.loss_fast(&xb, &t));
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
