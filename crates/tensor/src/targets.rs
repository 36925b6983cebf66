use ndarray::{Array2, ArrayView2};

/// Training targets: class labels (`t` of `load_mnist(one_hot_label=False)`) or one-hot rows
/// (`one_hot_label=True`). Every loss and accuracy in this crate takes either.
///
/// ```
/// use ndarray::array;
/// use scratchnet_tensor::Targets;
/// let labels = vec![2, 0];
/// let onehot = array![[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]];
/// assert_eq!(Targets::<f64>::from(&labels).len(), 2);
/// assert_eq!(Targets::from(&onehot).labels(), vec![2, 0]);
/// ```
#[derive(Clone, Copy, Debug)]
pub enum Targets<'a, A> {
    /// One class index per sample.
    Labels(&'a [usize]),
    /// One row per sample, normally one-hot (any non-negative row is accepted by the losses).
    OneHot(ArrayView2<'a, A>),
}

impl<A: crate::Scalar> Targets<'_, A> {
    /// Number of samples.
    pub fn len(&self) -> usize {
        match self {
            Targets::Labels(l) => l.len(),
            Targets::OneHot(t) => t.nrows(),
        }
    }

    /// True when there are no samples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The class of each sample (row-wise argmax for one-hot rows).
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

impl<'a, A> From<&'a Array2<A>> for Targets<'a, A> {
    fn from(t: &'a Array2<A>) -> Self {
        Targets::OneHot(t.view())
    }
}

impl<'a, A> From<ArrayView2<'a, A>> for Targets<'a, A> {
    fn from(t: ArrayView2<'a, A>) -> Self {
        Targets::OneHot(t)
    }
}
