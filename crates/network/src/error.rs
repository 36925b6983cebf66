use std::path::PathBuf;

use scratchnet_fileio::FileError;

/// Errors of loading, saving, importing and exporting model files.
///
/// ```
/// use scratchnet_network::{ModelError, TwoLayerNet};
/// let e = TwoLayerNet::<f64>::load("/no/such/model.bin").unwrap_err();
/// assert!(matches!(e, ModelError::Io { .. }));
/// assert!(e.to_string().contains("/no/such/model.bin"));
/// ```
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The path is not a file that can be read or replaced (a directory, device, FIFO, socket,
    /// a dangling symbolic link) or is larger than any model.
    #[error("{0}")]
    File(FileError),
    /// The file does not start with the scratchnet model magic bytes.
    #[error("{path}: not a scratchnet model file (bad magic bytes)")]
    NotAModel {
        /// The file.
        path: PathBuf,
    },
    /// The file was written in a format version this build does not read.
    #[error("{path}: model format version {found}, this build reads version {expected}")]
    Version {
        /// The file.
        path: PathBuf,
        /// The version in the file.
        found: u32,
        /// The version this build reads.
        expected: u32,
    },
    /// The file is truncated or its bytes were altered.
    #[error("{path}: corrupt or truncated model file ({what})")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        what: String,
    },
    /// The file holds parameters of another element type.
    #[error("{path}: holds {found} parameters, but {expected} was asked for")]
    Dtype {
        /// The file.
        path: PathBuf,
        /// The dtype in the file.
        found: String,
        /// The dtype asked for.
        expected: &'static str,
    },
    /// A `.npz` archive could not be read or written, or lacks an array; or a safetensors file
    /// could not be encoded.
    #[error("{path}: {what}")]
    Npz {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        what: String,
    },
    /// A [`NetSpec`](crate::NetSpec) that is out of range or that this build cannot run.
    #[error("network spec: {0}")]
    Spec(String),
}

impl ModelError {
    /// True when the error comes from the machine (an operating-system error while reading or
    /// writing: permissions, a full disk) rather than from what the path names.
    ///
    /// ```
    /// use scratchnet_network::TwoLayerNet;
    /// let net = TwoLayerNet::<f32>::new(2, 2, 2, 0.1, &mut scratchnet_tensor::rng_from_seed(0));
    /// assert!(!net.save("/dev/null").unwrap_err().is_environment()); // not a regular file
    /// ```
    pub fn is_environment(&self) -> bool {
        matches!(self, ModelError::Io { .. })
    }
}

impl From<FileError> for ModelError {
    fn from(e: FileError) -> Self {
        match e {
            FileError::Io { path, source, .. } => ModelError::Io { path, source },
            FileError::NotFramed { path, .. } => ModelError::NotAModel { path },
            FileError::Version {
                path,
                found,
                expected,
                ..
            } => ModelError::Version {
                path,
                found,
                expected,
            },
            FileError::Corrupt { path, detail, .. } => ModelError::Corrupt { path, what: detail },
            other => ModelError::File(other),
        }
    }
}
