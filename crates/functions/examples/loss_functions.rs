//! §4.2.1–4.2.4: sum of squared errors and cross-entropy error on the notebook's `y` and `t`,
//! the mini-batch draw, and the batch forms (one-hot and label targets).
//!
//! The notebook draws no figure in these sections. The functions crate does no I/O, so §4.2.3's
//! mini-batch is drawn here from a synthetic stand-in of MNIST's 60,000 training rows; the real
//! data set is loaded by the `scratchnet-mnist` crate.
//!
//! `cargo run --release -p scratchnet-functions --example loss_functions`

use ndarray::{Array1, Axis, array};
use scratchnet_functions::{
    cross_entropy_error, cross_entropy_error_labels, softmax, sum_squared_error,
};
use scratchnet_tensor::{
    argmax_rows, choice_with_replacement, gather_rows, one_hot, randn, rng_from_seed,
};

fn main() {
    // §4.2.1 / §4.2.2: the softmax output y, "2" is the right answer (t one-hot at index 2).
    let t: Array1<f64> = array![0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0];
    let y_right = array![0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0];
    let y_wrong = array![0.1, 0.05, 0.1, 0.0, 0.05, 0.1, 0.0, 0.6, 0.0, 0.0];
    println!("§4.2.1 sum of squared errors, E = ½ Σ (y_k − t_k)²");
    println!(
        "  0.6 on the right class (2): {}",
        sum_squared_error(&y_right, &t)
    );
    println!(
        "  0.6 on a wrong class (7):   {}",
        sum_squared_error(&y_wrong, &t)
    );
    println!("§4.2.2 cross-entropy error, E = −Σ t_k ln(y_k + 1e-7)");
    println!(
        "  0.6 on the right class (2): {}",
        cross_entropy_error(&y_right, &t)
    );
    println!(
        "  0.6 on a wrong class (7):   {}",
        cross_entropy_error(&y_wrong, &t)
    );

    // §4.2.3: np.random.choice(train_size, batch_size), from a seeded generator.
    let (train_size, batch_size) = (60_000, 10);
    let mut rng = rng_from_seed(0);
    let batch_mask = choice_with_replacement(&mut rng, train_size, batch_size);
    println!(
        "§4.2.3 mini-batch: {batch_size} of {train_size} indices, with replacement (seed 0): {batch_mask:?}"
    );
    // Stand-in for the network's outputs on the training set and its labels.
    let outputs = softmax(&randn::<f64, _>((train_size, 10), 2.0, &mut rng));
    let labels = choice_with_replacement(&mut rng, 10, train_size);
    let y_batch = gather_rows(&outputs, &batch_mask);
    let label_batch: Vec<usize> = batch_mask.iter().map(|&i| labels[i]).collect();
    let t_batch = one_hot::<f64>(&label_batch, 10);
    println!(
        "  y_batch {:?}, t_batch {:?}",
        y_batch.shape(),
        t_batch.shape()
    );

    // §4.2.4: the batch forms, averaged over the batch.
    println!("§4.2.4 batch cross-entropy, E = −(1/N) Σ_n Σ_k t_nk ln(y_nk + 1e-7)");
    println!(
        "  notebook's y as a 1-D sample, one-hot t:  {}",
        cross_entropy_error(&y_right, &t)
    );
    println!(
        "  notebook's y as a 1-D sample, label 2:    {}",
        cross_entropy_error_labels(&y_right, &[2])
    );
    let both = ndarray::stack(Axis(0), &[y_right.view(), y_wrong.view()]).expect("same length");
    println!(
        "  both y as a batch of 2, labels [2, 2]:   {} (the mean of the two above)",
        cross_entropy_error_labels(&both, &[2, 2])
    );
    println!(
        "  synthetic mini-batch, one-hot t:         {}",
        cross_entropy_error(&y_batch, &t_batch)
    );
    println!(
        "  synthetic mini-batch, labels:            {}",
        cross_entropy_error_labels(&y_batch, &label_batch)
    );
    let hits = argmax_rows(&y_batch)
        .iter()
        .zip(&label_batch)
        .filter(|(p, l)| p == l)
        .count();
    println!(
        "  (random outputs and labels, {hits}/{batch_size} argmax hits: no better than guessing, ln 10 ≈ 2.3, or worse)"
    );
}
