//! The book's optimizers (chapter 6.1, `common/optimizer.py`): [`Sgd`], [`Momentum`],
//! [`Nesterov`], [`AdaGrad`], [`RmsProp`] and [`Adam`], each with the book's update rule, in the
//! book's order of operations, and its default hyper-parameters.
//!
//! An optimizer updates a list of parameter tensors from their gradients, in place, like the
//! book's `update(params, grads)` over a dict: here the tensors come as slices in a fixed order
//! (`W1, b1, W2, b2, ...`), and the optimizer's state (velocities, squared-gradient sums, Adam's
//! moments and step count) is created on the first update with one array per tensor, as the
//! book creates its dicts on the first call. The state is serde-serialisable, so a resumed run
//! continues exactly where it stopped.
//!
//! Hyper-parameters are `f64` (as everywhere in this crate); each is rounded to the element type
//! once per update, so for `f64` parameters every step is the book's NumPy arithmetic bit for bit.
//!
//! ```
//! use ndarray::{ArrayD, IxDyn};
//! use scratchnet_network::optimizer::{Adam, Optimizer};
//!
//! // minimise f(w) = w² from w = 1 (gradient 2w)
//! let mut w = ArrayD::from_elem(IxDyn(&[1]), 1.0_f64);
//! let mut adam = Adam::default(); // lr 0.001, β1 0.9, β2 0.999, as the book
//! for _ in 0..3000 {
//!     let g = &w * 2.0;
//!     adam.update(&mut [w.view_mut()], &[g.view()]);
//! }
//! assert!(w[0].abs() < 0.1);
//! ```

use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD, Zip};
use scratchnet_tensor::Scalar;
use serde::{Deserialize, Serialize};

use crate::{Grads, Params};

/// The small constant the book adds under every square root, against division by zero.
pub const EPSILON: f64 = 1e-7;

/// Updates parameter tensors from their gradients, in place: the book's `update(params, grads)`.
///
/// `optimizer.update(&mut net, &grads)` is the book's `optimizer.update(network.params, grads)`:
/// `params` is a [`Net`](crate::Net) (or a [`MultiLayerNet`](crate::MultiLayerNet), or
/// [`Params`]) and `grads` what its `gradient` returned, matched by name; or lists of tensors,
/// matched by position.
///
/// ```
/// use scratchnet_network::{Activation, Net, NetSpec, WeightInit, optimizer::{Adam, Optimizer}};
/// let mut rng = scratchnet_tensor::rng_from_seed(0);
/// let spec = NetSpec::multi_layer_net(784, &[20], 10, Activation::Relu, WeightInit::He, 0.0);
/// let mut net = Net::<f64>::new(spec, &mut rng).unwrap();
/// let (x, t) = (ndarray::Array2::<f64>::ones((2, 784)), [3, 7]);
/// let mut optimizer = Adam::new(0.001); // the book's Adam(lr=0.001)
/// let before = net.loss(&x, &t[..]);
/// for _ in 0..10 {
///     let grads = net.gradient(&x, &t[..], &mut rng);
///     optimizer.update(&mut net, &grads);
/// }
/// assert!(net.loss(&x, &t[..]) < before);
/// ```
pub trait Optimizer<A: Scalar> {
    /// One step for every tensor: `params[i]` is moved against `grads[i]`.
    ///
    /// # Panics
    /// If `params` and `grads` differ in number or in a tensor's shape, or (for optimizers with
    /// state) if they differ from the tensors of the first update.
    fn update_tensors(&mut self, params: &mut [ArrayViewMutD<'_, A>], grads: &[ArrayViewD<'_, A>]);

    /// The learning rate.
    fn lr(&self) -> f64;

    /// One step: the book's `optimizer.update(params, grads)`. Named parameters (a net) take
    /// the gradient of their own name; lists of tensors go by position.
    ///
    /// # Panics
    /// As [`update_tensors`](Self::update_tensors), and if a named gradient is missing.
    fn update<P, G>(&mut self, params: &mut P, grads: &G)
    where
        P: ParamsMut<A> + ?Sized,
        G: GradsRef<A> + ?Sized,
        Self: Sized,
    {
        let (names, mut tensors) = params.tensors_for_update();
        let grads = grads.views_for(names.as_deref());
        self.update_tensors(&mut tensors, &grads);
    }
}

/// What [`Optimizer::update`] updates: the parameter tensors in order, with their names when
/// they have names.
pub trait ParamsMut<A> {
    /// The names (if any) and mutable views of the tensors, in order.
    fn tensors_for_update(&mut self) -> (Option<Vec<String>>, Vec<ArrayViewMutD<'_, A>>);
}

/// The gradients [`Optimizer::update`] takes: named ([`Tensors`](crate::Tensors)) or in order.
pub trait GradsRef<A> {
    /// Views in the order of `names` (when the parameters have names), else in stored order.
    ///
    /// # Panics
    /// If a name in `names` has no gradient.
    fn views_for(&self, names: Option<&[String]>) -> Vec<ArrayViewD<'_, A>>;
}

impl<'a, A> ParamsMut<A> for [ArrayViewMutD<'a, A>] {
    fn tensors_for_update(&mut self) -> (Option<Vec<String>>, Vec<ArrayViewMutD<'_, A>>) {
        (None, self.iter_mut().map(|t| t.view_mut()).collect())
    }
}

