//! The training configuration of §4.5.2–4.5.3, with the notebook's values as defaults.

use serde::{Deserialize, Serialize};

pub use scratchnet_network::optimizer::OptimizerKind;
use scratchnet_network::optimizer::{AnyOptimizer, OptimizerConfig};
use scratchnet_network::{Activation, Gradient, ModelError, Net, NetSpec, WeightInit};
use scratchnet_tensor::{Rng, Scalar};

use crate::TrainError;

/// How the gradient of each mini-batch is computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum GradMethod {
    /// Central-difference numerical gradient, as the notebook runs it (`network.numerical_gradient`).
    Numeric,
    /// Backpropagation (the notebook's commented-out `network.gradient`).
    Backprop,
}

impl GradMethod {
    /// `"numeric"` or `"backprop"`, as on the command line.
    ///
    /// ```
    /// assert_eq!(scratchnet_trainer::GradMethod::Backprop.as_str(), "backprop");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            GradMethod::Numeric => "numeric",
            GradMethod::Backprop => "backprop",
        }
    }
}

/// Which numerical-gradient algorithm `--grad numeric` runs (see [`scratchnet_network::NumGrad`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum NumGradMethod {
    /// Recompute each perturbed loss only where the parameter reaches: exact, milliseconds.
    Fast,
    /// The book's method: two full forward passes per parameter: seconds per iteration.
    Generic,
}

impl NumGradMethod {
    /// `"fast"` or `"generic"`.
    ///
    /// ```
    /// assert_eq!(scratchnet_trainer::NumGradMethod::Fast.as_str(), "fast");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            NumGradMethod::Fast => "fast",
            NumGradMethod::Generic => "generic",
        }
    }

    /// The network crate's strategy.
    ///
    /// ```
    /// use scratchnet_trainer::NumGradMethod;
    /// assert_eq!(NumGradMethod::Generic.strategy(), scratchnet_network::NumGrad::Generic);
    /// ```
    pub fn strategy(self) -> scratchnet_network::NumGrad {
        match self {
            NumGradMethod::Fast => scratchnet_network::NumGrad::Fast,
            NumGradMethod::Generic => scratchnet_network::NumGrad::Generic,
        }
    }
}

/// The element type of every array of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Dtype {
    /// 64-bit floats, as NumPy computes the notebook: the images' float32 values (v / 255 in
    /// float32) widened, times float64 weights.
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
    ///
    /// ```
    /// use scratchnet_trainer::Dtype;
    /// assert_eq!(Dtype::parse("f64"), Some(Dtype::F64));
    /// assert_eq!(Dtype::parse("f16"), None);
    /// ```
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "f64" => Some(Dtype::F64),
            "f32" => Some(Dtype::F32),
            _ => None,
        }
    }
}

/// The seed used when `--seed` is not given: runs are reproducible by default.
pub const DEFAULT_SEED: u64 = 42;

/// The largest `--threads` accepted: 4 per CPU, at most 256 (results never depend on it, and
/// more threads than that only slow a run down).
///
/// ```
/// assert!(scratchnet_trainer::config::max_threads() >= 4);
/// ```
pub fn max_threads() -> usize {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    cpus.saturating_mul(4).clamp(4, 256)
}

