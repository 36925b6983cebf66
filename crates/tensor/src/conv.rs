//! Fast kernels of chapter 7's convolution and max pooling, over batches stored one sample per
//! row: a row holds the sample's `(C, H, W)` values in row-major order, the same memory as the
//! book's `(N, C, H, W)` array.
//!
//! The book computes a convolution as `im2col` then one matrix product over the whole batch.
//! Here each sample is unfolded on its own into a reused buffer, transposed (`colᵀ`, one row per
//! filter tap, one column per output pixel), so that `W · colᵀ` lands directly in the
//! `(FN, OH, OW)` layout of the output row, with no transpose afterwards. Samples run in
//! parallel in blocks of [`BLOCK`]; gradients summed over the batch are summed per block and
//! then over the blocks in order, so the bits do not depend on the number of threads.
//!
//! ```
//! use ndarray::array;
//! use scratchnet_tensor::conv::{Window, conv_forward};
//!
//! // one 1×3×3 sample, one 2×2 filter of ones, stride 1, no padding: sums of 2×2 windows
//! let g = Window::new([1, 3, 3], 2, 2, 1, 0);
//! let x = array![[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]];
//! let w = array![[1.0, 1.0, 1.0, 1.0]];
//! let y = conv_forward(x.view(), w.view(), array![0.5].view(), &g);
//! assert_eq!(y, array![[12.5, 16.5, 24.5, 28.5]]);
//! ```

use ndarray::{
    Array1, Array2, ArrayView1, ArrayView2, ArrayViewMut2, Axis, linalg::general_mat_mul,
};
use rayon::prelude::*;

use crate::Scalar;

/// Samples per parallel task. Fixed, so that sums over the batch are the same for any number
/// of threads.
pub const BLOCK: usize = 8;

/// The geometry of a convolution or pooling window sliding over a `(C, H, W)` input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// Input channels, height and width.
    pub input: [usize; 3],
    /// Window height.
    pub fh: usize,
    /// Window width.
    pub fw: usize,
    /// Step between windows.
    pub stride: usize,
    /// Zeros added on each side of the height and width.
    pub pad: usize,
}

impl Window {
    /// A window of `fh × fw` over `input = [C, H, W]`.
    ///
    /// # Panics
    /// If the stride is 0 or the window does not fit the padded input.
    ///
    /// ```
    /// let g = scratchnet_tensor::conv::Window::new([1, 28, 28], 5, 5, 1, 0);
    /// assert_eq!((g.out_h(), g.out_w(), g.taps()), (24, 24, 25));
    /// ```
    pub fn new(input: [usize; 3], fh: usize, fw: usize, stride: usize, pad: usize) -> Self {
        assert!(stride > 0, "stride 0");
        assert!(
            fh > 0 && fw > 0 && fh <= input[1] + 2 * pad && fw <= input[2] + 2 * pad,
            "a {fh}×{fw} window does not fit {input:?} with pad {pad}"
        );
        Window {
            input,
            fh,
            fw,
            stride,
            pad,
        }
    }

    /// `OH = (H + 2·pad − FH) / stride + 1`.
    pub fn out_h(&self) -> usize {
        (self.input[1] + 2 * self.pad - self.fh) / self.stride + 1
    }

    /// `OW = (W + 2·pad − FW) / stride + 1`.
    pub fn out_w(&self) -> usize {
        (self.input[2] + 2 * self.pad - self.fw) / self.stride + 1
    }

    /// Output pixels per channel, `OH·OW`.
    pub fn pixels(&self) -> usize {
        self.out_h() * self.out_w()
    }

    /// Values under one window across all channels, `C·FH·FW` (a row of the book's `col`).
    pub fn taps(&self) -> usize {
        self.input[0] * self.fh * self.fw
    }

    /// Values of one input sample, `C·H·W`.
    pub fn input_len(&self) -> usize {
        self.input.iter().product()
    }

