//! The book's two-layer net (§4.5.1, and `two_layer_net.py` of chapter 5): its layers in order,
//! `predict`, `loss`, `accuracy`, `numerical_gradient` and `gradient` written the way the book
//! writes them. This is the readable path and the oracle of the tests; the fast paths that
//! [`Net`](crate::Net) runs for the chapter 4 spec (and so the trainer) are crate-private, in
//! `fused.rs` and `fast_numgrad.rs`.

use ndarray::{Array2, ArrayView1, ArrayView2};
use scratchnet_functions::softmax;
use scratchnet_numgrad::numerical_gradient;
use scratchnet_tensor::{Rng, Scalar};

use crate::input::Input;
use crate::layers::{Affine, Layer, Mode, Sigmoid, SoftmaxWithLoss};
use crate::{Grads, Params, Targets};

/// The book's two-layer network: `x → Affine(W1, b1) → Sigmoid → Affine(W2, b2) →
/// SoftmaxWithLoss`.
///
/// `predict` feeds the sigmoid *output* `z1` to the second layer, as the book does; the notebook's
/// cell passes the pre-activation `a1`, a slip that turns the net into one linear map.
///
/// Its methods are the book's, written as the book writes it (`predict`, `loss`, `accuracy`,
/// `numerical_gradient`, `gradient`). A [`Net`](crate::Net) of
/// [`NetSpec::two_layer_net`](crate::NetSpec::two_layer_net) is the same net with a fast form of
/// each, which is what `scratchnet train` runs; the crate's tests hold each fast form to these.
///
/// ```
/// use scratchnet_network::TwoLayerNet;
/// use ndarray::Array2;
///
/// let mut net = TwoLayerNet::<f64>::new(784, 50, 10, 0.01, &mut scratchnet_tensor::rng_from_seed(0));
/// let x = Array2::from_shape_fn((3, 784), |(i, j)| ((i * 7 + j) % 5) as f64 / 4.0);
/// let t = [3, 1, 4];
/// let y = net.predict(&x);
/// assert_eq!(y.dim(), (3, 10));
/// assert!((y.sum() - 3.0).abs() < 1e-12);
/// // one step of the notebook's loop, by backprop through the book's layers
/// let before = net.loss(&x, &t);
/// let grads = net.gradient(&x, &t);
/// net.sgd_step(&grads, 0.1);
/// assert!(net.loss(&x, &t) < before);
/// ```
///
/// The same in `f32`, with labels as `&Vec<usize>`, and by the fast paths of a [`Net`](crate::Net)
/// of the same spec (the same weights from the same seed):
///
/// ```
/// use scratchnet_network::{Net, NetSpec, TwoLayerNet, optimizer::Sgd};
/// let mut rng = scratchnet_tensor::rng_from_seed(0);
/// let mut net = TwoLayerNet::<f32>::new(4, 3, 2, 0.5, &mut rng);
/// let x = ndarray::array![[0.0f32, 1.0, 0.5, 0.0], [1.0, 0.0, 0.0, 0.25]];
/// let t = vec![1, 0];
/// let before = net.loss(&x, &t);
/// let grads = net.gradient(&x, &t);
/// net.sgd_step(&grads, 0.5);
/// assert!(net.loss(&x, &t) < before);
///
/// let mut rng = scratchnet_tensor::rng_from_seed(0);
/// let mut fast = Net::<f32>::new(NetSpec::two_layer_net(4, 3, 2, 0.5), &mut rng).unwrap();
/// assert!((fast.loss(&x, &t) - before).abs() < 1e-6);
/// let grads = fast.gradient(&x, &t, &mut rng);
/// fast.update(&mut Sgd::new(0.5), &grads);
/// assert!((fast.loss(&x, &t) - net.loss(&x, &t)).abs() < 1e-6);
/// ```
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(bound = "A: Scalar")]
pub struct TwoLayerNet<A = f64> {
    /// W1, b1, W2, b2: the book's `self.params`.
    pub params: Params<A>,
}

/// The book's `self.layers` (an ordered dict) and `self.lastLayer`, over views of the weights:
/// the net's own parameters, or a perturbed copy of one of them for the numerical gradient.
struct Layers<'p, 't, A: Scalar> {
    affine1: Affine<'p, A>,
    sigmoid1: Sigmoid<A>,
    affine2: Affine<'p, A>,
    last_layer: SoftmaxWithLoss<'t, A>,
}

