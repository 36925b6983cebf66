//! §4.4.1: gradient descent on `function_2(x0, x1) = x0² + x1²` from (−3, 4).
//!
//! Prints the notebook's call (lr 0.01, 100 steps) next to the closed form `(1 − 2·lr)^k · x0`,
//! then 100 steps with lr 10.0 (too large: diverges until `x ± h` rounds back to `x` and the
//! numerical gradient becomes 0) and lr 1e-10 (too small: barely moves). Draws the trajectory of
//! lr 0.1 over 10 steps with the minimum marked (`gradient_descent.png`); as in the notebook the
//! points are those *before* each step, `trajectory[..10]` (the notebook's `tmp`).
//!
//! `cargo run --release -p scratchnet-numgrad --example gradient_descent [FIGURE_DIR]`

#[path = "common/mod.rs"]
mod common;

use ndarray::{ArrayView1, array};
use plotters::prelude::*;
use scratchnet_numgrad::gradient_descent;

fn function_2(x: ArrayView1<'_, f64>) -> f64 {
    x[0] * x[0] + x[1] * x[1]
}

fn main() {
    common::main(|dir| {
        let init = array![-3.0, 4.0];
        // Small numbers in fixed notation, the diverged ones in scientific notation.
        let show = |v: &ndarray::Array1<f64>| {
            let f = |a: f64| {
                if a.abs() < 1e6 {
                    format!("{a:.8}")
                } else {
                    format!("{a:.8e}")
                }
            };
            format!("[{}, {}]", f(v[0]), f(v[1]))
        };
        for (label, lr, steps) in [
            ("0.01", 0.01, 100),
            ("10.0", 10.0, 100),
            ("1e-10", 1e-10, 100),
        ] {
            let d = gradient_descent(function_2, &init, lr, steps);
            let k = (1.0f64 - 2.0 * lr).powi(steps as i32);
            println!(
                "lr = {label:<5} {steps} steps: x = {:<36} closed form (1 - 2·lr)^{steps}·x0 = {}",
                show(&d.x),
                show(&(&init * k))
            );
        }
        let d10 = gradient_descent(function_2, &init, 10.0, 100);
        let stuck = d10
            .trajectory
            .windows(2)
            .position(|w| w[0] == w[1])
            .unwrap_or(100);
        println!(
            "lr = 10.0: x grows about 19-fold per step; from step {stuck} on, x ± 1e-4 rounds back to x in f64, \
             the numerical gradient is 0 and x stays at {}",
            show(&d10.trajectory[stuck])
        );

        let (lr, steps) = (0.1, 10);
        let d = gradient_descent(function_2, &init, lr, steps);
        let tmp = &d.trajectory[..steps];
        println!("lr = {lr}, {steps} steps: tmp = trajectory[..{steps}] =");
        for (k, p) in tmp.iter().enumerate() {
            println!("  {k}: ({:+.6}, {:+.6})", p[0], p[1]);
        }
        println!("  final x = ({:+.6}, {:+.6})", d.x[0], d.x[1]);

        common::save_png(dir, "gradient_descent.png", (800, 800), |root, s| {
            let title = format!("gradient descent on x0² + x1², lr = {lr}, {steps} steps");
            let mut chart = common::chart(root, s, &title, ("x0", "x1"), -5.0..5.0, -5.0..5.0)?;
            // The notebook colours the points by step; blend from dark blue (start) to yellow-green.
            let color = |k: usize| {
                let t = k as f64 / (tmp.len() - 1).max(1) as f64;
                let mix = |a: f64, b: f64| (a + t * (b - a)) as u8;
                RGBColor(mix(68.0, 190.0), mix(1.0, 220.0), mix(84.0, 40.0))
            };
            chart
                .draw_series(
                    tmp.iter()
                        .enumerate()
                        .map(|(k, p)| Circle::new((p[0], p[1]), s.i(8), color(k).filled())),
                )?
                .label("x before step k = 0..9 (darker = earlier)")
                .legend(move |(x, y)| Circle::new((x + s.i(10), y), s.i(6), color(0).filled()));
            chart
                .draw_series([TriangleMarker::new((0.0, 0.0), s.i(22), RED.filled())])?
                .label("minimum (0, 0)")
                .legend(move |(x, y)| TriangleMarker::new((x + s.i(10), y), s.i(8), RED.filled()));
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperRight)
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
