//! The resumable state of a run: the configuration, the step count, the RNG state, the network,
//! the optimizer's state and the histories, in one checked file (the framed format of
//! [`scratchnet_fileio::frame`]).
//!
//! ```text
//! b"SNETCKPT" | u32 LE version 2 | bincode(JSON of RunConfig) | bincode(State<A>) | bincode(run id) | sha256(all before)
//! b"SNETCKPT" | u32 LE version 1 | bincode(RunConfig of chapter 4) | bincode(StateV1<A>) | [bincode(run id)] | sha256(all before)
//! ```
//!
//! The configuration comes first so that its dtype can be read before the parameters are
//! decoded; since version 2 it is the JSON of `summary.json`, whose reader accepts older forms,
//! so a new setting is a new field there, not a new file version. Version 1 (the chapter 4 net
//! trained by SGD, with or without a run id) still loads.

use std::path::Path;

use scratchnet_fileio::frame::{Format, read_any_bounded};
use scratchnet_network::optimizer::{AnyOptimizer, Sgd};
use scratchnet_network::{Net, Params, Tensors};
use scratchnet_tensor::{RngState, Scalar};
use serde::{Deserialize, Serialize};

use crate::legacy::{ConfigV1, config_from_json};
use crate::{Metrics, RUN_ID_FILE, RunConfig, SUMMARY_FILE, Summary, TrainError};

/// File name of the checkpoint in a run folder.
pub const CHECKPOINT_FILE: &str = "checkpoint.bin";

const CHECKPOINT: Format = Format {
    magic: *b"SNETCKPT",
    version: 2,
    what: "scratchnet checkpoint",
};
const CHECKPOINT_V1: Format = Format {
    version: 1,
    ..CHECKPOINT
};
/// Larger files are refused while reading; a 784-1000-10 f64 checkpoint with Adam is about 19 MB.
const MAX_FILE: u64 = 1 << 32;
/// Longer configurations are refused while reading (one is about 400 bytes).
const MAX_CONFIG_JSON: usize = 1 << 16;

/// Everything needed to continue a run exactly where it stopped.
///
/// ```
/// use scratchnet_network::optimizer::{AnyOptimizer, Sgd};
/// use scratchnet_tensor::{RngState, rng_from_seed};
/// use scratchnet_run::{Checkpoint, Metrics, RunConfig};
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("checkpoint.bin");
/// let ck = Checkpoint {
///     config: RunConfig::default(),
///     iters_done: 3,
///     rng: RngState::of(&rng_from_seed(1)),
///     net: RunConfig::default().new_net::<f64>(&mut rng_from_seed(0)).unwrap(),
///     optimizer: AnyOptimizer::Sgd(Sgd::new(0.1)),
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
pub struct Checkpoint<A: Scalar> {
    /// The run's configuration (its `iters` is the planned number of steps).
    pub config: RunConfig,
    /// Steps taken.
    pub iters_done: usize,
    /// The RNG, positioned to draw the next mini-batch.
    pub rng: RngState,
    /// The network after `iters_done` steps.
    pub net: Net<A>,
    /// The optimizer with its state (Adam's moments and step count, …) after those steps.
    pub optimizer: AnyOptimizer<A>,
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
    net: Net<A>,
    optimizer: AnyOptimizer<A>,
    metrics: Metrics,
    wall_s: f64,
    train_size: usize,
}

#[derive(Deserialize)]
#[serde(bound = "A: Scalar")]
struct StateV1<A> {
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

/// Opens a checkpoint of either version: its configuration, its version and the reader at the
/// state.
fn open(
    path: &Path,
) -> Result<(RunConfig, u32, scratchnet_fileio::frame::FrameReader), TrainError> {
    let (format, mut r) = read_any_bounded(&[CHECKPOINT, CHECKPOINT_V1], path, MAX_FILE, |f, r| {
        // the most bytes the configuration's run can put in a checkpoint: the net's scalars
        // (with running statistics) and two optimizer moments, 8 bytes each, a loss per planned
        // iteration, an accuracy row per evaluation, 64 KiB for the rest
        let config: RunConfig = if f.version == 1 {
            r.next::<ConfigV1>("configuration")?.into()
        } else {
            let json: String = r.next("configuration")?;
            config_from_json(&json).map_err(|e| r.corrupt(format!("configuration: {e}")))?
        };
        let scalars = 6 * config.net.param_count();
        let history = 48 * (config.schedule.iters as u128 + 1);
        Ok(u64::try_from(8 * scalars + history + (64 << 10)).unwrap_or(u64::MAX))
    })
    .map_err(TrainError::Input)?;
    let config = if format.version == 1 {
        r.next::<ConfigV1>("configuration")
            .map_err(TrainError::Input)?
            .into()
    } else {
        let json: String = r.next("configuration").map_err(TrainError::Input)?;
        if json.len() > MAX_CONFIG_JSON {
            return Err(corrupt(path, "the configuration is too long"));
        }
        config_from_json(&json).map_err(|e| corrupt(path, format!("configuration: {e}")))?
    };
    Ok((config, format.version, r))
}

impl<A: Scalar> Checkpoint<A> {
    /// Writes the checkpoint atomically (temp file + rename; a path that is not a regular file is
    /// refused).
    pub fn write(&self, path: &Path) -> Result<(), TrainError> {
        let state = State {
            iters_done: self.iters_done,
            rng: self.rng,
            net: self.net.clone(),
            optimizer: self.optimizer.clone(),
            metrics: self.metrics.clone(),
            wall_s: self.wall_s,
            train_size: self.train_size,
        };
        let config = serde_json::to_string(&self.config).expect("a configuration serialises");
        let mut w = CHECKPOINT.writer();
        w.push(&config).push(&state).push(&self.run_id);
        w.write(path).map_err(TrainError::Output)
    }

