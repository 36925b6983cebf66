//! The book's figure 6-8 (`ch06/optimizer_compare_naive.py`): the paths of SGD, Momentum,
//! AdaGrad and Adam minimising f(x, y) = x²/20 + y² from (−7, 2), 30 steps each, over the
//! contour lines of f. Writes `optimizer_compare_naive.png` to the folder given as the first
//! argument (default `target/figures`), and prints where each of the six optimizers ends, at
//! full precision (`NAME: (x, y)`): the book's four with the script's learning rates, Nesterov
//! and RMSprop with lr 0.1 (test `the_six_optimizers_end_where_numpy_ends_on_the_books_quadratic`
//! holds these to NumPy's numbers).
//!
//! ```text
//! cargo run --release -p scratchnet-network --example optimizer_compare_naive
//! ```

mod common;

use ndarray::{ArrayD, IxDyn};
use plotters::prelude::*;
use scratchnet_network::optimizer::{
    AdaGrad, Adam, AnyOptimizer, Momentum, Nesterov, Optimizer, RmsProp, Sgd,
};
use scratchnet_plot::{Figure, chart};

/// ∂f/∂x and ∂f/∂y of f(x, y) = x²/20 + y².
fn df(x: f64, y: f64) -> (f64, f64) {
    (x / 10.0, 2.0 * y)
}

/// 30 steps of `opt` from (−7, 2), the start included: 31 points.
fn path(mut opt: AnyOptimizer<f64>) -> Vec<(f64, f64)> {
    // the book's params dict {'x': -7.0, 'y': 2.0}: two one-element tensors
    let mut x = ArrayD::from_elem(IxDyn(&[1]), -7.0);
    let mut y = ArrayD::from_elem(IxDyn(&[1]), 2.0);
    let mut points = vec![(x[0], y[0])];
    for _ in 0..30 {
        let (gx, gy) = df(x[0], y[0]);
        let (gx, gy) = (
            ArrayD::from_elem(IxDyn(&[1]), gx),
            ArrayD::from_elem(IxDyn(&[1]), gy),
        );
        opt.update(&mut [x.view_mut(), y.view_mut()], &[gx.view(), gy.view()]);
        points.push((x[0], y[0]));
    }
    points
}

fn main() {
    common::main(run);
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let dir = common::figure_dir()?;
    // the book's learning rates for this figure; lr 0.1 for the two it leaves out
    let runs = [
        ("SGD", AnyOptimizer::Sgd(Sgd::new(0.95))),
        ("Momentum", AnyOptimizer::Momentum(Momentum::new(0.1))),
        ("Nesterov", AnyOptimizer::Nesterov(Nesterov::new(0.1))),
        ("AdaGrad", AnyOptimizer::AdaGrad(AdaGrad::new(1.5))),
        ("RMSprop", AnyOptimizer::RmsProp(RmsProp::new(0.1))),
        ("Adam", AnyOptimizer::Adam(Adam::new(0.3))),
    ];
    let paths: Vec<(&str, Vec<(f64, f64)>)> = runs.into_iter().map(|(n, o)| (n, path(o))).collect();
    for (name, p) in &paths {
        let (x, y) = p[p.len() - 1];
        println!("{name}: ({x:?}, {y:?})");
    }
    // the figure has the book's four panels
    let book = ["SGD", "Momentum", "AdaGrad", "Adam"];
    let paths: Vec<_> = paths
        .into_iter()
        .filter(|(n, _)| book.contains(n))
        .collect();
    let out = dir.join("optimizer_compare_naive.png");
    Figure::new(1000, 800).save(&out, |root, s| {
        root.fill(&WHITE)?;
        for ((name, p), area) in paths.iter().zip(root.split_evenly((2, 2))) {
            let mut c = chart(&area, s, name, ("x", "y"), -10.0..10.0, -5.0..5.0)?;
            // contour lines x²/20 + y² = level, drawn as the ellipses they are
            for level in [0.5, 1.0, 2.0, 4.0, 7.0, 11.0, 16.0, 22.0] {
                let (a, b) = ((20.0f64 * level).sqrt(), f64::sqrt(level));
                c.draw_series(LineSeries::new(
                    (0..=200).map(|k| {
                        let t = k as f64 / 200.0 * std::f64::consts::TAU;
                        (a * t.cos(), b * t.sin())
                    }),
                    RGBColor(150, 150, 220).stroke_width(s.px(1)),
                ))?;
            }
            c.draw_series(std::iter::once(Cross::new(
                (0.0, 0.0),
                s.i(6),
                BLACK.stroke_width(s.px(2)),
            )))?;
            let red = RGBColor(214, 39, 40);
            c.draw_series(LineSeries::new(
                p.iter().copied(),
                red.stroke_width(s.px(2)),
            ))?;
            c.draw_series(p.iter().map(|&q| Circle::new(q, s.i(3), red.filled())))?;
        }
        Ok(())
    })?;
    println!("wrote {}", out.display());
    Ok(())
}
