//! The data types of `load_mnist`: the book's three options, the splits as the book shapes
//! them, the raw bytes as the files hold them, and the pixel table between the two.

use ndarray::{Array1, Array2, ArrayD, ArrayView2, Ix2};
use scratchnet_tensor::{Scalar, Targets, argmax_rows, one_hot};

/// The value of each pixel byte as `A`: `v / 255` (in [0, 1]) if `normalize`, else `v`. The one
/// table every conversion of MNIST pixels uses, so the loader and a trainer that converts the
/// bytes itself get the same bits.
///
/// `v / 255` is the book's: computed in `f32` (`x.astype(np.float32) / 255.0`), and for `f64`
/// that `f32` value widened, as NumPy widens the images when they meet `float64` weights (not
/// the `f64` quotient, which differs by up to 3e-8).
///
/// ```
/// let t = scratchnet_mnist::pixel_table::<f32>(true);
/// assert_eq!((t[0], t[255]), (0.0, 1.0));
/// assert_eq!(t[51], 0.2);
/// assert_eq!(scratchnet_mnist::pixel_table::<f64>(true)[51], 0.2f32 as f64); // 0.20000000298…
/// assert_eq!(scratchnet_mnist::pixel_table::<f64>(false)[200], 200.0);
/// ```
pub fn pixel_table<A: Scalar>(normalize: bool) -> [A; 256] {
    let scale = if normalize { 255.0f32 } else { 1.0 };
    // 256 possible inputs: a table beats 47 million divisions. The f32 quotient is exact in
    // f64 and in f32, so `of_f64` changes no bit.
    std::array::from_fn(|v| A::of_f64(f64::from(v as f32 / scale)))
}

/// Pixels per image, 28 × 28.
pub const IMAGE_PIXELS: usize = 784;
/// Number of classes, the digits 0–9.
pub const CLASSES: usize = 10;

/// The book's three options of `load_mnist`. The default is the book's:
/// `normalize=True, flatten=True, one_hot_label=False`.
///
/// ```
/// let o = scratchnet_mnist::LoadOptions::default();
/// assert!(o.normalize && o.flatten && !o.one_hot_label);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoadOptions {
    /// Pixels as floats in [0, 1] (`v / 255` in `f32`, widened for `f64`); otherwise the raw
    /// values 0–255 as floats.
    pub normalize: bool,
    /// Images as rows of 784, shape (N, 784); otherwise (N, 1, 28, 28).
    pub flatten: bool,
    /// Labels one-hot, shape (N, 10); otherwise class indices, shape (N,).
    pub one_hot_label: bool,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            normalize: true,
            flatten: true,
            one_hot_label: false,
        }
    }
}

/// Labels as class indices or one-hot rows.
///
/// A borrow of it is a [`scratchnet_tensor::Targets`], what the network's losses and accuracy
/// take, so `net.loss(&data.train.images, &data.train.labels)` works for either kind.
///
/// ```
/// use scratchnet_mnist::Labels;
/// use scratchnet_tensor::Targets;
/// let l = Labels::<f64>::Index(vec![3, 1]);
/// let t: Targets<'_, f64> = (&l).into();
/// assert_eq!(t.labels(), vec![3, 1]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum Labels<A> {
    /// Class indices 0–9, length N.
    Index(Vec<usize>),
    /// One-hot rows, shape (N, 10).
    OneHot(Array2<A>),
}

impl<A> Labels<A> {
    /// Number of labels.
    pub fn len(&self) -> usize {
        match self {
            Labels::Index(l) => l.len(),
            Labels::OneHot(t) => t.nrows(),
        }
    }

    /// No labels at all?
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<'a, A> From<&'a Labels<A>> for Targets<'a, A> {
    fn from(l: &'a Labels<A>) -> Self {
        match l {
            Labels::Index(v) => Targets::Labels(v),
            Labels::OneHot(t) => Targets::OneHot(t.view()),
        }
    }
}

impl<A: Scalar> Labels<A> {
    /// Class indices either way (argmax of one-hot rows).
    ///
    /// ```
    /// use ndarray::array;
    /// let l = scratchnet_mnist::Labels::OneHot(array![[0.0, 1.0], [1.0, 0.0]]);
    /// assert_eq!(l.to_indices(), vec![1, 0]);
    /// ```
    pub fn to_indices(&self) -> Vec<usize> {
        match self {
            Labels::Index(l) => l.clone(),
            Labels::OneHot(t) => argmax_rows(t),
        }
    }
}

/// Images and labels of one split, shaped by [`LoadOptions`].
#[derive(Clone, Debug, PartialEq)]
pub struct Split<A> {
    /// Shape (N, 784), or (N, 1, 28, 28) when not flattened.
    pub images: ArrayD<A>,
    /// Shape (N,) or (N, 10).
    pub labels: Labels<A>,
}