impl<'a, A, const N: usize> ParamsMut<A> for [ArrayViewMutD<'a, A>; N] {
    fn tensors_for_update(&mut self) -> (Option<Vec<String>>, Vec<ArrayViewMutD<'_, A>>) {
        self.as_mut_slice().tensors_for_update()
    }
}

impl<'a, A> ParamsMut<A> for Vec<ArrayViewMutD<'a, A>> {
    fn tensors_for_update(&mut self) -> (Option<Vec<String>>, Vec<ArrayViewMutD<'_, A>>) {
        self.as_mut_slice().tensors_for_update()
    }
}

impl<'a, A> GradsRef<A> for [ArrayViewD<'a, A>] {
    fn views_for(&self, _names: Option<&[String]>) -> Vec<ArrayViewD<'_, A>> {
        self.iter().map(|g| g.view()).collect()
    }
}

impl<'a, A, const N: usize> GradsRef<A> for [ArrayViewD<'a, A>; N] {
    fn views_for(&self, names: Option<&[String]>) -> Vec<ArrayViewD<'_, A>> {
        self.as_slice().views_for(names)
    }
}

impl<'a, A> GradsRef<A> for Vec<ArrayViewD<'a, A>> {
    fn views_for(&self, names: Option<&[String]>) -> Vec<ArrayViewD<'_, A>> {
        self.as_slice().views_for(names)
    }
}

impl<A: Scalar> GradsRef<A> for crate::Tensors<A> {
    fn views_for(&self, names: Option<&[String]>) -> Vec<ArrayViewD<'_, A>> {
        match names {
            Some(names) => names.iter().map(|n| self[n.as_str()].view()).collect(),
            None => self.views(),
        }
    }
}

impl<A: Scalar> ParamsMut<A> for Params<A> {
    fn tensors_for_update(&mut self) -> (Option<Vec<String>>, Vec<ArrayViewMutD<'_, A>>) {
        let names = crate::PARAM_NAMES.iter().map(|n| n.to_string()).collect();
        (Some(names), self.tensors_mut().into())
    }
}

impl<A: Scalar> GradsRef<A> for Grads<A> {
    fn views_for(&self, names: Option<&[String]>) -> Vec<ArrayViewD<'_, A>> {
        by_name(self.named().into(), names)
    }
}

/// The views of `named` in the order of `names`, or all of them in order.
pub(crate) fn by_name<'a, A, S: AsRef<str>>(
    named: Vec<(S, ArrayViewD<'a, A>)>,
    names: Option<&[String]>,
) -> Vec<ArrayViewD<'a, A>> {
    match names {
        Some(names) => names
            .iter()
            .map(|n| {
                let (_, g) = named
                    .iter()
                    .find(|(k, _)| k.as_ref() == n)
                    .unwrap_or_else(|| panic!("no gradient named {n}"));
                g.clone()
            })
            .collect(),
        None => named.into_iter().map(|(_, g)| g).collect(),
    }
}

fn check_pair<A>(params: &[ArrayViewMutD<'_, A>], grads: &[ArrayViewD<'_, A>]) {
    assert_eq!(
        params.len(),
        grads.len(),
        "{} parameter tensors but {} gradients",
        params.len(),
        grads.len()
    );
    for (i, (p, g)) in params.iter().zip(grads).enumerate() {
        assert_eq!(
            p.shape(),
            g.shape(),
            "parameter tensor {i} has shape {:?} but its gradient {:?}",
            p.shape(),
            g.shape()
        );
    }
}

/// One zero array per parameter tensor on the first call; afterwards checks they still match.
fn state_for<'s, A: Scalar>(
    state: &'s mut Vec<ArrayD<A>>,
    params: &[ArrayViewMutD<'_, A>],
) -> &'s mut [ArrayD<A>] {
    if state.is_empty() {
        *state = params.iter().map(|p| ArrayD::zeros(p.raw_dim())).collect();
    }
    assert_eq!(
        state.len(),
        params.len(),
        "the optimizer was first used with {} tensors, now {}",
        state.len(),
        params.len()
    );
    for (s, p) in state.iter().zip(params) {
        assert_eq!(s.shape(), p.shape(), "a parameter tensor changed shape");
    }
    state
}

/// Stochastic gradient descent: `W ← W − lr·∂L/∂W`.
///
/// ```
/// use ndarray::{arr1, ArrayD};
/// use scratchnet_network::optimizer::{Optimizer, Sgd};
/// let mut w: ArrayD<f64> = arr1(&[1.0, 2.0]).into_dyn();
/// let g: ArrayD<f64> = arr1(&[10.0, -10.0]).into_dyn();
/// Sgd::default().update(&mut [w.view_mut()], &[g.view()]); // lr 0.01
/// assert_eq!(w, arr1(&[1.0 - 0.01 * 10.0, 2.0 + 0.01 * 10.0]).into_dyn());
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sgd {
    /// Learning rate (the book's default 0.01).
    pub lr: f64,
}

impl Sgd {
    /// SGD with learning rate `lr`.
    ///
    /// ```
    /// assert_eq!(scratchnet_network::optimizer::Sgd::new(0.1).lr, 0.1);
    /// ```
    pub fn new(lr: f64) -> Self {
        Sgd { lr }
    }
}

impl Default for Sgd {
    fn default() -> Self {
        Sgd::new(0.01)
    }
}

impl<A: Scalar> Optimizer<A> for Sgd {
    fn update_tensors(&mut self, params: &mut [ArrayViewMutD<'_, A>], grads: &[ArrayViewD<'_, A>]) {
        check_pair(params, grads);
        let lr = A::of_f64(self.lr);
        for (p, g) in params.iter_mut().zip(grads) {
            Zip::from(p).and(g).for_each(|p, &g| *p -= lr * g);
        }
    }

