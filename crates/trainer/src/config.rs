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

/// What to train and how: §4.5.3's `iters_num`, `batch_size`, `learning_rate`, `hidden_size` and
/// `weight_init_std`, plus the choices the notebook makes implicitly (gradient method, dtype, seed).
///
/// ```
/// let c = scratchnet_trainer::TrainConfig::default();
/// assert_eq!((c.iters, c.batch, c.lr, c.hidden), (10_000, 100, 0.1, 50));
/// assert_eq!(c.iter_per_epoch(60_000), 600);
/// c.validate().unwrap();
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Gradient method.
    pub grad: GradMethod,
    /// Numerical-gradient algorithm (used with [`GradMethod::Numeric`]).
    pub numgrad: NumGradMethod,
    /// Number of SGD iterations (`iters_num`).
    pub iters: usize,
    /// Mini-batch size (`batch_size`).
    pub batch: usize,
    /// Learning rate (`learning_rate`).
    pub lr: f64,
    /// Hidden-layer width (`hidden_size`).
    pub hidden: usize,
    /// Standard deviation of the initial weights.
    pub weight_init_std: f64,
    /// Seed of the one RNG that draws the initial weights and every mini-batch.
    pub seed: u64,
    /// Element type.
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

impl TrainConfig {
    /// Checks everything that does not need the data: `lr` finite and > 0, `weight_init_std`
    /// finite and >= 0 (both also in the run's dtype), `batch`, `hidden` and `iters` at least 1.
    ///
    /// ```
    /// use scratchnet_trainer::{Dtype, TrainConfig};
    /// let bad = TrainConfig { lr: f64::NAN, ..Default::default() };
    /// assert_eq!(bad.validate().unwrap_err().to_string(), "--lr must be a finite number > 0, got NaN");
    /// let tiny = TrainConfig { lr: 1e-50, dtype: Dtype::F32, ..Default::default() };
    /// assert!(tiny.validate().is_err()); // rounds to 0 in f32
    /// ```
    pub fn validate(&self) -> Result<(), TrainError> {
        check_lr(self.lr).map_err(TrainError::Usage)?;
        check_weight_init_std(self.weight_init_std).map_err(TrainError::Usage)?;
        if self.dtype == Dtype::F32 {
            // A value fine in f64 may round to 0 or overflow to infinity in f32.
            let (lr, std) = (self.lr as f32, self.weight_init_std as f32);
            if !(lr.is_finite() && lr > 0.0) {
                return Err(TrainError::Usage(format!(
                    "--lr {} is {lr:e} in f32; it must be a finite number > 0",
                    fmt_num(self.lr)
                )));
            }
            if !std.is_finite() {
                return Err(TrainError::Usage(format!(
                    "--weight-init-std {} overflows f32",
                    fmt_num(self.weight_init_std)
                )));
            }
        }
        for (name, v) in [
            ("--batch", self.batch),
            ("--hidden", self.hidden),
            ("--iters", self.iters),
        ] {
            if v == 0 {
                return Err(TrainError::Usage(format!(
                    "{name} must be at least 1, got 0"
                )));
            }
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
            return Err(TrainError::Usage(format!(
                "--batch {} is larger than the training set ({train_size} images)",
                self.batch
            )));
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
}

/// `Ok` when `lr` is a usable learning rate (finite, > 0); the error text names the flag.
///
/// ```
/// assert!(scratchnet_trainer::config::check_lr(0.1).is_ok());
/// assert!(scratchnet_trainer::config::check_lr(0.0).is_err());
/// assert!(scratchnet_trainer::config::check_lr(f64::INFINITY).is_err());
/// ```
pub fn check_lr(lr: f64) -> Result<f64, String> {
    if lr.is_finite() && lr > 0.0 {
        Ok(lr)
    } else {
        Err(format!(
            "--lr must be a finite number > 0, got {}",
            fmt_num(lr)
        ))
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
            "--weight-init-std must be a finite number >= 0, got {}",
            fmt_num(std)
        ))
    }
}

/// A number as a user would type it: `0.1`, `1e308`, `1e-50`.
pub(crate) fn fmt_num(v: f64) -> String {
    if v != 0.0 && v.is_finite() && !(1e-4..1e6).contains(&v.abs()) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}
