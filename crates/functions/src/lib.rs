//! Activations and loss functions of Deep Learning from Scratch, chapters 3–4.
//!
//! Everything is generic over [`Scalar`] (`f32` or `f64`), takes any ndarray (owned or view)
//! by reference and returns an owned array or a scalar. Pure functions only: no I/O, no state.
//!
//! | notebook | here |
//! |---|---|
//! | §4.2.1 `sum_squares_error` | [`sum_squared_error`] |
//! | §4.2.2 / §4.2.4 `cross_entropy_error` (one-hot `t`) | [`cross_entropy_error`] |
//! | §4.2.4 `cross_entropy_error` (label `t`) | [`cross_entropy_error_labels`] |
//! | `common.functions.softmax`, `sigmoid`, ... | [`softmax`], [`sigmoid`], [`relu`], [`step`], [`identity`] |
//!
//! ```
//! use ndarray::array;
//! use scratchnet_functions::{cross_entropy_error, softmax};
//!
//! let y = softmax(&array![[0.3, 2.9, 4.0]]);
//! let t = array![[0.0, 0.0, 1.0]];
//! let loss: f64 = cross_entropy_error(&y, &t);
//! assert!((loss + (y[[0, 2]] + 1e-7).ln()).abs() < 1e-15); // -ln(0.7366 + 1e-7) ≈ 0.3057
//! ```

/// Re-exported from `scratchnet-tensor`, where the fused SIMD kernels use them too: `eˣ`
/// without branches (within 2 ulps of `f64::exp`) and the logistic function of one number.
pub use scratchnet_tensor::{exp, sigmoid_scalar};

use ndarray::{Array, ArrayBase, Axis, Data, Dimension, Ix1, Ix2, RemoveAxis, Zip};
use scratchnet_tensor::Scalar;

/// The `delta` added inside the logarithm of the cross-entropy so that `ln(0)` never happens:
/// `-Σ t·ln(y + 1e-7)`.
///
/// ```
/// assert_eq!(scratchnet_functions::CE_DELTA, 1e-7);
/// ```
pub const CE_DELTA: f64 = 1e-7;

/// Element-wise [`sigmoid_scalar`]: `1 / (1 + e^(-x))`.
///
/// ```
/// use ndarray::array;
/// let y = scratchnet_functions::sigmoid(&array![-1.0, 0.0, 1.0]);
/// assert!((y[0] + y[2] - 1.0f64).abs() < 1e-15);
/// assert_eq!(y[1], 0.5);
/// ```
pub fn sigmoid<A, S, D>(x: &ArrayBase<S, D>) -> Array<A, D>
where
    A: Scalar,
    S: Data<Elem = A>,
    D: Dimension,
{
    x.mapv(sigmoid_scalar)
}

/// Derivative of the sigmoid, element-wise: `σ'(x) = (1 − σ(x))·σ(x)` (the book's `sigmoid_grad`,
/// used by backpropagation).
///
/// ```
/// use ndarray::array;
/// let g = scratchnet_functions::sigmoid_grad(&array![0.0]);
/// assert_eq!(g[0], 0.25);
/// ```
pub fn sigmoid_grad<A, S, D>(x: &ArrayBase<S, D>) -> Array<A, D>
where
    A: Scalar,
    S: Data<Elem = A>,
    D: Dimension,
{
    x.mapv(|v| {
        let s = sigmoid_scalar(v);
        (A::one() - s) * s
    })
}

/// Rectified linear unit, element-wise: `max(0, x)` (NaN maps to 0).
///
/// ```
/// use ndarray::array;
/// assert_eq!(scratchnet_functions::relu(&array![-2.0, 0.0, 3.0]), array![0.0, 0.0, 3.0]);
/// ```
pub fn relu<A, S, D>(x: &ArrayBase<S, D>) -> Array<A, D>
where
    A: Scalar,
    S: Data<Elem = A>,
    D: Dimension,
{
    x.mapv(|v| if v > A::zero() { v } else { A::zero() })
}

/// Step function, element-wise: `1` where `x > 0`, else `0` (the book's `np.array(x > 0)`).
///
/// ```
/// use ndarray::array;
/// assert_eq!(scratchnet_functions::step(&array![-1.0, 0.0, 0.5]), array![0.0, 0.0, 1.0]);
/// ```
pub fn step<A, S, D>(x: &ArrayBase<S, D>) -> Array<A, D>
where
    A: Scalar,
    S: Data<Elem = A>,
    D: Dimension,
{
    x.mapv(|v| if v > A::zero() { A::one() } else { A::zero() })
}

