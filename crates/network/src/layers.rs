//! The layers of the book's chapter 5, as forward/backward function pairs.
//!
//! The book's layer objects cache their inputs between `forward` and `backward`; here the
//! caller keeps those values and passes them back, so the data flow of backpropagation reads
//! top to bottom:
//!
//! ```text
//! a1 = affine(x, W1, b1)  ->  z1 = sigmoid(a1)  ->  a2 = affine(z1, W2, b2)  ->  y, L = softmax_with_loss(a2, t)
//! da2 = softmax_with_loss_backward(y, t)
//! dW2, db2 = affine_backward_params(z1, da2);  dz1 = affine_backward_input(W2, da2)
//! da1 = sigmoid_backward(z1, dz1)
//! dW1, db1 = affine_backward_params(x, da1)
//! ```
//!
//! [`TwoLayerNet::gradient`](crate::TwoLayerNet::gradient) runs exactly this, fused per block of
//! samples and in parallel (`backprop.rs`), with the row-wise SoftmaxWithLoss backward shared with
//! this module; a test holds the two to 1e-12 of the gradient's max-norm.

use ndarray::{Array1, Array2, ArrayBase, ArrayViewMut1, Axis, Data, Ix2, Zip};
use scratchnet_functions::{CE_DELTA, softmax};
use scratchnet_tensor::Scalar;

use crate::Targets;

/// Affine backward, parameter part: `dW = xᵀ·dout`, `db = Σ_rows dout`.
///
/// ```
/// use ndarray::array;
/// let (dw, db) = scratchnet_network::layers::affine_backward_params(&array![[1.0, 2.0]], &array![[3.0]]);
/// assert_eq!(dw, array![[3.0], [6.0]]);
/// assert_eq!(db, array![3.0]);
/// ```
pub fn affine_backward_params<A, S1, S2>(
    x: &ArrayBase<S1, Ix2>,
    dout: &ArrayBase<S2, Ix2>,
) -> (Array2<A>, Array1<A>)
where
    A: Scalar,
    S1: Data<Elem = A>,
    S2: Data<Elem = A>,
{
    (x.t().dot(dout), dout.sum_axis(Axis(0)))
}

/// Affine backward, input part: `dx = dout·Wᵀ`.
///
/// ```
/// use ndarray::array;
/// let dx = scratchnet_network::layers::affine_backward_input(&array![[1.0], [2.0]], &array![[3.0]]);
/// assert_eq!(dx, array![[3.0, 6.0]]);
/// ```
pub fn affine_backward_input<A, S1, S2>(
    w: &ArrayBase<S1, Ix2>,
    dout: &ArrayBase<S2, Ix2>,
) -> Array2<A>
where
    A: Scalar,
    S1: Data<Elem = A>,
    S2: Data<Elem = A>,
{
    dout.dot(&w.t())
}

/// Sigmoid backward from the layer's *output* `y = σ(a)`: `dx = dout · y · (1 − y)`.
///
/// ```
/// use ndarray::array;
/// let dx = scratchnet_network::layers::sigmoid_backward(&array![[0.5]], &array![[2.0]]);
/// assert_eq!(dx, array![[0.5]]);
/// ```
pub fn sigmoid_backward<A, S1, S2>(y: &ArrayBase<S1, Ix2>, dout: &ArrayBase<S2, Ix2>) -> Array2<A>
where
    A: Scalar,
    S1: Data<Elem = A>,
    S2: Data<Elem = A>,
{
    Zip::from(y)
        .and(dout)
        .map_collect(|&y, &d| d * y * (A::one() - y))
}

/// Softmax-with-loss forward: `y = softmax(a)` row-wise and the batch-mean cross-entropy.
///
/// ```
/// use ndarray::array;
/// let (y, loss) = scratchnet_network::layers::softmax_with_loss(&array![[0.0, 0.0]], (&vec![1]).into());
/// assert_eq!(y, array![[0.5, 0.5]]);
/// assert!((loss - 0.5f64.ln().abs()).abs() < 1e-6);
/// ```
pub fn softmax_with_loss<A, S>(a: &ArrayBase<S, Ix2>, t: Targets<'_, A>) -> (Array2<A>, A)
where
    A: Scalar,
    S: Data<Elem = A>,
{
    let y = softmax(a);
    let loss = crate::two_layer_net::cross_entropy(&y, t);
    (y, loss)
}

/// Softmax-with-loss backward: ∂L/∂a for the batch-mean cross-entropy `L = −(1/N) Σ t·ln(y + δ)`.
///
/// The book's layer returns `(y − t)/N`, the gradient of the loss without the `δ = 1e-7` that
/// keeps `ln` finite. This returns the exact gradient of the loss as computed, so that it agrees
/// with the numerical gradient to its full precision: with `w = t·y/(y + δ)`,
/// `∂L/∂a_k = (y_k Σ_c w_c − w_k)/N`, which is `(y − t)/N` when `δ = 0`.
///
/// # Panics
/// If the targets do not match `y` in count or width.
///
/// ```
/// use ndarray::array;
/// let y = array![[0.25, 0.75]];
/// let da = scratchnet_network::layers::softmax_with_loss_backward(&y, (&vec![1]).into());
/// assert!((da[[0, 0]] - 0.25f64).abs() < 1e-6 && (da[[0, 1]] + 0.25f64).abs() < 1e-6);
/// ```
pub fn softmax_with_loss_backward<A, S>(y: &ArrayBase<S, Ix2>, t: Targets<'_, A>) -> Array2<A>
where
    A: Scalar,
    S: Data<Elem = A>,
{
    assert_eq!(t.len(), y.nrows(), "one target per row of y");
    if let Targets::OneHot(t) = t {
        assert_eq!(t.dim(), y.dim(), "one-hot targets must have the shape of y");
    }
    let n = A::of_f64(y.nrows() as f64);
    let mut dx = y.to_owned();
    for (r, row) in dx.rows_mut().into_iter().enumerate() {
        softmax_with_loss_backward_row(row, t, r, n);
    }
    dx
}

/// Row `r` of [`softmax_with_loss_backward`] in place: `y` (the softmax output of sample `r`)
/// becomes ∂L/∂a for a batch of `n`.
pub(crate) fn softmax_with_loss_backward_row<A: Scalar>(
    mut y: ArrayViewMut1<'_, A>,
    t: Targets<'_, A>,
    r: usize,
    n: A,
) {
    let delta = A::of_f64(CE_DELTA);
    match t {
        Targets::Labels(labels) => {
            let l = labels[r];
            let yt = y[l];
            let c = yt / (yt + delta) / n;
            y.mapv_inplace(|v| v * c);
            y[l] -= c;
        }
        Targets::OneHot(t) => {
            let w: Vec<A> = y
                .iter()
                .zip(t.row(r))
                .map(|(&y, &t)| t * y / (y + delta))
                .collect();
            let sw: A = w.iter().copied().sum();
            for (v, &wk) in y.iter_mut().zip(&w) {
                *v = (*v * sw - wk) / n;
            }
        }
    }
}
