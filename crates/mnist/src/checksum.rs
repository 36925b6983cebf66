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

/// Streams the file at `path` through gzip decoding (if it is gzip) and SHA-256.
///
/// ```
/// let p = std::env::temp_dir().join("scratchnet-doc-digest.gz");
/// std::fs::write(&p, scratchnet_mnist::idx::gzip(b"abc")).unwrap();
/// let d = scratchnet_mnist::checksum::digest_file(&p).unwrap();
/// assert_eq!(d.sha256, scratchnet_mnist::checksum::sha256_hex(b"abc"));
/// assert!(d.gzip && d.len == 3);
/// # std::fs::remove_file(&p).unwrap();
/// ```
pub fn digest_file(path: &Path) -> Result<FileDigest, MnistError> {
    let src = IdxSource::open(path)?;
    let gzip = src.is_gzip();
    let mut reader = src.into_reader();
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
    Ok(FileDigest {
        sha256: hex(&hasher.finalize()),
        len,
        gzip,
    })
}

/// [`digest_file`], then an error naming `what` unless the digest is `expected_sha256`.
///
/// ```
/// let p = std::env::temp_dir().join("scratchnet-doc-verify");
/// std::fs::write(&p, b"abc").unwrap();
/// let err = scratchnet_mnist::checksum::verify_file(&p, "00", "my file").unwrap_err();
/// assert!(err.to_string().starts_with("my file: SHA-256 of the decompressed bytes is ba7816bf"));
/// # std::fs::remove_file(&p).unwrap();
/// ```
pub fn verify_file(
    path: &Path,
    expected_sha256: &str,
    what: &str,
) -> Result<FileDigest, MnistError> {
    let d = digest_file(path)?;
    if !d.sha256.eq_ignore_ascii_case(expected_sha256) {
        return Err(MnistError::ChecksumMismatch {
            what: what.to_string(),
            expected: expected_sha256.to_string(),
            actual: d.sha256,
        });
    }
    Ok(d)
}
