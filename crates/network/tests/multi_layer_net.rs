//! MultiLayerNet against the chapter 4/5 two-layer nets and against the numerical gradient.

use ndarray::{Array2, array};
use scratchnet_network::layers::{Affine, Layer, LossGradient, Mode, Relu, SoftmaxWithLoss};
use scratchnet_network::{Activation, MultiLayerGrads, MultiLayerNet, TwoLayerNet, WeightInit};
use scratchnet_tensor::{Targets, rng_from_seed};

fn batch(n: usize, d: usize, seed: u64) -> Array2<f64> {
    let mut rng = rng_from_seed(seed);
    // MNIST-like: most pixels 0, the rest in (0, 1]; the first pixel never 0, so that no
    // row is all zeros (its pre-activations would sit exactly on ReLU's kink, where the
    // numerical and the backprop gradient rightly differ)
    let r = scratchnet_tensor::randn::<f64, _>((n, d), 1.0, &mut rng);
    let mut x = r.mapv(|v| if v > 0.8 { (v - 0.8).min(1.0) } else { 0.0 });
    x.column_mut(0).mapv_inplace(|v| 0.3 + v);
    x
}

fn labels(n: usize, classes: usize) -> Vec<usize> {
    (0..n).map(|i| (i * 7 + 3) % classes).collect()
}

/// max |a − b| over a tensor, relative to the larger max-norm of the two.
fn rel(a: &ndarray::ArrayViewD<f64>, b: &ndarray::ArrayViewD<f64>) -> f64 {
    let scale = a.iter().chain(b.iter()).fold(0.0f64, |m, v| m.max(v.abs()));
    let diff = a
        .iter()
        .zip(b.iter())
        .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()));
    if scale == 0.0 { diff } else { diff / scale }
}

fn max_rel(g: &MultiLayerGrads<f64>, n: &MultiLayerGrads<f64>) -> f64 {
    g.named()
        .iter()
        .zip(n.named())
        .map(|((_, g), (_, n))| rel(g, &n))
        .fold(0.0, f64::max)
}

/// Without dropout the gradients draw nothing: any generator will do.
fn no_rng() -> scratchnet_tensor::Rng {
    rng_from_seed(0)
}

#[test]
fn one_sigmoid_hidden_layer_is_the_chapter_4_net_bit_for_bit() {
    let mut deep = MultiLayerNet::<f64>::new(
        20,
        &[7],
        4,
        Activation::Sigmoid,
        WeightInit::Std(0.5),
        &mut rng_from_seed(9),
    );
    let two = TwoLayerNet::<f64>::new(20, 7, 4, 0.5, &mut rng_from_seed(9));
    assert_eq!(deep.params[0].w, two.params.w1);
    assert_eq!(deep.params[1].w, two.params.w2);
    let (x, t) = (batch(6, 20, 1), labels(6, 4));
    assert_eq!(deep.loss(&x, &t), two.loss(&x, &t));
    assert_eq!(deep.accuracy(&x, &t), two.accuracy(&x, &t));
    let (gd, g2) = (deep.gradient(&x, &t, &mut no_rng()), two.gradient(&x, &t));
    let gd = &gd.affine;
    assert_eq!(
        (&gd[0].w, &gd[0].b, &gd[1].w, &gd[1].b),
        (&g2.w1, &g2.b1, &g2.w2, &g2.b2)
    );
}

#[test]
fn one_relu_hidden_layer_is_the_chapter_5_two_layer_net() {
    let mut net = MultiLayerNet::<f64>::new(
        12,
        &[5],
        3,
        Activation::Relu,
        WeightInit::Std(0.8),
        &mut rng_from_seed(4),
    );
    let (x, t) = (batch(5, 12, 2), labels(5, 3));
    // ch05/two_layer_net.py, its layers composed by hand
    let copy = net.clone();
    let (p1, p2) = (&copy.params[0], &copy.params[1]);
    let mut affine1 = Affine::new(p1.w.view(), p1.b.view());
    let mut relu1 = Relu::new();
    let mut affine2 = Affine::new(p2.w.view(), p2.b.view());
    let mut last = SoftmaxWithLoss::new();
    let a1 = affine1.forward(x.view(), Mode::Train);
    let z1 = relu1.forward(a1.view(), Mode::Train);
    let a2 = affine2.forward(z1.view(), Mode::Train);
    let loss = last.forward(a2.view(), Targets::Labels(&t));
    let d = last.backward(1.0);
    let d = affine2.backward(d.view());
    let d = Layer::<f64>::backward(&mut relu1, d.view());
    affine1.backward(d.view());
    assert_eq!(net.loss(&x, &t), loss);
    assert_eq!(net.predict(&x), a2);
    let g = net.gradient(&x, &t, &mut no_rng()).affine;
    assert_eq!((&g[0].w, &g[0].b), (&affine1.dw, &affine1.db));
    assert_eq!((&g[1].w, &g[1].b), (&affine2.dw, &affine2.db));
}

