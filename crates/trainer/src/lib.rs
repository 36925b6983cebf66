//! The scratchnet trainer: the book's training loop (§4.5.2–4.5.3, and chapters 5–8's nets on
//! it) on MNIST, as a library (so tests and notebooks can drive the loop) and as the
//! `scratchnet` binary.
//!
//! * [`RunConfig`]: what to train and how — the network's `NetSpec`, the optimizer's config, the
//!   [`Schedule`], the [`DataChoice`], seed and dtype — the notebook's values by default;
//!   [`run_config`] reads `scratchnet train`'s flags.
//! * [`Trainer`]: one iteration at a time — a random mini-batch with replacement, the gradient
//!   (numerical or backprop), the SGD step, the batch loss after it, and at every epoch boundary
//!   the accuracy on the full train and test sets.
//! * [`run_session`]: drives a trainer to the end or to an interrupt, with progress, and writes
//!   the run folder (CSV histories, PNG plots, the model, `summary.json`, a resumable
//!   [`Checkpoint`]).
//! * the `scratchnet` command line (`train`, `eval`, `gradcheck`, `plot`, `export`) is the
//!   binary's, not part of this API; its exit codes follow [`EXIT_CODES`].
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
//! The notebook's cell computes `iter_per_epoch` before `train_size` is assigned (it only runs
//! because an earlier cell left `train_size` defined); here it is computed from the loaded
//! data: `max(train_size / batch, 1)` = 600 for MNIST, hence 17 evaluations in 10 000 iterations.

//! # Guarantees (each held by a test in `crates/trainer/tests/hostile.rs` unless named)
//!
//! - Nothing that is not a regular file is replaced: every output (`--out` files, `export
//!   --npz`, `plot`, model, checkpoint, CSVs, summary) goes through
//!   [`scratchnet_fileio::write_atomic`], which refuses a directory, device, FIFO or socket and
//!   follows a symbolic link (`export_never_replaces_a_device_fifo_or_folder_and_follows_links`).
//! - A run folder belongs to one run: it is claimed through its lock file on its resolved path
//!   ([`scratchnet_fileio::RunDir`]); default names never collide; a checkpoint of another run is not resumed
//!   (`a_run_folder_belongs_to_one_run`, `resume_refuses_a_checkpoint_of_another_run_and_an_unwritable_folder_before_training`,
//!   `a_running_run_cannot_be_resumed_or_reused_at_the_same_time`).
//! - Printing never loses a run: a closed or full stdout/stderr ends that output quietly
//!   (`a_closed_or_full_stdout_never_loses_a_run`).
//! - No file can make a reader abort or hang: bounded, framed decoding; FIFOs and devices refused
//!   (`huge_lengths_and_other_versions_in_valid_files_are_errors_not_aborts`); version-1 files of
//!   earlier builds still load (`version_1_files_written_by_earlier_builds_still_resume`).
//! - Sizes are checked against the machine before allocating, by one validation for every
//!   subcommand ([`RunConfig::validate`]; `one_validation_for_every_subcommand`).
//! - Ctrl-C: in training, stops after the iteration with every file written (exit 130); anywhere
//!   else, exits 130 at once (`ctrl_c_in_training_stops_with_every_file_and_resumes`,
//!   `ctrl_c_in_gradcheck_exits_130_at_once`).
//! - One exit-code rule, [`EXIT_CODES`] (`exit_codes_follow_one_rule_and_help_states_it`).

mod cli;
mod console;
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