    fn lr(&self) -> f64 {
        self.lr
    }
}

/// Momentum SGD: `v ← αv − lr·∂L/∂W`, `W ← W + v`.
///
/// ```
/// use ndarray::{arr1, ArrayD};
/// use scratchnet_network::optimizer::{Momentum, Optimizer};
/// let mut w: ArrayD<f64> = arr1(&[0.0]).into_dyn();
/// let g: ArrayD<f64> = arr1(&[1.0]).into_dyn();
/// let mut opt = Momentum::default(); // lr 0.01, momentum 0.9
/// opt.update(&mut [w.view_mut()], &[g.view()]); // v = -0.01
/// opt.update(&mut [w.view_mut()], &[g.view()]); // v = 0.9·(-0.01) - 0.01
/// assert_eq!(w[0], -0.01 + (0.9 * -0.01 - 0.01));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound = "A: Scalar")]
pub struct Momentum<A> {
    /// Learning rate (default 0.01).
    pub lr: f64,
    /// α, the fraction of the velocity kept each step (default 0.9).
    pub momentum: f64,
    v: Vec<ArrayD<A>>,
}

impl<A> Momentum<A> {
    /// Momentum SGD with learning rate `lr` and the book's momentum 0.9: `Momentum(lr=…)`.
    ///
    /// ```
    /// use scratchnet_network::optimizer::Momentum;
    /// let m = Momentum::<f32>::new(0.1);
    /// assert_eq!((m.lr, m.momentum), (0.1, 0.9));
    /// assert_eq!(Momentum::<f32>::new(0.1).with_momentum(0.5).momentum, 0.5);
    /// ```
    pub fn new(lr: f64) -> Self {
        Momentum {
            lr,
            momentum: 0.9,
            v: Vec::new(),
        }
    }

    /// The same optimizer with momentum `momentum`.
    pub fn with_momentum(self, momentum: f64) -> Self {
        Momentum { momentum, ..self }
    }
}

impl<A> Default for Momentum<A> {
    fn default() -> Self {
        Momentum::new(0.01)
    }
}

impl<A: Scalar> Optimizer<A> for Momentum<A> {
    fn update_tensors(&mut self, params: &mut [ArrayViewMutD<'_, A>], grads: &[ArrayViewD<'_, A>]) {
        check_pair(params, grads);
        let (lr, m) = (A::of_f64(self.lr), A::of_f64(self.momentum));
        let v = state_for(&mut self.v, params);
        for ((p, g), v) in params.iter_mut().zip(grads).zip(v) {
            Zip::from(p).and(g).and(v).for_each(|p, &g, v| {
                *v = m * *v - lr * g;
                *p += *v;
            });
        }
    }

    fn lr(&self) -> f64 {
        self.lr
    }
}

/// Nesterov's accelerated gradient in the book's form (Bengio et al.'s reformulation, which
/// needs the gradient at the current point only), in the order of the book's
/// `Nesterov.update`: first `W ← W + α²v − (1 + α)·lr·g` with the previous velocity, then
/// `v ← αv − lr·g`. (The book's repository has this order since its 2021 fix "Fix Nesterov
/// update function"; copies of the 2016 code update `v` first.)
///
/// ```
/// use ndarray::{arr1, ArrayD};
/// use scratchnet_network::optimizer::{Nesterov, Optimizer};
/// let mut w: ArrayD<f64> = arr1(&[0.0]).into_dyn();
/// let g: ArrayD<f64> = arr1(&[1.0]).into_dyn();
/// let mut nag = Nesterov::default(); // lr 0.01, α 0.9
/// nag.update(&mut [w.view_mut()], &[g.view()]);
/// // v starts at 0: the first step is −(1 + α)·lr·g = −0.019, then v = −0.01
/// assert_eq!(w[0], -(1.0 + 0.9) * 0.01 * 1.0);
/// nag.update(&mut [w.view_mut()], &[g.view()]);
/// // second step: + α²·(−0.01) − 0.019
/// assert_eq!(w[0], -(1.0 + 0.9) * 0.01 + 0.9 * 0.9 * -0.01 - (1.0 + 0.9) * 0.01);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound = "A: Scalar")]
pub struct Nesterov<A> {
    /// Learning rate (default 0.01).
    pub lr: f64,
    /// α (default 0.9).
    pub momentum: f64,
    v: Vec<ArrayD<A>>,
}

impl<A> Nesterov<A> {
    /// Nesterov's method with learning rate `lr` and the book's momentum 0.9.
    ///
    /// ```
    /// use scratchnet_network::optimizer::Nesterov;
    /// assert_eq!(Nesterov::<f64>::new(0.1).momentum, 0.9);
    /// assert_eq!(Nesterov::<f64>::new(0.1).with_momentum(0.8).momentum, 0.8);
    /// ```
    pub fn new(lr: f64) -> Self {
        Nesterov {
            lr,
            momentum: 0.9,
            v: Vec::new(),
        }
    }

    /// The same optimizer with momentum `momentum`.
    pub fn with_momentum(self, momentum: f64) -> Self {
        Nesterov { momentum, ..self }
    }
}

impl<A> Default for Nesterov<A> {
    fn default() -> Self {
        Nesterov::new(0.01)
    }
}

