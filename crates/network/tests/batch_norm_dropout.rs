//! Chapter 6.3–6.4: batch normalisation and dropout, as layers and inside `MultiLayerNet`.
//! Golden values come from the formulas, computed here element by element; gradients are
//! checked against the numerical gradient.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, array};
use scratchnet_network::layers::{
    BATCH_NORM_EPS, BatchNormalization, Dropout, Layer, LossGradient, Mode,
};
use scratchnet_network::{Activation, GradCheck, MultiLayerGrads, MultiLayerNet, WeightInit};
use scratchnet_numgrad::numerical_gradient;
use scratchnet_tensor::{randn, rng_from_seed};

fn batch(n: usize, d: usize, seed: u64) -> Array2<f64> {
    // MNIST-like, most entries 0, the first column never 0 (see tests/multi_layer_net.rs)
    let r = randn::<f64, _>((n, d), 1.0, &mut rng_from_seed(seed));
    let mut x = r.mapv(|v| if v > 0.8 { (v - 0.8).min(1.0) } else { 0.0 });
    x.column_mut(0).mapv_inplace(|v| 0.3 + v);
    x
}

fn labels(n: usize, classes: usize) -> Vec<usize> {
    (0..n).map(|i| (i * 7 + 3) % classes).collect()
}

fn max_abs(a: ndarray::ArrayViewD<'_, f64>) -> f64 {
    a.iter().fold(0.0f64, |m, v| m.max(v.abs()))
}

/// Per tensor: max |num − bp| relative to the tensor's max-norm. Tensors whose gradient is 0
/// by the mathematics (the bias before a batch norm) are returned separately with their
/// largest absolute entries, for an absolute test.
fn compare(bp: &MultiLayerGrads<f64>, num: &MultiLayerGrads<f64>, zero: &[&str]) -> (f64, f64) {
    let (mut rel, mut zeros) = (0.0f64, 0.0f64);
    let scale = bp
        .named()
        .iter()
        .map(|(_, g)| max_abs(g.view()))
        .fold(0.0, f64::max);
    for ((name, b), (_, n)) in bp.named().iter().zip(num.named()) {
        let d = max_abs((b - &n).view());
        if zero.contains(&name.as_str()) {
            zeros = zeros.max(max_abs(b.view()).max(max_abs(n.view())) / scale);
        } else {
            let s = max_abs(b.view()).max(max_abs(n.view()));
            rel = rel.max(if s == 0.0 { d } else { d / s });
        }
    }
    (rel, zeros)
}

/// Every tensor but those in `zero` (0 by the mathematics) agrees with the numerical gradient to
/// 1e-7 of its largest entry, on average: the central differences' own error (h = 1e-4) through
/// batch norm and weight decay, not the δ of the loss, which the exact gradient includes.
fn assert_exact_agreement(check: &GradCheck, zero: &[&str]) {
    for p in &check.params {
        if !zero.contains(&p.name.as_str()) {
            assert!(
                p.mean_abs_diff < 1e-7 * p.max_abs,
                "{}: {}",
                p.name,
                p.mean_abs_diff
            );
        }
    }
}

/// y, x̂ and the column stds of batch normalisation in train mode, from the definition.
struct ByHand {
    y: Array2<f64>,
    xn: Array2<f64>,
    std: Vec<f64>,
}

/// Batch normalisation in train mode, column by column, from the definition.
fn bn_by_hand(x: &Array2<f64>, gamma: &[f64], beta: &[f64]) -> ByHand {
    let (n, d) = x.dim();
    let (mut y, mut xn) = (Array2::zeros((n, d)), Array2::zeros((n, d)));
    let mut stds = vec![];
    for j in 0..d {
        let mean = (0..n).map(|i| x[[i, j]]).sum::<f64>() / n as f64;
        let var = (0..n).map(|i| (x[[i, j]] - mean).powi(2)).sum::<f64>() / n as f64;
        let std = (var + 1e-6).sqrt();
        for i in 0..n {
            xn[[i, j]] = (x[[i, j]] - mean) / std;
            y[[i, j]] = gamma[j] * xn[[i, j]] + beta[j];
        }
        stds.push(std);
    }
    ByHand { y, xn, std: stds }
}

