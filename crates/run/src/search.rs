//! What a search leaves: its trials ([`Trial`]), `search.csv` and the order of the best.

use std::fmt::Write as _;
use std::path::Path;

use crate::TrainError;

/// File name of the search table in the output folder.
pub const SEARCH_CSV: &str = "search.csv";
/// File name of the figure of the best trials (the book's figure 6-24).
pub const SEARCH_PNG: &str = "search.png";
/// How many of the best trials the figure shows (the book's `graph_draw_num`).
pub const BEST_SHOWN: usize = 20;

/// One trial's result.
#[derive(Clone, Debug, PartialEq)]
pub struct Trial {
    /// The trial's number, from 1 (the order of the draws).
    pub trial: usize,
    /// The learning rate.
    pub lr: f64,
    /// λ of the weight decay.
    pub weight_decay: f64,
    /// The seed of its training.
    pub seed: u64,
    /// Validation accuracy at every epoch (the book's `val_acc_list`).
    pub val_acc: Vec<f64>,
    /// Training accuracy at every epoch (`train_acc_list`).
    pub train_acc: Vec<f64>,
    /// True if the loss became NaN or infinite and the trial stopped there (its lists then
    /// end at the last epoch reached).
    pub diverged: bool,
}

impl Trial {
    /// The validation accuracy after the last epoch (0 if none was evaluated).
    ///
    /// ```
    /// use scratchnet_run::search::Trial;
    /// let t = Trial { trial: 1, lr: 0.01, weight_decay: 1e-6, seed: 0, val_acc: vec![0.1, 0.5],
    ///     train_acc: vec![0.2, 0.6], diverged: false };
    /// assert_eq!((t.final_val_acc(), t.final_train_acc()), (0.5, 0.6));
    /// ```
    pub fn final_val_acc(&self) -> f64 {
        self.val_acc.last().copied().unwrap_or(0.0)
    }

    /// The training accuracy after the last epoch (0 if none was evaluated).
    pub fn final_train_acc(&self) -> f64 {
        self.train_acc.last().copied().unwrap_or(0.0)
    }

    /// The book's line for this trial: `val acc:0.83 | lr:0.0092, weight decay:3.8e-07`
    /// (numbers as Python's `str` writes them).
    ///
    /// ```
    /// use scratchnet_run::search::Trial;
    /// let t = Trial { trial: 1, lr: 0.0092, weight_decay: 3.8e-7, seed: 0, val_acc: vec![0.83],
    ///     train_acc: vec![0.9], diverged: false };
    /// assert_eq!(t.book_line(), "val acc:0.83 | lr:0.0092, weight decay:3.8e-07");
    /// ```
    pub fn book_line(&self) -> String {
        format!(
            "val acc:{} | {}",
            py_float(self.final_val_acc()),
            self.key()
        )
    }

    /// The book's dictionary key: `lr:0.0092, weight decay:3.8e-07`.
    pub fn key(&self) -> String {
        format!(
            "lr:{}, weight decay:{}",
            py_float(self.lr),
            py_float(self.weight_decay)
        )
    }
}

/// `v` as Python's `str(float)` writes it: the shortest round-trip digits, in scientific form
/// with a two-digit exponent below 1e-4 or from 1e16 on (`3.8e-07`, `0.0092`, `0.83`, `1.0`).
///
/// ```
/// use scratchnet_run::search::py_float;
/// assert_eq!(py_float(3.8e-7), "3.8e-07");
/// assert_eq!(py_float(0.0092), "0.0092");
/// assert_eq!(py_float(1.0), "1.0");
/// assert_eq!(py_float(1.5e-123), "1.5e-123");
/// ```
pub fn py_float(v: f64) -> String {
    if v != 0.0 && v.is_finite() && !(1e-4..1e16).contains(&v.abs()) {
        let s = format!("{v:e}");
        let (mantissa, exp) = s.split_once('e').expect("{:e} has an exponent");
        let (sign, digits) = match exp.strip_prefix('-') {
            Some(d) => ('-', d),
            None => ('+', exp),
        };
        format!("{mantissa}e{sign}{digits:0>2}")
    } else if v.is_finite() && v == v.trunc() {
        format!("{v:.1}")
    } else {
        format!("{v}")
    }
}

/// The trials best first: by final validation accuracy, descending, ties in trial order (the
/// book's stable `sorted(..., reverse=True)`).
///
/// ```
/// use scratchnet_run::search::{Trial, best_first};
/// let t = |trial, acc| Trial { trial, lr: 0.01, weight_decay: 1e-6, seed: 0, val_acc: vec![acc],
///     train_acc: vec![acc], diverged: false };
/// let trials = [t(1, 0.5), t(2, 0.9), t(3, 0.5)];
/// let sorted = best_first(&trials);
/// assert_eq!(sorted.iter().map(|t| t.trial).collect::<Vec<_>>(), [2, 1, 3]);
/// ```
pub fn best_first(trials: &[Trial]) -> Vec<&Trial> {
    let mut v: Vec<&Trial> = trials.iter().collect();
    v.sort_by(|a, b| b.final_val_acc().total_cmp(&a.final_val_acc()));
    v
}

