//! The model file (`model.bin`): the parameters of a [`TwoLayerNet`] in the checked framed format
//! of [`scratchnet_fileio::frame`]. Not to be confused with the trainer's resume checkpoint
//! (`checkpoint.bin`), which holds a whole training state.
//!
//! ```text
//! b"SNETMODL" | u32 LE version 1 | bincode(ModelHeader) | bincode(Params<A>) | sha256(all before)
//! b"SNETMODL" | u32 LE version 2 | bincode(ModelInfo) | bincode(MultiLayerNet<A>) | sha256(all before)
//! b"SNETMODL" | u32 LE version 3 | bincode(dtype, JSON of the NetSpec) | bincode([(name, shape, data)]) | sha256(all before)
//! ```
//!
//! Version 1 holds a [`TwoLayerNet`] and is still what [`Net::save`] writes for the chapter 4
//! net (so the notebook run's file is the same as ever); version 2 holds a [`MultiLayerNet`]
//! (written by earlier builds, still read); version 3 holds any [`Net`]: its spec and its named
//! [`Tensors`] (parameters, then state such as `running_mean1`). [`Net::load`] reads all three.
//!
//! The framing, the bounded decoding and bincode itself live in `scratchnet-fileio`; this module
//! only says which values a model file holds.

use std::path::Path;

use scratchnet_fileio::frame::{Format, FrameReader, read_any_bounded};
use serde::{Deserialize, Serialize};

use crate::{Model, ModelError, MultiLayerNet, Net, NetSpec, Params, Tensors, TwoLayerNet};
use scratchnet_tensor::Scalar;

/// The model-file format version of a [`TwoLayerNet`] (a [`MultiLayerNet`]'s is version 2).
pub const FORMAT_VERSION: u32 = 1;

/// The framed format of a [`TwoLayerNet`]'s `model.bin`.
const MODEL: Format = Format {
    magic: *b"SNETMODL",
    version: FORMAT_VERSION,
    what: "scratchnet model file",
};
/// The framed format of a [`MultiLayerNet`]'s `model.bin`.
const MODEL_V2: Format = Format {
    version: 2,
    ..MODEL
};

/// The framed format of any [`Net`]'s `model.bin`: spec and named tensors.
const MODEL_V3: Format = Format {
    version: 3,
    ..MODEL
};

/// Files larger than this are refused while reading (a 784-100000-10 f64 model is about 640 MB).
const MAX_FILE: u64 = 1 << 32;

/// What a model file says about itself, readable without knowing its dtype.
///
/// ```
/// use scratchnet_network::{ModelHeader, TwoLayerNet};
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("model.bin");
/// TwoLayerNet::<f32>::new(4, 3, 2, 0.01, &mut scratchnet_tensor::rng_from_seed(0)).save(&path).unwrap();
/// let h = ModelHeader::read(&path).unwrap();
/// assert_eq!((h.dtype.as_str(), h.input, h.hidden, h.output), ("f32", 4, 3, 2));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelHeader {
    /// `"f32"` or `"f64"`.
    pub dtype: String,
    /// Input size.
    pub input: usize,
    /// Hidden size.
    pub hidden: usize,
    /// Output size.
    pub output: usize,
}

impl ModelHeader {
    /// Reads and verifies a model file (regular file, size, magic, version, checksum) and returns
    /// its header.
    pub fn read(path: impl AsRef<Path>) -> Result<Self, ModelError> {
        open(path.as_ref()).map(|(h, _)| h)
    }
}

fn open(path: &Path) -> Result<(ModelHeader, FrameReader), ModelError> {
    let mut r = MODEL.read(path, MAX_FILE)?;
    let header: ModelHeader = r.next("header")?;
    Ok((header, r))
}

