//! A validation split taken from the training set (§6.5.1): the book's `shuffle_dataset` (a
//! seeded permutation), then the first `⌊n·fraction⌋` examples as validation data and the rest as
//! training data, as `hyperparameter_optimization.py` does with `validation_rate = 0.20`.

use scratchnet_tensor::{Rng, shuffled_indices};

use crate::{MnistError, RawSplit, Split};

/// The two parts of a training set after [`validation_split`]: what to train on and what to
/// evaluate on (the test set stays untouched).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidationSplit<T> {
    /// The rest of the shuffled set, `x_train[validation_num:]`.
    pub train: T,
    /// The first `⌊n·fraction⌋` of the shuffled set, `x_train[:validation_num]`.
    pub validation: T,
}

/// The indices of a validation split of `0..n`: a permutation drawn from `rng` (the book's
/// `shuffle_dataset`), its first `⌊n·fraction⌋` entries as validation and the rest as training
/// (the book's `int(x_train.shape[0] * validation_rate)`). The same seed gives the same split.
///
/// # Errors
/// [`MnistError::InvalidOption`] (name `"validation fraction"`) if `fraction` is not strictly
/// between 0 and 1, or leaves either part empty for this `n`.
///
/// ```
/// use scratchnet_tensor::rng_from_seed;
/// let s = scratchnet_mnist::validation_split(&mut rng_from_seed(0), 10, 0.2)?;
/// assert_eq!((s.validation.len(), s.train.len()), (2, 8));
/// let mut all = [s.validation, s.train].concat();
/// all.sort();
/// assert_eq!(all, (0..10).collect::<Vec<_>>());
/// assert!(scratchnet_mnist::validation_split(&mut rng_from_seed(0), 10, 1.5).is_err());
/// # Ok::<(), scratchnet_mnist::MnistError>(())
/// ```
pub fn validation_split(
    rng: &mut Rng,
    n: usize,
    fraction: f64,
) -> Result<ValidationSplit<Vec<usize>>, MnistError> {
    let invalid = |reason: String| MnistError::InvalidOption {
        name: "validation fraction",
        reason,
    };
    if !(fraction > 0.0 && fraction < 1.0) {
        return Err(invalid(format!(
            "must be more than 0 and less than 1, got {fraction}"
        )));
    }
    let count = (n as f64 * fraction).floor() as usize;
    if count == 0 || count == n {
        return Err(invalid(format!(
            "{fraction} of {n} examples leaves {count} for validation and {} for training; both must be non-empty",
            n - count
        )));
    }
    let mut order = shuffled_indices(rng, n);
    let train = order.split_off(count);
    Ok(ValidationSplit {
        train,
        validation: order,
    })
}

impl<A: Clone> Split<A> {
    /// This split cut by [`validation_split`] into training and validation examples, each in the
    /// shuffled order.
    ///
    /// # Errors
    /// As [`validation_split`].
    ///
    /// ```
    /// use ndarray::Array2;
    /// use scratchnet_mnist::{Labels, Split};
    /// let s = Split { images: Array2::<f32>::zeros((5, 784)).into_dyn(), labels: Labels::<f32>::Index(vec![0, 1, 2, 3, 4]) };
    /// let parts = s.split_validation(&mut scratchnet_tensor::rng_from_seed(1), 0.2)?;
    /// assert_eq!((parts.train.len(), parts.validation.len()), (4, 1));
    /// assert_eq!(parts.validation.images.shape(), &[1, 784]);
    /// # Ok::<(), scratchnet_mnist::MnistError>(())
    /// ```
    pub fn split_validation(
        &self,
        rng: &mut Rng,
        fraction: f64,
    ) -> Result<ValidationSplit<Split<A>>, MnistError> {
        let idx = validation_split(rng, self.len(), fraction)?;
        Ok(ValidationSplit {
            train: self.batch(&idx.train),
            validation: self.batch(&idx.validation),
        })
    }
}

