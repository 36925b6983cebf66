//! The `scratchnet` command line: flags (clap) and the five subcommands.

use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use clap::{Args, Parser, Subcommand};
use scratchnet_network::{ModelHeader, TwoLayerNet, gradient_check};
use scratchnet_tensor::{Scalar, rng_from_seed};

use crate::checkpoint::CHECKPOINT_FILE;
use crate::config::{DEFAULT_SEED, check_lr, check_weight_init_std};
use crate::metrics::Metrics;
use crate::plot::{ACCURACY_PNG, LOSS_PNG, draw_accuracy, draw_loss};
use crate::run::{SUMMARY_FILE, Summary};
use crate::{
    Checkpoint, DataDir, Dtype, GradMethod, Mnist, NumGradMethod, Outcome, Progress, Session,
    TrainConfig, TrainError, Trainer, check_new_out_dir, create_out_dir, default_out_dir,
    ensure_data, run_session,
};

/// Trains the two-layer network of "Deep Learning from Scratch" chapter 4 on MNIST.
///
/// Without a subcommand, runs `train` (the notebook's §4.5.3 configuration by default).
///
/// ```
/// use clap::Parser;
/// use scratchnet_trainer::{GradMethod, cli::Cli};
/// let cli = Cli::try_parse_from(["scratchnet", "--grad", "backprop", "--iters", "600"]).unwrap();
/// assert!(cli.command.is_none()); // train
/// let config = cli.train.config();
/// assert_eq!((config.grad, config.iters, config.batch), (GradMethod::Backprop, 600, 100));
/// assert!(Cli::try_parse_from(["scratchnet", "--lr", "nan"]).is_err());
/// ```
#[derive(Debug, Parser)]
#[command(
    name = "scratchnet",
    version,
    args_conflicts_with_subcommands = true,
    about = "Trains the two-layer network of \"Deep Learning from Scratch\" chapter 4 on MNIST.",
    long_about = "Trains the two-layer network of \"Deep Learning from Scratch\" chapter 4 on MNIST.\n\n\
                  Without a subcommand, runs `train` (the notebook's §4.5.3 configuration by default)."
)]
pub struct Cli {
    /// What to do (default: train).
    #[command(subcommand)]
    pub command: Option<Command>,
    /// `train` flags, accepted without the word `train`.
    #[command(flatten)]
    pub train: TrainArgs,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Train TwoLayerNet with mini-batch SGD (§4.5.2-4.5.3), printing the accuracy every epoch and
    /// writing loss.csv, accuracy.csv, loss.png, accuracy.png, model.bin, summary.json and
    /// checkpoint.bin to the output folder.
    Train(TrainArgs),
    /// Print the train and test accuracy of a saved model.
    Eval(EvalArgs),
    /// The book's gradient check: numerical gradient vs backprop on a real MNIST batch, per
    /// parameter.
    Gradcheck(GradcheckArgs),
    /// Re-draw loss.png and accuracy.png of a run folder from its CSV files.
    Plot(PlotArgs),
    /// Write a saved model's parameters as a NumPy .npz with arrays W1, b1, W2, b2.
    Export(ExportArgs),
}

fn parse_lr(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a number"))?;
    check_lr(v).map_err(|e| e.trim_start_matches("--lr ").to_string())
}

fn parse_std(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a number"))?;
    check_weight_init_std(v).map_err(|e| e.trim_start_matches("--weight-init-std ").to_string())
}

fn parse_count(s: &str) -> Result<usize, String> {
    let v: usize = s
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a whole number"))?;
    if v == 0 {
        Err("must be at least 1, got 0".into())
    } else {
        Ok(v)
    }
}

