//! The book's fully connected net of any depth (chapter 6, `common/multi_layer_net.py`):
//! `Affine → activation` for every hidden layer, then `Affine → SoftmaxWithLoss`, with the
//! weight initialisations of §6.2 and the L2 weight decay of §6.4.1, written the way the book
//! writes it over the [`layers`](crate::layers).

use std::fmt;
use std::str::FromStr;

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, ArrayViewD, ArrayViewMutD};
use scratchnet_numgrad::numerical_gradient;
use scratchnet_tensor::{Rng, Scalar, randn};
use serde::{Deserialize, Serialize};

use crate::Targets;
use crate::input::Input;
use crate::layers::{Affine, Layer, Mode, Relu, Sigmoid, SoftmaxWithLoss};
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

/// The book's fully connected net of any depth, `multi_layer_net.py`:
/// `x → [Affine → Relu|Sigmoid] × hidden → Affine → SoftmaxWithLoss`.
///
/// [`predict`](Self::predict) returns the scores before the softmax (as the book's chapter 5–6
/// nets do; the argmax is the same). With `weight_decay_lambda` λ > 0 the loss adds
/// `½λ Σ‖W‖²` over every weight matrix and the gradient `λW` to each `dW` (§6.4.1).
///
/// ```
/// use scratchnet_network::{Activation, MultiLayerNet, WeightInit, optimizer::Adam};
/// let mut rng = scratchnet_tensor::rng_from_seed(0);
/// let mut net = MultiLayerNet::<f64>::new(4, &[8, 8], 3, Activation::Relu, WeightInit::He, &mut rng);
/// let x = ndarray::array![[0.0, 0.5, 1.0, 0.25], [1.0, 0.0, 0.0, 0.75]];
/// let t = [2, 0];
/// let before = net.loss(&x, &t);
/// let mut adam = Adam::new(0.01, 0.9, 0.999);
/// for _ in 0..20 {
///     let grads = net.gradient(&x, &t);
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
}

/// The book's `self.layers` (affine and activation layers in order) and `self.last_layer`, over
/// views of the weights: the net's own, or with one tensor perturbed for the numerical gradient.
pub(crate) struct Layers<'p, 't, A: Scalar> {
    pub(crate) affine: Vec<Affine<'p, A>>,
    pub(crate) activation: Vec<Box<dyn Layer<A>>>,
    pub(crate) last_layer: SoftmaxWithLoss<'t, A>,
}

impl<'p, 't, A: Scalar> Layers<'p, 't, A> {
    pub(crate) fn new(
        weights: impl Iterator<Item = (ArrayView2<'p, A>, ArrayView1<'p, A>)>,
        activation: Activation,
    ) -> Self {
        let affine: Vec<Affine<'p, A>> = weights.map(|(w, b)| Affine::new(w, b)).collect();
        let activation = (1..affine.len())
            .map(|_| Self::activation_layer(activation))
            .collect();
        Layers {
            affine,
            activation,
            last_layer: SoftmaxWithLoss::new(),
        }
    }

    pub(crate) fn activation_layer(activation: Activation) -> Box<dyn Layer<A>> {
        match activation {
            Activation::Relu => Box::new(Relu::new()),
            Activation::Sigmoid => Box::new(Sigmoid::new()),
        }
    }

    /// For layers built without the first affine one (and with its activation first): the
    /// scores from that layer's output `a1`.
    pub(crate) fn predict_after_first(&mut self, a1: Array2<A>, mode: Mode) -> Array2<A> {
        let mut x = a1;
        for (act, affine) in self.activation.iter_mut().zip(self.affine.iter_mut()) {
            x = act.forward(x.view(), mode);
            x = affine.forward(x.view(), mode);
        }
        x
    }

    /// The scores: `Affine1, Activation1, Affine2, …, AffineL` forward, in order.
    fn predict(&mut self, x: ArrayView2<'_, A>, mode: Mode) -> Array2<A> {
        let last = self.affine.len() - 1;
        let mut x = self.affine[0].forward(x, mode);
        for i in 0..last {
            x = self.activation[i].forward(x.view(), mode);
            x = self.affine[i + 1].forward(x.view(), mode);
        }
        x
    }

    /// The data term of the loss, `last_layer.forward(predict(x), t)`.
    fn loss(&mut self, x: ArrayView2<'_, A>, t: Targets<'t, A>, mode: Mode) -> A {
        let y = self.predict(x, mode);
        self.last_layer.forward(y.view(), t)
    }

    /// Every layer's backward pass in reverse order, from `last_layer.backward(1)`.
    fn backward(&mut self) {
        let mut dout = self.last_layer.backward(A::one());
        for i in (0..self.affine.len()).rev() {
            dout = self.affine[i].backward(dout.view());
            if i > 0 {
                dout = self.activation[i - 1].backward(dout.view());
            }
        }
    }
}

impl<A: Scalar> MultiLayerNet<A> {
    /// A net `input → hidden[0] → … → output` with weights drawn layer by layer (W1 first, each
    /// in row-major order) from N(0, σ²), σ from `init` and the layer's number of inputs, and
    /// zero biases; no weight decay.
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

    /// The layer sizes, input first: `[input, hidden…, output]`.
    pub fn sizes(&self) -> Vec<usize> {
        std::iter::once(self.params[0].w.nrows())
            .chain(self.params.iter().map(|p| p.w.ncols()))
            .collect()
    }

    /// Number of scalar parameters.
    pub fn len(&self) -> usize {
        self.params.iter().map(|p| p.w.len() + p.b.len()).sum()
    }

