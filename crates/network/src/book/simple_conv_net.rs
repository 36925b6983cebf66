//! Chapter 7 the book's way: `im2col` and `col2im` (`common/util.py`), the `Convolution` and
//! `Pooling` layers (`common/layers.py`) and `SimpleConvNet` (`ch07/simple_convnet.py`).
//!
//! Written for reading: every loop follows the definition, and each layer computes over the
//! whole batch with one `im2col` and one matrix product, as the book does. The fast kernels that
//! [`Net`](crate::Net) runs (`scratchnet_tensor::conv`) are tested equal to these.
//!
//! The layers follow the crate's [`Layer`] convention: a batch is one sample per row, the
//! sample's `(C, H, W)` values in row-major order, which is the memory of the book's
//! `(N, C, H, W)` array. Each layer is built with the shape of its input and views its rows as
//! `(N, C, H, W)` inside.

use ndarray::{
    Array1, Array2, Array4, ArrayView1, ArrayView2, ArrayView4, ArrayViewD, Axis, IxDyn,
};
use scratchnet_tensor::{Rng, Scalar, Targets};

use crate::Tensors;
use crate::layers::{Affine, Layer, Mode, Relu, SoftmaxWithLoss};

/// `(H + 2·pad − FH) / stride + 1`: how many windows of `f` fit along a side of `n`.
fn out_size(n: usize, f: usize, stride: usize, pad: usize) -> usize {
    (n + 2 * pad - f) / stride + 1
}

/// The book's `im2col(input_data, filter_h, filter_w, stride, pad)`: every window of
/// `filter_h × filter_w` that a filter visits becomes one row, so that a convolution is one
/// matrix product. `input` is `(N, C, H, W)`; the result is `(N·OH·OW, C·FH·FW)`, row
/// `(n, oy, ox)`, column `(c, i, j)` holding `x[n, c, oy·stride + i − pad, ox·stride + j − pad]`
/// (0 in the padding).
///
/// One 1×3×3 image and 2×2 windows, stride 1: four windows, four rows.
///
/// ```
/// use ndarray::{Array, array};
/// use scratchnet_network::book::im2col;
/// let x = Array::from_shape_vec((1, 1, 3, 3), (1..=9).map(f64::from).collect()).unwrap();
/// // 1 2 3
/// // 4 5 6
/// // 7 8 9
/// let col = im2col(x.view(), 2, 2, 1, 0);
/// assert_eq!(col, array![[1., 2., 4., 5.], [2., 3., 5., 6.], [4., 5., 7., 8.], [5., 6., 8., 9.]]);
/// ```
pub fn im2col<A: Scalar>(
    input: ArrayView4<'_, A>,
    filter_h: usize,
    filter_w: usize,
    stride: usize,
    pad: usize,
) -> Array2<A> {
    let (n, c, h, w) = input.dim();
    let (oh, ow) = (
        out_size(h, filter_h, stride, pad),
        out_size(w, filter_w, stride, pad),
    );
    let mut col = Array2::zeros((n * oh * ow, c * filter_h * filter_w));
    for b in 0..n {
        for oy in 0..oh {
            for ox in 0..ow {
                let row = (b * oh + oy) * ow + ox;
                for ch in 0..c {
                    for i in 0..filter_h {
                        for j in 0..filter_w {
                            let (y, x) = (oy * stride + i, ox * stride + j);
                            if y >= pad && x >= pad && y - pad < h && x - pad < w {
                                col[[row, (ch * filter_h + i) * filter_w + j]] =
                                    input[[b, ch, y - pad, x - pad]];
                            }
                        }
                    }
                }
            }
        }
    }
    col
}