    /// The input coordinate under tap `(i, j)` of the window at output `(oy, ox)`, or `None` in
    /// the padding.
    #[inline]
    fn source(&self, oy: usize, ox: usize, i: usize, j: usize) -> Option<(usize, usize)> {
        let y = (oy * self.stride + i).checked_sub(self.pad)?;
        let x = (ox * self.stride + j).checked_sub(self.pad)?;
        (y < self.input[1] && x < self.input[2]).then_some((y, x))
    }
}

/// One sample's `colᵀ`: row `(c, i, j)` holds, for every output pixel, the input value under
/// tap `(i, j)` of channel `c` (0 in the padding). `x` is the sample's `C·H·W` values.
fn im2col_t<A: Scalar>(x: &[A], g: &Window, mut colt: ArrayViewMut2<'_, A>) {
    let [_, h, w] = g.input;
    let (oh, ow, s, pad) = (g.out_h(), g.out_w(), g.stride, g.pad);
    for (k, mut row) in colt.outer_iter_mut().enumerate() {
        let (c, i, j) = (k / (g.fh * g.fw), k / g.fw % g.fh, k % g.fw);
        let plane = &x[c * h * w..(c + 1) * h * w];
        let row = row.as_slice_mut().expect("colᵀ rows are contiguous");
        let (lo, hi) = inside(g, j);
        for oy in 0..oh {
            let out = &mut row[oy * ow..(oy + 1) * ow];
            let y = (oy * s + i).wrapping_sub(pad);
            if y >= h {
                out.fill(A::zero());
                continue;
            }
            out[..lo].fill(A::zero());
            out[hi..].fill(A::zero());
            let src = &plane[y * w..(y + 1) * w];
            if s == 1 {
                out[lo..hi].copy_from_slice(&src[lo + j - pad..hi + j - pad]);
            } else {
                for (ox, o) in out.iter_mut().enumerate().take(hi).skip(lo) {
                    *o = src[ox * s + j - pad];
                }
            }
        }
    }
}

/// The output columns `lo..hi` whose tap `j` lands inside a row of width `w`:
/// `ox·s + j − pad ∈ [0, w)`.
#[inline]
fn inside(g: &Window, j: usize) -> (usize, usize) {
    let (w, ow, s, pad) = (g.input[2], g.out_w(), g.stride, g.pad);
    let lo = pad.saturating_sub(j).div_ceil(s).min(ow);
    let hi = ((w + pad).saturating_sub(j)).div_ceil(s).clamp(lo, ow);
    (lo, hi)
}

/// Adds one sample's `dcolᵀ` back onto its input gradient `dx` (`C·H·W` values): a pixel under
/// several windows receives the sum of their contributions, added in `(c, i, j, oy, ox)` order.
fn col2im_t_add<A: Scalar>(dcolt: ArrayView2<'_, A>, g: &Window, dx: &mut [A]) {
    let [_, h, w] = g.input;
    let (oh, ow, s, pad) = (g.out_h(), g.out_w(), g.stride, g.pad);
    for (k, row) in dcolt.outer_iter().enumerate() {
        let (c, i, j) = (k / (g.fh * g.fw), k / g.fw % g.fh, k % g.fw);
        let plane = &mut dx[c * h * w..(c + 1) * h * w];
        let row = row.to_slice().expect("dcolᵀ rows are contiguous");
        let (lo, hi) = inside(g, j);
        for oy in 0..oh {
            let y = (oy * s + i).wrapping_sub(pad);
            if y >= h {
                continue;
            }
            let src = &row[oy * ow + lo..oy * ow + hi];
            let dst = &mut plane[y * w..(y + 1) * w];
            if s == 1 {
                for (d, &v) in dst[lo + j - pad..hi + j - pad].iter_mut().zip(src) {
                    *d += v;
                }
            } else {
                for (ox, &v) in (lo..hi).zip(src) {
                    dst[ox * s + j - pad] += v;
                }
            }
        }
    }
}

