//! MNIST as a training loop uses it: pixels in [0, 1] converted once and stored sparse, labels
//! as class indices, and the subsets a run trains on (first N, the validation split).

use std::borrow::Cow;
use std::path::Path;

use scratchnet_tensor::{Scalar, SparseRows, rng_from_seed};

use crate::{MnistError, RawMnist};

/// MNIST as the training loop uses it: images as `(N, 784)` rows of `A` in [0, 1], converted
/// once and stored sparse (about 81 % of the pixels are 0: mini-batches are gathered from these
/// and accuracies computed on them without touching a zero), and labels as class indices.
#[derive(Clone, Debug, PartialEq)]
pub struct SparseMnist<A> {
    /// Training images, `(60000, 784)`.
    pub x_train: SparseRows<A>,
    /// Training labels, 0–9.
    pub t_train: Vec<usize>,
    /// Test images, `(10000, 784)`.
    pub x_test: SparseRows<A>,
    /// Test labels, 0–9.
    pub t_test: Vec<usize>,
}

impl<A: Scalar> SparseMnist<A> {
    /// Converts raw bytes: pixels `v / 255` (the same values as the mnist crate's
    /// `images_as(true)`), labels as `usize`.
    ///
    /// ```
    /// use ndarray::array;
    /// use scratchnet_mnist::{RawMnist, RawSplit};
    /// use scratchnet_tensor::SparseRows;
    /// let split = RawSplit { images: array![[0, 255]], labels: array![7] };
    /// let m = scratchnet_mnist::SparseMnist::<f32>::from_raw(&RawMnist { train: split.clone(), test: split });
    /// assert_eq!(m.x_train, SparseRows::from_dense(&array![[0.0, 1.0]]));
    /// assert_eq!(m.t_test, vec![7]);
    /// ```
    pub fn from_raw(raw: &RawMnist) -> Self {
        // the mnist crate's table of the 256 quotients, the values of `images_as(true)`
        let table = crate::pixel_table::<A>(true);
        let sparse = |images| SparseRows::from_dense_map(images, |p: u8| table[usize::from(p)]);
        SparseMnist {
            x_train: sparse(&raw.train.images),
            t_train: raw.train.labels_usize(),
            x_test: sparse(&raw.test.images),
            t_test: raw.test.labels_usize(),
        }
    }

    /// A tiny stand-in for examples and tests: `n` training images (the test set the same), image
    /// `i` of class `i % 10` with pixel `j` lit where `j % 10 == i % 10`, which a net learns in
    /// a few steps.
    ///
    /// ```
    /// let toy = scratchnet_mnist::SparseMnist::<f32>::toy(20);
    /// assert_eq!((toy.train_size(), toy.test_size(), toy.t_train[13]), (20, 20, 3));
    /// assert_eq!(toy.x_train.row(13).0.len(), 79); // pixels 3, 13, …, 783
    /// ```
    pub fn toy(n: usize) -> Self {
        let x = ndarray::Array2::from_shape_fn((n, 784), |(i, j)| {
            A::of_f64((j % 10 == i % 10) as u8 as f64)
        });
        let x = SparseRows::from_dense(&x);
        let t: Vec<usize> = (0..n).map(|i| i % 10).collect();
        SparseMnist {
            x_train: x.clone(),
            t_train: t.clone(),
            x_test: x,
            t_test: t,
        }
    }

    /// Reads the folder (through the cache, [`load_raw`](crate::load_raw)) and converts it.
    ///
    /// ```
    /// let e = scratchnet_mnist::SparseMnist::<f32>::load("/nonexistent".as_ref()).unwrap_err();
    /// assert!(e.to_string().starts_with("MNIST files missing in /nonexistent"));
    /// ```
    pub fn load(dir: &Path) -> Result<Self, MnistError> {
        Ok(Self::from_raw(&crate::load_raw(dir)?))
    }

    /// Number of training images.
    pub fn train_size(&self) -> usize {
        self.t_train.len()
    }

    /// Number of test images.
    pub fn test_size(&self) -> usize {
        self.t_test.len()
    }

    /// The sets a run trains and evaluates on: the first `first` training images (all with
    /// `None`), and with `validation` f the book's split of those (§6.5.1: `shuffle_dataset` by
    /// a permutation drawn from stream 1 of `seed`, the first ⌊n·f⌋ held out) in place of the
    /// test set, which then stays untouched. Without either, the data as it is, not copied.
    ///
    /// ```
    /// use ndarray::Array2;
    /// use scratchnet_mnist::SparseMnist;
    /// let x = scratchnet_tensor::SparseRows::from_dense(&Array2::<f32>::eye(10));
    /// let t: Vec<usize> = (0..10).collect();
    /// let data = SparseMnist { x_train: x.clone(), t_train: t.clone(), x_test: x, t_test: t };
    /// let run = data.subset(Some(8), Some(0.25), 42)?;
    /// assert_eq!((run.train_size(), run.test_size()), (6, 2));
    /// let mut seen: Vec<usize> = run.t_train.iter().chain(&run.t_test).copied().collect();
    /// seen.sort();
    /// assert_eq!(seen, (0..8).collect::<Vec<_>>()); // disjoint, from the first 8
    /// assert_eq!(run.t_test, data.subset(Some(8), Some(0.25), 42)?.t_test); // seeded
    /// assert!(data.subset(Some(11), None, 42).is_err());
    /// # Ok::<(), scratchnet_mnist::MnistError>(())
    /// ```
    ///
    /// # Errors
    /// [`MnistError::InvalidOption`] naming `train_size` or `validation`.
    pub fn subset(
        &self,
        first: Option<usize>,
        validation: Option<f64>,
        seed: u64,
    ) -> Result<Cow<'_, Self>, MnistError> {
        if first.is_none() && validation.is_none() {
            return Ok(Cow::Borrowed(self));
        }
        let n = first.unwrap_or(self.train_size());
        if n > self.train_size() {
            return Err(MnistError::InvalidOption {
                name: "train_size",
                reason: format!("{n} is more than the {} training images", self.train_size()),
            });
        }
        let (train, held_out) = match validation {
            None => ((0..n).collect(), None),
            Some(fraction) => {
                let mut rng = rng_from_seed(seed);
                rng.set_stream(SPLIT_STREAM);
                let split = crate::validation_split(&mut rng, n, fraction)?;
                (split.train, Some(split.validation))
            }
        };
        let pick = |idx: &[usize]| idx.iter().map(|&k| self.t_train[k]).collect::<Vec<_>>();
        let x_train = self.x_train.gather_rows(&train);
        let t_train = pick(&train);
        Ok(Cow::Owned(match held_out {
            Some(val) => SparseMnist {
                x_train,
                t_train,
                x_test: self.x_train.gather_rows(&val),
                t_test: pick(&val),
            },
            None => SparseMnist {
                x_train,
                t_train,
                x_test: self.x_test.clone(),
                t_test: self.t_test.clone(),
            },
        }))
    }
}

/// The ChaCha stream of the seed that draws the validation split (stream 0 draws the weights,
/// batches and masks), so that the split does not shift the training's numbers.
const SPLIT_STREAM: u64 = 1;
