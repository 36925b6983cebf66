//! `load_mnist` (§3.6.1 of the book): the four files parsed once, cached beside the data, and
//! shaped the way the book's three options ask.

use std::fs;
use std::path::{Path, PathBuf};

use ndarray::{Array1, Array2, ArrayD, ArrayView2, Ix2};
use scratchnet_tensor::{Scalar, argmax_rows, one_hot};

use crate::cache::{self, SourceStamp};
use crate::idx::IdxSource;
use crate::{MnistError, MnistFile, missing_files};

/// Pixels per image, 28 × 28.
pub const IMAGE_PIXELS: usize = 784;
/// Number of classes, the digits 0–9.
pub const CLASSES: usize = 10;
/// The environment variable naming the data folder, read by [`default_dir`].
pub const DIR_ENV: &str = "MNIST_DIR";

/// The book's three options of `load_mnist`. The default is the book's:
/// `normalize=True, flatten=True, one_hot_label=False`.
///
/// ```
/// let o = scratchnet_mnist::LoadOptions::default();
/// assert!(o.normalize && o.flatten && !o.one_hot_label);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoadOptions {
    /// Pixels as floats in [0, 1] (`v / 255`); otherwise the raw values 0–255 as floats.
    pub normalize: bool,
    /// Images as rows of 784, shape (N, 784); otherwise (N, 1, 28, 28).
    pub flatten: bool,
    /// Labels one-hot, shape (N, 10); otherwise class indices, shape (N,).
    pub one_hot_label: bool,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            normalize: true,
            flatten: true,
            one_hot_label: false,
        }
    }
}

/// Labels as class indices or one-hot rows.
#[derive(Clone, Debug, PartialEq)]
pub enum Labels<A> {
    /// Class indices 0–9, shape (N,).
    Index(Array1<u8>),
    /// One-hot rows, shape (N, 10).
    OneHot(Array2<A>),
}

impl<A> Labels<A> {
    /// Number of labels.
    pub fn len(&self) -> usize {
        match self {
            Labels::Index(l) => l.len(),
            Labels::OneHot(t) => t.nrows(),
        }
    }

    /// No labels at all?
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<A: Scalar> Labels<A> {
    /// Class indices either way (argmax of one-hot rows).
    ///
    /// ```
    /// use ndarray::array;
    /// let l = scratchnet_mnist::Labels::OneHot(array![[0.0, 1.0], [1.0, 0.0]]);
    /// assert_eq!(l.to_indices(), vec![1, 0]);
    /// ```
    pub fn to_indices(&self) -> Vec<usize> {
        match self {
            Labels::Index(l) => l.iter().map(|&v| v as usize).collect(),
            Labels::OneHot(t) => argmax_rows(t),
        }
    }
}

/// Images and labels of one split, shaped by [`LoadOptions`].
#[derive(Clone, Debug, PartialEq)]
pub struct Split<A> {
    /// Shape (N, 784), or (N, 1, 28, 28) when not flattened.
    pub images: ArrayD<A>,
    /// Shape (N,) or (N, 10).
    pub labels: Labels<A>,
}

impl<A> Split<A> {
    /// Number of examples N.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// No examples at all?
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The images as (N, 784) rows whatever their shape, without copying.
    ///
    /// ```
    /// use ndarray::{Array2, ArrayD, IxDyn};
    /// use scratchnet_mnist::{Labels, Split};
    /// let s = Split::<f32> { images: ArrayD::zeros(IxDyn(&[2, 1, 28, 28])), labels: Labels::OneHot(Array2::zeros((2, 10))) };
    /// assert_eq!(s.flat_images().dim(), (2, 784));
    /// ```
    ///
    /// # Panics
    /// If the images are not in standard (row-major) layout, which the loader always produces.
    pub fn flat_images(&self) -> ArrayView2<'_, A> {
        let n = self.images.shape().first().copied().unwrap_or(0);
        let per: usize = self.images.shape().iter().skip(1).product();
        self.images
            .view()
            .into_shape_with_order((n, per))
            .expect("loader images are contiguous")
            .into_dimensionality::<Ix2>()
            .expect("two axes")
    }
}

/// The training and test splits: `(x_train, t_train), (x_test, t_test)` of the book.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset<A> {
    /// 60000 training examples.
    pub train: Split<A>,
    /// 10000 test examples.
    pub test: Split<A>,
}

/// One split exactly as in the files: 0–255 pixels and 0–9 labels.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawSplit {
    /// Shape (N, 784), row-major pixels, 0 = background.
    pub images: Array2<u8>,
    /// Shape (N,), digits 0–9.
    pub labels: Array1<u8>,
}

impl RawSplit {
    /// Number of examples N.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// No examples at all?
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The images as floats: `v / 255` in [0, 1] if `normalize`, else `v` in [0, 255].
    ///
    /// ```
    /// use ndarray::array;
    /// let s = scratchnet_mnist::RawSplit { images: array![[0, 51, 255]], labels: array![3] };
    /// assert_eq!(s.images_as::<f64>(true), array![[0.0, 0.2, 1.0]]);
    /// assert_eq!(s.images_as::<f32>(false), array![[0.0, 51.0, 255.0]]);
    /// ```
    pub fn images_as<A: Scalar>(&self, normalize: bool) -> Array2<A> {
        let scale = if normalize { 255.0 } else { 1.0 };
        // 256 possible inputs: a table beats 47 million divisions. Rounding v/255 computed in
        // f64 to f32 gives the f32 quotient exactly (53 >= 2*24+2 bits), as numpy's float32.
        let table: [A; 256] = std::array::from_fn(|v| A::of_f64(v as f64 / scale));
        self.images.mapv(|p| table[p as usize])
    }

