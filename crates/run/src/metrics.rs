//! The loss and accuracy histories of a run and their CSV files.
//!
//! `loss.csv` has the header `iteration,loss` and one row per SGD step: `iteration` counts steps
//! from 1 (the notebook plots `range(1, len(train_loss_list)+1)`), and `loss` is the batch loss
//! measured *after* that step, as the notebook's loop does. `accuracy.csv` has the header
//! `epoch,iteration,train_acc,test_acc`, one row per evaluation (the notebook's
//! `i % iter_per_epoch == 0`): `epoch` counts from 0, `iteration` is the number of steps taken.
//!
//! Numbers are written in Rust's shortest round-trip form, so a file read back gives the very same
//! bits and two runs with the same numbers give byte-identical files.

use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::{Dtype, TrainError};

/// CSV files larger than this are refused while reading (10,000 iterations take 250 kB).
const MAX_CSV: u64 = 1 << 30;

/// File name of the loss history in a run folder.
pub const LOSS_CSV: &str = "loss.csv";
/// File name of the accuracy history in a run folder.
pub const ACCURACY_CSV: &str = "accuracy.csv";

/// The set a run evaluates on besides the training set: the test set, or with `--validation`
/// the validation split (the test set then stays untouched).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum HeldOut {
    /// The test set.
    #[default]
    Test,
    /// The validation split.
    Validation,
}

impl HeldOut {
    /// `"test"` or `"val"`, as in `test_acc`, `val_acc`.
    ///
    /// ```
    /// assert_eq!(scratchnet_run::HeldOut::Validation.short(), "val");
    /// ```
    pub fn short(self) -> &'static str {
        match self {
            HeldOut::Test => "test",
            HeldOut::Validation => "val",
        }
    }

    fn header(self) -> String {
        format!("epoch,iteration,train_acc,{}_acc", self.short())
    }
}

/// One evaluation on the full training and test sets.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccuracyRow {
    /// Epoch number, from 0 (the evaluation after the first step is epoch 0).
    pub epoch: usize,
    /// SGD steps taken before the evaluation.
    pub iteration: usize,
    /// Accuracy on the full training set.
    pub train_acc: f64,
    /// Accuracy on the full test set (with `--validation`, on the validation split).
    pub test_acc: f64,
}

impl AccuracyRow {
    /// The notebook's line: `train acc, test acc | 0.xxxx, 0.xxxx`.
    ///
    /// ```
    /// let r = scratchnet_run::AccuracyRow { epoch: 0, iteration: 1, train_acc: 0.1, test_acc: 0.09876 };
    /// assert_eq!(r.notebook_line(), "train acc, test acc | 0.1000, 0.0988");
    /// ```
    pub fn notebook_line(&self) -> String {
        self.line(HeldOut::Test)
    }

    /// The notebook's line for a run evaluating on `held_out`: `train acc, val acc | …`.
    ///
    /// ```
    /// use scratchnet_run::{AccuracyRow, HeldOut};
    /// let r = AccuracyRow { epoch: 0, iteration: 1, train_acc: 0.1, test_acc: 0.09876 };
    /// assert_eq!(r.line(HeldOut::Validation), "train acc, val acc | 0.1000, 0.0988");
    /// ```
    pub fn line(&self, held_out: HeldOut) -> String {
        format!(
            "train acc, {} acc | {:.4}, {:.4}",
            held_out.short(),
            self.train_acc,
            self.test_acc
        )
    }
}

/// The loss of every step and the accuracy of every evaluation.
///
/// Losses are kept as `f64` (an `f32` widens exactly) and written in the run's dtype.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// `losses[k]` is the batch loss after step `k + 1`.
    pub losses: Vec<f64>,
    /// One row per evaluation.
    pub accuracy: Vec<AccuracyRow>,
}

/// `v` in the shortest form that reads back to the same value of the run's dtype.
fn fmt_value(out: &mut String, v: f64, dtype: Dtype) {
    match dtype {
        Dtype::F64 => write!(out, "{v}"),
        Dtype::F32 => write!(out, "{}", v as f32),
    }
    .expect("writing to a String cannot fail");
}

impl Metrics {
    /// The text of `loss.csv`.
    ///
    /// ```
    /// let m = scratchnet_run::Metrics { losses: vec![2.3, 0.5], accuracy: vec![] };
    /// assert_eq!(m.loss_csv(scratchnet_run::Dtype::F64), "iteration,loss\n1,2.3\n2,0.5\n");
    /// ```
    pub fn loss_csv(&self, dtype: Dtype) -> String {
        let mut s = String::with_capacity(16 + self.losses.len() * 24);
        s.push_str("iteration,loss\n");
        for (k, &l) in self.losses.iter().enumerate() {
            write!(s, "{},", k + 1).expect("writing to a String cannot fail");
            fmt_value(&mut s, l, dtype);
            s.push('\n');
        }
        s
    }

    /// The text of `accuracy.csv`.
    ///
    /// ```
    /// use scratchnet_run::{AccuracyRow, Metrics};
    /// let m = Metrics {
    ///     losses: vec![],
    ///     accuracy: vec![AccuracyRow { epoch: 0, iteration: 1, train_acc: 0.1, test_acc: 0.2 }],
    /// };
    /// assert_eq!(m.accuracy_csv(), "epoch,iteration,train_acc,test_acc\n0,1,0.1,0.2\n");
    /// ```
    pub fn accuracy_csv(&self) -> String {
        self.accuracy_csv_of(HeldOut::Test)
    }

