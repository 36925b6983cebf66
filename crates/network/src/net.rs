//! [`Net`]: the one trained type. Built from a [`NetSpec`]; each job (`predict`, `loss`,
//! `accuracy`, `gradient`, `numerical_gradient`, one training [`step`](Net::step)) runs the
//! fastest exact path for its spec, chosen once at construction by a private kernel:
//!
//! | spec | kernel | the book's path it is held equal to |
//! |---|---|---|
//! | `affine H, sigmoid, affine O`, σ init, no decay | fused chapter 4 kernels, fast exact numerical gradient (`fused.rs`, `fast_numgrad.rs`) | [`book::TwoLayerNet`](crate::book::TwoLayerNet) |
//! | any other fully connected net | sparse first layer, the book's layers after it (`multi_layer_fast.rs`) | [`book::MultiLayerNet`](crate::book::MultiLayerNet) |
//!
//! Convolutional specs (chapter 7) will add an arm to the kernel here, and nowhere else.

use std::path::Path;

use ndarray::{Array2, ArrayViewMutD};
use ndarray_npy::{ReadableElement, WritableElement};
use scratchnet_tensor::{Rng, RngState, Scalar, SparseRows};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::layer_stack::{self, LayerStack};
use crate::layers::LossGradient;
use crate::optimizer::{AnyOptimizer, Optimizer};
use crate::{
    Activation, GradCheck, Grads, Input, Model, ModelError, MultiLayerGrads, MultiLayerNet,
    NetSpec, NumGrad, Params, RunningUpdate, Targets, Tensors, TwoLayerNet, WeightInit, Workspace,
};

/// How [`Net::step`] computes its gradient.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Gradient {
    /// Backpropagation (chapter 5).
    #[default]
    Backprop,
    /// The numerical gradient by the fastest exact method for the net (chapter 4).
    Numerical,
    /// The numerical gradient by the book's method, two forward passes per parameter.
    NumericalBook,
}

/// A step refused because the loss after it was NaN or infinite; the net, optimizer and RNG
/// are as before the step.
#[derive(Clone, Copy, Debug, PartialEq, thiserror::Error)]
#[error("the loss after the step is {loss}, not finite: the step was undone")]
pub struct NonFinite {
    /// The offending loss.
    pub loss: f64,
}

/// A mini-batch: rows of the input (sparse: MNIST is mostly zeros) and their labels.
#[derive(Debug)]
pub struct Batch<A> {
    /// The inputs, one row per sample.
    pub x: SparseRows<A>,
    /// The labels.
    pub t: Vec<usize>,
}

impl<A: Scalar> Default for Batch<A> {
    fn default() -> Self {
        Batch {
            x: SparseRows::from_dense(&Array2::<A>::zeros((0, 0))),
            t: Vec::new(),
        }
    }
}

/// Draws a batch with the RNG, into the memory of the batch given.
pub type DrawBatch<'a, A> = dyn Fn(&mut Rng, &mut Batch<A>) + Sync + 'a;

/// The gradient of the next step, where it is kept.
#[derive(Debug, Default)]
enum Pending<A> {
    /// Nothing yet.
    #[default]
    None,
    /// In the workspace (the chapter 4 net's backprop).
    Workspace,
    /// The chapter 4 net's numerical gradient.
    TwoLayer(Grads<A>),
    /// A fully connected net's gradient and the running statistics of its forward pass.
    MultiLayer(MultiLayerGrads<A>, RunningUpdate<A>),
    /// Any other net's gradient.
    Layers(Tensors<A>),
}

/// What the training step keeps between calls: buffers, the undo copy, and the gradient of the
/// next step computed ahead.
#[derive(Debug)]
struct Stepper<A> {
    /// The chapter 4 net with SGD: the other half of a double buffer.
    spare: Option<Params<A>>,
    /// Any other net or optimizer: the net and optimizer from before the step.
    before: Option<(Model<A>, AnyOptimizer<A>)>,
    workspace: Workspace<A>,
    /// The RNG one batch ahead of the caller's.
    look: Option<Rng>,
    /// The caller's RNG state and method for which `pending` holds the gradient of `current`.
    ready_for: Option<(RngState, Gradient)>,
    pending: Pending<A>,
    /// A fully connected net's last gradient, once applied: its memory takes the next one.
    spent: Option<MultiLayerGrads<A>>,
    current: Batch<A>,
    ahead: Batch<A>,
}

impl<A: Scalar> Default for Stepper<A> {
    fn default() -> Self {
        Stepper {
            spare: None,
            before: None,
            workspace: Workspace::new(),
            look: None,
            ready_for: None,
            pending: Pending::None,
            spent: None,
            current: Batch::default(),
            ahead: Batch::default(),
        }
    }
}

