//! [`NetSpec`]: what a [`Net`](crate::Net) is, as data. The input shape, the book's layers in
//! order, the weight initialisation and the weight decay; serde, validated, readable as text
//! (`"affine 50, sigmoid, affine 10"`), and able to estimate the memory a batch needs.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::{Activation, WeightInit};

/// One layer of a [`NetSpec`], as the book names them. The last layer of every net is the
/// book's `SoftmaxWithLoss`, implied and not listed.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LayerSpec {
    /// `Affine` with this many outputs.
    Affine(usize),
    /// `Relu`.
    Relu,
    /// `Sigmoid`.
    Sigmoid,
    /// `BatchNormalization` over the previous layer's outputs.
    BatchNorm,
    /// `Dropout` with this ratio, in `[0, 1)`.
    Dropout(f64),
    /// `Convolution` (chapter 7): `filters` filters of `size`×`size`.
    Conv {
        /// Number of filters (`filter_num`).
        filters: usize,
        /// Filter height and width (`filter_size`).
        size: usize,
        /// Stride.
        stride: usize,
        /// Zero padding.
        pad: usize,
    },
    /// Max `Pooling` (chapter 7) over `size`×`size` windows.
    Pool {
        /// Window height and width.
        size: usize,
        /// Stride.
        stride: usize,
        /// Zero padding.
        pad: usize,
    },
}

impl fmt::Display for LayerSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            LayerSpec::Affine(n) => write!(f, "affine {n}"),
            LayerSpec::Relu => f.write_str("relu"),
            LayerSpec::Sigmoid => f.write_str("sigmoid"),
            LayerSpec::BatchNorm => f.write_str("batchnorm"),
            LayerSpec::Dropout(r) => write!(f, "dropout {r}"),
            LayerSpec::Conv {
                filters,
                size,
                stride,
                pad,
            } => {
                write!(f, "conv {filters}x{size}x{size}")?;
                if stride != 1 {
                    write!(f, " stride {stride}")?;
                }
                if pad != 0 {
                    write!(f, " pad {pad}")?;
                }
                Ok(())
            }
            LayerSpec::Pool { size, stride, pad } => {
                write!(f, "pool {size}")?;
                if stride != size {
                    write!(f, " stride {stride}")?;
                }
                if pad != 0 {
                    write!(f, " pad {pad}")?;
                }
                Ok(())
            }
        }
    }
}

fn number<T: FromStr>(word: Option<&str>, what: &str, layer: &str) -> Result<T, String> {
    word.and_then(|w| w.parse().ok())
        .ok_or_else(|| format!("{layer:?}: expected {what}"))
}

/// `[stride S] [pad P]` after a conv or pool layer.
fn options<'a>(
    words: &mut impl Iterator<Item = &'a str>,
    (mut stride, mut pad): (usize, usize),
    layer: &str,
) -> Result<(usize, usize), String> {
    while let Some(key) = words.next() {
        let v = number(words.next(), "a number after stride/pad", layer)?;
        match key {
            "stride" => stride = v,
            "pad" => pad = v,
            _ => return Err(format!("{layer:?}: unknown option {key:?}")),
        }
    }
    Ok((stride, pad))
}

impl FromStr for LayerSpec {
    type Err = String;

