//! The book's random hyper-parameter search (`ch06/hyperparameter_optimization.py`, §6.5.3):
//! `trials` short trainings of a `MultiLayerNet` (ReLU, He weights, SGD) with
//! `lr = 10^U(−6, −2)` and `weight_decay = 10^U(−8, −4)` drawn on a log scale, each trained on
//! the training part of the first `train_size` images and evaluated per epoch on the held-out
//! validation part (the book's `shuffle_dataset`, then the first 20 %).
//!
//! Composed of what exists: the one validation split is [`SparseMnist::subset`] of the search
//! seed, and every trial is a [`Trainer`] of [`SearchConfig::trial_config`] stepped
//! `epochs × iter_per_epoch` times, its validation and train accuracy read from its metrics.
//!
//! Reproducible: the hyper-parameters of all trials are drawn first, from one RNG of the seed,
//! in trial order (weight decay, then lr, as the book draws them); each trial's training seed is
//! [`trial_seed`]`(seed, trial)`. Trials run in parallel (rayon, each trial's steps parallel
//! inside too), and since every trial is bit-identical on any thread count, so is the result.
//!
//! ```
//! use ndarray::Array2;
//! use scratchnet_trainer::{SparseMnist, search::{SearchConfig, search}};
//! let x = Array2::from_shape_fn((50, 784), |(i, j)| ((i * 7 + j) % 10 == i % 10) as u8 as f64);
//! let t: Vec<usize> = (0..50).map(|i| i % 10).collect();
//! let x = scratchnet_tensor::SparseRows::from_dense(&x);
//! let data = SparseMnist { x_train: x.clone(), t_train: t.clone(), x_test: x, t_test: t };
//! let config = SearchConfig { trials: 3, epochs: 2, train_size: 50, batch: 10,
//!     hidden: vec![8, 8], ..Default::default() };
//! let trials = search(&config, &data)?;
//! assert_eq!(trials.len(), 3);
//! assert_eq!(trials[0].val_acc.len(), 2); // one evaluation per epoch
//! assert!(trials.iter().all(|t| (1e-6..1e-2).contains(&t.lr)));
//! assert_eq!(trials, search(&config, &data)?); // the same seed, the same table
//! # Ok::<(), scratchnet_trainer::TrainError>(())
//! ```

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;
use scratchnet_network::optimizer::{OptimizerConfig, OptimizerKind};
use scratchnet_network::{Activation, Gradient, WeightInit};
use scratchnet_plot::{Curves, PlotError, draw_grid};
use scratchnet_tensor::{Rng, Scalar, choice_with_replacement, rng_from_seed};
use serde::{Deserialize, Serialize};

use crate::flags::NetFlags;
use crate::{DEFAULT_SEED, DataChoice, Schedule};
use crate::{Dtype, RunConfig, SparseMnist, Step};
use crate::{TrainError, Trainer};

pub use scratchnet_run::search::*;

