//! The mnist crate on the real MNIST from `$MNIST_DIR` or `<workspace>/data/mnist`
//! ([`scratchnet_mnist::default_dir_in`]). These tests never skip: without the files they fail
//! and say how to get them (`cargo xtask test` fetches them first). They live here, not in
//! crates/mnist, so that `cargo test -p scratchnet-mnist` stays hermetic and offline.
//!
//! Golden numbers were computed independently of this crate, with Python's standard library
//! on the shared copies of the files:
//!
//! ```python
//! import gzip, collections
//! px = gzip.open("train-images-idx3-ubyte.gz").read()[16:]
//! sum(px)                                   # 1567298545   (t10k: 264923200)
//! lab = gzip.open("train-labels-idx1-ubyte.gz").read()[8:]
//! [collections.Counter(lab)[d] for d in range(10)]
//! ```

#[path = "../../crates/mnist/tests/common/http.rs"]
#[allow(dead_code)] // the loopback server of the mnist tests; only its 200 replies are used here
mod http;

use scratchnet_integration_tests::data_dir;
use std::collections::HashMap;

use ndarray::Axis;
use scratchnet_mnist::download::{FetchOptions, fetch};
use scratchnet_mnist::{
    CacheUse, Checksums, ImportOptions, Labels, LoadOptions, MnistFile, checksum, import_with,
    load_mnist, load_raw, load_raw_report,
};

fn histogram(labels: &[u8]) -> [usize; 10] {
    let mut h = [0; 10];
    for &l in labels {
        h[l as usize] += 1;
    }
    h
}

#[test]
fn files_have_the_published_checksums() {
    let dir = data_dir();
    for f in MnistFile::ALL {
        let p = f.find_in(&dir).unwrap();
        checksum::verify_file(&p, f.sha256(), &p.display().to_string()).unwrap();
    }
}

#[test]
fn counts_pixel_sums_and_label_histograms() {
    let raw = load_raw(data_dir()).unwrap();
    assert_eq!(raw.train.images.dim(), (60_000, 784));
    assert_eq!(raw.test.images.dim(), (10_000, 784));
    let sum = |a: &ndarray::Array2<u8>| a.iter().map(|&v| v as u64).sum::<u64>();
    assert_eq!(sum(&raw.train.images), 1_567_298_545);
    assert_eq!(sum(&raw.test.images), 264_923_200);
    assert_eq!(
        histogram(raw.train.labels.as_slice().unwrap()),
        [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    );
    assert_eq!(
        histogram(raw.test.labels.as_slice().unwrap()),
        [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    );
    assert_eq!(
        raw.train.labels.slice(ndarray::s![..5]).to_vec(),
        [5, 0, 4, 1, 9]
    );
    assert_eq!(
        raw.test.labels.slice(ndarray::s![..5]).to_vec(),
        [7, 2, 1, 0, 4]
    );
}

#[test]
fn normalization_range_and_one_hot() {
    let d = load_mnist::<f32>(
        data_dir(),
        LoadOptions {
            one_hot_label: true,
            ..Default::default()
        },
    )
    .unwrap();
    let x = &d.train.images;
    let (lo, hi) = x
        .iter()
        .fold((f32::MAX, f32::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    assert_eq!((lo, hi), (0.0, 1.0));
    // Mean pixel: 1567298545 / 255 / (60000 * 784). Each v/255 rounded to f32 is off by at
    // most 2^-24 relative, so the mean of the f32 values is within 2^-24 * 0.131 < 1e-8.
    let mean = x.iter().map(|&v| v as f64).sum::<f64>() / x.len() as f64;
    assert!(
        (mean - 1_567_298_545.0 / 255.0 / 47_040_000.0).abs() < 1e-8,
        "{mean}"
    );
    let Labels::OneHot(t) = &d.test.labels else {
        panic!("one-hot asked")
    };
    assert_eq!(t.dim(), (10_000, 10));
    assert_eq!(
        t.sum_axis(Axis(0)).to_vec(),
        [
            980., 1135., 1032., 1010., 982., 892., 958., 1028., 974., 1009.
        ]
    );

    let raw = load_mnist::<f64>(
        data_dir(),
        LoadOptions {
            normalize: false,
            flatten: false,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(raw.test.images.shape(), &[10_000, 1, 28, 28]);
    assert_eq!(raw.test.images.iter().cloned().fold(0.0, f64::max), 255.0);
    assert_eq!(raw.test.images.sum(), 264_923_200.0);
}

#[test]
fn cached_load_equals_a_fresh_parse() {
    let dir = data_dir();
    let (_, _) = load_raw_report(&dir).unwrap();
    let (cached, how) = load_raw_report(&dir).unwrap();
    // Another process may rewrite the cache between the two calls; either way the data agree.
    assert!(matches!(how, CacheUse::Hit | CacheUse::Rebuilt { .. }));
    assert_eq!(cached, scratchnet_mnist::load_raw_uncached(&dir).unwrap());
}

#[test]
fn real_files_download_from_a_loopback_mirror_and_verify() {
    let dir = data_dir();
    let routes = MnistFile::ALL
        .into_iter()
        .map(|f| {
            let p = f.find_in(&dir).unwrap();
            let bytes = std::fs::read(&p).unwrap();
            (f.remote_name(), http::Reply::Body(bytes))
        })
        .collect::<HashMap<_, _>>();
    let server = http::Server::start(routes);
    let dst = tempfile::tempdir().unwrap();
    let report = fetch(dst.path(), &FetchOptions::only([server.base.clone()])).unwrap();
    let lens: Vec<u64> = report.files.iter().map(|r| r.digest.len).collect();
    assert_eq!(lens, MnistFile::ALL.map(MnistFile::idx_len));
    assert_eq!(lens, [47_040_016, 60_008, 7_840_016, 10_008]);
    let raw = load_raw(dst.path()).unwrap();
    assert_eq!((raw.train.len(), raw.test.len()), (60_000, 10_000));
}

#[test]
fn real_folder_imports_with_the_published_checksums() {
    let dst = tempfile::tempdir().unwrap();
    let r = import_with(
        data_dir(),
        dst.path(),
        &ImportOptions {
            checksums: Checksums::mnist(),
            force: false,
        },
    )
    .unwrap();
    assert_eq!(r.copied(), 4);
    assert!(r.files.iter().all(|f| f.digest.sha256 == f.file.sha256()));
}
