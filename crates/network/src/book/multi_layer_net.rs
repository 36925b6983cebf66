//! The book's fully connected net of any depth (chapter 6, `common/multi_layer_net.py` and
//! `multi_layer_net_extend.py`): `Affine → [BatchNorm] → activation → [Dropout]` for every
//! hidden layer, then `Affine → SoftmaxWithLoss`, with the weight initialisations of §6.2, the
//! batch normalisation of §6.3, and the L2 weight decay and dropout of §6.4, written the way the
//! book writes it over the [`layers`](crate::layers).

use std::fmt;
use std::str::FromStr;

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, ArrayViewD, ArrayViewMutD};
use scratchnet_numgrad::numerical_gradient;
use scratchnet_tensor::{Rng, Scalar, randn};
use serde::{Deserialize, Serialize};

use crate::Targets;
use crate::input::Input;
use crate::layers::{
    Affine, BatchNormalization, Dropout, Layer, Mode, Relu, Sigmoid, SoftmaxWithLoss,
};
use crate::optimizer::Optimizer;

/// The hidden layers' activation: the book's `activation='relu'` or `'sigmoid'`.
///
/// ```
/// use scratchnet_network::Activation;
/// assert_eq!("relu".parse::<Activation>().unwrap(), Activation::Relu);
/// assert_eq!(Activation::Sigmoid.to_string(), "sigmoid");
/// assert!("tanh".parse::<Activation>().is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    /// `max(0, x)`.
    Relu,
    /// `1 / (1 + e^(−x))`.
    Sigmoid,
}

impl fmt::Display for Activation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Activation::Relu => "relu",
            Activation::Sigmoid => "sigmoid",
        })
    }
}

impl FromStr for Activation {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "relu" => Ok(Activation::Relu),
            "sigmoid" => Ok(Activation::Sigmoid),
            _ => Err(format!(
                "unknown activation {s:?}: expected relu or sigmoid"
            )),
        }
    }
}

/// How the weights are drawn: the book's `weight_init_std`, a number or a name (§6.2).
///
/// ```
/// use scratchnet_network::WeightInit;
/// assert_eq!("0.01".parse::<WeightInit>().unwrap(), WeightInit::Std(0.01));
/// assert_eq!("he".parse::<WeightInit>().unwrap(), WeightInit::He);
/// assert_eq!("relu".parse::<WeightInit>().unwrap(), WeightInit::He); // the book's alias
/// assert_eq!("xavier".parse::<WeightInit>().unwrap(), WeightInit::Xavier);
/// assert_eq!(WeightInit::He.scale(50), (2.0f64 / 50.0).sqrt());
/// assert!("big".parse::<WeightInit>().is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WeightInit {
    /// N(0, σ²) with this σ for every layer (the book's chapter 4 and 5 nets use 0.01).
    Std(f64),
    /// Xavier (Glorot): σ = √(1/n), n the number of inputs of the layer; the book's `'sigmoid'`.
    Xavier,
    /// He: σ = √(2/n); the book's `'relu'`.
    He,
}

impl WeightInit {
    /// σ for a layer with `fan_in` inputs.
    pub fn scale(self, fan_in: usize) -> f64 {
        match self {
            WeightInit::Std(s) => s,
            WeightInit::Xavier => (1.0 / fan_in as f64).sqrt(),
            WeightInit::He => (2.0 / fan_in as f64).sqrt(),
        }
    }
}

impl fmt::Display for WeightInit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WeightInit::Std(s) => write!(f, "{s}"),
            WeightInit::Xavier => f.write_str("xavier"),
            WeightInit::He => f.write_str("he"),
        }
    }
}

impl FromStr for WeightInit {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "he" | "relu" => Ok(WeightInit::He),
            "xavier" | "sigmoid" => Ok(WeightInit::Xavier),
            other => match other.parse::<f64>() {
                Ok(v) if v.is_finite() && v >= 0.0 => Ok(WeightInit::Std(v)),
                _ => Err(format!(
                    "unknown weight init {s:?}: expected a standard deviation ≥ 0, xavier or he"
                )),
            },
        }
    }
}

/// The weights and bias of one affine layer (the book's `W{i}`, `b{i}`), or their gradients.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound = "A: Scalar")]
pub struct AffineParams<A> {
    /// `W`, `(inputs, outputs)`.
    pub w: Array2<A>,
    /// `b`, `(outputs,)`.
    pub b: Array1<A>,
}