impl RawSplit {
    /// This split cut by [`validation_split`] into training and validation examples, each in the
    /// shuffled order.
    ///
    /// # Errors
    /// As [`validation_split`].
    ///
    /// ```
    /// use ndarray::array;
    /// let s = scratchnet_mnist::RawSplit { images: array![[1], [2], [3], [4]], labels: array![1, 2, 3, 4] };
    /// let parts = s.split_validation(&mut scratchnet_tensor::rng_from_seed(1), 0.5)?;
    /// assert_eq!(parts.validation.len(), 2);
    /// assert_eq!(parts.train.images.column(0).to_vec(), parts.train.labels.to_vec());
    /// # Ok::<(), scratchnet_mnist::MnistError>(())
    /// ```
    pub fn split_validation(
        &self,
        rng: &mut Rng,
        fraction: f64,
    ) -> Result<ValidationSplit<RawSplit>, MnistError> {
        let idx = validation_split(rng, self.len(), fraction)?;
        Ok(ValidationSplit {
            train: self.batch(&idx.train),
            validation: self.batch(&idx.validation),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use scratchnet_tensor::rng_from_seed;

    #[test]
    fn the_parts_are_disjoint_cover_everything_and_have_the_books_sizes() {
        for (n, fraction, want) in [
            (60_000, 0.2, 12_000),
            (300, 0.2, 60),
            (7, 0.5, 3),
            (10, 0.15, 1),
        ] {
            let s = validation_split(&mut rng_from_seed(3), n, fraction).unwrap();
            assert_eq!(s.validation.len(), want, "{n} {fraction}");
            let mut seen = vec![false; n];
            for &i in s.validation.iter().chain(&s.train) {
                assert!(!seen[i], "index {i} twice");
                seen[i] = true;
            }
            assert!(seen.iter().all(|&s| s), "every index once");
        }
    }

    #[test]
    fn one_seed_one_split_another_seed_another() {
        let a = validation_split(&mut rng_from_seed(1), 1000, 0.2).unwrap();
        assert_eq!(
            a,
            validation_split(&mut rng_from_seed(1), 1000, 0.2).unwrap()
        );
        let b = validation_split(&mut rng_from_seed(2), 1000, 0.2).unwrap();
        assert_ne!(a.validation, b.validation);
        // a shuffle, not the first 20 % in order
        assert_ne!(a.validation, (0..200).collect::<Vec<_>>());
    }

    #[test]
    fn a_bad_fraction_is_an_error_naming_it() {
        for fraction in [0.0, 1.0, -0.1, 1.5, f64::NAN, f64::INFINITY] {
            let e = validation_split(&mut rng_from_seed(0), 100, fraction).unwrap_err();
            assert!(
                e.to_string().starts_with("invalid validation fraction:"),
                "{fraction}: {e}"
            );
        }
        // a fraction too small or too large for the set leaves a part empty
        assert!(validation_split(&mut rng_from_seed(0), 4, 0.1).is_err());
        assert!(validation_split(&mut rng_from_seed(0), 0, 0.5).is_err());
        assert!(validation_split(&mut rng_from_seed(0), 4, 0.99).is_ok()); // 3 and 1
    }

    #[test]
    fn images_and_labels_stay_together() {
        // image i holds the value i in every pixel, label i % 10
        let n = 50;
        let raw = RawSplit {
            images: ndarray::Array2::from_shape_fn((n, 3), |(i, _)| i as u8),
            labels: ndarray::Array1::from_shape_fn(n, |i| (i % 10) as u8),
        };
        let parts = raw.split_validation(&mut rng_from_seed(5), 0.2).unwrap();
        assert_eq!((parts.validation.len(), parts.train.len()), (10, 40));
        for part in [&parts.validation, &parts.train] {
            for (row, &l) in part.images.rows().into_iter().zip(&part.labels) {
                assert_eq!(row[0] % 10, l);
            }
        }
        let split = raw.to_split::<f64>(crate::LoadOptions::default());
        let sp = split.split_validation(&mut rng_from_seed(5), 0.2).unwrap();
        assert_eq!(
            sp.validation.labels.to_indices(),
            parts.validation.labels_usize()
        );
    }
}
