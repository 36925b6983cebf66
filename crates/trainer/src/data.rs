//! Finding, fetching and loading MNIST for training: the notebook's
//! `load_mnist(normalize=True, one_hot_label=True)`, with labels kept as class indices (the loss
//! and accuracy are the same for one-hot rows and their labels, and indices are 80 times smaller).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use std::borrow::Cow;

use scratchnet_mnist::{MnistError, SparseMnist, download, missing_files};
use scratchnet_tensor::Scalar;

use crate::console::errln;
use crate::{RunConfig, TrainError};

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

/// The sets a run trains and evaluates on ([`SparseMnist::subset`]); an error names the flag.
pub(crate) fn subset<A: Scalar>(
    data: &SparseMnist<A>,
    first: Option<usize>,
    validation: Option<f64>,
    seed: u64,
) -> Result<Cow<'_, SparseMnist<A>>, TrainError> {
    data.subset(first, validation, seed).map_err(|e| match e {
        MnistError::InvalidOption {
            name: "train_size",
            reason,
        } => TrainError::config("train_size", reason),
        MnistError::InvalidOption { reason, .. } => TrainError::config("validation", reason),
        e => TrainError::Data(e),
    })
}

/// [`subset`] of a run's [`DataChoice`](crate::DataChoice).
pub(crate) fn for_run<'d, A: Scalar>(
    data: &'d SparseMnist<A>,
    config: &RunConfig,
) -> Result<Cow<'d, SparseMnist<A>>, TrainError> {
    subset(
        data,
        config.data.train_first,
        config.data.validation,
        config.seed,
    )
}

/// Loads the sparse MNIST of `dir`.
pub(crate) fn load<A: Scalar>(dir: &Path) -> Result<SparseMnist<A>, TrainError> {
    SparseMnist::load(dir).map_err(TrainError::Data)
}
