//! The forward and backward passes of [`TwoLayerNet`](crate::TwoLayerNet), fused per block of
//! samples and run in parallel, with every buffer reused from call to call.
//!
//! Everything a sample needs, from `x·W1` to `∂L/∂a1`, depends on that sample alone, so it runs
//! in parallel over fixed blocks of rows. Then `dW1 = xᵀ·∂L/∂a1` runs in parallel over blocks of
//! its rows, and beside it the small sums over samples (`dW2`, `db1`, `db2`) on one thread; every
//! entry is summed in row order. No result depends on the number of threads.

use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, ArrayView1, ArrayView2, ArrayViewMut1, ArrayViewMut2, Axis, s};
use rayon::prelude::*;
use scratchnet_functions::sigmoid_scalar;
use scratchnet_tensor::Scalar;

use crate::input::Input;
use crate::layers::softmax_with_loss_backward_row;
use crate::{Grads, Params, Targets};

/// Samples per parallel task in the backward pass: small, so that a batch of 100 spreads over
/// the cores.
const GRAD_ROWS: usize = 8;
/// The most samples per parallel task when only the logits are wanted: whole data sets run in
/// blocks of this size, a mini-batch in blocks of [`GRAD_ROWS`].
const FORWARD_ROWS: usize = 64;

/// The buffers of [`TwoLayerNet::gradient_in`](crate::TwoLayerNet::gradient_in): the hidden
/// activations and the backward signals of one batch, and the gradient itself. Made once and
/// passed to every call, they spare the allocations (and page faults) of a few hundred kilobytes
/// per gradient; they adapt to any batch or layer size.
///
/// ```
/// use scratchnet_network::{TwoLayerNet, Workspace};
/// let net = TwoLayerNet::<f64>::new(3, 4, 2, 0.5, &mut scratchnet_tensor::rng_from_seed(0));
/// let x = ndarray::array![[0.0, 1.0, 0.5]];
/// let mut ws = Workspace::new();
/// let g = net.gradient_in(&x, &vec![1], &mut ws);
/// assert_eq!(g.w1.dim(), (3, 4));
/// assert_eq!(*g, net.gradient(&x, &vec![1]));
/// ```
#[derive(Clone, Debug)]
pub struct Workspace<A> {
    /// `σ(x·W1 + b1)`, one row per sample.
    z1: Array2<A>,
    /// ∂L/∂a1, one row per sample.
    da1: Array2<A>,
    /// The logits, then the softmax, then ∂L/∂a2, one row per sample.
    y: Array2<A>,
    grads: Grads<A>,
}

impl<A: Scalar> Default for Workspace<A> {
    fn default() -> Self {
        Self::new()
    }
}

impl<A: Scalar> Workspace<A> {
    /// Empty buffers; the first gradient sizes them.
    pub fn new() -> Self {
        Self {
            z1: Array2::zeros((0, 0)),
            da1: Array2::zeros((0, 0)),
            y: Array2::zeros((0, 0)),
            grads: Params::zeros(0, 0, 0),
        }
    }

    /// The gradient of the last call, keyed like the parameters.
    pub fn grads(&self) -> &Grads<A> {
        &self.grads
    }

    /// The gradient of the last call, taking it out of the workspace.
    pub fn into_grads(self) -> Grads<A> {
        self.grads
    }

    fn fit(&mut self, n: usize, (input, hidden, output): (usize, usize, usize)) {
        if self.z1.dim() != (n, hidden) {
            self.z1 = Array2::zeros((n, hidden));
            self.da1 = Array2::zeros((n, hidden));
        }
        if self.y.dim() != (n, output) {
            self.y = Array2::zeros((n, output));
        }
        if self.grads.sizes() != (input, hidden, output) {
            self.grads = Params::zeros(input, hidden, output);
        }
    }
}