/// A network described by a [`NetSpec`], with the fastest exact kernels for it.
///
/// ```
/// use scratchnet_network::{Net, NetSpec};
/// let mut rng = scratchnet_tensor::rng_from_seed(0);
/// let mut net = Net::<f64>::new("affine 8, relu, affine 3".parse::<NetSpec>().unwrap()
///     .with_input(&[4]), &mut rng).unwrap();
/// let x = ndarray::array![[0.0, 0.5, 1.0, 0.25], [1.0, 0.0, 0.0, 0.75]];
/// let t = [2, 0];
/// let before = net.loss(&x, &t);
/// let g = net.gradient(&x, &t, &mut rng);
/// assert_eq!(g.names().collect::<Vec<_>>(), ["W1", "b1", "W2", "b2"]);
/// assert_eq!(g["W1"].shape(), [4, 8]);
/// assert!(before > 0.0 && net.accuracy(&x, &t) <= 1.0);
/// ```
#[derive(Debug)]
pub struct Net<A> {
    spec: NetSpec,
    kernel: Model<A>,
    stepper: Stepper<A>,
}

impl<A: Scalar> Clone for Net<A> {
    /// The spec and parameters; the step's buffers start empty.
    fn clone(&self) -> Self {
        Net {
            spec: self.spec.clone(),
            kernel: self.kernel.clone(),
            stepper: Stepper::default(),
        }
    }
}

impl<A: Scalar> PartialEq for Net<A> {
    /// Same input, layers and parameters (and batch-norm statistics); the initialisation that
    /// drew the first weights does not count.
    fn eq(&self, other: &Self) -> bool {
        self.spec.input == other.spec.input
            && self.spec.layers == other.spec.layers
            && self.kernel == other.kernel
    }
}

/// A net serializes as its parameters alone, in the form of earlier builds' checkpoints.
impl<A: Scalar> Serialize for Net<A> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.kernel.serialize(s)
    }
}

impl<'de, A: Scalar> Deserialize<'de> for Net<A> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let kernel = Model::<A>::deserialize(d)?;
        if !kernel.shapes_fit() {
            return Err(serde::de::Error::custom(
                "parameter shapes do not fit together",
            ));
        }
        Ok(Net::from_kernel(kernel))
    }
}

impl NetSpec {
    /// The same layers over another input shape.
    ///
    /// ```
    /// let s: scratchnet_network::NetSpec = "affine 5, relu, affine 2".parse().unwrap();
    /// assert_eq!(s.with_input(&[3]).sizes(), [3, 5, 2]);
    /// ```
    pub fn with_input(mut self, input: &[usize]) -> Self {
        self.input = input.to_vec();
        self
    }

    /// The same layers with another weight initialisation.
    pub fn with_init(mut self, init: WeightInit) -> Self {
        self.init = init;
        self
    }
}

impl<A: Scalar> Net<A> {
    /// A net of this spec, its weights drawn from `rng` layer by layer (W1 first, row-major),
    /// biases zero, as the book's constructors draw them.
    ///
    /// # Errors
    /// [`ModelError::Spec`] if the spec is out of range, names layers this build cannot run, or
    /// gives initial weights that are not finite in `A`.
    pub fn new(spec: NetSpec, rng: &mut Rng) -> Result<Self, ModelError> {
        spec.validate()?;
        let kernel = if spec.is_two_layer_net() {
            let WeightInit::Std(std) = spec.init else {
                unreachable!("is_two_layer_net checks the init")
            };
            let s = spec.sizes();
            Model::TwoLayer(TwoLayerNet::new(s[0], s[1], s[2], std, rng))
        } else if spec.dense().is_err() && layer_stack::check(&spec).is_ok() {
            Model::Layers(LayerStack::new(&spec, rng).map_err(ModelError::Spec)?)
        } else {
            let d = spec.dense().map_err(ModelError::Spec)?;
            let (input, output) = (d.sizes[0], d.sizes[d.sizes.len() - 1]);
            let hidden = &d.sizes[1..d.sizes.len() - 1];
            let mut net = MultiLayerNet::new(input, hidden, output, d.activation, spec.init, rng)
                .with_weight_decay(spec.weight_decay);
            if d.batch_norm {
                net = net.with_batch_norm();
            }
            if let Some(r) = d.dropout {
                net = net.with_dropout(r);
            }
            Model::MultiLayer(net)
        };
        if !kernel.all_finite() {
            return Err(ModelError::Spec(format!(
                "weight init {} gives initial weights that are not finite in {}",
                spec.init,
                A::DTYPE
            )));
        }
        Ok(Net {
            spec,
            kernel,
            stepper: Stepper::default(),
        })
    }

    /// A net around the parameters of a kernel, its spec read off them. Files of versions 1 and
    /// 2 do not record the initialisation: the spec says the book's default for the kind.
    pub(crate) fn from_kernel(kernel: Model<A>) -> Self {
        let spec = match &kernel {
            Model::Layers(n) => n.spec().clone(),
            Model::TwoLayer(n) => {
                let (i, h, o) = n.sizes();
                NetSpec::two_layer_net(i, h, o, 0.01)
            }
            Model::MultiLayer(n) => {
                let s = n.sizes();
                let init = match n.activation {
                    Activation::Relu => WeightInit::He,
                    Activation::Sigmoid => WeightInit::Xavier,
                };
                NetSpec::multi_layer_net_extend(
                    s[0],
                    &s[1..s.len() - 1],
                    s[s.len() - 1],
                    n.activation,
                    init,
                    n.weight_decay_lambda,
                    n.dropout,
                    !n.batch_norm.is_empty(),
                )
            }
        };
        Net {
            spec,
            kernel,
            stepper: Stepper::default(),
        }
    }

