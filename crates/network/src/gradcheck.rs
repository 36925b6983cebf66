//! The gradient check of the book's `gradient_check.py`: numerical against backprop, per parameter.
//!
//! Backprop uses the book's softmax-with-loss gradient `(y − t)/N` by default, as training does,
//! which differs from the numerical gradient of the loss `−Σ t·ln(y + 1e-7)/N` by about
//! `1e-7/y_t`: the agreement is ~1e-7, as the book prints. With [`LossGradient::ExactDelta`]
//! (the `_with` functions) backprop differentiates that loss exactly and agrees to ~1e-10.

use ndarray::ArrayViewD;
use scratchnet_tensor::{Rng, Scalar};

use crate::fused::{self, in_pool};
use crate::layers::LossGradient;
use crate::{Input, MultiLayerNet, NumGrad, Targets, TwoLayerNet, Workspace};

/// The comparison of one parameter tensor's numerical and backprop gradients.
///
/// ```
/// use scratchnet_network::{NumGrad, TwoLayerNet, gradient_check};
/// let net = TwoLayerNet::<f64>::new(3, 2, 2, 0.5, &mut scratchnet_tensor::rng_from_seed(0));
/// let check = gradient_check(&net, &ndarray::array![[1.0, 0.0, 0.5]], &[1], NumGrad::Fast);
/// let w2 = &check.params[2];
/// assert_eq!(w2.name, "W2");
/// assert!(w2.max_rel_diff < 1e-6 && w2.max_abs > 0.0);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ParamCheck {
    /// The book's name of the tensor: `W1`, `b1`, `W2`, `b2`, `W3`, …
    pub name: String,
    /// Mean of `|numerical − backprop|`, the figure the book prints.
    pub mean_abs_diff: f64,
    /// Max over entries of `|numerical − backprop| / max(|numerical|, |backprop|)`, 0 where both are 0.
    pub max_rel_diff: f64,
    /// Largest `|backprop|`, to put the differences in scale.
    pub max_abs: f64,
}

/// The result of [`gradient_check`] or [`MultiLayerNet::gradient_check`]: one row per
/// parameter tensor, in the order W1, b1, W2, b2, ….
/// Its `Display` is a table of the figures.
///
/// ```
/// use scratchnet_network::{NumGrad, TwoLayerNet, gradient_check};
/// let net = TwoLayerNet::<f64>::new(3, 2, 2, 0.5, &mut scratchnet_tensor::rng_from_seed(0));
/// let check = gradient_check(&net, &ndarray::array![[1.0, 0.0, 0.5]], &[1], NumGrad::Fast);
/// assert_eq!(check.params.len(), 4);
/// assert!(check.to_string().contains("b2"));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct GradCheck {
    /// Per-parameter figures.
    pub params: Vec<ParamCheck>,
    /// The element type the gradients were computed in, `"f32"` or `"f64"`. In f32 the
    /// central difference `(f(x+h) − f(x−h)) / 2h` with `h = 1e-4` loses most of its digits to
    /// the rounding of the loss (about 1e-7 relative), so its differences run near 1e-2 and a
    /// single entry's `max rel diff` can exceed 1; `Display` says so.
    pub dtype: &'static str,
}

impl std::fmt::Display for GradCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let w = self
            .params
            .iter()
            .map(|p| p.name.len())
            .max()
            .unwrap_or(0)
            .max(4);
        writeln!(
            f,
            "{:<w$} {:>14} {:>14} {:>12}",
            "", "mean |diff|", "max rel diff", "max |grad|"
        )?;
        for p in &self.params {
            writeln!(
                f,
                "{:<w$} {:>14.3e} {:>14.3e} {:>12.3e}",
                p.name, p.mean_abs_diff, p.max_rel_diff, p.max_abs
            )?;
        }
        if self.dtype == "f32" {
            writeln!(
                f,
                "note: computed in f32, where the loss's rounding (~1e-7) over 2h = 2e-4 leaves \
                 the numerical gradient good to about 1e-3; differences of that size, and max \
                 rel diff near or above 1 on small entries, are expected: check in f64 for a \
                 tight comparison."
            )?;
        }
        Ok(())
    }
}

