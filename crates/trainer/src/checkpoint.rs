//! The resumable state of a run: the configuration, the step count, the RNG state, the
//! parameters and the histories, in one checked file.
//!
//! ```text
//! b"SNETCKPT" | u32 LE version | bincode(TrainConfig) | bincode(State<A>) | sha256(all before)
//! ```
//!
//! The configuration comes first so that its dtype can be read before the parameters are
//! decoded. bincode is used only here and in the network crate's model file.

use std::path::Path;

use scratchnet_network::Params;
use scratchnet_tensor::{RngState, Scalar};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{Metrics, TrainConfig, TrainError, write_atomically};

/// File name of the checkpoint in a run folder.
pub const CHECKPOINT_FILE: &str = "checkpoint.bin";

const MAGIC: &[u8; 8] = b"SNETCKPT";
const VERSION: u32 = 1;
const TRAILER: usize = 32;
/// Larger files are refused unread; a 784-1000-10 f64 checkpoint is about 6 MB.
const MAX_FILE: u64 = 1 << 32;

/// Everything needed to continue a run exactly where it stopped.
///
/// ```
/// use scratchnet_network::Params;
/// use scratchnet_tensor::{RngState, rng_from_seed};
/// use scratchnet_trainer::{Checkpoint, Metrics, TrainConfig};
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("checkpoint.bin");
/// let ck = Checkpoint {
///     config: TrainConfig::default(),
///     iters_done: 3,
///     rng: RngState::of(&rng_from_seed(1)),
///     params: Params::<f64>::zeros(4, 50, 2), // hidden = config.hidden
///     metrics: Metrics { losses: vec![2.0, 1.5, 1.25], accuracy: vec![] },
///     wall_s: 0.5,
///     train_size: 60_000,
/// };
/// ck.write(&path).unwrap();
/// assert_eq!(Checkpoint::read_config(&path).unwrap(), ck.config);
/// assert_eq!(Checkpoint::<f64>::read(&path).unwrap(), ck);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Checkpoint<A> {
    /// The run's configuration (its `iters` is the planned number of steps).
    pub config: TrainConfig,
    /// Steps taken.
    pub iters_done: usize,
    /// The RNG, positioned to draw the next mini-batch.
    pub rng: RngState,
    /// The parameters after `iters_done` steps.
    pub params: Params<A>,
    /// Loss and accuracy histories up to `iters_done`.
    pub metrics: Metrics,
    /// Training wall time spent so far, over every session of the run, in seconds.
    pub wall_s: f64,
    /// Size of the training set the run draws from (a resume on other data is refused).
    pub train_size: usize,
}

#[derive(Serialize, Deserialize)]
#[serde(bound = "A: Scalar")]
struct State<A> {
    iters_done: usize,
    rng: RngState,
    params: Params<A>,
    metrics: Metrics,
    wall_s: f64,
    train_size: usize,
}

impl<A: Scalar> Checkpoint<A> {
    /// Writes the checkpoint atomically (temp file + rename).
    pub fn write(&self, path: &Path) -> Result<(), TrainError> {
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&VERSION.to_le_bytes());
        bincode::serialize_into(&mut bytes, &self.config)
            .expect("serialising to memory cannot fail");
        let state = State {
            iters_done: self.iters_done,
            rng: self.rng,
            params: self.params.clone(),
            metrics: self.metrics.clone(),
            wall_s: self.wall_s,
            train_size: self.train_size,
        };
        bincode::serialize_into(&mut bytes, &state).expect("serialising to memory cannot fail");
        let digest = Sha256::digest(&bytes);
        bytes.extend_from_slice(&digest);
        write_atomically(path, &bytes)
    }

    /// Reads a checkpoint of dtype `A`. A missing, truncated or altered file, or one of another
    /// dtype, is an error naming the file.
    pub fn read(path: &Path) -> Result<Self, TrainError> {
        let body = read_verified(path)?;
        let mut cur = std::io::Cursor::new(&body[..]);
        let config: TrainConfig = bincode::deserialize_from(&mut cur)
            .map_err(|e| TrainError::bad_input(path, format!("corrupt checkpoint: {e}")))?;
        if config.dtype.as_str() != A::DTYPE {
            return Err(TrainError::bad_input(
                path,
                format!(
                    "checkpoint holds {} parameters, not {}",
                    config.dtype.as_str(),
                    A::DTYPE
                ),
            ));
        }
        let s: State<A> = bincode::deserialize_from(&mut cur)
            .map_err(|e| TrainError::bad_input(path, format!("corrupt checkpoint: {e}")))?;
        let (_, h, o) = s.params.sizes();
        let fits = s.params.b1.len() == h && s.params.w2.nrows() == h && s.params.b2.len() == o;
        if !fits || h != config.hidden || s.metrics.losses.len() != s.iters_done {
            return Err(TrainError::bad_input(
                path,
                "corrupt checkpoint: contents do not fit together",
            ));
        }
        Ok(Checkpoint {
            config,
            iters_done: s.iters_done,
            rng: s.rng,
            params: s.params,
            metrics: s.metrics,
            wall_s: s.wall_s,
            train_size: s.train_size,
        })
    }
}

