//! The `scratchnet` command line: flags (clap, common groups flattened), the subcommands,
//! Ctrl-C and exit codes. Glue only: each subcommand is a few calls into the library.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock};

use clap::error::ErrorKind;
use clap::{Args, Parser, Subcommand};
use ndarray_npy::{ReadableElement, WritableElement};
use scratchnet_fileio::{RunDir, check_new_out_dir, new_run_id};
use scratchnet_mnist::DataDir;
use scratchnet_network::layers::LossGradient;
use scratchnet_network::{ExportFormat, Gradient, ModelInfo, Net, NetSpec};
use scratchnet_tensor::{Scalar, rng_from_seed};

use crate::check_net_memory;
use crate::flags::{HiddenSizes, NetFlags, NumGradMethod, TrainFlags};
use crate::flags::{max_threads, parse_count, parse_fraction, parse_hidden};
use crate::search::{SEARCH_CSV, SEARCH_PNG, SearchConfig, Trial, book_table, draw_best, py_float};
use crate::{CHECKPOINT_FILE, DEFAULT_SEED, EXIT_CODES, SUMMARY_FILE, Summary};
use crate::{
    Checkpoint, Dtype, Outcome, Progress, RunConfig, Session, SparseMnist, TrainError, Trainer,
    run_session,
};
use scratchnet_fileio::{errln, outln};

/// Trains the two-layer network of "Deep Learning from Scratch" chapter 4 on MNIST.
#[derive(Debug, Parser)]
#[command(
    name = "scratchnet",
    version,
    args_conflicts_with_subcommands = true,
    about = "Trains the two-layer network of \"Deep Learning from Scratch\" chapter 4 on MNIST.",
    long_about = "Trains the networks of \"Deep Learning from Scratch\" on MNIST: chapter 4's \
                  two-layer net (the default), chapter 5-6's deep nets with batch norm, dropout, \
                  weight decay and six optimizers (--hidden, --optimizer, ...), chapter 7's \
                  SimpleConvNet and chapter 8's DeepConvNet (--net).\n\n\
                  Without a subcommand, runs `train` (the notebook's §4.5.3 configuration by default).",
    after_help = EXIT_CODES
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// `train` flags, accepted without the word `train`.
    #[command(flatten)]
    train: TrainArgs,
}

#[derive(Debug, Subcommand)]
// built once per process: the size of the largest variant costs nothing
#[allow(clippy::large_enum_variant)]
enum Command {
    /// Train a network on MNIST: by default the notebook's TwoLayerNet with mini-batch SGD
    /// (§4.5.2-4.5.3); deep nets with --hidden 100,100 --batch-norm --dropout R --optimizer adam
    /// (ch. 5-6); --net simple-convnet (ch. 7) or deep-convnet (ch. 8). Prints the accuracy every
    /// epoch and writes loss.csv, accuracy.csv, loss.png, accuracy.png, model.bin, summary.json,
    /// run.id and checkpoint.bin to the output folder.
    #[command(after_help = EXIT_CODES)]
    Train(TrainArgs),
    /// Print the train and test accuracy of a saved model (any network; model.bin, a run folder,
    /// or the book's parameters as .npz).
    #[command(after_help = EXIT_CODES)]
    Eval(EvalArgs),
    /// The book's gradient check: numerical gradient vs backprop on a real MNIST batch, per
    /// parameter.
    #[command(after_help = EXIT_CODES)]
    Gradcheck(GradcheckArgs),
    /// Re-draw loss.png and accuracy.png of a run folder from its CSV files; with its model,
    /// also misclassified.png, confusion.png/csv (and filters.png for a convolutional net).
    #[command(after_help = EXIT_CODES)]
    Plot(PlotArgs),
    /// Write a saved model's parameters under the book's names (W1, b1, W2, b2, …; gamma1,
    /// beta1, running_mean1, running_var1 with batch norm) as a NumPy .npz or a .safetensors.
    #[command(after_help = EXIT_CODES)]
    Export(ExportArgs),
    /// The book's random hyper-parameter search (ch06/hyperparameter_optimization.py): trials of
    /// lr = 10^U(-6,-2) and weight decay = 10^U(-8,-4), each a short training validated on a
    /// held-out split; writes search.csv and search.png (the best 20) to the output folder and
    /// prints the trials best first.
    #[command(after_help = EXIT_CODES)]
    Search(SearchArgs),
    /// Serve a local page where you draw a digit and watch a trained network read it: its
    /// probabilities, first-layer weights, activations, test-set mistakes and training curves
    /// (the scratchnet-serve crate). Ctrl-C stops it.
    Serve(scratchnet_serve::ServeArgs),
}

fn parse_threads(s: &str) -> Result<usize, String> {
    let n = parse_count(s)?;
    let max = max_threads();
    if n > max {
        return Err(format!(
            "{n} is more than {max} (4 per CPU, at most 256); results do not depend on it"
        ));
    }
    Ok(n)
}