    /// Reads a checkpoint of dtype `A`. A missing, truncated or altered file, one of another
    /// dtype or an unknown format version, one whose network does not fit its configuration, or
    /// anything but a regular file, is an error naming the file; no length in the file can make
    /// it allocate more than the file holds.
    pub fn read(path: &Path) -> Result<Self, TrainError> {
        let (config, version, mut r) = open(path)?;
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
        let (state, run_id) = if version == 1 {
            let s: StateV1<A> = r.next("state").map_err(TrainError::Input)?;
            // Absent in files written before run ids (the checksum already vouches for the bytes).
            let run_id = r.next::<String>("run id").ok();
            let state = State {
                iters_done: s.iters_done,
                rng: s.rng,
                net: Net::from_params(config.net.clone(), &Tensors::from_views(s.params.named()))
                    .map_err(|e| corrupt(path, e.to_string()))?,
                optimizer: AnyOptimizer::Sgd(Sgd::new(config.optimizer.lr)),
                metrics: s.metrics,
                wall_s: s.wall_s,
                train_size: s.train_size,
            };
            (state, run_id)
        } else {
            let s: State<A> = r.next("state").map_err(TrainError::Input)?;
            let run_id: Option<String> = r.next("run id").map_err(TrainError::Input)?;
            (s, run_id)
        };
        r.finish().map_err(TrainError::Input)?;
        let Ok(net) = state.net.with_spec(config.net.clone()) else {
            return Err(corrupt(path, "contents do not fit together"));
        };
        let state = State { net, ..state };
        if state.optimizer.name() != config.optimizer.kind.as_str()
            || !state.optimizer.state_fits(
                &shapes(&state.net)
                    .iter()
                    .map(Vec::as_slice)
                    .collect::<Vec<_>>(),
            )
            || state.metrics.losses.len() != state.iters_done
        {
            return Err(corrupt(path, "contents do not fit together"));
        }
        // A state that contradicts its own configuration would train on silently while the
        // summary names another run (or end as "loss became NaN", blaming the machine).
        config
            .validate()
            .map_err(|e| corrupt(path, format!("its configuration: {e}")))?;
        let wanted = config.optimizer.build::<A>().config();
        if state.optimizer.config() != wanted {
            return Err(corrupt(
                path,
                "its optimizer's hyper-parameters are not its configuration's",
            ));
        }
        if let AnyOptimizer::Adam(adam) = &state.optimizer
            && adam.steps() > state.iters_done as u64
        {
            return Err(corrupt(
                path,
                format!(
                    "Adam has taken {} steps in {} iterations",
                    adam.steps(),
                    state.iters_done
                ),
            ));
        }
        if !(state.wall_s.is_finite() && state.wall_s >= 0.0) {
            return Err(corrupt(
                path,
                format!("its wall time {} s is not a time", state.wall_s),
            ));
        }
        Ok(Checkpoint {
            config,
            iters_done: state.iters_done,
            rng: state.rng,
            net: state.net,
            optimizer: state.optimizer,
            metrics: state.metrics,
            wall_s: state.wall_s,
            train_size: state.train_size,
            run_id,
        })
    }
}

fn shapes<A: Scalar>(net: &Net<A>) -> Vec<Vec<usize>> {
    net.params()
        .iter()
        .map(|(_, a)| a.shape().to_vec())
        .collect()
}

impl Checkpoint<f64> {
    /// Reads only the configuration of a checkpoint (after verifying the whole file), to learn
    /// its dtype before reading it with [`Checkpoint::read`].
    pub fn read_config(path: &Path) -> Result<RunConfig, TrainError> {
        open(path).map(|(config, _, _)| config)
    }
}

impl<A: Scalar> Checkpoint<A> {
    /// Checks that the checkpoint belongs to the folder's run: its run id must be the one in the
    /// folder's `run.id` (written before any checkpoint) and in its `summary.json` if there is one,
    /// whose configuration must match too. With neither file (a folder of an earlier build after a
    /// SIGKILL) nothing vouches for the checkpoint, and the resume is refused.
    ///
    /// ```
    /// let dir = tempfile::tempdir()?; // neither run.id nor summary.json
    /// # let ck = scratchnet_run::Checkpoint::<f64> { config: Default::default(), iters_done: 0, rng: scratchnet_tensor::RngState::of(&scratchnet_tensor::rng_from_seed(1)), net: scratchnet_run::RunConfig::default().new_net(&mut scratchnet_tensor::rng_from_seed(0))?, optimizer: scratchnet_network::optimizer::AnyOptimizer::Sgd(scratchnet_network::optimizer::Sgd::new(0.1)), metrics: Default::default(), wall_s: 0.0, train_size: 60_000, run_id: Some("a".into()) };
    /// assert!(ck.check_belongs(dir.path()).unwrap_err().to_string().contains("nothing says"));
    /// std::fs::write(dir.path().join("run.id"), "a\n")?;
    /// ck.check_belongs(dir.path())?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn check_belongs(&self, dir: &Path) -> Result<(), TrainError> {
        let ck = self;
        let id = |v: &Option<String>| v.clone().unwrap_or_else(|| "none".into());
        let refuse = |owner: String| {
            TrainError::Usage(format!(
                "{CHECKPOINT_FILE} is not this folder's run: it belongs to run {} ({}), {owner}; refusing to resume",
                id(&ck.run_id),
                ck.config.describe(),
            ))
        };
        let folder = crate::read_run_id(dir)?;
        if let Some(folder) = &folder
            && ck.run_id.as_deref() != Some(folder.as_str())
        {
            return Err(refuse(format!("{RUN_ID_FILE} to run {folder}")));
        }
        let summary_path = dir.join(SUMMARY_FILE);
        let has_summary = std::fs::symlink_metadata(&summary_path).is_ok();
        match (folder, has_summary) {
            (Some(_), false) => Ok(()),
            (None, false) => Err(TrainError::Usage(format!(
                "{} has neither {RUN_ID_FILE} nor {SUMMARY_FILE}, so nothing says that its \
                 {CHECKPOINT_FILE} (run {}) is its own; if it is, write that run id into {} and resume again",
                dir.display(),
                id(&ck.run_id),
                dir.join(RUN_ID_FILE).display()
            ))),
            (_, true) => {
                let summary = Summary::read(&summary_path)?;
                if summary.run_id != ck.run_id || summary.config != ck.config {
                    return Err(refuse(format!(
                        "{SUMMARY_FILE} to run {} ({})",
                        id(&summary.run_id),
                        summary.config.describe()
                    )));
                }
                Ok(())
            }
        }
    }

