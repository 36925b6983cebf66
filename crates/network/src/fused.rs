//! The fast paths of [`TwoLayerNet`]'s forward and backward passes, which the trainer runs:
//! the book's layers (`x → Affine → Sigmoid → Affine → SoftmaxWithLoss`, see
//! [`crate::layers`] and `two_layer_net.rs`) fused per block of samples and run in parallel,
//! with every buffer reused from call to call.
//!
//! Everything a sample needs, from `x·W1` to `∂L/∂a1`, depends on that sample alone, so it runs
//! in parallel over fixed blocks of rows: `x·W1` over the non-zero pixels (the sparse kernels of
//! `scratchnet_tensor::SparseRows`), then the rest of the row in the SIMD kernels of
//! `scratchnet_tensor::fused`. Then `dW1 = xᵀ·∂L/∂a1` runs in parallel over blocks of its rows,
//! and beside it the small sums over samples (`dW2`, `db1`, `db2`) on one thread; every entry is
//! summed in row order. No result depends on the number of threads.
//!
//! Crate-private: [`Net`](crate::Net) runs these for the chapter 4 spec. The test
//! `fused_backprop_equals_the_layers_one_by_one` (`fused/tests.rs`) holds
//! [`TwoLayerNet::gradient_fused`] to the book's [`TwoLayerNet::gradient`] within 1e-12 of the
//! gradient's max-norm, and `fused_forward_equals_the_book_forward` does the same for the forward
//! pass.

use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, ArrayView1, ArrayView2, ArrayViewMut2, Axis, Slice};
use rayon::prelude::*;
use scratchnet_functions::softmax;
use scratchnet_tensor::fused::{
    PaddedMatrix, sigmoid_affine_rows, softmax_loss_sigmoid_backward_rows,
};
use scratchnet_tensor::{Scalar, argmax_rows};

use crate::input::Input;
use crate::layers::{LossGradient, cross_entropy};
use crate::{Grads, Params, Targets, TwoLayerNet};

/// Samples per parallel task in the backward pass: small, so that a batch of 100 spreads over
/// the cores.
const GRAD_ROWS: usize = 8;
/// The most samples per parallel task when only the logits are wanted: whole data sets run in
/// blocks of this size, a mini-batch in blocks of [`GRAD_ROWS`].
const FORWARD_ROWS: usize = 64;

/// The buffers of [`TwoLayerNet::gradient_in`]: the hidden
/// activations and the backward signals of one batch, and the gradient itself. Made once and
/// passed to every call, they spare the allocations (and page faults) of a few hundred kilobytes
/// per gradient; they adapt to any batch or layer size
/// (`a_reused_workspace_gives_what_a_fresh_one_gives`).
#[derive(Clone, Debug)]
pub(crate) struct Workspace<A> {
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
    /// Empty buffers; the first gradient sizes them (`a_new_workspace_is_empty`).
    pub(crate) fn new() -> Self {
        Self {
            z1: Array2::zeros((0, 0)),
            da1: Array2::zeros((0, 0)),
            y: Array2::zeros((0, 0)),
            grads: Params::zeros(0, 0, 0),
        }
    }

    /// The gradient of the last call, keyed like the parameters.
    pub(crate) fn grads(&self) -> &Grads<A> {
        &self.grads
    }

