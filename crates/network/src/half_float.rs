//! The book's `ch08/half_float_network.py`: the accuracy of a trained net with its parameters
//! and inputs rounded to half precision (float16), against float64.

use ndarray::ArrayView2;
use scratchnet_tensor::Scalar;

use crate::{ModelError, Net, Tensors};

/// What [`half_float_accuracy`] measured.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HalfFloat {
    /// The accuracy in float64.
    pub float64: f64,
    /// The accuracy with parameters and inputs rounded to float16.
    pub float16: f64,
}

/// `v` rounded to the nearest float16 (ties to even; beyond ±65504 it is ±∞, below 2⁻²⁵ in
/// magnitude ±0), as NumPy's `astype(np.float16)`, and widened back to f64 exactly.
///
/// ```
/// use scratchnet_network::round_to_f16;
/// assert_eq!(round_to_f16(0.1), 0.0999755859375); // 1638·2⁻¹⁴: 11 significant bits
/// assert_eq!(round_to_f16(1.0 + 1.0 / 4096.0), 1.0); // a tie, to even
/// assert_eq!(round_to_f16(70000.0), f64::INFINITY);
/// ```
pub fn round_to_f16(v: f64) -> f64 {
    f64::from(half::f16::from_f64(v))
}

fn widened<A: Scalar>(t: Tensors<A>, f: impl Fn(f64) -> f64) -> Tensors<f64> {
    Tensors::from_pairs(t.into_iter().map(|(n, a)| (n, a.mapv(|v| f(v.as_f64())))))
}

/// The book's `half_float_network.py` on `x` (one sample per row) and labels `t`: the accuracy
/// of `net` in float64 (the net's values widened to f64 exactly), then with every parameter and
/// batch-norm statistic and every input value rounded to float16 by [`round_to_f16`].
///
/// As in the book, float16 is the storage only: the book assigns the rounded values back into
/// its float64 arrays (`param[...] = param.astype(np.float16)`), and NumPy computes float16
/// inputs times float64 weights in float64; here too every product and sum is computed in f64.
/// What the experiment shows is that 11 significant bits of each weight and pixel are enough.
///
/// ```
/// use scratchnet_network::{Net, NetSpec, half_float_accuracy};
/// let net = Net::<f32>::new(NetSpec::two_layer_net(4, 3, 2, 0.5),
///     &mut scratchnet_tensor::rng_from_seed(0)).unwrap();
/// let x = ndarray::array![[0.1f32, 0.2, 0.3, 0.4], [0.9, 0.0, 0.5, 0.25]];
/// let acc = half_float_accuracy(&net, x.view(), &[0, 1]).unwrap();
/// assert!((0.0..=1.0).contains(&acc.float64) && (0.0..=1.0).contains(&acc.float16));
/// ```
///
/// # Errors
/// [`ModelError::Spec`] if the net's spec cannot be built in f64 (it always can for a net that
/// was built).
///
/// # Panics
/// If `x` and `t` do not fit the net.
pub fn half_float_accuracy<A: Scalar>(
    net: &Net<A>,
    x: ArrayView2<'_, A>,
    t: &[usize],
) -> Result<HalfFloat, ModelError> {
    let at = |f: &dyn Fn(f64) -> f64| -> Result<f64, ModelError> {
        let mut n = Net::<f64>::from_params(net.spec().clone(), &widened(net.params(), f))?;
        n.set_state(&widened(net.state(), f))?;
        let x = x.mapv(|v| f(v.as_f64()));
        Ok(n.accuracy(&x, t))
    };
    Ok(HalfFloat {
        float64: at(&|v| v)?,
        float16: at(&round_to_f16)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NetSpec;

    /// Rounding is what makes the difference: a net whose decision hangs on a weight difference
    /// below the spacing of float16 near 1 (2⁻¹⁰) flips, one with a wide margin does not.
    #[test]
    fn rounding_to_f16_flips_only_decisions_finer_than_its_resolution() {
        let spec = "affine 2".parse::<NetSpec>().unwrap().with_input(&[1]);
        // scores x·[w0, w1]: class 1 wins by 1e-4 in f64; in f16 both weights round to 1.0 and
        // the tie goes to class 0 (argmax takes the first)
        let fine = Tensors::from_pairs([
            ("W1", ndarray::arr2(&[[1.0, 1.0001]]).into_dyn()),
            ("b1", ndarray::arr1(&[0.0, 0.0]).into_dyn()),
        ]);
        let net = Net::<f64>::from_params(spec.clone(), &fine).unwrap();
        let x = ndarray::arr2(&[[1.0]]);
        let acc = half_float_accuracy(&net, x.view(), &[1]).unwrap();
        assert_eq!((acc.float64, acc.float16), (1.0, 0.0));
        let wide = Tensors::from_pairs([
            ("W1", ndarray::arr2(&[[1.0, 1.01]]).into_dyn()),
            ("b1", ndarray::arr1(&[0.0, 0.0]).into_dyn()),
        ]);
        let net = Net::<f64>::from_params(spec, &wide).unwrap();
        let acc = half_float_accuracy(&net, x.view(), &[1]).unwrap();
        assert_eq!((acc.float64, acc.float16), (1.0, 1.0));
    }
}