impl<'p, 't, A: Scalar> Layers<'p, 't, A> {
    fn new(
        w1: ArrayView2<'p, A>,
        b1: ArrayView1<'p, A>,
        w2: ArrayView2<'p, A>,
        b2: ArrayView1<'p, A>,
    ) -> Self {
        Self {
            affine1: Affine::new(w1, b1),
            sigmoid1: Sigmoid::new(),
            affine2: Affine::new(w2, b2),
            last_layer: SoftmaxWithLoss::new(),
        }
    }

    /// `self.layers.values()`, in order.
    fn in_order(&mut self) -> [&mut dyn Layer<A>; 3] {
        [&mut self.affine1, &mut self.sigmoid1, &mut self.affine2]
    }

    /// The scores: every layer's forward pass in order.
    fn predict(&mut self, x: ArrayView2<'_, A>, mode: Mode) -> Array2<A> {
        let mut x = x.to_owned();
        for layer in self.in_order() {
            x = layer.forward(x.view(), mode);
        }
        x
    }

    /// `self.lastLayer.forward(self.predict(x), t)`.
    fn loss(&mut self, x: ArrayView2<'_, A>, t: Targets<'t, A>, mode: Mode) -> A {
        let y = self.predict(x, mode);
        self.last_layer.forward(y.view(), t)
    }
}

impl<A: Scalar> TwoLayerNet<A> {
    /// A net with weights drawn from N(0, `weight_init_std`²) (the book uses 0.01) and zero biases.
    ///
    /// ```
    /// let net = scratchnet_network::TwoLayerNet::<f32>::new(784, 50, 10, 0.01, &mut scratchnet_tensor::rng_from_seed(0));
    /// assert_eq!(net.sizes(), (784, 50, 10));
    /// ```
    pub fn new(
        input: usize,
        hidden: usize,
        output: usize,
        weight_init_std: f64,
        rng: &mut Rng,
    ) -> Self {
        Self {
            params: Params::init(input, hidden, output, weight_init_std, rng),
        }
    }

    /// A net with the given parameters.
    ///
    /// # Panics
    /// If the four shapes do not fit together.
    ///
    /// ```
    /// use scratchnet_network::{Params, TwoLayerNet};
    /// let net = TwoLayerNet::from_params(Params::<f32>::zeros(4, 3, 2));
    /// assert_eq!(net.sizes(), (4, 3, 2));
    /// ```
    pub fn from_params(params: Params<A>) -> Self {
        let (_, h, o) = params.sizes();
        assert!(
            params.b1.len() == h && params.w2.nrows() == h && params.b2.len() == o,
            "parameter shapes do not fit together"
        );
        Self { params }
    }

    /// `(input, hidden, output)` sizes.
    ///
    /// ```
    /// let net = scratchnet_network::TwoLayerNet::<f64>::new(5, 4, 3, 0.01, &mut scratchnet_tensor::rng_from_seed(0));
    /// assert_eq!(net.sizes(), (5, 4, 3));
    /// ```
    pub fn sizes(&self) -> (usize, usize, usize) {
        self.params.sizes()
    }