/// The gradient of the batch-mean cross-entropy by backpropagation, into `ws.grads`.
///
/// # Panics
/// If `x` or `t` do not fit the parameters.
pub(crate) fn gradient<'w, A: Scalar>(
    p: &Params<A>,
    x: &Input<'_, A>,
    t: Targets<'_, A>,
    ws: &'w mut Workspace<A>,
) -> &'w Grads<A> {
    let (n, cols) = x.dim();
    let sizes = p.sizes();
    assert_eq!(cols, sizes.0, "x must have one column per input");
    assert_eq!(t.len(), n, "one target per row of x");
    if let Targets::OneHot(t) = t {
        assert_eq!(
            t.ncols(),
            sizes.2,
            "one-hot targets need one column per class"
        );
    }
    ws.fit(n, sizes);
    let w2 = Small::new(p.w2.view());
    let w2t = Small::new(p.w2.t());
    let nn = A::of_f64(n as f64);
    let Workspace { z1, da1, y, grads } = &mut *ws;
    z1.axis_chunks_iter_mut(Axis(0), GRAD_ROWS)
        .into_par_iter()
        .zip(da1.axis_chunks_iter_mut(Axis(0), GRAD_ROWS))
        .zip(y.axis_chunks_iter_mut(Axis(0), GRAD_ROWS))
        .enumerate()
        .for_each(|(b, ((z1, da1), y))| {
            let rows = Rows { z1, da1, y };
            simd::backward_rows(p.into(), (&w2, &w2t), x, t, b * GRAD_ROWS, nn, rows);
        });
    // Affine backward, parameter parts, as in `layers::affine_backward_params`; the small ones
    // on one thread while the other threads start on dW1.
    let Params { w1, b1, w2, b2 } = grads;
    rayon::join(
        || x.t_dot_into(da1.view(), w1.view_mut()),
        || {
            general_mat_mul(A::one(), &z1.t(), &*y, A::zero(), w2);
            b2.assign(&y.sum_axis(Axis(0)));
            b1.assign(&da1.sum_axis(Axis(0)));
        },
    );
    &ws.grads
}

/// Runs `f` on a thread of rayon's pool. Called from outside the pool, the parallel regions in
/// `f` then start on the calling thread plus the others, where each would otherwise hand its
/// work over and put the caller to sleep and wake it again: one hand-over instead of several.
pub(crate) fn in_pool<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    if rayon::current_thread_index().is_some() {
        f()
    } else {
        rayon::scope(|_| f())
    }
}

/// Views of the four parameter tensors, any of which may be a perturbed copy.
#[derive(Clone, Copy)]
pub(crate) struct Weights<'a, A> {
    pub w1: ArrayView2<'a, A>,
    pub b1: ArrayView1<'a, A>,
    pub w2: ArrayView2<'a, A>,
    pub b2: ArrayView1<'a, A>,
}

impl<'a, A: Scalar> From<&'a Params<A>> for Weights<'a, A> {
    fn from(p: &'a Params<A>) -> Self {
        Self {
            w1: p.w1.view(),
            b1: p.b1.view(),
            w2: p.w2.view(),
            b2: p.b2.view(),
        }
    }
}

/// The logits `σ(x·W1 + b1)·W2 + b2`, in parallel over blocks of rows.
///
/// # Panics
/// If `x` does not have one column per input or the shapes do not fit together.
pub(crate) fn logits<A: Scalar>(p: Weights<'_, A>, x: &Input<'_, A>) -> Array2<A> {
    let (n, cols) = x.dim();
    let (input, hidden, output) = (p.w1.nrows(), p.w1.ncols(), p.w2.ncols());
    assert!(
        p.b1.len() == hidden && p.w2.nrows() == hidden && p.b2.len() == output,
        "parameter shapes do not fit together"
    );
    assert_eq!(cols, input, "x must have one column per input");
    let mut y = Array2::zeros((n, output));
    // the block size changes nothing but the speed: every row is computed on its own
    let block = (n / 16).clamp(GRAD_ROWS, FORWARD_ROWS);
    let w2 = Small::new(p.w2);
    y.axis_chunks_iter_mut(Axis(0), block)
        .into_par_iter()
        .enumerate()
        // one hidden-layer buffer per thread, not per block
        .for_each_init(
            || Array2::zeros((block, hidden)),
            |z1, (b, y)| {
                let z1 = z1.slice_mut(s![..y.nrows(), ..]);
                simd::forward_rows(p, &w2, x, b * block, z1, y);
            },
        );
    y
}

/// One block of rows of the batch: `z1 = σ(a1)`, `∂L/∂a1` and `y` (logits, softmax, `∂L/∂a2`).
struct Rows<'a, A> {
    z1: ArrayViewMut2<'a, A>,
    da1: ArrayViewMut2<'a, A>,
    y: ArrayViewMut2<'a, A>,
}

