use std::fmt;
use std::io;
use std::path::PathBuf;

/// Everything that can go wrong while reading, caching, importing or downloading MNIST.
///
/// Each message is one line that names the file, URL or value at fault and what is wrong with
/// it, so a binary can print it as is. The messages carry their cause inline rather than as a
/// [`std::error::Error::source`], so that printing a chain never repeats it.
///
/// ```
/// use scratchnet_mnist::MnistError;
/// let e = MnistError::BadLabel { path: "t10k-labels-idx1-ubyte".into(), index: 7, value: 12 };
/// assert_eq!(e.to_string(), "t10k-labels-idx1-ubyte: label #7 is 12, labels must be 0-9");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MnistError {
    /// An operating-system error on a file or folder.
    #[error("cannot {op} {}: {err}", path.display())]
    Io {
        /// What we were doing: "open", "read", "write", ...
        op: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The OS error.
        err: io::Error,
    },

    /// A file could not be read or written as a whole: it is not a regular file (a folder, a
    /// FIFO, a device), it is larger than any file of its kind, or the OS refused.
    #[error(transparent)]
    File(#[from] scratchnet_fileio::FileError),

    /// Some of the four files are in neither naming style in the data folder.
    #[error(
        "MNIST files missing in {}: {} (download and verify them with `scratchnet_mnist::download::fetch` \
         (feature \"download\"), or in the scratchnet workspace `cargo xtask fetch-mnist --dir {}`)",
        dir.display(), names.join(", "), dir.display()
    )]
    MissingFiles {
        /// The data folder.
        dir: PathBuf,
        /// The missing files, by their standard names without `.gz`.
        names: Vec<String>,
    },

    /// The file starts like gzip but does not decompress.
    #[error("{}: corrupt gzip data: {err}", path.display())]
    Gzip {
        /// The file.
        path: PathBuf,
        /// What the decoder said.
        err: io::Error,
    },

    /// The file is shorter than its IDX header.
    #[error("{}: only {len} bytes, shorter than the {header}-byte IDX header", path.display())]
    TruncatedHeader {
        /// The file.
        path: PathBuf,
        /// Bytes present (after decompression).
        len: usize,
        /// Header size: 8 for labels, 16 for images.
        header: usize,
    },

    /// The first four bytes are not the magic number of the expected IDX kind.
    #[error(
        "{}: magic number {found} (0x{found:08x}), expected {expected} (0x{expected:08x}) for IDX {kind}",
        path.display()
    )]
    BadMagic {
        /// The file.
        path: PathBuf,
        /// The number read.
        found: u32,
        /// 2051 for images, 2049 for labels.
        expected: u32,
        /// "images" or "labels".
        kind: &'static str,
    },

    /// The header claims more data than any MNIST-like set has: refused before allocating.
    #[error(
        "{}: header claims {count} items of {item_bytes} bytes = {total} bytes, over the {limit}-byte limit",
        path.display()
    )]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Item count from the header.
        count: u32,
        /// Bytes per item (rows × cols for images, 1 for labels).
        item_bytes: u64,
        /// `count × item_bytes`.
        total: u64,
        /// The limit, [`crate::idx::MAX_DATA_BYTES`].
        limit: u64,
    },

    /// The data after the header is shorter than the header says.
    #[error("{}: header promises {expected} data bytes but only {actual} follow", path.display())]
    Truncated {
        /// The file.
        path: PathBuf,
        /// `count × item size` from the header.
        expected: u64,
        /// Bytes actually present after the header (after decompression).
        actual: u64,
    },

    /// Bytes follow the data the header accounts for.
    #[error("{}: more data than the {expected} bytes the header promises", path.display())]
    TrailingData {
        /// The file.
        path: PathBuf,
        /// `count × item size` from the header.
        expected: u64,
    },

    /// Images are not 28×28.
    #[error("{}: images are {rows}x{cols}, MNIST images are 28x28", path.display())]
    WrongImageSize {
        /// The file.
        path: PathBuf,
        /// Rows from the header.
        rows: u32,
        /// Columns from the header.
        cols: u32,
    },

    /// An image file and its label file disagree on the number of examples.
    #[error(
        "{} holds {images} images but {} holds {labels} labels",
        images_path.display(), labels_path.display()
    )]
    CountMismatch {
        /// The image file.
        images_path: PathBuf,
        /// Its image count.
        images: u32,
        /// The label file.
        labels_path: PathBuf,
        /// Its label count.
        labels: u32,
    },

    /// A label outside 0–9.
    #[error("{}: label #{index} is {value}, labels must be 0-9", path.display())]
    BadLabel {
        /// The label file.
        path: PathBuf,
        /// Position of the label in the file.
        index: usize,
        /// The offending value.
        value: u8,
    },

    /// A file's decompressed bytes do not have the published SHA-256.
    #[error("{what}: SHA-256 of the decompressed bytes is {actual}, expected {expected}")]
    ChecksumMismatch {
        /// The file, URL or archive member.
        what: String,
        /// Expected hex digest.
        expected: String,
        /// Computed hex digest.
        actual: String,
    },

    /// A file under an MNIST name in the data folder is not the expected content. It was left
    /// exactly as it is: it may be the user's own (Fashion-MNIST uses the same names).
    #[error(
        "{} is not the expected MNIST file ({reason}); it was left as it is: move it away, or fetch \
         with --force (`force: true`) to put a verified copy in its place and keep it as {}.bad-<time>",
        path.display(), path.display()
    )]
    Unverified {
        /// The file found.
        path: PathBuf,
        /// What is wrong with it (digest mismatch, not gzip, too large...).
        reason: String,
    },

    /// A file decompresses to more bytes than the expected file has (a gzip bomb stops here).
    #[error("{what}: decompresses to more than {limit} bytes, the size of the expected file")]
    Oversized {
        /// The file, URL or archive member.
        what: String,
        /// The expected decompressed length.
        limit: u64,
    },

    /// The caller's cancellation flag was raised (Ctrl-C): the file being fetched was dropped
    /// and its temp file removed; files placed before stay (they are verified).
    #[error("interrupted: the fetch was cancelled")]
    Interrupted,

    /// Another fetch or import is writing into the same data folder.
    #[error(
        "another fetch or import is writing into {} (a running process holds the lock on {}); wait for it to finish",
        dir.display(), lock.display()
    )]
    Busy {
        /// The data folder.
        dir: PathBuf,
        /// The lock file (an OS advisory lock; released when its holder exits).
        lock: PathBuf,
    },

    /// An option of the call is out of its range.
    #[error("invalid {name}: {reason}")]
    InvalidOption {
        /// The option, e.g. `"timeout"`.
        name: &'static str,
        /// Its accepted range and the value given.
        reason: String,
    },

    /// Every mirror failed for one file.
    #[error("could not fetch {file}: every source failed: {}", Attempts(attempts))]
    AllMirrorsFailed {
        /// The file, e.g. `train-images-idx3-ubyte.gz`.
        file: String,
        /// Each URL tried, in order, with its cause.
        attempts: Vec<Attempt>,
    },

    /// An offline import could not find or place the files.
    #[error("cannot import MNIST from {}: {reason}", from.display())]
    Import {
        /// The folder or archive given.
        from: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

impl MnistError {
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, err: io::Error) -> Self {
        MnistError::Io {
            op,
            path: path.into(),
            err,
        }
    }
}

/// One failed try at getting a file: where from, and why it failed.
///
/// ```
/// let a = scratchnet_mnist::Attempt { url: "http://x/a.gz".into(), cause: "HTTP 404".into() };
/// assert_eq!(a.to_string(), "http://x/a.gz: HTTP 404");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attempt {
    /// The URL (or local path) tried.
    pub url: String,
    /// Why it did not give a verified file.
    pub cause: String,
}

impl fmt::Display for Attempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.url, self.cause)
    }
}

struct Attempts<'a>(&'a [Attempt]);

impl fmt::Display for Attempts<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return write!(f, "no mirror to try");
        }
        for (i, a) in self.0.iter().enumerate() {
            if i > 0 {
                write!(f, "; ")?;
            }
            write!(f, "[{}] {a}", i + 1)?;
        }
        Ok(())
    }
}
