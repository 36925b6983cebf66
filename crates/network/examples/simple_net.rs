//! §4.4.2 "신경망에서의 기울기": the 2x3 simpleNet, its numerical gradient, and ten descent steps.
//!
//! `cargo run --release -p scratchnet-network --example simple_net [SEED]`

use ndarray::array;
use scratchnet_network::SimpleNet;
use scratchnet_tensor::{argmax, rng_from_seed};

fn main() {
    let seed = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);

    // The book's cells, with the weights printed in the book so the numbers can be compared.
    let net = SimpleNet::<f64>::from_weights(array![
        [0.47355232, 0.9977393, 0.84668094],
        [0.85557411, 0.03563661, 0.69422093]
    ]);
    println!("W (the book's) =\n{:.8}", net.w);
    let x = array![0.6, 0.9];
    let p = net.predict(&x);
    // the notebook labels these "probability"; they are the scores x·W (logits), whose
    // softmax is the probability
    println!("scores (logits) {p:.9}");
    println!("argmax {}", argmax(&p));
    let t = array![0.0, 0.0, 1.0];
    println!("loss {:.16}", net.loss(&x, &t));
    // The book prints [[0.21924763, 0.14356247, -0.36281009], [0.32887144, 0.2153437, -0.54421514]],
    // computed from its unrounded random weights; for the printed W the exact values differ by up
    // to 1.4e-7. Either way row 1 is 1.5 × row 0, because x1 = 1.5·x0.
    println!("dW =\n{:.10}", net.numerical_gradient(&x, &t));

    // The notebook's last cell: a random net, ten steps of W -= dW.
    let mut net = SimpleNet::<f64>::new(&mut rng_from_seed(seed));
    println!("\nrandom W (seed {seed}) =\n{:.8}", net.w);
    for loss in net.descend(&x, &t, 1.0, 10) {
        println!("loss: {loss:.6}");
    }
    println!("predict =  {}", argmax(&net.predict(&x)));
    println!("real =  {}", argmax(&t));
}
