//! Training targets, shared by the loader (`scratchnet-mnist`) and the networks, which must not
//! depend on each other.

use ndarray::{Array1, Array2, ArrayBase, ArrayView1, ArrayView2, Data, Ix2};

/// Training targets: class labels (`t` of `load_mnist(one_hot_label=False)`) or one-hot rows
/// (`one_hot_label=True`). Every loss, accuracy and gradient of the networks takes anything
/// that converts into this:
///
/// ```
/// use ndarray::{Array1, array};
/// use scratchnet_tensor::Targets;
/// let vec = vec![2, 0];
/// let arr = [2, 0];
/// let nd = Array1::from(vec![2, 0]);
/// let onehot = array![[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]];
/// for t in [
///     Targets::<f64>::from(&vec),       // &Vec<usize>
///     Targets::from(&vec[..]),          // &[usize]
///     Targets::from(&arr),              // &[usize; N]
///     Targets::from(&nd),               // &Array1<usize>
///     Targets::from(nd.view()),         // ArrayView1<usize>
///     Targets::from(&onehot),           // &Array2<A>, one-hot rows
///     Targets::from(onehot.view()),     // ArrayView2<A>
/// ] {
///     assert_eq!(t.labels(), vec![2, 0]);
/// }
/// let one_hot_f32 = array![[0.0f32, 1.0]];
/// assert_eq!(Targets::from(&one_hot_f32).len(), 1);
/// ```
///
/// An owned `Array1<usize>` is borrowed: pass `&labels`.
#[derive(Clone, Copy, Debug)]
pub enum Targets<'a, A> {
    /// One class index per sample.
    Labels(&'a [usize]),
    /// One row per sample, normally one-hot (any non-negative row is accepted by the losses).
    OneHot(ArrayView2<'a, A>),
}

impl<A: crate::Scalar> Targets<'_, A> {
    /// Number of samples.
    ///
    /// ```
    /// assert_eq!(scratchnet_tensor::Targets::<f64>::Labels(&[1, 2, 0]).len(), 3);
    /// ```
    pub fn len(&self) -> usize {
        match self {
            Targets::Labels(l) => l.len(),
            Targets::OneHot(t) => t.nrows(),
        }
    }

    /// True when there are no samples.
    ///
    /// ```
    /// assert!(scratchnet_tensor::Targets::<f32>::Labels(&[]).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Checks that these targets fit a batch of `rows` samples and `classes` classes, with a
    /// message that says what is wrong: every network method calls this before any arithmetic.
    ///
    /// # Panics
    /// If there is not one target per row, a label is `>= classes`, or one-hot rows do not
    /// have one entry per class.
    ///
    /// ```
    /// use scratchnet_tensor::Targets;
    /// let labels = [3, 11];
    /// Targets::<f64>::from(&labels).check(2, 12);
    /// let err = std::panic::catch_unwind(|| Targets::<f64>::from(&labels).check(2, 10));
    /// assert!(err.is_err()); // "label 11 (sample 1) out of range for 10 classes"
    /// ```
    pub fn check(&self, rows: usize, classes: usize) {
        assert_eq!(
            self.len(),
            rows,
            "one target per sample: {} targets for {rows} rows of x",
            self.len()
        );
        match self {
            Targets::Labels(l) => {
                if let Some((n, &l)) = l.iter().enumerate().find(|&(_, &l)| l >= classes) {
                    panic!("label {l} (sample {n}) out of range for {classes} classes");
                }
            }
            Targets::OneHot(t) => assert_eq!(
                t.ncols(),
                classes,
                "one-hot targets need one column per class: {} columns for {classes} classes",
                t.ncols()
            ),
        }
    }

    /// The fraction of rows of `scores` whose largest entry is at the target class: the book's
    /// `np.sum(np.argmax(y, axis=1) == t) / float(x.shape[0])` (0 for no samples).
    ///
    /// # Panics
    /// If `scores` does not have one row per target.
    ///
    /// ```
    /// use ndarray::array;
    /// use scratchnet_tensor::Targets;
    /// let scores = array![[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]];
    /// assert_eq!(Targets::<f64>::from(&[1, 0, 0]).accuracy_of(&scores), 2.0 / 3.0);
    /// ```
    pub fn accuracy_of<S: ndarray::Data<Elem = A>>(
        &self,
        scores: &ndarray::ArrayBase<S, ndarray::Ix2>,
    ) -> f64 {
        assert_eq!(scores.nrows(), self.len(), "one row of scores per target");
        if self.is_empty() {
            return 0.0;
        }
        let y = crate::argmax_rows(scores);
        let correct = y
            .iter()
            .zip(self.labels())
            .filter(|(y, t)| **y == *t)
            .count();
        correct as f64 / y.len() as f64
    }

    /// The class of each sample (row-wise argmax for one-hot rows).
    ///
    /// ```
    /// let t = ndarray::array![[0.0f32, 1.0], [1.0, 0.0]];
    /// assert_eq!(scratchnet_tensor::Targets::from(&t).labels(), vec![1, 0]);
    /// ```
    pub fn labels(&self) -> Vec<usize> {
        match self {
            Targets::Labels(l) => l.to_vec(),
            Targets::OneHot(t) => crate::argmax_rows(t),
        }
    }

    /// The targets as dense rows of width `classes`.
    ///
    /// # Panics
    /// If a label is `>= classes` or one-hot rows have another width.
    ///
    /// ```
    /// let dense = scratchnet_tensor::Targets::<f64>::Labels(&[2]).to_dense(3);
    /// assert_eq!(dense, ndarray::array![[0.0, 0.0, 1.0]]);
    /// ```
    pub fn to_dense(&self, classes: usize) -> Array2<A> {
        match self {
            Targets::Labels(l) => crate::one_hot(l, classes),
            Targets::OneHot(t) => {
                assert_eq!(
                    t.ncols(),
                    classes,
                    "target rows must have one entry per class"
                );
                t.to_owned()
            }
        }
    }
}

impl<'a, A> From<&'a [usize]> for Targets<'a, A> {
    fn from(l: &'a [usize]) -> Self {
        Targets::Labels(l)
    }
}

impl<'a, A> From<&'a Vec<usize>> for Targets<'a, A> {
    fn from(l: &'a Vec<usize>) -> Self {
        Targets::Labels(l)
    }
}

impl<'a, A, const N: usize> From<&'a [usize; N]> for Targets<'a, A> {
    fn from(l: &'a [usize; N]) -> Self {
        Targets::Labels(l)
    }
}

/// # Panics
/// If the array is not contiguous (an owned `Array1` always is; a strided view may not be).
impl<'a, A> From<&'a Array1<usize>> for Targets<'a, A> {
    fn from(l: &'a Array1<usize>) -> Self {
        Targets::Labels(l.as_slice().expect("labels must be contiguous"))
    }
}

/// # Panics
/// If the view is not contiguous.
impl<'a, A> From<ArrayView1<'a, usize>> for Targets<'a, A> {
    fn from(l: ArrayView1<'a, usize>) -> Self {
        Targets::Labels(l.to_slice().expect("labels must be contiguous"))
    }
}

impl<'a, A, S: Data<Elem = A>> From<&'a ArrayBase<S, Ix2>> for Targets<'a, A> {
    fn from(t: &'a ArrayBase<S, Ix2>) -> Self {
        Targets::OneHot(t.view())
    }
}

impl<'a, A> From<ArrayView2<'a, A>> for Targets<'a, A> {
    fn from(t: ArrayView2<'a, A>) -> Self {
        Targets::OneHot(t)
    }
}
