//! The models the page shows: loaded once, either dtype, with their test-set evaluation (the
//! confusion matrix and the misclassified images), computed in the background.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use ndarray::{ArrayD, ArrayView1, Axis, Ix2, Ix4};
use scratchnet_mnist::RawSplit;
use scratchnet_network::{LayerSpec, ModelInfo, Net, NetSpec};
use scratchnet_tensor::Scalar;
use serde::Serialize;

use crate::ServeError;

/// A trained net of either element type.
#[derive(Debug)]
pub(crate) enum AnyNet {
    F32(Net<f32>),
    F64(Net<f64>),
}

/// Runs `$body` with `$net` bound to the `Net<A>` inside, whatever its `A`.
macro_rules! with_net {
    ($any:expr, $net:ident => $body:expr) => {
        match $any {
            AnyNet::F32($net) => $body,
            AnyNet::F64($net) => $body,
        }
    };
}

impl AnyNet {
    pub(crate) fn load(path: &Path) -> Result<Self, ServeError> {
        let info = ModelInfo::read(path)?;
        Ok(match info.dtype.as_str() {
            "f32" => AnyNet::F32(Net::load(path)?),
            _ => AnyNet::F64(Net::load(path)?),
        })
    }

    pub(crate) fn spec(&self) -> &NetSpec {
        with_net!(self, n => n.spec())
    }

    pub(crate) fn dtype(&self) -> &'static str {
        match self {
            AnyNet::F32(_) => "f32",
            AnyNet::F64(_) => "f64",
        }
    }

    /// Every layer's output for one 784-value input, as `f32`.
    pub(crate) fn activations(&self, x: &[f32]) -> Vec<ArrayD<f32>> {
        fn run<A: Scalar>(net: &Net<A>, x: &[f32]) -> Vec<ArrayD<f32>> {
            let x: Vec<A> = x.iter().map(|&v| A::of_f64(f64::from(v))).collect();
            net.activations(ArrayView1::from(&x[..]))
                .into_iter()
                .map(|a| a.mapv(|v| v.as_f64() as f32))
                .collect()
        }
        with_net!(self, n => run(n, x))
    }

    /// The predicted class of each image (bytes 0–255), 500 at a time.
    pub(crate) fn classes(&self, images: ndarray::ArrayView2<'_, u8>) -> Vec<usize> {
        fn run<A: Scalar>(net: &Net<A>, images: ndarray::ArrayView2<'_, u8>) -> Vec<usize> {
            let mut out = Vec::with_capacity(images.nrows());
            for chunk in images.axis_chunks_iter(Axis(0), 500) {
                let x = chunk.mapv(|p| A::of_f64(f64::from(p) / 255.0));
                // the chapter 4 net's `predict` is already softmaxed: the argmax is the same
                let y = net.predict(&x);
                out.extend(
                    y.rows()
                        .into_iter()
                        .map(|r| argmax(r.iter().map(|v| v.as_f64()))),
                );
            }
            out
        }
        with_net!(self, n => run(n, images))
    }

    /// The first weight layer, scaled for display.
    pub(crate) fn first_layer(&self) -> FirstLayer {
        fn run<A: Scalar>(net: &Net<A>) -> FirstLayer {
            let w = net.params()["W1"].mapv(|v| v.as_f64() as f32);
            match w.ndim() {
                4 => {
                    let w = w.into_dimensionality::<Ix4>().expect("4 axes");
                    let (f, c, h, _) = w.dim();
                    FirstLayer::Conv {
                        filters: f,
                        channels: c,
                        size: h,
                        tiles: w
                            .outer_iter()
                            .take(MAX_TILES)
                            .map(|t| grey(t.iter().copied()))
                            .collect(),
                    }
                }
                _ => {
                    let w = w.into_dimensionality::<Ix2>().expect("2 axes");
                    FirstLayer::Dense {
                        units: w.ncols(),
                        tiles: w
                            .columns()
                            .into_iter()
                            .take(MAX_TILES)
                            .map(|t| grey(t.iter().copied()))
                            .collect(),
                    }
                }
            }
        }
        with_net!(self, n => run(n))
    }
}

/// At most this many first-layer tiles are sent.
const MAX_TILES: usize = 1024;

/// `0..=255` with 128 for 0 and the largest magnitude at 0 or 255: the sign shows.
fn grey(values: impl Iterator<Item = f32> + Clone) -> Vec<u8> {
    let max = values.clone().fold(0.0f32, |m, v| m.max(v.abs()));
    let scale = if max > 0.0 { 127.0 / max } else { 0.0 };
    values
        .map(|v| (128.0 + v * scale).round().clamp(0.0, 255.0) as u8)
        .collect()
}

/// The index of the largest value (the first of equals; NaN never wins).
pub(crate) fn argmax(values: impl Iterator<Item = f64>) -> usize {
    let mut best = (0, f64::NEG_INFINITY);
    for (i, v) in values.enumerate() {
        if v > best.1 {
            best = (i, v);
        }
    }
    best.0
}

