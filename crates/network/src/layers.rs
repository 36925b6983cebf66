//! The layers of the book's chapter 5 as objects with `forward` and `backward`, each caching
//! what its backward pass needs, as the book's `common/layers.py` does.
//!
//! | book | here |
//! |---|---|
//! | `Affine(W, b)`: `forward(x)`, `backward(dout)`, then `.dW`, `.db` | [`Affine`] (borrows `W` and `b`; [`Affine::dw`], [`Affine::db`]) |
//! | `Sigmoid()` | [`Sigmoid`] |
//! | `Relu()` | [`Relu`] |
//! | `SoftmaxWithLoss()`: `forward(x, t)` returns the loss, `backward(dout=1)` | [`SoftmaxWithLoss`] |
//! | `BatchNormalization(gamma, beta, momentum=0.9)` (ch. 6.3), then `.dgamma`, `.dbeta`, `.running_mean`, `.running_var` | [`BatchNormalization`] (borrows γ and β, owns its running statistics) |
//! | `Dropout(dropout_ratio=0.5)` (ch. 6.4.3) | [`Dropout`] (masks from a borrowed seeded [`Rng`], or one fixed mask) |
//!
//! Every layer but the last implements [`Layer`], whose `forward` takes a [`Mode`]: chapter 6's
//! `Dropout` and `BatchNormalization` behave differently in training and at test time (the
//! book's `train_flg`), and a net runs its layers in a loop without knowing which is which.
//!
//! The book's `Affine` keeps references to the net's `W` and `b`, so that the net's update is
//! seen by the layer. Here an [`Affine`] borrows views of the weights; a net builds its layers
//! over its parameters (or over a perturbed copy, for the numerical gradient) for each call, see
//! `two_layer_net.rs`. State that must outlive one call belongs to the net: a
//! [`BatchNormalization`] starts from a copy of the net's running mean and variance and the net
//! keeps the updated copy after a training forward pass; a [`Dropout`] borrows the caller's
//! seeded [`Rng`] (or is given its mask). What a layer caches for its backward pass lives in the
//! layer.
//!
//! ```
//! use ndarray::array;
//! use scratchnet_network::layers::{Affine, Layer, Mode, Sigmoid, SoftmaxWithLoss};
//! use scratchnet_tensor::Targets;
//!
//! let (w, b) = (array![[1.0, -1.0], [0.5, 0.5]], array![0.0, 0.1]);
//! let x = array![[1.0, 2.0]];
//! let labels = [1];
//! let mut affine = Affine::new(w.view(), b.view());
//! let mut sigmoid = Sigmoid::new();
//! let mut last = SoftmaxWithLoss::new();
//! // forward, layer by layer
//! let a = affine.forward(x.view(), Mode::Train);
//! let z = sigmoid.forward(a.view(), Mode::Train);
//! let loss = last.forward(z.view(), Targets::Labels(&labels));
//! assert!(loss > 0.0);
//! // backward, in reverse
//! let dz = last.backward(1.0);
//! let da = sigmoid.backward(dz.view());
//! let dx = affine.backward(da.view());
//! assert_eq!(dx.dim(), (1, 2));
//! assert_eq!(affine.dw.dim(), (2, 2));
//! ```

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis, Zip};
use rand::RngExt;
use scratchnet_functions::{CE_DELTA, cross_entropy_error, cross_entropy_error_labels, softmax};
use scratchnet_tensor::{Rng, Scalar, Targets, affine};

/// Training or test time: the book's `train_flg`. The layers of chapter 5 behave the same in
/// both; chapter 6's [`Dropout`] (drops units only in training) and [`BatchNormalization`]
/// (batch statistics in training, running averages at test time) do not.
///
/// ```
/// assert_eq!(scratchnet_network::layers::Mode::default(), scratchnet_network::layers::Mode::Test);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    /// Forward passes of a gradient computation (`train_flg=True`).
    Train,
    /// Prediction, loss and accuracy (`train_flg=False`, the book's default).
    #[default]
    Test,
}