    /// `affine 50`, `relu`, `sigmoid`, `batchnorm`, `dropout 0.5`, `conv 30x5x5 [stride 1]
    /// [pad 0]`, `pool 2 [stride 2] [pad 0]`.
    fn from_str(s: &str) -> Result<Self, String> {
        let mut words = s.split_whitespace();
        let kind = words.next().unwrap_or("").to_ascii_lowercase();
        let layer = match kind.as_str() {
            "affine" => LayerSpec::Affine(number(words.next(), "a size: affine 50", s)?),
            "relu" => LayerSpec::Relu,
            "sigmoid" => LayerSpec::Sigmoid,
            "batchnorm" | "batch_norm" => LayerSpec::BatchNorm,
            "dropout" => LayerSpec::Dropout(number(words.next(), "a ratio: dropout 0.5", s)?),
            "conv" => {
                let dims: Vec<usize> = words
                    .next()
                    .unwrap_or("")
                    .split('x')
                    .map(|d| {
                        d.parse()
                            .map_err(|_| format!("{s:?}: expected conv 30x5x5"))
                    })
                    .collect::<Result<_, _>>()?;
                let [filters, h, w] = dims[..] else {
                    return Err(format!(
                        "{s:?}: expected conv FILTERSxHxW, e.g. conv 30x5x5"
                    ));
                };
                if h != w {
                    return Err(format!("{s:?}: only square filters are supported"));
                }
                let (stride, pad) = options(&mut words, (1, 0), s)?;
                LayerSpec::Conv {
                    filters,
                    size: h,
                    stride,
                    pad,
                }
            }
            "pool" => {
                let size = number(words.next(), "a size: pool 2", s)?;
                let (stride, pad) = options(&mut words, (size, 0), s)?;
                LayerSpec::Pool { size, stride, pad }
            }
            _ => {
                return Err(format!(
                    "unknown layer {s:?}: expected affine N, relu, sigmoid, batchnorm, \
                     dropout R, conv FxHxW or pool S"
                ));
            }
        };
        match words.next() {
            Some(extra) => Err(format!("{s:?}: unexpected {extra:?}")),
            None => Ok(layer),
        }
    }
}

/// The description of a net: input shape, the book's layers in order (the final
/// `SoftmaxWithLoss` implied), weight initialisation and L2 weight decay λ.
///
/// ```
/// use scratchnet_network::{LayerSpec, NetSpec};
/// let spec: NetSpec = "affine 50, sigmoid, affine 10".parse().unwrap();
/// assert_eq!(spec.layers, [LayerSpec::Affine(50), LayerSpec::Sigmoid, LayerSpec::Affine(10)]);
/// assert_eq!(spec, NetSpec::two_layer_net(784, 50, 10, 0.01));
/// assert_eq!(spec.to_string(), "affine 50, sigmoid, affine 10");
/// assert_eq!(spec.sizes(), [784, 50, 10]);
/// spec.validate().unwrap();
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NetSpec {
    /// The shape of one sample: `[784]`, or `[1, 28, 28]` for a convolutional net.
    pub input: Vec<usize>,
    /// The layers, input side first.
    pub layers: Vec<LayerSpec>,
    /// How the weights are drawn.
    pub init: WeightInit,
    /// λ of the L2 weight decay (§6.4.1), 0 for none.
    pub weight_decay: f64,
}

impl fmt::Display for NetSpec {
    /// The layers as [`FromStr`] reads them (input shape, init and decay are not part of it).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, l) in self.layers.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{l}")?;
        }
        Ok(())
    }
}

impl FromStr for NetSpec {
    type Err = String;

    /// Comma-separated layers over MNIST's `[784]` input (`[1, 28, 28]` when the first layer is
    /// `conv`), with the book's `weight_init_std = 0.01` and no weight decay.
    fn from_str(s: &str) -> Result<Self, String> {
        let layers = s
            .split(',')
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::parse)
            .collect::<Result<Vec<LayerSpec>, _>>()?;
        let input = match layers.first() {
            Some(LayerSpec::Conv { .. }) => vec![1, 28, 28],
            _ => vec![784],
        };
        Ok(NetSpec {
            input,
            layers,
            init: WeightInit::Std(0.01),
            weight_decay: 0.0,
        })
    }
}

/// The structure of a fully connected net of the book's chapter 6, as [`NetSpec::dense`] reads
/// it.
#[derive(Clone, Debug, PartialEq)]
pub struct Dense {
    /// The affine layers' widths, input first: `[784, 100, 100, 10]`.
    pub sizes: Vec<usize>,
    /// The hidden layers' activation.
    pub activation: Activation,
    /// Batch normalisation after each hidden affine layer.
    pub batch_norm: bool,
    /// The dropout ratio after each hidden activation, if any.
    pub dropout: Option<f64>,
}

