//! The fast path of [`MultiLayerNet`]: the same layers as the book's path, with the first affine
//! layer over the non-zeros of the input (MNIST is about 81 % zeros) through `SparseRows`'s
//! kernels, and without the first layer's `dx = dout·W1ᵀ`, which nothing uses. The other layers
//! (batch norm and dropout included) are the book's (`ndarray`'s matrixmultiply for the dense
//! products). Crate-private: [`Net`](crate::Net) runs it for every fully connected spec but the
//! chapter 4 one. A test below holds it to the book's path within 1e-12 of the gradient's
//! max-norm (`fast_path_equals_the_book_path`, with and without batch norm and dropout).

use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, ArrayViewMut2, Axis};
use rayon::prelude::*;
use scratchnet_tensor::{Rng, Scalar};

use crate::book::multi_layer_net::{
    AffineParams, Layers, MultiLayerGrads, MultiLayerNet, Perturbed, RunningStats,
};
use crate::input::Input;
use crate::layers::{LossGradient, Mode, SoftmaxWithLoss};
use crate::{Activation, Targets};

/// Rows per block of [`MultiLayerNet::predict_fast`]: a block's widest layer (256 × 100 in
/// f64, 200 KB) stays in the cache and below the allocator's threshold for fresh pages.
const EVAL_ROWS: usize = 256;

impl<A: Scalar> MultiLayerNet<A> {
    /// The layers after the first affine one (dropout applying `masks` in train mode), and that
    /// layer's output `x·W1 + b1`.
    fn first_affine<'a, 't>(
        &'a self,
        x: &Input<'_, A>,
        masks: Option<&'a [Array2<bool>]>,
    ) -> (Layers<'a, 't, A>, Array2<A>) {
        let p = &self.params[0];
        let a1 = x.affine(&p.w, &p.b);
        (Layers::of(self, 1, Perturbed::None, masks), a1)
    }

