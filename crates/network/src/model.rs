//! [`Model`]: either network a run trains, behind one type for files, evaluation and export —
//! the chapter 4 [`TwoLayerNet`] (with its fused fast path) or a [`MultiLayerNet`] of any depth.

use ndarray::{ArrayViewD, ArrayViewMutD};
use scratchnet_tensor::Scalar;
use serde::{Deserialize, Serialize};

use crate::layer_stack::LayerStack;
use crate::{Input, MultiLayerNet, Targets, TwoLayerNet};

/// A network of either kind, as a model file or a checkpoint holds it.
///
/// The two-layer net keeps its own, fused kernels; the multi-layer net runs its fast path
/// (`MultiLayerNet::accuracy_fast`, …). Both have the same mathematics where they overlap: a
/// [`MultiLayerNet`] with one sigmoid hidden layer is the chapter 4 net bit for bit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound = "A: Scalar")]
pub enum Model<A> {
    /// The chapter 4 `784-H-10` sigmoid net (`model.bin` format version 1).
    TwoLayer(TwoLayerNet<A>),
    /// A net of any depth (format version 2).
    MultiLayer(MultiLayerNet<A>),
    /// Any other list of layers: the convolutional nets of chapters 7 and 8 (format version 3).
    Layers(LayerStack<A>),
}

impl<A: Scalar> Model<A> {
    /// The layer sizes, input first.
    pub fn sizes(&self) -> Vec<usize> {
        match self {
            Model::TwoLayer(n) => {
                let (i, h, o) = n.sizes();
                vec![i, h, o]
            }
            Model::MultiLayer(n) => n.sizes(),
            Model::Layers(n) => n.spec().sizes(),
        }
    }

    /// `784-100-100-10 relu`: the sizes and the hidden layers' activation.
    pub fn describe(&self) -> String {
        let sizes: Vec<String> = self.sizes().iter().map(usize::to_string).collect();
        let activation = match self {
            Model::TwoLayer(_) => "sigmoid".to_string(),
            Model::MultiLayer(n) => {
                let mut a = n.activation.to_string();
                if !n.batch_norm.is_empty() {
                    a.push_str(", batch norm");
                }
                if let Some(r) = n.dropout {
                    a.push_str(&format!(", dropout {r}"));
                }
                if n.weight_decay_lambda > 0.0 {
                    a.push_str(&format!(", λ {:?}", n.weight_decay_lambda));
                }
                a
            }
            Model::Layers(n) => return n.spec().to_string(),
        };
        format!("{} {activation}", sizes.join("-"))
    }

    /// Every trained tensor under its book name, in the book's order: `W1, b1, W2, b2, …` (with
    /// batch norm `W1, b1, gamma1, beta1, W2, …`).
    pub fn named_tensors(&self) -> Vec<(String, ArrayViewD<'_, A>)> {
        match self {
            Model::TwoLayer(n) => n
                .params
                .named()
                .into_iter()
                .map(|(name, a)| (name.to_string(), a))
                .collect(),
            Model::MultiLayer(n) => n.named_tensors(),
            Model::Layers(n) => n.named_tensors(),
        }
    }

