//! A drawing made into a 28×28 input the way the MNIST digits were made (LeCun et al.): the
//! bounding box of the ink scaled, aspect ratio kept, to fit a 20×20 box, grey levels
//! anti-aliased, and the image translated so that its centre of mass is the centre of the 28×28
//! field. Drawn digits that skip this classify badly: the nets only ever saw digits so framed.

use ndarray::{Array2, ArrayView2};

/// The side of the box the ink's bounding box is scaled into.
const BOX: f64 = 20.0;
/// The side of the output.
const SIDE: usize = 28;

/// The 28×28 MNIST-style input of a grey image (ink > 0 on a 0 background, values in [0, 1]),
/// or `None` if nothing is drawn.
///
/// One resampling does both steps: output pixel `(i, j)` is the mean of the drawing over the
/// square that the map `out = (in − centre of mass)·s + 14` sends onto `[j, j+1) × [i, i+1)`,
/// with `s = 20 / max(bounding box width, height)` (exact area averaging: anti-aliased edges,
/// no second blur).
///
/// ```
/// use ndarray::Array2;
/// // a 40×80 bar: scaled by 20/80 to 10×20, centred on (14, 14)
/// let mut img = Array2::<f32>::zeros((200, 200));
/// img.slice_mut(ndarray::s![60..140, 50..90]).fill(1.0);
/// let x = scratchnet_serve::mnist_style(img.view()).unwrap();
/// assert_eq!(x.dim(), (28, 28));
/// assert_eq!((x[[4, 9]], x[[23, 18]], x[[3, 9]], x[[4, 19]]), (1.0, 1.0, 0.0, 0.0));
/// ```
pub fn mnist_style(image: ArrayView2<'_, f32>) -> Option<Array2<f32>> {
    let (mut mass, mut mx, mut my) = (0.0f64, 0.0f64, 0.0f64);
    let (mut r0, mut r1, mut c0, mut c1) = (usize::MAX, 0, usize::MAX, 0);
    for ((r, c), &v) in image.indexed_iter() {
        if v > 0.0 {
            let v = f64::from(v);
            mass += v;
            mx += v * (c as f64 + 0.5);
            my += v * (r as f64 + 0.5);
            (r0, r1, c0, c1) = (r0.min(r), r1.max(r), c0.min(c), c1.max(c));
        }
    }
    if mass == 0.0 {
        return None;
    }
    let (cx, cy) = (mx / mass, my / mass);
    let s = BOX / ((r1 - r0 + 1).max(c1 - c0 + 1) as f64);
    let half = SIDE as f64 / 2.0;
    // the input interval [a, b) each output column (row) covers, and the input pixels' overlaps
    let overlaps = |centre: f64, len: usize| -> Vec<Vec<(usize, f64)>> {
        (0..SIDE)
            .map(|j| {
                let a = (j as f64 - half) / s + centre;
                let b = (j as f64 + 1.0 - half) / s + centre;
                let first = a.floor().max(0.0) as usize;
                let last = (b.ceil().max(0.0) as usize).min(len);
                (first..last)
                    .filter_map(|k| {
                        let w = (b.min(k as f64 + 1.0) - a.max(k as f64)) * s;
                        (w > 0.0).then_some((k, w))
                    })
                    .collect()
            })
            .collect()
    };
    let (cols, rows) = (overlaps(cx, image.ncols()), overlaps(cy, image.nrows()));
    Some(Array2::from_shape_fn((SIDE, SIDE), |(i, j)| {
        let mut sum = 0.0;
        for &(r, wr) in &rows[i] {
            for &(c, wc) in &cols[j] {
                sum += wr * wc * f64::from(image[[r, c]]);
            }
        }
        sum.clamp(0.0, 1.0) as f32
    }))
}

