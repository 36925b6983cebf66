//! The per-row kernels of the two-layer net's fused forward and backward passes (the network
//! crate's `fused.rs` drives them in parallel over blocks of samples).
//!
//! They live in this crate, beside the sparse products, so that the one `unsafe` call of the
//! run-time AVX2 dispatch (`src/dispatch.rs`) stays in one crate. They are plain safe
//! functions: each runs its `#[inline(always)]` body compiled for AVX2 + FMA when the CPU has
//! both, and compiled for the baseline otherwise. They use no `mul_add`, so both copies give the
//! same bits.
//!
//! ```
//! use ndarray::{Array2, array};
//! use scratchnet_tensor::Targets;
//! use scratchnet_tensor::fused::{PaddedMatrix, sigmoid_affine_rows, softmax_loss_sigmoid_backward_rows};
//!
//! // one sample, x·W1 = [0, 0] already computed; b1 = 0, W2 = I, b2 = 0
//! let (b1, b2) = (array![0.0, 0.0], array![0.0, 0.0]);
//! let w2 = array![[1.0, 0.0], [0.0, 1.0]];
//! let mut z1 = Array2::<f64>::zeros((1, 2));
//! let mut y = Array2::zeros((1, 2));
//! sigmoid_affine_rows(z1.view_mut(), b1.view(), &PaddedMatrix::new(w2.view()), b2.view(), y.view_mut());
//! assert_eq!(z1, array![[0.5, 0.5]]);
//! assert_eq!(y, array![[0.5, 0.5]]);
//!
//! let mut da1 = Array2::zeros((1, 2));
//! let labels = [1];
//! let w2t = PaddedMatrix::new(w2.t());
//! softmax_loss_sigmoid_backward_rows(y.view_mut(), z1.view(), da1.view_mut(), &w2t, Targets::Labels(&labels), 0, 1.0, 0.0);
//! // softmax [0.5, 0.5], ∂L/∂a2 = y − t = [0.5, −0.5], then · W2ᵀ and · z(1 − z) = 0.25
//! assert_eq!(y, array![[0.5, -0.5]]);
//! assert_eq!(da1, array![[0.125, -0.125]]);
//! ```

use ndarray::{ArrayView1, ArrayView2, ArrayViewMut1, ArrayViewMut2};

use crate::{Scalar, Targets, sigmoid_scalar};

/// Output entries of [`PaddedMatrix`]'s row-vector product kept in registers at once.
const CHUNK: usize = 16;

/// A small matrix (the second layer's `W2` or `W2ᵀ`) copied with its rows padded by zeros to
/// whole chunks of 16, so that a row-vector product can hold a chunk of sums in registers.
///
/// ```
/// use ndarray::array;
/// let m = scratchnet_tensor::fused::PaddedMatrix::new(array![[1.0, 2.0], [3.0, 4.0]].view());
/// assert_eq!(m.dim(), (2, 2));
/// ```
#[derive(Clone, Debug)]
pub struct PaddedMatrix<A> {
    data: Vec<A>,
    rows: usize,
    cols: usize,
    stride: usize,
}

impl<A: Scalar> PaddedMatrix<A> {
    /// A padded copy of `m`.
    ///
    /// ```
    /// let m = scratchnet_tensor::fused::PaddedMatrix::new(ndarray::Array2::<f32>::zeros((3, 20)).view());
    /// assert_eq!(m.dim(), (3, 20));
    /// ```
    pub fn new(m: ArrayView2<'_, A>) -> Self {
        let (rows, cols) = m.dim();
        let stride = cols.div_ceil(CHUNK) * CHUNK;
        let mut data = vec![A::zero(); rows * stride];
        for (dst, src) in data.chunks_exact_mut(stride.max(1)).zip(m.rows()) {
            for (d, &v) in dst.iter_mut().zip(&src) {
                *d = v;
            }
        }
        Self {
            data,
            rows,
            cols,
            stride,
        }
    }

    /// `(rows, columns)` of the matrix (without the padding).
    ///
    /// ```
    /// let m = scratchnet_tensor::fused::PaddedMatrix::new(ndarray::array![[1.0, 2.0, 3.0]].view());
    /// assert_eq!(m.dim(), (1, 3));
    /// ```
    pub fn dim(&self) -> (usize, usize) {
        (self.rows, self.cols)
    }