/// The book's `col2im(col, input_shape, filter_h, filter_w, stride, pad)`: the way back from
/// [`im2col`], for the backward pass. Each entry of `col` is added (`+=`) to the input position
/// it was copied from: a pixel under several windows was used by each of them, so its gradient
/// is the sum of theirs. (So `col2im(im2col(x))` is not `x`: the middle pixel of a 3×3 image
/// under 2×2 windows comes back four times.)
///
/// ```
/// use ndarray::{Array, Array2};
/// use scratchnet_network::book::col2im;
/// let ones = Array2::<f64>::ones((4, 4)); // four 2×2 windows over a 3×3 image
/// let back = col2im(ones.view(), (1, 1, 3, 3), 2, 2, 1, 0);
/// // how many windows cover each pixel
/// assert_eq!(back, Array::from_shape_vec((1, 1, 3, 3), vec![1., 2., 1., 2., 4., 2., 1., 2., 1.]).unwrap());
/// ```
pub fn col2im<A: Scalar>(
    col: ArrayView2<'_, A>,
    input_shape: (usize, usize, usize, usize),
    filter_h: usize,
    filter_w: usize,
    stride: usize,
    pad: usize,
) -> Array4<A> {
    let (n, c, h, w) = input_shape;
    let (oh, ow) = (
        out_size(h, filter_h, stride, pad),
        out_size(w, filter_w, stride, pad),
    );
    let mut img = Array4::zeros(input_shape);
    for b in 0..n {
        for oy in 0..oh {
            for ox in 0..ow {
                let row = (b * oh + oy) * ow + ox;
                for ch in 0..c {
                    for i in 0..filter_h {
                        for j in 0..filter_w {
                            let (y, x) = (oy * stride + i, ox * stride + j);
                            if y >= pad && x >= pad && y - pad < h && x - pad < w {
                                img[[b, ch, y - pad, x - pad]] +=
                                    col[[row, (ch * filter_h + i) * filter_w + j]];
                            }
                        }
                    }
                }
            }
        }
    }
    img
}

/// Rows `(N, C·H·W)` as the book's `(N, C, H, W)`.
fn as_images<A: Scalar>(x: ArrayView2<'_, A>, (c, h, w): (usize, usize, usize)) -> Array4<A> {
    x.as_standard_layout()
        .into_owned()
        .into_shape_with_order((x.nrows(), c, h, w))
        .expect("each row holds C·H·W values")
}

/// The book's `Convolution(W, b, stride, pad)` over borrowed filters `W` `(FN, C, FH, FW)` and
/// bias `b` `(FN,)`, for inputs of shape `(C, H, W)`. Forward: `col = im2col(x)`,
/// `col_W = W.reshape(FN, -1).T`, `out = col·col_W + b`, reshaped to `(N, FN, OH, OW)`.
/// After [`backward`](Layer::backward), [`dw`](Self::dw) and [`db`](Self::db) hold the
/// gradients.
pub struct Convolution<'p, A: Scalar> {
    /// The filters, `(FN, C, FH, FW)`.
    pub w: ArrayView4<'p, A>,
    /// The bias, `(FN,)`.
    pub b: ArrayView1<'p, A>,
    /// The step between windows.
    pub stride: usize,
    /// Zeros around each image.
    pub pad: usize,
    input: (usize, usize, usize),
    x_shape: Option<(usize, usize, usize, usize)>,
    col: Option<Array2<A>>,
    col_w: Option<Array2<A>>,
    /// `∂L/∂W` after `backward`, `(FN, C, FH, FW)`.
    pub dw: Array4<A>,
    /// `∂L/∂b` after `backward`.
    pub db: Array1<A>,
}

impl<'p, A: Scalar> Convolution<'p, A> {
    /// A convolution layer over inputs of shape `input = (C, H, W)`.
    pub fn new(
        w: ArrayView4<'p, A>,
        b: ArrayView1<'p, A>,
        stride: usize,
        pad: usize,
        input: (usize, usize, usize),
    ) -> Self {
        Convolution {
            w,
            b,
            stride,
            pad,
            input,
            x_shape: None,
            col: None,
            col_w: None,
            dw: Array4::zeros((0, 0, 0, 0)),
            db: Array1::zeros(0),
        }
    }