    /// The gradient of the last call, taking it out of the workspace.
    pub(crate) fn into_grads(self) -> Grads<A> {
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

/// The fast paths: the same predictions, loss, accuracy and backprop gradient as the book's
/// methods of `two_layer_net.rs`, fused and parallel. [`Net`](crate::Net) runs these for the
/// chapter 4 spec; they are not public.
impl<A: Scalar> TwoLayerNet<A> {
    /// [`predict`](Self::predict), fused: `softmax(σ(x·W1 + b1)·W2 + b2)` in parallel over
    /// blocks of rows, the first layer over the non-zeros of `x` when it is sparse. Equal to the
    /// book's within 1e-12 (test `fused_forward_equals_the_book_forward`).
    ///
    /// # Panics
    /// If `x` does not have `input` columns.
    pub(crate) fn predict_fused<'x>(&self, x: impl Into<Input<'x, A>> + Send) -> Array2<A> {
        in_pool(|| softmax(&self.logits_fused(&x.into())))
    }

    /// [`loss`](Self::loss), fused: the batch-mean cross-entropy of
    /// [`predict_fused`](Self::predict_fused). The trainer's loss per iteration; equal to the
    /// book's [`loss`](Self::loss) within 1e-12 (test `fused_forward_equals_the_book_forward`).
    ///
    /// # Panics
    /// If `x` and the targets do not fit the net (a clear message, see [`Targets::check`];
    /// `a_bad_label_has_one_clear_message_everywhere`).
    pub(crate) fn loss_fused<'x, 't>(
        &self,
        x: impl Into<Input<'x, A>> + Send,
        t: impl Into<Targets<'t, A>>,
    ) -> A {
        let x = in_pool(|| x.into());
        let t = t.into();
        t.check(x.dim().0, self.sizes().2);
        cross_entropy(&self.predict_fused(x), t)
    }

    /// [`accuracy`](Self::accuracy), fused: the first layer runs in parallel over fixed
    /// blocks of rows (no full-size temporaries), so the result does not depend on the thread
    /// count. The trainer's per-epoch accuracy on the whole train and test sets; equal to the
    /// book's [`accuracy`](Self::accuracy) but where a near-tie of two classes rounds the other
    /// way (tests `fused_forward_equals_the_book_forward`, and on the MNIST test set
    /// `fused_forward_equals_the_books_on_the_test_set_in_any_shape`).
    ///
    /// # Panics
    /// If `x` and the targets do not fit the net.
    pub(crate) fn accuracy_fused<'x, 't>(
        &self,
        x: impl Into<Input<'x, A>> + Send,
        t: impl Into<Targets<'t, A>>,
    ) -> f64 {
        let x = in_pool(|| x.into());
        let t = t.into();
        t.check(x.dim().0, self.sizes().2);
        if t.is_empty() {
            return 0.0;
        }
        let labels = t.labels();
        let predicted = argmax_rows(&in_pool(|| self.logits_fused(&x)));
        let correct = predicted
            .iter()
            .zip(&labels)
            .filter(|(p, t)| p == t)
            .count();
        correct as f64 / labels.len() as f64
    }

    /// [`gradient`](Self::gradient), fused: backpropagation through the same layers per block
    /// of 8 samples, in parallel, into fresh buffers. Equal to the book's layer-by-layer
    /// gradient within 1e-12 of its max-norm (test `fused_backprop_equals_the_layers_one_by_one`).
    ///
    /// # Panics
    /// If `x` and the targets do not fit the net.
    pub(crate) fn gradient_fused<'x, 't>(
        &self,
        x: impl Into<Input<'x, A>> + Send,
        t: impl Into<Targets<'t, A>> + Send,
    ) -> Grads<A> {
        let mut ws = Workspace::new();
        self.gradient_in(x, t, &mut ws);
        ws.into_grads()
    }

    /// [`gradient_fused`](Self::gradient_fused) into the reusable buffers of `ws`, which it
    /// returns: the backprop of [`Net::step`](crate::Net::step) (the trainer's `--grad
    /// backprop`), allocating nothing once `ws` has the batch's size
    /// (`sgd_on_a_reused_workspace_lowers_the_loss`).
    ///
    /// # Panics
    /// If `x` and the targets do not fit the net.
    pub(crate) fn gradient_in<'x, 't, 'w>(
        &self,
        x: impl Into<Input<'x, A>> + Send,
        t: impl Into<Targets<'t, A>> + Send,
        ws: &'w mut Workspace<A>,
    ) -> &'w Grads<A> {
        in_pool(|| gradient(&self.params, &x.into(), t.into(), ws, LossGradient::Book))
    }

    fn logits_fused(&self, x: &Input<'_, A>) -> Array2<A> {
        logits(Weights::from(&self.params), x)
    }
}

