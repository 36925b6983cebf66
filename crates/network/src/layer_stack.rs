//! The kernel of [`Net`](crate::Net) for every spec that is not a fully connected chapter 4–6
//! net: chapter 7's and 8's convolutional nets, any list of `conv`, `pool`, `affine`, `relu`,
//! `sigmoid` and `dropout` layers. Batches are stored one sample per row (the `(C, H, W)` values
//! of a sample in row-major order, the book's `(N, C, H, W)` memory), so that each layer is a
//! map from rows to rows; the convolution and pooling kernels are `scratchnet_tensor::conv`'s,
//! the dense products run in parallel over fixed blocks of rows. The book's classes
//! (`book::SimpleConvNet`, `book::DeepConvNet`) are the oracle this is tested against.

use ndarray::{Array1, Array2, ArrayD, ArrayView2, ArrayViewD, ArrayViewMutD, Axis, IxDyn, Zip};
use rayon::prelude::*;
use scratchnet_tensor::conv::{self, Window};
use scratchnet_tensor::{Rng, Scalar, Targets};

use crate::layers::{Dropout, LossGradient, SoftmaxWithLoss};
use serde::{Deserialize, Serialize};

use crate::{LayerSpec, NetSpec, Tensors};

/// Rows per parallel task of the dense products: fixed, so sums over the batch do not depend
/// on the number of threads.
const ROWS: usize = 50;

/// Rows evaluated at once by `predict`, `loss` and `accuracy`: bounds their memory.
pub(crate) const EVAL_ROWS: usize = 500;

/// One layer, resolved against the shape of its input.
#[derive(Clone, Debug, PartialEq)]
enum Op {
    /// Convolution with parameters `W{k}` (`FN, C, FH, FW`) and `b{k}`, at `params[2k-2..]`.
    Conv {
        g: Window,
        filters: usize,
        param: usize,
    },
    Pool {
        g: Window,
    },
    /// Affine layer with parameters at `params[param]`, `params[param + 1]`.
    Affine {
        param: usize,
    },
    Relu,
    Sigmoid,
    Dropout(f64),
}

/// A net of layers over rows, with its parameters `W1, b1, W2, b2, …` (one pair per `conv` or
/// `affine` layer, in order). It serializes as its spec and named tensors, and is rebuilt (and
/// checked) from them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound = "A: Scalar", into = "StackFile<A>", try_from = "StackFile<A>")]
pub(crate) struct LayerStack<A> {
    spec: NetSpec,
    ops: Vec<Op>,
    params: Vec<(String, ArrayD<A>)>,
    weight_decay: f64,
}

/// What a [`LayerStack`] is stored as.
#[derive(Clone, Serialize, Deserialize)]
#[serde(bound = "A: Scalar")]
pub(crate) struct StackFile<A> {
    spec: NetSpec,
    params: Vec<(String, ArrayD<A>)>,
}

impl<A: Scalar> From<LayerStack<A>> for StackFile<A> {
    fn from(s: LayerStack<A>) -> Self {
        StackFile {
            spec: s.spec,
            params: s.params,
        }
    }
}

impl<A: Scalar> TryFrom<StackFile<A>> for LayerStack<A> {
    type Error = String;
    fn try_from(f: StackFile<A>) -> Result<Self, String> {
        f.spec.validate().map_err(|e| e.to_string())?;
        LayerStack::from_params(&f.spec, &Tensors::from_pairs(f.params))
    }
}

/// What a training forward pass keeps for the backward pass, per layer.
enum Cache<A> {
    Input(Array2<A>),
    ArgMax(Vec<u32>),
    Output(Array2<A>),
    Mask(Array2<bool>),
    Nothing,
}

/// The shapes of the parameters of `spec`, in order, and its ops; or why it cannot run here.
/// A parameter's name, shape and fan-in (0 for a bias).
type ParamShape = (String, Vec<usize>, usize);

