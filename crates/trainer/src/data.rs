//! Finding, fetching and loading MNIST for training: the notebook's
//! `load_mnist(normalize=True, one_hot_label=True)`, with labels kept as class indices (the loss
//! and accuracy are the same for one-hot rows and their labels, and indices are 80 times smaller).

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use scratchnet_mnist::{DataDir, MnistError, SparseMnist, download};
use scratchnet_tensor::Scalar;

use crate::TrainError;
use scratchnet_fileio::errln;

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

/// Loads the sparse MNIST of `dir`.
pub(crate) fn load<A: Scalar>(dir: &Path) -> Result<SparseMnist<A>, TrainError> {
    SparseMnist::load(dir).map_err(TrainError::Data)
}