/// Where MNIST is and how many threads read it: every subcommand that loads data.
#[derive(Debug, Clone, Args)]
struct DataArgs {
    /// MNIST folder [default: $MNIST_DIR, else data/mnist]. Only the default folder is ever
    /// downloaded into (mirrors from $MNIST_MIRROR first).
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Worker threads [default: one per CPU]; results do not depend on it.
    #[arg(long, value_parser = parse_threads)]
    threads: Option<usize>,
}

impl DataArgs {
    fn dir(&self) -> DataDir {
        DataDir::resolve(self.data.clone(), default_root())
    }
}

/// Flags of `scratchnet train`; the defaults are the notebook's.
#[derive(Debug, Clone, Args)]
struct TrainArgs {
    #[command(flatten)]
    flags: TrainFlags,
    #[command(flatten)]
    env: DataArgs,
    /// Output folder, new or empty [default: a new folder under runs/]. Claimed by this run
    /// alone (a lock file while it runs).
    #[arg(long, value_name = "DIR", conflicts_with = "resume")]
    out: Option<PathBuf>,
    /// Continue the interrupted run in DIR to its planned iteration count, with its own
    /// configuration (only --threads and --data may be given with it).
    #[arg(
        long,
        value_name = "DIR",
        conflicts_with_all = [
            "grad", "numgrad", "iters", "batch", "lr", "hidden", "activation", "init",
            "weight_init_std", "optimizer", "momentum", "beta1", "beta2", "decay_rate",
            "weight_decay", "batch_norm", "dropout", "train_first", "validation", "seed", "dtype",
            "shift"
        ]
    )]
    resume: Option<PathBuf>,
    /// Progress display: a bar on a terminal, plain lines otherwise; `--quiet` prints neither
    /// (the accuracy lines included).
    #[arg(long)]
    quiet: bool,
}

/// Flags of `scratchnet eval`.
#[derive(Debug, Args)]
struct EvalArgs {
    /// The model file: model.bin of a run folder, or a NumPy .npz of the parameters under the
    /// book's names (W1, b1, …; gamma1, beta1 with batch norm) for the network --net (or
    /// --hidden, --activation, --batch-norm) describes, of float32 or float64.
    #[arg(long, value_name = "FILE")]
    model: PathBuf,
    /// The network of a .npz model (a model.bin records its own).
    #[command(flatten)]
    net: NetFlags,
    /// Also the book's half_float_network.py: the test accuracy in float64, then with every
    /// parameter and input rounded to float16 (computed in float64, as NumPy does).
    #[arg(long)]
    half: bool,
    /// Write misclassified.png (the first 20 misclassified test images, the book's figure
    /// 8-3), confusion.png and confusion.csv (the 10×10 confusion matrix on the test set) to
    /// this new or empty folder, and print the book's misclassified dict and the matrix.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    #[command(flatten)]
    env: DataArgs,
}

/// Flags of `scratchnet gradcheck`.
#[derive(Debug, Args)]
struct GradcheckArgs {
    /// Seed of the RNG that draws the network's initial weights.
    #[arg(long, default_value_t = DEFAULT_SEED)]
    seed: u64,
    /// Number of training images in the batch (the book uses the first 3).
    #[arg(long, default_value = "3", value_parser = parse_count)]
    batch: usize,
    /// The network checked.
    #[command(flatten)]
    net: NetFlags,
    /// Numerical-gradient algorithm compared with backprop (`generic` is the book's; `fast`
    /// applies to the notebook's net only).
    #[arg(long, value_enum, default_value = "generic")]
    numgrad: NumGradMethod,
    /// Backprop with the exact gradient of the loss, whose log has δ = 1e-7 inside, instead of
    /// the book's (y − t)/N that training uses: agreement ~1e-10 instead of the book's ~1e-7.
    #[arg(long)]
    exact_delta: bool,
    /// Element type.
    #[arg(long, default_value = "f64", value_parser = crate::flags::dtype_parser())]
    dtype: Dtype,
    #[command(flatten)]
    env: DataArgs,
}

fn parse_exp_range(s: &str) -> Result<(f64, f64), String> {
    let num = |p: &str| match p.trim().parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(format!("`{}` is not a finite number", p.trim())),
    };
    let Some((lo, hi)) = s.split_once(',').filter(|(_, hi)| !hi.contains(',')) else {
        return Err(format!("`{s}` is not two exponents MIN,MAX (e.g. -6,-2)"));
    };
    let (lo, hi) = (num(lo)?, num(hi)?);
    if lo > hi {
        return Err(format!("MIN {lo} is more than MAX {hi}"));
    }
    Ok((lo, hi))
}

