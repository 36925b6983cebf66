//! `cargo xtask test`: make sure MNIST is there (verified download if not, honouring
//! `MNIST_MIRROR`), then run the whole workspace's tests with `MNIST_DIR` pointing at it, so the
//! real-data tests never skip. The folder is `$MNIST_DIR` if set, else `WORKSPACE/data/mnist`.

use std::ffi::OsString;
use std::process::{Command, ExitCode};

use anyhow::Context;

#[derive(clap::Args)]
pub struct Args {
    /// Extra arguments for `cargo test`, after `--`.
    #[arg(last = true)]
    cargo_args: Vec<OsString>,
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let dir = crate::default_mnist_dir();
    // Verifies what is there and downloads only what is missing; a wrong file stops it (it
    // may be the user's) with the message that says what to do.
    let report = crate::fetch::fetch_with(&dir, &[], Default::default())
        .context("MNIST is needed by the tests")?;
    crate::fetch::print_report(&report);
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(&cargo)
        .current_dir(crate::workspace_root())
        .args(["test", "--workspace"])
        .args(&args.cargo_args)
        .env(scratchnet_mnist::DIR_ENV, &dir)
        .status()
        .with_context(|| format!("cannot run {}", cargo.to_string_lossy()))?;
    Ok(match status.code() {
        Some(0) => ExitCode::SUCCESS,
        Some(c) => ExitCode::from(u8::try_from(c).unwrap_or(1)),
        None => ExitCode::FAILURE,
    })
}
