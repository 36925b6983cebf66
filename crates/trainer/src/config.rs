//! A run's configuration, [`RunConfig`]: the network's spec, the optimizer's config, the
//! schedule, the data choice, the seed and the dtype, with the notebook's values as defaults;
//! and `scratchnet train`'s flags, which resolve into it.

use serde::{Deserialize, Serialize};

use scratchnet_network::optimizer::{AnyOptimizer, OptimizerConfig, OptimizerKind};
use scratchnet_network::{Activation, Gradient, ModelError, Net, NetSpec, WeightInit};
use scratchnet_tensor::{Rng, Scalar};

use crate::TrainError;

/// `--grad`: how the gradient of each mini-batch is computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum GradMethod {
    /// Central-difference numerical gradient, as the notebook runs it.
    Numeric,
    /// Backpropagation (the notebook's commented-out `network.gradient`).
    Backprop,
}

/// `--numgrad`: which numerical-gradient algorithm `--grad numeric` runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum NumGradMethod {
    /// Recompute each perturbed loss only where the parameter reaches: exact, milliseconds.
    Fast,
    /// The book's method: two full forward passes per parameter: seconds per iteration.
    Generic,
}

/// The element type of every array of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
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
    /// assert_eq!(scratchnet_trainer::Dtype::F32.as_str(), "f32");
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

/// The largest `--threads` accepted: 4 per CPU, at most 256.
pub(crate) fn max_threads() -> usize {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    cpus.saturating_mul(4).clamp(4, 256)
}

/// The learning rate when `--lr` is not given: the notebook's 0.1 for SGD, otherwise the
/// book's class default ([`OptimizerKind::book_lr`]: 0.01; Adam 0.001).
fn default_lr(kind: OptimizerKind) -> f64 {
    match kind {
        OptimizerKind::Sgd => 0.1,
        k => k.book_lr(),
    }
}