    /// What the net is. For a net read from a file, the initialisation is the book's default.
    pub fn spec(&self) -> &NetSpec {
        &self.spec
    }

    /// True if `spec` describes this net: the same input and layers, run by the same kernel.
    ///
    /// ```
    /// use scratchnet_network::{Net, NetSpec};
    /// let spec = NetSpec::two_layer_net(4, 3, 2, 0.1);
    /// let net = Net::<f64>::new(spec.clone(), &mut scratchnet_tensor::rng_from_seed(0)).unwrap();
    /// assert!(net.fits(&spec));
    /// assert!(!net.fits(&NetSpec::two_layer_net(4, 5, 2, 0.1)));
    /// ```
    pub fn fits(&self, spec: &NetSpec) -> bool {
        self.spec.input == spec.input
            && self.spec.layers == spec.layers
            && matches!(self.kernel, Model::TwoLayer(_)) == spec.is_two_layer_net()
            && match &self.kernel {
                Model::MultiLayer(n) => n.weight_decay_lambda == spec.weight_decay,
                Model::Layers(n) => n.spec().weight_decay == spec.weight_decay,
                Model::TwoLayer(_) => true,
            }
    }

    /// This net described by `spec` (which must [`fit`](Self::fits) it), for a net read from a
    /// file that does not record its initialisation.
    ///
    /// # Errors
    /// [`ModelError::Spec`] if `spec` does not describe this net.
    pub fn with_spec(mut self, spec: NetSpec) -> Result<Self, ModelError> {
        if !self.fits(&spec) {
            return Err(ModelError::Spec(format!(
                "the network is {}, not {spec}",
                self.spec
            )));
        }
        self.spec = spec;
        Ok(self)
    }

    /// A net of `spec` with these parameters (every tensor of [`params`](Self::params), by
    /// name, of the same shape).
    ///
    /// ```
    /// use scratchnet_network::{Net, NetSpec};
    /// let spec = NetSpec::two_layer_net(4, 3, 2, 0.1);
    /// let net = Net::<f64>::new(spec.clone(), &mut scratchnet_tensor::rng_from_seed(0)).unwrap();
    /// assert_eq!(Net::from_params(spec, &net.params()).unwrap(), net);
    /// ```
    ///
    /// # Errors
    /// [`ModelError::Spec`] naming a tensor that is missing, extra or of another shape.
    pub fn from_params(spec: NetSpec, params: &Tensors<A>) -> Result<Self, ModelError> {
        // the drawn weights are all overwritten
        let mut net = Net::new(spec, &mut scratchnet_tensor::rng_from_seed(0))?;
        let names: Vec<String> = net.params().names().map(str::to_owned).collect();
        if params.len() != names.len() {
            return Err(ModelError::Spec(format!(
                "{} tensors given, the network has {} ({})",
                params.len(),
                names.len(),
                names.join(", ")
            )));
        }
        for (name, mut view) in names.iter().zip(net.kernel.tensors_mut()) {
            let src = params
                .get(name)
                .ok_or_else(|| ModelError::Spec(format!("no tensor {name}")))?;
            if src.shape() != view.shape() {
                return Err(ModelError::Spec(format!(
                    "{name} has shape {:?}, the network needs {:?}",
                    src.shape(),
                    view.shape()
                )));
            }
            view.assign(src);
        }
        Ok(net)
    }

    /// One optimizer step on every parameter from `grads` (as [`gradient`](Self::gradient)
    /// returns them): the book's `optimizer.update(network.params, grads)`.
    ///
    /// # Panics
    /// If `grads` does not have the parameters' names and shapes.
    pub fn update(&mut self, optimizer: &mut impl Optimizer<A>, grads: &Tensors<A>) {
        self.stepper.ready_for = None;
        let names: Vec<String> = self.params().names().map(str::to_owned).collect();
        let views: Vec<_> = names.iter().map(|n| grads[n.as_str()].view()).collect();
        optimizer.update_tensors(&mut self.kernel.tensors_mut(), &views);
    }

    /// `784-100-100-10 relu`: the widths and the hidden layers' activation.
    pub fn describe(&self) -> String {
        self.kernel.describe()
    }

    /// The widths of the affine layers, input first.
    pub fn sizes(&self) -> Vec<usize> {
        self.kernel.sizes()
    }

