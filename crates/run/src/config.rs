//! A run's configuration, [`RunConfig`]: the network's spec, the optimizer's config, the
//! schedule, the data choice, the seed and the dtype, with the notebook's values as defaults,
//! and the checks every value passes.

use std::borrow::Cow;

use scratchnet_mnist::{MnistError, SparseMnist};
use serde::{Deserialize, Serialize};

use scratchnet_network::optimizer::{AnyOptimizer, OptimizerConfig, OptimizerKind};
use scratchnet_network::{Activation, Gradient, ModelError, Net, NetSpec, WeightInit};
use scratchnet_tensor::{Rng, Scalar};

use crate::TrainError;

/// The element type of every array of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dtype {
    /// 64-bit floats, as NumPy computes the notebook.
    F64,
    /// 32-bit floats: about twice the matrix-product speed.
    F32,
}

impl Dtype {
    /// `"f64"` or `"f32"`, as [`scratchnet_tensor::Scalar::DTYPE`].
    ///
    /// ```
    /// assert_eq!(scratchnet_run::Dtype::F32.as_str(), "f32");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Dtype::F64 => "f64",
            Dtype::F32 => "f32",
        }
    }

    /// The dtype named `s` (`"f32"` or `"f64"`), e.g. from a model file header.
    pub fn parse(s: &str) -> Option<Self> {
        [Dtype::F64, Dtype::F32]
            .into_iter()
            .find(|d| d.as_str() == s)
    }
}

/// The seed used when `--seed` is not given: runs are reproducible by default.
pub const DEFAULT_SEED: u64 = 42;

/// How long a run trains and how: §4.5.3's `iters_num` and `batch_size`, the gradient method,
/// and the book's `Trainer` options (epochs, `evaluate_sample_num_per_epoch`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Schedule {
    /// Number of iterations (`iters_num`); with `epochs`, set from it when the run starts.
    pub iters: usize,
    /// Mini-batch size, drawn with replacement (`batch_size`).
    pub batch: usize,
    /// How the gradient of each mini-batch is computed.
    pub gradient: Gradient,
    /// Train this many epochs (`iters` = epochs × iterations per epoch), as the book's
    /// `Trainer(epochs=…)`.
    #[serde(default)]
    pub epochs: Option<usize>,
    /// Evaluate each epoch on the first this many training and test images, and on the full
    /// test set at the end; none: the full sets every epoch.
    #[serde(default)]
    pub eval_samples: Option<usize>,
}

/// Which images a run trains and evaluates on.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DataChoice {
    /// Train on the first this many training images only, or on all.
    #[serde(default)]
    pub train_first: Option<usize>,
    /// Hold out this fraction of them, shuffled by the seed, and evaluate on it instead of the
    /// test set (§6.5.1).
    #[serde(default)]
    pub validation: Option<f64>,
    /// Data augmentation (§8.1.3): each training image of each batch moved by up to this many
    /// pixels in each direction; 0 for none.
    #[serde(default)]
    pub shift: usize,
}

/// What to train and how, every default resolved: the one copy of a run's settings.
/// `scratchnet train`'s flags resolve into it; `summary.json` and `checkpoint.bin` store it
/// (their older, flat form is read by the legacy module).
///
/// ```
/// let c = scratchnet_run::RunConfig::default();
/// assert_eq!((c.schedule.iters, c.schedule.batch, c.optimizer.lr), (10_000, 100, 0.1));
/// assert_eq!(c.net.to_string(), "affine 50, sigmoid, affine 10");
/// assert_eq!(c.iter_per_epoch(60_000), 600);
/// c.validate().unwrap();
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunConfig {
    /// The network: its layers, weight init and weight decay.
    pub net: NetSpec,
    /// The optimizer and its hyper-parameters.
    pub optimizer: OptimizerConfig,
    /// Iterations, batch size, gradient method, evaluation.
    pub schedule: Schedule,
    /// Which images.
    #[serde(default)]
    pub data: DataChoice,
    /// Seed of the RNG that draws the initial weights, every mini-batch and dropout mask, and
    /// the validation split.
    pub seed: u64,
    /// Element type of all arrays.
    pub dtype: Dtype,
}

impl Default for RunConfig {
    /// The notebook's §4.5.3: `TwoLayerNet(784, 50, 10)`, SGD with lr 0.1, 10 000 iterations of
    /// batch 100, the numerical gradient, f64, seed 42.
    fn default() -> Self {
        RunConfig {
            net: mnist_mlp(
                &[50],
                Activation::Sigmoid,
                WeightInit::Std(0.01),
                0.0,
                None,
                false,
            ),
            optimizer: OptimizerConfig::new(OptimizerKind::Sgd).with_lr(0.1),
            schedule: Schedule {
                iters: 10_000,
                batch: 100,
                gradient: Gradient::Numerical,
                epochs: None,
                eval_samples: None,
            },
            data: DataChoice::default(),
            seed: DEFAULT_SEED,
            dtype: Dtype::F64,
        }
    }
}