/// The state of one batch normalisation layer of a net: the book's parameters `gamma{i}`,
/// `beta{i}` and its layer's `running_mean`, `running_var` (what test mode normalises with).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound = "A: Scalar")]
pub struct BatchNormParams<A> {
    /// γ, `(units,)`, initially 1.
    pub gamma: Array1<A>,
    /// β, `(units,)`, initially 0.
    pub beta: Array1<A>,
    /// The running mean, initially 0.
    pub running_mean: Array1<A>,
    /// The running variance, initially 0.
    pub running_var: Array1<A>,
}

impl<A: Scalar> BatchNormParams<A> {
    /// γ = 1, β = 0 and zero running statistics for `units` units, as the book starts them.
    ///
    /// ```
    /// let p = scratchnet_network::BatchNormParams::<f64>::new(3);
    /// assert_eq!((p.gamma.sum(), p.beta.sum(), p.running_var.len()), (3.0, 0.0, 3));
    /// ```
    pub fn new(units: usize) -> Self {
        BatchNormParams {
            gamma: Array1::ones(units),
            beta: Array1::zeros(units),
            running_mean: Array1::zeros(units),
            running_var: Array1::zeros(units),
        }
    }
}

/// ∂L/∂γ and ∂L/∂β of one batch normalisation layer (the book's `grads['gamma{i}']`,
/// `grads['beta{i}']`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound = "A: Scalar")]
pub struct BatchNormGrads<A> {
    /// ∂L/∂γ.
    pub gamma: Array1<A>,
    /// ∂L/∂β.
    pub beta: Array1<A>,
}

/// The gradient of a [`MultiLayerNet`], what [`MultiLayerNet::gradient`] returns and
/// [`MultiLayerNet::update`] takes: `dW + λW` and `db` per affine layer, and `dγ`, `dβ` per
/// batch normalisation layer (none without batch norm).
///
/// ```
/// use scratchnet_network::{Activation, MultiLayerNet, WeightInit};
/// let mut rng = scratchnet_tensor::rng_from_seed(0);
/// let mut net = MultiLayerNet::<f64>::new(3, &[4], 2, Activation::Relu, WeightInit::He, &mut rng)
///     .with_batch_norm();
/// let g = net.gradient(&ndarray::array![[1.0, 0.0, 0.5], [0.0, 1.0, 0.0]], &[1, 0], &mut rng);
/// let names: Vec<String> = g.named().into_iter().map(|(n, _)| n).collect();
/// assert_eq!(names, ["W1", "b1", "gamma1", "beta1", "W2", "b2"]);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound = "A: Scalar")]
pub struct MultiLayerGrads<A> {
    /// `dW + λW`, `db` of each affine layer, input side first.
    pub affine: Vec<AffineParams<A>>,
    /// `dγ`, `dβ` of each batch normalisation layer (one per hidden layer, or none).
    pub batch_norm: Vec<BatchNormGrads<A>>,
}

impl<A: Scalar> MultiLayerGrads<A> {
    /// Every tensor with its book name, in the book's order `W1, b1, gamma1, beta1, W2, …`
    /// (the order of [`MultiLayerNet::tensors_mut`]).
    pub fn named(&self) -> Vec<(String, ArrayViewD<'_, A>)> {
        let mut out = Vec::new();
        let mut bn = self.batch_norm.iter();
        for (i, p) in self.affine.iter().enumerate() {
            out.push((format!("W{}", i + 1), p.w.view().into_dyn()));
            out.push((format!("b{}", i + 1), p.b.view().into_dyn()));
            if let Some(g) = bn.next() {
                out.push((format!("gamma{}", i + 1), g.gamma.view().into_dyn()));
                out.push((format!("beta{}", i + 1), g.beta.view().into_dyn()));
            }
        }
        out
    }
}

