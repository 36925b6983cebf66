"""Writes ch04.ipynb (the cells, without outputs): `python3 notebooks/make_ch04.py`.

The notebook is the seed notebook of chapter 4 cell by cell, in Rust. Edit the cells here, then
run `cargo xtask notebook --update` to execute it and commit it with its outputs.
"""
import json
import os

cells = []


def md(text):
    cells.append({"cell_type": "markdown", "metadata": {}, "source": text.strip("\n")})


def code(text, tags=()):
    meta = {"tags": list(tags)} if tags else {}
    cells.append({"cell_type": "code", "metadata": meta, "execution_count": None,
                  "outputs": [], "source": text.strip("\n")})


md(r"""
# 밑바닥부터 시작하는 딥러닝 4장: 신경망 학습 — in Rust
*Deep Learning from Scratch*, chapter 4 (neural network training), the seed notebook cell by cell
on the Rust kernel (evcxr), against the crates of this repository. Each heading and note is the
seed's Korean text, with an English line beside it. Where the seed has a slip, a cell says so and
runs what the book means.

**Before you run it.** `cargo xtask notebook --open` installs everything into one cache folder
(the Rust kernel evcxr, JupyterLab, MNIST) and opens this notebook in JupyterLab on 127.0.0.1.
- The first code cell compiles the crates the notebook uses (ndarray, plotters, rayon and the six
  crates of this workspace, optimised): several minutes the first time on a 2-core machine, a few
  seconds after that, because the kernel keeps its build folder in the cache. Only one Rust
  kernel at a time uses that folder; a second one compiles in a temporary folder of its own.
- The training cells use the numerical gradient as the seed does: §4.5.2 (1000 iterations) takes
  about 2 minutes and §4.5.3 (10,000 iterations and an accuracy line per epoch) about 16 minutes.
  In a hurry? In both loops, swap the comment on the gradient line for the seed's commented-out
  one, backprop (the book's chapter 5), and they take seconds:

  ```rust
  let grad = network.gradient(x_batch.reborrow(), t_batch, &mut rng); // 오차 역전파 성능 더 좋음 (backprop: faster)
  ```
""")

code(r"""
// The seed's imports (numpy, matplotlib): here the crates of the workspace, by path. evcxr
// compiles them optimised (its default, opt-level 2); plotters comes re-exported by the plot
// crate, so its version and features are the workspace's.
:dep ndarray = "0.17.2"
:dep scratchnet-tensor = { path = "../crates/tensor" }
:dep scratchnet-functions = { path = "../crates/functions" }
:dep scratchnet-numgrad = { path = "../crates/numgrad" }
:dep scratchnet-network = { path = "../crates/network" }
:dep scratchnet-mnist = { path = "../crates/mnist" }
:dep scratchnet-plot = { path = "../crates/plot" }

use ndarray::{array, Array1, Array2, ArrayView1, ArrayView2, Axis};
use scratchnet_plot::plotters::prelude::*;
// show: plt.show(); legend, legend_line: plt.legend(); quiver: plt.quiver()
use scratchnet_plot::{chart, legend, legend_line, quiver, show, Area, DrawResult, Scale, PALETTE};
use std::time::Instant;

/// A shape as NumPy prints it: `(60000, 784)`, and `(100,)` for one axis.
fn shape(s: &[usize]) -> String {
    match s {
        [n] => format!("({n},)"),
        _ => format!("({})", s.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(", ")),
    }
}

/// The shape of a label set, as NumPy's `t_train.shape`: `(N, 10)` one-hot, `(N,)` indices.
fn label_shape<A>(labels: &scratchnet_mnist::Labels<A>) -> String {
    match labels {
        scratchnet_mnist::Labels::OneHot(t) => shape(t.shape()),
        scratchnet_mnist::Labels::Index(v) => shape(&[v.len()]),
    }
}
println!("ready: the crates are compiled");
""")

md(r"""
# 손실함수
*Loss functions*

## 4.2.1 오차제곱합  
*Sum of squared errors*  
$E = {1 \over 2}\sum_{k}^{}{(y_{k}-t_{k})^2}$
""")

code(r"""
let y = array![0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0];
let t = array![0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0];
""")

code(r"""
use scratchnet_functions::sum_squared_error; // 0.5 * Σ (y - t)²
println!("{}", sum_squared_error(&y, &t));
""")

md(r"""
## 4.2.2 교차 엔트로피 오차
*Cross-entropy error*  
$E = -\sum_{k}^{}{t_{k}logy_{k}}$
""")

code(r"""
use scratchnet_functions::cross_entropy_error; // -Σ t·log(y + 1e-7), the δ = 1e-7 inside the log
// delta = 1e-7: if y == 0, log(0) == -inf이기 때문 (because log(0) is -inf)
println!("{}", cross_entropy_error(&y, &t));
""")

md(r"""
## 4.2.3 미니 배치 학습
모든 데이터 말고 일부를 추려 전체의 '근사치'로 학습하자.  
*Mini-batch learning: train on a random part of the data as an approximation of the whole.*

MNIST is read from `$MNIST_DIR`, else `../data/mnist` (`cargo xtask fetch-mnist` downloads it).
""")

code(r"""
use scratchnet_mnist::{load_mnist, default_dir_in, LoadOptions, random_batch};
let opts = LoadOptions { normalize: true, one_hot_label: true, ..Default::default() };
// (x_train, t_train), (x_test, t_test) are data.train.images, data.train.labels, data.test.*
let data = load_mnist::<f64>(default_dir_in(".."), opts).expect("MNIST (cargo xtask fetch-mnist)");
println!("{}", shape(data.train.images.shape())); // x_train.shape
println!("{}", label_shape(&data.train.labels)); // t_train.shape
""")

code(r"""
// np.random.choice(train_size, batch_size): 10 random indices, drawn with replacement
let mut rng: scratchnet_tensor::Rng = scratchnet_tensor::rng_from_seed(42);
let train_size = data.train.len();
let batch_size = 10;
let batch_mask: Vec<usize> = random_batch(&mut rng, train_size, batch_size); // 이는 데이터셋중 무작위 10개 추출위한 인덱스 (indices of 10 random examples)
let batch: scratchnet_mnist::Split<f64> = data.train.batch(&batch_mask); // x_batch = batch.images, t_batch = batch.labels
println!("batch_mask = {batch_mask:?}");
println!("x_batch {}, t_batch {}", shape(batch.images.shape()), label_shape(&batch.labels));
""")