    /// [`predict`](Self::predict) with a sparse first layer (`fast_path_equals_the_book_path`,
    /// `the_fast_forward_of_a_small_net_is_the_books`).
    pub(crate) fn predict_fast<'x>(&self, x: impl Into<Input<'x, A>>) -> Array2<A> {
        let x = x.into();
        let n_in = self.sizes()[0];
        assert_eq!(
            x.dim().1,
            n_in,
            "x has {} columns but the net has {n_in} inputs",
            x.dim().1
        );
        let classes = self.params.last().map_or(0, |p| p.w.ncols());
        let mut scores = Array2::zeros((x.dim().0, classes));
        self.predict_blocks_into(&x, scores.view_mut());
        scores
    }

    /// The scores of `x` into `out`, in blocks of [`EVAL_ROWS`] rows, in parallel: a pass over
    /// the whole training set holds one block's layers per thread, never a matrix of all its
    /// rows per layer. Each row's scores do not depend on the block it falls in (the sparse
    /// product is per row; matrixmultiply sums each entry over `k` in the same order whatever
    /// the number of rows; test mode has no batch statistics), so they equal the one-pass
    /// scores bit for bit (test `blocked_predict_equals_one_pass_bit_for_bit`).
    fn predict_blocks_into(&self, x: &Input<'_, A>, mut out: ArrayViewMut2<'_, A>) {
        let p = &self.params[0];
        out.axis_chunks_iter_mut(Axis(0), EVAL_ROWS)
            .into_par_iter()
            .enumerate()
            .for_each(|(k, mut out)| {
                let start = k * EVAL_ROWS;
                let mut a1 = Array2::zeros((out.nrows(), p.w.ncols()));
                x.dot_rows_into(start..start + out.nrows(), p.w.view(), a1.view_mut());
                a1 += &p.b;
                if self.is_plain_relu() {
                    self.relu_layers_into(a1, out);
                } else {
                    let mut rest = Layers::of(self, 1, Perturbed::None, None);
                    out.assign(&rest.predict_after_first(a1, Mode::Test));
                }
            });
    }

    /// True for ReLU without batch norm and dropout (the chapter 6 nets of issue 17), whose
    /// test-mode layers after the first run in [`relu_layers_into`](Self::relu_layers_into).
    fn is_plain_relu(&self) -> bool {
        self.activation == Activation::Relu && self.batch_norm.is_empty() && self.dropout.is_none()
    }

    /// The book's `Relu → Affine → … → Affine` from the first affine output `a`, the scores
    /// into `out`, without what the book's layers keep for a backward pass (a copy of each
    /// input, each ReLU mask): the same operations in the same order (`max` as the book's
    /// mask, `v ≤ 0 → 0`; `x·W` by matrixmultiply, then `+ b`), so the same bits.
    fn relu_layers_into(&self, mut a: Array2<A>, mut out: ArrayViewMut2<'_, A>) {
        let last = self.params.len() - 1;
        for (k, p) in self.params.iter().enumerate().skip(1) {
            a.mapv_inplace(|v| if v <= A::zero() { A::zero() } else { v });
            if k == last {
                general_mat_mul(A::one(), &a, &p.w, A::zero(), &mut out);
                out += &p.b;
                return;
            }
            let mut next = Array2::zeros((a.nrows(), p.w.ncols()));
            general_mat_mul(A::one(), &a, &p.w, A::zero(), &mut next);
            next += &p.b;
            a = next;
        }
    }

    /// [`loss`](Self::loss) with a sparse first layer (`fast_path_equals_the_book_path`,
    /// `the_fast_forward_of_a_small_net_is_the_books`).
    pub(crate) fn loss_fast<'x, 't>(
        &self,
        x: impl Into<Input<'x, A>>,
        t: impl Into<Targets<'t, A>>,
    ) -> A {
        let (x, t) = (x.into(), t.into());
        self.check(x.dim(), &t);
        let scores = self.predict_fast(x);
        SoftmaxWithLoss::new().forward(scores.view(), t)
            + self.decay(self.params.iter().map(|p| p.w.view()))
    }

    /// [`accuracy`](Self::accuracy) with a sparse first layer (`fast_path_equals_the_book_path`,
    /// `the_fast_forward_of_a_small_net_is_the_books`).
    pub(crate) fn accuracy_fast<'x, 't>(
        &self,
        x: impl Into<Input<'x, A>>,
        t: impl Into<Targets<'t, A>>,
    ) -> f64 {
        let (x, t) = (x.into(), t.into());
        self.check(x.dim(), &t);
        t.accuracy_of(&self.predict_fast(x))
    }

    /// [`gradient`](Self::gradient) with a sparse first layer and no `dx` for it: what
    /// [`Net::gradient`](crate::Net::gradient) runs for a layered net. The same masks from the
    /// same `rng` and the same running statistics as the book's path
    /// (`fast_path_equals_the_book_path`, `the_fast_gradient_of_a_small_net_is_the_books`).
    pub(crate) fn gradient_fast<'x, 't>(
        &mut self,
        x: impl Into<Input<'x, A>>,
        t: impl Into<Targets<'t, A>>,
        rng: &mut Rng,
    ) -> MultiLayerGrads<A> {
        let (x, t) = (x.into(), t.into());
        self.check(x.dim(), &t);
        let masks = self.draw_masks(x.dim().0, rng);
        let (grads, stats) = self.gradient_fast_with(&x, t, &masks, LossGradient::Book);
        self.set_running(stats);
        grads
    }

    /// [`gradient_fast`](Self::gradient_fast) with the given dropout masks, leaving the net as
    /// it is: the gradients and the running statistics the pass computed.
    pub(crate) fn gradient_fast_with(
        &self,
        x: &Input<'_, A>,
        t: Targets<'_, A>,
        masks: &[Array2<bool>],
        lg: LossGradient,
    ) -> (MultiLayerGrads<A>, RunningStats<A>) {
        self.gradient_fast_into(x, t, masks, None, lg)
    }

    /// [`gradient_fast_with`](Self::gradient_fast_with), writing `dW1` into `reuse` when it has
    /// `W1`'s shape: the largest gradient, whose allocation per call (zeroed pages from the
    /// kernel, every time) costs more than the small layers' arithmetic.
    pub(crate) fn gradient_fast_into(
        &self,
        x: &Input<'_, A>,
        t: Targets<'_, A>,
        masks: &[Array2<bool>],
        reuse: Option<Array2<A>>,
        lg: LossGradient,
    ) -> (MultiLayerGrads<A>, RunningStats<A>) {
        let (mut rest, a1) = self.first_affine(x, Some(masks));
        rest.last_layer = SoftmaxWithLoss::with_gradient(lg);
        let scores = rest.predict_after_first(a1, Mode::Train);
        rest.last_layer.forward(scores.view(), t);
        // backward through every layer but the first affine one
        let dout = rest.backward_to_first();
        let p0 = &self.params[0];
        // `t_dot_into` overwrites every element, so a reused buffer needs no zeroing
        let mut dw1 = match reuse {
            Some(buf) if buf.dim() == p0.w.dim() && buf.is_standard_layout() => buf,
            _ => Array2::zeros(p0.w.raw_dim()),
        };
        x.t_dot_into(dout.view(), dw1.view_mut());
        let db1 = dout.sum_axis(Axis(0));
        let (rest_affine, batch_norm, stats) = rest.into_grads(self);
        let mut affine = Vec::with_capacity(self.params.len());
        affine.push(AffineParams {
            w: self.decayed(dw1, &p0.w.view()),
            b: db1,
        });
        affine.extend(rest_affine);
        (MultiLayerGrads { affine, batch_norm }, stats)
    }
}

