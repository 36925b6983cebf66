//! The configuration as earlier builds stored it, read here and nowhere else: the flat JSON of
//! `summary.json` and version-2 checkpoints (`"hidden": 50`, `"weight_init_std": 0.01`,
//! `"grad": "numeric"`, …), and the bincode configuration of version-1 checkpoints. Each reads
//! into a [`RunConfig`] that trains exactly as the old build did.

use scratchnet_network::optimizer::{OptimizerConfig, OptimizerKind};
use scratchnet_network::{Activation, Gradient, NetSpec, WeightInit};
use serde::Deserialize;
use serde_json::Value;

use crate::config::{DataChoice, Schedule};
use crate::{Dtype, RunConfig};

#[derive(Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum GradMethod {
    Numeric,
    Backprop,
}

#[derive(Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum NumGradMethod {
    Fast,
    Generic,
}

fn gradient(grad: GradMethod, numgrad: NumGradMethod) -> Gradient {
    match (grad, numgrad) {
        (GradMethod::Backprop, _) => Gradient::Backprop,
        (GradMethod::Numeric, NumGradMethod::Fast) => Gradient::Numerical,
        (GradMethod::Numeric, NumGradMethod::Generic) => Gradient::NumericalBook,
    }
}

/// The flat configuration of builds before the nested [`RunConfig`].
#[derive(Deserialize)]
struct Flat {
    grad: GradMethod,
    numgrad: NumGradMethod,
    iters: usize,
    batch: usize,
    lr: f64,
    #[serde(deserialize_with = "one_or_many")]
    hidden: Vec<usize>,
    #[serde(default = "sigmoid")]
    activation: Activation,
    #[serde(alias = "weight_init_std", deserialize_with = "init")]
    init: WeightInit,
    #[serde(default)]
    optimizer: OptimizerKind,
    #[serde(default = "point_nine")]
    momentum: f64,
    #[serde(default = "point_nine")]
    beta1: f64,
    #[serde(default = "beta2")]
    beta2: f64,
    #[serde(default = "decay_rate")]
    decay_rate: f64,
    #[serde(default)]
    weight_decay: f64,
    #[serde(default)]
    batch_norm: bool,
    #[serde(default)]
    dropout: Option<f64>,
    #[serde(default)]
    train_first: Option<usize>,
    #[serde(default)]
    validation: Option<f64>,
    seed: u64,
    dtype: Dtype,
    #[serde(default)]
    net: Option<NetSpec>,
    #[serde(default)]
    epochs: Option<usize>,
    #[serde(default)]
    eval_samples: Option<usize>,
    #[serde(default)]
    shift: usize,
}

fn sigmoid() -> Activation {
    Activation::Sigmoid
}
fn point_nine() -> f64 {
    0.9
}
fn beta2() -> f64 {
    0.999
}
fn decay_rate() -> f64 {
    0.99
}

fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<usize>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(usize),
        Many(Vec<usize>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(n) => vec![n],
        OneOrMany::Many(v) => v,
    })
}

fn init<'de, D: serde::Deserializer<'de>>(d: D) -> Result<WeightInit, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum NumberOrName {
        Number(f64),
        Name(String),
    }
    match NumberOrName::deserialize(d)? {
        NumberOrName::Number(v) => Ok(WeightInit::Std(v)),
        NumberOrName::Name(n) => n.parse().map_err(serde::de::Error::custom),
    }
}

impl From<Flat> for RunConfig {
    fn from(f: Flat) -> Self {
        RunConfig {
            net: f.net.unwrap_or_else(|| {
                crate::config::mnist_mlp(
                    &f.hidden,
                    f.activation,
                    f.init,
                    f.weight_decay,
                    f.dropout,
                    f.batch_norm,
                )
            }),
            optimizer: OptimizerConfig {
                kind: f.optimizer,
                lr: f.lr,
                momentum: f.momentum,
                beta1: f.beta1,
                beta2: f.beta2,
                decay_rate: f.decay_rate,
            },
            schedule: Schedule {
                iters: f.iters,
                batch: f.batch,
                gradient: gradient(f.grad, f.numgrad),
                epochs: f.epochs,
                eval_samples: f.eval_samples,
            },
            data: DataChoice {
                train_first: f.train_first,
                validation: f.validation,
                shift: f.shift,
            },
            seed: f.seed,
            dtype: f.dtype,
        }
    }
}