fn plan(spec: &NetSpec) -> Result<(Vec<Op>, Vec<ParamShape>), String> {
    // (channels, height, width) while the data is an image, then (features, 1, 1)
    let mut shape: [usize; 3] = match spec.input[..] {
        [c, h, w] => [c, h, w],
        [n] => [n, 1, 1],
        _ => {
            return Err(format!(
                "input shape {:?}: expected [C, H, W] or [N]",
                spec.input
            ));
        }
    };
    let (mut ops, mut shapes) = (Vec::new(), Vec::new());
    let mut k = 0;
    for l in &spec.layers {
        let op = match *l {
            LayerSpec::Conv {
                filters,
                size,
                stride,
                pad,
            } => {
                if size > shape[1] + 2 * pad || size > shape[2] + 2 * pad {
                    return Err(format!(
                        "{l}: a {size}×{size} filter does not fit {shape:?}"
                    ));
                }
                let g = Window::new(shape, size, size, stride, pad);
                k += 1;
                shapes.push((
                    format!("W{k}"),
                    vec![filters, shape[0], size, size],
                    g.taps(),
                ));
                shapes.push((format!("b{k}"), vec![filters], 0));
                shape = [filters, g.out_h(), g.out_w()];
                Op::Conv {
                    g,
                    filters,
                    param: shapes.len() - 2,
                }
            }
            LayerSpec::Pool { size, stride, pad } => {
                if size > shape[1] + 2 * pad || size > shape[2] + 2 * pad || pad >= size {
                    return Err(format!(
                        "{l}: a {size}×{size} window does not fit {shape:?}"
                    ));
                }
                let g = Window::new(shape, size, size, stride, pad);
                shape = [shape[0], g.out_h(), g.out_w()];
                Op::Pool { g }
            }
            LayerSpec::Affine(n) => {
                let fan_in = shape.iter().product();
                k += 1;
                shapes.push((format!("W{k}"), vec![fan_in, n], fan_in));
                shapes.push((format!("b{k}"), vec![n], 0));
                shape = [n, 1, 1];
                Op::Affine {
                    param: shapes.len() - 2,
                }
            }
            LayerSpec::Relu => Op::Relu,
            LayerSpec::Sigmoid => Op::Sigmoid,
            LayerSpec::Dropout(r) => Op::Dropout(r),
            LayerSpec::BatchNorm => {
                return Err("batchnorm is not supported in a net with convolutions".into());
            }
        };
        ops.push(op);
    }
    if !matches!(ops.last(), Some(Op::Affine { .. }) | Some(Op::Dropout(_))) {
        return Err("the net must end with an affine layer (then the implied softmax)".into());
    }
    if !ops.iter().any(|o| matches!(o, Op::Affine { .. })) {
        return Err("the net needs an affine layer".into());
    }
    Ok((ops, shapes))
}

/// True when [`LayerStack`] runs `spec`.
pub(crate) fn check(spec: &NetSpec) -> Result<(), String> {
    plan(spec).map(|_| ())
}

/// The number of parameters of `spec` and the number of values each sample's activations hold
/// over all layers.
pub(crate) fn counts(spec: &NetSpec) -> Result<(u128, u128), String> {
    let (ops, shapes) = plan(spec)?;
    let params = shapes
        .iter()
        .map(|(_, s, _)| s.iter().map(|&d| d as u128).product::<u128>())
        .sum();
    let mut width = spec.input.iter().map(|&d| d as u128).product::<u128>();
    let mut units = 0;
    for op in &ops {
        width = match op {
            Op::Conv { g, filters, .. } => (*filters * g.pixels()) as u128,
            Op::Pool { g } => (g.input[0] * g.pixels()) as u128,
            Op::Affine { param } => shapes[*param].1[1] as u128,
            _ => width,
        };
        units += width;
    }
    Ok((params, units))
}

impl<A: Scalar> LayerStack<A> {
    /// The net of `spec`, weights drawn from `rng` tensor by tensor (`W1` first, row-major),
    /// from N(0, σ²) with σ from the spec's init and the layer's fan-in (`C·FH·FW` for a
    /// convolution: the book's `pre_node_nums`), biases zero.
    pub(crate) fn new(spec: &NetSpec, rng: &mut Rng) -> Result<Self, String> {
        let (ops, shapes) = plan(spec)?;
        let params = shapes
            .into_iter()
            .map(|(name, shape, fan_in)| {
                let a = if fan_in == 0 {
                    ArrayD::zeros(IxDyn(&shape))
                } else {
                    let s = A::of_f64(spec.init.scale(fan_in));
                    ArrayD::from_shape_simple_fn(IxDyn(&shape), || A::standard_normal(rng) * s)
                };
                (name, a)
            })
            .collect();
        Ok(LayerStack {
            spec: spec.clone(),
            ops,
            params,
            weight_decay: spec.weight_decay,
        })
    }