/// The running statistics of batch norm after one training forward pass, held apart from the
/// net by [`MultiLayerNet::gradient_fast_detached`] until [`MultiLayerNet::apply_running`]
/// (empty without batch norm).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct RunningUpdate<A>(RunningStats<A>);

impl<A: Scalar> MultiLayerNet<A> {
    /// [`gradient_fast`](Self::gradient_fast) without its side effect: the gradient, and the
    /// running statistics the forward pass leaves, for [`apply_running`](Self::apply_running).
    /// The net is only read, so the loss of the step before can be computed at the same time
    /// (as the trainer does); `gradient_fast` is this followed by `apply_running`.
    /// (`detached_then_applied_is_gradient_fast`.)
    ///
    /// # Panics
    /// If `x` and the targets do not fit the net.
    pub(crate) fn gradient_fast_detached<'x, 't>(
        &self,
        x: impl Into<Input<'x, A>>,
        t: impl Into<Targets<'t, A>>,
        rng: &mut Rng,
    ) -> (MultiLayerGrads<A>, RunningUpdate<A>) {
        let (x, t) = (x.into(), t.into());
        self.check(x.dim(), &t);
        let masks = self.draw_masks(x.dim().0, rng);
        let (grads, stats) = self.gradient_fast_with(&x, t, &masks, LossGradient::Book);
        (grads, RunningUpdate(stats))
    }

    /// [`gradient_fast_detached`](Self::gradient_fast_detached) that writes into the memory of
    /// `spent`, an earlier gradient of this net that is no longer needed (as the fused path's
    /// `Workspace` does): the same numbers, without allocating the largest
    /// array anew on every call. The trainer's loop runs this.
    /// (`reusing_gives_what_detached_gives`.)
    ///
    /// # Panics
    /// If `x` and the targets do not fit the net.
    pub(crate) fn gradient_fast_reusing<'x, 't>(
        &self,
        x: impl Into<Input<'x, A>>,
        t: impl Into<Targets<'t, A>>,
        rng: &mut Rng,
        spent: MultiLayerGrads<A>,
    ) -> (MultiLayerGrads<A>, RunningUpdate<A>) {
        let (x, t) = (x.into(), t.into());
        self.check(x.dim(), &t);
        let masks = self.draw_masks(x.dim().0, rng);
        let reuse = spent.affine.into_iter().next().map(|p| p.w);
        let (grads, stats) = self.gradient_fast_into(&x, t, &masks, reuse, LossGradient::Book);
        (grads, RunningUpdate(stats))
    }