/// The convolution of every row of `x` (`N × C·H·W`) with the filters `w` (`FN × C·FH·FW`, the
/// book's `W.reshape(FN, -1)`) plus the bias `b` (`FN`): `N × FN·OH·OW`.
///
/// # Panics
/// If the shapes do not agree with `g`.
pub fn conv_forward<A: Scalar>(
    x: ArrayView2<'_, A>,
    w: ArrayView2<'_, A>,
    b: ArrayView1<'_, A>,
    g: &Window,
) -> Array2<A> {
    let (n, fnum, k, p) = (x.nrows(), w.nrows(), g.taps(), g.pixels());
    assert_eq!(x.ncols(), g.input_len(), "input width");
    assert_eq!((w.ncols(), b.len()), (k, fnum), "filter shape");
    let x = x.as_standard_layout();
    let mut out = Array2::zeros((n, fnum * p));
    out.axis_chunks_iter_mut(Axis(0), BLOCK)
        .into_par_iter()
        .zip(x.axis_chunks_iter(Axis(0), BLOCK).into_par_iter())
        .for_each(|(mut out, x)| {
            let mut colt = Array2::zeros((k, p));
            for (mut y, x) in out.outer_iter_mut().zip(x.outer_iter()) {
                im2col_t(x.as_slice().expect("standard layout"), g, colt.view_mut());
                let mut y = y
                    .view_mut()
                    .into_shape_with_order((fnum, p))
                    .expect("an output row is FN·OH·OW");
                for (mut yf, &bf) in y.outer_iter_mut().zip(b.iter()) {
                    yf.fill(bf);
                }
                general_mat_mul(A::one(), &w, &colt, A::one(), &mut y);
            }
        });
    out
}

/// The gradients of [`conv_forward`] from `dout` (`N × FN·OH·OW`): `(dx, dW, db)`, with `dx`
/// only when `need_dx` (a first layer's input needs none). `dW = Σₙ doutₙ · colₙ`,
/// `db = Σₙ Σ_pixels doutₙ`, `dx = col2im(Wᵀ · doutₙ)`.
///
/// # Panics
/// If the shapes do not agree with `g`.
pub fn conv_backward<A: Scalar>(
    x: ArrayView2<'_, A>,
    w: ArrayView2<'_, A>,
    dout: ArrayView2<'_, A>,
    g: &Window,
    need_dx: bool,
) -> (Option<Array2<A>>, Array2<A>, Array1<A>) {
    let (n, fnum, k, p) = (x.nrows(), w.nrows(), g.taps(), g.pixels());
    assert_eq!(x.ncols(), g.input_len(), "input width");
    assert_eq!(dout.dim(), (n, fnum * p), "dout shape");
    let x = x.as_standard_layout();
    let dout = dout.as_standard_layout();
    let mut dx = need_dx.then(|| Array2::zeros((n, g.input_len())));
    let blocks: Vec<(usize, ArrayView2<'_, A>, ArrayView2<'_, A>)> = x
        .axis_chunks_iter(Axis(0), BLOCK)
        .zip(dout.axis_chunks_iter(Axis(0), BLOCK))
        .enumerate()
        .map(|(i, (x, d))| (i, x, d))
        .collect();
    let wt = w.t();
    // Per block: its part of dW and db (summed over the batch later, in block order) and, when
    // asked, its rows of dx.
    let run = |(_, x, d): &(usize, ArrayView2<'_, A>, ArrayView2<'_, A>),
               mut dx: Option<ArrayViewMut2<'_, A>>| {
        let mut colt = Array2::zeros((k, p));
        let mut dcolt = Array2::zeros((k, p));
        let mut dw = Array2::<A>::zeros((fnum, k));
        let mut db = Array1::<A>::zeros(fnum);
        for (s, (x, d)) in x.outer_iter().zip(d.outer_iter()).enumerate() {
            let d = d.into_shape_with_order((fnum, p)).expect("FN·OH·OW");
            im2col_t(x.as_slice().expect("standard layout"), g, colt.view_mut());
            general_mat_mul(A::one(), &d, &colt.t(), A::one(), &mut dw);
            for (dbf, row) in db.iter_mut().zip(d.outer_iter()) {
                *dbf += row.sum();
            }
            if let Some(dx) = dx.as_mut() {
                general_mat_mul(A::one(), &wt, &d, A::zero(), &mut dcolt);
                let mut row = dx.row_mut(s);
                col2im_t_add(
                    dcolt.view(),
                    g,
                    row.as_slice_mut().expect("dx rows are contiguous"),
                );
            }
        }
        (dw, db)
    };
    let parts: Vec<(Array2<A>, Array1<A>)> = match dx.as_mut() {
        Some(dx) => blocks
            .par_iter()
            .zip(dx.axis_chunks_iter_mut(Axis(0), BLOCK).into_par_iter())
            .map(|(blk, dx)| run(blk, Some(dx)))
            .collect(),
        None => blocks.par_iter().map(|blk| run(blk, None)).collect(),
    };
    let mut dw = Array2::zeros((fnum, k));
    let mut db = Array1::zeros(fnum);
    for (pw, pb) in parts {
        dw += &pw;
        db += &pb;
    }
    (dx, dw, db)
}

