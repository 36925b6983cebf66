//! NumPy `.npz` export and import of the parameters, under the book's names (`W1, b1, W2, b2,
//! …`, with batch norm `gamma1, beta1`). Import reads the archive with `zip` and each `.npy`
//! header itself, so that every read is bounded by the shape the network needs.

use std::io::{Cursor, Read};
use std::path::Path;

use ndarray::{ArrayD, IxDyn};
use ndarray_npy::{NpzWriter, ReadableElement, WritableElement};
use scratchnet_tensor::Scalar;

use crate::{Model, ModelError, Net, NetSpec, Tensors, TwoLayerNet};

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
    /// `np.savez`), the sizes read off `W1 (input, hidden)` and `W2 (hidden, output)`, through
    /// [`Net::import_npz`]: missing or extra arrays, another element type and shapes that do not
    /// fit are one-line errors naming the array; only a regular file of at most 4 GiB is read,
    /// and of each array only what its shape needs.
    pub fn import_npz(path: impl AsRef<Path>) -> Result<Self, ModelError> {
        let path = path.as_ref();
        let mut npz = NpzArchive::open(path)?;
        let mut matrix = |name: &str| -> Result<[usize; 2], ModelError> {
            if !npz.names().iter().any(|n| n == name) {
                return Err(npz_err(path, format!("array {name}: missing")));
            }
            match npz.header(name)?.shape[..] {
                [r, c] => Ok([r, c]),
                ref s => Err(npz.err(name, format!("shape {}, expected 2-D", py_shape(s)))),
            }
        };
        let ([input, hidden], [_, output]) = (matrix("W1")?, matrix("W2")?);
        // the sizes come from the file: the net they make must fit in what the file stores
        // (deflate expands at most ~1032×), before anything of that size is allocated
        let stored = npz.stored_bytes("W1")? + npz.stored_bytes("W2")?;
        let need = input
            .checked_mul(hidden)
            .zip(hidden.checked_mul(output))
            .and_then(|(a, b)| a.checked_add(b))
            .and_then(|n| n.checked_mul(std::mem::size_of::<A>()));
        if need.is_none_or(|n| n as u64 > stored.saturating_mul(1100)) {
            return Err(npz.err(
                "W1",
                format!(
                    "shapes ({input}, {hidden}) and W2 (…, {output}) are larger than the data the file holds"
                ),
            ));
        }
        let spec = NetSpec::two_layer_net(input, hidden, output, 0.01);
        match Net::<A>::import_npz(spec, path)?.into_kernel() {
            Model::TwoLayer(net) => Ok(net),
            _ => unreachable!("a two-layer spec builds the two-layer kernel"),
        }
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

/// The header of one `.npy` member: element type, memory order and shape.
#[derive(Debug)]
struct NpyHeader {
    /// NumPy's type string, `'<f8'`.
    descr: String,
    fortran_order: bool,
    shape: Vec<usize>,
}

/// Longest `.npy` header read (NumPy's own headers are under 200 bytes for these arrays).
const MAX_NPY_HEADER: usize = 1 << 16;

/// The value of `key` in NumPy's header dict, the text after `'key':`.
fn dict_value<'h>(header: &'h str, key: &str) -> Option<&'h str> {
    [format!("'{key}'"), format!("\"{key}\"")]
        .iter()
        .find_map(|k| header.find(k.as_str()).map(|at| &header[at + k.len()..]))
        .and_then(|rest| rest.trim_start().strip_prefix(':'))
        .map(str::trim_start)
}

