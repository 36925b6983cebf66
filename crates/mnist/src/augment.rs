//! Data augmentation (§8.1.3): the book's text suggests small shifts (and rotations, noise) of
//! the training images to get more of them; its code has none. Here: each image moved by a
//! random whole number of pixels in each direction, the gap filled with background (0).

use ndarray::Array2;
use scratchnet_tensor::{Rng, Scalar, SparseRows, choice_with_replacement};

/// `img` (`h × w` values, row-major) moved `dy` pixels down and `dx` pixels right (negative:
/// up, left); what moves out is lost, what comes in is 0.
///
/// # Panics
/// If `img.len() != h * w`.
///
/// ```
/// let img = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]; // 2 × 3
/// assert_eq!(scratchnet_mnist::shift_image(&img, 2, 3, 0, 1), [0.0, 1.0, 2.0, 0.0, 4.0, 5.0]);
/// assert_eq!(scratchnet_mnist::shift_image(&img, 2, 3, -1, -1), [5.0, 6.0, 0.0, 0.0, 0.0, 0.0]);
/// ```
pub fn shift_image<A: Scalar>(img: &[A], h: usize, w: usize, dy: isize, dx: isize) -> Vec<A> {
    assert_eq!(img.len(), h * w, "an image of {h}×{w}");
    let mut out = vec![A::zero(); h * w];
    for i in 0..h {
        let si = i as isize - dy;
        if si < 0 || si >= h as isize {
            continue;
        }
        for j in 0..w {
            let sj = j as isize - dx;
            if sj >= 0 && sj < w as isize {
                out[i * w + j] = img[si as usize * w + sj as usize];
            }
        }
    }
    out
}

/// Each row of `x` (an `h × w` image) moved by its own random shift `(dy, dx)`, each uniform in
/// `-max..=max` (so `(2·max + 1)²` equally likely shifts, no shift among them), drawn from `rng`
/// for all rows at once before any is moved: `dy` of row 0, `dx` of row 0, `dy` of row 1, … One
/// seed gives the same images on any thread count. `max = 0` draws nothing and returns `x`.
///
/// # Panics
/// If the rows of `x` are not `h * w` long.
///
/// ```
/// use scratchnet_tensor::{SparseRows, rng_from_seed};
/// let x = SparseRows::from_dense(&ndarray::Array2::from_shape_fn((3, 16), |(r, k)| (k == 5 + r) as u8 as f64));
/// let a = scratchnet_mnist::random_shifts(&mut rng_from_seed(1), &x, 4, 4, 1);
/// assert_eq!(a, scratchnet_mnist::random_shifts(&mut rng_from_seed(1), &x, 4, 4, 1));
/// assert_eq!(a.nnz(), 3); // each pixel is inside and stays inside the 4 × 4 image
/// ```
pub fn random_shifts<A: Scalar>(
    rng: &mut Rng,
    x: &SparseRows<A>,
    h: usize,
    w: usize,
    max: usize,
) -> SparseRows<A> {
    let (rows, cols) = x.dim();
    assert_eq!(cols, h * w, "rows of {h}×{w} images");
    if max == 0 {
        return x.clone();
    }
    let draws = choice_with_replacement(rng, 2 * max + 1, 2 * rows);
    let mut out = Array2::<A>::zeros((rows, cols));
    let mut img = vec![A::zero(); cols];
    for (r, mut row) in out.rows_mut().into_iter().enumerate() {
        img.iter_mut().for_each(|v| *v = A::zero());
        let (idx, val) = x.row(r);
        for (&c, &v) in idx.iter().zip(val) {
            img[c as usize] = v;
        }
        let dy = draws[2 * r] as isize - max as isize;
        let dx = draws[2 * r + 1] as isize - max as isize;
        for (o, v) in row.iter_mut().zip(shift_image(&img, h, w, dy, dx)) {
            *o = v;
        }
    }
    SparseRows::from_dense(&out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use scratchnet_tensor::rng_from_seed;

    /// Every image comes out as one of the 25 shifts of itself by at most 2 pixels, all 25
    /// occur over many draws, and the ink (all inside the 2-pixel margin) is kept.
    #[test]
    fn each_image_is_one_of_its_shifts_and_all_shifts_occur() {
        let (h, w, n) = (8, 8, 400);
        // one 2×2 blob per image, away from the border by 2
        let dense = Array2::from_shape_fn((n, h * w), |(r, k)| {
            let (i, j) = (k / w, k % w);
            let (bi, bj) = (2 + r % 3, 2 + (r / 3) % 3);
            if (bi..bi + 2).contains(&i) && (bj..bj + 2).contains(&j) {
                1.0 + (i * w + j) as f64
            } else {
                0.0
            }
        });
        let x = SparseRows::from_dense(&dense);
        let shifted = random_shifts(&mut rng_from_seed(7), &x, h, w, 2);
        let mut seen = std::collections::HashSet::new();
        for r in 0..n {
            let img: Vec<f64> = dense.row(r).to_vec();
            let mut got = vec![0.0; h * w];
            let (idx, val) = shifted.row(r);
            for (&c, &v) in idx.iter().zip(val) {
                got[c as usize] = v;
            }
            let hits: Vec<(isize, isize)> = (-2..=2)
                .flat_map(|dy| (-2..=2).map(move |dx| (dy, dx)))
                .filter(|&(dy, dx)| shift_image(&img, h, w, dy, dx) == got)
                .collect();
            assert_eq!(hits.len(), 1, "row {r}: {hits:?}");
            seen.insert(hits[0]);
            assert_eq!(got.iter().sum::<f64>(), img.iter().sum::<f64>(), "row {r}");
        }
        assert_eq!(seen.len(), 25, "{seen:?}");
        assert_eq!(random_shifts(&mut rng_from_seed(1), &x, h, w, 0), x);
    }
}
