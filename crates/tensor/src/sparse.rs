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
        let nnz = rows.iter().filter(|&&v| v != A::zero()).count();
        // Branch-free fill: every entry is written at the cursor, which advances only past
        // non-zeros (ink and background alternate too irregularly for a branch predictor).
        let mut ptr = Vec::with_capacity(rows.nrows() + 1);
        let mut idx = vec![0usize; nnz + 1];
        let mut val = vec![A::zero(); nnz + 1];
        let mut at = 0;
        ptr.push(0);
        for row in rows.rows() {
            for (c, &v) in row.iter().enumerate() {
                idx[at] = c;
                val[at] = v;
                at += usize::from(v != A::zero());
            }
            ptr.push(at);
        }
        idx.truncate(nnz);
        val.truncate(nnz);
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
                .for_each(|(out, block)| simd::dot_block(out, block, ws, k));
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
                simd::t_dot_part(&mut y, self, ds, k, lo, hi);
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

/// Rows of one block of `x·W`: `out[r] += Σ_c x[r][c]·W[c]`, `c` ascending.
#[inline(always)]
fn dot_block<A: Scalar>(out: &mut [A], block: &Block<A>, ws: &[A], k: usize) {
    for (out, (idx, val)) in out.chunks_exact_mut(k).zip(block.rows()) {
        for (&c, &v) in idx.iter().zip(val) {
            axpy(out, v, &ws[c * k..(c + 1) * k]);
        }
    }
}

/// Columns `lo..hi` of `xᵀ·D` into `y` (`ncols × (hi − lo)`), rows of `x` ascending.
#[inline(always)]
fn t_dot_part<A: Scalar>(y: &mut [A], x: &SparseRows<A>, ds: &[A], k: usize, lo: usize, hi: usize) {
    let wd = hi - lo;
    for (r, (idx, val)) in x.rows().enumerate() {
        let dr = &ds[r * k + lo..r * k + hi];
        for (&c, &v) in idx.iter().zip(val) {
            axpy(&mut y[c * wd..(c + 1) * wd], v, dr);
        }
    }
}

/// `out += a·x`, a plain slice loop that the compiler vectorises. Separate multiply and add (no
/// fused multiply-add), so every instruction set computes the same bits.
#[inline(always)]
fn axpy<A: Scalar>(out: &mut [A], a: A, x: &[A]) {
    for (o, &v) in out.iter_mut().zip(x) {
        *o += a * v;
    }
}

/// Each kernel compiled twice, for AVX2 and for the baseline instruction set, and chosen at run
/// time. The kernels use no fused multiply-add, so both versions give identical results.
mod simd {
    use super::{Block, Scalar, SparseRows};

    macro_rules! dispatch {
        ($name:ident, $avx2:ident, ($($arg:ident: $ty:ty),*)) => {
            #[inline]
            pub(super) fn $name<A: Scalar>($($arg: $ty),*) {
                #[cfg(target_arch = "x86_64")]
                {
                    if std::arch::is_x86_feature_detected!("avx2") {
                        // SAFETY: the function's only precondition is that the CPU supports
                        // AVX2, which was detected at run time just above.
                        return unsafe { $avx2($($arg),*) };
                    }
                }
                super::$name($($arg),*)
            }

            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2")]
            fn $avx2<A: Scalar>($($arg: $ty),*) {
                super::$name($($arg),*)
            }
        };
    }

    dispatch!(dot_block, dot_block_avx2, (out: &mut [A], block: &Block<A>, ws: &[A], k: usize));
    dispatch!(
        t_dot_part,
        t_dot_part_avx2,
        (y: &mut [A], x: &SparseRows<A>, ds: &[A], k: usize, lo: usize, hi: usize)
    );
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
    fn simd_and_baseline_kernels_give_identical_bits() {
        let mut rng = rng_from_seed(6);
        let mut x = randn::<f64, _>((16, 40), 1.0, &mut rng);
        x.mapv_inplace(|v| if v > 0.3 { v } else { 0.0 });
        let s = SparseRows::from_dense(&x);
        let w = randn::<f64, _>((40, 37), 1.0, &mut rng);
        let ws = w.as_slice().unwrap();
        let (mut a, mut b) = (vec![0.0; 16 * 37], vec![0.0; 16 * 37]);
        dot_block(&mut a, &s.blocks[0], ws, 37);
        simd::dot_block(&mut b, &s.blocks[0], ws, 37);
        assert_eq!(a, b);
        let d = randn::<f64, _>((16, 37), 1.0, &mut rng);
        let ds = d.as_slice().unwrap();
        let (mut a, mut b) = (vec![0.0; 40 * 30], vec![0.0; 40 * 30]);
        t_dot_part(&mut a, &s, ds, 37, 3, 33);
        simd::t_dot_part(&mut b, &s, ds, 37, 3, 33);
        assert_eq!(a, b);
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
