//! `scratchnet train`'s flags (clap), which resolve into a [`RunConfig`], and the parsers of
//! every flag's value.

use scratchnet_network::optimizer::{OptimizerConfig, OptimizerKind};
use scratchnet_network::{Activation, Gradient, NetSpec, WeightInit};

use crate::{DEFAULT_SEED, DataChoice, Dtype, MAX_HIDDEN_LAYERS, RunConfig, Schedule, TrainError};
use crate::{check_fraction, check_lr, check_unit, check_weight_init_std};

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

/// `--dtype`: `f64` (as NumPy computes the notebook) or `f32` (about twice the matrix-product
/// speed).
pub(crate) fn dtype_parser() -> impl clap::builder::TypedValueParser<Value = Dtype> {
    use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser as _};
    PossibleValuesParser::new([
        PossibleValue::new("f64").help("64-bit floats, as NumPy computes the notebook"),
        PossibleValue::new("f32").help("32-bit floats: about twice the matrix-product speed"),
    ])
    .map(|s: String| Dtype::parse(&s).expect("one of the possible values"))
}

/// `--optimizer`: one of the book's names (clap lists them in errors and help).
fn optimizer_parser() -> impl clap::builder::TypedValueParser<Value = OptimizerKind> {
    use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser as _};
    let values = OptimizerKind::ALL.map(|k| PossibleValue::new(k.as_str()).help(k.about()));
    PossibleValuesParser::new(values).try_map(|s: String| s.parse::<OptimizerKind>())
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
    #[arg(long, default_value = "f64", value_parser = dtype_parser())]
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
            None => NetSpec::multi_layer_net_extend(
                scratchnet_mnist::IMAGE_PIXELS,
                &self.hidden.0,
                scratchnet_mnist::CLASSES,
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
        for (name, given) in [
            ("momentum", self.momentum),
            ("beta1", self.beta1),
            ("beta2", self.beta2),
            ("decay_rate", self.decay_rate),
        ] {
            if given.is_some() && !opt.hyper_parameters().contains(&name) {
                let uses = |k: &&OptimizerKind| k.hyper_parameters().contains(&name);
                let to: Vec<_> = OptimizerKind::ALL
                    .iter()
                    .filter(uses)
                    .map(|k| k.as_str())
                    .collect();
                return Err(TrainError::config(
                    name,
                    format!("applies only to --optimizer {}, not {opt}", to.join(" or ")),
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
            if spec.output_size() != scratchnet_mnist::CLASSES {
                return Err(format!(
                    "the last affine layer must have {} outputs (MNIST's classes), not {}",
                    scratchnet_mnist::CLASSES,
                    spec.output_size()
                ));
            }
            spec
        }
    };
    spec.validate().map_err(|e| e.to_string())?;
    Ok(spec)
}

/// The configuration `scratchnet train ARGS` runs, every default resolved and checked, from
/// its flags as whitespace-separated words: a notebook's or a test's way to say a run.
///
/// ```
/// let c = scratchnet_trainer::run_config("--hidden 100,100 --activation relu --optimizer adam")?;
/// assert_eq!((c.net.sizes(), c.optimizer.lr), (vec![784, 100, 100, 10], 0.001));
/// assert!(scratchnet_trainer::run_config("--beta1 0.8").is_err()); // sgd has no β₁
/// # Ok::<(), scratchnet_trainer::TrainError>(())
/// ```
///
/// # Errors
/// [`TrainError::Usage`] for words clap does not accept, [`TrainError::Config`] naming the
/// value that cannot work.
pub fn run_config(args: &str) -> Result<RunConfig, TrainError> {
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
