use ndarray::{Array2, ArrayBase, Data, Ix2};
use rayon::prelude::*;

use crate::Scalar;

/// Rows of `x·W` per parallel task (fixed, so results do not depend on the thread count).
const ROW_BLOCK: usize = 16;
/// Rows of `xᵀ·D` per parallel task.
const COL_BLOCK: usize = 64;

/// The non-zero entries of a 2-D array, indexed by row and by column.
///
/// MNIST images are about 81 % zeros, so `x·W` and `xᵀ·D` over the non-zeros do a fifth of the
/// work of the dense products. Both run in parallel over fixed blocks of output rows, and each
/// output entry is summed in the same order (ascending column for `x·W`, ascending row for
/// `xᵀ·D`) whatever the number of threads.
///
/// ```
/// use ndarray::array;
/// use scratchnet_tensor::SparseRows;
/// let x = array![[0.0, 2.0, 0.0], [1.0, 0.0, 0.0]];
/// let w = array![[1.0, 1.0], [2.0, 3.0], [5.0, 8.0]];
/// let s = SparseRows::from_dense(&x);
/// assert_eq!(s.nnz(), 2);
/// assert_eq!(s.dot(&w), x.dot(&w));
/// assert_eq!(s.t_dot(&array![[1.0], [4.0]]), x.t().dot(&array![[1.0], [4.0]]));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct SparseRows<A> {
    nrows: usize,
    ncols: usize,
    /// Row `r`'s entries are `row_idx[row_ptr[r]..row_ptr[r + 1]]` (their columns) and `row_val[..]`.
    row_ptr: Vec<usize>,
    row_idx: Vec<usize>,
    row_val: Vec<A>,
    /// The same entries by column: column `c`'s rows are `col_idx[col_ptr[c]..col_ptr[c + 1]]`.
    col_ptr: Vec<usize>,
    col_idx: Vec<usize>,
    col_val: Vec<A>,
}

impl<A: Scalar> SparseRows<A> {
    /// Collects the non-zero entries of `x`.
    pub fn from_dense<S: Data<Elem = A>>(x: &ArrayBase<S, Ix2>) -> Self {
        let (nrows, ncols) = x.dim();
        let x = x.as_standard_layout();
        let xs = x.as_slice().expect("standard layout is contiguous");
        let mut row_ptr = Vec::with_capacity(nrows + 1);
        let mut row_idx = Vec::new();
        let mut row_val = Vec::new();
        let mut col_count = vec![0usize; ncols];
        row_ptr.push(0);
        if ncols > 0 {
            for row in xs.chunks_exact(ncols) {
                for (c, &v) in row.iter().enumerate() {
                    if v != A::zero() {
                        row_idx.push(c);
                        row_val.push(v);
                        col_count[c] += 1;
                    }
                }
                row_ptr.push(row_idx.len());
            }
        } else {
            row_ptr.resize(nrows + 1, 0);
        }
        // counting sort by column; rows stay ascending within a column
        let mut col_ptr = Vec::with_capacity(ncols + 1);
        col_ptr.push(0);
        for &n in &col_count {
            col_ptr.push(col_ptr.last().copied().unwrap_or(0) + n);
        }
        let mut next = col_ptr[..ncols].to_vec();
        let mut col_idx = vec![0; row_idx.len()];
        let mut col_val = vec![A::zero(); row_idx.len()];
        for r in 0..nrows {
            for e in row_ptr[r]..row_ptr[r + 1] {
                let c = row_idx[e];
                col_idx[next[c]] = r;
                col_val[next[c]] = row_val[e];
                next[c] += 1;
            }
        }
        Self {
            nrows,
            ncols,
            row_ptr,
            row_idx,
            row_val,
            col_ptr,
            col_idx,
            col_val,
        }
    }

    /// Number of stored (non-zero) entries.
    pub fn nnz(&self) -> usize {
        self.row_val.len()
    }

    /// Fraction of entries that are non-zero (0 for an empty array).
    pub fn density(&self) -> f64 {
        let len = self.nrows * self.ncols;
        if len == 0 {
            0.0
        } else {
            self.nnz() as f64 / len as f64
        }
    }

