//! Numerical differentiation (Deep Learning from Scratch §4.3–§4.4): central differences,
//! numerical gradients of functions of whole arrays (rayon-parallel over the elements),
//! gradient descent and tangent lines.
//!
//! | notebook | here |
//! |---|---|
//! | §4.3.1 `numerical_diff` (forward difference) | [`numerical_diff_forward`]; the book's improved central difference is [`numerical_diff`] |
//! | §4.3.2 tangent line of `function_1` | [`tangent_line`] |
//! | §4.4 `numerical_gradient(f, x)` | [`numerical_gradient`] (parallel), [`numerical_gradient_serial`] |
//! | §4.4 `numerical_gradient(f, X)` batch branch (gradient field) | [`numerical_gradient_points`] |
//! | §4.4.1 `gradient_descent` / `gradient_descent_dr` | [`gradient_descent`] |
//! | §4.3.2 `function_1`, §4.3.3/§4.4 `function_2` (one point, or `axis=1` for a batch) | [`function_1`], [`function_2`], [`function_2_rows`] |
//!
//! ```
//! use ndarray::{array, ArrayView1};
//! use scratchnet_numgrad::numerical_gradient;
//!
//! // f(x0, x1) = x0² + x1², the notebook's function_2: ∇f(3, 4) = (6, 8).
//! // A closure stored in a `let` first needs its argument type written out, `ArrayView1<f64>`
//! // (`ArrayView2<f64>` for a matrix, `ArrayViewD<f64>` for any shape): see below.
//! let function_2 = |x: ArrayView1<f64>| x.mapv(|v| v * v).sum();
//! let g = numerical_gradient(function_2, &array![3.0, 4.0]);
//! assert!((g[0] - 6.0).abs() < 1e-9 && (g[1] - 8.0).abs() < 1e-9);
//! ```
//!
//! # Writing `f`
//! `f` receives a view of the perturbed array, valid for the one call: its type is
//! `ArrayView<'_, A, D>` for *every* lifetime. Passed straight to [`numerical_gradient`], a
//! closure gets that signature from the call; stored in a `let` first, it gets it only from an
//! annotation on its argument. Without one, as in `let f = |_x| 1.0;`, the compiler says
//! "implementation of `Fn` is not general enough":
//!
//! ```compile_fail
//! # use ndarray::array;
//! let f = |_x| 1.0;
//! scratchnet_numgrad::numerical_gradient(f, &array![3.0, 4.0]); // error: not general enough
//! ```
//!
//! **`f` must compute from the array it is given.** The book's `f = lambda W: net.loss(x, t)`
//! ignores its argument and still works, because `net.W` *is* the array that numpy's
//! `numerical_gradient` perturbs in place. Nothing aliases that way in Rust: the same closure
//! ported as `|_w| net.loss(&x, &t)` sees the unperturbed weights every time and returns an
//! all-zero gradient, without a warning. Evaluate the loss at `w`:
//!
//! ```
//! use ndarray::{array, ArrayView1};
//! use scratchnet_numgrad::numerical_gradient;
//! struct Net { w: ndarray::Array1<f64> }
//! impl Net {
//!     fn loss(&self) -> f64 { Self::loss_at(self.w.view()) }
//!     fn loss_at(w: ArrayView1<f64>) -> f64 { w.dot(&w) }
//! }
//! let net = Net { w: array![1.0, -2.0] };
//! // the literal port of the book: an all-zero gradient
//! let wrong = numerical_gradient(|_w: ArrayView1<f64>| net.loss(), &net.w);
//! assert_eq!(wrong, array![0.0, 0.0]);
//! // the Rust way: the loss at the perturbed weights `w`
//! let right = numerical_gradient(|w: ArrayView1<f64>| Net::loss_at(w), &net.w);
//! assert!((right[0] - 2.0).abs() < 1e-9 && (right[1] + 4.0).abs() < 1e-9);
//! ```
//!
//! The networks do this for you: `SimpleNet::numerical_gradient` and
//! `TwoLayerNet::numerical_gradient` in `scratchnet-network`.
//!
//! # Precision
//! Everything is generic over [`Scalar`], but with `h = 1e-4` a difference quotient divides the
//! rounding error of `f` by `2h`: in `f64` that is around `1e-12·|f|`, in `f32` around `1e-3·|f|`.
//! Use `f64` for numerical gradients; `f32` works but only to two or three digits.

