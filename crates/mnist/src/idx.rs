//! The IDX format of the MNIST files, raw or gzip-compressed.
//!
//! An IDX file is a big-endian header followed by unsigned bytes:
//!
//! | offset | images (magic 2051 = 0x00000803) | labels (magic 2049 = 0x00000801) |
//! |---|---|---|
//! | 0 | magic | magic |
//! | 4 | count N | count N |
//! | 8 | rows | labels, N bytes |
//! | 12 | cols | |
//! | 16 | pixels, N × rows × cols bytes | |
//!
//! The readers never trust the header: the data are read in growing chunks, so a header that
//! claims four billion images costs nothing before it is found to be a lie, and a claim above
//! [`MAX_DATA_BYTES`] is refused outright.

use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use byteorder::{BigEndian, ByteOrder, WriteBytesExt};

use crate::MnistError;

/// Magic number of an IDX file of unsigned-byte images: type 0x08, three dimensions.
pub const IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of an IDX file of unsigned-byte labels: type 0x08, one dimension.
pub const LABELS_MAGIC: u32 = 0x0000_0801;
/// The largest payload accepted, 1 GiB (MNIST's training images are 47 MB).
pub const MAX_DATA_BYTES: u64 = 1 << 30;
/// At most this many bytes are reserved up front from the header's claim; beyond, the buffer
/// grows only as real data arrive.
const PREALLOC_LIMIT: u64 = 64 << 20;
/// Deflate cannot expand more than about 1032:1, which bounds what a gzip input can hold.
const MAX_DEFLATE_RATIO: u64 = 1032;
/// Reserved up front when the input size is unknown.
const PREALLOC_UNKNOWN: u64 = 1 << 20;
/// The largest file [`IdxSource::open`] reads: the largest payload, its header and some slack
/// for a gzip that stores rather than compresses. A 30 GB sparse file under an MNIST name is
/// refused from its size, before a byte is read.
pub const MAX_FILE_BYTES: u64 = MAX_DATA_BYTES + (MAX_DATA_BYTES >> 6) + 4096;

/// A decoded IDX image file: `count` images of `rows × cols` pixels, row-major, 0 = background.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdxImages {
    /// Number of images.
    pub count: u32,
    /// Rows per image.
    pub rows: u32,
    /// Columns per image.
    pub cols: u32,
    /// `count × rows × cols` pixel bytes.
    pub pixels: Vec<u8>,
}

/// An open IDX file, gzip-decoded on the fly when its first bytes are the gzip magic (whatever
/// its name says).
pub struct IdxSource {
    reader: Box<dyn Read>,
    gzip: bool,
    /// Size of the (possibly compressed) input, when known: bounds the up-front reservation.
    input_len: Option<u64>,
}

impl IdxSource {
    /// Opens `path`, sniffing gzip by content: [`open_limited`](Self::open_limited) with
    /// [`MAX_FILE_BYTES`].
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let p = dir.path().join("labels");
    /// std::fs::write(&p, scratchnet_mnist::idx::encode_labels(&[1, 2])).unwrap();
    /// assert!(!scratchnet_mnist::idx::IdxSource::open(&p).unwrap().is_gzip());
    /// // a device is refused, never read
    /// let err = scratchnet_mnist::idx::IdxSource::open("/dev/zero").err().unwrap();
    /// assert_eq!(err.to_string(), "/dev/zero is a character device, not a regular file");
    /// ```
    pub fn open(path: impl AsRef<Path>) -> Result<Self, MnistError> {
        Self::open_limited(path, MAX_FILE_BYTES)
    }

    /// Opens `path` if it is a regular file of at most `limit` bytes (checked from its size and
    /// again while reading, so a file that grows is cut off), sniffing gzip by content.
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let p = dir.path().join("labels");
    /// std::fs::write(&p, scratchnet_mnist::idx::encode_labels(&[1, 2])).unwrap();
    /// let err = scratchnet_mnist::idx::IdxSource::open_limited(&p, 5).err().unwrap();
    /// assert!(err.to_string().ends_with("is larger than 5 bytes, more than any file of this kind"));
    /// ```
    pub fn open_limited(path: impl AsRef<Path>, limit: u64) -> Result<Self, MnistError> {
        let path = path.as_ref();
        let file = scratchnet_fileio::open_regular(path)?;
        let len = file
            .metadata()
            .map_err(|e| MnistError::io("read", path, e))?
            .len();
        if len > limit {
            return Err(scratchnet_fileio::FileError::TooLarge {
                path: path.into(),
                limit,
            }
            .into());
        }
        // The size can change after the check: the reader stops one byte past the limit, which
        // the parser then reports as trailing data or a checksum mismatch.
        let mut src = Self::from_reader(file.take(limit.saturating_add(1)), path)?;
        src.input_len = Some(len);
        Ok(src)
    }