    /// `(FN, OH, OW)`: the shape of one output image.
    pub fn output_shape(&self) -> (usize, usize, usize) {
        let (fnum, _, fh, fw) = self.w.dim();
        let (_, h, w) = self.input;
        (
            fnum,
            out_size(h, fh, self.stride, self.pad),
            out_size(w, fw, self.stride, self.pad),
        )
    }
}

impl<A: Scalar> Layer<A> for Convolution<'_, A> {
    fn forward(&mut self, x: ArrayView2<'_, A>, _mode: Mode) -> Array2<A> {
        let (fnum, c, fh, fw) = self.w.dim();
        let x = as_images(x, self.input);
        let n = x.dim().0;
        let (_, oh, ow) = self.output_shape();
        let col = im2col(x.view(), fh, fw, self.stride, self.pad);
        let col_w = self
            .w
            .to_owned()
            .into_shape_with_order((fnum, c * fh * fw))
            .expect("FN rows of C·FH·FW")
            .reversed_axes();
        let out = col.dot(&col_w) + self.b; // (N·OH·OW, FN)
        // the book's out.reshape(N, OH, OW, -1).transpose(0, 3, 1, 2)
        let out = out
            .into_shape_with_order((n, oh, ow, fnum))
            .expect("one row per window")
            .permuted_axes([0, 3, 1, 2]);
        self.x_shape = Some(x.dim());
        self.col = Some(col);
        self.col_w = Some(col_w);
        out.as_standard_layout()
            .into_owned()
            .into_shape_with_order((n, fnum * oh * ow))
            .expect("rows of FN·OH·OW")
    }

    fn backward(&mut self, dout: ArrayView2<'_, A>) -> Array2<A> {
        let (fnum, c, fh, fw) = self.w.dim();
        let (_, oh, ow) = self.output_shape();
        let x_shape = self.x_shape.expect("Convolution: backward before forward");
        let n = x_shape.0;
        // the book's dout.transpose(0, 2, 3, 1).reshape(-1, FN)
        let dout = dout
            .as_standard_layout()
            .into_owned()
            .into_shape_with_order((n, fnum, oh, ow))
            .expect("rows of FN·OH·OW")
            .permuted_axes([0, 2, 3, 1])
            .as_standard_layout()
            .into_owned()
            .into_shape_with_order((n * oh * ow, fnum))
            .expect("one row per window");
        let col = self.col.as_ref().expect("forward caches col");
        self.db = dout.sum_axis(Axis(0));
        self.dw = col
            .t()
            .dot(&dout)
            .reversed_axes()
            .as_standard_layout()
            .into_owned()
            .into_shape_with_order((fnum, c, fh, fw))
            .expect("dW has W's shape");
        let dcol = dout.dot(&self.col_w.as_ref().expect("forward caches col_W").t());
        let dx = col2im(dcol.view(), x_shape, fh, fw, self.stride, self.pad);
        dx.into_shape_with_order((n, c * x_shape.2 * x_shape.3))
            .expect("rows of C·H·W")
    }
}

/// The book's `Pooling(pool_h, pool_w, stride, pad)`: max pooling, each channel on its own,
/// for inputs of shape `(C, H, W)`. Forward: `im2col`, rows of one window each, `argmax` kept
/// for the backward pass, which sends each gradient to its window's maximum.
pub struct Pooling {
    /// Window height.
    pub pool_h: usize,
    /// Window width.
    pub pool_w: usize,
    /// The step between windows.
    pub stride: usize,
    /// Zeros around each image.
    pub pad: usize,
    input: (usize, usize, usize),
    arg_max: Option<Vec<usize>>,
}

impl Pooling {
    /// Max pooling over `pool_h × pool_w` windows of inputs of shape `input = (C, H, W)`.
    pub fn new(
        pool_h: usize,
        pool_w: usize,
        stride: usize,
        pad: usize,
        input: (usize, usize, usize),
    ) -> Self {
        Pooling {
            pool_h,
            pool_w,
            stride,
            pad,
            input,
            arg_max: None,
        }
    }