    /// The net of `spec` with the given parameters, which must have the spec's names and shapes.
    pub(crate) fn from_params(spec: &NetSpec, params: &Tensors<A>) -> Result<Self, String> {
        let (ops, shapes) = plan(spec)?;
        let mut out = Vec::new();
        for (name, shape, _) in shapes {
            let a = params
                .get(&name)
                .ok_or_else(|| format!("no tensor {name} in the parameters"))?;
            if a.shape() != shape.as_slice() {
                return Err(format!(
                    "{name} has shape {:?}, the spec needs {shape:?}",
                    a.shape()
                ));
            }
            out.push((name, a.clone()));
        }
        if params.len() != out.len() {
            return Err(format!(
                "{} tensors given, the spec has {}",
                params.len(),
                out.len()
            ));
        }
        Ok(LayerStack {
            spec: spec.clone(),
            ops,
            params: out,
            weight_decay: spec.weight_decay,
        })
    }

    pub(crate) fn spec(&self) -> &NetSpec {
        &self.spec
    }

    /// The share of rows whose highest score is the target's class.
    pub(crate) fn accuracy(&self, x: ArrayView2<'_, A>, t: Targets<'_, A>) -> f64 {
        t.accuracy_of(&self.predict(x))
    }

    /// The numerical gradient of [`loss`](Self::loss) (central differences, numgrad's), tensor
    /// by tensor: the book's `numerical_gradient`. Dropout scales as at test time, as the
    /// book's `loss` runs it.
    pub(crate) fn numerical_gradient(&self, x: ArrayView2<'_, A>, t: Targets<'_, A>) -> Tensors<A> {
        let pairs = (0..self.params.len()).map(|k| {
            let g = scratchnet_numgrad::numerical_gradient(
                |p: ArrayViewD<'_, A>| {
                    let mut n = self.clone();
                    n.params[k].1.assign(&p);
                    n.loss(x, t)
                },
                &self.params[k].1,
            );
            (self.params[k].0.clone(), g)
        });
        Tensors::from_pairs(pairs.collect::<Vec<_>>())
    }

    pub(crate) fn named_tensors(&self) -> Vec<(String, ArrayViewD<'_, A>)> {
        self.params
            .iter()
            .map(|(n, a)| (n.clone(), a.view()))
            .collect()
    }

    pub(crate) fn tensors_mut(&mut self) -> Vec<ArrayViewMutD<'_, A>> {
        self.params.iter_mut().map(|(_, a)| a.view_mut()).collect()
    }

    /// A weight as the 2-D matrix its kernel takes: `(FN, C·FH·FW)` for a filter bank.
    fn matrix(&self, param: usize) -> ArrayView2<'_, A> {
        let w = &self.params[param].1;
        let rows = w.shape()[0];
        w.view()
            .into_shape_with_order((rows, w.len() / rows))
            .expect("parameters are in standard layout")
    }

    fn bias(&self, param: usize) -> ndarray::ArrayView1<'_, A> {
        self.params[param + 1]
            .1
            .view()
            .into_dimensionality()
            .expect("a bias is 1-D")
    }

    /// The scores of a batch, in test mode (dropout scales by `1 − ratio`), in chunks of
    /// [`EVAL_ROWS`] rows.
    pub(crate) fn predict(&self, x: ArrayView2<'_, A>) -> Array2<A> {
        let parts: Vec<Array2<A>> = x
            .axis_chunks_iter(Axis(0), EVAL_ROWS)
            .map(|x| self.forward(x.to_owned(), None, None))
            .collect();
        let views: Vec<_> = parts.iter().map(|p| p.view()).collect();
        ndarray::concatenate(Axis(0), &views).expect("score rows of one width")
    }

    /// `0.5·λ·Σ‖W‖²` over the weights (not the biases), as the book's nets add it.
    fn decay_term(&self) -> A {
        if self.weight_decay == 0.0 {
            return A::zero();
        }
        let sum: A = self
            .params
            .iter()
            .step_by(2)
            .map(|(_, w)| w.iter().map(|&v| v * v).sum::<A>())
            .sum();
        A::of_f64(0.5 * self.weight_decay) * sum
    }

    /// The forward pass. In training (`masks` given) each dropout layer draws its mask from the
    /// RNG and every layer's cache is kept; otherwise dropout scales by `1 − ratio`.
    fn forward(
        &self,
        mut x: Array2<A>,
        mut rng: Option<&mut Rng>,
        mut caches: Option<&mut Vec<Cache<A>>>,
    ) -> Array2<A> {
        let caching = caches.is_some();
        for op in &self.ops {
            let (y, cache) = match *op {
                Op::Conv { g, param, .. } => {
                    let y = conv::conv_forward(x.view(), self.matrix(param), self.bias(param), &g);
                    (y, Cache::Input(x))
                }
                Op::Pool { g } => {
                    let (y, arg) = conv::pool_forward(x.view(), &g);
                    (y, Cache::ArgMax(arg))
                }
                Op::Affine { param } => {
                    let y = affine_forward(x.view(), self.matrix(param), self.bias(param));
                    (y, Cache::Input(x))
                }
                Op::Relu => {
                    x.par_mapv_inplace(|v| if v > A::zero() { v } else { A::zero() });
                    let cache = caching.then(|| Cache::Output(x.clone()));
                    (x, cache.unwrap_or(Cache::Nothing))
                }
                Op::Sigmoid => {
                    x.par_mapv_inplace(scratchnet_tensor::sigmoid_scalar);
                    let cache = caching.then(|| Cache::Output(x.clone()));
                    (x, cache.unwrap_or(Cache::Nothing))
                }
                Op::Dropout(r) => match rng.as_deref_mut() {
                    Some(rng) => {
                        let mask = Dropout::draw_mask(rng, x.dim(), r);
                        Zip::from(&mut x).and(&mask).for_each(|v, &m| {
                            if !m {
                                *v = A::zero()
                            }
                        });
                        (x, Cache::Mask(mask))
                    }
                    None => {
                        let keep = A::of_f64(1.0 - r);
                        x.mapv_inplace(|v| v * keep);
                        (x, Cache::Nothing)
                    }
                },
            };
            if let Some(c) = caches.as_deref_mut() {
                c.push(cache);
            }
            x = y;
        }
        x
    }

    /// The loss of a batch in test mode, with the weight-decay term: the book's `loss`.
    pub(crate) fn loss(&self, x: ArrayView2<'_, A>, t: Targets<'_, A>) -> A {
        let y = self.predict(x);
        SoftmaxWithLoss::new().forward(y.view(), t) + self.decay_term()
    }

    /// The loss (train mode) and the gradients of every parameter by backpropagation; dropout
    /// masks drawn from `rng`, in layer order.
    pub(crate) fn gradient(
        &self,
        x: ArrayView2<'_, A>,
        t: Targets<'_, A>,
        rng: &mut Rng,
    ) -> (A, Tensors<A>) {
        self.gradient_with(x, t, rng, LossGradient::Book)
    }

    /// [`gradient`](Self::gradient) with the last layer's backward pass of choice.
    pub(crate) fn gradient_with(
        &self,
        x: ArrayView2<'_, A>,
        t: Targets<'_, A>,
        rng: &mut Rng,
        loss_gradient: LossGradient,
    ) -> (A, Tensors<A>) {
        let mut caches = Vec::with_capacity(self.ops.len());
        let y = self.forward(x.to_owned(), Some(rng), Some(&mut caches));
        let mut last = SoftmaxWithLoss::with_gradient(loss_gradient);
        let loss = last.forward(y.view(), t) + self.decay_term();
        let mut dout = last.backward(A::one());
        let mut grads: Vec<Option<ArrayD<A>>> = vec![None; self.params.len()];
        for (i, (op, cache)) in self.ops.iter().zip(caches).enumerate().rev() {
            // the first layer's input gradient is never used
            let need_dx = i > 0;
            dout = match (op, cache) {
                (&Op::Conv { g, param, filters }, Cache::Input(x)) => {
                    let (dx, dw, db) =
                        conv::conv_backward(x.view(), self.matrix(param), dout.view(), &g, need_dx);
                    let shape = self.params[param].1.raw_dim();
                    let dw = dw.into_shape_with_order(shape).expect("dW has W's shape");
                    grads[param] = Some(self.decayed(param, dw));
                    grads[param + 1] = Some(db.into_dyn());
                    debug_assert_eq!(filters, grads[param + 1].as_ref().map_or(0, |d| d.len()));
                    dx.unwrap_or_default()
                }
                (&Op::Pool { g }, Cache::ArgMax(arg)) => conv::pool_backward(dout.view(), &arg, &g),
                (&Op::Affine { param }, Cache::Input(x)) => {
                    let (dx, dw, db) =
                        affine_backward(x.view(), self.matrix(param), dout.view(), need_dx);
                    grads[param] = Some(self.decayed(param, dw.into_dyn()));
                    grads[param + 1] = Some(db.into_dyn());
                    dx.unwrap_or_default()
                }
                (Op::Relu, Cache::Output(y)) => {
                    Zip::from(&mut dout).and(&y).par_for_each(|d, &y| {
                        if y <= A::zero() {
                            *d = A::zero()
                        }
                    });
                    dout
                }
                (Op::Sigmoid, Cache::Output(y)) => {
                    Zip::from(&mut dout)
                        .and(&y)
                        .par_for_each(|d, &y| *d = *d * (A::one() - y) * y);
                    dout
                }
                (Op::Dropout(_), Cache::Mask(mask)) => {
                    Zip::from(&mut dout).and(&mask).for_each(|d, &m| {
                        if !m {
                            *d = A::zero()
                        }
                    });
                    dout
                }
                _ => unreachable!("every op caches its own kind"),
            };
        }
        let grads = self
            .params
            .iter()
            .zip(grads)
            .map(|((n, _), g)| (n.clone(), g.expect("every parameter has a gradient")));
        (loss, Tensors::from_pairs(grads))
    }

    /// `dW + λ·W`, the weight-decay term's gradient added (weights only).
    fn decayed(&self, param: usize, mut dw: ArrayD<A>) -> ArrayD<A> {
        if self.weight_decay != 0.0 {
            let l = A::of_f64(self.weight_decay);
            Zip::from(&mut dw)
                .and(&self.params[param].1)
                .for_each(|d, &w| *d += l * w);
        }
        dw
    }
}