    /// Checks that this state can continue on a training set of `train_size` images: its
    /// configuration valid for it ([`RunConfig::validate_for`]), its dtype `A`, the training-set
    /// size it started with, and its network of the configuration's sizes.
    ///
    /// ```
    /// # let ck = scratchnet_run::Checkpoint::<f32> { config: Default::default(), iters_done: 0, rng: scratchnet_tensor::RngState::of(&scratchnet_tensor::rng_from_seed(1)), net: scratchnet_run::RunConfig::default().new_net(&mut scratchnet_tensor::rng_from_seed(0))?, optimizer: scratchnet_network::optimizer::AnyOptimizer::Sgd(scratchnet_network::optimizer::Sgd::new(0.1)), metrics: Default::default(), wall_s: 0.0, train_size: 60_000, run_id: None };
    /// // an f64 configuration in an f32 state
    /// assert!(ck.check_fits(60_000).unwrap_err().to_string().contains("asks for f64"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn check_fits(&self, train_size: usize) -> Result<(), TrainError> {
        let c = &self.config;
        c.validate_for(train_size)?;
        if c.dtype.as_str() != A::DTYPE {
            return Err(TrainError::Usage(format!(
                "the configuration asks for {} but the data was loaded as {}",
                c.dtype.as_str(),
                A::DTYPE
            )));
        }
        if self.train_size != train_size {
            return Err(TrainError::Usage(format!(
                "the checkpoint was made with {} training images, this data has {train_size}",
                self.train_size
            )));
        }
        let (sizes, expected) = (self.net.sizes(), c.net.sizes());
        if sizes != expected {
            let dashed = |v: &[usize]| v.iter().map(usize::to_string).collect::<Vec<_>>().join("-");
            return Err(TrainError::Usage(format!(
                "the checkpoint's network is {}, expected {}",
                dashed(&sizes),
                dashed(&expected)
            )));
        }
        Ok(())
    }
}