/// Flags of `scratchnet search`; the defaults are the book's.
#[derive(Debug, Clone, Args)]
struct SearchArgs {
    /// Number of trials (`optimization_trial`).
    #[arg(long, default_value = "100", value_parser = parse_count)]
    trials: usize,
    /// Epochs of each trial's training (an epoch is max(training images / batch, 1) iterations).
    #[arg(long, default_value = "50", value_parser = parse_count)]
    epochs: usize,
    /// Use the first N training images, of which --validation is held out.
    #[arg(long = "train-size", value_name = "N", default_value = "500", value_parser = parse_count)]
    train_size: usize,
    /// The fraction (in (0, 1)) of the --train-size images held out for validation, shuffled by
    /// the seed (the book's shuffle_dataset, then the first 20 %).
    #[arg(long, value_name = "FRACTION", default_value = "0.2", value_parser = parse_fraction, allow_negative_numbers = true)]
    validation: f64,
    /// Mini-batch size of each trial, drawn with replacement.
    #[arg(long, default_value = "100", value_parser = parse_count)]
    batch: usize,
    /// Hidden-layer widths of each trial's ReLU net (He initial weights), comma-separated.
    #[arg(long, default_value = "100,100,100,100,100,100", value_parser = parse_hidden)]
    hidden: HiddenSizes,
    /// lr = 10^U(MIN, MAX).
    #[arg(long = "lr-exp", value_name = "MIN,MAX", default_value = "-6,-2", value_parser = parse_exp_range, allow_hyphen_values = true)]
    lr_exp: (f64, f64),
    /// weight decay = 10^U(MIN, MAX).
    #[arg(long = "weight-decay-exp", value_name = "MIN,MAX", default_value = "-8,-4", value_parser = parse_exp_range, allow_hyphen_values = true)]
    weight_decay_exp: (f64, f64),
    /// Seed of the draws, of the validation split and of every trial's training.
    #[arg(long, default_value_t = DEFAULT_SEED)]
    seed: u64,
    /// Element type of all arrays.
    #[arg(long, default_value = "f64", value_parser = crate::flags::dtype_parser())]
    dtype: Dtype,
    #[command(flatten)]
    env: DataArgs,
    /// Output folder, new or empty [default: a new folder under runs/].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Print only the sorted table and the summary, not a line per finished trial.
    #[arg(long)]
    quiet: bool,
}

/// Flags of `scratchnet plot`.
#[derive(Debug, Args)]
struct PlotArgs {
    /// A run folder holding loss.csv and accuracy.csv (summary.json, if there, names the run in
    /// the titles), or a search folder holding search.csv (search.png is redrawn). With
    /// model.bin and summary.json there, also misclassified.png (the first 20 misclassified test
    /// images, the book's figure 8-3), confusion.png and confusion.csv, and for a convolutional
    /// net filters.png (figure 7-24).
    #[arg(value_name = "DIR")]
    dir: PathBuf,
    /// MNIST folder for the misclassified and confusion figures [default: the run's own];
    /// never downloaded into.
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
}

/// Flags of `scratchnet export`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["npz", "out"])))]
struct ExportArgs {
    /// The model file (model.bin of a run folder) of any network.
    #[arg(long, value_name = "FILE")]
    model: PathBuf,
    /// The .npz file to write (a new or regular file; a symbolic link is followed); the same
    /// as --out FILE --format npz.
    #[arg(long, value_name = "OUT", conflicts_with_all = ["out", "format"])]
    npz: Option<PathBuf>,
    /// The file to write (a new or regular file; a symbolic link is followed), in the format
    /// --format names or, without it, its extension says (.npz or .safetensors).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// `npz` (NumPy: np.load) or `safetensors` (candle, burn, PyTorch's safetensors.torch).
    #[arg(long, value_parser = export_format(), requires = "out")]
    format: Option<ExportFormat>,
}

fn export_format() -> impl clap::builder::TypedValueParser<Value = ExportFormat> {
    use clap::builder::{PossibleValuesParser, TypedValueParser as _};
    PossibleValuesParser::new(["npz", "safetensors"]).try_map(|s: String| s.parse::<ExportFormat>())
}

impl ExportArgs {
    /// The file to write and its format.
    fn target(&self) -> Result<(&Path, ExportFormat), TrainError> {
        match (&self.npz, &self.out) {
            (Some(npz), _) => Ok((npz, ExportFormat::Npz)),
            (None, Some(out)) => self.format.or(ExportFormat::of_path(out)).map(|f| (out.as_path(), f)).ok_or_else(|| {
                TrainError::Usage(format!(
                    "--out {}: cannot tell the format from the extension; name it .npz or .safetensors, or give --format npz|safetensors",
                    out.display()
                ))
            }),
            (None, None) => Err(TrainError::Usage("give --out FILE (or --npz FILE)".into())),
        }
    }
}

/// How a command ended without error: done (exit 0) or training stopped by Ctrl-C (130).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Exit {
    Done,
    Interrupted,
}

/// What Ctrl-C does: inside a training loop it asks the loop to stop after the current
/// iteration (`stop`), anywhere else (loading, downloading, eval, gradcheck) it ends the process
/// at once with exit code 130, before anything is written.
#[derive(Debug, Default)]
struct Interrupt {
    stop: Arc<AtomicBool>,
    /// True while a training loop runs (and writes its files).
    training: AtomicBool,
}

/// Raised by Ctrl-C while MNIST downloads: the fetch stops between reads and leaves no temp file.
static FETCH_CANCEL: LazyLock<Arc<AtomicBool>> = LazyLock::new(Default::default);
/// True while [`load_data`] may be downloading.
static DOWNLOADING: AtomicBool = AtomicBool::new(false);

