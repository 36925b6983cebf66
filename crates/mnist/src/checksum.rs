//! SHA-256 of the decompressed bytes of a file, the one check that accepts both the original
//! `.gz` files of the mirrors and re-compressed or raw copies of the same data.

use std::io::{self, Read};
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::MnistError;
use crate::idx::IdxSource;

/// Lower-case hex encoding.
///
/// ```
/// assert_eq!(scratchnet_mnist::checksum::hex(&[0x0f, 0xa0]), "0fa0");
/// ```
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(2 * bytes.len());
    for &b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// SHA-256 of `bytes`, as lower-case hex.
///
/// ```
/// assert_eq!(
///     scratchnet_mnist::checksum::sha256_hex(b"abc"),
///     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
/// );
/// ```
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// What a file decompresses to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileDigest {
    /// SHA-256 of the decompressed bytes, lower-case hex.
    pub sha256: String,
    /// Length of the decompressed bytes.
    pub len: u64,
    /// Was the file gzip-compressed?
    pub gzip: bool,
}

/// Streams the file at `path` through gzip decoding (if it is gzip) and SHA-256, with the
/// loader's bounds ([`crate::idx::MAX_FILE_BYTES`] in, [`crate::idx::MAX_DATA_BYTES`] out).
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let p = dir.path().join("abc.gz");
/// std::fs::write(&p, scratchnet_mnist::idx::gzip(b"abc")).unwrap();
/// let d = scratchnet_mnist::checksum::digest_file(&p).unwrap();
/// assert_eq!(d.sha256, scratchnet_mnist::checksum::sha256_hex(b"abc"));
/// assert!(d.gzip && d.len == 3);
/// ```
pub fn digest_file(path: impl AsRef<Path>) -> Result<FileDigest, MnistError> {
    digest_file_limited(
        path,
        crate::idx::MAX_FILE_BYTES,
        crate::idx::MAX_DATA_BYTES + 16,
    )
}

/// [`digest_file`] of a regular file of at most `max_input` bytes that decompresses to at most
/// `max_output` bytes: a larger file is refused from its size ([`scratchnet_fileio::FileError::TooLarge`]), a
/// gzip bomb stops one byte past `max_output` ([`MnistError::Oversized`]).
///
/// ```
/// use scratchnet_mnist::{MnistError, checksum::digest_file_limited, idx::gzip};
/// let dir = tempfile::tempdir().unwrap();
/// let p = dir.path().join("zeros.gz");
/// std::fs::write(&p, gzip(&vec![0u8; 1 << 20])).unwrap();
/// let err = digest_file_limited(&p, 1 << 20, 1000).unwrap_err();
/// assert!(matches!(err, MnistError::Oversized { limit: 1000, .. }));
/// ```
pub fn digest_file_limited(
    path: impl AsRef<Path>,
    max_input: u64,
    max_output: u64,
) -> Result<FileDigest, MnistError> {
    let path = path.as_ref();
    let src = IdxSource::open_limited(path, max_input)?;
    let gzip = src.is_gzip();
    let mut reader = src.into_reader().take(max_output.saturating_add(1));
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut len = 0u64;
    loop {
        match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                hasher.update(&buf[..n]);
                len += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(err) if gzip => {
                return Err(MnistError::Gzip {
                    path: path.into(),
                    err,
                });
            }
            Err(err) => return Err(MnistError::io("read", path, err)),
        }
    }
    if len > max_output {
        return Err(MnistError::Oversized {
            what: path.display().to_string(),
            limit: max_output,
        });
    }
    Ok(FileDigest {
        sha256: hex(&hasher.finalize()),
        len,
        gzip,
    })
}

/// [`digest_file`], then an error naming `what` unless the digest is `expected_sha256`.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let p = dir.path().join("abc");
/// std::fs::write(&p, b"abc").unwrap();
/// let err = scratchnet_mnist::checksum::verify_file(&p, "00", "my file").unwrap_err();
/// assert!(err.to_string().starts_with("my file: SHA-256 of the decompressed bytes is ba7816bf"));
/// ```
pub fn verify_file(
    path: impl AsRef<Path>,
    expected_sha256: &str,
    what: &str,
) -> Result<FileDigest, MnistError> {
    check_digest(digest_file(path)?, expected_sha256, what)
}

/// Verifies `path` as a copy of `file` under `sums`, bounded by the expected sizes.
pub(crate) fn verify_against(
    path: &Path,
    sums: &crate::Checksums,
    file: crate::MnistFile,
    what: &str,
) -> Result<FileDigest, MnistError> {
    let d = digest_file_limited(path, sums.max_file_len(file), sums.len(file)).map_err(
        |e| match e {
            // Name what the caller names (a URL, an archive member), not a temp file.
            MnistError::Oversized { limit, .. } => MnistError::Oversized {
                what: what.to_string(),
                limit,
            },
            other => other,
        },
    )?;
    check_digest(d, sums.get(file), what)
}

fn check_digest(
    d: FileDigest,
    expected_sha256: &str,
    what: &str,
) -> Result<FileDigest, MnistError> {
    if !d.sha256.eq_ignore_ascii_case(expected_sha256) {
        return Err(MnistError::ChecksumMismatch {
            what: what.to_string(),
            expected: expected_sha256.to_string(),
            actual: d.sha256,
        });
    }
    Ok(d)
}