/// A layer of a network: a forward pass that caches what the backward pass needs, and the
/// backward pass, which takes ∂L/∂(output) and returns ∂L/∂(input). Layers with parameters
/// keep the parameters' gradients after `backward` (see [`Affine::dw`]).
///
/// Object safe, so a net can hold its layers as `&mut dyn Layer<A>` and run them in order:
///
/// ```
/// use ndarray::array;
/// use scratchnet_network::layers::{Layer, Mode, Relu, Sigmoid};
/// let (mut relu, mut sigmoid) = (Relu::new(), Sigmoid::new());
/// let mut layers: [&mut dyn Layer<f64>; 2] = [&mut relu, &mut sigmoid];
/// let mut x = array![[-1.0, 0.0, 2.0]];
/// for layer in layers.iter_mut() {
///     x = layer.forward(x.view(), Mode::Test);
/// }
/// assert_eq!(x[[0, 0]], 0.5); // relu(−1) = 0, σ(0) = 0.5
/// let mut dout = array![[1.0, 1.0, 1.0]];
/// for layer in layers.iter_mut().rev() {
///     dout = layer.backward(dout.view());
/// }
/// assert_eq!(dout[[0, 0]], 0.0); // relu blocks the negative input
/// ```
pub trait Layer<A: Scalar> {
    /// The layer's output for the batch `x` (one sample per row), caching what
    /// [`backward`](Self::backward) needs.
    fn forward(&mut self, x: ArrayView2<'_, A>, mode: Mode) -> Array2<A>;

    /// ∂L/∂x from `dout` = ∂L/∂(output) of the last [`forward`](Self::forward).
    ///
    /// # Panics
    /// If called before `forward`, or `dout` does not have the output's shape.
    fn backward(&mut self, dout: ArrayView2<'_, A>) -> Array2<A>;
}

/// The affine layer `x·W + b`, over borrowed weights.
///
/// ```
/// use ndarray::array;
/// use scratchnet_network::layers::{Affine, Layer, Mode};
/// let (w, b) = (array![[1.0], [2.0]], array![0.5]);
/// let mut layer = Affine::new(w.view(), b.view());
/// assert_eq!(layer.forward(array![[1.0, 2.0]].view(), Mode::Test), array![[5.5]]);
/// assert_eq!(layer.backward(array![[3.0]].view()), array![[3.0, 6.0]]); // dout·Wᵀ
/// assert_eq!(layer.dw, array![[3.0], [6.0]]); // xᵀ·dout
/// assert_eq!(layer.db, array![3.0]); // Σ_rows dout
/// ```
#[derive(Clone, Debug)]
pub struct Affine<'p, A> {
    /// The weights `W`, `(inputs, outputs)`.
    pub w: ArrayView2<'p, A>,
    /// The bias `b`, `(outputs,)`.
    pub b: ArrayView1<'p, A>,
    /// ∂L/∂W of the last backward pass (zeros before).
    pub dw: Array2<A>,
    /// ∂L/∂b of the last backward pass (zeros before).
    pub db: Array1<A>,
    x: Option<Array2<A>>,
}

impl<'p, A: Scalar> Affine<'p, A> {
    /// The layer over `w` and `b`.
    ///
    /// # Panics
    /// If `b.len()` is not the number of columns of `w`.
    ///
    /// ```
    /// let (w, b) = (ndarray::Array2::<f32>::zeros((784, 50)), ndarray::Array1::zeros(50));
    /// let layer = scratchnet_network::layers::Affine::new(w.view(), b.view());
    /// assert_eq!(layer.dw.dim(), (784, 50));
    /// ```
    pub fn new(w: ArrayView2<'p, A>, b: ArrayView1<'p, A>) -> Self {
        assert_eq!(
            b.len(),
            w.ncols(),
            "bias length must equal the columns of W"
        );
        Self {
            dw: Array2::zeros(w.raw_dim()),
            db: Array1::zeros(b.raw_dim()),
            w,
            b,
            x: None,
        }
    }
}

impl<A: Scalar> Layer<A> for Affine<'_, A> {
    /// `x·W + b`.
    ///
    /// # Panics
    /// If `x` does not have one column per row of `W`.
    fn forward(&mut self, x: ArrayView2<'_, A>, _mode: Mode) -> Array2<A> {
        assert_eq!(
            x.ncols(),
            self.w.nrows(),
            "x must have one column per input of the affine layer"
        );
        let out = affine(&x, &self.w, &self.b);
        self.x = Some(x.to_owned());
        out
    }

    /// `dx = dout·Wᵀ`, and keeps `dW = xᵀ·dout`, `db = Σ_rows dout`.
    fn backward(&mut self, dout: ArrayView2<'_, A>) -> Array2<A> {
        let x = self.x.as_ref().expect("Affine: backward before forward");
        self.dw = x.t().dot(&dout);
        self.db = dout.sum_axis(Axis(0));
        dout.dot(&self.w.t())
    }
}