/// `--optimizer`: one of the book's names (clap lists them in errors and help).
fn optimizer_parser() -> impl clap::builder::TypedValueParser<Value = OptimizerKind> {
    use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser as _};
    PossibleValuesParser::new([
        PossibleValue::new("sgd").help("`params -= lr * grads` (§4.5, the notebook's)"),
        PossibleValue::new("momentum").help("Momentum SGD (§6.1.4)"),
        PossibleValue::new("nesterov").help("Nesterov's accelerated gradient"),
        PossibleValue::new("adagrad").help("AdaGrad (§6.1.5)"),
        PossibleValue::new("rmsprop").help("RMSprop"),
        PossibleValue::new("adam").help("Adam (§6.1.6)"),
    ])
    .try_map(|s: String| s.parse::<OptimizerKind>())
}

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
/// let c = scratchnet_trainer::RunConfig::default();
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
            net: NetFlags::mlp(
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

/// `scratchnet train`'s flags: [`RunConfig`] before its defaults are resolved (the learning
/// rate and the gradient method depend on the optimizer and the network).
#[derive(Clone, Debug, PartialEq, clap::Args)]
pub(crate) struct TrainFlags {
    /// Gradient method: `numeric` (central differences, as the notebook) or `backprop`
    /// [default: numeric for the notebook's network (one sigmoid hidden layer, `--init` a
    /// number, no weight decay), backprop for any other].
    #[arg(long, value_enum)]
    pub grad: Option<GradMethod>,
    /// Numerical-gradient algorithm for `--grad numeric`: `fast` (exact, recomputes only what a
    /// parameter changes; the notebook's network only) or `generic` (the book's: two full
    /// forward passes per parameter) [default: fast where it applies].
    #[arg(long, value_enum)]
    pub numgrad: Option<NumGradMethod>,
    /// Number of iterations (`iters_num`).
    #[arg(long, value_parser = parse_count, conflicts_with = "epochs")]
    pub iters: Option<usize>,
    /// Number of epochs (iterations = epochs × max(train size / batch, 1)), as the book's
    /// `Trainer` counts [default: 20 with --net, else --iters 10000]
    #[arg(long, value_parser = parse_count)]
    pub epochs: Option<usize>,
    /// Evaluate each epoch on the first N training and test images (the book's
    /// `evaluate_sample_num_per_epoch`) and on the full test set at the end; `all` for the full
    /// sets every epoch [default: 1000 with --net, else all]
    #[arg(long, value_name = "N|all", value_parser = parse_eval_samples)]
    pub eval_samples: Option<EvalSamples>,
    /// Mini-batch size, drawn with replacement (`batch_size`); at most the training-set size.
    #[arg(long, default_value = "100", value_parser = parse_count)]
    pub batch: usize,
    /// Learning rate, a finite number > 0 [default: 0.1 (the notebook's) for sgd, the book's
    /// 0.01 for momentum, nesterov, adagrad and rmsprop, 0.001 for adam].
    #[arg(long, value_parser = parse_lr, allow_negative_numbers = true)]
    pub lr: Option<f64>,
    /// The network.
    #[command(flatten)]
    pub net: NetFlags,
    /// Optimizer (the book's `common/optimizer.py`).
    #[arg(long, value_parser = optimizer_parser())]
    pub optimizer: Option<OptimizerKind>,
    /// Momentum of `--optimizer momentum|nesterov`, in [0, 1) [default: 0.9].
    #[arg(long, value_parser = parse_unit, allow_negative_numbers = true)]
    pub momentum: Option<f64>,
    /// Adam's β₁, in [0, 1) [default: 0.9].
    #[arg(long, value_parser = parse_unit, allow_negative_numbers = true)]
    pub beta1: Option<f64>,
    /// Adam's β₂, in [0, 1) [default: 0.999].
    #[arg(long, value_parser = parse_unit, allow_negative_numbers = true)]
    pub beta2: Option<f64>,
    /// RMSprop's decay rate, in [0, 1) [default: 0.99].
    #[arg(long, value_parser = parse_unit, allow_negative_numbers = true)]
    pub decay_rate: Option<f64>,
    /// Train on the first N training images only (the book's overfitting experiments use 300).
    #[arg(long = "train-size", value_name = "N", value_parser = parse_count)]
    pub train_first: Option<usize>,
    /// Hold out this fraction (in (0, 1)) of the training images, shuffled by the seed, and
    /// report accuracy on it instead of the test set, which stays untouched (§6.5.1).
    #[arg(long, value_name = "FRACTION", value_parser = parse_fraction, allow_negative_numbers = true)]
    pub validation: Option<f64>,
    /// Seed of the RNG that draws the initial weights, every mini-batch and dropout mask, and
    /// the validation split.
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub seed: u64,
    /// Element type of all arrays.
    #[arg(long, value_enum, default_value = "f64")]
    pub dtype: Dtype,
    /// Data augmentation (§8.1.3, not in the book's code): move each training image of each
    /// batch by a random whole number of pixels, from −N to N, down and right (drawn from the
    /// run's seed), the gap filled with background; 0 for none
    #[arg(long, value_name = "N", default_value = "0")]
    pub shift: usize,
}

/// The network flags of `scratchnet train` and `scratchnet gradcheck`.
#[derive(Clone, Debug, PartialEq, clap::Args)]
pub(crate) struct NetFlags {
    /// The network as the book's layers: `simple-convnet` (ch. 7's SimpleConvNet),
    /// `deep-convnet` (ch. 8's DeepConvNet), or a list such as `"conv 30x5x5, relu, pool 2,
    /// affine 100, relu, affine 10"` (layers: affine N, relu, sigmoid, dropout R, conv FxHxW
    /// [stride S] [pad P], pool S [stride S] [pad P]; input (1, 28, 28) when it starts with
    /// conv). Replaces --hidden, --activation, --batch-norm and --dropout
    #[arg(long, value_parser = parse_net, conflicts_with_all = ["hidden", "activation", "batch_norm", "dropout"])]
    pub net: Option<NetSpec>,
    /// Hidden-layer widths, comma-separated (`100,100` for two layers); one number is the
    /// notebook's two-layer net.
    #[arg(long, default_value = "50", value_parser = parse_hidden)]
    pub hidden: HiddenSizes,
    /// Activation of the hidden layers: `sigmoid` (ch. 4) or `relu` (ch. 5-6).
    #[arg(long, default_value = "sigmoid", value_parser = parse_activation)]
    pub activation: Activation,
    /// Initial weights: a standard deviation (a number, as --weight-init-std), `xavier`
    /// (√(1/n)) or `he` (√(2/n)) [default: 0.01].
    #[arg(long, value_parser = parse_init, conflicts_with = "weight_init_std", allow_negative_numbers = true)]
    pub init: Option<WeightInit>,
    /// Standard deviation of the initial weights (the notebook's `weight_init_std`)
    /// [default: 0.01].
    #[arg(long, value_parser = parse_std, allow_negative_numbers = true)]
    pub weight_init_std: Option<f64>,
    /// λ of the L2 weight decay, a finite number >= 0 (§6.4.1).
    #[arg(long, default_value = "0", value_parser = parse_std, allow_negative_numbers = true)]
    pub weight_decay: f64,
    /// Batch normalization after each hidden affine layer (§6.3).
    #[arg(long)]
    pub batch_norm: bool,
    /// Dropout after each hidden activation, with this ratio in [0, 1) (§6.4.3).
    #[arg(long, value_name = "RATIO", value_parser = parse_unit, allow_negative_numbers = true)]
    pub dropout: Option<f64>,
}

/// The `--hidden` list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct HiddenSizes(pub Vec<usize>);

/// The network flags' one reading: the initialisation `--init` or `--weight-init-std` gives.
fn init_of(init: Option<WeightInit>, std: Option<f64>) -> WeightInit {
    init.or(std.map(WeightInit::Std))
        .unwrap_or(WeightInit::Std(0.01))
}

impl NetFlags {
    /// The book's `MultiLayerNetExtend` over MNIST's 784 inputs and 10 classes.
    pub(crate) fn mlp(
        hidden: &[usize],
        activation: Activation,
        init: WeightInit,
        weight_decay: f64,
        dropout: Option<f64>,
        batch_norm: bool,
    ) -> NetSpec {
        NetSpec::multi_layer_net_extend(
            INPUT,
            hidden,
            OUTPUT,
            activation,
            init,
            weight_decay,
            dropout,
            batch_norm,
        )
    }

    /// The network these flags describe: `--net` with `--init` and `--weight-decay` applied,
    /// or the fully connected net of `--hidden` and the rest.
    pub(crate) fn spec(&self) -> NetSpec {
        let init = init_of(self.init, self.weight_init_std);
        match &self.net {
            Some(spec) => NetSpec {
                init: if self.init.is_some() || self.weight_init_std.is_some() {
                    init
                } else {
                    spec.init
                },
                weight_decay: self.weight_decay,
                ..spec.clone()
            },
            None => Self::mlp(
                &self.hidden.0,
                self.activation,
                init,
                self.weight_decay,
                self.dropout,
                self.batch_norm,
            ),
        }
    }

    /// True when a network flag differs from its default.
    pub(crate) fn given(&self) -> bool {
        self.net.is_some()
            || self.hidden != HiddenSizes(vec![50])
            || self.activation != Activation::Sigmoid
            || self.init.is_some()
            || self.weight_init_std.is_some()
            || self.weight_decay != 0.0
            || self.batch_norm
            || self.dropout.is_some()
    }
}

/// The gradient of `--grad` and `--numgrad` for `spec` (defaults: the notebook's numerical
/// gradient for its own net, backprop for any other).
pub(crate) fn gradient_of(
    grad: Option<GradMethod>,
    numgrad: Option<NumGradMethod>,
    spec: &NetSpec,
    layered: bool,
) -> Result<Gradient, TrainError> {
    let chapter4 = !layered && spec.is_two_layer_net();
    let numeric = match numgrad {
        Some(NumGradMethod::Fast) if !chapter4 => {
            return Err(TrainError::config(
                "numgrad",
                "fast applies only to the notebook's network (one sigmoid hidden layer, \
                 --init a number, no weight decay); use --numgrad generic or --grad backprop",
            ));
        }
        Some(NumGradMethod::Fast) => Gradient::Numerical,
        Some(NumGradMethod::Generic) => Gradient::NumericalBook,
        None if chapter4 => Gradient::Numerical,
        None => Gradient::NumericalBook,
    };
    Ok(match grad {
        Some(GradMethod::Backprop) => Gradient::Backprop,
        Some(GradMethod::Numeric) => numeric,
        None if chapter4 => numeric,
        None => Gradient::Backprop,
    })
}

impl TrainFlags {
    /// The configuration these flags ask for, with every default resolved and validated
    /// ([`RunConfig::validate`]); a flag that does not apply to the chosen optimizer or
    /// network is an error naming it.
    pub(crate) fn resolve(&self) -> Result<RunConfig, TrainError> {
        let layered = self.net.net.is_some();
        // the book's train_convnet.py and train_deepnet.py: Adam, 20 epochs
        let opt = self.optimizer.unwrap_or(if layered {
            OptimizerKind::Adam
        } else {
            OptimizerKind::Sgd
        });
        let fits = |kinds: &[OptimizerKind]| kinds.contains(&opt);
        use OptimizerKind::{Adam, Momentum, Nesterov, Rmsprop};
        for (name, given, applies, to) in [
            (
                "momentum",
                self.momentum,
                fits(&[Momentum, Nesterov]),
                "momentum or nesterov",
            ),
            ("beta1", self.beta1, fits(&[Adam]), "adam"),
            ("beta2", self.beta2, fits(&[Adam]), "adam"),
            ("decay_rate", self.decay_rate, fits(&[Rmsprop]), "rmsprop"),
        ] {
            if given.is_some() && !applies {
                return Err(TrainError::config(
                    name,
                    format!("applies only to --optimizer {to}, not {}", opt.as_str()),
                ));
            }
        }
        let book = OptimizerConfig::new(opt);
        let net = self.net.spec();
        let c = RunConfig {
            optimizer: OptimizerConfig {
                lr: self.lr.unwrap_or(default_lr(opt)),
                momentum: self.momentum.unwrap_or(book.momentum),
                beta1: self.beta1.unwrap_or(book.beta1),
                beta2: self.beta2.unwrap_or(book.beta2),
                decay_rate: self.decay_rate.unwrap_or(book.decay_rate),
                ..book
            },
            schedule: Schedule {
                iters: self.iters.unwrap_or(10_000),
                batch: self.batch,
                gradient: gradient_of(self.grad, self.numgrad, &net, layered)?,
                epochs: match (self.epochs, self.iters) {
                    (Some(e), _) => Some(e),
                    (None, None) if layered => Some(20),
                    _ => None,
                },
                eval_samples: match self.eval_samples {
                    Some(EvalSamples::First(n)) => Some(n),
                    Some(EvalSamples::All) => None,
                    None if layered => Some(1000),
                    None => None,
                },
            },
            data: DataChoice {
                train_first: self.train_first,
                validation: self.validation,
                shift: self.shift,
            },
            net,
            seed: self.seed,
            dtype: self.dtype,
        };
        c.validate()?;
        Ok(c)
    }
}

/// `--eval-samples`: the first N images, or all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EvalSamples {
    /// The first N images of each set.
    First(usize),
    /// The full sets.
    All,
}

