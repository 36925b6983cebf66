//! The figures of scratchnet, one place for every example, the trainer and the notebook: PNG
//! charts drawn with [plotters], with the embedded DejaVu Sans (no system font needed),
//! anti-aliased like matplotlib's by drawing at [`SUPERSAMPLE`]× the size and averaging down,
//! and written atomically through `scratchnet-fileio` (a reader never sees half an image, and a
//! directory or device under the name is refused, never replaced).
//!
//! Drawing code gets a [`Scale`]: every size in pixels (fonts, margins, stroke widths, marker
//! radii) goes through [`Scale::px`], so a figure looks the same at any supersampling.
//!
//! ```
//! use plotters::prelude::*;
//! use scratchnet_plot::{Figure, chart};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("line.png");
//! Figure::new(400, 300)
//!     .save(&path, |root, s| {
//!         let mut c = chart(root, s, "y = x²", ("x", "y"), -1.0..1.0, 0.0..1.0)?;
//!         c.draw_series(LineSeries::new(
//!             (-10..=10).map(|i| (i as f64 / 10.0, (i * i) as f64 / 100.0)),
//!             BLUE.stroke_width(s.px(2)),
//!         ))?;
//!         Ok(())
//!     })
//!     .unwrap();
//! assert_eq!(&std::fs::read(&path).unwrap()[1..4], b"PNG");
//! ```

mod digits;
mod grid;
mod inline;
mod title;
mod training;

pub use digits::{captioned_images, confusion_figure};
pub use grid::{Curves, draw_grid};
pub use inline::{LEGEND_LINE, clip_segment, legend, legend_line, quiver, show};
/// The plotting library, re-exported so that a notebook's `:dep` on this crate alone brings
/// the version (and features) the workspace is built and tested with.
pub use plotters;
pub use title::titled;
pub use training::{accuracy_figure, loss_figure};

use std::error::Error;
use std::path::{Path, PathBuf};
use std::sync::Once;

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::FontStyle;

/// Font family of every text; the embedded DejaVu Sans is registered under this name.
pub const FONT: &str = "sans-serif";

/// Each figure is drawn at this many times its size in both directions, then averaged down:
/// the anti-aliasing that plotters' bitmap backend does not do itself.
pub const SUPERSAMPLE: u32 = 3;

/// A drawing area of the supersampled bitmap.
pub type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

/// A 2-D chart with `f64` axes on an [`Area`].
pub type Chart<'a, 'b> =
    ChartContext<'a, BitMapBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// What drawing code returns: any plotters error, or a message.
pub type DrawResult = Result<(), Box<dyn Error>>;

/// Why a figure was not written.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// The drawing code failed.
    #[error("cannot draw {}: {what}", path.display())]
    Draw {
        /// The figure's path.
        path: PathBuf,
        /// What went wrong.
        what: String,
    },
    /// The file could not be written.
    #[error(transparent)]
    File(#[from] scratchnet_fileio::FileError),
}

/// Pixel sizes of the final image, multiplied for the supersampled canvas.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scale(u32);

impl Scale {
    /// `v` final-image pixels in canvas pixels.
    ///
    /// ```
    /// # use plotters::prelude::*;
    /// let dir = tempfile::tempdir().unwrap();
    /// scratchnet_plot::Figure::new(10, 10).save(dir.path().join("a.png"), |_, s| {
    ///     assert_eq!(s.px(2), 2 * scratchnet_plot::SUPERSAMPLE);
    ///     Ok(())
    /// }).unwrap();
    /// ```
    pub fn px(self, v: u32) -> u32 {
        v * self.0
    }

    /// [`px`](Self::px) for plotters' signed coordinates.
    pub fn i(self, v: i32) -> i32 {
        v * self.0 as i32
    }

    /// A font of `size` final-image pixels in [`FONT`].
    pub fn font(self, size: u32) -> TextStyle<'static> {
        (FONT, f64::from(self.px(size))).into_font().into()
    }
}

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The bytes are the dejavu crate's embedded TTF, fixed at compile time: failing to parse
        // them is a build defect, never a user error.
        plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular())
            .unwrap_or_else(|_| panic!("the embedded DejaVu Sans font is a valid TTF"));
    });
}