impl<A: Scalar> Optimizer<A> for Nesterov<A> {
    fn update_tensors(&mut self, params: &mut [ArrayViewMutD<'_, A>], grads: &[ArrayViewD<'_, A>]) {
        check_pair(params, grads);
        let (lr, m) = (A::of_f64(self.lr), A::of_f64(self.momentum));
        // the book multiplies these Python floats first, then the arrays
        let mm = A::of_f64(self.momentum * self.momentum);
        let step = A::of_f64((1.0 + self.momentum) * self.lr);
        let v = state_for(&mut self.v, params);
        for ((p, g), v) in params.iter_mut().zip(grads).zip(v) {
            Zip::from(p).and(g).and(v).for_each(|p, &g, v| {
                // the book's order: the step uses the velocity of the previous update
                *p += mm * *v;
                *p -= step * g;
                *v *= m;
                *v -= lr * g;
            });
        }
    }

    fn lr(&self) -> f64 {
        self.lr
    }
}

/// AdaGrad: `h ← h + g⊙g`, `W ← W − lr·g / (√h + 1e-7)`: each parameter's step shrinks with
/// the gradients it has seen.
///
/// ```
/// use ndarray::{arr1, ArrayD};
/// use scratchnet_network::optimizer::{AdaGrad, Optimizer};
/// let mut w: ArrayD<f64> = arr1(&[0.0]).into_dyn();
/// let g: ArrayD<f64> = arr1(&[2.0]).into_dyn();
/// AdaGrad::default().update(&mut [w.view_mut()], &[g.view()]);
/// assert_eq!(w[0], 0.0 - 0.01 * 2.0 / (4.0_f64.sqrt() + 1e-7));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound = "A: Scalar")]
pub struct AdaGrad<A> {
    /// Learning rate (default 0.01).
    pub lr: f64,
    h: Vec<ArrayD<A>>,
}

impl<A> AdaGrad<A> {
    /// AdaGrad with learning rate `lr`.
    ///
    /// ```
    /// assert_eq!(scratchnet_network::optimizer::AdaGrad::<f64>::new(1.5).lr, 1.5);
    /// ```
    pub fn new(lr: f64) -> Self {
        AdaGrad { lr, h: Vec::new() }
    }
}

impl<A> Default for AdaGrad<A> {
    fn default() -> Self {
        AdaGrad::new(0.01)
    }
}

impl<A: Scalar> Optimizer<A> for AdaGrad<A> {
    fn update_tensors(&mut self, params: &mut [ArrayViewMutD<'_, A>], grads: &[ArrayViewD<'_, A>]) {
        check_pair(params, grads);
        let (lr, eps) = (A::of_f64(self.lr), A::of_f64(EPSILON));
        let h = state_for(&mut self.h, params);
        for ((p, g), h) in params.iter_mut().zip(grads).zip(h) {
            Zip::from(p).and(g).and(h).for_each(|p, &g, h| {
                *h += g * g;
                *p -= lr * g / (h.sqrt() + eps);
            });
        }
    }

    fn lr(&self) -> f64 {
        self.lr
    }
}

/// RMSprop: AdaGrad with a decaying sum, `h ← ρh + (1 − ρ)·g⊙g`,
/// `W ← W − lr·g / (√h + 1e-7)`.
///
/// ```
/// use ndarray::{arr1, ArrayD};
/// use scratchnet_network::optimizer::{Optimizer, RmsProp};
/// let mut w: ArrayD<f64> = arr1(&[0.0]).into_dyn();
/// let g: ArrayD<f64> = arr1(&[2.0]).into_dyn();
/// RmsProp::default().update(&mut [w.view_mut()], &[g.view()]);
/// let h = 0.0 * 0.99 + (1.0 - 0.99) * 2.0 * 2.0;
/// assert_eq!(w[0], 0.0 - 0.01 * 2.0 / (f64::sqrt(h) + 1e-7));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound = "A: Scalar")]
pub struct RmsProp<A> {
    /// Learning rate (default 0.01).
    pub lr: f64,
    /// ρ, the fraction of the sum kept each step (the book's `decay_rate`, default 0.99).
    pub decay_rate: f64,
    h: Vec<ArrayD<A>>,
}

impl<A> RmsProp<A> {
    /// RMSprop with learning rate `lr` and the book's decay rate 0.99.
    ///
    /// ```
    /// use scratchnet_network::optimizer::RmsProp;
    /// assert_eq!(RmsProp::<f64>::new(0.01).decay_rate, 0.99);
    /// assert_eq!(RmsProp::<f64>::new(0.01).with_decay_rate(0.9).decay_rate, 0.9);
    /// ```
    pub fn new(lr: f64) -> Self {
        RmsProp {
            lr,
            decay_rate: 0.99,
            h: Vec::new(),
        }
    }

    /// The same optimizer with decay rate `decay_rate`.
    pub fn with_decay_rate(self, decay_rate: f64) -> Self {
        RmsProp { decay_rate, ..self }
    }
}

impl<A> Default for RmsProp<A> {
    fn default() -> Self {
        RmsProp::new(0.01)
    }
}

impl<A: Scalar> Optimizer<A> for RmsProp<A> {
    fn update_tensors(&mut self, params: &mut [ArrayViewMutD<'_, A>], grads: &[ArrayViewD<'_, A>]) {
        check_pair(params, grads);
        let (lr, eps) = (A::of_f64(self.lr), A::of_f64(EPSILON));
        let (rho, keep) = (A::of_f64(self.decay_rate), A::of_f64(1.0 - self.decay_rate));
        let h = state_for(&mut self.h, params);
        for ((p, g), h) in params.iter_mut().zip(grads).zip(h) {
            Zip::from(p).and(g).and(h).for_each(|p, &g, h| {
                *h *= rho;
                *h += keep * g * g;
                *p -= lr * g / (h.sqrt() + eps);
            });
        }
    }