fn parse_eval_samples(s: &str) -> Result<EvalSamples, String> {
    if s == "all" {
        return Ok(EvalSamples::All);
    }
    parse_count(s).map(EvalSamples::First)
}

/// `--net`: a book net's name or a list of layers over MNIST, checked.
fn parse_net(s: &str) -> Result<NetSpec, String> {
    let spec = match s {
        "simple-convnet" => NetSpec::simple_conv_net(),
        "deep-convnet" => NetSpec::deep_conv_net(),
        list => {
            let spec: NetSpec = list.parse()?;
            if spec.output_size() != OUTPUT {
                return Err(format!(
                    "the last affine layer must have {OUTPUT} outputs (MNIST's classes), not {}",
                    spec.output_size()
                ));
            }
            spec
        }
    };
    spec.validate().map_err(|e| e.to_string())?;
    Ok(spec)
}

/// Input width of MNIST images.
pub(crate) const INPUT: usize = 784;
/// Number of classes.
pub(crate) const OUTPUT: usize = 10;

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
pub(crate) fn check_net_memory(
    spec: &NetSpec,
    batch: usize,
    dtype: Dtype,
) -> Result<(), TrainError> {
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

impl RunConfig {
    /// The configuration `scratchnet train ARGS` runs, every default resolved and checked, from
    /// its flags as whitespace-separated words: a notebook's or a test's way to say a run.
    ///
    /// ```
    /// let c = scratchnet_trainer::RunConfig::from_args("--hidden 100,100 --activation relu --optimizer adam")?;
    /// assert_eq!((c.net.sizes(), c.optimizer.lr), (vec![784, 100, 100, 10], 0.001));
    /// assert!(scratchnet_trainer::RunConfig::from_args("--beta1 0.8").is_err()); // sgd has no β₁
    /// # Ok::<(), scratchnet_trainer::TrainError>(())
    /// ```
    ///
    /// # Errors
    /// [`TrainError::Usage`] for words clap does not accept, [`TrainError::Config`] naming the
    /// value that cannot work.
    pub fn from_args(args: &str) -> Result<RunConfig, TrainError> {
        use clap::Parser;
        #[derive(Parser)]
        struct Words {
            #[command(flatten)]
            flags: TrainFlags,
        }
        let argv = std::iter::once("train").chain(args.split_whitespace());
        Words::try_parse_from(argv)
            .map_err(|e| TrainError::Usage(e.to_string()))?
            .flags
            .resolve()
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
    /// use scratchnet_trainer::{Dtype, RunConfig};
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
    pub(crate) fn check_memory(&self, runs: usize) -> Result<(), TrainError> {
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
    /// let c = scratchnet_trainer::RunConfig::default();
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
fn check_unit(v: f64) -> Result<f64, String> {
    if (0.0..1.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!("must be a number in [0, 1), got {}", fmt_num(v)))
    }
}

/// `Ok` when `v` is in (0, 1), as a validation fraction must be.
pub(crate) fn check_fraction(v: f64) -> Result<f64, String> {
    if v > 0.0 && v < 1.0 {
        Ok(v)
    } else {
        Err(format!(
            "must be a number more than 0 and less than 1, got {}",
            fmt_num(v)
        ))
    }
}

pub(crate) fn parse_fraction(s: &str) -> Result<f64, String> {
    check_fraction(parse_number(s)?)
}

fn parse_unit(s: &str) -> Result<f64, String> {
    check_unit(parse_number(s)?)
}

pub(crate) fn parse_hidden(s: &str) -> Result<HiddenSizes, String> {
    let sizes = s
        .split(',')
        .map(|part| parse_count(part).map_err(|e| format!("`{}`: {e}", part.trim())))
        .collect::<Result<Vec<usize>, String>>()?;
    if sizes.len() > MAX_HIDDEN_LAYERS {
        return Err(format!(
            "{} layers; at most {MAX_HIDDEN_LAYERS} are accepted",
            sizes.len()
        ));
    }
    Ok(HiddenSizes(sizes))
}

pub(crate) fn parse_activation(s: &str) -> Result<Activation, String> {
    s.trim().parse()
}

pub(crate) fn parse_init(s: &str) -> Result<WeightInit, String> {
    s.trim().parse()
}

/// `Ok` when `lr` is a usable learning rate (finite, > 0); the error says what is wrong
/// (the caller names the value).
pub(crate) fn check_lr(lr: f64) -> Result<f64, String> {
    if lr.is_finite() && lr > 0.0 {
        Ok(lr)
    } else {
        Err(format!("must be a finite number > 0, got {}", fmt_num(lr)))
    }
}

/// `Ok` when `std` is a usable initial weight spread (finite, >= 0).
pub(crate) fn check_weight_init_std(std: f64) -> Result<f64, String> {
    if std.is_finite() && std >= 0.0 {
        Ok(std)
    } else {
        Err(format!(
            "must be a finite number >= 0, got {}",
            fmt_num(std)
        ))
    }
}

fn parse_number(s: &str) -> Result<f64, String> {
    s.trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a number"))
}

pub(crate) fn parse_lr(s: &str) -> Result<f64, String> {
    check_lr(parse_number(s)?)
}

pub(crate) fn parse_std(s: &str) -> Result<f64, String> {
    check_weight_init_std(parse_number(s)?)
}

pub(crate) fn parse_count(s: &str) -> Result<usize, String> {
    let v: usize = s
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a whole number"))?;
    if v == 0 {
        Err("must be at least 1, got 0".into())
    } else {
        Ok(v)
    }
}

/// A number as a user would type it: `0.1`, `1e308`, `1e-50`, `3e38`.
pub(crate) fn fmt_num(v: f64) -> String {
    if v != 0.0 && v.is_finite() && !(1e-4..1e6).contains(&v.abs()) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}