md(r"""
## 4.2.4 교차 엔트로피 오차 구현  
*Cross-entropy for a batch: the mean over the N examples*  
$E = -{1 \over N} \sum_{n}^{}{\sum_{k}^{}{t_{nk}logy_{nk}}}$  

- one-hot encoding 되어있는 데이터일 때  
  *when the targets are one-hot*
""")

code(r"""
// The same function: a 1-D y is one example (the seed's reshape(1, size)); a 2-D y is a batch
// and the sum is divided by its batch size.
println!("{}", cross_entropy_error(&y, &t));
let y_batch = ndarray::stack(Axis(0), &[y.view(), y.view()]).unwrap();
let t_batch = ndarray::stack(Axis(0), &[t.view(), t.view()]).unwrap();
println!("{}  (the same example twice, divided by 2)", cross_entropy_error(&y_batch, &t_batch));
""")

md(r"""
- one-hot encoding 안되어있을 때(label-encoding)  
  *when the targets are labels (class indices), not one-hot*
  
    t*np.log(y) 를 np.log(y[np.arange(batch_size), t] + 1e-7) 로 변경  
    *replace `t*np.log(y)` by `np.log(y[np.arange(batch_size), t] + 1e-7)`*

**A slip in the seed's cell:** it calls the label version with the one-hot `t` of §4.2.1, so
`y[np.arange(1), t]` picks `y[0]` nine times and `y[1]` once (the ten 0s and 1s of `t` read as
indices) and returns about 23.72. The book means the label `t = 2`, which gives the same
0.510825457099338 as the one-hot version. Both below.
""")

code(r"""
use scratchnet_functions::cross_entropy_error_labels; // -Σ log(y[n, t_n] + 1e-7) / N
let y_row = y.clone().insert_axis(Axis(0)); // y.reshape(1, y.size)
println!("label t = 2: {}", cross_entropy_error_labels(&y_row, &[2]));
// the seed's cell: the one-hot t used as ten indices into y
let seed_indices: Vec<usize> = t.iter().map(|&v| v as usize).collect();
let seed_value: f64 = -seed_indices.iter().map(|&i| (y[i] + 1e-7).ln()).sum::<f64>();
println!("the seed's cell (one-hot t as indices {seed_indices:?}): {seed_value}");
""")

md(r"""
## 4.2.5 왜 손실함수를 설정하는가?  
정확도를 지표로 삼는 다면 불연속적이기 때문에 미분이 불가능함. 그래서 미분이 가능한 손실함수를 지표로 사용해야한다.  
*Why a loss function? Accuracy changes in steps, so its derivative is zero almost everywhere;
training needs a differentiable measure, the loss.*

# 4.3 수치미분
*Numerical differentiation*

## 4.3.1 미분
*Derivatives*

- 수치 미분  
  *numerical differentiation*

x 와 x+h인 지점에서의 평균 기울기를 의미  
*the mean slope between x and x + h*
""")

code(r"""
// def numerical_diff(f, x): h = 1e-4; return (f(x+h) - f(x)) / h
fn numerical_diff_forward(f: impl Fn(f64) -> f64, x: f64) -> f64 {
    let h = 1e-4;
    (f(x + h) - f(x)) / h
}
fn square(x: f64) -> f64 { x * x }
println!("slope of x² at 1 by the seed's forward difference: {}", numerical_diff_forward(square, 1.0));
// the crate's, the same formula
assert_eq!(numerical_diff_forward(square, 1.0), scratchnet_numgrad::numerical_diff_forward(square, 1.0));
""")

md(r"""
위와 같은 코드는 float32자료형을 쓰는데 소수점 8자리까지 표현하지만, 너무 작은 수라 오차가 생긴다.  
*Too small an h is lost to rounding (the book's `1e-50` is `0.0` in float32), so the book uses
h = 1e-4.*

**A slip in the seed's cell:** its `numerical_diff` is the forward difference, whose error is of
order h (above: 2.0001 for the slope 2). The book then improves it to the central difference
`(f(x+h) - f(x-h)) / 2h`, error of order h², and that is the `numerical_diff` whose values the
book prints (0.1999999999990898 below). `scratchnet_numgrad::numerical_diff` is the central one:
""")

code(r"""
// the book's numerical_diff: the central difference (f(x+h) - f(x-h)) / 2h
fn numerical_diff(f: impl Fn(f64) -> f64, x: f64) -> f64 {
    let h = 1e-4;
    (f(x + h) - f(x - h)) / (h + h)
}
println!("slope of x² at 1 by the book's central difference: {}", numerical_diff(square, 1.0));
assert_eq!(numerical_diff(square, 1.0), scratchnet_numgrad::numerical_diff(square, 1.0));
println!("h = 1e-50 in f32: {}", 1e-50f64 as f32);
""")

md(r"""
## 4.3.2 수치 미분의 예
*An example*

$f(x) = 0.01x^2 + 0.1x$  
이를 미분해보자  
*Let us differentiate it.*
""")

code(r"""
// def function_1(x): return 0.01*(x**2) + 0.1*x
fn function_1(x: f64) -> f64 { 0.01 * (x * x) + 0.1 * x }
println!("function_1(5) = {}, function_1(10) = {}", function_1(5.0), function_1(10.0));
assert_eq!(function_1(5.0), scratchnet_numgrad::function_1(5.0));
""")

code(r"""
// x = np.arange(0.0, 20.0, 0.1); plt.plot(x, function_1(x))
show(800, 560, |root, s| {
    let mut c = chart(root, s, "function_1", ("x", "y"), 0.0..20.0, -0.2..6.2)?;
    let xs = (0..200).map(|i| i as f64 * 0.1);
    c.draw_series(LineSeries::new(xs.map(|x| (x, function_1(x))), PALETTE[0].stroke_width(s.px(2))))?;
    Ok(())
})?;
""", tags=["figure:function_1"])