/// The sigmoid layer `1 / (1 + e^(-x))`, caching its output.
///
/// ```
/// use ndarray::array;
/// use scratchnet_network::layers::{Layer, Mode, Sigmoid};
/// let mut layer = Sigmoid::new();
/// assert_eq!(layer.forward(array![[0.0]].view(), Mode::Test), array![[0.5]]);
/// assert_eq!(layer.backward(array![[2.0]].view()), array![[0.5]]); // dout · y(1 − y)
/// ```
#[derive(Clone, Debug, Default)]
pub struct Sigmoid<A> {
    out: Option<Array2<A>>,
}

impl<A: Scalar> Sigmoid<A> {
    /// A layer that has not run yet.
    ///
    /// ```
    /// let _layer = scratchnet_network::layers::Sigmoid::<f32>::new();
    /// ```
    pub fn new() -> Self {
        Self { out: None }
    }
}

impl<A: Scalar> Layer<A> for Sigmoid<A> {
    /// `y = σ(x)`, kept for the backward pass.
    fn forward(&mut self, x: ArrayView2<'_, A>, _mode: Mode) -> Array2<A> {
        let out = scratchnet_functions::sigmoid(&x);
        self.out = Some(out.clone());
        out
    }

    /// `dx = dout · y · (1 − y)`.
    fn backward(&mut self, dout: ArrayView2<'_, A>) -> Array2<A> {
        let y = self.out.as_ref().expect("Sigmoid: backward before forward");
        Zip::from(y)
            .and(&dout)
            .map_collect(|&y, &d| d * y * (A::one() - y))
    }
}

/// The ReLU layer `max(0, x)`, caching where `x ≤ 0` (the book's `mask`).
///
/// ```
/// use ndarray::array;
/// use scratchnet_network::layers::{Layer, Mode, Relu};
/// let mut layer = Relu::new();
/// assert_eq!(layer.forward(array![[-1.0, 2.0]].view(), Mode::Test), array![[0.0, 2.0]]);
/// assert_eq!(layer.backward(array![[5.0, 5.0]].view()), array![[0.0, 5.0]]);
/// ```
#[derive(Clone, Debug, Default)]
pub struct Relu {
    mask: Option<Array2<bool>>,
}

impl Relu {
    /// A layer that has not run yet.
    ///
    /// ```
    /// let _layer = scratchnet_network::layers::Relu::new();
    /// ```
    pub fn new() -> Self {
        Self { mask: None }
    }
}

impl<A: Scalar> Layer<A> for Relu {
    /// `max(0, x)`, remembering which entries were cut.
    fn forward(&mut self, x: ArrayView2<'_, A>, _mode: Mode) -> Array2<A> {
        let mask = x.mapv(|v| v <= A::zero());
        let out = Zip::from(&x)
            .and(&mask)
            .map_collect(|&v, &cut| if cut { A::zero() } else { v });
        self.mask = Some(mask);
        out
    }

    /// `dout` with the cut entries set to zero.
    fn backward(&mut self, dout: ArrayView2<'_, A>) -> Array2<A> {
        let mask = self.mask.as_ref().expect("Relu: backward before forward");
        Zip::from(&dout)
            .and(mask)
            .map_collect(|&d, &cut| if cut { A::zero() } else { d })
    }
}

/// Which gradient [`SoftmaxWithLoss::backward`] returns.
///
/// The loss is `L = −(1/N) Σ t·ln(y + δ)` with δ = [`CE_DELTA`], and the book trains with
/// `(y − t)/N`, the exact gradient for δ = 0, which is off from the numerical gradient of `L`
/// by about δ/y_t (so a gradient check agrees to ~1e-7, as the book prints). The exact gradient
/// of `L` itself agrees to the numerical gradient's own precision (~1e-10), but it scales each
/// sample's gradient by `y_t/(y_t + δ)`, starving confidently wrong samples: for checks only.
///
/// ```
/// use scratchnet_network::layers::LossGradient;
/// assert_eq!(LossGradient::default(), LossGradient::Book);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LossGradient {
    /// The book's `(y − t)/N`: what every training path uses.
    #[default]
    Book,
    /// The exact gradient of the δ-loss, `(y_k Σ_c w_c − w_k)/N` with `w = t·y/(y + δ)`:
    /// for gradient checks that compare against the loss's numerical gradient to the last digits.
    ExactDelta,
}

impl LossGradient {
    /// The δ the fused kernels take: 0 for the book's `(y − t)/N`, [`CE_DELTA`] for the exact one.
    pub(crate) fn kernel_delta<A: Scalar>(self) -> A {
        match self {
            LossGradient::Book => A::zero(),
            LossGradient::ExactDelta => A::of_f64(CE_DELTA),
        }
    }
}

