//! The resumable state of a run: the configuration, the step count, the RNG state, the
//! parameters and the histories, in one checked file (the framed format of
//! [`scratchnet_fileio::frame`]).
//!
//! ```text
//! b"SNETCKPT" | u32 LE version 1 | bincode(TrainConfig) | bincode(State<A>) | [bincode(run id)] | sha256(all before)
//! ```
//!
//! The configuration comes first so that its dtype can be read before the parameters are
//! decoded. The run id (the same as in the folder's `summary.json`) was added within version 1:
//! files written before it have none, and still load.

use std::path::Path;

use scratchnet_fileio::frame::Format;
use scratchnet_network::Params;
use scratchnet_tensor::{RngState, Scalar};
use serde::{Deserialize, Serialize};

use crate::{Metrics, TrainConfig, TrainError};

/// File name of the checkpoint in a run folder.
pub const CHECKPOINT_FILE: &str = "checkpoint.bin";

const CHECKPOINT: Format = Format {
    magic: *b"SNETCKPT",
    version: 1,
    what: "scratchnet checkpoint",
};
/// Larger files are refused while reading; a 784-1000-10 f64 checkpoint is about 6 MB.
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
///     run_id: Some("2026-12-01_10-00-00-123".into()),
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
    /// The run this state belongs to (as in its `summary.json`); `None` in files written before
    /// run ids existed.
    pub run_id: Option<String>,
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

fn corrupt(path: &Path, what: impl Into<String>) -> TrainError {
    TrainError::bad_input(path, format!("corrupt checkpoint: {}", what.into()))
}

impl<A: Scalar> Checkpoint<A> {
    /// Writes the checkpoint atomically (temp file + rename; a path that is not a regular file is
    /// refused).
    pub fn write(&self, path: &Path) -> Result<(), TrainError> {
        let state = State {
            iters_done: self.iters_done,
            rng: self.rng,
            params: self.params.clone(),
            metrics: self.metrics.clone(),
            wall_s: self.wall_s,
            train_size: self.train_size,
        };
        let mut w = CHECKPOINT.writer();
        w.push(&self.config).push(&state);
        if let Some(id) = &self.run_id {
            w.push(id);
        }
        w.write(path).map_err(TrainError::Output)
    }

    /// Reads a checkpoint of dtype `A`. A missing, truncated or altered file, one of another
    /// dtype or format version, or anything but a regular file, is an error naming the file; no
    /// length in the file can make it allocate more than the file holds.
    pub fn read(path: &Path) -> Result<Self, TrainError> {
        let mut r = CHECKPOINT.read(path, MAX_FILE).map_err(TrainError::Input)?;
        let config: TrainConfig = r.next("configuration").map_err(TrainError::Input)?;
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
        let s: State<A> = r.next("state").map_err(TrainError::Input)?;
        // Absent in files written before run ids (the checksum already vouches for the bytes).
        let run_id = r.next::<String>("run id").ok();
        r.finish().map_err(TrainError::Input)?;
        let (_, h, o) = s.params.sizes();
        let fits = s.params.b1.len() == h && s.params.w2.nrows() == h && s.params.b2.len() == o;
        if !fits || h != config.hidden || s.metrics.losses.len() != s.iters_done {
            return Err(corrupt(path, "contents do not fit together"));
        }
        Ok(Checkpoint {
            config,
            iters_done: s.iters_done,
            rng: s.rng,
            params: s.params,
            metrics: s.metrics,
            wall_s: s.wall_s,
            train_size: s.train_size,
            run_id,
        })
    }
}

impl Checkpoint<f64> {
    /// Reads only the configuration of a checkpoint (after verifying the whole file), to learn
    /// its dtype before reading it with [`Checkpoint::read`].
    pub fn read_config(path: &Path) -> Result<TrainConfig, TrainError> {
        let mut r = CHECKPOINT.read(path, MAX_FILE).map_err(TrainError::Input)?;
        r.next("configuration").map_err(TrainError::Input)
    }
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
            run_id: Some("r".into()),
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
        assert!(!e.to_string().contains("scratchnet-tmp"), "{e}");
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