/// `x·W + b`, in parallel over fixed blocks of rows.
fn affine_forward<A: Scalar>(
    x: ArrayView2<'_, A>,
    w: ArrayView2<'_, A>,
    b: ndarray::ArrayView1<'_, A>,
) -> Array2<A> {
    let mut y = Array2::zeros((x.nrows(), w.ncols()));
    y.axis_chunks_iter_mut(Axis(0), ROWS)
        .into_par_iter()
        .zip(x.axis_chunks_iter(Axis(0), ROWS).into_par_iter())
        .for_each(|(mut y, x)| {
            let dim = y.dim();
            y.assign(&b.broadcast(dim).expect("b has W's columns"));
            ndarray::linalg::general_mat_mul(A::one(), &x, &w, A::one(), &mut y);
        });
    y
}

/// `(dout·Wᵀ, xᵀ·dout, Σ_rows dout)`, the first only when `need_dx`; the sums over the batch
/// are summed per fixed block of rows, then over the blocks in order.
fn affine_backward<A: Scalar>(
    x: ArrayView2<'_, A>,
    w: ArrayView2<'_, A>,
    dout: ArrayView2<'_, A>,
    need_dx: bool,
) -> (Option<Array2<A>>, Array2<A>, Array1<A>) {
    let parts: Vec<(Array2<A>, Array1<A>)> = x
        .axis_chunks_iter(Axis(0), ROWS)
        .into_par_iter()
        .zip(dout.axis_chunks_iter(Axis(0), ROWS).into_par_iter())
        .map(|(x, d)| (x.t().dot(&d), d.sum_axis(Axis(0))))
        .collect();
    let mut dw = Array2::zeros(w.dim());
    let mut db = Array1::zeros(w.ncols());
    for (pw, pb) in parts {
        dw += &pw;
        db += &pb;
    }
    let dx = need_dx.then(|| {
        let mut dx = Array2::zeros((dout.nrows(), w.nrows()));
        dx.axis_chunks_iter_mut(Axis(0), ROWS)
            .into_par_iter()
            .zip(dout.axis_chunks_iter(Axis(0), ROWS).into_par_iter())
            .for_each(|(mut dx, d)| {
                ndarray::linalg::general_mat_mul(A::one(), &d, &w.t(), A::zero(), &mut dx)
            });
        dx
    });
    (dx, dw, db)
}

