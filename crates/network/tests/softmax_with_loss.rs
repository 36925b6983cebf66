//! SoftmaxWithLoss's backward pass against NumPy running the book's formulas
//! (`fixtures/softmax_with_loss.py` wrote `fixtures/softmax_with_loss.txt`): the book's
//! `(y − t)/N` by default, in the layer, in the fused kernel and in the training paths of `Net`
//! (the fused chapter 4 net, a layered one); the exact gradient of the δ-loss only when asked for.

use ndarray::{Array1, Array2, array};
use scratchnet_network::layers::{LossGradient, SoftmaxWithLoss};
use scratchnet_network::{
    Activation, MultiLayerNet, Net, NetSpec, Tensors, TwoLayerNet, WeightInit,
};
use scratchnet_tensor::Targets;
use scratchnet_tensor::fused::{PaddedMatrix, softmax_loss_sigmoid_backward_rows};

struct Fixture {
    x: Array2<f64>,
    labels: Vec<usize>,
    book: Array2<f64>,
    exact: Array2<f64>,
}

fn fixture() -> Fixture {
    let text = include_str!("fixtures/softmax_with_loss.txt");
    let field = |name: &str| -> Vec<&str> {
        let line = text.lines().find(|l| l.starts_with(name)).unwrap();
        line.split_whitespace().skip(1).collect()
    };
    let matrix = |name: &str| {
        let v: Vec<f64> = field(name).iter().map(|s| s.parse().unwrap()).collect();
        Array2::from_shape_vec((4, 4), v).unwrap()
    };
    Fixture {
        x: matrix("x "),
        labels: field("labels").iter().map(|s| s.parse().unwrap()).collect(),
        book: matrix("book"),
        exact: matrix("exact"),
    }
}

/// Entry by entry within a few ulps of NumPy (the exponentials may round differently).
fn assert_close(got: &Array2<f64>, want: &Array2<f64>, what: &str) {
    for (g, w) in got.iter().zip(want) {
        assert!(
            (g - w).abs() <= 1e-15 * w.abs() + 1e-18,
            "{what}: {g:e} != {w:e}\n{got}\n{want}"
        );
    }
}

fn one_hot(labels: &[usize], classes: usize) -> Array2<f64> {
    Array2::from_shape_fn((labels.len(), classes), |(i, k)| {
        if labels[i] == k { 1.0 } else { 0.0 }
    })
}

#[test]
fn the_layer_returns_the_books_y_minus_t_over_n_by_default() {
    let f = fixture();
    let mut last = SoftmaxWithLoss::new();
    last.forward(f.x.view(), Targets::Labels(&f.labels));
    assert_close(&last.backward(1.0), &f.book, "labels");
    let t = one_hot(&f.labels, 4);
    let mut last = SoftmaxWithLoss::new();
    last.forward(f.x.view(), (&t).into());
    assert_close(&last.backward(1.0), &f.book, "one-hot");
    // the confidently wrong sample keeps the book's full gradient, −(1 − y_t)/N ≈ −0.25
    assert!(f.book[[3, 1]] < -0.2499);
}

#[test]
fn the_exact_delta_gradient_only_when_asked_for() {
    let f = fixture();
    for t in [Targets::Labels(&f.labels), (&one_hot(&f.labels, 4)).into()] {
        let mut last = SoftmaxWithLoss::with_gradient(LossGradient::ExactDelta);
        last.forward(f.x.view(), t);
        assert_close(&last.backward(1.0), &f.exact, "exact");
    }
    // y_t ≈ 1.25e-9: the exact form gives that sample about 1.2 % of the book's gradient
    assert!(f.exact[[3, 1]] > -0.004);
}

/// The fused kernel with `delta = 0` (what training passes) and with the loss's δ.
#[test]
fn the_fused_kernel_returns_the_books_gradient_for_delta_zero() {
    let f = fixture();
    let z1 = Array2::<f64>::zeros((4, 1));
    let w2t = PaddedMatrix::new(Array2::<f64>::zeros((4, 1)).view());
    for (delta, want) in [(0.0, &f.book), (1e-7, &f.exact)] {
        let t = one_hot(&f.labels, 4);
        for t in [Targets::Labels(&f.labels), (&t).into()] {
            let mut y = f.x.clone();
            let mut da1 = Array2::zeros((4, 1));
            softmax_loss_sigmoid_backward_rows(
                y.view_mut(),
                z1.view(),
                da1.view_mut(),
                &w2t,
                t,
                0,
                4.0,
                delta,
            );
            assert_close(&y, want, &format!("kernel, delta {delta}"));
        }
    }
}