    /// The trained tensors under the book's names, in order: `W1, b1, [gamma1, beta1,] W2, …`.
    ///
    /// ```
    /// use scratchnet_network::{Net, NetSpec};
    /// let net = Net::<f32>::new(NetSpec::two_layer_net(4, 3, 2, 0.1),
    ///     &mut scratchnet_tensor::rng_from_seed(0)).unwrap();
    /// assert_eq!(net.params()["W2"].shape(), [3, 2]);
    /// ```
    pub fn params(&self) -> Tensors<A> {
        Tensors::from_views(self.kernel.named_tensors())
    }

    /// The state that is not trained but that prediction needs: `running_mean1, running_var1,
    /// …` of each batch normalisation (none without it).
    pub fn state(&self) -> Tensors<A> {
        let mut pairs = Vec::new();
        if let Model::MultiLayer(n) = &self.kernel {
            for (i, bn) in n.batch_norm.iter().enumerate() {
                pairs.push((
                    format!("running_mean{}", i + 1),
                    bn.running_mean.clone().into_dyn(),
                ));
                pairs.push((
                    format!("running_var{}", i + 1),
                    bn.running_var.clone().into_dyn(),
                ));
            }
        }
        Tensors::from_pairs(pairs)
    }

    /// True if every parameter is finite.
    pub fn all_finite(&self) -> bool {
        self.kernel.all_finite()
    }

