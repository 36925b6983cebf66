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

use scratchnet_network::{Grads, Params, TwoLayerNet, Workspace};
use scratchnet_tensor::{Rng, RngState, Scalar, SparseRows, rng_from_seed};

use crate::config::{INPUT, OUTPUT};
use crate::{AccuracyRow, Checkpoint, GradMethod, Metrics, Mnist, TrainConfig, TrainError};

/// What one call of [`Trainer::step`] did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Step {
    /// One SGD step was taken; `loss` is the batch loss after it, `eval` the accuracy row if
    /// this iteration was an epoch boundary.
    Done {
        /// Batch loss after the step.
        loss: f64,
        /// The evaluation of this iteration, if any.
        eval: Option<AccuracyRow>,
    },
    /// The loss after the step was NaN or infinite: the step was undone (parameters and RNG are
    /// as before it) and nothing was recorded.
    NonFinite {
        /// The offending loss.
        loss: f64,
    },
}

/// The state of a run in memory: network, RNG, step count and histories.
///
/// ```
/// use ndarray::Array2;
/// use scratchnet_trainer::{GradMethod, Mnist, Step, TrainConfig, Trainer};
/// // 20 synthetic 784-pixel "images" of 10 classes (real runs use `Mnist::load`).
/// let x = Array2::from_shape_fn((20, 784), |(i, j)| ((i * 7 + j) % 10 == i % 10) as u8 as f64);
/// let t: Vec<usize> = (0..20).map(|i| i % 10).collect();
/// let x = scratchnet_tensor::SparseRows::from_dense(&x);
/// let data = Mnist { x_train: x.clone(), t_train: t.clone(), x_test: x, t_test: t };
/// let config = TrainConfig { grad: GradMethod::Backprop, iters: 5, batch: 10, ..Default::default() };
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
    config: TrainConfig,
    data: &'d Mnist<A>,
    net: TwoLayerNet<A>,
    /// The other half of a double buffer: SGD writes the new parameters here and the two are
    /// swapped, so the previous parameters survive a step whose loss is not finite.
    spare: Params<A>,
    /// Buffers of the backward pass, reused by every step.
    workspace: Workspace<A>,
    /// Draws the mini-batches; it may be one batch ahead of `committed`.
    rng: Rng,
    /// The RNG state after the batches of the steps done: what a checkpoint records.
    committed: RngState,
    /// The next step's batch, drawn with `rng` after `committed`, and whether its gradient for
    /// the current parameters is ready (in `workspace` or `numeric`).
    ahead: Batch<A>,
    ready: bool,
    numeric: Option<Grads<A>>,
    iters_done: usize,
    metrics: Metrics,
    iter_per_epoch: usize,
    lr: A,
    /// The batch of the current step, gathered into the same memory every other step.
    current: Batch<A>,
}

impl<'d, A: Scalar> Trainer<'d, A> {
    /// A fresh run: validates `config` against the data, seeds the RNG and draws the initial
    /// weights from it (`weight_init_std * randn`, W1 then W2).
    pub fn new(config: TrainConfig, data: &'d Mnist<A>) -> Result<Self, TrainError> {
        config.validate_for(data.train_size())?;
        check_dtype::<A>(&config)?;
        let mut rng = rng_from_seed(config.seed);
        let net = TwoLayerNet::new(
            INPUT,
            config.hidden,
            OUTPUT,
            config.weight_init_std,
            &mut rng,
        );
        if !net.params.all_finite() {
            return Err(TrainError::config(
                "weight_init_std",
                format!(
                    "{} gives initial weights that are not finite in {}",
                    crate::config::fmt_num(config.weight_init_std),
                    A::DTYPE
                ),
            ));
        }
        Ok(Self::assemble(
            config,
            data,
            net,
            rng,
            0,
            Metrics::default(),
        ))
    }

