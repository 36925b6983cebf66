//! The checked binary format of scratchnet's model and checkpoint files:
//!
//! ```text
//! magic (8 bytes) | u32 LE format version | bincode(value) | bincode(value) | ... | SHA-256 of all before
//! ```
//!
//! The values are whatever serde types the caller writes, in order, with bincode 1.3's fixed-width
//! little-endian layout (the layout of `bincode::serialize`). This module and [`codec`](crate::codec) are the
//! only users of bincode in the workspace: moving to another serde format (bincode is unmaintained,
//! RUSTSEC-2025-0141) is a change to this file, with a new format version.
//!
//! Reading checks, in order: regular file, size limit, magic, version, checksum; each value is
//! then decoded with a byte limit equal to what is left of the file, so a length field claiming
//! 2⁴⁰ bytes fails with [`FileError::Corrupt`] instead of allocating.
//!
//! ```
//! use scratchnet_fileio::frame::Format;
//! const NOTES: Format = Format { magic: *b"EXAMPLE1", version: 1, what: "example file" };
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("notes.bin");
//! let mut w = NOTES.writer();
//! w.push(&"header".to_string());
//! w.push(&vec![1.5f64, 2.5]);
//! w.write(&path).unwrap();
//!
//! let mut r = NOTES.read(&path, 1 << 20).unwrap();
//! assert_eq!(r.next::<String>("header").unwrap(), "header");
//! assert_eq!(r.next::<Vec<f64>>("values").unwrap(), [1.5, 2.5]);
//! r.finish().unwrap();
//! ```

use std::path::{Path, PathBuf};

use bincode::Options;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::{FileError, read_limited, write_atomic};

const TRAILER: usize = 32;
const HEAD: usize = 12;

fn options(limit: u64) -> impl Options {
    // Fixed-width integers: the layout of `bincode::serialize`, which wrote the version-1 files.
    bincode::DefaultOptions::new()
        .with_fixint_encoding()
        .with_limit(limit)
}

/// A kind of framed file: its magic bytes, the format version this build writes and reads, and
/// its name for error messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Format {
    /// The first 8 bytes of every file of this kind.
    pub magic: [u8; 8],
    /// The format version written and accepted.
    pub version: u32,
    /// What the file is, for messages: `"scratchnet model file"`.
    pub what: &'static str,
}

impl Format {
    /// A writer that collects values to frame.
    pub fn writer(&self) -> FrameWriter {
        let mut bytes = self.magic.to_vec();
        bytes.extend_from_slice(&self.version.to_le_bytes());
        FrameWriter { bytes }
    }

    /// Reads and checks a framed file of this kind (at most `limit` bytes) and returns a reader
    /// positioned at its first value.
    ///
    /// ```
    /// use scratchnet_fileio::{FileError, frame::Format};
    /// const F: Format = Format { magic: *b"EXAMPLE2", version: 2, what: "example file" };
    /// let dir = tempfile::tempdir().unwrap();
    /// let p = dir.path().join("f.bin");
    /// std::fs::write(&p, b"something else entirely, long enough to hold a header").unwrap();
    /// assert!(matches!(F.read(&p, 1 << 20), Err(FileError::NotFramed { .. })));
    /// let mut w = Format { version: 1, ..F }.writer();
    /// w.push(&1u8);
    /// w.write(&p).unwrap();
    /// let err = F.read(&p, 1 << 20).unwrap_err();
    /// assert!(err.to_string().ends_with("is a example file of format version 1; this build reads version 2"));
    /// ```
    pub fn read(&self, path: impl AsRef<Path>, limit: u64) -> Result<FrameReader, FileError> {
        let path = path.as_ref();
        let bytes = read_limited(path, limit)?;
        self.check(path, bytes)
    }