/// The last layer: softmax, then the batch-mean cross-entropy `L = −(1/N) Σ t·ln(y + δ)`
/// (δ = [`CE_DELTA`]), with one-hot or label targets.
///
/// Its backward pass is the book's `(y − t)/N` ([`LossGradient::Book`]), or, built with
/// [`with_gradient`](Self::with_gradient), the exact gradient of `L` ([`LossGradient::ExactDelta`]).
///
/// ```
/// use ndarray::array;
/// use scratchnet_network::layers::SoftmaxWithLoss;
/// use scratchnet_tensor::Targets;
/// let mut last = SoftmaxWithLoss::new();
/// let labels = [1];
/// let loss = last.forward(array![[0.0, 0.0]].view(), Targets::Labels(&labels));
/// assert!((loss - 2f64.ln()).abs() < 1e-6);
/// let dx = last.backward(1.0);
/// assert_eq!(dx, array![[0.5, -0.5]]); // y − t
/// ```
#[derive(Clone, Debug, Default)]
pub struct SoftmaxWithLoss<'t, A> {
    y: Option<Array2<A>>,
    t: Option<Targets<'t, A>>,
    gradient: LossGradient,
}

impl<'t, A: Scalar> SoftmaxWithLoss<'t, A> {
    /// A layer that has not run yet.
    ///
    /// ```
    /// let last = scratchnet_network::layers::SoftmaxWithLoss::<f64>::new();
    /// assert!(last.y().is_none());
    /// ```
    pub fn new() -> Self {
        Self::with_gradient(LossGradient::Book)
    }

    /// A layer whose [`backward`](Self::backward) returns `gradient`.
    ///
    /// ```
    /// use scratchnet_network::layers::{LossGradient, SoftmaxWithLoss};
    /// use scratchnet_tensor::Targets;
    /// let mut last = SoftmaxWithLoss::with_gradient(LossGradient::ExactDelta);
    /// last.forward(ndarray::array![[0.0, 0.0]].view(), Targets::Labels(&[1]));
    /// let w: f64 = 0.5 / (0.5 + 1e-7); // t·y/(y + δ) of the true class
    /// assert!((last.backward(1.0)[[0, 0]] - 0.5 * w).abs() < 1e-16);
    /// ```
    pub fn with_gradient(gradient: LossGradient) -> Self {
        Self {
            y: None,
            t: None,
            gradient,
        }
    }

    /// The loss of the scores `x` (one sample per row) against `t`, caching `softmax(x)` and `t`.
    ///
    /// # Panics
    /// If `t` does not have one target per row of `x`, a label is out of range, or one-hot rows
    /// do not have one entry per column of `x`.
    ///
    /// ```
    /// use scratchnet_network::layers::SoftmaxWithLoss;
    /// let mut last = SoftmaxWithLoss::<f32>::new();
    /// let t = ndarray::array![[0.0f32, 1.0]];
    /// let loss = last.forward(ndarray::array![[0.0f32, 0.0]].view(), (&t).into());
    /// assert!((loss - 2f32.ln()).abs() < 1e-5);
    /// ```
    pub fn forward(&mut self, x: ArrayView2<'_, A>, t: Targets<'t, A>) -> A {
        t.check(x.nrows(), x.ncols());
        let y = softmax(&x);
        let loss = cross_entropy(&y, t);
        self.y = Some(y);
        self.t = Some(t);
        loss
    }

    /// The softmax output of the last forward pass, the book's `self.y`.
    ///
    /// ```
    /// use scratchnet_network::layers::SoftmaxWithLoss;
    /// let mut last = SoftmaxWithLoss::<f64>::new();
    /// last.forward(ndarray::array![[1.0, 1.0]].view(), scratchnet_tensor::Targets::Labels(&[0]));
    /// assert_eq!(last.y(), Some(&ndarray::array![[0.5, 0.5]]));
    /// ```
    pub fn y(&self) -> Option<&Array2<A>> {
        self.y.as_ref()
    }