/// Reads the magic, version and header dict of a `.npy`, leaving `r` at the data.
fn read_npy_header(r: &mut impl Read) -> Result<NpyHeader, String> {
    let short = |_| "not a .npy array (too short)".to_string();
    let mut pre = [0u8; 8];
    r.read_exact(&mut pre).map_err(short)?;
    if &pre[..6] != b"\x93NUMPY" {
        return Err("not a .npy array (bad magic bytes)".into());
    }
    let len = match pre[6] {
        1 => {
            let mut b = [0u8; 2];
            r.read_exact(&mut b).map_err(short)?;
            usize::from(u16::from_le_bytes(b))
        }
        2 | 3 => {
            let mut b = [0u8; 4];
            r.read_exact(&mut b).map_err(short)?;
            u32::from_le_bytes(b) as usize
        }
        v => return Err(format!(".npy format version {v} is not supported")),
    };
    if len > MAX_NPY_HEADER {
        return Err(format!("a .npy header of {len} bytes is too long"));
    }
    let mut text = vec![0u8; len];
    r.read_exact(&mut text).map_err(short)?;
    let text = String::from_utf8_lossy(&text);
    let bad = || format!("unreadable .npy header {:?}", text.trim());
    let descr = dict_value(&text, "descr").ok_or_else(bad)?;
    let quote = descr.chars().next().filter(|c| *c == '\'' || *c == '"');
    let descr = quote
        .and_then(|q| descr[1..].split(q).next())
        .ok_or_else(bad)?
        .to_string();
    let fortran_order = match dict_value(&text, "fortran_order") {
        Some(v) if v.starts_with("True") => true,
        Some(v) if v.starts_with("False") => false,
        _ => return Err(bad()),
    };
    let shape = dict_value(&text, "shape")
        .and_then(|v| v.strip_prefix('('))
        .and_then(|v| v.split(')').next())
        .ok_or_else(bad)?;
    let shape = shape
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| d.trim_end_matches('L').parse::<usize>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| bad())?;
    Ok(NpyHeader {
        descr,
        fortran_order,
        shape,
    })
}

/// `(16, 1, 3, 3)`, as NumPy prints a shape.
fn py_shape(shape: &[usize]) -> String {
    match shape {
        [d] => format!("({d},)"),
        _ => {
            let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
            format!("({})", dims.join(", "))
        }
    }
}

/// NumPy's name of a type string: `'<f8'` is `float64`.
fn py_dtype(descr: &str) -> String {
    let name = match descr.trim_start_matches(['<', '>', '=', '|']) {
        "f2" => "float16",
        "f4" => "float32",
        "f8" => "float64",
        "i1" => "int8",
        "i2" => "int16",
        "i4" => "int32",
        "i8" => "int64",
        "u1" => "uint8",
        "b1" => "bool",
        _ => return format!("'{descr}'"),
    };
    format!("{name} ('{descr}')")
}

/// `"f32"` or `"f64"` for a little- or big-endian float type string, with its endianness.
fn float_kind(descr: &str) -> Option<(&'static str, bool)> {
    let big = descr.starts_with('>');
    match descr.trim_start_matches(['<', '>', '=']) {
        "f4" => Some(("f32", big)),
        "f8" => Some(("f64", big)),
        _ => None,
    }
}

/// An open `.npz` archive: a regular file of at most [`MAX_NPZ`] bytes.
struct NpzArchive<'p> {
    path: &'p Path,
    zip: zip::ZipArchive<std::io::BufReader<std::fs::File>>,
}

impl<'p> NpzArchive<'p> {
    fn open(path: &'p Path) -> Result<Self, ModelError> {
        let file = scratchnet_fileio::open_regular(path)?;
        let len = file
            .metadata()
            .map_err(|source| ModelError::Io {
                path: path.to_owned(),
                source,
            })?
            .len();
        if len > MAX_NPZ {
            return Err(npz_err(
                path,
                format!("{len} bytes is larger than any .npz this reads ({MAX_NPZ})"),
            ));
        }
        let zip = zip::ZipArchive::new(std::io::BufReader::new(file))
            .map_err(|e| npz_err(path, format!("not a NumPy .npz archive ({e})")))?;
        Ok(NpzArchive { path, zip })
    }

    /// The arrays' names (members without `.npy`), in the archive's order.
    fn names(&self) -> Vec<String> {
        self.zip
            .file_names()
            .map(|n| n.strip_suffix(".npy").unwrap_or(n).to_string())
            .collect()
    }

    fn err(&self, name: &str, what: impl std::fmt::Display) -> ModelError {
        npz_err(self.path, format!("array {name}: {what}"))
    }

    /// The header of array `name`.
    fn header(&mut self, name: &str) -> Result<NpyHeader, ModelError> {
        let mut member = self
            .zip
            .by_name(&format!("{name}.npy"))
            .map_err(|e| npz_err(self.path, format!("array {name}: {e}")))?;
        read_npy_header(&mut member).map_err(|e| npz_err(self.path, format!("array {name}: {e}")))
    }

