//! First load (gunzip + IDX parse, no cache) against a cached load, on real MNIST from
//! `$MNIST_DIR` or `<workspace>/data/mnist` (`cargo xtask fetch-mnist` puts it there).
//!
//! `cargo bench -p scratchnet-mnist --bench load`

use std::path::{Path, PathBuf};

use criterion::{Criterion, criterion_group, criterion_main};
use scratchnet_mnist::{
    CacheUse, LoadOptions, load_mnist, load_raw_report, load_raw_uncached, missing_files,
};

fn data_dir() -> PathBuf {
    let dir = scratchnet_mnist::default_dir_in(Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."));
    assert!(
        missing_files(&dir).is_empty(),
        "real MNIST missing in {}: run `cargo xtask fetch-mnist`",
        dir.display()
    );
    dir
}

fn bench_load(c: &mut Criterion) {
    let dir = data_dir();
    let mut g = c.benchmark_group("mnist_load");
    g.sample_size(20);
    g.bench_function("first_load_gunzip_parse", |b| {
        b.iter(|| load_raw_uncached(&dir).unwrap())
    });
    // Make sure a valid cache exists, then time loads that use it.
    load_raw_report(&dir).unwrap();
    assert_eq!(
        load_raw_report(&dir).unwrap().1,
        CacheUse::Hit,
        "the cache should be valid now"
    );
    g.bench_function("cached_load", |b| {
        b.iter(|| {
            let (raw, how) = load_raw_report(&dir).unwrap();
            assert_eq!(how, CacheUse::Hit);
            raw
        })
    });
    let opts = LoadOptions {
        normalize: true,
        flatten: true,
        one_hot_label: true,
    };
    g.bench_function("load_mnist_f32_normalize_one_hot_cached", |b| {
        b.iter(|| load_mnist::<f32>(&dir, opts).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench_load);
criterion_main!(benches);