/// Records `v` in `seen`, or checks it equals what was seen.
fn same<T: PartialEq>(seen: &mut Option<T>, v: T, what: &str) -> Result<(), String> {
    match seen {
        None => {
            *seen = Some(v);
            Ok(())
        }
        Some(s) if *s == v => Ok(()),
        Some(_) => Err(format!("every hidden layer must have the same {what}")),
    }
}

impl NetSpec {
    /// The book's `TwoLayerNet(input_size, hidden_size, output_size, weight_init_std)` (§4.5.1).
    pub fn two_layer_net(input: usize, hidden: usize, output: usize, weight_init_std: f64) -> Self {
        NetSpec {
            input: vec![input],
            layers: vec![
                LayerSpec::Affine(hidden),
                LayerSpec::Sigmoid,
                LayerSpec::Affine(output),
            ],
            init: WeightInit::Std(weight_init_std),
            weight_decay: 0.0,
        }
    }

    /// The book's `MultiLayerNet(input_size, hidden_size_list, output_size, activation,
    /// weight_init_std, weight_decay_lambda)` (§6).
    ///
    /// ```
    /// use scratchnet_network::{Activation, NetSpec, WeightInit};
    /// let s = NetSpec::multi_layer_net(784, &[100, 100], 10, Activation::Relu, WeightInit::He, 0.0);
    /// assert_eq!(s.to_string(), "affine 100, relu, affine 100, relu, affine 10");
    /// ```
    pub fn multi_layer_net(
        input: usize,
        hidden: &[usize],
        output: usize,
        activation: Activation,
        init: WeightInit,
        weight_decay: f64,
    ) -> Self {
        Self::multi_layer_net_extend(
            input,
            hidden,
            output,
            activation,
            init,
            weight_decay,
            None,
            false,
        )
    }

    /// The book's `MultiLayerNetExtend(…, use_dropout, dropout_ration, use_batchnorm)`
    /// (§6.3–6.4): `Affine → [BatchNorm] → activation → [Dropout]` per hidden layer.
    ///
    /// ```
    /// use scratchnet_network::{Activation, NetSpec, WeightInit};
    /// let s = NetSpec::multi_layer_net_extend(784, &[50], 10, Activation::Relu, WeightInit::He,
    ///     0.0, Some(0.2), true);
    /// assert_eq!(s.to_string(), "affine 50, batchnorm, relu, dropout 0.2, affine 10");
    /// ```
    #[allow(clippy::too_many_arguments)]
    pub fn multi_layer_net_extend(
        input: usize,
        hidden: &[usize],
        output: usize,
        activation: Activation,
        init: WeightInit,
        weight_decay: f64,
        dropout: Option<f64>,
        batch_norm: bool,
    ) -> Self {
        let mut layers = Vec::new();
        for &h in hidden {
            layers.push(LayerSpec::Affine(h));
            if batch_norm {
                layers.push(LayerSpec::BatchNorm);
            }
            layers.push(match activation {
                Activation::Relu => LayerSpec::Relu,
                Activation::Sigmoid => LayerSpec::Sigmoid,
            });
            if let Some(r) = dropout {
                layers.push(LayerSpec::Dropout(r));
            }
        }
        layers.push(LayerSpec::Affine(output));
        NetSpec {
            input: vec![input],
            layers,
            init,
            weight_decay,
        }
    }

    /// The number of input features (the product of the input shape).
    pub fn input_size(&self) -> usize {
        self.input.iter().product()
    }

    /// The widths of a fully connected net, input first (`[784, 50, 10]`); for a net with
    /// convolutions, the flattened input size and the affine widths.
    pub fn sizes(&self) -> Vec<usize> {
        std::iter::once(self.input_size())
            .chain(self.layers.iter().filter_map(|l| match l {
                LayerSpec::Affine(n) => Some(*n),
                _ => None,
            }))
            .collect()
    }

    /// The number of classes: the last affine layer's width.
    pub fn output_size(&self) -> usize {
        self.sizes().last().copied().unwrap_or(0)
    }

