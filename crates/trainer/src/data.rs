//! Finding, fetching and loading MNIST for training: the notebook's
//! `load_mnist(normalize=True, one_hot_label=True)`, with labels kept as class indices (the loss
//! and accuracy are the same for one-hot rows and their labels, and indices are 80 times smaller).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use scratchnet_mnist::{MnistError, RawMnist, download, load_raw, missing_files};
use std::borrow::Cow;

use scratchnet_tensor::{Scalar, SparseRows, rng_from_seed};

use crate::console::errln;
use crate::{TrainConfig, TrainError};

/// The folder MNIST is read from, and whether it may be fetched into.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DataDir {
    /// The default `data/mnist`: missing files are downloaded into it.
    Default(PathBuf),
    /// A folder named by `--data` or `MNIST_DIR`: never written to by a fetch.
    Explicit(PathBuf),
}

impl DataDir {
    /// The folder.
    ///
    /// ```
    /// use scratchnet_trainer::DataDir;
    /// assert_eq!(DataDir::Explicit("/d".into()).path(), std::path::Path::new("/d"));
    /// ```
    pub fn path(&self) -> &Path {
        match self {
            DataDir::Default(p) | DataDir::Explicit(p) => p,
        }
    }

    /// `--data` if given, else `$MNIST_DIR` if set and not empty, else `<root>/data/mnist`.
    ///
    /// ```
    /// use scratchnet_trainer::DataDir;
    /// let d = DataDir::resolve(Some("/x".into()), ".".as_ref());
    /// assert_eq!(d, DataDir::Explicit("/x".into()));
    /// ```
    pub fn resolve(flag: Option<PathBuf>, root: &Path) -> Self {
        if let Some(p) = flag {
            return DataDir::Explicit(p);
        }
        // the workspace's one lookup, with an explicit MNIST_DIR told from the default
        match scratchnet_mnist::env_dir() {
            Some(p) => DataDir::Explicit(p),
            None => DataDir::Default(scratchnet_mnist::default_dir_in(root)),
        }
    }
}

/// Makes sure the four files are in the data folder: for the default folder, missing files are
/// downloaded and verified (mirrors from `MNIST_MIRROR` first); an explicit folder is only
/// checked, and the error says how to fetch into it. Raising `cancel` stops a download between
/// reads ([`TrainError::Interrupted`], no temp file left).
///
/// ```
/// use scratchnet_trainer::{DataDir, ensure_data};
/// let empty = tempfile::tempdir().unwrap();
/// let e = ensure_data(&DataDir::Explicit(empty.path().into()), false, None).unwrap_err();
/// assert!(e.to_string().contains("cargo xtask fetch-mnist --dir"));
/// assert_eq!(e.exit_code(), 2);
/// ```
pub fn ensure_data(
    dir: &DataDir,
    progress: bool,
    cancel: Option<Arc<AtomicBool>>,
) -> Result<(), TrainError> {
    let missing = missing_files(dir.path());
    if missing.is_empty() {
        return Ok(());
    }
    match dir {
        DataDir::Explicit(p) => Err(TrainError::Data(MnistError::MissingFiles {
            dir: p.clone(),
            names: missing,
        })),
        DataDir::Default(p) => {
            errln!(
                "MNIST is not in {}: downloading {} (verified by SHA-256)",
                p.display(),
                missing.join(", ")
            );
            let opts = download::FetchOptions {
                mirrors: download::mirrors_from_env(),
                progress,
                cancel,
                ..Default::default()
            };
            let report = download::fetch(p, &opts).map_err(|e| match e {
                MnistError::Interrupted => TrainError::Interrupted,
                e => TrainError::Fetch(e),
            })?;
            errln!("{report}");
            Ok(())
        }
    }
}

/// MNIST as the training loop uses it: images as `(N, 784)` rows of `A` in [0, 1], converted
/// once and stored sparse (about 81 % of the pixels are 0: mini-batches are gathered from these
/// and accuracies computed on them without touching a zero), and labels as class indices.
#[derive(Clone, Debug, PartialEq)]
pub struct Mnist<A> {
    /// Training images, `(60000, 784)`.
    pub x_train: SparseRows<A>,
    /// Training labels, 0–9.
    pub t_train: Vec<usize>,
    /// Test images, `(10000, 784)`.
    pub x_test: SparseRows<A>,
    /// Test labels, 0–9.
    pub t_test: Vec<usize>,
}