    /// The book's `predict` of the net's class (test mode: batch norm's running statistics,
    /// dropout scaling): for the chapter 4 spec, chapter 4's `TwoLayerNet.predict`, which ends
    /// with the softmax (probabilities); for any other spec, the scores before the softmax.
    /// [`predict_classes`](Self::predict_classes) is the same either way.
    ///
    /// # Panics
    /// If `x` does not fit the net.
    pub fn predict<'x>(&self, x: impl Into<Input<'x, A>> + Send) -> Array2<A> {
        match &self.kernel {
            Model::TwoLayer(n) => n.predict_fused(x),
            Model::MultiLayer(n) => n.predict_fast(x),
            Model::Layers(n) => n.predict(x.into().to_dense().view()),
        }
    }

    /// The class of each row: the argmax of [`predict`](Self::predict)'s scores (the first on
    /// a tie), as the book's `np.argmax(y, axis=1)`.
    ///
    /// ```
    /// use scratchnet_network::{Net, NetSpec};
    /// let net = Net::<f64>::new(NetSpec::two_layer_net(2, 3, 4, 0.1),
    ///     &mut scratchnet_tensor::rng_from_seed(0)).unwrap();
    /// let classes = net.predict_classes(&ndarray::array![[0.5, 1.0], [1.0, 0.0]]);
    /// assert!(classes.len() == 2 && classes.iter().all(|&c| c < 4));
    /// ```
    ///
    /// # Panics
    /// If `x` does not fit the net.
    pub fn predict_classes<'x>(&self, x: impl Into<Input<'x, A>> + Send) -> Vec<usize> {
        scratchnet_tensor::argmax_rows(&self.predict(x))
    }

    /// The loss in test mode, weight decay included.
    ///
    /// # Panics
    /// If `x` and the targets do not fit the net.
    pub fn loss<'x, 't>(
        &self,
        x: impl Into<Input<'x, A>> + Send,
        t: impl Into<Targets<'t, A>>,
    ) -> A {
        self.kernel.loss_fast(x, t)
    }

    /// The share of rows whose predicted class is the target's.
    ///
    /// # Panics
    /// If `x` and the targets do not fit the net.
    pub fn accuracy<'x, 't>(
        &self,
        x: impl Into<Input<'x, A>> + Send,
        t: impl Into<Targets<'t, A>>,
    ) -> f64 {
        self.kernel.accuracy_fast(x, t)
    }

    /// The gradient by backpropagation (train mode: batch statistics, which it records as the
    /// running ones, and dropout masks from `rng`), `dW + λW` with weight decay.
    ///
    /// # Panics
    /// If `x` and the targets do not fit the net.
    pub fn gradient<'x, 't>(
        &mut self,
        x: impl Into<Input<'x, A>> + Send,
        t: impl Into<Targets<'t, A>> + Send,
        rng: &mut Rng,
    ) -> Tensors<A> {
        self.stepper.ready_for = None;
        match &mut self.kernel {
            Model::TwoLayer(n) => Tensors::from_views(n.gradient_fused(x, t).named()),
            Model::MultiLayer(n) => Tensors::from_views(n.gradient_fast(x, t, rng).named()),
            Model::Layers(n) => n.gradient(x.into().to_dense().view(), t.into(), rng).1,
        }
    }

    /// The numerical gradient (central differences, `h = 1e-4`), by the fastest exact method
    /// for the net; the net is unchanged (dropout masks from `rng`).
    ///
    /// # Panics
    /// If `x` and the targets do not fit the net.
    pub fn numerical_gradient<'x, 't>(
        &self,
        x: impl Into<Input<'x, A>> + Send,
        t: impl Into<Targets<'t, A>>,
        rng: &mut Rng,
    ) -> Tensors<A> {
        match &self.kernel {
            Model::TwoLayer(n) => Tensors::from_views(n.numerical_gradient_fast(x, t).named()),
            Model::MultiLayer(n) => Tensors::from_views(n.numerical_gradient(x, t, rng).named()),
            Model::Layers(n) => n.numerical_gradient(x.into().to_dense().view(), t.into()),
        }
    }

    /// The book's `gradient_check.py`: numerical against backprop, tensor by tensor (by the
    /// book's numerical method if `book` is set). The net is unchanged.
    ///
    /// # Panics
    /// If `x` and the targets do not fit the net.
    pub fn gradient_check<'x, 't>(
        &self,
        x: impl Into<Input<'x, A>> + Send,
        t: impl Into<Targets<'t, A>>,
        book: bool,
        loss_gradient: LossGradient,
        rng: &mut Rng,
    ) -> GradCheck {
        match &self.kernel {
            Model::TwoLayer(n) => {
                let strategy = if book {
                    NumGrad::Generic
                } else {
                    NumGrad::Fast
                };
                crate::gradient_check_with(n, x, t, strategy, loss_gradient)
            }
            Model::MultiLayer(n) => n.gradient_check_with(x, t, rng, loss_gradient),
            Model::Layers(n) => {
                let (x, t) = (x.into(), t.into());
                let x = x.to_dense();
                let num = n.numerical_gradient(x.view(), t);
                let (_, bp) = n.gradient_with(x.view(), t, rng, loss_gradient);
                GradCheck::of(
                    num.iter()
                        .zip(bp.iter())
                        .map(|((name, a), (_, b))| (name.to_owned(), a.view(), b.view())),
                )
            }
        }
    }

    /// One training iteration of §4.5.2: draw a batch, compute its gradient by `method`, move
    /// the parameters by `optimizer`, and return the batch loss after the step.
    ///
    /// `rng` draws the batch (with `draw`) and dropout masks; on success it is where the plain
    /// loop leaves it. With `ahead`, the next batch and its gradient are computed at the same
    /// time as this step's loss (they need the same parameters) and used by the next call if it
    /// comes with the RNG this one left and the same `method`; the numbers are those of the
    /// plain loop, bit for bit, on any thread count.
    ///
    /// # Errors
    /// [`NonFinite`] if the loss after the step is not finite: the net, `optimizer` and `rng`
    /// are then as before the call.
    ///
    /// ```
    /// use scratchnet_network::{Batch, Gradient, Net, NetSpec, optimizer::AnyOptimizer};
    /// use scratchnet_tensor::{SparseRows, rng_from_seed};
    /// let x = ndarray::Array2::from_shape_fn((20, 4), |(i, j)| ((i + j) % 4 == 0) as u8 as f64);
    /// let (x, t) = (SparseRows::from_dense(&x), (0..20).map(|i| i % 4 % 2).collect::<Vec<_>>());
    /// let draw = |rng: &mut scratchnet_tensor::Rng, b: &mut Batch<f64>| {
    ///     let idx = scratchnet_tensor::choice_with_replacement(rng, 20, 5);
    ///     x.gather_rows_into(&idx, &mut b.x);
    ///     b.t = idx.iter().map(|&k| t[k]).collect();
    /// };
    /// let mut rng = rng_from_seed(1);
    /// let mut net = Net::<f64>::new(NetSpec::two_layer_net(4, 3, 2, 0.1), &mut rng).unwrap();
    /// let mut sgd = AnyOptimizer::by_name("sgd").unwrap();
    /// for _ in 0..3 {
    ///     let loss = net.step(&draw, Gradient::Backprop, &mut sgd, &mut rng, true).unwrap();
    ///     assert!(loss.is_finite());
    /// }
    /// ```
    pub fn step(
        &mut self,
        draw: &DrawBatch<'_, A>,
        method: Gradient,
        optimizer: &mut AnyOptimizer<A>,
        rng: &mut Rng,
        ahead: bool,
    ) -> Result<f64, NonFinite> {
        let start = RngState::of(rng);
        let st = &mut self.stepper;
        if st.ready_for != Some((start, method)) {
            let mut look = start.restore();
            draw(&mut look, &mut st.current);
            st.pending = gradient_of(
                &self.kernel,
                &st.current,
                method,
                &mut st.workspace,
                &mut look,
                st.spent.take(),
            );
            st.look = Some(look);
        }
        let mut look = st
            .look
            .take()
            .expect("the look-ahead RNG is set above or by the last step");
        let after = RngState::of(&look);
        self.apply(optimizer);
        let st = &mut self.stepper;
        let kernel = &self.kernel;
        let (loss, ()) = {
            let Stepper {
                current,
                ahead: next,
                workspace,
                pending,
                spent,
                ..
            } = st;
            rayon::join(
                || kernel.loss_fast(&current.x, &current.t).as_f64(),
                || {
                    if ahead {
                        draw(&mut look, next);
                        *pending =
                            gradient_of(kernel, next, method, workspace, &mut look, spent.take());
                    }
                },
            )
        };
        if !loss.is_finite() {
            self.undo(optimizer);
            self.stepper.ready_for = None;
            self.stepper.pending = Pending::None;
            return Err(NonFinite { loss });
        }
        let st = &mut self.stepper;
        *rng = after.restore();
        st.ready_for = ahead.then_some((after, method));
        st.look = Some(look);
        std::mem::swap(&mut st.current, &mut st.ahead);
        Ok(loss)
    }

    /// The optimizer step from the pending gradient, keeping what [`undo`](Self::undo) needs.
    fn apply(&mut self, optimizer: &mut AnyOptimizer<A>) {
        let st = &mut self.stepper;
        let sgd_two_layer = matches!(
            (&self.kernel, &*optimizer),
            (Model::TwoLayer(_), AnyOptimizer::Sgd(_))
        );
        if !sgd_two_layer {
            match &mut st.before {
                Some((net, opt)) => {
                    net.clone_from(&self.kernel);
                    opt.clone_from(optimizer);
                }
                None => st.before = Some((self.kernel.clone(), optimizer.clone())),
            }
        }
        // the gradient is used once: the next one replaces it
        let pending = std::mem::take(&mut st.pending);
        match (&mut self.kernel, pending) {
            (Model::TwoLayer(net), pending) => {
                let grads = match &pending {
                    Pending::Workspace => st.workspace.grads(),
                    Pending::TwoLayer(g) => g,
                    _ => unreachable!("a chapter 4 net's gradient"),
                };
                if sgd_two_layer {
                    let lr = A::of_f64(optimizer.lr());
                    let spare = st.spare.get_or_insert_with(|| net.params.clone());
                    net.params.sgd_step_into(grads, lr, spare);
                    std::mem::swap(&mut net.params, spare);
                } else {
                    net.params.update(optimizer, grads);
                }
            }
            // the book's order: the forward pass of the gradient moves the running statistics,
            // then the optimizer moves the parameters
            (Model::MultiLayer(net), Pending::MultiLayer(g, running)) => {
                net.apply_running(running);
                net.update(optimizer, &g);
                st.spent = Some(g);
            }
            (Model::MultiLayer(_), _) => unreachable!("a fully connected net's own gradient"),
            (Model::Layers(net), Pending::Layers(g)) => {
                let names: Vec<String> = g.names().map(str::to_owned).collect();
                let views: Vec<_> = names.iter().map(|n| g[n.as_str()].view()).collect();
                optimizer.update(&mut net.tensors_mut(), &views);
            }
            (Model::Layers(_), _) => unreachable!("a layer stack's own gradient"),
        }
    }

    /// Puts back the net and optimizer of before the last [`apply`](Self::apply).
    fn undo(&mut self, optimizer: &mut AnyOptimizer<A>) {
        let st = &mut self.stepper;
        match (&mut self.kernel, &*optimizer, &st.before) {
            (Model::TwoLayer(net), AnyOptimizer::Sgd(_), _) => {
                let spare = st
                    .spare
                    .as_mut()
                    .expect("the SGD step filled the spare buffer");
                std::mem::swap(&mut net.params, spare);
            }
            (_, _, Some((net, opt))) => {
                self.kernel.clone_from(net);
                optimizer.clone_from(opt);
            }
            _ => unreachable!("every step keeps what undoes it"),
        }
    }

    /// The kernel, for the model file.
    pub(crate) fn kernel(&self) -> &Model<A> {
        &self.kernel
    }

    /// The kernel, for the book's classes' loaders.
    pub(crate) fn into_kernel(self) -> Model<A> {
        self.kernel
    }

    /// Sets the state of [`state`](Self::state) (every tensor by name, of the same shape).
    pub(crate) fn set_state(&mut self, state: &Tensors<A>) -> Result<(), ModelError> {
        let names: Vec<String> = self.state().names().map(str::to_owned).collect();
        if state.len() != names.len() {
            return Err(ModelError::Spec(format!(
                "{} state tensors given, the network has {}",
                state.len(),
                names.len()
            )));
        }
        if let Model::MultiLayer(n) = &mut self.kernel {
            for (i, bn) in n.batch_norm.iter_mut().enumerate() {
                for (name, dst) in [
                    (format!("running_mean{}", i + 1), &mut bn.running_mean),
                    (format!("running_var{}", i + 1), &mut bn.running_var),
                ] {
                    let src = state
                        .get(&name)
                        .ok_or_else(|| ModelError::Spec(format!("no tensor {name}")))?;
                    if src.shape() != [dst.len()] {
                        return Err(ModelError::Spec(format!(
                            "{name} has shape {:?}, the network needs [{}]",
                            src.shape(),
                            dst.len()
                        )));
                    }
                    dst.iter_mut().zip(src.iter()).for_each(|(d, &s)| *d = s);
                }
            }
        }
        Ok(())
    }
}

