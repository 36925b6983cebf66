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
use scratchnet_network::{
    Grads, Model, MultiLayerGrads, MultiLayerNet, Params, RunningUpdate, Workspace,
};
use scratchnet_tensor::{Rng, RngState, Scalar, SparseRows, rng_from_seed};

use crate::{AccuracyRow, Checkpoint, GradMethod, Metrics, Mnist, TrainConfig, TrainError};

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

/// The gradient of the next step, where it is kept.
#[derive(Debug)]
enum Gradient<A> {
    /// In the trainer's [`Workspace`] (the chapter 4 net's backprop).
    Workspace,
    /// The chapter 4 net's numerical gradient.
    TwoLayer(Grads<A>),
    /// A multi-layer net's gradient and the batch-norm running statistics of its forward pass.
    MultiLayer(MultiLayerGrads<A>, RunningUpdate<A>),
}

/// The state of a run in memory: network, optimizer, RNG, step count and histories.
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
    net: Model<A>,
    optimizer: AnyOptimizer<A>,
    /// The chapter 4 net with SGD: the other half of a double buffer (SGD writes the new
    /// parameters here and the two are swapped, so the previous parameters survive a step whose
    /// loss is not finite). Any other run: a copy of the net and optimizer from before the step.
    spare: Option<Params<A>>,
    before: Option<(Model<A>, AnyOptimizer<A>)>,
    /// Buffers of the chapter 4 net's backward pass, reused by every step.
    workspace: Workspace<A>,
    /// Draws the mini-batches; it may be one batch ahead of `committed`.
    rng: Rng,
    /// The RNG state after the batches of the steps done: what a checkpoint records.
    committed: RngState,
    /// The next step's batch, drawn with `rng` after `committed`, and whether its gradient for
    /// the current parameters is ready (in `gradient`).
    ahead: Batch<A>,
    ready: bool,
    gradient: Gradient<A>,
    /// A multi-layer net's last gradient, once applied: its memory takes the next one.
    spent: Option<MultiLayerGrads<A>>,
    iters_done: usize,
    metrics: Metrics,
    iter_per_epoch: usize,
    lr: A,
    /// The batch of the current step, gathered into the same memory every other step.
    current: Batch<A>,
}

