use ndarray::{Array, Dimension, ShapeBuilder};
use rand::RngExt;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use crate::Scalar;

/// The one random number generator of the workspace: ChaCha8, whose stream is fixed by its
/// algorithm (unlike `StdRng`, which may change between `rand` releases).
///
/// Every random thing in scratchnet takes `&mut Rng` explicitly; nothing reads a global or
/// thread-local RNG, so the same seed gives the same numbers.
///
/// ```
/// use rand::RngExt;
/// let mut rng: scratchnet_tensor::Rng = scratchnet_tensor::rng_from_seed(3);
/// let x: f64 = rng.random();
/// assert!((0.0..1.0).contains(&x));
/// ```
pub type Rng = rand::rngs::ChaCha8Rng;

/// A reproducible [`Rng`] from a `u64` seed.
///
/// ```
/// use rand::RngExt;
/// let a: u32 = scratchnet_tensor::rng_from_seed(7).random();
/// let b: u32 = scratchnet_tensor::rng_from_seed(7).random();
/// assert_eq!(a, b);
/// ```
pub fn rng_from_seed(seed: u64) -> Rng {
    Rng::seed_from_u64(seed)
}

/// The complete state of an [`Rng`], serialisable so that checkpoints can resume the same stream.
///
/// ```
/// use rand::RngExt;
/// use scratchnet_tensor::{RngState, rng_from_seed};
/// let mut rng = rng_from_seed(1);
/// let _: u64 = rng.random();
/// let saved = RngState::of(&rng);
/// let next: u64 = rng.random();
/// assert_eq!(saved.restore().random::<u64>(), next);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RngState {
    /// The 32-byte ChaCha key.
    pub seed: [u8; 32],
    /// The stream id.
    pub stream: u64,
    /// Position in the stream, in 32-bit words.
    pub word_pos: u128,
}

impl RngState {
    /// Captures the state of `rng`.
    ///
    /// ```
    /// let state = scratchnet_tensor::RngState::of(&scratchnet_tensor::rng_from_seed(5));
    /// assert_eq!(state.word_pos, 0);
    /// ```
    pub fn of(rng: &Rng) -> Self {
        Self {
            seed: rng.get_seed(),
            stream: rng.get_stream(),
            word_pos: rng.get_word_pos(),
        }
    }

    /// An [`Rng`] that continues exactly where the captured one was.
    ///
    /// ```
    /// use scratchnet_tensor::{RngState, rng_from_seed};
    /// let rng = rng_from_seed(5);
    /// assert_eq!(RngState::of(&RngState::of(&rng).restore()), RngState::of(&rng));
    /// ```
    pub fn restore(&self) -> Rng {
        let mut rng = Rng::from_seed(self.seed);
        rng.set_stream(self.stream);
        rng.set_word_pos(self.word_pos);
        rng
    }
}

/// `k` indices drawn uniformly from `0..n` with replacement: `np.random.choice(n, k)`.
///
/// # Panics
/// If `n == 0` and `k > 0`.
///
/// ```
/// let mut rng = scratchnet_tensor::rng_from_seed(0);
/// let idx = scratchnet_tensor::choice_with_replacement(&mut rng, 60_000, 10);
/// assert_eq!(idx.len(), 10);
/// assert!(idx.iter().all(|&i| i < 60_000));
/// ```
pub fn choice_with_replacement(rng: &mut Rng, n: usize, k: usize) -> Vec<usize> {
    assert!(n > 0 || k == 0, "cannot choose from an empty range");
    (0..k).map(|_| rng.random_range(0..n)).collect()
}

/// A random permutation of `0..n`, for epochs without replacement.
///
/// ```
/// let mut rng = scratchnet_tensor::rng_from_seed(0);
/// let mut p = scratchnet_tensor::shuffled_indices(&mut rng, 5);
/// p.sort();
/// assert_eq!(p, vec![0, 1, 2, 3, 4]);
/// ```
pub fn shuffled_indices(rng: &mut Rng, n: usize) -> Vec<usize> {
    let mut v: Vec<usize> = (0..n).collect();
    v.shuffle(rng);
    v
}

/// An array of the given shape with entries drawn from N(0, std²), in row-major order:
/// `std * np.random.randn(*shape)`.
///
/// ```
/// let mut rng = scratchnet_tensor::rng_from_seed(42);
/// let w = scratchnet_tensor::randn::<f64, _>((2, 3), 0.01, &mut rng);
/// assert_eq!(w.shape(), &[2, 3]);
/// assert!(w.iter().all(|v| v.abs() < 0.1));
/// ```
pub fn randn<A, Sh>(shape: Sh, std: f64, rng: &mut Rng) -> Array<A, Sh::Dim>
where
    A: Scalar,
    Sh: ShapeBuilder,
    Sh::Dim: Dimension,
{
    let std = A::of_f64(std);
    Array::from_shape_simple_fn(shape, || std * A::standard_normal(rng))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_indices() {
        let a = choice_with_replacement(&mut rng_from_seed(3), 100, 50);
        let b = choice_with_replacement(&mut rng_from_seed(3), 100, 50);
        let c = choice_with_replacement(&mut rng_from_seed(4), 100, 50);
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn choice_covers_the_range_roughly_uniformly() {
        let idx = choice_with_replacement(&mut rng_from_seed(9), 10, 100_000);
        let mut counts = [0usize; 10];
        for i in idx {
            counts[i] += 1;
        }
        for c in counts {
            assert!((9_000..11_000).contains(&c), "{counts:?}");
        }
    }

    #[test]
    fn randn_has_the_requested_spread() {
        let w = randn::<f64, _>(100_000, 0.5, &mut rng_from_seed(11));
        let mean = w.mean().unwrap();
        let var = w.mapv(|v| (v - mean) * (v - mean)).mean().unwrap();
        assert!(mean.abs() < 0.01, "{mean}");
        assert!((var.sqrt() - 0.5).abs() < 0.01, "{var}");
    }

    #[test]
    fn rng_state_roundtrip_mid_block() {
        let mut rng = rng_from_seed(5);
        for _ in 0..37 {
            let _: u32 = rng.random();
        }
        let st = RngState::of(&rng);
        let rest: Vec<u32> = (0..100).map(|_| rng.random()).collect();
        let mut r2 = st.restore();
        let rest2: Vec<u32> = (0..100).map(|_| r2.random()).collect();
        assert_eq!(rest, rest2);
    }
}
