//! The six optimizers against the book's update rules, recomputed here one scalar at a time in
//! plain f64 (no ndarray), over several steps and two tensors of different shapes.

use ndarray::{ArrayD, IxDyn};
use scratchnet_fileio::frame::Format;
use scratchnet_network::optimizer::{
    AdaGrad, Adam, AnyOptimizer, Momentum, Nesterov, Optimizer, RmsProp, Sgd,
};

const EPS: f64 = 1e-7;

/// Deterministic, varied gradients for step `k` and entry `i` (positive and negative, some zero).
fn grad(k: usize, i: usize) -> f64 {
    let v = ((k * 7 + i * 13) % 11) as f64 - 5.0;
    v * 0.37 + (i as f64) * 0.01
}

/// Runs `opt` for `steps` steps on a 2x3 and a 4-element tensor; returns all entries flat.
fn run_array(opt: &mut impl Optimizer<f64>, steps: usize) -> Vec<f64> {
    let mut a = ArrayD::from_shape_fn(IxDyn(&[2, 3]), |ix| 0.5 - (ix[0] * 3 + ix[1]) as f64 * 0.1);
    let mut b = ArrayD::from_shape_fn(IxDyn(&[4]), |ix| ix[0] as f64 * 0.25);
    for k in 0..steps {
        let ga = ArrayD::from_shape_fn(IxDyn(&[2, 3]), |ix| grad(k, ix[0] * 3 + ix[1]));
        let gb = ArrayD::from_shape_fn(IxDyn(&[4]), |ix| grad(k, 6 + ix[0]));
        opt.update(&mut [a.view_mut(), b.view_mut()], &[ga.view(), gb.view()]);
    }
    a.iter().chain(b.iter()).copied().collect()
}

fn start() -> Vec<f64> {
    let mut v: Vec<f64> = (0..6).map(|i| 0.5 - i as f64 * 0.1).collect();
    v.extend((0..4).map(|i| i as f64 * 0.25));
    v
}

/// The same run with `step(k, i, w, state)` written out per scalar.
fn run_scalar(
    steps: usize,
    mut step: impl FnMut(usize, usize, &mut f64, &mut [f64; 2]),
) -> Vec<f64> {
    let mut w = start();
    let mut state = vec![[0.0f64; 2]; w.len()];
    for k in 0..steps {
        for i in 0..w.len() {
            step(k, i, &mut w[i], &mut state[i]);
        }
    }
    w
}

#[test]
fn sgd_is_w_minus_lr_g() {
    let want = run_scalar(5, |k, i, w, _| *w -= 0.05 * grad(k, i));
    assert_eq!(run_array(&mut Sgd::new(0.05), 5), want);
}

#[test]
fn momentum_follows_the_book() {
    let want = run_scalar(6, |k, i, w, s| {
        s[0] = 0.8 * s[0] - 0.02 * grad(k, i);
        *w += s[0];
    });
    assert_eq!(
        run_array(&mut Momentum::new(0.02).with_momentum(0.8), 6),
        want
    );
}

/// Three steps of Nesterov (lr 0.1, α 0.9) on f(w) = w²/2 (g = w) from w = 1, in the book's
/// order (`W += α²v; W -= (1 + α)·lr·g`, then `v = αv − lr·g`), worked by hand:
/// 1. g = 1:      W = 1 + 0.81·0 − 0.19·1 = 0.81;                      v = −0.1
/// 2. g = 0.81:   W = 0.81 − 0.081 − 0.1539 = 0.5751;                   v = −0.09 − 0.081 = −0.171
/// 3. g = 0.5751: W = 0.5751 − 0.13851 − 0.109269 = 0.327321;           v = −0.1539 − 0.05751 = −0.21141
///
/// (Updating v first, the 2016 code's order, gives 0.729 after the first step.)
#[test]
fn nesterov_takes_the_books_steps_worked_by_hand() {
    let mut w = ArrayD::from_elem(IxDyn(&[1]), 1.0_f64);
    let mut nag = Nesterov::new(0.1);
    for want in [0.81_f64, 0.5751, 0.327321] {
        let g = w.clone();
        nag.update(&mut [w.view_mut()], &[g.view()]);
        assert!((w[0] - want).abs() < 1e-15, "{} != {want}", w[0]);
    }
    // and one more: v = −0.21141 now, g = 0.327321
    let want: f64 = 0.327321 + 0.81 * -0.21141 - 0.19 * 0.327321;
    let g = w.clone();
    nag.update(&mut [w.view_mut()], &[g.view()]);
    assert!((w[0] - want).abs() < 1e-15);
}

