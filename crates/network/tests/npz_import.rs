//! `Net::import_npz` on archives NumPy wrote (`fixtures/npz/make_npz.py`, which documents every
//! array): the scores of the imported nets equal those NumPy computed from the book's layer
//! formulas (`fixtures/npz/expected.txt`), and each wrong archive is a one-line error naming the
//! file and the array.

use std::path::PathBuf;

use ndarray::{Array2, Array4};
use scratchnet_network::{Net, NetSpec, npz_dtype};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/npz")
        .join(name)
}

fn conv_spec() -> NetSpec {
    "conv 2x3x3 pad 1, relu, pool 2, affine 3"
        .parse::<NetSpec>()
        .unwrap()
        .with_input(&[1, 5, 5])
}

fn bn_spec() -> NetSpec {
    "affine 4, batchnorm, relu, affine 3"
        .parse::<NetSpec>()
        .unwrap()
        .with_input(&[5])
}

fn expected(key: &str) -> Vec<f64> {
    let text = include_str!("fixtures/npz/expected.txt");
    let line = text
        .lines()
        .find(|l| l.split_whitespace().next() == Some(key))
        .unwrap();
    line.split_whitespace()
        .skip(1)
        .map(|v| v.parse().unwrap())
        .collect()
}

/// The script's inputs: `x_conv = ((arange(50) * 7) % 11 - 5) / 5`, `x_bn = ((arange(10) * 3) % 7
/// - 3) / 2`.
fn x_conv() -> Array2<f64> {
    Array4::from_shape_fn((2, 1, 5, 5), |(n, _, i, j)| {
        let k = n * 25 + i * 5 + j;
        ((k * 7 % 11) as f64 - 5.0) / 5.0
    })
    .into_shape_with_order((2, 25))
    .unwrap()
}

fn x_bn() -> Array2<f64> {
    Array2::from_shape_fn((2, 5), |(n, j)| (((n * 5 + j) * 3 % 7) as f64 - 3.0) / 2.0)
}

fn assert_close(got: &Array2<f64>, want: &[f64], tol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}");
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() <= tol, "{what}: {got} vs {want:?}");
    }
}

#[test]
fn a_conv_net_numpy_wrote_predicts_what_numpy_computed() {
    let want = expected("conv");
    for file in ["conv.npz", "conv_compressed.npz"] {
        let path = fixture(file);
        assert_eq!(npz_dtype(&path).unwrap(), "f64");
        let net = Net::<f64>::import_npz(conv_spec(), &path).unwrap();
        // W1 = (arange(18) - 8) / 10, W2 (saved in Fortran order) = (arange(24) % 7 - 3) / 4
        assert_eq!(net.params()["W1"][[1, 0, 2, 2]], (17.0 - 8.0) / 10.0);
        assert_eq!(net.params()["W2"][[7, 1]], ((22 % 7) as f64 - 3.0) / 4.0);
        assert_close(&net.predict(&x_conv()), &want, 1e-12, file);
    }
    let path = fixture("conv_f32.npz");
    assert_eq!(npz_dtype(&path).unwrap(), "f32");
    let net = Net::<f32>::import_npz(conv_spec(), &path).unwrap();
    let scores = net.predict(&x_conv().mapv(|v| v as f32)).mapv(f64::from);
    assert_close(&scores, &want, 1e-5, "conv_f32.npz");
}

#[test]
fn a_batch_norm_net_reads_the_books_gamma_beta_and_running_statistics() {
    let net = Net::<f64>::import_npz(bn_spec(), fixture("bn.npz")).unwrap();
    let params = net.params();
    let names: Vec<&str> = params.names().collect();
    assert_eq!(names, ["W1", "b1", "gamma1", "beta1", "W2", "b2"]);
    assert_eq!(
        net.params()["gamma1"].as_slice().unwrap(),
        [1.0, 2.0, 0.5, 1.0]
    );
    assert_eq!(
        net.state()["running_var1"].as_slice().unwrap(),
        [1.0, 4.0, 0.25, 2.0]
    );
    assert_close(&net.predict(&x_bn()), &expected("bn"), 1e-12, "bn.npz");
}

#[test]
fn a_wrong_archive_is_one_line_naming_the_file_and_the_array() {
    for (file, ends) in [
        (
            "bad_name.npz",
            "bad_name.npz: array w2: the network has no such array (it has W1, b1, W2, b2)",
        ),
        (
            "bad_shape.npz",
            "bad_shape.npz: array W1: shape (2, 1, 5, 5), the network needs (2, 1, 3, 3)",
        ),
        (
            "bad_dtype.npz",
            "bad_dtype.npz: array b1: dtype float16 ('<f2'), expected float64 ('<f8') as the other arrays",
        ),
        (
            "extra.npz",
            "extra.npz: array W3: the network has no such array (it has W1, b1, W2, b2)",
        ),
        ("missing.npz", "missing.npz: array b2: missing"),
    ] {
        let e = Net::<f64>::import_npz(conv_spec(), fixture(file))
            .unwrap_err()
            .to_string();
        assert!(e.ends_with(ends), "{file}: {e}");
        assert!(e.contains(&fixture(file).display().to_string()), "{e}");
        assert_eq!(e.lines().count(), 1, "{e}");
    }
    // float64 arrays read as f32
    let e = Net::<f32>::import_npz(conv_spec(), fixture("conv.npz"))
        .unwrap_err()
        .to_string();
    assert!(
        e.ends_with("conv.npz: array W1: dtype float64 ('<f8'), expected float32 ('<f4') as the other arrays"),
        "{e}"
    );
    // not an archive at all
    let e = Net::<f64>::import_npz(conv_spec(), fixture("make_npz.py"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("make_npz.py: not a NumPy .npz archive"), "{e}");
}

/// `TwoLayerNet::import_npz` reads its sizes from the file: a header claiming a huge `W1` over a
/// few bytes of data is refused before anything of that size is allocated.
#[test]
fn a_two_layer_net_of_sizes_the_file_cannot_hold_is_refused() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.npz");
    let npy = |shape: &str| {
        let mut h = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}");
        while (10 + h.len() + 1) % 64 != 0 {
            h.push(' ');
        }
        h.push('\n');
        let mut b = b"\x93NUMPY\x01\x00".to_vec();
        b.extend((h.len() as u16).to_le_bytes());
        b.extend(h.as_bytes());
        b.extend([0u8; 16]);
        b
    };
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let opts =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, shape) in [
        ("W1", "(1000000000, 1000000000)"),
        ("b1", "(1000000000,)"),
        ("W2", "(1000000000, 10)"),
        ("b2", "(10,)"),
    ] {
        zip.start_file(format!("{name}.npy"), opts).unwrap();
        zip.write_all(&npy(shape)).unwrap();
    }
    zip.finish().unwrap();
    let e = scratchnet_network::TwoLayerNet::<f64>::import_npz(&path)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("huge.npz: array W1:") && e.contains("larger than the data the file holds"),
        "{e}"
    );
}
