//! The book's figures 6-10 to 6-14 (`ch06/weight_init_activation_histogram.py`): 1000 random
//! inputs through 5 layers of 100 units, and the histogram of each layer's activations, for
//! weights of std 1 and 0.01 and Xavier (sigmoid), and std 0.01, Xavier and He (ReLU). Writes
//! `weight_init_activation_histogram.png` to the folder given as the first argument (default
//! `target/figures`) and prints each layer's mean and standard deviation.
//!
//! ```text
//! cargo run --release -p scratchnet-network --example weight_init_activation_histogram
//! ```

mod common;

use ndarray::Array2;
use plotters::prelude::*;
use scratchnet_functions::{relu, sigmoid};
use scratchnet_network::{Activation, WeightInit};
use scratchnet_plot::{Figure, PALETTE};
use scratchnet_tensor::{randn, rng_from_seed};

const NODES: usize = 100;
const LAYERS: usize = 5;
const BINS: usize = 30;

/// The activations of each of the 5 layers, the script's `activations` dict.
fn activations(activation: Activation, init: WeightInit, seed: u64) -> Vec<Array2<f64>> {
    let mut rng = rng_from_seed(seed);
    let mut x: Array2<f64> = randn((1000, NODES), 1.0, &mut rng);
    let mut out = Vec::new();
    for _ in 0..LAYERS {
        let w: Array2<f64> = randn((NODES, NODES), init.scale(NODES), &mut rng);
        let a = x.dot(&w);
        let z = match activation {
            Activation::Sigmoid => sigmoid(&a),
            Activation::Relu => relu(&a),
        };
        out.push(z.clone());
        x = z;
    }
    out
}

/// `plt.hist(a.flatten(), 30, range=(0, 1))`: counts of 30 equal bins over [0, 1] (1 in the last).
fn histogram(a: &Array2<f64>) -> [usize; BINS] {
    let mut h = [0; BINS];
    for &v in a {
        if (0.0..=1.0).contains(&v) {
            h[((v * BINS as f64) as usize).min(BINS - 1)] += 1;
        }
    }
    h
}

fn main() {
    common::main(run);
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let dir = common::figure_dir()?;
    let rows = [
        (
            Activation::Sigmoid,
            WeightInit::Std(1.0),
            "sigmoid, std 1 (fig. 6-10)",
        ),
        (
            Activation::Sigmoid,
            WeightInit::Std(0.01),
            "sigmoid, std 0.01 (fig. 6-11)",
        ),
        (
            Activation::Sigmoid,
            WeightInit::Xavier,
            "sigmoid, Xavier (fig. 6-13)",
        ),
        (
            Activation::Relu,
            WeightInit::Std(0.01),
            "ReLU, std 0.01 (fig. 6-14)",
        ),
        (
            Activation::Relu,
            WeightInit::Xavier,
            "ReLU, Xavier (fig. 6-14)",
        ),
        (Activation::Relu, WeightInit::He, "ReLU, He (fig. 6-14)"),
    ];
    let mut hists = Vec::new();
    for (k, &(act, init, title)) in rows.iter().enumerate() {
        let acts = activations(act, init, k as u64);
        let stats: Vec<String> = acts
            .iter()
            .map(|a| format!("{:.3}±{:.3}", a.mean().unwrap_or(0.0), a.std(0.0)))
            .collect();
        println!("{title:<30} mean±std by layer: {}", stats.join("  "));
        hists.push(acts.iter().map(histogram).collect::<Vec<_>>());
    }
    let out = dir.join("weight_init_activation_histogram.png");
    Figure::new(1250, 1320).save(&out, |root, s| {
        root.fill(&WHITE)?;
        let root = root.margin(s.px(10), 0, s.px(6), s.px(10));
        for (r, (row_area, ((act, _, title), hs))) in root
            .split_evenly((rows.len(), 1))
            .into_iter()
            .zip(rows.iter().zip(&hists))
            .enumerate()
        {
            let row_area = row_area.titled(title, s.font(18))?;
            // the book's ReLU figures cut the y axis at 7000: the bin at 0 holds about half
            let ymax = match act {
                Activation::Relu => 7000.0,
                Activation::Sigmoid => {
                    hs.iter().flatten().copied().max().unwrap_or(1) as f64 * 1.05
                }
            };
            for (l, (cell, h)) in row_area
                .split_evenly((1, LAYERS))
                .iter()
                .zip(hs)
                .enumerate()
            {
                let mut c = ChartBuilder::on(cell)
                    .caption(format!("{}-layer", l + 1), s.font(14))
                    .margin(s.px(6))
                    .margin_right(s.px(12))
                    .x_label_area_size(s.px(22))
                    .y_label_area_size(s.px(if l == 0 { 52 } else { 8 }))
                    .build_cartesian_2d(0.0..1.0, 0.0..ymax)?;
                let mut mesh = c.configure_mesh();
                mesh.label_style(s.font(11))
                    .x_labels(3)
                    .y_label_formatter(&|v| scratchnet_plot::whole(*v))
                    .disable_mesh();
                if l > 0 {
                    mesh.y_labels(0);
                } else {
                    mesh.y_labels(4);
                }
                mesh.draw()?;
                let colour = PALETTE[r % PALETTE.len()];
                c.draw_series(h.iter().enumerate().map(|(b, &n)| {
                    let x0 = b as f64 / BINS as f64;
                    Rectangle::new(
                        [(x0, 0.0), (x0 + 1.0 / BINS as f64, (n as f64).min(ymax))],
                        colour.filled(),
                    )
                }))?;
            }
        }
        Ok(())
    })?;
    println!("wrote {}", out.display());
    Ok(())
}
