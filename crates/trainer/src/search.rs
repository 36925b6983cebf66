//! The book's random hyper-parameter search (`ch06/hyperparameter_optimization.py`, §6.5.3):
//! `trials` short trainings of a `MultiLayerNet` (ReLU, He weights, SGD) with
//! `lr = 10^U(−6, −2)` and `weight_decay = 10^U(−8, −4)` drawn on a log scale, each trained on
//! the training part of the first `train_size` images and evaluated per epoch on the held-out
//! validation part (the book's `shuffle_dataset`, then the first 20 %).
//!
//! An application of the loop: every trial is a [`Trainer`] of [`SearchConfig::trial_config`]
//! on the one validation split. What is drawn and what is left is `scratchnet_run::search`,
//! re-exported here. Trials run in parallel; each is bit-identical on any thread count, so
//! the result is too.
//!
//! ```
//! use scratchnet_trainer::{SparseMnist, search::{SearchConfig, search}};
//! let data = SparseMnist::<f64>::toy(50);
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
use scratchnet_plot::{Curves, PlotError, draw_grid};
use scratchnet_tensor::Scalar;

use crate::{SparseMnist, Step};
use crate::{TrainError, Trainer};

pub use scratchnet_run::search::*;

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
/// use scratchnet_trainer::{SparseMnist, search::{SearchConfig, search_with}};
/// let data = SparseMnist::<f32>::toy(30);
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
/// use scratchnet_trainer::{SparseMnist, search::{SearchConfig, run_trial, search}};
/// let data = SparseMnist::<f64>::toy(40);
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
