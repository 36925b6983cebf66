//! The book's figure 6-15 (`ch06/weight_init_compare.py`): the same 5-layer ReLU net (4 hidden
//! layers of 100) on MNIST with weights of std 0.01, Xavier and He, trained by SGD (lr 0.01),
//! batch 128, 2000 iterations on the same mini-batches; the smoothed loss per iteration. With std
//! 0.01 the net does not learn at all in 2000 iterations; He learns fastest. Writes
//! `weight_init_compare.png` to the folder given as the first argument (default
//! `target/figures`). Needs MNIST (`cargo xtask fetch-mnist`).
//!
//! ```text
//! cargo run --release -p scratchnet-network --example weight_init_compare
//! ```

mod common;

use plotters::prelude::SeriesLabelPosition;
use scratchnet_network::optimizer::{AnyOptimizer, Sgd};
use scratchnet_network::{Activation, Net, NetSpec, WeightInit};
use scratchnet_tensor::rng_from_seed;

fn main() {
    common::main(run);
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let train = common::load_train()?;
    let dir = common::figure_dir()?;
    let inits = [
        ("std=0.01", WeightInit::Std(0.01)),
        ("Xavier", WeightInit::Xavier),
        ("He", WeightInit::He),
    ];
    let mut nets: Vec<_> = inits
        .iter()
        .enumerate()
        .map(|(k, &(name, init))| {
            let spec = NetSpec::multi_layer_net(
                784,
                &[100, 100, 100, 100],
                10,
                Activation::Relu,
                init,
                0.0,
            );
            let net = Net::<f64>::new(spec, &mut rng_from_seed(k as u64)).expect("a valid spec");
            (name.to_string(), net, AnyOptimizer::Sgd(Sgd::new(0.01)))
        })
        .collect();
    let start = std::time::Instant::now();
    let losses = common::train_side_by_side(&train, &mut nets, 2000, 128, 42);
    println!(
        "2000 iterations x 3 initialisations in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    let out = dir.join("weight_init_compare.png");
    let names: Vec<&str> = nets.iter().map(|(n, _, _)| n.as_str()).collect();
    common::plot_losses(
        &out,
        "Weight initialisation on MNIST (5 layers, ReLU, SGD)",
        &names,
        &losses,
        2.5,
        SeriesLabelPosition::MiddleRight,
    )?;
    Ok(())
}