/// The configuration of a version-1 checkpoint: chapter 4's fields, in bincode's layout.
#[derive(Deserialize)]
pub(crate) struct ConfigV1 {
    grad: GradMethod,
    numgrad: NumGradMethod,
    iters: usize,
    batch: usize,
    lr: f64,
    hidden: usize,
    weight_init_std: f64,
    seed: u64,
    dtype: Dtype,
}

impl From<ConfigV1> for RunConfig {
    fn from(c: ConfigV1) -> Self {
        let d = RunConfig::default();
        RunConfig {
            net: crate::config::mnist_mlp(
                &[c.hidden],
                Activation::Sigmoid,
                WeightInit::Std(c.weight_init_std),
                0.0,
                None,
                false,
            ),
            optimizer: OptimizerConfig {
                lr: c.lr,
                ..d.optimizer
            },
            schedule: Schedule {
                iters: c.iters,
                batch: c.batch,
                gradient: gradient(c.grad, c.numgrad),
                ..d.schedule
            },
            seed: c.seed,
            dtype: c.dtype,
            ..d
        }
    }
}

/// Rewrites an object holding a configuration in the flat form (a `summary.json`, a version-2
/// checkpoint's JSON) into the nested form, in place; the nested form is left as it is.
pub(crate) fn upgrade(v: &mut Value) -> Result<(), String> {
    let Some(obj) = v.as_object_mut() else {
        return Err("not a JSON object".into());
    };
    if obj.contains_key("schedule") {
        return Ok(());
    }
    let flat: Flat =
        serde_json::from_value(Value::Object(obj.clone())).map_err(|e| e.to_string())?;
    let Value::Object(nested) =
        serde_json::to_value(RunConfig::from(flat)).map_err(|e| e.to_string())?
    else {
        unreachable!("a struct serialises to an object")
    };
    obj.extend(nested);
    Ok(())
}

/// A configuration's JSON in either form.
pub(crate) fn config_from_json(json: &str) -> Result<RunConfig, String> {
    let mut v: Value = serde_json::from_str(json).map_err(|e| e.to_string())?;
    upgrade(&mut v)?;
    serde_json::from_value(v).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flat_forms_of_earlier_builds_read_as_the_runs_they_were() {
        // chapter 4's summary: one hidden width and a weight_init_std
        let old = r#"{"grad":"numeric","numgrad":"fast","iters":10000,"batch":100,"lr":0.1,
            "hidden":50,"weight_init_std":0.01,"seed":42,"dtype":"f64"}"#;
        assert_eq!(config_from_json(old).unwrap(), RunConfig::default());
        // chapter 6's: Adam, He, batch norm, dropout
        let deep = r#"{"grad":"backprop","numgrad":"generic","iters":5,"batch":10,"lr":0.001,
            "hidden":[20,16],"activation":"relu","init":"he","optimizer":"adam","batch_norm":true,
            "dropout":0.2,"weight_decay":0.001,"seed":7,"dtype":"f32"}"#;
        let c = config_from_json(deep).unwrap();
        assert_eq!(
            c.net.to_string(),
            "affine 20, batchnorm, relu, dropout 0.2, affine 16, batchnorm, relu, dropout 0.2, affine 10"
        );
        assert_eq!((c.net.init, c.net.weight_decay), (WeightInit::He, 0.001));
        assert_eq!(
            (c.optimizer.kind, c.optimizer.lr, c.optimizer.beta2),
            (OptimizerKind::Adam, 0.001, 0.999)
        );
        assert_eq!(
            (c.schedule.gradient, c.seed, c.dtype),
            (Gradient::Backprop, 7, Dtype::F32)
        );
        // the nested form round-trips
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(config_from_json(&json).unwrap(), c);
    }
}