/// The book's `MultiLayerNetExtend` over MNIST's 784 inputs and 10 classes.
pub(crate) fn mnist_mlp(
    hidden: &[usize],
    activation: Activation,
    init: WeightInit,
    weight_decay: f64,
    dropout: Option<f64>,
    batch_norm: bool,
) -> NetSpec {
    let (i, o) = (INPUT, OUTPUT);
    NetSpec::multi_layer_net_extend(
        i,
        hidden,
        o,
        activation,
        init,
        weight_decay,
        dropout,
        batch_norm,
    )
}

use scratchnet_mnist::{CLASSES as OUTPUT, IMAGE_PIXELS as INPUT};

/// The memory a run may use: three quarters of the machine's (from `/proc/meminfo`), or 16 GiB
/// where that cannot be read.
fn memory_budget() -> u128 {
    let total_kib = std::fs::read_to_string("/proc/meminfo").ok().and_then(|t| {
        t.lines()
            .find(|l| l.starts_with("MemTotal:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u128>().ok())
    });
    match total_kib {
        Some(k) if k > 0 => k * 1024 / 4 * 3,
        _ => 16 << 30,
    }
}

/// `bytes` for a person: `3.5 TB`, `620 MB`.
fn fmt_bytes(bytes: u128) -> String {
    let b = bytes as f64;
    if b >= 1e15 {
        format!("{b:.0e} bytes")
    } else if b >= 1e12 {
        format!("{:.1} TB", b / 1e12)
    } else if b >= 1e9 {
        format!("{:.1} GB", b / 1e9)
    } else {
        format!("{:.0} MB", b / 1e6)
    }
}

/// Checks that a net of `spec` on batches of `batch` fits in the machine's memory (as a run's
/// validation does; for `gradcheck`, which runs no training).
///
/// ```
/// use scratchnet_network::NetSpec;
/// let huge = NetSpec::two_layer_net(784, 1 << 40, 10, 0.01);
/// let e = scratchnet_run::check_net_memory(&huge, 3, scratchnet_run::Dtype::F64).unwrap_err();
/// assert!(e.to_string().starts_with("hidden "), "{e}");
/// ```
pub fn check_net_memory(spec: &NetSpec, batch: usize, dtype: Dtype) -> Result<(), TrainError> {
    let scalar = if dtype == Dtype::F64 { 8 } else { 4 };
    let (need, have) = (
        spec.memory_estimate(batch, scalar) + (256 << 20),
        memory_budget(),
    );
    if need > have {
        return Err(TrainError::config(
            if spec.dense().is_ok() {
                "hidden"
            } else {
                "net"
            },
            format!(
                "{spec} needs about {} of memory (batch {batch}), more than the {} this machine can give a run",
                fmt_bytes(need),
                fmt_bytes(have)
            ),
        ));
    }
    Ok(())
}

/// The sets of `data` a run or a search trains and evaluates on ([`SparseMnist::subset`]); an
/// error names the field.
pub(crate) fn subset<A: Scalar>(
    data: &SparseMnist<A>,
    first: Option<usize>,
    validation: Option<f64>,
    seed: u64,
) -> Result<Cow<'_, SparseMnist<A>>, TrainError> {
    data.subset(first, validation, seed).map_err(|e| match e {
        MnistError::InvalidOption {
            name: "train_size",
            reason,
        } => TrainError::config("train_size", reason),
        MnistError::InvalidOption { reason, .. } => TrainError::config("validation", reason),
        e => TrainError::Data(e),
    })
}

impl RunConfig {
    /// The sets of `data` this run trains and evaluates on: its [`DataChoice`] (the first N
    /// images, the validation split of its seed), borrowed when it takes them all.
    ///
    /// ```
    /// let data = scratchnet_mnist::SparseMnist::<f32>::toy(10);
    /// let mut c = scratchnet_run::RunConfig::default();
    /// c.data.validation = Some(0.2);
    /// let sets = c.data_of(&data)?;
    /// assert_eq!((sets.train_size(), sets.test_size()), (8, 2));
    /// # Ok::<(), scratchnet_run::TrainError>(())
    /// ```
    pub fn data_of<'d, A: Scalar>(
        &self,
        data: &'d SparseMnist<A>,
    ) -> Result<Cow<'d, SparseMnist<A>>, TrainError> {
        let d = &self.data;
        subset(data, d.train_first, d.validation, self.seed)
    }
    /// Bytes a run of this configuration needs, roughly: the parameters in eight copies (the
    /// network, its double buffer, the gradient, a numerical gradient, two optimizer moments, a
    /// checkpoint and a model being written), the batch's activations in six copies, a block
    /// of evaluation rows per thread and 256 MiB for the data and the rest. Exact arithmetic:
    /// any sizes give a number.
    pub fn memory_estimate(&self) -> u128 {
        let b = self.schedule.batch as u128;
        let scalar: u128 = match self.dtype {
            Dtype::F64 => 8,
            Dtype::F32 => 4,
        };
        let Ok(dense) = self.net.dense() else {
            return self
                .net
                .memory_estimate(self.schedule.batch, scalar as usize)
                + (256 << 20);
        };
        let sizes: Vec<u128> = dense.sizes.iter().map(|&n| n as u128).collect();
        let params: u128 = sizes.windows(2).map(|io| io[0] * io[1] + io[1]).sum();
        let units: u128 = sizes[1..sizes.len() - 1].iter().sum();
        // evaluation: blocks of 256 rows (the network crate's), one per thread at a time, each
        // layer's output in about three copies
        let eval = 3 * 256 * units * rayon::current_num_threads() as u128;
        scalar * (8 * params + 6 * b * units + eval) + (256 << 20)
    }

    /// The set the run evaluates on besides the training set.
    pub fn held_out(&self) -> crate::HeldOut {
        match self.data.validation {
            Some(_) => crate::HeldOut::Validation,
            None => crate::HeldOut::Test,
        }
    }

    /// The configured optimizer, with its hyper-parameters and an empty state.
    pub fn new_optimizer<A>(&self) -> AnyOptimizer<A> {
        self.optimizer.build()
    }

    /// The initial network, its weights drawn from `rng` as the book draws them.
    ///
    /// # Errors
    /// [`TrainError::Config`] naming `init` if the weights drawn are not finite in `A`.
    pub fn new_net<A: Scalar>(&self, rng: &mut Rng) -> Result<Net<A>, TrainError> {
        Net::new(self.net.clone(), rng).map_err(|e| {
            TrainError::config(
                "init",
                match e {
                    ModelError::Spec(m) => m,
                    e => e.to_string(),
                },
            )
        })
    }

    /// Checks everything that does not need the data: the learning rate finite and > 0, the
    /// init σ and λ finite and >= 0 (also in the run's dtype), momentum, β and decay rates and
    /// the dropout ratio in [0, 1), sizes and counts at least 1, at most
    /// 64 hidden layers, and the memory within what this machine holds.
    /// Errors name the field; the command line names its flag.
    ///
    /// ```
    /// use scratchnet_run::{Dtype, RunConfig};
    /// let mut bad = RunConfig::default();
    /// bad.optimizer.lr = f64::NAN;
    /// assert_eq!(bad.validate().unwrap_err().to_string(), "lr must be a finite number > 0, got NaN");
    /// let mut tiny = RunConfig { dtype: Dtype::F32, ..Default::default() };
    /// tiny.optimizer.lr = 1e-50;
    /// assert!(tiny.validate().is_err()); // rounds to 0 in f32
    /// ```
    pub fn validate(&self) -> Result<(), TrainError> {
        let (o, net) = (&self.optimizer, &self.net);
        check_lr(o.lr).map_err(|p| TrainError::config("lr", p))?;
        let std = match net.init {
            WeightInit::Std(std) => std,
            _ => 0.0,
        };
        check_weight_init_std(std).map_err(|p| TrainError::config("init", p))?;
        check_weight_init_std(net.weight_decay)
            .map_err(|p| TrainError::config("weight_decay", p))?;
        if let Some(v) = self.data.validation {
            check_fraction(v).map_err(|p| TrainError::config("validation", p))?;
        }
        if self.data.shift > 27 {
            return Err(TrainError::config(
                "shift",
                format!(
                    "must be at most 27 (pixels of a 28×28 image), got {}",
                    self.data.shift
                ),
            ));
        }
        if self.data.train_first == Some(0) {
            return Err(TrainError::config(
                "train_size",
                "must be at least 1, got 0",
            ));
        }
        let dense = net.dense().ok();
        for (name, v) in [
            (
                "dropout",
                dense.as_ref().and_then(|d| d.dropout).unwrap_or(0.0),
            ),
            ("momentum", o.momentum),
            ("beta1", o.beta1),
            ("beta2", o.beta2),
            ("decay_rate", o.decay_rate),
        ] {
            check_unit(v).map_err(|p| TrainError::config(name, p))?;
        }
        if self.dtype == Dtype::F32 {
            // A value fine in f64 may round to 0 or overflow to infinity in f32.
            let lr = o.lr as f32;
            if !(lr.is_finite() && lr > 0.0) {
                return Err(TrainError::config(
                    "lr",
                    format!(
                        "{} is {lr:e} in f32; it must be a finite number > 0",
                        fmt_num(o.lr)
                    ),
                ));
            }
            for (name, v) in [("init", std), ("weight_decay", net.weight_decay)] {
                if !(v as f32).is_finite() {
                    return Err(TrainError::config(
                        name,
                        format!("{} overflows f32", fmt_num(v)),
                    ));
                }
            }
        }
        match &dense {
            Some(d) if d.sizes.len() > MAX_HIDDEN_LAYERS + 2 => {
                return Err(TrainError::config(
                    "hidden",
                    format!(
                        "has {} layers; at most {MAX_HIDDEN_LAYERS} are accepted",
                        d.sizes.len() - 2
                    ),
                ));
            }
            Some(d) if d.sizes.len() < 3 || d.sizes.contains(&0) => {
                return Err(TrainError::config("hidden", "must be at least 1, got 0"));
            }
            Some(_) => {}
            None => net
                .validate()
                .map_err(|e| TrainError::config("net", e.to_string()))?,
        }
        for (name, v) in [
            ("batch", self.schedule.batch),
            ("iters", self.schedule.iters),
        ] {
            if v == 0 {
                return Err(TrainError::config(name, "must be at least 1, got 0"));
            }
        }
        self.check_memory(1)
    }

    /// The hidden widths of a fully connected net, `100,100` (empty for any other).
    fn hidden(&self) -> Vec<usize> {
        self.net
            .dense()
            .map(|d| d.sizes[1..d.sizes.len() - 1].to_vec())
            .unwrap_or_default()
    }

    /// Checks that `runs` runs of this configuration at once fit in the machine's memory (a
    /// search runs one per thread).
    ///
    /// ```
    /// let c = scratchnet_run::RunConfig::default();
    /// c.check_memory(2).unwrap();
    /// assert!(c.check_memory(usize::MAX).is_err());
    /// ```
    pub fn check_memory(&self, runs: usize) -> Result<(), TrainError> {
        let hidden = self.hidden();
        let widest = hidden.iter().copied().max().unwrap_or(0);
        let batch = self.schedule.batch;
        let (need, have) = (
            self.memory_estimate().saturating_mul(runs as u128),
            memory_budget(),
        );
        if need > have {
            let (field, value) = if batch as u128 > widest as u128 * INPUT as u128 {
                ("batch", batch.to_string())
            } else {
                ("hidden", hidden_list(&hidden))
            };
            let at_once = if runs > 1 {
                format!(" for {runs} trials at once (one per thread; --threads fewer)")
            } else {
                String::new()
            };
            return Err(TrainError::config(
                field,
                format!(
                    "{value} needs about {} of memory (hidden {}, batch {batch}){at_once}, more than the {} this machine can give a run",
                    fmt_bytes(need),
                    hidden_list(&hidden),
                    fmt_bytes(have)
                ),
            ));
        }
        Ok(())
    }

    /// Checks the batch size against the training-set size (`np.random.choice` could draw a
    /// larger batch with replacement, but then an "epoch" is less than one iteration).
    pub fn validate_for(&self, train_size: usize) -> Result<(), TrainError> {
        self.validate()?;
        if self.schedule.batch > train_size {
            return Err(TrainError::config(
                "batch",
                format!(
                    "{} is larger than the training set ({train_size} images)",
                    self.schedule.batch
                ),
            ));
        }
        Ok(())
    }

    /// Iterations per epoch, `max(train_size / batch, 1)` in integer division: 600 for MNIST
    /// and batch 100, hence 17 evaluations in 10 000 iterations. (The notebook computes it
    /// before `train_size` is assigned in that cell, from an earlier cell's value.)
    pub fn iter_per_epoch(&self, train_size: usize) -> usize {
        (train_size / self.schedule.batch.max(1)).max(1)
    }

    /// Short description for banners and plot titles: `numeric (fast), f64, hidden 50, batch
    /// 100, lr 0.1` for the notebook's network and optimizer, with what differs from them after
    /// the hidden sizes (numbers in a compact form: `lr 3e38`, not 39 digits).
    ///
    /// ```
    /// let c = scratchnet_run::RunConfig::default();
    /// assert_eq!(c.describe(), "numeric (fast), f64, hidden 50, batch 100, lr 0.1");
    /// ```
    pub fn describe(&self) -> String {
        let grad = match self.schedule.gradient {
            Gradient::Backprop => "backprop",
            Gradient::Numerical => "numeric (fast)",
            Gradient::NumericalBook => "numeric (generic)",
        };
        let mut net = match self.net.dense() {
            Ok(d) => {
                let mut s = format!("hidden {}", hidden_list(&self.hidden()));
                if d.activation != Activation::Sigmoid {
                    s = format!("{s} {}", d.activation);
                }
                s
            }
            Err(_) => format!("net {}", self.net),
        };
        if self.net.init != WeightInit::Std(0.01) {
            net = format!("{net}, init {}", self.net.init);
        }
        if self.net.weight_decay != 0.0 {
            net = format!("{net}, weight decay {}", fmt_num(self.net.weight_decay));
        }
        if let Ok(d) = self.net.dense() {
            if d.batch_norm {
                net = format!("{net}, batch norm");
            }
            if let Some(r) = d.dropout {
                net = format!("{net}, dropout {}", fmt_num(r));
            }
        }
        if self.optimizer.kind != OptimizerKind::Sgd {
            net = format!("{net}, {}", self.optimizer.kind.as_str());
        }
        let mut data = String::new();
        if let Some(n) = self.data.train_first {
            data = format!("{data}, {n} training images");
        }
        if let Some(v) = self.data.validation {
            data = format!("{data}, validation {}", fmt_num(v));
        }
        if self.data.shift > 0 {
            data = format!("{data}, shift ±{}", self.data.shift);
        }
        format!(
            "{grad}, {}, {net}, batch {}, lr {}{data}",
            self.dtype.as_str(),
            self.schedule.batch,
            fmt_num(self.optimizer.lr)
        )
    }
}

