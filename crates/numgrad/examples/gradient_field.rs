//! §4.4: the gradient of `function_2(x0, x1) = x0² + x1²`, and the field of −∇f drawn as arrows
//! on the [−2, 2]² grid with step 0.25 (`gradient_field.png`): every arrow points at the
//! minimum (0, 0), longer the farther away it is.
//!
//! The notebook passes `np.array([X, Y])`, shape (2, N), and reads `grad[0]`, `grad[1]`; here
//! every point is a row, shape (N, 2), and the same numbers are `grad.column(0)`, `grad.column(1)`.
//!
//! `cargo run --release -p scratchnet-numgrad --example gradient_field [FIGURE_DIR]`

#[path = "common/mod.rs"]
mod common;

use ndarray::{Array2, ArrayView1, array};
use plotters::prelude::*;
use scratchnet_numgrad::{numerical_gradient, numerical_gradient_points};

fn function_2(x: ArrayView1<'_, f64>) -> f64 {
    x.iter().map(|v| v * v).sum()
}

/// A line from `from` to `to` with a two-stroke head at `to`, in data coordinates (the chart has
/// equal x and y scales, so angles in data space are angles on screen).
fn arrow(from: (f64, f64), to: (f64, f64), style: ShapeStyle) -> Vec<PathElement<(f64, f64)>> {
    let (dx, dy) = (to.0 - from.0, to.1 - from.1);
    let len = dx.hypot(dy);
    let mut parts = vec![PathElement::new(vec![from, to], style)];
    if len > 0.0 {
        let head = (0.35 * len).min(0.07);
        let (ux, uy) = (dx / len, dy / len);
        for side in [-1.0, 1.0] {
            let (c, s) = (25f64.to_radians().cos(), side * 25f64.to_radians().sin());
            let back = (-(ux * c - uy * s) * head, -(ux * s + uy * c) * head);
            parts.push(PathElement::new(
                vec![to, (to.0 + back.0, to.1 + back.1)],
                style,
            ));
        }
    }
    parts
}

fn main() {
    common::main(|dir| {
        for p in [array![3.0, 4.0], array![0.0, 2.0], array![3.0, 0.0]] {
            println!(
                "numerical_gradient(function_2, {p}) = {}",
                numerical_gradient(function_2, &p)
            );
        }

        let ticks: Vec<f64> = (0..=16).map(|i| -2.0 + 0.25 * f64::from(i)).collect();
        // np.meshgrid order: x varies fastest.
        let points = Array2::from_shape_fn((ticks.len() * ticks.len(), 2), |(n, c)| {
            if c == 0 {
                ticks[n % ticks.len()]
            } else {
                ticks[n / ticks.len()]
            }
        });
        let grad = numerical_gradient_points(function_2, &points);
        println!(
            "{} grid points; grad.column(0) is the notebook's grad[0], grad.column(1) its grad[1]",
            points.nrows()
        );
        println!(
            "grad at the corner (-2, -2): {}, at (0.25, 0): {}",
            grad.row(0),
            grad.row(8 * 17 + 9)
        );

        // matplotlib's quiver scales arrows automatically; here the longest one spans 1.2 grid steps.
        let longest = grad
            .rows()
            .into_iter()
            .map(|g| g[0].hypot(g[1]))
            .fold(0.0, f64::max);
        let scale = 1.2 * 0.25 / longest;
        common::save_png(dir, "gradient_field.png", (800, 800), |root, s| {
            let mut chart = common::chart(
                root,
                s,
                "−∇f of f(x0, x1) = x0² + x1²",
                ("x0", "x1"),
                -2.3..2.3,
                -2.3..2.3,
            )?;
            let style = RGBColor(90, 90, 90).stroke_width(s.px(2));
            for (p, g) in points.rows().into_iter().zip(grad.rows()) {
                let from = (p[0], p[1]);
                let to = (p[0] - scale * g[0], p[1] - scale * g[1]);
                chart.draw_series(arrow(from, to, style))?;
            }
            chart.draw_series([TriangleMarker::new((0.0, 0.0), s.i(9), RED.filled())])?;
            Ok(())
        })?;
        Ok(())
    });
}
