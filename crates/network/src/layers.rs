//! The layers of the book's chapter 5 as objects with `forward` and `backward`, each caching
//! what its backward pass needs, as the book's `common/layers.py` does.
//!
//! | book | here |
//! |---|---|
//! | `Affine(W, b)`: `forward(x)`, `backward(dout)`, then `.dW`, `.db` | [`Affine`] (borrows `W` and `b`; [`Affine::dw`], [`Affine::db`]) |
//! | `Sigmoid()` | [`Sigmoid`] |
//! | `Relu()` | [`Relu`] |
//! | `SoftmaxWithLoss()`: `forward(x, t)` returns the loss, `backward(dout=1)` | [`SoftmaxWithLoss`] |
//!
//! Every layer but the last implements [`Layer`], whose `forward` takes a [`Mode`]: chapter 6's
//! `Dropout` and `BatchNormalization` behave differently in training and at test time (the
//! book's `train_flg`), and a net runs its layers in a loop without knowing which is which.
//!
//! The book's `Affine` keeps references to the net's `W` and `b`, so that the net's update is
//! seen by the layer. Here an [`Affine`] borrows views of the weights; a net builds its layers
//! over its parameters (or over a perturbed copy, for the numerical gradient) for each call, see
//! `two_layer_net.rs`. State that must outlive one call, such as `BatchNormalization`'s running
//! mean and variance or `Dropout`'s random generator, belongs to the net in the same way and is
//! borrowed (mutably) by the layer; what a layer caches for its backward pass lives in the layer.
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
use scratchnet_functions::{CE_DELTA, cross_entropy_error, cross_entropy_error_labels, softmax};
use scratchnet_tensor::{Scalar, Targets, affine};

/// Training or test time: the book's `train_flg`. The layers of chapter 5 behave the same in
/// both; chapter 6's `Dropout` (drops units only in training) and `BatchNormalization` (batch
/// statistics in training, running averages at test time) will not.
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

/// The last layer: softmax, then the batch-mean cross-entropy `L = −(1/N) Σ t·ln(y + δ)`
/// (δ = [`CE_DELTA`]), with one-hot or label targets.
///
/// Its backward pass is the exact gradient of that loss, `∂L/∂x_k = (y_k Σ_c w_c − w_k)/N` with
/// `w = t·y/(y + δ)`. The book returns `(y − t)/N`, which is this for δ = 0; the exact form
/// agrees with the numerical gradient to its full precision instead of to ~1e-6.
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
/// assert!((dx[[0, 0]] - 0.5).abs() < 1e-6 && (dx[[0, 1]] + 0.5).abs() < 1e-6); // ≈ y − t
/// ```
#[derive(Clone, Debug, Default)]
pub struct SoftmaxWithLoss<'t, A> {
    y: Option<Array2<A>>,
    t: Option<Targets<'t, A>>,
}

impl<'t, A: Scalar> SoftmaxWithLoss<'t, A> {
    /// A layer that has not run yet.
    ///
    /// ```
    /// let last = scratchnet_network::layers::SoftmaxWithLoss::<f64>::new();
    /// assert!(last.y().is_none());
    /// ```
    pub fn new() -> Self {
        Self { y: None, t: None }
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

    /// ∂L/∂x times `dout` (1 for the loss itself, the book's default).
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
        let delta = A::of_f64(CE_DELTA);
        // `t` as dense rows: a label is a one-hot row
        let t = t.to_dense(y.ncols());
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

/// Batch-mean cross-entropy of probabilities `y` against either kind of target.
pub(crate) fn cross_entropy<A: Scalar>(y: &Array2<A>, t: Targets<'_, A>) -> A {
    match t {
        Targets::Labels(l) => cross_entropy_error_labels(y, l),
        Targets::OneHot(t) => cross_entropy_error(y, &t),
    }
}