md(r"""
$f'(x) = 0.02x+0.1$  
x 가 5, 10일 때 기울기 = 2,3 으로 아주 근사함을 확인 가능  
*At x = 5 and x = 10 the true slopes are 0.2 and 0.3 (the seed writes "2, 3"), and the
numerical ones are very close.*
""")

code(r"""
println!("{}", numerical_diff(function_1, 5.0));
println!("{}", numerical_diff(function_1, 10.0));
// the seed's forward difference, for comparison: error of order h = 1e-4
println!("forward: {} {}", numerical_diff_forward(function_1, 5.0), numerical_diff_forward(function_1, 10.0));
""")

md(r"""
The book draws the tangent lines at x = 5 and x = 10 (its `gradient_1d.py`, figures 4-7):
`tangent_line(f, x)` is the line through `(x, f(x))` with the numerical slope.
""")

code(r"""
use scratchnet_numgrad::tangent_line;
show(800, 560, |root, s| {
    let mut c = chart(root, s, "function_1 and its tangent lines at x = 5 and x = 10", ("x", "y"), 0.0..20.0, -1.5..6.5)?;
    let xs: Vec<f64> = (0..200).map(|i| i as f64 * 0.1).collect();
    c.draw_series(LineSeries::new(xs.iter().map(|&x| (x, function_1(x))), PALETTE[0].stroke_width(s.px(2))))?
        .label("y = 0.01x² + 0.1x")
        .legend(legend_line(PALETTE[0], s));
    for (x0, color) in [(5.0, PALETTE[1]), (10.0, PALETTE[2])] {
        let line = tangent_line(function_1, x0);
        println!("tangent at x = {x0}: slope {}, intercept {}", line.slope, line.intercept);
        c.draw_series(LineSeries::new(xs.iter().map(|&x| (x, line.at(x))), color.stroke_width(s.px(2))))?
            .label(format!("tangent at x = {x0}"))
            .legend(legend_line(color, s));
        c.draw_series([Circle::new((x0, function_1(x0)), s.i(5), color.filled())])?;
    }
    legend(&mut c, s, SeriesLabelPosition::UpperLeft)
})?;
""", tags=["figure:tangent_lines"])

md(r"""
## 4.3.3 편미분
*Partial derivatives*

변수가 2개인 경우  
*a function of two variables*  
$f(x_{0},x_{1}) = x_{0}^{2} + x_{1}^{2}$
""")

code(r"""
// def function_2(x): return np.sum(x**2)
fn function_2(x: ArrayView1<f64>) -> f64 { x.iter().fold(0.0, |sum, &v| sum + v * v) }
println!("function_2([3, 4]) = {}", function_2(array![3.0, 4.0].view()));
assert_eq!(function_2(array![3.0, 4.0].view()), scratchnet_numgrad::function_2(array![3.0, 4.0].view()));
use scratchnet_numgrad::function_2_rows; // np.sum(x**2, axis=1): one value per row
""")

md(r"""
The seed imports `mplot3d` for the book's figure 4-8, the surface of `function_2`:
""")

code(r"""
show(760, 640, |root, s| {
    let root = root.margin(s.px(10), 0, 0, 0).titled("f(x0, x1) = x0² + x1²", s.font(22))?;
    let mut c = ChartBuilder::on(&root).margin(s.px(16)).build_cartesian_3d(-3.0..3.0, 0.0..18.0, -3.0..3.0)?;
    c.with_projection(|mut p| { p.pitch = 0.45; p.yaw = 0.7; p.scale = 0.85; p.into_matrix() });
    c.configure_axes().label_style(s.font(13)).light_grid_style(RGBColor(230, 230, 230)).max_light_lines(3)
        .x_formatter(&|v| scratchnet_plot::tick(*v)).y_formatter(&|v| scratchnet_plot::tick(*v))
        .z_formatter(&|v| scratchnet_plot::tick(*v)).draw()?;
    let grid: Vec<f64> = (0..=30).map(|i| -3.0 + 0.2 * f64::from(i)).collect();
    c.draw_series(SurfaceSeries::xoz(grid.iter().copied(), grid.iter().copied(), |x0, x1| {
            // np.sum(x**2, axis=1) of the one point (x0, x1)
            function_2_rows(array![[x0, x1]].view())[0]
        })
        .style_func(&|&v| {
            let t = (v / 18.0).clamp(0.0, 1.0); // coloured by height, blue to yellow
            RGBColor((68.0 + t * 185.0) as u8, (1.0 + t * 230.0) as u8, (84.0 - t * 47.0) as u8).mix(0.9).filled()
        }))?;
    // the axis names, which plotters' 3-D axes do not draw: outside the middle of each axis,
    // beyond its tick labels (plotters' 3-D coordinates are (x, y up, z): here (x0, f(x), x1))
    let area = c.plotting_area();
    for ((x, y, z), name) in [((0.0, -3.0, 4.6), "x0"), ((4.6, -3.0, 0.0), "x1"), ((-3.9, 9.0, 3.9), "f(x)")] {
        area.draw(&Text::new(name, (x, y, z), s.font(20)))?;
    }
    Ok(())
})?;
""", tags=["figure:function_2_surface"])

md(r"""
$x_{0} = 3, x_{1}=4$일 때 기울기를 구하라  
*Find the partial derivatives at x0 = 3, x1 = 4.*

The seed's cell uses its forward `numerical_diff`; the book's printouts (6.00000000000378 and
7.999999999999119) are the central difference. Both:
""")

code(r"""
fn function_tmp1(x0: f64) -> f64 { x0 * x0 + 4.0f64.powf(2.0) } // x1 을 4로 고정 (x1 fixed at 4)
fn function_tmp2(x1: f64) -> f64 { 3.0f64.powf(2.0) + x1 * x1 } // x0 를 3으로 고정 (x0 fixed at 3)
println!("{}", numerical_diff(function_tmp1, 3.0));
println!("{}", numerical_diff(function_tmp2, 4.0));
println!("the seed's forward difference: {} {}", numerical_diff_forward(function_tmp1, 3.0), numerical_diff_forward(function_tmp2, 4.0));
""")