impl<A: Scalar> Mnist<A> {
    /// Converts raw bytes: pixels `v / 255` (the same values as the mnist crate's
    /// `images_as(true)`), labels as `usize`.
    ///
    /// ```
    /// use ndarray::array;
    /// use scratchnet_mnist::{RawMnist, RawSplit};
    /// use scratchnet_tensor::SparseRows;
    /// let split = RawSplit { images: array![[0, 255]], labels: array![7] };
    /// let m = scratchnet_trainer::Mnist::<f32>::from_raw(&RawMnist { train: split.clone(), test: split });
    /// assert_eq!(m.x_train, SparseRows::from_dense(&array![[0.0, 1.0]]));
    /// assert_eq!(m.t_test, vec![7]);
    /// ```
    pub fn from_raw(raw: &RawMnist) -> Self {
        // the mnist crate's table of the 256 quotients, the values of `images_as(true)`
        let table = scratchnet_mnist::pixel_table::<A>(true);
        let sparse = |images| SparseRows::from_dense_map(images, |p: u8| table[usize::from(p)]);
        Mnist {
            x_train: sparse(&raw.train.images),
            t_train: raw.train.labels_usize(),
            x_test: sparse(&raw.test.images),
            t_test: raw.test.labels_usize(),
        }
    }

    /// Reads the folder (through the mnist crate's cache) and converts it. Missing or malformed
    /// files are [`TrainError::Data`] with the mnist crate's message.
    ///
    /// ```
    /// let e = scratchnet_trainer::Mnist::<f32>::load("/nonexistent".as_ref()).unwrap_err();
    /// assert!(e.to_string().starts_with("MNIST files missing in /nonexistent"));
    /// ```
    pub fn load(dir: &Path) -> Result<Self, TrainError> {
        let raw = load_raw(dir).map_err(TrainError::Data)?;
        Ok(Self::from_raw(&raw))
    }

    /// Number of training images.
    pub fn train_size(&self) -> usize {
        self.t_train.len()
    }

    /// Number of test images.
    pub fn test_size(&self) -> usize {
        self.t_test.len()
    }

    /// The sets a run of `config` trains and evaluates on: the first `train_first` training
    /// images (all without it), and with `validation` f the book's split of those (§6.5.1:
    /// `shuffle_dataset` by a permutation drawn from the seed's second stream, the first
    /// ⌊n·f⌋ held out) in place of the test set, which then stays untouched. Without either,
    /// the data as it is, not copied.
    ///
    /// ```
    /// use ndarray::Array2;
    /// use scratchnet_trainer::{Mnist, TrainConfig};
    /// let x = scratchnet_tensor::SparseRows::from_dense(&Array2::<f32>::eye(10));
    /// let t: Vec<usize> = (0..10).collect();
    /// let data = Mnist { x_train: x.clone(), t_train: t.clone(), x_test: x, t_test: t };
    /// let c = TrainConfig { train_first: Some(8), validation: Some(0.25), ..Default::default() };
    /// let run = data.for_run(&c)?;
    /// assert_eq!((run.train_size(), run.test_size()), (6, 2));
    /// let mut seen: Vec<usize> = run.t_train.iter().chain(&run.t_test).copied().collect();
    /// seen.sort();
    /// assert_eq!(seen, (0..8).collect::<Vec<_>>()); // disjoint, from the first 8
    /// assert_eq!(run.t_test, data.for_run(&c)?.t_test); // the same split for the same seed
    /// assert!(data.for_run(&TrainConfig { train_first: Some(11), ..c }).is_err());
    /// # Ok::<(), scratchnet_trainer::TrainError>(())
    /// ```
    pub fn for_run(&self, config: &TrainConfig) -> Result<Cow<'_, Self>, TrainError> {
        if config.train_first.is_none() && config.validation.is_none() {
            return Ok(Cow::Borrowed(self));
        }
        let n = config.train_first.unwrap_or(self.train_size());
        if n > self.train_size() {
            return Err(TrainError::config(
                "train_size",
                format!("{n} is more than the {} training images", self.train_size()),
            ));
        }
        let (train, held_out): (Vec<usize>, Option<Vec<usize>>) = match config.validation {
            None => ((0..n).collect(), None),
            Some(fraction) => {
                let mut rng = rng_from_seed(config.seed);
                rng.set_stream(SPLIT_STREAM);
                let split = scratchnet_mnist::validation_split(&mut rng, n, fraction).map_err(
                    |e| match e {
                        MnistError::InvalidOption { reason, .. } => {
                            TrainError::config("validation", reason)
                        }
                        e => TrainError::Data(e),
                    },
                )?;
                (split.train, Some(split.validation))
            }
        };
        let pick = |idx: &[usize]| idx.iter().map(|&k| self.t_train[k]).collect::<Vec<_>>();
        Ok(Cow::Owned(match held_out {
            Some(val) => Mnist {
                x_train: self.x_train.gather_rows(&train),
                t_train: pick(&train),
                x_test: self.x_train.gather_rows(&val),
                t_test: pick(&val),
            },
            None => Mnist {
                x_train: self.x_train.gather_rows(&train),
                t_train: pick(&train),
                x_test: self.x_test.clone(),
                t_test: self.t_test.clone(),
            },
        }))
    }
}

/// The ChaCha stream of the seed that draws the validation split (stream 0 draws the weights,
/// batches and masks), so that the split does not shift the training's numbers.
const SPLIT_STREAM: u64 = 1;