impl<A: Scalar> TwoLayerNet<A> {
    /// Writes the parameters to `path` atomically (temp file beside it, synced, renamed; see
    /// [`scratchnet_fileio::write_atomic`]): a crash never leaves a half-written model, and a
    /// `path` that is a directory, device or FIFO is refused, never replaced.
    ///
    /// ```
    /// use scratchnet_network::TwoLayerNet;
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("model.bin");
    /// let net = TwoLayerNet::<f64>::new(5, 4, 3, 0.01, &mut scratchnet_tensor::rng_from_seed(0));
    /// net.save(&path).unwrap();
    /// assert_eq!(TwoLayerNet::<f64>::load(&path).unwrap(), net);
    /// assert!(net.save("/dev/null").is_err());
    /// ```
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), ModelError> {
        let (input, hidden, output) = self.sizes();
        let header = ModelHeader {
            dtype: A::DTYPE.to_owned(),
            input,
            hidden,
            output,
        };
        let mut w = MODEL.writer();
        w.push(&header).push(&self.params);
        w.write(path.as_ref()).map_err(ModelError::from)
    }

    /// Reads parameters written by [`save`](Self::save). A file that is not a model, of another
    /// format version, truncated, altered, or of another dtype is an error naming the file; no
    /// length in a file can make it allocate more than the file holds.
    ///
    /// `path` is anything that names a path, by reference: `"model.bin"`, `&path_buf`.
    pub fn load<P: AsRef<Path> + ?Sized>(path: &P) -> Result<Self, ModelError> {
        let path = path.as_ref();
        let (header, r) = open(path)?;
        check_dtype::<A>(path, &header.dtype)?;
        read_two_layer(path, &[header.input, header.hidden, header.output], r)
    }
}

/// The parameters of a version-1 file after its header, checked against the header's sizes.
fn read_two_layer<A: Scalar>(
    path: &Path,
    sizes: &[usize],
    mut r: FrameReader,
) -> Result<TwoLayerNet<A>, ModelError> {
    let params: Params<A> = r.next("parameters")?;
    r.finish()?;
    let (i, h, o) = params.sizes();
    let fits = params.b1.len() == h && params.w2.nrows() == h && params.b2.len() == o;
    if !fits || [i, h, o] != sizes {
        return Err(ModelError::Corrupt {
            path: path.to_owned(),
            what: "parameter shapes do not match the header".into(),
        });
    }
    Ok(TwoLayerNet { params })
}

/// What any model file says about itself, readable without knowing its dtype or kind.
///
/// ```
/// use scratchnet_network::{Activation, ModelInfo, MultiLayerNet, TwoLayerNet, WeightInit};
/// let dir = tempfile::tempdir().unwrap();
/// let (a, b) = (dir.path().join("a.bin"), dir.path().join("b.bin"));
/// let mut rng = scratchnet_tensor::rng_from_seed(0);
/// TwoLayerNet::<f32>::new(4, 3, 2, 0.01, &mut rng).save(&a).unwrap();
/// MultiLayerNet::<f64>::new(4, &[3, 3], 2, Activation::Relu, WeightInit::He, &mut rng)
///     .save(&b).unwrap();
/// let (ia, ib) = (ModelInfo::read(&a).unwrap(), ModelInfo::read(&b).unwrap());
/// assert_eq!((ia.dtype.as_str(), ia.sizes), ("f32", vec![4, 3, 2]));
/// assert_eq!((ib.dtype.as_str(), ib.sizes), ("f64", vec![4, 3, 3, 2]));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// `"f32"` or `"f64"`.
    pub dtype: String,
    /// The layer sizes, input first.
    pub sizes: Vec<usize>,
}

impl ModelInfo {
    /// Reads and verifies a model file of either version and returns what it holds.
    pub fn read(path: impl AsRef<Path>) -> Result<Self, ModelError> {
        open_any(path.as_ref()).map(|(info, _, _)| info)
    }
}

/// Opens a model file of either version: its info, its version and the reader at the net.
fn open_any(path: &Path) -> Result<(ModelInfo, u32, FrameReader), ModelError> {
    open_spec(path).map(|(info, version, _, r)| (info, version, r))
}

/// The header of a version-3 file: the dtype and the JSON of the spec.
#[derive(Serialize, Deserialize)]
struct HeaderV3 {
    dtype: String,
    spec: String,
}

/// Longer specs are refused (a spec of a thousand layers is about 20 KB).
const MAX_SPEC_JSON: usize = 1 << 20;