md(r"""
## 4.4기울기
*The gradient*

편미분을 동시에 계산하자  
*all the partial derivatives at once*
""")

code(r"""
// def _numerical_gradient_no_batch(f, x): the central difference, one element at a time. Written
// for an array of any shape, it is also the book's common.gradient.numerical_gradient (np.nditer),
// which §4.4.2 uses on the weight matrix.
fn numerical_gradient<D: ndarray::Dimension>(
    f: impl Fn(ndarray::ArrayView<f64, D>) -> f64,
    x: &ndarray::Array<f64, D>,
) -> ndarray::Array<f64, D> {
    let h = 1e-4;
    let mut x = x.as_standard_layout().into_owned(); // a copy: the caller's x is not touched
    let mut grad = ndarray::Array::zeros(x.raw_dim()); // np.zeros_like(x)
    for idx in 0..x.len() {
        let tmp_val = x.as_slice().unwrap()[idx];
        x.as_slice_mut().unwrap()[idx] = tmp_val + h;
        let fxh1 = f(x.view()); // f(x+h)
        x.as_slice_mut().unwrap()[idx] = tmp_val - h;
        let fxh2 = f(x.view()); // f(x-h)
        grad.as_slice_mut().unwrap()[idx] = (fxh1 - fxh2) / (h + h);
        x.as_slice_mut().unwrap()[idx] = tmp_val; // 값 복원 (restore the value)
    }
    grad
}
for p in [array![3.0, 4.0], array![0.0, 2.0], array![3.0, 0.0]] {
    let g = numerical_gradient(function_2, &p);
    println!("{g}");
    // the crate's runs the elements in parallel, bit-identical to this loop
    assert_eq!(g, scratchnet_numgrad::numerical_gradient(function_2, &p));
}
""")

code(r"""
// function_2 for a batch (x.ndim > 1): np.sum(x**2, axis=1), one value per row
println!("{}", function_2_rows(array![[3.0, 4.0], [0.0, 2.0], [3.0, 0.0]].view()));
// tangent_line(f, x): the slope d, and the line d*t + (f(x) - d*x)
let line = tangent_line(function_1, 5.0);
println!("{}", line.slope);
println!("tangent at 5, at t = 10: {}", line.at(10.0));
""")

md(r"""
The gradient field: at each point of a grid, the arrow $-\nabla f$, which points to the minimum.
The seed passes `np.array([X, Y])` (shape 2 x 324) and reads `grad[0]`, `grad[1]`; its batch
branch then treats all x-coordinates as one point, which gives the right arrows only because
`function_2` is a sum of squares. Here each point is a row, and each row gets its own gradient
(the crate's `numerical_gradient_points` does the same in parallel). The seed's grid runs to
2.25, past the axes: those arrows are cut at the frame, as matplotlib cuts them.
""")

code(r"""
let ticks: Vec<f64> = (0..18).map(|i| -2.0 + 0.25 * f64::from(i)).collect(); // np.arange(-2, 2.5, 0.25)
let points = Array2::from_shape_fn((ticks.len() * ticks.len(), 2), |(n, c)| {
    if c == 0 { ticks[n % ticks.len()] } else { ticks[n / ticks.len()] } // np.meshgrid, flattened
});
// the gradient of each point (row) on its own, with the numerical_gradient above
let mut grad = Array2::zeros(points.raw_dim());
for (n, p) in points.rows().into_iter().enumerate() {
    grad.row_mut(n).assign(&numerical_gradient(function_2, &p.to_owned()));
}
assert_eq!(grad, scratchnet_numgrad::numerical_gradient_points(function_2, &points));
println!("{} points; grad at (-2, -2) = {}", points.nrows(), grad.row(0));
show(640, 640, |root, s| {
    let mut c = chart(root, s, "−∇f of x0² + x1²", ("x0", "x1"), -2.0..2.0, -2.0..2.0)?;
    // plt.quiver(X, Y, -grad[0], -grad[1], angles="xy"): arrows cut at the frame, as matplotlib's
    let arrows = points.rows().into_iter().zip(grad.rows()).map(|(p, g)| (p[0], p[1], -g[0], -g[1]));
    let scale = 0.3 * 0.25 / 2.0; // quiver's autoscale: the longest arrow about a grid step
    quiver(&mut c, arrows, scale, 0.06, RGBColor(0x66, 0x66, 0x66).stroke_width(s.px(2)))
})?;
""", tags=["figure:gradient_field"])

md(r"""
## 4.4.1 경사하강법(Gradient Descent)
*Gradient descent*

기울기를 이용하여 매개변수의 공간의 최소점을 찾자  
*use the gradient to find the minimum in parameter space*  
$x_{0} = x_{0} - \eta{\delta f \over \delta x_{0}}$  
$x_{1} = x_{1} - \eta{\delta f \over \delta x_{1}}$  
  
$\eta$ 는 얼마나 갱신할 지, 즉 Learning Rate * 지점에서의 기울기를 뺌으로서 갱신한다.    
*η, the learning rate, is how far to move: each step subtracts η times the gradient.*  
learning rate의 경우 너무 크면 발산하게 되고 너무 작으면 수렴하지 못하는 문제점이 있다.  
*Too large a learning rate diverges; too small a one does not get there.*
""")

code(r"""
// def gradient_descent(f, init_x, lr=0.01, step_num=100)
fn gradient_descent(f: impl Fn(ArrayView1<f64>) -> f64, init_x: &Array1<f64>, lr: f64, step_num: usize) -> Array1<f64> {
    let mut x = init_x.clone();
    for _ in 0..step_num {
        let grad = numerical_gradient(&f, &x); // 스텝만큼 기울기 구함 (the gradient at x)
        x.zip_mut_with(&grad, |xi, &gi| *xi -= lr * gi); // x -= lr*grad: x 갱신 (update x)
    }
    x
}
""")