/// The folder the default `data/mnist` and `runs/` are relative to: the workspace root when the
/// binary is run by `cargo run` (Cargo then sets `CARGO_MANIFEST_DIR` to this crate's folder),
/// else the current folder.
fn default_root() -> PathBuf {
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

/// The error as the command line prints it: a configuration error names its flag
/// (`--weight-init-std must be ...`).
fn message(e: &TrainError) -> String {
    match e {
        TrainError::Config { field, problem } => {
            format!("--{} {problem}", field.replace('_', "-"))
        }
        e => e.to_string(),
    }
}

/// Parses the command line, installs the Ctrl-C handler, runs the command and exits with the
/// code of the rule in [`EXIT_CODES`].
pub(crate) fn main() -> ! {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => match e.kind() {
            ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                let _ = e.print();
                std::process::exit(0)
            }
            _ => {
                // One line: clap's message and its details (possible values, the conflicting
                // flag), without the usage block.
                let text = e.render().to_string();
                let line = text
                    .lines()
                    .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more"))
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .collect::<Vec<_>>()
                    .join(" ");
                errln!("{line} (see --help)");
                std::process::exit(2);
            }
        },
    };
    if let Some(Command::Serve(a)) = &cli.command {
        // before the Ctrl-C handler below: the server stops on Ctrl-C itself, letting the
        // requests under way finish
        match scratchnet_serve::run(a, &default_root()) {
            Ok(()) => std::process::exit(0),
            Err(e) => {
                errln!("error: {e}");
                std::process::exit(e.exit_code());
            }
        }
    }
    let interrupt = Arc::new(Interrupt::default());
    let state = interrupt.clone();
    let handler = ctrlc::set_handler(move || {
        if DOWNLOADING.load(Ordering::SeqCst) {
            // the fetch notices between reads, removes its temp file and returns Interrupted
            FETCH_CANCEL.store(true, Ordering::SeqCst);
            errln!("\ninterrupted: stopping the download");
            return;
        }
        if !state.training.load(Ordering::SeqCst) {
            errln!("\ninterrupted");
            std::process::exit(130);
        }
        // The first Ctrl-C asks the loop to stop after the current iteration and write its
        // files; a second one gives up at once (every file on disk is complete: all are
        // written atomically).
        if state.stop.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
        errln!("\nstopping after the current iteration (Ctrl-C again to quit at once)");
    });
    if let Err(e) = handler {
        errln!("warning: cannot catch Ctrl-C: {e}");
    }
    match run_cli(cli, &interrupt) {
        Ok(Exit::Done) => std::process::exit(0),
        Ok(Exit::Interrupted) | Err(TrainError::Interrupted) => std::process::exit(130),
        Err(e) => {
            errln!("error: {}", message(&e));
            std::process::exit(e.exit_code());
        }
    }
}

/// Runs `$body` with `$A` the element type `$dtype` names: the command line's one dtype
/// dispatch.
macro_rules! with_dtype {
    ($dtype:expr, $A:ident => $body:expr) => {
        match $dtype {
            Dtype::F64 => {
                type $A = f64;
                $body
            }
            Dtype::F32 => {
                type $A = f32;
                $body
            }
        }
    };
}

fn run_cli(cli: Cli, interrupt: &Interrupt) -> Result<Exit, TrainError> {
    // The pool is sized first: the first call that asks rayon for its thread count (the
    // memory estimate in validation does) starts the global pool with the default size.
    let threads = match &cli.command {
        None => cli.train.env.threads,
        Some(Command::Train(a)) => a.env.threads,
        Some(Command::Eval(a)) => a.env.threads,
        Some(Command::Gradcheck(a)) => a.env.threads,
        Some(Command::Search(a)) => a.env.threads,
        Some(Command::Plot(_) | Command::Export(_) | Command::Serve(_)) => None,
    };
    if let Some(n) = threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
            .map_err(|e| TrainError::Usage(format!("--threads {n}: {e}")))?;
    }
    match cli.command {
        None => train(cli.train, interrupt),
        Some(Command::Train(a)) => train(a, interrupt),
        Some(Command::Eval(a)) => eval(a),
        Some(Command::Gradcheck(a)) => {
            let spec = checked_spec(&a)?;
            with_dtype!(a.dtype, A => gradcheck::<A>(&a, spec))
        }
        Some(Command::Plot(a)) => plot(a),
        Some(Command::Export(a)) => export(a),
        Some(Command::Search(a)) => search(a, interrupt),
        Some(Command::Serve(a)) => scratchnet_serve::run(&a, &default_root())
            .map(|()| Exit::Done)
            .map_err(|e| TrainError::Usage(e.to_string())),
    }
}

/// The element types a run can use, and what each needs.
trait RunScalar: Scalar + WritableElement + ReadableElement {}
impl<A: Scalar + WritableElement + ReadableElement> RunScalar for A {}

/// The dtype a model file holds.
fn model_dtype(model: &Path) -> Result<Dtype, TrainError> {
    let header = ModelInfo::read(model).map_err(TrainError::ModelInput)?;
    Dtype::parse(&header.dtype)
        .ok_or_else(|| TrainError::bad_input(model, format!("unknown dtype `{}`", header.dtype)))
}

