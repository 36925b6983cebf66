//! The training configuration of §4.5.2–4.5.3, with the notebook's values as defaults.

use serde::{Deserialize, Serialize};

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
    /// 64-bit floats, as NumPy computes the notebook (float32 images times float64 weights).
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

/// What to train and how: §4.5.3's `iters_num`, `batch_size`, `learning_rate`, `hidden_size` and
/// `weight_init_std`, plus the choices the notebook makes implicitly (gradient method, dtype, seed).
///
/// The one copy of these settings: the command line flattens it into `scratchnet train`'s flags,
/// `summary.json` and `checkpoint.bin` store it as it is.
///
/// ```
/// let c = scratchnet_trainer::TrainConfig::default();
/// assert_eq!((c.iters, c.batch, c.lr, c.hidden), (10_000, 100, 0.1, 50));
/// assert_eq!(c.iter_per_epoch(60_000), 600);
/// c.validate().unwrap();
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, clap::Args)]
pub struct TrainConfig {
    /// Gradient method: `numeric` (central differences, as the notebook) or `backprop`.
    #[arg(long, value_enum, default_value = "numeric")]
    pub grad: GradMethod,
    /// Numerical-gradient algorithm for `--grad numeric`: `fast` (exact, recomputes only what a
    /// parameter changes) or `generic` (the book's: two full forward passes per parameter).
    #[arg(long, value_enum, default_value = "fast")]
    pub numgrad: NumGradMethod,
    /// Number of SGD iterations (`iters_num`).
    #[arg(long, default_value = "10000", value_parser = parse_count)]
    pub iters: usize,
    /// Mini-batch size, drawn with replacement (`batch_size`); at most the training-set size.
    #[arg(long, default_value = "100", value_parser = parse_count)]
    pub batch: usize,
    /// Learning rate (`learning_rate`), a finite number > 0.
    #[arg(long, default_value = "0.1", value_parser = parse_lr, allow_negative_numbers = true)]
    pub lr: f64,
    /// Hidden-layer width (`hidden_size`); at most what this machine's memory can hold.
    #[arg(long, default_value = "50", value_parser = parse_count)]
    pub hidden: usize,
    /// Standard deviation of the initial weights.
    #[arg(long, default_value = "0.01", value_parser = parse_std, allow_negative_numbers = true)]
    pub weight_init_std: f64,
    /// Seed of the RNG that draws the initial weights and every mini-batch.
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub seed: u64,
    /// Element type of all arrays.
    #[arg(long, value_enum, default_value = "f64")]
    pub dtype: Dtype,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            grad: GradMethod::Numeric,
            numgrad: NumGradMethod::Fast,
            iters: 10_000,
            batch: 100,
            lr: 0.1,
            hidden: 50,
            weight_init_std: 0.01,
            seed: DEFAULT_SEED,
            dtype: Dtype::F64,
        }
    }
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
    /// Bytes a run of this configuration needs, roughly: the parameters in six copies (the
    /// network, its SGD double buffer, the gradient, a numerical gradient, a checkpoint and a model
    /// being written), the batch's activations and 256 MiB for the data and the rest. Exact
    /// arithmetic: any `hidden` and `batch` give a number.
    ///
    /// ```
    /// let c = scratchnet_trainer::TrainConfig::default();
    /// assert!(c.memory_estimate() < 1 << 30);
    /// let huge = scratchnet_trainer::TrainConfig { hidden: usize::MAX, ..c };
    /// assert!(huge.memory_estimate() > 1 << 64);
    /// ```
    pub fn memory_estimate(&self) -> u128 {
        let (h, b) = (self.hidden as u128, self.batch as u128);
        let scalar: u128 = match self.dtype {
            Dtype::F64 => 8,
            Dtype::F32 => 4,
        };
        let params = INPUT as u128 * h + h + h * OUTPUT as u128 + OUTPUT as u128;
        scalar * (6 * params + 6 * b * h) + (256 << 20)
    }

    /// Checks everything that does not need the data: `lr` finite and > 0, `weight_init_std`
    /// finite and >= 0 (both also in the run's dtype), `batch`, `hidden` and `iters` at least 1,
    /// and the memory the sizes need within what this machine holds. Errors name the field; the
    /// command line names its flag.
    ///
    /// ```
    /// use scratchnet_trainer::{Dtype, TrainConfig};
    /// let bad = TrainConfig { lr: f64::NAN, ..Default::default() };
    /// assert_eq!(bad.validate().unwrap_err().to_string(), "lr must be a finite number > 0, got NaN");
    /// let tiny = TrainConfig { lr: 1e-50, dtype: Dtype::F32, ..Default::default() };
    /// assert!(tiny.validate().is_err()); // rounds to 0 in f32
    /// let wide = TrainConfig { hidden: 100_000_000, ..Default::default() };
    /// assert!(wide.validate().unwrap_err().to_string().contains("memory"));
    /// ```
    pub fn validate(&self) -> Result<(), TrainError> {
        check_lr(self.lr).map_err(|p| TrainError::config("lr", p))?;
        check_weight_init_std(self.weight_init_std)
            .map_err(|p| TrainError::config("weight_init_std", p))?;
        if self.dtype == Dtype::F32 {
            // A value fine in f64 may round to 0 or overflow to infinity in f32.
            let (lr, std) = (self.lr as f32, self.weight_init_std as f32);
            if !(lr.is_finite() && lr > 0.0) {
                return Err(TrainError::config(
                    "lr",
                    format!(
                        "{} is {lr:e} in f32; it must be a finite number > 0",
                        fmt_num(self.lr)
                    ),
                ));
            }
            if !std.is_finite() {
                return Err(TrainError::config(
                    "weight_init_std",
                    format!("{} overflows f32", fmt_num(self.weight_init_std)),
                ));
            }
        }
        for (name, v) in [
            ("batch", self.batch),
            ("hidden", self.hidden),
            ("iters", self.iters),
        ] {
            if v == 0 {
                return Err(TrainError::config(name, "must be at least 1, got 0"));
            }
        }
        let (need, have) = (self.memory_estimate(), memory_budget());
        if need > have {
            let field = if self.batch as u128 > self.hidden as u128 * INPUT as u128 {
                "batch"
            } else {
                "hidden"
            };
            let value = if field == "batch" {
                self.batch
            } else {
                self.hidden
            };
            return Err(TrainError::config(
                field,
                format!(
                    "{value} needs about {} of memory (hidden {}, batch {}), more than the {} this machine can give a run",
                    fmt_bytes(need),
                    self.hidden,
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
    /// (numbers in a compact form: `lr 3e38`, not 39 digits).
    ///
    /// ```
    /// use scratchnet_trainer::TrainConfig;
    /// assert_eq!(TrainConfig::default().describe(), "numeric (fast), f64, hidden 50, batch 100, lr 0.1");
    /// assert!(TrainConfig { lr: 3e38, ..Default::default() }.describe().ends_with("lr 3e38"));
    /// ```
    pub fn describe(&self) -> String {
        let grad = match self.grad {
            GradMethod::Backprop => "backprop".to_string(),
            GradMethod::Numeric => format!("numeric ({})", self.numgrad.as_str()),
        };
        format!(
            "{grad}, {}, hidden {}, batch {}, lr {}",
            self.dtype.as_str(),
            self.hidden,
            self.batch,
            fmt_num(self.lr)
        )
    }
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

fn parse_lr(s: &str) -> Result<f64, String> {
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
        config: TrainConfig,
    }

    #[test]
    fn flag_defaults_are_the_default_config() {
        let f = Flags::try_parse_from(["x"]).unwrap();
        assert_eq!(f.config, TrainConfig::default());
    }

    #[test]
    fn huge_sizes_are_refused_without_overflow() {
        for (hidden, batch) in [(usize::MAX, 100), (2_000_000, 100), (50, usize::MAX)] {
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
