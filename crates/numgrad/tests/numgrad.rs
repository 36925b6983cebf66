//! Values printed by the notebook (§4.3–§4.4), numerical vs analytic gradients on several
//! functions and shapes, thread-count independence and gradient descent.

use approx::assert_abs_diff_eq;
use ndarray::{
    Array, Array1, Array2, Array3, ArrayView, ArrayView1, ArrayView2, ArrayView3, Axis, Dimension,
    Ix1, array,
};
use proptest::prelude::*;
use scratchnet_functions::{cross_entropy_error, softmax};
use scratchnet_numgrad::*;
use scratchnet_tensor::{one_hot, randn, rng_from_seed};

/// Asserts equal shapes and element-wise `|a − b| <= eps`, naming the first offending element.
#[track_caller]
fn assert_close<S1, S2, D>(a: &ndarray::ArrayBase<S1, D>, b: &ndarray::ArrayBase<S2, D>, eps: f64)
where
    S1: ndarray::Data<Elem = f64>,
    S2: ndarray::Data<Elem = f64>,
    D: ndarray::Dimension,
{
    assert_eq!(a.shape(), b.shape(), "shapes differ");
    for ((i, x), y) in a.indexed_iter().zip(b.iter()) {
        assert!(
            (x - y).abs() <= eps,
            "at {i:?}: {x} vs {y} (eps {eps})\n{a}\nvs\n{b}"
        );
    }
}

fn function_1<A: scratchnet_tensor::Scalar>(x: A) -> A {
    A::of_f64(0.01) * (x * x) + A::of_f64(0.1) * x
}

fn function_2(x: ArrayView1<'_, f64>) -> f64 {
    x[0] * x[0] + x[1] * x[1]
}

fn sum_squares<D: Dimension>(x: ArrayView<'_, f64, D>) -> f64 {
    x.iter().map(|v| v * v).sum()
}

#[test]
fn central_and_forward_difference_of_function_1() {
    // f'(x) = 0.02x + 0.1: 0.2 at 5, 0.3 at 10. The forward difference adds 0.01·h = 1e-6.
    let c5: f64 = numerical_diff(function_1, 5.0);
    let c10: f64 = numerical_diff(function_1, 10.0);
    let f5: f64 = numerical_diff_forward(function_1, 5.0);
    let f10: f64 = numerical_diff_forward(function_1, 10.0);
    assert_abs_diff_eq!(c5, 0.2, epsilon = 1e-10);
    assert_abs_diff_eq!(c10, 0.3, epsilon = 1e-10);
    assert_abs_diff_eq!(f5, 0.200001, epsilon = 1e-10);
    assert_abs_diff_eq!(f10, 0.300001, epsilon = 1e-10);
    // The book prints these central differences (numpy float64, same formula, same rounding).
    assert_eq!(c5, 0.1999999999990898);
    assert_eq!(c10, 0.2999999999986347);
    assert!((c5 - 0.2).abs() < (f5 - 0.2).abs() / 100.0);
    assert!((c10 - 0.3).abs() < (f10 - 0.3).abs() / 100.0);
}

#[test]
fn difference_quotients_in_f32_are_only_roughly_right() {
    // In f32 the rounding error of f divided by h dominates; still within a few per mille.
    let c = numerical_diff(function_1::<f32>, 5.0);
    let f = numerical_diff_forward(function_1::<f32>, 5.0);
    assert!((c - 0.2).abs() < 2e-3, "{c}");
    assert!((f - 0.2).abs() < 2e-3, "{f}");
    // ... and clearly worse than f64.
    let c64 = numerical_diff(function_1::<f64>, 5.0);
    assert!((c64 - 0.2).abs() < ((c as f64) - 0.2).abs());
}

