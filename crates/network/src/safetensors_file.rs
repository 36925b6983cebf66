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

use crate::{ModelError, Net, NetSpec, Tensors};

/// The longest header an export of ours writes is a few KiB; this bounds what a crafted file can
/// make the reader allocate before its tensors are checked against its spec.
const MAX_HEADER: u64 = 1 << 20;

fn st_err(path: &Path, what: impl std::fmt::Display) -> ModelError {
    ModelError::Npz {
        path: path.to_owned(),
        what: format!("safetensors: {what}"),
    }
}

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
    /// `__metadata__` holds the layers (`"layers"`, as `NetSpec` text), the input shape
    /// (`"input"`, e.g. `"1,28,28"`) and the whole spec as JSON (`"spec"`), so that
    /// [`import_safetensors`](Net::import_safetensors) reads the net back.
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
            (
                "spec".to_string(),
                serde_json::to_string(self.spec()).expect("a spec serialises"),
            ),
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

    /// Reads a file written by [`export_safetensors`](Net::export_safetensors) back: the spec
    /// from the header's `__metadata__` (`"spec"`; files without it, from `"layers"` and
    /// `"input"` with the book's init and no weight decay), the tensors by name.
    ///
    /// ```
    /// use scratchnet_network::{Activation, Net, NetSpec, WeightInit};
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("model.safetensors");
    /// let spec = NetSpec::multi_layer_net_extend(6, &[4], 3, Activation::Relu, WeightInit::He,
    ///     0.1, Some(0.5), true);
    /// let net = Net::<f64>::new(spec, &mut scratchnet_tensor::rng_from_seed(0)).unwrap();
    /// net.export_safetensors(&path).unwrap();
    /// assert_eq!(Net::<f64>::import_safetensors(&path).unwrap(), net);
    /// let e = Net::<f32>::import_safetensors(&path).unwrap_err().to_string();
    /// assert!(e.contains("W1 is F64, f32 was asked for"), "{e}");
    /// ```
    ///
    /// # Errors
    /// [`ModelError::Npz`], one line naming the file and what is wrong (not safetensors, no
    /// spec, a tensor missing, of another dtype or shape, more bytes than the spec's tensors
    /// can need: refused before they are read); [`ModelError::Io`] or [`ModelError::File`] if
    /// the file cannot be read.
    pub fn import_safetensors(path: impl AsRef<Path>) -> Result<Self, ModelError> {
        use std::io::Read;
        let path = path.as_ref();
        let io = |source| ModelError::Io {
            path: path.to_owned(),
            source,
        };
        let mut file = scratchnet_fileio::open_regular(path)?;
        let len = file.metadata().map_err(io)?.len();
        let mut n = [0u8; 8];
        file.read_exact(&mut n)
            .map_err(|_| st_err(path, "shorter than a safetensors header"))?;
        let n = u64::from_le_bytes(n);
        if n > MAX_HEADER || 8 + n > len {
            return Err(st_err(
                path,
                format!("a header of {n} bytes in a file of {len} (not a safetensors export?)"),
            ));
        }
        let mut buffer = vec![0u8; 8 + n as usize];
        buffer[..8].copy_from_slice(&n.to_le_bytes());
        file.read_exact(&mut buffer[8..]).map_err(io)?;
        let header: serde_json::Value = serde_json::from_slice(&buffer[8..])
            .map_err(|e| st_err(path, format!("header: {e}")))?;
        let meta = |key: &str| header["__metadata__"][key].as_str().map(str::to_owned);
        let spec: NetSpec = match (meta("spec"), meta("layers")) {
            (Some(json), _) => {
                serde_json::from_str(&json).map_err(|e| st_err(path, format!("spec: {e}")))?
            }
            (None, Some(layers)) => {
                let mut spec: NetSpec = layers
                    .parse()
                    .map_err(|e| st_err(path, format!("layers: {e}")))?;
                if let Some(input) = meta("input") {
                    spec.input = input
                        .split(',')
                        .map(|d| d.trim().parse::<usize>())
                        .collect::<Result<_, _>>()
                        .map_err(|e| st_err(path, format!("input {input:?}: {e}")))?;
                }
                spec
            }
            (None, None) => {
                return Err(st_err(
                    path,
                    "no network spec in __metadata__ (not written by export_safetensors)",
                ));
            }
        };
        spec.validate().map_err(|e| st_err(path, e))?;
        // state tensors (running statistics) are never larger than the parameters, so the data
        // of a genuine export is at most twice theirs, in f64 at most (a file of another dtype
        // than `A` gets its own message below, naming the tensor)
        let most = 2 * spec.param_count() * 8;
        let data = u128::from(len - 8 - n);
        if data > most {
            return Err(st_err(
                path,
                format!("{data} bytes of tensors, more than its spec's tensors can need ({most})"),
            ));
        }
        let start = buffer.len();
        buffer.resize(start + (len - 8 - n) as usize, 0);
        file.read_exact(&mut buffer[start..]).map_err(io)?;
        let st = safetensors::SafeTensors::deserialize(&buffer).map_err(|e| st_err(path, e))?;
        let template = Net::<A>::new(spec.clone(), &mut scratchnet_tensor::rng_from_seed(0))?;
        let (params, state) = (template.params(), template.state());
        let known: Vec<&str> = params.names().chain(state.names()).collect();
        if let Some(extra) = st.names().into_iter().find(|n| !known.contains(n)) {
            return Err(st_err(
                path,
                format!("tensor {extra}: the network has no such tensor"),
            ));
        }
        let want = if A::DTYPE == "f32" {
            Dtype::F32
        } else {
            Dtype::F64
        };
        let read = |t: &Tensors<A>, required: bool| -> Result<Tensors<A>, ModelError> {
            let mut out = Vec::new();
            for (name, a) in t.iter() {
                let Ok(view) = st.tensor(name) else {
                    if required {
                        return Err(st_err(path, format!("tensor {name}: missing")));
                    }
                    continue;
                };
                if view.dtype() != want {
                    return Err(st_err(
                        path,
                        format!("{name} is {:?}, {} was asked for", view.dtype(), A::DTYPE),
                    ));
                }
                if view.shape() != a.shape() {
                    return Err(st_err(
                        path,
                        format!(
                            "tensor {name}: shape {:?}, the network needs {:?}",
                            view.shape(),
                            a.shape()
                        ),
                    ));
                }
                let values: Vec<A> = if A::DTYPE == "f32" {
                    view.data()
                        .chunks_exact(4)
                        .map(|b| {
                            A::of_f64(f64::from(f32::from_le_bytes(
                                b.try_into().expect("4 bytes"),
                            )))
                        })
                        .collect()
                } else {
                    view.data()
                        .chunks_exact(8)
                        .map(|b| A::of_f64(f64::from_le_bytes(b.try_into().expect("8 bytes"))))
                        .collect()
                };
                let array = ArrayD::from_shape_vec(a.raw_dim(), values)
                    .map_err(|e| st_err(path, format!("tensor {name}: {e}")))?;
                out.push((name.to_string(), array));
            }
            Ok(Tensors::from_pairs(out))
        };
        let loaded = read(&params, true)?;
        let running = read(&state, false)?;
        let mut net = Net::from_params(spec, &loaded)?;
        if !running.is_empty() {
            net.set_state(&running)?;
        }
        Ok(net)
    }
}