#[cfg(test)]
mod tests {
    use super::*;
    use scratchnet_numgrad::numerical_gradient;
    use scratchnet_tensor::rng_from_seed;

    fn small(text: &str, input: &[usize]) -> (LayerStack<f64>, Array2<f64>, Vec<usize>) {
        let mut spec: NetSpec = text.parse().unwrap();
        spec.input = input.to_vec();
        spec.init = crate::WeightInit::Std(0.3);
        let mut rng = rng_from_seed(7);
        let net = LayerStack::new(&spec, &mut rng).unwrap();
        let n = 3;
        let x = Array2::from_shape_simple_fn((n, input.iter().product()), || {
            f64::standard_normal(&mut rng)
        });
        (net, x, vec![1, 0, 2])
    }

    /// Backprop equals the central-difference gradient of the loss (numgrad, h = 1e-4) for a
    /// net of every layer kind: the chain rule against the definition of the derivative.
    #[test]
    fn backprop_equals_the_numerical_gradient_of_the_loss() {
        let (mut net, x, t) = small(
            "conv 3x3x3 pad 1, relu, pool 2, conv 2x2x2 stride 2 pad 1, sigmoid, affine 5, relu, affine 3",
            &[2, 6, 6],
        );
        net.weight_decay = 0.1;
        let mut rng = rng_from_seed(1);
        let (loss, grads) = net.gradient(x.view(), Targets::Labels(&t), &mut rng);
        assert!((loss - net.loss(x.view(), Targets::Labels(&t))).abs() < 1e-12);
        for (k, (name, g)) in grads.iter().enumerate() {
            let num = numerical_gradient(
                |p: ndarray::ArrayViewD<'_, f64>| {
                    let mut n = net.clone();
                    n.params[k].1.assign(&p);
                    n.loss(x.view(), Targets::Labels(&t))
                },
                &net.params[k].1,
            );
            let scale = num.iter().fold(1e-3f64, |m, v| m.max(v.abs()));
            let diff = (&num - g).iter().fold(0.0f64, |m, v| m.max(v.abs()));
            // central differences are exact to O(h²) ≈ 1e-8 here; the δ of the loss and the
            // book's (y − t)/N differ by at most ~1e-7 relative
            assert!(
                diff / scale < 1e-5,
                "{name}: max diff {diff:e}, scale {scale:e}"
            );
        }
    }

    /// Dropout in training keeps the units its mask keeps and scales nothing; at test time it
    /// scales by 1 − ratio (the book's `Dropout`).
    #[test]
    fn dropout_follows_the_book_in_both_modes() {
        let (net, x, t) = small("affine 4, relu, dropout 0.5, affine 3", &[5]);
        let test = net.predict(x.view());
        let mut rng = rng_from_seed(3);
        let (_, g1) = net.gradient(x.view(), Targets::Labels(&t), &mut rng);
        let mut rng = rng_from_seed(3);
        let (_, g2) = net.gradient(x.view(), Targets::Labels(&t), &mut rng);
        assert_eq!(g1, g2, "same seed, same masks");
        // test mode by hand: relu(x·W1 + b1)·0.5·W2 + b2
        let h = (x.dot(&net.matrix(0)) + net.bias(0)).mapv(|v| v.max(0.0) * 0.5);
        let want = h.dot(&net.matrix(2)) + net.bias(2);
        assert!((&test - &want).iter().all(|d| d.abs() < 1e-12));
    }

    #[test]
    fn specs_it_cannot_run_are_refused_with_the_layer() {
        for (text, input, needle) in [
            ("conv 3x9x9, relu, affine 2", vec![1, 5, 5], "does not fit"),
            (
                "conv 3x3x3, batchnorm, affine 2",
                vec![1, 5, 5],
                "batchnorm",
            ),
            ("conv 3x3x3, relu", vec![1, 5, 5], "end with an affine"),
        ] {
            let mut spec: NetSpec = text.parse().unwrap();
            spec.input = input;
            let e = check(&spec).unwrap_err();
            assert!(e.contains(needle), "{text}: {e}");
        }
    }
}
