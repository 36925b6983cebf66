//! `load_mnist` (§3.6.1 of the book): the four files parsed once, cached beside the data, and
//! shaped the way the book's three options ask.

use std::path::{Path, PathBuf};

use ndarray::{Array1, Array2};
use scratchnet_tensor::Scalar;

use crate::cache::{self, SourceStamp};
use crate::dataset::{Dataset, IMAGE_PIXELS, LoadOptions, RawMnist, RawSplit};
use crate::idx::{IdxSource, MAX_FILE_BYTES};
use crate::{MnistError, MnistFile, missing_files};

/// The environment variable naming the data folder, read by [`default_dir`].
pub const DIR_ENV: &str = "MNIST_DIR";

/// What [`load_raw_report`] did with the cache.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CacheUse {
    /// A valid cache was read.
    Hit,
    /// The sources were parsed because the cache was missing or unusable (`reason`); a new
    /// cache was written unless `write_error` says why not (e.g. a read-only folder).
    Rebuilt {
        /// Why the existing cache, if any, was not used.
        reason: String,
        /// Why the new cache could not be written, if it could not.
        write_error: Option<String>,
    },
}

/// The data folder named by `$MNIST_DIR`, if it is set and not empty.
///
/// ```
/// // With MNIST_DIR=/data/mnist this is Some("/data/mnist").
/// let from_env = scratchnet_mnist::env_dir();
/// assert!(from_env.is_none_or(|d| !d.as_os_str().is_empty()));
/// ```
pub fn env_dir() -> Option<PathBuf> {
    std::env::var_os(DIR_ENV)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// The data folder for a project rooted at `root`: `$MNIST_DIR` if set and not empty, else
/// `root/data/mnist`. The one lookup every tool, example and test of scratchnet uses.
///
/// ```
/// let d = scratchnet_mnist::default_dir_in("/work/project");
/// match scratchnet_mnist::env_dir() {
///     Some(e) => assert_eq!(d, e),
///     None => assert_eq!(d, std::path::Path::new("/work/project/data/mnist")),
/// }
/// ```
pub fn default_dir_in(root: impl AsRef<Path>) -> PathBuf {
    env_dir().unwrap_or_else(|| root.as_ref().join("data").join("mnist"))
}

/// The data folder: `$MNIST_DIR` if set and not empty, else `data/mnist` relative to the
/// current folder ([`default_dir_in`] of the current folder).
///
/// ```
/// let d = scratchnet_mnist::default_dir();
/// assert!(d.ends_with("data/mnist") || scratchnet_mnist::env_dir().is_some());
/// ```
pub fn default_dir() -> PathBuf {
    default_dir_in("")
}

/// Loads MNIST from `dir` as the book's `load_mnist(normalize, flatten, one_hot_label)`, in
/// `f32` or `f64`, through the cache of [`load_raw`].
///
/// # Errors
/// [`MnistError::MissingFiles`] if files are missing (the message says how to fetch them);
/// any parse error of [`load_raw`].
///
/// ```no_run
/// use scratchnet_mnist::{LoadOptions, load_mnist};
/// let opts = LoadOptions { one_hot_label: true, ..Default::default() };
/// let data = load_mnist::<f32>("data/mnist", opts)?;
/// let loss_input = (&data.train.images, &data.train.labels); // what `net.loss` takes
/// assert_eq!(data.train.images.shape(), &[60000, 784]);
/// # Ok::<(), scratchnet_mnist::MnistError>(())
/// ```
pub fn load_mnist<A: Scalar>(
    dir: impl AsRef<Path>,
    opts: LoadOptions,
) -> Result<Dataset<A>, MnistError> {
    Ok(load_raw(dir)?.to_dataset(opts))
}

/// Loads both splits as bytes, from the cache beside the data when it is valid, otherwise by
/// parsing the IDX files and writing a new cache (a cache that cannot be written, e.g. in a
/// read-only folder, is skipped silently; see [`load_raw_report`]).
///
/// ```no_run
/// let raw = scratchnet_mnist::load_raw("data/mnist")?;
/// assert_eq!(raw.test.len(), 10_000);
/// # Ok::<(), scratchnet_mnist::MnistError>(())
/// ```
pub fn load_raw(dir: impl AsRef<Path>) -> Result<RawMnist, MnistError> {
    load_raw_report(dir).map(|(raw, _)| raw)
}

/// [`load_raw`], also telling whether the cache was used or rebuilt and why.
///
/// ```no_run
/// use scratchnet_mnist::{CacheUse, load_raw_report};
/// let (_, first) = load_raw_report("data/mnist")?;
/// let (_, second) = load_raw_report("data/mnist")?;
/// assert_eq!(second, CacheUse::Hit);
/// # Ok::<(), scratchnet_mnist::MnistError>(())
/// ```
pub fn load_raw_report(dir: impl AsRef<Path>) -> Result<(RawMnist, CacheUse), MnistError> {
    let dir = dir.as_ref();
    let paths = find_sources(dir)?;
    let stamps = paths
        .iter()
        .map(|p| SourceStamp::of_file(p))
        .collect::<Result<Vec<_>, _>>()?;
    let cache_file = cache::cache_path(dir);
    let reason = match cache::read(&cache_file, &stamps) {
        Ok(raw) => return Ok((raw, CacheUse::Hit)),
        Err(reason) => reason,
    };
    // Parsed after stamping: should a source change in between, the cache carries the older
    // stamp and is rebuilt next time, never the other way round.
    let raw = parse_sources(read_sources(&paths)?)?;
    let write_error = cache::write(&cache_file, &stamps, &raw).err();
    Ok((
        raw,
        CacheUse::Rebuilt {
            reason,
            write_error,
        },
    ))
}

/// Parses the IDX files in `dir` without reading or writing the cache.
///
/// ```no_run
/// let raw = scratchnet_mnist::load_raw_uncached("data/mnist")?;
/// assert_eq!(raw.train.images.dim(), (60_000, 784));
/// # Ok::<(), scratchnet_mnist::MnistError>(())
/// ```
pub fn load_raw_uncached(dir: impl AsRef<Path>) -> Result<RawMnist, MnistError> {
    let dir = dir.as_ref();
    parse_sources(read_sources(&find_sources(dir)?)?)
}

type Sources = Vec<(PathBuf, Vec<u8>)>;

fn find_sources(dir: &Path) -> Result<Vec<PathBuf>, MnistError> {
    let missing = missing_files(dir);
    if !missing.is_empty() {
        return Err(MnistError::MissingFiles {
            dir: dir.into(),
            names: missing,
        });
    }
    MnistFile::ALL
        .into_iter()
        .map(|f| {
            // Deleted since the check above: report it the same way.
            f.find_in(dir).ok_or_else(|| MnistError::MissingFiles {
                dir: dir.into(),
                names: vec![f.stem().to_string()],
            })
        })
        .collect()
}

fn read_sources(paths: &[PathBuf]) -> Result<Sources, MnistError> {
    paths
        .iter()
        .map(|p| {
            // Regular files only, bounded while reading: a FIFO, /dev/zero or a 30 GB sparse
            // file under an MNIST name is an error, never a hang or an exhausted memory.
            Ok((
                p.clone(),
                scratchnet_fileio::read_limited(p, MAX_FILE_BYTES)?,
            ))
        })
        .collect()
}

fn parse_sources(sources: Sources) -> Result<RawMnist, MnistError> {
    let mut it = sources.into_iter();
    let mut next = || it.next().expect("four sources");
    let train = parse_split(next(), next())?;
    let test = parse_split(next(), next())?;
    Ok(RawMnist { train, test })
}

/// Parses an image file and its label file and checks that they belong together.
pub(crate) fn parse_split(
    (images_path, images): (PathBuf, Vec<u8>),
    (labels_path, labels): (PathBuf, Vec<u8>),
) -> Result<RawSplit, MnistError> {
    let img = IdxSource::from_bytes(images, &images_path)?.read_images(&images_path)?;
    if (img.rows, img.cols) != (28, 28) {
        return Err(MnistError::WrongImageSize {
            path: images_path,
            rows: img.rows,
            cols: img.cols,
        });
    }
    let lab = IdxSource::from_bytes(labels, &labels_path)?.read_labels(&labels_path)?;
    if lab.len() != img.count as usize {
        return Err(MnistError::CountMismatch {
            images_path,
            images: img.count,
            labels_path,
            labels: lab.len() as u32,
        });
    }
    let images = Array2::from_shape_vec((img.count as usize, IMAGE_PIXELS), img.pixels)
        .expect("reader checked count x 28 x 28");
    Ok(RawSplit {
        images,
        labels: Array1::from(lab),
    })
}

/// The folder MNIST is read from, and whether a fetch may write into it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DataDir {
    /// The default `data/mnist`: missing files may be downloaded into it.
    Default(PathBuf),
    /// A folder the user named (`--data`, `$MNIST_DIR`): never written to by a fetch.
    Explicit(PathBuf),
}