/// Loads MNIST as `A`, fetching into the default folder first if needed.
fn load_data<A: Scalar>(dir: &DataDir, quiet: bool) -> Result<SparseMnist<A>, TrainError> {
    DOWNLOADING.store(true, Ordering::SeqCst);
    let fetched = crate::data::ensure(dir, !quiet, FETCH_CANCEL.clone());
    DOWNLOADING.store(false, Ordering::SeqCst);
    fetched?;
    crate::data::load(dir.path())
}

/// `SCRATCHNET_STOP_AFTER=N` stops a training run as Ctrl-C would once N iterations are done:
/// a testing aid of the `test-hooks` feature (the tests' build), absent from a release.
fn stop_after() -> Option<usize> {
    if cfg!(feature = "test-hooks") {
        std::env::var("SCRATCHNET_STOP_AFTER")
            .ok()?
            .trim()
            .parse()
            .ok()
    } else {
        None
    }
}

fn train(a: TrainArgs, interrupt: &Interrupt) -> Result<Exit, TrainError> {
    let config = match &a.resume {
        Some(dir) => {
            let config = Checkpoint::read_config(&dir.join(CHECKPOINT_FILE))?;
            // each output checked to be writable before any training (a directory or FIFO
            // under one of these names is refused now, not after the work)
            for name in crate::RUN_FILES {
                scratchnet_fileio::resolve_output(dir.join(name)).map_err(TrainError::Output)?;
            }
            scratchnet_fileio::probe_writable(dir).map_err(TrainError::Output)?;
            config
        }
        None => {
            let config = a.flags.resolve()?;
            if let Some(out) = &a.out {
                check_new_out_dir(out).map_err(TrainError::Output)?;
            }
            config
        }
    };
    with_dtype!(config.dtype, A => train_as::<A>(&a, config, interrupt))
}

fn train_as<A: RunScalar>(
    a: &TrainArgs,
    config: RunConfig,
    interrupt: &Interrupt,
) -> Result<Exit, TrainError> {
    let data_dir = a.env.dir();
    let (ck, dir) = match &a.resume {
        Some(dir) => {
            let ck = Checkpoint::<A>::read(&dir.join(CHECKPOINT_FILE))?;
            ck.check_belongs(dir)?;
            if ck.iters_done >= ck.config.schedule.iters {
                if !a.quiet {
                    errln!(
                        "{}: the run is already complete ({} of {} iterations)",
                        dir.display(),
                        ck.iters_done,
                        ck.config.schedule.iters
                    );
                }
                return Ok(Exit::Done);
            }
            (Some(ck), Some(dir))
        }
        None => (None, None),
    };
    let data = load_data::<A>(&data_dir, a.quiet)?;
    let data = ck.as_ref().map_or(&config, |c| &c.config).data_of(&data)?;
    let (trainer, wall, run_id, run) = match (ck, dir) {
        (Some(ck), Some(dir)) => {
            let (wall, id) = (ck.wall_s, ck.run_id.clone().unwrap_or_else(new_run_id));
            let trainer = Trainer::from_checkpoint(ck, &data)?;
            let run = RunDir::claim_existing(dir).map_err(TrainError::Output)?;
            // We hold the folder: temp files in it are leftovers of a killed process.
            let removed = scratchnet_fileio::remove_stale_temps(run.path(), Default::default())
                .map_err(TrainError::Output)?;
            if !removed.is_empty() && !a.quiet {
                errln!(
                    "removed {} stale temp file(s) of an earlier, killed session",
                    removed.len()
                );
            }
            (trainer, wall, id, run)
        }
        _ => {
            let trainer = Trainer::new(config, &data)?;
            let run = match &a.out {
                Some(out) => RunDir::claim_new(out),
                None => RunDir::claim_default(&default_root()),
            }
            .map_err(TrainError::Output)?;
            (trainer, 0.0, new_run_id(), run)
        }
    };
    interrupt.training.store(true, Ordering::SeqCst);
    let c = trainer.config();
    if !a.quiet {
        let from = trainer.iters_done();
        errln!(
            "scratchnet train: {}, {} iterations{}, seed {}, {} thread(s)",
            c.describe(),
            c.schedule.iters,
            if from > 0 {
                format!(" (resuming after {from})")
            } else {
                String::new()
            },
            c.seed,
            rayon::current_num_threads()
        );
        errln!(
            "data: {}   results: {}",
            data_dir.path().display(),
            run.path().display()
        );
        if c.schedule.gradient == Gradient::NumericalBook {
            // the book's method: two forward passes of the batch per parameter
            errln!(
                "note: the numerical gradient takes 2 × {} forward passes of the batch per iteration; seconds to minutes each on this net (--grad backprop: the same gradient in one pass)",
                c.net.param_count()
            );
        }
    }
    let session = Session {
        out: run.path().to_owned(),
        run_id: Some(run_id),
        stop_after: stop_after(),
        interrupt: interrupt.stop.clone(),
        progress: if a.quiet {
            Progress::Quiet
        } else {
            Progress::Auto
        },
        data_dir: data_dir.path().to_owned(),
    };
    let (outcome, s) = run_session(trainer, wall, &session)?;
    let out = run.path().display();
    if !a.quiet {
        errln!("{s}");
        if s.interrupted {
            errln!("results so far in {out}; continue with: scratchnet train --resume {out}");
        } else {
            errln!("results in {out}");
        }
    }
    Ok(match outcome {
        Outcome::Finished => Exit::Done,
        Outcome::Interrupted => Exit::Interrupted,
    })
}

