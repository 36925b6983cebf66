//! Chapter 8 on real MNIST, in seconds: the book's `DeepConvNet` (`NetSpec::deep_conv_net`)
//! checked against the numerical gradient on a small input, and a short training that must
//! clearly learn. The full 20-epoch run is a documented command (README), not a test.
//!
//! Data: `MNIST_DIR` (set by `cargo xtask test`), else `<workspace>/data/mnist`. Missing data is a
//! failure with the command that fetches it, never a skip.

use scratchnet_integration_tests::{batch, mnist};
use scratchnet_network::optimizer::AnyOptimizer;
use scratchnet_network::{Batch, Gradient, LayerSpec, Net, NetSpec, Tensors};
use scratchnet_tensor::{SparseRows, choice_with_replacement, rng_from_seed};

/// The book's gradient check (`gradient_check.py`) on DeepConvNet: backprop against central
/// differences (h = 1e-4) of the loss, on two real images, at 8 coordinates drawn at random in
/// each of the 16 tensors (all 123 k would take hours: two forward passes per coordinate).
/// Dropout's ratio is set to 0 for the check (every other layer is the book's): a mask drawn
/// in training is not the test-mode scaling the loss uses, so with ratio 0.5 the two would
/// differ by design; dropout itself is checked against the book in the network crate.
#[test]
fn deep_conv_net_backprop_equals_the_numerical_gradient() {
    let m = mnist();
    let (x, t) = batch(&m, 11, 2);
    let mut spec = NetSpec::deep_conv_net();
    for l in &mut spec.layers {
        if let LayerSpec::Dropout(r) = l {
            *r = 0.0;
        }
    }
    let mut rng = rng_from_seed(3);
    let drawn = Net::<f64>::new(spec.clone(), &mut rng).unwrap().params();
    // The book's biases start at 0, which puts every background pixel (0) of every feature map
    // exactly on ReLU's kink, where the loss has no derivative and central differences give
    // half the slope: biases of N(0, 0.1²) move them off it.
    let params = Tensors::from_pairs(
        drawn
            .into_iter()
            .map(|(n, a)| {
                let a = if n.starts_with('b') {
                    scratchnet_tensor::randn(a.len(), 0.1, &mut rng).into_dyn()
                } else {
                    a
                };
                (n, a)
            })
            .collect::<Vec<_>>(),
    );
    let mut net = Net::<f64>::from_params(spec.clone(), &params).unwrap();
    let backprop = net.gradient(&x, &t, &mut rng);
    // ReLU and max pooling make the loss piecewise smooth, and a weight of a convolution
    // reaches ~1500 positions: the book's h = 1e-4 straddles a kink for many of them (checked:
    // up to 1e-1 relative there), while h = 1e-6 (roundoff ~1e-16·L/h ≈ 1e-10) does not
    let h = 1e-6;
    let mut worst = 0.0f64;
    for (name, w) in params.iter() {
        let scale = backprop[name].iter().fold(0.0f64, |m, v| m.max(v.abs()));
        assert!(scale > 0.0, "{name}: a zero gradient checks nothing");
        for k in choice_with_replacement(&mut rng_from_seed(name.len() as u64), w.len(), 8) {
            let loss_at = |delta: f64| {
                let pairs = params.iter().map(|(n, a)| {
                    let mut a = a.clone();
                    if n == name {
                        a.as_slice_mut().unwrap()[k] += delta;
                    }
                    (n.to_string(), a)
                });
                let p = Tensors::from_pairs(pairs.collect::<Vec<_>>());
                Net::<f64>::from_params(spec.clone(), &p)
                    .unwrap()
                    .loss(&x, &t)
            };
            let numerical = (loss_at(h) - loss_at(-h)) / (2.0 * h);
            let analytic = backprop[name].as_slice().unwrap()[k];
            let rel = (numerical - analytic).abs() / scale;
            worst = worst.max(rel);
            // the book's (y − t)/N is the exact gradient to ~δ/y_t ≈ 1e-6 relative here
            assert!(
                rel < 1e-4,
                "{name}[{k}]: numerical {numerical:e}, backprop {analytic:e} (scale {scale:e})"
            );
        }
    }
    eprintln!("largest difference: {worst:e} of the tensor's largest gradient");
}

/// 60 Adam steps (lr 0.001, the book's train_deepnet.py) of 50 images drawn from the first 5000
/// training images, with the book's dropout: the net must be far from chance (0.1) on 500 test
/// images it never saw. 3000 images of about 54 MFLOP each: a few seconds on two cores.
#[test]
fn a_short_deep_conv_net_training_clearly_learns() {
    let m = mnist();
    let first: Vec<usize> = (0..5000).collect();
    let train = m.train.batch(&first);
    let x = SparseRows::from_dense(&train.images_as::<f32>(true));
    let t = train.labels_usize();
    let test_first: Vec<usize> = (0..500).collect();
    let test = m.test.batch(&test_first);
    let (x_test, t_test) = (test.images_as::<f32>(true), test.labels_usize());

    let mut rng = rng_from_seed(1);
    let mut net = Net::<f32>::new(NetSpec::deep_conv_net(), &mut rng).unwrap();
    let before = net.accuracy(&x_test, &t_test);
    let mut adam = AnyOptimizer::by_name("adam").unwrap();
    adam.set_lr(0.001);
    let draw = |rng: &mut scratchnet_tensor::Rng, b: &mut Batch<f32>| {
        let idx = choice_with_replacement(rng, t.len(), 50);
        x.gather_rows_into(&idx, &mut b.x);
        b.t.clear();
        b.t.extend(idx.iter().map(|&k| t[k]));
    };
    let mut last = f64::NAN;
    for _ in 0..60 {
        last = net
            .step(&draw, Gradient::Backprop, &mut adam, &mut rng, true)
            .unwrap();
    }
    let after = net.accuracy(&x_test, &t_test);
    eprintln!("test accuracy before {before}, after 60 steps {after}");
    assert!(before < 0.3, "an untrained net guesses: {before}");
    // a net that learned nothing scores 0.1 ± 0.013 (binomial σ on 500 images): 0.5 is 30σ
    // above it (this seed measured 0.746 after 60 steps; 0.52 after 25, 0.95 after 200)
    assert!(
        after > 0.5,
        "test accuracy {after} after 60 steps (last loss {last})"
    );
}