code(r"""
fn function_2_xy(x: ArrayView1<f64>) -> f64 { x[0].powi(2) + x[1].powi(2) } // x[0]**2 + x[1]**2
let init_x = array![-3.0, 4.0];
let x = gradient_descent(function_2_xy, &init_x, 0.01, 100); // the seed's call: the defaults lr=0.01, 100 steps
println!("lr = 0.01, 100 steps: [{:.8}, {:.8}]", x[0], x[1]);
// the book's call, lr = 0.1: its printout [-6.11110793e-10, 8.14814391e-10]
let x = gradient_descent(function_2_xy, &init_x, 0.1, 100);
println!("lr = 0.1, 100 steps: [{:.9e}, {:.9e}]", x[0], x[1]);
// and the book's too large and too small learning rates; each equal to the crate's
for lr in [0.01, 0.1, 10.0, 1e-10] {
    let x = gradient_descent(function_2_xy, &init_x, lr, 100);
    assert_eq!(x, scratchnet_numgrad::gradient_descent(function_2_xy, &init_x, lr, 100).x);
    if lr > 1.0 || lr < 1e-3 {
        println!("lr = {lr:e}, 100 steps: [{:.8e}, {:.8e}]", x[0], x[1]);
    }
}
""")

md(r"""
The seed's `gradient_descent_dr` records the point before each step (`tmp`) and draws 10 steps
of lr = 0.1; the book's `gradient_method.py` draws 20. Both, side by side:
""")

code(r"""
fn descent_panel(area: &Area<'_>, s: Scale, steps: usize, xlim: f64, ylim: f64) -> DrawResult {
    // gradient_descent_dr: the crate's keeps every point visited (the seed's tmp)
    let d = scratchnet_numgrad::gradient_descent(function_2_xy, &array![-3.0, 4.0], 0.1, steps);
    let tmp = &d.trajectory[..steps]; // the points before each step, the seed's np.array(tmp)
    let title = format!("lr = 0.1, {steps} steps");
    let mut c = chart(area, s, &title, ("x0", "x1"), -xlim..xlim, -ylim..ylim)?;
    for (k, p) in tmp.iter().enumerate() {
        let t = k as f64 / (steps - 1) as f64; // c = np.arange(len(tmp)): dark to light
        let color = RGBColor((68.0 + t * 185.0) as u8, (1.0 + t * 230.0) as u8, (84.0 - t * 47.0) as u8);
        c.draw_series([Circle::new((p[0], p[1]), s.i(6), color.filled())])?;
    }
    c.draw_series([TriangleMarker::new((0.0, 0.0), s.i(12), RED.filled())])?;
    println!("{steps} steps: first {:?}, last before the final step {:?}, final {}", tmp[0].to_vec(), tmp[steps - 1].to_vec(), d.x);
    Ok(())
}
show(1100, 560, |root, s| {
    let (left, right) = root.split_horizontally(root.dim_in_pixel().0 / 2);
    descent_panel(&left, s, 10, 5.0, 5.0)?;   // the seed: xlim, ylim (-5, 5)
    descent_panel(&right, s, 20, 3.5, 4.5)?;  // the book: xlim (-3.5, 3.5), ylim (-4.5, 4.5)
    Ok(())
})?;
""", tags=["figure:gradient_descent"])

md(r"""
## 4.4.2 신경망에서의 기울기  
*Gradients of a neural network*  
$
W = \left( 
    \begin{matrix}  
            w_{11} & w_{12} & w_{13}\\
            w_{21} & w_{22} & w_{23}\\
    \end{matrix} 
    \right)  
$  
  
$
{\delta L \over \delta W}= \left( 
    \begin{matrix}  
            {\delta L \over \delta w_{11}} & {\delta L \over \delta w_{12}} & {\delta L \over \delta w_{13}}\\
            {\delta L \over \delta w_{21}} & {\delta L \over \delta w_{22}} & {\delta L \over \delta w_{23}}\\
    \end{matrix} 
    \right)
$  
  
$W$ 는 가중치 행렬, ${\delta L \over \delta W}$는 가중치의 편미분 행렬  
*W is the weight matrix, ∂L/∂W the matrix of its partial derivatives.*
""")

code(r"""
// from common.functions import softmax, cross_entropy_error (the crate's; cross_entropy_error is
// already in scope), from common.gradient import numerical_gradient (the one written in §4.4)
use scratchnet_functions::softmax;
use scratchnet_tensor::argmax;
""")

code(r"""
// class simpleNet
struct SimpleNet { w: Array2<f64> }
impl SimpleNet {
    fn new(rng: &mut scratchnet_tensor::Rng) -> Self {
        SimpleNet { w: scratchnet_tensor::randn((2, 3), 1.0, rng) } // np.random.randn(2,3): 정규분포로 초기화 (standard normal)
    }
    fn predict(&self, x: &Array1<f64>) -> Array1<f64> { x.dot(&self.w) }
    fn loss(&self, x: &Array1<f64>, t: &Array1<f64>) -> f64 {
        let z = self.predict(x);
        let y = softmax(&z);
        cross_entropy_error(&y, t)
    }
    fn back_propagation(&mut self, dw: &Array2<f64>) { self.w = &self.w - dw; }
}
""")

code(r"""
let net = SimpleNet::new(&mut rng);
println!("{:.8}", net.w); // 가중치 행렬 (the weight matrix)

let x = array![0.6, 0.9];
let p = net.predict(&x);
println!("probability {p}"); // [1,2] * [2,3] = [1,3] 행렬 연산 shape (the scores x·W, before the softmax)
println!("{}", argmax(&p));

let t = array![0.0, 0.0, 1.0];
println!("{}", net.loss(&x, &t));
// the crate's SimpleNet on the same weights: the same numbers
let same = scratchnet_network::SimpleNet::from_weights(net.w.clone());
assert_eq!((net.predict(&x), net.loss(&x, &t)), (same.predict(&x), same.loss(&x, &t)));
""")

md(r"""
The book prints its values for the weights it drew; with those weights (as printed, 8 digits)
the loss is:
""")

code(r"""
let net = SimpleNet { w: array![[0.47355232, 0.9977393, 0.84668094], [0.85557411, 0.03563661, 0.69422093]] };
let p = net.predict(&x);
println!("probability {p}");
println!("{}", argmax(&p));
println!("{}", net.loss(&x, &t));
""")