#[test]
fn the_epsilon_is_the_books_10e_minus_7() {
    assert_eq!(BATCH_NORM_EPS, 1e-6);
}

#[test]
fn batch_norm_forward_and_backward_equal_the_formulas_by_hand() {
    let x = array![
        [1.0, -2.0, 0.5],
        [3.0, 0.0, 0.25],
        [-1.0, 4.0, 0.75],
        [2.0, 1.0, 0.5]
    ];
    let (gamma, beta) = (array![1.5, 0.5, -2.0], array![0.1, -0.2, 0.3]);
    let dout = array![
        [0.3, -1.0, 2.0],
        [1.0, 0.5, -0.5],
        [-0.7, 0.2, 0.1],
        [0.4, 0.0, 1.5]
    ];
    let mut bn = BatchNormalization::new(gamma.view(), beta.view());
    let y = bn.forward(x.view(), Mode::Train);
    let ByHand { y: want, xn, std } =
        bn_by_hand(&x, gamma.as_slice().unwrap(), beta.as_slice().unwrap());
    assert!(
        (&y - &want).iter().all(|d| d.abs() < 1e-14),
        "{y} vs {want}"
    );
    let dx = bn.backward(dout.view());
    // the closed form of the gradient (not the book's graph):
    // dx_ij = γ_j/(N·std_j) · (N·dout_ij − Σ_k dout_kj − x̂_ij · Σ_k dout_kj·x̂_kj)
    let n = 4.0;
    for j in 0..3 {
        let sd: f64 = (0..4).map(|k| dout[[k, j]]).sum();
        let sdx: f64 = (0..4).map(|k| dout[[k, j]] * xn[[k, j]]).sum();
        assert!((bn.dbeta[j] - sd).abs() < 1e-14);
        assert!((bn.dgamma[j] - sdx).abs() < 1e-14);
        for i in 0..4 {
            let want = gamma[j] / (n * std[j]) * (n * dout[[i, j]] - sd - xn[[i, j]] * sdx);
            assert!(
                (dx[[i, j]] - want).abs() < 1e-12,
                "dx[{i},{j}] {} vs {want}",
                dx[[i, j]]
            );
        }
    }
}

#[test]
fn batch_norm_backward_equals_the_numerical_gradient_in_both_modes() {
    let x = randn::<f64, _>((6, 4), 1.5, &mut rng_from_seed(1));
    let gamma = randn::<f64, _>(4, 1.0, &mut rng_from_seed(2));
    let beta = randn::<f64, _>(4, 1.0, &mut rng_from_seed(3));
    let r = randn::<f64, _>((6, 4), 1.0, &mut rng_from_seed(4));
    let (rm, rv) = (array![0.5, -0.5, 0.0, 1.0], array![1.0, 2.0, 0.5, 3.0]);
    for mode in [Mode::Train, Mode::Test] {
        // L = Σ r ⊙ BN(x), so ∂L/∂y = r
        let loss = |x: ArrayView2<'_, f64>, g: ArrayView1<'_, f64>, b: ArrayView1<'_, f64>| {
            let mut bn = BatchNormalization::new(g, b).with_running(rm.clone(), rv.clone());
            (bn.forward(x, mode) * &r).sum()
        };
        let mut bn =
            BatchNormalization::new(gamma.view(), beta.view()).with_running(rm.clone(), rv.clone());
        bn.forward(x.view(), mode);
        let dx = bn.backward(r.view());
        let ndx = numerical_gradient(
            |x: ArrayView2<'_, f64>| loss(x, gamma.view(), beta.view()),
            &x,
        );
        let ndg = numerical_gradient(
            |g: ArrayView1<'_, f64>| loss(x.view(), g, beta.view()),
            &gamma,
        );
        let ndb = numerical_gradient(
            |b: ArrayView1<'_, f64>| loss(x.view(), gamma.view(), b),
            &beta,
        );
        for (what, a, n) in [
            ("dx", dx.view().into_dyn(), ndx.view().into_dyn()),
            ("dgamma", bn.dgamma.view().into_dyn(), ndg.view().into_dyn()),
            ("dbeta", bn.dbeta.view().into_dyn(), ndb.view().into_dyn()),
        ] {
            let d = max_abs((&a - &n).view());
            assert!(d < 1e-8 * max_abs(a.view()), "{mode:?} {what}: {d:e}");
        }
    }
}