    /// ∂L/∂x times `dout` (1 for the loss itself, the book's default), as [`LossGradient`] says.
    ///
    /// # Panics
    /// If called before `forward`.
    ///
    /// ```
    /// use scratchnet_network::layers::SoftmaxWithLoss;
    /// let mut last = SoftmaxWithLoss::<f64>::new();
    /// last.forward(ndarray::array![[0.0, 0.0]].view(), scratchnet_tensor::Targets::Labels(&[0]));
    /// let (one, two) = (last.backward(1.0), last.backward(2.0));
    /// assert_eq!(two, one * 2.0);
    /// ```
    pub fn backward(&mut self, dout: A) -> Array2<A> {
        let (y, t) = match (&self.y, self.t) {
            (Some(y), Some(t)) => (y, t),
            _ => panic!("SoftmaxWithLoss: backward before forward"),
        };
        let n = A::of_f64(y.nrows() as f64);
        // `t` as dense rows: a label is a one-hot row
        let t = t.to_dense(y.ncols());
        if self.gradient == LossGradient::Book {
            // the book's `(self.y - self.t) / batch_size`
            return Zip::from(y)
                .and(&t)
                .map_collect(|&y, &t| (y - t) / n * dout);
        }
        let delta = A::of_f64(CE_DELTA);
        let mut dx = Array2::zeros(y.raw_dim());
        for ((mut dx, y), t) in dx.rows_mut().into_iter().zip(y.rows()).zip(t.rows()) {
            let w = Zip::from(&y)
                .and(&t)
                .map_collect(|&y, &t| t * y / (y + delta));
            let sw = w.sum();
            Zip::from(&mut dx)
                .and(&y)
                .and(&w)
                .for_each(|d, &y, &w| *d = (y * sw - w) / n * dout);
        }
        dx
    }
}

/// ε under batch normalisation's square root, `√(σ² + ε)`: the book's code writes `10e-7`,
/// which is 1e-6 (not the 1e-7 of its losses and optimizers).
pub const BATCH_NORM_EPS: f64 = 10e-7;

/// The fraction of the old running statistics kept at each training step: the book's default
/// `momentum=0.9`.
pub const BATCH_NORM_MOMENTUM: f64 = 0.9;

/// What a [`BatchNormalization`] keeps of its last forward pass for the backward pass.
#[derive(Clone, Debug)]
struct NormCache<A> {
    /// `x − μ` (train mode; empty in test mode, whose backward does not need it).
    xc: Array2<A>,
    /// The normalised input `x̂`.
    xn: Array2<A>,
    /// `√(σ² + ε)` per column: of the batch (train) or of the running variance (test).
    std: Array1<A>,
    train: bool,
}

/// Batch normalisation (§6.3, the book's `BatchNormalization`): each column of the batch
/// normalised to mean 0 and variance 1, then scaled and shifted, `y = γ·x̂ + β`.
///
/// * Train mode: `μ` and `σ²` are the batch's column means and (biased) variances,
///   `x̂ = (x − μ)/√(σ² + ε)` with ε = [`BATCH_NORM_EPS`], and the running statistics move
///   towards them: `running ← m·running + (1 − m)·batch` with `m` = [`momentum`](Self::momentum).
/// * Test mode: `x̂ = (x − running_mean)/√(running_var + ε)`; nothing is updated.
///
/// The backward pass is the book's, through the computational graph: it keeps `dγ = Σ x̂·dout`,
/// `dβ = Σ dout` (sums over the batch) and returns `dx`. After a test-mode forward it returns the
/// exact gradient of that (affine) map, `γ·dout/√(running_var + ε)`.
///
/// ```
/// use ndarray::array;
/// use scratchnet_network::layers::{BatchNormalization, Layer, Mode};
/// let (gamma, beta) = (array![1.0, 2.0], array![0.0, 1.0]);
/// let mut bn = BatchNormalization::new(gamma.view(), beta.view());
/// let y = bn.forward(array![[1.0, 10.0], [3.0, 10.0]].view(), Mode::Train);
/// // column 0: μ = 2, σ² = 1, x̂ = ∓1/√(1 + ε); column 1 is constant, x̂ = 0, y = β
/// let e = 1.0 / (1.0f64 + 1e-6).sqrt();
/// assert!((y[[0, 0]] + e).abs() < 1e-15 && (y[[1, 0]] - e).abs() < 1e-15);
/// assert_eq!((y[[0, 1]], y[[1, 1]]), (1.0, 1.0));
/// // running statistics from 0: 0.9·0 + 0.1·batch
/// assert!((bn.running_mean[0] - 0.2).abs() < 1e-15 && (bn.running_var[0] - 0.1).abs() < 1e-15);
/// let dx = bn.backward(array![[1.0, 1.0], [1.0, 1.0]].view());
/// assert_eq!(bn.dbeta, array![2.0, 2.0]);
/// assert!(dx.iter().all(|d| d.abs() < 1e-12)); // a shift of every row changes nothing
/// ```
#[derive(Clone, Debug)]
pub struct BatchNormalization<'p, A> {
    /// The scale γ, one per column (the net's `gamma{i}`, initially 1).
    pub gamma: ArrayView1<'p, A>,
    /// The shift β, one per column (the net's `beta{i}`, initially 0).
    pub beta: ArrayView1<'p, A>,
    /// The fraction of the running statistics kept per training step (the book's 0.9).
    pub momentum: f64,
    /// The running mean, used at test time (zeros at first, as the book's).
    pub running_mean: Array1<A>,
    /// The running variance, used at test time (zeros at first, as the book's).
    pub running_var: Array1<A>,
    /// ∂L/∂γ of the last backward pass (zeros before).
    pub dgamma: Array1<A>,
    /// ∂L/∂β of the last backward pass (zeros before).
    pub dbeta: Array1<A>,
    cache: Option<NormCache<A>>,
}

