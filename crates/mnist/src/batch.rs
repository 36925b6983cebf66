//! Mini-batches (§4.2.3): random indices with replacement, as the notebook's
//! `np.random.choice(train_size, batch_size)`, or shuffled epochs without replacement. Both draw
//! from an explicit seeded [`Rng`]; gathering copies only the chosen rows.

use std::borrow::Borrow;

use scratchnet_tensor::{Rng, choice_with_replacement, gather_rows, shuffled_indices};

use crate::{Labels, RawSplit, Split};

/// `batch` indices drawn uniformly from `0..n` with replacement: the notebook's
/// `batch_mask = np.random.choice(train_size, batch_size)`.
///
/// # Panics
/// If `n == 0` and `batch > 0`.
///
/// ```
/// use scratchnet_tensor::rng_from_seed;
/// let a = scratchnet_mnist::random_batch(&mut rng_from_seed(1), 60_000, 10);
/// let b = scratchnet_mnist::random_batch(&mut rng_from_seed(1), 60_000, 10);
/// assert_eq!(a, b);
/// assert!(a.iter().all(|&i| i < 60_000));
/// ```
pub fn random_batch(rng: &mut Rng, n: usize, batch: usize) -> Vec<usize> {
    choice_with_replacement(rng, n, batch)
}

/// One epoch without replacement: a random permutation of `0..n` cut into batches of
/// `batch` indices, the last one shorter when `batch` does not divide `n` (unless
/// [`EpochBatches::drop_last`]). Every index appears exactly once per epoch.
///
/// ```
/// use scratchnet_tensor::rng_from_seed;
/// let batches: Vec<Vec<usize>> = scratchnet_mnist::EpochBatches::new(&mut rng_from_seed(0), 10, 4).collect();
/// assert_eq!(batches.iter().map(Vec::len).collect::<Vec<_>>(), vec![4, 4, 2]);
/// let mut all: Vec<usize> = batches.concat();
/// all.sort();
/// assert_eq!(all, (0..10).collect::<Vec<_>>());
/// ```
#[derive(Clone, Debug)]
pub struct EpochBatches {
    order: Vec<usize>,
    batch: usize,
    pos: usize,
    drop_last: bool,
}

impl EpochBatches {
    /// Shuffles `0..n` with `rng`, to be served `batch` at a time.
    ///
    /// # Panics
    /// If `batch == 0`.
    pub fn new(rng: &mut Rng, n: usize, batch: usize) -> Self {
        assert!(batch > 0, "batch size must be positive");
        EpochBatches {
            order: shuffled_indices(rng, n),
            batch,
            pos: 0,
            drop_last: false,
        }
    }

    /// Leaves out the last batch if it would be shorter than the others.
    ///
    /// ```
    /// use scratchnet_tensor::rng_from_seed;
    /// let e = scratchnet_mnist::EpochBatches::new(&mut rng_from_seed(0), 10, 4).drop_last();
    /// assert_eq!(e.count(), 2);
    /// ```
    pub fn drop_last(mut self) -> Self {
        self.drop_last = true;
        self
    }
}

impl Iterator for EpochBatches {
    type Item = Vec<usize>;

    fn next(&mut self) -> Option<Vec<usize>> {
        let left = self.order.len() - self.pos;
        if left == 0 || (self.drop_last && left < self.batch) {
            return None;
        }
        let end = self.pos + left.min(self.batch);
        let out = self.order[self.pos..end].to_vec();
        self.pos = end;
        Some(out)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.order.len() - self.pos;
        let n = if self.drop_last {
            left / self.batch
        } else {
            left.div_ceil(self.batch)
        };
        (n, Some(n))
    }
}

impl ExactSizeIterator for EpochBatches {}

impl<A: Clone> Split<A> {
    /// The examples at `indices`, in that order (repeats allowed): the book's
    /// `x_train[batch_mask]`, `t_train[batch_mask]` in one call, and with a range its
    /// `x_train[:3]`, `t_train[:3]`. `indices` is a slice, a `Vec`, an array or a range.
    ///
    /// # Panics
    /// If an index is out of bounds.
    ///
    /// ```
    /// use ndarray::{array, ArrayD};
    /// use scratchnet_mnist::{Labels, Split};
    /// let s = Split { images: array![[0.0], [1.0], [2.0]].into_dyn(), labels: Labels::<f64>::Index(vec![7, 8, 9]) };
    /// let b = s.batch(&[2, 0]); // x[[2, 0]]
    /// assert_eq!(b.images, array![[2.0], [0.0]].into_dyn());
    /// assert_eq!(b.labels, Labels::Index(vec![9, 7]));
    /// let first = s.batch(0..2); // x[:2]
    /// assert_eq!(first.labels, Labels::Index(vec![7, 8]));
    /// let mask: Vec<usize> = vec![1];
    /// assert_eq!(s.batch(&mask).len(), 1); // x[mask]
    /// ```
    pub fn batch<I>(&self, indices: I) -> Split<A>
    where
        I: IntoIterator,
        I::Item: Borrow<usize>,
    {
        let indices: Vec<usize> = indices.into_iter().map(|i| *i.borrow()).collect();
        let indices = indices.as_slice();
        let labels = match &self.labels {
            Labels::Index(l) => Labels::Index(indices.iter().map(|&i| l[i]).collect()),
            Labels::OneHot(t) => Labels::OneHot(gather_rows(t, indices)),
        };
        Split {
            images: gather_rows(&self.images, indices),
            labels,
        }
    }
}

impl RawSplit {
    /// The examples at `indices`, in that order (repeats allowed); a slice, a `Vec`, an array
    /// or a range, as [`Split::batch`].
    ///
    /// # Panics
    /// If an index is out of bounds.
    ///
    /// ```
    /// use ndarray::array;
    /// let s = scratchnet_mnist::RawSplit { images: array![[1], [2]], labels: array![5, 6] };
    /// assert_eq!(s.batch(&[1]).labels, array![6]);
    /// assert_eq!(s.batch(0..1).labels, array![5]);
    /// ```
    pub fn batch<I>(&self, indices: I) -> RawSplit
    where
        I: IntoIterator,
        I::Item: Borrow<usize>,
    {
        let indices: Vec<usize> = indices.into_iter().map(|i| *i.borrow()).collect();
        let indices = indices.as_slice();
        RawSplit {
            images: gather_rows(&self.images, indices),
            labels: gather_rows(&self.labels, indices),
        }
    }
}
