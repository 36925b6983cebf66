//! The parameters of the two-layer net, the book's `params` dict as a struct.

use ndarray::{Array1, Array2, ArrayViewD, Zip};
use scratchnet_tensor::{Rng, Scalar, randn};
use serde::{Deserialize, Serialize};

/// The book's parameter names, in the order used by files and reports.
///
/// ```
/// assert_eq!(scratchnet_network::PARAM_NAMES, ["W1", "b1", "W2", "b2"]);
/// ```
pub const PARAM_NAMES: [&str; 4] = ["W1", "b1", "W2", "b2"];

/// The parameters of a [`TwoLayerNet`](crate::TwoLayerNet): the book's `params` dict as a struct.
///
/// ```
/// use scratchnet_network::Params;
/// let p = Params::<f64>::init(784, 50, 10, 0.01, &mut scratchnet_tensor::rng_from_seed(1));
/// assert_eq!(p.w1.dim(), (784, 50));
/// assert_eq!(p.b2.len(), 10);
/// assert_eq!(p.len(), 784 * 50 + 50 + 50 * 10 + 10);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound = "A: Scalar")]
pub struct Params<A> {
    /// First-layer weights, `(input, hidden)`.
    pub w1: Array2<A>,
    /// First-layer bias, `(hidden,)`.
    pub b1: Array1<A>,
    /// Second-layer weights, `(hidden, output)`.
    pub w2: Array2<A>,
    /// Second-layer bias, `(output,)`.
    pub b2: Array1<A>,
}

/// Gradients have exactly the shape of the parameters: `grads.w1` is ∂L/∂W1, and so on.
///
/// ```
/// use scratchnet_network::TwoLayerNet;
/// let net = TwoLayerNet::<f64>::new(3, 2, 2, 0.5, &mut scratchnet_tensor::rng_from_seed(0));
/// let g: scratchnet_network::Grads<f64> = net.gradient(&ndarray::array![[1.0, 0.0, 0.5]], &[0]);
/// assert_eq!(g.sizes(), net.sizes());
/// ```
pub type Grads<A> = Params<A>;

impl<A: Scalar> Params<A> {
    /// The book's initialisation: weights `weight_init_std * randn`, drawn W1 then W2 in
    /// row-major order, biases zero.
    ///
    /// ```
    /// let p = scratchnet_network::Params::<f64>::init(3, 2, 1, 0.01, &mut scratchnet_tensor::rng_from_seed(0));
    /// assert!(p.w1.iter().all(|w| w.abs() < 0.1) && p.b1.iter().all(|&b| b == 0.0));
    /// ```
    pub fn init(
        input: usize,
        hidden: usize,
        output: usize,
        weight_init_std: f64,
        rng: &mut Rng,
    ) -> Self {
        let w1 = randn((input, hidden), weight_init_std, rng);
        let w2 = randn((hidden, output), weight_init_std, rng);
        Self {
            w1,
            b1: Array1::zeros(hidden),
            w2,
            b2: Array1::zeros(output),
        }
    }

    /// All zeros with the given layer sizes.
    ///
    /// ```
    /// let z = scratchnet_network::Params::<f32>::zeros(3, 2, 1);
    /// assert_eq!(z.w1.sum(), 0.0);
    /// ```
    pub fn zeros(input: usize, hidden: usize, output: usize) -> Self {
        Self {
            w1: Array2::zeros((input, hidden)),
            b1: Array1::zeros(hidden),
            w2: Array2::zeros((hidden, output)),
            b2: Array1::zeros(output),
        }
    }

    /// `(input, hidden, output)` sizes.
    ///
    /// ```
    /// assert_eq!(scratchnet_network::Params::<f64>::zeros(3, 2, 1).sizes(), (3, 2, 1));
    /// ```
    pub fn sizes(&self) -> (usize, usize, usize) {
        (self.w1.nrows(), self.w1.ncols(), self.w2.ncols())
    }

    /// Total number of scalars.
    ///
    /// ```
    /// assert_eq!(scratchnet_network::Params::<f64>::zeros(3, 2, 1).len(), 6 + 2 + 2 + 1);
    /// ```
    pub fn len(&self) -> usize {
        self.w1.len() + self.b1.len() + self.w2.len() + self.b2.len()
    }

    /// True when there are no parameters at all.
    ///
    /// ```
    /// assert!(scratchnet_network::Params::<f64>::zeros(0, 0, 0).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The four tensors with their book names (`W1`, `b1`, `W2`, `b2`).
    ///
    /// ```
    /// let p = scratchnet_network::Params::<f64>::zeros(3, 2, 1);
    /// let names: Vec<_> = p.named().iter().map(|(n, a)| (*n, a.shape().to_vec())).collect();
    /// assert_eq!(names[0], ("W1", vec![3, 2]));
    /// ```
    pub fn named(&self) -> [(&'static str, ArrayViewD<'_, A>); 4] {
        [
            (PARAM_NAMES[0], self.w1.view().into_dyn()),
            (PARAM_NAMES[1], self.b1.view().into_dyn()),
            (PARAM_NAMES[2], self.w2.view().into_dyn()),
            (PARAM_NAMES[3], self.b2.view().into_dyn()),
        ]
    }

