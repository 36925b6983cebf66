//! `scratchnet`: see `scratchnet --help` and the crate docs of `scratchnet_trainer`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::Parser;
use clap::error::ErrorKind;
use scratchnet_trainer::cli::{Cli, run_cli};

fn main() {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => match e.kind() {
            ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => e.exit(),
            _ => {
                // One line: clap's message and its details (possible values, the conflicting
                // flag), without the usage block.
                let text = e.render().to_string();
                let line = text
                    .lines()
                    .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more"))
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .collect::<Vec<_>>()
                    .join(" ");
                eprintln!("{line} (see --help)");
                std::process::exit(2);
            }
        },
    };
    let interrupt = Arc::new(AtomicBool::new(false));
    let flag = interrupt.clone();
    // The first Ctrl-C asks the loop to stop after the current iteration and write its files;
    // a second one gives up at once (every file on disk is complete: all are written atomically).
    let handler = ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
        eprintln!("\nstopping after the current iteration (Ctrl-C again to quit at once)");
    });
    if let Err(e) = handler {
        eprintln!("warning: cannot catch Ctrl-C: {e}");
    }
    match run_cli(cli, interrupt) {
        Ok(exit) => std::process::exit(exit.code()),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(e.exit_code());
        }
    }
}
