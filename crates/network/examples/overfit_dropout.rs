//! The book's figure 6-23 (`ch06/overfit_dropout.py`): the 7-layer net of
//! `overfit_weight_decay` (6 hidden layers of 100 ReLU units, He init) on the first 300 MNIST
//! images, SGD (lr 0.01), batch 100, 301 epochs, without dropout and with dropout 0.2 after each
//! hidden activation; train and test accuracy per epoch. Dropout narrows the train/test gap.
//! Masks come from a seeded generator, so the run is reproducible. Writes
//! `overfit_dropout.png` to the folder given as the first argument (default `target/figures`).
//! Needs MNIST (`cargo xtask fetch-mnist`).
//!
//! ```text
//! cargo run --release -p scratchnet-network --example overfit_dropout
//! ```

mod common;

use scratchnet_network::optimizer::{AnyOptimizer, Sgd};
use scratchnet_network::{Activation, Net, NetSpec, WeightInit};
use scratchnet_tensor::rng_from_seed;

fn main() {
    common::main(run);
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let (train, test) = common::load_train_test(300)?;
    let dir = common::figure_dir()?;
    let start = std::time::Instant::now();
    let run_with = |dropout: Option<f64>| {
        let spec = NetSpec::multi_layer_net_extend(
            784,
            &[100; 6],
            10,
            Activation::Relu,
            WeightInit::He,
            0.0,
            dropout,
            false,
        );
        let net = Net::<f64>::new(spec, &mut rng_from_seed(1)).expect("a valid spec");
        let mut nets = [(net, AnyOptimizer::Sgd(Sgd::new(0.01)))];
        common::train_epochs(&train, &[&train, &test], &mut nets, 301, 100, 42).remove(0)
    };
    let (plain, dropped) = rayon::join(|| run_with(None), || run_with(Some(0.2)));
    println!(
        "2 runs x 301 epochs in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    let mut panels = Vec::new();
    for (name, acc) in [("no dropout", plain), ("dropout 0.2 (fig. 6-23)", dropped)] {
        let (tr, te) = (acc[0][acc[0].len() - 1], acc[1][acc[1].len() - 1]);
        println!(
            "{name}: final train acc {tr:.4}, test acc {te:.4}, gap {:.4}",
            tr - te
        );
        panels.push((name.to_string(), acc[0].clone(), acc[1].clone()));
    }
    common::plot_train_test(&dir.join("overfit_dropout.png"), &panels)
}
