//! The input of the first layer, dense or sparse (MNIST images are about 81 % zeros).

use std::borrow::Cow;
use std::ops::Range;

use ndarray::linalg::general_mat_mul;
use ndarray::{
    Array2, ArrayBase, ArrayView2, ArrayViewD, ArrayViewMut2, Axis, CowArray, Data, Ix1, Ix2,
    IxDyn, Slice,
};
use scratchnet_tensor::{Scalar, SparseRows, affine};

/// Inputs with at most this fraction of non-zeros take the sparse products.
const SPARSE_BELOW: f64 = 0.5;

/// A batch `x` (one sample per row) as the first layer sees it.
///
/// Every method of [`TwoLayerNet`](crate::TwoLayerNet) that takes `x` takes anything that
/// converts into this: a dense 2-D array or view (stored sparse when at most half of it is
/// non-zero), an `ArrayD` or `ArrayViewD` of any shape `(N, …)` such as the images of
/// `scratchnet_mnist::load_mnist` (`(N, 784)` flattened or `(N, 1, 28, 28)`; every axis after
/// the first is flattened, like the book's `Affine` does with `x.reshape(x.shape[0], -1)`), or a
/// [`SparseRows`] built once, for example for a whole data set whose mini-batches are then
/// gathered with [`SparseRows::gather_rows`]. Dense and sparse give the same results up to the
/// order of additions in the first layer.
///
/// ```
/// use ndarray::{ArrayD, IxDyn};
/// use scratchnet_network::{Input, TwoLayerNet};
/// // images as `load_mnist` returns them without flattening: (N, 1, 28, 28)
/// let images = ArrayD::<f32>::from_elem(IxDyn(&[2, 1, 28, 28]), 0.5);
/// assert_eq!(Input::from(&images).dim(), (2, 784));
/// let net = TwoLayerNet::<f32>::new(784, 10, 10, 0.01, &mut scratchnet_tensor::rng_from_seed(0));
/// assert_eq!(net.predict(&images).dim(), (2, 10));
/// assert_eq!(net.predict(images.view()).dim(), (2, 10));
/// ```
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
    ///
    /// ```
    /// use ndarray::array;
    /// use scratchnet_network::Input;
    /// assert!(matches!(Input::auto(array![[1.0, 2.0]].view()), Input::Dense(_)));
    /// assert!(matches!(Input::auto(array![[0.0, 0.0, 2.0]].view()), Input::Sparse(_)));
    /// ```
    pub fn auto(x: ArrayView2<'a, A>) -> Self {
        let s = SparseRows::from_dense(&x);
        if x.is_empty() || s.density() > SPARSE_BELOW {
            Input::Dense(x)
        } else {
            Input::Sparse(Cow::Owned(s))
        }
    }

    /// The same input, borrowed.
    ///
    /// ```
    /// let x = ndarray::array![[1.0, 2.0]];
    /// let input = scratchnet_network::Input::from(&x);
    /// assert_eq!(input.reborrow().dim(), input.dim());
    /// ```
    pub fn reborrow(&self) -> Input<'_, A> {
        match self {
            Input::Dense(x) => Input::Dense(x.view()),
            Input::Sparse(s) => Input::Sparse(Cow::Borrowed(s.as_ref())),
        }
    }

    /// `(samples, features)`.
    ///
    /// ```
    /// let x = ndarray::Array2::<f32>::zeros((4, 3));
    /// assert_eq!(scratchnet_network::Input::from(&x).dim(), (4, 3));
    /// ```
    pub fn dim(&self) -> (usize, usize) {
        match self {
            Input::Dense(x) => x.dim(),
            Input::Sparse(s) => s.dim(),
        }
    }

    /// The batch as a dense array: a view of a dense input, a dense copy of a sparse one. The
    /// book's layers ([`crate::layers`]) work on this.
    ///
    /// ```
    /// use ndarray::array;
    /// use scratchnet_network::Input;
    /// let x = array![[0.0, 1.0], [0.0, 0.0]];
    /// assert_eq!(Input::from(scratchnet_tensor::SparseRows::from_dense(&x)).to_dense(), x);
    /// ```
    pub fn to_dense(&self) -> CowArray<'_, A, Ix2> {
        match self {
            Input::Dense(x) => CowArray::from(x.view()),
            Input::Sparse(s) => {
                let (n, cols) = s.dim();
                let mut x = Array2::zeros((n, cols));
                for (r, mut row) in x.rows_mut().into_iter().enumerate() {
                    let (idx, val) = s.row(r);
                    for (&c, &v) in idx.iter().zip(val) {
                        row[c as usize] = v;
                    }
                }
                CowArray::from(x)
            }
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
                // `slice_axis`, not `s![]`: the macro's expansion carries `allow(unsafe_code)`,
                // which this crate's `forbid` rejects
                let x = x.slice_axis(Axis(0), Slice::from(rows));
                general_mat_mul(A::one(), &x, &w, A::zero(), &mut out)
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

/// An array of any shape `(N, …)`, flattened to `(N, features)` as the book's `Affine` does.
///
/// # Panics
/// If `x` has no axis at all (a scalar array).
impl<'a, A: Scalar> From<ArrayViewD<'a, A>> for Input<'a, A> {
    fn from(x: ArrayViewD<'a, A>) -> Self {
        assert!(
            x.ndim() >= 1,
            "x must have one sample per entry of its first axis: shape (N, ...), got a scalar"
        );
        let n = x.shape()[0];
        let features: usize = x.shape()[1..].iter().product();
        if x.is_standard_layout() {
            let flat = x
                .into_shape_with_order((n, features))
                .expect("a standard-layout array reshapes without copying");
            Input::auto(flat)
        } else {
            // strided: the flattened rows must be copied; the sparse form is the copy this owns
            let flat = x
                .as_standard_layout()
                .into_owned()
                .into_shape_with_order((n, features))
                .expect("a standard-layout array reshapes without copying");
            Input::Sparse(Cow::Owned(SparseRows::from_dense(&flat)))
        }
    }
}

/// See the [`ArrayViewD`] form.
impl<'a, A: Scalar, S: Data<Elem = A>> From<&'a ArrayBase<S, IxDyn>> for Input<'a, A> {
    fn from(x: &'a ArrayBase<S, IxDyn>) -> Self {
        Input::from(x.view())
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