/// Flags of `scratchnet train`; the defaults are the notebook's.
#[derive(Debug, Clone, Args)]
pub struct TrainArgs {
    /// Gradient method: `numeric` (central differences, as the notebook) or `backprop`.
    #[arg(long, value_enum, default_value = "numeric")]
    pub grad: GradMethod,
    /// Numerical-gradient algorithm for `--grad numeric`: `fast` (exact, recomputes only what a
    /// parameter changes) or `generic` (the book's: two full forward passes per parameter).
    #[arg(long, value_enum, default_value = "fast")]
    pub numgrad: NumGradMethod,
    /// Number of SGD iterations (`iters_num`).
    #[arg(long, default_value = "10000", value_parser = parse_count)]
    pub iters: usize,
    /// Mini-batch size, drawn with replacement (`batch_size`); at most the training-set size.
    #[arg(long, default_value = "100", value_parser = parse_count)]
    pub batch: usize,
    /// Learning rate (`learning_rate`), a finite number > 0.
    #[arg(long, default_value = "0.1", value_parser = parse_lr, allow_negative_numbers = true)]
    pub lr: f64,
    /// Hidden-layer width (`hidden_size`).
    #[arg(long, default_value = "50", value_parser = parse_count)]
    pub hidden: usize,
    /// Standard deviation of the initial weights.
    #[arg(long, default_value = "0.01", value_parser = parse_std, allow_negative_numbers = true)]
    pub weight_init_std: f64,
    /// Seed of the RNG that draws the initial weights and every mini-batch.
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub seed: u64,
    /// Element type of all arrays.
    #[arg(long, value_enum, default_value = "f64")]
    pub dtype: Dtype,
    /// Worker threads [default: one per CPU]; results do not depend on it.
    #[arg(long)]
    pub threads: Option<NonZeroUsize>,
    /// MNIST folder [default: $MNIST_DIR, else data/mnist]. Only the default folder is ever
    /// downloaded into (mirrors from $MNIST_MIRROR first).
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Output folder, new or empty [default: a new folder under runs/].
    #[arg(long, value_name = "DIR", conflicts_with = "resume")]
    pub out: Option<PathBuf>,
    /// Continue the interrupted run in DIR to its planned iteration count, with its own
    /// configuration (only --threads and --data may be given with it).
    #[arg(
        long,
        value_name = "DIR",
        conflicts_with_all = ["grad", "numgrad", "iters", "batch", "lr", "hidden", "weight_init_std", "seed", "dtype"]
    )]
    pub resume: Option<PathBuf>,
    /// Testing aid: stop as Ctrl-C would once N iterations are done in total.
    #[arg(long, value_name = "N", hide = true)]
    pub stop_after: Option<usize>,
    /// Progress display: a bar on a terminal, plain lines otherwise; `--quiet` prints neither
    /// (the accuracy lines included).
    #[arg(long)]
    pub quiet: bool,
}

impl TrainArgs {
    /// The configuration these flags ask for (see [`Cli`] for an example).
    pub fn config(&self) -> TrainConfig {
        TrainConfig {
            grad: self.grad,
            numgrad: self.numgrad,
            iters: self.iters,
            batch: self.batch,
            lr: self.lr,
            hidden: self.hidden,
            weight_init_std: self.weight_init_std,
            seed: self.seed,
            dtype: self.dtype,
        }
    }
}

/// Flags of `scratchnet eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The model file (model.bin of a run folder).
    #[arg(long, value_name = "FILE")]
    pub model: PathBuf,
    /// MNIST folder [default: $MNIST_DIR, else data/mnist, downloaded if missing].
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Worker threads [default: one per CPU].
    #[arg(long)]
    pub threads: Option<NonZeroUsize>,
}

/// Flags of `scratchnet gradcheck`.
#[derive(Debug, Args)]
pub struct GradcheckArgs {
    /// Seed of the RNG that draws the network's initial weights.
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub seed: u64,
    /// Number of training images in the batch (the book uses the first 3).
    #[arg(long, default_value = "3", value_parser = parse_count)]
    pub batch: usize,
    /// Hidden-layer width.
    #[arg(long, default_value = "50", value_parser = parse_count)]
    pub hidden: usize,
    /// Standard deviation of the initial weights.
    #[arg(long, default_value = "0.01", value_parser = parse_std, allow_negative_numbers = true)]
    pub weight_init_std: f64,
    /// Numerical-gradient algorithm compared with backprop (`generic` is the book's).
    #[arg(long, value_enum, default_value = "generic")]
    pub numgrad: NumGradMethod,
    /// Element type.
    #[arg(long, value_enum, default_value = "f64")]
    pub dtype: Dtype,
    /// MNIST folder [default: $MNIST_DIR, else data/mnist, downloaded if missing].
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Worker threads [default: one per CPU].
    #[arg(long)]
    pub threads: Option<NonZeroUsize>,
}

