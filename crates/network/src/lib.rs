//! simpleNet and TwoLayerNet with numerical (generic and fast exact) and backprop gradients, gradient check, checkpoints.