    /// True for the notebook's net: `affine H, sigmoid, affine O` with weights of one standard
    /// deviation and no weight decay, which has fused kernels and the fast numerical gradient.
    pub fn is_two_layer_net(&self) -> bool {
        self.input.len() == 1
            && matches!(
                self.layers[..],
                [
                    LayerSpec::Affine(_),
                    LayerSpec::Sigmoid,
                    LayerSpec::Affine(_)
                ]
            )
            && matches!(self.init, WeightInit::Std(_))
            && self.weight_decay == 0.0
    }

    /// The structure of a fully connected net of the book's chapter 6 (every hidden layer
    /// `Affine → [BatchNorm] → activation → [Dropout]`, one activation, batch norm everywhere or
    /// nowhere, one dropout ratio), or why this spec is not one.
    ///
    /// ```
    /// let spec: scratchnet_network::NetSpec = "affine 8, relu, dropout 0.5, affine 10".parse().unwrap();
    /// let d = spec.dense().unwrap();
    /// assert_eq!((d.sizes, d.dropout), (vec![784, 8, 10], Some(0.5)));
    /// ```
    pub fn dense(&self) -> Result<Dense, String> {
        if self.input.len() != 1 {
            return Err(
                "this build runs fully connected nets only (input of one dimension)".into(),
            );
        }
        let mut sizes = vec![self.input[0]];
        let mut activation = None;
        let mut batch_norm = None;
        let mut dropout: Option<Option<f64>> = None;
        let mut rest = &self.layers[..];
        loop {
            let Some((&LayerSpec::Affine(n), tail)) = rest.split_first() else {
                return Err("every hidden block and the net must end with an affine layer".into());
            };
            sizes.push(n);
            if tail.is_empty() {
                break;
            }
            let mut block = tail;
            let bn = block.first() == Some(&LayerSpec::BatchNorm);
            if bn {
                block = &block[1..];
            }
            let act = match block.first() {
                Some(LayerSpec::Relu) => Activation::Relu,
                Some(LayerSpec::Sigmoid) => Activation::Sigmoid,
                _ => return Err("after affine [batchnorm] comes relu or sigmoid".into()),
            };
            block = &block[1..];
            let drop = match block.first() {
                Some(&LayerSpec::Dropout(r)) => {
                    block = &block[1..];
                    Some(r)
                }
                _ => None,
            };
            same(&mut activation, act, "activation")?;
            same(&mut batch_norm, bn, "batch norm")?;
            same(&mut dropout, drop, "dropout")?;
            rest = block;
        }
        Ok(Dense {
            sizes,
            activation: activation.unwrap_or(Activation::Sigmoid),
            batch_norm: batch_norm.unwrap_or(false),
            dropout: dropout.flatten(),
        })
    }

    /// Checks the spec: sizes ≥ 1, a finite init σ ≥ 0 and λ ≥ 0, dropout in `[0, 1)`, and a
    /// structure this build runs. The error names the layer or value.
    ///
    /// ```
    /// let bad: scratchnet_network::NetSpec = "affine 0, relu, affine 10".parse().unwrap();
    /// assert!(bad.validate().unwrap_err().to_string().contains("affine 0"));
    /// ```
    pub fn validate(&self) -> Result<(), crate::ModelError> {
        let err = |m: String| Err(crate::ModelError::Spec(m));
        if self.input.is_empty() || self.input.contains(&0) {
            return err(format!("input shape {:?} must have sizes ≥ 1", self.input));
        }
        for l in &self.layers {
            let ok = match *l {
                LayerSpec::Affine(n) => n >= 1,
                LayerSpec::Dropout(r) => (0.0..1.0).contains(&r),
                LayerSpec::Conv {
                    filters,
                    size,
                    stride,
                    ..
                } => filters >= 1 && size >= 1 && stride >= 1,
                LayerSpec::Pool { size, stride, .. } => size >= 1 && stride >= 1,
                _ => true,
            };
            if !ok {
                return err(format!("layer {l:?} ({l}) is out of range"));
            }
        }
        if let WeightInit::Std(s) = self.init
            && !(s.is_finite() && s >= 0.0)
        {
            return err(format!("weight init σ {s} must be finite and ≥ 0"));
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return err(format!(
                "weight decay {} must be finite and ≥ 0",
                self.weight_decay
            ));
        }
        match self.dense() {
            Ok(_) => Ok(()),
            Err(dense) => {
                let convolutional = self.input.len() == 3
                    || self
                        .layers
                        .iter()
                        .any(|l| matches!(l, LayerSpec::Conv { .. } | LayerSpec::Pool { .. }));
                match crate::layer_stack::check(self) {
                    Ok(()) if convolutional => Ok(()),
                    Ok(()) => err(dense),
                    Err(e) => err(if convolutional { e } else { dense }),
                }
            }
        }
    }

