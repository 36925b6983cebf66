use std::io;
use std::path::{Path, PathBuf};

/// Why a file could not be read or written. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// An operating-system error while doing `action` on `path`.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What was being done, e.g. `"read"`, `"create a temp file beside"`.
        action: &'static str,
        /// The file (never a temp name: errors name what the user gave).
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// The path exists but is a directory, device, FIFO or socket, which is never read as data
    /// nor replaced by a file.
    #[error("{} is a {kind}, not a regular file", path.display())]
    NotRegular {
        /// The path given.
        path: PathBuf,
        /// What it is: `"directory"`, `"FIFO"`, `"character device"`, ...
        kind: &'static str,
    },
    /// A symbolic link that points nowhere: writing through it would create a file somewhere the
    /// user did not name.
    #[error("{} is a symbolic link to {}, which does not exist", path.display(), target.display())]
    DanglingLink {
        /// The link.
        path: PathBuf,
        /// Where it points.
        target: PathBuf,
    },
    /// The folder an output file goes into does not exist (it is never created implicitly: a
    /// typo must not scatter files).
    #[error("cannot write {}: its folder {} does not exist", path.display(), folder.display())]
    NoFolder {
        /// The file.
        path: PathBuf,
        /// Its missing folder.
        folder: PathBuf,
    },
    /// An output folder that cannot be used: not a folder, not empty, in use by another run.
    #[error("output folder {}: {reason}", path.display())]
    Unusable {
        /// The folder as given.
        path: PathBuf,
        /// Why it cannot be used.
        reason: String,
    },
    /// An advisory lock held by another process (or another [`DirLock`](crate::DirLock)).
    #[error("{} is locked by another running process", path.display())]
    Locked {
        /// The lock file.
        path: PathBuf,
    },
    /// More bytes than the caller's limit (checked while reading, not only from the metadata).
    #[error("{} is larger than {limit} bytes, more than any file of this kind", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The limit in bytes.
        limit: u64,
    },
    /// The file does not start with the expected magic bytes.
    #[error("{} is not a {what}", path.display())]
    NotFramed {
        /// The file.
        path: PathBuf,
        /// What was expected, e.g. `"scratchnet model file"`.
        what: &'static str,
    },
    /// A framed file of another format version.
    #[error("{} is a {what} of format version {found}; this build reads version {expected}", path.display())]
    Version {
        /// The file.
        path: PathBuf,
        /// What kind of file it is.
        what: &'static str,
        /// The version found.
        found: u32,
        /// The version this build reads.
        expected: u32,
    },
    /// A framed file that is truncated, altered, or whose contents do not decode.
    #[error("{} is a corrupt {what}: {detail}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What kind of file it is.
        what: &'static str,
        /// What is wrong.
        detail: String,
    },
}

impl FileError {
    pub(crate) fn io(action: &'static str, path: &Path, source: io::Error) -> Self {
        FileError::Io {
            action,
            path: path.to_owned(),
            source,
        }
    }

    /// The file the error is about.
    ///
    /// ```
    /// let e = scratchnet_fileio::read_limited("/no/such/file", 10).unwrap_err();
    /// assert_eq!(e.path(), std::path::Path::new("/no/such/file"));
    /// ```
    pub fn path(&self) -> &Path {
        match self {
            FileError::Io { path, .. }
            | FileError::NotRegular { path, .. }
            | FileError::DanglingLink { path, .. }
            | FileError::Locked { path, .. }
            | FileError::Unusable { path, .. }
            | FileError::NoFolder { path, .. }
            | FileError::TooLarge { path, .. }
            | FileError::NotFramed { path, .. }
            | FileError::Version { path, .. }
            | FileError::Corrupt { path, .. } => path,
        }
    }

    /// True when the file (or a folder on its path) does not exist.
    ///
    /// ```
    /// assert!(scratchnet_fileio::read_limited("/no/such/file", 10).unwrap_err().is_not_found());
    /// ```
    pub fn is_not_found(&self) -> bool {
        matches!(self, FileError::Io { source, .. } if source.kind() == io::ErrorKind::NotFound)
    }
}
