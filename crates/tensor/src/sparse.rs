use std::ops::Range;

use ndarray::{Array2, ArrayBase, ArrayView2, ArrayViewMut2, Axis, CowArray, Data, Ix2};
use rayon::prelude::*;

use crate::Scalar;

/// Rows per parallel task when collecting the non-zeros and in [`SparseRows::dot`].
const ROW_BLOCK: usize = 16;
/// Output rows per parallel task in [`SparseRows::t_dot`].
const COL_BLOCK: usize = 128;
/// The most output columns the kernel keeps in registers at once: 13 AVX2 registers of f64, so
/// a 50-unit hidden layer takes one pass over each line's entries.
const TILE: usize = 52;

/// The non-zero entries of a 2-D array, row by row (compressed sparse rows).
///
/// MNIST images are about 81 % zeros, so `x·W` and `xᵀ·D` over the non-zeros do a fifth of the
/// work of the dense products. Both run in parallel over blocks of output rows fixed by the
/// shapes, never by the thread count (`xᵀ·D` re-indexes each block's columns by counting sort),
/// and every output entry is summed in one fixed order (ascending column of `x` for `x·W`,
/// ascending row for `xᵀ·D`) with one rounding per term (`mul_add`), so results depend neither
/// on the number of threads nor on the CPU's instruction set.
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

    /// The non-zeros of `rows`, row by row.
    #[inline(always)]
    fn from_rows(rows: ArrayView2<'_, A>) -> Self {
        let rows = rows.as_standard_layout();
        let ncols = rows.ncols();
        let flat = rows.as_slice().expect("standard layout is contiguous");
        // counted row by row in u32 (a row has at most u32::MAX columns), which vectorises
        let nnz: usize = flat
            .chunks(ncols.max(1))
            .map(|row| row.iter().map(|&v| u32::from(v != A::zero())).sum::<u32>() as usize)
            .sum();
        let mut ptr = Vec::with_capacity(rows.nrows() + 1);
        // one spare slot: the branch-free fill below writes one entry past the last non-zero
        let mut idx = vec![0u32; nnz + 1];
        let mut val = vec![A::zero(); nnz + 1];
        let mut at = 0;
        ptr.push(0);
        for row in flat.chunks_exact(ncols.max(1)).take(rows.nrows()) {
            for (c0, chunk) in (0u32..).step_by(8).zip(row.chunks(8)) {
                // background comes in runs: skip eight zeros at a time (a vector compare)
                if !chunk.iter().fold(false, |any, &v| any | (v != A::zero())) {
                    continue;
                }
                // Branch-free fill: every entry is written at the cursor, which advances only
                // past non-zeros (within a stroke, ink and background alternate irregularly).
                for (c, &v) in (c0..).zip(chunk) {
                    idx[at] = c;
                    val[at] = v;
                    at += usize::from(v != A::zero());
                }
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
    ///
    /// ```
    /// let s = scratchnet_tensor::SparseRows::from_dense(&ndarray::array![[0.0, 2.0], [0.0, 0.0]]);
    /// assert_eq!((s.dim(), s.nnz()), ((2, 2), 1));
    /// ```
    pub fn from_dense<S: Data<Elem = A>>(x: &ArrayBase<S, Ix2>) -> Self {
        let (nrows, ncols) = x.dim();
        assert!(
            u32::try_from(nrows).is_ok() && u32::try_from(ncols).is_ok(),
            "SparseRows indexes rows and columns with u32"
        );
        let blocks: Vec<Compressed<A>> = x
            .axis_chunks_iter(Axis(0), ROW_BLOCK)
            .into_par_iter()
            .map(|rows| simd::from_rows(rows))
            .collect();
        Self::concat(nrows, ncols, blocks)
    }

    /// One `SparseRows` from the compressed blocks of consecutive rows.
    fn concat(nrows: usize, ncols: usize, blocks: Vec<Compressed<A>>) -> Self {
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
        by_row.ptr.truncate(nrows + 1);
        Self {
            nrows,
            ncols,
            by_row,
        }
    }

    /// The non-zeros of `f` applied to every entry of `x`, without making the mapped dense
    /// array: for example normalised MNIST pixels straight from the bytes,
    /// `from_dense_map(&images, |p| p as f64 / 255.0)`. Entries where `f` gives zero are left out.
    ///
    /// # Panics
    /// If `x` has more than `u32::MAX` rows or columns.
    ///
    /// ```
    /// use ndarray::array;
    /// use scratchnet_tensor::SparseRows;
    /// let bytes = array![[0u8, 51], [255, 0]];
    /// let s = SparseRows::from_dense_map(&bytes, |p| p as f64 / 255.0);
    /// assert_eq!(s, SparseRows::from_dense(&array![[0.0, 0.2], [1.0, 0.0]]));
    /// ```
    pub fn from_dense_map<B, S, F>(x: &ArrayBase<S, Ix2>, f: F) -> Self
    where
        B: Copy + Sync,
        S: Data<Elem = B> + Sync,
        F: Fn(B) -> A + Sync,
    {
        let (nrows, ncols) = x.dim();
        assert!(
            u32::try_from(nrows).is_ok() && u32::try_from(ncols).is_ok(),
            "SparseRows indexes rows and columns with u32"
        );
        let blocks: Vec<Compressed<A>> = x
            .axis_chunks_iter(Axis(0), ROW_BLOCK)
            .into_par_iter()
            .map(|rows| {
                let mut block = Compressed {
                    ptr: vec![0],
                    idx: Vec::new(),
                    val: Vec::new(),
                };
                for row in rows.rows() {
                    for (c, &b) in row.iter().enumerate() {
                        let v = f(b);
                        if v != A::zero() {
                            block.idx.push(c as u32);
                            block.val.push(v);
                        }
                    }
                    block.ptr.push(block.idx.len());
                }
                block
            })
            .collect();
        Self::concat(nrows, ncols, blocks)
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
        let mut out = Self {
            nrows: 0,
            ncols: self.ncols,
            by_row: Compressed {
                ptr: Vec::new(),
                idx: Vec::new(),
                val: Vec::new(),
            },
        };
        self.gather_rows_into(rows, &mut out);
        out
    }

    /// [`gather_rows`](Self::gather_rows) into `out`, reusing its memory: a training loop
    /// gathers every mini-batch into the same buffer.
    ///
    /// # Panics
    /// If an index is out of bounds.
    ///
    /// ```
    /// use ndarray::array;
    /// use scratchnet_tensor::SparseRows;
    /// let s = SparseRows::from_dense(&array![[0.0, 1.0], [2.0, 0.0]]);
    /// let mut batch = s.gather_rows(&[0]);
    /// s.gather_rows_into(&[1, 1, 0], &mut batch);
    /// assert_eq!(batch, s.gather_rows(&[1, 1, 0]));
    /// ```
    pub fn gather_rows_into(&self, rows: &[usize], out: &mut Self) {
        let nnz = rows
            .iter()
            .map(|&r| self.by_row.ptr[r + 1] - self.by_row.ptr[r])
            .sum();
        let by_row = &mut out.by_row;
        by_row.ptr.clear();
        by_row.idx.clear();
        by_row.val.clear();
        by_row.ptr.reserve(rows.len() + 1);
        by_row.idx.reserve(nnz);
        by_row.val.reserve(nnz);
        by_row.ptr.push(0);
        for &r in rows {
            let (idx, val) = self.by_row.line(r);
            by_row.idx.extend_from_slice(idx);
            by_row.val.extend_from_slice(val);
            by_row.ptr.push(by_row.idx.len());
        }
        out.nrows = rows.len();
        out.ncols = self.ncols;
    }

    /// `(rows, columns)`.
    ///
    /// ```
    /// let s = scratchnet_tensor::SparseRows::from_dense(&ndarray::Array2::<f32>::zeros((3, 4)));
    /// assert_eq!(s.dim(), (3, 4));
    /// ```
    pub fn dim(&self) -> (usize, usize) {
        (self.nrows, self.ncols)
    }

    /// Number of stored (non-zero) entries.
    ///
    /// ```
    /// let s = scratchnet_tensor::SparseRows::from_dense(&ndarray::array![[1.0, 0.0, 3.0]]);
    /// assert_eq!(s.nnz(), 2);
    /// ```
    pub fn nnz(&self) -> usize {
        self.by_row.val.len()
    }

    /// Fraction of entries that are non-zero (0 for an empty array).
    ///
    /// ```
    /// let s = scratchnet_tensor::SparseRows::from_dense(&ndarray::array![[1.0, 0.0], [0.0, 0.0]]);
    /// assert_eq!(s.density(), 0.25);
    /// ```
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
    ///
    /// ```
    /// let s = scratchnet_tensor::SparseRows::from_dense(&ndarray::array![[0.0, 5.0, 0.0, 7.0]]);
    /// assert_eq!(s.row(0), (&[1u32, 3][..], &[5.0, 7.0][..]));
    /// ```
    pub fn row(&self, r: usize) -> (&[u32], &[A]) {
        self.by_row.line(r)
    }

    /// `x·W`.
    ///
    /// # Panics
    /// If `w.nrows()` is not the number of columns of `x`.
    ///
    /// ```
    /// use ndarray::array;
    /// let x = array![[0.0, 2.0], [1.0, 0.0]];
    /// let w = array![[3.0], [5.0]];
    /// assert_eq!(scratchnet_tensor::SparseRows::from_dense(&x).dot(&w), x.dot(&w));
    /// ```
    pub fn dot<S: Data<Elem = A>>(&self, w: &ArrayBase<S, Ix2>) -> Array2<A> {
        let mut y = Array2::zeros((self.nrows, w.ncols()));
        self.dot_into(w, y.view_mut());
        y
    }

    /// `out = x·W` without allocating the result, in parallel over blocks of rows.
    ///
    /// # Panics
    /// If `w.nrows()` is not the number of columns of `x`, `out` is not `rows × w.ncols()` or not
    /// in standard (row-major, contiguous) layout.
    ///
    /// ```
    /// use ndarray::{Array2, array};
    /// use scratchnet_tensor::SparseRows;
    /// let x = SparseRows::from_dense(&array![[0.0, 2.0], [1.0, 0.0]]);
    /// let mut out = Array2::zeros((2, 1));
    /// x.dot_into(&array![[3.0], [5.0]], out.view_mut());
    /// assert_eq!(out, array![[10.0], [3.0]]);
    /// ```
    pub fn dot_into<S: Data<Elem = A>>(&self, w: &ArrayBase<S, Ix2>, out: ArrayViewMut2<'_, A>) {
        let k = w.ncols();
        let (w, out) = self.dot_operands(0..self.nrows, w, out);
        if k > 0 {
            out.par_chunks_mut(ROW_BLOCK * k)
                .enumerate()
                .for_each(|(b, out)| simd::lines_block(out, &self.by_row, b * ROW_BLOCK, &w, k));
        }
    }

    /// Rows `rows` of `x·W` into `out`, on the calling thread: for callers that run their own
    /// parallel loop over blocks of rows. Row `r` of the result is the same, bit for bit, as in
    /// [`dot`](Self::dot).
    ///
    /// # Panics
    /// If `rows` is out of bounds, `w.nrows()` is not the number of columns of `x`, `out` is not
    /// `rows.len() × w.ncols()` or not in standard layout.
    ///
    /// ```
    /// use ndarray::{Array2, array, s};
    /// use scratchnet_tensor::SparseRows;
    /// let x = array![[0.0, 2.0], [1.0, 0.0], [4.0, 4.0]];
    /// let w = array![[3.0], [5.0]];
    /// let mut out = Array2::zeros((2, 1));
    /// SparseRows::from_dense(&x).dot_rows_into(1..3, &w, out.view_mut());
    /// assert_eq!(out, x.slice(s![1..3, ..]).dot(&w));
    /// ```
    pub fn dot_rows_into<S: Data<Elem = A>>(
        &self,
        rows: Range<usize>,
        w: &ArrayBase<S, Ix2>,
        out: ArrayViewMut2<'_, A>,
    ) {
        let (k, first) = (w.ncols(), rows.start);
        let (w, out) = self.dot_operands(rows, w, out);
        if k > 0 {
            simd::lines_block(out, &self.by_row, first, &w, k);
        }
    }

    fn dot_operands<'o, 'w, S: Data<Elem = A>>(
        &self,
        rows: Range<usize>,
        w: &'w ArrayBase<S, Ix2>,
        out: ArrayViewMut2<'o, A>,
    ) -> (Padded<'w, A>, &'o mut [A]) {
        assert_eq!(
            w.nrows(),
            self.ncols,
            "x·W needs W to have one row per column of x"
        );
        assert!(
            rows.start <= rows.end && rows.end <= self.nrows,
            "rows {rows:?} out of bounds"
        );
        assert_eq!(
            out.dim(),
            (rows.len(), w.ncols()),
            "the output of x·W must be rows × W's columns"
        );
        (
            Padded::new(w),
            out.into_slice()
                .expect("the output must be in standard layout"),
        )
    }

    /// `xᵀ·D`.
    ///
    /// # Panics
    /// If `d.nrows()` is not the number of rows of `x`.
    ///
    /// ```
    /// use ndarray::array;
    /// let x = array![[0.0, 2.0], [1.0, 0.0]];
    /// let d = array![[3.0], [5.0]];
    /// assert_eq!(scratchnet_tensor::SparseRows::from_dense(&x).t_dot(&d), x.t().dot(&d));
    /// ```
    pub fn t_dot<S: Data<Elem = A>>(&self, d: &ArrayBase<S, Ix2>) -> Array2<A> {
        let mut y = Array2::zeros((self.ncols, d.ncols()));
        self.t_dot_into(d, y.view_mut());
        y
    }

    /// `out = xᵀ·D` without allocating the result, in parallel over blocks of output rows
    /// (columns of `x`); each block indexes its columns' entries by column and sums each output
    /// entry in registers, rows ascending.
    ///
    /// # Panics
    /// If `d.nrows()` is not the number of rows of `x`, `out` is not `columns × d.ncols()` or not
    /// in standard layout.
    ///
    /// ```
    /// use ndarray::{Array2, array};
    /// use scratchnet_tensor::SparseRows;
    /// let x = array![[0.0, 2.0], [1.0, 0.0], [4.0, 4.0]];
    /// let d = array![[1.0, 0.5], [2.0, 0.0], [0.0, 1.0]];
    /// let mut out = Array2::zeros((2, 2));
    /// SparseRows::from_dense(&x).t_dot_into(&d, out.view_mut());
    /// assert_eq!(out, x.t().dot(&d));
    /// ```
    pub fn t_dot_into<S: Data<Elem = A>>(&self, d: &ArrayBase<S, Ix2>, out: ArrayViewMut2<'_, A>) {
        assert_eq!(
            d.nrows(),
            self.nrows,
            "xᵀ·D needs D to have one row per row of x"
        );
        let k = d.ncols();
        assert_eq!(
            out.dim(),
            (self.ncols, k),
            "the output of xᵀ·D must be x's columns × D's columns"
        );
        let out = out
            .into_slice()
            .expect("the output must be in standard layout");
        let d = Padded::new(d);
        if k > 0 {
            out.par_chunks_mut(COL_BLOCK * k)
                .enumerate()
                .for_each(|(b, out)| simd::columns_block(out, &self.by_row, b * COL_BLOCK, &d, k));
        }
    }
}

/// The tile width the kernels use for the `rem` output columns still to do: the widest whose
/// padding wastes less than half of it.
#[inline(always)]
fn tile_width(rem: usize) -> usize {
    match rem {
        33.. => TILE,
        17..=32 => 32,
        9..=16 => 16,
        _ => 8,
    }
}

/// A matrix in row-major order that can be read [`TILE`] entries at a time from any position:
/// reads that would run past its end come from a zero-padded copy of its last entries.
struct Padded<'a, A> {
    data: CowArray<'a, A, Ix2>,
    tail_start: usize,
    tail: Vec<A>,
}

impl<'a, A: Scalar> Padded<'a, A> {
    fn new<S: Data<Elem = A>>(m: &'a ArrayBase<S, Ix2>) -> Self {
        let data = m.as_standard_layout();
        let flat = data.as_slice().expect("standard layout is contiguous");
        let tail_start = flat.len().saturating_sub(TILE);
        let mut tail = flat[tail_start..].to_vec();
        tail.resize(2 * TILE, A::zero());
        Self {
            data,
            tail_start,
            tail,
        }
    }

    /// Entries `at..at + T`, `T ≤ TILE`, for any `at` inside the matrix.
    #[inline(always)]
    fn tile<const T: usize>(&self, at: usize) -> &[A; T] {
        let data = self.data.as_slice().expect("standard layout is contiguous");
        let s = if at + T <= data.len() {
            &data[at..at + T]
        } else {
            &self.tail[at - self.tail_start..at - self.tail_start + T]
        };
        s.try_into().expect("T entries")
    }
}

/// Lines `first..` of `m` times the rows of `ms` (`k` columns) into `out`: every output entry
/// is `Σ val·M[idx]` accumulated by fused multiply-adds in the order of the line's entries.
/// Each line's outputs are computed a tile at a time, the sums held in registers; the last
/// tile of a line may cover columns past `k` (reading the next row or the padding) and stores
/// only its first ones.
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
        let mut lo = 0;
        while lo < k {
            lo += match tile_width(k - lo) {
                TILE => tile::<A, TILE>(out, lo, idx, val, ms, k),
                32 => tile::<A, 32>(out, lo, idx, val, ms, k),
                16 => tile::<A, 16>(out, lo, idx, val, ms, k),
                _ => tile::<A, 8>(out, lo, idx, val, ms, k),
            };
        }
    }
}