    /// The book's `SimpleConvNet` (`ch07/simple_convnet.py`) with its defaults: input
    /// `(1, 28, 28)`, `conv_param = {filter_num: 30, filter_size: 5, pad: 0, stride: 1}`,
    /// `hidden_size = 100`, `output_size = 10`, `weight_init_std = 0.01`:
    /// conv → ReLU → pool 2×2 → affine 100 → ReLU → affine 10.
    ///
    /// ```
    /// let s = scratchnet_network::NetSpec::simple_conv_net();
    /// assert_eq!(s.to_string(), "conv 30x5x5, relu, pool 2, affine 100, relu, affine 10");
    /// assert_eq!(s.param_count(), 30 * 25 + 30 + 4320 * 100 + 100 + 100 * 10 + 10);
    /// ```
    pub fn simple_conv_net() -> Self {
        NetSpec {
            input: vec![1, 28, 28],
            layers: "conv 30x5x5, relu, pool 2, affine 100, relu, affine 10"
                .parse::<NetSpec>()
                .expect("a valid layer list")
                .layers,
            init: WeightInit::Std(0.01),
            weight_decay: 0.0,
        }
    }

    /// The book's `DeepConvNet` (`ch08/deep_convnet.py`): three blocks of conv-ReLU-conv-ReLU-pool
    /// with 16, 16, 32, 32, 64, 64 filters of 3×3 (pad 1, but pad 2 on the fourth), then affine
    /// 50, ReLU, dropout 0.5, affine 10, dropout 0.5. He initialisation: each layer's σ is
    /// `√(2 / n)` with `n` its inputs per output, the book's `pre_node_nums`
    /// `[1·9, 16·9, 16·9, 32·9, 32·9, 64·9, 64·4·4, 50]`: a 3×3 filter over `C` channels sees
    /// `C·9` values, the first affine layer the 64 channels of 4×4 left by the third pool.
    ///
    /// ```
    /// let s = scratchnet_network::NetSpec::deep_conv_net();
    /// assert_eq!(s.sizes(), [784, 50, 10]);
    /// s.validate().unwrap();
    /// ```
    pub fn deep_conv_net() -> Self {
        NetSpec {
            input: vec![1, 28, 28],
            layers: "conv 16x3x3 pad 1, relu, conv 16x3x3 pad 1, relu, pool 2, \
                     conv 32x3x3 pad 1, relu, conv 32x3x3 pad 2, relu, pool 2, \
                     conv 64x3x3 pad 1, relu, conv 64x3x3 pad 1, relu, pool 2, \
                     affine 50, relu, dropout 0.5, affine 10, dropout 0.5"
                .parse::<NetSpec>()
                .expect("a valid layer list")
                .layers,
            init: WeightInit::He,
            weight_decay: 0.0,
        }
    }

    /// The number of trained scalars (weights, biases, γ and β).
    pub fn param_count(&self) -> u128 {
        if self.dense().is_err()
            && let Ok((n, _)) = crate::layer_stack::counts(self)
        {
            return n;
        }
        let mut n = 0u128;
        let mut width = self.input_size() as u128;
        for l in &self.layers {
            match *l {
                LayerSpec::Affine(o) => {
                    n += width * o as u128 + o as u128;
                    width = o as u128;
                }
                LayerSpec::BatchNorm => n += 2 * width,
                _ => {}
            }
        }
        n
    }

