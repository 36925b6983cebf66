//! The networks of *Deep Learning from Scratch* chapter 4: the 2x3 [`SimpleNet`] (§4.4.2) and the
//! [`TwoLayerNet`] (§4.5.1), with three ways to get the gradient of the loss:
//!
//! | method | what it is | cost (784-50-10, batch 100) |
//! |---|---|---|
//! | [`TwoLayerNet::numerical_gradient_with`]`(.., NumGrad::Generic)` | the book's method: central differences with full forward passes, rayon-parallel over parameters | seconds |
//! | [`TwoLayerNet::numerical_gradient`] ([`NumGrad::Fast`]) | the same central differences, each perturbed loss recomputed only where the parameter reaches | milliseconds |
//! | [`TwoLayerNet::gradient`] | backpropagation through the book's chapter 5 layers | well under a millisecond |
//!
//! [`gradient_check`] compares them (the book's `gradient_check.py`); [`TwoLayerNet::save`] /
//! [`TwoLayerNet::load`] keep parameters in a checked binary file and [`TwoLayerNet::export_npz`]
//! writes them for NumPy.
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
//! let before = net.loss(&x, &labels[..]);
//! let grads = net.gradient(&x, &labels[..]);
//! net.sgd_step(&grads, 0.5);
//! assert!(net.loss(&x, &labels[..]) < before);
//! ```

mod backprop;
mod error;
mod fast_numgrad;
mod gradcheck;
mod input;
pub mod layers;
mod model_file;
mod npz;
mod params;
mod simple_net;
mod two_layer_net;

pub use backprop::Workspace;
pub use error::ModelError;
pub use gradcheck::{GradCheck, ParamCheck, gradient_check};
pub use input::Input;
pub use model_file::{FORMAT_VERSION, ModelHeader};
pub use params::{Grads, PARAM_NAMES, Params};
/// Re-exported from `scratchnet-tensor`, where `scratchnet-mnist` can convert its labels into it.
pub use scratchnet_tensor::Targets;
pub use simple_net::SimpleNet;
pub use two_layer_net::{NumGrad, Param, TwoLayerNet};