impl<A: Scalar + WritableElement + ReadableElement> Net<A> {
    /// Writes [`params`](Self::params) and [`state`](Self::state) under the book's names as a
    /// NumPy `.npz`, atomically; a `path` that is a directory, device or FIFO is refused.
    ///
    /// ```
    /// use scratchnet_network::{Activation, Net, NetSpec, WeightInit};
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("params.npz");
    /// let spec = NetSpec::multi_layer_net_extend(3, &[2, 2], 2, Activation::Relu, WeightInit::He,
    ///     0.0, None, true);
    /// let net = Net::<f64>::new(spec, &mut scratchnet_tensor::rng_from_seed(0)).unwrap();
    /// net.export_npz(&path).unwrap();
    /// let mut r = ndarray_npy::NpzReader::new(std::fs::File::open(&path).unwrap()).unwrap();
    /// let w3: ndarray::ArrayD<f64> = r.by_name("W3").unwrap();
    /// assert_eq!(w3, net.params()["W3"]);
    /// let var2: ndarray::ArrayD<f64> = r.by_name("running_var2").unwrap();
    /// assert_eq!(var2, net.state()["running_var2"]);
    /// ```
    pub fn export_npz(&self, path: impl AsRef<Path>) -> Result<(), ModelError> {
        self.kernel.export_npz(path)
    }
}