    fn lr(&self) -> f64 {
        self.lr
    }
}

/// Adam (Kingma & Ba) in the book's form: with `t` the step number,
/// `lr_t = lr·√(1 − β2ᵗ) / (1 − β1ᵗ)`, `m ← m + (1 − β1)(g − m)`, `v ← v + (1 − β2)(g⊙g − v)`,
/// `W ← W − lr_t·m / (√v + 1e-7)`.
///
/// ```
/// use ndarray::{arr1, ArrayD};
/// use scratchnet_network::optimizer::{Adam, Optimizer};
/// let mut w: ArrayD<f64> = arr1(&[0.0]).into_dyn();
/// let g: ArrayD<f64> = arr1(&[2.0]).into_dyn();
/// let mut adam = Adam::default();
/// adam.update(&mut [w.view_mut()], &[g.view()]);
/// let lr_t = 0.001 * f64::sqrt(1.0 - 0.999) / (1.0 - 0.9);
/// let (m, v) = ((1.0 - 0.9) * 2.0, (1.0 - 0.999) * 4.0);
/// assert_eq!(w[0], 0.0 - lr_t * m / (f64::sqrt(v) + 1e-7));
/// assert_eq!(adam.steps(), 1);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound = "A: Scalar")]
pub struct Adam<A> {
    /// Learning rate (default 0.001).
    pub lr: f64,
    /// β1, the decay of the first moment (default 0.9).
    pub beta1: f64,
    /// β2, the decay of the second moment (default 0.999).
    pub beta2: f64,
    iter: u64,
    m: Vec<ArrayD<A>>,
    v: Vec<ArrayD<A>>,
}

impl<A> Adam<A> {
    /// Adam with learning rate `lr` and the book's moment decays β1 0.9, β2 0.999:
    /// `Adam(lr=…)`.
    ///
    /// ```
    /// use scratchnet_network::optimizer::Adam;
    /// let a = Adam::<f32>::new(0.01);
    /// assert_eq!((a.lr, a.beta1, a.beta2, a.steps()), (0.01, 0.9, 0.999, 0));
    /// let b = Adam::<f32>::new(0.01).with_betas(0.8, 0.99);
    /// assert_eq!((b.beta1, b.beta2), (0.8, 0.99));
    /// ```
    pub fn new(lr: f64) -> Self {
        Adam {
            lr,
            beta1: 0.9,
            beta2: 0.999,
            iter: 0,
            m: Vec::new(),
            v: Vec::new(),
        }
    }

    /// The same optimizer with moment decays `beta1`, `beta2`.
    pub fn with_betas(self, beta1: f64, beta2: f64) -> Self {
        Adam {
            beta1,
            beta2,
            ..self
        }
    }

    /// Updates taken so far (the book's `self.iter`).
    pub fn steps(&self) -> u64 {
        self.iter
    }
}

impl<A> Default for Adam<A> {
    fn default() -> Self {
        Adam::new(0.001)
    }
}

impl<A: Scalar> Optimizer<A> for Adam<A> {
    fn update_tensors(&mut self, params: &mut [ArrayViewMutD<'_, A>], grads: &[ArrayViewD<'_, A>]) {
        check_pair(params, grads);
        state_for(&mut self.v, params);
        let m = state_for(&mut self.m, params);
        self.iter += 1;
        // Python's float `**` is C's pow, as is powf; powi could differ in the last bit.
        let t = self.iter as f64;
        let lr_t = self.lr * (1.0 - self.beta2.powf(t)).sqrt() / (1.0 - self.beta1.powf(t));
        let (lr_t, eps) = (A::of_f64(lr_t), A::of_f64(EPSILON));
        let (k1, k2) = (A::of_f64(1.0 - self.beta1), A::of_f64(1.0 - self.beta2));
        for (((p, g), m), v) in params.iter_mut().zip(grads).zip(m).zip(&mut self.v) {
            // contiguous tensors of one layout (the nets' own): the vectorised kernel, which
            // gives the same bits as the rule below
            let same = p.strides() == g.strides() && p.strides() == m.strides();
            if let (true, Some(ps), Some(gs), Some(ms), Some(vs)) = (
                same && p.strides() == v.strides(),
                p.as_slice_memory_order_mut(),
                g.as_slice_memory_order(),
                m.as_slice_memory_order_mut(),
                v.as_slice_memory_order_mut(),
            ) {
                scratchnet_tensor::adam_update(ps, gs, ms, vs, k1, k2, lr_t, eps);
                continue;
            }
            Zip::from(p).and(g).and(m).and(v).for_each(|p, &g, m, v| {
                *m += k1 * (g - *m);
                *v += k2 * (g * g - *v);
                *p -= lr_t * *m / (v.sqrt() + eps);
            });
        }
    }

    fn lr(&self) -> f64 {
        self.lr
    }
}

