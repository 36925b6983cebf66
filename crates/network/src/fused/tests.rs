//! [`TwoLayerNet`]'s fast paths (`fused.rs`, `fast_numgrad.rs`), which [`Net`](crate::Net)
//! runs for the chapter 4 spec, against the book's path (the oracle); thread independence; clear
//! messages for bad targets. Moved here from `tests/two_layer_net.rs` when the fast paths became
//! crate-private (issue 17); the tests of the book's methods alone stay there.

use ndarray::{Array2, array};
use proptest::prelude::*;
use scratchnet_tensor::{Rng, SparseRows, one_hot, rng_from_seed};

use super::Workspace;
use crate::fast_numgrad::Param;
use crate::layers::LossGradient;
use crate::{Input, NumGrad, Params, Targets, TwoLayerNet, gradient_check, gradient_check_with};

/// A batch like MNIST's: many exact zeros, repeated pixel values.
fn batch(rng: &mut Rng, n: usize, input: usize, classes: usize) -> (Array2<f64>, Vec<usize>) {
    use rand::RngExt;
    let x = Array2::from_shape_simple_fn((n, input), || {
        if rng.random_range(0..3) == 0 {
            0.0
        } else {
            rng.random_range(0..8) as f64 / 7.0
        }
    });
    let t = (0..n).map(|_| rng.random_range(0..classes)).collect();
    (x, t)
}

fn max_diff(a: &Params<f64>, b: &Params<f64>) -> f64 {
    a.max_abs_diff(b)
}

#[test]
fn predict_uses_the_sigmoid_output_z1() {
    let p = Params {
        w1: array![[1.0, -2.0]],
        b1: array![0.5, 0.0],
        w2: array![[1.0, 0.0], [0.0, 1.0]],
        b2: array![0.0, 0.0],
    };
    let net = TwoLayerNet::from_params(p);
    let x = array![[3.0]];
    let z = [1.0 / (1.0 + (-3.5f64).exp()), 1.0 / (1.0 + 6.0f64.exp())];
    let e = [z[0].exp(), z[1].exp()];
    for y in [net.predict(&x), net.predict_fused(&x)] {
        assert!((y[[0, 0]] - e[0] / (e[0] + e[1])).abs() < 1e-15);
        assert!((y[[0, 1]] - e[1] / (e[0] + e[1])).abs() < 1e-15);
    }
}

#[test]
fn loss_and_accuracy_take_labels_or_one_hot() {
    let mut rng = rng_from_seed(1);
    let net = TwoLayerNet::<f64>::new(6, 5, 4, 0.5, &mut rng);
    let (x, t) = batch(&mut rng, 20, 6, 4);
    let oh: Array2<f64> = one_hot(&t, 4);
    assert_eq!(net.loss(&x, &t), net.loss(&x, &oh));
    assert_eq!(net.loss_fused(&x, &t), net.loss_fused(&x, &oh));
    assert_eq!(net.accuracy(&x, &t), net.accuracy(&x, &oh));
    assert_eq!(net.accuracy_fused(&x, &t), net.accuracy_fused(&x, &oh));
    let pred = scratchnet_tensor::argmax_rows(&net.predict(&x));
    let hits = pred.iter().zip(&t).filter(|(p, t)| p == t).count();
    assert_eq!(net.accuracy(&x, &t), hits as f64 / 20.0);
    assert_eq!(net.accuracy_fused(&x, &t), hits as f64 / 20.0);
}

#[test]
fn fused_forward_equals_the_book_forward() {
    let mut rng = rng_from_seed(11);
    for (n, input, hidden, classes) in [(1, 5, 3, 2), (150, 60, 50, 10), (100, 30, 7, 4)] {
        let net = TwoLayerNet::<f64>::new(input, hidden, classes, 0.5, &mut rng);
        let (x, t) = batch(&mut rng, n, input, classes);
        let book = net.predict(&x);
        let fused = net.predict_fused(&x);
        let sparse = net.predict_fused(SparseRows::from_dense(&x));
        for y in [&fused, &sparse] {
            let d = (y - &book).iter().fold(0.0f64, |m, d| m.max(d.abs()));
            assert!(d <= 1e-12, "n = {n}: {d}");
        }
        assert!((net.loss(&x, &t) - net.loss_fused(&x, &t)).abs() <= 1e-12);
        // argmax ties are impossible here, so the accuracies agree exactly
        assert_eq!(net.accuracy(&x, &t), net.accuracy_fused(&x, &t));
    }
}