    /// The bytes array `name` takes in the archive (compressed).
    fn stored_bytes(&mut self, name: &str) -> Result<u64, ModelError> {
        let path = self.path;
        self.zip
            .by_name(&format!("{name}.npy"))
            .map(|m| m.compressed_size())
            .map_err(|e| npz_err(path, format!("array {name}: {e}")))
    }

    /// Array `name`, which must be of element type `A` and of shape `shape`; reads at most the
    /// bytes that shape needs.
    fn read<A: Scalar>(&mut self, name: &str, shape: &[usize]) -> Result<ArrayD<A>, ModelError> {
        let header = self.header(name)?;
        let Some((kind, big)) = float_kind(&header.descr).filter(|(k, _)| *k == A::DTYPE) else {
            let want = if A::DTYPE == "f32" { "<f4" } else { "<f8" };
            return Err(self.err(
                name,
                format!(
                    "dtype {}, expected {} as the other arrays",
                    py_dtype(&header.descr),
                    py_dtype(want)
                ),
            ));
        };
        if header.shape != shape {
            return Err(self.err(
                name,
                format!(
                    "shape {}, the network needs {}",
                    py_shape(&header.shape),
                    py_shape(shape)
                ),
            ));
        }
        let size = if kind == "f32" { 4 } else { 8 };
        let want = shape.iter().product::<usize>() * size;
        let path = self.path;
        let mut member = self
            .zip
            .by_name(&format!("{name}.npy"))
            .map_err(|e| npz_err(path, format!("array {name}: {e}")))?;
        read_npy_header(&mut member).map_err(|e| npz_err(path, format!("array {name}: {e}")))?;
        let mut data = Vec::with_capacity(want);
        (&mut member)
            .take(want as u64 + 1)
            .read_to_end(&mut data)
            .map_err(|e| npz_err(path, format!("array {name}: {e}")))?;
        if data.len() != want {
            return Err(npz_err(
                path,
                format!(
                    "array {name}: {} bytes of data, its shape {} needs {want}",
                    data.len(),
                    py_shape(shape)
                ),
            ));
        }
        let values: Vec<A> = if size == 4 {
            data.chunks_exact(4)
                .map(|b| {
                    let b = [b[0], b[1], b[2], b[3]];
                    A::of_f64(f64::from(if big {
                        f32::from_be_bytes(b)
                    } else {
                        f32::from_le_bytes(b)
                    }))
                })
                .collect()
        } else {
            data.chunks_exact(8)
                .map(|b| {
                    let b: [u8; 8] = b.try_into().expect("chunks of 8");
                    A::of_f64(if big {
                        f64::from_be_bytes(b)
                    } else {
                        f64::from_le_bytes(b)
                    })
                })
                .collect()
        };
        let array = if header.fortran_order {
            // column-major: the reversed shape in row-major order, transposed
            let rev: Vec<usize> = shape.iter().rev().copied().collect();
            ArrayD::from_shape_vec(IxDyn(&rev), values)
                .expect("the length was checked")
                .reversed_axes()
                .as_standard_layout()
                .into_owned()
        } else {
            ArrayD::from_shape_vec(IxDyn(shape), values).expect("the length was checked")
        };
        Ok(array)
    }
}

/// The element type of the arrays in a NumPy `.npz`, that of its `W1`: `"f32"` (`float32`) or
/// `"f64"` (`float64`). Only a regular file of at most 4 GiB is opened, and only `W1`'s header
/// read.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("params.npz");
/// let net = scratchnet_network::Net::<f32>::new(
///     scratchnet_network::NetSpec::two_layer_net(3, 2, 2, 0.1),
///     &mut scratchnet_tensor::rng_from_seed(0),
/// ).unwrap();
/// net.export_npz(&path).unwrap();
/// assert_eq!(scratchnet_network::npz_dtype(&path).unwrap(), "f32");
/// ```
///
/// # Errors
/// [`ModelError::Npz`] naming the file (and `W1`) if it is not an `.npz`, has no `W1`, or `W1`
/// is not `float32` or `float64`; [`ModelError::Io`] or [`ModelError::File`] if it cannot be read.
pub fn npz_dtype(path: impl AsRef<Path>) -> Result<&'static str, ModelError> {
    let path = path.as_ref();
    let mut npz = NpzArchive::open(path)?;
    if !npz.names().iter().any(|n| n == "W1") {
        return Err(npz_err(path, "no array W1"));
    }
    let header = npz.header("W1")?;
    float_kind(&header.descr).map(|(k, _)| k).ok_or_else(|| {
        npz.err(
            "W1",
            format!(
                "dtype {}, expected float32 or float64",
                py_dtype(&header.descr)
            ),
        )
    })
}