/// Loads a model for MNIST (`eval`, `plot`): its first and last widths must be 784 and 10.
fn load_model<A: RunScalar>(model: &Path, spec: Option<NetSpec>) -> Result<Net<A>, TrainError> {
    let net = match spec {
        Some(spec) => Net::<A>::import_npz(spec, model),
        None => Net::<A>::load(model),
    }
    .map_err(TrainError::ModelInput)?;
    let sizes = net.sizes();
    if (sizes[0], sizes[sizes.len() - 1]) != (784, 10) {
        return Err(TrainError::bad_input(
            model,
            format!(
                "the network is {}; MNIST needs 784 inputs and 10 outputs",
                net.describe()
            ),
        ));
    }
    Ok(net)
}

fn eval(mut a: EvalArgs) -> Result<Exit, TrainError> {
    // a run folder: its model
    if a.model.is_dir() {
        a.model = a.model.join(crate::MODEL_FILE);
    }
    let npz = a
        .model
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("npz"));
    let (spec, dtype) = if npz {
        let spec = a.net.spec();
        spec.validate()
            .map_err(|e| TrainError::config("net", e.to_string()))?;
        let dtype = scratchnet_network::npz_dtype(&a.model).map_err(TrainError::ModelInput)?;
        (
            Some(spec),
            Dtype::parse(dtype).expect("npz_dtype names f32 or f64"),
        )
    } else if a.net.given() {
        return Err(TrainError::Usage(format!(
            "--net and the other network flags apply to a .npz model; {} records its network",
            a.model.display()
        )));
    } else {
        (None, model_dtype(&a.model)?)
    };
    if let Some(out) = &a.out {
        check_new_out_dir(out).map_err(TrainError::Output)?;
    }
    with_dtype!(dtype, A => eval_as::<A>(&a, spec))
}

fn eval_as<A: RunScalar>(a: &EvalArgs, spec: Option<NetSpec>) -> Result<Exit, TrainError> {
    let model = a.model.as_path();
    let net = load_model::<A>(model, spec)?;
    let data_dir = a.env.dir();
    let data = load_data::<A>(&data_dir, false)?;
    let train = net.accuracy(&data.x_train, &data.t_train);
    let test = net.accuracy(&data.x_test, &data.t_test);
    let (params, state) = (net.params(), net.state());
    let arrays: Vec<&str> = params.names().chain(state.names()).collect();
    errln!(
        "{}: {} {} network ({}); {} train and {} test images from {}",
        model.display(),
        A::DTYPE,
        net.describe(),
        arrays.join(", "),
        data.train_size(),
        data.test_size(),
        data_dir.path().display()
    );
    if !net.all_finite() {
        errln!(
            "warning: {} holds parameters that are NaN or infinite: its predictions mean nothing",
            model.display()
        );
    }
    if data.test_size() == 0 {
        outln!("train acc | {train:.4} (no test images)");
    } else {
        outln!("train acc, test acc | {train:.4}, {test:.4}");
    }
    if a.half {
        // the book's sampled = 10000: the whole test set
        let x = scratchnet_network::Input::from(&data.x_test);
        let x = x.to_dense();
        let acc = scratchnet_network::half_float_accuracy(&net, x.view(), &data.t_test)
            .map_err(TrainError::ModelInput)?;
        // the book's lines, its spelling kept
        outln!("caluculate accuracy (float64) ... ");
        outln!("{}", py_float(acc.float64));
        outln!("caluculate accuracy (float16) ... ");
        outln!("{}", py_float(acc.float16));
    }
    if let Some(out) = &a.out {
        let run = RunDir::claim_new(out).map_err(TrainError::Output)?;
        let title = model.file_name().unwrap_or_default().to_string_lossy();
        let (confusion, dict) = mistakes(&net, &data, run.path(), &title)?;
        outln!("test accuracy:{}", py_float(confusion.accuracy()));
        outln!("======= misclassified result =======");
        outln!("{{view index: (label, inference), ...}}");
        outln!("{dict}");
        scratchnet_fileio::console::out(format_args!("{confusion}"));
        errln!(
            "wrote {}, {} and {} in {}",
            crate::plot::MISCLASSIFIED_PNG,
            crate::plot::CONFUSION_PNG,
            crate::plot::CONFUSION_CSV,
            run.path().display()
        );
    }
    Ok(Exit::Done)
}

/// The final model's mistakes on the test set, drawn into `dir`.
fn mistakes<A: RunScalar>(
    net: &Net<A>,
    data: &SparseMnist<A>,
    dir: &Path,
    title: &str,
) -> Result<(scratchnet_network::Confusion, String), TrainError> {
    let predicted = net.predict_classes(&data.x_test);
    crate::plot::draw_mistakes(dir, &data.x_test, &data.t_test, &predicted, title)
}