/// The gradient of the batch-mean cross-entropy by backpropagation, into `ws.grads`, with the
/// softmax-with-loss gradient `lg` (training uses [`LossGradient::Book`]).
///
/// # Panics
/// If `x` or `t` do not fit the parameters.
pub(crate) fn gradient<'w, A: Scalar>(
    p: &Params<A>,
    x: &Input<'_, A>,
    t: Targets<'_, A>,
    ws: &'w mut Workspace<A>,
    lg: LossGradient,
) -> &'w Grads<A> {
    let (n, cols) = x.dim();
    let sizes = p.sizes();
    assert_eq!(cols, sizes.0, "x must have one column per input");
    t.check(n, sizes.2);
    ws.fit(n, sizes);
    let w2 = PaddedMatrix::new(p.w2.view());
    let w2t = PaddedMatrix::new(p.w2.t());
    let nn = A::of_f64(n as f64);
    let delta = lg.kernel_delta();
    let Workspace { z1, da1, y, grads } = &mut *ws;
    z1.axis_chunks_iter_mut(Axis(0), GRAD_ROWS)
        .into_par_iter()
        .zip(da1.axis_chunks_iter_mut(Axis(0), GRAD_ROWS))
        .zip(y.axis_chunks_iter_mut(Axis(0), GRAD_ROWS))
        .enumerate()
        .for_each(|(b, ((z1, da1), y))| {
            let rows = Rows { z1, da1, y };
            backward_rows(
                p.into(),
                (&w2, &w2t),
                x,
                t,
                b * GRAD_ROWS,
                (nn, delta),
                rows,
            );
        });
    // Affine backward, parameter parts (`dW = xᵀ·dout`, `db = Σ dout`, as in `layers::Affine`);
    // the small ones on one thread while the other threads start on dW1.
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
    let w2 = PaddedMatrix::new(p.w2);
    y.axis_chunks_iter_mut(Axis(0), block)
        .into_par_iter()
        .enumerate()
        // one hidden-layer buffer per thread, not per block
        .for_each_init(
            || Array2::zeros((block, hidden)),
            |z1, (b, y)| {
                // `slice_axis_mut`, not `s![]`, whose expansion allows unsafe code
                let z1 = z1.slice_axis_mut(Axis(0), Slice::from(..y.nrows()));
                forward_rows(p, &w2, x, b * block, z1, y);
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
#[inline]
fn backward_rows<A: Scalar>(
    p: Weights<'_, A>,
    (w2, w2t): (&PaddedMatrix<A>, &PaddedMatrix<A>),
    x: &Input<'_, A>,
    t: Targets<'_, A>,
    first: usize,
    (n, delta): (A, A),
    Rows { mut z1, da1, mut y }: Rows<'_, A>,
) {
    forward_rows(p, w2, x, first, z1.view_mut(), y.view_mut());
    // SoftmaxWithLoss backward (`delta` 0: the book's (y − t)/n), then Affine
    // (dz1 = da2·W2ᵀ) and Sigmoid backward
    softmax_loss_sigmoid_backward_rows(y, z1.view(), da1, w2t, t, first, n, delta);
}

/// Rows `first..first + z1.nrows()` of the forward pass: `z1 = σ(x·W1 + b1)` and the logits
/// `y = z1·W2 + b2`.
#[inline]
fn forward_rows<A: Scalar>(
    p: Weights<'_, A>,
    w2: &PaddedMatrix<A>,
    x: &Input<'_, A>,
    first: usize,
    mut z1: ArrayViewMut2<'_, A>,
    y: ArrayViewMut2<'_, A>,
) {
    x.dot_rows_into(first..first + z1.nrows(), p.w1, z1.view_mut());
    sigmoid_affine_rows(z1, p.b1, w2, p.b2, y);
}

#[cfg(test)]
mod tests;