/// The learning rate when `--lr` is not given: the notebook's 0.1 for SGD, otherwise the
/// book's class default ([`OptimizerKind::book_lr`]: 0.01; Adam 0.001).
///
/// ```
/// use scratchnet_trainer::{OptimizerKind, default_lr};
/// assert_eq!((default_lr(OptimizerKind::Sgd), default_lr(OptimizerKind::Adam)), (0.1, 0.001));
/// ```
pub fn default_lr(kind: OptimizerKind) -> f64 {
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

/// What to train and how: §4.5.3's `iters_num`, `batch_size`, `learning_rate`, `hidden_size` and
/// `weight_init_std`, chapter 6's network and optimizer choices, and what the notebook chooses
/// implicitly (gradient method, dtype, seed), every default resolved.
///
/// The one copy of these settings: `scratchnet train`'s flags ([`TrainFlags`]) resolve into it,
/// `summary.json` and `checkpoint.bin` store it (as JSON, whose older form still reads).
///
/// ```
/// let c = scratchnet_trainer::TrainConfig::default();
/// assert_eq!((c.iters, c.batch, c.lr, c.hidden.as_slice()), (10_000, 100, 0.1, &[50][..]));
/// assert_eq!(c.iter_per_epoch(60_000), 600);
/// assert!(c.is_chapter4());
/// c.validate().unwrap();
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Gradient method: `numeric` (central differences, as the notebook) or `backprop`.
    pub grad: GradMethod,
    /// Numerical-gradient algorithm for `--grad numeric`.
    pub numgrad: NumGradMethod,
    /// Number of iterations (`iters_num`).
    pub iters: usize,
    /// Mini-batch size, drawn with replacement (`batch_size`).
    pub batch: usize,
    /// Learning rate (`learning_rate`), a finite number > 0.
    pub lr: f64,
    /// Hidden-layer widths, input side first (`hidden_size`, or the book's
    /// `hidden_size_list`).
    #[serde(deserialize_with = "serde_compat::hidden")]
    pub hidden: Vec<usize>,
    /// The hidden layers' activation.
    #[serde(default = "serde_compat::sigmoid")]
    pub activation: Activation,
    /// Initial weights: a standard deviation (`weight_init_std`), Xavier or He.
    #[serde(alias = "weight_init_std", with = "serde_compat::init")]
    pub init: WeightInit,
    /// The optimizer.
    #[serde(default)]
    pub optimizer: OptimizerKind,
    /// Momentum of `momentum` and `nesterov` (the book's 0.9).
    #[serde(default = "serde_compat::point_nine")]
    pub momentum: f64,
    /// Adam's β₁ (0.9).
    #[serde(default = "serde_compat::point_nine")]
    pub beta1: f64,
    /// Adam's β₂ (0.999).
    #[serde(default = "serde_compat::beta2")]
    pub beta2: f64,
    /// RMSprop's decay rate (0.99).
    #[serde(default = "serde_compat::decay_rate")]
    pub decay_rate: f64,
    /// λ of the L2 weight decay (§6.4.1; 0 for none).
    #[serde(default)]
    pub weight_decay: f64,
    /// Batch normalization after each hidden affine layer (§6.3).
    #[serde(default)]
    pub batch_norm: bool,
    /// Dropout after each hidden activation with this ratio (§6.4.3), or none.
    #[serde(default)]
    pub dropout: Option<f64>,
    /// Train on the first this many training images only (the book's overfitting experiments
    /// use 300), or on all.
    #[serde(default)]
    pub train_first: Option<usize>,
    /// Hold out this fraction of the (first `train_first`) training images, shuffled by the
    /// seed, and evaluate on it instead of the test set (§6.5.1), or evaluate on the test set.
    #[serde(default)]
    pub validation: Option<f64>,
    /// Seed of the RNG that draws the initial weights, every mini-batch and dropout mask, and
    /// the validation split.
    pub seed: u64,
    /// Element type of all arrays.
    pub dtype: Dtype,
    /// The network as a list of layers (`--net`: chapter 7's `simple-convnet`, chapter 8's
    /// `deep-convnet`, or any list), which then replaces `hidden`, `activation`, `batch_norm`
    /// and `dropout`; none for the book's fully connected nets.
    #[serde(default)]
    pub net: Option<NetSpec>,
    /// Train this many epochs (`iters` becomes epochs × iterations per epoch), as the book's
    /// `Trainer(epochs=…)`.
    #[serde(default)]
    pub epochs: Option<usize>,
    /// Evaluate each epoch on the first this many training and test images (the book's
    /// `evaluate_sample_num_per_epoch`), and on the full test set at the end; none: the full
    /// sets every epoch.
    #[serde(default)]
    pub eval_samples: Option<usize>,
    /// Data augmentation (§8.1.3): each training image of each batch moved by a random whole
    /// number of pixels, up to this many, in each direction (`mnist::random_shifts`); 0 for
    /// none.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub shift: usize,
}

fn is_zero(v: &usize) -> bool {
    *v == 0
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            grad: GradMethod::Numeric,
            numgrad: NumGradMethod::Fast,
            iters: 10_000,
            batch: 100,
            lr: 0.1,
            hidden: vec![50],
            activation: Activation::Sigmoid,
            init: WeightInit::Std(0.01),
            optimizer: OptimizerKind::Sgd,
            momentum: 0.9,
            beta1: 0.9,
            beta2: 0.999,
            decay_rate: 0.99,
            weight_decay: 0.0,
            batch_norm: false,
            dropout: None,
            train_first: None,
            validation: None,
            seed: DEFAULT_SEED,
            dtype: Dtype::F64,
            net: None,
            epochs: None,
            eval_samples: None,
            shift: 0,
        }
    }
}