impl<'p, A: Scalar> BatchNormalization<'p, A> {
    /// The layer over `gamma` and `beta`, with zero running statistics and momentum 0.9.
    ///
    /// # Panics
    /// If `gamma` and `beta` differ in length.
    ///
    /// ```
    /// let (g, b) = (ndarray::Array1::<f32>::ones(100), ndarray::Array1::zeros(100));
    /// let bn = scratchnet_network::layers::BatchNormalization::new(g.view(), b.view());
    /// assert_eq!((bn.momentum, bn.running_var.len()), (0.9, 100));
    /// ```
    pub fn new(gamma: ArrayView1<'p, A>, beta: ArrayView1<'p, A>) -> Self {
        assert_eq!(
            gamma.len(),
            beta.len(),
            "gamma and beta must have one entry per column"
        );
        let d = gamma.raw_dim();
        Self {
            gamma,
            beta,
            momentum: BATCH_NORM_MOMENTUM,
            running_mean: Array1::zeros(d),
            running_var: Array1::zeros(d),
            dgamma: Array1::zeros(d),
            dbeta: Array1::zeros(d),
            cache: None,
        }
    }

    /// The same layer starting from the given running statistics (a trained net's).
    ///
    /// # Panics
    /// If either does not have one entry per column.
    ///
    /// ```
    /// use ndarray::array;
    /// use scratchnet_network::layers::{BatchNormalization, Layer, Mode};
    /// let (g, b) = (array![2.0f64], array![1.0]);
    /// let mut bn = BatchNormalization::new(g.view(), b.view()).with_running(array![3.0], array![4.0 - 1e-6]);
    /// let y = bn.forward(array![[5.0]].view(), Mode::Test); // 2·(5 − 3)/√4 + 1
    /// assert!((y[[0, 0]] - 3.0).abs() < 1e-15);
    /// ```
    pub fn with_running(mut self, mean: Array1<A>, var: Array1<A>) -> Self {
        assert!(
            mean.len() == self.gamma.len() && var.len() == self.gamma.len(),
            "running statistics must have one entry per column"
        );
        self.running_mean = mean;
        self.running_var = var;
        self
    }
}

impl<A: Scalar> Layer<A> for BatchNormalization<'_, A> {
    /// `γ·x̂ + β`, with the batch's statistics (updating the running ones) in train mode and the
    /// running ones in test mode.
    ///
    /// # Panics
    /// If `x` does not have one column per entry of γ, or (train mode) has no rows.
    fn forward(&mut self, x: ArrayView2<'_, A>, mode: Mode) -> Array2<A> {
        assert_eq!(
            x.ncols(),
            self.gamma.len(),
            "x must have one column per entry of gamma"
        );
        let eps = A::of_f64(BATCH_NORM_EPS);
        let cache = match mode {
            Mode::Train => {
                assert!(x.nrows() > 0, "batch normalisation of an empty batch");
                let n = A::of_f64(x.nrows() as f64);
                let mu = x.sum_axis(Axis(0)) / n;
                let xc = &x - &mu;
                let var = xc.mapv(|v| v * v).sum_axis(Axis(0)) / n;
                let std = var.mapv(|v| (v + eps).sqrt());
                let xn = &xc / &std;
                let (m, keep) = (A::of_f64(self.momentum), A::of_f64(1.0 - self.momentum));
                Zip::from(&mut self.running_mean)
                    .and(&mu)
                    .for_each(|r, &b| *r = m * *r + keep * b);
                Zip::from(&mut self.running_var)
                    .and(&var)
                    .for_each(|r, &b| *r = m * *r + keep * b);
                NormCache {
                    xc,
                    xn,
                    std,
                    train: true,
                }
            }
            Mode::Test => {
                let std = self.running_var.mapv(|v| (v + eps).sqrt());
                let xn = (&x - &self.running_mean) / &std;
                NormCache {
                    xc: Array2::zeros((0, 0)),
                    xn,
                    std,
                    train: false,
                }
            }
        };
        let out = &cache.xn * &self.gamma + self.beta;
        self.cache = Some(cache);
        out
    }

    /// `dx`, keeping `dγ = Σ x̂·dout` and `dβ = Σ dout`. In train mode the book's steps:
    /// `dx̂ = γ·dout`, `dxc = dx̂/std`, `dstd = −Σ dx̂·xc/std²`, `dσ² = dstd/(2·std)`,
    /// `dxc += (2/N)·xc·dσ²`, `dμ = Σ dxc`, `dx = dxc − dμ/N`.
    fn backward(&mut self, dout: ArrayView2<'_, A>) -> Array2<A> {
        let c = self
            .cache
            .as_ref()
            .expect("BatchNormalization: backward before forward");
        assert_eq!(dout.dim(), c.xn.dim(), "dout must have the output's shape");
        self.dbeta = dout.sum_axis(Axis(0));
        self.dgamma = (&c.xn * &dout).sum_axis(Axis(0));
        let dxn = &dout * &self.gamma;
        if !c.train {
            return dxn / &c.std;
        }
        let n = A::of_f64(c.xn.nrows() as f64);
        let mut dxc = &dxn / &c.std;
        let std2 = c.std.mapv(|s| s * s);
        let dstd = -(&dxn * &c.xc / &std2).sum_axis(Axis(0));
        let dvar = &dstd / &c.std * A::of_f64(0.5);
        let two_over_n = A::of_f64(2.0) / n;
        Zip::from(&mut dxc)
            .and(&c.xc)
            .and_broadcast(&dvar)
            .for_each(|d, &xc, &dv| *d += two_over_n * xc * dv);
        let dmu = dxc.sum_axis(Axis(0));
        dxc - &(dmu / n)
    }
}

