//! The cache beside the data, like the book's `mnist.pkl`: the parsed pixels and labels,
//! written once with serde and the workspace's binary encoding ([`scratchnet_fileio::codec`],
//! the one place that knows it is bincode) and read on later loads.
//!
//! Layout: 16 magic bytes, then a header (format version, size and CRC-32 of each source file,
//! length and CRC-32 of the payload), then the payload (both splits). A cache is used only if
//! every one of these matches; otherwise it is rebuilt from the sources. CRC-32 rather than
//! SHA-256 because it is checked on every load and runs at memory speed; it guards against
//! truncation and corruption, not against an adversary (the sources were verified by SHA-256
//! when fetched).
//!
//! Reading streams the file once: bincode fills the final pixel buffers straight from the
//! file while the CRC is computed on each chunk as it passes (still in cache), so a cached load
//! costs little more than one copy of the 55 MB.

use std::borrow::Cow;
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use ndarray::{Array1, Array2};
use scratchnet_fileio::codec;
use serde::{Deserialize, Serialize};

use crate::MnistError;
use crate::dataset::{RawMnist, RawSplit};
use crate::idx::MAX_FILE_BYTES;

/// File name of the cache inside the data folder.
pub const CACHE_FILE: &str = "mnist.bincode";

const MAGIC: [u8; 16] = *b"scratchnet-mnist";
/// Bump whenever the layout of [`Header`] or [`Payload`] changes.
const FORMAT_VERSION: u32 = 1;
const HEADER_LIMIT: u64 = 64 << 10;
/// Bytes read (and CRC'd) at a time: small enough to stay in the CPU cache.
const CHUNK: usize = 256 << 10;
/// No cache is larger: two splits of at most [`MAX_FILE_BYTES`] each, and the header.
const MAX_CACHE_BYTES: u64 = 2 * MAX_FILE_BYTES + HEADER_LIMIT;

/// The cache path for the data folder `dir`.
///
/// ```
/// let p = scratchnet_mnist::cache_path("data/mnist");
/// assert!(p.ends_with("data/mnist/mnist.bincode"));
/// ```
pub fn cache_path(dir: impl AsRef<Path>) -> PathBuf {
    dir.as_ref().join(CACHE_FILE)
}

/// Identity of one source file as the cache saw it: name, size and CRC-32 of its bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SourceStamp {
    pub name: String,
    pub len: u64,
    pub crc32: u32,
}

impl SourceStamp {
    /// Stamps the regular file at `path`, streaming it, refusing it past [`MAX_FILE_BYTES`].
    pub(crate) fn of_file(path: &Path) -> Result<Self, MnistError> {
        let file = scratchnet_fileio::open_regular(path)?;
        let too_large = || scratchnet_fileio::FileError::TooLarge {
            path: path.into(),
            limit: MAX_FILE_BYTES,
        };
        // From the size first: a 30 GB sparse file is refused without reading a gigabyte.
        let reported = file
            .metadata()
            .map_err(|e| MnistError::io("read", path, e))?
            .len();
        if reported > MAX_FILE_BYTES {
            return Err(too_large().into());
        }
        let mut r = CrcReader::new(file.take(MAX_FILE_BYTES + 1));
        io::copy(&mut r, &mut io::sink()).map_err(|e| MnistError::io("read", path, e))?;
        if r.count > MAX_FILE_BYTES {
            return Err(too_large().into());
        }
        Ok(SourceStamp {
            name: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            len: r.count,
            crc32: r.crc.sum(),
        })
    }
}

/// Counts and CRCs the bytes read through it, in chunks of at most [`CHUNK`].
struct CrcReader<R> {
    inner: R,
    crc: flate2::Crc,
    count: u64,
}

impl<R: Read> CrcReader<R> {
    fn new(inner: R) -> Self {
        CrcReader {
            inner,
            crc: flate2::Crc::new(),
            count: 0,
        }
    }
}

impl<R: Read> Read for CrcReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let len = buf.len().min(CHUNK);
        let n = self.inner.read(&mut buf[..len])?;
        self.crc.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
}

#[derive(Serialize, Deserialize)]
struct Header {
    version: u32,
    sources: Vec<SourceStamp>,
    payload_len: u64,
    payload_crc32: u32,
}

