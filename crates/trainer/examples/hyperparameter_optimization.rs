//! The book's `ch06/hyperparameter_optimization.py` (figure 6-24): 100 trials of
//! `lr = 10^U(-6, -2)` and `weight_decay = 10^U(-8, -4)`, each a 50-epoch SGD training of
//! `MultiLayerNet(784, [100]*6, 10)` (ReLU, He) on 400 of the first 500 training images,
//! validated on the other 100; prints the book's lines best first and writes
//! `docs/figures/hyperparameter_optimization.png` (or the file given as the first argument).
//! MNIST from `MNIST_DIR`, else `data/mnist`.
//!
//! ```text
//! cargo run --release -p scratchnet-trainer --example hyperparameter_optimization
//! ```

use std::path::PathBuf;

use scratchnet_trainer::SparseMnist;
use scratchnet_trainer::search::{SearchConfig, best_first, draw_best, py_float, search_with};

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = std::env::var_os("MNIST_DIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("data/mnist"));
    let out = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("docs/figures/hyperparameter_optimization.png"));
    let data = SparseMnist::<f64>::load(&dir)?;
    let config = SearchConfig::default();
    let start = std::time::Instant::now();
    let never = std::sync::atomic::AtomicBool::new(false);
    let trials = search_with(&config, &data, &never, |t| println!("{}", t.book_line()))?;
    println!("=========== Hyper-Parameter Optimization Result ===========");
    for (i, t) in best_first(&trials).iter().enumerate() {
        println!(
            "Best-{}(val acc:{}) | {}",
            i + 1,
            py_float(t.final_val_acc()),
            t.key()
        );
    }
    println!(
        "{} trials in {:.1} s",
        trials.len(),
        start.elapsed().as_secs_f64()
    );
    draw_best(&out, &trials)?;
    println!("wrote {}", out.display());
    Ok(())
}
