//! 784-50-10, batch 100 on a real MNIST batch: fast and generic numerical gradients, backprop,
//! each in f64 and f32. `cargo bench -p scratchnet-network` (data from `MNIST_DIR` or
//! `data/mnist`; run `cargo xtask fetch-mnist` first). The generic strategy is measured per
//! parameter on W2 and b2 only (the whole gradient takes seconds), next to two forward passes.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use ndarray::Array2;
use scratchnet_network::{NumGrad, Param, TwoLayerNet, Workspace};
use scratchnet_tensor::{Scalar, SparseRows, choice_with_replacement, gather_rows, rng_from_seed};

fn data_dir() -> PathBuf {
    scratchnet_mnist::default_dir_in(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// A batch of 100 as a dense array, the batch's indices, and the whole training set stored
/// sparse once (the trainer's layout).
fn batch<A: Scalar>() -> (Array2<A>, Vec<usize>, Vec<usize>, SparseRows<A>) {
    let mnist = scratchnet_mnist::load_raw(data_dir())
        .expect("MNIST missing: run `cargo xtask fetch-mnist`");
    let mut rng = rng_from_seed(0);
    let idx = choice_with_replacement(&mut rng, mnist.train.len(), 100);
    let x = gather_rows(&mnist.train.images, &idx).mapv(|p| A::of_f64(p as f64 / 255.0));
    let labels = mnist.train.labels_usize();
    let train = SparseRows::from_dense(&mnist.train.images_as::<A>(true));
    (x, idx.iter().map(|&i| labels[i]).collect(), idx, train)
}

fn bench_dtype<A: Scalar>(c: &mut Criterion) {
    let (x, t, idx, train) = batch::<A>();
    let net = TwoLayerNet::<A>::new(784, 50, 10, 0.01, &mut rng_from_seed(1));
    let mut g = c.benchmark_group(format!("two_layer_{}", A::DTYPE));
    g.bench_function("backprop", |b| {
        b.iter(|| black_box(net.gradient_fused(&x, &t)))
    });
    // The trainer's path: the training set is sparse once, each step gathers its batch from it
    // into one buffer and computes the gradient into reused buffers, on a thread of rayon's pool.
    let mut xb = train.gather_rows(&idx);
    let mut ws = Workspace::new();
    g.bench_function("backprop_sparse_batch", |b| {
        rayon::scope(|_| {
            b.iter(|| {
                train.gather_rows_into(&idx, &mut xb);
                black_box(net.gradient_in(&xb, &t, &mut ws));
            })
        })
    });
    g.bench_function("forward_loss", |b| {
        b.iter(|| black_box(net.loss_fused(&x, &t)))
    });
    g.measurement_time(Duration::from_secs(10));
    g.bench_function("fast_numgrad", |b| {
        b.iter(|| black_box(net.numerical_gradient_with(&x, &t, NumGrad::Fast)))
    });
    // The generic strategy on the 500 parameters of W2: its per-parameter cost is the same for
    // every tensor (two full forward passes), and the whole 39,760 take seconds per sample.
    g.sample_size(10);
    g.bench_function("generic_numgrad_W2", |b| {
        b.iter(|| black_box(net.generic_numerical_gradient_of(&x, &t, Param::W2)))
    });
    g.finish();
}

fn benches(c: &mut Criterion) {
    bench_dtype::<f64>(c);
    bench_dtype::<f32>(c);
}

criterion_group!(gradients, benches);
criterion_main!(gradients);
