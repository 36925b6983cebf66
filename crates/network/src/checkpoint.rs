//! The model file: magic, format version, a header, the parameters, and a SHA-256 trailer.
//!
//! ```text
//! b"SNETMODL" | u32 LE version | bincode(ModelHeader) | bincode(Params<A>) | sha256(all before)
//! ```
//!
//! bincode is used only in this module, so moving to another serde format is a one-file change.

use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{ModelError, Params, TwoLayerNet};
use scratchnet_tensor::Scalar;

const MAGIC: &[u8; 8] = b"SNETMODL";
/// The model-file format version this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;
const TRAILER: usize = 32;
/// Files larger than this are refused before reading them whole.
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
    /// Reads and verifies a model file (magic, version, checksum) and returns its header.
    pub fn read(path: &Path) -> Result<Self, ModelError> {
        let bytes = read_verified(path)?;
        decode_header(path, &bytes).map(|(h, _)| h)
    }
}

fn corrupt(path: &Path, what: impl Into<String>) -> ModelError {
    ModelError::Corrupt {
        path: path.to_owned(),
        what: what.into(),
    }
}

/// The file's bytes between the version and the trailer, after every check that needs no dtype.
fn read_verified(path: &Path) -> Result<Vec<u8>, ModelError> {
    let meta = std::fs::metadata(path).map_err(|e| ModelError::io(path, e))?;
    if meta.len() > MAX_FILE {
        return Err(corrupt(
            path,
            format!(
                "{} bytes is larger than any model this build writes",
                meta.len()
            ),
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| ModelError::io(path, e))?;
    if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
        return Err(ModelError::NotAModel {
            path: path.to_owned(),
        });
    }
    if bytes.len() < MAGIC.len() + 4 + TRAILER {
        return Err(corrupt(path, format!("only {} bytes", bytes.len())));
    }
    let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
    if version != FORMAT_VERSION {
        return Err(ModelError::Version {
            path: path.to_owned(),
            found: version,
            expected: FORMAT_VERSION,
        });
    }
    let (body, trailer) = bytes.split_at(bytes.len() - TRAILER);
    if Sha256::digest(body).as_slice() != trailer {
        return Err(corrupt(
            path,
            "checksum mismatch: the file was truncated or altered",
        ));
    }
    Ok(body[12..].to_vec())
}

fn decode_header(path: &Path, body: &[u8]) -> Result<(ModelHeader, usize), ModelError> {
    let mut cursor = std::io::Cursor::new(body);
    let header: ModelHeader = bincode::deserialize_from(&mut cursor)
        .map_err(|e| corrupt(path, format!("header: {e}")))?;
    Ok((header, cursor.position() as usize))
}

impl<A: Scalar> TwoLayerNet<A> {
    /// Writes the parameters to `path` (written to a temporary file beside it, then renamed, so a
    /// crash never leaves a half-written model).
    ///
    /// ```
    /// use scratchnet_network::TwoLayerNet;
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("model.bin");
    /// let net = TwoLayerNet::<f64>::new(5, 4, 3, 0.01, &mut scratchnet_tensor::rng_from_seed(0));
    /// net.save(&path).unwrap();
    /// assert_eq!(TwoLayerNet::<f64>::load(&path).unwrap(), net);
    /// ```
    pub fn save(&self, path: &Path) -> Result<(), ModelError> {
        let (input, hidden, output) = self.sizes();
        let header = ModelHeader {
            dtype: A::DTYPE.to_owned(),
            input,
            hidden,
            output,
        };
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        bincode::serialize_into(&mut bytes, &header).expect("serialising to memory cannot fail");
        bincode::serialize_into(&mut bytes, &self.params)
            .expect("serialising to memory cannot fail");
        let digest = Sha256::digest(&bytes);
        bytes.extend_from_slice(&digest);
        write_atomically(path, &bytes)
    }

    /// Reads parameters written by [`save`](Self::save). A file that is not a model, of another
    /// format version, truncated, altered, or of another dtype is an error naming the file.
    pub fn load(path: &Path) -> Result<Self, ModelError> {
        let body = read_verified(path)?;
        let (header, used) = decode_header(path, &body)?;
        if header.dtype != A::DTYPE {
            return Err(ModelError::Dtype {
                path: path.to_owned(),
                found: header.dtype,
                expected: A::DTYPE,
            });
        }
        let params: Params<A> = bincode::deserialize(&body[used..])
            .map_err(|e| corrupt(path, format!("parameters: {e}")))?;
        let (i, h, o) = params.sizes();
        let fits = params.b1.len() == h && params.w2.nrows() == h && params.b2.len() == o;
        if !fits || (i, h, o) != (header.input, header.hidden, header.output) {
            return Err(corrupt(path, "parameter shapes do not match the header"));
        }
        Ok(Self { params })
    }
}

/// Writes `bytes` to a temporary file in `path`'s folder, syncs it, then renames it onto `path`.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), ModelError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    // tempfile creates 0600 files; a model is an ordinary file, readable like any other
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o644));
    }
    let mut tmp = builder
        .tempfile_in(dir)
        .map_err(|e| ModelError::io(path, e))?;
    tmp.write_all(bytes)
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(|e| ModelError::io(path, e))?;
    tmp.persist(path)
        .map_err(|e| ModelError::io(path, e.error))?;
    Ok(())
}
