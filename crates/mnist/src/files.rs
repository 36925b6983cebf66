//! The four MNIST files: their names in both naming styles and their published checksums.

use std::fmt;
use std::path::{Path, PathBuf};

/// One of the four MNIST files.
///
/// Files are found under four names, tried in this order: the standard
/// `train-images-idx3-ubyte.gz`, the raw `train-images-idx3-ubyte`, and the same two in the
/// dotted style some archives use, `train-images.idx3-ubyte[.gz]`.
///
/// ```
/// use scratchnet_mnist::MnistFile;
/// assert_eq!(MnistFile::TestLabels.stem(), "t10k-labels-idx1-ubyte");
/// assert_eq!(MnistFile::TestLabels.remote_name(), "t10k-labels-idx1-ubyte.gz");
/// assert_eq!(MnistFile::TestLabels.candidate_names()[3], "t10k-labels.idx1-ubyte");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MnistFile {
    /// 60000 training images.
    TrainImages,
    /// 60000 training labels.
    TrainLabels,
    /// 10000 test images.
    TestImages,
    /// 10000 test labels.
    TestLabels,
}

impl MnistFile {
    /// All four, in the order they are fetched and reported.
    pub const ALL: [MnistFile; 4] = [
        MnistFile::TrainImages,
        MnistFile::TrainLabels,
        MnistFile::TestImages,
        MnistFile::TestLabels,
    ];

    /// The standard name without `.gz`, e.g. `train-images-idx3-ubyte`.
    pub fn stem(self) -> &'static str {
        match self {
            MnistFile::TrainImages => "train-images-idx3-ubyte",
            MnistFile::TrainLabels => "train-labels-idx1-ubyte",
            MnistFile::TestImages => "t10k-images-idx3-ubyte",
            MnistFile::TestLabels => "t10k-labels-idx1-ubyte",
        }
    }

    /// The dotted variant of [`Self::stem`], e.g. `train-images.idx3-ubyte`.
    pub fn dotted_stem(self) -> &'static str {
        match self {
            MnistFile::TrainImages => "train-images.idx3-ubyte",
            MnistFile::TrainLabels => "train-labels.idx1-ubyte",
            MnistFile::TestImages => "t10k-images.idx3-ubyte",
            MnistFile::TestLabels => "t10k-labels.idx1-ubyte",
        }
    }

    /// The name on the mirrors: the standard stem plus `.gz`.
    pub fn remote_name(self) -> String {
        format!("{}.gz", self.stem())
    }

    /// The four names this file is looked up under, in lookup order.
    pub fn candidate_names(self) -> [String; 4] {
        [
            format!("{}.gz", self.stem()),
            self.stem().to_string(),
            format!("{}.gz", self.dotted_stem()),
            self.dotted_stem().to_string(),
        ]
    }

    /// The first of [`Self::candidate_names`] that exists in `dir`, whatever it is: a FIFO or a
    /// folder under an MNIST name is found here, and then refused by the reader as "not a
    /// regular file" instead of being reported missing.
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// std::fs::write(dir.path().join("t10k-labels.idx1-ubyte"), b"").unwrap();
    /// let found = scratchnet_mnist::MnistFile::TestLabels.find_in(dir.path()).unwrap();
    /// assert!(found.ends_with("t10k-labels.idx1-ubyte"));
    /// std::fs::create_dir(dir.path().join("t10k-images-idx3-ubyte")).unwrap();
    /// assert!(scratchnet_mnist::MnistFile::TestImages.find_in(dir.path()).is_some());
    /// ```
    pub fn find_in(self, dir: impl AsRef<Path>) -> Option<PathBuf> {
        let dir = dir.as_ref();
        self.candidate_names()
            .into_iter()
            .map(|n| dir.join(n))
            .find(|p| std::fs::symlink_metadata(p).is_ok())
    }

    /// Is this an image file (as opposed to labels)?
    pub fn is_images(self) -> bool {
        matches!(self, MnistFile::TrainImages | MnistFile::TestImages)
    }

    /// The size in bytes of the decompressed IDX file (header included), as published with the
    /// checksums.
    ///
    /// ```
    /// assert_eq!(scratchnet_mnist::MnistFile::TrainImages.idx_len(), 16 + 60_000 * 784);
    /// ```
    pub fn idx_len(self) -> u64 {
        match self {
            MnistFile::TrainImages => 47_040_016,
            MnistFile::TrainLabels => 60_008,
            MnistFile::TestImages => 7_840_016,
            MnistFile::TestLabels => 10_008,
        }
    }

    /// The published SHA-256 of the decompressed IDX bytes.
    pub fn sha256(self) -> &'static str {
        match self {
            MnistFile::TrainImages => {
                "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"
            }
            MnistFile::TrainLabels => {
                "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"
            }
            MnistFile::TestImages => {
                "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"
            }
            MnistFile::TestLabels => {
                "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"
            }
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for MnistFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.stem())
    }
}

