//! The book's `ch07/gradient_check.py`: `SimpleConvNet` with input (1, 10, 10), 10 filters of
//! 3×3, hidden 10, output 10, σ = 0.01, one random image of uniform [0, 1) values; each
//! parameter's mean |backprop − numerical| printed as the book prints it.
//!
//! ```text
//! cargo run --release -p scratchnet-network --example gradient_check_convnet -- [SEED]
//! ```
//!
//! Where a ReLU or a pooling max switches within h = 1e-4 of the weights, central differences
//! are wrong there and W1's line shows it (about 1e-6 instead of 1e-12): try a few seeds.

use ndarray::Array2;
use rand::RngExt;
use scratchnet_network::book::SimpleConvNet;
use scratchnet_tensor::{Targets, rng_from_seed};

fn main() {
    let seed = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let mut rng = rng_from_seed(seed);
    let net = SimpleConvNet::<f64>::new((1, 10, 10), 10, 3, 0, 1, 10, 10, 0.01, &mut rng);
    let x = Array2::from_shape_simple_fn((1, 100), || rng.random::<f64>());
    let t = [1];
    let num = net.numerical_gradient(x.view(), Targets::Labels(&t));
    let bp = net.gradient(x.view(), Targets::Labels(&t));
    for ((name, a), (_, b)) in num.iter().zip(bp.iter()) {
        let diff = (b - a).mapv(f64::abs).mean().unwrap_or(f64::NAN);
        println!("{name}:{diff:e}");
    }
}