code(r"""
// def f(W): return net.loss(x, t); dW = numerical_gradient(f, net.W)
// In Python f ignores its argument and works because numerical_gradient perturbs net.W in place;
// in Rust f computes the loss at the weights it is given:
let dw = numerical_gradient(|w: ArrayView2<f64>| SimpleNet { w: w.to_owned() }.loss(&x, &t), &net.w);
println!("{dw:.8}");
assert_eq!(dw, scratchnet_network::SimpleNet::from_weights(net.w.clone()).numerical_gradient(&x, &t));
""")

md(r"""
**Why the book's dW is not printed above.** The book prints
`[[0.21924763, 0.14356247, -0.36281009], [0.32887144, 0.2153437, -0.54421514]]`. The gap is
not the rounding of the weights it printed: it is the δ. `cross_entropy_error` takes `log(y + δ)` with δ = 1e-7 (so that `log 0`
is never taken), and its derivative is `−1/(y_t + δ)` instead of `−1/y_t`: every partial
derivative is scaled by `y_t / (y_t + δ) ≈ 1 − δ/y_t`. With y_t ≈ 0.395 that is 1 − 2.5e-7,
which moves the eighth digit. The loss without δ, `−Σ t·log y`, gives the book's dW exactly:
""")

code(r"""
// the loss without δ: -Σ t·log(y), the log of the softmax itself
fn loss_without_delta(w: ArrayView2<f64>, x: &Array1<f64>, t: &Array1<f64>) -> f64 {
    let y = softmax(&x.dot(&w));
    -(t * &y.mapv(f64::ln)).sum()
}
let y_t = softmax(&net.predict(&x))[2];
println!("loss with δ = 1e-7: {}", net.loss(&x, &t));
println!("loss without δ:     {}", loss_without_delta(net.w.view(), &x, &t));
let dw_no_delta = numerical_gradient(|w: ArrayView2<f64>| loss_without_delta(w, &x, &t), &net.w);
println!("dW without δ:\n{dw_no_delta:.8}");
println!("y_t = {y_t:.6}; with δ each partial derivative is scaled by y_t/(y_t+δ) = 1 - {:.2e}", 1.0 - y_t / (y_t + 1e-7));
""")

code(r"""
let mut net = SimpleNet::new(&mut rng);
let x = array![0.6, 0.9];
let t = array![0.0, 0.0, 1.0];
for _step in 0..10 {
    println!("loss: {}", net.loss(&x, &t));
    let dw = numerical_gradient(|w: ArrayView2<f64>| SimpleNet { w: w.to_owned() }.loss(&x, &t), &net.w);
    net.back_propagation(&dw);
}
println!("predict =  {}", argmax(&net.predict(&x))); // pred(x)
println!("real =  {}", argmax(&t));
""")

md(r"""
## 4.5.1 2층 신경망 클래스 구현하기
*A two-layer network class*
""")

code(r"""
use scratchnet_functions::sigmoid;
use scratchnet_mnist::Labels;
use scratchnet_network::Params; // the seed's self.params dict: W1, b1, W2, b2
""")

md(r"""
$((input\_size , hidden\_size) + (hidden\_size)) \times (hidden\_size, output\_size) + (output\_size)$

**A slip in the seed's cell:** its `predict` computes `z1 = sigmoid(a1)` and then feeds `a1`,
not `z1`, to the second layer (`a2 = np.dot(a1, W2) + b2`), so the sigmoid is never used and
the net is one linear map. The book writes `a2 = np.dot(z1, W2) + b2`, and so does the class
below (and the crate's `TwoLayerNet`); the cell after it compares the two.
""")

code(r"""
/// The forward pass over given parameters (the class's predict, and the loss of a perturbed copy)
fn forward(w1: ArrayView2<f64>, b1: ArrayView1<f64>, w2: ArrayView2<f64>, b2: ArrayView1<f64>, x: ArrayView2<f64>) -> Array2<f64> {
    let a1 = x.dot(&w1) + &b1; // first layer (Dense)
    let z1 = sigmoid(&a1);     // activation
    let a2 = z1.dot(&w2) + &b2; // second layer: z1, the book's (the seed has a1)
    softmax(&a2)
}

// class TwoLayerNet
struct TwoLayerNet { params: Params<f64> }
impl TwoLayerNet {
    fn new(input_size: usize, hidden_size: usize, output_size: usize, weight_init_std: f64, rng: &mut scratchnet_tensor::Rng) -> Self {
        let w1 = scratchnet_tensor::randn((input_size, hidden_size), weight_init_std, rng); // 난수로 (input x hidden 배열생성)
        let w2 = scratchnet_tensor::randn((hidden_size, output_size), weight_init_std, rng);
        TwoLayerNet { params: Params { w1, b1: Array1::zeros(hidden_size), w2, b2: Array1::zeros(output_size) } }
    }
    fn predict(&self, x: ArrayView2<f64>) -> Array2<f64> {
        let p = &self.params;
        forward(p.w1.view(), p.b1.view(), p.w2.view(), p.b2.view(), x)
    }
    fn loss(&self, x: ArrayView2<f64>, t: ArrayView2<f64>) -> f64 {
        cross_entropy_error(&self.predict(x), &t) // loss
    }
    fn accuracy(&self, x: ArrayView2<f64>, t: ArrayView2<f64>) -> f64 {
        let y = self.predict(x);
        let hits = y.rows().into_iter().zip(t.rows()).filter(|(y, t)| argmax(y) == argmax(t)).count();
        hits as f64 / x.nrows() as f64 // y==t인 것들 합 / 데이터 개수 (correct / examples)
    }
    // back propagation을 위한 gradient dict, 수치미분을 이용한 계산 (the gradients, numerically)
    fn numerical_gradient(&self, x: ArrayView2<f64>, t: ArrayView2<f64>) -> Params<f64> {
        let p = &self.params;
        let (w1, b1, w2, b2) = (p.w1.view(), p.b1.view(), p.w2.view(), p.b2.view());
        // loss_W: the loss with one parameter replaced by the perturbed copy it is given
        let loss = |y: Array2<f64>| cross_entropy_error(&y, &t);
        Params {
            w1: numerical_gradient(|w: ArrayView2<f64>| loss(forward(w, b1, w2, b2, x)), &p.w1),
            b1: numerical_gradient(|b: ArrayView1<f64>| loss(forward(w1, b, w2, b2, x)), &p.b1),
            w2: numerical_gradient(|w: ArrayView2<f64>| loss(forward(w1, b1, w, b2, x)), &p.w2),
            b2: numerical_gradient(|b: ArrayView1<f64>| loss(forward(w1, b1, w2, b, x)), &p.b2),
        }
    }
}

/// A one-hot label set as the matrix t of the seed
fn one_hot(labels: &Labels<f64>) -> ArrayView2<f64> {
    match labels {
        Labels::OneHot(t) => t.view(),
        Labels::Index(_) => panic!("loaded with one_hot_label: true"),
    }
}
""")