#[derive(Serialize, Deserialize)]
struct CachedSplit<'a> {
    count: u32,
    rows: u32,
    cols: u32,
    #[serde(with = "bytes")]
    images: Cow<'a, [u8]>,
    #[serde(with = "bytes")]
    labels: Cow<'a, [u8]>,
}

#[derive(Serialize, Deserialize)]
struct Payload<'a> {
    train: CachedSplit<'a>,
    test: CachedSplit<'a>,
}

fn bytes_of<D: ndarray::Dimension>(a: &ndarray::Array<u8, D>) -> Cow<'_, [u8]> {
    match a.as_slice() {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned(a.iter().copied().collect()),
    }
}

impl CachedSplit<'_> {
    fn of(split: &RawSplit) -> CachedSplit<'_> {
        CachedSplit {
            count: split.len() as u32,
            rows: 28,
            cols: 28,
            images: bytes_of(&split.images),
            labels: bytes_of(&split.labels),
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
        let images = Array2::from_shape_vec((n, 784), self.images.into_owned())
            .map_err(|e| e.to_string())?;
        Ok(RawSplit {
            images,
            labels: Array1::from(self.labels.into_owned()),
        })
    }
}

/// Reads the cache at `path` if it matches `sources` in every respect; the error says why not.
pub(crate) fn read(path: &Path, sources: &[SourceStamp]) -> Result<RawMnist, String> {
    // A FIFO or device is refused without blocking; a huge file from its size below.
    let file = scratchnet_fileio::open_regular(path).map_err(|e| match e {
        scratchnet_fileio::FileError::Io { source, .. } => {
            format!("cannot read {}: {source}", path.display())
        }
        other => other.to_string(),
    })?;
    let file_len = file
        .metadata()
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?
        .len();
    if file_len > MAX_CACHE_BYTES {
        return Err(format!("{file_len} bytes, larger than any MNIST cache"));
    }
    let file = file.take(MAX_CACHE_BYTES);
    let mut r = BufReader::with_capacity(1 << 16, file);
    let mut magic = [0u8; 16];
    if r.read_exact(&mut magic).is_err() || magic != MAGIC {
        return Err("not a scratchnet MNIST cache".into());
    }
    let header: Header =
        codec::decode_from(&mut r, HEADER_LIMIT).map_err(|e| format!("bad header: {e}"))?;
    if header.version != FORMAT_VERSION {
        return Err(format!(
            "format version {}, this build reads {FORMAT_VERSION}",
            header.version
        ));
    }
    if header.sources != sources {
        return Err("stale: the source files changed since it was written".into());
    }
    let header_len = codec::encoded_len(&header).map_err(|e| format!("bad header: {e}"))?;
    let expected_len = (MAGIC.len() as u64)
        .saturating_add(header_len)
        .saturating_add(header.payload_len);
    if file_len != expected_len {
        return Err(format!(
            "truncated: {file_len} bytes, header says {expected_len}"
        ));
    }
    let mut payload_reader = CrcReader::new(&mut r);
    let payload: Payload<'static> = codec::decode_from(&mut payload_reader, header.payload_len)
        .map_err(|e| format!("bad payload: {e}"))?;
    if payload_reader.count != header.payload_len {
        return Err(format!(
            "bad payload: {} bytes, header says {}",
            payload_reader.count, header.payload_len
        ));
    }
    if payload_reader.crc.sum() != header.payload_crc32 {
        return Err("corrupt: payload CRC-32 mismatch".into());
    }
    Ok(RawMnist {
        train: payload.train.into_split()?,
        test: payload.test.into_split()?,
    })
}

