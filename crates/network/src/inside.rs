//! [`Net::activations`]: what every layer outputs for one input, for pictures of a net at work
//! (`scratchnet serve`). It runs the book's layers one by one over the net's parameters, in test
//! mode, so it is slower than [`Net::predict`] and equal to it (tested).

use ndarray::{Array2, ArrayD, ArrayView1, Ix1, Ix2, Ix4, IxDyn};
use scratchnet_tensor::Scalar;

use crate::book::{Convolution, Pooling};
use crate::layers::{Affine, BatchNormalization, Dropout, Layer, Mode, Relu, Sigmoid};
use crate::{LayerSpec, Net, Tensors};

impl<A: Scalar> Net<A> {
    /// The output of each layer of [`spec().layers`](crate::NetSpec::layers) for the one sample
    /// `x` (its `input_size()` values, row-major), in test mode: `(C, H, W)` while the data is
    /// an image, `(N,)` after an affine layer. The last is the scores before the softmax (what
    /// [`predict`](Self::predict) returns, except for the chapter 4 net, whose `predict` is the
    /// book's and applies the softmax).
    ///
    /// ```
    /// use scratchnet_network::{Net, NetSpec};
    /// let spec: NetSpec = "conv 2x3x3, relu, pool 2, affine 3".parse().unwrap();
    /// let net = Net::<f64>::new(spec.with_input(&[1, 6, 6]), &mut scratchnet_tensor::rng_from_seed(0)).unwrap();
    /// let x = ndarray::Array1::from_shape_fn(36, |i| (i % 5) as f64 / 4.0);
    /// let a = net.activations(x.view());
    /// let shapes: Vec<&[usize]> = a.iter().map(|a| a.shape()).collect();
    /// assert_eq!(shapes, [&[2, 4, 4][..], &[2, 4, 4], &[2, 2, 2], &[3]]);
    /// let scores = net.predict(&x.into_shape_with_order((1, 36)).unwrap());
    /// assert!(a[3].iter().zip(scores.iter()).all(|(a, b)| (a - b).abs() < 1e-12));
    /// ```
    ///
    /// # Panics
    /// If `x` does not have `spec().input_size()` values.
    pub fn activations(&self, x: ArrayView1<'_, A>) -> Vec<ArrayD<A>> {
        let spec = self.spec();
        assert_eq!(
            x.len(),
            spec.input_size(),
            "the input has {} values, the net takes {}",
            x.len(),
            spec.input_size()
        );
        let (params, state) = (self.params(), self.state());
        let matrix = |name: String| {
            params[name.as_str()]
                .view()
                .into_dimensionality::<Ix2>()
                .expect("a weight matrix")
        };
        // (C, H, W) of an image, [n] after an affine layer
        let mut shape: Vec<usize> = spec.input.clone();
        let mut row: Array2<A> = x.to_owned().insert_axis(ndarray::Axis(0));
        let (mut k, mut bn) = (0, 0);
        let mut out = Vec::with_capacity(spec.layers.len());
        for layer in &spec.layers {
            let chw = || match shape[..] {
                [c, h, w] => (c, h, w),
                _ => unreachable!("a conv or pool layer takes an image: the spec is validated"),
            };
            row = match *layer {
                LayerSpec::Affine(n) => {
                    k += 1;
                    shape = vec![n];
                    Affine::new(matrix(format!("W{k}")), vector(&params, format!("b{k}")))
                        .forward(row.view(), Mode::Test)
                }
                LayerSpec::Conv { stride, pad, .. } => {
                    k += 1;
                    let w = params[format!("W{k}").as_str()]
                        .view()
                        .into_dimensionality::<Ix4>()
                        .expect("filters (FN, C, FH, FW)");
                    let mut conv =
                        Convolution::new(w, vector(&params, format!("b{k}")), stride, pad, chw());
                    let (f, h, w) = conv.output_shape();
                    shape = vec![f, h, w];
                    conv.forward(row.view(), Mode::Test)
                }
                LayerSpec::Pool { size, stride, pad } => {
                    let mut pool = Pooling::new(size, size, stride, pad, chw());
                    let (c, h, w) = pool.output_shape();
                    shape = vec![c, h, w];
                    pool.forward(row.view(), Mode::Test)
                }
                LayerSpec::BatchNorm => {
                    bn += 1;
                    let running = |name: &str| vector(&state, format!("{name}{bn}")).to_owned();
                    BatchNormalization::new(
                        vector(&params, format!("gamma{bn}")),
                        vector(&params, format!("beta{bn}")),
                    )
                    .with_running(running("running_mean"), running("running_var"))
                    .forward(row.view(), Mode::Test)
                }
                LayerSpec::Relu => Relu::new().forward(row.view(), Mode::Test),
                LayerSpec::Sigmoid => Sigmoid::new().forward(row.view(), Mode::Test),
                LayerSpec::Dropout(r) => Dropout::test_only(r).forward(row.view(), Mode::Test),
            };
            out.push(
                row.clone()
                    .into_shape_with_order(IxDyn(&shape))
                    .expect("one sample's values"),
            );
        }
        out
    }
}