code(r"""
let net = TwoLayerNet::new(784, 100, 10, 0.01, &mut rng);
{ // a block: views and references cannot outlive an evcxr cell
for (name, p) in [("W1", net.params.w1.shape()), ("b1", net.params.b1.shape()), ("W2", net.params.w2.shape()), ("b2", net.params.b2.shape())] {
    println!("{name} {}", shape(p));
}
let xb = data.train.batch(&random_batch(&mut rng, train_size, 100));
let x100 = xb.images.view().into_dimensionality::<ndarray::Ix2>().unwrap();
let t100 = one_hot(&xb.labels);
let y = net.predict(x100);
println!("predict {}", shape(y.shape()));
println!("accuracy of the untrained net on the batch: {}", net.accuracy(x100, t100));
// the seed's predict, with a1 where z1 belongs
let p = &net.params;
let a1 = x100.dot(&p.w1) + &p.b1;
let y_seed = softmax(&(a1.dot(&p.w2) + &p.b2));
println!("the seed's predict differs from the book's by up to {:.3}", (&y_seed - &y).mapv(f64::abs).fold(0.0, |a: f64, &b| a.max(b)));

// the crate's TwoLayerNet, the same parameters: the same predict, loss and accuracy
let same = scratchnet_network::TwoLayerNet::from_params(net.params.clone());
assert_eq!(y, same.predict(&x100));
assert_eq!(net.loss(x100, t100), same.loss(&x100, &xb.labels));
assert_eq!(net.accuracy(x100, t100), same.accuracy(&x100, &xb.labels));
// and the same numerical gradient (a 784-3-10 net on 3 images: 2,395 parameters, 4,790 losses)
let small = TwoLayerNet::new(784, 3, 10, 0.01, &mut rng);
let (x3, t3) = (x100.slice(ndarray::s![..3, ..]), t100.slice(ndarray::s![..3, ..]));
let grads = small.numerical_gradient(x3, t3);
assert_eq!(grads, scratchnet_network::TwoLayerNet::from_params(small.params.clone()).numerical_gradient(&x3, &t3));
println!("numerical_gradient: {} partial derivatives, equal to the crate's", grads.len());
};
""")

code(r"""
// let net = TwoLayerNet::<f64>::new(784, 512, 10, 0.01, &mut rng);
""")

md(r"""
## 4.5.2 미니배치 학습 구현하기
*Mini-batch training*

The seed trains with the numerical gradient, at 24.55 s per iteration (its tqdm line: 6 hours
48 minutes for the 1000 iterations). Here `network` is the crate's `Net` built from the chapter 4
spec, `NetSpec::two_layer_net(784, 50, 10, 0.01)`: the class above, its weights drawn from `rng`
as the class draws them, with fast kernels. Its `numerical_gradient` computes the same central
differences (h = 1e-4, every one of the 39,760 parameters), recomputing each perturbed loss only
where the parameter reaches; it agrees with the book's `numerical_gradient` to 1e-8 of the
gradient's size (the crate's tests) and takes milliseconds.
""")

code(r"""
use scratchnet_mnist::Labels;
use scratchnet_network::optimizer::Sgd;
use scratchnet_network::{Input, Net, NetSpec};
""")

code(r"""
// test data 사용안함 (no test data here)
let mut train_loss_list: Vec<f64> = Vec::new();

let iters_num = 1000;
let train_size = data.train.len();
let batch_size = 100;
let learning_rate = 0.1;

let mut rng: scratchnet_tensor::Rng = scratchnet_tensor::rng_from_seed(42);
// TwoLayerNet(input_size=784, hidden_size=50, output_size=10): the crate's Net of that spec
let mut network: Net<f64> = Net::new(NetSpec::two_layer_net(784, 50, 10, 0.01), &mut rng).expect("the chapter 4 spec");

let start = Instant::now();
for i in 0..iters_num {
    // 배치 추출 (draw a batch)
    let batch_mask = random_batch(&mut rng, train_size, batch_size); // 배치로 사용할 인덱스들
    let batch = data.train.batch(&batch_mask);
    let x_batch = Input::from(&batch.images);
    let t_batch = &batch.labels;

    let grad = network.numerical_gradient(x_batch.reborrow(), t_batch, &mut rng); // 수치미분 (numerical gradient)
    // let grad = network.gradient(x_batch.reborrow(), t_batch, &mut rng); // 오차 역전파 성능 더 좋음 (backprop: faster)

    network.update(&mut Sgd::new(learning_rate), &grad); // W1, b1, W2, b2 -= learning_rate * grad

    let loss = network.loss(x_batch.reborrow(), t_batch);
    train_loss_list.push(loss);
    if (i + 1) % 100 == 0 {
        let secs = start.elapsed().as_secs_f64();
        println!("{:>4}/{iters_num} [{secs:5.1} s, {:.1} ms/it] loss {loss:.4}", i + 1, 1e3 * secs / (i + 1) as f64);
    }
}
println!("1000 iterations with the numerical gradient in {:.1} s", start.elapsed().as_secs_f64());
""")