    /// True when the net has no parameters (never, for a net made by [`new`](Self::new)).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn layers<'t>(&self) -> Layers<'_, 't, A> {
        Layers::new(
            self.params.iter().map(|p| (p.w.view(), p.b.view())),
            self.activation,
        )
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

    /// The scores of every class, one row per sample (before the softmax).
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
        self.layers().predict(x.view(), Mode::Test)
    }

    /// The batch-mean cross-entropy plus the weight decay, with one-hot or label targets.
    ///
    /// # Panics
    /// If `x` and the targets do not fit the net (the message says which).
    pub fn loss<'x, 't>(&self, x: impl Into<Input<'x, A>>, t: impl Into<Targets<'t, A>>) -> A {
        let x = x.into();
        let x = x.to_dense();
        let t = t.into();
        self.check(x.dim(), &t);
        let data = self.layers().loss(x.view(), t, Mode::Test);
        data + self.decay(self.params.iter().map(|p| p.w.view()))
    }

    /// Fraction of samples whose highest score is the target class (0 for no samples).
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
        t.accuracy_of(&self.layers().predict(x.view(), Mode::Test))
    }

    /// The gradient by backpropagation, as the book writes it: the loss forward through the
    /// layers, `last_layer.backward(1)`, every layer's backward in reverse, then
    /// `dW_i + λW_i` and `db_i` of each affine layer.
    ///
    /// # Panics
    /// If `x` and the targets do not fit the net.
    ///
    /// ```
    /// use scratchnet_network::{Activation, MultiLayerNet, WeightInit};
    /// let net = MultiLayerNet::<f64>::new(3, &[4, 4], 2, Activation::Sigmoid, WeightInit::Xavier,
    ///     &mut scratchnet_tensor::rng_from_seed(3));
    /// let (x, t) = (ndarray::array![[0.0, 0.5, 1.0], [1.0, 0.0, 0.25]], [1, 0]);
    /// let (g, n) = (net.gradient(&x, &t), net.numerical_gradient(&x, &t));
    /// for (g, n) in g.iter().zip(&n) {
    ///     assert!((&g.w - &n.w).iter().all(|d| d.abs() < 1e-8));
    /// }
    /// ```
    pub fn gradient<'x, 't>(
        &self,
        x: impl Into<Input<'x, A>>,
        t: impl Into<Targets<'t, A>>,
    ) -> Vec<AffineParams<A>> {
        let x = x.into();
        let x = x.to_dense();
        let t = t.into();
        self.check(x.dim(), &t);
        let mut layers = self.layers();
        layers.loss(x.view(), t, Mode::Train);
        layers.backward();
        layers
            .affine
            .into_iter()
            .map(|a| AffineParams {
                w: self.decayed(a.dw, &a.w),
                b: a.db,
            })
            .collect()
    }

    /// The book's numerical gradient: [`scratchnet_numgrad::numerical_gradient`] (central
    /// differences, parallel over the scalars) of the loss over each tensor in turn, two full
    /// forward passes per scalar. For gradient checks of [`gradient`](Self::gradient).
    ///
    /// # Panics
    /// If `x` and the targets do not fit the net.
    pub fn numerical_gradient<'x, 't>(
        &self,
        x: impl Into<Input<'x, A>>,
        t: impl Into<Targets<'t, A>>,
    ) -> Vec<AffineParams<A>> {
        let x = x.into();
        let x = x.to_dense();
        let t = t.into();
        self.check(x.dim(), &t);
        // the loss with layer `k`'s weights or bias replaced by the perturbed tensor `f` receives
        let loss_with = |k: usize, w: Option<ArrayView2<'_, A>>, b: Option<ArrayView1<'_, A>>| {
            let weights = self.params.iter().enumerate().map(|(i, p)| {
                if i == k {
                    (w.unwrap_or(p.w.view()), b.unwrap_or(p.b.view()))
                } else {
                    (p.w.view(), p.b.view())
                }
            });
            let ws: Vec<(ArrayView2<'_, A>, ArrayView1<'_, A>)> = weights.collect();
            let mut layers = Layers::new(ws.iter().cloned(), self.activation);
            let data = layers.loss(x.view(), t, Mode::Train);
            data + self.decay(ws.iter().map(|(w, _)| w.view()))
        };
        (0..self.params.len())
            .map(|k| AffineParams {
                w: numerical_gradient(
                    |w: ArrayView2<'_, A>| loss_with(k, Some(w), None),
                    &self.params[k].w,
                ),
                b: numerical_gradient(
                    |b: ArrayView1<'_, A>| loss_with(k, None, Some(b)),
                    &self.params[k].b,
                ),
            })
            .collect()
    }

    /// Mutable views of `W1, b1, W2, b2, …`, for an [`Optimizer`].
    pub fn tensors_mut(&mut self) -> Vec<ArrayViewMutD<'_, A>> {
        self.params
            .iter_mut()
            .flat_map(|p| [p.w.view_mut().into_dyn(), p.b.view_mut().into_dyn()])
            .collect()
    }

    /// One optimizer step on every parameter from `grads` (as [`gradient`](Self::gradient)
    /// returns them): the book's `optimizer.update(network.params, grads)`.
    ///
    /// # Panics
    /// If `grads` does not have the parameters' shapes.
    pub fn update(&mut self, optimizer: &mut impl Optimizer<A>, grads: &[AffineParams<A>]) {
        let g: Vec<ArrayViewD<'_, A>> = grads
            .iter()
            .flat_map(|p| [p.w.view().into_dyn(), p.b.view().into_dyn()])
            .collect();
        optimizer.update(&mut self.tensors_mut(), &g);
    }
}