    /// A run continued from a checkpoint; the data must have the training-set size the run
    /// started with.
    pub fn from_checkpoint(ck: Checkpoint<A>, data: &'d Mnist<A>) -> Result<Self, TrainError> {
        ck.config.validate_for(data.train_size())?;
        check_dtype::<A>(&ck.config)?;
        if ck.train_size != data.train_size() {
            return Err(TrainError::Usage(format!(
                "the checkpoint was made with {} training images, this data has {}",
                ck.train_size,
                data.train_size()
            )));
        }
        let (input, hidden, output) = ck.params.sizes();
        if (input, hidden, output) != (INPUT, ck.config.hidden, OUTPUT) {
            return Err(TrainError::Usage(format!(
                "the checkpoint's network is {input}-{hidden}-{output}, expected {INPUT}-{}-{OUTPUT}",
                ck.config.hidden
            )));
        }
        let net = TwoLayerNet::from_params(ck.params);
        Ok(Self::assemble(
            ck.config,
            data,
            net,
            ck.rng.restore(),
            ck.iters_done,
            ck.metrics,
        ))
    }

    fn assemble(
        config: TrainConfig,
        data: &'d Mnist<A>,
        net: TwoLayerNet<A>,
        rng: Rng,
        iters_done: usize,
        metrics: Metrics,
    ) -> Self {
        let iter_per_epoch = config.iter_per_epoch(data.train_size());
        let spare = net.params.clone();
        let lr = A::of_f64(config.lr);
        Trainer {
            config,
            data,
            net,
            spare,
            workspace: Workspace::new(),
            committed: RngState::of(&rng),
            rng,
            ahead: Batch::new(),
            ready: false,
            numeric: None,
            iters_done,
            metrics,
            iter_per_epoch,
            lr,
            current: Batch::new(),
        }
    }

    /// One iteration: draw a batch with replacement, compute the gradient, take the SGD step,
    /// record the batch loss after it, and at an epoch boundary (`i % iter_per_epoch == 0`,
    /// `i` counted from 0) evaluate the full train and test sets.
    ///
    /// The loss after the step and the next step's gradient need the same parameters, so they
    /// run side by side (`rayon::join`): the next batch is drawn and its gradient computed
    /// during this step. The numbers are those of the plain loop, bit for bit; a checkpoint
    /// records the RNG as the plain loop would have left it.
    pub fn step(&mut self) -> Step {
        let i = self.iters_done;
        let rng_before = self.committed;
        if !self.ready {
            self.rng = rng_before.restore();
            self.draw_batch_and_gradient();
        }
        let rng_after = RngState::of(&self.rng);
        let grads = self.numeric.as_ref().unwrap_or(self.workspace.grads());
        self.net
            .params
            .sgd_step_into(grads, self.lr, &mut self.spare);
        std::mem::swap(&mut self.net.params, &mut self.spare);
        let more = i + 1 < self.config.iters;
        let loss = {
            let Self {
                net,
                current,
                ahead,
                rng,
                workspace,
                numeric,
                data,
                config,
                ..
            } = self;
            let (loss, ()) = rayon::join(
                || net.loss_fused(&current.x, &current.t).as_f64(),
                || {
                    if more {
                        ahead.draw(rng, data, config.batch);
                        *numeric = gradient(net, ahead, config, workspace);
                    }
                },
            );
            loss
        };
        if !loss.is_finite() {
            std::mem::swap(&mut self.net.params, &mut self.spare);
            self.rng = rng_before.restore();
            self.ready = false;
            return Step::NonFinite { loss };
        }
        self.committed = rng_after;
        self.ready = more;
        std::mem::swap(&mut self.current, &mut self.ahead);
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

    /// Draws this step's batch into `current` and computes its gradient, when no earlier step
    /// did it ahead (the first step of a session, or after a non-finite loss).
    fn draw_batch_and_gradient(&mut self) {
        self.current
            .draw(&mut self.rng, self.data, self.config.batch);
        self.numeric = gradient(&self.net, &self.current, &self.config, &mut self.workspace);
    }

    /// Accuracy of the current network on the full training and test sets.
    pub fn evaluate(&self) -> (f64, f64) {
        (
            self.net
                .accuracy_fused(&self.data.x_train, &self.data.t_train),
            self.net
                .accuracy_fused(&self.data.x_test, &self.data.t_test),
        )
    }

    /// True once `iters_done` has reached the planned `iters`.
    pub fn is_finished(&self) -> bool {
        self.iters_done >= self.config.iters
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
    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    /// The data the run trains on.
    pub fn data(&self) -> &Mnist<A> {
        self.data
    }

    /// The network as it is now.
    pub fn net(&self) -> &TwoLayerNet<A> {
        &self.net
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
            rng: self.committed,
            params: self.net.params.clone(),
            metrics: self.metrics.clone(),
            wall_s,
            train_size: self.data.train_size(),
            run_id: None,
        }
    }
}

/// A mini-batch: its images gathered from the sparse training set, and its labels.
#[derive(Debug)]
struct Batch<A> {
    x: SparseRows<A>,
    t: Vec<usize>,
}

impl<A: Scalar> Batch<A> {
    fn new() -> Self {
        Self {
            x: SparseRows::from_dense(&ndarray::Array2::<A>::zeros((0, 0))),
            t: Vec::new(),
        }
    }