/// Any of the six optimizers, chosen at run time (by name, from a flag) and saved with its state
/// in a checkpoint.
///
/// ```
/// use scratchnet_network::optimizer::{AnyOptimizer, Optimizer};
/// let adam = AnyOptimizer::<f64>::by_name("adam").unwrap();
/// assert_eq!((adam.name(), Optimizer::<f64>::lr(&adam)), ("adam", 0.001));
/// assert!(AnyOptimizer::<f64>::by_name("lbfgs").is_none());
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound = "A: Scalar")]
pub enum AnyOptimizer<A> {
    /// [`Sgd`].
    Sgd(Sgd),
    /// [`Momentum`].
    Momentum(Momentum<A>),
    /// [`Nesterov`].
    Nesterov(Nesterov<A>),
    /// [`AdaGrad`].
    AdaGrad(AdaGrad<A>),
    /// [`RmsProp`].
    RmsProp(RmsProp<A>),
    /// [`Adam`].
    Adam(Adam<A>),
}

impl<A> AnyOptimizer<A> {
    /// The names [`by_name`](Self::by_name) accepts, as the book's `optimizer_compare_*.py` spell
    /// them in lower case.
    pub const NAMES: [&'static str; 6] =
        ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"];

    /// The optimizer called `name` (one of [`NAMES`](Self::NAMES), any case) with the book's
    /// default hyper-parameters, or `None`.
    pub fn by_name(name: &str) -> Option<Self> {
        Some(match name.to_ascii_lowercase().as_str() {
            "sgd" => AnyOptimizer::Sgd(Sgd::default()),
            "momentum" => AnyOptimizer::Momentum(Momentum::default()),
            "nesterov" => AnyOptimizer::Nesterov(Nesterov::default()),
            "adagrad" => AnyOptimizer::AdaGrad(AdaGrad::default()),
            "rmsprop" => AnyOptimizer::RmsProp(RmsProp::default()),
            "adam" => AnyOptimizer::Adam(Adam::default()),
            _ => return None,
        })
    }

    /// Its name in [`NAMES`](Self::NAMES).
    pub fn name(&self) -> &'static str {
        match self {
            AnyOptimizer::Sgd(_) => "sgd",
            AnyOptimizer::Momentum(_) => "momentum",
            AnyOptimizer::Nesterov(_) => "nesterov",
            AnyOptimizer::AdaGrad(_) => "adagrad",
            AnyOptimizer::RmsProp(_) => "rmsprop",
            AnyOptimizer::Adam(_) => "adam",
        }
    }

    /// True if the optimizer's state, where it has any yet, holds one array per tensor of these
    /// shapes, in order: what a state read from a file must satisfy before an update uses it.
    ///
    /// ```
    /// use ndarray::{ArrayD, IxDyn};
    /// use scratchnet_network::optimizer::{AnyOptimizer, Optimizer};
    /// let mut adam = AnyOptimizer::<f64>::by_name("adam").unwrap();
    /// assert!(adam.state_fits(&[&[3][..]])); // no state yet
    /// let mut w = ArrayD::zeros(IxDyn(&[2]));
    /// adam.update(&mut [w.view_mut()], &[ArrayD::ones(IxDyn(&[2])).view()]);
    /// assert!(adam.state_fits(&[&[2][..]]));
    /// assert!(!adam.state_fits(&[&[3][..]]));
    /// assert!(!adam.state_fits(&[&[2][..], &[2][..]]));
    /// ```
    pub fn state_fits(&self, shapes: &[&[usize]]) -> bool {
        let states: Vec<&Vec<ArrayD<A>>> = match self {
            AnyOptimizer::Sgd(_) => vec![],
            AnyOptimizer::Momentum(o) => vec![&o.v],
            AnyOptimizer::Nesterov(o) => vec![&o.v],
            AnyOptimizer::AdaGrad(o) => vec![&o.h],
            AnyOptimizer::RmsProp(o) => vec![&o.h],
            AnyOptimizer::Adam(o) => vec![&o.m, &o.v],
        };
        states.iter().all(|s| {
            s.is_empty()
                || (s.len() == shapes.len() && s.iter().zip(shapes).all(|(a, &sh)| a.shape() == sh))
        })
    }

    /// Its hyper-parameters as an [`OptimizerConfig`] (those it does not use at the book's
    /// defaults): what a checkpoint's optimizer must agree with its run's configuration on.
    ///
    /// ```
    /// use scratchnet_network::optimizer::{AnyOptimizer, OptimizerConfig, OptimizerKind};
    /// let c = OptimizerConfig { beta1: 0.5, ..OptimizerConfig::new(OptimizerKind::Adam) };
    /// assert_eq!(c.build::<f32>().config(), c);
    /// // momentum is not SGD's: it reads back at its default
    /// let sgd = OptimizerConfig { momentum: 0.1, ..OptimizerConfig::new(OptimizerKind::Sgd) };
    /// assert_eq!(sgd.build::<f32>().config().momentum, 0.9);
    /// ```
    pub fn config(&self) -> OptimizerConfig {
        let (kind, lr) = match self {
            AnyOptimizer::Sgd(o) => (OptimizerKind::Sgd, o.lr),
            AnyOptimizer::Momentum(o) => (OptimizerKind::Momentum, o.lr),
            AnyOptimizer::Nesterov(o) => (OptimizerKind::Nesterov, o.lr),
            AnyOptimizer::AdaGrad(o) => (OptimizerKind::Adagrad, o.lr),
            AnyOptimizer::RmsProp(o) => (OptimizerKind::Rmsprop, o.lr),
            AnyOptimizer::Adam(o) => (OptimizerKind::Adam, o.lr),
        };
        let mut c = OptimizerConfig::new(kind).with_lr(lr);
        match self {
            AnyOptimizer::Momentum(o) => c.momentum = o.momentum,
            AnyOptimizer::Nesterov(o) => c.momentum = o.momentum,
            AnyOptimizer::RmsProp(o) => c.decay_rate = o.decay_rate,
            AnyOptimizer::Adam(o) => (c.beta1, c.beta2) = (o.beta1, o.beta2),
            AnyOptimizer::Sgd(_) | AnyOptimizer::AdaGrad(_) => {}
        }
        c
    }

