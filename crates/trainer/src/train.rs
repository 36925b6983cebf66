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
/// use ndarray::Array2;
/// use scratchnet_trainer::{RunConfig, Schedule, SparseMnist, Step, Trainer};
/// // 20 synthetic 784-pixel "images" of 10 classes (real runs use `SparseMnist::load`).
/// let x = Array2::from_shape_fn((20, 784), |(i, j)| ((i * 7 + j) % 10 == i % 10) as u8 as f64);
/// let t: Vec<usize> = (0..20).map(|i| i % 10).collect();
/// let x = scratchnet_tensor::SparseRows::from_dense(&x);
/// let data = SparseMnist { x_train: x.clone(), t_train: t.clone(), x_test: x, t_test: t };
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
        if let Some(epochs) = config.schedule.epochs {
            config.schedule.iters = epochs.saturating_mul(config.iter_per_epoch(data.train_size()));
        }
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
    pub fn from_checkpoint(
        ck: Checkpoint<A>,
        data: &'d SparseMnist<A>,
    ) -> Result<Self, TrainError> {
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
        let expected = ck.config.net.sizes();
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
        config: RunConfig,
        data: &'d SparseMnist<A>,
        net: Net<A>,
        optimizer: AnyOptimizer<A>,
        rng: Rng,
        iters_done: usize,
        metrics: Metrics,
    ) -> Self {
        let iter_per_epoch = config.iter_per_epoch(data.train_size());
        Trainer {
            config,
            data,
            net,
            optimizer,
            rng,
            iters_done,
            metrics,
            iter_per_epoch,
        }
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

fn check_dtype<A: Scalar>(config: &RunConfig) -> Result<(), TrainError> {
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
    use crate::config::flags;
    use crate::config::{INPUT, OUTPUT};
    use ndarray::Array2;
    use scratchnet_network::optimizer::OptimizerKind;
    use scratchnet_network::{Gradient, MultiLayerNet, Tensors, TwoLayerNet, WeightInit};
    use scratchnet_tensor::SparseRows;

    fn tiny_data() -> SparseMnist<f64> {
        let mut rng = rng_from_seed(3);
        let x: Array2<f64> = scratchnet_tensor::randn((40, INPUT), 0.5, &mut rng).mapv(f64::abs);
        let x = SparseRows::from_dense(&x);
        let t: Vec<usize> = (0..40).map(|k| k % OUTPUT).collect();
        SparseMnist {
            x_train: x.clone(),
            t_train: t.clone(),
            x_test: x,
            t_test: t,
        }
    }

    #[test]
    fn evaluates_at_every_epoch_boundary_counting_from_zero() {
        let data = tiny_data();
        let cfg = flags("--grad backprop --batch 10 --iters 9").unwrap();
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
    fn deep(iters: usize, more: &str) -> RunConfig {
        let lr = if more.contains("--lr") {
            ""
        } else {
            "--lr 0.01"
        };
        flags(&format!(
            "--batch 10 --iters {iters} --hidden 7,5 --activation relu --init he \
             --optimizer adam {lr} {more}"
        ))
        .unwrap()
    }

    #[test]
    fn non_finite_loss_undoes_the_step_and_the_optimizer_state() {
        let data = tiny_data();
        let sgd = "--grad backprop --batch 10 --iters 5 --lr 1e308 --init 1";
        let momentum = flags(&format!("{sgd} --optimizer momentum")).unwrap();
        let sgd = flags(sgd).unwrap();
        let adam = deep(5, "--lr 1e308 --weight-decay 1e308");
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
        let ch4 = flags("--grad backprop --batch 10 --iters 12").unwrap();
        let ch4_adam = flags("--grad backprop --batch 10 --iters 12 --optimizer adam").unwrap();
        let bn_dropout = deep(12, "--batch-norm --dropout 0.3 --weight-decay 0.001");
        for cfg in [ch4, ch4_adam, deep(12, ""), bn_dropout] {
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
    fn notebook_loop(cfg: &RunConfig, data: &SparseMnist<f64>) -> (Vec<f64>, Tensors<f64>) {
        use scratchnet_network::optimizer::Optimizer;
        let mut rng = rng_from_seed(cfg.seed);
        let mut losses = Vec::new();
        let (iters, batch) = (cfg.schedule.iters, cfg.schedule.batch);
        let d = cfg.net.dense().unwrap();
        let hidden = &d.sizes[1..d.sizes.len() - 1];
        if cfg.net.is_two_layer_net() && cfg.optimizer.kind == OptimizerKind::Sgd {
            let WeightInit::Std(std) = cfg.net.init else {
                unreachable!()
            };
            let mut net = TwoLayerNet::new(INPUT, hidden[0], OUTPUT, std, &mut rng);
            for _ in 0..iters {
                let idx = scratchnet_mnist::random_batch(&mut rng, data.train_size(), batch);
                let x = data.x_train.gather_rows(&idx);
                let t: Vec<usize> = idx.iter().map(|&k| data.t_train[k]).collect();
                let g = match cfg.schedule.gradient {
                    Gradient::Backprop => net.gradient_fused(&x, &t),
                    _ => net.numerical_gradient_fast(&x, &t),
                };
                net.sgd_step(&g, cfg.optimizer.lr);
                losses.push(net.loss_fused(&x, &t));
            }
            return (losses, Tensors::from_views(net.params.named()));
        }
        let mut net =
            MultiLayerNet::new(INPUT, hidden, OUTPUT, d.activation, cfg.net.init, &mut rng)
                .with_weight_decay(cfg.net.weight_decay);
        if d.batch_norm {
            net = net.with_batch_norm();
        }
        if let Some(ratio) = d.dropout {
            net = net.with_dropout(ratio);
        }
        let mut opt = cfg.new_optimizer::<f64>();
        for _ in 0..iters {
            let idx = scratchnet_mnist::random_batch(&mut rng, data.train_size(), batch);
            let x = data.x_train.gather_rows(&idx);
            let t: Vec<usize> = idx.iter().map(|&k| data.t_train[k]).collect();
            let g = net.gradient_fast(&x, &t, &mut rng);
            net.update(&mut opt, &g);
            losses.push(net.loss_fast(&x, &t));
        }
        assert_eq!(opt.name(), cfg.optimizer.kind.as_str());
        assert!(opt.lr() > 0.0);
        (losses, Tensors::from_views(net.named_tensors()))
    }

    #[test]
    fn steps_equal_the_notebook_loop_bit_for_bit() {
        let data = tiny_data();
        let ch4 = |grad, iters| {
            flags(&format!(
                "--grad {grad} --batch 10 --iters {iters} --hidden 6 --init 0.1 --lr 0.5"
            ))
            .unwrap()
        };
        let deep_sigmoid_decay = flags(
            "--batch 10 --iters 7 --hidden 7,5 --init xavier --optimizer momentum --lr 0.01 \
             --weight-decay 0.01",
        )
        .unwrap();
        let bn_dropout = deep(9, "--batch-norm --dropout 0.2");
        for cfg in [
            ch4("backprop", 9),
            ch4("numeric", 3),
            deep(9, ""),
            deep_sigmoid_decay,
            bn_dropout,
        ] {
            let mut t = Trainer::new(cfg.clone(), &data).unwrap();
            while !t.is_finished() {
                t.step();
            }
            let (losses, net) = notebook_loop(&cfg, &data);
            assert_eq!(t.metrics().losses, losses, "{cfg:?}");
            assert_eq!(t.net().params(), net, "{cfg:?}");
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
                let cfg = deep(8, "--batch-norm --dropout 0.1");
                let mut t = Trainer::new(cfg, &data).unwrap();
                while !t.is_finished() {
                    t.step();
                }
                (t.metrics().clone(), t.net().clone())
            })
        };
        assert_eq!(run(1), run(3));
    }

    /// `--shift`: the shifts come from the run's RNG after each batch, so a run with them is
    /// the same on 1 and 3 threads and on a second run, differs from the run without, and a
    /// net trained on shifted images equals one trained step by step on the shifts drawn by
    /// hand.
    #[test]
    fn shifted_runs_are_reproducible_and_train_on_the_shifted_images() {
        let data = tiny_data();
        let cfg = |shift: usize| deep(6, &format!("--shift {shift}"));
        let run = |shift: usize, threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                let mut t = Trainer::new(cfg(shift), &data).unwrap();
                while !t.is_finished() {
                    t.step();
                }
                (t.metrics().losses.clone(), t.net().params())
            })
        };
        let shifted = run(2, 1);
        assert_eq!(shifted, run(2, 3));
        assert_ne!(shifted.0, run(0, 1).0);
        // by hand: draw the batch, then its shifts, then the gradient, with one RNG
        let c = cfg(2);
        let mut rng = rng_from_seed(c.seed);
        let mut net = c.new_net::<f64>(&mut rng).unwrap();
        let mut opt = c.new_optimizer::<f64>();
        let mut losses = Vec::new();
        for _ in 0..c.schedule.iters {
            let idx = scratchnet_mnist::random_batch(&mut rng, data.train_size(), c.schedule.batch);
            let x = data.x_train.gather_rows(&idx);
            let x = scratchnet_mnist::random_shifts(&mut rng, &x, 28, 28, 2);
            let t: Vec<usize> = idx.iter().map(|&k| data.t_train[k]).collect();
            let g = net.gradient(&x, &t, &mut rng);
            net.update(&mut opt, &g);
            losses.push(net.loss(&x, &t).as_f64());
        }
        assert_eq!((losses, net.params()), shifted);
    }

    #[test]
    fn batch_larger_than_the_data_is_refused() {
        let data = tiny_data();
        let cfg = flags("--batch 41").unwrap();
        let e = Trainer::new(cfg, &data).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("batch 41"), "{e}");
    }
}
