//! `cargo xtask bench`: runs the criterion benchmarks of the gradients (784-50-10, batch 100, a
//! real MNIST batch, f64 and f32) and of the parallel numerical gradient, then prints one table of
//! medians and ratios read from criterion's `target/criterion/*/new/estimates.json`.

use std::path::Path;
use std::process::{Command, ExitCode};
use std::time::Duration;

use anyhow::{Context, bail};

#[derive(clap::Args)]
pub struct Args {
    /// Only print the table from the last run's results; run no benchmark.
    #[arg(long)]
    no_run: bool,
    /// Passed to criterion: seconds of measurement per benchmark.
    #[arg(long, default_value_t = 5)]
    measurement_time: u64,
}

/// The median of one criterion benchmark, in nanoseconds.
fn median_ns(root: &Path, group: &str, id: &str) -> anyhow::Result<f64> {
    let path = root
        .join("target/criterion")
        .join(group)
        .join(id)
        .join("new/estimates.json");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("no results at {}", path.display()))?;
    let v: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
    v["median"]["point_estimate"]
        .as_f64()
        .with_context(|| format!("{} has no median", path.display()))
}

fn fmt_time(ns: f64) -> String {
    match ns {
        n if n >= 1e9 => format!("{:.2} s", n / 1e9),
        n if n >= 1e6 => format!("{:.2} ms", n / 1e6),
        n if n >= 1e3 => format!("{:.1} µs", n / 1e3),
        n => format!("{n:.0} ns"),
    }
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let root = crate::workspace_root();
    if !args.no_run {
        let dir = crate::default_mnist_dir();
        let report = crate::fetch::fetch_into(&dir, &[], false, Duration::from_secs(30))
            .context("the gradient benchmarks need MNIST")?;
        crate::fetch::print_report(&report);
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        for (pkg, bench) in [
            ("scratchnet-numgrad", "numerical_gradient"),
            ("scratchnet-network", "gradients"),
        ] {
            let status = Command::new(&cargo)
                .current_dir(&root)
                .args([
                    "bench",
                    "-p",
                    pkg,
                    "--bench",
                    bench,
                    "--",
                    "--measurement-time",
                ])
                .arg(args.measurement_time.to_string())
                .env("MNIST_DIR", &dir)
                .status()
                .with_context(|| format!("cannot run cargo bench -p {pkg}"))?;
            if !status.success() {
                bail!("cargo bench -p {pkg} failed ({status})");
            }
        }
    }
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let rayon_threads = std::env::var("RAYON_NUM_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(threads);

    println!(
        "\n784-50-10, batch 100 of real MNIST; rayon threads: {rayon_threads} (of {threads} cores); medians\n"
    );
    println!("| measurement | f64 | f32 | f32/f64 |");
    println!("|---|---|---|---|");
    let ids = [
        (
            "backprop",
            "backprop gradient (`Net::gradient` of the chapter 4 spec on a dense batch: the fused kernel)",
        ),
        (
            "backprop_sparse_batch",
            "backprop gradient on a batch gathered from the sparse training set into one buffer (`Net::gradient`, fresh buffers, on a pool thread)",
        ),
        ("forward_loss", "forward pass + loss (`Net::loss`)"),
        (
            "fast_numgrad",
            "fast numerical gradient (`Net::numerical_gradient`, 39,760 params)",
        ),
        (
            "generic_numgrad_W2",
            "generic numerical gradient of W2 (500 params, each loss by `Net::loss`)",
        ),
    ];
    let mut m = std::collections::HashMap::new();
    for (id, label) in ids {
        let a = median_ns(&root, "two_layer_f64", id)?;
        let b = median_ns(&root, "two_layer_f32", id)?;
        m.insert(id, (a, b));
        println!(
            "| {label} | {} | {} | {:.2} |",
            fmt_time(a),
            fmt_time(b),
            b / a
        );
    }
    println!("\n| derived (f64 / f32) | f64 | f32 |");
    println!("|---|---|---|");
    let per = |(a, b): (f64, f64), n: f64| (a / n, b / n);
    let generic_per_param = per(m["generic_numgrad_W2"], 500.0);
    let two_fwd_per_core = per(m["forward_loss"], rayon_threads as f64 / 2.0);
    println!(
        "| generic cost per parameter | {} | {} |",
        fmt_time(generic_per_param.0),
        fmt_time(generic_per_param.1)
    );
    println!(
        "| two forward passes / threads | {} | {} |",
        fmt_time(two_fwd_per_core.0),
        fmt_time(two_fwd_per_core.1)
    );
    println!(
        "| ratio (target ≤ 1.3) | {:.2} | {:.2} |",
        generic_per_param.0 / two_fwd_per_core.0,
        generic_per_param.1 / two_fwd_per_core.1
    );
    let whole_generic = per(m["generic_numgrad_W2"], 500.0 / 39_760.0);
    println!(
        "| generic, whole gradient (estimated) | {} | {} |",
        fmt_time(whole_generic.0),
        fmt_time(whole_generic.1)
    );
    let fast = m["fast_numgrad"];
    println!(
        "| notebook (24.55 s/iter) / fast numerical | {:.0}x | {:.0}x |",
        24.55e9 / fast.0,
        24.55e9 / fast.1
    );
    println!(
        "| fast numerical / backprop | {:.0}x | {:.0}x |",
        fast.0 / m["backprop"].0,
        fast.1 / m["backprop"].1
    );

    let serial = median_ns(&root, "numerical_gradient_10k_quadratic", "serial")?;
    // the numgrad bench names its parallel run after the thread count: parallel_<n>_threads
    let group = root.join("target/criterion/numerical_gradient_10k_quadratic");
    let parallel_id = std::fs::read_dir(&group)
        .with_context(|| format!("no results at {}", group.display()))?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .find(|n| n.starts_with("parallel"))
        .with_context(|| format!("no parallel run in {}", group.display()))?;
    let parallel = median_ns(&root, "numerical_gradient_10k_quadratic", &parallel_id)?;
    println!("\nnumerical_gradient on a 10,000-element quadratic (f64):");
    println!("| serial | {parallel_id} | speed-up |");
    println!("|---|---|---|");
    println!(
        "| {} | {} | {:.2}x |",
        fmt_time(serial),
        fmt_time(parallel),
        serial / parallel
    );
    Ok(ExitCode::SUCCESS)
}