/// The text of `search.csv`: `trial,lr,weight_decay,val_acc,train_acc,seed,diverged`, one row
/// per trial in trial order, every number in its shortest round-trip form (reads back to the
/// same bits).
///
/// ```
/// use scratchnet_run::search::{Trial, csv};
/// let t = Trial { trial: 1, lr: 0.001, weight_decay: 1e-7, seed: 9, val_acc: vec![0.25],
///     train_acc: vec![0.5], diverged: false };
/// let text = csv(&[t]);
/// let row: Vec<&str> = text.lines().nth(1).unwrap().split(',').collect();
/// assert_eq!(row[1].parse::<f64>().unwrap(), 0.001);
/// assert_eq!(row[3].parse::<f64>().unwrap(), 0.25);
/// ```
pub fn csv(trials: &[Trial]) -> String {
    let mut out = String::from(CSV_HEADER);
    out.push('\n');
    let mut sorted: Vec<&Trial> = trials.iter().collect();
    sorted.sort_by_key(|t| t.trial);
    let list = |v: &[f64]| v.iter().map(f64::to_string).collect::<Vec<_>>().join(" ");
    for t in sorted {
        writeln!(
            out,
            "{},{:e},{:e},{},{},{},{},{},{}",
            t.trial,
            t.lr,
            t.weight_decay,
            t.final_val_acc(),
            t.final_train_acc(),
            t.seed,
            t.diverged,
            list(&t.val_acc),
            list(&t.train_acc)
        )
        .expect("writing to a String cannot fail");
    }
    out
}

const CSV_HEADER: &str =
    "trial,lr,weight_decay,val_acc,train_acc,seed,diverged,val_acc_per_epoch,train_acc_per_epoch";
/// A `search.csv` larger than this is not one [`csv`] wrote (100,000 trials of 50 epochs is
/// about 400 MB; the figure needs far less).
const MAX_CSV: u64 = 1 << 30;

/// Reads a `search.csv` that [`csv`] wrote: the trials, with their per-epoch accuracies.
///
/// ```
/// use scratchnet_run::search::{Trial, csv, read_csv};
/// let t = Trial { trial: 3, lr: 0.001, weight_decay: 1e-7, seed: 9, val_acc: vec![0.125, 0.25],
///     train_acc: vec![0.5, 0.75], diverged: false };
/// let dir = tempfile::tempdir().unwrap();
/// let p = dir.path().join("search.csv");
/// std::fs::write(&p, csv(&[t.clone()])).unwrap();
/// assert_eq!(read_csv(&p).unwrap(), [t]);
/// std::fs::write(&p, "trial,lr\n1,0.1\n").unwrap();
/// assert!(read_csv(&p).unwrap_err().to_string().contains("line 1"));
/// ```
pub fn read_csv(path: &Path) -> Result<Vec<Trial>, TrainError> {
    let text =
        scratchnet_fileio::read_to_string_limited(path, MAX_CSV).map_err(TrainError::Input)?;
    let bad = |line: usize, what: &str| {
        TrainError::bad_input(
            path,
            format!("line {line}: {what} (not a search.csv of scratchnet search)"),
        )
    };
    let mut lines = text.lines();
    if lines.next() != Some(CSV_HEADER) {
        return Err(bad(1, "not the header this build writes"));
    }
    lines
        .enumerate()
        .map(|(i, line)| {
            let line_no = i + 2;
            let f: Vec<&str> = line.split(',').collect();
            if f.len() != 9 {
                return Err(bad(line_no, "not 9 fields"));
            }
            let num = |v: &str| v.parse::<f64>().map_err(|_| bad(line_no, "not a number"));
            let list = |v: &str| {
                v.split_whitespace()
                    .map(num)
                    .collect::<Result<Vec<f64>, _>>()
            };
            Ok(Trial {
                trial: f[0]
                    .parse()
                    .map_err(|_| bad(line_no, "not a trial number"))?,
                lr: num(f[1])?,
                weight_decay: num(f[2])?,
                seed: f[5].parse().map_err(|_| bad(line_no, "not a seed"))?,
                diverged: f[6]
                    .parse()
                    .map_err(|_| bad(line_no, "not true or false"))?,
                val_acc: list(f[7])?,
                train_acc: list(f[8])?,
            })
        })
        .collect()
}
