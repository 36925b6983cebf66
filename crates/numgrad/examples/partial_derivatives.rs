//! §4.3.3: partial derivatives of `function_2(x0, x1) = x0² + x1²` at (3, 4), one variable at a
//! time with the other held fixed (exact: ∂f/∂x0 = 2·x0 = 6, ∂f/∂x1 = 2·x1 = 8).
//!
//! Prints the notebook's forward difference and the book's central difference, then both partial
//! derivatives at once with `numerical_gradient`. The notebook draws no figure here.
//!
//! `cargo run --release -p scratchnet-numgrad --example partial_derivatives`

use ndarray::{ArrayView1, array};
use scratchnet_numgrad::{numerical_diff, numerical_diff_forward, numerical_gradient};

fn main() {
    // x1 held at 4, then x0 held at 3, as the notebook's function_tmp1 / function_tmp2.
    let function_tmp1 = |x0: f64| x0 * x0 + 4.0f64.powf(2.0);
    let function_tmp2 = |x1: f64| 3.0f64.powf(2.0) + x1 * x1;
    println!("function_2(x0, x1) = x0² + x1² at (3, 4)");
    println!(
        "{:<12} {:>6} {:>22} {:>22}",
        "", "exact", "forward (notebook)", "central (book)"
    );
    for (name, f, x, exact) in [
        ("∂f/∂x0", &function_tmp1 as &dyn Fn(f64) -> f64, 3.0, 6.0),
        ("∂f/∂x1", &function_tmp2, 4.0, 8.0),
    ] {
        println!(
            "{name:<12} {exact:>6.1} {:>22} {:>22}",
            numerical_diff_forward(f, x),
            numerical_diff(f, x)
        );
    }
    let function_2 = |x: ArrayView1<'_, f64>| x[0] * x[0] + x[1] * x[1];
    println!(
        "numerical_gradient(function_2, [3.0, 4.0]) = {}",
        numerical_gradient(function_2, &array![3.0, 4.0])
    );
}
