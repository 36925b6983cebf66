use std::path::PathBuf;

/// Errors of loading, saving, importing and exporting model files.
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
    /// A `.npz` archive could not be read or written, or lacks an array.
    #[error("{path}: {what}")]
    Npz {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        what: String,
    },
}

impl ModelError {
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_owned(),
            source,
        }
    }
}
