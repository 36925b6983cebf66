//! The input of the first layer, dense or sparse (MNIST images are about 81 % zeros).

use std::borrow::Cow;
use std::ops::Range;

use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, ArrayBase, ArrayView2, ArrayViewMut2, Data, Ix1, Ix2, s};
use scratchnet_tensor::{Scalar, SparseRows, affine};

/// Inputs with at most this fraction of non-zeros take the sparse products.
const SPARSE_BELOW: f64 = 0.5;

/// A batch `x` (one sample per row) as the first layer sees it.
///
/// Every method of [`TwoLayerNet`](crate::TwoLayerNet) that takes `x` takes anything that
/// converts into this: a dense array or view (stored sparse when at most half of it is non-zero),
/// or a [`SparseRows`] built once, for example for a whole data set whose mini-batches are then
/// gathered with [`SparseRows::gather_rows`]. Dense and sparse give the same results up to the
/// order of additions in the first layer.
///
/// ```
/// use ndarray::array;
/// use scratchnet_network::{Input, TwoLayerNet};
/// use scratchnet_tensor::SparseRows;
/// let net = TwoLayerNet::<f64>::new(3, 2, 2, 0.5, &mut scratchnet_tensor::rng_from_seed(0));
/// let x = array![[0.0, 1.0, 0.0], [0.5, 0.0, 0.0]];
/// let sparse = SparseRows::from_dense(&x);
/// let (a, b) = (net.loss(&x, &vec![0, 1]), net.loss(&sparse, &vec![0, 1]));
/// assert!((a - b).abs() < 1e-15);
/// assert_eq!(Input::from(&x).dim(), (2, 3));
/// ```
#[derive(Clone, Debug)]
pub enum Input<'a, A: Clone> {
    /// A dense batch.
    Dense(ArrayView2<'a, A>),
    /// The non-zeros of a batch.
    Sparse(Cow<'a, SparseRows<A>>),
}

impl<'a, A: Scalar> Input<'a, A> {
    /// `x` as is when more than half of it is non-zero, else its [`SparseRows`].
    pub fn auto(x: ArrayView2<'a, A>) -> Self {
        let s = SparseRows::from_dense(&x);
        if x.is_empty() || s.density() > SPARSE_BELOW {
            Input::Dense(x)
        } else {
            Input::Sparse(Cow::Owned(s))
        }
    }

    /// The same input, borrowed.
    pub fn reborrow(&self) -> Input<'_, A> {
        match self {
            Input::Dense(x) => Input::Dense(x.view()),
            Input::Sparse(s) => Input::Sparse(Cow::Borrowed(s.as_ref())),
        }
    }

    /// `(samples, features)`.
    pub fn dim(&self) -> (usize, usize) {
        match self {
            Input::Dense(x) => x.dim(),
            Input::Sparse(s) => s.dim(),
        }
    }

    /// `x·W + b`.
    pub(crate) fn affine<S1: Data<Elem = A>, S2: Data<Elem = A>>(
        &self,
        w: &ArrayBase<S1, Ix2>,
        b: &ArrayBase<S2, Ix1>,
    ) -> Array2<A> {
        match self {
            Input::Dense(x) => affine(x, w, b),
            Input::Sparse(s) => {
                assert_eq!(
                    b.len(),
                    w.ncols(),
                    "bias length must equal the columns of W"
                );
                let mut y = s.dot(w);
                y += b;
                y
            }
        }
    }

    /// Rows `rows` of `x·W` into `out`, on the calling thread.
    pub(crate) fn dot_rows_into(
        &self,
        rows: Range<usize>,
        w: ArrayView2<'_, A>,
        mut out: ArrayViewMut2<'_, A>,
    ) {
        match self {
            Input::Dense(x) => {
                general_mat_mul(A::one(), &x.slice(s![rows, ..]), &w, A::zero(), &mut out)
            }
            Input::Sparse(s) => s.dot_rows_into(rows, &w, out),
        }
    }

    /// `out = xᵀ·D`.
    pub(crate) fn t_dot_into(&self, d: ArrayView2<'_, A>, mut out: ArrayViewMut2<'_, A>) {
        match self {
            Input::Dense(x) => general_mat_mul(A::one(), &x.t(), &d, A::zero(), &mut out),
            Input::Sparse(s) => s.t_dot_into(&d, out),
        }
    }

    /// The non-zeros of row `r` as `(column, value)` pairs, columns ascending.
    pub(crate) fn row_nonzeros(&self, r: usize) -> Vec<(usize, A)> {
        match self {
            Input::Dense(x) => x
                .row(r)
                .iter()
                .enumerate()
                .filter(|(_, v)| **v != A::zero())
                .map(|(c, &v)| (c, v))
                .collect(),
            Input::Sparse(s) => {
                let (idx, val) = s.row(r);
                idx.iter()
                    .map(|&c| c as usize)
                    .zip(val.iter().copied())
                    .collect()
            }
        }
    }
}

impl<'a, A: Scalar, S: Data<Elem = A>> From<&'a ArrayBase<S, Ix2>> for Input<'a, A> {
    fn from(x: &'a ArrayBase<S, Ix2>) -> Self {
        Input::auto(x.view())
    }
}

impl<'a, A: Scalar> From<ArrayView2<'a, A>> for Input<'a, A> {
    fn from(x: ArrayView2<'a, A>) -> Self {
        Input::auto(x)
    }
}

impl<'a, A: Scalar> From<&'a SparseRows<A>> for Input<'a, A> {
    fn from(x: &'a SparseRows<A>) -> Self {
        Input::Sparse(Cow::Borrowed(x))
    }
}

impl<A: Scalar> From<SparseRows<A>> for Input<'static, A> {
    fn from(x: SparseRows<A>) -> Self {
        Input::Sparse(Cow::Owned(x))
    }
}