impl<A: Scalar> Net<A> {
    /// A net of `spec` with the parameters of a NumPy `.npz` under the book's names and shapes:
    /// what the book's `load_params` reads from its pickles, and what
    /// [`export_npz`](Net::export_npz) writes. Every parameter of [`params`](Net::params)
    /// (`W1, b1, …`, with batch norm `gamma1, beta1`) must be there, of element type `A`
    /// (`float32` for `f32`, `float64` for `f64`; either byte order, C or Fortran order, `np.savez`
    /// or `np.savez_compressed`) and of the spec's shape: `W` of a convolution
    /// `(filters, channels, height, width)`, of an affine layer `(inputs, outputs)`. The running
    /// statistics of batch norm (`running_mean1, running_var1, …`) are read if present (all of
    /// them), else they are the book's initial zeros. Another array is an error. Reads only a
    /// regular file of at most 4 GiB, and of each array only the bytes its shape needs.
    ///
    /// ```
    /// use scratchnet_network::{Net, NetSpec};
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("params.npz");
    /// let spec = NetSpec::two_layer_net(3, 2, 2, 0.1);
    /// let net = Net::<f64>::new(spec.clone(), &mut scratchnet_tensor::rng_from_seed(0)).unwrap();
    /// net.export_npz(&path).unwrap();
    /// assert_eq!(Net::<f64>::import_npz(spec, &path).unwrap(), net);
    /// let wrong = NetSpec::two_layer_net(3, 4, 2, 0.1);
    /// let e = Net::<f64>::import_npz(wrong, &path).unwrap_err().to_string();
    /// assert!(e.ends_with("params.npz: array W1: shape (3, 2), the network needs (3, 4)"), "{e}");
    /// ```
    ///
    /// # Errors
    /// [`ModelError::Npz`], one line naming the file and the array, for a missing, extra,
    /// misshapen or mistyped array or a damaged archive; [`ModelError::Spec`] for a spec that
    /// cannot be built; [`ModelError::Io`] or [`ModelError::File`] if the file cannot be read.
    pub fn import_npz(spec: NetSpec, path: impl AsRef<Path>) -> Result<Self, ModelError> {
        let path = path.as_ref();
        let template = Net::<A>::new(spec.clone(), &mut scratchnet_tensor::rng_from_seed(0))?;
        let (params, state) = (template.params(), template.state());
        let mut npz = NpzArchive::open(path)?;
        let names = npz.names();
        let known: Vec<&str> = params.names().chain(state.names()).collect();
        if let Some(extra) = names.iter().find(|n| !known.contains(&n.as_str())) {
            return Err(npz_err(
                path,
                format!(
                    "array {extra}: the network has no such array (it has {})",
                    params.names().collect::<Vec<_>>().join(", ")
                ),
            ));
        }
        let mut read = |t: &Tensors<A>, required: bool| -> Result<Tensors<A>, ModelError> {
            let mut out = Vec::new();
            for (name, a) in t.iter() {
                if !names.iter().any(|n| n == name) {
                    if required {
                        return Err(npz_err(path, format!("array {name}: missing")));
                    }
                    continue;
                }
                out.push((name.to_string(), npz.read::<A>(name, a.shape())?));
            }
            Ok(Tensors::from_pairs(out))
        };
        let loaded = read(&params, true)?;
        let running = read(&state, false)?;
        let mut net = Net::from_params(spec, &loaded)?;
        if !running.is_empty() {
            if running.len() != state.len() {
                let missing = state.names().find(|n| running.get(n).is_none());
                return Err(npz_err(
                    path,
                    format!(
                        "array {}: missing (the running statistics are all there or none)",
                        missing.unwrap_or("?")
                    ),
                ));
            }
            net.set_state(&running)?;
        }
        Ok(net)
    }
}