/// Flags of `scratchnet plot`.
#[derive(Debug, Args)]
pub struct PlotArgs {
    /// A run folder holding loss.csv and accuracy.csv (summary.json, if there, names the run in
    /// the titles).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
}

/// Flags of `scratchnet export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The model file (model.bin of a run folder).
    #[arg(long, value_name = "FILE")]
    pub model: PathBuf,
    /// The .npz file to write.
    #[arg(long, value_name = "OUT")]
    pub npz: PathBuf,
}

/// How a command ended without error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Done: exit code 0.
    Done,
    /// Training stopped by Ctrl-C (or `--stop-after`): exit code 130, as a shell reports SIGINT.
    Interrupted,
}

impl Exit {
    /// The process exit code.
    ///
    /// ```
    /// assert_eq!(scratchnet_trainer::cli::Exit::Interrupted.code(), 130);
    /// ```
    pub fn code(self) -> i32 {
        match self {
            Exit::Done => 0,
            Exit::Interrupted => 130,
        }
    }
}

/// The folder the default `data/mnist` and `runs/` are relative to: the workspace root when the
/// binary is run by `cargo run` (Cargo then sets `CARGO_MANIFEST_DIR` to this crate's folder),
/// else the current folder.
///
/// ```
/// assert!(!scratchnet_trainer::cli::default_root().as_os_str().is_empty());
/// ```
pub fn default_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    match std::env::var_os("CARGO_MANIFEST_DIR") {
        Some(m) if Path::new(&m) == here => here
            .parent()
            .and_then(Path::parent)
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from(".")),
        _ => PathBuf::from("."),
    }
}

fn set_threads(threads: Option<NonZeroUsize>) -> Result<(), TrainError> {
    if let Some(n) = threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n.get())
            .build_global()
            .map_err(|e| TrainError::Usage(format!("--threads {n}: {e}")))?;
    }
    Ok(())
}

/// Runs the parsed command line. `interrupt` is the flag a Ctrl-C handler sets.
///
/// ```no_run
/// use clap::Parser;
/// use scratchnet_trainer::cli::{Cli, run_cli};
/// let cli = Cli::parse_from(["scratchnet", "eval", "--model", "runs/x/model.bin"]);
/// let exit = run_cli(cli, Default::default())?;
/// std::process::exit(exit.code());
/// # Ok::<(), scratchnet_trainer::TrainError>(())
/// ```
pub fn run_cli(cli: Cli, interrupt: Arc<AtomicBool>) -> Result<Exit, TrainError> {
    match cli.command {
        None => train(cli.train, interrupt),
        Some(Command::Train(a)) => train(a, interrupt),
        Some(Command::Eval(a)) => eval(a),
        Some(Command::Gradcheck(a)) => gradcheck(a),
        Some(Command::Plot(a)) => plot(a),
        Some(Command::Export(a)) => export(a),
    }
}

fn progress_mode(quiet: bool) -> Progress {
    if quiet {
        Progress::Quiet
    } else {
        Progress::Auto
    }
}

/// Loads MNIST as `A`, fetching into the default folder first if needed.
fn load_data<A: Scalar>(dir: &DataDir, quiet: bool) -> Result<Mnist<A>, TrainError> {
    ensure_data(dir, !quiet)?;
    Mnist::load(dir.path())
}

fn train(a: TrainArgs, interrupt: Arc<AtomicBool>) -> Result<Exit, TrainError> {
    let root = default_root();
    let data_dir = DataDir::resolve(a.data.clone(), &root);
    if let Some(dir) = a.resume.clone() {
        let config = Checkpoint::read_config(&dir.join(CHECKPOINT_FILE))?;
        set_threads(a.threads)?;
        return match config.dtype {
            Dtype::F64 => resume::<f64>(&a, &dir, &data_dir, interrupt),
            Dtype::F32 => resume::<f32>(&a, &dir, &data_dir, interrupt),
        };
    }
    let config = a.config();
    config.validate()?;
    let out = a.out.clone().unwrap_or_else(|| default_out_dir(&root));
    check_new_out_dir(&out)?;
    set_threads(a.threads)?;
    match config.dtype {
        Dtype::F64 => train_new::<f64>(&a, config, &data_dir, out, interrupt),
        Dtype::F32 => train_new::<f32>(&a, config, &data_dir, out, interrupt),
    }
}