/// The end points of the book's `optimizer_compare_naive.py` setting (30 steps on
/// x²/20 + y² from (−7, 2)) for all six optimizers, as NumPy computes them with the book's
/// formulas: `fixtures/optimizer_compare_naive.py` wrote `fixtures/optimizer_compare_naive.txt`.
/// The arithmetic is the same operations in the same order, so the bits are equal.
#[test]
fn the_six_optimizers_end_where_numpy_ends_on_the_books_quadratic() {
    let fixture = include_str!("fixtures/optimizer_compare_naive.txt");
    let mut seen = 0;
    for line in fixture.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let (name, want_x, want_y): (&str, f64, f64) =
            (f[0], f[1].parse().unwrap(), f[2].parse().unwrap());
        let mut opt = match name {
            "SGD" => AnyOptimizer::Sgd(Sgd::new(0.95)),
            "Momentum" => AnyOptimizer::Momentum(Momentum::new(0.1)),
            "Nesterov" => AnyOptimizer::Nesterov(Nesterov::new(0.1)),
            "AdaGrad" => AnyOptimizer::AdaGrad(AdaGrad::new(1.5)),
            "RMSprop" => AnyOptimizer::RmsProp(RmsProp::new(0.1)),
            "Adam" => AnyOptimizer::Adam(Adam::new(0.3)),
            other => panic!("unknown optimizer {other} in the fixture"),
        };
        let mut x = ArrayD::from_elem(IxDyn(&[1]), -7.0);
        let mut y = ArrayD::from_elem(IxDyn(&[1]), 2.0);
        for _ in 0..30 {
            let gx = ArrayD::from_elem(IxDyn(&[1]), x[0] / 10.0);
            let gy = ArrayD::from_elem(IxDyn(&[1]), 2.0 * y[0]);
            opt.update(&mut [x.view_mut(), y.view_mut()], &[gx.view(), gy.view()]);
        }
        assert_eq!((x[0], y[0]), (want_x, want_y), "{name}");
        seen += 1;
    }
    assert_eq!(seen, 6);
}

#[test]
fn adagrad_follows_the_book() {
    let want = run_scalar(6, |k, i, w, s| {
        let g = grad(k, i);
        s[0] += g * g;
        *w -= 0.3 * g / (s[0].sqrt() + EPS);
    });
    assert_eq!(run_array(&mut AdaGrad::new(0.3), 6), want);
}

#[test]
fn rmsprop_follows_the_book() {
    let want = run_scalar(6, |k, i, w, s| {
        let g = grad(k, i);
        s[0] *= 0.99;
        s[0] += (1.0 - 0.99) * g * g;
        *w -= 0.01 * g / (s[0].sqrt() + EPS);
    });
    assert_eq!(run_array(&mut RmsProp::default(), 6), want);
}

#[test]
fn adam_follows_the_book() {
    let (lr, b1, b2) = (0.001, 0.9, 0.999);
    let want = run_scalar(7, |k, i, w, s| {
        let g = grad(k, i);
        let t = (k + 1) as f64;
        let lr_t = lr * (1.0 - f64::powf(b2, t)).sqrt() / (1.0 - f64::powf(b1, t));
        s[0] += (1.0 - b1) * (g - s[0]);
        s[1] += (1.0 - b2) * (g * g - s[1]);
        *w -= lr_t * s[0] / (s[1].sqrt() + EPS);
    });
    assert_eq!(run_array(&mut Adam::default(), 7), want);
}