#[test]
fn fast_equals_the_book_to_1e_8_of_the_max_norm() {
    for seed in 0..4 {
        let mut rng = rng_from_seed(100 + seed);
        let net = TwoLayerNet::<f64>::new(12, 7, 5, 0.3, &mut rng);
        let (x, t) = batch(&mut rng, 9, 12, 5);
        let fast = net.numerical_gradient_fast(&x, &t);
        let book = net.numerical_gradient(&x, &t);
        let scale = book.max_abs();
        assert!(scale > 1e-3);
        let d = max_diff(&fast, &book);
        assert!(d < 1e-8 * scale, "seed {seed}: {d} vs {scale}");
        // and the book's numerical gradient against the book's backprop, (y − t)/N, which
        // leaves out the loss's δ = 1e-7: the book's agreement, about 1e-7/y_t
        assert!(max_diff(&book, &net.gradient(&x, &t)) < 1e-5 * scale);
    }
}

#[test]
fn fast_equals_generic_to_1e_8_of_the_max_norm() {
    for seed in 0..4 {
        let mut rng = rng_from_seed(seed);
        let net = TwoLayerNet::<f64>::new(12, 7, 5, 0.3, &mut rng);
        let (x, t) = batch(&mut rng, 9, 12, 5);
        let fast = net.numerical_gradient_fast(&x, &t);
        let generic = net.numerical_gradient_with(&x, &t, NumGrad::Generic);
        let scale = generic.max_abs();
        assert!(scale > 1e-3);
        assert!(
            max_diff(&fast, &generic) < 1e-8 * scale,
            "seed {seed}: {} vs {scale}",
            max_diff(&fast, &generic)
        );
        // and with one-hot rows given as a matrix
        let oh: Array2<f64> = one_hot(&t, 5);
        let fast_oh = net.numerical_gradient_with(&x, &oh, NumGrad::Fast);
        assert!(max_diff(&fast_oh, &generic) < 1e-8 * scale);
    }
}

#[test]
fn soft_targets_take_the_dense_path() {
    let mut rng = rng_from_seed(5);
    let net = TwoLayerNet::<f64>::new(5, 4, 3, 0.5, &mut rng);
    let (x, _) = batch(&mut rng, 6, 5, 3);
    let t = Array2::from_shape_fn((6, 3), |(i, k)| ((i + k) % 3) as f64 / 3.0);
    let fast = net.numerical_gradient_with(&x, &t, NumGrad::Fast);
    let generic = net.numerical_gradient_with(&x, &t, NumGrad::Generic);
    let bp = net.gradient(&x, &t);
    let book = net.numerical_gradient(&x, &t);
    assert!(max_diff(&fast, &generic) < 1e-8 * generic.max_abs());
    assert!(max_diff(&fast, &book) < 1e-8 * generic.max_abs());
    assert!(max_diff(&bp, &generic) < 1e-6 * generic.max_abs());
    assert!(max_diff(&net.gradient_fused(&x, &t), &bp) < 1e-12 * bp.max_abs());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn numerical_and_backprop_agree(seed in 0u64..1_000_000, input in 1usize..10, hidden in 1usize..8, classes in 2usize..6, n in 1usize..8, std in 0.05f64..2.0) {
        let mut rng = rng_from_seed(seed);
        let net = TwoLayerNet::<f64>::new(input, hidden, classes, std, &mut rng);
        let (x, t) = batch(&mut rng, n, input, classes);
        let bp = net.gradient(&x, &t);
        let scale = bp.max_abs().max(1e-12);
        prop_assert!(max_diff(&net.gradient_fused(&x, &t), &bp) <= 1e-12 * scale);
        let book = net.numerical_gradient(&x, &t);
        // backprop of the δ-loss itself (the book's (y − t)/N is off by ~1e-7/y_t, unbounded
        // for the confidently wrong samples that some of these nets make)
        let check = gradient_check_with(&net, &x, &t, NumGrad::Generic, LossGradient::ExactDelta);
        for p in &check.params {
            prop_assert!(p.mean_abs_diff < 1e-6 * scale, "{}: {} vs {}", p.name, p.mean_abs_diff, scale);
        }
        for strategy in [NumGrad::Fast, NumGrad::Generic] {
            let num = net.numerical_gradient_with(&x, &t, strategy);
            prop_assert!(max_diff(&num, &book) < 1e-8 * scale.max(book.max_abs()), "{strategy:?}: {} vs {}", max_diff(&num, &book), scale);
        }
    }
}

