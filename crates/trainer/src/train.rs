//! The training loop of §4.5.2–4.5.3, one iteration at a time:
//!
//! ```text
//! for i in range(iters_num):
//!     batch_mask = np.random.choice(train_size, batch_size)
//!     grad = network.numerical_gradient(x_batch, t_batch)   # or network.gradient
//!     params[key] -= learning_rate * grad[key]
//!     train_loss_list.append(network.loss(x_batch, t_batch))
//!     if i % iter_per_epoch == 0: train/test accuracy on the full sets
//! ```
//!
//! One seeded [`Rng`] on the calling thread draws the initial weights and then every mini-batch,
//! and the network's gradients and accuracies do not depend on the thread count, so a run is
//! reproducible bit for bit whatever rayon's pool size.

use scratchnet_network::optimizer::AnyOptimizer;
use scratchnet_network::{Batch, Net, NonFinite};
use scratchnet_tensor::{Rng, RngState, Scalar, SparseRows, rng_from_seed};

use crate::{AccuracyRow, Checkpoint, Metrics, RunConfig, SparseMnist, TrainError};

/// What one call of [`Trainer::step`] did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Step {
    /// One optimizer step was taken; `loss` is the batch loss after it, `eval` the accuracy row
    /// if this iteration was an epoch boundary.
    Done {
        /// Batch loss after the step.
        loss: f64,
        /// The evaluation of this iteration, if any.
        eval: Option<AccuracyRow>,
    },
    /// The loss after the step was NaN or infinite: the step was undone (parameters, optimizer
    /// state and RNG are as before it) and nothing was recorded.
    NonFinite {
        /// The offending loss.
        loss: f64,
    },
}

/// The state of a run in memory: network, optimizer, RNG, step count and histories. The loop:
/// draw a batch, the net's [`step`](Net::step), record, evaluate.
///
/// ```
/// use scratchnet_trainer::{RunConfig, Schedule, SparseMnist, Step, Trainer};
/// let data = SparseMnist::<f64>::toy(20);
/// let schedule = Schedule { iters: 5, batch: 10, gradient: scratchnet_network::Gradient::Backprop,
///     epochs: None, eval_samples: None };
/// let config = RunConfig { schedule, ..Default::default() };
/// let mut trainer = Trainer::new(config, &data)?;
/// assert_eq!(trainer.iter_per_epoch(), 2);
/// while !trainer.is_finished() {
///     if let Step::Done { eval: Some(row), .. } = trainer.step() {
///         println!("{}", row.notebook_line()); // after steps 1, 3 and 5
///     }
/// }
/// assert_eq!(trainer.metrics().losses.len(), 5);
/// assert_eq!(trainer.metrics().accuracy.len(), 3);
/// # Ok::<(), scratchnet_trainer::TrainError>(())
/// ```
#[derive(Debug)]
pub struct Trainer<'d, A> {
    config: RunConfig,
    data: &'d SparseMnist<A>,
    net: Net<A>,
    optimizer: AnyOptimizer<A>,
    /// Draws the mini-batches and dropout masks; where the plain loop would leave it.
    rng: Rng,
    iters_done: usize,
    metrics: Metrics,
    iter_per_epoch: usize,
}

impl<'d, A: Scalar> Trainer<'d, A> {
    /// A fresh run: validates `config` against the data, seeds the RNG and draws the initial
    /// weights from it ([`RunConfig::new_net`]: layer by layer, W1 first).
    pub fn new(mut config: RunConfig, data: &'d SparseMnist<A>) -> Result<Self, TrainError> {
        let per_epoch = config.iter_per_epoch(data.train_size());
        if let Some(epochs) = config.schedule.epochs {
            config.schedule.iters = epochs.saturating_mul(per_epoch);
        }
        config.validate_for(data.train_size())?; // before any allocation
        let mut rng = rng_from_seed(config.seed);
        let ck = Checkpoint {
            net: config.new_net::<A>(&mut rng)?,
            optimizer: config.new_optimizer(),
            rng: RngState::of(&rng),
            iters_done: 0,
            metrics: Metrics::default(),
            wall_s: 0.0,
            train_size: data.train_size(),
            run_id: None,
            config,
        };
        Self::from_checkpoint(ck, data)
    }

