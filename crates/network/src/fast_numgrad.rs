//! The fast, exact numerical gradient of a [`TwoLayerNet`]'s loss, which [`Net`](crate::Net)
//! runs for the chapter 4 spec (`scratchnet train`'s default), and the generic method over the
//! fused forward pass. Crate-private; [`NumGrad`] names the two for [`crate::gradient_check`].
//!
//! The same central differences as the book's `numerical_gradient` — for every parameter θ,
//! `(L(θ+h) − L(θ−h)) / 2h` with `h = 1e-4` — but a perturbed loss is recomputed only where
//! the perturbation reaches, from activations computed once per call:
//!
//! - `W1[i][j]` moves `a1[n][j]` by `±h·x[n][i]`: only hidden unit `j`, and only for samples whose
//!   pixel `i` is non-zero. Pixels of one sample with equal values give equal perturbed losses,
//!   so each distinct value is evaluated once (MNIST pixels take at most 255 values).
//! - `b1[j]` moves `a1[n][j]` by `±h` for every sample.
//! - `W2[j][k]` moves logit `k` by `±h·z1[n][j]`; `b2[k]` moves logit `k` by `±h`.
//!
//! For each reached sample the new logits, softmax and cross-entropy are recomputed; samples not
//! reached contribute exactly zero to `L(θ+h) − L(θ−h)`. The batch-mean loss is linear in the
//! per-sample losses, so `(Σₙ (lₙ⁺ − lₙ⁻)) / N / 2h` is the book's difference quotient, up to
//! floating-point rounding. The tests `fast_equals_the_book_to_1e_8_of_the_max_norm` and
//! `fast_equals_generic_to_1e_8_of_the_max_norm` (`fused/tests.rs`) hold it to the book's
//! [`TwoLayerNet::numerical_gradient`] and to [`NumGrad::Generic`] within 1e-8 of the gradient's
//! max-norm, on random nets; tests/tests/network_real_data.rs does it through [`Net`](crate::Net)
//! on real MNIST batches.

use ndarray::{Array1, Array2, ArrayD, ArrayView1, ArrayView2, Axis};
use rayon::prelude::*;
use scratchnet_functions::{CE_DELTA, sigmoid, softmax};
use scratchnet_numgrad::H;
use scratchnet_tensor::{Scalar, affine};

use crate::fused::{Weights, logits};
use crate::input::Input;
use crate::layers::cross_entropy;
use crate::{Grads, Params, Targets, TwoLayerNet};

/// Which numerical-gradient algorithm [`gradient_check`](crate::gradient_check) compares with
/// backprop (for [`Net`](crate::Net), `Gradient::Numerical` and `Gradient::NumericalBook` make
/// the same choice; the trainer's `--numgrad fast|generic`). Both are central differences with
/// `h = 1e-4` on the same loss; they differ only in how much they recompute.
///
/// ```
/// assert_eq!(scratchnet_network::NumGrad::default(), scratchnet_network::NumGrad::Fast);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum NumGrad {
    /// Each perturbed loss recomputed only where the parameter reaches, from activations cached
    /// once per call (what [`Net::numerical_gradient`](crate::Net::numerical_gradient) runs for
    /// the chapter 4 spec). Exact, not an approximation; the default.
    #[default]
    Fast,
    /// The book's method, [`scratchnet_numgrad::numerical_gradient`] over each parameter tensor
    /// (two full forward passes per scalar), with the fused forward pass of
    /// [`Net::loss`](crate::Net::loss). [`TwoLayerNet::numerical_gradient`] is the same method
    /// over the book's layers; the two differ only by the rounding of the forward pass.
    Generic,
}

/// One of the four parameter tensors, for [`TwoLayerNet::generic_numerical_gradient_of`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Param {
    /// First-layer weights.
    W1,
    /// First-layer bias.
    B1,
    /// Second-layer weights.
    W2,
    /// Second-layer bias.
    B2,
}

/// The fast numerical gradients, which [`Net`](crate::Net) runs; not public. The book's method is
/// [`TwoLayerNet::numerical_gradient`] in `two_layer_net.rs`.
impl<A: Scalar> TwoLayerNet<A> {
    /// The numerical gradient of the loss, fast and exact: the book's central differences
    /// (`h = 1e-4`, every parameter), each perturbed loss recomputed only where the parameter
    /// reaches (see this module). Milliseconds for the 784-50-10 net on a batch of 100, where
    /// the book's [`numerical_gradient`](Self::numerical_gradient) takes seconds. What
    /// `scratchnet train` runs by default. Equal to the book's within 1e-8 of the gradient's
    /// max-norm (tests `fast_equals_the_book_to_1e_8_of_the_max_norm`, and on real MNIST
    /// `fast_numerical_gradient_equals_the_books_on_a_real_batch`).
    ///
    /// # Panics
    /// If `x` and the targets do not fit the net (a clear message, see [`Targets::check`]).
    pub(crate) fn numerical_gradient_fast<'x, 't>(
        &self,
        x: impl Into<Input<'x, A>>,
        t: impl Into<Targets<'t, A>>,
    ) -> Grads<A> {
        numerical_gradient(&self.params, &x.into(), t.into())
    }