/// A PNG figure of a given final size.
#[derive(Clone, Copy, Debug)]
pub struct Figure {
    width: u32,
    height: u32,
}

impl Figure {
    /// A figure `width × height` pixels.
    ///
    /// # Panics
    /// If either side is 0 or above 10,000 pixels.
    pub fn new(width: u32, height: u32) -> Self {
        assert!(
            (1..=10_000).contains(&width) && (1..=10_000).contains(&height),
            "figure size {width}x{height} out of range"
        );
        Figure { width, height }
    }

    /// Draws the figure with `draw` on a white canvas and returns the PNG file's bytes.
    ///
    /// ```
    /// let png = scratchnet_plot::Figure::new(20, 10).render(|_, _| Ok(())).unwrap();
    /// assert_eq!(&png[1..4], b"PNG");
    /// ```
    pub fn render(
        self,
        draw: impl FnOnce(&Area<'_>, Scale) -> DrawResult,
    ) -> Result<Vec<u8>, String> {
        register_font();
        let k = SUPERSAMPLE;
        let (w, h) = (self.width * k, self.height * k);
        let mut big = vec![255u8; (w * h * 3) as usize];
        {
            let root = BitMapBackend::with_buffer(&mut big, (w, h)).into_drawing_area();
            draw(&root, Scale(k)).map_err(|e| e.to_string())?;
            root.present().map_err(|e| e.to_string())?;
        }
        let small = downsample(&big, self.width, self.height, k);
        let mut png = Vec::new();
        image::ImageEncoder::write_image(
            image::codecs::png::PngEncoder::new(&mut png),
            &small,
            self.width,
            self.height,
            image::ColorType::Rgb8,
        )
        .map_err(|e| e.to_string())?;
        Ok(png)
    }

    /// [`render`](Self::render)s the figure and writes it to `path` atomically.
    pub fn save(
        self,
        path: impl AsRef<Path>,
        draw: impl FnOnce(&Area<'_>, Scale) -> DrawResult,
    ) -> Result<(), PlotError> {
        let path = path.as_ref();
        let png = self.render(draw).map_err(|what| PlotError::Draw {
            path: path.to_owned(),
            what,
        })?;
        scratchnet_fileio::write_atomic(path, &png)?;
        Ok(())
    }
}

/// Averages each `k × k` block of the RGB image `big` (`w·k × h·k`) into one pixel.
fn downsample(big: &[u8], w: u32, h: u32, k: u32) -> Vec<u8> {
    let (w, h, k) = (w as usize, h as usize, k as usize);
    let row = w * k * 3;
    let mut out = vec![0u8; w * h * 3];
    let n = (k * k) as u32;
    for y in 0..h {
        for x in 0..w {
            for c in 0..3 {
                let mut sum = 0u32;
                for dy in 0..k {
                    let base = (y * k + dy) * row + x * k * 3 + c;
                    for dx in 0..k {
                        sum += u32::from(big[base + dx * 3]);
                    }
                }
                out[(y * w + x) * 3 + c] = ((sum + n / 2) / n) as u8;
            }
        }
    }
    out
}

/// The largest magnitude an axis shows: values beyond are drawn at the edge. Far below
/// `f64::MAX`, so that an axis's width, its padding and its tick steps stay finite (an infinite
/// or overflowing range never ends plotters' tick loop).
pub const AXIS_LIMIT: f64 = 1e300;

/// `r` made safe to draw: each end clamped to ±[`AXIS_LIMIT`] (NaN as 0), the ends in order, and
/// an empty range widened to a unit around its value.
///
/// ```
/// use scratchnet_plot::{AXIS_LIMIT, finite_range};
/// assert_eq!(finite_range(0.0..2.0), 0.0..2.0);
/// assert_eq!(finite_range(0.0..f64::INFINITY), 0.0..AXIS_LIMIT);
/// assert_eq!(finite_range(f64::NAN..f64::MAX), 0.0..AXIS_LIMIT);
/// assert_eq!(finite_range(3.0..3.0), 2.5..3.5);
/// ```
pub fn finite_range(r: std::ops::Range<f64>) -> std::ops::Range<f64> {
    let clamp = |v: f64| {
        if v.is_nan() {
            0.0
        } else {
            v.clamp(-AXIS_LIMIT, AXIS_LIMIT)
        }
    };
    let (a, b) = (clamp(r.start), clamp(r.end));
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    if lo < hi {
        return lo..hi;
    }
    // One value: half a unit either side, or 5 % of it when that is more (at ±AXIS_LIMIT the
    // sum stays far below f64::MAX).
    let pad = (lo.abs() * 0.05).max(0.5);
    lo - pad..hi + pad
}

/// The range of an axis showing `values`: from the smallest to the largest finite value,
/// through [`finite_range`] (so huge values are clamped to ±[`AXIS_LIMIT`]); NaN and ±∞ are
/// left out, and no finite value at all gives `0..1`.
///
/// ```
/// use scratchnet_plot::{AXIS_LIMIT, axis_range};
/// assert_eq!(axis_range([2.0, f64::NAN, -1.0, f64::INFINITY]), -1.0..2.0);
/// assert_eq!(axis_range([0.5, f64::MAX]), 0.5..AXIS_LIMIT);
/// assert_eq!(axis_range([f64::NAN]), 0.0..1.0);
/// ```
pub fn axis_range(values: impl IntoIterator<Item = f64>) -> std::ops::Range<f64> {
    let (lo, hi) = values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if lo > hi {
        return 0.0..1.0;
    }
    finite_range(lo..hi)
}

/// A chart with a title, labelled axes and a light grid in the shared style, on `root`.
///
/// The ranges go through [`finite_range`]: an infinite, NaN or huge end is clamped, never an
/// endless tick loop. Label areas are sized so that tick labels of up to six digits are not clipped, the right
/// margin leaves room for the last x tick label, and ticks are written by [`tick`].
pub fn chart<'a, 'b>(
    root: &'a Area<'b>,
    s: Scale,
    title: &str,
    (x_desc, y_desc): (&str, &str),
    x: std::ops::Range<f64>,
    y: std::ops::Range<f64>,
) -> Result<Chart<'a, 'b>, Box<dyn Error>> {
    let mut chart = ChartBuilder::on(root)
        .caption(title, s.font(24))
        .margin(s.px(14))
        .margin_right(s.px(34))
        .x_label_area_size(s.px(52))
        .y_label_area_size(s.px(72))
        .build_cartesian_2d(finite_range(x), finite_range(y))?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .axis_desc_style(s.font(20))
        .label_style(s.font(16))
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(&|v| tick(*v))
        // outward ticks as matplotlib's: they also hold the first x and y labels apart at the
        // corner, where they would otherwise meet ("-2" over "-2")
        .set_all_tick_mark_size(s.px(TICK))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()?;
    Ok(chart)
}

/// The length of the tick marks of [`chart`], in final-image pixels.
pub const TICK: u32 = 6;

/// A tick label as matplotlib writes it: `200`, not `200.0`; `0.3`, not `0.30000000000000004`.
///
/// ```
/// use scratchnet_plot::tick;
/// assert_eq!(tick(200.0), "200");
/// assert_eq!(tick(0.1 + 0.2), "0.3");
/// assert_eq!(tick(-2.5), "-2.5");
/// assert_eq!(tick(-0.0), "0");
/// ```
pub fn tick(v: f64) -> String {
    let s = format!("{v:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.into() }
}

/// Tick labels for whole-number axes: `600`, not `600.0`; nothing at fractional ticks.
///
/// ```
/// assert_eq!(scratchnet_plot::whole(600.0), "600");
/// assert_eq!(scratchnet_plot::whole(0.5), "");
/// ```
pub fn whole(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{}", v.round() as i64)
    } else {
        String::new()
    }
}

/// A number as short as it can be written and still read back exactly: `0.1`, `3e38`, `1e-7`,
/// for titles and banners (Rust's `{}` prints `3e38` as 39 digits).
///
/// ```
/// use scratchnet_plot::compact;
/// assert_eq!(compact(0.1), "0.1");
/// assert_eq!(compact(3e38), "3e38");
/// assert_eq!(compact(1e-7), "1e-7");
/// assert_eq!(compact(100.0), "100");
/// ```
pub fn compact(v: f64) -> String {
    let plain = format!("{v}");
    let sci = format!("{v:e}");
    if sci.len() < plain.len() { sci } else { plain }
}

/// The book's `smooth_curve` (`common/util.py`): each point replaced by the average of the 11
/// points around it, weighted by a Kaiser window (β = 2), the ends mirrored. Loss curves of
/// single mini-batches are noisy; the book plots them through this.
///
/// ```
/// let flat = vec![2.0; 30];
/// let s = scratchnet_plot::smooth_curve(&flat);
/// assert_eq!(s.len(), 30);
/// assert!(s.iter().all(|v| (v - 2.0).abs() < 1e-12));
/// assert!(scratchnet_plot::smooth_curve(&[]).is_empty());
/// ```
pub fn smooth_curve(x: &[f64]) -> Vec<f64> {
    const LEN: usize = 11;
    if x.len() < LEN {
        return x.to_vec();
    }
    let w = kaiser(LEN, 2.0);
    let total: f64 = w.iter().sum();
    let half = LEN / 2;
    // the ends mirrored as `np.r_[x[k-1:0:-1], x, x[-1:-k:-1]]`: the first point not repeated,
    // the last one repeated
    let at = |i: isize| -> f64 {
        let n = x.len() as isize;
        let j = if i < 0 {
            -i
        } else if i >= n {
            2 * n - 1 - i
        } else {
            i
        };
        x[j.clamp(0, n - 1) as usize]
    };
    (0..x.len() as isize)
        .map(|i| {
            w.iter()
                .enumerate()
                .map(|(k, wk)| wk * at(i + k as isize - half as isize))
                .sum::<f64>()
                / total
        })
        .collect()
}

/// The Kaiser window of `n` points and shape `beta` (NumPy's `np.kaiser`).
fn kaiser(n: usize, beta: f64) -> Vec<f64> {
    let m = (n - 1) as f64;
    (0..n)
        .map(|k| {
            let r = 2.0 * k as f64 / m - 1.0;
            bessel_i0(beta * (1.0 - r * r).sqrt()) / bessel_i0(beta)
        })
        .collect()
}

/// The modified Bessel function I₀ by its power series (converges fast for the small arguments a
/// window uses).
fn bessel_i0(x: f64) -> f64 {
    let (mut term, mut sum, q) = (1.0f64, 1.0f64, x * x / 4.0);
    for k in 1..60 {
        term *= q / (k * k) as f64;
        sum += term;
        if term < sum * 1e-17 {
            break;
        }
    }
    sum
}

/// The colours of the book's figures (matplotlib's default cycle): blue, orange, green, red,
/// purple.
pub const PALETTE: [RGBColor; 5] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
];

/// A line through `points` as separate two-point segments: plotters joins the segments of a
/// thick `LineSeries` with miter joins, which turn every sharp zigzag (a noisy loss curve) into a
/// long spike; separate segments have no joins.
///
/// ```
/// use plotters::prelude::*;
/// let pts = [(0.0, 0.0), (1.0, 1.0), (2.0, 0.0)];
/// assert_eq!(scratchnet_plot::segments(pts, BLUE.stroke_width(2)).count(), 2);
/// ```
pub fn segments(
    points: impl IntoIterator<Item = (f64, f64)>,
    style: ShapeStyle,
) -> impl Iterator<Item = PathElement<(f64, f64)>> {
    let mut it = points.into_iter();
    let mut prev = it.next();
    std::iter::from_fn(move || {
        let (a, b) = (prev?, it.next()?);
        prev = Some(b);
        Some(PathElement::new(vec![a, b], style))
    })
}

/// The text that shows a PNG inline in a Jupyter notebook run on the Rust kernel evcxr (its
/// display protocol: `EVCXR_BEGIN_CONTENT image/png`, the image in base64, `EVCXR_END_CONTENT`).
/// Print it as the cell's output: `print!("{}", evcxr_png(&png))`.
///
/// ```
/// let shown = scratchnet_plot::evcxr_png(b"\x89PNG\r\n\x1a\n");
/// assert_eq!(shown, "EVCXR_BEGIN_CONTENT image/png\niVBORw0KGgo=\nEVCXR_END_CONTENT\n");
/// ```
pub fn evcxr_png(png: &[u8]) -> String {
    format!(
        "EVCXR_BEGIN_CONTENT image/png\n{}\nEVCXR_END_CONTENT\n",
        base64(png)
    )
}

/// Standard base64 (RFC 4648, with `=` padding).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * k)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Grey tiles in labelled bands, each band a title line over rows of `per_row` tiles: the
/// book's figure 7-24 of the first layer's filters (`visualize_filter.py`). Each tile is
/// `shape.0 × shape.1` values in row-major order, drawn from its own minimum (black) to its
/// maximum (white); a constant tile is black.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("tiles.png");
/// let tiles = vec![vec![0.0, 1.0, 2.0, 3.0], vec![1.0; 4]];
/// scratchnet_plot::tile_grid(&path, &[("two 2×2 tiles".to_string(), tiles)], (2, 2), 10).unwrap();
/// assert!(path.exists());
/// ```
///
/// # Errors
/// [`PlotError`] if the figure cannot be drawn or written.
pub fn tile_grid(
    path: impl AsRef<Path>,
    bands: &[(String, Vec<Vec<f64>>)],
    shape: (usize, usize),
    per_row: usize,
) -> Result<(), PlotError> {
    let (fh, fw) = (shape.0.max(1) as u32, shape.1.max(1) as u32);
    let cols = per_row.max(1);
    let most = bands.iter().map(|(_, t)| t.len()).max().unwrap_or(0);
    let cols_used = most.clamp(1, cols) as u32;
    let (tile, gap, band) = (40u32, 6u32, 34u32);
    let block = |n: usize| n.div_ceil(cols).max(1) as u32 * (tile + gap);
    let width = cols_used * (tile + gap) + gap;
    let height = bands
        .iter()
        .map(|(_, t)| band + block(t.len()))
        .sum::<u32>()
        + gap;
    Figure::new(width.max(200), height).save(path, |root, s| {
        root.fill(&WHITE)?;
        let mut top = 0u32;
        for (label, tiles) in bands {
            root.draw(&Text::new(
                label.clone(),
                (s.i(gap as i32), s.i(top as i32 + 8)),
                s.font(18),
            ))?;
            for (f, k) in tiles.iter().enumerate() {
                let (lo, hi) = k
                    .iter()
                    .fold((f64::MAX, f64::MIN), |(a, b), &v| (a.min(v), b.max(v)));
                let span = if hi > lo { hi - lo } else { 1.0 };
                let x0 = gap + (f % cols) as u32 * (tile + gap);
                let y0 = top + band + (f / cols) as u32 * (tile + gap);
                for (n, &v) in k.iter().enumerate().take((fh * fw) as usize) {
                    let (i, j) = (n as u32 / fw, n as u32 % fw);
                    let g = if v.is_finite() {
                        (255.0 * ((v - lo) / span).clamp(0.0, 1.0)).round() as u8
                    } else {
                        0
                    };
                    let (px0, py0) = (x0 + j * tile / fw, y0 + i * tile / fh);
                    let (px1, py1) = (x0 + (j + 1) * tile / fw, y0 + (i + 1) * tile / fh);
                    root.draw(&Rectangle::new(
                        [
                            (s.i(px0 as i32), s.i(py0 as i32)),
                            (s.i(px1 as i32), s.i(py1 as i32)),
                        ],
                        RGBColor(g, g, g).filled(),
                    ))?;
                }
            }
            top += band + block(tiles.len());
        }
        Ok(())
    })
}

#[cfg(test)]
mod base64_tests {
    #[test]
    fn rfc_4648_test_vectors() {
        for (input, want) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(super::base64(input.as_bytes()), want, "{input:?}");
        }
    }
}
