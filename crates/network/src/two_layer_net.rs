use ndarray::{Array2, ArrayD, ArrayView1, ArrayView2};
use scratchnet_functions::{cross_entropy_error, cross_entropy_error_labels, softmax};
use scratchnet_numgrad::numerical_gradient;
use scratchnet_tensor::{Rng, Scalar, argmax_rows};

use crate::backprop::{Weights, in_pool, logits};
use crate::input::Input;
use crate::{Grads, Params, Targets, Workspace};

/// Which numerical-gradient algorithm [`TwoLayerNet::numerical_gradient_with`] runs. Both are
/// central differences with `h = 1e-4` on the same loss; they differ only in how much they recompute.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum NumGrad {
    /// Recomputes each perturbed loss only where the parameter reaches, from activations cached
    /// once per call. Exact, not an approximation; the default.
    #[default]
    Fast,
    /// The book's method: [`scratchnet_numgrad::numerical_gradient`] over each parameter tensor,
    /// two full forward passes per scalar.
    Generic,
}

/// One of the four parameter tensors, for [`TwoLayerNet::generic_numerical_gradient_of`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Param {
    /// First-layer weights.
    W1,
    /// First-layer bias.
    B1,
    /// Second-layer weights.
    W2,
    /// Second-layer bias.
    B2,
}

/// The book's two-layer network (§4.5.1): `x → Affine(W1, b1) → sigmoid → Affine(W2, b2) → softmax`.
///
/// `predict` feeds the sigmoid *output* `z1` to the second layer, as the book does; the notebook's
/// cell passes the pre-activation `a1`, a slip that turns the net into one linear map.
///
/// ```
/// use scratchnet_network::TwoLayerNet;
/// let net = TwoLayerNet::<f64>::new(784, 50, 10, 0.01, &mut scratchnet_tensor::rng_from_seed(0));
/// let x = ndarray::Array2::<f64>::zeros((3, 784));
/// let y = net.predict(&x);
/// assert_eq!(y.dim(), (3, 10));
/// assert!((y.sum() - 3.0).abs() < 1e-12);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct TwoLayerNet<A = f64> {
    /// W1, b1, W2, b2.
    pub params: Params<A>,
}

impl<A: Scalar> TwoLayerNet<A> {
    /// A net with weights drawn from N(0, `weight_init_std`²) (the book uses 0.01) and zero biases.
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
    pub fn sizes(&self) -> (usize, usize, usize) {
        self.params.sizes()
    }