use ndarray::{
    Array, Array1, Array2, ArrayBase, ArrayView, ArrayView1, Axis, Data, Dimension, Ix2, Zip,
};
use rayon::prelude::*;
use scratchnet_tensor::Scalar;

/// The step `h = 1e-4` of every difference quotient here (the book's choice: small enough for a
/// good slope, large enough that `x + h` is not rounded back to `x`).
///
/// ```
/// assert_eq!(scratchnet_numgrad::H, 1e-4);
/// ```
pub const H: f64 = 1e-4;

/// Central difference `f'(x) ≈ (f(x + h) − f(x − h)) / 2h` with `h` = [`H`].
///
/// The error is `O(h²)`; for a quadratic it is exact up to rounding. This is the book's
/// improvement of the notebook's forward difference ([`numerical_diff_forward`]). For the
/// notebook's `function_1`, written as it writes it (`0.01*(x**2) + 0.1*x`), in `f64` it
/// returns exactly the book's printed `0.1999999999990898` (x = 5) and `0.2999999999986347`
/// (x = 10). The rounding depends on how `f` is written: `0.01 * x * x + 0.1 * x`, which
/// multiplies `0.01 * x` first, gives `0.2999999999997449` at x = 10.
///
/// ```
/// use scratchnet_numgrad::numerical_diff;
/// let function_1 = |x: f64| 0.01 * (x * x) + 0.1 * x;
/// assert_eq!(numerical_diff(function_1, 5.0), 0.1999999999990898);
/// assert_eq!(numerical_diff(function_1, 10.0), 0.2999999999986347);
/// assert_eq!(numerical_diff(|x: f64| 0.01 * x * x + 0.1 * x, 10.0), 0.2999999999997449);
/// ```
pub fn numerical_diff<A: Scalar>(f: impl Fn(A) -> A, x: A) -> A {
    let h = A::of_f64(H);
    (f(x + h) - f(x - h)) / (h + h)
}

/// Forward difference `f'(x) ≈ (f(x + h) − f(x)) / h` with `h` = [`H`]: the notebook's §4.3.1
/// `numerical_diff`, kept under its own name because it is the worse one.
///
/// Its error is `O(h)`: for the notebook's `function_1 = 0.01x² + 0.1x` it returns
/// `0.02x + 0.1 + 0.01h`, i.e. `0.200001` at `x = 5` where [`numerical_diff`] gives `0.2`.
///
/// The notebook's remark on `float32` is about the other error, rounding: a tiny `h` such as
/// `1e-50` is exactly `0` in `f32` (and `x + 1e-50 == x` in `f64`), so the quotient is `0/0`.
/// With `h = 1e-4` the rounding error is small in `f64` but dominates in `f32`: at `x = 5` both
/// the forward and the central difference give `0.2002716` in `f32` (`5.0001` is not
/// representable and `f` is rounded to 24 bits before the division by `h`).
///
/// ```
/// use scratchnet_numgrad::{numerical_diff, numerical_diff_forward};
/// let function_1 = |x: f64| 0.01 * (x * x) + 0.1 * x;
/// let forward = numerical_diff_forward(function_1, 5.0);
/// assert!((forward - 0.200001).abs() < 1e-10);
/// assert!((numerical_diff(function_1, 5.0) - 0.2).abs() < (forward - 0.2).abs());
/// ```
pub fn numerical_diff_forward<A: Scalar>(f: impl Fn(A) -> A, x: A) -> A {
    let h = A::of_f64(H);
    (f(x + h) - f(x)) / h
}

/// The book's `function_1(x) = 0.01*(x**2) + 0.1*x` (§4.3.2), written in the book's order of
/// operations, so its difference quotients round as the book's printouts do.
///
/// ```
/// use scratchnet_numgrad::{function_1, numerical_diff};
/// assert_eq!(function_1(10.0f64), 2.0);
/// assert_eq!(numerical_diff(function_1, 5.0f64), 0.1999999999990898);
/// ```
pub fn function_1<A: Scalar>(x: A) -> A {
    A::of_f64(0.01) * (x * x) + A::of_f64(0.1) * x
}

