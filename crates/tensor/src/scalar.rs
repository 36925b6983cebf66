use std::fmt::{Debug, Display};
use std::iter::Sum;

use crate::Rng;
use ndarray::{LinalgScalar, ScalarOperand};
use num_traits::Float;
use rand_distr::{Distribution, StandardNormal};
use serde::{Serialize, de::DeserializeOwned};

/// The floating-point element type of every scratchnet array: `f32` or `f64`.
///
/// One trait so that every crate writes `A: Scalar` instead of a long bound list.
///
/// ```
/// use scratchnet_tensor::Scalar;
/// fn half<A: Scalar>(x: A) -> A { x * A::of_f64(0.5) }
/// assert_eq!(half(3.0f32), 1.5);
/// assert_eq!(f64::DTYPE, "f64");
/// ```
pub trait Scalar:
    Float
    + LinalgScalar
    + ScalarOperand
    + Default
    + Debug
    + Display
    + Sum
    + Send
    + Sync
    + Serialize
    + DeserializeOwned
    + std::ops::AddAssign
    + std::ops::SubAssign
    + std::ops::MulAssign
    + std::ops::DivAssign
    + 'static
{
    /// `"f32"` or `"f64"`: the name used in file headers and on the command line.
    const DTYPE: &'static str;
    /// Converts from `f64` (rounding to nearest for `f32`).
    fn of_f64(x: f64) -> Self;
    /// Widens to `f64`.
    fn as_f64(self) -> f64;
    /// One draw from the standard normal distribution N(0, 1).
    fn standard_normal(rng: &mut Rng) -> Self;
}

impl Scalar for f32 {
    const DTYPE: &'static str = "f32";
    fn of_f64(x: f64) -> Self {
        x as f32
    }
    fn as_f64(self) -> f64 {
        self as f64
    }
    fn standard_normal(rng: &mut Rng) -> Self {
        StandardNormal.sample(rng)
    }
}

impl Scalar for f64 {
    const DTYPE: &'static str = "f64";
    fn of_f64(x: f64) -> Self {
        x
    }
    fn as_f64(self) -> f64 {
        self
    }
    fn standard_normal(rng: &mut Rng) -> Self {
        StandardNormal.sample(rng)
    }
}
