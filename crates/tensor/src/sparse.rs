use ndarray::{Array2, ArrayBase, ArrayView2, Data, Ix2};
use rayon::prelude::*;

use crate::Scalar;

/// Rows per block: the unit of parallel work of [`SparseRows::from_dense`] and [`SparseRows::dot`].
const ROW_BLOCK: usize = 16;
/// [`SparseRows::t_dot`] splits the columns of `D` into this many parallel parts.
const T_DOT_PARTS: usize = 2;

/// The non-zero entries of a 2-D array, row by row (compressed sparse rows, in blocks of rows).
///
/// MNIST images are about 81 % zeros, so `x·W` and `xᵀ·D` over the non-zeros do a fifth of the
/// work of the dense products. Building and both products run in parallel over parts fixed by the
/// shapes (never by the thread count), and every output entry is summed in the same order
/// (ascending column for `x·W`, ascending row for `xᵀ·D`), so results do not depend on threads.
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
    blocks: Vec<Block<A>>,
}

/// Up to [`ROW_BLOCK`] consecutive rows: row `r`'s entries are `idx[ptr[r]..ptr[r + 1]]` (their
/// columns) and `val[..]`.
#[derive(Clone, Debug, PartialEq)]
struct Block<A> {
    ptr: Vec<usize>,
    idx: Vec<usize>,
    val: Vec<A>,
}

impl<A: Scalar> Block<A> {
    fn from_rows(rows: ArrayView2<'_, A>) -> Self {
        let mut ptr = Vec::with_capacity(rows.nrows() + 1);
        let mut idx = Vec::new();
        let mut val = Vec::new();
        ptr.push(0);
        for row in rows.rows() {
            for (c, &v) in row.iter().enumerate() {
                if v != A::zero() {
                    idx.push(c);
                    val.push(v);
                }
            }
            ptr.push(idx.len());
        }
        Self { ptr, idx, val }
    }

    fn rows(&self) -> impl Iterator<Item = (&[usize], &[A])> + '_ {
        self.ptr
            .windows(2)
            .map(|w| (&self.idx[w[0]..w[1]], &self.val[w[0]..w[1]]))
    }
}

impl<A: Scalar> SparseRows<A> {
    /// Collects the non-zero entries of `x`.
    pub fn from_dense<S: Data<Elem = A>>(x: &ArrayBase<S, Ix2>) -> Self {
        let (nrows, ncols) = x.dim();
        let blocks = x
            .axis_chunks_iter(ndarray::Axis(0), ROW_BLOCK)
            .into_par_iter()
            .map(Block::from_rows)
            .collect();
        Self {
            nrows,
            ncols,
            blocks,
        }
    }

    /// Number of stored (non-zero) entries.
    pub fn nnz(&self) -> usize {
        self.blocks.iter().map(|b| b.val.len()).sum()
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

    /// `(columns, values)` of the non-zeros of each row, rows in order, columns ascending.
    pub fn rows(&self) -> impl Iterator<Item = (&[usize], &[A])> + '_ {
        self.blocks.iter().flat_map(Block::rows)
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
                .zip(&self.blocks)
                .for_each(|(out, block)| {
                    for (out, (idx, val)) in out.chunks_exact_mut(k).zip(block.rows()) {
                        for (&c, &v) in idx.iter().zip(val) {
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
        let width = k.div_ceil(T_DOT_PARTS).max(1);
        // each part owns columns [lo, hi) of the result, so parts never touch the same entry
        let parts: Vec<(usize, Vec<A>)> = (0..k)
            .step_by(width)
            .collect::<Vec<_>>()
            .into_par_iter()
            .map(|lo| {
                let hi = (lo + width).min(k);
                let wd = hi - lo;
                let mut y = vec![A::zero(); self.ncols * wd];
                for (r, (idx, val)) in self.rows().enumerate() {
                    let dr = &ds[r * k + lo..r * k + hi];
                    for (&c, &v) in idx.iter().zip(val) {
                        axpy(&mut y[c * wd..(c + 1) * wd], v, dr);
                    }
                }
                (lo, y)
            })
            .collect();
        let mut y = Array2::zeros((self.ncols, k));
        for (lo, part) in parts {
            let wd = part.len().checked_div(self.ncols).unwrap_or(0);
            let part =
                ArrayView2::from_shape((self.ncols, wd), &part).expect("part is ncols × width");
            y.slice_mut(ndarray::s![.., lo..lo + wd]).assign(&part);
        }
        y
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
