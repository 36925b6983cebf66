//! Optimizer updates over flat slices, compiled for AVX2 too: the elementwise rules of the
//! book's `common/optimizer.py`, in its order of operations.

use rayon::prelude::*;

use crate::Scalar;

/// One Adam step over the elements of a tensor, in the book's form:
/// `m += k1·(g − m)`, `v += k2·(g² − v)`, `p −= lr_t·m / (√v + eps)`, with `k1 = 1 − β1`,
/// `k2 = 1 − β2` and `lr_t` the step's bias-corrected learning rate. Every operation rounds as
/// written (no fused multiply-add), so the result is the same bits as the loop it vectorises
/// (test `matches_the_elementwise_rule_bit_for_bit`).
///
/// # Panics
/// If the four slices differ in length.
///
/// ```
/// let (mut p, g, mut m, mut v) = ([1.0f64], [0.5], [0.0], [0.0]);
/// scratchnet_tensor::adam_update(&mut p, &g, &mut m, &mut v, 0.1, 0.001, 0.01, 1e-7);
/// assert_eq!(m, [0.1 * 0.5]);
/// assert_eq!(v, [0.001 * 0.25]);
/// assert_eq!(p, [1.0 - 0.01 * m[0] / (v[0].sqrt() + 1e-7)]);
/// ```
#[allow(clippy::too_many_arguments)]
pub fn adam_update<A: Scalar>(
    p: &mut [A],
    g: &[A],
    m: &mut [A],
    v: &mut [A],
    k1: A,
    k2: A,
    lr_t: A,
    eps: A,
) {
    let n = p.len();
    assert!(
        g.len() == n && m.len() == n && v.len() == n,
        "Adam needs parameter, gradient and moments of one length"
    );
    // each element on its own: blocks in parallel give the same bits for any thread count
    p.par_chunks_mut(BLOCK)
        .zip(g.par_chunks(BLOCK))
        .zip(m.par_chunks_mut(BLOCK))
        .zip(v.par_chunks_mut(BLOCK))
        .for_each(|(((p, g), m), v)| body::simd::adam_update(p, g, m, v, k1, k2, lr_t, eps));
}

/// Elements per parallel block of an update: large enough that a block's work outweighs
/// handing it to another thread, small enough that the first layer's weights are split.
const BLOCK: usize = 16 * 1024;

/// The loop the public functions run, each compiled twice (see [`crate::dispatch`]).
mod body {
    use crate::Scalar;

    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    pub(super) fn adam_update<A: Scalar>(
        p: &mut [A],
        g: &[A],
        m: &mut [A],
        v: &mut [A],
        k1: A,
        k2: A,
        lr_t: A,
        eps: A,
    ) {
        // equal lengths (checked by the caller) let the compiler drop the bounds checks
        for (((p, &g), m), v) in p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
            *m += k1 * (g - *m);
            *v += k2 * (g * g - *v);
            *p -= lr_t * *m / (v.sqrt() + eps);
        }
    }

    pub(super) mod simd {
        crate::dispatch::dispatch_avx2_fma! {
            pub(in super::super) fn adam_update<A: Scalar>(
                p: &mut [A],
                g: &[A],
                m: &mut [A],
                v: &mut [A],
                k1: A,
                k2: A,
                lr_t: A,
                eps: A,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    /// The rule one element at a time, as the book writes it for arrays.
    fn by_element(p: &mut [f64], g: &[f64], m: &mut [f64], v: &mut [f64], c: [f64; 4]) {
        let [k1, k2, lr_t, eps] = c;
        for i in 0..p.len() {
            m[i] += k1 * (g[i] - m[i]);
            v[i] += k2 * (g[i] * g[i] - v[i]);
            p[i] -= lr_t * m[i] / (v[i].sqrt() + eps);
        }
    }

    proptest! {
        #[test]
        fn matches_the_elementwise_rule_bit_for_bit(
            rows in prop::collection::vec((-10.0f64..10.0, -5.0f64..5.0, -1.0f64..1.0, 0.0f64..4.0), 0..40_000),
            lr_t in 1e-5f64..0.1,
        ) {
            let c = [0.1, 0.001, lr_t, 1e-7];
            let p0: Vec<f64> = rows.iter().map(|r| r.0).collect();
            let g: Vec<f64> = rows.iter().map(|r| r.1).collect();
            let m0: Vec<f64> = rows.iter().map(|r| r.2).collect();
            let v0: Vec<f64> = rows.iter().map(|r| r.3).collect();
            let (mut p1, mut m1, mut v1) = (p0.clone(), m0.clone(), v0.clone());
            by_element(&mut p1, &g, &mut m1, &mut v1, c);
            let (mut p2, mut m2, mut v2) = (p0.clone(), m0.clone(), v0.clone());
            super::adam_update(&mut p2, &g, &mut m2, &mut v2, c[0], c[1], c[2], c[3]);
            prop_assert_eq!((&p1, &m1, &v1), (&p2, &m2, &v2));
            // and in f32, against the same rule in f32
            let f = |a: &[f64]| a.iter().map(|&x| x as f32).collect::<Vec<f32>>();
            let (mut p3, g3, mut m3, mut v3) = (f(&p0), f(&g), f(&m0), f(&v0));
            let (mut p4, mut m4, mut v4) = (p3.clone(), m3.clone(), v3.clone());
            let cf = c.map(|x| x as f32);
            for i in 0..p3.len() {
                m3[i] += cf[0] * (g3[i] - m3[i]);
                v3[i] += cf[1] * (g3[i] * g3[i] - v3[i]);
                p3[i] -= cf[2] * m3[i] / (v3[i].sqrt() + cf[3]);
            }
            super::adam_update(&mut p4, &g3, &mut m4, &mut v4, cf[0], cf[1], cf[2], cf[3]);
            prop_assert_eq!((&p3, &m3, &v3), (&p4, &m4, &v4));
        }
    }

    #[test]
    #[should_panic(expected = "one length")]
    fn slices_of_different_lengths_are_refused() {
        super::adam_update(
            &mut [0.0f64; 2],
            &[0.0; 3],
            &mut [0.0; 2],
            &mut [0.0; 2],
            0.1,
            0.1,
            0.1,
            0.1,
        );
    }
}