/// Max pooling of every row of `x` (`N × C·H·W`) over the windows `g` (one channel at a time;
/// `g.input[0]` is the number of channels), with the padding counted as zeros as the book's
/// `np.pad` makes it: `(out, arg_max)`, `out` being `N × C·OH·OW` and `arg_max` the index of
/// each maximum in its sample's row (`u32::MAX` where it is the padding). Ties go to the first
/// position in row-major window order, as `np.argmax`.
///
/// ```
/// use ndarray::array;
/// use scratchnet_tensor::conv::{Window, pool_forward};
/// let g = Window::new([1, 2, 4], 2, 2, 2, 0);
/// let x = array![[1.0, 5.0, 2.0, 2.0, 3.0, 4.0, 0.0, 1.0]];
/// let (y, arg) = pool_forward(x.view(), &g);
/// assert_eq!(y, array![[5.0, 2.0]]);
/// assert_eq!(arg, vec![1, 2]);
/// ```
pub fn pool_forward<A: Scalar>(x: ArrayView2<'_, A>, g: &Window) -> (Array2<A>, Vec<u32>) {
    let [c, h, w] = g.input;
    let (oh, ow) = (g.out_h(), g.out_w());
    assert_eq!(x.ncols(), g.input_len(), "input width");
    assert!(g.input_len() < u32::MAX as usize, "sample too large");
    let x = x.as_standard_layout();
    let n = x.nrows();
    let mut out = Array2::zeros((n, c * oh * ow));
    let mut arg = vec![0u32; n * c * oh * ow];
    out.axis_chunks_iter_mut(Axis(0), BLOCK)
        .into_par_iter()
        .zip(arg.par_chunks_mut(BLOCK * c * oh * ow))
        .zip(x.axis_chunks_iter(Axis(0), BLOCK).into_par_iter())
        .for_each(|((mut out, arg), x)| {
            let per = c * oh * ow;
            for (s, (mut y, x)) in out.outer_iter_mut().zip(x.outer_iter()).enumerate() {
                let x = x.as_slice().expect("standard layout");
                let y = y.as_slice_mut().expect("contiguous");
                let arg = &mut arg[s * per..(s + 1) * per];
                if (g.fh, g.fw, g.stride, g.pad) == (2, 2, 2, 0) {
                    pool_2x2(x, [c, h, w], y, arg);
                    continue;
                }
                for ch in 0..c {
                    for oy in 0..oh {
                        for ox in 0..ow {
                            let mut best = None::<(A, u32)>;
                            let mut offer = |v: A, at: u32| {
                                // the first maximum wins; a NaN is kept, as np.max propagates it
                                if best.is_none_or(|(b, _)| v > b || (v.is_nan() && !b.is_nan())) {
                                    best = Some((v, at));
                                }
                            };
                            if g.pad == 0 {
                                // no padding: every tap is inside, the first one starts
                                let at = ch * h * w + oy * g.stride * w + ox * g.stride;
                                let (mut b, mut a) = (x[at], at);
                                for i in 0..g.fh {
                                    let row = at + i * w;
                                    for (j, &v) in x[row..row + g.fw].iter().enumerate() {
                                        // a select, not a branch: on real data the
                                        // winner is unpredictable
                                        let take = (v > b) | (v.is_nan() & !b.is_nan());
                                        b = if take { v } else { b };
                                        a = if take { row + j } else { a };
                                    }
                                }
                                best = Some((b, a as u32));
                            } else {
                                for i in 0..g.fh {
                                    for j in 0..g.fw {
                                        match g.source(oy, ox, i, j) {
                                            Some((yy, xx)) => {
                                                let at = ch * h * w + yy * w + xx;
                                                offer(x[at], at as u32)
                                            }
                                            None => offer(A::zero(), u32::MAX),
                                        }
                                    }
                                }
                            }
                            let (v, at) = best.expect("a window has at least one tap");
                            let o = ch * oh * ow + oy * ow + ox;
                            y[o] = v;
                            arg[o] = at;
                        }
                    }
                }
            }
        });
    (out, arg)
}

