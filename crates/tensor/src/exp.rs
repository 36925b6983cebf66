//! `eˣ` without branches or library calls, so that a loop of sigmoids vectorises, and the
//! logistic function built on it. They live here, below `scratchnet-functions` (which re-exports
//! both), because the fused kernels of [`crate::fused`] compute the sigmoid inside their SIMD copy.

use crate::Scalar;

/// `2⁵² + 2⁵¹`: adding it to a number of magnitude below 2⁵¹ rounds that number to an integer
/// (ties to even) and leaves the integer in the low bits of the sum.
const ROUND: f64 = 6_755_399_441_055_744.0;
/// ln 2 split in two (fdlibm's `ln2_hi`, `ln2_lo`): `LN2_HI` has 32 significant bits, so
/// `n · LN2_HI` is exact for every `n` used here.
const LN2_HI: f64 = f64::from_bits(0x3FE6_2E42_FEE0_0000);
const LN2_LO: f64 = f64::from_bits(0x3DEA_39EF_3579_3C76);
/// Above this `eˣ` overflows to infinity.
const MAX: f64 = 709.782_712_893_384;
/// Below this `eˣ` (under 10⁻³⁰⁷, near the subnormal range) is flushed to zero, which keeps
/// `2ⁿ⁻¹` below a normal number.
const MIN: f64 = -707.0;
/// `1/k!` for k = 13 down to 0: Taylor's series of `eʳ`, `|r| ≤ ln2/2`, truncated where the
/// next term is below 5·10⁻¹⁸ of the sum.
const TAYLOR: [f64; 14] = [
    1.0 / 6_227_020_800.0,
    1.0 / 479_001_600.0,
    1.0 / 39_916_800.0,
    1.0 / 3_628_800.0,
    1.0 / 362_880.0,
    1.0 / 40_320.0,
    1.0 / 5_040.0,
    1.0 / 720.0,
    1.0 / 120.0,
    1.0 / 24.0,
    1.0 / 6.0,
    0.5,
    1.0,
    1.0,
];

/// `eˣ` in `f64`, within 2 units in the last place of the standard library's `f64::exp` (a
/// test sweeps two million points of the normal range against it), computed by arithmetic alone: `x = n·ln2 + r`, `eʳ` by its
/// Taylor polynomial, `2ⁿ` assembled in the exponent bits. With no branch and no call, a loop
/// over a slice of these compiles to vector instructions.
///
/// `+∞` above 709.78 (where `eˣ` overflows), `0` below −707 (where it is below 10⁻³⁰⁷),
/// NaN for NaN.
///
/// ```
/// use scratchnet_tensor::exp;
/// assert_eq!(exp(0.0), 1.0);
/// assert!((exp(1.0) - std::f64::consts::E).abs() <= f64::EPSILON * 3.0);
/// assert_eq!(exp(1000.0), f64::INFINITY);
/// assert_eq!(exp(-1000.0), 0.0);
/// assert!(exp(f64::NAN).is_nan());
/// ```
#[inline]
pub fn exp(x: f64) -> f64 {
    let xc = x.clamp(MIN, MAX);
    // n = round(x / ln2), both as a float and as the integer in the low bits of `t`
    let t = xc * std::f64::consts::LOG2_E + ROUND;
    let n = t - ROUND;
    let r = (xc - n * LN2_HI) - n * LN2_LO;
    let mut p = TAYLOR[0];
    for &c in &TAYLOR[1..] {
        p = p * r + c;
    }
    // 2ⁿ⁻¹ (the biased exponent n − 1 + 1023 in bits 52..63; n is within −1020..=1024 here,
    // and 2¹⁰²⁴ itself is not a finite f64), then the exact doubling
    let n_bits = t.to_bits().wrapping_sub(ROUND.to_bits());
    let half_two_n = f64::from_bits(n_bits.wrapping_add(1022) << 52);
    let y = p * half_two_n * 2.0;
    if x > MAX {
        f64::INFINITY
    } else if x < MIN {
        0.0
    } else {
        y
    }
}

/// The logistic function of one number: `1 / (1 + e^(-x))`, computed in `f64` with [`exp`]
/// (branch-free, so that a row of sigmoids vectorises) and rounded to `A`.
///
/// Never NaN for finite input: for very negative `x`, `e^(-x)` overflows to infinity and the
/// result is `0`.
///
/// ```
/// use scratchnet_tensor::sigmoid_scalar;
/// assert_eq!(sigmoid_scalar(0.0), 0.5);
/// assert_eq!(sigmoid_scalar(-1000.0f32), 0.0);
/// ```
#[inline]
pub fn sigmoid_scalar<A: Scalar>(x: A) -> A {
    A::of_f64(1.0 / (1.0 + exp(-x.as_f64())))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Distance in units in the last place.
    fn ulps(a: f64, b: f64) -> u64 {
        (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs()
    }

    #[test]
    fn within_two_ulps_of_std_everywhere_it_is_normal() {
        let mut worst = (0, 0.0);
        // a dense sweep plus every region's edges
        let sweep = (0..2_000_001).map(|i| MIN + (MAX - MIN) * i as f64 / 2_000_000.0);
        let edges = [
            0.0,
            -0.0,
            1e-300,
            -1e-300,
            1e-10,
            0.5,
            -0.5,
            0.34657359,
            -0.34657359,
            700.0,
            -700.0,
        ];
        for x in sweep.chain(edges) {
            let u = ulps(exp(x), x.exp());
            if u > worst.0 {
                worst = (u, x);
            }
        }
        assert!(worst.0 <= 2, "{} ulps at x = {}", worst.0, worst.1);
    }

    #[test]
    fn overflow_underflow_and_nan() {
        assert_eq!(exp(MAX + 1e-9), f64::INFINITY);
        assert_eq!(exp(f64::INFINITY), f64::INFINITY);
        assert_eq!(exp(f64::NEG_INFINITY), 0.0);
        assert_eq!(exp(-745.2), 0.0);
        assert!(exp(MAX).is_finite());
        assert!(exp(MIN) >= f64::MIN_POSITIVE);
        assert!(exp(f64::NAN).is_nan());
    }
}