/// The most hidden layers a configuration may have (the book's deepest nets have 6).
pub const MAX_HIDDEN_LAYERS: usize = 64;

/// `100,100`.
fn hidden_list(hidden: &[usize]) -> String {
    let v: Vec<String> = hidden.iter().map(usize::to_string).collect();
    v.join(",")
}

/// `Ok` when `v` is in [0, 1), as a momentum, β or decay rate must be.
///
/// ```
/// assert_eq!(scratchnet_run::check_unit(1.0).unwrap_err(), "must be a number in [0, 1), got 1");
/// ```
pub fn check_unit(v: f64) -> Result<f64, String> {
    if (0.0..1.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!("must be a number in [0, 1), got {}", fmt_num(v)))
    }
}

/// `Ok` when `v` is in (0, 1), as a validation fraction must be.
///
/// ```
/// assert_eq!(scratchnet_run::check_fraction(0.2), Ok(0.2));
/// ```
pub fn check_fraction(v: f64) -> Result<f64, String> {
    if v > 0.0 && v < 1.0 {
        Ok(v)
    } else {
        Err(format!(
            "must be a number more than 0 and less than 1, got {}",
            fmt_num(v)
        ))
    }
}

/// `Ok` when `lr` is a usable learning rate (finite, > 0); the error says what is wrong
/// (the caller names the value).
///
/// ```
/// assert_eq!(scratchnet_run::check_lr(-1.0).unwrap_err(), "must be a finite number > 0, got -1");
/// ```
pub fn check_lr(lr: f64) -> Result<f64, String> {
    if lr.is_finite() && lr > 0.0 {
        Ok(lr)
    } else {
        Err(format!("must be a finite number > 0, got {}", fmt_num(lr)))
    }
}

/// `Ok` when `std` is a usable initial weight spread or λ (finite, >= 0).
///
/// ```
/// assert!(scratchnet_run::check_weight_init_std(f64::INFINITY).is_err());
/// ```
pub fn check_weight_init_std(std: f64) -> Result<f64, String> {
    if std.is_finite() && std >= 0.0 {
        Ok(std)
    } else {
        Err(format!(
            "must be a finite number >= 0, got {}",
            fmt_num(std)
        ))
    }
}

/// A number as a user would type it: `0.1`, `1e308`, `1e-50`, `3e38`.
///
/// ```
/// assert_eq!((scratchnet_run::fmt_num(0.1), scratchnet_run::fmt_num(3e38)), ("0.1".into(), "3e38".into()));
/// ```
pub fn fmt_num(v: f64) -> String {
    if v != 0.0 && v.is_finite() && !(1e-4..1e6).contains(&v.abs()) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}
