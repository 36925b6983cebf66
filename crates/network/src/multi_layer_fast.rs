//! The fast path of [`MultiLayerNet`]: the same layers as the book's path, with the first affine
//! layer over the non-zeros of the input (MNIST is about 81 % zeros) through `SparseRows`'s
//! kernels, and without the first layer's `dx = dout·W1ᵀ`, which nothing uses. The other layers
//! are the book's (`ndarray`'s matrixmultiply for the dense products). A test holds it to the
//! book's path within 1e-12 of the gradient's max-norm (`fast_path_equals_the_book_path`).

use ndarray::{Array2, Axis};
use scratchnet_tensor::Scalar;

use crate::Targets;
use crate::input::Input;
use crate::layers::{Layer, Mode};
use crate::multi_layer_net::{AffineParams, Layers, MultiLayerNet};

impl<A: Scalar> MultiLayerNet<A> {
    /// The layers after the first affine one, and that layer's output `x·W1 + b1`.
    fn first_affine<'t>(&self, x: &Input<'_, A>) -> (Layers<'_, 't, A>, Array2<A>) {
        let p = &self.params[0];
        let a1 = x.affine(&p.w, &p.b);
        // `Layers` over W2… has one activation fewer than the net; the first is added here
        let mut rest = Layers::new(
            self.params[1..].iter().map(|p| (p.w.view(), p.b.view())),
            self.activation,
        );
        rest.activation
            .insert(0, Layers::<A>::activation_layer(self.activation));
        (rest, a1)
    }

    /// [`predict`](Self::predict) with a sparse first layer.
    ///
    /// ```
    /// use scratchnet_network::{Activation, MultiLayerNet, WeightInit};
    /// let net = MultiLayerNet::<f64>::new(4, &[3], 2, Activation::Relu, WeightInit::He,
    ///     &mut scratchnet_tensor::rng_from_seed(0));
    /// let x = ndarray::array![[0.0, 1.0, 0.0, 0.0], [0.5, 0.0, 0.0, 0.0]];
    /// let (book, fast) = (net.predict(&x), net.predict_fast(&x));
    /// assert!((&book - &fast).iter().all(|d| d.abs() < 1e-15));
    /// ```
    pub fn predict_fast<'x>(&self, x: impl Into<Input<'x, A>>) -> Array2<A> {
        let x = x.into();
        let n_in = self.sizes()[0];
        assert_eq!(
            x.dim().1,
            n_in,
            "x has {} columns but the net has {n_in} inputs",
            x.dim().1
        );
        let (mut rest, a1) = self.first_affine(&x);
        rest.predict_after_first(a1, Mode::Test)
    }

    /// [`loss`](Self::loss) with a sparse first layer.
    ///
    /// ```
    /// use scratchnet_network::{Activation, MultiLayerNet, WeightInit};
    /// let net = MultiLayerNet::<f64>::new(4, &[3], 2, Activation::Relu, WeightInit::He,
    ///     &mut scratchnet_tensor::rng_from_seed(0)).with_weight_decay(0.1);
    /// let x = ndarray::array![[0.0, 1.0, 0.0, 0.0], [0.5, 0.0, 0.0, 0.0]];
    /// assert!((net.loss(&x, &[0, 1]) - net.loss_fast(&x, &[0, 1])).abs() < 1e-15);
    /// ```
    pub fn loss_fast<'x, 't>(&self, x: impl Into<Input<'x, A>>, t: impl Into<Targets<'t, A>>) -> A {
        let (x, t) = (x.into(), t.into());
        self.check(x.dim(), &t);
        let (mut rest, a1) = self.first_affine(&x);
        let scores = rest.predict_after_first(a1, Mode::Test);
        rest.last_layer.forward(scores.view(), t)
            + self.decay(self.params.iter().map(|p| p.w.view()))
    }

    /// [`accuracy`](Self::accuracy) with a sparse first layer.
    pub fn accuracy_fast<'x, 't>(
        &self,
        x: impl Into<Input<'x, A>>,
        t: impl Into<Targets<'t, A>>,
    ) -> f64 {
        let (x, t) = (x.into(), t.into());
        self.check(x.dim(), &t);
        t.accuracy_of(&self.predict_fast(x.reborrow()))
    }

    /// [`gradient`](Self::gradient) with a sparse first layer and no `dx` for it: what
    /// `scratchnet train` runs for a layered net.
    ///
    /// ```
    /// use scratchnet_network::{Activation, MultiLayerNet, WeightInit};
    /// let net = MultiLayerNet::<f64>::new(4, &[3, 3], 2, Activation::Sigmoid, WeightInit::Xavier,
    ///     &mut scratchnet_tensor::rng_from_seed(0));
    /// let x = ndarray::array![[0.0, 1.0, 0.0, 0.0], [0.5, 0.0, 0.0, 0.25]];
    /// let (book, fast) = (net.gradient(&x, &[1, 0]), net.gradient_fast(&x, &[1, 0]));
    /// for (b, f) in book.iter().zip(&fast) {
    ///     assert!((&b.w - &f.w).iter().all(|d| d.abs() < 1e-15));
    /// }
    /// ```
    pub fn gradient_fast<'x, 't>(
        &self,
        x: impl Into<Input<'x, A>>,
        t: impl Into<Targets<'t, A>>,
    ) -> Vec<AffineParams<A>> {
        let (x, t) = (x.into(), t.into());
        self.check(x.dim(), &t);
        let (mut rest, a1) = self.first_affine(&x);
        let scores = rest.predict_after_first(a1, Mode::Train);
        rest.last_layer.forward(scores.view(), t);
        // backward through every layer but the first affine one
        let mut dout = rest.last_layer.backward(A::one());
        for i in (0..rest.affine.len()).rev() {
            dout = rest.affine[i].backward(dout.view());
            dout = rest.activation[i].backward(dout.view());
        }
        let p0 = &self.params[0];
        let mut dw1 = Array2::zeros(p0.w.raw_dim());
        x.t_dot_into(dout.view(), dw1.view_mut());
        let db1 = dout.sum_axis(Axis(0));
        let mut grads = vec![AffineParams {
            w: self.decayed(dw1, &p0.w.view()),
            b: db1,
        }];
        for (a, p) in rest.affine.into_iter().zip(&self.params[1..]) {
            grads.push(AffineParams {
                w: self.decayed(a.dw, &p.w.view()),
                b: a.db,
            });
        }
        grads
    }
}
