//! The book's figure 6-9 (`ch06/optimizer_compare_mnist.py`): SGD, Momentum, AdaGrad and Adam
//! training the same 5-layer net (4 hidden layers of 100 ReLU units, He init) on MNIST, batch
//! 128, 2000 iterations, each on the same mini-batches; the smoothed loss per iteration. Writes
//! `optimizer_compare_mnist.png` to the folder given as the first argument (default
//! `target/figures`). Needs MNIST (`cargo xtask fetch-mnist`).
//!
//! ```text
//! cargo run --release -p scratchnet-network --example optimizer_compare_mnist
//! ```

mod common;

use plotters::prelude::SeriesLabelPosition;
use scratchnet_network::optimizer::AnyOptimizer;
use scratchnet_network::{Activation, Net, NetSpec, WeightInit};
use scratchnet_tensor::rng_from_seed;

fn main() {
    common::main(run);
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let train = common::load_train()?;
    let dir = common::figure_dir()?;
    let mut nets: Vec<_> = ["sgd", "momentum", "adagrad", "adam"]
        .iter()
        .enumerate()
        .map(|(k, name)| {
            let spec = NetSpec::multi_layer_net(
                784,
                &[100, 100, 100, 100],
                10,
                Activation::Relu,
                WeightInit::He,
                0.0,
            );
            let net = Net::<f64>::new(spec, &mut rng_from_seed(k as u64)).expect("a valid spec");
            // the book's defaults: lr 0.01 for all but Adam's 0.001
            let opt = AnyOptimizer::by_name(name).expect("a known optimizer");
            (name.to_string(), net, opt)
        })
        .collect();
    let start = std::time::Instant::now();
    let losses = common::train_side_by_side(&train, &mut nets, 2000, 128, 42);
    println!(
        "2000 iterations x 4 optimizers in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    let out = dir.join("optimizer_compare_mnist.png");
    let names: Vec<&str> = nets.iter().map(|(n, _, _)| n.as_str()).collect();
    common::plot_losses(
        &out,
        "Optimizers on MNIST (5 layers, ReLU, batch 128)",
        &names,
        &losses,
        1.0,
        SeriesLabelPosition::UpperRight,
    )?;
    Ok(())
}