/// The most bytes a model file can have, from its header: its scalars in 8 bytes each (twice
/// over, for the running statistics of batch norm), 64 bytes of name and shape per tensor, the
/// header, the frame. Exact arithmetic, saturating at `u64::MAX`.
fn most_bytes(format: &Format, r: &mut FrameReader) -> Result<u64, scratchnet_fileio::FileError> {
    let dense = |sizes: &[usize]| -> (u128, u128) {
        let params = sizes
            .windows(2)
            .map(|w| w[0] as u128 * w[1] as u128 + w[1] as u128)
            .sum::<u128>();
        let units = sizes.iter().map(|&n| n as u128).sum::<u128>();
        (params + 4 * units, 4 * sizes.len() as u128)
    };
    let (scalars, tensors, header) = match format.version {
        FORMAT_VERSION => {
            let h: ModelHeader = r.next("header")?;
            let (p, t) = dense(&[h.input, h.hidden, h.output]);
            (p, t, 0)
        }
        2 => {
            let h: ModelInfo = r.next("header")?;
            let (p, t) = dense(&h.sizes);
            (p, t, 64 * h.sizes.len() as u128)
        }
        _ => {
            let h: HeaderV3 = r.next("header")?;
            let spec: NetSpec = serde_json::from_str(&h.spec)
                .map_err(|e| r.corrupt(format!("network spec: {e}")))?;
            let layers = spec.layers.len() as u128 + 1;
            (2 * spec.param_count(), 4 * layers, h.spec.len() as u128)
        }
    };
    let most = 8 * scalars + 64 * tensors + header + 4096;
    Ok(u64::try_from(most).unwrap_or(u64::MAX))
}

/// [`open_any`] that also returns a version-3 file's spec.
fn open_spec(path: &Path) -> Result<(ModelInfo, u32, Option<NetSpec>, FrameReader), ModelError> {
    let (format, mut r) =
        read_any_bounded(&[MODEL_V3, MODEL_V2, MODEL], path, MAX_FILE, most_bytes)?;
    let corrupt = |what: String| ModelError::Corrupt {
        path: path.to_owned(),
        what,
    };
    let (info, spec) = match format.version {
        FORMAT_VERSION => {
            let h: ModelHeader = r.next("header")?;
            let info = ModelInfo {
                dtype: h.dtype,
                sizes: vec![h.input, h.hidden, h.output],
            };
            (info, None)
        }
        2 => (r.next("header")?, None),
        _ => {
            let h: HeaderV3 = r.next("header")?;
            if h.spec.len() > MAX_SPEC_JSON {
                return Err(corrupt("the network spec is too long".into()));
            }
            let spec: NetSpec =
                serde_json::from_str(&h.spec).map_err(|e| corrupt(format!("network spec: {e}")))?;
            spec.validate().map_err(|e| corrupt(e.to_string()))?;
            let info = ModelInfo {
                dtype: h.dtype,
                sizes: spec.sizes(),
            };
            (info, Some(spec))
        }
    };
    if info.dtype != "f32" && info.dtype != "f64" {
        // {:?} escapes control characters: a crafted file cannot drive the user's terminal
        let shown: String = info.dtype.chars().take(40).collect();
        return Err(corrupt(format!(
            "its dtype {shown:?} is neither f32 nor f64"
        )));
    }
    Ok((info, format.version, spec, r))
}

/// One tensor of a version-3 file.
#[derive(Serialize, Deserialize)]
#[serde(bound = "A: Scalar")]
struct NamedTensor<A> {
    name: String,
    shape: Vec<usize>,
    data: Vec<A>,
}