/// Outputs `lo..lo + T` (those below `k`) of one line; returns how many it stored.
#[inline(always)]
fn tile<A: Scalar, const T: usize>(
    out: &mut [A],
    lo: usize,
    idx: &[u32],
    val: &[A],
    ms: &Padded<'_, A>,
    k: usize,
) -> usize {
    let mut acc = [A::zero(); T];
    for (&i, &v) in idx.iter().zip(val) {
        let row = ms.tile::<T>(i as usize * k + lo);
        for (a, &r) in acc.iter_mut().zip(row) {
            *a = v.mul_add(r, *a);
        }
    }
    let n = T.min(k - lo);
    if n == T {
        out[lo..lo + T].copy_from_slice(&acc);
    } else {
        // Only here is `acc` indexed by a run-time length; passing it by value to a function
        // out of line keeps it a value, not a place, so the compiler holds the sums in registers.
        store_prefix(&mut out[lo..lo + n], acc);
    }
    n
}

/// `out.copy_from_slice(&acc[..out.len()])`.
#[inline(never)]
fn store_prefix<A: Scalar, const T: usize>(out: &mut [A], acc: [A; T]) {
    out.copy_from_slice(&acc[..out.len()]);
}

/// Rows `c0..` of `xᵀ·D` (columns of `x`, as many as `out` holds, `k` entries each) into
/// `out`: the entries of `x` in those columns, re-indexed by column (counting sort, rows
/// ascending within a column), run through [`lines_block`] against the rows of `D`.
#[inline(always)]
fn columns_block<A: Scalar>(
    out: &mut [A],
    m: &Compressed<A>,
    c0: usize,
    ds: &Padded<'_, A>,
    k: usize,
) {
    let cols = out.len() / k;
    let (lo_col, hi_col) = (c0 as u32, (c0 + cols) as u32);
    // Where each row's entries in the block start and end. A row holds ~150 entries: counting
    // the smaller columns with a vectorised compare beats a binary search's dependent loads.
    let mut spans = Vec::with_capacity(m.ptr.len() - 1);
    for w in m.ptr.windows(2) {
        let idx = &m.idx[w[0]..w[1]];
        let (mut s, mut e) = (0u32, 0u32);
        for &c in idx {
            s += u32::from(c < lo_col);
            e += u32::from(c < hi_col);
        }
        spans.push((w[0] + s as usize, w[0] + e as usize));
    }
    let mut ptr = vec![0usize; cols + 1];
    for &(s, e) in &spans {
        for &c in &m.idx[s..e] {
            ptr[(c - lo_col) as usize + 1] += 1;
        }
    }
    for l in 0..cols {
        ptr[l + 1] += ptr[l];
    }
    let nnz = ptr[cols];
    let mut next = ptr.clone();
    let (mut idx, mut val) = (vec![0u32; nnz], vec![A::zero(); nnz]);
    for (r, &(s, e)) in spans.iter().enumerate() {
        for (&c, &v) in m.idx[s..e].iter().zip(&m.val[s..e]) {
            let at = &mut next[(c - lo_col) as usize];
            idx[*at] = r as u32;
            val[*at] = v;
            *at += 1;
        }
    }
    lines_block(out, &Compressed { ptr, idx, val }, 0, ds, k);
}