    /// Bytes a training run of this net with batches of `batch` and `scalar`-byte numbers needs,
    /// roughly: the parameters in eight copies (the net, its undo copy, gradient, numerical
    /// gradient, two optimizer moments, a checkpoint and a model being written) and each layer's
    /// activations in six copies. Exact arithmetic: any sizes give a number.
    ///
    /// ```
    /// let spec = scratchnet_network::NetSpec::two_layer_net(784, 50, 10, 0.01);
    /// assert_eq!(spec.memory_estimate(100, 8), 8 * (8 * 39_760 + 6 * 100 * 60));
    /// ```
    pub fn memory_estimate(&self, batch: usize, scalar: usize) -> u128 {
        if self.dense().is_err()
            && let Ok((params, units)) = crate::layer_stack::counts(self)
        {
            // a convolution also unfolds each block of samples it runs (`im2col`), which is
            // less than its output for the book's nets: count the activations twice more
            return scalar as u128 * (8 * params + 8 * batch as u128 * units);
        }
        let units: u128 = self
            .layers
            .iter()
            .filter_map(|l| match l {
                LayerSpec::Affine(n) => Some(*n as u128),
                _ => None,
            })
            .sum();
        scalar as u128 * (8 * self.param_count() + 6 * batch as u128 * units)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trips_for_every_layer_kind() {
        let text = "conv 30x5x5, relu, pool 2, affine 100, batchnorm, relu, dropout 0.5, affine 10";
        let spec: NetSpec = text.parse().unwrap();
        assert_eq!(spec.input, [1, 28, 28]);
        assert_eq!(spec.to_string(), text);
        let strided: LayerSpec = "conv 16x3x3 stride 2 pad 1".parse().unwrap();
        assert_eq!(
            strided,
            LayerSpec::Conv {
                filters: 16,
                size: 3,
                stride: 2,
                pad: 1
            }
        );
        assert_eq!(strided.to_string().parse::<LayerSpec>().unwrap(), strided);
        for bad in [
            "affine",
            "affine x",
            "tanh",
            "conv 3x3",
            "pool 2 stride",
            "relu 3",
        ] {
            assert!(bad.parse::<LayerSpec>().is_err(), "{bad}");
        }
    }

    #[test]
    fn dense_structure_is_read_or_refused() {
        let spec = NetSpec::multi_layer_net_extend(
            4,
            &[3, 2],
            2,
            Activation::Sigmoid,
            WeightInit::Xavier,
            0.0,
            Some(0.1),
            true,
        );
        let d = spec.dense().unwrap();
        assert_eq!(d.sizes, [4, 3, 2, 2]);
        assert_eq!(
            (d.activation, d.batch_norm, d.dropout),
            (Activation::Sigmoid, true, Some(0.1))
        );
        for bad in [
            "affine 5, relu, affine 5, sigmoid, affine 2",
            "affine 5, relu",
            "relu, affine 2",
            "affine 5, batchnorm, relu, affine 5, relu, affine 2",
            "conv 3x3x3, batchnorm, relu, affine 2",
        ] {
            assert!(bad.parse::<NetSpec>().unwrap().validate().is_err(), "{bad}");
        }
    }

    #[test]
    fn counts_follow_the_book_formula() {
        // 784·100 + 100 + 100·100 + 100 + 100·10 + 10, plus γ and β of both hidden layers
        let spec = NetSpec::multi_layer_net_extend(
            784,
            &[100, 100],
            10,
            Activation::Relu,
            WeightInit::He,
            0.0,
            None,
            true,
        );
        assert_eq!(spec.param_count(), 89_610 + 400);
        let huge = NetSpec::two_layer_net(784, usize::MAX, 10, 0.01);
        assert!(huge.memory_estimate(100, 8) > 1 << 64);
    }
}
