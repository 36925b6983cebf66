//! The model file (`model.bin`): the parameters of a [`TwoLayerNet`] in the checked framed format
//! of [`scratchnet_fileio::frame`]. Not to be confused with the trainer's resume checkpoint
//! (`checkpoint.bin`), which holds a whole training state.
//!
//! ```text
//! b"SNETMODL" | u32 LE version 1 | bincode(ModelHeader) | bincode(Params<A>) | sha256(all before)
//! b"SNETMODL" | u32 LE version 2 | bincode(ModelInfo) | bincode(MultiLayerNet<A>) | sha256(all before)
//! ```
//!
//! Version 1 holds a [`TwoLayerNet`] and is still what it writes (so the chapter 4 run's file is
//! the same as ever); version 2 holds a [`MultiLayerNet`]. [`Model::load`] reads either.
//!
//! The framing, the bounded decoding and bincode itself live in `scratchnet-fileio`; this module
//! only says which values a model file holds.

use std::path::Path;

use scratchnet_fileio::frame::{Format, FrameReader, read_any};
use serde::{Deserialize, Serialize};

use crate::{Model, ModelError, MultiLayerNet, Params, TwoLayerNet};
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
    let (format, mut r) = read_any(&[MODEL_V2, MODEL], path, MAX_FILE)?;
    let info = if format.version == FORMAT_VERSION {
        let h: ModelHeader = r.next("header")?;
        ModelInfo {
            dtype: h.dtype,
            sizes: vec![h.input, h.hidden, h.output],
        }
    } else {
        r.next("header")?
    };
    Ok((info, format.version, r))
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
        match Model::<A>::load(path)? {
            Model::MultiLayer(net) => Ok(net),
            Model::TwoLayer(_) => Err(ModelError::Corrupt {
                path: path.as_ref().to_owned(),
                what: "it holds a chapter 4 TwoLayerNet (format version 1), not a MultiLayerNet"
                    .into(),
            }),
        }
    }
}

impl<A: Scalar> Model<A> {
    /// Writes the net: a [`TwoLayerNet`] as format version 1 (as it always has), a
    /// [`MultiLayerNet`] as version 2.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), ModelError> {
        match self {
            Model::TwoLayer(n) => n.save(path),
            Model::MultiLayer(n) => n.save(path),
        }
    }

    /// Reads a model file of either version.
    pub fn load<P: AsRef<Path> + ?Sized>(path: &P) -> Result<Self, ModelError> {
        let path = path.as_ref();
        let (info, version, mut r) = open_any(path)?;
        check_dtype::<A>(path, &info.dtype)?;
        let model = if version == FORMAT_VERSION {
            Model::TwoLayer(read_two_layer(path, &info.sizes, r)?)
        } else {
            let net = Model::MultiLayer(r.next::<MultiLayerNet<A>>("network")?);
            r.finish()?;
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