#[test]
fn gradients_are_identical_for_1_and_4_threads() {
    let mut rng = rng_from_seed(9);
    let net = TwoLayerNet::<f64>::new(30, 8, 4, 0.2, &mut rng);
    let (x, t) = batch(&mut rng, 16, 30, 4);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            (
                net.numerical_gradient_fast(&x, &t),
                net.numerical_gradient_with(&x, &t, NumGrad::Generic),
                net.numerical_gradient(&x, &t),
                net.gradient_fused(&x, &t),
                net.gradient(&x, &t),
                net.accuracy_fused(&x, &t),
            )
        })
    };
    assert_eq!(run(1), run(4));
}

#[test]
fn fused_backprop_equals_the_layers_one_by_one() {
    let mut rng = rng_from_seed(21);
    for (n, input, hidden, classes, zeros) in [
        (1, 5, 3, 2, 0.3),
        (37, 60, 50, 10, 0.8),
        (100, 30, 7, 4, 0.1),
    ] {
        let net = TwoLayerNet::<f64>::new(input, hidden, classes, 0.5, &mut rng);
        let (mut x, t) = batch(&mut rng, n, input, classes);
        let mut k = 0;
        x.mapv_inplace(|v| {
            k += 1;
            if (k * 7919 % 100) as f64 / 100.0 < zeros {
                0.0
            } else {
                v
            }
        });
        let hot = one_hot::<f64>(&t, classes);
        for targets in [Targets::from(&t), Targets::from(&hot)] {
            // the oracle: the book's layers, forward in order and backward in reverse
            let reference = net.gradient(&x, targets);
            let tol = 1e-12 * reference.max_abs();
            let dense = net.gradient_fused(Input::Dense(x.view()), targets);
            let sparse = net.gradient_fused(SparseRows::from_dense(&x), targets);
            assert!(max_diff(&dense, &reference) <= tol, "dense, n = {n}");
            assert!(max_diff(&sparse, &reference) <= tol, "sparse, n = {n}");
        }
    }
}

#[test]
fn a_reused_workspace_gives_what_a_fresh_one_gives() {
    let mut rng = rng_from_seed(22);
    let mut ws = Workspace::new();
    for (n, input, hidden) in [(16, 20, 6), (5, 20, 6), (16, 9, 11), (16, 20, 6)] {
        let net = TwoLayerNet::<f64>::new(input, hidden, 3, 0.5, &mut rng);
        let (x, t) = batch(&mut rng, n, input, 3);
        assert_eq!(
            *net.gradient_in(&x, &t, &mut ws),
            net.gradient_fused(&x, &t)
        );
        assert_eq!(ws.grads().sizes(), (input, hidden, 3));
    }
}

#[test]
fn sparse_gradients_and_accuracy_are_identical_for_1_and_2_threads() {
    let mut rng = rng_from_seed(23);
    let net = TwoLayerNet::<f64>::new(200, 50, 10, 0.1, &mut rng);
    let (mut x, t) = batch(&mut rng, 300, 200, 10);
    x.mapv_inplace(|v| if v > 0.7 { v } else { 0.0 });
    let s = SparseRows::from_dense(&x);
    let run = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| {
                (
                    net.gradient_fused(&s, &t),
                    net.loss_fused(&s, &t),
                    net.predict_fused(&s),
                )
            })
    };
    assert_eq!(run(1), run(2));
}

