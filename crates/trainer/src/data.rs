//! Finding, fetching and loading MNIST for training: the notebook's
//! `load_mnist(normalize=True, one_hot_label=True)`, with labels kept as class indices (the loss
//! and accuracy are the same for one-hot rows and their labels, and indices are 80 times smaller).

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use std::borrow::Cow;

use scratchnet_mnist::{DataDir, MnistError, SparseMnist, download};
use scratchnet_tensor::Scalar;

use crate::console::errln;
use crate::{RunConfig, TrainError};

/// Makes sure MNIST is in `dir` ([`DataDir::ensure`]: fetched into the default folder, only
/// checked in a folder the user named); raising `cancel` stops a download between reads
/// ([`TrainError::Interrupted`], no temp file left).
pub(crate) fn ensure(
    dir: &DataDir,
    progress: bool,
    cancel: Arc<AtomicBool>,
) -> Result<(), TrainError> {
    let opts = download::FetchOptions {
        mirrors: download::mirrors_from_env(),
        progress,
        cancel: Some(cancel),
        ..Default::default()
    };
    match dir.ensure(&opts, |line| errln!("{line}")) {
        Ok(report) => {
            if let Some(report) = report {
                errln!("{report}");
            }
            Ok(())
        }
        Err(e @ MnistError::MissingFiles { .. }) => Err(TrainError::Data(e)),
        Err(MnistError::Interrupted) => Err(TrainError::Interrupted),
        Err(e) => Err(TrainError::Fetch(e)),
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
