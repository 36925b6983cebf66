use ndarray::{Array2, ArrayBase, ArrayView2, Axis, Data, Ix2};
use rayon::prelude::*;

use crate::Scalar;

/// Rows per parallel task when collecting the non-zeros and in [`SparseRows::dot`].
const ROW_BLOCK: usize = 16;
/// Output rows per parallel task in [`SparseRows::t_dot`].
const COL_BLOCK: usize = 64;
/// Output columns kept in registers by the kernels: 8 AVX2 registers of f64, enough
/// independent sums to hide the latency of the additions.
const TILE: usize = 32;

/// The non-zero entries of a 2-D array, row by row (compressed sparse rows).
///
/// MNIST images are about 81 % zeros, so `x·W` and `xᵀ·D` over the non-zeros do a fifth of the
/// work of the dense products. Both run in parallel over blocks of output rows fixed by the
/// shapes, never by the thread count (`xᵀ·D` on a column-indexed copy made by counting sort),
/// and every output entry is summed in one fixed order (ascending column of `x` for `x·W`,
/// ascending row for `xᵀ·D`), so results do not depend on the number of threads.
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
    by_row: Compressed<A>,
}

/// Compressed lines (rows or columns): line `l`'s entries are `idx[ptr[l]..ptr[l + 1]]` (the
/// other coordinate, ascending) and `val[..]`.
#[derive(Clone, Debug, PartialEq)]
struct Compressed<A> {
    ptr: Vec<usize>,
    idx: Vec<u32>,
    val: Vec<A>,
}

impl<A: Scalar> Compressed<A> {
    fn line(&self, l: usize) -> (&[u32], &[A]) {
        let span = self.ptr[l]..self.ptr[l + 1];
        (&self.idx[span.clone()], &self.val[span])
    }

    /// The same entries indexed by the other coordinate (`lines` of them), by counting sort:
    /// within each new line the entries keep the order of the old lines.
    fn transpose(&self, lines: usize) -> Self {
        let mut ptr = vec![0usize; lines + 1];
        for &i in &self.idx {
            ptr[i as usize + 1] += 1;
        }
        for l in 0..lines {
            ptr[l + 1] += ptr[l];
        }
        let mut next = ptr[..lines].to_vec();
        let mut idx = vec![0u32; self.idx.len()];
        let mut val = vec![A::zero(); self.idx.len()];
        for (l, w) in self.ptr.windows(2).enumerate() {
            for e in w[0]..w[1] {
                let i = self.idx[e] as usize;
                idx[next[i]] = l as u32;
                val[next[i]] = self.val[e];
                next[i] += 1;
            }
        }
        Self { ptr, idx, val }
    }

    /// The non-zeros of `rows`, row by row.
    fn from_rows(rows: ArrayView2<'_, A>) -> Self {
        let nnz = rows.iter().filter(|&&v| v != A::zero()).count();
        // Branch-free fill: every entry is written at the cursor, which advances only past
        // non-zeros (ink and background alternate too irregularly for a branch predictor).
        let mut ptr = Vec::with_capacity(rows.nrows() + 1);
        let mut idx = vec![0u32; nnz + 1];
        let mut val = vec![A::zero(); nnz + 1];
        let mut at = 0;
        ptr.push(0);
        for row in rows.rows() {
            for (c, &v) in row.iter().enumerate() {
                idx[at] = c as u32;
                val[at] = v;
                at += usize::from(v != A::zero());
            }
            ptr.push(at);
        }
        idx.truncate(nnz);
        val.truncate(nnz);
        Self { ptr, idx, val }
    }
}

impl<A: Scalar> SparseRows<A> {
    /// Collects the non-zero entries of `x`.
    ///
    /// # Panics
    /// If `x` has more than `u32::MAX` rows or columns (indices are stored as `u32`).
    pub fn from_dense<S: Data<Elem = A>>(x: &ArrayBase<S, Ix2>) -> Self {
        let (nrows, ncols) = x.dim();
        assert!(
            u32::try_from(nrows).is_ok() && u32::try_from(ncols).is_ok(),
            "SparseRows indexes rows and columns with u32"
        );
        let blocks: Vec<Compressed<A>> = x
            .axis_chunks_iter(Axis(0), ROW_BLOCK)
            .into_par_iter()
            .map(Compressed::from_rows)
            .collect();
        let nnz = blocks.iter().map(|b| b.val.len()).sum();
        let mut by_row = Compressed {
            ptr: Vec::with_capacity(nrows + 1),
            idx: Vec::with_capacity(nnz),
            val: Vec::with_capacity(nnz),
        };
        by_row.ptr.push(0);
        for b in blocks {
            let base = by_row.idx.len();
            by_row.ptr.extend(b.ptr[1..].iter().map(|p| p + base));
            by_row.idx.extend_from_slice(&b.idx);
            by_row.val.extend_from_slice(&b.val);
        }
        if nrows == 0 {
            by_row.ptr.truncate(1);
        }
        Self {
            nrows,
            ncols,
            by_row,
        }
    }

