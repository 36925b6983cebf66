//! Printing that can never end a process: a closed pipe (`scratchnet train | head -1`) or a full
//! disk (`> /dev/full`) ends that stream's output quietly at its first failure, where `println!`
//! would panic; the work goes on and writes every file.
//!
//! ```
//! scratchnet_fileio::outln!("train acc, test acc | {:.4}, {:.4}", 0.9483, 0.9444);
//! scratchnet_fileio::errln!("wrote {}", "loss.png");
//! ```

use std::fmt;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

static STDOUT_GONE: AtomicBool = AtomicBool::new(false);
static STDERR_GONE: AtomicBool = AtomicBool::new(false);

fn put(gone: &AtomicBool, w: &mut dyn Write, args: fmt::Arguments<'_>) {
    if gone.load(Ordering::Relaxed) {
        return;
    }
    if w.write_fmt(args).and_then(|_| w.flush()).is_err() {
        gone.store(true, Ordering::Relaxed);
    }
}

/// Writes to stdout; after the first failure, nothing more is written to it.
///
/// ```
/// scratchnet_fileio::console::out(format_args!("{}\n", 1));
/// ```
pub fn out(args: fmt::Arguments<'_>) {
    put(&STDOUT_GONE, &mut io::stdout().lock(), args);
}

/// Writes to stderr; after the first failure, nothing more is written to it.
///
/// ```
/// scratchnet_fileio::console::err(format_args!("{}\n", 1));
/// ```
pub fn err(args: fmt::Arguments<'_>) {
    put(&STDERR_GONE, &mut io::stderr().lock(), args);
}

/// `println!` that never panics (see the [module docs](crate::console)).
#[macro_export]
macro_rules! outln {
    ($($t:tt)*) => { $crate::console::out(format_args!("{}\n", format_args!($($t)*))) };
}

/// `eprintln!` that never panics (see the [module docs](crate::console)).
#[macro_export]
macro_rules! errln {
    ($($t:tt)*) => { $crate::console::err(format_args!("{}\n", format_args!($($t)*))) };
}
