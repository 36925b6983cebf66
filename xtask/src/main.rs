//! `cargo xtask <command>`: project chores, one module per subcommand.
//!
//! Errors are printed as one line (`error: <cause>`) with a non-zero exit code; no panics for
//! user mistakes.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod bench;
mod fetch;
mod lab;
mod notebook;
mod test;

#[derive(Parser)]
#[command(name = "cargo xtask", about = "scratchnet project chores")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Download (or import) the four MNIST files and verify their SHA-256.
    FetchMnist(fetch::Args),
    /// Fetch MNIST if needed, then run `cargo test --workspace` with MNIST_DIR set.
    Test(test::Args),
    /// Run the gradient benchmarks and print one table of medians and ratios.
    Bench(bench::Args),
    /// Install evcxr, JupyterLab and nbclient into one cache folder if missing; check that
    /// JupyterLab runs the notebook's kernel, run notebooks/ch04.ipynb headless and check its
    /// values and figures (`--open`: serve it in JupyterLab instead).
    Notebook(notebook::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::FetchMnist(args) => fetch::run(&args),
        Command::Test(args) => test::run(&args),
        Command::Bench(args) => bench::run(&args),
        Command::Notebook(args) => notebook::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root: the parent of this crate's folder.
pub(crate) fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}

/// The MNIST folder of the chores: `$MNIST_DIR`, else `<workspace>/data/mnist` (the mnist
/// crate's one lookup, [`scratchnet_mnist::default_dir_in`]).
pub(crate) fn default_mnist_dir() -> PathBuf {
    scratchnet_mnist::default_dir_in(workspace_root())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::Cli;

    fn parse_error(args: &[&str]) -> String {
        match Cli::try_parse_from(args) {
            Ok(_) => panic!("{args:?} was accepted"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn fetch_timeouts_out_of_range_are_refused_naming_the_flag() {
        for (flag, value, range) in [
            ("--timeout", "0", "1..=3600"),
            ("--timeout", "18446744073709551615", "1..=3600"),
            ("--timeout", "3601", "1..=3600"),
            ("--deadline", "0", "1..=86400"),
        ] {
            let msg = parse_error(&["cargo xtask", "fetch-mnist", flag, value]);
            assert!(
                msg.contains(&format!("invalid value '{value}' for '{flag} <SECS>'"))
                    && msg.contains(range),
                "{msg}"
            );
        }
        assert!(Cli::try_parse_from(["cargo xtask", "fetch-mnist", "--timeout", "3600"]).is_ok());
    }

    #[test]
    fn notebook_flags_are_checked_naming_the_flag() {
        for value in ["59", "86401", "x"] {
            let msg = parse_error(&["cargo xtask", "notebook", "--cell-timeout", value]);
            assert!(
                msg.contains(&format!(
                    "invalid value '{value}' for '--cell-timeout <SECS>'"
                )),
                "{msg}"
            );
        }
        for (a, b) in [
            ("--open", "--update"),
            ("--open", "--install-only"),
            ("--open", "--check-server"),
            ("--check-server", "--update"),
        ] {
            let msg = parse_error(&["cargo xtask", "notebook", a, b]);
            assert!(
                msg.contains(&format!("'{a}' cannot be used with '{b}'")),
                "{msg}"
            );
        }
        let msg = parse_error(&["cargo xtask", "notebook", "--install-only", "--update"]);
        assert!(
            msg.contains("'--install-only' cannot be used with '--update'"),
            "{msg}"
        );
        for ok in [
            &["cargo xtask", "notebook"][..],
            &[
                "cargo xtask",
                "notebook",
                "--update",
                "--cell-timeout",
                "60",
            ],
            &[
                "cargo xtask",
                "notebook",
                "--install-only",
                "--cache",
                "/tmp/c",
            ],
        ] {
            assert!(Cli::try_parse_from(ok).is_ok(), "{ok:?}");
        }
    }
}