#[test]
fn partial_derivatives_of_function_2() {
    // §4.3.3: ∂f/∂x0 at (3, 4) = 6, ∂f/∂x1 = 8.
    let tmp1 = |x0: f64| x0 * x0 + 4.0f64.powf(2.0);
    let tmp2 = |x1: f64| 3.0f64.powf(2.0) + x1 * x1;
    assert_abs_diff_eq!(numerical_diff(tmp1, 3.0), 6.0, epsilon = 1e-9);
    assert_abs_diff_eq!(numerical_diff(tmp2, 4.0), 8.0, epsilon = 1e-9);
    // The notebook's forward difference gives 6.0001 and 8.0001 (error h).
    assert_abs_diff_eq!(numerical_diff_forward(tmp1, 3.0), 6.0001, epsilon = 1e-9);
    assert_abs_diff_eq!(numerical_diff_forward(tmp2, 4.0), 8.0001, epsilon = 1e-9);
}

#[test]
fn gradient_of_function_2_at_book_points() {
    for (p, want) in [
        ([3.0, 4.0], [6.0, 8.0]),
        ([0.0, 2.0], [0.0, 4.0]),
        ([3.0, 0.0], [6.0, 0.0]),
    ] {
        let g = numerical_gradient(function_2, &Array1::from(p.to_vec()));
        assert_close(&g, &Array1::from(want.to_vec()), 1e-9);
    }
}

#[test]
fn tangent_lines_of_function_1() {
    // At 5: slope 0.2 through (5, 0.75) -> intercept -0.25. At 10: slope 0.3 through (10, 2) -> -1.
    let l5 = tangent_line(function_1, 5.0);
    let l10 = tangent_line(function_1, 10.0);
    assert_abs_diff_eq!(l5.slope, 0.2, epsilon = 1e-10);
    assert_abs_diff_eq!(l5.intercept, -0.25, epsilon = 1e-9);
    assert_abs_diff_eq!(l10.slope, 0.3, epsilon = 1e-10);
    assert_abs_diff_eq!(l10.intercept, -1.0, epsilon = 1e-9);
    assert_abs_diff_eq!(l5.at(5.0), function_1(5.0), epsilon = 1e-12);
    assert_abs_diff_eq!(l10.at(20.0), 5.0, epsilon = 1e-8);
}

#[test]
fn f_sees_exactly_one_element_moved_by_h() {
    let x = array![[0.5, -1.0, 2.0], [3.0, 0.0, -4.5]];
    let check = |v: ArrayView2<'_, f64>| {
        let moved: Vec<f64> = v
            .iter()
            .zip(&x)
            .filter(|(a, b)| a != b)
            .map(|(a, b)| a - b)
            .collect();
        assert_eq!(moved.len(), 1, "{v}");
        assert!((moved[0].abs() - H).abs() < 1e-12, "{moved:?}");
        v.sum()
    };
    let g = numerical_gradient(check, &x);
    assert_close(&g, &Array2::ones((2, 3)), 1e-9);
    let g = numerical_gradient_serial(check, &x);
    assert_close(&g, &Array2::ones((2, 3)), 1e-9);
}

#[test]
fn input_is_untouched_and_layout_does_not_matter() {
    let x = Array::from_shape_fn((3, 4), |(i, j)| (i as f64) - 0.7 * j as f64);
    let before = x.clone();
    let f = |v: ArrayView2<'_, f64>| {
        v.iter()
            .enumerate()
            .map(|(k, a)| (k as f64 + 1.0) * a * a)
            .sum::<f64>()
    };
    let g_t = numerical_gradient(f, &x.t());
    assert_eq!(x, before);
    // Gradient of a transposed view: element (j, i) of x.t() is x[i, j], flattened in x.t()'s
    // logical order with weight k + 1.
    let xt = x.t();
    for ((j, i), &gv) in g_t.indexed_iter() {
        let k = j * xt.ncols() + i;
        assert_abs_diff_eq!(gv, 2.0 * (k as f64 + 1.0) * xt[[j, i]], epsilon = 1e-6);
    }
    // A strided slice works too.
    let col = x.column(1);
    let g = numerical_gradient(sum_squares, &col);
    assert_close(&g, &col.mapv(|v| 2.0 * v), 1e-9);
}

#[test]
fn empty_array_has_empty_gradient() {
    let g = numerical_gradient(
        |_: ArrayView1<'_, f64>| panic!("f must not be called"),
        &Array1::<f64>::zeros(0),
    );
    assert_eq!(g.len(), 0);
}