/// The checked network's spec, validated as `train` validates its own.
fn checked_spec(a: &GradcheckArgs) -> Result<NetSpec, TrainError> {
    let spec = a.net.spec();
    crate::flags::gradient_of(None, Some(a.numgrad), &spec, a.net.net.is_some())?;
    check_net_memory(&spec, a.batch, a.dtype)?;
    spec.validate()
        .map_err(|e| TrainError::config("net", e.to_string()))?;
    Ok(spec)
}

fn gradcheck<A: RunScalar>(a: &GradcheckArgs, spec: NetSpec) -> Result<Exit, TrainError> {
    let data = load_data::<A>(&a.env.dir(), false)?;
    if a.batch > data.train_size() {
        return Err(TrainError::config(
            "batch",
            format!(
                "{} is larger than the training set ({} images)",
                a.batch,
                data.train_size()
            ),
        ));
    }
    let idx: Vec<usize> = (0..a.batch).collect();
    let (x, t) = (data.x_train.gather_rows(&idx), &data.t_train[..a.batch]);
    let dense = spec.dense().ok();
    let net = Net::<A>::new(spec, &mut rng_from_seed(a.seed))
        .map_err(|e| TrainError::config("init", e.to_string()))?;
    let book = a.numgrad == NumGradMethod::Generic;
    let (lg, which) = if a.exact_delta {
        (LossGradient::ExactDelta, "backprop (exact δ-gradient)")
    } else {
        (LossGradient::Book, "backprop")
    };
    let check = net.gradient_check(&x, t, book, lg, &mut rng_from_seed(a.seed));
    // the net names its batch norm, dropout and λ
    let dropout = dense.as_ref().is_some_and(|d| d.dropout.is_some());
    outln!(
        "gradient check: {} numerical gradient vs {which}, {} {} network (seed {}{}), first {} training images",
        if book { "generic" } else { "fast" },
        A::DTYPE,
        net.describe(),
        a.seed,
        if dropout {
            ", one set of dropout masks"
        } else {
            ""
        },
        a.batch
    );
    scratchnet_fileio::console::out(format_args!("{check}"));
    let zero_rows = check.zero_tensors();
    if !zero_rows.is_empty() {
        outln!(
            "{}: gradient 0{}, so both figures are roundings of 0 and their max rel diff means nothing; judged by mean |diff|",
            zero_rows.join(", "),
            if dense.as_ref().is_some_and(|d| d.batch_norm) {
                " in exact arithmetic (batch norm removes any shift)"
            } else {
                " (saturated or dead units)"
            }
        );
    }
    // f32: the check's own note (Display) says why the figures are loose; the flag is ours
    if A::DTYPE == "f32" {
        outln!("(--dtype f64 checks in f64)");
    }
    match check.verdict() {
        Ok(line) => {
            outln!("{line}");
            Ok(Exit::Done)
        }
        Err(line) => Err(TrainError::Failed(line)),
    }
}

fn plot(a: PlotArgs) -> Result<Exit, TrainError> {
    let search_csv = a.dir.join(SEARCH_CSV);
    if !a.dir.join(crate::LOSS_CSV).exists() && search_csv.exists() {
        // a search folder: its figure of the best trials
        let png = a.dir.join(SEARCH_PNG);
        draw_best(&png, &crate::search::read_csv(&search_csv)?)?;
        errln!("wrote {}", png.display());
        return Ok(Exit::Done);
    }
    let (metrics, held_out) = crate::Metrics::read_csvs(&a.dir)?;
    let summary_path = a.dir.join(SUMMARY_FILE);
    let summary = match summary_path.exists() {
        true => Some(Summary::read(&summary_path)?),
        false => None,
    };
    let subtitle = match &summary {
        Some(s) => s.config.describe(),
        None => a.dir.file_name().map_or_else(
            || a.dir.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        ),
    };
    crate::plot::draw_run(&a.dir, &metrics, &subtitle, held_out)?;
    errln!(
        "wrote {} and {}",
        a.dir.join(crate::LOSS_PNG).display(),
        a.dir.join(crate::ACCURACY_PNG).display()
    );
    let model = a.dir.join(crate::MODEL_FILE);
    let Some(summary) = summary.filter(|_| model.exists()) else {
        return Ok(Exit::Done);
    };
    // the run's MNIST, when it is there (plot never downloads)
    let dir = a
        .data
        .clone()
        .unwrap_or_else(|| PathBuf::from(&summary.data_dir));
    let data = scratchnet_mnist::missing_files(&dir)
        .is_empty()
        .then_some(&dir);
    if data.is_none() {
        errln!(
            "no MNIST in {}: {} and {} not drawn (give --data DIR)",
            dir.display(),
            crate::plot::MISCLASSIFIED_PNG,
            crate::plot::CONFUSION_PNG
        );
    }
    with_dtype!(summary.config.dtype, A => plot_model::<A>(&a.dir, &model, &summary.config, data))
}

