//! The book's `simpleNet` (§4.4.2).

use ndarray::{Array1, Array2, ArrayBase, ArrayView2, Data, Ix1};
use scratchnet_functions::{cross_entropy_error, softmax};
use scratchnet_numgrad::numerical_gradient;
use scratchnet_tensor::{Rng, Scalar, randn};

/// The book's `simpleNet` (§4.4.2): one 2x3 weight matrix, `softmax(x·W)` and cross-entropy.
///
/// With the book's weights the values of its text come out (see the crate tests). `predict`
/// returns the scores `x·W` (logits), which the notebook prints under the label "probability";
/// the probabilities are their softmax.
///
/// ```
/// use ndarray::array;
/// use scratchnet_network::SimpleNet;
/// let net = SimpleNet::<f64>::from_weights(array![
///     [0.47355232, 0.9977393, 0.84668094],
///     [0.85557411, 0.03563661, 0.69422093],
/// ]);
/// let (x, t) = (array![0.6, 0.9], array![0.0, 0.0, 1.0]);
/// assert_eq!(scratchnet_tensor::argmax(&net.predict(&x)), 2);
/// assert!((net.loss(&x, &t) - 0.9280682857864075).abs() < 1e-9);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct SimpleNet<A = f64> {
    /// The 2x3 weights.
    pub w: Array2<A>,
}

impl<A: Scalar> SimpleNet<A> {
    /// Weights drawn from the standard normal distribution, as `np.random.randn(2, 3)`.
    ///
    /// ```
    /// let net = scratchnet_network::SimpleNet::<f64>::new(&mut scratchnet_tensor::rng_from_seed(0));
    /// assert_eq!(net.w.dim(), (2, 3));
    /// ```
    pub fn new(rng: &mut Rng) -> Self {
        Self {
            w: randn((2, 3), 1.0, rng),
        }
    }

    /// A net with the given weights (any shape: `inputs x classes`).
    ///
    /// ```
    /// let net = scratchnet_network::SimpleNet::from_weights(ndarray::Array2::<f32>::zeros((4, 2)));
    /// assert_eq!(net.predict(&ndarray::array![1.0f32, 2.0, 3.0, 4.0]).len(), 2);
    /// ```
    pub fn from_weights(w: Array2<A>) -> Self {
        Self { w }
    }

    /// The scores `x·W`: logits, not yet probabilities (the notebook prints them as
    /// "probability").
    ///
    /// # Panics
    /// If `x.len()` is not the number of rows of `W`.
    ///
    /// ```
    /// use ndarray::array;
    /// let net = scratchnet_network::SimpleNet::from_weights(array![[1.0, -1.0], [2.0, 0.0]]);
    /// assert_eq!(net.predict(&array![1.0, 1.0]), array![3.0, -1.0]);
    /// ```
    pub fn predict<S: Data<Elem = A>>(&self, x: &ArrayBase<S, Ix1>) -> Array1<A> {
        x.dot(&self.w)
    }

    /// `cross_entropy_error(softmax(x·W), t)` for a one-hot `t`.
    ///
    /// ```
    /// use ndarray::array;
    /// let net = scratchnet_network::SimpleNet::<f64>::from_weights(array![[0.0, 0.0], [0.0, 0.0]]);
    /// assert!((net.loss(&array![1.0, 1.0], &array![0.0, 1.0]) - 2f64.ln()).abs() < 1e-6);
    /// ```
    pub fn loss<S1: Data<Elem = A>, S2: Data<Elem = A>>(
        &self,
        x: &ArrayBase<S1, Ix1>,
        t: &ArrayBase<S2, Ix1>,
    ) -> A {
        Self::loss_at(self.w.view(), x, t)
    }

