//! The cache beside the data, like the book's `mnist.pkl`: the parsed pixels and labels,
//! written once with serde + bincode (through [`crate::codec`]) and read on later loads.
//!
//! Layout: a header (magic, format version, size and CRC-32 of each source file, length and
//! CRC-32 of the payload) followed by the payload (both splits). A cache is used only if every
//! one of these matches; otherwise it is rebuilt from the sources. CRC-32 rather than SHA-256
//! because it is checked on every load and runs at memory speed; it guards against truncation
//! and corruption, not against an adversary (the sources were verified by SHA-256 when fetched).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};

use crate::codec;
use crate::load::{RawMnist, RawSplit};

/// File name of the cache inside the data folder.
pub const CACHE_FILE: &str = "mnist.bincode";

const MAGIC: [u8; 16] = *b"scratchnet-mnist";
/// Bump whenever the layout of [`Header`] or [`Payload`] changes.
const FORMAT_VERSION: u32 = 1;
const HEADER_LIMIT: u64 = 64 << 10;

/// The cache path for the data folder `dir`.
///
/// ```
/// let p = scratchnet_mnist::cache_path("data/mnist".as_ref());
/// assert!(p.ends_with("data/mnist/mnist.bincode"));
/// ```
pub fn cache_path(dir: &Path) -> PathBuf {
    dir.join(CACHE_FILE)
}

/// Identity of one source file as the cache saw it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SourceStamp {
    pub name: String,
    pub len: u64,
    pub crc32: u32,
}

impl SourceStamp {
    pub(crate) fn of(path: &Path, bytes: &[u8]) -> Self {
        SourceStamp {
            name: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            len: bytes.len() as u64,
            crc32: crc32(bytes),
        }
    }
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = flate2::Crc::new();
    crc.update(bytes);
    crc.sum()
}

#[derive(Serialize, Deserialize)]
struct Header {
    magic: [u8; 16],
    version: u32,
    sources: Vec<SourceStamp>,
    payload_len: u64,
    payload_crc32: u32,
}

#[derive(Serialize, Deserialize)]
struct CachedSplit {
    count: u32,
    rows: u32,
    cols: u32,
    #[serde(with = "crate::codec::bytes")]
    images: Vec<u8>,
    #[serde(with = "crate::codec::bytes")]
    labels: Vec<u8>,
}

#[derive(Serialize, Deserialize)]
struct Payload {
    train: CachedSplit,
    test: CachedSplit,
}

impl CachedSplit {
    fn of(split: &RawSplit) -> Self {
        CachedSplit {
            count: split.len() as u32,
            rows: 28,
            cols: 28,
            images: split.images.iter().copied().collect(),
            labels: split.labels.to_vec(),
        }
    }

    fn into_split(self) -> Result<RawSplit, String> {
        let n = self.count as usize;
        if (self.rows, self.cols) != (28, 28) {
            return Err(format!("images are {}x{}", self.rows, self.cols));
        }
        if let Some(l) = self.labels.iter().find(|&&l| l > 9) {
            return Err(format!("label {l} out of range"));
        }
        if self.labels.len() != n {
            return Err(format!("{} labels for {n} examples", self.labels.len()));
        }
        let images = Array2::from_shape_vec((n, 784), self.images).map_err(|e| e.to_string())?;
        Ok(RawSplit {
            images,
            labels: Array1::from(self.labels),
        })
    }
}

/// Reads the cache at `path` if it matches `sources` in every respect; the error says why not.
pub(crate) fn read(path: &Path, sources: &[SourceStamp]) -> Result<RawMnist, String> {
    let bytes = fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    // The magic is the first 16 bytes of the encoding: checked before decoding anything.
    if !bytes.starts_with(&MAGIC) {
        return Err("not a scratchnet MNIST cache".into());
    }
    let mut rest: &[u8] = &bytes;
    let header: Header =
        codec::decode_from(&mut rest, HEADER_LIMIT).map_err(|e| format!("bad header: {e}"))?;
    if header.magic != MAGIC {
        return Err("not a scratchnet MNIST cache".into());
    }
    if header.version != FORMAT_VERSION {
        return Err(format!(
            "format version {}, this build reads {FORMAT_VERSION}",
            header.version
        ));
    }
    if header.sources != sources {
        return Err("stale: the source files changed since it was written".into());
    }
    if header.payload_len != rest.len() as u64 {
        return Err(format!(
            "truncated: payload of {} bytes, header says {}",
            rest.len(),
            header.payload_len
        ));
    }
    if crc32(rest) != header.payload_crc32 {
        return Err("corrupt: payload CRC-32 mismatch".into());
    }
    let payload: Payload = codec::decode(rest).map_err(|e| format!("bad payload: {e}"))?;
    Ok(RawMnist {
        train: payload.train.into_split()?,
        test: payload.test.into_split()?,
    })
}

/// Writes the cache for `raw` to `path` through a temp file in the same folder.
pub(crate) fn write(path: &Path, sources: &[SourceStamp], raw: &RawMnist) -> Result<(), String> {
    let payload = Payload {
        train: CachedSplit::of(&raw.train),
        test: CachedSplit::of(&raw.test),
    };
    let mut body = Vec::new();
    codec::encode_into(&mut body, &payload)?;
    let header = Header {
        magic: MAGIC,
        version: FORMAT_VERSION,
        sources: sources.to_vec(),
        payload_len: body.len() as u64,
        payload_crc32: crc32(&body),
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = crate::store::temp_file_in(dir, ".mnist.bincode.")
        .map_err(|e| format!("cannot create a temp file in {}: {e}", dir.display()))?;
    let file = tmp.as_file_mut();
    codec::encode_into(&mut *file, &header)?;
    file.write_all(&body)
        .map_err(|e| format!("cannot write {}: {e}", tmp.path().display()))?;
    tmp.persist(path)
        .map_err(|e| format!("cannot rename to {}: {}", path.display(), e.error))?;
    Ok(())
}
