//! NumPy `.npz` export and import of the parameters, under the book's names W1, b1, W2, b2.

use std::io::Cursor;
use std::path::Path;

use ndarray::{Array1, Array2};
use ndarray_npy::{NpzReader, NpzWriter, ReadableElement, WritableElement};
use scratchnet_tensor::Scalar;

use crate::{Model, ModelError, Params, TwoLayerNet};

/// Larger `.npz` files are refused while reading.
const MAX_NPZ: u64 = 1 << 32;

fn npz_err(path: &Path, what: impl std::fmt::Display) -> ModelError {
    ModelError::Npz {
        path: path.to_owned(),
        what: what.to_string(),
    }
}

/// Writes `arrays` under their names as one `.npz`, atomically.
fn write_npz<'a, A: Scalar + WritableElement + 'a>(
    path: &Path,
    arrays: impl IntoIterator<Item = (String, ndarray::ArrayViewD<'a, A>)>,
) -> Result<(), ModelError> {
    let mut buf = Vec::new();
    {
        let mut w = NpzWriter::new(Cursor::new(&mut buf));
        for (name, a) in arrays {
            w.add_array(name.as_str(), &a)
                .map_err(|e| npz_err(path, e))?;
        }
        w.finish().map_err(|e| npz_err(path, e))?;
    }
    scratchnet_fileio::write_atomic(path, &buf).map_err(ModelError::from)
}

impl<A: Scalar + WritableElement> Model<A> {
    /// Writes every tensor under its book name (`W1, b1, W2, b2, W3, …`, as
    /// [`named_tensors`](Model::named_tensors), and with batch norm also `running_mean1`,
    /// `running_var1`, …, which prediction needs) as a NumPy `.npz`, atomically; a `path` that is
    /// a directory, device or FIFO is refused, a symbolic link followed.
    pub fn export_npz(&self, path: impl AsRef<Path>) -> Result<(), ModelError> {
        let mut arrays = self.named_tensors();
        if let Model::MultiLayer(net) = self {
            // what prediction needs besides the trained tensors
            for (i, bn) in net.batch_norm.iter().enumerate() {
                arrays.push((
                    format!("running_mean{}", i + 1),
                    bn.running_mean.view().into_dyn(),
                ));
                arrays.push((
                    format!("running_var{}", i + 1),
                    bn.running_var.view().into_dyn(),
                ));
            }
        }
        write_npz(path.as_ref(), arrays)
    }
}

impl<A: Scalar + WritableElement + ReadableElement> TwoLayerNet<A> {
    /// Writes W1, b1, W2, b2 as a NumPy `.npz` (`np.load(path)["W1"]` has shape `(input, hidden)`),
    /// atomically like [`save`](Self::save) (a `path` that is a directory, device or FIFO is
    /// refused, a symbolic link followed).
    ///
    /// ```
    /// use scratchnet_network::TwoLayerNet;
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("params.npz");
    /// let net = TwoLayerNet::<f32>::new(3, 2, 2, 0.1, &mut scratchnet_tensor::rng_from_seed(0));
    /// net.export_npz(&path).unwrap();
    /// assert_eq!(TwoLayerNet::<f32>::import_npz(&path).unwrap(), net);
    /// ```
    pub fn export_npz(&self, path: impl AsRef<Path>) -> Result<(), ModelError> {
        write_npz(
            path.as_ref(),
            self.params.named().map(|(n, a)| (n.to_string(), a)),
        )
    }

    /// Reads W1, b1, W2, b2 from a `.npz` (for example one saved by the book's Python code with
    /// `np.savez`). Missing arrays, another element type and shapes that do not fit are errors.
    /// Only a regular file of at most 4 GiB is read.
    pub fn import_npz(path: impl AsRef<Path>) -> Result<Self, ModelError> {
        let path = path.as_ref();
        let bytes = scratchnet_fileio::read_limited(path, MAX_NPZ)?;
        let mut r = NpzReader::new(Cursor::new(bytes)).map_err(|e| npz_err(path, e))?;
        let w1: Array2<A> = r
            .by_name("W1")
            .map_err(|e| npz_err(path, format!("W1: {e}")))?;
        let b1: Array1<A> = r
            .by_name("b1")
            .map_err(|e| npz_err(path, format!("b1: {e}")))?;
        let w2: Array2<A> = r
            .by_name("W2")
            .map_err(|e| npz_err(path, format!("W2: {e}")))?;
        let b2: Array1<A> = r
            .by_name("b2")
            .map_err(|e| npz_err(path, format!("b2: {e}")))?;
        let (h, o) = (w1.ncols(), w2.ncols());
        if b1.len() != h || w2.nrows() != h || b2.len() != o {
            return Err(npz_err(
                path,
                "shapes of W1, b1, W2, b2 do not fit together",
            ));
        }
        Ok(Self {
            params: Params { w1, b1, w2, b2 },
        })
    }
}

#[cfg(test)]
mod doc_tests {
    #[test]
    fn npz_export_holds_the_book_names() {
        use crate::{Activation, Model, MultiLayerNet, WeightInit};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("params.npz");
        let net = MultiLayerNet::<f64>::new(
            3,
            &[2, 2],
            2,
            Activation::Relu,
            WeightInit::He,
            &mut scratchnet_tensor::rng_from_seed(0),
        );
        Model::MultiLayer(net.clone()).export_npz(&path).unwrap();
        let mut r = ndarray_npy::NpzReader::new(std::fs::File::open(&path).unwrap()).unwrap();
        let w3: ndarray::Array2<f64> = r.by_name("W3").unwrap();
        assert_eq!(w3, net.params[2].w);
    }
}