    /// Mutable views of the tensors of [`named_tensors`](Self::named_tensors), in its order.
    pub fn tensors_mut(&mut self) -> Vec<ArrayViewMutD<'_, A>> {
        match self {
            Model::TwoLayer(n) => n.params.tensors_mut().into(),
            Model::MultiLayer(n) => n.tensors_mut(),
            Model::Layers(n) => n.tensors_mut(),
        }
    }

    /// True if the tensors' shapes fit together: each bias its weights, each layer's outputs the
    /// next layer's inputs (what a net read from a file must satisfy before it computes).
    pub fn shapes_fit(&self) -> bool {
        match self {
            Model::TwoLayer(n) => {
                let p = &n.params;
                p.b1.len() == p.w1.ncols()
                    && p.w2.nrows() == p.w1.ncols()
                    && p.b2.len() == p.w2.ncols()
            }
            Model::MultiLayer(n) => {
                let p = &n.params;
                let bn = &n.batch_norm;
                !p.is_empty()
                    && p.iter().all(|l| l.b.len() == l.w.ncols())
                    && p.windows(2).all(|w| w[0].w.ncols() == w[1].w.nrows())
                    && (bn.is_empty() || bn.len() == p.len() - 1)
                    && bn.iter().zip(p).all(|(b, l)| {
                        let u = l.w.ncols();
                        [&b.gamma, &b.beta, &b.running_mean, &b.running_var]
                            .iter()
                            .all(|v| v.len() == u)
                    })
                    && n.dropout.is_none_or(|r| (0.0..1.0).contains(&r))
            }
            // checked when it was built or read
            Model::Layers(_) => true,
        }
    }

    /// True if every parameter is finite.
    pub fn all_finite(&self) -> bool {
        self.named_tensors()
            .iter()
            .all(|(_, a)| a.iter().all(|v| v.is_finite()))
    }

    /// The share of rows of `x` whose predicted class is the target's, by the net's fast path.
    ///
    /// # Panics
    /// If `x` and the targets do not fit the net.
    pub fn accuracy_fast<'x, 't>(
        &self,
        x: impl Into<Input<'x, A>> + Send,
        t: impl Into<Targets<'t, A>>,
    ) -> f64 {
        match self {
            Model::TwoLayer(n) => n.accuracy_fused(x, t),
            Model::MultiLayer(n) => n.accuracy_fast(x, t),
            Model::Layers(n) => n.accuracy(x.into().to_dense().view(), t.into()),
        }
    }

    /// The loss by the net's fast path (weight decay included for a multi-layer net).
    ///
    /// # Panics
    /// If `x` and the targets do not fit the net.
    pub fn loss_fast<'x, 't>(
        &self,
        x: impl Into<Input<'x, A>> + Send,
        t: impl Into<Targets<'t, A>>,
    ) -> A {
        match self {
            Model::TwoLayer(n) => n.loss_fused(x, t),
            Model::MultiLayer(n) => n.loss_fast(x, t),
            Model::Layers(n) => n.loss(x.into().to_dense().view(), t.into()),
        }
    }
}

#[cfg(test)]
mod doc_tests {
    #[test]
    fn model_kinds_describe_and_name_their_tensors() {
        use crate::{Activation, Model, MultiLayerNet, TwoLayerNet, WeightInit};
        let mut rng = scratchnet_tensor::rng_from_seed(0);
        let two = Model::TwoLayer(TwoLayerNet::<f64>::new(4, 3, 2, 0.1, &mut rng));
        let deep = Model::MultiLayer(MultiLayerNet::<f64>::new(
            4,
            &[5, 5],
            2,
            Activation::Relu,
            WeightInit::He,
            &mut rng,
        ));
        assert_eq!(two.sizes(), [4, 3, 2]);
        assert_eq!(deep.describe(), "4-5-5-2 relu");
        let names: Vec<String> = deep.named_tensors().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["W1", "b1", "W2", "b2", "W3", "b3"]);
        let x = ndarray::array![[0.0, 1.0, 0.5, 0.0]];
        assert!(two.accuracy_fast(&x, &[1]) <= 1.0);
    }

    #[test]
    fn shapes_fit_catches_a_bias_of_the_wrong_length() {
        use crate::{Model, TwoLayerNet};
        let mut net =
            TwoLayerNet::<f64>::new(4, 3, 2, 0.1, &mut scratchnet_tensor::rng_from_seed(0));
        assert!(Model::TwoLayer(net.clone()).shapes_fit());
        net.params.b1 = ndarray::Array1::zeros(5);
        assert!(!Model::TwoLayer(net).shapes_fit());
    }
}
