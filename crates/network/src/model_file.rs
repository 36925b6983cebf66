//! The model file (`model.bin`): the parameters of a [`TwoLayerNet`] in the checked framed format
//! of [`scratchnet_fileio::frame`]. Not to be confused with the trainer's resume checkpoint
//! (`checkpoint.bin`), which holds a whole training state.
//!
//! ```text
//! b"SNETMODL" | u32 LE version 1 | bincode(ModelHeader) | bincode(Params<A>) | sha256(all before)
//! ```
//!
//! The framing, the bounded decoding and bincode itself live in `scratchnet-fileio`; this module
//! only says which values a model file holds.

use std::path::Path;

use scratchnet_fileio::frame::{Format, FrameReader};
use serde::{Deserialize, Serialize};

use crate::{ModelError, Params, TwoLayerNet};
use scratchnet_tensor::Scalar;

/// The model-file format version this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// The framed format of `model.bin`.
const MODEL: Format = Format {
    magic: *b"SNETMODL",
    version: FORMAT_VERSION,
    what: "scratchnet model file",
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
        let (header, mut r) = open(path)?;
        if header.dtype != A::DTYPE {
            return Err(ModelError::Dtype {
                path: path.to_owned(),
                found: header.dtype,
                expected: A::DTYPE,
            });
        }
        let params: Params<A> = r.next("parameters")?;
        r.finish()?;
        let (i, h, o) = params.sizes();
        let fits = params.b1.len() == h && params.w2.nrows() == h && params.b2.len() == o;
        if !fits || (i, h, o) != (header.input, header.hidden, header.output) {
            return Err(ModelError::Corrupt {
                path: path.to_owned(),
                what: "parameter shapes do not match the header".into(),
            });
        }
        Ok(Self { params })
    }
}