    /// The text of `accuracy.csv` of a run evaluating on `held_out` (its last column
    /// `test_acc` or `val_acc`).
    ///
    /// ```
    /// use scratchnet_run::{HeldOut, Metrics};
    /// assert_eq!(Metrics::default().accuracy_csv_of(HeldOut::Validation), "epoch,iteration,train_acc,val_acc\n");
    /// ```
    pub fn accuracy_csv_of(&self, held_out: HeldOut) -> String {
        let mut s = held_out.header() + "\n";
        for r in &self.accuracy {
            writeln!(
                s,
                "{},{},{},{}",
                r.epoch, r.iteration, r.train_acc, r.test_acc
            )
            .expect("writing to a String cannot fail");
        }
        s
    }

    /// Writes `loss.csv` and `accuracy.csv` into `dir`, each atomically.
    pub fn write_csvs(
        &self,
        dir: &Path,
        dtype: Dtype,
        held_out: HeldOut,
    ) -> Result<(), TrainError> {
        let write = |name: &str, text: String| {
            scratchnet_fileio::write_atomic(dir.join(name), text.as_bytes())
                .map_err(TrainError::Output)
        };
        write(LOSS_CSV, self.loss_csv(dtype))?;
        write(ACCURACY_CSV, self.accuracy_csv_of(held_out))
    }

    /// Reads `loss.csv` and `accuracy.csv` from `dir` (as written by
    /// [`write_csvs`](Self::write_csvs)), and which set the accuracy's last column is of.
    ///
    /// ```
    /// use scratchnet_run::{Dtype, HeldOut, Metrics};
    /// let dir = tempfile::tempdir().unwrap();
    /// let m = Metrics { losses: vec![2.302585092994046, 0.1], accuracy: vec![] };
    /// m.write_csvs(dir.path(), Dtype::F64, HeldOut::Validation).unwrap();
    /// assert_eq!(Metrics::read_csvs(dir.path()).unwrap(), (m, HeldOut::Validation));
    /// ```
    pub fn read_csvs(dir: &Path) -> Result<(Self, HeldOut), TrainError> {
        let losses = parse_loss_csv(&dir.join(LOSS_CSV))?;
        let (accuracy, held_out) = parse_accuracy_csv(&dir.join(ACCURACY_CSV))?;
        Ok((Metrics { losses, accuracy }, held_out))
    }
}

fn read_text(path: &Path) -> Result<String, TrainError> {
    scratchnet_fileio::read_to_string_limited(path, MAX_CSV).map_err(TrainError::Input)
}

/// The data lines of a CSV after checking its header, with 1-based line numbers.
fn data_lines<'a>(
    path: &Path,
    text: &'a str,
    header: &str,
) -> Result<impl Iterator<Item = (usize, &'a str)>, TrainError> {
    let mut lines = text.lines().enumerate();
    match lines.next() {
        Some((_, h)) if h.trim() == header => {}
        _ => {
            return Err(TrainError::bad_input(
                path,
                format!("expected the header `{header}`"),
            ));
        }
    }
    Ok(lines
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty()))
}

fn field<T: std::str::FromStr>(
    path: &Path,
    line: usize,
    name: &str,
    s: Option<&str>,
) -> Result<T, TrainError> {
    let s = s.ok_or_else(|| TrainError::bad_input(path, format!("line {line}: no {name}")))?;
    s.trim()
        .parse()
        .map_err(|_| TrainError::bad_input(path, format!("line {line}: bad {name} `{s}`")))
}

fn parse_loss_csv(path: &Path) -> Result<Vec<f64>, TrainError> {
    let text = read_text(path)?;
    let mut losses = Vec::new();
    for (line, l) in data_lines(path, &text, "iteration,loss")? {
        let mut f = l.split(',');
        let it: usize = field(path, line, "iteration", f.next())?;
        let loss: f64 = field(path, line, "loss", f.next())?;
        if it != losses.len() + 1 {
            return Err(TrainError::bad_input(
                path,
                format!("line {line}: iteration {it}, expected {}", losses.len() + 1),
            ));
        }
        losses.push(loss);
    }
    Ok(losses)
}

fn parse_accuracy_csv(path: &Path) -> Result<(Vec<AccuracyRow>, HeldOut), TrainError> {
    let text = read_text(path)?;
    let held_out = match text.lines().next().map(str::trim) {
        Some(h) if h == HeldOut::Validation.header() => HeldOut::Validation,
        _ => HeldOut::Test,
    };
    let mut rows = Vec::new();
    for (line, l) in data_lines(path, &text, &held_out.header())? {
        let mut f = l.split(',');
        rows.push(AccuracyRow {
            epoch: field(path, line, "epoch", f.next())?,
            iteration: field(path, line, "iteration", f.next())?,
            train_acc: field(path, line, "train_acc", f.next())?,
            test_acc: field(path, line, "test_acc", f.next())?,
        });
    }
    Ok((rows, held_out))
}
