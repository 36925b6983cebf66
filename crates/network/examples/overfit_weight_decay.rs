//! The book's figures 6-20 and 6-21 (`ch06/overfit_weight_decay.py`): a 7-layer net (6 hidden
//! layers of 100 ReLU units, He init) trained on only the first 300 MNIST images by SGD (lr
//! 0.01), batch 100, 201 epochs, without weight decay and with λ = 0.1; train and test accuracy
//! per epoch. Without decay the net learns the 300 images perfectly and the test accuracy stays
//! far below; weight decay narrows the gap. Writes `overfit_weight_decay.png` to the folder
//! given as the first argument (default `target/figures`). Needs MNIST (`cargo xtask fetch-mnist`).
//!
//! ```text
//! cargo run --release -p scratchnet-network --example overfit_weight_decay
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
    let run_with = |lambda: f64| {
        let spec =
            NetSpec::multi_layer_net(784, &[100; 6], 10, Activation::Relu, WeightInit::He, lambda);
        let net = Net::<f64>::new(spec, &mut rng_from_seed(1)).expect("a valid spec");
        let mut nets = [(net, AnyOptimizer::Sgd(Sgd::new(0.01)))];
        common::train_epochs(&train, &[&train, &test], &mut nets, 201, 100, 42).remove(0)
    };
    // the two runs are independent (own nets, own seeds): run them side by side
    let (plain, decayed) = rayon::join(|| run_with(0.0), || run_with(0.1));
    println!(
        "2 runs x 201 epochs in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    let mut panels = Vec::new();
    for (name, acc) in [
        ("λ = 0 (fig. 6-20)", plain),
        ("λ = 0.1 (fig. 6-21)", decayed),
    ] {
        let (tr, te) = (acc[0][acc[0].len() - 1], acc[1][acc[1].len() - 1]);
        println!(
            "{name}: final train acc {tr:.4}, test acc {te:.4}, gap {:.4}",
            tr - te
        );
        panels.push((
            format!("weight decay {name}"),
            acc[0].clone(),
            acc[1].clone(),
        ));
    }
    common::plot_train_test(&dir.join("overfit_weight_decay.png"), &panels)
}
