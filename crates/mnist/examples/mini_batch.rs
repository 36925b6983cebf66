//! §4.2.3 mini-batch learning: load MNIST with `normalize=True, one_hot_label=True`, print the
//! shapes, and draw a random batch of 10 as the notebook's `np.random.choice(train_size, 10)`.
//!
//! `cargo run -p scratchnet-mnist --example mini_batch` (data from `$MNIST_DIR` or `data/mnist`;
//! fetch it with `cargo xtask fetch-mnist`).

use std::process::ExitCode;

use scratchnet_mnist::{Labels, LoadOptions, default_dir, load_mnist, random_batch};
use scratchnet_tensor::rng_from_seed;

fn main() -> ExitCode {
    let dir = default_dir();
    let opts = LoadOptions {
        normalize: true,
        flatten: true,
        one_hot_label: true,
    };
    let data = match load_mnist::<f32>(&dir, opts) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let Labels::OneHot(t_train) = &data.train.labels else {
        unreachable!("one_hot_label was asked")
    };
    println!("{:?}", data.train.flat_images().dim()); // x_train.shape
    println!("{:?}", t_train.dim()); // t_train.shape

    let train_size = data.train.len();
    let batch_size = 10;
    let mut rng = rng_from_seed(0);
    let batch_mask = random_batch(&mut rng, train_size, batch_size);
    println!("{batch_mask:?}");
    let batch = data.train.batch(&batch_mask);
    println!(
        "x_batch {:?}, t_batch labels {:?}",
        batch.images.shape(),
        batch.labels.to_indices()
    );
    ExitCode::SUCCESS
}