impl Checkpoint<f64> {
    /// Reads only the configuration of a checkpoint (after verifying the whole file), to learn
    /// its dtype before reading it with [`Checkpoint::read`].
    pub fn read_config(path: &Path) -> Result<TrainConfig, TrainError> {
        let body = read_verified(path)?;
        bincode::deserialize(&body)
            .map_err(|e| TrainError::bad_input(path, format!("corrupt checkpoint: {e}")))
    }
}

/// The bytes between the version and the trailer, after checking magic, version and checksum.
fn read_verified(path: &Path) -> Result<Vec<u8>, TrainError> {
    let meta = std::fs::metadata(path).map_err(|e| TrainError::bad_input(path, e.to_string()))?;
    if meta.len() > MAX_FILE {
        return Err(TrainError::bad_input(
            path,
            "too large to be a scratchnet checkpoint",
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| TrainError::bad_input(path, e.to_string()))?;
    if bytes.len() < MAGIC.len() + 4 + TRAILER || &bytes[..MAGIC.len()] != MAGIC {
        return Err(TrainError::bad_input(
            path,
            "not a scratchnet checkpoint (bad magic bytes or too short)",
        ));
    }
    let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
    if version != VERSION {
        return Err(TrainError::bad_input(
            path,
            format!("checkpoint format version {version}, this build reads version {VERSION}"),
        ));
    }
    let (body, trailer) = bytes.split_at(bytes.len() - TRAILER);
    if Sha256::digest(body).as_slice() != trailer {
        return Err(TrainError::bad_input(
            path,
            "corrupt checkpoint: checksum mismatch (truncated or altered)",
        ));
    }
    Ok(body[12..].to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use scratchnet_tensor::rng_from_seed;

    fn sample() -> Checkpoint<f32> {
        Checkpoint {
            config: TrainConfig {
                dtype: crate::Dtype::F32,
                hidden: 3,
                ..Default::default()
            },
            iters_done: 2,
            rng: RngState::of(&rng_from_seed(9)),
            params: Params::init(4, 3, 2, 0.1, &mut rng_from_seed(2)),
            metrics: Metrics {
                losses: vec![1.0, 0.5],
                accuracy: vec![],
            },
            wall_s: 1.0,
            train_size: 10,
        }
    }

    #[test]
    fn flipped_byte_is_detected() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(CHECKPOINT_FILE);
        sample().write(&p).unwrap();
        let mut b = std::fs::read(&p).unwrap();
        let n = b.len() / 2;
        b[n] ^= 1;
        std::fs::write(&p, b).unwrap();
        let e = Checkpoint::<f32>::read(&p).unwrap_err();
        assert!(e.to_string().contains("checksum"), "{e}");
        assert_eq!(e.exit_code(), 2);
    }

    #[test]
    fn wrong_dtype_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(CHECKPOINT_FILE);
        sample().write(&p).unwrap();
        assert_eq!(
            Checkpoint::read_config(&p).unwrap().dtype,
            crate::Dtype::F32
        );
        assert!(Checkpoint::<f64>::read(&p).is_err());
        assert_eq!(Checkpoint::<f32>::read(&p).unwrap(), sample());
    }

    #[test]
    fn missing_file_is_bad_input() {
        let e = Checkpoint::<f64>::read(Path::new("/nonexistent/checkpoint.bin")).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("/nonexistent/checkpoint.bin"));
    }
}
