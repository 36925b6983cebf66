//! MNIST for scratchnet: verified download, offline import, IDX parsing, cached loading and
//! seeded mini-batches — the book's `load_mnist` (§3.6.1) and the notebook's mini-batch
//! sampling (§4.2.3). This crate depends only on `scratchnet-tensor` and knows nothing of
//! networks.
//!
//! ```no_run
//! use scratchnet_mnist::{LoadOptions, load_mnist, random_batch};
//! use scratchnet_tensor::rng_from_seed;
//!
//! let opts = LoadOptions { normalize: true, flatten: true, one_hot_label: true };
//! let data = load_mnist::<f32>("data/mnist".as_ref(), opts)?;
//! println!("{:?} {:?}", data.train.images.shape(), data.test.images.shape()); // [60000, 784] [10000, 784]
//! let mut rng = rng_from_seed(0);
//! let batch = data.train.batch(&random_batch(&mut rng, data.train.len(), 100));
//! assert_eq!(batch.images.shape(), &[100, 784]);
//! # Ok::<(), scratchnet_mnist::MnistError>(())
//! ```
//!
//! * Files: the four standard files, raw or `.gz`, in either naming style ([`MnistFile`]).
//!   Missing ones are fetched by `cargo xtask fetch-mnist` (the `download` feature,
//!   `download::fetch`) or imported from a local copy ([`import`]), both verified by the
//!   SHA-256 of the decompressed bytes.
//! * Parsing ([`idx`]) checks magic numbers, sizes, counts and labels; no input makes it panic.
//! * The first load writes `mnist.bincode` beside the data ([`cache_path`]); later loads read it
//!   after checking it against the sources.
//!
//! MNIST: Yann LeCun, Corinna Cortes, Christopher J.C. Burges (commonly listed as CC BY-SA 3.0).

mod batch;
mod cache;
pub mod checksum;
mod codec;
#[cfg(feature = "download")]
pub mod download;
mod error;
mod files;
pub mod idx;
mod import;
mod load;
mod report;
mod store;

pub use batch::{EpochBatches, random_batch};
pub use cache::{CACHE_FILE, cache_path};
pub use error::{Attempt, MnistError};
pub use files::{Checksums, MnistFile, missing_files};
pub use import::{ImportOptions, import, import_with};
pub use load::{
    CLASSES, CacheUse, DIR_ENV, Dataset, IMAGE_PIXELS, Labels, LoadOptions, RawMnist, RawSplit,
    Split, default_dir, load_mnist, load_raw, load_raw_report, load_raw_uncached,
};
pub use report::{FetchReport, FileReport, Source};