impl DataDir {
    /// The folder.
    ///
    /// ```
    /// use scratchnet_mnist::DataDir;
    /// assert_eq!(DataDir::Explicit("/d".into()).path(), std::path::Path::new("/d"));
    /// ```
    pub fn path(&self) -> &Path {
        match self {
            DataDir::Default(p) | DataDir::Explicit(p) => p,
        }
    }

    /// `flag` if given, else `$MNIST_DIR` if set and not empty, else `<root>/data/mnist`.
    ///
    /// ```
    /// use scratchnet_mnist::DataDir;
    /// assert_eq!(DataDir::resolve(Some("/x".into()), "."), DataDir::Explicit("/x".into()));
    /// ```
    pub fn resolve(flag: Option<PathBuf>, root: impl AsRef<Path>) -> Self {
        match flag.or_else(env_dir) {
            Some(p) => DataDir::Explicit(p),
            None => DataDir::Default(default_dir_in(root)),
        }
    }

    /// Makes sure the four files are there: for the default folder, missing files are
    /// downloaded and verified with `opts` (after `announce` is told which), and the report is
    /// returned; an explicit folder is only checked ([`MnistError::MissingFiles`], whose
    /// message says how to fetch into it).
    ///
    /// ```
    /// use scratchnet_mnist::{DataDir, MnistError, download::FetchOptions};
    /// let empty = tempfile::tempdir().unwrap();
    /// let e = DataDir::Explicit(empty.path().into()).ensure(&FetchOptions::default(), |_| {});
    /// assert!(matches!(e, Err(MnistError::MissingFiles { .. })));
    /// ```
    #[cfg(feature = "download")]
    pub fn ensure(
        &self,
        opts: &crate::download::FetchOptions,
        announce: impl FnOnce(&str),
    ) -> Result<Option<crate::FetchReport>, MnistError> {
        let missing = crate::missing_files(self.path());
        match self {
            _ if missing.is_empty() => Ok(None),
            DataDir::Explicit(p) => Err(MnistError::MissingFiles {
                dir: p.clone(),
                names: missing,
            }),
            DataDir::Default(p) => {
                announce(&format!(
                    "MNIST is not in {}: downloading {} (verified by SHA-256)",
                    p.display(),
                    missing.join(", ")
                ));
                crate::download::fetch(p, opts).map(Some)
            }
        }
    }
}
