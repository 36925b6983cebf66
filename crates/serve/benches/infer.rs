//! What `scratchnet serve` computes for one drawn digit, per net: the prediction alone
//! (`Net::predict` of one row) and what `/api/predict?inside=true` runs (`Net::activations`, the
//! book's layers one by one), plus the MNIST-style preprocessing of a 280×280 drawing. Weights
//! are drawn at random: the time does not depend on their values.
//! `cargo bench -p scratchnet-serve --bench infer`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use ndarray::{Array1, Array2};
use scratchnet_network::{Activation, Net, NetSpec, WeightInit};
use scratchnet_tensor::{Scalar, rng_from_seed};

/// The book's DeepConvNet (§8.1).
const DEEP: &str = "conv 16x3x3 pad 1, relu, conv 16x3x3 pad 1, relu, pool 2, \
    conv 32x3x3 pad 1, relu, conv 32x3x3 pad 2, relu, pool 2, \
    conv 64x3x3 pad 1, relu, conv 64x3x3 pad 1, relu, pool 2, \
    affine 50, relu, dropout 0.5, affine 10, dropout 0.5";

fn digit<A: Scalar>() -> Array1<A> {
    // a 7-like stroke: about a fifth of the pixels are ink, as in MNIST
    Array1::from_shape_fn(784, |i| {
        let (r, c) = (i / 28, i % 28);
        let ink = (r == 6 && (8..21).contains(&c)) || (r > 6 && r < 23 && c == 27 - r);
        A::of_f64(if ink { 1.0 } else { 0.0 })
    })
}

fn bench_net<A: Scalar>(c: &mut Criterion, name: &str, spec: NetSpec) {
    let net = Net::<A>::new(spec, &mut rng_from_seed(0)).unwrap();
    let x = digit::<A>();
    let row = x.clone().insert_axis(ndarray::Axis(0));
    let mut g = c.benchmark_group(format!("one_digit/{name}"));
    g.bench_function("predict", |b| {
        b.iter(|| black_box(net.predict(black_box(&row))))
    });
    g.bench_function("activations", |b| {
        b.iter(|| black_box(net.activations(black_box(x.view()))))
    });
    g.finish();
}

fn benches(c: &mut Criterion) {
    let relu =
        |h: &[usize]| NetSpec::multi_layer_net(784, h, 10, Activation::Relu, WeightInit::He, 0.0);
    let conv = |s: &str| s.parse::<NetSpec>().unwrap().with_init(WeightInit::He);
    bench_net::<f64>(
        c,
        "two_layer_784-50-10_f64",
        NetSpec::two_layer_net(784, 50, 10, 0.01),
    );
    bench_net::<f32>(
        c,
        "two_layer_784-50-10_f32",
        NetSpec::two_layer_net(784, 50, 10, 0.01),
    );
    bench_net::<f32>(c, "relu_784-100-100-10_f32", relu(&[100, 100]));
    bench_net::<f32>(c, "relu_784-100x5-10_f32", relu(&[100; 5]));
    bench_net::<f32>(
        c,
        "simple_conv_net_f32",
        conv("conv 30x5x5, relu, pool 2, affine 100, relu, affine 10"),
    );
    bench_net::<f32>(c, "deep_conv_net_f32", conv(DEEP));
    let mut drawing = Array2::<f32>::zeros((280, 280));
    for k in 0..180 {
        for w in 0..16 {
            drawing[[50 + k, 90 + k / 3 + w]] = 1.0;
        }
    }
    c.bench_function("preprocess_280x280", |b| {
        b.iter(|| black_box(scratchnet_serve::mnist_style(black_box(drawing.view()))))
    });
}

criterion_group! {
    name = group;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = benches
}
criterion_main!(group);