    /// The layers over the net's own parameters.
    fn layers<'t>(&self) -> Layers<'_, 't, A> {
        let p = &self.params;
        Layers::new(p.w1.view(), p.b1.view(), p.w2.view(), p.b2.view())
    }

    /// Class probabilities, one row per sample: the layers' forward passes in order, then
    /// softmax (chapter 4's `predict`; chapter 5's returns the scores before the softmax, which
    /// have the same argmax).
    ///
    /// # Panics
    /// If `x` does not have `input` columns.
    ///
    /// ```
    /// use scratchnet_network::TwoLayerNet;
    /// let net = TwoLayerNet::<f32>::new(3, 2, 4, 0.5, &mut scratchnet_tensor::rng_from_seed(0));
    /// let y = net.predict(&ndarray::array![[0.5f32, 0.0, 1.0]]);
    /// assert!((y.sum() - 1.0).abs() < 1e-6);
    /// ```
    pub fn predict<'x>(&self, x: impl Into<Input<'x, A>>) -> Array2<A> {
        let x = x.into();
        let x = x.to_dense();
        softmax(&self.layers().predict(x.view(), Mode::Test))
    }

    /// The batch-mean cross-entropy (§4.2.4): `self.lastLayer.forward(self.predict(x), t)`, with
    /// one-hot or label targets (anything that converts into [`Targets`]).
    ///
    /// # Panics
    /// If `x` and the targets do not fit the net: the message says which (see [`Targets::check`]).
    ///
    /// ```
    /// use ndarray::{Array1, array};
    /// use scratchnet_network::TwoLayerNet;
    /// let net = TwoLayerNet::<f64>::new(2, 2, 3, 0.0, &mut scratchnet_tensor::rng_from_seed(0));
    /// let x = array![[1.0, 2.0], [0.0, 1.0]];
    /// // zero weights: uniform predictions, loss ln 3, whatever form the labels take
    /// let labels = vec![1, 2];
    /// for loss in [
    ///     net.loss(&x, &labels),                  // &Vec<usize>
    ///     net.loss(&x, &labels[..]),              // &[usize]
    ///     net.loss(&x, &[1, 2]),                  // &[usize; N]
    ///     net.loss(&x, &Array1::from(vec![1, 2])), // &Array1<usize>
    ///     net.loss(&x, &array![[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]), // one-hot &Array2
    /// ] {
    ///     assert!((loss - 3f64.ln()).abs() < 1e-6);
    /// }
    /// ```
    pub fn loss<'x, 't>(&self, x: impl Into<Input<'x, A>>, t: impl Into<Targets<'t, A>>) -> A {
        let x = x.into();
        let x = x.to_dense();
        self.layers().loss(x.view(), t.into(), Mode::Test)
    }

    /// Fraction of samples whose most probable class is the target class (0 for no samples).
    ///
    /// # Panics
    /// If `x` and the targets do not fit the net.
    ///
    /// ```
    /// use scratchnet_network::TwoLayerNet;
    /// let net = TwoLayerNet::<f64>::new(2, 2, 3, 0.0, &mut scratchnet_tensor::rng_from_seed(0));
    /// // uniform predictions: argmax is class 0 for every row
    /// assert_eq!(net.accuracy(&ndarray::array![[1.0, 0.0], [0.0, 1.0]], &[0, 2]), 0.5);
    /// ```
    pub fn accuracy<'x, 't>(
        &self,
        x: impl Into<Input<'x, A>>,
        t: impl Into<Targets<'t, A>>,
    ) -> f64 {
        let x = x.into();
        let x = x.to_dense();
        let t = t.into();
        t.check(x.nrows(), self.sizes().2);
        t.accuracy_of(&self.layers().predict(x.view(), Mode::Test))
    }

    /// The book's numerical gradient: [`scratchnet_numgrad::numerical_gradient`] of the loss
    /// over each parameter tensor in turn, two full forward passes through the layers per
    /// scalar. Seconds for the 784-50-10 net;
    /// [`Net::numerical_gradient`](crate::Net::numerical_gradient) of the chapter 4 spec (the
    /// trainer's) runs an exact and much faster method, which a test holds to this within 1e-8
    /// of the gradient's max-norm.
    ///
    /// The book writes `loss_W = lambda W: self.loss(x, t)`: the lambda ignores its argument and
    /// still sees the perturbed weights, because `self.params['W1']` *is* the array that
    /// `numerical_gradient` perturbs in place. A Rust closure cannot alias the net's weights
    /// that way, so `|_w| net.loss(&x, &t)` would return the unperturbed loss every time and an
    /// all-zero gradient. Here the closure builds the layers over the perturbed tensor `w` it is
    /// given:
    ///
    /// ```
    /// use ndarray::ArrayView1;
    /// use scratchnet_network::{Params, TwoLayerNet};
    /// use scratchnet_numgrad::numerical_gradient;
    /// let net = TwoLayerNet::<f64>::new(3, 2, 2, 0.5, &mut scratchnet_tensor::rng_from_seed(2));
    /// let (x, t) = (ndarray::array![[0.0, 0.5, 1.0], [1.0, 0.0, 0.25]], [1, 0]);
    /// // the Rust way: evaluate the loss at the perturbed b2 that `f` receives
    /// let f = |b2: ArrayView1<f64>| {
    ///     let p = Params { b2: b2.to_owned(), ..net.params.clone() };
    ///     TwoLayerNet::from_params(p).loss(&x, &t)
    /// };
    /// let db2 = numerical_gradient(f, &net.params.b2);
    /// assert_eq!(db2, net.numerical_gradient(&x, &t).b2);
    /// // the book's form ported literally: a silent all-zero gradient
    /// let zero = numerical_gradient(|_b2: ArrayView1<f64>| net.loss(&x, &t), &net.params.b2);
    /// assert!(zero.iter().all(|&g| g == 0.0));
    /// ```
    ///
    /// # Panics
    /// If `x` and the targets do not fit the net.
    pub fn numerical_gradient<'x, 't>(
        &self,
        x: impl Into<Input<'x, A>>,
        t: impl Into<Targets<'t, A>>,
    ) -> Grads<A> {
        let x = x.into();
        let (x, t) = (x.to_dense(), t.into());
        t.check(x.nrows(), self.sizes().2);
        let p = &self.params;
        let (w1, b1, w2, b2) = (p.w1.view(), p.b1.view(), p.w2.view(), p.b2.view());
        // the loss with the layers built over (w1, b1, w2, b2), any of them perturbed
        let loss_w = |w1: ArrayView2<'_, A>,
                      b1: ArrayView1<'_, A>,
                      w2: ArrayView2<'_, A>,
                      b2: ArrayView1<'_, A>| {
            Layers::new(w1, b1, w2, b2).loss(x.view(), t, Mode::Train)
        };
        Grads {
            w1: numerical_gradient(|w: ArrayView2<'_, A>| loss_w(w, b1, w2, b2), &w1),
            b1: numerical_gradient(|b: ArrayView1<'_, A>| loss_w(w1, b, w2, b2), &b1),
            w2: numerical_gradient(|w: ArrayView2<'_, A>| loss_w(w1, b1, w, b2), &w2),
            b2: numerical_gradient(|b: ArrayView1<'_, A>| loss_w(w1, b1, w2, b), &b2),
        }
    }

    /// The gradient by backpropagation, as the book's chapter 5 writes it: the forward pass
    /// through the layers and the loss, then `lastLayer.backward(1)` and every layer's `backward`
    /// in reverse order, with the book's `(y − t)/N` for the loss; the gradients are the affine
    /// layers' `dW` and `db`. [`Net::gradient`](crate::Net::gradient) of the chapter 4 spec (the
    /// trainer's) runs the same arithmetic fused; a test holds the two within 1e-12 of the
    /// gradient's max-norm.
    ///
    /// # Panics
    /// If `x` and the targets do not fit the net: the message says which (see [`Targets::check`]).
    ///
    /// ```
    /// use scratchnet_network::TwoLayerNet;
    /// let net = TwoLayerNet::<f64>::new(3, 2, 2, 0.5, &mut scratchnet_tensor::rng_from_seed(2));
    /// let x = ndarray::array![[0.0, 0.5, 1.0], [1.0, 0.0, 0.25]];
    /// let g = net.gradient(&x, &vec![1, 0]);
    /// let n = net.numerical_gradient(&x, &vec![1, 0]);
    /// assert!(g.max_abs_diff(&n) < 1e-6); // the book's (y − t)/N: ~1e-7 off the δ-loss's gradient
    /// ```
    pub fn gradient<'x, 't>(
        &self,
        x: impl Into<Input<'x, A>>,
        t: impl Into<Targets<'t, A>>,
    ) -> Grads<A> {
        let x = x.into();
        let x = x.to_dense();
        let mut layers = self.layers();
        // forward
        layers.loss(x.view(), t.into(), Mode::Train);
        // backward
        let mut dout = layers.last_layer.backward(A::one());
        for layer in layers.in_order().into_iter().rev() {
            dout = layer.backward(dout.view());
        }
        Grads {
            w1: layers.affine1.dw,
            b1: layers.affine1.db,
            w2: layers.affine2.dw,
            b2: layers.affine2.db,
        }
    }

    /// One SGD step: `θ ← θ − lr · ∂L/∂θ` for all four tensors (§4.5.2). Hyper-parameters are
    /// `f64` everywhere (as `weight_init_std` of [`new`](Self::new)); `lr` is rounded to `A` once.
    ///
    /// ```
    /// use scratchnet_network::TwoLayerNet;
    /// let mut net = TwoLayerNet::<f32>::new(2, 2, 2, 0.5, &mut scratchnet_tensor::rng_from_seed(0));
    /// let x = ndarray::array![[1.0f32, 0.0]];
    /// let g = net.gradient(&x, &[1]);
    /// let before = net.params.b2[1];
    /// net.sgd_step(&g, 0.1);
    /// assert_eq!(net.params.b2[1], before - 0.1f32 * g.b2[1]);
    /// ```
    pub fn sgd_step(&mut self, grads: &Grads<A>, lr: f64) {
        self.params.sgd_step(grads, lr);
    }
}