/// Logits -> softmax -> cross-entropy: the loss of §4.4.2's simpleNet, whose gradient with
/// respect to the logits is (softmax(z) − t) / N.
#[test]
fn softmax_cross_entropy_gradient_matches_analytic() {
    let mut rng = rng_from_seed(42);
    let z = randn::<f64, _>((4, 3), 1.5, &mut rng);
    let t = one_hot::<f64>(&[2, 0, 1, 2], 3);
    let loss = |z: ArrayView2<'_, f64>| cross_entropy_error(&softmax(&z), &t);
    let g = numerical_gradient(loss, &z);
    // The 1e-7 delta shifts the analytic gradient by O(1e-7) relative; well under 1e-6 here.
    let analytic = (softmax(&z) - &t) / 4.0;
    assert_close(&g, &analytic, 1e-6);
}

#[test]
fn simple_net_weight_gradient_matches_analytic() {
    // §4.4.2: L(W) = CE(softmax(x·W), t), x = [0.6, 0.9], t = [0, 0, 1]; ∂L/∂W = xᵀ(softmax(xW) − t).
    let mut rng = rng_from_seed(7);
    let w = randn::<f64, _>((2, 3), 1.0, &mut rng);
    let x = array![0.6, 0.9];
    let t = array![0.0, 0.0, 1.0];
    let loss = |w: ArrayView2<'_, f64>| cross_entropy_error(&softmax(&x.dot(&w)), &t);
    let dw = numerical_gradient(loss, &w);
    let dy = softmax(&x.dot(&w)) - &t;
    let analytic = Array2::from_shape_fn((2, 3), |(i, j)| x[i] * dy[j]);
    assert_close(&dw, &analytic, 1e-6);
}

#[test]
fn three_d_gradient_matches_analytic() {
    // f(x) = Σ sin(x_ijk)·(i + 1) + (Σ x)², ∂f/∂x_ijk = (i + 1)cos(x_ijk) + 2Σx.
    let x = Array3::from_shape_fn((3, 2, 4), |(i, j, k)| {
        0.3 * i as f64 - 0.2 * j as f64 + 0.1 * k as f64
    });
    let f = |v: ArrayView3<'_, f64>| {
        let weighted: f64 = v
            .indexed_iter()
            .map(|((i, _, _), a)| a.sin() * (i as f64 + 1.0))
            .sum();
        weighted + v.sum().powi(2)
    };
    let g = numerical_gradient(f, &x);
    let total = x.sum();
    let analytic = Array3::from_shape_fn(x.raw_dim(), |(i, j, k)| {
        (i as f64 + 1.0) * x[[i, j, k]].cos() + 2.0 * total
    });
    assert_close(&g, &analytic, 1e-6);
}

#[test]
fn f32_gradient_is_close() {
    let x = array![3.0f32, 4.0];
    let g = numerical_gradient(|v: ArrayView1<'_, f32>| v[0] * v[0] + v[1] * v[1], &x);
    assert_close(&g.mapv(f64::from), &array![6.0, 8.0], 0.05);
}

#[test]
fn thread_count_does_not_change_a_single_bit() {
    let mut rng = rng_from_seed(3);
    let x = randn::<f64, _>((5, 7, 11), 1.0, &mut rng);
    let w = randn::<f64, _>((5, 7, 11), 1.0, &mut rng);
    // A non-separable f whose rounding depends on every element.
    let f = |v: ArrayView3<'_, f64>| {
        (&v * &w).mapv(f64::tanh).sum() * (1.0 + 0.01 * v.sum().powi(2)).ln()
    };
    let pool = |n| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .unwrap()
    };
    let one = pool(1).install(|| numerical_gradient(f, &x));
    let four = pool(4).install(|| numerical_gradient(f, &x));
    let serial = numerical_gradient_serial(f, &x);
    assert_eq!(one, four);
    assert_eq!(one, serial);
    // Sanity: the gradient is not trivially zero, so the comparison means something.
    assert!(one.iter().filter(|v| v.abs() > 1e-6).count() > 300);

    let points = randn::<f64, _>((300, 3), 2.0, &mut rng);
    let g = |p: ArrayView1<'_, f64>| p[0].sin() * p[1] + p[2].exp() * p[0];
    let p1 = pool(1).install(|| numerical_gradient_points(g, &points));
    let p4 = pool(4).install(|| numerical_gradient_points(g, &points));
    assert_eq!(p1, p4);
}

