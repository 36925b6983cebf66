//! Reads of regular files only, bounded while reading.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use crate::{FileError, kind_of};

/// Opens `path` for reading if it is a regular file (after following symbolic links).
///
/// A FIFO is refused without blocking (it is opened non-blocking, then checked), a directory or
/// device without reading a byte.
///
/// ```
/// let err = scratchnet_fileio::open_regular("/dev/zero").unwrap_err();
/// assert_eq!(err.to_string(), "/dev/zero is a character device, not a regular file");
/// ```
pub fn open_regular(path: impl AsRef<Path>) -> Result<File, FileError> {
    let path = path.as_ref();
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // Opening a FIFO for reading blocks until a writer appears; non-blocking, it returns at
        // once and the check below refuses it. Regular files ignore the flag.
        opts.custom_flags(libc::O_NONBLOCK);
    }
    let file = opts
        .open(path)
        .map_err(|e| FileError::io("open", path, e))?;
    let meta = file
        .metadata()
        .map_err(|e| FileError::io("read the metadata of", path, e))?;
    if !meta.is_file() {
        return Err(FileError::NotRegular {
            path: path.to_owned(),
            kind: kind_of(&meta),
        });
    }
    Ok(file)
}

/// Reads the whole of the regular file `path`, refusing it once more than `limit` bytes arrive
/// (a sparse or growing file is caught while reading, not only by its reported size).
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let p = dir.path().join("f");
/// std::fs::write(&p, [7u8; 11]).unwrap();
/// assert_eq!(scratchnet_fileio::read_limited(&p, 11).unwrap().len(), 11);
/// let err = scratchnet_fileio::read_limited(&p, 10).unwrap_err();
/// assert!(err.to_string().ends_with("is larger than 10 bytes, more than any file of this kind"));
/// ```
pub fn read_limited(path: impl AsRef<Path>, limit: u64) -> Result<Vec<u8>, FileError> {
    let path = path.as_ref();
    let file = open_regular(path)?;
    let too_large = || FileError::TooLarge {
        path: path.to_owned(),
        limit,
    };
    let reported = file.metadata().map(|m| m.len()).unwrap_or(0);
    if reported > limit {
        return Err(too_large());
    }
    let mut bytes = Vec::with_capacity(reported as usize);
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| FileError::io("read", path, e))?;
    if bytes.len() as u64 > limit {
        return Err(too_large());
    }
    Ok(bytes)
}

/// [`read_limited`], as UTF-8 text.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let p = dir.path().join("a.csv");
/// std::fs::write(&p, "iter,loss\n").unwrap();
/// assert_eq!(scratchnet_fileio::read_to_string_limited(&p, 1 << 20).unwrap(), "iter,loss\n");
/// ```
pub fn read_to_string_limited(path: impl AsRef<Path>, limit: u64) -> Result<String, FileError> {
    let path = path.as_ref();
    let bytes = read_limited(path, limit)?;
    String::from_utf8(bytes).map_err(|_| {
        FileError::io(
            "read",
            path,
            std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8 text"),
        )
    })
}
