//! [`Tensors`]: the one parameter protocol. An ordered list of named tensors under the book's
//! names (`W1, b1, gamma1, beta1, W2, …`, and `running_mean1, running_var1, …` for state),
//! indexable by name and iterable as pairs. Gradients, parameters, model files, npz export and
//! gradient checks all speak it.

use std::ops::Index;

use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD};
use scratchnet_tensor::Scalar;
use serde::{Deserialize, Serialize};

/// Named tensors in the book's order.
///
/// ```
/// use ndarray::{arr1, ArrayD};
/// use scratchnet_network::Tensors;
/// let t = Tensors::from_pairs([("W1", arr1(&[1.0, 2.0]).into_dyn()), ("b1", arr1(&[0.5]).into_dyn())]);
/// assert_eq!(t["b1"][[0]], 0.5);
/// assert_eq!(t.names().collect::<Vec<_>>(), ["W1", "b1"]);
/// assert_eq!(t.len(), 2);
/// assert!(t.get("W9").is_none());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(bound = "A: Scalar")]
pub struct Tensors<A> {
    pairs: Vec<(String, ArrayD<A>)>,
}

impl<A: Scalar> Tensors<A> {
    /// From `(name, tensor)` pairs, in order.
    pub fn from_pairs<S: Into<String>>(pairs: impl IntoIterator<Item = (S, ArrayD<A>)>) -> Self {
        Tensors {
            pairs: pairs.into_iter().map(|(n, a)| (n.into(), a)).collect(),
        }
    }

    /// Owned copies of named views.
    pub fn from_views<'a, S: Into<String>>(
        views: impl IntoIterator<Item = (S, ArrayViewD<'a, A>)>,
    ) -> Self {
        Self::from_pairs(views.into_iter().map(|(n, a)| (n, a.to_owned())))
    }

    /// The tensor called `name`.
    pub fn get(&self, name: &str) -> Option<&ArrayD<A>> {
        self.pairs.iter().find(|(n, _)| n == name).map(|(_, a)| a)
    }

    /// The names, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.pairs.iter().map(|(n, _)| n.as_str())
    }

    /// `(name, tensor)` pairs, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ArrayD<A>)> {
        self.pairs.iter().map(|(n, a)| (n.as_str(), a))
    }

    /// Views of the tensors, in order: the gradients an [`Optimizer`](crate::optimizer::Optimizer)
    /// takes.
    pub fn views(&self) -> Vec<ArrayViewD<'_, A>> {
        self.pairs.iter().map(|(_, a)| a.view()).collect()
    }

    /// Mutable views of the tensors, in order: the parameters an optimizer moves.
    pub fn views_mut(&mut self) -> Vec<ArrayViewMutD<'_, A>> {
        self.pairs.iter_mut().map(|(_, a)| a.view_mut()).collect()
    }

    /// The number of tensors.
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// True with no tensors.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// The largest absolute entry over every tensor (the max-norm).
    ///
    /// ```
    /// let t = scratchnet_network::Tensors::from_pairs([("b1", ndarray::arr1(&[1.0, -3.0]).into_dyn())]);
    /// assert_eq!(t.max_abs(), 3.0);
    /// ```
    pub fn max_abs(&self) -> A {
        self.pairs
            .iter()
            .flat_map(|(_, a)| a.iter())
            .fold(A::zero(), |m, v| m.max(v.abs()))
    }

    /// True when every entry is finite.
    pub fn all_finite(&self) -> bool {
        self.pairs
            .iter()
            .all(|(_, a)| a.iter().all(|v| v.is_finite()))
    }
}

impl<A: Scalar> Index<&str> for Tensors<A> {
    type Output = ArrayD<A>;

    /// # Panics
    /// If there is no tensor of that name.
    fn index(&self, name: &str) -> &ArrayD<A> {
        self.get(name)
            .unwrap_or_else(|| panic!("no tensor named {name:?}"))
    }
}

impl<A> IntoIterator for Tensors<A> {
    type Item = (String, ArrayD<A>);
    type IntoIter = std::vec::IntoIter<(String, ArrayD<A>)>;
    fn into_iter(self) -> Self::IntoIter {
        self.pairs.into_iter()
    }
}
