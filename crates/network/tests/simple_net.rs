//! §4.4.2: the book's simpleNet values.

use approx::assert_abs_diff_eq;
use ndarray::array;
use scratchnet_network::SimpleNet;

fn book_net() -> SimpleNet<f64> {
    SimpleNet::from_weights(array![
        [0.47355232, 0.9977393, 0.84668094],
        [0.85557411, 0.03563661, 0.69422093]
    ])
}

#[test]
fn predict_loss_and_gradient_match_the_book() {
    let net = book_net();
    let (x, t) = (array![0.6, 0.9], array![0.0, 0.0, 1.0]);
    let p = net.predict(&x);
    // x·W by hand: 0.6*w0k + 0.9*w1k
    for k in 0..3 {
        let by_hand = 0.6 * net.w[[0, k]] + 0.9 * net.w[[1, k]];
        assert_abs_diff_eq!(p[k], by_hand, epsilon = 1e-15);
    }
    assert_abs_diff_eq!(
        p,
        array![1.054148091, 0.630716529, 1.132807401],
        epsilon = 1e-9
    );
    assert_eq!(scratchnet_tensor::argmax(&p), 2);
    assert_abs_diff_eq!(net.loss(&x, &t), 0.9280682857864075, epsilon = 1e-12);
    let dw = net.numerical_gradient(&x, &t);
    let book = array![
        [0.2192475712, 0.1435624298, -0.3628100010],
        [0.3288713569, 0.2153436448, -0.5442150015]
    ];
    assert_abs_diff_eq!(dw, book, epsilon = 1e-9);
    // analytic: dL/dW = xᵀ (softmax(xW) − t) (the δ inside the log moves it by < 1e-6)
    let y = scratchnet_functions::softmax(&p);
    for i in 0..2 {
        for k in 0..3 {
            assert_abs_diff_eq!(dw[[i, k]], x[i] * (y[k] - t[k]), epsilon = 1e-6);
        }
    }
}

#[test]
fn ten_steps_reduce_the_loss_and_predict_the_target() {
    let mut net = SimpleNet::<f64>::new(&mut scratchnet_tensor::rng_from_seed(2026));
    let (x, t) = (array![0.6, 0.9], array![0.0, 0.0, 1.0]);
    let losses = net.descend(&x, &t, 1.0, 10);
    assert_eq!(losses.len(), 10);
    assert!(losses.windows(2).all(|w| w[1] < w[0]), "{losses:?}");
    assert_eq!(scratchnet_tensor::argmax(&net.predict(&x)), 2);
}
