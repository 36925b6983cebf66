//! Numerical differentiation: central differences, rayon-parallel numerical gradients, gradient descent.