#[test]
fn running_statistics_after_k_steps_are_the_momentum_average_of_the_batches() {
    let (gamma, beta) = (Array1::ones(3), Array1::zeros(3));
    let mut bn = BatchNormalization::new(gamma.view(), beta.view());
    let k = 5;
    let batches: Vec<Array2<f64>> = (0..k)
        .map(|j| randn::<f64, _>((7, 3), 1.0 + j as f64, &mut rng_from_seed(10 + j as u64)) + 0.5)
        .collect();
    for b in &batches {
        bn.forward(b.view(), Mode::Train);
    }
    // from zeros: running_k = Σ_j (1 − m)·m^(k−j)·stat_j, m = 0.9
    for c in 0..3 {
        let (mut mean, mut var) = (0.0, 0.0);
        for (j, b) in batches.iter().enumerate() {
            let col: Vec<f64> = b.column(c).to_vec();
            let mu = col.iter().sum::<f64>() / 7.0;
            let v = col.iter().map(|x| (x - mu).powi(2)).sum::<f64>() / 7.0;
            let w = 0.1 * 0.9f64.powi((k - 1 - j) as i32);
            mean += w * mu;
            var += w * v;
        }
        assert!((bn.running_mean[c] - mean).abs() < 1e-14);
        assert!((bn.running_var[c] - var).abs() < 1e-14);
    }
    // a test-mode pass normalises with them and changes nothing
    let before = (bn.running_mean.clone(), bn.running_var.clone());
    let x = array![[1.0, 2.0, 3.0]];
    let y = bn.forward(x.view(), Mode::Test);
    for c in 0..3 {
        let want = (x[[0, c]] - before.0[c]) / (before.1[c] + 1e-6).sqrt();
        assert!((y[[0, c]] - want).abs() < 1e-14);
    }
    assert_eq!((bn.running_mean, bn.running_var), before);
}