impl<A: Scalar> Net<A> {
    /// Writes the net to a model file atomically (temp file beside it, synced, renamed): the
    /// chapter 4 net as format version 1, the same bytes as every earlier build wrote; any other
    /// net as version 3, its spec and named tensors. A `path` that is a directory, device or
    /// FIFO is refused, never replaced.
    ///
    /// ```
    /// use scratchnet_network::{Activation, Net, NetSpec, WeightInit};
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("model.bin");
    /// let spec = NetSpec::multi_layer_net_extend(5, &[4, 3], 2, Activation::Relu, WeightInit::He,
    ///     0.1, Some(0.2), true);
    /// let net = Net::<f32>::new(spec.clone(), &mut scratchnet_tensor::rng_from_seed(0)).unwrap();
    /// net.save(&path).unwrap();
    /// let back = Net::<f32>::load(&path).unwrap();
    /// assert_eq!(back, net);
    /// assert_eq!(back.spec(), &spec); // version 3 keeps the whole spec
    /// assert!(net.save("/dev/null").is_err());
    /// ```
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), ModelError> {
        if let Model::TwoLayer(n) = self.kernel() {
            return n.save(path);
        }
        let header = HeaderV3 {
            dtype: A::DTYPE.to_owned(),
            spec: serde_json::to_string(self.spec()).expect("a spec serialises"),
        };
        let tensors: Vec<NamedTensor<A>> = self
            .params()
            .into_iter()
            .chain(self.state())
            .map(|(name, a)| NamedTensor {
                name,
                shape: a.shape().to_vec(),
                data: a.iter().copied().collect(),
            })
            .collect();
        let mut w = MODEL_V3.writer();
        w.push(&header).push(&tensors);
        w.write(path.as_ref()).map_err(ModelError::from)
    }

    /// Reads a model file of any version written by any build (1: the chapter 4 net, 2: a
    /// fully connected net, 3: any net). A file that is not a model, of another dtype, truncated,
    /// altered, or whose tensors do not fit its spec is an error naming the file; no length in a
    /// file can make it allocate more than the file holds.
    ///
    /// ```
    /// use scratchnet_network::{Net, NetSpec};
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("model.bin");
    /// let net = Net::<f64>::new(NetSpec::two_layer_net(4, 3, 2, 0.01),
    ///     &mut scratchnet_tensor::rng_from_seed(0)).unwrap();
    /// net.save(&path).unwrap();
    /// assert_eq!(Net::<f64>::load(&path).unwrap(), net);
    /// assert!(Net::<f32>::load(&path).unwrap_err().to_string().contains("holds f64"));
    /// ```
    pub fn load<P: AsRef<Path> + ?Sized>(path: &P) -> Result<Self, ModelError> {
        let path = path.as_ref();
        let (info, _, spec, mut r) = open_spec(path).map_err(|e| other_format(path, e))?;
        check_dtype::<A>(path, &info.dtype)?;
        let Some(spec) = spec else {
            return Model::load(path).map(Net::from_kernel);
        };
        let tensors: Vec<NamedTensor<A>> = r.next("tensors")?;
        r.finish()?;
        let corrupt = |what: String| ModelError::Corrupt {
            path: path.to_owned(),
            what,
        };
        let mut all = Vec::with_capacity(tensors.len());
        for t in tensors {
            let a = ndarray::ArrayD::from_shape_vec(t.shape, t.data)
                .map_err(|e| corrupt(format!("{}: {e}", t.name)))?;
            all.push((t.name, a));
        }
        let n_params = Net::<A>::new(spec.clone(), &mut scratchnet_tensor::rng_from_seed(0))
            .map_err(|e| corrupt(e.to_string()))?
            .params()
            .len();
        if all.len() < n_params {
            return Err(corrupt("fewer tensors than the spec needs".into()));
        }
        let state = Tensors::from_pairs(all.split_off(n_params));
        let params = Tensors::from_pairs(all);
        let mut net = Net::from_params(spec, &params).map_err(|e| corrupt(e.to_string()))?;
        net.set_state(&state).map_err(|e| corrupt(e.to_string()))?;
        Ok(net)
    }
}

fn check_dtype<A: Scalar>(path: &Path, dtype: &str) -> Result<(), ModelError> {
    if dtype == A::DTYPE {
        Ok(())
    } else {
        Err(ModelError::Dtype {
            path: path.to_owned(),
            found: dtype.to_owned(),
            expected: A::DTYPE,
        })
    }
}