    /// The rows named by `rows`, in that order, repeats allowed (`x[rows]` in numpy): a mini-batch
    /// of a data set stored sparse once, without touching its zeros.
    ///
    /// # Panics
    /// If an index is out of bounds.
    ///
    /// ```
    /// use ndarray::array;
    /// use scratchnet_tensor::SparseRows;
    /// let x = array![[0.0, 1.0], [2.0, 0.0], [0.0, 0.0]];
    /// let s = SparseRows::from_dense(&x);
    /// let picked = array![[0.0, 0.0], [0.0, 1.0], [0.0, 1.0]];
    /// assert_eq!(s.gather_rows(&[2, 0, 0]), SparseRows::from_dense(&picked));
    /// ```
    pub fn gather_rows(&self, rows: &[usize]) -> Self {
        let nnz = rows
            .iter()
            .map(|&r| self.by_row.ptr[r + 1] - self.by_row.ptr[r])
            .sum();
        let mut by_row = Compressed {
            ptr: Vec::with_capacity(rows.len() + 1),
            idx: Vec::with_capacity(nnz),
            val: Vec::with_capacity(nnz),
        };
        by_row.ptr.push(0);
        for &r in rows {
            let (idx, val) = self.by_row.line(r);
            by_row.idx.extend_from_slice(idx);
            by_row.val.extend_from_slice(val);
            by_row.ptr.push(by_row.idx.len());
        }
        Self {
            nrows: rows.len(),
            ncols: self.ncols,
            by_row,
        }
    }

    /// `(rows, columns)`.
    pub fn dim(&self) -> (usize, usize) {
        (self.nrows, self.ncols)
    }

    /// Number of stored (non-zero) entries.
    pub fn nnz(&self) -> usize {
        self.by_row.val.len()
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

    /// `(columns, values)` of the non-zeros of row `r`, columns ascending.
    ///
    /// # Panics
    /// If `r` is out of bounds.
    pub fn row(&self, r: usize) -> (&[u32], &[A]) {
        self.by_row.line(r)
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
        lines_times(&self.by_row, self.nrows, w, ROW_BLOCK)
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
        // By columns of x: output row c sums D's rows over the non-zeros of column c, in
        // registers, with the same kernel as `dot`.
        lines_times(&self.by_row.transpose(self.ncols), self.ncols, d, COL_BLOCK)
    }
}

/// `out[l] = Σ_e val[e]·M[idx[e]]` for each of the `lines` compressed lines, in parallel over
/// blocks of `block` lines.
fn lines_times<A: Scalar, S: Data<Elem = A>>(
    m: &Compressed<A>,
    lines: usize,
    mat: &ArrayBase<S, Ix2>,
    block: usize,
) -> Array2<A> {
    let k = mat.ncols();
    let mat = mat.as_standard_layout();
    let ms = Padded::new(mat.as_slice().expect("standard layout is contiguous"));
    let mut y = vec![A::zero(); lines * k];
    if k > 0 {
        y.par_chunks_mut(block * k)
            .enumerate()
            .for_each(|(b, out)| simd::lines_block(out, m, b * block, &ms, k));
    }
    Array2::from_shape_vec((lines, k), y).expect("length is lines × cols")
}

/// A row-major matrix that can be read [`TILE`] entries at a time from any position: reads
/// that would run past its end come from a zero-padded copy of its last entries.
struct Padded<'a, A> {
    data: &'a [A],
    tail_start: usize,
    tail: Vec<A>,
}

impl<'a, A: Scalar> Padded<'a, A> {
    fn new(data: &'a [A]) -> Self {
        let tail_start = data.len().saturating_sub(TILE);
        let mut tail = data[tail_start..].to_vec();
        tail.resize(2 * TILE, A::zero());
        Self {
            data,
            tail_start,
            tail,
        }
    }

    #[inline(always)]
    fn tile(&self, at: usize) -> &[A; TILE] {
        let s = if at + TILE <= self.data.len() {
            &self.data[at..at + TILE]
        } else {
            &self.tail[at - self.tail_start..at - self.tail_start + TILE]
        };
        s.try_into().expect("TILE entries")
    }
}

