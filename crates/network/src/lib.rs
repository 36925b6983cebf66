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
//! same mathematics, which [`Net`] chooses for its spec (and so `scratchnet train` runs). The fast
//! forms are private to this crate; its unit tests hold every one to the book's:
//!
//! | the book's (`book/`, layers.rs) | fast, run by [`Net`] (fused.rs, fast_numgrad.rs, multi_layer_fast.rs) | held equal by |
//! |---|---|---|
//! | [`TwoLayerNet::predict`], [`loss`](TwoLayerNet::loss), [`accuracy`](TwoLayerNet::accuracy) | [`Net::predict`], [`loss`](Net::loss), [`accuracy`](Net::accuracy) of the chapter 4 spec: parallel blocks of rows, sparse first layer | `fused_forward_equals_the_book_forward` (1e-12) |
//! | [`TwoLayerNet::gradient`]: layers forward, then backward in reverse (sub-millisecond to milliseconds) | [`Net::gradient`]: fused per block of rows; in [`Net::step`] into reused buffers (the trainer's `--grad backprop`) | `fused_backprop_equals_the_layers_one_by_one` (1e-12 of the max-norm) |
//! | [`TwoLayerNet::numerical_gradient`]: `numgrad::numerical_gradient` per tensor, full forward passes (seconds) | [`Net::numerical_gradient`]: each perturbed loss recomputed only where the parameter reaches (milliseconds; the trainer's default) | `fast_equals_the_book_to_1e_8_of_the_max_norm` |
//! | [`MultiLayerNet`]'s `predict`, `loss`, `accuracy`, `gradient` | [`Net`]'s, for any other fully connected spec: sparse first layer, no `dx` for it | `fast_path_equals_the_book_path` (1e-12 of the max-norm) |
//!
//! [`gradient_check`] compares a numerical gradient ([`NumGrad::Fast`], or [`NumGrad::Generic`],
//! the book's method over the fused forward pass) with backprop (the book's `gradient_check.py`);
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
//!
//! # For readers of the book's Python
//!
//! NumPy idiom → scratchnet call, as ndarray's guide for NumPy users does it. `x`, `t` are a
//! batch's images and labels, `data` what `scratchnet_mnist::load_mnist` returned, `rng` a
//! `scratchnet_tensor::rng_from_seed(seed)`: every random draw takes it explicitly.
//!
//! | the book | scratchnet |
//! |---|---|
//! | `np.random.seed(0)` | `let mut rng = rng_from_seed(0);`, passed to what draws |
//! | `load_mnist(normalize=True, one_hot_label=True)` | `load_mnist::<f64>(dir, LoadOptions { normalize: true, flatten: true, one_hot_label: true })?` |
//! | `x_train.shape` | `data.train.images.shape()` (`[60000, 784]`) |
//! | `x_train[:3]`, `t_train[:3]` | `data.train.batch(0..3)` (a `Split`: `.images`, `.labels`) |
//! | `np.random.choice(train_size, batch_size)` | `scratchnet_mnist::random_batch(&mut rng, train_size, batch_size)` |
//! | `x_train[batch_mask]`, `t_train[batch_mask]` | `data.train.batch(&batch_mask)` |
//! | any array `a[mask]` | `a.select(Axis(0), &mask)`; `a[:3]` is `a.slice(s![..3, ..])` |
//! | `TwoLayerNet(input_size=784, hidden_size=50, output_size=10)` | `Net::new(NetSpec::two_layer_net(784, 50, 10, 0.01), &mut rng)?` (or the book's class, [`TwoLayerNet::new`]) |
//! | `MultiLayerNet(784, [100]*5, 10, activation='relu', weight_init_std='he', weight_decay_lambda=0.1)` | [`NetSpec::multi_layer_net`]`(784, &[100; 5], 10, Activation::Relu, WeightInit::He, 0.1)` |
//! | `MultiLayerNetExtend(…, use_dropout=True, dropout_ration=0.2, use_batchnorm=True)` | [`NetSpec::multi_layer_net_extend`]`(…, Some(0.2), true)` |
//! | `SimpleConvNet()`, `DeepConvNet()` | [`NetSpec::simple_conv_net`], [`NetSpec::deep_conv_net`] |
//! | `network.predict(x)` | `net.predict(&x)` (test mode) |
//! | `network.loss(x, t)`, `network.accuracy(x, t)` | `net.loss(&x, &t)`, `net.accuracy(&x, &t)` |
//! | `network.gradient(x, t)` | `net.gradient(&x, &t, &mut rng)`: `&mut self`, because batch norm in training mode records its running statistics; `rng` draws dropout masks |
//! | `network.numerical_gradient(x, t)` | `net.numerical_gradient(&x, &t, &mut rng)` |
//! | `network.params['W1']`, `grads['W1']` | `net.params()["W1"]`, `grads["W1"]` ([`Tensors`]) |
//! | `for key in grads.keys()`, `grads.items()` | `grads.names()`, `for (key, g) in grads.iter()` |
//! | `SGD(lr=0.01)`, `Momentum(lr=0.01)`, `AdaGrad`, `RMSprop`, `Adam(lr=0.001)` | `Sgd::new(0.01)`, `Momentum::new(0.01)`, `AdaGrad::new(…)`, `RmsProp::new(…)`, `Adam::new(0.001)`: lr only, the book's other defaults (in [`optimizer`]) |
//! | `optimizer.update(network.params, grads)` | `optimizer.update(&mut net, &grads)` ([`optimizer::Optimizer`] in scope), or `net.update(&mut optimizer, &grads)` |
//! | `network.params[key] -= lr * grads[key]` | `net.update(&mut Sgd::new(lr), &grads)` |
//! | `np.average(np.abs(a - b))` | `(&a - &b).mapv(f64::abs).mean()`: ndarray's `mean` is an `Option` (`None` when empty) |
//! | `np.argmax(y, axis=1)` | `net.predict_classes(&x)`, or `scratchnet_tensor::argmax` |
//! | `gradient_check.py` | `net.gradient_check(&x, &t, false, Default::default(), &mut rng)`: a [`GradCheck`] table; in f32 it notes that its figures are loose |
//! | `network.save_params("params.pkl")`, `load_params` | `net.save(path)?`, `Net::load(path)?`; for NumPy `net.export_npz(path)?` and `Net::import_npz(spec, path)?`; for candle, burn or PyTorch `export_safetensors` and `import_safetensors` |
//! | an exception | a `Result`; print errors with `{e}` (Display), which names the file and what to do |
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
pub use fast_numgrad::NumGrad;
pub(crate) use fused::Workspace;
pub use gradcheck::{GradCheck, ParamCheck, gradient_check, gradient_check_with};
pub use half_float::{HalfFloat, half_float_accuracy, round_to_f16};
pub use input::Input;
pub(crate) use model::Model;
pub use model_file::{FORMAT_VERSION, ModelHeader, ModelInfo};
pub(crate) use multi_layer_fast::RunningUpdate;
pub use net::{Batch, DrawBatch, Gradient, Net, NonFinite};
pub use npz::npz_dtype;
pub use params::{Grads, PARAM_NAMES, Params};
pub use safetensors_file::ExportFormat;
/// Re-exported from `scratchnet-tensor`, the crate below both this one and `scratchnet-mnist`,
/// so that the loader's labels convert into it without either crate depending on the other.
pub use scratchnet_tensor::Targets;
pub use spec::{Dense, LayerSpec, NetSpec};
pub use tensors::Tensors;