/// The book's fully connected net of any depth, `multi_layer_net.py` and
/// `multi_layer_net_extend.py`: for every hidden layer
/// `Affine → [BatchNorm] → Relu|Sigmoid → [Dropout]`, then `Affine → SoftmaxWithLoss`.
///
/// [`predict`](Self::predict) returns the scores before the softmax (as the book's chapter 5–6
/// nets do; the argmax is the same). With `weight_decay_lambda` λ > 0 the loss adds
/// `½λ Σ‖W‖²` over every weight matrix and the gradient `λW` to each `dW` (§6.4.1).
/// [`with_batch_norm`](Self::with_batch_norm) and [`with_dropout`](Self::with_dropout) add the
/// book's `use_batchnorm` and `use_dropout`/`dropout_ration` (§6.3, §6.4.3).
///
/// `predict`, `loss` and `accuracy` run in test mode (the book's default `train_flg=False`):
/// batch norm with its running statistics, dropout scaling by `1 − ratio`. The gradients run in
/// train mode: batch statistics, and dropout masks drawn from the `rng` they are given.
///
/// ```
/// use scratchnet_network::{Activation, MultiLayerNet, WeightInit, optimizer::Adam};
/// let mut rng = scratchnet_tensor::rng_from_seed(0);
/// let mut net = MultiLayerNet::<f64>::new(4, &[8, 8], 3, Activation::Relu, WeightInit::He, &mut rng);
/// let x = ndarray::array![[0.0, 0.5, 1.0, 0.25], [1.0, 0.0, 0.0, 0.75]];
/// let t = [2, 0];
/// let before = net.loss(&x, &t);
/// let mut adam = Adam::new(0.01);
/// for _ in 0..20 {
///     let grads = net.gradient(&x, &t, &mut rng);
///     net.update(&mut adam, &grads);
/// }
/// assert!(net.loss(&x, &t) < before);
/// assert_eq!(net.accuracy(&x, &t), 1.0);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound = "A: Scalar")]
pub struct MultiLayerNet<A = f64> {
    /// `W1, b1, W2, b2, …`: one entry per affine layer, input side first.
    pub params: Vec<AffineParams<A>>,
    /// The hidden layers' activation.
    pub activation: Activation,
    /// λ of the L2 weight decay (0 for none, the book's default).
    pub weight_decay_lambda: f64,
    /// γ, β and running statistics of the batch norm after each hidden affine layer: one entry
    /// per hidden layer, or none (the book's `use_batchnorm=False`).
    #[serde(default)]
    pub batch_norm: Vec<BatchNormParams<A>>,
    /// The dropout ratio after each hidden activation (the book's `dropout_ration`), or `None`
    /// for no dropout (`use_dropout=False`).
    #[serde(default)]
    pub dropout: Option<f64>,
}

/// The running mean and variance of each batch norm, as a training pass leaves them.
pub(crate) type RunningStats<A> = Vec<(Array1<A>, Array1<A>)>;

