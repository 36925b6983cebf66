//! Activations and loss functions of Deep Learning from Scratch chapter 3-4 (sigmoid, softmax, sum of squares, cross-entropy).