/// Identity activation (the book's `identity_function`): an owned copy of `x`.
///
/// ```
/// use ndarray::array;
/// assert_eq!(scratchnet_functions::identity(&array![1.5, -2.0]), array![1.5, -2.0]);
/// ```
pub fn identity<A, S, D>(x: &ArrayBase<S, D>) -> Array<A, D>
where
    A: Scalar,
    S: Data<Elem = A>,
    D: Dimension,
{
    x.to_owned()
}

/// Softmax along the **last** axis: a 1-D input is one vector, a 2-D input is a batch with one
/// vector per row (higher dimensions: every lane along the last axis).
///
/// `y_k = e^(x_k − m) / Σ_j e^(x_j − m)` with `m = max_j x_j`. Subtracting the maximum changes
/// nothing mathematically but keeps `e^(·) ≤ 1`, so large inputs do not overflow.
///
/// # Panics
/// If `x` is zero-dimensional (possible only with `IxDyn`).
///
/// ```
/// use ndarray::array;
/// use scratchnet_functions::softmax;
/// let y = softmax(&array![1010.0, 1000.0, 990.0]);
/// assert!(y.iter().all(|v: &f64| v.is_finite()));
/// assert!((y.sum() - 1.0).abs() < 1e-15);
/// let rows = softmax(&array![[0.0, 0.0], [0.0, 1e9]]);
/// assert_eq!(rows, array![[0.5, 0.5], [0.0, 1.0]]);
/// ```
pub fn softmax<A, S, D>(x: &ArrayBase<S, D>) -> Array<A, D>
where
    A: Scalar,
    S: Data<Elem = A>,
    D: Dimension + RemoveAxis,
{
    assert!(x.ndim() > 0, "softmax of a zero-dimensional array");
    let last = Axis(x.ndim() - 1);
    let mut y = x.to_owned();
    for mut lane in y.lanes_mut(last) {
        let max = lane.fold(A::neg_infinity(), |m, &v| m.max(v));
        lane.mapv_inplace(|v| (v - max).exp());
        let sum = lane.sum();
        lane.mapv_inplace(|v| v / sum);
    }
    y
}

/// Sum of squared errors, `E = ½ Σ_k (y_k − t_k)²` over every element (a sum, not a mean,
/// exactly as the notebook's `sum_squares_error`).
///
/// # Panics
/// If `y` and `t` differ in shape.
///
/// ```
/// use ndarray::array;
/// let e: f64 = scratchnet_functions::sum_squared_error(&array![0.5, 0.5], &array![0.0, 1.0]);
/// assert_eq!(e, 0.25);
/// ```
pub fn sum_squared_error<A, S1, S2, D>(y: &ArrayBase<S1, D>, t: &ArrayBase<S2, D>) -> A
where
    A: Scalar,
    S1: Data<Elem = A>,
    S2: Data<Elem = A>,
    D: Dimension,
{
    assert_same_shape(y.shape(), t.shape(), "sum_squared_error");
    let sum = Zip::from(y).and(t).fold(A::zero(), |acc, &a, &b| {
        let d = a - b;
        acc + d * d
    });
    A::of_f64(0.5) * sum
}

/// Cross-entropy error against one-hot (or any probability) targets `t`, averaged over the batch:
/// `E = −(1/N) Σ_n Σ_k t_nk · ln(y_nk + 1e-7)` (the `1e-7` is [`CE_DELTA`]).
///
/// A 1-D `y` is one sample (`N = 1`); for 2 or more dimensions the first axis is the batch and
/// `N` is its length, as in the notebook's §4.2.4 version.
///
/// # Panics
/// If `y` and `t` differ in shape, if `y` is zero-dimensional, or if the batch is empty.
///
/// ```
/// use ndarray::array;
/// use scratchnet_functions::cross_entropy_error;
/// let one: f64 = cross_entropy_error(&array![0.25, 0.75], &array![1.0, 0.0]);
/// assert!((one + (0.25f64 + 1e-7).ln()).abs() < 1e-15);
/// let batch: f64 = cross_entropy_error(&array![[0.25, 0.75], [0.25, 0.75]], &array![[1.0, 0.0], [1.0, 0.0]]);
/// assert!((batch - one).abs() < 1e-15);
/// ```
pub fn cross_entropy_error<A, S1, S2, D>(y: &ArrayBase<S1, D>, t: &ArrayBase<S2, D>) -> A
where
    A: Scalar,
    S1: Data<Elem = A>,
    S2: Data<Elem = A>,
    D: Dimension,
{
    assert_same_shape(y.shape(), t.shape(), "cross_entropy_error");
    let n = batch_size(y.shape(), "cross_entropy_error");
    let delta = A::of_f64(CE_DELTA);
    let sum = Zip::from(y)
        .and(t)
        .fold(A::zero(), |acc, &yv, &tv| acc + tv * (yv + delta).ln());
    -sum / A::of_f64(n as f64)
}