    /// `out = v·M`, each entry summed over the rows of `M` in order.
    #[inline(always)]
    fn times(&self, v: &[A], out: &mut [A]) {
        debug_assert!(v.len() == self.rows && out.len() == self.cols);
        for lo in (0..self.cols).step_by(CHUNK) {
            let mut acc = [A::zero(); CHUNK];
            for (j, &vj) in v.iter().enumerate() {
                let row: &[A; CHUNK] = self.data[j * self.stride + lo..][..CHUNK]
                    .try_into()
                    .expect("CHUNK entries");
                for (a, &w) in acc.iter_mut().zip(row) {
                    *a += vj * w;
                }
            }
            let hi = (lo + CHUNK).min(self.cols);
            store_prefix(&mut out[lo..hi], acc);
        }
    }
}

/// `out.copy_from_slice(&acc[..out.len()])`, out of line so that `acc` stays a value the
/// compiler can keep in registers.
#[inline(never)]
fn store_prefix<A: Scalar>(out: &mut [A], acc: [A; CHUNK]) {
    out.copy_from_slice(&acc[..out.len()]);
}

const SLICE: &str = "rows of a standard-layout array are contiguous";

/// The rest of the forward pass for a block of samples whose `x·W1` is in `z1`:
/// `z1 ← σ(z1 + b1)` and the logits `y = z1·W2 + b2`.
#[inline(always)]
fn sigmoid_affine_rows_body<A: Scalar>(
    mut z1: ArrayViewMut2<'_, A>,
    b1: ArrayView1<'_, A>,
    w2: &PaddedMatrix<A>,
    b2: ArrayView1<'_, A>,
    mut y: ArrayViewMut2<'_, A>,
) {
    // plain slice loops: they inline into the AVX2 copy of this function and vectorise
    let (b1, b2) = (b1.to_vec(), b2.to_vec());
    for (mut z, mut y) in z1.rows_mut().into_iter().zip(y.rows_mut()) {
        let z = z.as_slice_mut().expect(SLICE);
        for (a, &b) in z.iter_mut().zip(&b1) {
            *a = sigmoid_scalar(*a + b);
        }
        // `affine` adds the bias after the product
        let y = y.as_slice_mut().expect(SLICE);
        w2.times(z, y);
        for (a, &b) in y.iter_mut().zip(&b2) {
            *a += b;
        }
    }
}

/// The backward pass for a block of samples, rows `first..` of a batch of `n`: `y` holds the
/// logits and becomes ∂L/∂a2 (softmax, then SoftmaxWithLoss backward: the book's `(y − t)/n`
/// for `delta = 0`, else the exact gradient of the loss with that `delta`);
/// `da1 = (∂L/∂a2 · W2ᵀ) · z1 · (1 − z1)` (Affine, then Sigmoid backward).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn softmax_loss_sigmoid_backward_rows_body<A: Scalar>(
    mut y: ArrayViewMut2<'_, A>,
    z1: ArrayView2<'_, A>,
    mut da1: ArrayViewMut2<'_, A>,
    w2t: &PaddedMatrix<A>,
    t: Targets<'_, A>,
    first: usize,
    n: A,
    delta: A,
) {
    for (r, ((mut y, z), mut d)) in y
        .rows_mut()
        .into_iter()
        .zip(z1.rows())
        .zip(da1.rows_mut())
        .enumerate()
    {
        softmax_row(y.view_mut());
        softmax_with_loss_backward_row(y.view_mut(), t, first + r, n, delta);
        w2t.times(y.as_slice().expect(SLICE), d.as_slice_mut().expect(SLICE));
        for (d, &z) in d.iter_mut().zip(&z) {
            *d = *d * z * (A::one() - z);
        }
    }
}

/// Softmax of one row in place, the same operations as `scratchnet_functions::softmax`.
#[inline(always)]
fn softmax_row<A: Scalar>(mut row: ArrayViewMut1<'_, A>) {
    let max = row.fold(A::neg_infinity(), |m, &v| m.max(v));
    row.mapv_inplace(|v| (v - max).exp());
    let sum = row.sum();
    row.mapv_inplace(|v| v / sum);
}

