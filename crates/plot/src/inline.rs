//! What the notebook's figure cells share: [`show`] a figure inline, a [`legend`] whose sample
//! lines do not run into their labels, and matplotlib's `quiver` arrows clipped at the frame.

use std::ops::Range;

use plotters::prelude::*;

use crate::{Area, Chart, DrawResult, Figure, Scale, evcxr_png};

/// `plt.show()` on the Rust kernel: draws a `width × height` figure with `draw` and prints it
/// as the cell's `image/png` output ([`evcxr_png`]).
///
/// ```
/// use scratchnet_plot::plotters::prelude::*;
/// use scratchnet_plot::{chart, show};
///
/// show(300, 200, |root, s| {
///     chart(root, s, "empty", ("x", "y"), 0.0..1.0, 0.0..1.0)?;
///     Ok(())
/// })
/// .unwrap();
/// ```
///
/// # Errors
/// The drawing code's error, as text.
pub fn show(
    width: u32,
    height: u32,
    draw: impl FnOnce(&Area<'_>, Scale) -> DrawResult,
) -> Result<(), String> {
    let png = Figure::new(width, height).render(draw)?;
    print!("{}", evcxr_png(&png));
    Ok(())
}

/// The legend's sample line for a series drawn with `color` (pass it to plotters'
/// `.legend(...)`): [`LEGEND_LINE`] pixels long, which the box made by [`legend`] leaves room
/// for before the label.
///
/// ```
/// use scratchnet_plot::plotters::prelude::*;
/// use scratchnet_plot::{Figure, PALETTE, chart, legend, legend_line};
///
/// Figure::new(300, 200).render(|root, s| {
///     let mut c = chart(root, s, "", ("x", "y"), 0.0..1.0, 0.0..1.0)?;
///     c.draw_series(LineSeries::new([(0.0, 0.0), (1.0, 1.0)], PALETTE[0].stroke_width(s.px(2))))?
///         .label("y = x")
///         .legend(legend_line(PALETTE[0], s));
///     legend(&mut c, s, SeriesLabelPosition::UpperLeft)
/// }).unwrap();
/// ```
pub fn legend_line(
    color: RGBColor,
    s: Scale,
) -> impl Fn((i32, i32)) -> PathElement<(i32, i32)> + 'static {
    move |(x, y)| {
        PathElement::new(
            vec![(x, y), (x + s.i(LEGEND_LINE), y)],
            color.stroke_width(s.px(3)),
        )
    }
}

/// The length of [`legend_line`]'s sample, in final-image pixels.
pub const LEGEND_LINE: i32 = 24;

/// Draws the chart's legend at `position` in the shared style: labels at 16 px, on a white box
/// with a black border, each label [`LEGEND_LINE`] + 10 pixels right of its sample's start (at
/// the default size plotters leaves the supersampled sample running into the text).
///
/// # Errors
/// Plotters' drawing error.
pub fn legend<'a, 'b: 'a>(
    chart: &mut Chart<'a, 'b>,
    s: Scale,
    position: SeriesLabelPosition,
) -> DrawResult {
    chart
        .configure_series_labels()
        .position(position)
        .label_font(s.font(16))
        .legend_area_size(s.px(LEGEND_LINE as u32 + 10))
        .margin(s.px(10))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}

/// The part of the segment `a`–`b` inside the box `x × y` (Liang–Barsky), or `None` if none
/// is. Plotters pins points outside a chart to its frame, which squashes a line crossing it
/// onto the edge; clipped first, it ends at the frame as in matplotlib.
///
/// ```
/// use scratchnet_plot::clip_segment;
/// // crossing the right edge at x = 2: cut there
/// assert_eq!(clip_segment((1.0, 0.0), (3.0, 1.0), -2.0..2.0, -2.0..2.0), Some(((1.0, 0.0), (2.0, 0.5))));
/// // wholly outside
/// assert_eq!(clip_segment((2.25, 0.0), (2.5, 0.0), -2.0..2.0, -2.0..2.0), None);
/// // wholly inside: unchanged
/// assert_eq!(clip_segment((0.0, 0.0), (1.0, 1.0), -2.0..2.0, -2.0..2.0), Some(((0.0, 0.0), (1.0, 1.0))));
/// ```
pub fn clip_segment(
    a: (f64, f64),
    b: (f64, f64),
    x: Range<f64>,
    y: Range<f64>,
) -> Option<((f64, f64), (f64, f64))> {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (p, q) in [
        (-dx, a.0 - x.start),
        (dx, x.end - a.0),
        (-dy, a.1 - y.start),
        (dy, y.end - a.1),
    ] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let r = q / p;
            if p < 0.0 {
                t0 = t0.max(r);
            } else {
                t1 = t1.min(r);
            }
        }
    }
    (t0 <= t1).then(|| {
        let at = |t: f64| (a.0 + t * dx, a.1 + t * dy);
        (at(t0), at(t1))
    })
}

/// `plt.quiver(X, Y, U, V, angles="xy")`: an arrow from each `(x, y)` to `(x + u·scale, y +
/// v·scale)` in data units, its head `head` data units long, every line clipped to the chart's
/// ranges by [`clip_segment`] (an arrow off the chart is not drawn; one crossing the frame is
/// cut there).
///
/// ```
/// use scratchnet_plot::plotters::prelude::*;
/// use scratchnet_plot::{Figure, chart, quiver};
///
/// Figure::new(200, 200).render(|root, s| {
///     let mut c = chart(root, s, "", ("x0", "x1"), -1.0..1.0, -1.0..1.0)?;
///     let arrows = [(0.0, 0.0, 1.0, 0.5), (0.9, 0.0, 1.0, 0.0)];
///     quiver(&mut c, arrows, 0.5, 0.1, BLACK.stroke_width(s.px(2)))
/// }).unwrap();
/// ```
///
/// # Errors
/// Plotters' drawing error.
pub fn quiver(
    chart: &mut Chart<'_, '_>,
    arrows: impl IntoIterator<Item = (f64, f64, f64, f64)>,
    scale: f64,
    head: f64,
    style: ShapeStyle,
) -> DrawResult {
    let (xr, yr) = (chart.x_range(), chart.y_range());
    let mut lines = Vec::new();
    for (x, y, u, v) in arrows {
        let tip = (x + scale * u, y + scale * v);
        lines.push(((x, y), tip));
        let len = (scale * u).hypot(scale * v);
        if len > 1e-12 {
            let (ux, uy) = (scale * u / len, scale * v / len);
            let h = head.min(0.5 * len);
            // the two barbs, 26° either side of the shaft (matplotlib's default head)
            for side in [-0.45f64, 0.45] {
                let (c, s) = (side.cos(), side.sin());
                let back = (-(ux * c - uy * s) * h, -(ux * s + uy * c) * h);
                lines.push((tip, (tip.0 + back.0, tip.1 + back.1)));
            }
        }
    }
    let clipped = lines
        .into_iter()
        .filter_map(|(a, b)| clip_segment(a, b, xr.clone(), yr.clone()))
        .map(|(a, b)| PathElement::new(vec![a, b], style));
    chart.draw_series(clipped)?;
    Ok(())
}
