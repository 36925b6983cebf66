//! §4.3.3, the book's figure 4-8: the surface of `function_2(x0, x1) = x0² + x1²` over
//! [−3, 3]², as the seed's `mplot3d` draws it (`function_2_surface.png`), and the book's
//! `function_2` for a batch of points, `np.sum(x**2, axis=1)` when `x.ndim > 1`.
//!
//! `cargo run --release -p scratchnet-numgrad --example function_2_surface [FIGURE_DIR]`

#[path = "common/mod.rs"]
mod common;

use ndarray::{Array1, Array2, ArrayView2, Axis, array};
use plotters::prelude::*;

/// The book's `function_2` for a batch of points, one per row: `np.sum(x**2, axis=1)`.
fn function_2_rows(x: ArrayView2<'_, f64>) -> Array1<f64> {
    x.mapv(|v| v * v).sum_axis(Axis(1))
}

fn main() {
    common::main(|dir| {
        let points: Array2<f64> = array![[3.0, 4.0], [0.0, 2.0], [3.0, 0.0], [-1.5, 0.5]];
        println!(
            "function_2 of each row of\n{points}\n= {}",
            function_2_rows(points.view())
        );

        common::save_png(dir, "function_2_surface.png", (900, 760), |root, s| {
            let root = root
                .margin(s.px(12), 0, 0, 0)
                .titled("f(x0, x1) = x0² + x1² (fig. 4-8)", s.font(24))?;
            let mut chart = ChartBuilder::on(&root)
                .margin(s.px(20))
                .build_cartesian_3d(-3.0..3.0, 0.0..18.0, -3.0..3.0)?;
            chart.with_projection(|mut p| {
                p.pitch = 0.45;
                p.yaw = 0.7;
                p.scale = 0.85;
                p.into_matrix()
            });
            chart
                .configure_axes()
                .label_style(s.font(14))
                .x_formatter(&|v| scratchnet_plot::tick(*v))
                .y_formatter(&|v| scratchnet_plot::tick(*v))
                .z_formatter(&|v| scratchnet_plot::tick(*v))
                .light_grid_style(RGBColor(230, 230, 230))
                .max_light_lines(3)
                .draw()?;
            let grid: Vec<f64> = (0..=30).map(|i| -3.0 + 0.2 * f64::from(i)).collect();
            // colour by height, from the bottom's blue to the rim's yellow, as matplotlib's default
            chart.draw_series(
                SurfaceSeries::xoz(grid.iter().copied(), grid.iter().copied(), |x0, x1| {
                    x0 * x0 + x1 * x1
                })
                .style_func(&|&v| {
                    let t = (v / 18.0).clamp(0.0, 1.0);
                    let c = RGBColor(
                        (68.0 + t * (253.0 - 68.0)) as u8,
                        (1.0 + t * (231.0 - 1.0)) as u8,
                        (84.0 + t * (37.0 - 84.0)) as u8,
                    );
                    c.mix(0.9).filled()
                }),
            )?;
            Ok(())
        })?;
        Ok(())
    });
}
