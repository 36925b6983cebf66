//! Chapter 7 and 8's layers, one batch of 100 in f32 (the trainer's `--dtype f32`): each
//! convolution of the book's `SimpleConvNet` and `DeepConvNet` forward, and backward (dW and db;
//! dx except for a first layer), max pooling, and a whole `SimpleConvNet` gradient through
//! `Net`. Throughput is in floating-point operations (2 per multiply-add), so criterion's
//! "elem/s" reads as FLOP/s. `cargo bench -p scratchnet-network --bench conv`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ndarray::{Array1, Array2};
use scratchnet_network::{Net, NetSpec};
use scratchnet_tensor::conv::{Window, conv_backward, conv_forward, pool_backward, pool_forward};
use scratchnet_tensor::{Scalar, rng_from_seed};

const N: usize = 100;

fn benches(c: &mut Criterion) {
    let mut rng = rng_from_seed(0);
    let mut g = c.benchmark_group("conv_f32");
    // (name, input C×H×W, filters, size, pad, first layer)
    for (name, input, fnum, size, pad, first) in [
        ("simple_conv1_1x28x28_30x5x5", [1, 28, 28], 30, 5, 0, true),
        ("deep_conv1_1x28x28_16x3x3", [1, 28, 28], 16, 3, 1, true),
        ("deep_conv2_16x28x28_16x3x3", [16, 28, 28], 16, 3, 1, false),
        ("deep_conv3_16x14x14_32x3x3", [16, 14, 14], 32, 3, 1, false),
        (
            "deep_conv4_32x14x14_32x3x3_pad2",
            [32, 14, 14],
            32,
            3,
            2,
            false,
        ),
        ("deep_conv5_32x8x8_64x3x3", [32, 8, 8], 64, 3, 1, false),
        ("deep_conv6_64x8x8_64x3x3", [64, 8, 8], 64, 3, 1, false),
    ] {
        let w = Window::new(input, size, size, 1, pad);
        let x = Array2::from_shape_simple_fn((N, w.input_len()), || {
            f32::standard_normal(&mut rng).max(0.0)
        });
        let filt =
            Array2::from_shape_simple_fn((fnum, w.taps()), || f32::standard_normal(&mut rng));
        let b = Array1::<f32>::zeros(fnum);
        let d =
            Array2::from_shape_simple_fn((N, fnum * w.pixels()), || f32::standard_normal(&mut rng));
        let macs = (N * fnum * w.taps() * w.pixels()) as u64;
        g.throughput(Throughput::Elements(2 * macs));
        g.bench_function(format!("{name}_forward"), |bch| {
            bch.iter(|| conv_forward(black_box(x.view()), filt.view(), b.view(), &w))
        });
        g.throughput(Throughput::Elements(2 * macs * if first { 1 } else { 2 }));
        g.bench_function(format!("{name}_backward"), |bch| {
            bch.iter(|| conv_backward(black_box(x.view()), filt.view(), d.view(), &w, !first))
        });
    }
    // max pooling 2×2, stride 2: SimpleConvNet's, then DeepConvNet's three (elem/s: inputs/s)
    for input in [[30, 24, 24], [16, 28, 28], [32, 16, 16], [64, 8, 8]] {
        let pool = Window::new(input, 2, 2, 2, 0);
        let name = format!("pool_{}x{}x{}", input[0], input[1], input[2]);
        let x =
            Array2::from_shape_simple_fn((N, pool.input_len()), || f32::standard_normal(&mut rng));
        g.throughput(Throughput::Elements((N * pool.input_len()) as u64));
        g.bench_function(format!("{name}_forward"), |bch| {
            bch.iter(|| pool_forward(black_box(x.view()), &pool))
        });
        let (y, arg) = pool_forward(x.view(), &pool);
        g.bench_function(format!("{name}_backward"), |bch| {
            bch.iter(|| pool_backward(black_box(y.view()), &arg, &pool))
        });
    }
    // DeepConvNet's dense head through a Net of its own: affine 1024→50, relu, affine 50→10
    let mut head: NetSpec = "affine 50, relu, affine 10".parse().unwrap();
    head.input = vec![64, 4, 4];
    let mut head = Net::<f32>::new(head, &mut rng).unwrap();
    let xh = Array2::from_shape_simple_fn((N, 1024), || f32::standard_normal(&mut rng).max(0.0));
    let t: Vec<usize> = (0..N).map(|i| i % 10).collect();
    g.throughput(Throughput::Elements(
        (3 * 2 * N * (1024 * 50 + 50 * 10)) as u64,
    ));
    g.bench_function("deep_head_1024_50_10_gradient", |bch| {
        bch.iter(|| head.gradient(black_box(&xh), &t, &mut rng))
    });
    // the whole step's gradient: about 4.3 MFLOP per image (the count)
    let mut net = Net::<f32>::new(NetSpec::simple_conv_net(), &mut rng).unwrap();
    let x = Array2::from_shape_simple_fn((N, 784), || f32::standard_normal(&mut rng).max(0.0));
    g.throughput(Throughput::Elements(4_300_000 * N as u64));
    g.bench_function("simple_conv_net_gradient", |bch| {
        bch.iter(|| net.gradient(black_box(&x), &t, &mut rng))
    });
    // DeepConvNet: about 54 MFLOP per training image (forward and backward)
    let mut deep = Net::<f32>::new(NetSpec::deep_conv_net(), &mut rng).unwrap();
    g.throughput(Throughput::Elements(54_000_000 * N as u64));
    g.bench_function("deep_conv_net_gradient", |bch| {
        bch.iter(|| deep.gradient(black_box(&x), &t, &mut rng))
    });
    g.finish();
}

criterion_group! {
    name = group;
    config = Criterion::default().sample_size(10);
    targets = benches
}
criterion_main!(group);