    /// Sets the running statistics that [`gradient_fast_detached`](Self::gradient_fast_detached)
    /// returned.
    pub(crate) fn apply_running(&mut self, update: RunningUpdate<A>) {
        self.set_running(update.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::Dropout;
    use crate::{Activation, WeightInit};
    use scratchnet_tensor::{SparseRows, randn, rng_from_seed};

    /// MNIST-like, most entries 0, the first column never 0 (so that no row is all zeros: its
    /// pre-activations would sit exactly on ReLU's kink).
    fn batch(n: usize, d: usize, seed: u64) -> Array2<f64> {
        let r = randn::<f64, _>((n, d), 1.0, &mut rng_from_seed(seed));
        let mut x = r.mapv(|v| if v > 0.8 { (v - 0.8).min(1.0) } else { 0.0 });
        x.column_mut(0).mapv_inplace(|v| 0.3 + v);
        x
    }

    fn labels(n: usize, classes: usize) -> Vec<usize> {
        (0..n).map(|i| (i * 7 + 3) % classes).collect()
    }

    // Moved from tests/multi_layer_net.rs when the fast path became crate-private (issue 17).
    #[test]
    fn fast_path_equals_the_book_path() {
        // (batch norm, dropout): the plain net, and each of the chapter 6.3–6.4 additions
        let configs = [
            (false, None),
            (true, None),
            (false, Some(0.3)),
            (true, Some(0.3)),
        ];
        for activation in [Activation::Sigmoid, Activation::Relu] {
            for hidden in [&[30][..], &[20, 10, 10][..]] {
                for (bn, dropout) in configs {
                    let mut net = MultiLayerNet::<f64>::new(
                        64,
                        hidden,
                        10,
                        activation,
                        WeightInit::He,
                        &mut rng_from_seed(5),
                    )
                    .with_weight_decay(0.01);
                    if bn {
                        net = net.with_batch_norm();
                    }
                    if let Some(r) = dropout {
                        net = net.with_dropout(r);
                    }
                    let what = format!("{activation} {hidden:?} bn {bn} dropout {dropout:?}");
                    let (x, t) = (batch(32, 64, 6), labels(32, 10));
                    let sparse = SparseRows::from_dense(&x);
                    let mut book_net = net.clone();
                    let book = book_net.gradient(&x, &t, &mut rng_from_seed(8));
                    let scale = book
                        .named()
                        .iter()
                        .map(|(_, g)| g.iter().fold(0.0f64, |m, v| m.max(v.abs())))
                        .fold(0.0, f64::max);
                    let dense_input = Input::from(&x);
                    for input in [dense_input, Input::from(&sparse)] {
                        let mut fast_net = net.clone();
                        let fast = fast_net.gradient_fast(input, &t, &mut rng_from_seed(8));
                        for ((name, b), (_, f)) in book.named().iter().zip(fast.named()) {
                            let d = (b - &f).iter().fold(0.0f64, |m, v| m.max(v.abs()));
                            assert!(d <= 1e-12 * scale, "{what} {name}: {d:e} of {scale:e}");
                        }
                        // the same running statistics, bit for bit
                        assert_eq!(fast_net.batch_norm, book_net.batch_norm, "{what}");
                    }
                    let (py, pf) = (book_net.predict(&x), book_net.predict_fast(&sparse));
                    assert!((&py - &pf).iter().all(|d| d.abs() < 1e-12), "{what}");
                    assert_eq!(
                        book_net.accuracy(&x, &t),
                        book_net.accuracy_fast(&sparse, &t)
                    );
                    let (lb, lf) = (book_net.loss(&x, &t), book_net.loss_fast(&sparse, &t));
                    assert!((lb - lf).abs() < 1e-12, "{what}: {lb} vs {lf}");
                }
            }
        }
    }

    // Moved from tests/batch_norm_dropout.rs (issue 17).
    #[test]
    fn the_same_seed_gives_the_same_masks_on_any_number_of_threads() {
        let a = Dropout::draw_mask(&mut rng_from_seed(7), (30, 40), 0.5);
        assert_eq!(a, Dropout::draw_mask(&mut rng_from_seed(7), (30, 40), 0.5));
        assert_ne!(a, Dropout::draw_mask(&mut rng_from_seed(8), (30, 40), 0.5));
        let net = MultiLayerNet::<f64>::new(
            16,
            &[20, 20],
            4,
            Activation::Relu,
            WeightInit::He,
            &mut rng_from_seed(1),
        )
        .with_batch_norm()
        .with_dropout(0.5);
        let (x, t) = (batch(32, 16, 2), labels(32, 4));
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                let mut net = net.clone();
                let mut rng: Rng = rng_from_seed(3);
                let g1 = net.gradient_fast(&x, &t, &mut rng);
                let g2 = net.gradient(&x, &t, &mut rng); // the stream goes on
                let num = net.numerical_gradient(&x, &t, &mut rng_from_seed(3));
                (g1, g2, num, net)
            })
        };
        let one = run(1);
        for threads in [2, 4] {
            assert_eq!(run(threads), one, "{threads} threads");
        }
        assert_ne!(one.0, one.1, "the second pass drew new masks");
    }

    // The examples of the fast path's documentation from when it was public, as tests.

    #[test]
    fn the_fast_forward_of_a_small_net_is_the_books() {
        let net = MultiLayerNet::<f64>::new(
            4,
            &[3],
            2,
            Activation::Relu,
            WeightInit::He,
            &mut rng_from_seed(0),
        );
        let x = ndarray::array![[0.0, 1.0, 0.0, 0.0], [0.5, 0.0, 0.0, 0.0]];
        let (book, fast) = (net.predict(&x), net.predict_fast(&x));
        assert!((&book - &fast).iter().all(|d| d.abs() < 1e-15));
        let decayed = net.clone().with_weight_decay(0.1);
        assert!((decayed.loss(&x, &[0, 1]) - decayed.loss_fast(&x, &[0, 1])).abs() < 1e-15);
        let extended = net.with_batch_norm().with_dropout(0.5);
        assert_eq!(
            extended.accuracy(&x, &[0, 1]),
            extended.accuracy_fast(&x, &[0, 1])
        );
    }

    #[test]
    fn the_fast_gradient_of_a_small_net_is_the_books() {
        let mut net = MultiLayerNet::<f64>::new(
            4,
            &[3, 3],
            2,
            Activation::Sigmoid,
            WeightInit::Xavier,
            &mut rng_from_seed(0),
        )
        .with_batch_norm()
        .with_dropout(0.3);
        let x = ndarray::array![[0.0, 1.0, 0.0, 0.0], [0.5, 0.0, 0.0, 0.25]];
        let mut book_net = net.clone();
        let book = book_net.gradient(&x, &[1, 0], &mut rng_from_seed(9));
        let fast = net.gradient_fast(&x, &[1, 0], &mut rng_from_seed(9));
        for ((_, b), (_, f)) in book.named().iter().zip(fast.named()) {
            assert!((b - &f).iter().all(|d| d.abs() < 1e-15));
        }
        assert_eq!(book_net.batch_norm, net.batch_norm); // the same running statistics
    }

    #[test]
    fn detached_then_applied_is_gradient_fast() {
        let mut net = MultiLayerNet::<f64>::new(
            4,
            &[3],
            2,
            Activation::Relu,
            WeightInit::He,
            &mut rng_from_seed(0),
        )
        .with_batch_norm()
        .with_dropout(0.2);
        let x = ndarray::array![[0.0, 1.0, 0.0, 0.0], [0.5, 0.0, 0.0, 0.25]];
        let mut twin = net.clone();
        let (g, running) = net.gradient_fast_detached(&x, &[1, 0], &mut rng_from_seed(5));
        net.apply_running(running);
        assert_eq!(g, twin.gradient_fast(&x, &[1, 0], &mut rng_from_seed(5)));
        assert_eq!(net, twin);
    }

    #[test]
    fn reusing_gives_what_detached_gives() {
        let net = MultiLayerNet::<f64>::new(
            4,
            &[3],
            2,
            Activation::Relu,
            WeightInit::He,
            &mut rng_from_seed(0),
        );
        let x = ndarray::array![[0.0, 1.0, 0.0, 0.0], [0.5, 0.0, 0.0, 0.25]];
        let (first, _) = net.gradient_fast_detached(&x, &[1, 0], &mut rng_from_seed(1));
        let (again, _) =
            net.gradient_fast_reusing(&x, &[1, 0], &mut rng_from_seed(1), first.clone());
        assert_eq!(again, first);
    }

    /// The scores in one pass over all rows: the first affine layer, then the book's layers.
    fn one_pass<A: Scalar>(net: &MultiLayerNet<A>, x: &Input<'_, A>) -> Array2<A> {
        let (mut rest, a1) = net.first_affine(x, None);
        rest.predict_after_first(a1, Mode::Test)
    }

    fn blocked_equals_one_pass<A: Scalar>() {
        // 2.5 blocks, with every chapter 6 addition, in two thread counts
        let rows = EVAL_ROWS * 2 + EVAL_ROWS / 2 + 3;
        let mut rng = rng_from_seed(4);
        let x = Array2::from_shape_fn((rows, 40), |(i, j)| {
            let v = ((i * 7 + j * 13) % 17) as f64 / 16.0;
            A::of_f64(if (i + j) % 3 == 0 { v } else { 0.0 })
        });
        let sparse = SparseRows::from_dense(&x);
        // the lean ReLU layers, and the book's layers for the rest
        let configs = [
            (Activation::Relu, false, None),
            (Activation::Sigmoid, false, None),
            (Activation::Relu, true, Some(0.3)),
        ];
        for (activation, bn, dropout) in configs {
            let mut net =
                MultiLayerNet::<A>::new(40, &[30, 20], 10, activation, WeightInit::He, &mut rng);
            if bn {
                net = net.with_batch_norm();
                // running statistics away from their start, as after training
                for p in &mut net.batch_norm {
                    p.running_mean.fill(A::of_f64(0.25));
                    p.running_var.fill(A::of_f64(2.0));
                }
            }
            if let Some(r) = dropout {
                net = net.with_dropout(r);
            }
            for input in [Input::from(&x), Input::from(&sparse)] {
                let expected = one_pass(&net, &input);
                for threads in [1, 2] {
                    let pool = rayon::ThreadPoolBuilder::new()
                        .num_threads(threads)
                        .build()
                        .unwrap();
                    let got = pool.install(|| net.predict_fast(input.reborrow()));
                    assert_eq!(got, expected, "{activation} bn {bn}, {threads} threads");
                }
            }
        }
    }

    #[test]
    fn blocked_predict_equals_one_pass_bit_for_bit() {
        blocked_equals_one_pass::<f32>();
        blocked_equals_one_pass::<f64>();
    }
}