/// The book's `gradient_check.py`: the numerical gradient (by `strategy`) against backprop (the
/// fused kernel that [`Net`](crate::Net) trains the chapter 4 spec with), per parameter.
///
/// ```
/// use scratchnet_network::{NumGrad, TwoLayerNet, gradient_check};
/// let net = TwoLayerNet::<f64>::new(4, 3, 2, 0.5, &mut scratchnet_tensor::rng_from_seed(1));
/// let x = ndarray::Array2::from_shape_fn((3, 4), |(i, j)| (i * 4 + j) as f64 / 12.0);
/// let check = gradient_check(&net, &x, &vec![0, 1, 1], NumGrad::Fast);
/// assert!(check.max_rel_diff() < 1e-4); // the book's (y − t)/N: ~1e-5 here
/// println!("{check}");
/// ```
pub fn gradient_check<'x, 't, A: Scalar>(
    net: &TwoLayerNet<A>,
    x: impl Into<Input<'x, A>>,
    t: impl Into<Targets<'t, A>>,
    strategy: NumGrad,
) -> GradCheck {
    gradient_check_with(net, x, t, strategy, LossGradient::Book)
}

/// [`gradient_check`] with the softmax-with-loss gradient `lg` in the backprop pass:
/// [`LossGradient::ExactDelta`] agrees with the numerical gradient to ~1e-10 instead of ~1e-7.
///
/// ```
/// use scratchnet_network::{NumGrad, TwoLayerNet, gradient_check_with, layers::LossGradient};
/// let net = TwoLayerNet::<f64>::new(4, 3, 2, 0.5, &mut scratchnet_tensor::rng_from_seed(1));
/// let x = ndarray::Array2::from_shape_fn((3, 4), |(i, j)| (i * 4 + j) as f64 / 12.0);
/// let check = gradient_check_with(&net, &x, &vec![0, 1, 1], NumGrad::Fast, LossGradient::ExactDelta);
/// assert!(check.max_rel_diff() < 1e-7); // ~1e-8 (the book's gradient: ~1e-5)
/// ```
pub fn gradient_check_with<'x, 't, A: Scalar>(
    net: &TwoLayerNet<A>,
    x: impl Into<Input<'x, A>>,
    t: impl Into<Targets<'t, A>>,
    strategy: NumGrad,
    lg: LossGradient,
) -> GradCheck {
    let (x, t) = (x.into(), t.into());
    let num = net.numerical_gradient_with(x.reborrow(), t, strategy);
    let mut ws = Workspace::new();
    in_pool(|| {
        fused::gradient(&net.params, &x, t, &mut ws, lg);
    });
    let bp = ws.into_grads();
    GradCheck::of(
        num.named()
            .into_iter()
            .zip(bp.named())
            .map(|((name, a), (_, b))| (name.to_string(), a, b)),
    )
}