/// Older and newer forms of the configuration's fields in JSON: `"hidden": 50` and
/// `"weight_init_std": 0.01` as summaries before chapter 6 wrote them, and `"init": "he"`.
mod serde_compat {
    use scratchnet_network::{Activation, WeightInit};
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(usize),
        Many(Vec<usize>),
    }

    pub fn hidden<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<usize>, D::Error> {
        Ok(match OneOrMany::deserialize(d)? {
            OneOrMany::One(n) => vec![n],
            OneOrMany::Many(v) => v,
        })
    }

    pub mod init {
        use super::*;

        #[derive(Deserialize)]
        #[serde(untagged)]
        enum NumberOrName {
            Number(f64),
            Name(String),
        }

        pub fn serialize<S: Serializer>(init: &WeightInit, s: S) -> Result<S::Ok, S::Error> {
            match init {
                WeightInit::Std(v) => s.serialize_f64(*v),
                other => s.serialize_str(&other.to_string()),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<WeightInit, D::Error> {
            match NumberOrName::deserialize(d)? {
                NumberOrName::Number(v) => Ok(WeightInit::Std(v)),
                NumberOrName::Name(n) => n.parse().map_err(D::Error::custom),
            }
        }
    }

    pub fn sigmoid() -> Activation {
        Activation::Sigmoid
    }
    pub fn point_nine() -> f64 {
        0.9
    }
    pub fn beta2() -> f64 {
        0.999
    }
    pub fn decay_rate() -> f64 {
        0.99
    }
}

/// `scratchnet train`'s flags: [`TrainConfig`] before its defaults are resolved (the learning
/// rate and the gradient method depend on the optimizer and the network).
///
/// ```
/// use clap::Parser;
/// use scratchnet_trainer::{GradMethod, TrainConfig, TrainFlags};
/// #[derive(Parser)]
/// struct Cli { #[command(flatten)] flags: TrainFlags }
/// let c = Cli::try_parse_from(["x"]).unwrap().flags.resolve().unwrap();
/// assert_eq!(c, TrainConfig::default());
/// let c = Cli::try_parse_from(["x", "--hidden", "100,100", "--activation", "relu", "--init", "he",
///     "--optimizer", "adam"]).unwrap().flags.resolve().unwrap();
/// assert_eq!((c.hidden, c.lr, c.grad), (vec![100, 100], 0.001, GradMethod::Backprop));
/// let e = Cli::try_parse_from(["x", "--beta1", "0.8"]).unwrap().flags.resolve().unwrap_err();
/// assert_eq!(e.to_string(), "beta1 applies only to --optimizer adam, not sgd");
/// ```
#[derive(Clone, Debug, PartialEq, clap::Args)]
pub struct TrainFlags {
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
pub struct NetFlags {
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
pub struct HiddenSizes(pub Vec<usize>);

/// The network flags' one reading: the initialisation `--init` or `--weight-init-std` gives.
fn init_of(init: Option<WeightInit>, std: Option<f64>) -> WeightInit {
    init.or(std.map(WeightInit::Std))
        .unwrap_or(WeightInit::Std(0.01))
}

impl TrainFlags {
    /// The configuration these flags ask for, with every default resolved and validated
    /// ([`TrainConfig::validate`]); a flag that does not apply to the chosen optimizer or
    /// network is an error naming it.
    pub fn resolve(&self) -> Result<TrainConfig, TrainError> {
        let layered = self.net.net.is_some();
        // the book's train_convnet.py and train_deepnet.py: Adam, 20 epochs
        let opt = self.optimizer.unwrap_or(if layered {
            OptimizerKind::Adam
        } else {
            OptimizerKind::Sgd
        });
        for (name, given, applies, to) in [
            (
                "momentum",
                self.momentum.is_some(),
                matches!(opt, OptimizerKind::Momentum | OptimizerKind::Nesterov),
                "momentum or nesterov",
            ),
            (
                "beta1",
                self.beta1.is_some(),
                opt == OptimizerKind::Adam,
                "adam",
            ),
            (
                "beta2",
                self.beta2.is_some(),
                opt == OptimizerKind::Adam,
                "adam",
            ),
            (
                "decay_rate",
                self.decay_rate.is_some(),
                opt == OptimizerKind::Rmsprop,
                "rmsprop",
            ),
        ] {
            if given && !applies {
                return Err(TrainError::config(
                    name,
                    format!("applies only to --optimizer {to}, not {}", opt.as_str()),
                ));
            }
        }
        let d = TrainConfig::default();
        let mut c = TrainConfig {
            grad: GradMethod::Numeric,
            numgrad: NumGradMethod::Fast,
            iters: self.iters.unwrap_or(10_000),
            batch: self.batch,
            lr: self.lr.unwrap_or(default_lr(opt)),
            hidden: self.net.hidden.0.clone(),
            activation: self.net.activation,
            init: init_of(self.net.init, self.net.weight_init_std),
            optimizer: opt,
            momentum: self.momentum.unwrap_or(d.momentum),
            beta1: self.beta1.unwrap_or(d.beta1),
            beta2: self.beta2.unwrap_or(d.beta2),
            decay_rate: self.decay_rate.unwrap_or(d.decay_rate),
            weight_decay: self.net.weight_decay,
            batch_norm: self.net.batch_norm,
            dropout: self.net.dropout,
            train_first: self.train_first,
            validation: self.validation,
            seed: self.seed,
            dtype: self.dtype,
            net: self.net.net.clone().map(|mut spec| {
                if self.net.init.is_some() || self.net.weight_init_std.is_some() {
                    spec.init = init_of(self.net.init, self.net.weight_init_std);
                }
                spec.weight_decay = self.net.weight_decay;
                spec
            }),
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
            shift: self.shift,
        };
        if let Some(spec) = &c.net {
            c.init = spec.init;
        }
        let chapter4 = c.is_chapter4();
        c.grad = self.grad.unwrap_or(if chapter4 {
            GradMethod::Numeric
        } else {
            GradMethod::Backprop
        });
        c.numgrad = match self.numgrad {
            Some(NumGradMethod::Fast) if !chapter4 => {
                return Err(TrainError::config(
                    "numgrad",
                    "fast applies only to the notebook's network (one sigmoid hidden layer, \
                     --init a number, no weight decay); use --numgrad generic or --grad backprop",
                ));
            }
            Some(m) => m,
            None if chapter4 => NumGradMethod::Fast,
            None => NumGradMethod::Generic,
        };
        c.validate()?;
        Ok(c)
    }
}

/// `--eval-samples`: the first N images, or all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EvalSamples {
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

impl TrainConfig {
    /// Bytes a run of this configuration needs, roughly: the parameters in eight copies (the
    /// network, its double buffer, the gradient, a numerical gradient, two optimizer moments, a
    /// checkpoint and a model being written), the batch's activations in six copies, a block
    /// of evaluation rows per thread and 256 MiB for the data and the rest. Exact arithmetic:
    /// any sizes give a number.
    ///
    /// ```
    /// let c = scratchnet_trainer::TrainConfig::default();
    /// assert!(c.memory_estimate() < 1 << 30);
    /// let huge = scratchnet_trainer::TrainConfig { hidden: vec![usize::MAX], ..c };
    /// assert!(huge.memory_estimate() > 1 << 64);
    /// ```
    pub fn memory_estimate(&self) -> u128 {
        let b = self.batch as u128;
        let scalar: u128 = match self.dtype {
            Dtype::F64 => 8,
            Dtype::F32 => 4,
        };
        if let Some(spec) = &self.net {
            return spec.memory_estimate(self.batch, scalar as usize) + (256 << 20);
        }
        let sizes: Vec<u128> = self.sizes().into_iter().map(|n| n as u128).collect();
        let params: u128 = sizes.windows(2).map(|io| io[0] * io[1] + io[1]).sum();
        let units: u128 = self.hidden.iter().map(|&h| h as u128).sum();
        // evaluation: blocks of 256 rows (the network crate's), one per thread at a time, each
        // layer's output in about three copies
        let eval = 3 * 256 * units * rayon::current_num_threads() as u128;
        scalar * (8 * params + 6 * b * units + eval) + (256 << 20)
    }

    /// True for the notebook's network, which has its own fused kernels and the fast exact
    /// numerical gradient: one sigmoid hidden layer, weights of one standard deviation, no
    /// weight decay, batch norm or dropout. Any optimizer, any data.
    ///
    /// ```
    /// use scratchnet_network::WeightInit;
    /// use scratchnet_trainer::TrainConfig;
    /// assert!(TrainConfig { hidden: vec![100], ..Default::default() }.is_chapter4());
    /// assert!(!TrainConfig { init: WeightInit::Xavier, ..Default::default() }.is_chapter4());
    /// ```
    pub fn is_chapter4(&self) -> bool {
        self.net.is_none()
            && self.hidden.len() == 1
            && self.activation == Activation::Sigmoid
            && matches!(self.init, WeightInit::Std(_))
            && self.weight_decay == 0.0
            && !self.batch_norm
            && self.dropout.is_none()
    }

    /// The set the run evaluates on besides the training set.
    ///
    /// ```
    /// use scratchnet_trainer::{HeldOut, TrainConfig};
    /// assert_eq!(TrainConfig { validation: Some(0.2), ..Default::default() }.held_out(), HeldOut::Validation);
    /// ```
    pub fn held_out(&self) -> crate::HeldOut {
        match self.validation {
            Some(_) => crate::HeldOut::Validation,
            None => crate::HeldOut::Test,
        }
    }

    /// The configured optimizer as data ([`OptimizerConfig`]).
    pub fn optimizer_config(&self) -> OptimizerConfig {
        OptimizerConfig {
            kind: self.optimizer,
            lr: self.lr,
            momentum: self.momentum,
            beta1: self.beta1,
            beta2: self.beta2,
            decay_rate: self.decay_rate,
        }
    }

    /// The configured optimizer, with its hyper-parameters and an empty state.
    ///
    /// ```
    /// use scratchnet_network::optimizer::Optimizer;
    /// use scratchnet_trainer::{OptimizerKind, TrainConfig};
    /// let c = TrainConfig { optimizer: OptimizerKind::Adam, lr: 0.002, ..Default::default() };
    /// let o = c.new_optimizer::<f64>();
    /// assert_eq!((o.name(), o.lr()), ("adam", 0.002));
    /// ```
    pub fn new_optimizer<A>(&self) -> AnyOptimizer<A> {
        self.optimizer_config().build()
    }

    /// The configured net as a [`NetSpec`]: the book's `MultiLayerNetExtend` over MNIST's 784
    /// inputs and 10 classes (the chapter 4 `TwoLayerNet` where [`is_chapter4`](Self::is_chapter4)
    /// holds).
    ///
    /// ```
    /// let c = scratchnet_trainer::TrainConfig::default();
    /// assert_eq!(c.spec().to_string(), "affine 50, sigmoid, affine 10");
    /// assert!(c.spec().is_two_layer_net());
    /// ```
    pub fn spec(&self) -> NetSpec {
        if let Some(spec) = &self.net {
            return spec.clone();
        }
        NetSpec::multi_layer_net_extend(
            INPUT,
            &self.hidden,
            OUTPUT,
            self.activation,
            self.init,
            self.weight_decay,
            self.dropout,
            self.batch_norm,
        )
    }

    /// The initial network of [`spec`](Self::spec), its weights drawn from `rng` as the book
    /// draws them.
    ///
    /// ```
    /// use scratchnet_trainer::TrainConfig;
    /// let mut rng = scratchnet_tensor::rng_from_seed(0);
    /// let deep = TrainConfig { hidden: vec![8, 8], ..Default::default() };
    /// assert_eq!(deep.new_net::<f32>(&mut rng)?.sizes(), deep.sizes());
    /// let huge = TrainConfig { init: scratchnet_network::WeightInit::Std(1e300), ..Default::default() };
    /// assert!(huge.new_net::<f32>(&mut rng).is_err()); // not finite in f32
    /// # Ok::<(), scratchnet_trainer::TrainError>(())
    /// ```
    ///
    /// # Errors
    /// [`TrainError::Config`] naming `init` if the weights drawn are not finite in `A`.
    pub fn new_net<A: Scalar>(&self, rng: &mut Rng) -> Result<Net<A>, TrainError> {
        Net::new(self.spec(), rng).map_err(|e| {
            TrainError::config(
                "init",
                match e {
                    ModelError::Spec(m) => m,
                    e => e.to_string(),
                },
            )
        })
    }

    /// The gradient method of the training step.
    pub fn gradient(&self) -> Gradient {
        match (self.grad, self.numgrad) {
            (GradMethod::Backprop, _) => Gradient::Backprop,
            (GradMethod::Numeric, NumGradMethod::Fast) => Gradient::Numerical,
            (GradMethod::Numeric, NumGradMethod::Generic) => Gradient::NumericalBook,
        }
    }

    /// The layer sizes of the configured net, input first: `[784, hidden…, 10]`.
    ///
    /// ```
    /// let c = scratchnet_trainer::TrainConfig { hidden: vec![8, 8], ..Default::default() };
    /// assert_eq!(c.sizes(), [784, 8, 8, 10]);
    /// ```
    pub fn sizes(&self) -> Vec<usize> {
        if let Some(spec) = &self.net {
            return spec.sizes();
        }
        std::iter::once(INPUT)
            .chain(self.hidden.iter().copied())
            .chain(std::iter::once(OUTPUT))
            .collect()
    }

    /// Checks everything that does not need the data: `lr` finite and > 0, an `init` standard
    /// deviation and `weight_decay` finite and >= 0 (all also in the run's dtype), `momentum`,
    /// `beta1`, `beta2` and `decay_rate` in [0, 1), `batch`, every hidden width and `iters` at
    /// least 1, 1 to [`MAX_HIDDEN_LAYERS`] hidden layers, and the memory the sizes need within
    /// what this machine holds. Errors name the field; the
    /// command line names its flag.
    ///
    /// ```
    /// use scratchnet_trainer::{Dtype, TrainConfig};
    /// let bad = TrainConfig { lr: f64::NAN, ..Default::default() };
    /// assert_eq!(bad.validate().unwrap_err().to_string(), "lr must be a finite number > 0, got NaN");
    /// let tiny = TrainConfig { lr: 1e-50, dtype: Dtype::F32, ..Default::default() };
    /// assert!(tiny.validate().is_err()); // rounds to 0 in f32
    /// let wide = TrainConfig { hidden: vec![100_000_000], ..Default::default() };
    /// assert!(wide.validate().unwrap_err().to_string().contains("memory"));
    /// ```
    pub fn validate(&self) -> Result<(), TrainError> {
        check_lr(self.lr).map_err(|p| TrainError::config("lr", p))?;
        let std = match self.init {
            WeightInit::Std(std) => std,
            _ => 0.0,
        };
        check_weight_init_std(std).map_err(|p| TrainError::config("init", p))?;
        check_weight_init_std(self.weight_decay)
            .map_err(|p| TrainError::config("weight_decay", p))?;
        if let Some(v) = self.validation {
            check_fraction(v).map_err(|p| TrainError::config("validation", p))?;
        }
        if self.shift > 27 {
            return Err(TrainError::config(
                "shift",
                format!(
                    "must be at most 27 (pixels of a 28×28 image), got {}",
                    self.shift
                ),
            ));
        }
        if self.train_first == Some(0) {
            return Err(TrainError::config(
                "train_size",
                "must be at least 1, got 0",
            ));
        }
        for (name, v) in [
            ("dropout", self.dropout.unwrap_or(0.0)),
            ("momentum", self.momentum),
            ("beta1", self.beta1),
            ("beta2", self.beta2),
            ("decay_rate", self.decay_rate),
        ] {
            check_unit(v).map_err(|p| TrainError::config(name, p))?;
        }
        if self.dtype == Dtype::F32 {
            // A value fine in f64 may round to 0 or overflow to infinity in f32.
            let lr = self.lr as f32;
            if !(lr.is_finite() && lr > 0.0) {
                return Err(TrainError::config(
                    "lr",
                    format!(
                        "{} is {lr:e} in f32; it must be a finite number > 0",
                        fmt_num(self.lr)
                    ),
                ));
            }
            for (name, v) in [("init", std), ("weight_decay", self.weight_decay)] {
                if !(v as f32).is_finite() {
                    return Err(TrainError::config(
                        name,
                        format!("{} overflows f32", fmt_num(v)),
                    ));
                }
            }
        }
        if self.hidden.is_empty() {
            return Err(TrainError::config(
                "hidden",
                "needs at least one layer width",
            ));
        }
        if self.hidden.len() > MAX_HIDDEN_LAYERS {
            return Err(TrainError::config(
                "hidden",
                format!(
                    "has {} layers; at most {MAX_HIDDEN_LAYERS} are accepted",
                    self.hidden.len()
                ),
            ));
        }
        for (name, v) in [
            ("batch", self.batch),
            ("hidden", self.hidden.iter().copied().min().unwrap_or(0)),
            ("iters", self.iters),
        ] {
            if v == 0 {
                return Err(TrainError::config(name, "must be at least 1, got 0"));
            }
        }
        self.check_memory(1)
    }

    /// Checks that `runs` runs of this configuration at once fit in the machine's memory (a
    /// search runs one per thread).
    pub(crate) fn check_memory(&self, runs: usize) -> Result<(), TrainError> {
        let widest = self.hidden.iter().copied().max().unwrap_or(0);
        let (need, have) = (
            self.memory_estimate().saturating_mul(runs as u128),
            memory_budget(),
        );
        if need > have {
            let (field, value) = if self.batch as u128 > widest as u128 * INPUT as u128 {
                ("batch", self.batch.to_string())
            } else {
                ("hidden", hidden_list(&self.hidden))
            };
            let at_once = if runs > 1 {
                format!(" for {runs} trials at once (one per thread; --threads fewer)")
            } else {
                String::new()
            };
            return Err(TrainError::config(
                field,
                format!(
                    "{value} needs about {} of memory (hidden {}, batch {}){at_once}, more than the {} this machine can give a run",
                    fmt_bytes(need),
                    hidden_list(&self.hidden),
                    self.batch,
                    fmt_bytes(have)
                ),
            ));
        }
        Ok(())
    }

    /// Checks the batch size against the training-set size (`np.random.choice` could draw a
    /// larger batch with replacement, but then an "epoch" is less than one iteration).
    ///
    /// ```
    /// use scratchnet_trainer::TrainConfig;
    /// let c = TrainConfig { batch: 70_000, ..Default::default() };
    /// assert!(c.validate_for(60_000).is_err());
    /// assert!(TrainConfig::default().validate_for(60_000).is_ok());
    /// ```
    pub fn validate_for(&self, train_size: usize) -> Result<(), TrainError> {
        self.validate()?;
        if self.batch > train_size {
            return Err(TrainError::config(
                "batch",
                format!(
                    "{} is larger than the training set ({train_size} images)",
                    self.batch
                ),
            ));
        }
        Ok(())
    }

    /// Iterations per epoch, `max(train_size / batch, 1)` in integer division.
    ///
    /// The notebook computes this *before* `train_size` and `batch_size` are assigned in that
    /// cell (it only works because an earlier cell left them defined) and as a float; here it is
    /// computed from the actual training-set size, so `i % iter_per_epoch == 0` fires every 600
    /// iterations for MNIST and batch 100: 17 evaluations in 10 000 iterations.
    ///
    /// ```
    /// use scratchnet_trainer::TrainConfig;
    /// let c = TrainConfig { batch: 7, ..Default::default() };
    /// assert_eq!(c.iter_per_epoch(20), 2);
    /// assert_eq!(c.iter_per_epoch(5), 1);
    /// ```
    pub fn iter_per_epoch(&self, train_size: usize) -> usize {
        (train_size / self.batch.max(1)).max(1)
    }

    /// Short description for banners and plot titles: `backprop, f64, hidden 50, batch 100, lr 0.1`
    /// for the notebook's network and optimizer, with what differs from them after the hidden
    /// sizes (numbers in a compact form: `lr 3e38`, not 39 digits).
    ///
    /// ```
    /// use scratchnet_network::{Activation, WeightInit};
    /// use scratchnet_trainer::{OptimizerKind, TrainConfig};
    /// assert_eq!(TrainConfig::default().describe(), "numeric (fast), f64, hidden 50, batch 100, lr 0.1");
    /// assert!(TrainConfig { lr: 3e38, ..Default::default() }.describe().ends_with("lr 3e38"));
    /// let deep = TrainConfig { hidden: vec![100, 100], activation: Activation::Relu,
    ///     init: WeightInit::He, optimizer: OptimizerKind::Adam, lr: 0.001, ..Default::default() };
    /// assert_eq!(deep.describe(), "numeric (fast), f64, hidden 100,100 relu, init he, adam, batch 100, lr 0.001");
    /// ```
    pub fn describe(&self) -> String {
        let grad = match self.grad {
            GradMethod::Backprop => "backprop".to_string(),
            GradMethod::Numeric => format!("numeric ({})", self.numgrad.as_str()),
        };
        let mut net = hidden_list(&self.hidden);
        if self.activation != Activation::Sigmoid {
            net = format!("{net} {}", self.activation);
        }
        if self.init != WeightInit::Std(0.01) {
            net = format!("{net}, init {}", self.init);
        }
        if self.weight_decay != 0.0 {
            net = format!("{net}, weight decay {}", fmt_num(self.weight_decay));
        }
        if self.batch_norm {
            net = format!("{net}, batch norm");
        }
        if let Some(r) = self.dropout {
            net = format!("{net}, dropout {}", fmt_num(r));
        }
        if self.optimizer != OptimizerKind::Sgd {
            net = format!("{net}, {}", self.optimizer.as_str());
        }
        let mut data = String::new();
        if let Some(n) = self.train_first {
            data = format!("{data}, {n} training images");
        }
        if let Some(v) = self.validation {
            data = format!("{data}, validation {}", fmt_num(v));
        }
        if self.shift > 0 {
            data = format!("{data}, shift ±{}", self.shift);
        }
        format!(
            "{grad}, {}, hidden {net}, batch {}, lr {}{data}",
            self.dtype.as_str(),
            self.batch,
            fmt_num(self.lr)
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
fn check_fraction(v: f64) -> Result<f64, String> {
    if v > 0.0 && v < 1.0 {
        Ok(v)
    } else {
        Err(format!(
            "must be a number more than 0 and less than 1, got {}",
            fmt_num(v)
        ))
    }
}

fn parse_fraction(s: &str) -> Result<f64, String> {
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
///
/// ```
/// assert!(scratchnet_trainer::config::check_lr(0.1).is_ok());
/// assert_eq!(scratchnet_trainer::config::check_lr(0.0).unwrap_err(), "must be a finite number > 0, got 0");
/// assert!(scratchnet_trainer::config::check_lr(f64::INFINITY).is_err());
/// ```
pub fn check_lr(lr: f64) -> Result<f64, String> {
    if lr.is_finite() && lr > 0.0 {
        Ok(lr)
    } else {
        Err(format!("must be a finite number > 0, got {}", fmt_num(lr)))
    }
}

/// `Ok` when `std` is a usable initial weight spread (finite, >= 0).
///
/// ```
/// assert!(scratchnet_trainer::config::check_weight_init_std(0.0).is_ok());
/// assert!(scratchnet_trainer::config::check_weight_init_std(-1.0).is_err());
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Flags {
        #[command(flatten)]
        flags: TrainFlags,
    }

    fn resolve(args: &[&str]) -> Result<TrainConfig, TrainError> {
        let mut all = vec!["x"];
        all.extend_from_slice(args);
        Flags::try_parse_from(all).unwrap().flags.resolve()
    }

    #[test]
    fn flag_defaults_are_the_default_config() {
        assert_eq!(resolve(&[]).unwrap(), TrainConfig::default());
    }

    #[test]
    fn lr_and_gradient_defaults_follow_the_optimizer_and_network() {
        for (opt, lr) in [
            ("sgd", 0.1),
            ("momentum", 0.01),
            ("nesterov", 0.01),
            ("adagrad", 0.01),
            ("rmsprop", 0.01),
            ("adam", 0.001),
        ] {
            let c = resolve(&["--optimizer", opt]).unwrap();
            assert_eq!((c.optimizer.as_str(), c.lr), (opt, lr));
            // the notebook's network keeps the notebook's gradient
            assert_eq!(
                (c.grad, c.numgrad),
                (GradMethod::Numeric, NumGradMethod::Fast)
            );
        }
        let c = resolve(&["--hidden", "100,100"]).unwrap();
        assert_eq!(
            (c.grad, c.numgrad),
            (GradMethod::Backprop, NumGradMethod::Generic)
        );
        let c = resolve(&["--hidden", "100", "--grad", "numeric", "--init", "he"]).unwrap();
        assert_eq!(
            (c.grad, c.numgrad),
            (GradMethod::Numeric, NumGradMethod::Generic)
        );
        assert_eq!(
            resolve(&["--weight-init-std", "0.5"]).unwrap().init,
            WeightInit::Std(0.5)
        );
        assert_eq!(
            resolve(&["--init", "0.5"]).unwrap().init,
            WeightInit::Std(0.5)
        );
    }

    #[test]
    fn flags_that_do_not_apply_are_refused_by_name() {
        for (args, flag) in [
            (
                &["--momentum", "0.5"][..],
                "momentum applies only to --optimizer momentum or nesterov, not sgd",
            ),
            (
                &["--optimizer", "momentum", "--beta2", "0.5"][..],
                "beta2 applies only to --optimizer adam, not momentum",
            ),
            (
                &["--decay-rate", "0.5", "--optimizer", "adam"][..],
                "decay_rate applies only to --optimizer rmsprop, not adam",
            ),
            (
                &["--hidden", "10,10", "--numgrad", "fast"][..],
                "numgrad fast applies only to the notebook's network",
            ),
            (
                &["--activation", "relu", "--numgrad", "fast"][..],
                "numgrad fast applies only",
            ),
        ] {
            let e = resolve(args).unwrap_err().to_string();
            assert!(e.starts_with(flag), "{args:?}: {e}");
        }
        assert!(Flags::try_parse_from(["x", "--init", "he", "--weight-init-std", "1"]).is_err());
        for bad in [
            &["--hidden", "10,0"][..],
            &["--hidden", "10,,10"][..],
            &["--hidden", ""][..],
            &["--activation", "tanh"][..],
            &["--init", "glorot"][..],
            &["--momentum", "1"][..],
            &["--beta1", "-0.1"][..],
            &["--weight-decay", "nan"][..],
        ] {
            let mut all = vec!["x"];
            all.extend_from_slice(bad);
            assert!(Flags::try_parse_from(all).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn older_json_reads_and_newer_round_trips() {
        let old = r#"{"grad":"numeric","numgrad":"fast","iters":4,"batch":10,"lr":0.1,"hidden":2,"weight_init_std":0.01,"seed":42,"dtype":"f32"}"#;
        let c: TrainConfig = serde_json::from_str(old).unwrap();
        assert_eq!(
            c,
            TrainConfig {
                iters: 4,
                batch: 10,
                hidden: vec![2],
                dtype: Dtype::F32,
                ..Default::default()
            }
        );
        let deep = resolve(&[
            "--hidden",
            "7,5",
            "--init",
            "xavier",
            "--optimizer",
            "adam",
            "--beta2",
            "0.99",
        ])
        .unwrap();
        let json = serde_json::to_string(&deep).unwrap();
        assert!(json.contains(r#""init":"xavier""#), "{json}");
        assert_eq!(serde_json::from_str::<TrainConfig>(&json).unwrap(), deep);
        let json = serde_json::to_string(&c).unwrap();
        assert!(json.contains(r#""init":0.01"#), "{json}");
        assert_eq!(serde_json::from_str::<TrainConfig>(&json).unwrap(), c);
    }

    #[test]
    fn huge_sizes_are_refused_without_overflow() {
        for (hidden, batch) in [
            (vec![usize::MAX], 100),
            (vec![2_000_000], 100),
            (vec![50], usize::MAX),
            (vec![100_000; 40], 100),
        ] {
            let c = TrainConfig {
                hidden,
                batch,
                ..Default::default()
            };
            let e = c.validate().unwrap_err().to_string();
            assert!(e.contains("of memory"), "{e}");
        }
    }
}
