//! §4.4.1: gradient descent on `function_2(x0, x1) = x0² + x1²` from (−3, 4).
//!
//! Prints the notebook's call (lr 0.01, 100 steps) and the book's (lr 0.1, 100 steps: its
//! printout `[-6.111107929e-10, 8.148143905e-10]`) next to the closed form `(1 − 2·lr)^k · x0`,
//! then 100 steps with lr 10.0 (too large: diverges until `x ± h` rounds back to `x` and the
//! numerical gradient becomes 0) and lr 1e-10 (too small: barely moves). Draws the trajectory of
//! lr 0.1 with the minimum marked (`gradient_descent.png`): the notebook's 10 steps beside the
//! book script's 20 (`gradient_method.py`); as in the notebook the points are those *before*
//! each step, `trajectory[..steps]` (the notebook's `tmp`).
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
        // Fixed notation, but the diverged and the nearly-zero ones in scientific notation (the
        // book prints lr 0.1 as [-6.111107929e-10, 8.148143905e-10]).
        let show = |v: &ndarray::Array1<f64>| {
            let f = |a: f64| {
                if a.abs() >= 1e6 {
                    format!("{a:.8e}")
                } else if a != 0.0 && a.abs() < 1e-4 {
                    format!("{a:.9e}")
                } else {
                    format!("{a:.8}")
                }
            };
            format!("[{}, {}]", f(v[0]), f(v[1]))
        };
        for (label, lr, steps) in [
            ("0.01", 0.01, 100),
            ("0.1", 0.1, 100),
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

        let lr = 0.1;
        // the notebook's 10 steps in its (-5, 5) box, the book's 20 in (-3.5, 3.5) x (-4.5, 4.5)
        let panels = [(10usize, 5.0, 5.0), (20, 3.5, 4.5)];
        let runs: Vec<_> = panels
            .iter()
            .map(|&(steps, _, _)| gradient_descent(function_2, &init, lr, steps))
            .collect();
        for ((steps, _, _), d) in panels.iter().zip(&runs) {
            println!("lr = {lr}, {steps} steps: tmp = trajectory[..{steps}] =");
            for (k, p) in d.trajectory[..*steps].iter().enumerate() {
                println!("  {k}: ({:+.6}, {:+.6})", p[0], p[1]);
            }
            println!("  final x = ({:+.6}, {:+.6})", d.x[0], d.x[1]);
        }

        common::save_png(dir, "gradient_descent.png", (1400, 720), |root, s| {
            let (w, _) = root.dim_in_pixel();
            let (left, right) = root.split_horizontally(w / 2);
            for ((area, &(steps, xlim, ylim)), d) in [left, right].iter().zip(&panels).zip(&runs) {
                let tmp = &d.trajectory[..steps];
                let title = format!("lr = {lr}, {steps} steps");
                let mut chart =
                    common::chart(area, s, &title, ("x0", "x1"), -xlim..xlim, -ylim..ylim)?;
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
                            .map(|(k, p)| Circle::new((p[0], p[1]), s.i(7), color(k).filled())),
                    )?
                    .label(format!(
                        "x before step k = 0..{} (darker = earlier)",
                        steps - 1
                    ))
                    .legend(move |(x, y)| Circle::new((x + s.i(10), y), s.i(6), color(0).filled()));
                chart
                    .draw_series([TriangleMarker::new((0.0, 0.0), s.i(12), RED.filled())])?
                    .label("minimum (0, 0)")
                    .legend(move |(x, y)| {
                        TriangleMarker::new((x + s.i(10), y), s.i(8), RED.filled())
                    });
                chart
                    .configure_series_labels()
                    .position(SeriesLabelPosition::UpperRight)
                    .label_font(s.font(15))
                    .legend_area_size(s.px(30))
                    .background_style(WHITE.mix(0.9))
                    .border_style(BLACK)
                    .draw()?;
            }
            Ok(())
        })?;
        Ok(())
    });
}