    /// Wraps bytes already in memory (`path` only names them in errors), sniffing gzip.
    ///
    /// ```
    /// use scratchnet_mnist::idx::{IdxSource, encode_labels, gzip};
    /// let p = std::path::Path::new("labels.gz");
    /// let src = IdxSource::from_bytes(gzip(&encode_labels(&[4])), p).unwrap();
    /// assert!(src.is_gzip());
    /// assert_eq!(src.read_labels(p).unwrap(), vec![4]);
    /// ```
    pub fn from_bytes(bytes: Vec<u8>, path: &Path) -> Result<Self, MnistError> {
        let len = bytes.len() as u64;
        let mut src = Self::from_reader(io::Cursor::new(bytes), path)?;
        src.input_len = Some(len);
        Ok(src)
    }

    /// Wraps any reader, sniffing gzip by content.
    pub fn from_reader<R: Read + 'static>(reader: R, path: &Path) -> Result<Self, MnistError> {
        let mut buf = BufReader::with_capacity(1 << 16, reader);
        let head = buf
            .fill_buf()
            .map_err(|e| MnistError::io("read", path, e))?;
        let gzip = head.starts_with(&[0x1f, 0x8b]);
        let reader: Box<dyn Read> = if gzip {
            // Multi-member, because re-compressing tools may split the stream.
            Box::new(flate2::bufread::MultiGzDecoder::new(buf))
        } else {
            Box::new(buf)
        };
        Ok(IdxSource {
            reader,
            gzip,
            input_len: None,
        })
    }

    /// Was the file gzip-compressed?
    pub fn is_gzip(&self) -> bool {
        self.gzip
    }

    /// The decompressed byte stream, header included.
    pub fn into_reader(self) -> Box<dyn Read> {
        self.reader
    }

    fn error(&self, path: &Path, err: io::Error) -> MnistError {
        if self.gzip {
            MnistError::Gzip {
                path: path.into(),
                err,
            }
        } else {
            MnistError::io("read", path, err)
        }
    }

    /// Reads into `buf` until it is full or the stream ends; returns the bytes read.
    fn read_full(&mut self, buf: &mut [u8], path: &Path) -> Result<usize, MnistError> {
        let mut n = 0;
        while n < buf.len() {
            match self.reader.read(&mut buf[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.error(path, e)),
            }
        }
        Ok(n)
    }

    /// Reads exactly `expected` data bytes and checks that nothing follows.
    fn read_data(&mut self, expected: u64, path: &Path) -> Result<Vec<u8>, MnistError> {
        // Reserve what the input can actually hold, not what the header claims.
        let bound = match self.input_len {
            Some(n) if self.gzip => n.saturating_mul(MAX_DEFLATE_RATIO),
            Some(n) => n,
            None => PREALLOC_UNKNOWN,
        };
        let mut data = Vec::with_capacity(expected.min(bound).min(PREALLOC_LIMIT) as usize);
        (&mut self.reader)
            .take(expected)
            .read_to_end(&mut data)
            .map_err(|e| self.error(path, e))?;
        if (data.len() as u64) < expected {
            return Err(MnistError::Truncated {
                path: path.into(),
                expected,
                actual: data.len() as u64,
            });
        }
        let mut extra = [0u8; 1];
        if self.read_full(&mut extra, path)? > 0 {
            return Err(MnistError::TrailingData {
                path: path.into(),
                expected,
            });
        }
        Ok(data)
    }

    /// Reads and checks the header, returning its numbers after the magic.
    fn header<const N: usize>(
        &mut self,
        magic: u32,
        kind: &'static str,
        path: &Path,
    ) -> Result<[u32; N], MnistError> {
        let mut head = vec![0u8; 4 * (N + 1)];
        let got = self.read_full(&mut head, path)?;
        // A wrong magic is the more useful message even when the file is also short.
        if got >= 4 && BigEndian::read_u32(&head) != magic {
            return Err(MnistError::BadMagic {
                path: path.into(),
                found: BigEndian::read_u32(&head),
                expected: magic,
                kind,
            });
        }
        if got < head.len() {
            return Err(MnistError::TruncatedHeader {
                path: path.into(),
                len: got,
                header: head.len(),
            });
        }
        let mut out = [0u32; N];
        for (i, v) in out.iter_mut().enumerate() {
            *v = BigEndian::read_u32(&head[4 * (i + 1)..]);
        }
        Ok(out)
    }

    /// Reads an image file to the end.
    ///
    /// ```
    /// use scratchnet_mnist::idx::{IdxSource, encode_images};
    /// let bytes = encode_images(2, 3, &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    /// let p = std::path::Path::new("mem");
    /// let img = IdxSource::from_reader(std::io::Cursor::new(bytes), p).unwrap().read_images(p).unwrap();
    /// assert_eq!((img.count, img.rows, img.cols), (2, 2, 3));
    /// ```
    pub fn read_images(mut self, path: &Path) -> Result<IdxImages, MnistError> {
        let [count, rows, cols] = self.header::<3>(IMAGES_MAGIC, "images", path)?;
        let item_bytes = rows as u64 * cols as u64;
        let total = check_size(count, item_bytes, path)?;
        let pixels = self.read_data(total, path)?;
        Ok(IdxImages {
            count,
            rows,
            cols,
            pixels,
        })
    }

    /// Reads a label file to the end, checking that every label is 0–9.
    ///
    /// ```
    /// use scratchnet_mnist::idx::{IdxSource, encode_labels};
    /// let p = std::path::Path::new("mem");
    /// let src = IdxSource::from_reader(std::io::Cursor::new(encode_labels(&[7, 2])), p).unwrap();
    /// assert_eq!(src.read_labels(p).unwrap(), vec![7, 2]);
    /// ```
    pub fn read_labels(mut self, path: &Path) -> Result<Vec<u8>, MnistError> {
        let [count] = self.header::<1>(LABELS_MAGIC, "labels", path)?;
        let total = check_size(count, 1, path)?;
        let labels = self.read_data(total, path)?;
        if let Some((index, &value)) = labels.iter().enumerate().find(|&(_, &l)| l > 9) {
            return Err(MnistError::BadLabel {
                path: path.into(),
                index,
                value,
            });
        }
        Ok(labels)
    }
}