/// [`Compressed::from_rows`] as a free function, for [`simd`].
#[inline(always)]
fn from_rows<A: Scalar>(rows: ArrayView2<'_, A>) -> Compressed<A> {
    Compressed::from_rows(rows)
}

/// The kernels compiled for AVX2 and FMA too, chosen at run time (see [`crate::dispatch`]).
mod simd {
    use super::{ArrayView2, Compressed, Padded};

    crate::dispatch::dispatch_avx2_fma! {
        pub(super) fn lines_block<A: Scalar>(
            out: &mut [A],
            m: &Compressed<A>,
            first: usize,
            ms: &Padded<'_, A>,
            k: usize,
        );
        pub(super) fn columns_block<A: Scalar>(
            out: &mut [A],
            m: &Compressed<A>,
            c0: usize,
            ds: &Padded<'_, A>,
            k: usize,
        );
        pub(super) fn from_rows<A: Scalar>(rows: ArrayView2<'_, A>) -> Compressed<A>;
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
        let (mut a, mut b) = (vec![0.0; 16 * 37], vec![0.0; 16 * 37]);
        let padded = Padded::new(&w);
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
                .fold(0.0, |a, c| x[[r, c]].mul_add(w[[c, j]], a))
        });
        let xtd = Array2::from_shape_fn((33, 18), |(c, j)| {
            (0..20)
                .filter(|&r| x[[r, c]] != 0.0)
                .fold(0.0, |a, r| x[[r, c]].mul_add(d[[r, j]], a))
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
