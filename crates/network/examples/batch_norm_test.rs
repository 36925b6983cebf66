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
use scratchnet_network::{Activation, MultiLayerNet, WeightInit};
use scratchnet_plot::{Figure, PALETTE, segments};
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
            let net = |seed| {
                MultiLayerNet::<f64>::new(
                    784,
                    &[100; 5],
                    10,
                    Activation::Relu,
                    WeightInit::Std(w),
                    &mut rng_from_seed(seed),
                )
            };
            let sgd = || AnyOptimizer::Sgd(Sgd::new(0.01));
            let mut nets = [
                (net(100 + i as u64).with_batch_norm(), sgd()),
                (net(200 + i as u64), sgd()),
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
    Figure::new(1400, 1250).save(&out, |root, s| {
        root.fill(&WHITE)?;
        for (i, (cell, (w, (bn, plain)))) in root
            .split_evenly((4, 4))
            .iter()
            .zip(scales.iter().zip(&results))
            .enumerate()
        {
            let mut c = ChartBuilder::on(cell)
                .caption(format!("W: {w:.2e}"), s.font(15))
                .margin(s.px(6))
                .margin_right(s.px(12))
                .x_label_area_size(s.px(if i >= 12 { 34 } else { 18 }))
                .y_label_area_size(s.px(if i % 4 == 0 { 44 } else { 18 }))
                .build_cartesian_2d(0.0..(EPOCHS - 1) as f64, 0.0..1.0)?;
            let mut mesh = c.configure_mesh();
            mesh.label_style(s.font(11)).x_labels(5).y_labels(3);
            if i >= 12 {
                mesh.x_desc("epochs");
            }
            if i % 4 == 0 {
                mesh.y_desc("accuracy");
            }
            mesh.axis_desc_style(s.font(12)).draw()?;
            for (k, (name, acc)) in [
                ("Batch Normalization", bn),
                ("Normal (without BatchNorm)", plain),
            ]
            .into_iter()
            .enumerate()
            {
                let colour = PALETTE[k];
                let style = colour.stroke_width(s.px(2));
                let series = c.draw_series(segments(
                    acc.iter().enumerate().map(|(e, &a)| (e as f64, a)),
                    style,
                ))?;
                if i == 15 {
                    series.label(name).legend(move |(x, y)| {
                        PathElement::new(
                            vec![(x, y), (x + s.i(20), y)],
                            colour.stroke_width(s.px(3)),
                        )
                    });
                }
            }
            if i == 15 {
                c.configure_series_labels()
                    .position(SeriesLabelPosition::LowerRight)
                    .label_font(s.font(11))
                    .background_style(WHITE.mix(0.9))
                    .border_style(BLACK)
                    .draw()?;
            }
        }
        Ok(())
    })?;
    println!("wrote {}", out.display());
    Ok(())
}