md(r"""
**Milliseconds per iteration.** The line above is the numerical gradient of all 39,760
parameters of a batch of 100, as in the trainer (`cargo run --release`), whose benchmark gives
about 17–23 ms on an idle 2-core machine. Here it is timed while the machine does other work,
which counts: the notebook runs the crates' code compiled as a release build is (the kernel
builds them with `CARGO_INCREMENTAL=0`, set in its kernel spec; compiled incrementally, as
evcxr does by default, the same loop took twice as long). The loop itself, in the notebook, adds
nothing measurable: it only calls the compiled crates.
""")

code(r"""
// x = list(range(1, len(train_loss_list)+1)); plt.plot(x, train_loss_list)
show(800, 520, |root, s| {
    let top = train_loss_list.iter().cloned().fold(0.0, f64::max) * 1.05;
    let mut c = chart(root, s, "training loss per iteration", ("iteration", "loss"), 0.0..1000.0, 0.0..top)?;
    c.draw_series(LineSeries::new(train_loss_list.iter().enumerate().map(|(i, &l)| ((i + 1) as f64, l)), PALETTE[0].stroke_width(s.px(1))))?;
    Ok(())
})?;
""", tags=["figure:loss"])

md(r"""
## 4.5.3 시험 데이터로 평가하기
*Evaluating on the test data*
""")

code(r"""
println!("x_test {}, t_test {}", shape(data.test.images.shape()), label_shape(&data.test.labels));
""")

md(r"""
**A slip in the seed's cell:** it computes `iter_per_epoch = max(train_size / batch_size, 1)`
before it sets `train_size` and `batch_size`. It runs only because the §4.5.2 cell left
`train_size = 60000` and `batch_size = 100` behind; on its own it fails with a `NameError`. The
book sets them first, so `iter_per_epoch` is 600 and the accuracy is printed at iterations 0,
600, …, 9600: 17 lines. Below in the book's order, with the numerical gradient as in the seed.
""")

code(r"""
let mut train_loss_list: Vec<f64> = Vec::new();
let mut train_acc_list: Vec<f64> = Vec::new();
let mut test_acc_list: Vec<f64> = Vec::new();

let iters_num = 10000;
let train_size = data.train.len();
let batch_size = 100;
let learning_rate = 0.1;
let iter_per_epoch = (train_size / batch_size).max(1); // after train_size and batch_size, as in the book

let mut rng: scratchnet_tensor::Rng = scratchnet_tensor::rng_from_seed(42);
// TwoLayerNet(input_size=784, hidden_size=50, output_size=10): the crate's Net of that spec
let mut network: Net<f64> = Net::new(NetSpec::two_layer_net(784, 50, 10, 0.01), &mut rng).expect("the chapter 4 spec");
let start = Instant::now();
{ // a block: the borrowed inputs cannot outlive an evcxr cell
let train_x = Input::from(&data.train.images); // stored sparse once: MNIST is 81 % zeros
let test_x = Input::from(&data.test.images);
let (t_train, t_test) = (&data.train.labels, &data.test.labels);
for i in 0..iters_num {
    let batch_mask = random_batch(&mut rng, train_size, batch_size);
    let batch = data.train.batch(&batch_mask);
    let x_batch = Input::from(&batch.images);
    let t_batch = &batch.labels;

    let grad = network.numerical_gradient(x_batch.reborrow(), t_batch, &mut rng); // 수치미분
    // let grad = network.gradient(x_batch.reborrow(), t_batch, &mut rng); // 오차 역전파 성능 더 좋음

    network.update(&mut Sgd::new(learning_rate), &grad);

    let loss = network.loss(x_batch.reborrow(), t_batch);
    train_loss_list.push(loss);

    if i % iter_per_epoch == 0 {
        let train_acc = network.accuracy(train_x.reborrow(), t_train);
        let test_acc = network.accuracy(test_x.reborrow(), t_test);
        train_acc_list.push(train_acc);
        test_acc_list.push(test_acc);
        println!("train acc, test acc | {train_acc}, {test_acc}");
    }
}
}
let secs = start.elapsed().as_secs_f64();
println!("10000 iterations with the numerical gradient in {secs:.0} s ({:.1} ms per iteration; the seed: 24.55 s)", 1e3 * secs / iters_num as f64);
""")

md(r"""
The book's figure 4-12: train and test accuracy per epoch (its `train_neuralnet.py` plot).
""")

code(r"""
show(800, 560, |root, s| {
    let n = train_acc_list.len() as f64;
    let mut c = chart(root, s, "accuracy per epoch", ("epochs", "accuracy"), 0.0..(n - 1.0).max(1.0), 0.0..1.0)?;
    for (list, name, color, dashed) in [(&train_acc_list, "train acc", PALETTE[0], false), (&test_acc_list, "test acc", PALETTE[1], true)] {
        let pts: Vec<(f64, f64)> = list.iter().enumerate().map(|(e, &a)| (e as f64, a)).collect();
        let style = color.stroke_width(s.px(2));
        let anno = if dashed {
            c.draw_series(DashedLineSeries::new(pts.clone(), s.px(8), s.px(5), style))?
        } else {
            c.draw_series(LineSeries::new(pts.clone(), style))?
        };
        anno.label(name).legend(legend_line(color, s));
        c.draw_series(pts.iter().map(|&p| Circle::new(p, s.i(4), color.filled())))?;
    }
    legend(&mut c, s, SeriesLabelPosition::LowerRight)
})?;
""", tags=["figure:accuracy"])

nb = {
    "cells": cells,
    "metadata": {
        "kernelspec": {"display_name": "Rust (evcxr 0.22.0)", "language": "rust", "name": "rust"},
        "language_info": {"codemirror_mode": "rust", "file_extension": ".rs",
                          "mimetype": "text/rust", "name": "Rust", "pygment_lexer": "rust",
                          "version": ""},
    },
    "nbformat": 4,
    "nbformat_minor": 5,
}
for n, c in enumerate(nb["cells"]):
    c["id"] = f"cell-{n:02d}"
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ch04.ipynb")
with open(out + ".tmp", "w", encoding="utf-8") as f:
    json.dump(nb, f, ensure_ascii=False, indent=1)
    f.write("\n")
os.replace(out + ".tmp", out)
print(f"wrote {out}: {len(cells)} cells")
