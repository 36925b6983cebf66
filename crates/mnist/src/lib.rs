//! MNIST for scratchnet: verified download, offline import, IDX parsing, cached loading and
//! seeded mini-batches — the notebook's `load_mnist` (§3.6) and mini-batch sampling (§4.2.3).
//!
//! MNIST: Yann LeCun, Corinna Cortes, Christopher J.C. Burges (CC BY-SA 3.0 as commonly listed).

pub mod checksum;
#[cfg(feature = "download")]
pub mod download;
mod error;
mod files;
pub mod idx;
mod import;
mod report;
mod store;

pub use error::{Attempt, MnistError};
pub use files::{Checksums, MnistFile, missing_files};
pub use import::{ImportOptions, import, import_with};
pub use report::{FetchReport, FileReport, Source};