#[test]
fn gradient_check_reports_small_differences() {
    let mut rng = rng_from_seed(3);
    let net = TwoLayerNet::<f64>::new(10, 6, 3, 0.5, &mut rng);
    let (x, t) = batch(&mut rng, 5, 10, 3);
    let check = gradient_check(&net, &x, &t, NumGrad::Fast);
    let names: Vec<_> = check.params.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["W1", "b1", "W2", "b2"]);
    let exact = gradient_check_with(&net, &x, &t, NumGrad::Fast, LossGradient::ExactDelta);
    for (p, e) in check.params.iter().zip(&exact.params) {
        // the book's (y − t)/N: ~1e-7; the exact gradient of the δ-loss: far closer
        assert!(p.mean_abs_diff < 1e-7, "{check}");
        assert!(
            e.mean_abs_diff < 1e-9 && e.mean_abs_diff < p.mean_abs_diff / 10.0,
            "{exact}"
        );
        assert!(p.max_abs > 0.0);
    }
    // a wrong gradient is caught: perturb the net between the two computations
    let num = net.numerical_gradient_fast(&x, &t);
    let mut other = net.clone();
    other.params.w2[[0, 0]] += 0.5;
    let bp = other.gradient(&x, &t);
    assert!(max_diff(&num, &bp) > 1e-4);
}

#[test]
fn f32_gradients_track_f64() {
    let mut rng = rng_from_seed(8);
    let net = TwoLayerNet::<f64>::new(6, 4, 3, 0.5, &mut rng);
    let (x, t) = batch(&mut rng, 5, 6, 3);
    let p = &net.params;
    let net32 = TwoLayerNet::<f32>::from_params(Params {
        w1: p.w1.mapv(|v| v as f32),
        b1: p.b1.mapv(|v| v as f32),
        w2: p.w2.mapv(|v| v as f32),
        b2: p.b2.mapv(|v| v as f32),
    });
    let x32 = x.mapv(|v| v as f32);
    let g64 = net.gradient(&x, &t);
    let g32 = net32.gradient_fused(&x32, &t);
    assert!(net32.gradient(&x32, &t).max_abs_diff(&g32) < 1e-5 * g32.max_abs());
    let d = g64
        .w1
        .iter()
        .zip(g32.w1.iter())
        .map(|(a, &b)| (a - b as f64).abs())
        .fold(0.0, f64::max);
    assert!(d < 1e-5 * g64.max_abs(), "{d}");
    // f32 numerical gradient is rougher (h = 1e-4 against 7 digits) but in the right direction
    let n32 = net32.numerical_gradient_fast(&x32, &t);
    let d = g64
        .w1
        .iter()
        .zip(n32.w1.iter())
        .map(|(a, &b)| (a - b as f64).abs())
        .fold(0.0, f64::max);
    assert!(d < 0.05 * g64.max_abs(), "{d}");
}

#[test]
fn a_bad_label_has_one_clear_message_everywhere() {
    let net = TwoLayerNet::<f64>::new(3, 2, 10, 0.5, &mut rng_from_seed(0));
    let x = array![[0.0, 1.0, 0.5], [1.0, 0.0, 0.0]];
    let t = [3, 11];
    let message = |f: &dyn Fn()| {
        let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_err();
        err.downcast_ref::<String>().cloned().unwrap_or_default()
    };
    let want = "label 11 (sample 1) out of range for 10 classes";
    let calls: [(&str, &dyn Fn()); 8] = [
        ("loss", &|| {
            let _ = net.loss(&x, &t);
        }),
        ("loss_fused", &|| {
            let _ = net.loss_fused(&x, &t);
        }),
        ("accuracy", &|| {
            let _ = net.accuracy(&x, &t);
        }),
        ("accuracy_fused", &|| {
            let _ = net.accuracy_fused(&x, &t);
        }),
        ("gradient", &|| {
            let _ = net.gradient(&x, &t);
        }),
        ("gradient_fused", &|| {
            let _ = net.gradient_fused(&x, &t);
        }),
        ("numerical_gradient", &|| {
            let _ = net.numerical_gradient(&x, &t);
        }),
        ("numerical_gradient_fast", &|| {
            let _ = net.numerical_gradient_fast(&x, &t);
        }),
    ];
    for (name, call) in calls {
        assert_eq!(message(call), want, "{name}");
    }
    let short = [1];
    let m = message(&|| {
        let _ = net.gradient_fused(&x, &short);
    });
    assert!(m.contains("1 targets for 2 rows"), "{m}");
}