    /// ∂L/∂W by central differences: the book's `numerical_gradient(f, net.W)`, the same
    /// generic method as [`TwoLayerNet::numerical_gradient`](crate::TwoLayerNet::numerical_gradient).
    ///
    /// The book writes `f = lambda w: net.loss(x, t)`, a function that ignores its argument and
    /// still works because `net.W` *is* the array `numerical_gradient` perturbs in place. Ported
    /// as `|_w| net.loss(&x, &t)` it returns the unperturbed loss every time and an all-zero
    /// gradient, without a warning. The Rust way evaluates the loss at the weights `f` is given:
    ///
    /// ```
    /// use ndarray::{ArrayView2, array};
    /// use scratchnet_network::SimpleNet;
    /// use scratchnet_numgrad::numerical_gradient;
    /// let net = SimpleNet::<f64>::from_weights(array![[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]);
    /// let (x, t) = (array![1.0, 0.0], array![0.0, 0.0, 1.0]);
    /// let f = |w: ArrayView2<f64>| SimpleNet::from_weights(w.to_owned()).loss(&x, &t);
    /// let dw = numerical_gradient(f, &net.w);
    /// assert_eq!(dw, net.numerical_gradient(&x, &t));
    /// assert!((dw[[0, 2]] + 2.0 / 3.0).abs() < 1e-6 && dw[[1, 0]] == 0.0);
    /// // the literal port: all zeros
    /// let wrong = numerical_gradient(|_w: ArrayView2<f64>| net.loss(&x, &t), &net.w);
    /// assert!(wrong.iter().all(|&g| g == 0.0));
    /// ```
    pub fn numerical_gradient<S1: Data<Elem = A> + Sync, S2: Data<Elem = A> + Sync>(
        &self,
        x: &ArrayBase<S1, Ix1>,
        t: &ArrayBase<S2, Ix1>,
    ) -> Array2<A> {
        numerical_gradient(|w| Self::loss_at(w, x, t), &self.w)
    }

    /// `W ← W − lr·dW`. The notebook's `back_propagation(dW)` is this with `lr = 1`.
    /// Hyper-parameters are `f64`; `lr` is rounded to `A` once.
    ///
    /// ```
    /// use ndarray::array;
    /// let mut net = scratchnet_network::SimpleNet::<f32>::from_weights(array![[1.0, 1.0]]);
    /// net.step(&array![[2.0, -2.0]], 0.5);
    /// assert_eq!(net.w, array![[0.0, 2.0]]);
    /// ```
    pub fn step(&mut self, dw: &Array2<A>, lr: f64) {
        let lr = A::of_f64(lr);
        self.w.zip_mut_with(dw, |w, &g| *w -= lr * g);
    }

    /// The notebook's loop: `steps` times, record the loss, then step by the numerical gradient.
    /// Returns the recorded losses.
    ///
    /// ```
    /// use ndarray::array;
    /// let mut net = scratchnet_network::SimpleNet::<f64>::new(&mut scratchnet_tensor::rng_from_seed(0));
    /// let (x, t) = (array![0.6, 0.9], array![0.0, 0.0, 1.0]);
    /// let losses = net.descend(&x, &t, 1.0, 10);
    /// assert!(losses.last().unwrap() < &losses[0]);
    /// ```
    pub fn descend<S1: Data<Elem = A> + Sync, S2: Data<Elem = A> + Sync>(
        &mut self,
        x: &ArrayBase<S1, Ix1>,
        t: &ArrayBase<S2, Ix1>,
        lr: f64,
        steps: usize,
    ) -> Vec<A> {
        (0..steps)
            .map(|_| {
                let loss = self.loss(x, t);
                let dw = self.numerical_gradient(x, t);
                self.step(&dw, lr);
                loss
            })
            .collect()
    }

    fn loss_at<S1: Data<Elem = A>, S2: Data<Elem = A>>(
        w: ArrayView2<'_, A>,
        x: &ArrayBase<S1, Ix1>,
        t: &ArrayBase<S2, Ix1>,
    ) -> A {
        cross_entropy_error(&softmax(&x.dot(&w)), t)
    }
}