/// Rows `first..` of the batch through the forward pass and back to `∂L/∂a1`.
#[inline(always)]
fn backward_rows<A: Scalar>(
    p: Weights<'_, A>,
    (w2, w2t): (&Small<A>, &Small<A>),
    x: &Input<'_, A>,
    t: Targets<'_, A>,
    first: usize,
    n: A,
    Rows {
        mut z1,
        mut da1,
        mut y,
    }: Rows<'_, A>,
) {
    forward_rows(p, w2, x, first, z1.view_mut(), y.view_mut());
    for (r, ((mut y, z), mut d)) in y
        .rows_mut()
        .into_iter()
        .zip(z1.rows())
        .zip(da1.rows_mut())
        .enumerate()
    {
        softmax_row(y.view_mut());
        // SoftmaxWithLoss backward, then Affine (dz1 = da2·W2ᵀ) and Sigmoid backward
        softmax_with_loss_backward_row(y.view_mut(), t, first + r, n);
        let slice = "rows of a standard-layout array are contiguous";
        w2t.times(y.as_slice().expect(slice), d.as_slice_mut().expect(slice));
        for (d, &z) in d.iter_mut().zip(&z) {
            *d = *d * z * (A::one() - z);
        }
    }
}

/// Rows `first..first + z1.nrows()` of the forward pass: `z1 = σ(x·W1 + b1)` and the logits
/// `y = z1·W2 + b2`.
#[inline(always)]
fn forward_rows<A: Scalar>(
    p: Weights<'_, A>,
    w2: &Small<A>,
    x: &Input<'_, A>,
    first: usize,
    mut z1: ArrayViewMut2<'_, A>,
    mut y: ArrayViewMut2<'_, A>,
) {
    x.dot_rows_into(first..first + z1.nrows(), p.w1, z1.view_mut());
    // plain slice loops: they inline into the AVX2 copy of this function and vectorise
    let (b1, b2) = (p.b1.to_vec(), p.b2.to_vec());
    let slice = "rows of a standard-layout array are contiguous";
    for (mut z, mut y) in z1.rows_mut().into_iter().zip(y.rows_mut()) {
        let z = z.as_slice_mut().expect(slice);
        for (a, &b) in z.iter_mut().zip(&b1) {
            *a = sigmoid_scalar(*a + b);
        }
        // `affine` adds the bias after the product
        let y = y.as_slice_mut().expect(slice);
        w2.times(z, y);
        for (a, &b) in y.iter_mut().zip(&b2) {
            *a += b;
        }
    }
}

/// Output entries of [`Small::times`] kept in registers at once.
const CHUNK: usize = 16;

/// A small matrix (the second layer's `W2` or `W2ᵀ`) copied with its rows padded by zeros to
/// whole [`CHUNK`]s, so that a row-vector product can hold a chunk of sums in registers.
struct Small<A> {
    data: Vec<A>,
    rows: usize,
    cols: usize,
    stride: usize,
}

impl<A: Scalar> Small<A> {
    fn new(m: ArrayView2<'_, A>) -> Self {
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

/// Softmax of one row in place, the same operations as [`scratchnet_functions::softmax`].
#[inline(always)]
fn softmax_row<A: Scalar>(mut row: ArrayViewMut1<'_, A>) {
    let max = row.fold(A::neg_infinity(), |m, &v| m.max(v));
    row.mapv_inplace(|v| (v - max).exp());
    let sum = row.sum();
    row.mapv_inplace(|v| v / sum);
}

/// [`backward_rows`] and [`forward_rows`] compiled for AVX2 too, chosen at run time (see
/// [`scratchnet_tensor::dispatch_avx2_fma`]). They use no `mul_add`, so both copies give the
/// same bits.
mod simd {
    use super::*;

    scratchnet_tensor::dispatch_avx2_fma! {
        pub(super) fn backward_rows<A: Scalar>(
            p: Weights<'_, A>,
            w2: (&Small<A>, &Small<A>),
            x: &Input<'_, A>,
            t: Targets<'_, A>,
            first: usize,
            n: A,
            rows: Rows<'_, A>,
        );
        pub(super) fn forward_rows<A: Scalar>(
            p: Weights<'_, A>,
            w2: &Small<A>,
            x: &Input<'_, A>,
            first: usize,
            z1: ArrayViewMut2<'_, A>,
            y: ArrayViewMut2<'_, A>,
        );
    }
}
