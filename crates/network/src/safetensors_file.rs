//! Export to [safetensors](https://huggingface.co/docs/safetensors), the tensor file candle,
//! burn and PyTorch (`safetensors.torch.load_file`) read: an 8-byte little-endian header length,
//! a JSON header (each tensor's `dtype`, `shape` and `data_offsets`, and `__metadata__`), then
//! the raw little-endian values.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;

use ndarray::ArrayD;
use safetensors::tensor::{Dtype, View};
use scratchnet_tensor::Scalar;

use crate::{ModelError, Net};

/// One tensor as the `safetensors` crate takes it: its little-endian bytes.
struct Bytes {
    dtype: Dtype,
    shape: Vec<usize>,
    data: Vec<u8>,
}

impl View for &Bytes {
    fn dtype(&self) -> Dtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.data)
    }
    fn data_len(&self) -> usize {
        self.data.len()
    }
}

fn bytes_of<A: Scalar>(a: &ArrayD<A>) -> Bytes {
    let mut data = Vec::with_capacity(a.len() * std::mem::size_of::<A>());
    // row-major order, whatever the array's memory layout
    for v in a.iter() {
        if A::DTYPE == "f32" {
            data.extend_from_slice(&(v.as_f64() as f32).to_le_bytes());
        } else {
            data.extend_from_slice(&v.as_f64().to_le_bytes());
        }
    }
    Bytes {
        dtype: if A::DTYPE == "f32" {
            Dtype::F32
        } else {
            Dtype::F64
        },
        shape: a.shape().to_vec(),
        data,
    }
}

impl<A: Scalar> Net<A> {
    /// Writes [`params`](Net::params) and [`state`](Net::state) under the book's names, of the
    /// net's element type (`F32` or `F64`) and shapes (the same arrays as
    /// [`export_npz`](Net::export_npz)), as a safetensors file, atomically; a `path` that is a
    /// directory, device or FIFO is refused, a symbolic link followed. The header's
    /// `__metadata__` holds the layers (`"layers"`, as `NetSpec` text) and the input shape
    /// (`"input"`, e.g. `"1,28,28"`).
    ///
    /// ```
    /// use scratchnet_network::{Net, NetSpec};
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("model.safetensors");
    /// let net = Net::<f32>::new(NetSpec::two_layer_net(3, 2, 2, 0.1),
    ///     &mut scratchnet_tensor::rng_from_seed(0)).unwrap();
    /// net.export_safetensors(&path).unwrap();
    /// let bytes = std::fs::read(&path).unwrap();
    /// let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    /// let header = std::str::from_utf8(&bytes[8..8 + n]).unwrap();
    /// assert!(header.contains(r#""W1":{"dtype":"F32","shape":[3,2]"#), "{header}");
    /// ```
    ///
    /// # Errors
    /// [`ModelError::Io`] or [`ModelError::File`] if the file cannot be written.
    pub fn export_safetensors(&self, path: impl AsRef<Path>) -> Result<(), ModelError> {
        let path = path.as_ref();
        let tensors: Vec<(String, Bytes)> = self
            .params()
            .iter()
            .chain(self.state().iter())
            .map(|(n, a)| (n.to_string(), bytes_of(a)))
            .collect();
        let input: Vec<String> = self.spec().input.iter().map(usize::to_string).collect();
        let metadata = HashMap::from([
            ("layers".to_string(), self.spec().to_string()),
            ("input".to_string(), input.join(",")),
        ]);
        let bytes = safetensors::tensor::serialize(
            tensors.iter().map(|(n, b)| (n.as_str(), b)),
            Some(metadata),
        )
        .map_err(|e| ModelError::Npz {
            path: path.to_owned(),
            what: format!("safetensors: {e}"),
        })?;
        scratchnet_fileio::write_atomic(path, &bytes).map_err(ModelError::from)
    }
}