/// The softmax of the scores.
pub(crate) fn softmax(scores: &[f32]) -> Vec<f32> {
    let max = scores.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
    let e: Vec<f64> = scores.iter().map(|&v| f64::from(v - max).exp()).collect();
    let sum: f64 = e.iter().sum();
    e.iter().map(|v| (v / sum) as f32).collect()
}

/// The first weight layer as grey tiles.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub(crate) enum FirstLayer {
    /// `W1` of a fully connected net: one 784-value tile per hidden unit.
    Dense { units: usize, tiles: Vec<Vec<u8>> },
    /// The first convolution's filters, `channels × size × size` each.
    Conv {
        filters: usize,
        channels: usize,
        size: usize,
        tiles: Vec<Vec<u8>>,
    },
}

/// The test set through a model.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub(crate) enum TestEval {
    /// Being computed.
    Pending,
    /// Not available, and why.
    Absent { message: String },
    /// Done.
    Ready {
        accuracy: f64,
        /// `confusion[label][predicted]`.
        confusion: Vec<Vec<u32>>,
        /// Test indices of the misclassified images, with label and prediction.
        mistakes: Vec<Mistake>,
    },
}

/// One misclassified test image.
#[derive(Clone, Copy, Debug, Serialize)]
pub(crate) struct Mistake {
    pub index: usize,
    pub label: usize,
    pub predicted: usize,
}

impl TestEval {
    pub(crate) fn of(net: &AnyNet, test: &RawSplit) -> Self {
        let predicted = net.classes(test.images.view());
        let mut confusion = vec![vec![0u32; 10]; 10];
        let mut mistakes = Vec::new();
        for (index, (&label, &p)) in test.labels.iter().zip(&predicted).enumerate() {
            let label = usize::from(label);
            confusion[label][p.min(9)] += 1;
            if label != p {
                mistakes.push(Mistake {
                    index,
                    label,
                    predicted: p,
                });
            }
        }
        let n = test.len().max(1);
        TestEval::Ready {
            accuracy: (n - mistakes.len()) as f64 / n as f64,
            confusion,
            mistakes,
        }
    }
}

/// A model the page shows: where it came from, the net, and its test evaluation.
#[derive(Debug)]
pub(crate) struct Loaded {
    /// The run folder's name under runs/ (or the folder or file given).
    pub name: String,
    pub run_dir: Option<PathBuf>,
    pub model_path: PathBuf,
    pub net: AnyNet,
    pub first_layer: FirstLayer,
    pub test: Mutex<TestEval>,
}

/// The MNIST test split, loaded once, or why it is not there.
pub(crate) type TestData = Arc<OnceLock<Result<RawSplit, String>>>;

impl Loaded {
    pub(crate) fn new(
        name: String,
        run_dir: Option<PathBuf>,
        model_path: PathBuf,
    ) -> Result<Self, ServeError> {
        let net = AnyNet::load(&model_path)?;
        if net.spec().input_size() != 784 || net.spec().output_size() != 10 {
            return Err(ServeError::NotMnist {
                inputs: net.spec().input_size(),
                classes: net.spec().output_size(),
                path: model_path,
            });
        }
        let first_layer = net.first_layer();
        Ok(Loaded {
            name,
            run_dir,
            model_path,
            net,
            first_layer,
            test: Mutex::new(TestEval::Pending),
        })
    }

    /// Evaluates the test set in a thread of its own (loading it first if no one has).
    pub(crate) fn evaluate_in_background(self: &Arc<Self>, data: TestData, mnist_dir: PathBuf) {
        let me = self.clone();
        std::thread::spawn(move || {
            let test = data.get_or_init(|| load_test(&mnist_dir));
            let eval = match test {
                Ok(t) => TestEval::of(&me.net, t),
                Err(message) => TestEval::Absent {
                    message: message.clone(),
                },
            };
            *me.test.lock().unwrap_or_else(|e| e.into_inner()) = eval;
        });
    }

    /// The layer names, as the spec writes them.
    pub(crate) fn layer_names(&self) -> Vec<String> {
        self.net
            .spec()
            .layers
            .iter()
            .map(LayerSpec::to_string)
            .collect()
    }
}

/// The test split from `dir`, or the message the page shows without it.
fn load_test(dir: &Path) -> Result<RawSplit, String> {
    let missing = scratchnet_mnist::missing_files(dir);
    if !missing.is_empty() {
        return Err(format!(
            "MNIST is not in {} (missing {}): fetch it with `cargo xtask fetch-mnist`, or set MNIST_DIR, to see the test set here",
            dir.display(),
            missing.join(", ")
        ));
    }
    scratchnet_mnist::load_raw(dir)
        .map(|m| m.test)
        .map_err(|e| e.to_string())
}

/// A 28×28 image of bytes as values in [0, 1].
pub(crate) fn pixels(row: ArrayView1<'_, u8>) -> Vec<f32> {
    row.iter().map(|&p| f32::from(p) / 255.0).collect()
}
