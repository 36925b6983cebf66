//! The networks of *Deep Learning from Scratch*. Two doors:
//!
//! - [`Net`], the one trained type: described by a [`NetSpec`] (input shape, the book's layers,
//!   weight init, weight decay; `"affine 50, sigmoid, affine 10"` as text), with `predict`,
//!   `loss`, `accuracy`, `gradient`, `numerical_gradient` and one training [`step`](Net::step),
//!   each by the fastest exact kernel for its spec, chosen once at construction. Its parameters,
//!   gradients and state speak one protocol, [`Tensors`] (`grads["W1"]`).
//! - [`book`], the book's classes written the way the book writes them (`SimpleNet`,
//!   `TwoLayerNet`, `MultiLayerNet`, the layers): what a reader opens, and the oracle of every
//!   kernel of `Net`.
//!
//! ```
//! use scratchnet_network::{Net, NetSpec};
//! let spec = NetSpec::two_layer_net(4, 3, 2, 0.5);
//! let mut rng = scratchnet_tensor::rng_from_seed(0);
//! let mut net = Net::<f64>::new(spec, &mut rng).unwrap();
//! let x = ndarray::Array2::from_shape_fn((5, 4), |(i, j)| ((i + j) % 3) as f64 / 2.0);
//! let t = [0, 1, 1, 0, 1];
//! let before = net.loss(&x, &t);
//! let grads = net.gradient(&x, &t, &mut rng);
//! net.update(&mut scratchnet_network::optimizer::Sgd::new(0.5), &grads);
//! assert!(net.loss(&x, &t) < before);
//! ```
//!
//! Each computation has the book's form, written as the book writes it, and a fast form with the
//! same mathematics, which `scratchnet train` runs; tests hold every fast form to the book's:
//!
//! | the book's (two_layer_net.rs, layers.rs) | fast (fused.rs, fast_numgrad.rs) | held equal by |
//! |---|---|---|
//! | [`TwoLayerNet::predict`], [`loss`](TwoLayerNet::loss), [`accuracy`](TwoLayerNet::accuracy) | [`predict_fused`](TwoLayerNet::predict_fused), [`loss_fused`](TwoLayerNet::loss_fused), [`accuracy_fused`](TwoLayerNet::accuracy_fused): parallel blocks of rows, sparse first layer | `fused_forward_equals_the_book_forward` (1e-12) |
//! | [`TwoLayerNet::gradient`]: layers forward, then backward in reverse (sub-millisecond to milliseconds) | [`gradient_fused`](TwoLayerNet::gradient_fused), [`gradient_in`](TwoLayerNet::gradient_in) with a reused [`Workspace`] (the trainer's `--grad backprop`) | `fused_backprop_equals_the_layers_one_by_one` (1e-12 of the max-norm) |
//! | [`TwoLayerNet::numerical_gradient`]: `numgrad::numerical_gradient` per tensor, full forward passes (seconds) | [`numerical_gradient_fast`](TwoLayerNet::numerical_gradient_fast): each perturbed loss recomputed only where the parameter reaches (milliseconds; the trainer's default) | `fast_equals_the_book_to_1e_8_of_the_max_norm` |
//!
//! [`TwoLayerNet::numerical_gradient_with`] picks the trainer's strategy ([`NumGrad::Fast`] or
//! the generic method over the fused forward pass, [`NumGrad::Generic`]). [`gradient_check`]
//! compares a numerical gradient with backprop (the book's `gradient_check.py`);
//! [`TwoLayerNet::save`] / [`TwoLayerNet::load`] keep parameters in a checked binary file and
//! [`TwoLayerNet::export_npz`] writes them for NumPy.
//!
//! Inputs are anything that converts into [`Input`] (2-D arrays and views, `ArrayD` images of
//! any shape `(N, …)`, [`scratchnet_tensor::SparseRows`]); targets anything that converts into
//! [`Targets`] (`&[usize]`, `&[usize; N]`, `&Vec<usize>`, `&Array1<usize>`, one-hot `&Array2`).
//! Hyper-parameters (`weight_init_std`, `lr`) are `f64`.
//!
//! ```
//! use scratchnet_network::TwoLayerNet;
//! use scratchnet_tensor::rng_from_seed;
//! use ndarray::Array2;
//!
//! let mut rng = rng_from_seed(0);
//! let mut net = TwoLayerNet::<f64>::new(4, 3, 2, 0.5, &mut rng);
//! let x = Array2::from_shape_fn((5, 4), |(i, j)| ((i + j) % 3) as f64 / 2.0);
//! let labels = [0, 1, 1, 0, 1];
//! let before = net.loss(&x, &labels);
//! let grads = net.gradient(&x, &labels);
//! net.sgd_step(&grads, 0.5);
//! assert!(net.loss(&x, &labels) < before);
//! ```

pub mod book;
mod confusion;
mod error;
mod fast_numgrad;
mod fused;
mod gradcheck;
mod half_float;
mod input;
mod inside;
mod layer_stack;
pub mod layers;
mod model;
mod model_file;
mod multi_layer_fast;
mod net;
mod npz;
pub mod optimizer;
mod params;
mod safetensors_file;
mod spec;
mod tensors;

pub use book::SimpleNet;
pub use book::TwoLayerNet;
pub use book::{
    Activation, AffineParams, BatchNormGrads, BatchNormParams, MultiLayerGrads, MultiLayerNet,
    WeightInit,
};
pub use confusion::{Confusion, misclassified};
pub use error::ModelError;
pub use fast_numgrad::{NumGrad, Param};
pub use fused::Workspace;
pub use gradcheck::{GradCheck, ParamCheck, gradient_check, gradient_check_with};
pub use half_float::{HalfFloat, half_float_accuracy, round_to_f16};
pub use input::Input;
pub(crate) use model::Model;
pub use model_file::{FORMAT_VERSION, ModelHeader, ModelInfo};
pub use multi_layer_fast::RunningUpdate;
pub use net::{Batch, DrawBatch, Gradient, Net, NonFinite};
pub use npz::npz_dtype;
pub use params::{Grads, PARAM_NAMES, Params};
/// Re-exported from `scratchnet-tensor`, the crate below both this one and `scratchnet-mnist`,
/// so that the loader's labels convert into it without either crate depending on the other.
pub use scratchnet_tensor::Targets;
pub use spec::{LayerSpec, NetSpec};
pub use tensors::Tensors;
