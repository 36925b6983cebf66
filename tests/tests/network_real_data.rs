//! The network's fast paths against the book's path (its oracle) on real MNIST batches, through
//! `Net` of the chapter 4 spec (which runs them) with the weights of the book's `TwoLayerNet`: the
//! fused forward and backward passes against the chapter 5 layers composed one by one, the fast
//! numerical gradient against the book's numerical gradient. The same comparisons on random nets,
//! on the kernels themselves, run offline in `crates/network/src/fused/tests.rs`.
//!
//! Data: `MNIST_DIR` (set by `cargo xtask test`), else `<workspace>/data/mnist`. Missing data is a
//! failure with the command that fetches it, never a skip.

use ndarray::{ArrayD, IxDyn};
use scratchnet_integration_tests::{batch, mnist};
use scratchnet_network::{Grads, Net, NetSpec, Tensors, TwoLayerNet};
use scratchnet_tensor::{SparseRows, one_hot, rng_from_seed};

/// The book's net as a `Net` of the chapter 4 spec: the same weights, the fast kernels.
fn as_net(book: &TwoLayerNet<f64>) -> Net<f64> {
    let (i, h, o) = book.sizes();
    Net::from_params(
        NetSpec::two_layer_net(i, h, o, 0.01),
        &Tensors::from_views(book.params.named()),
    )
    .unwrap()
}

/// max |a − b| over every tensor of a `Net`'s gradient and the book's.
fn max_abs_diff(a: &Tensors<f64>, b: &Grads<f64>) -> f64 {
    b.named()
        .iter()
        .flat_map(|(name, g)| a[*name].iter().zip(g.iter()).map(|(x, y)| (x - y).abs()))
        .fold(0.0, f64::max)
}

#[test]
fn fused_backprop_equals_the_books_layers_on_a_real_batch() {
    let m = mnist();
    let (x, t) = batch(&m, 5, 100);
    let hot = one_hot::<f64>(&t, 10);
    for seed in [0, 1] {
        let net = TwoLayerNet::<f64>::new(784, 50, 10, 0.01, &mut rng_from_seed(seed));
        let book = net.gradient(&x, &t);
        let tol = 1e-12 * book.max_abs();
        assert!(book.max_abs() > 1e-4);
        let (mut fused, mut rng) = (as_net(&net), rng_from_seed(0));
        let dense = fused.gradient(&x, &t, &mut rng);
        let sparse = fused.gradient(SparseRows::from_dense(&x), &t, &mut rng);
        let one_hot = fused.gradient(&x, &hot, &mut rng);
        for (name, g) in [("dense", dense), ("sparse", sparse), ("one-hot", one_hot)] {
            let d = max_abs_diff(&g, &book);
            assert!(d <= tol, "{name}, seed {seed}: {d:e} > {tol:e}");
        }
    }
}

#[test]
fn fast_numerical_gradient_equals_the_books_on_a_real_batch() {
    let m = mnist();
    let (x, t) = batch(&m, 6, 20);
    // a narrow hidden layer keeps the book's method (two passes through the layers per
    // parameter, 7,960 parameters) to a few seconds
    let net = TwoLayerNet::<f64>::new(784, 10, 10, 0.01, &mut rng_from_seed(3));
    let book = net.numerical_gradient(&x, &t);
    let fast = as_net(&net).numerical_gradient(&x, &t, &mut rng_from_seed(0));
    let scale = book.max_abs();
    let diff = max_abs_diff(&fast, &book);
    assert!(scale > 1e-4, "{scale}");
    assert!(
        diff <= 1e-8 * scale,
        "max |fast - book| = {diff:e}, max-norm {scale:e}"
    );
}

#[test]
fn fused_forward_equals_the_books_on_the_test_set_in_any_shape() {
    let m = mnist();
    let x = m.test.images_as::<f64>(true);
    let t = m.test.labels_usize();
    let mut rng = rng_from_seed(8);
    let net = TwoLayerNet::<f64>::new(784, 50, 10, 0.5, &mut rng);
    let fast_net = as_net(&net);
    let book = net.predict(&x);
    // the chapter 4 net's `predict` is the book's: the softmax already applied
    let fused = fast_net.predict(&x);
    let d = (&book - &fused)
        .iter()
        .fold(0.0f64, |acc, d| acc.max(d.abs()));
    assert!(d <= 1e-12, "max |fused - book| = {d:e}");
    assert!((net.loss(&x, &t) - fast_net.loss(&x, &t)).abs() <= 1e-12);
    // a near-tie may flip one argmax between the two roundings, no more
    let (a, b) = (net.accuracy(&x, &t), fast_net.accuracy(&x, &t));
    assert!((a - b).abs() <= 2.0 / t.len() as f64, "{a} vs {b}");
    // the images as `load_mnist` returns them unflattened, (N, 1, 28, 28)
    let images: ArrayD<f64> = x
        .clone()
        .into_shape_with_order(IxDyn(&[t.len(), 1, 28, 28]))
        .unwrap();
    assert_eq!(fast_net.accuracy(&images, &t), b);
    assert_eq!(net.loss(&images, &t), net.loss(&x, &t));
}

/// The learner's first try, as the README writes it: what `load_mnist` returns goes into the
/// net as it is, with index or one-hot labels, flattened or not, in f64 and f32.
#[test]
fn load_mnist_feeds_the_network_as_it_is() {
    use scratchnet_mnist::{LoadOptions, load_mnist};
    let dir = scratchnet_mnist::default_dir_in(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    let net = TwoLayerNet::<f64>::new(784, 10, 10, 0.01, &mut rng_from_seed(0));
    let mut losses = Vec::new();
    for one_hot_label in [false, true] {
        for flatten in [true, false] {
            let opts = LoadOptions {
                one_hot_label,
                flatten,
                ..Default::default()
            };
            let data = load_mnist::<f64>(&dir, opts).unwrap();
            losses.push(net.loss(&data.test.images, &data.test.labels));
            let acc = net.accuracy(&data.test.images, &data.test.labels);
            assert!(
                (0.0..=0.3).contains(&acc),
                "an untrained net guesses: {acc}"
            );
        }
    }
    // the same images and labels in every form: the same loss, close to ln 10
    assert!(
        losses.iter().all(|l| (l - losses[0]).abs() < 1e-12),
        "{losses:?}"
    );
    assert!((losses[0] - 10f64.ln()).abs() < 0.05, "{}", losses[0]);
    let data = load_mnist::<f32>(&dir, LoadOptions::default()).unwrap();
    let net32 = TwoLayerNet::<f32>::new(784, 10, 10, 0.01, &mut rng_from_seed(0));
    assert!(net32.loss(&data.test.images, &data.test.labels).is_finite());
}
