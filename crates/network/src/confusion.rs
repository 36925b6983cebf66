//! What a classifier gets wrong: the confusion matrix of true against predicted classes, and
//! the misclassified samples (the book's `ch08/misclassified_mnist.py`).

use std::fmt;

/// Counts of (true class, predicted class) pairs.
///
/// ```
/// use scratchnet_network::Confusion;
/// let c = Confusion::new(3, &[0, 1, 2, 2], &[0, 2, 2, 2]);
/// assert_eq!(c.counts()[2][2], 2);
/// assert_eq!(c.counts()[1][2], 1);
/// assert_eq!(c.accuracy(), 0.75);
/// assert_eq!(c.to_csv().lines().nth(2), Some("1,0,0,1"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Confusion {
    counts: Vec<Vec<u64>>,
}

impl Confusion {
    /// The `classes × classes` matrix of `labels[i]` (row) against `predicted[i]` (column).
    ///
    /// # Panics
    /// If the slices differ in length or a class is `>= classes`.
    pub fn new(classes: usize, labels: &[usize], predicted: &[usize]) -> Self {
        assert_eq!(labels.len(), predicted.len(), "one prediction per label");
        let mut counts = vec![vec![0u64; classes]; classes];
        for (&t, &y) in labels.iter().zip(predicted) {
            assert!(t < classes && y < classes, "class {t} or {y} >= {classes}");
            counts[t][y] += 1;
        }
        Confusion { counts }
    }

    /// `counts()[label][predicted]`.
    pub fn counts(&self) -> &[Vec<u64>] {
        &self.counts
    }

    /// The share of samples on the diagonal (0 with none).
    pub fn accuracy(&self) -> f64 {
        let total: u64 = self.counts.iter().flatten().sum();
        let right: u64 = (0..self.counts.len()).map(|k| self.counts[k][k]).sum();
        if total == 0 {
            0.0
        } else {
            right as f64 / total as f64
        }
    }

    /// The matrix as CSV: a header `label\predicted,0,1,…`, then one row per true class.
    pub fn to_csv(&self) -> String {
        let n = self.counts.len();
        let mut out = String::from("label\\predicted");
        for k in 0..n {
            out.push_str(&format!(",{k}"));
        }
        out.push('\n');
        for (k, row) in self.counts.iter().enumerate() {
            out.push_str(&k.to_string());
            for c in row {
                out.push_str(&format!(",{c}"));
            }
            out.push('\n');
        }
        out
    }
}

impl fmt::Display for Confusion {
    /// A table: rows the true labels, columns the predictions, right-aligned counts.
    ///
    /// ```
    /// let c = scratchnet_network::Confusion::new(2, &[0, 1, 1], &[0, 0, 1]);
    /// assert_eq!(c.to_string(), "label \\ predicted     0     1\n                0     1     0\n                1     1     1\n");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "label \\ predicted")?;
        for k in 0..self.counts.len() {
            write!(f, " {k:>5}")?;
        }
        writeln!(f)?;
        for (k, row) in self.counts.iter().enumerate() {
            write!(f, "{k:>17}")?;
            for c in row {
                write!(f, " {c:>5}")?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

/// The indices `i` where `predicted[i] != labels[i]`, in order (the book's
/// `misclassified_mnist.py` shows the first 20).
///
/// ```
/// assert_eq!(scratchnet_network::misclassified(&[1, 2, 3, 4], &[1, 0, 3, 0]), [1, 3]);
/// ```
pub fn misclassified(labels: &[usize], predicted: &[usize]) -> Vec<usize> {
    labels
        .iter()
        .zip(predicted)
        .enumerate()
        .filter(|(_, (t, y))| t != y)
        .map(|(i, _)| i)
        .collect()
}