/// One tensor of a net replaced by a perturbed view, for the numerical gradient.
#[derive(Clone, Copy)]
pub(crate) enum Perturbed<'a, A> {
    None,
    W(usize, ArrayView2<'a, A>),
    B(usize, ArrayView1<'a, A>),
    Gamma(usize, ArrayView1<'a, A>),
    Beta(usize, ArrayView1<'a, A>),
}

/// The book's `self.layers` (affine, batch norm, activation and dropout layers in order) and
/// `self.last_layer`, over views of the weights: the net's own, or with one tensor perturbed for
/// the numerical gradient. The affine layers start at layer `first` (1 for the fast path, whose
/// first layer is sparse); every hidden layer's batch norm, activation and dropout are here.
pub(crate) struct Layers<'p, 't, A: Scalar> {
    first: usize,
    pub(crate) affine: Vec<Affine<'p, A>>,
    pub(crate) batch_norm: Vec<BatchNormalization<'p, A>>,
    pub(crate) activation: Vec<Box<dyn Layer<A>>>,
    pub(crate) dropout: Vec<Dropout<'p>>,
    pub(crate) last_layer: SoftmaxWithLoss<'t, A>,
}

impl<'p, 't, A: Scalar> Layers<'p, 't, A> {
    /// The layers of `net` from affine layer `first` on, with `sub` in place of its tensor, and
    /// dropout (if the net has it) applying `masks` in train mode (`None`: test mode only).
    pub(crate) fn of<'s: 'p>(
        net: &'p MultiLayerNet<A>,
        first: usize,
        sub: Perturbed<'s, A>,
        masks: Option<&'p [Array2<bool>]>,
    ) -> Self {
        let affine = (first..net.params.len())
            .map(|k| {
                let p = &net.params[k];
                let w = match sub {
                    Perturbed::W(j, w) if j == k => w.reborrow(),
                    _ => p.w.view(),
                };
                let b = match sub {
                    Perturbed::B(j, b) if j == k => b.reborrow(),
                    _ => p.b.view(),
                };
                Affine::new(w, b)
            })
            .collect();
        let batch_norm = net
            .batch_norm
            .iter()
            .enumerate()
            .map(|(k, p)| {
                let gamma = match sub {
                    Perturbed::Gamma(j, g) if j == k => g.reborrow(),
                    _ => p.gamma.view(),
                };
                let beta = match sub {
                    Perturbed::Beta(j, b) if j == k => b.reborrow(),
                    _ => p.beta.view(),
                };
                BatchNormalization::new(gamma, beta)
                    .with_running(p.running_mean.clone(), p.running_var.clone())
            })
            .collect();
        let hidden = net.params.len() - 1;
        let dropout = match (net.dropout, masks) {
            (None, _) => Vec::new(),
            (Some(r), Some(m)) => m.iter().map(|m| Dropout::with_mask(r, m.view())).collect(),
            (Some(r), None) => (0..hidden).map(|_| Dropout::test_only(r)).collect(),
        };
        Layers {
            first,
            affine,
            batch_norm,
            activation: (0..hidden)
                .map(|_| activation_layer(net.activation))
                .collect(),
            dropout,
            last_layer: SoftmaxWithLoss::new(),
        }
    }

    /// Affine layer `k` of the net.
    fn affine_at(&mut self, k: usize) -> &mut Affine<'p, A> {
        &mut self.affine[k - self.first]
    }

    /// Hidden layer `i` forward from its affine output `a`: `[BatchNorm] → activation → [Dropout]`.
    fn hidden_forward(&mut self, i: usize, a: Array2<A>, mode: Mode) -> Array2<A> {
        let mut x = a;
        if let Some(bn) = self.batch_norm.get_mut(i) {
            x = bn.forward(x.view(), mode);
        }
        x = self.activation[i].forward(x.view(), mode);
        if let Some(d) = self.dropout.get_mut(i) {
            x = Layer::<A>::forward(d, x.view(), mode);
        }
        x
    }

    /// Hidden layer `i` backward to its affine output, in reverse order.
    fn hidden_backward(&mut self, i: usize, dout: Array2<A>) -> Array2<A> {
        let mut d = dout;
        if let Some(drop) = self.dropout.get_mut(i) {
            d = Layer::<A>::backward(drop, d.view());
        }
        d = self.activation[i].backward(d.view());
        if let Some(bn) = self.batch_norm.get_mut(i) {
            d = bn.backward(d.view());
        }
        d
    }

    /// The scores from the first affine layer's output `a1`: every hidden layer, each followed
    /// by the next affine layer.
    pub(crate) fn predict_after_first(&mut self, a1: Array2<A>, mode: Mode) -> Array2<A> {
        let mut a = a1;
        for i in 0..self.activation.len() {
            let z = self.hidden_forward(i, a, mode);
            a = self.affine_at(i + 1).forward(z.view(), mode);
        }
        a
    }

    /// The scores: `Affine1, [BatchNorm1], Activation1, [Dropout1], Affine2, …, AffineL`.
    fn predict(&mut self, x: ArrayView2<'_, A>, mode: Mode) -> Array2<A> {
        let a1 = self.affine_at(0).forward(x, mode);
        self.predict_after_first(a1, mode)
    }

    /// The data term of the loss, `last_layer.forward(predict(x), t)`.
    fn loss(&mut self, x: ArrayView2<'_, A>, t: Targets<'t, A>, mode: Mode) -> A {
        let y = self.predict(x, mode);
        self.last_layer.forward(y.view(), t)
    }

    /// `last_layer.backward(1)` and every layer's backward pass in reverse down to the first
    /// affine layer's output: returns ∂L/∂a1.
    pub(crate) fn backward_to_first(&mut self) -> Array2<A> {
        let mut dout = self.last_layer.backward(A::one());
        for i in (0..self.activation.len()).rev() {
            dout = self.affine_at(i + 1).backward(dout.view());
            dout = self.hidden_backward(i, dout);
        }
        dout
    }

    /// The gradients of the layers from `first` on (`dW + λW` via `net`), the batch norms' and
    /// their updated running statistics, after [`backward_to_first`](Self::backward_to_first)
    /// (and, for `first == 0`, the first affine layer's backward).
    pub(crate) fn into_grads(
        self,
        net: &MultiLayerNet<A>,
    ) -> (
        Vec<AffineParams<A>>,
        Vec<BatchNormGrads<A>>,
        RunningStats<A>,
    ) {
        let affine = self
            .affine
            .into_iter()
            .map(|a| AffineParams {
                w: net.decayed(a.dw, &a.w),
                b: a.db,
            })
            .collect();
        let (bn, stats) = self
            .batch_norm
            .into_iter()
            .map(|b| {
                (
                    BatchNormGrads {
                        gamma: b.dgamma,
                        beta: b.dbeta,
                    },
                    (b.running_mean, b.running_var),
                )
            })
            .unzip();
        (affine, bn, stats)
    }
}

fn activation_layer<A: Scalar>(activation: Activation) -> Box<dyn Layer<A>> {
    match activation {
        Activation::Relu => Box::new(Relu::new()),
        Activation::Sigmoid => Box::new(Sigmoid::new()),
    }
}

impl<A: Scalar> MultiLayerNet<A> {
    /// A net `input → hidden[0] → … → output` with weights drawn layer by layer (W1 first, each
    /// in row-major order) from N(0, σ²), σ from `init` and the layer's number of inputs, and
    /// zero biases; no weight decay, batch norm or dropout.
    ///
    /// # Panics
    /// If any size is 0.
    ///
    /// ```
    /// use scratchnet_network::{Activation, MultiLayerNet, WeightInit};
    /// let net = MultiLayerNet::<f32>::new(784, &[100, 100], 10, Activation::Relu, WeightInit::He,
    ///     &mut scratchnet_tensor::rng_from_seed(1));
    /// assert_eq!(net.sizes(), vec![784, 100, 100, 10]);
    /// assert_eq!(net.len(), 784 * 100 + 100 + 100 * 100 + 100 + 100 * 10 + 10);
    /// ```
    pub fn new(
        input: usize,
        hidden: &[usize],
        output: usize,
        activation: Activation,
        init: WeightInit,
        rng: &mut Rng,
    ) -> Self {
        let sizes: Vec<usize> = std::iter::once(input)
            .chain(hidden.iter().copied())
            .chain(std::iter::once(output))
            .collect();
        assert!(
            sizes.iter().all(|&n| n > 0),
            "layer sizes must be positive: {sizes:?}"
        );
        let params = sizes
            .windows(2)
            .map(|io| AffineParams {
                w: randn((io[0], io[1]), init.scale(io[0]), rng),
                b: Array1::zeros(io[1]),
            })
            .collect();
        MultiLayerNet {
            params,
            activation,
            weight_decay_lambda: 0.0,
            batch_norm: Vec::new(),
            dropout: None,
        }
    }

    /// The same net with L2 weight decay λ (the book's `weight_decay_lambda`).
    ///
    /// ```
    /// use scratchnet_network::{Activation, MultiLayerNet, WeightInit};
    /// let net = MultiLayerNet::<f64>::new(2, &[2], 2, Activation::Relu, WeightInit::Std(1.0),
    ///     &mut scratchnet_tensor::rng_from_seed(0));
    /// let x = ndarray::array![[1.0, 2.0]];
    /// let w2: f64 = net.params.iter().map(|p| p.w.iter().map(|w| w * w).sum::<f64>()).sum();
    /// let decayed = net.clone().with_weight_decay(0.1);
    /// assert!((decayed.loss(&x, &[1]) - net.loss(&x, &[1]) - 0.5 * 0.1 * w2).abs() < 1e-12);
    /// ```
    pub fn with_weight_decay(mut self, lambda: f64) -> Self {
        self.weight_decay_lambda = lambda;
        self
    }

    /// The same net with a batch normalisation layer after each hidden affine layer (the book's
    /// `use_batchnorm=True`): γ = 1, β = 0, zero running statistics.
    ///
    /// ```
    /// use scratchnet_network::{Activation, MultiLayerNet, WeightInit};
    /// let net = MultiLayerNet::<f64>::new(4, &[5, 3], 2, Activation::Relu, WeightInit::He,
    ///     &mut scratchnet_tensor::rng_from_seed(0)).with_batch_norm();
    /// assert_eq!(net.batch_norm.len(), 2);
    /// assert_eq!(net.len(), (4 * 5 + 5) + 2 * 5 + (5 * 3 + 3) + 2 * 3 + (3 * 2 + 2));
    /// ```
    pub fn with_batch_norm(mut self) -> Self {
        let hidden = self.params.len() - 1;
        self.batch_norm = (0..hidden)
            .map(|i| BatchNormParams::new(self.params[i].w.ncols()))
            .collect();
        self
    }

    /// The same net with dropout after each hidden activation (the book's `use_dropout=True,
    /// dropout_ration=ratio`).
    ///
    /// # Panics
    /// If `ratio` is not in [0, 1).
    ///
    /// ```
    /// use scratchnet_network::{Activation, MultiLayerNet, WeightInit};
    /// let net = MultiLayerNet::<f64>::new(4, &[5], 2, Activation::Relu, WeightInit::He,
    ///     &mut scratchnet_tensor::rng_from_seed(0)).with_dropout(0.2);
    /// assert_eq!(net.dropout, Some(0.2));
    /// ```
    pub fn with_dropout(mut self, ratio: f64) -> Self {
        assert!(
            (0.0..1.0).contains(&ratio),
            "the dropout ratio must be in [0, 1), not {ratio}"
        );
        self.dropout = Some(ratio);
        self
    }

    /// The layer sizes, input first: `[input, hidden…, output]`.
    pub fn sizes(&self) -> Vec<usize> {
        std::iter::once(self.params[0].w.nrows())
            .chain(self.params.iter().map(|p| p.w.ncols()))
            .collect()
    }

    /// Number of scalar parameters (weights, biases, γ and β; not the running statistics).
    pub fn len(&self) -> usize {
        let affine: usize = self.params.iter().map(|p| p.w.len() + p.b.len()).sum();
        let bn: usize = self
            .batch_norm
            .iter()
            .map(|p| p.gamma.len() + p.beta.len())
            .sum();
        affine + bn
    }

    /// True when the net has no parameters (never, for a net made by [`new`](Self::new)).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Panics with a clear message unless a batch of `dim = (rows, cols)` and `t` fit the net.
    pub(crate) fn check(&self, (rows, cols): (usize, usize), t: &Targets<'_, A>) {
        let sizes = self.sizes();
        assert_eq!(
            cols, sizes[0],
            "x has {cols} columns but the net has {} inputs",
            sizes[0]
        );
        t.check(rows, sizes[sizes.len() - 1]);
    }

    /// `dW + λW`: a weight gradient with the weight decay's term (§6.4.1).
    pub(crate) fn decayed(&self, dw: Array2<A>, w: &ArrayView2<'_, A>) -> Array2<A> {
        if self.weight_decay_lambda == 0.0 {
            return dw;
        }
        let lambda = A::of_f64(self.weight_decay_lambda);
        dw + &w.mapv(|w| lambda * w)
    }

    /// `½λ Σ_i ‖W_i‖²` over the given weights (0 without weight decay).
    pub(crate) fn decay<'a>(&self, weights: impl Iterator<Item = ArrayView2<'a, A>>) -> A
    where
        A: 'a,
    {
        if self.weight_decay_lambda == 0.0 {
            return A::zero();
        }
        let half_lambda = A::of_f64(0.5 * self.weight_decay_lambda);
        weights.fold(A::zero(), |acc, w| {
            acc + half_lambda * w.iter().fold(A::zero(), |s, &v| s + v * v)
        })
    }

    /// The dropout masks of one training pass over `rows` samples, hidden layer 1 first, each in
    /// row-major order ([`Dropout::draw_mask`]); none (and `rng` untouched) without dropout.
    pub(crate) fn draw_masks(&self, rows: usize, rng: &mut Rng) -> Vec<Array2<bool>> {
        match self.dropout {
            None => Vec::new(),
            Some(r) => self.params[..self.params.len() - 1]
                .iter()
                .map(|p| Dropout::draw_mask(rng, (rows, p.w.ncols()), r))
                .collect(),
        }
    }

    /// Keeps the running statistics a training pass computed.
    pub(crate) fn set_running(&mut self, stats: RunningStats<A>) {
        for (p, (mean, var)) in self.batch_norm.iter_mut().zip(stats) {
            p.running_mean = mean;
            p.running_var = var;
        }
    }

    /// The scores of every class, one row per sample (before the softmax), in test mode.
    ///
    /// # Panics
    /// If `x` does not have one column per input.
    pub fn predict<'x>(&self, x: impl Into<Input<'x, A>>) -> Array2<A> {
        let x = x.into();
        let x = x.to_dense();
        let n_in = self.sizes()[0];
        assert_eq!(
            x.ncols(),
            n_in,
            "x has {} columns but the net has {n_in} inputs",
            x.ncols()
        );
        Layers::of(self, 0, Perturbed::None, None).predict(x.view(), Mode::Test)
    }

    /// The batch-mean cross-entropy plus the weight decay, with one-hot or label targets, in
    /// test mode.
    ///
    /// # Panics
    /// If `x` and the targets do not fit the net (the message says which).
    pub fn loss<'x, 't>(&self, x: impl Into<Input<'x, A>>, t: impl Into<Targets<'t, A>>) -> A {
        let x = x.into();
        let x = x.to_dense();
        let t = t.into();
        self.check(x.dim(), &t);
        let data = Layers::of(self, 0, Perturbed::None, None).loss(x.view(), t, Mode::Test);
        data + self.decay(self.params.iter().map(|p| p.w.view()))
    }

    /// Fraction of samples whose highest score is the target class (0 for no samples), in test
    /// mode.
    ///
    /// # Panics
    /// If `x` and the targets do not fit the net.
    pub fn accuracy<'x, 't>(
        &self,
        x: impl Into<Input<'x, A>>,
        t: impl Into<Targets<'t, A>>,
    ) -> f64 {
        let x = x.into();
        let x = x.to_dense();
        let t = t.into();
        self.check(x.dim(), &t);
        t.accuracy_of(&Layers::of(self, 0, Perturbed::None, None).predict(x.view(), Mode::Test))
    }

    /// The gradient by backpropagation, as the book writes it: the loss forward through the
    /// layers in train mode, `last_layer.backward(1)`, every layer's backward in reverse, then
    /// `dW_i + λW_i`, `db_i` of each affine layer and `dγ_i`, `dβ_i` of each batch norm.
    ///
    /// As in the book, the training forward pass moves the batch norms' running statistics
    /// (hence `&mut self`). Dropout masks are drawn from `rng` (hidden layer 1 first, row-major);
    /// without dropout `rng` is not used.
    ///
    /// # Panics
    /// If `x` and the targets do not fit the net.
    ///
    /// ```
    /// use scratchnet_network::{Activation, MultiLayerNet, WeightInit};
    /// let mut net = MultiLayerNet::<f64>::new(3, &[4, 4], 2, Activation::Sigmoid, WeightInit::Xavier,
    ///     &mut scratchnet_tensor::rng_from_seed(3));
    /// let (x, t) = (ndarray::array![[0.0, 0.5, 1.0], [1.0, 0.0, 0.25]], [1, 0]);
    /// let mut rng = scratchnet_tensor::rng_from_seed(0);
    /// let n = net.numerical_gradient(&x, &t, &mut rng);
    /// let g = net.gradient(&x, &t, &mut rng);
    /// for ((_, g), (_, n)) in g.named().iter().zip(n.named()) {
    ///     // the book's (y − t)/N leaves out the loss's δ = 1e-7: agreement to ~1e-7
    ///     assert!((g - &n).iter().all(|d| d.abs() < 1e-6));
    /// }
    /// ```
    pub fn gradient<'x, 't>(
        &mut self,
        x: impl Into<Input<'x, A>>,
        t: impl Into<Targets<'t, A>>,
        rng: &mut Rng,
    ) -> MultiLayerGrads<A> {
        let x = x.into();
        let x = x.to_dense();
        let t = t.into();
        self.check(x.dim(), &t);
        let masks = self.draw_masks(x.nrows(), rng);
        let (grads, stats) = self.gradient_with(x.view(), t, &masks);
        self.set_running(stats);
        grads
    }

    /// The book's path of [`gradient`](Self::gradient) with the given dropout masks, leaving the
    /// net as it is: the gradients and the running statistics the pass computed.
    pub(crate) fn gradient_with(
        &self,
        x: ArrayView2<'_, A>,
        t: Targets<'_, A>,
        masks: &[Array2<bool>],
    ) -> (MultiLayerGrads<A>, RunningStats<A>) {
        let mut layers = Layers::of(self, 0, Perturbed::None, Some(masks));
        layers.loss(x, t, Mode::Train);
        let d1 = layers.backward_to_first();
        layers.affine_at(0).backward(d1.view());
        let (affine, batch_norm, stats) = layers.into_grads(self);
        (MultiLayerGrads { affine, batch_norm }, stats)
    }

    /// The book's numerical gradient: [`scratchnet_numgrad::numerical_gradient`] (central
    /// differences, parallel over the scalars) of the train-mode loss over each tensor in turn
    /// (`W1, b1, gamma1, beta1, W2, …`), two full forward passes per scalar. For gradient checks
    /// of [`gradient`](Self::gradient).
    ///
    /// The dropout masks are drawn from `rng` once, as [`gradient`](Self::gradient) draws them,
    /// and held fixed while the scalars are perturbed (the book's redraws them at every pass,
    /// which no gradient check survives). Batch norm uses each pass's batch statistics; unlike
    /// the book's, no pass moves the running statistics.
    ///
    /// # Panics
    /// If `x` and the targets do not fit the net.
    pub fn numerical_gradient<'x, 't>(
        &self,
        x: impl Into<Input<'x, A>>,
        t: impl Into<Targets<'t, A>>,
        rng: &mut Rng,
    ) -> MultiLayerGrads<A> {
        let x = x.into();
        let x = x.to_dense();
        let t = t.into();
        self.check(x.dim(), &t);
        let masks = self.draw_masks(x.nrows(), rng);
        self.numerical_gradient_with(x.view(), t, &masks)
    }

    /// [`numerical_gradient`](Self::numerical_gradient) with the given dropout masks.
    pub(crate) fn numerical_gradient_with(
        &self,
        x: ArrayView2<'_, A>,
        t: Targets<'_, A>,
        masks: &[Array2<bool>],
    ) -> MultiLayerGrads<A> {
        let loss_with = |sub: Perturbed<'_, A>| self.train_loss(x, t, masks, sub);
        let affine = (0..self.params.len())
            .map(|k| AffineParams {
                w: numerical_gradient(
                    |w: ArrayView2<'_, A>| loss_with(Perturbed::W(k, w)),
                    &self.params[k].w,
                ),
                b: numerical_gradient(
                    |b: ArrayView1<'_, A>| loss_with(Perturbed::B(k, b)),
                    &self.params[k].b,
                ),
            })
            .collect();
        let batch_norm = (0..self.batch_norm.len())
            .map(|k| BatchNormGrads {
                gamma: numerical_gradient(
                    |g: ArrayView1<'_, A>| loss_with(Perturbed::Gamma(k, g)),
                    &self.batch_norm[k].gamma,
                ),
                beta: numerical_gradient(
                    |b: ArrayView1<'_, A>| loss_with(Perturbed::Beta(k, b)),
                    &self.batch_norm[k].beta,
                ),
            })
            .collect();
        MultiLayerGrads { affine, batch_norm }
    }

    /// The train-mode loss (with the weight decay) with one tensor replaced by `sub`.
    fn train_loss(
        &self,
        x: ArrayView2<'_, A>,
        t: Targets<'_, A>,
        masks: &[Array2<bool>],
        sub: Perturbed<'_, A>,
    ) -> A {
        let mut layers = Layers::of(self, 0, sub, Some(masks));
        let data = layers.loss(x, t, Mode::Train);
        let weights = self.params.iter().enumerate().map(|(k, p)| match sub {
            Perturbed::W(j, w) if j == k => w.reborrow(),
            _ => p.w.view(),
        });
        data + self.decay(weights)
    }

    /// Every trainable tensor with its book name, in the book's order `W1, b1, gamma1, beta1,
    /// W2, …` (as [`tensors_mut`](Self::tensors_mut) and [`MultiLayerGrads::named`]).
    ///
    /// ```
    /// use scratchnet_network::{Activation, MultiLayerNet, WeightInit};
    /// let net = MultiLayerNet::<f64>::new(4, &[5], 2, Activation::Relu, WeightInit::He,
    ///     &mut scratchnet_tensor::rng_from_seed(0)).with_batch_norm();
    /// let names: Vec<String> = net.named_tensors().into_iter().map(|(n, _)| n).collect();
    /// assert_eq!(names, ["W1", "b1", "gamma1", "beta1", "W2", "b2"]);
    /// ```
    pub fn named_tensors(&self) -> Vec<(String, ArrayViewD<'_, A>)> {
        let mut out = Vec::new();
        let mut bn = self.batch_norm.iter();
        for (i, p) in self.params.iter().enumerate() {
            out.push((format!("W{}", i + 1), p.w.view().into_dyn()));
            out.push((format!("b{}", i + 1), p.b.view().into_dyn()));
            if let Some(g) = bn.next() {
                out.push((format!("gamma{}", i + 1), g.gamma.view().into_dyn()));
                out.push((format!("beta{}", i + 1), g.beta.view().into_dyn()));
            }
        }
        out
    }

    /// Mutable views of `W1, b1, gamma1, beta1, W2, b2, …` (γ, β only with batch norm), for an
    /// [`Optimizer`].
    pub fn tensors_mut(&mut self) -> Vec<ArrayViewMutD<'_, A>> {
        let mut out = Vec::new();
        let mut bn = self.batch_norm.iter_mut();
        for p in self.params.iter_mut() {
            out.push(p.w.view_mut().into_dyn());
            out.push(p.b.view_mut().into_dyn());
            if let Some(g) = bn.next() {
                out.push(g.gamma.view_mut().into_dyn());
                out.push(g.beta.view_mut().into_dyn());
            }
        }
        out
    }

    /// One optimizer step on every parameter from `grads` (as [`gradient`](Self::gradient)
    /// returns them): the book's `optimizer.update(network.params, grads)`.
    ///
    /// # Panics
    /// If `grads` does not have the parameters' shapes.
    pub fn update(&mut self, optimizer: &mut impl Optimizer<A>, grads: &MultiLayerGrads<A>) {
        let named = grads.named();
        let g: Vec<ArrayViewD<'_, A>> = named.into_iter().map(|(_, g)| g).collect();
        optimizer.update_tensors(&mut self.tensors_mut(), &g);
    }
}

/// The net's parameters by name, for the book's `optimizer.update(network.params, grads)`.
impl<A: Scalar> crate::optimizer::ParamsMut<A> for MultiLayerNet<A> {
    fn tensors_for_update(&mut self) -> (Option<Vec<String>>, Vec<ArrayViewMutD<'_, A>>) {
        let names = self.named_tensors().into_iter().map(|(n, _)| n).collect();
        (Some(names), self.tensors_mut())
    }
}

/// The gradients by name, for [`Optimizer::update`].
impl<A: Scalar> crate::optimizer::GradsRef<A> for MultiLayerGrads<A> {
    fn views_for(&self, names: Option<&[String]>) -> Vec<ArrayViewD<'_, A>> {
        crate::optimizer::by_name(self.named(), names)
    }
}