    /// `(C, OH, OW)`: the shape of one output image.
    pub fn output_shape(&self) -> (usize, usize, usize) {
        let (c, h, w) = self.input;
        (
            c,
            out_size(h, self.pool_h, self.stride, self.pad),
            out_size(w, self.pool_w, self.stride, self.pad),
        )
    }
}

impl<A: Scalar> Layer<A> for Pooling {
    fn forward(&mut self, x: ArrayView2<'_, A>, _mode: Mode) -> Array2<A> {
        let x = as_images(x, self.input);
        let (n, c, _, _) = x.dim();
        let (_, oh, ow) = self.output_shape();
        let (ph, pw) = (self.pool_h, self.pool_w);
        // the book's col.reshape(-1, pool_h·pool_w): one row per (n, oy, ox, c) window
        let col = im2col(x.view(), ph, pw, self.stride, self.pad)
            .into_shape_with_order((n * oh * ow * c, ph * pw))
            .expect("C windows per row");
        let arg_max: Vec<usize> = col
            .outer_iter()
            .map(|r| scratchnet_tensor::argmax(&r))
            .collect();
        let out: Array1<A> = arg_max
            .iter()
            .zip(col.outer_iter())
            .map(|(&k, r)| r[k])
            .collect();
        self.arg_max = Some(arg_max);
        // reshape(N, OH, OW, C).transpose(0, 3, 1, 2)
        out.into_shape_with_order((n, oh, ow, c))
            .expect("one value per window")
            .permuted_axes([0, 3, 1, 2])
            .as_standard_layout()
            .into_owned()
            .into_shape_with_order((n, c * oh * ow))
            .expect("rows of C·OH·OW")
    }

    fn backward(&mut self, dout: ArrayView2<'_, A>) -> Array2<A> {
        let (c, h, w) = self.input;
        let (_, oh, ow) = self.output_shape();
        let n = dout.nrows();
        let (ph, pw) = (self.pool_h, self.pool_w);
        let arg_max = self
            .arg_max
            .as_ref()
            .expect("Pooling: backward before forward");
        // dout.transpose(0, 2, 3, 1), one value per window, placed at its argmax
        let dout = dout
            .as_standard_layout()
            .into_owned()
            .into_shape_with_order((n, c, oh, ow))
            .expect("rows of C·OH·OW")
            .permuted_axes([0, 2, 3, 1]);
        let mut dmax = Array2::zeros((n * oh * ow * c, ph * pw));
        for ((r, &k), &d) in arg_max.iter().enumerate().zip(dout.iter()) {
            dmax[[r, k]] = d;
        }
        let dcol = dmax
            .into_shape_with_order((n * oh * ow, c * ph * pw))
            .expect("C windows per row");
        col2im(dcol.view(), (n, c, h, w), ph, pw, self.stride, self.pad)
            .into_shape_with_order((n, c * h * w))
            .expect("rows of C·H·W")
    }
}

/// The book's `SimpleConvNet`: `conv - relu - pool - affine - relu - affine - softmax`.
///
/// ```
/// use scratchnet_network::book::SimpleConvNet;
/// let mut rng = scratchnet_tensor::rng_from_seed(0);
/// // the book's gradient_check.py: input (1, 10, 10), 10 filters of 3×3, hidden 10, output 10
/// let net = SimpleConvNet::<f64>::new((1, 10, 10), 10, 3, 0, 1, 10, 10, 0.01, &mut rng);
/// assert_eq!(net.params["W1"].shape(), [10, 1, 3, 3]);
/// assert_eq!(net.params["W2"].shape(), [10 * 4 * 4, 10]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct SimpleConvNet<A> {
    /// `W1` `(FN, C, FS, FS)`, `b1`, `W2` `(FN·OH/2·OW/2, hidden)`, `b2`, `W3`, `b3`.
    pub params: Tensors<A>,
    input_dim: (usize, usize, usize),
    stride: usize,
    pad: usize,
}