/// Row `r` of the SoftmaxWithLoss backward pass in place: `y` (the softmax output of sample
/// `r`) becomes ∂L/∂a. For `delta = 0` that is the book's `(y − t)/n`, with the book's
/// operations; otherwise the exact gradient of the batch-mean loss `−(1/n) Σ t·ln(y + delta)`:
/// with `w = t·y/(y + delta)`, `∂L/∂a_k = (y_k Σ_c w_c − w_k)/n`.
#[inline(always)]
fn softmax_with_loss_backward_row<A: Scalar>(
    mut y: ArrayViewMut1<'_, A>,
    t: Targets<'_, A>,
    r: usize,
    n: A,
    delta: A,
) {
    if delta == A::zero() {
        match t {
            // `dx = y.copy(); dx[t] -= 1; dx / batch_size`
            Targets::Labels(labels) => {
                y[labels[r]] -= A::one();
                y.mapv_inplace(|v| v / n);
            }
            Targets::OneHot(t) => {
                for (v, &t) in y.iter_mut().zip(t.row(r)) {
                    *v = (*v - t) / n;
                }
            }
        }
        return;
    }
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

/// The rest of the two-layer forward pass for a block of samples whose `x·W1` is in `z1`:
/// `z1 ← σ(z1 + b1)` (with [`sigmoid_scalar`]) and the logits `y = z1·W2 + b2`, each entry of
/// `z1·W2` summed over the hidden units in order. Compiled for AVX2 too (see the module).
///
/// # Panics
/// If `z1` or `y` is not in standard layout. The shapes must fit (`z1`: rows × hidden,
/// `b1`: hidden, `w2`: hidden × output, `b2` and the rows of `y`: output); the callers check them.
///
/// ```
/// use ndarray::{Array2, array};
/// use scratchnet_tensor::fused::{PaddedMatrix, sigmoid_affine_rows};
/// let mut z1 = array![[0.0]];
/// let mut y = Array2::zeros((1, 1));
/// let w2 = PaddedMatrix::new(array![[2.0]].view());
/// sigmoid_affine_rows(z1.view_mut(), array![0.0].view(), &w2, array![1.0].view(), y.view_mut());
/// assert_eq!(y, array![[2.0]]); // σ(0)·2 + 1
/// ```
#[inline]
pub fn sigmoid_affine_rows<A: Scalar>(
    z1: ArrayViewMut2<'_, A>,
    b1: ArrayView1<'_, A>,
    w2: &PaddedMatrix<A>,
    b2: ArrayView1<'_, A>,
    y: ArrayViewMut2<'_, A>,
) {
    simd::sigmoid_affine_rows_body(z1, b1, w2, b2, y);
}

/// The two-layer backward pass for a block of samples, rows `first..first + y.nrows()` of a
/// batch of `n`: `y` holds the logits and becomes ∂L/∂a2 (softmax, then for `delta = 0` the
/// book's `(y − t)/n`, else the exact gradient of the batch-mean cross-entropy
/// `−(1/n) Σ t·ln(y + delta)`), and
/// `da1 = (∂L/∂a2 · W2ᵀ) · z1 · (1 − z1)`, with `z1 = σ(a1)` from [`sigmoid_affine_rows`].
/// Compiled for AVX2 too (see the module).
///
/// # Panics
/// If a label is out of range or an array is not in standard layout; the callers check the
/// targets and shapes first, with clear messages.
///
/// ```
/// use ndarray::array;
/// use scratchnet_tensor::{Targets, fused::{PaddedMatrix, softmax_loss_sigmoid_backward_rows}};
/// let mut y = array![[0.0, 0.0]];
/// let mut da1 = array![[0.0]];
/// let w2 = array![[1.0, -1.0]]; // one hidden unit, two classes
/// let w2t = PaddedMatrix::new(w2.t());
/// let labels = [0];
/// softmax_loss_sigmoid_backward_rows(y.view_mut(), array![[0.5]].view(), da1.view_mut(), &w2t, Targets::Labels(&labels), 0, 1.0, 0.0);
/// assert_eq!(y, array![[-0.5, 0.5]]);
/// assert_eq!(da1, array![[-0.25]]); // (−0.5 − 0.5) · 0.25
/// ```
#[inline]
#[allow(clippy::too_many_arguments)]
pub fn softmax_loss_sigmoid_backward_rows<A: Scalar>(
    y: ArrayViewMut2<'_, A>,
    z1: ArrayView2<'_, A>,
    da1: ArrayViewMut2<'_, A>,
    w2t: &PaddedMatrix<A>,
    t: Targets<'_, A>,
    first: usize,
    n: A,
    delta: A,
) {
    simd::softmax_loss_sigmoid_backward_rows_body(y, z1, da1, w2t, t, first, n, delta);
}

/// The two bodies compiled for AVX2 too, chosen at run time.
mod simd {
    use super::*;

    crate::dispatch::dispatch_avx2_fma! {
        pub(super) fn sigmoid_affine_rows_body<A: Scalar>(
            z1: ArrayViewMut2<'_, A>,
            b1: ArrayView1<'_, A>,
            w2: &PaddedMatrix<A>,
            b2: ArrayView1<'_, A>,
            y: ArrayViewMut2<'_, A>,
        );
        pub(super) fn softmax_loss_sigmoid_backward_rows_body<A: Scalar>(
            y: ArrayViewMut2<'_, A>,
            z1: ArrayView2<'_, A>,
            da1: ArrayViewMut2<'_, A>,
            w2t: &PaddedMatrix<A>,
            t: Targets<'_, A>,
            first: usize,
            n: A,
            delta: A,
        );
    }
}
