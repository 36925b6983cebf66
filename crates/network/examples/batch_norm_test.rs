//! The book's figures 6-18 and 6-19 (`ch06/batch_norm_test.py`): a 6-layer net (5 hidden layers
//! of 100 ReLU units) with and without batch normalisation, trained on the first 1000 MNIST
//! images by SGD (lr 0.01), batch 100, 20 epochs, both on the same mini-batches, for 16 weight
//! scales `logspace(0, -4, 16)` (the std of every layer's initial weights); the training
//! accuracy per epoch in a 4×4 grid. With batch norm the net learns faster at most scales, and
//! it learns at scales where the plain net does not learn at all. Writes `batch_norm_test.png`
//! to the folder given as the first argument (default `target/figures`). Needs MNIST
//! (`cargo xtask fetch-mnist`).
//!
//! ```text
//! cargo run --release -p scratchnet-network --example batch_norm_test
//! ```

mod common;

use plotters::prelude::*;
use rayon::prelude::*;
use scratchnet_network::optimizer::{AnyOptimizer, Sgd};
use scratchnet_network::{Activation, Net, NetSpec, WeightInit};
use scratchnet_plot::{Figure, LEGEND_LINE, PALETTE, segments, tick, whole};
use scratchnet_tensor::rng_from_seed;

const EPOCHS: usize = 20;

fn main() {
    common::main(run);
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let (train, _) = common::load_train_test(1000)?;
    let dir = common::figure_dir()?;
    // np.logspace(0, -4, num=16)
    let scales: Vec<f64> = (0..16)
        .map(|i| 10f64.powf(-4.0 * i as f64 / 15.0))
        .collect();
    let start = std::time::Instant::now();
    // each scale is independent (own nets, own seeds): in parallel, results in scale order
    let results: Vec<(Vec<f64>, Vec<f64>)> = scales
        .par_iter()
        .enumerate()
        .map(|(i, &w)| {
            let net = |seed, batch_norm| {
                let spec = NetSpec::multi_layer_net_extend(
                    784,
                    &[100; 5],
                    10,
                    Activation::Relu,
                    WeightInit::Std(w),
                    0.0,
                    None,
                    batch_norm,
                );
                Net::<f64>::new(spec, &mut rng_from_seed(seed)).expect("a valid spec")
            };
            let sgd = || AnyOptimizer::Sgd(Sgd::new(0.01));
            let mut nets = [
                (net(100 + i as u64, true), sgd()),
                (net(200 + i as u64, false), sgd()),
            ];
            let acc = common::train_epochs(&train, &[&train], &mut nets, EPOCHS, 100, i as u64);
            (acc[0][0].clone(), acc[1][0].clone())
        })
        .collect();
    println!(
        "16 scales x 2 nets x {EPOCHS} epochs in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    let mut faster = 0;
    for (w, (bn, plain)) in scales.iter().zip(&results) {
        let (b, p) = (bn[EPOCHS - 1], plain[EPOCHS - 1]);
        println!("W: {w:.6}  final train acc: batch norm {b:.4}, normal {p:.4}");
        if b > p {
            faster += 1;
        }
    }
    println!("batch norm ahead after {EPOCHS} epochs at {faster} of 16 scales");
    let out = dir.join("batch_norm_test.png");
    let names = ["Batch Normalization", "Normal (without BatchNorm)"];
    // the book draws "Normal" dashed
    let dashed = [false, true];
    Figure::new(1400, 1300).save(&out, |root, s| {
        root.fill(&WHITE)?;
        // one legend for all 16 panels, in a band above them, where it hides no curve
        let (band, grid) = root.split_vertically(s.px(50));
        let mut x = s.i(470);
        for (k, name) in names.iter().enumerate() {
            let style = PALETTE[k].stroke_width(s.px(3));
            let (y, len) = (s.i(25), s.i(LEGEND_LINE));
            if dashed[k] {
                band.draw(&plotters::element::DashedPathElement::new(
                    vec![(x, y), (x + len, y)],
                    s.px(7),
                    s.px(4),
                    style,
                ))?;
            } else {
                band.draw(&PathElement::new(vec![(x, y), (x + len, y)], style))?;
            }
            band.draw(&Text::new(
                *name,
                (x + len + s.i(8), y - s.i(10)),
                s.font(18),
            ))?;
            x += s.i(if k == 0 { 260 } else { 0 });
        }
        for (i, (cell, (w, (bn, plain)))) in grid
            .split_evenly((4, 4))
            .iter()
            .zip(scales.iter().zip(&results))
            .enumerate()
        {
            let mut c = ChartBuilder::on(cell)
                .caption(format!("W: {w:.2e}"), s.font(17))
                .margin(s.px(6))
                .margin_right(s.px(14))
                .x_label_area_size(s.px(if i >= 12 { 50 } else { 26 }))
                .y_label_area_size(s.px(if i % 4 == 0 { 60 } else { 26 }))
                .build_cartesian_2d(0.0..(EPOCHS - 1) as f64, 0.0..1.0)?;
            let mut mesh = c.configure_mesh();
            // epochs are whole numbers: "5", not "5.0"
            mesh.label_style(s.font(15))
                .x_labels(5)
                .y_labels(3)
                .x_label_formatter(&|v| whole(*v))
                .y_label_formatter(&|v| tick(*v))
                .set_all_tick_mark_size(s.px(4));
            if i >= 12 {
                mesh.x_desc("epochs");
            }
            if i % 4 == 0 {
                mesh.y_desc("accuracy");
            }
            mesh.axis_desc_style(s.font(16)).draw()?;
            for (k, acc) in [bn, plain].into_iter().enumerate() {
                let style = PALETTE[k].stroke_width(s.px(2));
                let points = acc.iter().enumerate().map(|(e, &a)| (e as f64, a));
                if dashed[k] {
                    c.draw_series(DashedLineSeries::new(points, s.px(7), s.px(4), style))?;
                } else {
                    c.draw_series(segments(points, style))?;
                }
            }
        }
        Ok(())
    })?;
    println!("wrote {}", out.display());
    Ok(())
}
