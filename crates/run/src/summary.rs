//! A run folder's files: their names, `run.id` and `summary.json`.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::checkpoint::CHECKPOINT_FILE;
use crate::{RunConfig, TrainError};

/// File name of the loss figure in a run folder.
pub const LOSS_PNG: &str = "loss.png";
/// File name of the accuracy figure in a run folder.
pub const ACCURACY_PNG: &str = "accuracy.png";
/// File name of the trained network (the network crate's model format).
pub const MODEL_FILE: &str = "model.bin";
/// File name of the run summary.
pub const SUMMARY_FILE: &str = "summary.json";

/// Every file a finished or interrupted run folder holds (besides the lock while it runs), in
/// alphabetical order.
///
/// ```
/// let mut sorted = scratchnet_run::RUN_FILES;
/// sorted.sort();
/// assert_eq!(sorted, scratchnet_run::RUN_FILES);
/// ```
pub const RUN_FILES: [&str; 8] = [
    crate::ACCURACY_CSV,
    ACCURACY_PNG,
    CHECKPOINT_FILE,
    crate::LOSS_CSV,
    LOSS_PNG,
    MODEL_FILE,
    RUN_ID_FILE,
    SUMMARY_FILE,
];

/// File name of the run's id, written before anything else of the run, so that the folder's
/// identity never depends on `summary.json` (absent after a SIGKILL).
pub const RUN_ID_FILE: &str = "run.id";
/// A `run.id` longer than this is not one this tool wrote.
const MAX_RUN_ID: u64 = 256;

/// The run id stored in `dir/run.id`, or `None` if there is no such file.
///
/// ```
/// let dir = tempfile::tempdir()?;
/// assert_eq!(scratchnet_run::read_run_id(dir.path())?, None);
/// std::fs::write(dir.path().join(scratchnet_run::RUN_ID_FILE), "2026-12-05_10-00-00-123\n")?;
/// assert_eq!(scratchnet_run::read_run_id(dir.path())?.as_deref(), Some("2026-12-05_10-00-00-123"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn read_run_id(dir: &Path) -> Result<Option<String>, TrainError> {
    let path = dir.join(RUN_ID_FILE);
    if std::fs::symlink_metadata(&path).is_err() {
        return Ok(None);
    }
    let text =
        scratchnet_fileio::read_to_string_limited(&path, MAX_RUN_ID).map_err(TrainError::Input)?;
    Ok(Some(text.trim_end().to_owned()))
}

/// `summary.json`: the configuration and the results of a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// The configuration (its fields at the top level of the JSON object).
    #[serde(flatten)]
    pub config: RunConfig,
    /// The run in one line ([`RunConfig::describe`]), as banners and plot titles name it, for
    /// listings (`scratchnet serve`'s run list); empty in summaries of older builds.
    #[serde(default)]
    pub describe: String,
    /// The run's id, as in its `checkpoint.bin` (absent in summaries of older builds).
    #[serde(default)]
    pub run_id: Option<String>,
    /// Iterations done.
    pub iters_done: usize,
    /// Training-set size.
    pub train_size: usize,
    /// Test-set size.
    pub test_size: usize,
    /// Iterations per epoch.
    pub iter_per_epoch: usize,
    /// Number of rows in `accuracy.csv`.
    pub evaluations: usize,
    /// Accuracy of the saved model (`model.bin`) on the full training set.
    pub train_acc: f64,
    /// Accuracy of the saved model on the full test set.
    pub test_acc: f64,
    /// Batch loss after the last step (`null` if no step was taken).
    pub final_loss: Option<f64>,
    /// Training wall time over all sessions of the run, seconds (evaluations included, data
    /// loading and final file writing not).
    pub wall_s: f64,
    /// `iters_done / wall_s`.
    pub iters_per_s: f64,
    /// Rayon threads of the last session.
    pub threads: usize,
    /// True if the run stopped before `iters` (Ctrl-C or a non-finite loss).
    pub interrupted: bool,
    /// Why the run stopped with an error, if it did.
    pub error: Option<String>,
    /// The data folder.
    pub data_dir: String,
}

/// `summary.json` files larger than this are refused while reading.
const MAX_SUMMARY: u64 = 1 << 20;

impl Summary {
    /// Writes `dir/summary.json` (pretty JSON), atomically.
    ///
    /// ```
    /// # let s = scratchnet_run::Summary { config: Default::default(), describe: String::new(), run_id: None, iters_done: 1, train_size: 1, test_size: 1, iter_per_epoch: 1, evaluations: 1, train_acc: 0.5, test_acc: 0.5, final_loss: Some(2.3), wall_s: 0.1, iters_per_s: 10.0, threads: 1, interrupted: false, error: None, data_dir: "d".into() };
    /// let dir = tempfile::tempdir()?;
    /// s.write(dir.path())?;
    /// assert_eq!(scratchnet_run::Summary::read(&dir.path().join("summary.json"))?, s);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn write(&self, dir: &Path) -> Result<(), TrainError> {
        let json = serde_json::to_string_pretty(self).expect("a summary serialises");
        scratchnet_fileio::write_atomic(dir.join(SUMMARY_FILE), format!("{json}\n").as_bytes())
            .map_err(TrainError::Output)
    }

    /// Reads a `summary.json` (see [`write`](Self::write) for an example); only a regular file is
    /// read, and the older forms of earlier builds are read as the runs they were.
    pub fn read(path: &Path) -> Result<Self, TrainError> {
        let text = scratchnet_fileio::read_to_string_limited(path, MAX_SUMMARY)
            .map_err(TrainError::Input)?;
        let bad = |e: String| TrainError::bad_input(path, e);
        let mut v: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
        crate::legacy::upgrade(&mut v).map_err(bad)?;
        serde_json::from_value(v).map_err(|e| bad(e.to_string()))
    }
}

impl std::fmt::Display for Summary {
    /// The run's end in one line: `done: 10000 of 10000 iterations in 41.30 s (242 it/s); final
    /// model: train acc 0.9483, test acc 0.9444` (`interrupted after …` for a stopped run).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let held = self.config.held_out().short();
        write!(
            f,
            "{} {} of {} iterations in {:.2} s ({}); final model: train acc {:.4}, ",
            if self.interrupted {
                "interrupted after"
            } else {
                "done:"
            },
            self.iters_done,
            self.config.schedule.iters,
            self.wall_s,
            fmt_rate(self.iters_per_s),
            self.train_acc,
        )?;
        match self.test_size {
            0 => write!(f, "no {held} images"),
            _ => write!(f, "{held} acc {:.4}", self.test_acc),
        }
    }
}

/// An iteration rate for a person: `2301 it/s`, `48.7 it/s`, and below one a second the time
/// per iteration, `58.1 s/it` (never `0.0 it/s`).
///
/// ```
/// use scratchnet_run::fmt_rate;
/// assert_eq!((fmt_rate(2301.4), fmt_rate(48.66)), ("2301 it/s".into(), "48.7 it/s".into()));
/// assert_eq!((fmt_rate(1.0 / 58.1), fmt_rate(0.0)), ("58.1 s/it".into(), "-- it/s".into()));
/// ```
pub fn fmt_rate(rate: f64) -> String {
    if !(rate.is_finite() && rate > 0.0) {
        "-- it/s".into()
    } else if rate >= 100.0 {
        format!("{rate:.0} it/s")
    } else if rate >= 1.0 {
        format!("{rate:.1} it/s")
    } else {
        format!("{:.1} s/it", 1.0 / rate)
    }
}
