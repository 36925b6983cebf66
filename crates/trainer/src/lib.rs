//! The scratchnet trainer: the book's training loop (§4.5.2–4.5.3, and chapters 5–8's nets on
//! it) on MNIST, as a library (so tests and notebooks can drive the loop) and as the
//! `scratchnet` binary.
//!
//! * [`run_config`]: the [`RunConfig`] (from `scratchnet-run`, re-exported here) that
//!   `scratchnet train`'s flags ask for.
//! * [`Trainer`]: one iteration at a time — a mini-batch drawn with replacement, the net's step,
//!   the loss recorded, and at every epoch boundary the accuracy on the train and test sets.
//! * [`run_session`]: drives a trainer to the end or to an interrupt, with progress, and writes
//!   the run folder.
//! * [`search`]: the book's hyper-parameter search, trials of the loop.
//! * the `scratchnet` command line is the binary's ([`main`]), not part of this API.
//!
//! ```no_run
//! use scratchnet_network::Gradient;
//! use scratchnet_trainer::{RunConfig, SparseMnist, Step, Trainer};
//! let data = SparseMnist::<f64>::load("data/mnist".as_ref())?;
//! let mut config = RunConfig::default();
//! config.schedule.gradient = Gradient::Backprop;
//! let mut t = Trainer::new(config, &data)?;
//! while !t.is_finished() {
//!     if let Step::Done { eval: Some(row), .. } = t.step() {
//!         println!("{}", row.notebook_line()); // train acc, test acc | 0.xxxx, 0.xxxx
//!     }
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! What no input can do to a run, its files or the process is the README's "Guarantees", each
//! held by a named test (most in `tests/hostile.rs`).

mod cli;
mod data;
mod flags;
mod plot;
pub mod search;
mod session;
mod train;

pub use flags::run_config;
pub use scratchnet_mnist::SparseMnist;
/// The run's record, from `scratchnet-run`: a trainer's user needs no other import.
pub use scratchnet_run::*;
pub use session::{Outcome, Progress, Session, run_session};
pub use train::{Step, Trainer};

/// The `scratchnet` binary: parses the command line, installs the Ctrl-C handler, runs the
/// command and exits with the code of the rule in [`EXIT_CODES`].
pub fn main() -> ! {
    cli::main()
}
