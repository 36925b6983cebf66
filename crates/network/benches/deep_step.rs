//! The chapter 6 deep net of issue 17 (784-100-100-10 ReLU, He init, Adam lr 0.001, batch 100)
//! as `scratchnet train` runs it, f32 and f64: one training `step` (the gradient of the next
//! batch beside the loss after this one, then Adam) and one evaluation (accuracy on all 60,000
//! training and 10,000 test images, what the trainer does every epoch). The run of 12,000
//! iterations is 12,000 steps and 20 evaluations. `cargo bench -p scratchnet-network --bench
//! deep_step` (data from `MNIST_DIR` or `data/mnist`).

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use scratchnet_network::optimizer::AnyOptimizer;
use scratchnet_network::{Activation, Batch, Gradient, Net, NetSpec, WeightInit};
use scratchnet_tensor::{Rng, Scalar, SparseRows, choice_with_replacement, rng_from_seed};

fn data_dir() -> PathBuf {
    scratchnet_mnist::default_dir_in(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn bench_dtype<A: Scalar>(c: &mut Criterion, name: &str, mnist: &scratchnet_mnist::RawMnist) {
    let train = SparseRows::from_dense(&mnist.train.images_as::<A>(true));
    let test = SparseRows::from_dense(&mnist.test.images_as::<A>(true));
    let (t_train, t_test) = (mnist.train.labels_usize(), mnist.test.labels_usize());
    let spec =
        NetSpec::multi_layer_net(784, &[100, 100], 10, Activation::Relu, WeightInit::He, 0.0);
    let mut rng = rng_from_seed(1);
    let mut net = Net::<A>::new(spec, &mut rng).unwrap();
    let mut adam = AnyOptimizer::<A>::by_name("adam").unwrap();
    let draw = |rng: &mut Rng, b: &mut Batch<A>| {
        let idx = choice_with_replacement(rng, train.dim().0, 100);
        train.gather_rows_into(&idx, &mut b.x);
        b.t.clear();
        b.t.extend(idx.iter().map(|&k| t_train[k]));
    };
    let mut g = c.benchmark_group(format!("deep_{name}"));
    // on a thread of rayon's pool, as the trainer's loop runs
    g.bench_function("step", |b| {
        rayon::scope(|_| {
            b.iter(|| {
                black_box(
                    net.step(&draw, Gradient::Backprop, &mut adam, &mut rng, true)
                        .unwrap(),
                )
            })
        })
    });
    g.sample_size(10);
    g.bench_function("evaluate_train_and_test", |b| {
        rayon::scope(|_| {
            b.iter(|| {
                black_box((
                    net.accuracy(&train, &t_train[..]),
                    net.accuracy(&test, &t_test[..]),
                ))
            })
        })
    });
    g.finish();
}

fn benches(c: &mut Criterion) {
    let mnist = scratchnet_mnist::load_raw(data_dir())
        .expect("MNIST missing: run `cargo xtask fetch-mnist`");
    bench_dtype::<f32>(c, "f32", &mnist);
    bench_dtype::<f64>(c, "f64", &mnist);
}

criterion_group!(deep_step, benches);
criterion_main!(deep_step);