impl GradCheck {
    /// The figures of each `(name, numerical, backprop)` triple.
    ///
    /// # Panics
    /// If a pair of tensors differs in shape.
    ///
    /// ```
    /// use ndarray::arr1;
    /// let (num, bp) = (arr1(&[1.0, 2.0]).into_dyn(), arr1(&[1.0, 2.2]).into_dyn());
    /// let check = scratchnet_network::GradCheck::of([("W1".to_string(), num.view(), bp.view())]);
    /// assert!((check.params[0].max_rel_diff - 0.2 / 2.2).abs() < 1e-12);
    /// assert!((check.params[0].mean_abs_diff - 0.1).abs() < 1e-12);
    /// ```
    pub fn of<'a, A: Scalar>(
        tensors: impl IntoIterator<Item = (String, ArrayViewD<'a, A>, ArrayViewD<'a, A>)>,
    ) -> GradCheck {
        let params = tensors
            .into_iter()
            .map(|(name, a, b)| {
                assert_eq!(
                    a.shape(),
                    b.shape(),
                    "{name}: gradients of different shapes"
                );
                let mut sum = 0.0;
                let mut max_rel: f64 = 0.0;
                let mut max_abs: f64 = 0.0;
                let mut finite = true;
                for (&u, &v) in a.iter().zip(b.iter()) {
                    let (u, v) = (u.as_f64(), v.as_f64());
                    finite &= u.is_finite() && v.is_finite();
                    let d = (u - v).abs();
                    sum += d;
                    let scale = u.abs().max(v.abs());
                    if scale > 0.0 {
                        max_rel = max_rel.max(d / scale);
                    }
                    max_abs = max_abs.max(v.abs());
                }
                // f64::max skips NaN: a NaN gradient must never read as agreement
                let (max_rel, max_abs) = if finite {
                    (max_rel, max_abs)
                } else {
                    (f64::NAN, f64::NAN)
                };
                ParamCheck {
                    name,
                    mean_abs_diff: if finite {
                        sum / a.len().max(1) as f64
                    } else {
                        f64::NAN
                    },
                    max_rel_diff: max_rel,
                    max_abs,
                }
            })
            .collect();
        GradCheck {
            params,
            dtype: A::DTYPE,
        }
    }

    /// The largest [`ParamCheck::max_rel_diff`] over every tensor (NaN if any gradient is not
    /// finite).
    pub fn max_rel_diff(&self) -> f64 {
        self.params
            .iter()
            .map(|p| p.max_rel_diff)
            .fold(0.0, |m, r| {
                if m.is_nan() || r.is_nan() {
                    f64::NAN
                } else {
                    m.max(r)
                }
            })
    }

    /// True if every gradient is finite and each tensor's `mean |diff|` is at most `tol` times
    /// the gradient's scale, the largest `max |grad|` of any tensor.
    ///
    /// Judging by the mean rather than by `max rel diff` keeps the check meaningful where a
    /// gradient is 0 in exact arithmetic (a bias before batch norm): there both figures are
    /// roundings of 0, and their relative difference is 1.
    ///
    /// ```
    /// use ndarray::arr1;
    /// let (num, bp) = (arr1(&[1.0, 2.0]).into_dyn(), arr1(&[1.0, 2.2]).into_dyn());
    /// let check = scratchnet_network::GradCheck::of([("W1".to_string(), num.view(), bp.view())]);
    /// assert!(check.passes(0.05)); // mean |diff| 0.1 <= 0.05 × scale 2.2
    /// assert!(!check.passes(0.04));
    /// let nan = arr1(&[f64::NAN, 2.0]).into_dyn();
    /// let check = scratchnet_network::GradCheck::of([("W1".to_string(), nan.view(), bp.view())]);
    /// assert!(!check.passes(1e9) && check.max_rel_diff().is_nan());
    /// ```
    pub fn passes(&self, tol: f64) -> bool {
        let scale = self.scale();
        scale.is_finite() && self.params.iter().all(|p| p.mean_abs_diff <= tol * scale)
    }

    /// The gradient's scale: the largest `max |grad|` of any tensor (NaN if one is not finite).
    pub fn scale(&self) -> f64 {
        self.params.iter().map(|p| p.max_abs).fold(0.0, |m, a| {
            if m.is_nan() || a.is_nan() {
                f64::NAN
            } else {
                m.max(a)
            }
        })
    }

    /// The tensors whose gradient is 0 (at most 1e-12 of the scale): both figures are
    /// roundings of 0 there, and only their mean |diff| means anything.
    ///
    /// ```
    /// use ndarray::arr1;
    /// let (zero, one) = (arr1(&[0.0, 0.0]).into_dyn(), arr1(&[1.0, 1.0]).into_dyn());
    /// let check = scratchnet_network::GradCheck::of([
    ///     ("W1".to_string(), one.view(), one.view()),
    ///     ("b1".to_string(), zero.view(), zero.view()),
    /// ]);
    /// assert_eq!(check.zero_tensors(), ["b1"]);
    /// ```
    pub fn zero_tensors(&self) -> Vec<&str> {
        let scale = self.scale();
        let zero = self.params.iter().filter(|p| p.max_abs <= 1e-12 * scale);
        zero.map(|p| p.name.as_str()).collect()
    }

    /// The verdict at the tolerance of the check's dtype ([`passes`](Self::passes) at 1e-5 in
    /// f64: the numerical gradient's own error, h = 1e-4 central, is ~1e-8 of the scale; at
    /// 0.03 in f32, which rounds the loss to ~1e-7, ~1e-3 of the scale over 2h): `Ok` with the
    /// line saying it passed, `Err` with the line saying why not.
    ///
    /// ```
    /// use ndarray::arr1;
    /// let (num, bp) = (arr1(&[1.0, 2.0]).into_dyn(), arr1(&[1.0, 2.0 + 1e-9]).into_dyn());
    /// let check = scratchnet_network::GradCheck::of([("W1".to_string(), num.view(), bp.view())]);
    /// assert!(check.verdict().unwrap().starts_with("verdict: PASS"));
    /// ```
    pub fn verdict(&self) -> Result<String, String> {
        let (tol, tol_text) = if self.dtype == "f32" {
            (3e-2, "0.03")
        } else {
            (1e-5, "1e-5")
        };
        let scale = self.scale();
        if self.passes(tol) {
            Ok(format!(
                "verdict: PASS, every tensor's mean |diff| <= {tol_text} x the gradient's scale {scale:.3e}"
            ))
        } else if !scale.is_finite() {
            Err("gradient check FAILED: a gradient is not finite (NaN or infinite); is the initial weight scale too large?".into())
        } else {
            Err(format!(
                "gradient check FAILED: a tensor's mean |diff| is above {tol_text} x the gradient's scale {scale:.3e}"
            ))
        }
    }
}