/// The book's `function_2(x) = np.sum(x**2)` of one point (§4.3.3, §4.4): `x0² + x1² + …`.
/// Pass it straight to [`numerical_gradient`] or [`gradient_descent`].
///
/// ```
/// use ndarray::array;
/// use scratchnet_numgrad::{function_2, numerical_gradient};
/// assert_eq!(function_2(array![3.0, 4.0].view()), 25.0);
/// let g = numerical_gradient(function_2, &array![3.0f64, 4.0]);
/// assert!((g[0] - 6.0).abs() < 1e-9 && (g[1] - 8.0).abs() < 1e-9);
/// ```
pub fn function_2<A: Scalar>(x: ArrayView1<'_, A>) -> A {
    x.iter().fold(A::zero(), |s, &v| s + v * v)
}

/// The book's `function_2` for a batch of points, one per row: `np.sum(x**2, axis=1)`, the
/// branch its §4.4 code takes for `x.ndim > 1`. Used for the surface of figure 4-8.
///
/// ```
/// use ndarray::array;
/// use scratchnet_numgrad::function_2_rows;
/// let points = array![[3.0, 4.0], [0.0, 2.0], [-1.5, 0.5]];
/// assert_eq!(function_2_rows(points.view()), array![25.0, 4.0, 2.5]);
/// ```
pub fn function_2_rows<A: Scalar>(x: ndarray::ArrayView2<'_, A>) -> Array1<A> {
    x.map_axis(Axis(1), function_2)
}

/// The tangent line `y = slope·t + intercept` of a function at a point (§4.3.2).
///
/// ```
/// use scratchnet_numgrad::TangentLine;
/// let l = TangentLine { slope: 2.0, intercept: -1.0 };
/// assert_eq!(l.at(3.0), 5.0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TangentLine<A> {
    /// `f'(x)`, by [`numerical_diff`].
    pub slope: A,
    /// `f(x) − slope·x`, so that the line passes through `(x, f(x))`.
    pub intercept: A,
}

impl<A: Scalar> TangentLine<A> {
    /// The line's value at `t`: `slope·t + intercept`.
    ///
    /// ```
    /// let l = scratchnet_numgrad::tangent_line(|x: f64| x * x, 1.0);
    /// assert!((l.at(1.0) - 1.0).abs() < 1e-12 && (l.at(2.0) - 3.0).abs() < 1e-8);
    /// ```
    pub fn at(&self, t: A) -> A {
        self.slope * t + self.intercept
    }
}

/// The tangent line of `f` at `x`, its slope by the central difference [`numerical_diff`]:
/// the book's `tangent_line(f, x)` for `function_1`.
///
/// ```
/// use scratchnet_numgrad::tangent_line;
/// let function_1 = |x: f64| 0.01 * (x * x) + 0.1 * x;
/// let l = tangent_line(function_1, 5.0);
/// assert!((l.slope - 0.2).abs() < 1e-10 && (l.intercept + 0.25).abs() < 1e-9);
/// ```
pub fn tangent_line<A: Scalar>(f: impl Fn(A) -> A, x: A) -> TangentLine<A> {
    let slope = numerical_diff(&f, x);
    TangentLine {
        slope,
        intercept: f(x) - slope * x,
    }
}

/// A copy of `x` in standard (row-major, contiguous) layout, so that element `i` is slice index `i`
/// and the gradient comes out in the logical order of `x` whatever its strides.
fn contiguous_copy<A, S, D>(x: &ArrayBase<S, D>) -> Array<A, D>
where
    A: Scalar,
    S: Data<Elem = A>,
    D: Dimension,
{
    x.as_standard_layout().into_owned()
}

