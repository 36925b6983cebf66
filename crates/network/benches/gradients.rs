//! 784-50-10, batch 100 on a real MNIST batch: fast and generic numerical gradients, backprop,
//! each in f64 and f32, through [`Net`] of the chapter 4 spec (`NetSpec::two_layer_net`), which
//! runs the fused kernels and the fast numerical gradient. `cargo bench -p scratchnet-network`
//! (data from `MNIST_DIR` or `data/mnist`; run `cargo xtask fetch-mnist` first). The generic
//! strategy is measured per parameter on W2 only (the whole gradient takes seconds), next to two
//! forward passes.

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use ndarray::{Array2, ArrayView2};
use scratchnet_network::optimizer::ParamsMut;
use scratchnet_network::{Input, Net, NetSpec};
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

/// `net` with its `W2` replaced by `w2` (through the optimizers' door to the parameters).
fn set_w2<A: Scalar>(net: &mut Net<A>, w2: ArrayView2<'_, A>) {
    let (names, mut tensors) = net.tensors_for_update();
    let k = names
        .expect("a net's tensors have names")
        .iter()
        .position(|n| n == "W2")
        .expect("the chapter 4 net has W2");
    tensors[k].assign(&w2.into_dyn());
}

fn bench_dtype<A: Scalar>(c: &mut Criterion) {
    let (x, t, idx, train) = batch::<A>();
    let spec = NetSpec::two_layer_net(784, 50, 10, 0.01);
    // the weights of `TwoLayerNet::new(784, 50, 10, 0.01, seed 1)`, as before
    let mut rng = rng_from_seed(1);
    let mut net = Net::<A>::new(spec, &mut rng).expect("the chapter 4 spec");
    let mut g = c.benchmark_group(format!("two_layer_{}", A::DTYPE));
    // `Net::gradient`: the fused backprop into fresh buffers, copied into `Tensors`
    g.bench_function("backprop", |b| {
        b.iter(|| black_box(net.gradient(&x, &t, &mut rng)))
    });
    // Now `Net::gradient` on the batch gathered from the sparse training set, on a pool thread:
    // the fused kernel with fresh buffers (the reused ones are `Net::step`'s, not public).
    let mut xb = train.gather_rows(&idx);
    g.bench_function("backprop_sparse_batch", |b| {
        rayon::scope(|_| {
            b.iter(|| {
                train.gather_rows_into(&idx, &mut xb);
                black_box(net.gradient(&xb, &t, &mut rng));
            })
        })
    });
    g.bench_function("forward_loss", |b| b.iter(|| black_box(net.loss(&x, &t))));
    g.measurement_time(Duration::from_secs(10));
    g.bench_function("fast_numgrad", |b| {
        b.iter(|| black_box(net.numerical_gradient(&x, &t, &mut rng)))
    });
    // The generic strategy on the 500 parameters of W2: its per-parameter cost is the same for
    // every tensor (two full forward passes), and the whole 39,760 take seconds per sample.
    // Now `numerical_gradient` of `scratchnet-numgrad` (what `NumGrad::Generic` runs) over W2,
    // each loss by `Net::loss` (the fused forward) of a net per thread with that W2 copied in.
    let w2 = net.params()["W2"]
        .clone()
        .into_dimensionality::<ndarray::Ix2>()
        .expect("W2 is a matrix");
    let nets = Mutex::new(Vec::<Net<A>>::new());
    // the batch as the net takes it, made once (as the kernel's own loop did), not per loss
    let xi = Input::from(&x);
    let loss_at = |w: ArrayView2<'_, A>| {
        let taken = nets.lock().expect("no panic while held").pop();
        let mut n = taken.unwrap_or_else(|| net.clone());
        set_w2(&mut n, w);
        let loss = n.loss(xi.reborrow(), &t);
        nets.lock().expect("no panic while held").push(n);
        loss
    };
    g.sample_size(10);
    g.bench_function("generic_numgrad_W2", |b| {
        b.iter(|| black_box(scratchnet_numgrad::numerical_gradient(&loss_at, &w2)))
    });
    g.finish();
}

fn benches(c: &mut Criterion) {
    bench_dtype::<f64>(c);
    bench_dtype::<f32>(c);
}

criterion_group!(gradients, benches);
criterion_main!(gradients);