    /// Sets the learning rate (the other hyper-parameters keep their values).
    ///
    /// ```
    /// use scratchnet_network::optimizer::{AnyOptimizer, Optimizer};
    /// let mut o = AnyOptimizer::<f32>::by_name("rmsprop").unwrap();
    /// o.set_lr(0.5);
    /// assert_eq!(Optimizer::<f32>::lr(&o), 0.5);
    /// ```
    pub fn set_lr(&mut self, lr: f64) {
        match self {
            AnyOptimizer::Sgd(o) => o.lr = lr,
            AnyOptimizer::Momentum(o) => o.lr = lr,
            AnyOptimizer::Nesterov(o) => o.lr = lr,
            AnyOptimizer::AdaGrad(o) => o.lr = lr,
            AnyOptimizer::RmsProp(o) => o.lr = lr,
            AnyOptimizer::Adam(o) => o.lr = lr,
        }
    }
}

impl<A: Scalar> Optimizer<A> for AnyOptimizer<A> {
    fn update_tensors(&mut self, params: &mut [ArrayViewMutD<'_, A>], grads: &[ArrayViewD<'_, A>]) {
        match self {
            AnyOptimizer::Sgd(o) => o.update_tensors(params, grads),
            AnyOptimizer::Momentum(o) => o.update_tensors(params, grads),
            AnyOptimizer::Nesterov(o) => o.update_tensors(params, grads),
            AnyOptimizer::AdaGrad(o) => o.update_tensors(params, grads),
            AnyOptimizer::RmsProp(o) => o.update_tensors(params, grads),
            AnyOptimizer::Adam(o) => o.update_tensors(params, grads),
        }
    }

    fn lr(&self) -> f64 {
        match self {
            AnyOptimizer::Sgd(o) => o.lr,
            AnyOptimizer::Momentum(o) => o.lr,
            AnyOptimizer::Nesterov(o) => o.lr,
            AnyOptimizer::AdaGrad(o) => o.lr,
            AnyOptimizer::RmsProp(o) => o.lr,
            AnyOptimizer::Adam(o) => o.lr,
        }
    }
}

/// [`Params`] as the optimizer's list of tensors, in the book's order `W1, b1, W2, b2`.
impl<A: Scalar> Params<A> {
    /// Mutable views of `W1, b1, W2, b2`, for [`Optimizer::update`].
    ///
    /// ```
    /// use scratchnet_network::{optimizer::{Momentum, Optimizer}, Params};
    /// let mut p = Params::<f64>::zeros(2, 3, 1);
    /// let mut g = Params::<f64>::zeros(2, 3, 1);
    /// g.w2.fill(1.0);
    /// Momentum::default().update(&mut p.tensors_mut(), &g.tensors());
    /// assert_eq!(p.w2[[0, 0]], -0.01);
    /// assert_eq!(p.w1[[0, 0]], 0.0);
    /// ```
    pub fn tensors_mut(&mut self) -> [ArrayViewMutD<'_, A>; 4] {
        [
            self.w1.view_mut().into_dyn(),
            self.b1.view_mut().into_dyn(),
            self.w2.view_mut().into_dyn(),
            self.b2.view_mut().into_dyn(),
        ]
    }

    /// Views of `W1, b1, W2, b2` (of a [`Grads`], for [`Optimizer::update`]).
    pub fn tensors(&self) -> [ArrayViewD<'_, A>; 4] {
        self.named().map(|(_, a)| a)
    }

    /// One optimizer step on every parameter: `optimizer.update(self, grads)`.
    ///
    /// ```
    /// use scratchnet_network::{optimizer::Sgd, Params};
    /// let mut p = Params::<f64>::zeros(1, 1, 1);
    /// let mut g = Params::<f64>::zeros(1, 1, 1);
    /// g.b1[0] = 3.0;
    /// p.update(&mut Sgd::new(0.1), &g);
    /// assert_eq!(p.b1[0], -0.1 * 3.0);
    /// ```
    pub fn update(&mut self, optimizer: &mut impl Optimizer<A>, grads: &Grads<A>) {
        optimizer.update_tensors(&mut self.tensors_mut(), &grads.tensors());
    }
}

/// Which of the book's six optimizers (`common/optimizer.py`), by the names of
/// [`AnyOptimizer::NAMES`].
///
/// ```
/// use scratchnet_network::optimizer::OptimizerKind;
/// assert_eq!("Adam".parse::<OptimizerKind>().unwrap(), OptimizerKind::Adam);
/// assert_eq!(OptimizerKind::Rmsprop.as_str(), "rmsprop");
/// assert_eq!(OptimizerKind::Adam.book_lr(), 0.001);
/// assert!("lbfgs".parse::<OptimizerKind>().unwrap_err().contains("sgd, momentum"));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    /// [`Sgd`]: `params -= lr * grads` (§4.5, the notebook's).
    #[default]
    Sgd,
    /// [`Momentum`] (§6.1.4).
    Momentum,
    /// [`Nesterov`].
    Nesterov,
    /// [`AdaGrad`] (§6.1.5).
    Adagrad,
    /// [`RmsProp`].
    Rmsprop,
    /// [`Adam`] (§6.1.6).
    Adam,
}