/// The central difference in coordinate `i` of `xc` (standard layout), leaving `xc` exactly as
/// it was: the original value is stored and written back, not recomputed as `(x + h) − h`.
fn partial_at<A, D, F>(f: &F, xc: &mut Array<A, D>, i: usize, h: A) -> A
where
    A: Scalar,
    D: Dimension,
    F: Fn(ArrayView<'_, A, D>) -> A,
{
    let orig = xc.as_slice().expect("standard layout")[i];
    xc.as_slice_mut().expect("standard layout")[i] = orig + h;
    let f1 = f(xc.view());
    xc.as_slice_mut().expect("standard layout")[i] = orig - h;
    let f2 = f(xc.view());
    xc.as_slice_mut().expect("standard layout")[i] = orig;
    (f1 - f2) / (h + h)
}

/// The numerical gradient `∂f/∂x` of a scalar function of a whole array, by central differences:
/// for every element `x_i`, `(f(x with x_i + h) − f(x with x_i − h)) / 2h`, `h` = [`H`].
///
/// Runs in parallel over the elements with rayon. Each worker perturbs its own copy of `x` one
/// element at a time and restores that element exactly afterwards, so `f` always sees `x` with
/// exactly one element moved by `±h`, and the result is identical bit for bit to
/// [`numerical_gradient_serial`] whatever the number of threads (provided `f` itself is a
/// deterministic function of its argument). Costs `2·x.len()` calls of `f`.
///
/// The result has the shape of `x` in standard layout. Unlike the notebook's version, a 2-D `x`
/// is treated as one point (every element a variable, like the book's `common/gradient.py`);
/// for one gradient per row see [`numerical_gradient_points`].
///
/// A closure stored in a `let` before the call needs its argument type written out
/// (`|w: ArrayView2<f64>| …`), and it must compute from that `w`, not from a copy of the
/// weights it captured: see [Writing `f`](crate#writing-f).
///
/// ```
/// use ndarray::{array, ArrayView2};
/// use scratchnet_numgrad::numerical_gradient;
/// // f(W) = Σ w³ has ∂f/∂w = 3w².
/// let w = array![[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]];
/// let g = numerical_gradient(|w: ArrayView2<f64>| w.mapv(|v| v * v * v).sum(), &w);
/// for (gi, wi) in g.iter().zip(&w) {
///     assert!((gi - 3.0 * wi * wi).abs() < 1e-6);
/// }
/// ```
pub fn numerical_gradient<A, S, D, F>(f: F, x: &ArrayBase<S, D>) -> Array<A, D>
where
    A: Scalar,
    S: Data<Elem = A>,
    D: Dimension,
    F: Fn(ArrayView<'_, A, D>) -> A + Sync,
{
    let h = A::of_f64(H);
    let base = contiguous_copy(x);
    let grads: Vec<A> = (0..base.len())
        .into_par_iter()
        .map_init(|| base.clone(), |xc, i| partial_at(&f, xc, i, h))
        .collect();
    Array::from_shape_vec(x.raw_dim(), grads).expect("one partial derivative per element")
}

/// [`numerical_gradient`] in a plain loop on the calling thread: the same formula on the same
/// inputs, so the same bits. For comparison in tests and benchmarks, and for callers already
/// running inside a parallel loop.
///
/// ```
/// use ndarray::{array, ArrayView1};
/// use scratchnet_numgrad::{numerical_gradient, numerical_gradient_serial};
/// let f = |x: ArrayView1<f64>| x[0].sin() * x[1];
/// let x = array![0.3, -1.2];
/// assert_eq!(numerical_gradient_serial(f, &x), numerical_gradient(f, &x));
/// ```
pub fn numerical_gradient_serial<A, S, D, F>(f: F, x: &ArrayBase<S, D>) -> Array<A, D>
where
    A: Scalar,
    S: Data<Elem = A>,
    D: Dimension,
    F: Fn(ArrayView<'_, A, D>) -> A + Sync,
{
    let h = A::of_f64(H);
    let mut xc = contiguous_copy(x);
    let grads: Vec<A> = (0..xc.len())
        .map(|i| partial_at(&f, &mut xc, i, h))
        .collect();
    Array::from_shape_vec(x.raw_dim(), grads).expect("one partial derivative per element")
}

/// The gradient of `f` at many points at once: row `n` of the result is `∇f(points[n])`.
///
/// This is the notebook's `numerical_gradient(f, X)` batch branch, used for the gradient field
/// of §4.4. Parallel over the points (each point's gradient computed serially), so bit-identical
/// whatever the thread count.
///
/// Layout: here each **row** is a point, shape `(N, dim)`. The notebook's cell passes
/// `np.array([X, Y])`, shape `(2, N)`, and reads `grad[0]`, `grad[1]`; its batch branch then
/// treats all `N` x-coordinates as one point of `R^N`, which gives the right arrows only because
/// `x0² + x1²` is a sum of squares. To get the notebook's `grad[0]` and `grad[1]`, pass the
/// points as rows (the transpose, `stack(Axis(1), &[X, Y])`) and read `grad.column(0)` and
/// `grad.column(1)`.
///
/// ```
/// use ndarray::{array, ArrayView1};
/// use scratchnet_numgrad::numerical_gradient_points;
/// let function_2 = |x: ArrayView1<f64>| x[0] * x[0] + x[1] * x[1];
/// let points = array![[3.0, 4.0], [0.0, 2.0], [3.0, 0.0]];
/// let grad = numerical_gradient_points(function_2, &points);
/// let want = array![[6.0, 8.0], [0.0, 4.0], [6.0, 0.0]];
/// assert!(grad.iter().zip(&want).all(|(g, w)| (g - w).abs() < 1e-9));
/// ```
pub fn numerical_gradient_points<A, S, F>(f: F, points: &ArrayBase<S, Ix2>) -> Array2<A>
where
    A: Scalar,
    S: Data<Elem = A>,
    F: Fn(ArrayView1<'_, A>) -> A + Sync,
{
    let mut grad = Array2::zeros(points.raw_dim());
    Zip::from(grad.rows_mut())
        .and(points.rows())
        .par_for_each(|mut g, p| g.assign(&numerical_gradient_serial(&f, &p)));
    grad
}

/// The result of [`gradient_descent`]: the final point and every point visited.
///
/// ```
/// use ndarray::{array, ArrayView1};
/// let d = scratchnet_numgrad::gradient_descent(|x: ArrayView1<f64>| x.dot(&x), &array![1.0], 0.25, 2);
/// assert_eq!(d.trajectory.len(), 3);
/// assert_eq!(d.trajectory.last(), Some(&d.x));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Descent<A, D: Dimension> {
    /// The point after the last step.
    pub x: Array<A, D>,
    /// `steps + 1` points: the initial point, then the point after each step (the last equals
    /// [`x`](Self::x)). The notebook's `tmp` of `gradient_descent_dr` (the points *before* each
    /// step) is `trajectory[..steps]`.
    pub trajectory: Vec<Array<A, D>>,
}

/// Gradient descent with numerical gradients: `steps` times, `x ← x − lr·∇f(x)` with
/// ∇f by [`numerical_gradient`] (§4.4.1).
///
/// `init` is not modified (the notebook's version updates `init_x` in place through numpy
/// aliasing, which is why its cells re-create `init_x` before every call).
///
/// `lr` is an `f64`, like every hyper-parameter in scratchnet, rounded to `A` once.
///
/// Too large a rate diverges; too small a rate barely moves. On `f = x0² + x1²` the exact
/// update is `x ← (1 − 2·lr)·x`, so after `k` steps `x = (1 − 2·lr)^k · init`.
///
/// ```
/// use ndarray::{array, ArrayView1};
/// use scratchnet_numgrad::gradient_descent;
/// let function_2 = |x: ArrayView1<f64>| x[0] * x[0] + x[1] * x[1];
/// let d = gradient_descent(function_2, &array![-3.0, 4.0], 0.01, 100);
/// let k = 0.98f64.powi(100);
/// assert!((d.x[0] + 3.0 * k).abs() < 1e-9 && (d.x[1] - 4.0 * k).abs() < 1e-9);
/// ```
pub fn gradient_descent<A, S, D, F>(
    f: F,
    init: &ArrayBase<S, D>,
    lr: f64,
    steps: usize,
) -> Descent<A, D>
where
    A: Scalar,
    S: Data<Elem = A>,
    D: Dimension,
    F: Fn(ArrayView<'_, A, D>) -> A + Sync,
{
    let lr = A::of_f64(lr);
    let mut x = init.to_owned();
    let mut trajectory = Vec::with_capacity(steps + 1);
    trajectory.push(x.clone());
    for _ in 0..steps {
        let grad = numerical_gradient(&f, &x);
        Zip::from(&mut x)
            .and(&grad)
            .for_each(|xi, &gi| *xi -= lr * gi);
        trajectory.push(x.clone());
    }
    Descent { x, trajectory }
}