/// What each file must decompress to to be accepted: its SHA-256 (hex) and its length.
///
/// [`Checksums::mnist`] (the default) holds the published values of MNIST. [`Checksums::new`]
/// takes another table, for a data set in the same four files (Fashion-MNIST uses exactly these
/// names).
///
/// The lengths also bound every download and copy: no more than
/// [`max_file_len`](Self::max_file_len) bytes of a file are ever written to disk, and no more than
/// its length are decompressed, so an endless body or a gzip bomb stops at the cap.
///
/// ```
/// use scratchnet_mnist::{Checksums, MnistFile};
/// let c = Checksums::mnist();
/// assert_eq!(c.get(MnistFile::TrainLabels), MnistFile::TrainLabels.sha256());
/// assert_eq!(c.len(MnistFile::TrainLabels), 60_008);
/// let mine = Checksums::new(MnistFile::ALL.map(|f| ("AB".repeat(32), 100)));
/// assert_eq!(mine.get(MnistFile::TestImages), "ab".repeat(32));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checksums {
    sha256: [String; 4],
    len: [u64; 4],
}

impl Checksums {
    /// The published checksums and sizes of real MNIST.
    pub fn mnist() -> Self {
        Checksums {
            sha256: MnistFile::ALL.map(|f| f.sha256().to_string()),
            len: MnistFile::ALL.map(MnistFile::idx_len),
        }
    }

    /// A table of `(SHA-256 hex, decompressed length)` for the four files, in
    /// [`MnistFile::ALL`] order. The digests are lower-cased.
    pub fn new<S: AsRef<str>>(table: [(S, u64); 4]) -> Self {
        let mut sha256: [String; 4] = Default::default();
        let mut len = [0u64; 4];
        for (i, (s, n)) in table.into_iter().enumerate() {
            sha256[i] = s.as_ref().to_ascii_lowercase();
            len[i] = n;
        }
        Checksums { sha256, len }
    }

    /// The expected hex digest of `file`.
    pub fn get(&self, file: MnistFile) -> &str {
        &self.sha256[file.index()]
    }

    /// The expected decompressed length of `file` in bytes.
    #[allow(clippy::len_without_is_empty)] // a length per file, not of a collection
    pub fn len(&self, file: MnistFile) -> u64 {
        self.len[file.index()]
    }

    /// The most bytes a stored copy of `file` may have, raw or gzip: its decompressed length
    /// plus slack for any gzip of it (a stored, uncompressed gzip adds 5 bytes per 64 KiB and a
    /// header). Downloads and archive members beyond it are cut off before reaching the disk.
    ///
    /// ```
    /// use scratchnet_mnist::{Checksums, MnistFile};
    /// let cap = Checksums::mnist().max_file_len(MnistFile::TrainImages);
    /// assert!(cap > 47_040_016 && cap < 48_000_000);
    /// ```
    pub fn max_file_len(&self, file: MnistFile) -> u64 {
        let n = self.len(file);
        n.saturating_add(n / 64).saturating_add(4096)
    }
}

impl Default for Checksums {
    fn default() -> Self {
        Checksums::mnist()
    }
}

/// The standard names (without `.gz`) of the files that are in neither naming style, raw or
/// gzip, in `dir`; empty when all four are there (see [`MnistFile::find_in`]: anything under
/// the name counts as there, and the loader then says what is wrong with it).
///
/// ```
/// let missing = scratchnet_mnist::missing_files("/nonexistent");
/// assert_eq!(missing.len(), 4);
/// assert_eq!(missing[0], "train-images-idx3-ubyte");
/// ```
pub fn missing_files(dir: impl AsRef<Path>) -> Vec<String> {
    let dir = dir.as_ref();
    MnistFile::ALL
        .into_iter()
        .filter(|f| f.find_in(dir).is_none())
        .map(|f| f.stem().to_string())
        .collect()
}