#[test]
fn a_net_keeps_the_running_statistics_of_its_training_passes_and_predicts_with_them() {
    let mut net = MultiLayerNet::<f64>::new(
        5,
        &[4],
        3,
        Activation::Relu,
        WeightInit::He,
        &mut rng_from_seed(1),
    )
    .with_batch_norm();
    let batches: Vec<Array2<f64>> = (0..3).map(|j| batch(6, 5, 20 + j)).collect();
    let t = labels(6, 3);
    for x in &batches {
        net.gradient(x, &t, &mut rng_from_seed(0)); // no update: W1 and b1 stay as they are
    }
    let (w1, b1) = (&net.params[0].w, &net.params[0].b);
    for c in 0..4 {
        let (mut mean, mut var) = (0.0, 0.0);
        for (j, x) in batches.iter().enumerate() {
            let a: Vec<f64> = (0..6)
                .map(|i| (0..5).map(|p| x[[i, p]] * w1[[p, c]]).sum::<f64>() + b1[c])
                .collect();
            let mu = a.iter().sum::<f64>() / 6.0;
            let v = a.iter().map(|a| (a - mu).powi(2)).sum::<f64>() / 6.0;
            let w = 0.1 * 0.9f64.powi(2 - j as i32);
            mean += w * mu;
            var += w * v;
        }
        let bn = &net.batch_norm[0];
        assert!((bn.running_mean[c] - mean).abs() < 1e-13, "{c}");
        assert!((bn.running_var[c] - var).abs() < 1e-13, "{c}");
    }
    // test mode, by hand: relu(γ(xW1 + b1 − μ)/√(σ² + ε) + β)·W2 + b2
    net.batch_norm[0].gamma = array![1.5, 0.5, 2.0, -1.0];
    net.batch_norm[0].beta = array![0.1, 0.2, -0.3, 0.0];
    let x = batch(4, 5, 99);
    let p = net.batch_norm[0].clone();
    let (w2, b2) = (&net.params[1].w, &net.params[1].b);
    let scores = net.predict(&x);
    for i in 0..4 {
        let z: Vec<f64> = (0..4)
            .map(|c| {
                let a = (0..5).map(|q| x[[i, q]] * w1[[q, c]]).sum::<f64>() + b1[c];
                let y = p.gamma[c] * (a - p.running_mean[c]) / (p.running_var[c] + 1e-6).sqrt()
                    + p.beta[c];
                y.max(0.0)
            })
            .collect();
        for k in 0..3 {
            let want = (0..4).map(|c| z[c] * w2[[c, k]]).sum::<f64>() + b2[k];
            assert!((scores[[i, k]] - want).abs() < 1e-12);
        }
        // test mode is per sample: a row alone scores as in the batch
        let alone = net.predict(x.row(i).insert_axis(ndarray::Axis(0)));
        assert!(
            (&alone.row(0) - &scores.row(i))
                .iter()
                .all(|d| d.abs() < 1e-12)
        );
    }
    assert_eq!(net.batch_norm[0].running_mean, p.running_mean); // predict changes nothing
}

#[test]
fn nets_with_batch_norm_pass_the_books_gradient_check() {
    for activation in [Activation::Sigmoid, Activation::Relu] {
        for hidden in [&[10, 8][..], &[9, 8, 7, 6, 5][..]] {
            let net = MultiLayerNet::<f64>::new(
                16,
                hidden,
                4,
                activation,
                WeightInit::Std(0.5),
                &mut rng_from_seed(11),
            )
            .with_batch_norm();
            let (x, t) = (batch(8, 16, 5), labels(8, 4));
            let num = net.numerical_gradient(&x, &t, &mut rng_from_seed(0));
            let bp = net.clone().gradient(&x, &t, &mut rng_from_seed(0));
            // the biases before each batch norm: 0 by the mathematics (a shift is normalised away)
            let before_bn: Vec<String> = (1..=hidden.len()).map(|i| format!("b{i}")).collect();
            let zero: Vec<&str> = before_bn.iter().map(String::as_str).collect();
            let (rel, zeros) = compare(&bp, &num, &zero);
            // backprop is the book's (y − t)/N, the numerical gradient that of the loss with δ = 1e-7
            // inside the log: they differ by about δ/y_t (~1e-6 here), so the bound is the book's
            // agreement; the exact-δ check below holds the layers to 1e-8
            assert!(
                rel < 1e-4,
                "{activation} {hidden:?}: max relative difference {rel:e}"
            );
            assert!(
                zeros < 1e-9,
                "{activation} {hidden:?}: biases before BN {zeros:e}"
            );
            // gamma and beta of every layer take part, and the check itself agrees
            assert!(
                bp.batch_norm
                    .iter()
                    .all(|g| max_abs(g.gamma.view().into_dyn()) > 0.0)
            );
            let check =
                net.gradient_check_with(&x, &t, &mut rng_from_seed(0), LossGradient::ExactDelta);
            for p in &check.params {
                if !zero.contains(&p.name.as_str()) {
                    assert!(
                        p.mean_abs_diff < 1e-8 * p.max_abs,
                        "{activation} {hidden:?} {}: {}",
                        p.name,
                        p.mean_abs_diff
                    );
                }
            }
        }
    }
}