    /// [`read`](Self::read) on bytes already in memory (`path` names them in errors).
    pub fn check(&self, path: impl AsRef<Path>, bytes: Vec<u8>) -> Result<FrameReader, FileError> {
        let path = path.as_ref();
        if bytes.len() < self.magic.len() || bytes[..self.magic.len()] != self.magic {
            return Err(FileError::NotFramed {
                path: path.to_owned(),
                what: self.what,
            });
        }
        let corrupt = |detail: String| FileError::Corrupt {
            path: path.to_owned(),
            what: self.what,
            detail,
        };
        if bytes.len() < HEAD + TRAILER {
            return Err(corrupt(format!("only {} bytes", bytes.len())));
        }
        let found = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
        if found != self.version {
            return Err(FileError::Version {
                path: path.to_owned(),
                what: self.what,
                found,
                expected: self.version,
            });
        }
        let end = bytes.len() - TRAILER;
        if Sha256::digest(&bytes[..end]).as_slice() != &bytes[end..] {
            return Err(corrupt(
                "checksum mismatch: the file was truncated or altered".into(),
            ));
        }
        Ok(FrameReader {
            path: path.to_owned(),
            what: self.what,
            bytes,
            pos: HEAD,
            end,
        })
    }
}

/// Reads a file of one kind that may be in any of its format versions: `formats` share the
/// magic bytes, newest first. The file is read once; the format whose version it carries checks
/// it, and an unknown version is the newest format's [`FileError::Version`].
///
/// ```
/// use scratchnet_fileio::frame::{Format, read_any};
/// const V2: Format = Format { magic: *b"EXAMPLE3", version: 2, what: "example file" };
/// const V1: Format = Format { version: 1, ..V2 };
/// let dir = tempfile::tempdir().unwrap();
/// let p = dir.path().join("old.bin");
/// let mut w = V1.writer();
/// w.push(&7u8);
/// w.write(&p).unwrap();
/// let (format, mut r) = read_any(&[V2, V1], &p, 1 << 20).unwrap();
/// assert_eq!((format.version, r.next::<u8>("value").unwrap()), (1, 7));
/// assert!(read_any(&[V2], &p, 1 << 20).unwrap_err().to_string().contains("version 1"));
/// ```
///
/// # Panics
/// If `formats` is empty.
pub fn read_any(
    formats: &[Format],
    path: impl AsRef<Path>,
    limit: u64,
) -> Result<(&Format, FrameReader), FileError> {
    let path = path.as_ref();
    let bytes = read_limited(path, limit)?;
    let found = bytes
        .get(8..HEAD)
        .map(|v| u32::from_le_bytes([v[0], v[1], v[2], v[3]]));
    let format = formats
        .iter()
        .find(|f| Some(f.version) == found)
        .unwrap_or(&formats[0]);
    format.check(path, bytes).map(|r| (format, r))
}

/// Bytes [`read_any_bounded`] reads to learn, from a file's first values, how large it may be.
const PREFIX: u64 = 1 << 20;