/// [`pool_forward`] of one sample for the book's only window, 2×2 with stride 2 and no padding,
/// without the general loop's per-tap bookkeeping: the same first-maximum and NaN rules.
fn pool_2x2<A: Scalar>(x: &[A], [c, h, w]: [usize; 3], y: &mut [A], arg: &mut [u32]) {
    let (oh, ow) = (h / 2, w / 2);
    // the first of a and b unless b wins (greater, or NaN over a number)
    let pick = |a: (A, usize), b: (A, usize)| {
        let take = (b.0 > a.0) | (b.0.is_nan() & !a.0.is_nan());
        if take { b } else { a }
    };
    for ch in 0..c {
        for oy in 0..oh {
            let top = ch * h * w + 2 * oy * w;
            let o = ch * oh * ow + oy * ow;
            let (r0, r1) = (&x[top..top + 2 * ow], &x[top + w..top + w + 2 * ow]);
            for (ox, ((p0, p1), (yo, ao))) in r0
                .chunks_exact(2)
                .zip(r1.chunks_exact(2))
                .zip(y[o..o + ow].iter_mut().zip(&mut arg[o..o + ow]))
                .enumerate()
            {
                let at = top + 2 * ox;
                let first = pick((p0[0], at), (p0[1], at + 1));
                let second = pick((p1[0], at + w), (p1[1], at + w + 1));
                // row-major order: the top row's winner is earlier than the bottom row's
                let (v, a) = pick(first, second);
                *yo = v;
                *ao = a as u32;
            }
        }
    }
}

