//! The trainer's errors and the one exit-code rule.

use std::path::{Path, PathBuf};

use scratchnet_fileio::FileError;
use scratchnet_mnist::MnistError;
use scratchnet_network::ModelError;

/// The exit-code rule of `scratchnet`, as printed by `--help`.
pub const EXIT_CODES: &str = "Exit codes: 0 done; 2 the input is at fault (a flag, a file or folder given: \
missing, malformed, of another run, not a regular file, an output folder in use or not empty); \
1 the environment or the run failed (I/O, permissions, full disk, network, a loss that became NaN, a gradient check out of tolerance); \
130 interrupted (Ctrl-C; a stopped run continues with --resume).";

/// Everything the trainer reports to its user. Each message is one line naming the value, file
/// or folder at fault; [`TrainError::exit_code`] applies the rule of [`EXIT_CODES`].
///
/// ```
/// use scratchnet_run::TrainError;
/// let e = TrainError::Config { field: "lr", problem: "must be a finite number > 0, got NaN".into() };
/// assert_eq!(e.exit_code(), 2);
/// assert_eq!(e.to_string(), "lr must be a finite number > 0, got NaN");
/// ```
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// A configuration value that cannot work; `field` is the [`RunConfig`](crate::RunConfig)
    /// field (the command line names its flag).
    #[error("{field} {problem}")]
    Config {
        /// The field, e.g. `"weight_init_std"`.
        field: &'static str,
        /// What is wrong, e.g. `"must be a finite number >= 0, got -1"`.
        problem: String,
    },

    /// A check that ran and failed (a gradient check out of tolerance): exit 1.
    #[error("{0}")]
    Failed(String),

    /// A combination of inputs that cannot work (e.g. a checkpoint of another run).
    #[error("{0}")]
    Usage(String),

    /// MNIST is missing or malformed (bad input), as the mnist crate reports it.
    #[error("{0}")]
    Data(MnistError),

    /// Downloading MNIST into the default folder failed.
    #[error("{0}")]
    Fetch(MnistError),

    /// A model file given as input could not be read.
    #[error("{0}")]
    ModelInput(ModelError),

    /// A model or `.npz` file could not be written.
    #[error("{0}")]
    ModelOutput(ModelError),

    /// A checkpoint, CSV or summary file given as input could not be read.
    #[error("{0}")]
    Input(FileError),

    /// A result file could not be written.
    #[error("{0}")]
    Output(FileError),

    /// A checkpoint, CSV or summary file given as input is malformed.
    #[error("{}: {what}", path.display())]
    BadInput {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        what: String,
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

    /// Stopped by Ctrl-C before anything was written.
    #[error("interrupted")]
    Interrupted,
}

fn output_is_input_fault(e: &FileError) -> bool {
    matches!(
        e,
        FileError::NotRegular { .. }
            | FileError::DanglingLink { .. }
            | FileError::NoFolder { .. }
            | FileError::Unusable { .. }
    )
}

impl TrainError {
    /// The process exit code, by the rule of [`EXIT_CODES`]: 2 for the user's input (flags,
    /// files and folders given, an output path that names a directory, device or FIFO), 1 for
    /// the environment (operating-system errors while writing, downloads, plotting) and a loss
    /// that became non-finite, 130 for an interrupt.
    ///
    /// ```
    /// use scratchnet_run::TrainError;
    /// let e = TrainError::Output(scratchnet_fileio::write_atomic("/dev/null", b"").unwrap_err());
    /// assert_eq!(e.exit_code(), 2);
    /// assert_eq!(TrainError::Interrupted.exit_code(), 130);
    /// ```
    pub fn exit_code(&self) -> i32 {
        match self {
            TrainError::Config { .. }
            | TrainError::Usage(_)
            | TrainError::Data(_)
            | TrainError::ModelInput(_)
            | TrainError::Input(_)
            | TrainError::BadInput { .. } => 2,
            TrainError::ModelOutput(e) => {
                if e.is_environment() {
                    1
                } else {
                    2
                }
            }
            TrainError::Output(e) => {
                if output_is_input_fault(e) {
                    2
                } else {
                    1
                }
            }
            // a file under an MNIST name that is not MNIST, or not a regular file: the user's
            TrainError::Fetch(
                MnistError::Unverified { .. }
                | MnistError::File(_)
                | MnistError::InvalidOption { .. },
            ) => 2,
            TrainError::Fetch(_)
            | TrainError::Failed(_)
            | TrainError::Plot { .. }
            | TrainError::NonFinite { .. } => 1,
            TrainError::Interrupted => 130,
        }
    }

    /// [`TrainError::BadInput`]: `path` is malformed, `what` says how.
    ///
    /// ```
    /// let e = scratchnet_run::TrainError::bad_input("a.csv".as_ref(), "line 2: not a number");
    /// assert_eq!(e.to_string(), "a.csv: line 2: not a number");
    /// ```
    pub fn bad_input(path: &Path, what: impl Into<String>) -> Self {
        TrainError::BadInput {
            path: path.to_owned(),
            what: what.into(),
        }
    }

    /// [`TrainError::Config`]: the value of `field` cannot work.
    ///
    /// ```
    /// let e = scratchnet_run::TrainError::config("batch", "must be at least 1, got 0");
    /// assert_eq!((e.to_string().as_str(), e.exit_code()), ("batch must be at least 1, got 0", 2));
    /// ```
    pub fn config(field: &'static str, problem: impl Into<String>) -> Self {
        TrainError::Config {
            field,
            problem: problem.into(),
        }
    }
}