/// The gradient of `batch` by `method`: the chapter 4 net's backprop into `ws`, or a gradient
/// returned.
fn gradient_of<A: Scalar>(
    net: &Model<A>,
    batch: &Batch<A>,
    method: Gradient,
    ws: &mut Workspace<A>,
    rng: &mut Rng,
    spent: Option<MultiLayerGrads<A>>,
) -> Pending<A> {
    match (net, method) {
        (Model::TwoLayer(net), Gradient::Backprop) => {
            net.gradient_in(&batch.x, &batch.t, ws);
            Pending::Workspace
        }
        (Model::TwoLayer(net), Gradient::Numerical) => {
            Pending::TwoLayer(net.numerical_gradient_with(&batch.x, &batch.t, NumGrad::Fast))
        }
        (Model::TwoLayer(net), Gradient::NumericalBook) => {
            Pending::TwoLayer(net.numerical_gradient_with(&batch.x, &batch.t, NumGrad::Generic))
        }
        (Model::MultiLayer(net), Gradient::Backprop) => {
            let (g, running) = match spent {
                Some(spent) => net.gradient_fast_reusing(&batch.x, &batch.t, rng, spent),
                None => net.gradient_fast_detached(&batch.x, &batch.t, rng),
            };
            Pending::MultiLayer(g, running)
        }
        (Model::Layers(net), Gradient::Backprop) => {
            let x = Input::from(&batch.x).to_dense().into_owned();
            Pending::Layers(net.gradient(x.view(), Targets::Labels(&batch.t), rng).1)
        }
        (Model::Layers(net), Gradient::Numerical | Gradient::NumericalBook) => {
            let x = Input::from(&batch.x).to_dense().into_owned();
            Pending::Layers(net.numerical_gradient(x.view(), Targets::Labels(&batch.t)))
        }
        (Model::MultiLayer(net), Gradient::Numerical | Gradient::NumericalBook) => {
            // the book's numerical gradient, with the running statistics a training forward
            // pass leaves (the numerical gradient itself moves none); the forward pass draws
            // the same masks as the numerical gradient
            let mut again = RngState::of(rng).restore();
            let g = net.numerical_gradient(&batch.x, &batch.t, rng);
            let (_, running) = net.gradient_fast_detached(&batch.x, &batch.t, &mut again);
            Pending::MultiLayer(g, running)
        }
    }
}

