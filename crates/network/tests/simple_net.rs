//! §4.4.2: the simpleNet values for the book's printed weights.

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
    // The exact gradient for the printed W, from the math: L = −ln(y₂ + δ) gives
    // ∂L/∂W[i][k] = x_i · c · (y_k − t_k) with c = y₂/(y₂ + δ). Row 1 is x1/x0 = 1.5 times row 0.
    let y = scratchnet_functions::softmax(&p);
    let c = y[2] / (y[2] + scratchnet_functions::CE_DELTA);
    let exact = ndarray::Array2::from_shape_fn((2, 3), |(i, k)| x[i] * c * (y[k] - t[k]));
    assert_abs_diff_eq!(dw, exact, epsilon = 1e-9);
    for k in 0..3 {
        assert_abs_diff_eq!(dw[[1, k]], 1.5 * dw[[0, k]], epsilon = 1e-9);
    }
    // The book prints dW computed from its unrounded random weights (W is printed to 8 digits):
    // it differs from the exact values for the printed W by up to 1.4e-7, so it matches only to
    // 1e-6, and not to 1e-7.
    let book_print = array![
        [0.21924763, 0.14356247, -0.36281009],
        [0.32887144, 0.2153437, -0.54421514]
    ];
    assert_abs_diff_eq!(dw, book_print, epsilon = 1e-6);
    assert!((&dw - &book_print).iter().any(|d| d.abs() > 1e-7));
    // analytic without δ: dL/dW = xᵀ (softmax(xW) − t) (the δ inside the log moves it by < 1e-6)
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