/// A format [`Net::export`] writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    /// NumPy's `.npz` (`np.savez`), the arrays under the book's names.
    Npz,
    /// safetensors (candle, burn, PyTorch's `safetensors.torch`): a JSON header, raw
    /// little-endian tensors.
    Safetensors,
}

impl ExportFormat {
    /// The format a file name's extension says (`.npz`, `.safetensors`, any case), if any.
    ///
    /// ```
    /// use scratchnet_network::ExportFormat;
    /// assert_eq!(ExportFormat::of_path("W.SafeTensors".as_ref()), Some(ExportFormat::Safetensors));
    /// assert_eq!(ExportFormat::of_path("model.bin".as_ref()), None);
    /// ```
    pub fn of_path(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_string_lossy().to_ascii_lowercase();
        match ext.as_str() {
            "npz" => Some(ExportFormat::Npz),
            "safetensors" => Some(ExportFormat::Safetensors),
            _ => None,
        }
    }
}

impl std::str::FromStr for ExportFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "npz" => Ok(ExportFormat::Npz),
            "safetensors" => Ok(ExportFormat::Safetensors),
            _ => Err(format!("`{s}` is not npz or safetensors")),
        }
    }
}

impl<A: Scalar + ndarray_npy::WritableElement + ndarray_npy::ReadableElement> Net<A> {
    /// Writes the parameters and the running statistics under the book's names in `format`
    /// ([`export_npz`](Self::export_npz) or [`export_safetensors`](Self::export_safetensors)),
    /// and returns them as `W1 (784, 50), b1 (50), …`.
    ///
    /// ```
    /// use scratchnet_network::{ExportFormat, Net, NetSpec};
    /// let dir = tempfile::tempdir().unwrap();
    /// let net = Net::<f32>::new(NetSpec::two_layer_net(3, 2, 2, 0.1), &mut scratchnet_tensor::rng_from_seed(0)).unwrap();
    /// let listed = net.export(dir.path().join("p.npz"), ExportFormat::Npz).unwrap();
    /// assert_eq!(listed, "W1 (3, 2), b1 (2), W2 (2, 2), b2 (2)");
    /// ```
    pub fn export(
        &self,
        path: impl AsRef<Path>,
        format: ExportFormat,
    ) -> Result<String, ModelError> {
        match format {
            ExportFormat::Npz => self.export_npz(path)?,
            ExportFormat::Safetensors => self.export_safetensors(path)?,
        }
        let (params, state) = (self.params(), self.state());
        let shape = |a: &ArrayD<A>| {
            a.shape()
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        let listed: Vec<String> = params
            .iter()
            .chain(state.iter())
            .map(|(n, a)| format!("{n} ({})", shape(a)))
            .collect();
        Ok(listed.join(", "))
    }
}