impl<A> Split<A> {
    /// Number of examples N.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// No examples at all?
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The images as (N, 784) rows whatever their shape, without copying.
    ///
    /// ```
    /// use ndarray::{Array2, ArrayD, IxDyn};
    /// use scratchnet_mnist::{Labels, Split};
    /// let s = Split::<f32> { images: ArrayD::zeros(IxDyn(&[2, 1, 28, 28])), labels: Labels::OneHot(Array2::zeros((2, 10))) };
    /// assert_eq!(s.flat_images().dim(), (2, 784));
    /// ```
    ///
    /// # Panics
    /// If the images are not in standard (row-major) layout, which the loader always produces.
    pub fn flat_images(&self) -> ArrayView2<'_, A> {
        let n = self.images.shape().first().copied().unwrap_or(0);
        let per: usize = self.images.shape().iter().skip(1).product();
        self.images
            .view()
            .into_shape_with_order((n, per))
            .expect("loader images are contiguous")
            .into_dimensionality::<Ix2>()
            .expect("two axes")
    }
}

/// The training and test splits: `(x_train, t_train), (x_test, t_test)` of the book.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset<A> {
    /// 60000 training examples.
    pub train: Split<A>,
    /// 10000 test examples.
    pub test: Split<A>,
}

/// One split exactly as in the files: 0–255 pixels and 0–9 labels.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawSplit {
    /// Shape (N, 784), row-major pixels, 0 = background.
    pub images: Array2<u8>,
    /// Shape (N,), digits 0–9.
    pub labels: Array1<u8>,
}

impl RawSplit {
    /// Number of examples N.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// No examples at all?
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The images as floats: `v / 255` in [0, 1] if `normalize`, else `v` in [0, 255].
    ///
    /// ```
    /// use ndarray::array;
    /// let s = scratchnet_mnist::RawSplit { images: array![[0, 51, 255]], labels: array![3] };
    /// assert_eq!(s.images_as::<f64>(true), array![[0.0, 0.2f32 as f64, 1.0]]); // float32 values, widened
    /// assert_eq!(s.images_as::<f32>(false), array![[0.0, 51.0, 255.0]]);
    /// ```
    pub fn images_as<A: Scalar>(&self, normalize: bool) -> Array2<A> {
        let table = pixel_table::<A>(normalize);
        self.images.mapv(|p| table[p as usize])
    }

    /// The labels as `usize` class indices.
    ///
    /// ```
    /// use ndarray::array;
    /// let s = scratchnet_mnist::RawSplit { images: array![[0], [0]], labels: array![3, 9] };
    /// assert_eq!(s.labels_usize(), vec![3, 9]);
    /// ```
    pub fn labels_usize(&self) -> Vec<usize> {
        self.labels.iter().map(|&l| l as usize).collect()
    }

    /// This split shaped by `opts`, as in the book's `load_mnist`.
    ///
    /// # Panics
    /// If the images are not 784 pixels wide when `opts.flatten` is false.
    ///
    /// ```
    /// use ndarray::{Array1, Array2};
    /// use scratchnet_mnist::{LoadOptions, RawSplit};
    /// let raw = RawSplit { images: Array2::from_elem((2, 784), 255), labels: Array1::from(vec![1, 2]) };
    /// let s = raw.to_split::<f32>(LoadOptions { flatten: false, one_hot_label: true, ..Default::default() });
    /// assert_eq!(s.images.shape(), &[2, 1, 28, 28]);
    /// assert_eq!(s.images[[1, 0, 27, 27]], 1.0);
    /// assert_eq!(s.labels.to_indices(), vec![1, 2]);
    /// ```
    pub fn to_split<A: Scalar>(&self, opts: LoadOptions) -> Split<A> {
        let flat = self.images_as::<A>(opts.normalize);
        let images = if opts.flatten {
            flat.into_dyn()
        } else {
            flat.into_shape_with_order((self.len(), 1, 28, 28))
                .expect("MNIST images have 784 pixels")
                .into_dyn()
        };
        let labels = if opts.one_hot_label {
            Labels::OneHot(one_hot(&self.labels_usize(), CLASSES))
        } else {
            Labels::Index(self.labels_usize())
        };
        Split { images, labels }
    }
}

/// Both splits exactly as in the files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawMnist {
    /// The training split.
    pub train: RawSplit,
    /// The test split.
    pub test: RawSplit,
}

impl RawMnist {
    /// Both splits shaped by `opts`.
    pub fn to_dataset<A: Scalar>(&self, opts: LoadOptions) -> Dataset<A> {
        Dataset {
            train: self.train.to_split(opts),
            test: self.test.to_split(opts),
        }
    }
}
