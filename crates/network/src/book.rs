//! The book's path: the networks of *Deep Learning from Scratch* written the way the book writes
//! them, over the chapter 5 [`layers`]. Read these to follow the book; they are the
//! oracle every fast kernel of [`Net`](crate::Net) is tested against. Training runs `Net`.
//!
//! | the book | here |
//! |---|---|
//! | §4.4.2 `simpleNet` | [`SimpleNet`] |
//! | §4.5.1 / ch. 5 `TwoLayerNet` | [`TwoLayerNet`] |
//! | ch. 6 `MultiLayerNet`, `MultiLayerNetExtend` | [`MultiLayerNet`] |
//! | `common/layers.py` | [`layers`] |
//! | `common/util.py` `im2col`, `col2im`; ch. 7 `Convolution`, `Pooling`, `SimpleConvNet` | [`im2col`], [`col2im`], [`Convolution`], [`Pooling`], [`SimpleConvNet`] |
//!
//! ```
//! use scratchnet_network::book::TwoLayerNet;
//! let net = TwoLayerNet::<f64>::new(4, 3, 2, 0.1, &mut scratchnet_tensor::rng_from_seed(0));
//! assert_eq!(net.sizes(), (4, 3, 2));
//! ```

pub(crate) mod multi_layer_net;
pub(crate) mod simple_conv_net;
pub(crate) mod simple_net;
pub(crate) mod two_layer_net;

pub use crate::layers;
pub use multi_layer_net::{
    Activation, AffineParams, BatchNormGrads, BatchNormParams, MultiLayerGrads, MultiLayerNet,
    WeightInit,
};
pub use simple_conv_net::{Convolution, Pooling, SimpleConvNet, col2im, im2col};
pub use simple_net::SimpleNet;
pub use two_layer_net::TwoLayerNet;