#[test]
fn gradient_points_rows_are_pointwise_gradients() {
    // The §4.4 gradient field on the [-2, 2]² grid with step 0.25: ∇(x0² + x1²) = 2·(x0, x1).
    let ticks: Vec<f64> = (0..17).map(|i| -2.0 + 0.25 * i as f64).collect();
    let pts: Vec<[f64; 2]> = ticks
        .iter()
        .flat_map(|&y| ticks.iter().map(move |&x| [x, y]))
        .collect();
    let points = Array2::from(pts);
    let grad = numerical_gradient_points(function_2, &points);
    assert_eq!(grad.shape(), &[289, 2]);
    assert_close(&grad, &points.mapv(|v| 2.0 * v), 1e-9);
    for (row, p) in grad.rows().into_iter().zip(points.rows()) {
        assert_eq!(row, numerical_gradient(function_2, &p));
    }
}

#[test]
fn gradient_descent_follows_the_closed_form() {
    // Notebook call: lr 0.01, 100 steps from (-3, 4): x = 0.98^100 · (-3, 4) ≈ (-0.3979, 0.5305).
    let init = array![-3.0, 4.0];
    let d = gradient_descent(function_2, &init, 0.01, 100);
    let k = (1.0f64 - 2.0 * 0.01).powi(100);
    assert_close(&d.x, &(&init * k), 1e-9);
    assert_close(&d.x, &array![-0.3979, 0.5305], 1e-4);
    assert_eq!(init, array![-3.0, 4.0]);
    assert_eq!(d.trajectory.len(), 101);
    assert_eq!(d.trajectory[0], init);
    assert_eq!(d.trajectory[100], d.x);
    for (s, p) in d.trajectory.iter().enumerate() {
        assert_close(p, &(&init * 0.98f64.powi(s as i32)), 1e-9);
    }
}

#[test]
fn gradient_descent_trajectory_plot_run() {
    // lr 0.1, 10 steps: x_k = 0.8^k · (-3, 4); the notebook's tmp is trajectory[..10].
    let init = array![-3.0, 4.0];
    let d = gradient_descent(function_2, &init, 0.1, 10);
    let tmp = &d.trajectory[..10];
    assert_eq!(tmp.len(), 10);
    assert_eq!(tmp[0], init);
    assert_close(&tmp[9], &(&init * 0.8f64.powi(9)), 1e-9);
    assert_close(&d.x, &(&init * 0.8f64.powi(10)), 1e-9);
}

#[test]
fn too_large_a_rate_diverges() {
    // lr 10: x ← (1 − 20)·x = −19·x. The early steps follow that exactly; later, |x| is so large
    // that x ± 1e-4 rounds back to x, the difference quotient becomes 0 and x stops moving.
    let init = array![-3.0, 4.0];
    let d = gradient_descent(function_2, &init, 10.0, 100);
    for s in 1..=5 {
        let want = &init * (-19.0f64).powi(s);
        let got = &d.trajectory[s as usize];
        assert!(
            ((got - &want).mapv(f64::abs).sum() / want.mapv(f64::abs).sum()) < 1e-6,
            "{s}: {got} vs {want}"
        );
    }
    // The book prints array([-2.58983747e+13, -1.29524862e+12]) for this call.
    assert!((d.x[0] / -2.58983747e13 - 1.0).abs() < 1e-8, "{}", d.x);
    assert!((d.x[1] / -1.29524862e12 - 1.0).abs() < 1e-8, "{}", d.x);
    let norm = d.x.dot(&d.x).sqrt();
    assert!(norm > 1e10, "{}", d.x);
    assert!(d.x.iter().all(|v| v.is_finite()));
}