/// softmax of each row, written out: exp(a − max) / Σ exp(a − max).
fn softmax_rows(a: &Array2<f64>) -> Array2<f64> {
    let mut y = a.clone();
    for mut row in y.rows_mut() {
        let max = row.fold(f64::NEG_INFINITY, |m, &v| m.max(v));
        row.mapv_inplace(|v| (v - max).exp());
        let s = row.sum();
        row.mapv_inplace(|v| v / s);
    }
    y
}

/// ∂L/∂b of the last layer is Σ_n dx_n: with the book's dx, Σ_n (y_n − t_n)/N.
fn book_db_last(logits: &Array2<f64>, labels: &[usize]) -> Array1<f64> {
    let n = labels.len() as f64;
    ((softmax_rows(logits) - one_hot(labels, logits.ncols())) / n).sum_axis(ndarray::Axis(0))
}

/// A gradient of a `Net`, one tensor as a vector.
fn tensor(g: &Tensors<f64>, name: &str) -> Array1<f64> {
    g[name].iter().copied().collect()
}

fn assert_near(got: &Array1<f64>, want: &Array1<f64>, what: &str) {
    let scale = want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() <= 1e-12 * scale, "{what}: {got} != {want}");
    }
}

/// A large bias makes some samples confidently wrong (y_t far below 1e-7), where the exact
/// δ-gradient would be a small fraction of the book's: the training paths (`Net::gradient`, the
/// fused kernel for the chapter 4 spec and the layered one for another) and the book's classes
/// must give the book's.
#[test]
fn both_nets_train_with_the_books_gradient() {
    let x = array![
        [1.0, 0.0, 0.5],
        [0.0, 1.0, 0.25],
        [0.3, 0.3, 1.0],
        [1.0, 1.0, 0.0]
    ];
    let labels = [2, 0, 1, 1];
    let mut two = TwoLayerNet::<f64>::new(3, 4, 3, 1.0, &mut scratchnet_tensor::rng_from_seed(5));
    two.params.b2 = array![25.0, 0.0, -5.0]; // class 0 by far, whatever the sample
    // the logits, σ(x·W1 + b1)·W2 + b2, written out (`predict` returns the softmax)
    let p = &two.params;
    let z = (x.dot(&p.w1) + &p.b1).mapv(|a| 1.0 / (1.0 + (-a).exp()));
    let logits = z.dot(&p.w2) + &p.b2;
    let want = book_db_last(&logits, &labels);
    let y = softmax_rows(&logits);
    assert!(
        (0..4).any(|i| y[[i, labels[i]]] < 1e-8),
        "the test needs a confidently wrong sample: {y}"
    );
    let mut fused = Net::from_params(
        NetSpec::two_layer_net(3, 4, 3, 1.0),
        &Tensors::from_views(two.params.named()),
    )
    .unwrap();
    let g = fused.gradient(&x, &labels[..], &mut scratchnet_tensor::rng_from_seed(0));
    assert_near(&tensor(&g, "b2"), &want, "fused");
    assert_near(&two.gradient(&x, &labels[..]).b2, &want, "book layers");

    let mut deep = MultiLayerNet::<f64>::new(
        3,
        &[4, 4],
        3,
        Activation::Relu,
        WeightInit::He,
        &mut scratchnet_tensor::rng_from_seed(6),
    );
    deep.params[2].b = array![25.0, 0.0, -5.0];
    let logits = deep.predict(&x);
    let y = softmax_rows(&logits);
    assert!(
        (0..4).any(|i| y[[i, labels[i]]] < 1e-8),
        "the test needs a confidently wrong sample: {y}"
    );
    let want = book_db_last(&logits, &labels);
    let mut rng = scratchnet_tensor::rng_from_seed(7);
    let mut layered = Net::from_params(
        NetSpec::multi_layer_net(3, &[4, 4], 3, Activation::Relu, WeightInit::He, 0.0),
        &Tensors::from_views(deep.named_tensors()),
    )
    .unwrap();
    let fast = layered.gradient(&x, &labels[..], &mut rng);
    assert_near(&tensor(&fast, "b3"), &want, "multi-layer fast path");
    let book = deep.gradient(&x, &labels[..], &mut rng);
    assert_near(&book.affine[2].b, &want, "multi-layer book path");
}