#[test]
fn backprop_equals_the_numerical_gradient_for_2_and_5_hidden_layers() {
    for activation in [Activation::Sigmoid, Activation::Relu] {
        for hidden in [&[10, 8][..], &[9, 8, 7, 6, 5][..]] {
            let init = match activation {
                Activation::Relu => WeightInit::He,
                Activation::Sigmoid => WeightInit::Xavier,
            };
            let mut net =
                MultiLayerNet::<f64>::new(16, hidden, 4, activation, init, &mut rng_from_seed(11));
            let (x, t) = (batch(8, 16, 5), labels(8, 4));
            let n = net.numerical_gradient(&x, &t, &mut no_rng());
            let r = max_rel(&net.gradient(&x, &t, &mut no_rng()), &n);
            // the book's (y − t)/N against the δ-loss's numerical gradient: ~1e-7/y_t
            assert!(
                r < 1e-4,
                "{activation} {hidden:?}: max relative difference {r:e}"
            );
            // the exact gradient of the δ-loss agrees far closer
            let check = net.gradient_check_with(&x, &t, &mut no_rng(), LossGradient::ExactDelta);
            for p in &check.params {
                assert!(
                    p.mean_abs_diff < 1e-8 * p.max_abs,
                    "{activation} {hidden:?}\n{check}"
                );
            }
        }
    }
}

#[test]
fn weight_decay_enters_loss_and_gradient_as_the_book_adds_it() {
    let net = MultiLayerNet::<f64>::new(
        6,
        &[5, 4],
        3,
        Activation::Relu,
        WeightInit::He,
        &mut rng_from_seed(2),
    );
    let (x, t) = (batch(4, 6, 8), labels(4, 3));
    let lambda = 0.1;
    let mut decayed = net.clone().with_weight_decay(lambda);
    let sum_w2: f64 = net
        .params
        .iter()
        .map(|p| p.w.iter().map(|w| w * w).sum::<f64>())
        .sum();
    assert!((decayed.loss(&x, &t) - (net.loss(&x, &t) + 0.5 * lambda * sum_w2)).abs() < 1e-12);
    let (g, gd) = (
        net.clone().gradient(&x, &t, &mut no_rng()),
        decayed.gradient(&x, &t, &mut no_rng()),
    );
    for ((g, gd), p) in g.affine.iter().zip(&gd.affine).zip(&net.params) {
        assert_eq!(gd.w, &g.w + &(&p.w * lambda));
        assert_eq!(gd.b, g.b);
    }
    let r = max_rel(&gd, &decayed.numerical_gradient(&x, &t, &mut no_rng()));
    assert!(r < 1e-6, "{r:e}");
}

#[test]
fn the_initialisations_have_the_books_scales() {
    let n = 400;
    for (init, want) in [
        (WeightInit::Std(0.01), 0.01),
        (WeightInit::Xavier, (1.0f64 / n as f64).sqrt()),
        (WeightInit::He, (2.0f64 / n as f64).sqrt()),
    ] {
        let net =
            MultiLayerNet::<f64>::new(n, &[300], 2, Activation::Relu, init, &mut rng_from_seed(0));
        let w = &net.params[0].w;
        let std = (w.iter().map(|v| v * v).sum::<f64>() / w.len() as f64).sqrt();
        assert!(
            (std / want - 1.0).abs() < 0.01,
            "{init}: std {std}, want {want}"
        );
        assert!(net.params.iter().all(|p| p.b.iter().all(|&b| b == 0.0)));
    }
}

#[test]
fn f32_nets_train_and_one_hot_targets_match_labels() {
    let mut net = MultiLayerNet::<f32>::new(
        4,
        &[6],
        2,
        Activation::Relu,
        WeightInit::He,
        &mut rng_from_seed(3),
    );
    let x = array![[0.0f32, 1.0, 0.5, 0.0], [1.0, 0.0, 0.0, 0.25]];
    let onehot = array![[0.0f32, 1.0], [1.0, 0.0]];
    assert_eq!(net.loss(&x, &[1, 0]), net.loss(&x, &onehot));
    let before = net.loss(&x, &[1, 0]);
    let mut sgd = scratchnet_network::optimizer::Sgd::new(0.1);
    for _ in 0..10 {
        let g = net.gradient(&x, &onehot, &mut no_rng());
        net.update(&mut sgd, &g);
    }
    assert!(net.loss(&x, &[1, 0]) < before);
}

#[test]
#[should_panic(expected = "x has 3 columns but the net has 4 inputs")]
fn a_wrong_input_width_is_a_clear_panic() {
    let net = MultiLayerNet::<f64>::new(
        4,
        &[2],
        2,
        Activation::Relu,
        WeightInit::He,
        &mut rng_from_seed(3),
    );
    net.loss(&array![[1.0, 2.0, 3.0]], &[0]);
}