/// Lines `first..` of `m` times the rows of `ms` (`k` columns) into `out`; every output entry
/// is the sum over the line's entries in their order. [`TILE`] outputs at a time are accumulated
/// in registers; the last tile of a line may cover columns past `k` (reading the next row or
/// the padding) and stores only its first ones.
#[inline(always)]
fn lines_block<A: Scalar>(
    out: &mut [A],
    m: &Compressed<A>,
    first: usize,
    ms: &Padded<'_, A>,
    k: usize,
) {
    for (l, out) in out.chunks_exact_mut(k).enumerate() {
        let (idx, val) = m.line(first + l);
        for lo in (0..k).step_by(TILE) {
            let mut acc = [A::zero(); TILE];
            for (&i, &v) in idx.iter().zip(val) {
                let row = ms.tile(i as usize * k + lo);
                for (a, &r) in acc.iter_mut().zip(row) {
                    *a += v * r;
                }
            }
            let hi = (lo + TILE).min(k);
            if hi - lo == TILE {
                out[lo..hi].copy_from_slice(&acc);
            } else {
                // Only here is `acc` indexed by a run-time length; keeping that off the full
                // tiles lets the compiler hold their sums in registers.
                store_prefix(&mut out[lo..hi], acc);
            }
        }
    }
}

/// `out.copy_from_slice(&acc[..out.len()])`, out of line so `acc` is a value, not a place.
#[inline(never)]
fn store_prefix<A: Scalar>(out: &mut [A], acc: [A; TILE]) {
    out.copy_from_slice(&acc[..out.len()]);
}

/// The kernel compiled twice, for AVX2 and for the baseline instruction set, and chosen at run
/// time. It uses no fused multiply-add, so both versions give identical results.
mod simd {
    use super::{Compressed, Padded, Scalar};

    #[inline]
    pub(super) fn lines_block<A: Scalar>(
        out: &mut [A],
        m: &Compressed<A>,
        first: usize,
        ms: &Padded<'_, A>,
        k: usize,
    ) {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the function's only precondition is that the CPU supports AVX2,
                // which was detected at run time just above.
                return unsafe { lines_block_avx2(out, m, first, ms, k) };
            }
        }
        super::lines_block(out, m, first, ms, k)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn lines_block_avx2<A: Scalar>(
        out: &mut [A],
        m: &Compressed<A>,
        first: usize,
        ms: &Padded<'_, A>,
        k: usize,
    ) {
        super::lines_block(out, m, first, ms, k)
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
    fn simd_and_baseline_kernels_give_identical_bits() {
        let mut rng = rng_from_seed(6);
        let mut x = randn::<f64, _>((16, 40), 1.0, &mut rng);
        x.mapv_inplace(|v| if v > 0.3 { v } else { 0.0 });
        let s = SparseRows::from_dense(&x);
        let w = randn::<f64, _>((40, 37), 1.0, &mut rng);
        let ws = w.as_slice().unwrap();
        let (mut a, mut b) = (vec![0.0; 16 * 37], vec![0.0; 16 * 37]);
        let padded = Padded::new(ws);
        lines_block(&mut a, &s.by_row, 0, &padded, 37);
        simd::lines_block(&mut b, &s.by_row, 0, &padded, 37);
        assert_eq!(a, b);
    }

    #[test]
    fn each_entry_is_summed_in_index_order() {
        // the sequential sums, written out, are what the tiled kernels must reproduce bit for bit
        let mut rng = rng_from_seed(8);
        let mut x = randn::<f64, _>((20, 33), 1.0, &mut rng);
        x.mapv_inplace(|v| if v > 0.2 { v } else { 0.0 });
        let w = randn::<f64, _>((33, 21), 1.0, &mut rng);
        let d = randn::<f64, _>((20, 18), 1.0, &mut rng);
        let s = SparseRows::from_dense(&x);
        let xw = Array2::from_shape_fn((20, 21), |(r, j)| {
            (0..33)
                .filter(|&c| x[[r, c]] != 0.0)
                .fold(0.0, |a, c| a + x[[r, c]] * w[[c, j]])
        });
        let xtd = Array2::from_shape_fn((33, 18), |(c, j)| {
            (0..20)
                .filter(|&r| x[[r, c]] != 0.0)
                .fold(0.0, |a, r| a + x[[r, c]] * d[[r, j]])
        });
        assert_eq!(s.dot(&w), xw);
        assert_eq!(s.t_dot(&d), xtd);
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