#[test]
fn nets_with_dropout_pass_the_gradient_check_with_the_masks_held_fixed() {
    for (bn, lambda) in [(false, 0.0), (true, 0.0), (true, 0.1)] {
        let mut net = MultiLayerNet::<f64>::new(
            16,
            &[10, 8, 6],
            4,
            Activation::Relu,
            WeightInit::He,
            &mut rng_from_seed(12),
        )
        .with_dropout(0.3)
        .with_weight_decay(lambda);
        if bn {
            net = net.with_batch_norm();
        }
        // non-zero biases: with zero ones, a sample whose kept inputs are all 0 puts a ReLU
        // exactly on its kink, where the numerical gradient rightly differs from backprop
        for (k, p) in net.params.iter_mut().enumerate() {
            p.b = randn(p.b.len(), 0.1, &mut rng_from_seed(40 + k as u64));
        }
        let (x, t) = (batch(8, 16, 6), labels(8, 4));
        // one seed, one set of masks for both
        let num = net.numerical_gradient(&x, &t, &mut rng_from_seed(4));
        let bp = net.clone().gradient(&x, &t, &mut rng_from_seed(4));
        let zero = if bn { vec!["b1", "b2", "b3"] } else { vec![] };
        let (rel, zeros) = compare(&bp, &num, &zero);
        // the book's (y − t)/N against the δ-loss's numerical gradient: the book's agreement
        assert!(rel < 1e-4, "bn {bn} λ {lambda}: {rel:e}");
        assert!(zeros < 1e-9, "bn {bn} λ {lambda}: {zeros:e}");
        // the exact δ-gradient, with the same masks, agrees to the numerical gradient's precision
        let check =
            net.gradient_check_with(&x, &t, &mut rng_from_seed(4), LossGradient::ExactDelta);
        assert_exact_agreement(&check, &zero);
        // another seed drops other units: another gradient
        let other = net.clone().gradient(&x, &t, &mut rng_from_seed(5));
        assert_ne!(other, bp);
    }
}

#[test]
fn weight_decay_adds_its_terms_with_batch_norm_present() {
    let net = MultiLayerNet::<f64>::new(
        6,
        &[5, 4],
        3,
        Activation::Relu,
        WeightInit::He,
        &mut rng_from_seed(2),
    )
    .with_batch_norm();
    let (x, t) = (batch(4, 6, 8), labels(4, 3));
    let lambda = 0.1;
    let decayed = net.clone().with_weight_decay(lambda);
    // ½λΣ‖W‖² over the weights only, not γ or β
    let sum_w2: f64 = net
        .params
        .iter()
        .map(|p| p.w.iter().map(|w| w * w).sum::<f64>())
        .sum();
    assert!((decayed.loss(&x, &t) - (net.loss(&x, &t) + 0.5 * lambda * sum_w2)).abs() < 1e-12);
    let g = net.clone().gradient(&x, &t, &mut rng_from_seed(0));
    let gd = decayed.clone().gradient(&x, &t, &mut rng_from_seed(0));
    for ((g, gd), p) in g.affine.iter().zip(&gd.affine).zip(&net.params) {
        assert_eq!(gd.w, &g.w + &(&p.w * lambda));
        assert_eq!(gd.b, g.b);
    }
    assert_eq!(gd.batch_norm, g.batch_norm);
    let num = decayed.numerical_gradient(&x, &t, &mut rng_from_seed(0));
    let (rel, zeros) = compare(&gd, &num, &["b1", "b2"]);
    // the book's (y − t)/N against the δ-loss's numerical gradient: the book's agreement
    assert!(rel < 1e-4 && zeros < 1e-9, "{rel:e} {zeros:e}");
    let check =
        decayed.gradient_check_with(&x, &t, &mut rng_from_seed(0), LossGradient::ExactDelta);
    assert_exact_agreement(&check, &["b1", "b2"]);
}

