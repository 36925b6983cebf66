//! What a scratchnet training run is and what it leaves behind, apart from the code that runs
//! it: the schema that `scratchnet train` writes and `scratchnet serve`, `plot`, `eval` and
//! `--resume` read.
//!
//! * [`RunConfig`]: the network's `NetSpec`, the optimizer's config, the [`Schedule`], the
//!   [`DataChoice`], seed and dtype (the notebook's values by default), and the checks each
//!   value passes ([`RunConfig::validate`]).
//! * [`Metrics`]: the loss and accuracy histories, and their `loss.csv` and `accuracy.csv`.
//! * [`Summary`]: `summary.json`; [`RUN_FILES`]: every file of a run folder.
//! * [`Checkpoint`]: everything needed to continue a run exactly (`checkpoint.bin`).
//! * the older forms of `summary.json` and `checkpoint.bin` written by earlier builds, read into
//!   the runs they were (one private module, `legacy`).
//! * [`TrainError`]: every error of a run, each one line naming the value or file at fault,
//!   with the exit-code rule [`EXIT_CODES`].
//!
//! ```
//! let c = scratchnet_run::RunConfig::default();
//! assert_eq!(c.describe(), "numeric (fast), f64, hidden 50, batch 100, lr 0.1");
//! ```

mod checkpoint;
mod config;
mod error;
mod legacy;
mod metrics;
pub mod search;
mod summary;

pub use checkpoint::{CHECKPOINT_FILE, Checkpoint};
pub use config::{
    DEFAULT_SEED, DataChoice, Dtype, MAX_HIDDEN_LAYERS, RunConfig, Schedule, check_fraction,
    check_lr, check_net_memory, check_unit, check_weight_init_std, fmt_num,
};
pub use error::{EXIT_CODES, TrainError};
pub use metrics::{ACCURACY_CSV, AccuracyRow, HeldOut, LOSS_CSV, Metrics};
pub use summary::{
    ACCURACY_PNG, LOSS_PNG, MODEL_FILE, RUN_FILES, RUN_ID_FILE, SUMMARY_FILE, Summary, fmt_rate,
    read_run_id,
};