fn announce(a: &TrainArgs, config: &TrainConfig, data: &Path, out: &Path, from: usize) {
    if a.quiet {
        return;
    }
    eprintln!(
        "scratchnet train: {}, {} iterations{}, seed {}, {} thread(s)",
        Summary::describe_config(config),
        config.iters,
        if from > 0 {
            format!(" (resuming after {from})")
        } else {
            String::new()
        },
        config.seed,
        rayon::current_num_threads()
    );
    eprintln!("data: {}   results: {}", data.display(), out.display());
}

fn train_new<A: Scalar>(
    a: &TrainArgs,
    config: TrainConfig,
    data_dir: &DataDir,
    out: PathBuf,
    interrupt: Arc<AtomicBool>,
) -> Result<Exit, TrainError> {
    let data = load_data::<A>(data_dir, a.quiet)?;
    let trainer = Trainer::new(config, &data)?;
    create_out_dir(&out)?;
    announce(a, trainer.config(), data_dir.path(), &out, 0);
    finish(a, trainer, 0.0, out, data_dir, interrupt)
}

fn resume<A: Scalar>(
    a: &TrainArgs,
    dir: &Path,
    data_dir: &DataDir,
    interrupt: Arc<AtomicBool>,
) -> Result<Exit, TrainError> {
    let ck = Checkpoint::<A>::read(&dir.join(CHECKPOINT_FILE))?;
    if ck.iters_done >= ck.config.iters {
        if !a.quiet {
            eprintln!(
                "{}: the run is already complete ({} of {} iterations)",
                dir.display(),
                ck.iters_done,
                ck.config.iters
            );
        }
        return Ok(Exit::Done);
    }
    let data = load_data::<A>(data_dir, a.quiet)?;
    let wall = ck.wall_s;
    let trainer = Trainer::from_checkpoint(ck, &data)?;
    announce(
        a,
        trainer.config(),
        data_dir.path(),
        dir,
        trainer.iters_done(),
    );
    finish(a, trainer, wall, dir.to_owned(), data_dir, interrupt)
}

fn finish<A: Scalar>(
    a: &TrainArgs,
    trainer: Trainer<'_, A>,
    wall_before: f64,
    out: PathBuf,
    data_dir: &DataDir,
    interrupt: Arc<AtomicBool>,
) -> Result<Exit, TrainError> {
    let session = Session {
        out: out.clone(),
        stop_after: a.stop_after,
        interrupt,
        progress: progress_mode(a.quiet),
        data_dir: data_dir.path().to_owned(),
    };
    let (outcome, s) = run_session(trainer, wall_before, &session)?;
    if !a.quiet {
        eprintln!(
            "{} {} of {} iterations in {:.2} s ({:.1} it/s); final model: train acc {:.4}, test acc {:.4}",
            if outcome == Outcome::Interrupted {
                "interrupted after"
            } else {
                "done:"
            },
            s.iters_done,
            s.iters,
            s.wall_s,
            s.iters_per_s,
            s.train_acc,
            s.test_acc
        );
        if outcome == Outcome::Interrupted {
            eprintln!(
                "results so far in {}; continue with: scratchnet train --resume {}",
                out.display(),
                out.display()
            );
        } else {
            eprintln!("results in {}", out.display());
        }
    }
    Ok(match outcome {
        Outcome::Finished => Exit::Done,
        Outcome::Interrupted => Exit::Interrupted,
    })
}

fn eval(a: EvalArgs) -> Result<Exit, TrainError> {
    let header = ModelHeader::read(&a.model).map_err(TrainError::ModelInput)?;
    let data_dir = DataDir::resolve(a.data, &default_root());
    set_threads(a.threads)?;
    match Dtype::parse(&header.dtype) {
        Some(Dtype::F64) => eval_as::<f64>(&a.model, &data_dir),
        Some(Dtype::F32) => eval_as::<f32>(&a.model, &data_dir),
        None => Err(TrainError::bad_input(
            &a.model,
            format!("unknown dtype `{}`", header.dtype),
        )),
    }
}

fn check_mnist_shape<A: Scalar>(net: &TwoLayerNet<A>, model: &Path) -> Result<(), TrainError> {
    let (i, h, o) = net.sizes();
    if (i, o) != (784, 10) {
        return Err(TrainError::bad_input(
            model,
            format!("the network is {i}-{h}-{o}; MNIST needs 784 inputs and 10 outputs"),
        ));
    }
    Ok(())
}