fn check_size(count: u32, item_bytes: u64, path: &Path) -> Result<u64, MnistError> {
    // u32 × (u32 × u32) fits in u128 but not always in u64.
    let total = count as u128 * item_bytes as u128;
    if total > MAX_DATA_BYTES as u128 {
        return Err(MnistError::TooLarge {
            path: path.into(),
            count,
            item_bytes,
            total: total.min(u64::MAX as u128) as u64,
            limit: MAX_DATA_BYTES,
        });
    }
    Ok(total as u64)
}

/// Reads the image file at `path` (raw or gzip).
///
/// ```no_run
/// let img = scratchnet_mnist::idx::read_images_file("data/mnist/t10k-images-idx3-ubyte.gz")?;
/// assert_eq!(img.count, 10_000);
/// # Ok::<(), scratchnet_mnist::MnistError>(())
/// ```
pub fn read_images_file(path: impl AsRef<Path>) -> Result<IdxImages, MnistError> {
    let path = path.as_ref();
    IdxSource::open(path)?.read_images(path)
}

/// Reads the label file at `path` (raw or gzip).
///
/// ```no_run
/// let labels = scratchnet_mnist::idx::read_labels_file("data/mnist/t10k-labels-idx1-ubyte.gz")?;
/// assert_eq!(labels.len(), 10_000);
/// # Ok::<(), scratchnet_mnist::MnistError>(())
/// ```
pub fn read_labels_file(path: impl AsRef<Path>) -> Result<Vec<u8>, MnistError> {
    let path = path.as_ref();
    IdxSource::open(path)?.read_labels(path)
}

/// Encodes images as an IDX file (for tests and fixtures).
///
/// # Panics
/// If `pixels.len()` is not a multiple of `rows × cols`, or a count exceeds `u32`.
///
/// ```
/// let b = scratchnet_mnist::idx::encode_images(1, 1, &[255, 0]);
/// assert_eq!(b, [0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 1, 255, 0]);
/// ```
pub fn encode_images(rows: u32, cols: u32, pixels: &[u8]) -> Vec<u8> {
    let per = rows as usize * cols as usize;
    assert!(
        per > 0 && pixels.len() % per == 0,
        "pixels must be whole {rows}x{cols} images"
    );
    let count = u32::try_from(pixels.len() / per).expect("too many images for IDX");
    let mut out = Vec::with_capacity(16 + pixels.len());
    for v in [IMAGES_MAGIC, count, rows, cols] {
        out.write_u32::<BigEndian>(v).expect("writing to a Vec");
    }
    out.extend_from_slice(pixels);
    out
}

/// Encodes labels as an IDX file (for tests and fixtures). Values are not checked.
///
/// # Panics
/// If there are more than `u32::MAX` labels.
///
/// ```
/// assert_eq!(scratchnet_mnist::idx::encode_labels(&[3]), [0, 0, 8, 1, 0, 0, 0, 1, 3]);
/// ```
pub fn encode_labels(labels: &[u8]) -> Vec<u8> {
    let count = u32::try_from(labels.len()).expect("too many labels for IDX");
    let mut out = Vec::with_capacity(8 + labels.len());
    for v in [LABELS_MAGIC, count] {
        out.write_u32::<BigEndian>(v).expect("writing to a Vec");
    }
    out.extend_from_slice(labels);
    out
}

/// Gzip-compresses `bytes` (for tests and fixtures).
///
/// ```
/// let gz = scratchnet_mnist::idx::gzip(b"abc");
/// assert_eq!(&gz[..2], &[0x1f, 0x8b]);
/// ```
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).expect("writing to a Vec");
    enc.finish().expect("writing to a Vec")
}