impl<A: Scalar> MultiLayerNet<A> {
    /// Writes the net (weights, biases, activation, weight decay) to `path` atomically as a model
    /// file of version 2; a `path` that is a directory, device or FIFO is refused.
    ///
    /// ```
    /// use scratchnet_network::{Activation, MultiLayerNet, WeightInit};
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("model.bin");
    /// let net = MultiLayerNet::<f32>::new(5, &[4, 3], 2, Activation::Sigmoid, WeightInit::Xavier,
    ///     &mut scratchnet_tensor::rng_from_seed(0));
    /// net.save(&path).unwrap();
    /// assert_eq!(MultiLayerNet::<f32>::load(&path).unwrap(), net);
    /// assert!(net.save("/dev/null").is_err());
    /// ```
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), ModelError> {
        let info = ModelInfo {
            dtype: A::DTYPE.to_owned(),
            sizes: self.sizes(),
        };
        let mut w = MODEL_V2.writer();
        w.push(&info).push(self);
        w.write(path.as_ref()).map_err(ModelError::from)
    }

    /// Reads a net written by [`save`](Self::save). A file that is not a model, holds a
    /// [`TwoLayerNet`] or another dtype, is truncated or altered, or whose shapes do not chain,
    /// is an error naming the file; no length in a file can make it allocate more than the file
    /// holds.
    pub fn load<P: AsRef<Path> + ?Sized>(path: &P) -> Result<Self, ModelError> {
        match Net::<A>::load(path)?.into_kernel() {
            Model::MultiLayer(net) => Ok(net),
            Model::TwoLayer(_) => Err(ModelError::Corrupt {
                path: path.as_ref().to_owned(),
                what: "it holds a chapter 4 TwoLayerNet (format version 1), not a MultiLayerNet"
                    .into(),
            }),
            Model::Layers(_) => Err(ModelError::Corrupt {
                path: path.as_ref().to_owned(),
                what: "it holds a net with convolutions, not a MultiLayerNet".into(),
            }),
        }
    }
}

impl<A: Scalar> Model<A> {
    /// Reads a model file of either version.
    pub fn load<P: AsRef<Path> + ?Sized>(path: &P) -> Result<Self, ModelError> {
        let path = path.as_ref();
        let (info, version, mut r) = open_any(path)?;
        check_dtype::<A>(path, &info.dtype)?;
        let model = if version == FORMAT_VERSION {
            Model::TwoLayer(read_two_layer(path, &info.sizes, r)?)
        } else {
            let net = r.next::<MultiLayerNet<A>>("network")?;
            r.finish()?;
            // each hyper-parameter named, not reported as a shape mismatch
            let bad = |what: String| ModelError::Corrupt {
                path: path.to_owned(),
                what,
            };
            if let Some(ratio) = net.dropout
                && !(0.0..1.0).contains(&ratio)
            {
                return Err(bad(format!("its dropout ratio {ratio} is not in [0, 1)")));
            }
            let lambda = net.weight_decay_lambda;
            if !(lambda.is_finite() && lambda >= 0.0) {
                return Err(bad(format!(
                    "its weight decay λ {lambda} is not a finite number >= 0"
                )));
            }
            let net = Model::MultiLayer(net);
            if !net.shapes_fit() || net.sizes() != info.sizes {
                return Err(ModelError::Corrupt {
                    path: path.to_owned(),
                    what: "parameter shapes do not match the header".into(),
                });
            }
            net
        };
        Ok(model)
    }
}

#[cfg(test)]
mod doc_tests {
    #[test]
    fn a_model_file_of_version_1_loads_as_a_model() {
        use crate::{Model, TwoLayerNet};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.bin");
        let net = TwoLayerNet::<f64>::new(4, 3, 2, 0.01, &mut scratchnet_tensor::rng_from_seed(0));
        net.save(&path).unwrap();
        assert_eq!(Model::<f64>::load(&path).unwrap(), Model::TwoLayer(net));
        assert!(
            Model::<f32>::load(&path)
                .unwrap_err()
                .to_string()
                .contains("holds f64")
        );
    }
}

#[cfg(test)]
mod v3_tests {
    use super::*;
    use crate::{Activation, WeightInit};

    fn write_v3(path: &Path, spec: &str, tensors: &[NamedTensor<f64>]) {
        let header = HeaderV3 {
            dtype: "f64".into(),
            spec: spec.into(),
        };
        let mut w = MODEL_V3.writer();
        w.push(&header).push(tensors);
        w.write(path).unwrap();
    }