    /// `self -= lr * grads`, the SGD update of §4.5.2. `lr` is an `f64` like every
    /// hyper-parameter, rounded to `A` once.
    ///
    /// # Panics
    /// If the shapes differ.
    ///
    /// ```
    /// use scratchnet_network::Params;
    /// let mut p = Params::<f64>::zeros(1, 1, 1);
    /// let mut g = Params::<f64>::zeros(1, 1, 1);
    /// g.b2[0] = 2.0;
    /// p.sgd_step(&g, 0.1);
    /// assert_eq!(p.b2[0], -0.2);
    /// ```
    pub fn sgd_step(&mut self, grads: &Grads<A>, lr: f64) {
        let lr = A::of_f64(lr);
        let upd = |p: &mut A, &g: &A| *p -= lr * g;
        Zip::from(&mut self.w1).and(&grads.w1).for_each(upd);
        Zip::from(&mut self.b1).and(&grads.b1).for_each(upd);
        Zip::from(&mut self.w2).and(&grads.w2).for_each(upd);
        Zip::from(&mut self.b2).and(&grads.b2).for_each(upd);
    }

    /// `out = self − lr · grads` for all four tensors: the same arithmetic, bit for bit, as
    /// [`sgd_step`](Self::sgd_step) (`θ -= lr · g`), written into a second set of parameters (so
    /// the old ones survive, e.g. for a step whose loss turns out not finite). W1, the large
    /// tensor, is updated in parallel element by element, which changes no result.
    ///
    /// # Panics
    /// If the shapes differ.
    ///
    /// ```
    /// use scratchnet_network::Params;
    /// let mut rng = scratchnet_tensor::rng_from_seed(1);
    /// let p = Params::<f32>::init(7, 5, 3, 0.3, &mut rng);
    /// let g = Params::<f32>::init(7, 5, 3, 1.7, &mut rng);
    /// let mut stepped = p.clone();
    /// stepped.sgd_step(&g, 0.1);
    /// let mut out = Params::zeros(7, 5, 3);
    /// p.sgd_step_into(&g, 0.1, &mut out);
    /// assert_eq!(out, stepped);
    /// ```
    pub fn sgd_step_into(&self, grads: &Grads<A>, lr: A, out: &mut Params<A>) {
        let f = |d: &mut A, &p: &A, &g: &A| *d = p - lr * g;
        Zip::from(&mut out.w1)
            .and(&self.w1)
            .and(&grads.w1)
            .par_for_each(f);
        Zip::from(&mut out.b1)
            .and(&self.b1)
            .and(&grads.b1)
            .for_each(f);
        Zip::from(&mut out.w2)
            .and(&self.w2)
            .and(&grads.w2)
            .for_each(f);
        Zip::from(&mut out.b2)
            .and(&self.b2)
            .and(&grads.b2)
            .for_each(f);
    }

    /// The largest absolute entry over all four tensors (the max-norm).
    ///
    /// ```
    /// let mut p = scratchnet_network::Params::<f64>::zeros(2, 2, 1);
    /// p.b1[1] = -3.0;
    /// assert_eq!(p.max_abs(), 3.0);
    /// ```
    pub fn max_abs(&self) -> A {
        self.named()
            .iter()
            .flat_map(|(_, a)| a.iter().copied())
            .fold(A::zero(), |m, v| m.max(v.abs()))
    }

    /// The largest `|self − other|` over all four tensors: how far two gradients are apart.
    ///
    /// # Panics
    /// If the shapes differ.
    ///
    /// ```
    /// use scratchnet_network::Params;
    /// let a = Params::<f64>::zeros(2, 2, 1);
    /// let mut b = a.clone();
    /// b.w2[[1, 0]] = -0.5;
    /// assert_eq!(a.max_abs_diff(&b), 0.5);
    /// ```
    pub fn max_abs_diff(&self, other: &Self) -> A {
        let mut m = A::zero();
        for ((_, a), (_, b)) in self.named().iter().zip(other.named().iter()) {
            assert_eq!(a.shape(), b.shape(), "parameters of different shapes");
            for (&u, &v) in a.iter().zip(b.iter()) {
                m = m.max((u - v).abs());
            }
        }
        m
    }

    /// True when every entry is finite.
    ///
    /// ```
    /// let mut p = scratchnet_network::Params::<f64>::zeros(2, 2, 1);
    /// assert!(p.all_finite());
    /// p.w2[[0, 0]] = f64::NAN;
    /// assert!(!p.all_finite());
    /// ```
    pub fn all_finite(&self) -> bool {
        self.named()
            .iter()
            .all(|(_, a)| a.iter().all(|v| v.is_finite()))
    }
}