    /// `np.random.choice(train_size, batch)` and the rows it picks.
    fn draw(&mut self, rng: &mut Rng, data: &Mnist<A>, batch: usize) {
        let idx = scratchnet_mnist::random_batch(rng, data.train_size(), batch);
        data.x_train.gather_rows_into(&idx, &mut self.x);
        self.t.clear();
        self.t.extend(idx.iter().map(|&k| data.t_train[k]));
    }
}

/// The gradient of `batch` by the configured method: backprop into `ws`, or a numerical
/// gradient returned.
fn gradient<A: Scalar>(
    net: &TwoLayerNet<A>,
    batch: &Batch<A>,
    config: &TrainConfig,
    ws: &mut Workspace<A>,
) -> Option<Grads<A>> {
    match config.grad {
        GradMethod::Backprop => {
            net.gradient_in(&batch.x, &batch.t, ws);
            None
        }
        GradMethod::Numeric => {
            Some(net.numerical_gradient_with(&batch.x, &batch.t, config.numgrad.strategy()))
        }
    }
}

fn check_dtype<A: Scalar>(config: &TrainConfig) -> Result<(), TrainError> {
    if config.dtype.as_str() == A::DTYPE {
        Ok(())
    } else {
        Err(TrainError::Usage(format!(
            "the configuration asks for {} but the data was loaded as {}",
            config.dtype.as_str(),
            A::DTYPE
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    fn tiny_data() -> Mnist<f64> {
        let mut rng = rng_from_seed(3);
        let x: Array2<f64> = scratchnet_tensor::randn((40, INPUT), 0.5, &mut rng).mapv(f64::abs);
        let x = SparseRows::from_dense(&x);
        let t: Vec<usize> = (0..40).map(|k| k % OUTPUT).collect();
        Mnist {
            x_train: x.clone(),
            t_train: t.clone(),
            x_test: x,
            t_test: t,
        }
    }

    #[test]
    fn evaluates_at_every_epoch_boundary_counting_from_zero() {
        let data = tiny_data();
        let cfg = TrainConfig {
            grad: GradMethod::Backprop,
            batch: 10,
            iters: 9,
            ..Default::default()
        };
        let mut t = Trainer::new(cfg, &data).unwrap();
        assert_eq!(t.iter_per_epoch(), 4);
        while !t.is_finished() {
            t.step();
        }
        let its: Vec<(usize, usize)> = t
            .metrics()
            .accuracy
            .iter()
            .map(|r| (r.epoch, r.iteration))
            .collect();
        // i = 0, 4, 8 -> after steps 1, 5, 9
        assert_eq!(its, vec![(0, 1), (1, 5), (2, 9)]);
        assert_eq!(t.metrics().losses.len(), 9);
    }

    #[test]
    fn non_finite_loss_undoes_the_step() {
        let data = tiny_data();
        let cfg = TrainConfig {
            grad: GradMethod::Backprop,
            batch: 10,
            iters: 5,
            lr: 1e308,
            weight_init_std: 1.0,
            ..Default::default()
        };
        let mut t = Trainer::new(cfg, &data).unwrap();
        let mut before = t.checkpoint(0.0);
        loop {
            match t.step() {
                Step::Done { .. } => {
                    assert!(!t.is_finished(), "lr 1e308 should blow up within 5 steps");
                    before = t.checkpoint(0.0);
                }
                Step::NonFinite { loss } => {
                    assert!(!loss.is_finite());
                    break;
                }
            }
        }
        assert_eq!(t.checkpoint(0.0), before);
        assert!(t.net().params.all_finite());
    }

    #[test]
    fn checkpoint_continues_the_same_stream() {
        let data = tiny_data();
        let cfg = TrainConfig {
            grad: GradMethod::Backprop,
            batch: 10,
            iters: 12,
            ..Default::default()
        };
        let mut whole = Trainer::new(cfg.clone(), &data).unwrap();
        while !whole.is_finished() {
            whole.step();
        }
        let mut first = Trainer::new(cfg, &data).unwrap();
        for _ in 0..5 {
            first.step();
        }
        let mut second = Trainer::from_checkpoint(first.checkpoint(1.0), &data).unwrap();
        while !second.is_finished() {
            second.step();
        }
        assert_eq!(second.metrics(), whole.metrics());
        assert_eq!(second.net(), whole.net());
    }

    /// §4.5.3 written out, one thing after another, with no gradient computed ahead.
    fn notebook_loop(cfg: &TrainConfig, data: &Mnist<f64>) -> (Vec<f64>, TwoLayerNet<f64>) {
        let mut rng = rng_from_seed(cfg.seed);
        let mut net = TwoLayerNet::new(INPUT, cfg.hidden, OUTPUT, cfg.weight_init_std, &mut rng);
        let mut losses = Vec::new();
        for _ in 0..cfg.iters {
            let idx = scratchnet_mnist::random_batch(&mut rng, data.train_size(), cfg.batch);
            let x = data.x_train.gather_rows(&idx);
            let t: Vec<usize> = idx.iter().map(|&k| data.t_train[k]).collect();
            let g = match cfg.grad {
                GradMethod::Backprop => net.gradient_fused(&x, &t),
                GradMethod::Numeric => net.numerical_gradient_fast(&x, &t),
            };
            net.sgd_step(&g, cfg.lr);
            losses.push(net.loss_fused(&x, &t));
        }
        (losses, net)
    }

    #[test]
    fn steps_equal_the_notebook_loop_bit_for_bit() {
        let data = tiny_data();
        for (grad, iters) in [(GradMethod::Backprop, 9), (GradMethod::Numeric, 3)] {
            let cfg = TrainConfig {
                grad,
                batch: 10,
                iters,
                hidden: 6,
                weight_init_std: 0.1,
                lr: 0.5,
                ..Default::default()
            };
            let mut t = Trainer::new(cfg.clone(), &data).unwrap();
            while !t.is_finished() {
                t.step();
            }
            let (losses, net) = notebook_loop(&cfg, &data);
            assert_eq!(t.metrics().losses, losses, "{grad:?}");
            assert_eq!(*t.net(), net, "{grad:?}");
        }
    }

    #[test]
    fn batch_larger_than_the_data_is_refused() {
        let data = tiny_data();
        let cfg = TrainConfig {
            batch: 41,
            ..Default::default()
        };
        let e = Trainer::new(cfg, &data).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("batch 41"), "{e}");
    }
}
