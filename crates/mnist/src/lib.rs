//! MNIST for scratchnet: verified download, offline import, IDX parsing, cached loading and
//! seeded mini-batches — the book's `load_mnist` (§3.6.1) and the notebook's mini-batch
//! sampling (§4.2.3). This crate depends only on `scratchnet-tensor` and `scratchnet-fileio` (every
//! file it reads or writes goes through the latter) and knows nothing of
//! networks.
//!
//! ```no_run
//! use scratchnet_mnist::{LoadOptions, load_mnist, random_batch};
//! use scratchnet_tensor::rng_from_seed;
//!
//! let opts = LoadOptions { normalize: true, flatten: true, one_hot_label: true };
//! let data = load_mnist::<f32>("data/mnist", opts)?;
//! println!("{:?} {:?}", data.train.images.shape(), data.test.images.shape()); // [60000, 784] [10000, 784]
//! let mut rng = rng_from_seed(0);
//! let batch = data.train.batch(&random_batch(&mut rng, data.train.len(), 100));
//! assert_eq!(batch.images.shape(), &[100, 784]);
//! # Ok::<(), scratchnet_mnist::MnistError>(())
//! ```
//!
//! * Files: the four standard files, raw or `.gz`, in either naming style ([`MnistFile`]),
//!   in [`default_dir`] (`$MNIST_DIR`, else `data/mnist`) or any folder given.
//!   Missing ones are downloaded by `download::fetch`, which needs the crate's `download`
//!   feature (`scratchnet-mnist = { version = "0.1", features = ["download"] }`; in the
//!   scratchnet workspace `cargo xtask fetch-mnist` calls it), or imported from a local copy
//!   ([`import`]); both verify the SHA-256 of the decompressed bytes, bound every download, and
//!   never delete or replace a file they did not verify (see the `download` module).
//! * What [`load_mnist`] returns feeds a network as it is: `&data.train.labels` converts to
//!   [`scratchnet_tensor::Targets`], index or one-hot.
//! * Parsing ([`idx`]) checks magic numbers, sizes, counts and labels; no input makes it panic.
//! * [`validation_split`] (and `Split::split_validation`) holds out a seeded fraction of the
//!   training set for validation, the book's `shuffle_dataset` then the first 20 %.
//! * The first load writes `mnist.bincode` beside the data ([`cache_path`]); later loads read it
//!   after checking it against the sources.
//!
//! MNIST: Yann LeCun, Corinna Cortes, Christopher J.C. Burges (commonly listed as CC BY-SA 3.0).

mod augment;
mod batch;
mod cache;
pub mod checksum;
mod dataset;
#[cfg(feature = "download")]
pub mod download;
mod error;
mod files;
pub mod idx;
mod import;
mod load;
mod report;
mod sparse;
mod store;
mod validation;

pub use augment::{random_shifts, shift_image};
pub use batch::{EpochBatches, random_batch};
pub use cache::{CACHE_FILE, cache_path};
pub use dataset::{
    CLASSES, Dataset, IMAGE_PIXELS, Labels, LoadOptions, RawMnist, RawSplit, Split, pixel_table,
};
pub use error::{Attempt, MnistError};
pub use files::{Checksums, MnistFile, missing_files};
pub use import::{ImportOptions, import, import_with};
pub use load::{
    CacheUse, DIR_ENV, DataDir, default_dir, default_dir_in, env_dir, load_mnist, load_raw,
    load_raw_report, load_raw_uncached,
};
pub use report::{FetchReport, FileReport, Source};
pub use sparse::SparseMnist;
pub use validation::{ValidationSplit, validation_split};
