//! Chapter 7 on real MNIST: `Net`'s convolution kernels against the book's `SimpleConvNet` on a
//! real batch, and a short training of the book's net through `Net::step` that must clearly
//! learn. The full 20-epoch run is a documented command (README), not a test.
//!
//! Data: `MNIST_DIR` (set by `cargo xtask test`), else `<workspace>/data/mnist`. Missing data is a
//! failure with the command that fetches it, never a skip.

use scratchnet_integration_tests::{batch, mnist};
use scratchnet_network::book::SimpleConvNet;
use scratchnet_network::optimizer::AnyOptimizer;
use scratchnet_network::{Batch, Gradient, Net, NetSpec};
use scratchnet_tensor::{SparseRows, Targets, choice_with_replacement, rng_from_seed};

#[test]
fn net_equals_the_books_simple_conv_net_on_a_real_batch() {
    let m = mnist();
    let (x, t) = batch(&m, 8, 50);
    let mut rng = rng_from_seed(4);
    let book = SimpleConvNet::<f64>::new((1, 28, 28), 30, 5, 0, 1, 100, 10, 0.01, &mut rng);
    let mut net = Net::<f64>::from_params(NetSpec::simple_conv_net(), &book.params).unwrap();
    let (p1, p2) = (book.predict(x.view()), net.predict(&x));
    assert!((&p1 - &p2).iter().all(|d| d.abs() < 1e-12));
    let g1 = book.gradient(x.view(), Targets::Labels(&t));
    let g2 = net.gradient(&x, &t, &mut rng);
    for ((name, a), (_, b)) in g1.iter().zip(g2.iter()) {
        let scale = a.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let diff = (a - b).iter().fold(0.0f64, |m, v| m.max(v.abs()));
        assert!(
            scale > 0.0 && diff <= 1e-10 * scale,
            "{name}: {diff:e} of {scale:e}"
        );
    }
}

/// 300 Adam steps (half an epoch of the book's `train_convnet.py`) on 5000 training images: the
/// book's net is past 0.9 on held-out test images by then (chance is 0.1).
#[test]
fn a_short_simple_conv_net_training_clearly_learns() {
    let m = mnist();
    let first: Vec<usize> = (0..5000).collect();
    let train = m.train.batch(&first);
    let x = SparseRows::from_dense(&train.images_as::<f32>(true));
    let t = train.labels_usize();
    let test_first: Vec<usize> = (0..1000).collect();
    let test = m.test.batch(&test_first);
    let (x_test, t_test) = (test.images_as::<f32>(true), test.labels_usize());

    let mut rng = rng_from_seed(1);
    let mut net = Net::<f32>::new(NetSpec::simple_conv_net(), &mut rng).unwrap();
    let before = net.accuracy(&x_test, &t_test);
    let mut adam = AnyOptimizer::by_name("adam").unwrap();
    adam.set_lr(0.001);
    let draw = |rng: &mut scratchnet_tensor::Rng, b: &mut Batch<f32>| {
        let idx = choice_with_replacement(rng, t.len(), 100);
        x.gather_rows_into(&idx, &mut b.x);
        b.t.clear();
        b.t.extend(idx.iter().map(|&k| t[k]));
    };
    let mut last = f64::NAN;
    for _ in 0..300 {
        last = net
            .step(&draw, Gradient::Backprop, &mut adam, &mut rng, true)
            .unwrap();
    }
    let after = net.accuracy(&x_test, &t_test);
    assert!(before < 0.3, "an untrained net guesses: {before}");
    assert!(
        after > 0.9,
        "test accuracy {after} after 300 steps (last loss {last})"
    );
}