impl<'d, A: Scalar> Trainer<'d, A> {
    /// A fresh run: validates `config` against the data, seeds the RNG and draws the initial
    /// weights from it ([`TrainConfig::new_net`]: layer by layer, W1 first).
    pub fn new(config: TrainConfig, data: &'d Mnist<A>) -> Result<Self, TrainError> {
        config.validate_for(data.train_size())?;
        check_dtype::<A>(&config)?;
        let mut rng = rng_from_seed(config.seed);
        let net = config.new_net::<A>(&mut rng)?;
        let optimizer = config.new_optimizer();
        Ok(Self::assemble(
            config,
            data,
            net,
            optimizer,
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
        let sizes = ck.net.sizes();
        let expected = ck.config.sizes();
        if sizes != expected {
            let dashed = |v: &[usize]| v.iter().map(usize::to_string).collect::<Vec<_>>().join("-");
            return Err(TrainError::Usage(format!(
                "the checkpoint's network is {}, expected {}",
                dashed(&sizes),
                dashed(&expected)
            )));
        }
        Ok(Self::assemble(
            ck.config,
            data,
            ck.net,
            ck.optimizer,
            ck.rng.restore(),
            ck.iters_done,
            ck.metrics,
        ))
    }

    fn assemble(
        config: TrainConfig,
        data: &'d Mnist<A>,
        net: Model<A>,
        optimizer: AnyOptimizer<A>,
        rng: Rng,
        iters_done: usize,
        metrics: Metrics,
    ) -> Self {
        let iter_per_epoch = config.iter_per_epoch(data.train_size());
        let (spare, before) = match (&net, &optimizer) {
            (Model::TwoLayer(n), AnyOptimizer::Sgd(_)) => (Some(n.params.clone()), None),
            _ => (None, Some((net.clone(), optimizer.clone()))),
        };
        let lr = A::of_f64(config.lr);
        Trainer {
            config,
            data,
            net,
            optimizer,
            spare,
            before,
            workspace: Workspace::new(),
            committed: RngState::of(&rng),
            rng,
            ahead: Batch::new(),
            ready: false,
            gradient: Gradient::Workspace,
            spent: None,
            iters_done,
            metrics,
            iter_per_epoch,
            lr,
            current: Batch::new(),
        }
    }

    /// One iteration: draw a batch with replacement, compute the gradient, take the optimizer
    /// step, record the batch loss after it, and at an epoch boundary (`i % iter_per_epoch ==
    /// 0`, `i` counted from 0) evaluate the full train and test sets.
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
        self.apply_gradient();
        let more = i + 1 < self.config.iters;
        let loss = {
            let Self {
                net,
                current,
                ahead,
                rng,
                workspace,
                gradient: pending,
                spent,
                data,
                config,
                ..
            } = self;
            let (loss, ()) = rayon::join(
                || net.loss_fast(&current.x, &current.t).as_f64(),
                || {
                    if more {
                        ahead.draw(rng, data, config.batch);
                        *pending = gradient(net, ahead, config, workspace, rng, spent.take());
                    }
                },
            );
            loss
        };
        if !loss.is_finite() {
            self.undo();
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

    /// The optimizer step from the pending gradient, keeping what [`undo`](Self::undo) needs.
    fn apply_gradient(&mut self) {
        if let Some((net, opt)) = &mut self.before {
            net.clone_from(&self.net);
            opt.clone_from(&self.optimizer);
        }
        // the gradient is used once: the next one replaces it
        let pending = std::mem::replace(&mut self.gradient, Gradient::Workspace);
        match (&mut self.net, pending) {
            (Model::TwoLayer(net), pending) => {
                let grads = match &pending {
                    Gradient::Workspace => self.workspace.grads(),
                    Gradient::TwoLayer(g) => g,
                    Gradient::MultiLayer(..) => unreachable!("a chapter 4 net's gradient"),
                };
                match &mut self.spare {
                    Some(spare) => {
                        net.params.sgd_step_into(grads, self.lr, spare);
                        std::mem::swap(&mut net.params, spare);
                    }
                    None => net.params.update(&mut self.optimizer, grads),
                }
            }
            // the book's order: the forward pass of the gradient moves the running statistics,
            // then the optimizer moves the parameters
            (Model::MultiLayer(net), Gradient::MultiLayer(g, running)) => {
                net.apply_running(running);
                net.update(&mut self.optimizer, &g);
                self.spent = Some(g);
            }
            (Model::MultiLayer(_), _) => unreachable!("a multi-layer net has its own gradient"),
        }
    }

    /// Puts back the net and optimizer of before the last [`apply_gradient`](Self::apply_gradient).
    fn undo(&mut self) {
        match (&mut self.net, &mut self.spare, &self.before) {
            (Model::TwoLayer(net), Some(spare), _) => std::mem::swap(&mut net.params, spare),
            (_, _, Some((net, opt))) => {
                self.net.clone_from(net);
                self.optimizer.clone_from(opt);
            }
            _ => unreachable!("every run keeps what undoes its step"),
        }
    }

    /// Draws this step's batch into `current` and computes its gradient, when no earlier step
    /// did it ahead (the first step of a session, or after a non-finite loss).
    fn draw_batch_and_gradient(&mut self) {
        self.current
            .draw(&mut self.rng, self.data, self.config.batch);
        self.gradient = gradient(
            &self.net,
            &self.current,
            &self.config,
            &mut self.workspace,
            &mut self.rng,
            self.spent.take(),
        );
    }

    /// Accuracy of the current network on the full training and test sets.
    pub fn evaluate(&self) -> (f64, f64) {
        (
            self.net
                .accuracy_fast(&self.data.x_train, &self.data.t_train),
            self.net.accuracy_fast(&self.data.x_test, &self.data.t_test),
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
    pub fn net(&self) -> &Model<A> {
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
            rng: self.committed,
            net: self.net.clone(),
            optimizer: self.optimizer.clone(),
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

/// The gradient of `batch` by the configured method: the chapter 4 net's backprop into `ws`,
/// or a gradient returned.
fn gradient<A: Scalar>(
    net: &Model<A>,
    batch: &Batch<A>,
    config: &TrainConfig,
    ws: &mut Workspace<A>,
    rng: &mut Rng,
    spent: Option<MultiLayerGrads<A>>,
) -> Gradient<A> {
    match (net, config.grad) {
        (Model::TwoLayer(net), GradMethod::Backprop) => {
            net.gradient_in(&batch.x, &batch.t, ws);
            Gradient::Workspace
        }
        (Model::TwoLayer(net), GradMethod::Numeric) => Gradient::TwoLayer(
            net.numerical_gradient_with(&batch.x, &batch.t, config.numgrad.strategy()),
        ),
        (Model::MultiLayer(net), GradMethod::Backprop) => {
            let (g, running) = match spent {
                Some(spent) => net.gradient_fast_reusing(&batch.x, &batch.t, rng, spent),
                None => net.gradient_fast_detached(&batch.x, &batch.t, rng),
            };
            Gradient::MultiLayer(g, running)
        }
        (Model::MultiLayer(net), GradMethod::Numeric) => numerical(net, batch, rng),
    }
}

/// The book's numerical gradient of a multi-layer net (two full forward passes per parameter),
/// with the running statistics a training forward pass leaves (the numerical gradient itself
/// moves none).
fn numerical<A: Scalar>(net: &MultiLayerNet<A>, batch: &Batch<A>, rng: &mut Rng) -> Gradient<A> {
    // the forward pass draws the same masks as the numerical gradient
    let mut again = RngState::of(rng).restore();
    let g = net.numerical_gradient(&batch.x, &batch.t, rng);
    let (_, running) = net.gradient_fast_detached(&batch.x, &batch.t, &mut again);
    Gradient::MultiLayer(g, running)
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
    use crate::OptimizerKind;
    use crate::config::{INPUT, OUTPUT};
    use ndarray::Array2;
    use scratchnet_network::{Activation, TwoLayerNet, WeightInit};

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

    /// A chapter 6 configuration: two ReLU layers, He weights, Adam.
    fn deep(iters: usize) -> TrainConfig {
        TrainConfig {
            grad: GradMethod::Backprop,
            numgrad: crate::NumGradMethod::Generic,
            batch: 10,
            iters,
            hidden: vec![7, 5],
            activation: Activation::Relu,
            init: WeightInit::He,
            optimizer: OptimizerKind::Adam,
            lr: 0.01,
            ..Default::default()
        }
    }

    #[test]
    fn non_finite_loss_undoes_the_step_and_the_optimizer_state() {
        let data = tiny_data();
        let sgd = TrainConfig {
            grad: GradMethod::Backprop,
            batch: 10,
            iters: 5,
            lr: 1e308,
            init: WeightInit::Std(1.0),
            ..Default::default()
        };
        let momentum = TrainConfig {
            optimizer: OptimizerKind::Momentum,
            ..sgd.clone()
        };
        let adam = TrainConfig {
            lr: 1e308,
            weight_decay: 1e308,
            ..deep(5)
        };
        for cfg in [sgd, momentum, adam] {
            let mut t = Trainer::new(cfg.clone(), &data).unwrap();
            let mut before = t.checkpoint(0.0);
            loop {
                match t.step() {
                    Step::Done { .. } => {
                        assert!(!t.is_finished(), "{cfg:?} should blow up within 5 steps");
                        before = t.checkpoint(0.0);
                    }
                    Step::NonFinite { loss } => {
                        assert!(!loss.is_finite());
                        break;
                    }
                }
            }
            assert_eq!(t.checkpoint(0.0), before);
            assert!(t.net().all_finite());
        }
    }

    #[test]
    fn checkpoint_continues_the_same_stream() {
        let data = tiny_data();
        let ch4 = TrainConfig {
            grad: GradMethod::Backprop,
            batch: 10,
            iters: 12,
            ..Default::default()
        };
        let ch4_adam = TrainConfig {
            optimizer: OptimizerKind::Adam,
            lr: 0.001,
            ..ch4.clone()
        };
        let bn_dropout = TrainConfig {
            batch_norm: true,
            dropout: Some(0.3),
            weight_decay: 0.001,
            ..deep(12)
        };
        for cfg in [ch4, ch4_adam, deep(12), bn_dropout] {
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
            assert_eq!(second.optimizer(), whole.optimizer());
        }
    }

    /// §4.5.3 written out, one thing after another, with no gradient computed ahead, for the
    /// chapter 4 net or (chapter 6) a multi-layer net and the configured optimizer.
    fn notebook_loop(cfg: &TrainConfig, data: &Mnist<f64>) -> (Vec<f64>, Model<f64>) {
        use scratchnet_network::optimizer::Optimizer;
        let mut rng = rng_from_seed(cfg.seed);
        let mut losses = Vec::new();
        if cfg.is_chapter4() && cfg.optimizer == OptimizerKind::Sgd {
            let WeightInit::Std(std) = cfg.init else {
                unreachable!()
            };
            let mut net = TwoLayerNet::new(INPUT, cfg.hidden[0], OUTPUT, std, &mut rng);
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
            return (losses, Model::TwoLayer(net));
        }
        let mut net = MultiLayerNet::new(
            INPUT,
            &cfg.hidden,
            OUTPUT,
            cfg.activation,
            cfg.init,
            &mut rng,
        )
        .with_weight_decay(cfg.weight_decay);
        if cfg.batch_norm {
            net = net.with_batch_norm();
        }
        if let Some(ratio) = cfg.dropout {
            net = net.with_dropout(ratio);
        }
        let mut opt = cfg.new_optimizer::<f64>();
        for _ in 0..cfg.iters {
            let idx = scratchnet_mnist::random_batch(&mut rng, data.train_size(), cfg.batch);
            let x = data.x_train.gather_rows(&idx);
            let t: Vec<usize> = idx.iter().map(|&k| data.t_train[k]).collect();
            let g = net.gradient_fast(&x, &t, &mut rng);
            net.update(&mut opt, &g);
            losses.push(net.loss_fast(&x, &t));
        }
        assert_eq!(opt.name(), cfg.optimizer.as_str());
        assert!(opt.lr() > 0.0);
        (losses, Model::MultiLayer(net))
    }

    #[test]
    fn steps_equal_the_notebook_loop_bit_for_bit() {
        let data = tiny_data();
        let ch4 = |grad, iters| TrainConfig {
            grad,
            batch: 10,
            iters,
            hidden: vec![6],
            init: WeightInit::Std(0.1),
            lr: 0.5,
            ..Default::default()
        };
        let deep_sigmoid_decay = TrainConfig {
            activation: Activation::Sigmoid,
            init: WeightInit::Xavier,
            optimizer: OptimizerKind::Momentum,
            weight_decay: 0.01,
            ..deep(7)
        };
        let bn_dropout = TrainConfig {
            batch_norm: true,
            dropout: Some(0.2),
            ..deep(9)
        };
        for cfg in [
            ch4(GradMethod::Backprop, 9),
            ch4(GradMethod::Numeric, 3),
            deep(9),
            deep_sigmoid_decay,
            bn_dropout,
        ] {
            let mut t = Trainer::new(cfg.clone(), &data).unwrap();
            while !t.is_finished() {
                t.step();
            }
            let (losses, net) = notebook_loop(&cfg, &data);
            assert_eq!(t.metrics().losses, losses, "{cfg:?}");
            assert_eq!(*t.net(), net, "{cfg:?}");
        }
    }

    #[test]
    fn a_run_is_the_same_on_one_thread_and_on_three() {
        let data = tiny_data();
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                let cfg = TrainConfig {
                    batch_norm: true,
                    dropout: Some(0.1),
                    ..deep(8)
                };
                let mut t = Trainer::new(cfg, &data).unwrap();
                while !t.is_finished() {
                    t.step();
                }
                (t.metrics().clone(), t.net().clone())
            })
        };
        assert_eq!(run(1), run(3));
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