    /// `(column, value)` of the non-zeros of row `r`, in column order.
    pub fn row(&self, r: usize) -> impl Iterator<Item = (usize, A)> + '_ {
        let span = self.row_ptr[r]..self.row_ptr[r + 1];
        self.row_idx[span.clone()]
            .iter()
            .copied()
            .zip(self.row_val[span].iter().copied())
    }

    /// `(row, value)` of the non-zeros of column `c`, in row order.
    pub fn col(&self, c: usize) -> impl Iterator<Item = (usize, A)> + '_ {
        let span = self.col_ptr[c]..self.col_ptr[c + 1];
        self.col_idx[span.clone()]
            .iter()
            .copied()
            .zip(self.col_val[span].iter().copied())
    }

    /// `x·W`.
    ///
    /// # Panics
    /// If `w.nrows()` is not the number of columns of `x`.
    pub fn dot<S: Data<Elem = A>>(&self, w: &ArrayBase<S, Ix2>) -> Array2<A> {
        assert_eq!(
            w.nrows(),
            self.ncols,
            "x·W needs W to have one row per column of x"
        );
        let k = w.ncols();
        let w = w.as_standard_layout();
        let ws = w.as_slice().expect("standard layout is contiguous");
        let mut y = vec![A::zero(); self.nrows * k];
        if k > 0 {
            y.par_chunks_mut(ROW_BLOCK * k)
                .enumerate()
                .for_each(|(b, block)| {
                    for (i, out) in block.chunks_exact_mut(k).enumerate() {
                        for (c, v) in self.row(b * ROW_BLOCK + i) {
                            axpy(out, v, &ws[c * k..(c + 1) * k]);
                        }
                    }
                });
        }
        Array2::from_shape_vec((self.nrows, k), y).expect("length is rows × cols")
    }

    /// `xᵀ·D`.
    ///
    /// # Panics
    /// If `d.nrows()` is not the number of rows of `x`.
    pub fn t_dot<S: Data<Elem = A>>(&self, d: &ArrayBase<S, Ix2>) -> Array2<A> {
        assert_eq!(
            d.nrows(),
            self.nrows,
            "xᵀ·D needs D to have one row per row of x"
        );
        let k = d.ncols();
        let d = d.as_standard_layout();
        let ds = d.as_slice().expect("standard layout is contiguous");
        let mut y = vec![A::zero(); self.ncols * k];
        if k > 0 {
            y.par_chunks_mut(COL_BLOCK * k)
                .enumerate()
                .for_each(|(b, block)| {
                    for (i, out) in block.chunks_exact_mut(k).enumerate() {
                        for (r, v) in self.col(b * COL_BLOCK + i) {
                            axpy(out, v, &ds[r * k..(r + 1) * k]);
                        }
                    }
                });
        }
        Array2::from_shape_vec((self.ncols, k), y).expect("length is cols × cols of D")
    }
}

/// `out += a·x`, written as a plain slice loop so that it vectorises.
#[inline]
fn axpy<A: Scalar>(out: &mut [A], a: A, x: &[A]) {
    for (o, &v) in out.iter_mut().zip(x) {
        *o += a * v;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{randn, rng_from_seed};

    #[test]
    fn products_match_dense_on_random_sparse_input() {
        let mut rng = rng_from_seed(3);
        let mut x = randn::<f64, _>((13, 17), 1.0, &mut rng);
        x.mapv_inplace(|v| if v > 0.5 { v } else { 0.0 });
        let w = randn::<f64, _>((17, 5), 1.0, &mut rng);
        let d = randn::<f64, _>((13, 4), 1.0, &mut rng);
        let s = SparseRows::from_dense(&x);
        assert!(s.density() < 0.5);
        let close =
            |a: &Array2<f64>, b: &Array2<f64>| a.iter().zip(b).all(|(p, q)| (p - q).abs() < 1e-12);
        assert!(close(&s.dot(&w), &x.dot(&w)));
        assert!(close(&s.t_dot(&d), &x.t().dot(&d)));
    }

    #[test]
    fn products_do_not_depend_on_the_thread_count() {
        let mut rng = rng_from_seed(4);
        let mut x = randn::<f64, _>((100, 300), 1.0, &mut rng);
        x.mapv_inplace(|v| if v > 0.8 { v } else { 0.0 });
        let w = randn::<f64, _>((300, 50), 1.0, &mut rng);
        let d = randn::<f64, _>((100, 50), 1.0, &mut rng);
        let s = SparseRows::from_dense(&x);
        let run = |n| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build()
                .unwrap()
                .install(|| (s.dot(&w), s.t_dot(&d)))
        };
        assert_eq!(run(1), run(3));
    }

    #[test]
    fn empty_and_all_zero_inputs() {
        let s = SparseRows::from_dense(&Array2::<f32>::zeros((3, 4)));
        assert_eq!(s.nnz(), 0);
        assert_eq!(s.dot(&Array2::ones((4, 2))), Array2::zeros((3, 2)));
        let e = SparseRows::from_dense(&Array2::<f32>::zeros((0, 4)));
        assert_eq!(e.density(), 0.0);
        assert_eq!(
            e.t_dot(&Array2::<f32>::zeros((0, 2))),
            Array2::zeros((4, 2))
        );
    }
}
