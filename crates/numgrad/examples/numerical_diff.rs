//! §4.3.1–4.3.2: numerical differentiation of `function_1(x) = 0.01x² + 0.1x`.
//!
//! Prints the notebook's forward difference next to the book's central difference at x = 5 and
//! x = 10 (exact slopes 0.2 and 0.3), in f64 and f32, and why a tiny h fails; draws `function_1`
//! with its tangent lines at 5 and 10 to `numerical_diff.png`.
//!
//! `cargo run --release -p scratchnet-numgrad --example numerical_diff [FIGURE_DIR]`

#[path = "common/mod.rs"]
mod common;

use plotters::prelude::*;
use scratchnet_numgrad::{H, numerical_diff, numerical_diff_forward, tangent_line};
use scratchnet_tensor::Scalar;

fn function_1<A: Scalar>(x: A) -> A {
    A::of_f64(0.01) * (x * x) + A::of_f64(0.1) * x
}

fn main() {
    common::main(|dir| {
        println!("function_1(x) = 0.01x² + 0.1x, f'(x) = 0.02x + 0.1, h = {H}");
        println!(
            "{:>4} {:>6} {:>22} {:>22} {:>12} {:>12}",
            "x", "exact", "forward f64", "central f64", "forward f32", "central f32"
        );
        for x in [5.0, 10.0] {
            println!(
                "{x:>4} {:>6.1} {:>22} {:>22} {:>12} {:>12}",
                0.02 * x + 0.1,
                numerical_diff_forward(function_1::<f64>, x),
                numerical_diff(function_1::<f64>, x),
                numerical_diff_forward(function_1::<f32>, x as f32),
                numerical_diff(function_1::<f32>, x as f32),
            );
        }
        // The notebook's remark on float32: too small an h is rounded away entirely.
        let tiny = 1e-50f64;
        println!(
            "h = 1e-50: as f32 it is {}, so the forward difference in f32 is {}; in f64 5 + h == 5 is {}",
            tiny as f32,
            (function_1(5.0f32 + tiny as f32) - function_1(5.0f32)) / tiny as f32,
            5.0 + tiny == 5.0
        );

        let lines = [
            (5.0, tangent_line(function_1::<f64>, 5.0)),
            (10.0, tangent_line(function_1::<f64>, 10.0)),
        ];
        for (x, l) in &lines {
            println!(
                "tangent at x = {x}: y = {:.10}·t {:+.10}",
                l.slope, l.intercept
            );
        }

        common::save_png(dir, "numerical_diff.png", (900, 650), |root, s| {
            let mut chart = common::chart(
                root,
                s,
                "function_1 and its tangent lines",
                ("x", "y"),
                0.0..20.0,
                -1.5..6.5,
            )?;
            let xs: Vec<f64> = (0..200).map(|i| i as f64 * 0.1).collect();
            chart
                .draw_series(LineSeries::new(
                    xs.iter().map(|&x| (x, function_1(x))),
                    BLUE.stroke_width(s.px(3)),
                ))?
                .label("y = 0.01x² + 0.1x")
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + s.i(25), y)], BLUE.stroke_width(s.px(3)))
                });
            for ((x0, l), color) in lines.iter().zip([RED, RGBColor(0, 150, 0)]) {
                chart
                    .draw_series(LineSeries::new(
                        xs.iter().map(|&t| (t, l.at(t))),
                        color.stroke_width(s.px(2)),
                    ))?
                    .label(format!("tangent at x = {x0}: slope {:.4}", l.slope))
                    .legend(move |(x, y)| {
                        PathElement::new([(x, y), (x + s.i(25), y)], color.stroke_width(s.px(2)))
                    });
                chart.draw_series([Circle::new((*x0, function_1(*x0)), s.i(6), color.filled())])?;
            }
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperLeft)
                .label_font(s.font(18))
                .legend_area_size(s.px(34))
                .background_style(WHITE.mix(0.9))
                .border_style(BLACK)
                .draw()?;
            Ok(())
        })?;
        Ok(())
    });
}
