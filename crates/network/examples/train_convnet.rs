//! The book's `ch07/train_convnet.py` (and, with `deep`, `ch08/train_deepnet.py`): the net
//! trained on all of MNIST by the book's `Trainer` (mini-batches of 100 drawn with replacement,
//! Adam lr 0.001, 600 iterations an epoch, the accuracy on the first 1000 training and test
//! images after iterations 0, 600, …, and the full test set at the end), through
//! [`Net::step`](scratchnet_network::Net::step), the step `scratchnet train` runs.
//!
//! ```text
//! cargo run --release -p scratchnet-network --example train_convnet -- [simple|deep] [f32|f64] [EPOCHS] [SEED] [FIGURE_DIR]
//! ```
//!
//! It writes the book's figures to `FIGURE_DIR` (default `target/figures`): the train and test
//! accuracy per epoch (`train_convnet.png`, as `train_convnet.py` plots it) and the first
//! layer's filters before and after training (`filters.png`, `visualize_filter.py`'s figure
//! 7-24).

mod common;

// Freed buffers stay with the process: the system allocator returns large ones to the OS and
// faults them back in at every step (a quarter of the CPU time, measured).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::error::Error;
use std::time::Instant;

use scratchnet_network::optimizer::AnyOptimizer;
use scratchnet_network::{Batch, Gradient, Net, NetSpec};
use scratchnet_tensor::{Rng, Scalar, SparseRows, choice_with_replacement, rng_from_seed};

fn main() {
    common::main(|| {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let arg = |i: usize, default: &str| args.get(i).cloned().unwrap_or(default.to_owned());
        let spec = match arg(0, "simple").as_str() {
            "simple" => NetSpec::simple_conv_net(),
            "deep" => NetSpec::deep_conv_net(),
            other => return Err(format!("net {other:?}: expected simple or deep").into()),
        };
        let epochs: usize = arg(2, "20").parse()?;
        let seed: u64 = arg(3, "1").parse()?;
        let dir = std::path::PathBuf::from(arg(4, "target/figures"));
        std::fs::create_dir_all(&dir)?;
        match arg(1, "f32").as_str() {
            "f32" => run::<f32>(spec, epochs, seed, &dir),
            "f64" => run::<f64>(spec, epochs, seed, &dir),
            other => Err(format!("dtype {other:?}: expected f32 or f64").into()),
        }
    })
}

fn run<A: Scalar>(
    spec: NetSpec,
    epochs: usize,
    seed: u64,
    dir: &std::path::Path,
) -> Result<(), Box<dyn Error>> {
    let raw = scratchnet_mnist::load_raw(scratchnet_mnist::default_dir())?;
    let x_train = SparseRows::from_dense(&raw.train.images_as::<A>(true));
    let t_train = raw.train.labels_usize();
    let x_test = raw.test.images_as::<A>(true);
    let t_test = raw.test.labels_usize();
    let (n, batch) = (t_train.len(), 100);
    let iter_per_epoch = (n / batch).max(1);
    let first: Vec<usize> = (0..1000).collect();
    let (x_tr1k, x_te1k) = (
        x_train.gather_rows(&first),
        x_test.slice_axis(ndarray::Axis(0), (0..1000).into()),
    );

    let mut rng = rng_from_seed(seed);
    let mut net = Net::<A>::new(spec, &mut rng)?;
    let mut adam = AnyOptimizer::by_name("adam").ok_or("adam")?;
    adam.set_lr(0.001);
    let draw = |rng: &mut Rng, b: &mut Batch<A>| {
        let idx = choice_with_replacement(rng, n, batch);
        x_train.gather_rows_into(&idx, &mut b.x);
        b.t.clear();
        b.t.extend(idx.iter().map(|&k| t_train[k]));
    };
    println!(
        "{} ({} parameters), {}",
        net.spec(),
        net.spec().param_count(),
        A::DTYPE
    );
    let filters_before = net.params()["W1"].mapv(|v| v.as_f64());
    let (mut train_accs, mut test_accs) = (Vec::new(), Vec::new());
    let start = Instant::now();
    let mut eval_s = 0.0;
    for i in 0..epochs * iter_per_epoch {
        let loss = net.step(&draw, Gradient::Backprop, &mut adam, &mut rng, true)?;
        if i % iter_per_epoch == 0 {
            let e = Instant::now();
            let train_acc = net.accuracy(&x_tr1k, &t_train[..1000]);
            let test_acc = net.accuracy(x_te1k, &t_test[..1000]);
            eval_s += e.elapsed().as_secs_f64();
            train_accs.push(train_acc);
            test_accs.push(test_acc);
            println!(
                "=== epoch:{}, train acc:{train_acc:.4}, test acc:{test_acc:.4} === (loss {loss:.4}, {:.1} s)",
                i / iter_per_epoch + 1,
                start.elapsed().as_secs_f64()
            );
        }
    }
    let wall = start.elapsed().as_secs_f64();
    let test_acc = net.accuracy(&x_test, &t_test);
    println!("=============== Final Test Accuracy ===============");
    println!("test acc:{test_acc:.4}");
    println!(
        "trained {epochs} epochs in {wall:.1} s ({:.1} s/epoch; evaluations {eval_s:.1} s), seed {seed}",
        wall / epochs as f64
    );
    let title = format!("{epochs} epochs, {}, seed {seed}", A::DTYPE);
    common::plot_train_test(
        &dir.join("train_convnet.png"),
        &[(title, train_accs, test_accs)],
    )?;
    let after = net.params()["W1"].mapv(|v| v.as_f64());
    draw_filters(&dir.join("filters.png"), &filters_before, &after)?;
    Ok(())
}

/// Figure 7-24: each first-layer filter (its first channel) as a grey tile, before training
/// (top) and after (bottom), as `visualize_filter.py` draws them.
fn draw_filters(
    path: &std::path::Path,
    before: &ndarray::ArrayD<f64>,
    after: &ndarray::ArrayD<f64>,
) -> Result<(), Box<dyn Error>> {
    let tiles = |w: &ndarray::ArrayD<f64>| -> Vec<Vec<f64>> {
        w.outer_iter()
            .map(|f| f.index_axis(ndarray::Axis(0), 0).iter().copied().collect())
            .collect()
    };
    let shape = (before.shape()[2], before.shape()[3]);
    scratchnet_plot::tile_grid(
        path,
        &[
            ("before training".to_string(), tiles(before)),
            ("after training".to_string(), tiles(after)),
        ],
        shape,
        10,
    )?;
    println!("wrote {}", path.display());
    Ok(())
}