    #[test]
    fn a_version_3_file_that_does_not_fit_its_spec_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.bin");
        let spec = NetSpec::multi_layer_net(3, &[2], 2, Activation::Relu, WeightInit::He, 0.0);
        let json = serde_json::to_string(&spec).unwrap();
        let t = |name: &str, shape: &[usize]| NamedTensor {
            name: name.into(),
            shape: shape.to_vec(),
            data: vec![0.5; shape.iter().product()],
        };
        // the right tensors load, to the values written
        write_v3(
            &path,
            &json,
            &[
                t("W1", &[3, 2]),
                t("b1", &[2]),
                t("W2", &[2, 2]),
                t("b2", &[2]),
            ],
        );
        let net = Net::<f64>::load(&path).unwrap();
        assert!(net.params()["W2"].iter().all(|&v| v == 0.5));
        for (tensors, what) in [
            (
                vec![
                    t("W1", &[3, 2]),
                    t("b1", &[3]),
                    t("W2", &[2, 2]),
                    t("b2", &[2]),
                ],
                "b1 has shape [3]",
            ),
            (vec![t("W1", &[3, 2]), t("b1", &[2])], "fewer tensors"),
            (
                vec![
                    t("W1", &[3, 2]),
                    t("b1", &[2]),
                    t("W9", &[2, 2]),
                    t("b2", &[2]),
                ],
                "no tensor W2",
            ),
            (
                vec![
                    NamedTensor {
                        name: "W1".into(),
                        shape: vec![3, 2],
                        data: vec![0.0; 5],
                    },
                    t("b1", &[2]),
                    t("W2", &[2, 2]),
                    t("b2", &[2]),
                ],
                "W1",
            ),
        ] {
            write_v3(&path, &json, &tensors);
            let e = Net::<f64>::load(&path).unwrap_err().to_string();
            assert!(e.contains("corrupt") && e.contains(what), "{e}");
        }
        write_v3(&path, "{\"input\": [3]}", &[]);
        let e = Net::<f64>::load(&path).unwrap_err().to_string();
        assert!(e.contains("network spec"), "{e}");
        let bad = serde_json::to_string(&spec.clone().with_input(&[0])).unwrap();
        write_v3(&path, &bad, &[]);
        assert!(Net::<f64>::load(&path).is_err());
        assert!(
            Net::<f32>::load(&path)
                .unwrap_err()
                .to_string()
                .contains("corrupt")
        );
    }
}

#[cfg(test)]
mod crafted_tests {
    use super::*;
    use crate::{Activation, WeightInit};

    #[test]
    fn a_bad_hyper_parameter_is_named_and_a_dtype_never_reaches_the_terminal_raw() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.bin");
        let mut net = MultiLayerNet::<f64>::new(
            4,
            &[3],
            2,
            Activation::Relu,
            WeightInit::He,
            &mut scratchnet_tensor::rng_from_seed(0),
        );
        net.dropout = Some(f64::NAN);
        net.save(&path).unwrap();
        let e = Model::<f64>::load(&path).unwrap_err().to_string();
        assert!(e.contains("its dropout ratio NaN is not in [0, 1)"), "{e}");
        net.dropout = None;
        net.weight_decay_lambda = -1.0;
        net.save(&path).unwrap();
        let e = Model::<f64>::load(&path).unwrap_err().to_string();
        assert!(e.contains("weight decay λ -1 is not"), "{e}");

        // a version-3 header whose dtype is an ANSI escape sequence
        let spec = serde_json::to_string(&crate::NetSpec::two_layer_net(4, 3, 2, 0.1)).unwrap();
        let header = HeaderV3 {
            dtype: "\u{1b}[31mf64".into(),
            spec,
        };
        let mut w = MODEL_V3.writer();
        w.push(&header);
        w.write(&path).unwrap();
        let e = ModelInfo::read(&path).unwrap_err().to_string();
        assert!(
            e.contains(r#""\u{1b}[31mf64" is neither f32 nor f64"#),
            "{e}"
        );
        assert!(!e.contains('\u{1b}'), "{e:?}");
    }
}

/// A `NotAModel` error for a file this crate wrote in another format says how to read that
/// format back, instead of "bad magic bytes".
fn other_format(path: &Path, e: ModelError) -> ModelError {
    use std::io::Read;
    if !matches!(e, ModelError::NotAModel { .. }) {
        return e;
    }
    let mut head = [0u8; 9];
    let read = scratchnet_fileio::open_regular(path)
        .ok()
        .and_then(|mut f| f.read_exact(&mut head).ok());
    let how = match head {
        _ if read.is_none() => return e,
        [b'P', b'K', 3, 4, ..] => {
            "an .npz archive, not a model file: read it with Net::import_npz(spec, path) \
             (an .npz holds the arrays, not the spec)"
        }
        [.., b'{'] => {
            "a safetensors file, not a model file: read it with Net::import_safetensors(path)"
        }
        _ => return e,
    };
    ModelError::Npz {
        path: path.to_owned(),
        what: how.to_owned(),
    }
}