/// Writes the cache for `raw` to `path` atomically ([`scratchnet_fileio::write_atomic_with`]:
/// a FIFO, device or folder named `mnist.bincode` is refused, never replaced). Only a cache this
/// tool wrote is ever replaced ([`replaceable`]): a symbolic link, or a file without the cache's
/// magic, is left alone and the error says so.
pub(crate) fn write(path: &Path, sources: &[SourceStamp], raw: &RawMnist) -> Result<(), String> {
    replaceable(path)?;
    let payload = Payload {
        train: CachedSplit::of(&raw.train),
        test: CachedSplit::of(&raw.test),
    };
    let mut body = Vec::new();
    codec::encode_into(&mut body, &payload).map_err(|e| e.to_string())?;
    let mut crc = flate2::Crc::new();
    crc.update(&body);
    let header = Header {
        version: FORMAT_VERSION,
        sources: sources.to_vec(),
        payload_len: body.len() as u64,
        payload_crc32: crc.sum(),
    };
    remove_stale_cache_temps(path);
    scratchnet_fileio::write_atomic_with(path, |f| {
        let mut out = io::BufWriter::new(f);
        out.write_all(&MAGIC)?;
        codec::encode_into(&mut out, &header).map_err(io::Error::other)?;
        out.write_all(&body)?;
        out.flush()
    })
    .map_err(|e| e.to_string())
}

/// `Ok` when `path` is missing or is a regular file (not a link) that starts with the cache's
/// [`MAGIC`] (or is shorter than it and a prefix of it): the only files the cache writer may replace. Reads at most 16 bytes, through a
/// descriptor opened with `O_NOFOLLOW | O_NONBLOCK` (a link or FIFO put there meanwhile is refused,
/// never followed or waited on).
fn replaceable(path: &Path) -> Result<(), String> {
    use std::os::unix::fs::OpenOptionsExt;
    let leave = |what: &str| {
        format!(
            "{} is {what}, not a cache this tool wrote; left as it is (the cache is not saved)",
            path.display()
        )
    };
    let file = match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => return Err(leave("a symbolic link")),
        Err(e) => {
            return Err(scratchnet_fileio::FileError::Io {
                action: "open",
                path: path.to_owned(),
                source: e,
            }
            .to_string());
        }
    };
    let meta = file
        .metadata()
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if !meta.is_file() {
        return Err(format!(
            "{} is a {}, not a regular file",
            path.display(),
            scratchnet_fileio::kind_of(&meta)
        ));
    }
    let mut magic = Vec::with_capacity(MAGIC.len());
    file.take(MAGIC.len() as u64)
        .read_to_end(&mut magic)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    // An empty file or a prefix of the magic holds nothing to lose (a cache cut short); any
    // other first bytes may be the user's data, even when one bit away from ours.
    if !MAGIC.starts_with(&magic) {
        return Err(leave("a file without the MNIST cache's header"));
    }
    Ok(())
}

/// A cache write in progress touches its temp file at least every few seconds; one untouched
/// for an hour was left by a process that was killed.
const STALE_TEMP_AGE: std::time::Duration = std::time::Duration::from_secs(3600);

/// Removes the cache's own temp files (`.mnist.bincode.scratchnet-tmp-*`) that a killed load
/// left beside `path`, if they are an hour old. Best effort: nothing else is touched, and a
/// failure only leaves the stray file for next time.
fn remove_stale_cache_temps(path: &Path) {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let prefix = format!(".{CACHE_FILE}{}", scratchnet_fileio::TEMP_MARKER);
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let ours = entry.file_name().to_string_lossy().starts_with(&prefix);
        let stale = entry.metadata().is_ok_and(|m| {
            m.is_file()
                && m.modified()
                    .ok()
                    .and_then(|t| t.elapsed().ok())
                    .is_some_and(|age| age >= STALE_TEMP_AGE)
        });
        if ours && stale {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// `#[serde(with = "bytes")]` for `Cow<[u8]>` fields: one length and a block copy instead of
/// serde's element-by-element sequence (50 MB of pixels in milliseconds).
mod bytes {
    use std::borrow::Cow;
    use std::fmt;

    use serde::de::{Error, Visitor};
    use serde::{Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(v)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Cow<'static, [u8]>, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Cow<'static, [u8]>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a byte array")
            }
            fn visit_bytes<E: Error>(self, v: &[u8]) -> Result<Self::Value, E> {
                Ok(Cow::Owned(v.to_vec()))
            }
            fn visit_byte_buf<E: Error>(self, v: Vec<u8>) -> Result<Self::Value, E> {
                Ok(Cow::Owned(v))
            }
        }
        d.deserialize_byte_buf(V)
    }
}