/// The most trials a search takes (the book's is 100): the table of results stays small.
pub const MAX_TRIALS: usize = 100_000;
/// The most epochs per trial (the book's is 50): each trial keeps two accuracies per epoch.
pub const MAX_EPOCHS: usize = 100_000;
/// What to search and how, with the book's values as defaults.
///
/// ```
/// let c = scratchnet_trainer::search::SearchConfig::default();
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
/// use scratchnet_trainer::search::trial_seed;
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
    /// use scratchnet_trainer::search::SearchConfig;
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
    /// use scratchnet_trainer::search::{Draw, SearchConfig};
    /// let d = Draw { trial: 1, lr: 1e-3, weight_decay: 1e-6, seed: 7 };
    /// let c = SearchConfig::default().trial_config(&d, 200);
    /// assert_eq!((c.optimizer.lr, c.net.weight_decay, c.seed, c.schedule.iters), (1e-3, 1e-6, 7, 200));
    /// assert_eq!(c.describe(), "backprop, f64, hidden 100,100,100,100,100,100 relu, init he, weight decay 1e-6, batch 100, lr 0.001");
    /// ```
    pub fn trial_config(&self, draw: &Draw, iters: usize) -> RunConfig {
        RunConfig {
            net: NetFlags::mlp(
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
    /// use scratchnet_trainer::search::SearchConfig;
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
    fn draw_iter(&self) -> impl Iterator<Item = Draw> + Send + '_ {
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
    /// use ndarray::Array2;
    /// use scratchnet_trainer::{SparseMnist, search::SearchConfig};
    /// let x = scratchnet_tensor::SparseRows::from_dense(&Array2::<f64>::zeros((600, 784)));
    /// let t = vec![0; 600];
    /// let data = SparseMnist { x_train: x.clone(), t_train: t.clone(), x_test: x, t_test: t };
    /// let (split, iters) = SearchConfig::default().prepare(&data)?;
    /// assert_eq!((split.train_size(), split.test_size(), iters), (400, 100, 200));
    /// # Ok::<(), scratchnet_trainer::TrainError>(())
    /// ```
    pub fn prepare<'d, A: Scalar>(
        &self,
        data: &'d SparseMnist<A>,
    ) -> Result<(std::borrow::Cow<'d, SparseMnist<A>>, usize), TrainError> {
        self.validate()?;
        let split = crate::data::subset(
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

/// The book's search on `data` (its training images; the test set is never used): the trials
/// of [`SearchConfig::draws`], each trained on the split of [`SearchConfig::prepare`], in trial
/// order. See the [module documentation](self).
pub fn search<A: Scalar>(
    config: &SearchConfig,
    data: &SparseMnist<A>,
) -> Result<Vec<Trial>, TrainError> {
    search_with(config, data, &AtomicBool::new(false), |_| {})
}

/// [`search`], calling `on_trial` with each trial as it finishes (from any thread, in the order
/// they finish), and stopping once `stop` is set: the trials that finished are returned, in
/// trial order, and those under way are dropped. At most one trial per rayon thread runs (and
/// holds memory) at a time, its draw made when it starts.
///
/// ```
/// use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
/// use ndarray::Array2;
/// use scratchnet_trainer::{SparseMnist, search::{SearchConfig, search_with}};
/// let x = Array2::from_shape_fn((30, 784), |(i, j)| (j % 10 == i % 10) as u8 as f32);
/// let t: Vec<usize> = (0..30).map(|i| i % 10).collect();
/// let x = scratchnet_tensor::SparseRows::from_dense(&x);
/// let data = SparseMnist { x_train: x.clone(), t_train: t.clone(), x_test: x, t_test: t };
/// let config = SearchConfig { trials: 4, epochs: 1, train_size: 30, batch: 6, hidden: vec![5],
///     dtype: scratchnet_trainer::Dtype::F32, ..Default::default() };
/// let done = AtomicUsize::new(0);
/// let never = AtomicBool::new(false);
/// let trials = search_with(&config, &data, &never, |_| { done.fetch_add(1, Ordering::Relaxed); })?;
/// assert_eq!((trials.len(), done.into_inner()), (4, 4));
/// let stopped = AtomicBool::new(true);
/// assert!(search_with(&config, &data, &stopped, |_| {})?.is_empty());
/// # Ok::<(), scratchnet_trainer::TrainError>(())
/// ```
pub fn search_with<A: Scalar>(
    config: &SearchConfig,
    data: &SparseMnist<A>,
    stop: &AtomicBool,
    on_trial: impl Fn(&Trial) + Sync,
) -> Result<Vec<Trial>, TrainError> {
    let (split, iters) = config.prepare(data)?;
    let split: &SparseMnist<A> = &split;
    // the trials in parallel, each one's steps parallel inside; every trial is the same on any
    // thread count, and the table is sorted by trial, so the result is too
    let mut trials = config
        .draw_iter()
        .par_bridge()
        .filter_map(|d| match run_trial_until(config, &d, iters, split, stop) {
            Ok(Some(trial)) => {
                on_trial(&trial);
                Some(Ok(trial))
            }
            Ok(None) => None,
            Err(e) => Some(Err(e)),
        })
        .collect::<Result<Vec<Trial>, TrainError>>()?;
    trials.sort_by_key(|t| t.trial);
    Ok(trials)
}

/// One trial: a fresh [`Trainer`] of [`SearchConfig::trial_config`]`(draw, iters)` on the
/// `split` of [`SearchConfig::prepare`], to its end (or to a non-finite loss, which ends the
/// trial as diverged). [`search`] runs these for every draw.
///
/// ```
/// use ndarray::Array2;
/// use scratchnet_trainer::{SparseMnist, search::{SearchConfig, run_trial, search}};
/// let x = Array2::from_shape_fn((40, 784), |(i, j)| (j % 10 == i % 10) as u8 as f64);
/// let t: Vec<usize> = (0..40).map(|i| i % 10).collect();
/// let x = scratchnet_tensor::SparseRows::from_dense(&x);
/// let data = SparseMnist { x_train: x.clone(), t_train: t.clone(), x_test: x, t_test: t };
/// let c = SearchConfig { trials: 2, epochs: 2, train_size: 40, batch: 8, hidden: vec![6], ..Default::default() };
/// let (split, iters) = c.prepare(&data)?;
/// let second = run_trial(&c, &c.draws()[1], iters, &split)?;
/// assert_eq!(second, search(&c, &data)?[1]);
/// # Ok::<(), scratchnet_trainer::TrainError>(())
/// ```
pub fn run_trial<A: Scalar>(
    config: &SearchConfig,
    draw: &Draw,
    iters: usize,
    split: &SparseMnist<A>,
) -> Result<Trial, TrainError> {
    let never = AtomicBool::new(false);
    Ok(run_trial_until(config, draw, iters, split, &never)?.expect("never stopped"))
}

/// [`run_trial`], or `None` if `stop` is set before it ends.
fn run_trial_until<A: Scalar>(
    config: &SearchConfig,
    draw: &Draw,
    iters: usize,
    split: &SparseMnist<A>,
    stop: &AtomicBool,
) -> Result<Option<Trial>, TrainError> {
    let mut trainer = Trainer::new(config.trial_config(draw, iters), split)?;
    let mut diverged = false;
    while !trainer.is_finished() {
        if stop.load(Ordering::Relaxed) {
            return Ok(None);
        }
        if let Step::NonFinite { .. } = trainer.step() {
            diverged = true;
            break;
        }
    }
    let rows = &trainer.metrics().accuracy;
    Ok(Some(Trial {
        trial: draw.trial,
        lr: draw.lr,
        weight_decay: draw.weight_decay,
        seed: draw.seed,
        val_acc: rows.iter().map(|r| r.test_acc).collect(),
        train_acc: rows.iter().map(|r| r.train_acc).collect(),
        diverged,
    }))
}

/// Draws the book's figure 6-24: the best [`BEST_SHOWN`] trials (fewer if there are fewer), five
/// to a row, each titled `Best-k`, validation accuracy solid and training accuracy dashed per
/// epoch, y from 0 to 1; written atomically (a directory, device or FIFO under `path` is
/// refused).
///
/// ```
/// use scratchnet_trainer::search::{Trial, draw_best};
/// let t = |trial| Trial { trial, lr: 0.01, weight_decay: 1e-6, seed: 0,
///     val_acc: vec![0.1, 0.5, 0.7], train_acc: vec![0.1, 0.6, 0.8], diverged: false };
/// let dir = tempfile::tempdir().unwrap();
/// let p = dir.path().join("search.png");
/// draw_best(&p, &[t(1), t(2), t(3)]).unwrap();
/// assert!(std::fs::metadata(&p).unwrap().len() > 1000);
/// ```
pub fn draw_best(path: &Path, trials: &[Trial]) -> Result<(), TrainError> {
    scratchnet_fileio::resolve_output(path).map_err(TrainError::Output)?;
    let curves: Vec<Curves<'_>> = best_first(trials)
        .into_iter()
        .take(BEST_SHOWN)
        .map(|t| Curves {
            note: format!(
                "lr {:.1e}, wd {:.1e}: {:.2}",
                t.lr,
                t.weight_decay,
                t.final_val_acc()
            ),
            solid: &t.val_acc,
            dashed: &t.train_acc,
        })
        .collect();
    draw_grid(
        path,
        "Hyper-parameter search: the best trials (validation solid, train dashed)",
        &curves,
    )
    .map_err(|e| match e {
        PlotError::File(e) => TrainError::Output(e),
        PlotError::Draw { path, what } => TrainError::Plot { path, what },
    })
}