/// A net's parameters, by name, for [`Optimizer::update`]: `optimizer.update(&mut net, &grads)`.
impl<A: Scalar> crate::optimizer::ParamsMut<A> for Net<A> {
    fn tensors_for_update(&mut self) -> (Option<Vec<String>>, Vec<ArrayViewMutD<'_, A>>) {
        // the parameters change: a gradient computed ahead for them is stale
        self.stepper.ready_for = None;
        let names = self
            .kernel
            .named_tensors()
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        (Some(names), self.kernel.tensors_mut())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use scratchnet_tensor::rng_from_seed;

    fn data() -> (SparseRows<f64>, Vec<usize>) {
        let mut rng = rng_from_seed(3);
        let x: Array2<f64> = scratchnet_tensor::randn((30, 6), 0.5, &mut rng).mapv(f64::abs);
        (SparseRows::from_dense(&x), (0..30).map(|k| k % 3).collect())
    }

    /// §4.5.3 written out: draw, gradient, update, loss, one after another, over the book's
    /// classes.
    fn plain_loop(
        spec: &NetSpec,
        method: Gradient,
        opt: &str,
        iters: usize,
    ) -> (Vec<f64>, Net<f64>) {
        let (x, t) = data();
        let mut rng = rng_from_seed(7);
        let mut net = Net::<f64>::new(spec.clone(), &mut rng).unwrap();
        let mut optimizer = AnyOptimizer::<f64>::by_name(opt).unwrap();
        let mut losses = Vec::new();
        for _ in 0..iters {
            let idx = scratchnet_tensor::choice_with_replacement(&mut rng, 30, 8);
            let xb = x.gather_rows(&idx);
            let tb: Vec<usize> = idx.iter().map(|&k| t[k]).collect();
            match &mut net.kernel {
                Model::TwoLayer(n) => {
                    let g = match method {
                        Gradient::Backprop => n.gradient_fused(&xb, &tb),
                        _ => n.numerical_gradient_fast(&xb, &tb),
                    };
                    n.params.update(&mut optimizer, &g);
                }
                Model::MultiLayer(n) => {
                    let g = match method {
                        Gradient::Backprop => n.gradient_fast(&xb, &tb, &mut rng),
                        _ => unreachable!(),
                    };
                    n.update(&mut optimizer, &g);
                }
                Model::Layers(_) => {
                    let g = match method {
                        Gradient::Backprop => net.gradient(&xb, &tb, &mut rng),
                        _ => net.numerical_gradient(&xb, &tb, &mut rng),
                    };
                    net.update(&mut optimizer, &g);
                }
            }
            losses.push(net.loss(&xb, &tb));
        }
        (losses, net)
    }

    #[test]
    fn steps_equal_the_plain_loop_bit_for_bit() {
        let (x, t) = data();
        let draw = |rng: &mut Rng, b: &mut Batch<f64>| {
            let idx = scratchnet_tensor::choice_with_replacement(rng, 30, 8);
            x.gather_rows_into(&idx, &mut b.x);
            b.t.clear();
            b.t.extend(idx.iter().map(|&k| t[k]));
        };
        let two = NetSpec::two_layer_net(6, 4, 3, 0.1);
        let deep = NetSpec::multi_layer_net_extend(
            6,
            &[5, 4],
            3,
            Activation::Relu,
            WeightInit::He,
            0.01,
            Some(0.2),
            true,
        );
        let conv = NetSpec {
            input: vec![1, 2, 3],
            .."conv 3x2x2 pad 1, relu, pool 2, affine 4, relu, dropout 0.3, affine 3"
                .parse::<NetSpec>()
                .unwrap()
        };
        for (spec, method, opt) in [
            (&two, Gradient::Backprop, "sgd"),
            (&two, Gradient::Numerical, "sgd"),
            (&two, Gradient::Backprop, "adam"),
            (&deep, Gradient::Backprop, "momentum"),
            (&conv, Gradient::Backprop, "adam"),
            (&conv, Gradient::Numerical, "sgd"),
        ] {
            let (losses, plain) = plain_loop(spec, method, opt, 6);
            let mut rng = rng_from_seed(7);
            let mut net = Net::<f64>::new(spec.clone(), &mut rng).unwrap();
            let mut optimizer = AnyOptimizer::<f64>::by_name(opt).unwrap();
            let got: Vec<f64> = (0..6)
                .map(|i| {
                    net.step(&draw, method, &mut optimizer, &mut rng, i < 5)
                        .unwrap()
                })
                .collect();
            assert_eq!(got, losses, "{spec} {method:?} {opt}");
            assert_eq!(net, plain, "{spec} {method:?} {opt}");
        }
    }

    #[test]
    fn a_non_finite_step_is_undone() {
        let (x, t) = data();
        let draw = |rng: &mut Rng, b: &mut Batch<f64>| {
            let idx = scratchnet_tensor::choice_with_replacement(rng, 30, 8);
            x.gather_rows_into(&idx, &mut b.x);
            b.t = idx.iter().map(|&k| t[k]).collect();
        };
        for (spec, opt) in [
            (NetSpec::two_layer_net(6, 40, 3, 1.0), "sgd"),
            (NetSpec::two_layer_net(6, 40, 3, 1.0), "momentum"),
            (
                NetSpec::multi_layer_net(6, &[5], 3, Activation::Relu, WeightInit::He, 1e308),
                "adam",
            ),
        ] {
            let mut rng = rng_from_seed(1);
            let mut net = Net::<f64>::new(spec, &mut rng).unwrap();
            let mut optimizer = AnyOptimizer::<f64>::by_name(opt).unwrap();
            optimizer.set_lr(1e308);
            let mut refused = false;
            for _ in 0..50 {
                let (before, opt_before, rng_before) =
                    (net.clone(), optimizer.clone(), RngState::of(&rng));
                if let Err(e) = net.step(&draw, Gradient::Backprop, &mut optimizer, &mut rng, true)
                {
                    assert!(!e.loss.is_finite());
                    assert_eq!(net, before);
                    assert_eq!(optimizer, opt_before);
                    assert_eq!(RngState::of(&rng), rng_before);
                    refused = true;
                    break;
                }
            }
            assert!(refused, "lr 1e308 should blow up within 50 steps: {opt}");
        }
    }
}
