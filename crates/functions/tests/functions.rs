//! Values printed by the book and the notebook (§3.5, §4.2), plus properties of the activations
//! and losses.

use approx::assert_abs_diff_eq;
use ndarray::{Array1, Array2, ArrayD, Axis, IxDyn, Slice, array};
use proptest::prelude::*;
use scratchnet_functions::*;
use scratchnet_tensor::one_hot;

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

/// The notebook's `y` (0.6 at index 2), or the book's second example with 0.6 moved to index 7
/// (swapped with the 0.1 there).
fn notebook_y(at: usize) -> Array1<f64> {
    let mut y = array![0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0];
    y.swap(2, at);
    y
}

fn notebook_t() -> Array1<f64> {
    one_hot::<f64>(&[2], 10).row(0).to_owned()
}

#[test]
fn notebook_y_is_the_notebook_list() {
    assert_eq!(
        notebook_y(2),
        array![0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0]
    );
    assert_eq!(
        notebook_y(7),
        array![0.1, 0.05, 0.1, 0.0, 0.05, 0.1, 0.0, 0.6, 0.0, 0.0]
    );
    assert_eq!(
        notebook_t(),
        array![0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    );
}

#[test]
fn sum_squared_error_matches_notebook() {
    let t = notebook_t();
    assert_abs_diff_eq!(
        sum_squared_error(&notebook_y(2), &t),
        0.0975,
        epsilon = 1e-15
    );
    assert_abs_diff_eq!(
        sum_squared_error(&notebook_y(7), &t),
        0.5975,
        epsilon = 1e-15
    );
}

#[test]
fn sum_squared_error_is_a_sum_not_a_mean() {
    let y = Array2::<f64>::ones((4, 5));
    let t = Array2::<f64>::zeros((4, 5));
    assert_eq!(sum_squared_error(&y, &t), 10.0);
}

#[test]
fn cross_entropy_matches_notebook() {
    let t = notebook_t();
    assert_abs_diff_eq!(
        cross_entropy_error(&notebook_y(2), &t),
        0.510825457099338,
        epsilon = 1e-15
    );
    assert_abs_diff_eq!(
        cross_entropy_error(&notebook_y(7), &t),
        2.302584092994546,
        epsilon = 1e-15
    );
}

#[test]
fn label_form_equals_one_hot_form() {
    for at in [2, 7] {
        let y = notebook_y(at);
        let one_hot_ce: f64 = cross_entropy_error(&y, &notebook_t());
        let label_ce: f64 = cross_entropy_error_labels(&y, &[2]);
        assert_abs_diff_eq!(label_ce, one_hot_ce, epsilon = 1e-15);
    }
    assert_abs_diff_eq!(
        cross_entropy_error_labels(&notebook_y(2), &[2]),
        0.510825457099338,
        epsilon = 1e-15
    );
}

#[test]
fn batch_cross_entropy_is_the_mean_of_the_samples() {
    let y = ndarray::stack(
        ndarray::Axis(0),
        &[notebook_y(2).view(), notebook_y(7).view()],
    )
    .unwrap();
    let t = one_hot::<f64>(&[2, 2], 10);
    let expected = (0.510825457099338 + 2.302584092994546) / 2.0;
    assert_abs_diff_eq!(cross_entropy_error(&y, &t), expected, epsilon = 1e-15);
    assert_abs_diff_eq!(
        cross_entropy_error_labels(&y, &[2, 2]),
        expected,
        epsilon = 1e-15
    );
    // A 1-row batch is the same as one 1-D sample. (`slice_axis`, not `s![]`, whose expansion
    // allows unsafe code, which the workspace's lints forbid.)
    let one = y.slice_axis(Axis(0), Slice::from(0..1));
    assert_eq!(
        cross_entropy_error(&one, &t.slice_axis(Axis(0), Slice::from(0..1))),
        cross_entropy_error(&notebook_y(2), &notebook_t())
    );
}

#[test]
fn cross_entropy_of_zero_probability_is_finite() {
    // ln(0 + 1e-7): the delta is what keeps this finite.
    let ce: f64 = cross_entropy_error_labels(&array![1.0, 0.0], &[1]);
    assert_abs_diff_eq!(ce, -(1e-7f64).ln(), epsilon = 1e-12);
    assert!(ce.is_finite());
}

#[test]
fn cross_entropy_in_f32() {
    let y = notebook_y(2).mapv(|v| v as f32);
    let t = notebook_t().mapv(|v| v as f32);
    assert_abs_diff_eq!(
        cross_entropy_error(&y, &t),
        0.510_825_46_f32,
        epsilon = 1e-6
    );
    assert_abs_diff_eq!(sum_squared_error(&y, &t), 0.0975f32, epsilon = 1e-6);
}

#[test]
fn softmax_matches_the_definition_and_the_books_print() {
    let a = array![0.3f64, 2.9, 4.0];
    let y = softmax(&a);
    // the definition, exp(a_k) / Σ exp(a)
    let e = a.mapv(f64::exp);
    assert_close(&y, &(&e / e.sum()), 1e-15);
    // §3.5.1 prints [0.01821127 0.24519181 0.73659691]
    assert_close(&y, &array![0.01821127, 0.24519181, 0.73659691], 1e-8);
}

#[test]
fn softmax_does_not_overflow() {
    let y = softmax(&array![1010.0, 1000.0, 990.0]);
    assert!(y.iter().all(|v: &f64| v.is_finite()));
    assert_abs_diff_eq!(y.sum(), 1.0, epsilon = 1e-15);
    // Shift invariance: same as softmax([20, 10, 0]).
    assert_close(&y, &softmax(&array![20.0, 10.0, 0.0]), 1e-15);
    let y32 = softmax(&array![1010.0f32, 1000.0, 990.0]);
    assert!(y32.iter().all(|v| v.is_finite()));
}

#[test]
fn softmax_is_row_wise_in_2d_and_last_axis_in_3d() {
    let x = array![[0.3, 2.9, 4.0], [1010.0, 1000.0, 990.0]];
    let y = softmax(&x);
    assert_close(&y.row(0), &softmax(&x.row(0)), 0.0);
    assert_close(&y.row(1), &softmax(&x.row(1)), 0.0);
    // A transposed view is still softmaxed along its own last axis.
    let xt = x.t();
    let yt = softmax(&xt);
    assert_close(&yt, &softmax(&xt.to_owned()), 0.0);
    for r in yt.rows() {
        assert_abs_diff_eq!(r.sum(), 1.0, epsilon = 1e-15);
    }
    let x3 = ArrayD::from_shape_fn(IxDyn(&[2, 3, 4]), |i| {
        (i[0] * 12 + i[1] * 4 + i[2]) as f64 * 0.1
    });
    let y3 = softmax(&x3);
    for lane in y3.lanes(ndarray::Axis(2)) {
        assert_abs_diff_eq!(lane.sum(), 1.0, epsilon = 1e-15);
    }
}

#[test]
fn activations_pointwise() {
    let x = array![-1000.0, -1.0, 0.0, 1.0, 1000.0];
    let sg = sigmoid(&x);
    assert_eq!(sg[0], 0.0);
    assert_abs_diff_eq!(sg[1], 1.0 / (1.0 + 1f64.exp()), epsilon = 1e-16);
    assert_eq!(sg[2], 0.5);
    assert_eq!(sg[4], 1.0);
    assert_eq!(sigmoid_scalar(1.0), sg[3]);
    assert_eq!(relu(&x), array![0.0, 0.0, 0.0, 1.0, 1000.0]);
    assert_eq!(step(&x), array![0.0, 0.0, 0.0, 1.0, 1.0]);
    assert_eq!(identity(&x), x);
    // sigmoid_grad against a central difference of sigmoid.
    let g = sigmoid_grad(&x);
    for (&xi, &gi) in x.iter().zip(&g) {
        let h = 1e-5;
        let num = (sigmoid_scalar(xi + h) - sigmoid_scalar(xi - h)) / (2.0 * h);
        assert_abs_diff_eq!(gi, num, epsilon = 1e-9);
    }
}

#[test]
#[should_panic(expected = "sum_squared_error: y has shape [3] but t has shape [2]")]
fn sse_shape_mismatch_panics() {
    sum_squared_error(&array![1.0, 2.0, 3.0], &array![1.0, 2.0]);
}

#[test]
#[should_panic(expected = "cross_entropy_error: y has shape [1, 2] but t has shape [2, 1]")]
fn ce_shape_mismatch_panics() {
    cross_entropy_error(&array![[1.0, 2.0]], &array![[1.0], [2.0]]);
}

#[test]
#[should_panic(expected = "takes one label, got 10")]
fn labels_one_sample_takes_one_label() {
    // The notebook's slip: passing the one-hot vector as labels.
    let labels: Vec<usize> = notebook_t().iter().map(|&v| v as usize).collect();
    cross_entropy_error_labels(&notebook_y(2), &labels);
}

#[test]
#[should_panic(expected = "3 labels for 2 rows")]
fn labels_count_must_match_rows() {
    cross_entropy_error_labels(&array![[0.5, 0.5], [0.5, 0.5]], &[0, 1, 1]);
}

#[test]
#[should_panic(expected = "label 2 out of range for 2 classes")]
fn labels_out_of_range_panics() {
    cross_entropy_error_labels(&array![[0.5, 0.5]], &[2]);
}

#[test]
#[should_panic(expected = "empty batch")]
fn empty_batch_panics() {
    cross_entropy_error(&Array2::<f64>::zeros((0, 3)), &Array2::<f64>::zeros((0, 3)));
}

proptest! {
    #[test]
    fn softmax_rows_are_distributions(v in proptest::collection::vec(-50.0f64..50.0, 1..40), shift in -800.0f64..800.0) {
        let x = Array1::from(v);
        let y = softmax(&x);
        prop_assert!((y.sum() - 1.0).abs() < 1e-12);
        prop_assert!(y.iter().all(|&p| (0.0..=1.0).contains(&p)));
        let ys = softmax(&x.mapv(|a| a + shift));
        for (a, b) in y.iter().zip(&ys) {
            prop_assert!((a - b).abs() < 1e-9, "{} vs {}", a, b);
        }
    }

    #[test]
    fn label_and_one_hot_agree_on_random_batches(
        rows in 1usize..8,
        seed in 0u64..1000,
    ) {
        let mut rng = scratchnet_tensor::rng_from_seed(seed);
        let logits = scratchnet_tensor::randn::<f64, _>((rows, 5), 2.0, &mut rng);
        let labels = scratchnet_tensor::choice_with_replacement(&mut rng, 5, rows);
        let y = softmax(&logits);
        let a: f64 = cross_entropy_error(&y, &one_hot(&labels, 5));
        let b: f64 = cross_entropy_error_labels(&y, &labels);
        prop_assert!((a - b).abs() < 1e-12, "{} vs {}", a, b);
        prop_assert!(a > 0.0);
    }
}
