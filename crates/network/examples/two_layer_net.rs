//! §4.5.1 "2층 신경망 클래스 구현하기": the 784-50-10 TwoLayerNet, one numerical gradient on a real
//! MNIST batch of 100 (fast, by a `Net` of the chapter 4 spec, and, with `--generic`, the book's
//! method), timed, and the gradient check against backprop.
//!
//! `cargo run --release -p scratchnet-network --example two_layer_net [-- --generic]`
//! (MNIST from `MNIST_DIR` or `data/mnist`; `cargo xtask fetch-mnist` puts it there.)

use std::time::Instant;

use scratchnet_network::{Net, NetSpec, NumGrad, Tensors, TwoLayerNet, gradient_check};
use scratchnet_tensor::{gather_rows, rng_from_seed};

/// The largest |a − b| over every tensor of a `Net`'s gradient and the book's class's.
fn max_abs_diff(a: &Tensors<f64>, b: &scratchnet_network::Grads<f64>) -> f64 {
    b.named()
        .iter()
        .flat_map(|(name, g)| a[*name].iter().zip(g.iter()).map(|(x, y)| (x - y).abs()))
        .fold(0.0, f64::max)
}

fn main() {
    let generic = std::env::args().any(|a| a == "--generic");
    let dir = scratchnet_mnist::default_dir_in(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    let mnist = match scratchnet_mnist::load_raw(&dir) {
        Ok(m) => m,
        Err(e) => {
            eprintln!(
                "error: {e}\nhint: cargo xtask fetch-mnist --dir {}",
                dir.display()
            );
            std::process::exit(2);
        }
    };
    let mut rng = rng_from_seed(0);
    let book_net = TwoLayerNet::<f64>::new(784, 50, 10, 0.01, &mut rng);
    for (name, a) in book_net.params.named() {
        println!("{name}: {:?}", a.shape());
    }
    // the same net with the fast kernels: the chapter 4 spec, the book's class's weights
    let spec = NetSpec::two_layer_net(784, 50, 10, 0.01);
    let mut net = Net::<f64>::from_params(spec, &Tensors::from_views(book_net.params.named()))
        .expect("the chapter 4 net's shapes");

    let idx = scratchnet_mnist::random_batch(&mut rng, mnist.train.len(), 100);
    // the book's pixels: float32 `v / 255`, widened
    let table = scratchnet_mnist::pixel_table::<f64>(true);
    let x = gather_rows(&mnist.train.images, &idx).mapv(|p| table[p as usize]);
    let labels = mnist.train.labels_usize();
    let t: Vec<usize> = idx.iter().map(|&i| labels[i]).collect();
    println!("batch x {:?}, loss {:.6}", x.dim(), book_net.loss(&x, &t));

    let start = Instant::now();
    let fast = net.numerical_gradient(&x, &t, &mut rng);
    println!(
        "fast numerical gradient: {:.1} ms ({} threads; the notebook took 24.55 s)",
        start.elapsed().as_secs_f64() * 1e3,
        rayon::current_num_threads()
    );
    if generic {
        let start = Instant::now();
        let slow = book_net.numerical_gradient(&x, &t);
        let max_diff = max_abs_diff(&fast, &slow);
        println!(
            "the book's numerical gradient: {:.2} s, max |fast - book| = {max_diff:.2e}",
            start.elapsed().as_secs_f64()
        );
    }
    let start = Instant::now();
    let book = book_net.gradient(&x, &t);
    let book_ms = start.elapsed().as_secs_f64() * 1e3;
    let start = Instant::now();
    let fused = net.gradient(&x, &t, &mut rng);
    println!(
        "backprop gradient: {:.3} ms through the book's layers, {:.3} ms fused (max |diff| {:.1e})",
        book_ms,
        start.elapsed().as_secs_f64() * 1e3,
        max_abs_diff(&fused, &book)
    );
    println!(
        "\ngradient check (numerical vs backprop):\n{}",
        gradient_check(&book_net, &x, &t, NumGrad::Fast)
    );
}