/// [`read_any`], with the file's size bounded by what it says it holds. `bound` gets the format
/// and a reader at the first value of the file's first MiB (not yet checksummed: each decode is
/// still bounded by those bytes) and returns the most bytes a file with those contents can
/// have. A larger file is refused before it is read whole: a sparse 3 GiB file that claims a
/// small net costs a 1 MiB read.
///
/// ```
/// use scratchnet_fileio::frame::{Format, read_any_bounded};
/// const F: Format = Format { magic: *b"EXAMPLE4", version: 1, what: "example file" };
/// let dir = tempfile::tempdir().unwrap();
/// let p = dir.path().join("f.bin");
/// let mut w = F.writer();
/// w.push(&3u64).push(&vec![1.0f64; 3]);
/// w.write(&p).unwrap();
/// // the file declares 3 values: at most 12 + 8 + 8 + 3 × 8 + 32 bytes
/// let bound = |_: &Format, r: &mut scratchnet_fileio::frame::FrameReader| {
///     Ok(12 + 8 + 8 + 8 * r.next::<u64>("count")? + 32)
/// };
/// let (_, mut r) = read_any_bounded(&[F], &p, 1 << 30, bound).unwrap();
/// assert_eq!(r.next::<u64>("count").unwrap(), 3);
/// // the same header with a sparse gigabyte after it
/// std::fs::File::options().write(true).open(&p).unwrap().set_len(1 << 30).unwrap();
/// let e = read_any_bounded(&[F], &p, 1 << 31, bound).unwrap_err().to_string();
/// assert!(e.contains("1073741824 bytes, more than the 84 its contents can take"), "{e}");
/// ```
///
/// # Panics
/// If `formats` is empty.
pub fn read_any_bounded(
    formats: &[Format],
    path: impl AsRef<Path>,
    limit: u64,
    bound: impl FnOnce(&Format, &mut FrameReader) -> Result<u64, FileError>,
) -> Result<(&Format, FrameReader), FileError> {
    use std::io::Read as _;
    let path = path.as_ref();
    let file = crate::open_regular(path)?;
    let size = file
        .metadata()
        .map_err(|e| FileError::io("read the metadata of", path, e))?
        .len();
    if size > limit {
        return Err(FileError::TooLarge {
            path: path.to_owned(),
            limit,
        });
    }
    let mut prefix = Vec::new();
    file.take(PREFIX)
        .read_to_end(&mut prefix)
        .map_err(|e| FileError::io("read", path, e))?;
    let found = prefix
        .get(8..HEAD)
        .map(|v| u32::from_le_bytes([v[0], v[1], v[2], v[3]]));
    let format = formats
        .iter()
        .find(|f| Some(f.version) == found)
        .unwrap_or(&formats[0]);
    if prefix.len() >= 8 && prefix[..8] != format.magic {
        return Err(FileError::NotFramed {
            path: path.to_owned(),
            what: format.what,
        });
    }
    if prefix.len() < HEAD + TRAILER {
        // too short for any value: the whole-file check says so
        return read_any(formats, path, PREFIX);
    }
    if found != Some(format.version) {
        return Err(FileError::Version {
            path: path.to_owned(),
            what: format.what,
            found: found.unwrap_or(0),
            expected: format.version,
        });
    }
    let end = prefix.len();
    let mut head = FrameReader {
        path: path.to_owned(),
        what: format.what,
        bytes: prefix,
        pos: HEAD,
        end,
    };
    let most = bound(format, &mut head)?;
    if size > most {
        return Err(FileError::Corrupt {
            path: path.to_owned(),
            what: format.what,
            detail: format!("{size} bytes, more than the {most} its contents can take"),
        });
    }
    read_any(formats, path, most)
}

/// Values being framed; [`write`](Self::write) adds the checksum and writes the file atomically.
#[derive(Debug)]
pub struct FrameWriter {
    bytes: Vec<u8>,
}

impl FrameWriter {
    /// Appends one value.
    pub fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> &mut Self {
        options(u64::MAX)
            .serialize_into(&mut self.bytes, value)
            .expect("serialising plain data to memory cannot fail");
        self
    }

    /// The finished file's bytes, checksum included.
    pub fn into_bytes(mut self) -> Vec<u8> {
        let digest = Sha256::digest(&self.bytes);
        self.bytes.extend_from_slice(&digest);
        self.bytes
    }

    /// Writes the finished file to `path` with [`write_atomic`].
    pub fn write(self, path: impl AsRef<Path>) -> Result<(), FileError> {
        write_atomic(path, &self.into_bytes())
    }
}

/// The checked values of a framed file, decoded one after another.
#[derive(Debug)]
pub struct FrameReader {
    path: PathBuf,
    what: &'static str,
    bytes: Vec<u8>,
    pos: usize,
    end: usize,
}

impl FrameReader {
    /// Decodes the next value; `name` says which in an error.
    pub fn next<T: DeserializeOwned>(&mut self, name: &str) -> Result<T, FileError> {
        let rest = &self.bytes[self.pos..self.end];
        let mut cursor = std::io::Cursor::new(rest);
        let value = options(rest.len() as u64)
            .deserialize_from(&mut cursor)
            .map_err(|e| self.corrupt(format!("{name}: {e}")))?;
        self.pos += cursor.position() as usize;
        Ok(value)
    }

    /// Checks that every byte before the checksum was decoded.
    pub fn finish(self) -> Result<(), FileError> {
        if self.pos != self.end {
            return Err(self.corrupt(format!(
                "{} bytes after the last value",
                self.end - self.pos
            )));
        }
        Ok(())
    }

    /// A [`FileError::Corrupt`] about this file, for checks the caller makes on decoded values
    /// (shapes that disagree with a header, ...).
    pub fn corrupt(&self, detail: impl Into<String>) -> FileError {
        FileError::Corrupt {
            path: self.path.clone(),
            what: self.what,
            detail: detail.into(),
        }
    }

    /// The file being read.
    pub fn path(&self) -> &Path {
        &self.path
    }
}