/// The gradient of [`pool_forward`]: each `dout` entry goes to the input position that won
/// its window (`arg_max`), summed where windows overlap; `N × C·H·W`.
pub fn pool_backward<A: Scalar>(dout: ArrayView2<'_, A>, arg_max: &[u32], g: &Window) -> Array2<A> {
    let n = dout.nrows();
    let per = dout.ncols();
    assert_eq!(arg_max.len(), n * per, "arg_max length");
    let dout = dout.as_standard_layout();
    let mut dx = Array2::zeros((n, g.input_len()));
    dx.outer_iter_mut()
        .into_par_iter()
        .zip(dout.outer_iter().into_par_iter())
        .zip(arg_max.par_chunks(per.max(1)))
        .for_each(|((mut dx, d), arg)| {
            for (&v, &at) in d.iter().zip(arg) {
                if at != u32::MAX {
                    dx[at as usize] += v;
                }
            }
        });
    dx
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array4;
    use proptest::prelude::*;

    /// The definition: `y[n, f, oy, ox] = b[f] + Σ_{c,i,j} W[f, c, i, j] · xpad[n, c, oy·s + i, ox·s + j]`.
    fn direct(x: &Array4<f64>, w: &Array4<f64>, b: &[f64], s: usize, p: usize) -> Array4<f64> {
        let (n, c, h, ww) = x.dim();
        let (f, _, fh, fw) = w.dim();
        let (oh, ow) = ((h + 2 * p - fh) / s + 1, (ww + 2 * p - fw) / s + 1);
        Array4::from_shape_fn((n, f, oh, ow), |(n, f, oy, ox)| {
            let mut acc = b[f];
            for c in 0..c {
                for i in 0..fh {
                    for j in 0..fw {
                        let (y, xx) = (
                            (oy * s + i) as isize - p as isize,
                            (ox * s + j) as isize - p as isize,
                        );
                        if y >= 0 && xx >= 0 && (y as usize) < h && (xx as usize) < ww {
                            acc += w[[f, c, i, j]] * x[[n, c, y as usize, xx as usize]];
                        }
                    }
                }
            }
            acc
        })
    }

    fn arr(n: usize, seed: u64) -> Vec<f64> {
        // small integers: every sum below is exact in f64, so equality is exact
        (0..n)
            .map(|i| ((i as u64 * 7919 + seed * 104729) % 11) as f64 - 5.0)
            .collect()
    }

    /// Pooling against its definition: each output is the first maximum of its window (padding
    /// as 0), and the gradient goes back to that position.
    #[allow(clippy::too_many_arguments)]
    fn check_pool(
        n: usize,
        c: usize,
        h: usize,
        w: usize,
        k: usize,
        s: usize,
        p: usize,
        seed: u64,
    ) -> Result<(), TestCaseError> {
        let g = Window::new([c, h, w], k, k, s, p);
        let x = Array2::from_shape_vec((n, c * h * w), arr(n * c * h * w, seed)).unwrap();
        let (y, arg) = pool_forward(x.view(), &g);
        let (oh, ow) = (g.out_h(), g.out_w());
        for nn in 0..n {
            for cc in 0..c {
                for oy in 0..oh {
                    for ox in 0..ow {
                        // the window's values in row-major order, padding as 0
                        let vals: Vec<(f64, Option<usize>)> = (0..k)
                            .flat_map(|i| (0..k).map(move |j| (i, j)))
                            .map(|(i, j)| {
                                let (yy, xx) = (
                                    (oy * s + i) as isize - p as isize,
                                    (ox * s + j) as isize - p as isize,
                                );
                                if yy >= 0 && xx >= 0 && (yy as usize) < h && (xx as usize) < w {
                                    let at = cc * h * w + yy as usize * w + xx as usize;
                                    (x[[nn, at]], Some(at))
                                } else {
                                    (0.0, None)
                                }
                            })
                            .collect();
                        let max = vals.iter().map(|v| v.0).fold(f64::NEG_INFINITY, f64::max);
                        let first = vals.iter().find(|v| v.0 == max).unwrap();
                        let o = cc * oh * ow + oy * ow + ox;
                        prop_assert_eq!(y[[nn, o]], max);
                        prop_assert_eq!(
                            arg[nn * c * oh * ow + o],
                            first.1.map_or(u32::MAX, |a| a as u32)
                        );
                    }
                }
            }
        }
        let d = Array2::from_shape_vec((n, c * oh * ow), arr(n * c * oh * ow, seed + 5)).unwrap();
        let dx = pool_backward(d.view(), &arg, &g);
        let mut want = Array2::<f64>::zeros((n, c * h * w));
        for ((nn, o), &v) in d.indexed_iter() {
            let at = arg[nn * c * oh * ow + o];
            if at != u32::MAX {
                want[[nn, at as usize]] += v;
            }
        }
        prop_assert_eq!(dx, want);
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(40))]
        #[test]
        fn conv_forward_and_backward_follow_the_definition(
            n in 1usize..11, c in 1usize..4, h in 3usize..9, w in 3usize..9,
            f in 1usize..4, fh in 1usize..4, s in 1usize..3, p in 0usize..3, seed in 0u64..100,
        ) {
            prop_assume!(fh <= h + 2 * p && fh <= w + 2 * p);
            let g = Window::new([c, h, w], fh, fh, s, p);
            let x = Array4::from_shape_vec((n, c, h, w), arr(n * c * h * w, seed)).unwrap();
            let wt = Array4::from_shape_vec((f, c, fh, fh), arr(f * c * fh * fh, seed + 1)).unwrap();
            let b = arr(f, seed + 2);
            let want = direct(&x, &wt, &b, s, p);
            let x2 = x.view().into_shape_with_order((n, c * h * w)).unwrap();
            let w2 = wt.view().into_shape_with_order((f, c * fh * fh)).unwrap();
            let got = conv_forward(x2, w2, ArrayView1::from(&b), &g);
            prop_assert_eq!(got.as_slice().unwrap(), want.as_slice().unwrap());

            // backward: L = Σ y ⊙ d, so dW[f,c,i,j] = Σ d[n,f,oy,ox]·xpad[n,c,oy·s+i,ox·s+j],
            // dx[n,c,y,x] = Σ d[n,f,oy,ox]·W[f,c,y−oy·s+p, x−ox·s+p], db[f] = Σ d[n,f,…]
            let (oh, ow) = (g.out_h(), g.out_w());
            let d = Array4::from_shape_vec((n, f, oh, ow), arr(n * f * oh * ow, seed + 3)).unwrap();
            let mut dw = Array4::<f64>::zeros((f, c, fh, fh));
            let mut dx = Array4::<f64>::zeros((n, c, h, w));
            let mut db = vec![0.0; f];
            for ((nn, ff, oy, ox), &v) in d.indexed_iter() {
                db[ff] += v;
                for cc in 0..c { for i in 0..fh { for j in 0..fh {
                    let (y, xx) = ((oy * s + i) as isize - p as isize, (ox * s + j) as isize - p as isize);
                    if y >= 0 && xx >= 0 && (y as usize) < h && (xx as usize) < w {
                        dw[[ff, cc, i, j]] += v * x[[nn, cc, y as usize, xx as usize]];
                        dx[[nn, cc, y as usize, xx as usize]] += v * wt[[ff, cc, i, j]];
                    }
                }}}
            }
            let d2 = d.view().into_shape_with_order((n, f * oh * ow)).unwrap();
            let (gx, gw, gb) = conv_backward(x2, w2, d2, &g, true);
            let gx = gx.unwrap();
            prop_assert_eq!(gx.as_slice().unwrap(), dx.as_slice().unwrap());
            prop_assert_eq!(gw.as_slice().unwrap(), dw.as_slice().unwrap());
            prop_assert_eq!(gb.to_vec(), db);
            let (none, gw2, _) = conv_backward(x2, w2, d2, &g, false);
            prop_assert!(none.is_none());
            prop_assert_eq!(gw2, gw);
        }

        #[test]
        fn pooling_takes_the_first_maximum_and_routes_the_gradient_back(
            n in 1usize..10, c in 1usize..4, h in 2usize..9, w in 2usize..9,
            k in 1usize..4, s in 1usize..4, p in 0usize..2, seed in 0u64..100,
        ) {
            prop_assume!(k <= h + 2 * p && k <= w + 2 * p && p < k);
            check_pool(n, c, h, w, k, s, p, seed)?;
        }

        /// The book's 2×2, stride 2 window has a kernel of its own: the same rules, odd sizes
        /// and ties included.
        #[test]
        fn the_2x2_pooling_kernel_follows_the_same_rules(
            n in 1usize..10, c in 1usize..4, h in 2usize..12, w in 2usize..12, seed in 0u64..1000,
        ) {
            check_pool(n, c, h, w, 2, 2, 0, seed)?;
        }
    }

    #[test]
    fn sums_over_the_batch_do_not_depend_on_the_thread_count() {
        let g = Window::new([3, 12, 12], 3, 3, 1, 1);
        let n = 37;
        let x = Array2::from_shape_fn((n, g.input_len()), |(i, j)| {
            ((i * 31 + j * 17) % 97) as f32 / 97.0 - 0.4
        });
        let w = Array2::from_shape_fn((5, g.taps()), |(i, j)| {
            ((i * 13 + j * 7) % 19) as f32 / 19.0 - 0.5
        });
        let d = Array2::from_shape_fn((n, 5 * g.pixels()), |(i, j)| {
            ((i * 3 + j * 11) % 23) as f32 / 23.0 - 0.5
        });
        let run = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| conv_backward(x.view(), w.view(), d.view(), &g, true))
        };
        let (a, b) = (run(1), run(3));
        assert_eq!(a.0, b.0);
        assert_eq!(a.1, b.1);
        assert_eq!(a.2, b.2);
    }
}
