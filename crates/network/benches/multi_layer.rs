//! The layered net's cost next to the fused two-layer path, on a real MNIST batch of 100 gathered
//! from the sparse training set (the trainer's layout), f64: the chapter 4 configuration
//! (784-50-10 sigmoid) by `Net::gradient` of the chapter 4 spec (the fused kernel), by
//! `Net::gradient` of a spec that picks the layered fast path, and by `MultiLayerNet::gradient`
//! (the book's path), and the chapter 6 configuration 784-100-100-10 ReLU by `Net::gradient`
//! (the layered fast path). `cargo bench -p scratchnet-network --bench multi_layer` (data from
//! `MNIST_DIR` or `data/mnist`).

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use scratchnet_network::{Activation, MultiLayerNet, Net, NetSpec, Tensors, WeightInit};
use scratchnet_tensor::{SparseRows, choice_with_replacement, rng_from_seed};

fn data_dir() -> PathBuf {
    scratchnet_mnist::default_dir_in(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn benches(c: &mut Criterion) {
    let mnist = scratchnet_mnist::load_raw(data_dir())
        .expect("MNIST missing: run `cargo xtask fetch-mnist`");
    let train = SparseRows::from_dense(&mnist.train.images_as::<f64>(true));
    let labels = mnist.train.labels_usize();
    let idx = choice_with_replacement(&mut rng_from_seed(0), mnist.train.len(), 100);
    let t: Vec<usize> = idx.iter().map(|&i| labels[i]).collect();
    let mut xb = train.gather_rows(&idx);
    let dense = scratchnet_network::Input::from(&xb).to_dense().into_owned();

    let mut g = c.benchmark_group("layered_f64");
    // no dropout: the gradients never draw from `rng`
    let mut rng = rng_from_seed(2);
    let spec = NetSpec::two_layer_net(784, 50, 10, 0.01);
    let mut two = Net::<f64>::new(spec, &mut rng_from_seed(1)).expect("the chapter 4 spec");
    // Now `Net::gradient` (the fused kernel, fresh buffers); the reused ones are `Net::step`'s.
    g.bench_function("ch4_fused_gradient_in", |b| {
        rayon::scope(|_| {
            b.iter(|| {
                train.gather_rows_into(&idx, &mut xb);
                black_box(two.gradient(&xb, &t, &mut rng));
            })
        })
    });
    let mut deep = MultiLayerNet::<f64>::new(
        784,
        &[50],
        10,
        Activation::Sigmoid,
        WeightInit::Std(0.01),
        &mut rng_from_seed(1),
    );
    // The same net and weights as a `Net` whose spec picks the layered kernel: the chapter 4
    // spec with another init (the init only drew the weights, which `deep`'s replace).
    let layered_spec =
        NetSpec::multi_layer_net(784, &[50], 10, Activation::Sigmoid, WeightInit::Xavier, 0.0);
    let mut layered =
        Net::<f64>::from_params(layered_spec, &Tensors::from_views(deep.named_tensors()))
            .expect("the same shapes");
    // on a thread of rayon's pool, as the fused path above and the trainer's loop run
    g.bench_function("ch4_layered_gradient_fast", |b| {
        rayon::scope(|_| {
            b.iter(|| {
                train.gather_rows_into(&idx, &mut xb);
                black_box(layered.gradient(&xb, &t, &mut rng));
            })
        })
    });
    g.bench_function("ch4_layered_gradient_book", |b| {
        b.iter(|| black_box(deep.gradient(&dense, &t, &mut rng)))
    });
    let ch6_spec =
        NetSpec::multi_layer_net(784, &[100, 100], 10, Activation::Relu, WeightInit::He, 0.0);
    let mut ch6 = Net::<f64>::new(ch6_spec, &mut rng_from_seed(1)).expect("a chapter 6 spec");
    g.bench_function("ch6_784_100_100_10_relu_gradient_fast", |b| {
        rayon::scope(|_| {
            b.iter(|| {
                train.gather_rows_into(&idx, &mut xb);
                black_box(ch6.gradient(&xb, &t, &mut rng));
            })
        })
    });
    g.finish();
}

criterion_group!(multi_layer, benches);
criterion_main!(multi_layer);