    /// Class probabilities, one row per sample: `softmax(sigmoid(x·W1 + b1)·W2 + b2)`.
    ///
    /// # Panics
    /// If `x` does not have `input` columns.
    pub fn predict<'x>(&self, x: impl Into<Input<'x, A>> + Send) -> Array2<A> {
        in_pool(|| softmax(&self.logits(&x.into())))
    }

    /// The batch-mean cross-entropy of the predictions (§4.2.4), with one-hot or label targets.
    ///
    /// ```
    /// use scratchnet_network::TwoLayerNet;
    /// let net = TwoLayerNet::<f64>::new(2, 2, 3, 0.0, &mut scratchnet_tensor::rng_from_seed(0));
    /// let x = ndarray::array![[1.0, 2.0]];
    /// // zero weights: uniform predictions, loss ln 3
    /// assert!((net.loss(&x, &vec![1]) - 3f64.ln()).abs() < 1e-6);
    /// ```
    pub fn loss<'x, 't>(
        &self,
        x: impl Into<Input<'x, A>> + Send,
        t: impl Into<Targets<'t, A>>,
    ) -> A {
        cross_entropy(&self.predict(x), t.into())
    }

    /// Fraction of samples whose most probable class is the target class. The first layer runs in
    /// parallel over fixed blocks of rows, so the result does not depend on the thread count.
    ///
    /// ```
    /// use scratchnet_network::TwoLayerNet;
    /// let net = TwoLayerNet::<f64>::new(2, 2, 3, 0.0, &mut scratchnet_tensor::rng_from_seed(0));
    /// // uniform predictions: argmax is class 0 for every row
    /// assert_eq!(net.accuracy(&ndarray::array![[1.0, 0.0], [0.0, 1.0]], &vec![0, 2]), 0.5);
    /// ```
    pub fn accuracy<'x, 't>(
        &self,
        x: impl Into<Input<'x, A>> + Send,
        t: impl Into<Targets<'t, A>>,
    ) -> f64 {
        let x = in_pool(|| x.into());
        let labels = t.into().labels();
        assert_eq!(labels.len(), x.dim().0, "one target per row of x");
        if labels.is_empty() {
            return 0.0;
        }
        let predicted = argmax_rows(&in_pool(|| self.logits(&x)));
        let correct = predicted
            .iter()
            .zip(&labels)
            .filter(|(p, t)| p == t)
            .count();
        correct as f64 / labels.len() as f64
    }

    /// The numerical gradient of [`loss`](Self::loss) with the default, fast strategy.
    ///
    /// ```
    /// use scratchnet_network::TwoLayerNet;
    /// let net = TwoLayerNet::<f64>::new(3, 2, 2, 0.5, &mut scratchnet_tensor::rng_from_seed(2));
    /// let x = ndarray::array![[0.0, 0.5, 1.0], [1.0, 0.0, 0.25]];
    /// let g = net.numerical_gradient(&x, &vec![1, 0]);
    /// let b = net.gradient(&x, &vec![1, 0]);
    /// assert!((&g.w1 - &b.w1).iter().all(|d| d.abs() < 1e-8));
    /// ```
    pub fn numerical_gradient<'x, 't>(
        &self,
        x: impl Into<Input<'x, A>>,
        t: impl Into<Targets<'t, A>>,
    ) -> Grads<A> {
        self.numerical_gradient_with(x, t, NumGrad::Fast)
    }

    /// The numerical gradient of [`loss`](Self::loss) by the chosen strategy: for every parameter
    /// `θ`, `(L(θ + h) − L(θ − h)) / 2h` with `h = 1e-4`, rayon-parallel over parameters and
    /// bit-identical whatever the number of threads.
    ///
    /// # Panics
    /// If `x` and the targets do not fit the net.
    pub fn numerical_gradient_with<'x, 't>(
        &self,
        x: impl Into<Input<'x, A>>,
        t: impl Into<Targets<'t, A>>,
        strategy: NumGrad,
    ) -> Grads<A> {
        let t = t.into();
        match strategy {
            NumGrad::Fast => crate::fast_numgrad::numerical_gradient(&self.params, &x.into(), t),
            NumGrad::Generic => self.generic_numerical_gradient(&x.into(), t),
        }
    }

    /// The gradient by backpropagation through the chapter 5 layers (see [`crate::layers`] for
    /// the layers one by one; this runs them fused per block of samples, in parallel, with the
    /// same arithmetic).
    ///
    /// # Panics
    /// If `x` and the targets do not fit the net.
    pub fn gradient<'x, 't>(
        &self,
        x: impl Into<Input<'x, A>> + Send,
        t: impl Into<Targets<'t, A>> + Send,
    ) -> Grads<A> {
        let mut ws = Workspace::new();
        self.gradient_in(x, t, &mut ws);
        ws.into_grads()
    }

    /// [`gradient`](Self::gradient) into the reusable buffers of `ws`, which it returns: the
    /// training loop's form, allocating nothing once `ws` has the batch's size.
    ///
    /// # Panics
    /// If `x` and the targets do not fit the net.
    ///
    /// ```
    /// use scratchnet_network::{TwoLayerNet, Workspace};
    /// let mut net = TwoLayerNet::<f64>::new(2, 3, 2, 0.5, &mut scratchnet_tensor::rng_from_seed(1));
    /// let (x, t) = (ndarray::array![[1.0, 0.0], [0.0, 1.0]], vec![0, 1]);
    /// let mut ws = Workspace::new();
    /// let before = net.loss(&x, &t);
    /// for _ in 0..10 {
    ///     let g = net.gradient_in(&x, &t, &mut ws);
    ///     net.params.sgd_step(g, 0.5);
    /// }
    /// assert!(net.loss(&x, &t) < before);
    /// ```
    pub fn gradient_in<'x, 't, 'w>(
        &self,
        x: impl Into<Input<'x, A>> + Send,
        t: impl Into<Targets<'t, A>> + Send,
        ws: &'w mut Workspace<A>,
    ) -> &'w Grads<A> {
        in_pool(|| crate::backprop::gradient(&self.params, &x.into(), t.into(), ws))
    }

    /// One SGD step: `θ ← θ − lr · ∂L/∂θ` for all four tensors.
    pub fn sgd_step(&mut self, grads: &Grads<A>, lr: A) {
        self.params.sgd_step(grads, lr);
    }

    fn logits(&self, x: &Input<'_, A>) -> Array2<A> {
        logits(Weights::from(&self.params), x)
    }

    /// The generic (book's) numerical gradient of one parameter tensor: the book computes
    /// `grads['W1']`, `grads['b1']`, … one at a time exactly like this.
    ///
    /// ```
    /// use scratchnet_network::{NumGrad, Param, TwoLayerNet};
    /// let net = TwoLayerNet::<f64>::new(3, 2, 2, 0.5, &mut scratchnet_tensor::rng_from_seed(2));
    /// let x = ndarray::array![[0.0, 0.5, 1.0]];
    /// let all = net.numerical_gradient_with(&x, &vec![1], NumGrad::Generic);
    /// assert_eq!(net.generic_numerical_gradient_of(&x, &vec![1], Param::B2), all.b2.into_dyn());
    /// ```
    pub fn generic_numerical_gradient_of<'x, 't>(
        &self,
        x: impl Into<Input<'x, A>>,
        t: impl Into<Targets<'t, A>>,
        param: Param,
    ) -> ArrayD<A> {
        let (x, t) = (x.into(), t.into());
        let p = &self.params;
        let (w1, b1, w2, b2) = (p.w1.view(), p.b1.view(), p.w2.view(), p.b2.view());
        let loss = |w1: ArrayView2<'_, A>,
                    b1: ArrayView1<'_, A>,
                    w2: ArrayView2<'_, A>,
                    b2: ArrayView1<'_, A>| {
            cross_entropy(&softmax(&logits(Weights { w1, b1, w2, b2 }, &x)), t)
        };
        match param {
            Param::W1 => {
                numerical_gradient(|w: ArrayView2<'_, A>| loss(w, b1, w2, b2), &w1).into_dyn()
            }
            Param::B1 => {
                numerical_gradient(|b: ArrayView1<'_, A>| loss(w1, b, w2, b2), &b1).into_dyn()
            }
            Param::W2 => {
                numerical_gradient(|w: ArrayView2<'_, A>| loss(w1, b1, w, b2), &w2).into_dyn()
            }
            Param::B2 => {
                numerical_gradient(|b: ArrayView1<'_, A>| loss(w1, b1, w2, b), &b2).into_dyn()
            }
        }
    }

    fn generic_numerical_gradient(&self, x: &Input<'_, A>, t: Targets<'_, A>) -> Grads<A> {
        let g = |p| self.generic_numerical_gradient_of(x.reborrow(), t, p);
        let fixed = "a parameter's gradient has its shape";
        Grads {
            w1: g(Param::W1).into_dimensionality().expect(fixed),
            b1: g(Param::B1).into_dimensionality().expect(fixed),
            w2: g(Param::W2).into_dimensionality().expect(fixed),
            b2: g(Param::B2).into_dimensionality().expect(fixed),
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