/// `plot`'s figures of the final model: a convolutional net's first-layer filters before and
/// after training (the book's figure 7-24; the weights before are drawn again from the run's
/// seed, as the run drew them), and its mistakes on the test set when `data` is given.
fn plot_model<A: RunScalar>(
    dir: &Path,
    model: &Path,
    config: &RunConfig,
    data: Option<&PathBuf>,
) -> Result<Exit, TrainError> {
    let after = load_model::<A>(model, None)?;
    if config.net.input.len() == 3 {
        let before = config.new_net::<A>(&mut rng_from_seed(config.seed))?;
        let path = dir.join("filters.png");
        crate::plot::draw_filters(&path, &before.params()["W1"], &after.params()["W1"])?;
        errln!("wrote {}", path.display());
    }
    if let Some(data) = data {
        let data = crate::data::load::<A>(data)?;
        let title = dir.file_name().unwrap_or_default().to_string_lossy();
        mistakes(&after, &data, dir, &title)?;
        errln!(
            "wrote {}, {} and {}",
            dir.join(crate::plot::MISCLASSIFIED_PNG).display(),
            dir.join(crate::plot::CONFUSION_PNG).display(),
            dir.join(crate::plot::CONFUSION_CSV).display()
        );
    }
    Ok(Exit::Done)
}

fn export(a: ExportArgs) -> Result<Exit, TrainError> {
    let (out, format) = a.target()?;
    let dtype = model_dtype(&a.model)?;
    // Refuse a bad target before reading the whole model.
    scratchnet_fileio::resolve_output(out).map_err(TrainError::Output)?;
    with_dtype!(dtype, A => {
        let net = Net::<A>::load(&a.model).map_err(TrainError::ModelInput)?;
        let arrays = net.export(out, format).map_err(TrainError::ModelOutput)?;
        errln!("wrote {}: {} as {}", out.display(), arrays, A::DTYPE);
    });
    Ok(Exit::Done)
}

fn search(a: SearchArgs, interrupt: &Interrupt) -> Result<Exit, TrainError> {
    let config = SearchConfig {
        trials: a.trials,
        epochs: a.epochs,
        train_size: a.train_size,
        validation: a.validation,
        batch: a.batch,
        hidden: a.hidden.0.clone(),
        lr_exp: a.lr_exp,
        weight_decay_exp: a.weight_decay_exp,
        seed: a.seed,
        dtype: a.dtype,
    };
    config.validate()?;
    if let Some(out) = &a.out {
        check_new_out_dir(out).map_err(TrainError::Output)?;
    }
    with_dtype!(a.dtype, A => search_as::<A>(&a, &config, interrupt))
}

fn search_as<A: RunScalar>(
    a: &SearchArgs,
    config: &SearchConfig,
    interrupt: &Interrupt,
) -> Result<Exit, TrainError> {
    let data_dir = a.env.dir();
    let data = load_data::<A>(&data_dir, a.quiet)?;
    // every check that needs the data before the folder is claimed
    let (split, iters) = config.prepare(&data)?;
    let run = match &a.out {
        Some(out) => RunDir::claim_new(out),
        None => RunDir::claim_default(&default_root()),
    }
    .map_err(TrainError::Output)?;
    if !a.quiet {
        errln!(
            "scratchnet search: {} trials of {} epochs ({iters} iterations) on {} training and {} validation images, hidden {}, seed {}, {}, {} thread(s)",
            config.trials,
            config.epochs,
            split.train_size(),
            split.test_size(),
            config
                .hidden
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(","),
            config.seed,
            A::DTYPE,
            rayon::current_num_threads()
        );
        errln!(
            "data: {}   results: {}",
            data_dir.path().display(),
            run.path().display()
        );
    }
    drop(split);
    let start = std::time::Instant::now();
    let done = std::sync::atomic::AtomicUsize::new(0);
    // Ctrl-C stops the trials under way; the finished ones are written below
    interrupt.training.store(true, Ordering::SeqCst);
    let trials = crate::search::search_with(config, &data, &interrupt.stop, |t: &Trial| {
        let k = done.fetch_add(1, Ordering::Relaxed) + 1;
        if !a.quiet {
            let diverged = if t.diverged { " (diverged)" } else { "" };
            errln!(
                "[{k}/{}] trial {}: {}{diverged}",
                config.trials,
                t.trial,
                t.book_line()
            );
        }
    })?;
    let stopped = trials.len() < config.trials;
    scratchnet_fileio::write_atomic(
        run.path().join(SEARCH_CSV),
        crate::search::csv(&trials).as_bytes(),
    )
    .map_err(TrainError::Output)?;
    draw_best(&run.path().join(SEARCH_PNG), &trials)?;
    scratchnet_fileio::console::out(format_args!("{}", book_table(&trials)));
    if !a.quiet {
        errln!(
            "{}: {} of {} trials in {:.1} s; results in {}",
            if stopped { "interrupted" } else { "done" },
            trials.len(),
            config.trials,
            start.elapsed().as_secs_f64(),
            run.path().display()
        );
    }
    Ok(if stopped {
        Exit::Interrupted
    } else {
        Exit::Done
    })
}
