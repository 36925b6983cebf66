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

    /// The first of [`Self::candidate_names`] that exists as a file in `dir`.
    ///
    /// ```
    /// let dir = std::env::temp_dir().join("scratchnet-mnist-doc-find");
    /// std::fs::create_dir_all(&dir).unwrap();
    /// std::fs::write(dir.join("t10k-labels.idx1-ubyte"), b"").unwrap();
    /// let found = scratchnet_mnist::MnistFile::TestLabels.find_in(&dir).unwrap();
    /// assert!(found.ends_with("t10k-labels.idx1-ubyte"));
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn find_in(self, dir: &Path) -> Option<PathBuf> {
        self.candidate_names()
            .into_iter()
            .map(|n| dir.join(n))
            .find(|p| p.is_file())
    }

    /// Is this an image file (as opposed to labels)?
    pub fn is_images(self) -> bool {
        matches!(self, MnistFile::TrainImages | MnistFile::TestImages)
    }

    /// The published SHA-256 of the decompressed IDX bytes (from `shared/mnist/README.md`).
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

/// The SHA-256 (hex, of the decompressed bytes) each file must have to be accepted.
///
/// [`Checksums::mnist`] (the default) holds the published values; tests substitute their own to
/// exercise the download and import paths on small generated files.
///
/// ```
/// use scratchnet_mnist::{Checksums, MnistFile};
/// let mut c = Checksums::mnist();
/// assert_eq!(c.get(MnistFile::TrainLabels), MnistFile::TrainLabels.sha256());
/// c.set(MnistFile::TrainLabels, "00");
/// assert_eq!(c.get(MnistFile::TrainLabels), "00");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checksums {
    sha256: [String; 4],
}

impl Checksums {
    /// The published checksums of real MNIST.
    pub fn mnist() -> Self {
        Checksums {
            sha256: MnistFile::ALL.map(|f| f.sha256().to_string()),
        }
    }

    /// The expected hex digest of `file`.
    pub fn get(&self, file: MnistFile) -> &str {
        &self.sha256[file.index()]
    }

    /// Replaces the expected hex digest of `file` (lower-cased).
    pub fn set(&mut self, file: MnistFile, sha256_hex: &str) {
        self.sha256[file.index()] = sha256_hex.to_ascii_lowercase();
    }
}

impl Default for Checksums {
    fn default() -> Self {
        Checksums::mnist()
    }
}

/// The standard names (without `.gz`) of the files that are in neither naming style, raw or
/// gzip, in `dir`; empty when all four are there.
///
/// ```
/// let missing = scratchnet_mnist::missing_files(std::path::Path::new("/nonexistent"));
/// assert_eq!(missing.len(), 4);
/// assert_eq!(missing[0], "train-images-idx3-ubyte");
/// ```
pub fn missing_files(dir: &Path) -> Vec<String> {
    MnistFile::ALL
        .into_iter()
        .filter(|f| f.find_in(dir).is_none())
        .map(|f| f.stem().to_string())
        .collect()
}
