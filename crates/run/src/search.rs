//! The book's random hyper-parameter search (`ch06/hyperparameter_optimization.py`, §6.5.3),
//! apart from its training (the trainer's `search`): what it draws ([`SearchConfig`], [`Draw`],
//! [`trial_seed`]), the run each trial is ([`SearchConfig::trial_config`]), and what it leaves
//! ([`Trial`], `search.csv`, the best first).
//!
//! Reproducible: the hyper-parameters of all trials are drawn first, from one RNG of the seed,
//! in trial order (weight decay, then lr, as the book draws them); each trial's training seed is
//! [`trial_seed`]`(seed, trial)`.

use std::fmt::Write as _;
use std::path::Path;

use crate::TrainError;
use scratchnet_network::optimizer::{OptimizerConfig, OptimizerKind};
use scratchnet_network::{Activation, Gradient, WeightInit};
use scratchnet_tensor::{Rng, Scalar, choice_with_replacement, rng_from_seed};
use serde::{Deserialize, Serialize};

use scratchnet_mnist::SparseMnist;

use crate::{DEFAULT_SEED, DataChoice, Dtype, RunConfig, Schedule};

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

/// The book's result table, best first (`Best-1(val acc:0.83) | lr:0.0092, weight decay:3.8e-07`),
/// then the best trial that did not diverge in one line.
///
/// ```
/// use scratchnet_run::search::{Trial, book_table};
/// let t = |trial, acc| Trial { trial, lr: 0.01, weight_decay: 1e-6, seed: 0, val_acc: vec![acc],
///     train_acc: vec![acc], diverged: false };
/// let table = book_table(&[t(1, 0.5), t(2, 0.75)]);
/// assert_eq!(table.lines().nth(1), Some("Best-1(val acc:0.75) | lr:0.01, weight decay:1e-06"));
/// assert!(table.ends_with("(trial 2, train acc 0.7500)\n"));
/// ```
pub fn book_table(trials: &[Trial]) -> String {
    let mut out = String::from("=========== Hyper-Parameter Optimization Result ===========\n");
    let sorted = best_first(trials);
    for (i, t) in sorted.iter().enumerate() {
        let diverged = if t.diverged { " (diverged)" } else { "" };
        let acc = py_float(t.final_val_acc());
        let _ = writeln!(out, "Best-{}(val acc:{acc}) | {}{diverged}", i + 1, t.key());
    }
    let _ = match sorted.iter().find(|t| !t.diverged) {
        Some(best) => writeln!(
            out,
            "best: lr {:e}, weight decay {:e} → val acc {:.4} (trial {}, train acc {:.4})",
            best.lr,
            best.weight_decay,
            best.final_val_acc(),
            best.trial,
            best.final_train_acc()
        ),
        None if !trials.is_empty() => writeln!(
            out,
            "no best: every trial diverged (try a smaller --lr-exp range)"
        ),
        None => Ok(()),
    };
    out
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

/// The most trials a search takes (the book's is 100): the table of results stays small.
pub const MAX_TRIALS: usize = 100_000;
/// The most epochs per trial (the book's is 50): each trial keeps two accuracies per epoch.
pub const MAX_EPOCHS: usize = 100_000;
/// What to search and how, with the book's values as defaults.
///
/// ```
/// let c = scratchnet_run::search::SearchConfig::default();
/// assert_eq!((c.trials, c.epochs, c.train_size, c.validation, c.batch), (100, 50, 500, 0.2, 100));
/// assert_eq!((c.hidden.as_slice(), c.lr_exp, c.weight_decay_exp), (&[100; 6][..], (-6.0, -2.0), (-8.0, -4.0)));
/// c.validate().unwrap();
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SearchConfig {
    /// Number of trials (`optimization_trial`).
    pub trials: usize,
    /// Epochs of each trial's training (`epocs`); an epoch is the trainer's `iter_per_epoch`.
    pub epochs: usize,
    /// Use the first this many training images (the book's 500).
    pub train_size: usize,
    /// The fraction of them held out for validation (`validation_rate`).
    pub validation: f64,
    /// Mini-batch size (`mini_batch_size`).
    pub batch: usize,
    /// Hidden-layer widths (`hidden_size_list`).
    pub hidden: Vec<usize>,
    /// `lr = 10^U(min, max)`.
    pub lr_exp: (f64, f64),
    /// `weight_decay = 10^U(min, max)`.
    pub weight_decay_exp: (f64, f64),
    /// Seed of the draws, of the validation split and (through [`trial_seed`]) of each trial.
    pub seed: u64,
    /// Element type of all arrays.
    pub dtype: Dtype,
}

impl Default for SearchConfig {
    fn default() -> Self {
        SearchConfig {
            trials: 100,
            epochs: 50,
            train_size: 500,
            validation: 0.2,
            batch: 100,
            hidden: vec![100; 6],
            lr_exp: (-6.0, -2.0),
            weight_decay_exp: (-8.0, -4.0),
            seed: DEFAULT_SEED,
            dtype: Dtype::F64,
        }
    }
}

/// The hyper-parameters of one trial, as drawn.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Draw {
    /// The trial's number, from 1.
    pub trial: usize,
    /// The learning rate.
    pub lr: f64,
    /// λ of the weight decay.
    pub weight_decay: f64,
    /// The seed of its training ([`trial_seed`]).
    pub seed: u64,
}