/// Where a [`Dropout`] gets its masks in train mode.
#[derive(Debug)]
enum MaskSource<'r> {
    /// A new mask for every training forward pass, from this generator.
    Draw(&'r mut Rng),
    /// The same mask for every training forward pass.
    Fixed(ArrayView2<'r, bool>),
    /// Test mode only (a net's layers for prediction).
    None,
}

/// Dropout (§6.4.3, the book's `Dropout`): in train mode each unit is kept where a uniform draw
/// in [0, 1) exceeds [`ratio`](Self::ratio) (the book's `dropout_ratio`, `mask = rand > ratio`)
/// and zeroed elsewhere; in test mode every unit is scaled by `1 − ratio`, its expected keep rate.
///
/// The masks come from an explicit seeded [`Rng`] ([`new`](Self::new)), drawn in row-major
/// order on the calling thread, so one seed gives the same masks on any number of threads; or a
/// mask is given once and held fixed ([`with_mask`](Self::with_mask)), as a gradient check needs.
///
/// ```
/// use ndarray::array;
/// use scratchnet_network::layers::{Dropout, Layer, Mode};
/// let mut rng = scratchnet_tensor::rng_from_seed(0);
/// let mut drop = Dropout::new(0.5, &mut rng);
/// let x = array![[1.0, 2.0, 3.0, 4.0]];
/// let y = drop.forward(x.view(), Mode::Train);
/// let mask = drop.mask().unwrap().to_owned();
/// for ((y, x), keep) in y.iter().zip(&x).zip(&mask) {
///     assert_eq!(*y, if *keep { *x } else { 0.0 });
/// }
/// let dx = Layer::<f64>::backward(&mut drop, array![[1.0, 1.0, 1.0, 1.0]].view());
/// assert_eq!(dx, mask.mapv(|k| if k { 1.0 } else { 0.0 }));
/// assert_eq!(drop.forward(x.view(), Mode::Test), x * 0.5);
/// ```
#[derive(Debug)]
pub struct Dropout<'r> {
    /// The probability of dropping a unit in training, the book's `dropout_ratio`.
    pub ratio: f64,
    source: MaskSource<'r>,
    /// The mask last drawn (for [`MaskSource::Draw`]).
    drawn: Option<Array2<bool>>,
    /// The mode of the last forward pass.
    last: Option<Mode>,
}

impl<'r> Dropout<'r> {
    /// A layer that draws a new mask from `rng` at every training forward pass.
    ///
    /// # Panics
    /// If `ratio` is not in [0, 1).
    ///
    /// ```
    /// let mut rng = scratchnet_tensor::rng_from_seed(1);
    /// assert_eq!(scratchnet_network::layers::Dropout::new(0.2, &mut rng).ratio, 0.2);
    /// ```
    pub fn new(ratio: f64, rng: &'r mut Rng) -> Self {
        Self::with_source(ratio, MaskSource::Draw(rng))
    }