#[test]
fn a_saved_state_resumes_exactly() {
    for name in AnyOptimizer::<f64>::NAMES {
        let mut whole = AnyOptimizer::<f64>::by_name(name).unwrap();
        let mut w_whole = ArrayD::from_elem(IxDyn(&[3]), 1.0);
        let mut w_split = w_whole.clone();
        let mut first = AnyOptimizer::<f64>::by_name(name).unwrap();
        for k in 0..8 {
            let g = ArrayD::from_shape_fn(IxDyn(&[3]), |ix| grad(k, ix[0]));
            whole.update(&mut [w_whole.view_mut()], &[g.view()]);
        }
        for k in 0..4 {
            let g = ArrayD::from_shape_fn(IxDyn(&[3]), |ix| grad(k, ix[0]));
            first.update(&mut [w_split.view_mut()], &[g.view()]);
        }
        // saved and read back through the checkpoint files' format
        let format = Format {
            magic: *b"OPTSTATE",
            version: 1,
            what: "optimizer state",
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("opt.bin");
        let mut w = format.writer();
        w.push(&first);
        w.write(&path).unwrap();
        let mut resumed: AnyOptimizer<f64> =
            format.read(&path, 1 << 20).unwrap().next("state").unwrap();
        assert_eq!(resumed, first, "{name}");
        for k in 4..8 {
            let g = ArrayD::from_shape_fn(IxDyn(&[3]), |ix| grad(k, ix[0]));
            resumed.update(&mut [w_split.view_mut()], &[g.view()]);
        }
        assert_eq!(w_split, w_whole, "{name}: resumed run differs");
        assert_eq!(resumed, whole, "{name}: state differs");
    }
}

#[test]
fn the_book_defaults() {
    let lrs: Vec<f64> = AnyOptimizer::<f64>::NAMES
        .iter()
        .map(|n| Optimizer::<f64>::lr(&AnyOptimizer::<f64>::by_name(n).unwrap()))
        .collect();
    assert_eq!(lrs, [0.01, 0.01, 0.01, 0.01, 0.01, 0.001]);
    let m: Momentum<f64> = Momentum::default();
    let r: RmsProp<f64> = RmsProp::default();
    let a: Adam<f64> = Adam::default();
    assert_eq!(
        (m.momentum, r.decay_rate, a.beta1, a.beta2),
        (0.9, 0.99, 0.9, 0.999)
    );
}

#[test]
fn f32_state_and_steps_stay_f32() {
    let mut w = ArrayD::from_elem(IxDyn(&[2]), 1.0f32);
    let g = ArrayD::from_elem(IxDyn(&[2]), 0.5f32);
    let mut adam = Adam::<f32>::default();
    adam.update(&mut [w.view_mut()], &[g.view()]);
    // first Adam step moves each weight by about lr (m/√v = 1 up to ε)
    assert!((w[0] - (1.0 - 0.001)).abs() < 1e-6, "{}", w[0]);
}

#[test]
#[should_panic(expected = "parameter tensor 0 has shape [2] but its gradient [3]")]
fn mismatched_shapes_panic_clearly() {
    let mut w = ArrayD::<f64>::zeros(IxDyn(&[2]));
    let g = ArrayD::<f64>::zeros(IxDyn(&[3]));
    Sgd::default().update(&mut [w.view_mut()], &[g.view()]);
}

/// The book's call shape, `optimizer.update(network.params, grads)`, moves every parameter of a
/// batch-norm net by its own gradient, matched by name: the same step as one `Sgd` update of
/// each tensor by hand, `W ← W − lr·∂L/∂W`.
#[test]
fn the_books_update_call_matches_each_gradient_by_name() {
    use scratchnet_network::{Activation, MultiLayerNet, WeightInit};
    let mut rng = scratchnet_tensor::rng_from_seed(4);
    let mut net = MultiLayerNet::<f64>::new(4, &[3], 2, Activation::Relu, WeightInit::He, &mut rng)
        .with_batch_norm();
    let x = ndarray::array![[0.0, 1.0, 0.5, 0.0], [0.5, 0.0, 0.0, 0.25]];
    let grads = net.gradient(&x, &[1, 0], &mut rng);
    let before: Vec<(String, ndarray::ArrayD<f64>)> = net
        .named_tensors()
        .into_iter()
        .map(|(n, a)| (n, a.to_owned()))
        .collect();
    let mut optimizer = Sgd::new(0.5);
    optimizer.update(&mut net, &grads);
    let g = grads.named();
    assert_eq!(before.len(), 6, "W1 b1 gamma1 beta1 W2 b2");
    for ((name, w0), (gname, g)) in before.iter().zip(&g) {
        assert_eq!(name, gname);
        let want = w0 - &(g * 0.5);
        let now = net.named_tensors();
        let (_, w1) = now.iter().find(|(n, _)| n == name).unwrap();
        assert_eq!(w1, &want.view(), "{name}");
    }
}
