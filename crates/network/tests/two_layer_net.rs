//! §4.5.1: TwoLayerNet's methods, the book's (its fast paths are crate-private; their tests
//! against these are in `src/fused/tests.rs`), a `Net` of the chapter 4 spec as the same net,
//! files.

use ndarray::Array2;
use scratchnet_network::{ModelError, Net, NetSpec, Tensors, TwoLayerNet};
use scratchnet_tensor::{Rng, rng_from_seed};

/// A batch like MNIST's: many exact zeros, repeated pixel values.
fn batch(rng: &mut Rng, n: usize, input: usize, classes: usize) -> (Array2<f64>, Vec<usize>) {
    use rand::RngExt;
    let x = Array2::from_shape_simple_fn((n, input), || {
        if rng.random_range(0..3) == 0 {
            0.0
        } else {
            rng.random_range(0..8) as f64 / 7.0
        }
    });
    let t = (0..n).map(|_| rng.random_range(0..classes)).collect();
    (x, t)
}

#[test]
fn sgd_on_backprop_fits_a_small_batch() {
    let mut rng = rng_from_seed(4);
    let mut net = TwoLayerNet::<f64>::new(8, 10, 3, 0.5, &mut rng);
    let (x, t) = batch(&mut rng, 12, 8, 3);
    let start = net.loss(&x, &t);
    for _ in 0..2000 {
        let g = net.gradient(&x, &t);
        net.sgd_step(&g, 0.5);
    }
    assert!(net.loss(&x, &t) < start / 4.0);
    assert_eq!(net.accuracy(&x, &t), 1.0);
}

fn saved(dir: &std::path::Path) -> (std::path::PathBuf, TwoLayerNet<f64>) {
    let net = TwoLayerNet::<f64>::new(7, 5, 3, 0.1, &mut rng_from_seed(12));
    let path = dir.join("model.bin");
    net.save(&path).unwrap();
    (path, net)
}

#[test]
fn save_load_roundtrip_is_exact() {
    let dir = tempfile::tempdir().unwrap();
    let (path, net) = saved(dir.path());
    assert_eq!(TwoLayerNet::<f64>::load(&path).unwrap(), net);
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["model.bin"], "no temporary file left behind");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o644, "an ordinary, readable file");
    }
}

#[test]
fn every_corrupt_model_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = saved(dir.path());
    let good = std::fs::read(&path).unwrap();
    let bad = dir.path().join("bad.bin");
    let load = |bytes: &[u8]| {
        std::fs::write(&bad, bytes).unwrap();
        TwoLayerNet::<f64>::load(&bad).unwrap_err()
    };
    // truncated at many points
    for cut in [0, 5, 8, 12, 40, good.len() / 2, good.len() - 1] {
        let e = load(&good[..cut]);
        assert!(
            matches!(e, ModelError::NotAModel { .. } | ModelError::Corrupt { .. }),
            "cut {cut}: {e}"
        );
        assert!(e.to_string().contains("bad.bin"), "{e}");
    }
    // one flipped bit anywhere after the magic
    for pos in [9, 20, good.len() / 2, good.len() - 3] {
        let mut b = good.clone();
        b[pos] ^= 0x10;
        let e = load(&b);
        assert!(
            matches!(e, ModelError::Corrupt { .. } | ModelError::Version { .. }),
            "pos {pos}: {e}"
        );
    }
    // foreign file
    assert!(matches!(
        load(b"PK\x03\x04 this is a zip, not a model"),
        ModelError::NotAModel { .. }
    ));
    // other version (checksum is checked after the version)
    let mut b = good.clone();
    b[8] = 99;
    let e = load(&b);
    assert!(
        matches!(
            e,
            ModelError::Version {
                found: 99,
                expected: 1,
                ..
            }
        ),
        "{e}"
    );
    // other dtype
    let e = TwoLayerNet::<f32>::load(&path).unwrap_err();
    assert!(matches!(e, ModelError::Dtype { .. }), "{e}");
    assert!(e.to_string().contains("f64"), "{e}");
    // missing file
    assert!(matches!(
        TwoLayerNet::<f64>::load(&dir.path().join("none.bin")).unwrap_err(),
        ModelError::Io { .. }
    ));
}

#[test]
fn npz_roundtrip_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let net = TwoLayerNet::<f64>::new(7, 5, 3, 0.1, &mut rng_from_seed(12));
    let path = dir.path().join("p.npz");
    net.export_npz(&path).unwrap();
    assert_eq!(TwoLayerNet::<f64>::import_npz(&path).unwrap(), net);
    // wrong dtype and garbage are errors naming the file
    let e = TwoLayerNet::<f32>::import_npz(&path).unwrap_err();
    assert!(e.to_string().contains("p.npz"), "{e}");
    std::fs::write(&path, b"garbage").unwrap();
    assert!(TwoLayerNet::<f64>::import_npz(&path).is_err());
}

/// `Net::new` of the chapter 4 spec draws the book's class's weights from the same RNG, and then
/// the RNG is where the class leaves it: a notebook or test can swap one for the other.
#[test]
fn a_net_of_the_chapter_4_spec_draws_the_book_classes_weights() {
    for seed in [0, 7] {
        let (mut a, mut b) = (rng_from_seed(seed), rng_from_seed(seed));
        let book = TwoLayerNet::<f64>::new(12, 5, 3, 0.1, &mut a);
        let net = Net::<f64>::new(NetSpec::two_layer_net(12, 5, 3, 0.1), &mut b).unwrap();
        assert_eq!(net.params(), Tensors::from_views(book.params.named()));
        let (x, t) = batch(&mut a, 4, 12, 3);
        assert_eq!(
            batch(&mut b, 4, 12, 3),
            (x, t),
            "the RNG streams go on alike"
        );
    }
}