impl OptimizerKind {
    /// Every kind, in the order of [`AnyOptimizer::NAMES`].
    pub const ALL: [OptimizerKind; 6] = [
        OptimizerKind::Sgd,
        OptimizerKind::Momentum,
        OptimizerKind::Nesterov,
        OptimizerKind::Adagrad,
        OptimizerKind::Rmsprop,
        OptimizerKind::Adam,
    ];

    /// Its name in [`AnyOptimizer::NAMES`].
    pub fn as_str(self) -> &'static str {
        AnyOptimizer::<f64>::NAMES[self as usize]
    }

    /// The learning rate of the book's class when none is given: 0.01, Adam's 0.001.
    pub fn book_lr(self) -> f64 {
        match self {
            OptimizerKind::Adam => 0.001,
            _ => 0.01,
        }
    }

    /// What it is, in a few words (for help texts).
    ///
    /// ```
    /// use scratchnet_network::optimizer::OptimizerKind;
    /// assert_eq!(OptimizerKind::Adam.about(), "Adam (§6.1.6)");
    /// ```
    pub fn about(self) -> &'static str {
        match self {
            OptimizerKind::Sgd => "`params -= lr * grads` (§4.5, the notebook's)",
            OptimizerKind::Momentum => "Momentum SGD (§6.1.4)",
            OptimizerKind::Nesterov => "Nesterov's accelerated gradient",
            OptimizerKind::Adagrad => "AdaGrad (§6.1.5)",
            OptimizerKind::Rmsprop => "RMSprop",
            OptimizerKind::Adam => "Adam (§6.1.6)",
        }
    }

    /// The hyper-parameters of [`OptimizerConfig`] besides `lr` that this kind uses.
    ///
    /// ```
    /// use scratchnet_network::optimizer::OptimizerKind;
    /// assert_eq!(OptimizerKind::Adam.hyper_parameters(), ["beta1", "beta2"]);
    /// assert!(OptimizerKind::Sgd.hyper_parameters().is_empty());
    /// ```
    pub fn hyper_parameters(self) -> &'static [&'static str] {
        match self {
            OptimizerKind::Momentum | OptimizerKind::Nesterov => &["momentum"],
            OptimizerKind::Rmsprop => &["decay_rate"],
            OptimizerKind::Adam => &["beta1", "beta2"],
            OptimizerKind::Sgd | OptimizerKind::Adagrad => &[],
        }
    }
}

impl std::fmt::Display for OptimizerKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for OptimizerKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let lower = s.to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == lower)
            .ok_or_else(|| {
                format!(
                    "unknown optimizer {s:?}: expected one of {}",
                    AnyOptimizer::<f64>::NAMES.join(", ")
                )
            })
    }
}

/// An optimizer as data: its kind and hyper-parameters (each `f64`), the book's defaults
/// unless set. [`build`](Self::build) makes the optimizer, with an empty state.
///
/// ```
/// use scratchnet_network::optimizer::{Optimizer, OptimizerConfig, OptimizerKind};
/// let c = OptimizerConfig::new(OptimizerKind::Adam);
/// assert_eq!((c.lr, c.beta1, c.beta2), (0.001, 0.9, 0.999));
/// let adam = c.with_lr(0.002).build::<f32>();
/// assert_eq!((adam.name(), Optimizer::<f32>::lr(&adam)), ("adam", 0.002));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct OptimizerConfig {
    /// Which optimizer.
    pub kind: OptimizerKind,
    /// The learning rate.
    pub lr: f64,
    /// Momentum of `momentum` and `nesterov` (0.9).
    pub momentum: f64,
    /// Adam's β₁ (0.9).
    pub beta1: f64,
    /// Adam's β₂ (0.999).
    pub beta2: f64,
    /// RMSprop's decay rate (0.99).
    pub decay_rate: f64,
}

impl OptimizerConfig {
    /// `kind` with the book's defaults: [`OptimizerKind::book_lr`], momentum 0.9, β₁ 0.9,
    /// β₂ 0.999, decay rate 0.99.
    pub fn new(kind: OptimizerKind) -> Self {
        OptimizerConfig {
            kind,
            lr: kind.book_lr(),
            momentum: 0.9,
            beta1: 0.9,
            beta2: 0.999,
            decay_rate: 0.99,
        }
    }

    /// The same with learning rate `lr`.
    pub fn with_lr(self, lr: f64) -> Self {
        OptimizerConfig { lr, ..self }
    }

    /// The optimizer, with an empty state.
    pub fn build<A>(&self) -> AnyOptimizer<A> {
        let lr = self.lr;
        match self.kind {
            OptimizerKind::Sgd => AnyOptimizer::Sgd(Sgd::new(lr)),
            OptimizerKind::Momentum => {
                AnyOptimizer::Momentum(Momentum::new(lr).with_momentum(self.momentum))
            }
            OptimizerKind::Nesterov => {
                AnyOptimizer::Nesterov(Nesterov::new(lr).with_momentum(self.momentum))
            }
            OptimizerKind::Adagrad => AnyOptimizer::AdaGrad(AdaGrad::new(lr)),
            OptimizerKind::Rmsprop => {
                AnyOptimizer::RmsProp(RmsProp::new(lr).with_decay_rate(self.decay_rate))
            }
            OptimizerKind::Adam => {
                AnyOptimizer::Adam(Adam::new(lr).with_betas(self.beta1, self.beta2))
            }
        }
    }
}