    /// A run continued from a checkpoint ([`Checkpoint::check_fits`] the data).
    pub fn from_checkpoint(
        ck: Checkpoint<A>,
        data: &'d SparseMnist<A>,
    ) -> Result<Self, TrainError> {
        ck.check_fits(data.train_size())?;
        Ok(Trainer {
            iter_per_epoch: ck.config.iter_per_epoch(data.train_size()),
            config: ck.config,
            data,
            net: ck.net,
            optimizer: ck.optimizer,
            rng: ck.rng.restore(),
            iters_done: ck.iters_done,
            metrics: ck.metrics,
        })
    }

    /// One iteration: the net's [`step`](Net::step) on a batch drawn with replacement
    /// (`np.random.choice`), the batch loss after it recorded, and at an epoch boundary
    /// (`i % iter_per_epoch == 0`, `i` counted from 0) the full train and test sets evaluated.
    pub fn step(&mut self) -> Step {
        let i = self.iters_done;
        let (data, batch, shift) = (
            self.data,
            self.config.schedule.batch,
            self.config.data.shift,
        );
        let draw = move |rng: &mut Rng, b: &mut Batch<A>| {
            let idx = scratchnet_mnist::random_batch(rng, data.train_size(), batch);
            data.x_train.gather_rows_into(&idx, &mut b.x);
            if shift > 0 {
                // the shifts are drawn after the batch, from the same RNG
                b.x = scratchnet_mnist::random_shifts(rng, &b.x, 28, 28, shift);
            }
            b.t.clear();
            b.t.extend(idx.iter().map(|&k| data.t_train[k]));
        };
        let more = i + 1 < self.config.schedule.iters;
        let gradient = self.config.schedule.gradient;
        let loss = match self
            .net
            .step(&draw, gradient, &mut self.optimizer, &mut self.rng, more)
        {
            Ok(loss) => loss,
            Err(NonFinite { loss }) => return Step::NonFinite { loss },
        };
        self.metrics.losses.push(loss);
        self.iters_done += 1;
        let eval = (i % self.iter_per_epoch == 0).then(|| {
            let (train_acc, test_acc) = self.evaluate();
            let row = AccuracyRow {
                epoch: i / self.iter_per_epoch,
                iteration: self.iters_done,
                train_acc,
                test_acc,
            };
            self.metrics.accuracy.push(row);
            row
        });
        Step::Done { loss, eval }
    }

    /// Accuracy of the current network on the training and test sets: their first
    /// `eval_samples` images if the configuration says so (the book's
    /// `evaluate_sample_num_per_epoch`), else all of them.
    pub fn evaluate(&self) -> (f64, f64) {
        let Some(n) = self.config.schedule.eval_samples else {
            return self.evaluate_full();
        };
        let first = |x: &SparseRows<A>, t: &[usize]| {
            let k: Vec<usize> = (0..n.min(t.len())).collect();
            self.net.accuracy(x.gather_rows(&k), &t[..k.len()])
        };
        (
            first(&self.data.x_train, &self.data.t_train),
            first(&self.data.x_test, &self.data.t_test),
        )
    }

    /// Accuracy of the current network on the full training and test sets.
    pub fn evaluate_full(&self) -> (f64, f64) {
        (
            self.net.accuracy(&self.data.x_train, &self.data.t_train),
            self.net.accuracy(&self.data.x_test, &self.data.t_test),
        )
    }

    /// True once `iters_done` has reached the planned `iters`.
    pub fn is_finished(&self) -> bool {
        self.iters_done >= self.config.schedule.iters
    }

    /// Steps taken so far.
    pub fn iters_done(&self) -> usize {
        self.iters_done
    }

    /// Iterations per epoch, `max(train_size / batch, 1)`.
    pub fn iter_per_epoch(&self) -> usize {
        self.iter_per_epoch
    }

    /// The run's configuration.
    pub fn config(&self) -> &RunConfig {
        &self.config
    }

    /// The data the run trains on.
    pub fn data(&self) -> &SparseMnist<A> {
        self.data
    }

    /// The network as it is now.
    pub fn net(&self) -> &Net<A> {
        &self.net
    }

    /// The optimizer and its state as they are now.
    pub fn optimizer(&self) -> &AnyOptimizer<A> {
        &self.optimizer
    }

    /// Loss and accuracy histories so far.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The resumable state, with `wall_s` seconds of training spent so far.
    pub fn checkpoint(&self, wall_s: f64) -> Checkpoint<A> {
        Checkpoint {
            config: self.config.clone(),
            iters_done: self.iters_done,
            rng: RngState::of(&self.rng),
            net: self.net.clone(),
            optimizer: self.optimizer.clone(),
            metrics: self.metrics.clone(),
            wall_s,
            train_size: self.data.train_size(),
            run_id: None,
        }
    }
}
