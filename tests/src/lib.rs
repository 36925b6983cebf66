//! What the cross-crate tests in `tests/` share: the real MNIST, found by the workspace's one
//! lookup (`$MNIST_DIR`, else `<workspace>/data/mnist`). Missing data is a failure that says how
//! to fetch it, never a skip.

use std::path::{Path, PathBuf};

use ndarray::Array2;
use scratchnet_mnist::{RawMnist, load_raw, random_batch};
use scratchnet_tensor::{gather_rows, rng_from_seed};

/// The MNIST folder.
///
/// # Panics
/// If any of the four files is missing, with the command that fetches them.
pub fn data_dir() -> PathBuf {
    let dir = scratchnet_mnist::default_dir_in(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."));
    let missing = scratchnet_mnist::missing_files(&dir);
    assert!(
        missing.is_empty(),
        "real MNIST is missing in {} ({}): run `cargo xtask fetch-mnist --dir {}` (or `cargo xtask test`), or set MNIST_DIR",
        dir.display(),
        missing.join(", "),
        dir.display()
    );
    dir
}

/// The real MNIST as bytes.
///
/// # Panics
/// If it is missing or malformed.
pub fn mnist() -> RawMnist {
    let dir = data_dir();
    load_raw(&dir).unwrap_or_else(|e| panic!("{e}"))
}

/// `n` training images drawn with `seed` (as the notebook's `np.random.choice`), normalised to
/// [0, 1], and their labels.
pub fn batch(m: &RawMnist, seed: u64, n: usize) -> (Array2<f64>, Vec<usize>) {
    let idx = random_batch(&mut rng_from_seed(seed), m.train.len(), n);
    let x = gather_rows(&m.train.images, &idx).mapv(|p| f64::from(p) / 255.0);
    let labels = m.train.labels_usize();
    (x, idx.iter().map(|&i| labels[i]).collect())
}
