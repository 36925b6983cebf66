//! `load_mnist`'s three options and the mini-batch helpers on generated data.

mod common;

use common::{Style, fixture};
use ndarray::Axis;
use scratchnet_mnist::{EpochBatches, Labels, LoadOptions, load_mnist, random_batch};
use scratchnet_tensor::rng_from_seed;

fn dir_with(train: usize, test: usize) -> (tempfile::TempDir, common::Fixture) {
    let fx = fixture(train, test, 41);
    let dir = tempfile::tempdir().unwrap();
    fx.write(
        dir.path(),
        Style {
            gzip: true,
            dotted: false,
        },
    );
    (dir, fx)
}

#[test]
fn book_defaults_normalize_and_flatten_with_index_labels() {
    let (dir, fx) = dir_with(5, 3);
    let d = load_mnist::<f32>(dir.path(), LoadOptions::default()).unwrap();
    assert_eq!(d.train.images.shape(), &[5, 784]);
    assert_eq!(d.test.images.shape(), &[3, 784]);
    for (got, &px) in d.train.images.iter().zip(&fx.train_pixels) {
        assert_eq!(*got, px as f32 / 255.0); // numpy: x.astype(float32) / 255.0
    }
    assert_eq!(
        d.train.labels,
        Labels::Index(fx.train_labels.iter().map(|&l| l as usize).collect())
    );
}

#[test]
fn raw_values_unflattened_one_hot_in_f64() {
    let (dir, fx) = dir_with(4, 2);
    let opts = LoadOptions {
        normalize: false,
        flatten: false,
        one_hot_label: true,
    };
    let d = load_mnist::<f64>(dir.path(), opts).unwrap();
    assert_eq!(d.train.images.shape(), &[4, 1, 28, 28]);
    // Pixel (row 3, col 5) of image 2 is byte 2*784 + 3*28 + 5.
    assert_eq!(
        d.train.images[[2, 0, 3, 5]],
        fx.train_pixels[2 * 784 + 3 * 28 + 5] as f64
    );
    let Labels::OneHot(t) = &d.test.labels else {
        panic!("one-hot asked")
    };
    assert_eq!(t.dim(), (2, 10));
    for (row, &l) in t.axis_iter(Axis(0)).zip(&fx.test_labels) {
        assert_eq!(row.sum(), 1.0);
        assert_eq!(row[l as usize], 1.0);
    }
    assert_eq!(d.train.flat_images().dim(), (4, 784));
}

#[test]
fn batch_gathers_rows_and_labels_together() {
    let (dir, fx) = dir_with(8, 2);
    let d = load_mnist::<f32>(
        dir.path(),
        LoadOptions {
            one_hot_label: true,
            ..Default::default()
        },
    )
    .unwrap();
    let idx = [7, 0, 7];
    let b = d.train.batch(idx);
    assert_eq!(b.images.shape(), &[3, 784]);
    assert_eq!(
        b.labels.to_indices(),
        idx.iter()
            .map(|&i| fx.train_labels[i] as usize)
            .collect::<Vec<_>>()
    );
    for (k, &i) in idx.iter().enumerate() {
        assert_eq!(
            b.images.index_axis(Axis(0), k),
            d.train.images.index_axis(Axis(0), i)
        );
    }
}

#[test]
fn random_batch_is_seeded_and_in_range() {
    let a = random_batch(&mut rng_from_seed(5), 100, 1000);
    assert_eq!(a, random_batch(&mut rng_from_seed(5), 100, 1000));
    assert_ne!(a, random_batch(&mut rng_from_seed(6), 100, 1000));
    assert!(a.iter().all(|&i| i < 100));
    // With replacement: 1000 draws from 100 must repeat.
    let mut s = a.clone();
    s.sort();
    s.dedup();
    assert!(s.len() < a.len());
}

#[test]
fn epoch_covers_every_example_once() {
    let batches: Vec<Vec<usize>> = EpochBatches::new(&mut rng_from_seed(2), 103, 10).collect();
    assert_eq!(batches.len(), 11);
    assert_eq!(batches[10].len(), 3);
    let mut all = batches.concat();
    assert_ne!(all, (0..103).collect::<Vec<_>>(), "shuffled");
    all.sort();
    assert_eq!(all, (0..103).collect::<Vec<_>>());
    let e = EpochBatches::new(&mut rng_from_seed(2), 103, 10).drop_last();
    assert_eq!(e.len(), 10);
    assert!(e.clone().all(|b| b.len() == 10));
    // Same seed, same epoch.
    assert_eq!(e.collect::<Vec<_>>(), batches[..10].to_vec());
}

#[test]
fn empty_epoch() {
    assert_eq!(EpochBatches::new(&mut rng_from_seed(0), 0, 4).count(), 0);
}

#[test]
fn pixel_table_is_the_one_conversion_of_the_loader() {
    use scratchnet_mnist::{RawSplit, pixel_table};
    let raw = RawSplit {
        images: ndarray::Array2::from_shape_fn((1, 256), |(_, j)| j as u8),
        labels: ndarray::Array1::from(vec![0]),
    };
    for normalize in [true, false] {
        let t32 = pixel_table::<f32>(normalize);
        let t64 = pixel_table::<f64>(normalize);
        let x32 = raw.images_as::<f32>(normalize);
        let x64 = raw.images_as::<f64>(normalize);
        let scale = if normalize { 255.0 } else { 1.0 };
        for v in 0..256 {
            // f32: the f64 quotient rounded once, which is the correctly rounded f32 quotient.
            assert_eq!(t32[v].to_bits(), ((v as f64 / scale) as f32).to_bits());
            assert_eq!(t32[v].to_bits(), (v as f32 / scale as f32).to_bits());
            // f64: that f32 value widened, as NumPy's float32 images meet float64 weights
            assert_eq!(t64[v].to_bits(), f64::from(t32[v]).to_bits());
            assert_eq!(x32[[0, v]].to_bits(), t32[v].to_bits());
            assert_eq!(x64[[0, v]].to_bits(), t64[v].to_bits());
        }
    }
}

/// Every normalised pixel value against NumPy running the book's `load_mnist` conversion,
/// `x.astype(np.float32); x /= 255.0`, widened to float64 (`fixtures/pixels.py` wrote
/// `fixtures/pixels.txt`).
#[test]
fn f64_pixels_are_the_books_float32_values_widened() {
    let t64 = scratchnet_mnist::pixel_table::<f64>(true);
    let t32 = scratchnet_mnist::pixel_table::<f32>(true);
    let fixture = include_str!("fixtures/pixels.txt");
    let mut seen = 0;
    for line in fixture.lines() {
        let (v, want) = line.split_once(' ').unwrap();
        let (v, want): (usize, f64) = (v.parse().unwrap(), want.parse().unwrap());
        assert_eq!(t64[v].to_bits(), want.to_bits(), "byte {v}");
        assert_eq!(t32[v].to_bits(), (want as f32).to_bits(), "byte {v}");
        seen += 1;
    }
    assert_eq!(seen, 256);
    // not the f64 quotient (0.0039215688593… against 0.0039215686274…; up to 3e-8 apart)
    assert_ne!(t64[1], 1.0 / 255.0);
}