    /// The labels as `usize` class indices.
    ///
    /// ```
    /// use ndarray::array;
    /// let s = scratchnet_mnist::RawSplit { images: array![[0], [0]], labels: array![3, 9] };
    /// assert_eq!(s.labels_usize(), vec![3, 9]);
    /// ```
    pub fn labels_usize(&self) -> Vec<usize> {
        self.labels.iter().map(|&l| l as usize).collect()
    }

    /// This split shaped by `opts`, as in the book's `load_mnist`.
    ///
    /// # Panics
    /// If the images are not 784 pixels wide when `opts.flatten` is false.
    ///
    /// ```
    /// use ndarray::{Array1, Array2};
    /// use scratchnet_mnist::{LoadOptions, RawSplit};
    /// let raw = RawSplit { images: Array2::from_elem((2, 784), 255), labels: Array1::from(vec![1, 2]) };
    /// let s = raw.to_split::<f32>(LoadOptions { flatten: false, one_hot_label: true, ..Default::default() });
    /// assert_eq!(s.images.shape(), &[2, 1, 28, 28]);
    /// assert_eq!(s.images[[1, 0, 27, 27]], 1.0);
    /// assert_eq!(s.labels.to_indices(), vec![1, 2]);
    /// ```
    pub fn to_split<A: Scalar>(&self, opts: LoadOptions) -> Split<A> {
        let flat = self.images_as::<A>(opts.normalize);
        let images = if opts.flatten {
            flat.into_dyn()
        } else {
            flat.into_shape_with_order((self.len(), 1, 28, 28))
                .expect("MNIST images have 784 pixels")
                .into_dyn()
        };
        let labels = if opts.one_hot_label {
            Labels::OneHot(one_hot(&self.labels_usize(), CLASSES))
        } else {
            Labels::Index(self.labels.clone())
        };
        Split { images, labels }
    }
}

/// Both splits exactly as in the files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawMnist {
    /// The training split.
    pub train: RawSplit,
    /// The test split.
    pub test: RawSplit,
}

impl RawMnist {
    /// Both splits shaped by `opts`.
    pub fn to_dataset<A: Scalar>(&self, opts: LoadOptions) -> Dataset<A> {
        Dataset {
            train: self.train.to_split(opts),
            test: self.test.to_split(opts),
        }
    }
}

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

/// The data folder: `$MNIST_DIR` if set, else `data/mnist` (relative to the current folder).
///
/// ```
/// let d = scratchnet_mnist::default_dir();
/// assert!(!d.as_os_str().is_empty());
/// ```
pub fn default_dir() -> PathBuf {
    std::env::var_os(DIR_ENV)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| "data/mnist".into())
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
/// let data = load_mnist::<f32>("data/mnist".as_ref(), opts)?;
/// assert_eq!(data.train.images.shape(), &[60000, 784]);
/// # Ok::<(), scratchnet_mnist::MnistError>(())
/// ```
pub fn load_mnist<A: Scalar>(dir: &Path, opts: LoadOptions) -> Result<Dataset<A>, MnistError> {
    Ok(load_raw(dir)?.to_dataset(opts))
}

/// Loads both splits as bytes, from the cache beside the data when it is valid, otherwise by
/// parsing the IDX files and writing a new cache (a cache that cannot be written, e.g. in a
/// read-only folder, is skipped silently; see [`load_raw_report`]).
///
/// ```no_run
/// let raw = scratchnet_mnist::load_raw("data/mnist".as_ref())?;
/// assert_eq!(raw.test.len(), 10_000);
/// # Ok::<(), scratchnet_mnist::MnistError>(())
/// ```
pub fn load_raw(dir: &Path) -> Result<RawMnist, MnistError> {
    load_raw_report(dir).map(|(raw, _)| raw)
}

/// [`load_raw`], also telling whether the cache was used or rebuilt and why.
///
/// ```no_run
/// use scratchnet_mnist::{CacheUse, load_raw_report};
/// let (_, first) = load_raw_report("data/mnist".as_ref())?;
/// let (_, second) = load_raw_report("data/mnist".as_ref())?;
/// assert_eq!(second, CacheUse::Hit);
/// # Ok::<(), scratchnet_mnist::MnistError>(())
/// ```
pub fn load_raw_report(dir: &Path) -> Result<(RawMnist, CacheUse), MnistError> {
    let paths = find_sources(dir)?;
    let stamps = paths
        .iter()
        .map(|p| SourceStamp::of_file(p).map_err(|e| MnistError::io("read", p, e)))
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
/// let raw = scratchnet_mnist::load_raw_uncached("data/mnist".as_ref())?;
/// assert_eq!(raw.train.images.dim(), (60_000, 784));
/// # Ok::<(), scratchnet_mnist::MnistError>(())
/// ```
pub fn load_raw_uncached(dir: &Path) -> Result<RawMnist, MnistError> {
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
            Ok((
                p.clone(),
                fs::read(p).map_err(|e| MnistError::io("read", p, e))?,
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