#[test]
fn dropout_drops_in_training_and_scales_at_test_time() {
    let x = randn::<f64, _>((200, 500), 1.0, &mut rng_from_seed(1));
    let mut rng = rng_from_seed(2);
    let mut drop = Dropout::new(0.2, &mut rng);
    let y = drop.forward(x.view(), Mode::Train);
    let mask = drop.mask().unwrap().to_owned();
    let kept = mask.iter().filter(|&&k| k).count() as f64 / mask.len() as f64;
    assert!((kept - 0.8).abs() < 0.005, "kept {kept}"); // 4.4 standard deviations
    for ((y, x), k) in y.iter().zip(&x).zip(&mask) {
        assert_eq!(*y, if *k { *x } else { 0.0 });
    }
    let dout = Array2::from_elem((200, 500), 3.0);
    let dx = Layer::<f64>::backward(&mut drop, dout.view());
    assert!(
        dx.iter()
            .zip(&mask)
            .all(|(d, k)| *d == if *k { 3.0 } else { 0.0 })
    );
    // the next training pass draws another mask
    drop.forward(x.view(), Mode::Train);
    assert_ne!(drop.mask().unwrap(), mask);
    let test = drop.forward(x.view(), Mode::Test);
    assert!(test.iter().zip(&x).all(|(t, x)| *t == x * 0.8));
    // a net's test mode scales every hidden activation by 1 − ratio, so its scores are those of
    // the net without dropout with W2 scaled by 0.8 (ReLU is positively homogeneous)
    let plain = MultiLayerNet::<f64>::new(
        5,
        &[4],
        3,
        Activation::Relu,
        WeightInit::He,
        &mut rng_from_seed(3),
    );
    let mut scaled = plain.clone();
    scaled.params[1].w.mapv_inplace(|w| w * 0.8);
    let xs = batch(3, 5, 4);
    let d = &plain.clone().with_dropout(0.2).predict(&xs) - &scaled.predict(&xs);
    assert!(d.iter().all(|d| d.abs() < 1e-12));
}

#[test]
fn batch_norm_and_dropout_state_round_trips_and_old_nets_still_load() {
    let mut net = MultiLayerNet::<f64>::new(
        4,
        &[3],
        2,
        Activation::Relu,
        WeightInit::He,
        &mut rng_from_seed(1),
    )
    .with_batch_norm()
    .with_dropout(0.25);
    net.gradient(&batch(5, 4, 1), &labels(5, 2), &mut rng_from_seed(2));
    assert!(net.batch_norm[0].running_var.iter().all(|&v| v > 0.0));
    // in the checked binary frame of the model files, too
    const F: scratchnet_fileio::frame::Format = scratchnet_fileio::frame::Format {
        magic: *b"BNTEST01",
        version: 1,
        what: "test file",
    };
    let mut w = F.writer();
    w.push(&net);
    let mut r = F.check("net.bin", w.into_bytes()).unwrap();
    assert_eq!(r.next::<MultiLayerNet<f64>>("net").unwrap(), net);
    // a net serialised before batch norm and dropout existed (self-describing formats)
    let mut old: serde_json::Value = serde_json::to_value(net.clone()).unwrap();
    let obj = old.as_object_mut().unwrap();
    obj.remove("batch_norm");
    obj.remove("dropout");
    let loaded: MultiLayerNet<f64> = serde_json::from_value(old).unwrap();
    assert!(loaded.batch_norm.is_empty() && loaded.dropout.is_none());
    assert_eq!(loaded.sizes(), net.sizes());
    // (JSON's decimal floats come back within an ulp; the binary frame above is exact)
    let d = &loaded.params[0].w - &net.params[0].w;
    assert!(d.iter().all(|d| d.abs() < 1e-15));
}