    /// A layer that applies `mask` (true = kept) at every training forward pass.
    ///
    /// # Panics
    /// If `ratio` is not in [0, 1).
    ///
    /// ```
    /// use ndarray::array;
    /// use scratchnet_network::layers::{Dropout, Layer, Mode};
    /// let mask = array![[true, false]];
    /// let mut drop = Dropout::with_mask(0.5, mask.view());
    /// assert_eq!(drop.forward(array![[3.0, 4.0]].view(), Mode::Train), array![[3.0, 0.0]]);
    /// ```
    pub fn with_mask(ratio: f64, mask: ArrayView2<'r, bool>) -> Self {
        Self::with_source(ratio, MaskSource::Fixed(mask))
    }

    /// A layer for test-mode passes only (its training forward pass panics).
    pub(crate) fn test_only(ratio: f64) -> Self {
        Self::with_source(ratio, MaskSource::None)
    }

    fn with_source(ratio: f64, source: MaskSource<'r>) -> Self {
        assert!(
            (0.0..1.0).contains(&ratio),
            "the dropout ratio must be in [0, 1), not {ratio}"
        );
        Self {
            ratio,
            source,
            drawn: None,
            last: None,
        }
    }

    /// `dim` uniform draws from `rng` in row-major order, each kept (true) where it exceeds
    /// `ratio`: the book's `np.random.rand(*x.shape) > self.dropout_ratio`.
    ///
    /// ```
    /// let mut rng = scratchnet_tensor::rng_from_seed(7);
    /// let mask = scratchnet_network::layers::Dropout::draw_mask(&mut rng, (100, 100), 0.2);
    /// let kept = mask.iter().filter(|&&k| k).count() as f64 / 1e4;
    /// assert!((kept - 0.8).abs() < 0.02);
    /// ```
    pub fn draw_mask(rng: &mut Rng, dim: (usize, usize), ratio: f64) -> Array2<bool> {
        Array2::from_shape_simple_fn(dim, || rng.random::<f64>() > ratio)
    }

    /// The mask of the last training forward pass (true = kept), if there was one.
    pub fn mask(&self) -> Option<ArrayView2<'_, bool>> {
        match (&self.source, &self.drawn) {
            (MaskSource::Fixed(m), _) if self.last == Some(Mode::Train) => Some(m.view()),
            (MaskSource::Draw(_), Some(m)) => Some(m.view()),
            _ => None,
        }
    }
}

impl<A: Scalar> Layer<A> for Dropout<'_> {
    /// Train: `x` where the mask keeps, 0 elsewhere. Test: `x·(1 − ratio)`.
    ///
    /// # Panics
    /// In train mode, if a fixed mask does not have the shape of `x`.
    fn forward(&mut self, x: ArrayView2<'_, A>, mode: Mode) -> Array2<A> {
        self.last = Some(mode);
        if mode == Mode::Test {
            let keep = A::of_f64(1.0 - self.ratio);
            return x.mapv(|v| v * keep);
        }
        let mask = match &mut self.source {
            MaskSource::Draw(rng) => {
                self.drawn = Some(Self::draw_mask(rng, x.dim(), self.ratio));
                self.drawn.as_ref().expect("just drawn").view()
            }
            MaskSource::Fixed(m) => m.view(),
            MaskSource::None => panic!("Dropout: a training pass needs a mask or an Rng"),
        };
        assert_eq!(
            mask.dim(),
            x.dim(),
            "the dropout mask must have the shape of x"
        );
        Zip::from(&x)
            .and(&mask)
            .map_collect(|&v, &keep| if keep { v } else { A::zero() })
    }

    /// Train: `dout` where the mask kept, 0 elsewhere. Test: `dout·(1 − ratio)`.
    fn backward(&mut self, dout: ArrayView2<'_, A>) -> Array2<A> {
        match self.last.expect("Dropout: backward before forward") {
            Mode::Test => {
                let keep = A::of_f64(1.0 - self.ratio);
                dout.mapv(|v| v * keep)
            }
            Mode::Train => {
                let mask = self.mask().expect("a training pass has a mask");
                assert_eq!(mask.dim(), dout.dim(), "dout must have the output's shape");
                Zip::from(&dout)
                    .and(&mask)
                    .map_collect(|&d, &keep| if keep { d } else { A::zero() })
            }
        }
    }
}

/// Batch-mean cross-entropy of probabilities `y` against either kind of target.
pub(crate) fn cross_entropy<A: Scalar>(y: &Array2<A>, t: Targets<'_, A>) -> A {
    match t {
        Targets::Labels(l) => cross_entropy_error_labels(y, l),
        Targets::OneHot(t) => cross_entropy_error(y, &t),
    }
}