/// A PNG as grey levels in [0, 1], ink bright: luminance composited over black, then inverted
/// if its mean is above one half (dark ink on light paper). At most `max_side` pixels a side.
pub(crate) fn grey_png(bytes: &[u8], max_side: u32) -> Result<Array2<f32>, String> {
    let mut reader =
        image::io::Reader::with_format(std::io::Cursor::new(bytes), image::ImageFormat::Png);
    let mut limits = image::io::Limits::default();
    limits.max_image_width = Some(max_side);
    limits.max_image_height = Some(max_side);
    limits.max_alloc = Some(64 << 20);
    reader.limits(limits);
    let img = reader
        .decode()
        .map_err(|e| format!("the body is not a PNG this page can read: {e}"))?
        .to_luma_alpha8();
    let (w, h) = img.dimensions();
    let mut grey = Array2::from_shape_fn((h as usize, w as usize), |(r, c)| {
        let p = img.get_pixel(c as u32, r as u32).0;
        (f32::from(p[0]) / 255.0) * (f32::from(p[1]) / 255.0)
    });
    let mean = grey.mean().unwrap_or(0.0);
    if mean > 0.5 {
        grey.mapv_inplace(|v| 1.0 - v);
    }
    Ok(grey)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(h: usize, w: usize, at: (usize, usize), ink: f32) -> Array2<f32> {
        Array2::from_shape_fn((200, 200), |(r, c)| {
            let inside = (at.0..at.0 + h).contains(&r) && (at.1..at.1 + w).contains(&c);
            if inside { ink } else { 0.0 }
        })
    }

    /// `expected[i][j] = ink · (overlap of row i with [y0, y1)) · (overlap of col j with
    /// [x0, x1))`: a bar's exact area average once its edges on the 28×28 grid are known.
    fn block(y: (f64, f64), x: (f64, f64), ink: f32) -> Array2<f32> {
        let cover =
            |k: usize, (a, b): (f64, f64)| (b.min(k as f64 + 1.0) - a.max(k as f64)).max(0.0);
        Array2::from_shape_fn((28, 28), |(i, j)| ink * (cover(i, y) * cover(j, x)) as f32)
    }

    fn assert_close(a: &Array2<f32>, b: &Array2<f32>) {
        for ((ij, p), q) in a.indexed_iter().zip(b) {
            assert!((p - q).abs() < 1e-5, "{ij:?}: {p} vs {q}");
        }
    }

    #[test]
    fn a_tall_bar_fills_20_rows_centred() {
        // 80 tall, 40 wide: s = 20/80; its centre (70, 100) goes to (14, 14), so it covers
        // x ∈ [14 − 5, 14 + 5), y ∈ [14 − 10, 14 + 10)
        let x = mnist_style(bar(80, 40, (60, 50), 1.0).view()).unwrap();
        assert_close(&x, &block((4.0, 24.0), (9.0, 19.0), 1.0));
        assert_eq!(x.sum(), 200.0);
    }

    #[test]
    fn edges_between_pixels_are_grey_by_their_coverage() {
        // 30 wide: 7.5 output pixels, x ∈ [10.25, 17.75): columns 10 and 17 are 3/4 covered
        let x = mnist_style(bar(80, 30, (10, 120), 1.0).view()).unwrap();
        assert_close(&x, &block((4.0, 24.0), (10.25, 17.75), 1.0));
        assert_eq!(x[[10, 10]], 0.75);
        assert_eq!(x[[10, 17]], 0.75);
    }

    #[test]
    fn a_wide_bar_keeps_its_aspect_ratio_and_grey_level() {
        // 100 wide, 10 tall, ink 0.5: s = 20/100, 20×2 centred
        let x = mnist_style(bar(10, 100, (5, 7), 0.5).view()).unwrap();
        assert_close(&x, &block((13.0, 15.0), (4.0, 24.0), 0.5));
    }

    #[test]
    fn a_small_drawing_is_scaled_up() {
        // 5×4: s = 4, 20×16 centred
        let x = mnist_style(bar(5, 4, (100, 100), 1.0).view()).unwrap();
        assert_close(&x, &block((4.0, 24.0), (6.0, 22.0), 1.0));
    }

    #[test]
    fn the_same_stroke_anywhere_gives_the_same_input() {
        let mut a = Array2::<f32>::zeros((150, 170));
        let mut b = Array2::<f32>::zeros((150, 170));
        for k in 0..60 {
            a[[10 + k, 20 + k / 2]] = 1.0;
            a[[10 + k, 21 + k / 2]] = 0.6;
            b[[70 + k, 100 + k / 2]] = 1.0;
            b[[70 + k, 101 + k / 2]] = 0.6;
        }
        assert_eq!(mnist_style(a.view()), mnist_style(b.view()));
    }

    #[test]
    fn the_centre_of_mass_lands_on_the_centre() {
        // an L: its centre of mass is not its bounding box's centre
        // (ndarray's s! macro allows unsafe code, which the workspace forbids)
        let img = Array2::from_shape_fn((120, 120), |(r, c)| {
            let bar = (10..90).contains(&r) && (10..20).contains(&c);
            let foot = (80..90).contains(&r) && (20..60).contains(&c);
            if bar || foot { 1.0f32 } else { 0.0 }
        });
        let x = mnist_style(img.view()).unwrap();
        let m = f64::from(x.sum());
        let (mut cx, mut cy) = (0.0, 0.0);
        for ((i, j), &v) in x.indexed_iter() {
            cx += f64::from(v) * (j as f64 + 0.5);
            cy += f64::from(v) * (i as f64 + 0.5);
        }
        // area averaging moves the centre of mass by less than half a pixel times the share
        // of the mass in partly covered pixels: here under 0.1
        assert!(
            (cx / m - 14.0).abs() < 0.1 && (cy / m - 14.0).abs() < 0.1,
            "{cx} {cy}"
        );
        // mass is conserved up to the scale: 1200 pixels of ink times s² = (20/80)²
        assert!((m - 1200.0 * 0.0625).abs() < 1e-3, "{m}");
    }

    #[test]
    fn nothing_drawn_is_none() {
        assert_eq!(mnist_style(Array2::<f32>::zeros((50, 50)).view()), None);
    }

    #[test]
    fn a_png_of_dark_ink_on_white_is_inverted() {
        let mut img = image::GrayImage::from_pixel(8, 4, image::Luma([255]));
        img.put_pixel(2, 1, image::Luma([0]));
        let mut png = Vec::new();
        img.write_to(
            &mut std::io::Cursor::new(&mut png),
            image::ImageOutputFormat::Png,
        )
        .unwrap();
        let g = grey_png(&png, 100).unwrap();
        assert_eq!(g.dim(), (4, 8));
        assert_eq!((g[[1, 2]], g[[0, 0]]), (1.0, 0.0));
        assert!(grey_png(&png, 4).unwrap_err().contains("PNG"));
        assert!(grey_png(b"not a png", 100).is_err());
    }
}
