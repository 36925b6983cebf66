//! The input of the first layer, stored sparse when it is mostly zeros (as MNIST images are).

use ndarray::{Array1, Array2, ArrayBase, ArrayView2, Data, Ix1, Ix2};
use scratchnet_tensor::{Scalar, SparseRows, affine};

/// Inputs with at most this fraction of non-zeros take the sparse products.
const SPARSE_BELOW: f64 = 0.5;

/// `x`, dense or as [`SparseRows`]; both give `x·W + b` and `xᵀ·D` up to rounding.
pub(crate) enum Input<'a, A> {
    Dense(ArrayView2<'a, A>),
    Sparse(SparseRows<A>),
}

impl<'a, A: Scalar> Input<'a, A> {
    pub(crate) fn new(x: ArrayView2<'a, A>) -> Self {
        let nnz = x.iter().filter(|&&v| v != A::zero()).count();
        if x.is_empty() || nnz as f64 > SPARSE_BELOW * x.len() as f64 {
            Input::Dense(x)
        } else {
            Input::Sparse(SparseRows::from_dense(&x))
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

    /// `dW = xᵀ·dout` and `db = Σ_rows dout`: the parameter part of the Affine backward.
    pub(crate) fn affine_backward_params(&self, dout: &Array2<A>) -> (Array2<A>, Array1<A>) {
        match self {
            Input::Dense(x) => crate::layers::affine_backward_params(x, dout),
            Input::Sparse(s) => (s.t_dot(dout), dout.sum_axis(ndarray::Axis(0))),
        }
    }
}
