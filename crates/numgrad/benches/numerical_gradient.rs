//! `numerical_gradient` (rayon, parallel over elements) against `numerical_gradient_serial` on the
//! quadratic f(x) = Σ x² of 10,000 elements: 20,000 evaluations of a 10,000-element sum each.

use criterion::{Criterion, criterion_group, criterion_main};
use ndarray::{Array1, ArrayView1};
use scratchnet_numgrad::{numerical_gradient, numerical_gradient_serial};
use std::hint::black_box;

fn sum_of_squares(x: ArrayView1<'_, f64>) -> f64 {
    x.iter().fold(0.0, |acc, v| acc + v * v)
}

fn bench(c: &mut Criterion) {
    let x = Array1::from_shape_fn(10_000, |i| (i as f64 * 0.37).sin());
    let mut group = c.benchmark_group("numerical_gradient_10k_quadratic");
    group.sample_size(10);
    group.bench_function("serial", |b| {
        b.iter(|| numerical_gradient_serial(sum_of_squares, black_box(&x)))
    });
    group.bench_function(
        format!("parallel_{}_threads", rayon::current_num_threads()),
        |b| b.iter(|| numerical_gradient(sum_of_squares, black_box(&x))),
    );
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