/// Cross-entropy error against class labels, averaged over the batch:
/// `E = −(1/N) Σ_n ln(y[n, t_n] + 1e-7)` (the notebook's `y[np.arange(batch_size), t]` form).
///
/// Equal to [`cross_entropy_error`] with `one_hot(labels)` as targets. A 1-D `y` is one sample
/// and takes exactly one label; a 2-D `y` takes one label per row.
///
/// The notebook's cell for this form passes the one-hot `t` instead of the label, which indexes
/// `y` with the 0s and 1s of `t`; here the label (`2` in the notebook's example) is what is meant.
///
/// # Panics
/// If `y` is not 1-D or 2-D, if `labels.len()` is not 1 (1-D) or the number of rows (2-D), if a
/// label is out of range, or if the batch is empty.
///
/// ```
/// use ndarray::array;
/// use scratchnet_functions::{cross_entropy_error, cross_entropy_error_labels};
/// let y = array![[0.1, 0.7, 0.2], [0.5, 0.25, 0.25]];
/// let by_label: f64 = cross_entropy_error_labels(&y, &[1, 0]);
/// let by_one_hot: f64 = cross_entropy_error(&y, &scratchnet_tensor::one_hot(&[1, 0], 3));
/// assert!((by_label - by_one_hot).abs() < 1e-15);
/// ```
pub fn cross_entropy_error_labels<A, S, D>(y: &ArrayBase<S, D>, labels: &[usize]) -> A
where
    A: Scalar,
    S: Data<Elem = A>,
    D: Dimension,
{
    let delta = A::of_f64(CE_DELTA);
    let ln_at = |row: ndarray::ArrayView1<'_, A>, label: usize| {
        assert!(
            label < row.len(),
            "cross_entropy_error_labels: label {label} out of range for {} classes",
            row.len()
        );
        (row[label] + delta).ln()
    };
    let (sum, n) = match y.ndim() {
        1 => {
            let y1 = y.view().into_dimensionality::<Ix1>().expect("checked 1-D");
            assert_eq!(
                labels.len(),
                1,
                "cross_entropy_error_labels: a 1-D y is one sample and takes one label, got {}",
                labels.len()
            );
            (ln_at(y1, labels[0]), 1)
        }
        2 => {
            let y2 = y.view().into_dimensionality::<Ix2>().expect("checked 2-D");
            assert_eq!(
                labels.len(),
                y2.nrows(),
                "cross_entropy_error_labels: {} labels for {} rows",
                labels.len(),
                y2.nrows()
            );
            assert!(y2.nrows() > 0, "cross_entropy_error_labels: empty batch");
            let sum = y2
                .rows()
                .into_iter()
                .zip(labels)
                .fold(A::zero(), |acc, (row, &l)| acc + ln_at(row, l));
            (sum, y2.nrows())
        }
        d => panic!("cross_entropy_error_labels: y must be 1-D or 2-D, got {d}-D"),
    };
    -sum / A::of_f64(n as f64)
}

fn assert_same_shape(y: &[usize], t: &[usize], what: &str) {
    assert_eq!(y, t, "{what}: y has shape {y:?} but t has shape {t:?}");
}

fn batch_size(shape: &[usize], what: &str) -> usize {
    let n = match shape.len() {
        0 => panic!("{what}: y is zero-dimensional"),
        1 => 1,
        _ => shape[0],
    };
    assert!(n > 0, "{what}: empty batch");
    n
}