    /// The numerical gradient by the chosen strategy, the trainer's `--grad numeric`
    /// ([`Net::step`](crate::Net::step) with `Gradient::Numerical` or `NumericalBook`): for every
    /// parameter `θ`, `(L(θ + h) − L(θ − h)) / 2h` with `h = 1e-4`, rayon-parallel over
    /// parameters and bit-identical whatever the number of threads.
    ///
    /// (`numerical_gradient_with_runs_the_strategy_it_is_given`.)
    ///
    /// # Panics
    /// If `x` and the targets do not fit the net.
    pub(crate) fn numerical_gradient_with<'x, 't>(
        &self,
        x: impl Into<Input<'x, A>>,
        t: impl Into<Targets<'t, A>>,
        strategy: NumGrad,
    ) -> Grads<A> {
        let t = t.into();
        match strategy {
            NumGrad::Fast => numerical_gradient(&self.params, &x.into(), t),
            NumGrad::Generic => self.generic_numerical_gradient(&x.into(), t),
        }
    }

    /// The generic numerical gradient ([`NumGrad::Generic`]) of one parameter tensor: the book
    /// computes `grads['W1']`, `grads['b1']`, … one at a time exactly like this.
    ///
    /// (`one_tensor_of_the_generic_gradient_is_that_tensor_of_the_whole`.)
    ///
    /// # Panics
    /// If `x` and the targets do not fit the net.
    pub(crate) fn generic_numerical_gradient_of<'x, 't>(
        &self,
        x: impl Into<Input<'x, A>>,
        t: impl Into<Targets<'t, A>>,
        param: Param,
    ) -> ArrayD<A> {
        use scratchnet_numgrad::numerical_gradient;
        let (x, t) = (x.into(), t.into());
        t.check(x.dim().0, self.sizes().2);
        let p = &self.params;
        let (w1, b1, w2, b2) = (p.w1.view(), p.b1.view(), p.w2.view(), p.b2.view());
        let loss = |w1: ArrayView2<'_, A>,
                    b1: ArrayView1<'_, A>,
                    w2: ArrayView2<'_, A>,
                    b2: ArrayView1<'_, A>| {
            cross_entropy(&softmax(&logits(Weights { w1, b1, w2, b2 }, &x)), t)
        };
        match param {
            Param::W1 => {
                numerical_gradient(|w: ArrayView2<'_, A>| loss(w, b1, w2, b2), &w1).into_dyn()
            }
            Param::B1 => {
                numerical_gradient(|b: ArrayView1<'_, A>| loss(w1, b, w2, b2), &b1).into_dyn()
            }
            Param::W2 => {
                numerical_gradient(|w: ArrayView2<'_, A>| loss(w1, b1, w, b2), &w2).into_dyn()
            }
            Param::B2 => {
                numerical_gradient(|b: ArrayView1<'_, A>| loss(w1, b1, w2, b), &b2).into_dyn()
            }
        }
    }

    fn generic_numerical_gradient(&self, x: &Input<'_, A>, t: Targets<'_, A>) -> Grads<A> {
        let g = |p| self.generic_numerical_gradient_of(x.reborrow(), t, p);
        let fixed = "a parameter's gradient has its shape";
        Grads {
            w1: g(Param::W1).into_dimensionality().expect(fixed),
            b1: g(Param::B1).into_dimensionality().expect(fixed),
            w2: g(Param::W2).into_dimensionality().expect(fixed),
            b2: g(Param::B2).into_dimensionality().expect(fixed),
        }
    }
}

/// `eˣ − 1`. For the tiny arguments that `h = 1e-4` produces, its Taylor series to x⁵ (error
/// below x⁶/720 < 2e-21 for |x| < 1e-3, far under one ulp); `exp_m1` elsewhere.
#[inline]
fn expm1_small<A: Scalar>(x: A) -> A {
    if x.abs() < A::of_f64(SERIES_BELOW) {
        expm1_series(x)
    } else {
        x.exp_m1()
    }
}

/// Below this magnitude [`expm1_small`] and [`ln_near_one`] use their series.
const SERIES_BELOW: f64 = 1e-3;

/// `x + x²/2 + … + x⁵/120`.
#[inline(always)]
fn expm1_series<A: Scalar>(x: A) -> A {
    let c = |v: f64| A::of_f64(v);
    x * (A::one() + x * (c(0.5) + x * (c(1.0 / 6.0) + x * (c(1.0 / 24.0) + x * c(1.0 / 120.0)))))
}

/// `ln q` for `q` near 1: the series of `ln(1 + u)` to u⁵ when `|u| = |q − 1| < 1e-3` (error
/// below u⁶/6 < 2e-19), `ln` elsewhere. `q − 1` is exact there (Sterbenz).
#[inline]
fn ln_near_one<A: Scalar>(q: A) -> A {
    let u = q - A::one();
    if u.abs() < A::of_f64(SERIES_BELOW) {
        let c = |v: f64| A::of_f64(v);
        u * (A::one() - u * (c(0.5) - u * (c(1.0 / 3.0) - u * (c(0.25) - u * c(0.2)))))
    } else {
        q.ln()
    }
}

/// One sample's softmax state: logits shifted by their max, `eₖ = exp(aₖ − m)` and `S = Σ eₖ`.
/// A perturbed sample scales each `eₖ` by `exp(Δaₖ)`; the shift cancels in the softmax.
struct SampleExp<A> {
    e: Vec<A>,
    sum: A,
}

impl<A: Scalar> SampleExp<A> {
    fn new(logits: ArrayView1<'_, A>) -> Self {
        let m = logits.iter().copied().fold(A::neg_infinity(), A::max);
        let e: Vec<A> = logits.iter().map(|&l| (l - m).exp()).collect();
        let sum = e.iter().copied().sum();
        Self { e, sum }
    }
}

/// Per-sample cross-entropy `−Σₖ tₖ ln(yₖ + δ)` from `(eₖ, S)`, for label or dense targets.
enum SampleLoss<'a, A> {
    Labels(Vec<usize>),
    Dense(ArrayView2<'a, A>),
}

impl<'a, A: Scalar> SampleLoss<'a, A> {
    fn new(t: Targets<'a, A>) -> Self {
        match t {
            Targets::Labels(l) => SampleLoss::Labels(l.to_vec()),
            Targets::OneHot(t) => {
                // Exact one-hot rows give the label form's sum: every other term is 0·ln(..) = 0.
                let one_hot = t.rows().into_iter().all(|r| {
                    r.iter().filter(|&&v| v == A::one()).count() == 1
                        && r.iter().all(|&v| v == A::zero() || v == A::one())
                });
                if one_hot {
                    SampleLoss::Labels(scratchnet_tensor::argmax_rows(&t))
                } else {
                    SampleLoss::Dense(t)
                }
            }
        }
    }

    /// `lₙ⁺ − lₙ⁻` for sample `n`, from its exponentials and their sums after the `+h` and the
    /// `−h` perturbation: `−Σₖ tₖ ln((yₖ⁺ + δ)/(yₖ⁻ + δ))`, one logarithm of a ratio near 1
    /// instead of the difference of two logarithms near 2.3 (same value, less rounding).
    #[inline]
    fn diff(&self, n: usize, (ep, sp): (&[A], A), (em, sm): (&[A], A)) -> A {
        let delta = A::of_f64(CE_DELTA);
        let term = |k: usize| ln_near_one((ep[k] / sp + delta) / (em[k] / sm + delta));
        match self {
            SampleLoss::Labels(l) => -term(l[n]),
            SampleLoss::Dense(t) => {
                let mut acc = A::zero();
                for (k, &tk) in t.row(n).iter().enumerate() {
                    if tk != A::zero() {
                        acc += tk * term(k);
                    }
                }
                -acc
            }
        }
    }
}

/// Non-zero entries of one input row, grouped by equal value: `(value, columns)`.
fn value_groups<A: Scalar>(nonzeros: Vec<(usize, A)>) -> Vec<(A, Vec<usize>)> {
    let mut nz: Vec<(A, usize)> = nonzeros.into_iter().map(|(i, v)| (v, i)).collect();
    nz.sort_by(|a, b| {
        a.0.partial_cmp(&b.0)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.1.cmp(&b.1))
    });
    let mut groups: Vec<(A, Vec<usize>)> = Vec::new();
    for (v, i) in nz {
        match groups.last_mut() {
            // NaN never equals itself, so each NaN pixel stays its own group, as in the plain method.
            Some((gv, cols)) if *gv == v => cols.push(i),
            _ => groups.push((v, vec![i])),
        }
    }
    groups
}

/// Everything of hidden unit `j`, each still as `Σₙ (lₙ⁺ − lₙ⁻)`: column `j` of ∂L/∂W1,
/// ∂L/∂b1[j] and row `j` of ∂L/∂W2.
struct UnitSums<A> {
    w1_col: Vec<A>,
    b1: A,
    w2_row: Vec<A>,
}

/// The fast numerical gradient (see the module).
fn numerical_gradient<A: Scalar>(p: &Params<A>, x: &Input<'_, A>, t: Targets<'_, A>) -> Grads<A> {
    let (input, hidden, output) = p.sizes();
    let (n, cols) = x.dim();
    assert_eq!(cols, input, "x must have one column per input");
    t.check(n, output);
    let loss = SampleLoss::new(t);
    let h = A::of_f64(H);

    let a1 = x.affine(&p.w1, &p.b1);
    let z1 = sigmoid(&a1);
    let a2 = affine(&z1, &p.w2, &p.b2);
    let exps: Vec<SampleExp<A>> = a2.axis_iter(Axis(0)).map(SampleExp::new).collect();
    let groups: Vec<Vec<(A, Vec<usize>)>> = (0..n)
        .into_par_iter()
        .map(|r| value_groups(x.row_nonzeros(r)))
        .collect();

    let units: Vec<UnitSums<A>> = (0..hidden)
        .into_par_iter()
        .map(|j| {
            let w2j = p.w2.row(j);
            let w2j_max = w2j.iter().fold(A::zero(), |m, w| m.max(w.abs()));
            let small = A::of_f64(SERIES_BELOW);
            let (mut ep, mut em) = (vec![A::zero(); output], vec![A::zero(); output]);
            // Sample s with a1[s][j] moved by d: z moves by
            // σ(a + d) − σ(a) = z(1 − z)(eᵈ − 1) / (1 + z(eᵈ − 1)), each logit k by that times
            // W2[j][k], so each eₖ is scaled by exp(Δz·W2[j][k]). Fills `e`, returns the new sum.
            let hidden_moved = |s: usize, d: A, e: &mut [A]| {
                let z = z1[[s, j]];
                let em1 = expm1_small(d);
                let dz = z * (A::one() - z) * em1 / (A::one() + z * em1);
                let mut sum = A::zero();
                if dz.abs() * w2j_max < small {
                    // every argument is small: the branch-free series, which vectorises
                    for ((ek, &bk), &w) in e.iter_mut().zip(&exps[s].e).zip(w2j) {
                        *ek = bk + bk * expm1_series(dz * w);
                    }
                } else {
                    for ((ek, &bk), &w) in e.iter_mut().zip(&exps[s].e).zip(w2j) {
                        *ek = bk + bk * expm1_small(dz * w);
                    }
                }
                for &ek in e.iter() {
                    sum += ek;
                }
                sum
            };
            let mut pair = |s: usize, d: A| {
                let sp = hidden_moved(s, d, &mut ep);
                let sm = hidden_moved(s, -d, &mut em);
                loss.diff(s, (&ep, sp), (&em, sm))
            };
            let mut w1_col = vec![A::zero(); input];
            let mut b1 = A::zero();
            for (s, sample_groups) in groups.iter().enumerate() {
                for (v, cols) in sample_groups {
                    let d = pair(s, *v * h);
                    for &i in cols {
                        w1_col[i] += d;
                    }
                }
                b1 += pair(s, h);
            }
            let w2_row = (0..output)
                .map(|k| {
                    (0..n)
                        .map(|s| {
                            logit_moved(&loss, &exps[s], s, k, z1[[s, j]] * h, &mut ep, &mut em)
                        })
                        .sum()
                })
                .collect();
            UnitSums { w1_col, b1, w2_row }
        })
        .collect();

    let (mut ep, mut em) = (vec![A::zero(); output], vec![A::zero(); output]);
    let b2 = Array1::from_shape_fn(output, |k| {
        (0..n)
            .map(|s| logit_moved(&loss, &exps[s], s, k, h, &mut ep, &mut em))
            .sum()
    });

    // (L⁺ − L⁻)/2h with L = Σₙ lₙ / N, in the book's order: the mean first, then the quotient.
    let nn = A::of_f64(n as f64);
    let q = |sum: A| sum / nn / (h + h);
    let w1 = Array2::from_shape_fn((input, hidden), |(i, j)| q(units[j].w1_col[i]));
    let b1 = Array1::from_shape_fn(hidden, |j| q(units[j].b1));
    let w2 = Array2::from_shape_fn((hidden, output), |(j, k)| q(units[j].w2_row[k]));
    Grads {
        w1,
        b1,
        w2,
        b2: b2.mapv(q),
    }
}

/// `lₛ⁺ − lₛ⁻` when logit `k` of sample `s` moves by `±d`.
fn logit_moved<A: Scalar>(
    loss: &SampleLoss<'_, A>,
    base: &SampleExp<A>,
    s: usize,
    k: usize,
    d: A,
    ep: &mut [A],
    em: &mut [A],
) -> A {
    let moved = |d: A, e: &mut [A]| {
        e.copy_from_slice(&base.e);
        let de = base.e[k] * expm1_small(d);
        e[k] += de;
        base.sum + de
    };
    let sp = moved(d, ep);
    let sm = moved(-d, em);
    loss.diff(s, (ep, sp), (em, sm))
}