#[test]
fn images_of_any_shape_are_flattened_like_the_books_affine() {
    use ndarray::{ArrayD, IxDyn};
    let mut rng = rng_from_seed(31);
    let net = TwoLayerNet::<f64>::new(12, 4, 3, 0.5, &mut rng);
    let (x, t) = batch(&mut rng, 5, 12, 3);
    let images: ArrayD<f64> = x
        .clone()
        .into_shape_with_order(IxDyn(&[5, 1, 3, 4]))
        .unwrap();
    assert_eq!(net.loss(&images, &t), net.loss(&x, &t));
    assert_eq!(net.loss_fused(&images, &t), net.loss_fused(&x, &t));
    assert_eq!(net.gradient(&images, &t), net.gradient(&x, &t));
    // a strided view is copied, with the same result up to the order of additions
    let mut wide = ArrayD::<f64>::zeros(IxDyn(&[5, 1, 3, 8]));
    wide.slice_each_axis_mut(|a| {
        if a.axis.index() == 3 {
            ndarray::Slice::new(0, None, 2)
        } else {
            ndarray::Slice::from(..)
        }
    })
    .assign(&images);
    let strided = wide.slice_each_axis(|a| {
        if a.axis.index() == 3 {
            ndarray::Slice::new(0, None, 2)
        } else {
            ndarray::Slice::from(..)
        }
    });
    assert!((net.loss_fused(strided, &t) - net.loss_fused(&x, &t)).abs() < 1e-15);
}

// The examples of the fast paths' documentation from when they were public, as tests.

#[test]
fn a_new_workspace_is_empty() {
    let ws = Workspace::<f32>::new();
    assert_eq!(ws.grads().sizes(), (0, 0, 0));
}

#[test]
fn sgd_on_a_reused_workspace_lowers_the_loss() {
    let mut net = TwoLayerNet::<f64>::new(2, 3, 2, 0.5, &mut rng_from_seed(1));
    let (x, t) = (array![[1.0, 0.0], [0.0, 1.0]], vec![0, 1]);
    let mut ws = Workspace::new();
    let before = net.loss_fused(&x, &t);
    for _ in 0..10 {
        let g = net.gradient_in(&x, &t, &mut ws);
        net.params.sgd_step(g, 0.5);
    }
    assert!(net.loss_fused(&x, &t) < before);
}

#[test]
fn a_zero_net_predicts_uniformly_by_the_fused_forward() {
    let net = TwoLayerNet::<f32>::new(2, 2, 3, 0.0, &mut rng_from_seed(0));
    // zero weights: uniform predictions, loss ln 3
    assert!((net.loss_fused(&array![[1.0, 2.0]], &[1]) - 3f32.ln()).abs() < 1e-5);
    let net = TwoLayerNet::<f64>::new(2, 2, 3, 0.0, &mut rng_from_seed(0));
    // uniform predictions: argmax is class 0 for every row
    assert_eq!(
        net.accuracy_fused(&array![[1.0, 0.0], [0.0, 1.0]], &[0, 2]),
        0.5
    );
}

#[test]
fn numerical_gradient_with_runs_the_strategy_it_is_given() {
    let net = TwoLayerNet::<f64>::new(3, 2, 2, 0.5, &mut rng_from_seed(2));
    let x = array![[0.0, 0.5, 1.0]];
    let fast = net.numerical_gradient_with(&x, &[1], NumGrad::Fast);
    assert_eq!(fast, net.numerical_gradient_fast(&x, &[1]));
    let generic = net.numerical_gradient_with(&x, &[1], NumGrad::Generic);
    assert!(fast.max_abs_diff(&generic) < 1e-8 * generic.max_abs());
}

#[test]
fn one_tensor_of_the_generic_gradient_is_that_tensor_of_the_whole() {
    let net = TwoLayerNet::<f64>::new(3, 2, 2, 0.5, &mut rng_from_seed(2));
    let x = array![[0.0, 0.5, 1.0]];
    let all = net.numerical_gradient_with(&x, &vec![1], NumGrad::Generic);
    for (param, want) in [
        (Param::W1, all.w1.clone().into_dyn()),
        (Param::B1, all.b1.clone().into_dyn()),
        (Param::W2, all.w2.clone().into_dyn()),
        (Param::B2, all.b2.clone().into_dyn()),
    ] {
        assert_eq!(net.generic_numerical_gradient_of(&x, &vec![1], param), want);
    }
}
