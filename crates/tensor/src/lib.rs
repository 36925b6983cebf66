//! Scalar trait, reproducible RNG and array helpers shared by every scratchnet crate.
//!
//! This is the bottom layer: it does no I/O and holds no global state. Everything here is
//! generic over [`Scalar`] (`f32` or `f64`; `f64` is the default elsewhere in the workspace).
//! It is also the one crate with `unsafe` code: the run-time AVX2 dispatch of its SIMD kernels
//! (the sparse products of [`SparseRows`] and the two-layer net's fused rows in [`fused`]),
//! each behind a safe function, so that every other crate can `forbid(unsafe_code)`.
//!
//! ```
//! use ndarray::array;
//! use scratchnet_tensor::{affine, argmax_rows, one_hot};
//!
//! let x = array![[1.0, 2.0]];
//! let w = array![[1.0, 0.0, -1.0], [0.0, 1.0, 1.0]];
//! let b = array![0.5, 0.0, 0.0];
//! let y = affine(&x, &w, &b);
//! assert_eq!(y, array![[1.5, 2.0, 1.0]]);
//! assert_eq!(argmax_rows(&y), vec![1]);
//! assert_eq!(one_hot::<f64>(&[1], 3), array![[0.0, 1.0, 0.0]]);
//! ```

pub mod conv;
mod dispatch;
mod exp;
pub mod fused;
mod optim;
mod rng;
mod scalar;
mod sparse;
mod targets;

pub use exp::{exp, sigmoid_scalar};
pub use optim::adam_update;
pub use rng::{Rng, RngState, choice_with_replacement, randn, rng_from_seed, shuffled_indices};
pub use scalar::Scalar;
pub use sparse::SparseRows;
pub use targets::Targets;

use ndarray::{Array, Array2, ArrayBase, Axis, Data, Ix1, Ix2, RemoveAxis};

/// Index of the largest element of a 1-D array (first one on ties, like `np.argmax`).
///
/// NaN never wins a comparison, so a NaN entry is skipped unless every entry is NaN.
///
/// # Panics
/// If `a` is empty.
///
/// ```
/// use ndarray::array;
/// assert_eq!(scratchnet_tensor::argmax(&array![0.1, 0.8, 0.1]), 1);
/// ```
pub fn argmax<A: Scalar, S: Data<Elem = A>>(a: &ArrayBase<S, Ix1>) -> usize {
    assert!(!a.is_empty(), "argmax of an empty array");
    let mut best = 0;
    let mut best_v = a[0];
    for (i, &v) in a.iter().enumerate().skip(1) {
        if v > best_v || (best_v.is_nan() && !v.is_nan()) {
            best = i;
            best_v = v;
        }
    }
    best
}

/// Row-wise [`argmax`] of a 2-D array: `np.argmax(a, axis=1)`.
///
/// # Panics
/// If `a` has zero columns and at least one row.
///
/// ```
/// use ndarray::array;
/// let y = array![[0.1, 0.9], [0.7, 0.3]];
/// assert_eq!(scratchnet_tensor::argmax_rows(&y), vec![1, 0]);
/// ```
pub fn argmax_rows<A: Scalar, S: Data<Elem = A>>(a: &ArrayBase<S, Ix2>) -> Vec<usize> {
    a.rows().into_iter().map(|r| argmax(&r)).collect()
}

/// One-hot encoding: row `n` is all zeros except a one at column `labels[n]`.
///
/// # Panics
/// If a label is `>= classes`.
///
/// ```
/// use ndarray::array;
/// let t = scratchnet_tensor::one_hot::<f32>(&[2, 0], 3);
/// assert_eq!(t, array![[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]);
/// ```
pub fn one_hot<A: Scalar>(labels: &[usize], classes: usize) -> Array2<A> {
    let mut t = Array2::zeros((labels.len(), classes));
    for (n, &l) in labels.iter().enumerate() {
        assert!(l < classes, "label {l} out of range for {classes} classes");
        t[[n, l]] = A::one();
    }
    t
}

/// The affine map `x·W + b`, with `b` broadcast over the rows of `x`.
///
/// # Panics
/// If `x.ncols() != w.nrows()` or `b.len() != w.ncols()`.
///
/// ```
/// use ndarray::array;
/// let y = scratchnet_tensor::affine(&array![[1.0, 1.0]], &array![[1.0], [2.0]], &array![0.5]);
/// assert_eq!(y, array![[3.5]]);
/// ```
pub fn affine<A, S1, S2, S3>(
    x: &ArrayBase<S1, Ix2>,
    w: &ArrayBase<S2, Ix2>,
    b: &ArrayBase<S3, Ix1>,
) -> Array2<A>
where
    A: Scalar,
    S1: Data<Elem = A>,
    S2: Data<Elem = A>,
    S3: Data<Elem = A>,
{
    assert_eq!(
        b.len(),
        w.ncols(),
        "bias length must equal the columns of W"
    );
    let mut y = x.dot(w);
    y += b;
    y
}

/// Gathers the rows (entries along axis 0) named by `indices`, in that order, repeats allowed:
/// `x[indices]` in numpy. Only the selected rows are copied.
///
/// # Panics
/// If an index is out of bounds.
///
/// ```
/// use ndarray::array;
/// let x = array![[0, 0], [1, 1], [2, 2]];
/// assert_eq!(scratchnet_tensor::gather_rows(&x, &[2, 0, 2]), array![[2, 2], [0, 0], [2, 2]]);
/// ```
pub fn gather_rows<A, S, D>(x: &ArrayBase<S, D>, indices: &[usize]) -> Array<A, D>
where
    A: Clone,
    S: Data<Elem = A>,
    D: RemoveAxis,
{
    x.select(Axis(0), indices)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn argmax_first_on_ties_and_skips_nan() {
        assert_eq!(argmax(&array![1.0, 3.0, 3.0]), 1);
        assert_eq!(argmax(&array![f64::NAN, 0.5, 0.2]), 1);
        assert_eq!(argmax(&array![-1.0f32]), 0);
    }

    #[test]
    fn one_hot_roundtrips_through_argmax() {
        let labels = [3, 0, 9, 9, 5];
        let t = one_hot::<f64>(&labels, 10);
        assert_eq!(t.sum(), 5.0);
        assert_eq!(argmax_rows(&t), labels.to_vec());
    }

    #[test]
    #[should_panic(expected = "out of range")]
    fn one_hot_rejects_big_label() {
        one_hot::<f64>(&[10], 10);
    }

    #[test]
    fn affine_matches_hand_computation() {
        let x = array![[1.0, 2.0], [3.0, 4.0]];
        let w = array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]];
        let b = array![1.0, -1.0, 0.0];
        assert_eq!(
            affine(&x, &w, &b),
            array![[10.0, 11.0, 15.0], [20.0, 25.0, 33.0]]
        );
    }

    #[test]
    fn gather_rows_of_3d() {
        let x = Array::from_shape_fn((3, 2, 2), |(i, j, k)| (i * 100 + j * 10 + k) as f64);
        let g = gather_rows(&x, &[1, 1]);
        assert_eq!(g.shape(), &[2, 2, 2]);
        assert_eq!(g[[1, 1, 1]], 111.0);
    }
}