impl<A: Scalar> SimpleConvNet<A> {
    /// The book's constructor: `input_dim = (C, H, W)`, `conv_param = {filter_num, filter_size,
    /// pad, stride}`, `hidden_size`, `output_size`, `weight_init_std`; weights drawn from
    /// N(0, std²) in the order `W1, W2, W3`, biases zero.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        input_dim: (usize, usize, usize),
        filter_num: usize,
        filter_size: usize,
        pad: usize,
        stride: usize,
        hidden_size: usize,
        output_size: usize,
        weight_init_std: f64,
        rng: &mut Rng,
    ) -> Self {
        let (c, h, _) = input_dim;
        let conv_out = (h - filter_size + 2 * pad) / stride + 1;
        let pool_out = filter_num * (conv_out / 2) * (conv_out / 2);
        let std = A::of_f64(weight_init_std);
        let mut randn = |shape: &[usize]| {
            ndarray::ArrayD::from_shape_simple_fn(IxDyn(shape), || A::standard_normal(rng) * std)
        };
        let w1 = randn(&[filter_num, c, filter_size, filter_size]);
        let w2 = randn(&[pool_out, hidden_size]);
        let w3 = randn(&[hidden_size, output_size]);
        let zeros = |n: usize| ndarray::ArrayD::zeros(IxDyn(&[n]));
        SimpleConvNet {
            params: Tensors::from_pairs([
                ("W1", w1),
                ("b1", zeros(filter_num)),
                ("W2", w2),
                ("b2", zeros(hidden_size)),
                ("W3", w3),
                ("b3", zeros(output_size)),
            ]),
            input_dim,
            stride,
            pad,
        }
    }

    /// The same net with these parameters (the book's names and shapes).
    pub fn with_params(mut self, params: Tensors<A>) -> Self {
        self.params = params;
        self
    }

    fn view<D: ndarray::Dimension>(&self, name: &str) -> ndarray::ArrayView<'_, A, D> {
        self.params[name]
            .view()
            .into_dimensionality()
            .expect("the book's shapes")
    }

    /// The book's `self.layers`: Conv1, Relu1, Pool1, Affine1, Relu2, Affine2.
    fn layers(
        &self,
    ) -> (
        Convolution<'_, A>,
        Relu,
        Pooling,
        Affine<'_, A>,
        Relu,
        Affine<'_, A>,
    ) {
        let conv = Convolution::new(
            self.view("W1"),
            self.view("b1"),
            self.stride,
            self.pad,
            self.input_dim,
        );
        let pool = Pooling::new(2, 2, 2, 0, conv.output_shape());
        (
            conv,
            Relu::new(),
            pool,
            Affine::new(self.view("W2"), self.view("b2")),
            Relu::new(),
            Affine::new(self.view("W3"), self.view("b3")),
        )
    }

    /// The scores: each layer's `forward` in order.
    pub fn predict(&self, x: ArrayView2<'_, A>) -> Array2<A> {
        let (mut c, mut r1, mut p, mut a1, mut r2, mut a2) = self.layers();
        let m = Mode::Test;
        let x = c.forward(x, m);
        let x = Layer::<A>::forward(&mut r1, x.view(), m);
        let x = Layer::<A>::forward(&mut p, x.view(), m);
        let x = a1.forward(x.view(), m);
        let x = Layer::<A>::forward(&mut r2, x.view(), m);
        a2.forward(x.view(), m)
    }

    /// `last_layer.forward(predict(x), t)`.
    pub fn loss(&self, x: ArrayView2<'_, A>, t: Targets<'_, A>) -> A {
        SoftmaxWithLoss::new().forward(self.predict(x).view(), t)
    }

    /// The share of correct predictions, computed `batch_size` rows at a time as the book's.
    pub fn accuracy(&self, x: ArrayView2<'_, A>, labels: &[usize], batch_size: usize) -> f64 {
        let mut acc = 0;
        for (i, xb) in x.axis_chunks_iter(Axis(0), batch_size).enumerate() {
            let y = scratchnet_tensor::argmax_rows(&self.predict(xb));
            acc += y
                .iter()
                .zip(&labels[i * batch_size..])
                .filter(|(a, b)| a == b)
                .count();
        }
        acc as f64 / x.nrows() as f64
    }

    /// The book's `numerical_gradient`: central differences of [`loss`](Self::loss) for every
    /// parameter.
    pub fn numerical_gradient(&self, x: ArrayView2<'_, A>, t: Targets<'_, A>) -> Tensors<A> {
        let names: Vec<String> = self.params.names().map(str::to_owned).collect();
        Tensors::from_pairs(
            names
                .into_iter()
                .map(|name| {
                    let g = scratchnet_numgrad::numerical_gradient(
                        |p: ArrayViewD<'_, A>| {
                            let mut net = self.clone();
                            net.params = Tensors::from_pairs(self.params.iter().map(|(n, a)| {
                                (n, if n == name { p.to_owned() } else { a.clone() })
                            }));
                            net.loss(x, t)
                        },
                        &self.params[name.as_str()],
                    );
                    (name, g)
                })
                .collect::<Vec<_>>(),
        )
    }

    /// The book's `gradient`: forward, then every layer's `backward` in reverse.
    pub fn gradient(&self, x: ArrayView2<'_, A>, t: Targets<'_, A>) -> Tensors<A> {
        let (mut c, mut r1, mut p, mut a1, mut r2, mut a2) = self.layers();
        let m = Mode::Train;
        let y = c.forward(x, m);
        let y = Layer::<A>::forward(&mut r1, y.view(), m);
        let y = Layer::<A>::forward(&mut p, y.view(), m);
        let y = a1.forward(y.view(), m);
        let y = Layer::<A>::forward(&mut r2, y.view(), m);
        let y = a2.forward(y.view(), m);
        let mut last = SoftmaxWithLoss::new();
        last.forward(y.view(), t);
        let d = last.backward(A::one());
        let d = a2.backward(d.view());
        let d = Layer::<A>::backward(&mut r2, d.view());
        let d = a1.backward(d.view());
        let d = Layer::<A>::backward(&mut p, d.view());
        let d = Layer::<A>::backward(&mut r1, d.view());
        c.backward(d.view());
        Tensors::from_pairs([
            ("W1", c.dw.into_dyn()),
            ("b1", c.db.into_dyn()),
            ("W2", a1.dw.into_dyn()),
            ("b2", a1.db.into_dyn()),
            ("W3", a2.dw.into_dyn()),
            ("b3", a2.db.into_dyn()),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::LossGradient;
    use crate::{Net, NetSpec};
    use scratchnet_tensor::rng_from_seed;

    fn max_diff(a: &Tensors<f64>, b: &Tensors<f64>) -> f64 {
        a.iter()
            .zip(b.iter())
            .map(|((n1, x), (n2, y))| {
                assert_eq!((n1, x.shape()), (n2, y.shape()));
                (x - y).iter().fold(0.0f64, |m, v| m.max(v.abs()))
            })
            .fold(0.0, f64::max)
    }

    /// `Net`'s kernels (tensor::conv, blocked GEMMs) compute what the book's layers compute.
    #[test]
    fn net_equals_the_book_simple_conv_net_forward_and_backward() {
        for (input, fnum, fs, pad, stride, n) in [
            ((1, 28, 28), 30, 5, 0, 1, 7),
            ((3, 9, 9), 4, 3, 1, 1, 19),
            ((2, 12, 12), 3, 3, 2, 2, 5),
        ] {
            let mut rng = rng_from_seed(5);
            let book =
                SimpleConvNet::<f64>::new(input, fnum, fs, pad, stride, 12, 10, 0.1, &mut rng);
            let spec = NetSpec {
                input: vec![input.0, input.1, input.2],
                layers: format!("conv {fnum}x{fs}x{fs} stride {stride} pad {pad}, relu, pool 2, affine 12, relu, affine 10")
                    .parse::<NetSpec>().unwrap().layers,
                ..NetSpec::simple_conv_net()
            };
            let mut net = Net::<f64>::from_params(spec, &book.params).unwrap();
            let x = Array2::from_shape_simple_fn((n, input.0 * input.1 * input.2), || {
                f64::standard_normal(&mut rng).max(0.0)
            });
            let t: Vec<usize> = (0..n).map(|i| i * 7 % 10).collect();
            let (p1, p2) = (book.predict(x.view()), net.predict(&x));
            assert!((&p1 - &p2).iter().all(|d| d.abs() < 1e-12), "{input:?}");
            let g1 = book.gradient(x.view(), Targets::Labels(&t));
            let g2 = net.gradient(&x, &t, &mut rng);
            assert!(
                max_diff(&g1, &g2) < 1e-12,
                "{input:?}: {}",
                max_diff(&g1, &g2)
            );
        }
    }

    /// The book's `ch07/gradient_check.py`: numerical against backprop on a (1, 1, 10, 10)
    /// input of uniform [0, 1) values. Backprop trains with the book's `(y − t)/N`, the δ → 0
    /// limit of the loss that the numerical gradient differentiates, so each parameter's mean
    /// |difference| is about δ/y_t ≈ 1e-7/0.1 = 1e-6 of its gradient's size; with the exact
    /// gradient of the δ-loss (`LossGradient::ExactDelta`, through `Net`) it is below 1e-9.
    /// Central differences are only right away from kinks: where a ReLU or a max of the pooling
    /// switches within h = 1e-4 of the weights (W1's small outputs often do, with σ = 0.01),
    /// W1's difference jumps to ~1e-3 relative, for the book's NumPy code as for this. Seed 5
    /// draws weights and input with no switch that close.
    #[test]
    fn the_books_gradient_check_passes() {
        let mut rng = rng_from_seed(5);
        let net = SimpleConvNet::<f64>::new((1, 10, 10), 10, 3, 0, 1, 10, 10, 0.01, &mut rng);
        let x = Array2::from_shape_simple_fn((1, 100), || rand::RngExt::random::<f64>(&mut rng));
        let t = [1];
        let num = net.numerical_gradient(x.view(), Targets::Labels(&t));
        let bp = net.gradient(x.view(), Targets::Labels(&t));
        let rel = |a: &ndarray::ArrayD<f64>, b: &ndarray::ArrayD<f64>| {
            let mean = (a - b).mapv(f64::abs).mean().unwrap();
            let scale = b.mapv(f64::abs).mean().unwrap();
            assert!(scale > 0.0);
            mean / scale
        };
        for ((name, a), (_, b)) in num.iter().zip(bp.iter()) {
            let r = rel(a, b);
            assert!(r < 1e-5, "{name}: {r:e} relative");
        }
        let fast = Net::<f64>::from_params(
            NetSpec {
                input: vec![1, 10, 10],
                .."conv 10x3x3, relu, pool 2, affine 10, relu, affine 10"
                    .parse()
                    .unwrap()
            },
            &net.params,
        )
        .unwrap();
        let check = fast.gradient_check(&x, &t, true, LossGradient::ExactDelta, &mut rng);
        for p in &check.params {
            assert!(p.mean_abs_diff < 1e-9 * p.max_abs.max(1e-3), "{check}");
        }
    }

    #[test]
    fn im2col_and_col2im_are_adjoint() {
        // ⟨im2col(x), c⟩ = ⟨x, col2im(c)⟩: col2im is the transpose of im2col, hence the +=
        let mut rng = rng_from_seed(2);
        let x = Array4::from_shape_simple_fn((2, 3, 5, 6), || f64::standard_normal(&mut rng));
        for (f, s, p) in [(3, 1, 0), (2, 2, 1), (3, 2, 2)] {
            let col = im2col(x.view(), f, f, s, p);
            let c = Array2::from_shape_simple_fn(col.dim(), || f64::standard_normal(&mut rng));
            let back = col2im(c.view(), x.dim(), f, f, s, p);
            let lhs: f64 = (&col * &c).sum();
            let rhs: f64 = (&x * &back).sum();
            assert!((lhs - rhs).abs() < 1e-10, "{f} {s} {p}");
        }
    }
}