/// The vector `name` of `t`.
fn vector<A: Scalar>(t: &Tensors<A>, name: String) -> ArrayView1<'_, A> {
    t[name.as_str()]
        .view()
        .into_dimensionality::<Ix1>()
        .expect("a vector")
}

#[cfg(test)]
mod tests {
    use crate::{Activation, Net, NetSpec, WeightInit};
    use ndarray::Array1;
    use scratchnet_tensor::rng_from_seed;

    /// exp(a − max) / Σ exp(a − max).
    fn softmax<'a>(a: impl Iterator<Item = &'a f64> + Clone) -> Vec<f64> {
        let max = a.clone().fold(f64::NEG_INFINITY, |m, &v| m.max(v));
        let e: Vec<f64> = a.map(|v| (v - max).exp()).collect();
        let sum: f64 = e.iter().sum();
        e.iter().map(|v| v / sum).collect()
    }

    /// Every kind of net: the last activation is `predict`'s scores, each one has the shape the
    /// layer gives, and the ReLU/sigmoid outputs are those functions of the layer before.
    #[test]
    fn the_last_activation_is_predict_for_every_kind_of_net() {
        let dense = |s: &str| s.parse::<NetSpec>().unwrap().with_input(&[12]);
        let specs = [
            NetSpec::two_layer_net(12, 5, 3, 0.5),
            dense("affine 6, relu, affine 4, relu, affine 3").with_init(WeightInit::He),
            NetSpec::multi_layer_net_extend(
                12,
                &[6, 5],
                3,
                Activation::Sigmoid,
                WeightInit::Xavier,
                0.1,
                Some(0.3),
                true,
            ),
            "conv 3x3x3 pad 1, relu, pool 2, affine 5, sigmoid, dropout 0.5, affine 3"
                .parse::<NetSpec>()
                .unwrap()
                .with_input(&[1, 4, 3]),
        ];
        for spec in specs {
            let mut rng = rng_from_seed(4);
            let mut net = Net::<f64>::new(spec.clone(), &mut rng).unwrap();
            // move the batch norm's running statistics off their initial 0 and 1
            let xb = scratchnet_tensor::randn((8, 12), 1.0, &mut rng);
            let _ = net.gradient(&xb, &[0, 1, 2, 0, 1, 2, 0, 1], &mut rng);
            let x = Array1::from_shape_fn(12, |i| (i as f64 * 0.37).sin());
            let a = net.activations(x.view());
            assert_eq!(a.len(), spec.layers.len(), "{spec}");
            let predicted = net.predict(&x.clone().insert_axis(ndarray::Axis(0)));
            let last = a.last().unwrap();
            assert_eq!(last.shape(), [3]);
            // `predict` of the chapter 4 net is the book's: the softmax already applied
            let want = if spec.is_two_layer_net() {
                predicted.row(0).to_vec()
            } else {
                softmax(predicted.iter())
            };
            for (p, q) in softmax(last.iter()).iter().zip(&want) {
                assert!((p - q).abs() < 1e-12, "{spec}: {p} vs {q}");
            }
            for (i, l) in spec.layers.iter().enumerate().skip(1) {
                let before = &a[i - 1];
                match l {
                    crate::LayerSpec::Relu => assert_eq!(a[i], before.mapv(|v| v.max(0.0))),
                    crate::LayerSpec::Sigmoid => {
                        for (s, v) in a[i].iter().zip(before) {
                            assert!((s - 1.0 / (1.0 + (-v).exp())).abs() < 1e-15);
                        }
                    }
                    _ => {}
                }
            }
        }
    }
}
