//! `cargo xtask fetch-mnist`: verified download from the mirrors, or import from a local copy.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use scratchnet_mnist::download::{
    FetchOptions, MAX_DEADLINE, MAX_TIMEOUT, fetch, mirrors_from_env,
};
use scratchnet_mnist::{FetchReport, ImportOptions, import_with};

#[derive(clap::Args)]
pub struct Args {
    /// Folder to put the files in [default: $MNIST_DIR, else WORKSPACE/data/mnist].
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// Mirror base URL to try first (repeatable); then $MNIST_MIRROR (comma separated), then
    /// the built-in mirrors.
    #[arg(long = "mirror", value_name = "URL", conflicts_with = "from")]
    mirrors: Vec<String>,
    /// Import from a local folder or .tar/.tar.gz instead of downloading.
    #[arg(long, value_name = "PATH")]
    from: Option<PathBuf>,
    /// Fetch even files that are already present and verified, and replace a file under an
    /// MNIST name that fails the checksum (kept as `NAME.bad-<unix time>`, never deleted). Without
    /// it such a file stops the fetch and is left as it is.
    #[arg(long)]
    force: bool,
    /// Seconds to wait for a connection or for data before moving on to the next mirror.
    #[arg(long, value_name = "SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=MAX_TIMEOUT.as_secs()))]
    timeout: u64,
    /// Seconds one file may take from one mirror in all, however slowly the bytes arrive.
    #[arg(long, value_name = "SECS", default_value_t = 600,
          value_parser = clap::value_parser!(u64).range(1..=MAX_DEADLINE.as_secs()))]
    deadline: u64,
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let dir = args.dir.clone().unwrap_or_else(crate::default_mnist_dir);
    let report = match &args.from {
        Some(from) => {
            let opts = ImportOptions {
                force: args.force,
                ..Default::default()
            };
            import_with(from, &dir, &opts)?
        }
        None => fetch_with(
            &dir,
            &args.mirrors,
            FetchOptions {
                force: args.force,
                timeout: Duration::from_secs(args.timeout),
                deadline: Duration::from_secs(args.deadline),
                ..Default::default()
            },
        )?,
    };
    print_report(&report);
    Ok(ExitCode::SUCCESS)
}

/// Downloads into `dir`: the given mirrors, then `MNIST_MIRROR`, then the defaults.
pub fn fetch_into(
    dir: &Path,
    mirrors: &[String],
    force: bool,
    timeout: Duration,
) -> anyhow::Result<FetchReport> {
    let opts = FetchOptions {
        force,
        timeout,
        ..Default::default()
    };
    fetch_with(dir, mirrors, opts)
}

/// [`fetch_into`] with every option of `opts` (its mirrors come after `mirrors` and
/// `MNIST_MIRROR`), with progress on stderr.
pub fn fetch_with(
    dir: &Path,
    mirrors: &[String],
    opts: FetchOptions,
) -> anyhow::Result<FetchReport> {
    let mut all = mirrors.to_vec();
    all.extend(mirrors_from_env());
    all.extend(opts.mirrors.iter().cloned());
    let opts = FetchOptions {
        mirrors: all,
        progress: true,
        ..opts
    };
    Ok(fetch(dir, &opts)?)
}

pub fn print_report(report: &FetchReport) {
    println!("{report}");
    println!(
        "MNIST ready in {} ({} file(s) fetched, {} already present; all 4 verified by SHA-256)",
        report.dir.display(),
        report.copied(),
        report.files.len() - report.copied()
    );
}