impl<A: Scalar> MultiLayerNet<A> {
    /// The book's gradient check for a net of any depth (`gradient_check.py`,
    /// `batch_norm_gradient_check.py`): the numerical gradient (the generic, parallel
    /// [`numerical_gradient`](Self::numerical_gradient)) against backprop (the fast path that
    /// [`Net::gradient`](crate::Net::gradient) runs), per tensor `W1, b1, gamma1, beta1,
    /// W2, …`, both in train mode with one set of dropout masks drawn from `rng`. The net is not
    /// changed (the running statistics stay as they are).
    ///
    /// With batch norm, the bias before each batch norm has gradient 0 (the normalisation
    /// removes any shift of a column), so its row compares two roundings of 0; judge it by its
    /// `mean_abs_diff`, not by `max_rel_diff`.
    ///
    /// ```
    /// use scratchnet_network::{Activation, MultiLayerNet, WeightInit};
    /// let net = MultiLayerNet::<f64>::new(4, &[5, 5], 3, Activation::Sigmoid, WeightInit::Xavier,
    ///     &mut scratchnet_tensor::rng_from_seed(1)).with_dropout(0.3);
    /// let x = ndarray::Array2::from_shape_fn((3, 4), |(i, j)| (i * 4 + j) as f64 / 12.0);
    /// let check = net.gradient_check(&x, &[0, 1, 2], &mut scratchnet_tensor::rng_from_seed(2));
    /// assert_eq!(check.params.len(), 6);
    /// assert_eq!(check.params[4].name, "W3");
    /// assert!(check.max_rel_diff() < 1e-4); // the book's (y − t)/N: ~5e-6 here
    /// ```
    pub fn gradient_check<'x, 't>(
        &self,
        x: impl Into<Input<'x, A>>,
        t: impl Into<Targets<'t, A>>,
        rng: &mut Rng,
    ) -> GradCheck {
        self.gradient_check_with(x, t, rng, LossGradient::Book)
    }

    /// [`gradient_check`](Self::gradient_check) with the softmax-with-loss gradient `lg` in the
    /// backprop pass ([`LossGradient::ExactDelta`]: agreement to ~1e-10 instead of ~1e-7).
    ///
    /// ```
    /// use scratchnet_network::{Activation, MultiLayerNet, WeightInit, layers::LossGradient};
    /// let net = MultiLayerNet::<f64>::new(4, &[5], 3, Activation::Relu, WeightInit::He,
    ///     &mut scratchnet_tensor::rng_from_seed(1));
    /// let x = ndarray::Array2::from_shape_fn((3, 4), |(i, j)| (i * 4 + j) as f64 / 12.0);
    /// let mut rng = scratchnet_tensor::rng_from_seed(2);
    /// let check = net.gradient_check_with(&x, &[0, 1, 2], &mut rng, LossGradient::ExactDelta);
    /// assert!(check.params.iter().all(|p| p.mean_abs_diff < 1e-8 * p.max_abs));
    /// ```
    pub fn gradient_check_with<'x, 't>(
        &self,
        x: impl Into<Input<'x, A>>,
        t: impl Into<Targets<'t, A>>,
        rng: &mut Rng,
        lg: LossGradient,
    ) -> GradCheck {
        let (x, t) = (x.into(), t.into());
        self.check(x.dim(), &t);
        let masks = self.draw_masks(x.dim().0, rng);
        let num = self.numerical_gradient_with(x.to_dense().view(), t, &masks);
        let (bp, _) = self.gradient_fast_with(&x, t, &masks, lg);
        GradCheck::of(
            num.named()
                .into_iter()
                .zip(bp.named())
                .map(|((name, n), (_, b))| (name, n, b)),
        )
    }
}