/// The training seed of trial `trial` (from 1) of a search seeded `seed`: SplitMix64's output
/// for the pair, so trials of one search, and the same trial of searches with neighbouring
/// seeds, get unrelated seeds.
///
/// ```
/// use scratchnet_run::search::trial_seed;
/// assert_eq!(trial_seed(42, 1), trial_seed(42, 1));
/// assert_ne!(trial_seed(42, 1), trial_seed(42, 2));
/// assert_ne!(trial_seed(42, 2), trial_seed(43, 1));
/// ```
pub fn trial_seed(seed: u64, trial: usize) -> u64 {
    fn splitmix(mut z: u64) -> u64 {
        z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    splitmix(splitmix(seed) ^ trial as u64)
}

/// A uniform draw from `[0, 1)` with 53 random bits (`np.random.uniform`'s resolution), from
/// the tensor crate's uniform integers.
fn uniform01(rng: &mut Rng) -> f64 {
    const BITS: usize = 1 << 53;
    choice_with_replacement(rng, BITS, 1)[0] as f64 / BITS as f64
}

/// `10^U(lo, hi)`.
fn log_uniform(rng: &mut Rng, (lo, hi): (f64, f64)) -> f64 {
    10f64.powf(lo + (hi - lo) * uniform01(rng))
}

/// The ChaCha stream of the seed that draws the hyper-parameters (stream 0 draws a training's
/// weights and batches, stream 1 the validation split).
const DRAW_STREAM: u64 = 2;

impl SearchConfig {
    /// Checks everything that does not need the data: at least one trial and epoch, the
    /// exponent ranges finite with min ≤ max and 10^min, 10^max usable (an lr > 0 in the dtype),
    /// and the trial configuration at both ends of the ranges ([`RunConfig::validate`]).
    /// Errors name the field (`lr_exp`, `trials`, …); the command line names its flag.
    ///
    /// ```
    /// use scratchnet_run::search::SearchConfig;
    /// let bad = SearchConfig { lr_exp: (-2.0, -6.0), ..Default::default() };
    /// assert!(bad.validate().unwrap_err().to_string().starts_with("lr_exp "));
    /// let bad = SearchConfig { trials: 0, ..Default::default() };
    /// assert_eq!(bad.validate().unwrap_err().to_string(), "trials must be at least 1, got 0");
    /// ```
    pub fn validate(&self) -> Result<(), TrainError> {
        for (name, v) in [
            ("trials", self.trials),
            ("epochs", self.epochs),
            ("train_size", self.train_size),
            ("batch", self.batch),
        ] {
            if v == 0 {
                return Err(TrainError::config(name, "must be at least 1, got 0"));
            }
        }
        if self.trials > MAX_TRIALS {
            return Err(TrainError::config(
                "trials",
                format!("must be at most {MAX_TRIALS}, got {}", self.trials),
            ));
        }
        if self.epochs > MAX_EPOCHS {
            return Err(TrainError::config(
                "epochs",
                format!("must be at most {MAX_EPOCHS}, got {}", self.epochs),
            ));
        }
        for (name, (lo, hi)) in [
            ("lr_exp", self.lr_exp),
            ("weight_decay_exp", self.weight_decay_exp),
        ] {
            if !(lo.is_finite() && hi.is_finite()) || lo > hi {
                return Err(TrainError::config(
                    name,
                    format!("must be two finite exponents MIN,MAX with MIN <= MAX, got {lo},{hi}"),
                ));
            }
            let (a, b) = (10f64.powf(lo), 10f64.powf(hi));
            if !(a > 0.0 && b.is_finite()) {
                return Err(TrainError::config(
                    name,
                    format!(
                        "{lo},{hi} gives 10^MIN = {a:e}, 10^MAX = {b:e}; both must be finite numbers > 0"
                    ),
                ));
            }
        }
        for (lr, wd) in [
            (self.lr_exp.0, self.weight_decay_exp.0),
            (self.lr_exp.1, self.weight_decay_exp.1),
        ] {
            let draw = Draw {
                trial: 1,
                lr: 10f64.powf(lr),
                weight_decay: 10f64.powf(wd),
                seed: 0,
            };
            self.trial_config(&draw, 1)
                .validate()
                .map_err(|e| match e {
                    TrainError::Config {
                        field: "lr",
                        problem,
                    } => TrainError::config("lr_exp", format!("(10^{lr}) {problem}")),
                    TrainError::Config {
                        field: "weight_decay",
                        problem,
                    } => TrainError::config("weight_decay_exp", format!("(10^{wd}) {problem}")),
                    e => e,
                })?;
        }
        crate::check_fraction(self.validation)
            .map(drop)
            .map_err(|p| TrainError::config("validation", p))
    }

    /// The training of one trial on the split data, `iters` iterations: the book's
    /// `MultiLayerNet(784, hidden, 10, relu, He, weight_decay)` by SGD with the drawn lr,
    /// backpropagation, seeded by the draw's seed. (The data it gets is already split: it has
    /// no `train_first` or `validation` of its own.)
    ///
    /// ```
    /// use scratchnet_run::search::{Draw, SearchConfig};
    /// let d = Draw { trial: 1, lr: 1e-3, weight_decay: 1e-6, seed: 7 };
    /// let c = SearchConfig::default().trial_config(&d, 200);
    /// assert_eq!((c.optimizer.lr, c.net.weight_decay, c.seed, c.schedule.iters), (1e-3, 1e-6, 7, 200));
    /// assert_eq!(c.describe(), "backprop, f64, hidden 100,100,100,100,100,100 relu, init he, weight decay 1e-6, batch 100, lr 0.001");
    /// ```
    pub fn trial_config(&self, draw: &Draw, iters: usize) -> RunConfig {
        RunConfig {
            net: crate::config::mnist_mlp(
                &self.hidden,
                Activation::Relu,
                WeightInit::He,
                draw.weight_decay,
                None,
                false,
            ),
            optimizer: OptimizerConfig::new(OptimizerKind::Sgd).with_lr(draw.lr),
            schedule: Schedule {
                iters,
                batch: self.batch,
                gradient: Gradient::Backprop,
                epochs: None,
                eval_samples: None,
            },
            data: DataChoice::default(),
            seed: draw.seed,
            dtype: self.dtype,
        }
    }

    /// The hyper-parameters of every trial, drawn in trial order from one RNG of the seed:
    /// for each trial `weight_decay = 10^U(weight_decay_exp)`, then `lr = 10^U(lr_exp)` (the
    /// book's order).
    ///
    /// ```
    /// use scratchnet_run::search::SearchConfig;
    /// let c = SearchConfig { trials: 5, ..Default::default() };
    /// let d = c.draws();
    /// assert_eq!(d.iter().map(|d| d.trial).collect::<Vec<_>>(), [1, 2, 3, 4, 5]);
    /// assert!(d.iter().all(|d| (1e-8..1e-4).contains(&d.weight_decay)));
    /// assert_eq!(d, c.draws());
    /// ```
    pub fn draws(&self) -> Vec<Draw> {
        self.draw_iter().collect()
    }

    /// [`draws`](Self::draws), one at a time: a search never holds more draws than it runs.
    ///
    /// ```
    /// let c = scratchnet_run::search::SearchConfig { trials: 3, ..Default::default() };
    /// assert_eq!(c.draw_iter().collect::<Vec<_>>(), c.draws());
    /// ```
    pub fn draw_iter(&self) -> impl Iterator<Item = Draw> + Send + '_ {
        let mut rng = rng_from_seed(self.seed);
        rng.set_stream(DRAW_STREAM);
        (1..=self.trials).map(move |trial| {
            let weight_decay = log_uniform(&mut rng, self.weight_decay_exp);
            let lr = log_uniform(&mut rng, self.lr_exp);
            Draw {
                trial,
                lr,
                weight_decay,
                seed: trial_seed(self.seed, trial),
            }
        })
    }

    /// The split of `data` the trials train and validate on, and the iterations of each trial
    /// (`epochs × iter_per_epoch`), checked against it (a batch larger than the training part is
    /// an error naming `batch`).
    ///
    /// ```
    /// use scratchnet_run::search::SearchConfig;
    /// let data = scratchnet_mnist::SparseMnist::<f64>::toy(600);
    /// let (split, iters) = SearchConfig::default().prepare(&data)?;
    /// assert_eq!((split.train_size(), split.test_size(), iters), (400, 100, 200));
    /// # Ok::<(), scratchnet_run::TrainError>(())
    /// ```
    pub fn prepare<'d, A: Scalar>(
        &self,
        data: &'d SparseMnist<A>,
    ) -> Result<(std::borrow::Cow<'d, SparseMnist<A>>, usize), TrainError> {
        self.validate()?;
        let split = crate::config::subset(
            data,
            Some(self.train_size),
            Some(self.validation),
            self.seed,
        )?;
        let per_epoch = (split.train_size() / self.batch).max(1);
        let iters = self
            .epochs
            .checked_mul(per_epoch)
            .ok_or_else(|| TrainError::config("epochs", format!("{} is too many", self.epochs)))?;
        if let Some(d) = self.draw_iter().next() {
            let trial = self.trial_config(&d, iters);
            trial.validate_for(split.train_size())?;
            trial.check_memory(rayon::current_num_threads())?;
        }
        Ok((split, iters))
    }
}
