use std::path::{Path, PathBuf};

use scratchnet_mnist::MnistError;
use scratchnet_network::ModelError;

/// Everything the trainer reports to its user. Each message is one line naming the value, file
/// or folder at fault; [`TrainError::exit_code`] tells bad input (2) from other failures (1).
///
/// ```
/// use scratchnet_trainer::TrainError;
/// let e = TrainError::Usage("--lr must be a finite number > 0, got NaN".into());
/// assert_eq!(e.exit_code(), 2);
/// assert_eq!(e.to_string(), "--lr must be a finite number > 0, got NaN");
/// ```
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// A flag value or combination that cannot work.
    #[error("{0}")]
    Usage(String),

    /// The output folder cannot be used.
    #[error("output folder {}: {reason}", path.display())]
    OutDir {
        /// The folder.
        path: PathBuf,
        /// Why it cannot be used.
        reason: String,
    },

    /// MNIST is missing or malformed (bad input), as the mnist crate reports it.
    #[error("{0}")]
    Data(MnistError),

    /// Downloading MNIST into the default folder failed.
    #[error("{0}")]
    Fetch(MnistError),

    /// A model file could not be read (bad input).
    #[error("{0}")]
    ModelInput(ModelError),

    /// A model file could not be written.
    #[error("{0}")]
    ModelOutput(ModelError),

    /// A checkpoint, CSV or summary file given as input is missing or malformed.
    #[error("{}: {what}", path.display())]
    BadInput {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        what: String,
    },

    /// An operating-system error while writing results.
    #[error("cannot {op} {}: {source}", path.display())]
    Io {
        /// What we were doing.
        op: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },

    /// A plot could not be drawn.
    #[error("cannot draw {}: {what}", path.display())]
    Plot {
        /// The image file.
        path: PathBuf,
        /// The drawing backend's message.
        what: String,
    },

    /// The loss became NaN or infinite; the files hold the last finite state.
    #[error(
        "the loss became {loss} at iteration {iteration}; stopped, {} holds the last finite state (after {} iterations)",
        out.display(), iteration - 1
    )]
    NonFinite {
        /// The 1-based iteration whose loss was not finite.
        iteration: usize,
        /// The loss value (NaN or ±inf) as text.
        loss: String,
        /// The output folder.
        out: PathBuf,
    },
}

impl TrainError {
    /// The process exit code for this error: 2 for bad input (flags, data, model or checkpoint
    /// files given by the user, an unusable output folder), 1 for everything else.
    pub fn exit_code(&self) -> i32 {
        match self {
            TrainError::Usage(_)
            | TrainError::OutDir { .. }
            | TrainError::Data(_)
            | TrainError::ModelInput(_)
            | TrainError::BadInput { .. } => 2,
            TrainError::Fetch(_)
            | TrainError::ModelOutput(_)
            | TrainError::Io { .. }
            | TrainError::Plot { .. }
            | TrainError::NonFinite { .. } => 1,
        }
    }

    pub(crate) fn io(op: &'static str, path: &Path, source: std::io::Error) -> Self {
        TrainError::Io {
            op,
            path: path.to_owned(),
            source,
        }
    }

    pub(crate) fn bad_input(path: &Path, what: impl Into<String>) -> Self {
        TrainError::BadInput {
            path: path.to_owned(),
            what: what.into(),
        }
    }
}