#[test]
fn too_small_a_rate_barely_moves() {
    // lr 1e-10: x = (1 − 2e-10)^100 · (-3, 4) ≈ (-2.99999994, 3.99999992).
    let init = array![-3.0, 4.0];
    let d = gradient_descent(function_2, &init, 1e-10, 100);
    let k = (1.0f64 - 2e-10).powi(100);
    assert_close(&d.x, &(&init * k), 1e-12);
    assert_close(&d.x, &array![-2.99999994, 3.99999992], 1e-9);
    assert!(d.x != init);
}

#[test]
fn gradient_descent_zero_steps_is_the_start() {
    let d = gradient_descent(function_2, &array![1.0, 2.0], 0.1, 0);
    assert_eq!(d.x, array![1.0, 2.0]);
    assert_eq!(d.trajectory, vec![array![1.0, 2.0]]);
}

fn shape_strategy() -> impl Strategy<Value = Vec<usize>> {
    prop_oneof![
        (1usize..12).prop_map(|a| vec![a]),
        (1usize..5, 1usize..5).prop_map(|(a, b)| vec![a, b]),
        (1usize..4, 1usize..4, 1usize..4).prop_map(|(a, b, c)| vec![a, b, c]),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Several functions with known gradients, on random 1-D, 2-D and 3-D arrays.
    #[test]
    fn numerical_matches_analytic_on_random_arrays(shape in shape_strategy(), seed in 0u64..10_000) {
        let mut rng = rng_from_seed(seed);
        let x = randn::<f64, _>(shape.as_slice(), 1.0, &mut rng);
        let c = randn::<f64, _>(shape.as_slice(), 1.0, &mut rng);

        // Weighted sum of squares: ∂/∂x = 2c·x.
        let g = numerical_gradient(|v: ArrayView<'_, f64, _>| (&v * &v * &c).sum(), &x);
        let want = &x * &c * 2.0;
        for (a, b) in g.iter().zip(&want) { prop_assert!((a - b).abs() < 1e-7, "{} vs {}", a, b); }

        // Σ exp(x)·sin(x): ∂/∂x = exp(x)(sin x + cos x).
        let g = numerical_gradient(|v: ArrayView<'_, f64, _>| v.mapv(|a| a.exp() * a.sin()).sum(), &x);
        for (a, xi) in g.iter().zip(&x) {
            let b = xi.exp() * (xi.sin() + xi.cos());
            prop_assert!((a - b).abs() < 1e-6 * (1.0 + b.abs()), "{} vs {}", a, b);
        }

        // Log-sum-exp over everything: ∂/∂x = softmax of the flattened x.
        let lse = |v: ArrayView<'_, f64, _>| v.mapv(f64::exp).sum().ln();
        let g = numerical_gradient(lse, &x);
        let flat = Array1::from_iter(x.iter().copied());
        let sm = softmax(&flat);
        for (a, b) in g.iter().zip(&sm) { prop_assert!((a - b).abs() < 1e-7, "{} vs {}", a, b); }

        // The serial version gives the same bits.
        prop_assert_eq!(numerical_gradient_serial(lse, &x), g);
    }

    #[test]
    fn descent_on_a_quadratic_matches_the_closed_form(
        x0 in -5.0f64..5.0, x1 in -5.0f64..5.0, lr in 0.001f64..0.4, steps in 0usize..40,
    ) {
        let init = array![x0, x1];
        let d = gradient_descent(function_2, &init, lr, steps);
        let k = (1.0 - 2.0 * lr).powi(steps as i32);
        for (a, b) in d.x.iter().zip(&init) { prop_assert!((a - b * k).abs() < 1e-8); }
        prop_assert_eq!(d.trajectory.len(), steps + 1);
    }
}

#[test]
fn gradient_of_function_on_ix1_view_of_row() {
    // A row of a 2-D array passed as a view works like an owned vector.
    let m = array![[1.0, 2.0], [3.0, 4.0]];
    let r = m.index_axis(Axis(0), 1);
    let g: Array<f64, Ix1> = numerical_gradient(function_2, &r);
    assert_close(&g, &array![6.0, 8.0], 1e-9);
}