fn eval_as<A: Scalar>(model: &Path, data_dir: &DataDir) -> Result<Exit, TrainError> {
    let net = TwoLayerNet::<A>::load(model).map_err(TrainError::ModelInput)?;
    check_mnist_shape(&net, model)?;
    let data = load_data::<A>(data_dir, false)?;
    let train = net.accuracy_fused(&data.x_train, &data.t_train);
    let test = net.accuracy_fused(&data.x_test, &data.t_test);
    let (_, h, _) = net.sizes();
    eprintln!(
        "{}: 784-{h}-10 {} network; {} train and {} test images from {}",
        model.display(),
        A::DTYPE,
        data.train_size(),
        data.test_size(),
        data_dir.path().display()
    );
    println!("train acc, test acc | {train:.4}, {test:.4}");
    Ok(Exit::Done)
}

fn gradcheck(a: GradcheckArgs) -> Result<Exit, TrainError> {
    let data_dir = DataDir::resolve(a.data.clone(), &default_root());
    set_threads(a.threads)?;
    match a.dtype {
        Dtype::F64 => gradcheck_as::<f64>(&a, &data_dir),
        Dtype::F32 => gradcheck_as::<f32>(&a, &data_dir),
    }
}

fn gradcheck_as<A: Scalar>(a: &GradcheckArgs, data_dir: &DataDir) -> Result<Exit, TrainError> {
    let data = load_data::<A>(data_dir, false)?;
    if a.batch > data.train_size() {
        return Err(TrainError::Usage(format!(
            "--batch {} is larger than the training set ({} images)",
            a.batch,
            data.train_size()
        )));
    }
    let idx: Vec<usize> = (0..a.batch).collect();
    let x = data.x_train.gather_rows(&idx);
    let t = data.t_train[..a.batch].to_vec();
    let net = TwoLayerNet::<A>::new(
        784,
        a.hidden,
        10,
        a.weight_init_std,
        &mut rng_from_seed(a.seed),
    );
    let check = gradient_check(&net, &x, &t, a.numgrad.strategy());
    println!(
        "gradient check: {} numerical gradient vs backprop, 784-{}-10 {} network (seed {}), first {} training images",
        a.numgrad.as_str(),
        a.hidden,
        A::DTYPE,
        a.seed,
        a.batch
    );
    print!("{check}");
    Ok(Exit::Done)
}

fn plot(a: PlotArgs) -> Result<Exit, TrainError> {
    let metrics = Metrics::read_csvs(&a.dir)?;
    let summary_path = a.dir.join(SUMMARY_FILE);
    let subtitle = if summary_path.exists() {
        Summary::describe_config(&Summary::read(&summary_path)?.config())
    } else {
        a.dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| a.dir.display().to_string())
    };
    let loss = a.dir.join(LOSS_PNG);
    let acc = a.dir.join(ACCURACY_PNG);
    draw_loss(&loss, &metrics.losses, &subtitle)?;
    draw_accuracy(&acc, &metrics.accuracy, &subtitle)?;
    eprintln!("wrote {} and {}", loss.display(), acc.display());
    Ok(Exit::Done)
}

fn export(a: ExportArgs) -> Result<Exit, TrainError> {
    let header = ModelHeader::read(&a.model).map_err(TrainError::ModelInput)?;
    match Dtype::parse(&header.dtype) {
        Some(Dtype::F64) => {
            let net = TwoLayerNet::<f64>::load(&a.model).map_err(TrainError::ModelInput)?;
            net.export_npz(&a.npz).map_err(TrainError::ModelOutput)?;
        }
        Some(Dtype::F32) => {
            let net = TwoLayerNet::<f32>::load(&a.model).map_err(TrainError::ModelInput)?;
            net.export_npz(&a.npz).map_err(TrainError::ModelOutput)?;
        }
        None => {
            return Err(TrainError::bad_input(
                &a.model,
                format!("unknown dtype `{}`", header.dtype),
            ));
        }
    }
    eprintln!(
        "wrote {}: W1 ({}, {}), b1 ({}), W2 ({}, {}), b2 ({}) as {}",
        a.npz.display(),
        header.input,
        header.hidden,
        header.hidden,
        header.hidden,
        header.output,
        header.output,
        header.dtype
    );
    Ok(Exit::Done)
}
