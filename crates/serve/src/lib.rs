//! `scratchnet serve`: a local page where you draw a digit and watch a trained network of
//! *Deep Learning from Scratch* read it — its probabilities, what its first layer learned, what
//! fires inside it, where it goes wrong on the test set, and the run that trained it.
//!
//! The page (plain HTML, CSS and JavaScript compiled into the binary, nothing fetched from
//! outside) uses the JSON API that [`Server`] serves:
//!
//! | request | answer |
//! |---|---|
//! | `GET /api/model[?run=NAME]` | the net: spec, sizes, layers, its first layer's weights as grey tiles |
//! | `POST /api/predict[?run=NAME][&inside=true]` with `{"pixels": [784 values]}` or a PNG | `class`, the 10 `probs`, the 28×28 `input` used; with `inside`, each block's output |
//! | `GET /api/runs` | the run folders under `runs/` |
//! | `GET /api/run[?run=NAME]` | the run's loss and accuracy curves and its `summary.json` |
//! | `GET /api/test[?run=NAME]` | the test set: accuracy, confusion matrix, misclassified images |
//! | `GET /api/test/{index}` | one test image and its label |
//!
//! A PNG is a drawing: it is made into an MNIST-style input by [`mnist_style`]; 784 values are
//! used as they are. Bad input is a 4xx with `{"error": "..."}`.
//!
//! ```no_run
//! let args = scratchnet_serve::ServeArgs {
//!     model: Some("runs/my-run/model.bin".into()),
//!     port: 0,
//!     ..Default::default()
//! };
//! let server = scratchnet_serve::Server::start(&args, ".".as_ref())?;
//! scratchnet_fileio::outln!("{}", server.url());
//! server.stop()?;
//! # Ok::<(), scratchnet_serve::ServeError>(())
//! ```

mod api;
mod model;
mod preprocess;
mod runs;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

pub use preprocess::mnist_style;

/// Flags of `scratchnet serve`.
///
/// ```
/// let a = scratchnet_serve::ServeArgs::default();
/// assert_eq!((a.host.to_string(), a.port), ("127.0.0.1".to_string(), 8000));
/// ```
#[derive(Clone, Debug, clap::Args)]
pub struct ServeArgs {
    /// A run folder of `scratchnet train` (its model.bin, curves and summary) [default: the
    /// newest under runs/].
    #[arg(value_name = "RUN_DIR", conflicts_with = "model")]
    pub run: Option<PathBuf>,
    /// A model file to serve instead of a run folder.
    #[arg(long, value_name = "FILE")]
    pub model: Option<PathBuf>,
    /// Address to listen on. Anything but loopback lets other machines use the page (there is
    /// no authentication): a warning is printed.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    pub host: IpAddr,
    /// Port; 0 picks a free one (the URL is printed).
    #[arg(long, default_value_t = 8000)]
    pub port: u16,
    /// MNIST folder for the test-set views [default: $MNIST_DIR, else data/mnist]; without it
    /// the page says so and shows the rest.
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
}

impl Default for ServeArgs {
    fn default() -> Self {
        ServeArgs {
            run: None,
            model: None,
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 8000,
            data: None,
        }
    }
}

/// Why the server did not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The model file could not be read.
    #[error("cannot load the model: {0}")]
    Model(#[from] scratchnet_network::ModelError),
    /// The model is not an MNIST classifier.
    #[error("{}: the net takes {inputs} inputs and gives {classes} classes; the page needs MNIST's 784 and 10", path.display())]
    NotMnist {
        /// The model file.
        path: PathBuf,
        /// Its input size.
        inputs: usize,
        /// Its number of classes.
        classes: usize,
    },
    /// The run folder or the flags cannot work.
    #[error("{0}")]
    Usage(String),
    /// The address cannot be listened on.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The server failed while running.
    #[error("the server failed: {0}")]
    Io(std::io::Error),
}

impl ServeError {
    /// 2 for a mistake in the command (a bad model file, folder or flag), 1 otherwise.
    ///
    /// ```
    /// assert_eq!(scratchnet_serve::ServeError::Usage("x".into()).exit_code(), 2);
    /// ```
    pub fn exit_code(&self) -> i32 {
        match self {
            ServeError::Bind { .. } | ServeError::Io(_) => 1,
            _ => 2,
        }
    }
}

/// A running server: its own thread and tokio runtime. Dropping it without
/// [`stop`](Self::stop) leaves it running until the process ends.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    name: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<Result<(), ServeError>>>,
}

impl Server {
    /// Loads the model (`args.model`, the run folder `args.run`, or the newest run under
    /// `root/runs`), starts the test-set evaluation in the background (MNIST from `args.data`,
    /// `$MNIST_DIR` or `root/data/mnist`) and listens on `args.host:args.port`.
    ///
    /// # Errors
    /// A model that cannot be read or is not an MNIST classifier, a run folder without a model,
    /// no run at all, or an address that cannot be listened on.
    pub fn start(args: &ServeArgs, root: &Path) -> Result<Server, ServeError> {
        Self::start_with(args, root, false)
    }

    fn start_with(args: &ServeArgs, root: &Path, signals: bool) -> Result<Server, ServeError> {
        let runs_root = root.join("runs");
        let (name, run_dir, model_path) = pick(args, &runs_root)?;
        let loaded = Arc::new(model::Loaded::new(name, run_dir, model_path)?);
        let mnist_dir = match &args.data {
            Some(d) => d.clone(),
            None => scratchnet_mnist::default_dir_in(root),
        };
        let data: model::TestData = Default::default();
        loaded.evaluate_in_background(data.clone(), mnist_dir.clone());
        let app = Arc::new(api::App {
            default: loaded.clone(),
            runs_root,
            mnist_dir,
            data,
            others: Mutex::new(Vec::new()),
        });
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(ServeError::Io)?;
        let want = SocketAddr::new(args.host, args.port);
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind(want))
            .map_err(|source| ServeError::Bind { addr: want, source })?;
        let addr = listener.local_addr().map_err(ServeError::Io)?;
        // the signal handlers are in place before the URL is printed: a Ctrl-C right after
        // the first answer stops the server cleanly instead of killing the process
        let interrupts = if signals {
            let _in_runtime = runtime.enter();
            Some(Interrupts::new().map_err(ServeError::Io)?)
        } else {
            None
        };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let router = api::router(app).layer(tower_http::catch_panic::CatchPanicLayer::new());
        let thread = std::thread::spawn(move || {
            runtime.block_on(async move {
                let shutdown = async move {
                    match interrupts {
                        Some(mut i) => tokio::select! {
                            _ = stopped => {}
                            _ = i.recv() => {}
                        },
                        None => {
                            let _ = stopped.await;
                        }
                    }
                };
                axum::serve(listener, router)
                    .with_graceful_shutdown(shutdown)
                    .await
                    .map_err(ServeError::Io)
            })
        });
        Ok(Server {
            addr,
            name: loaded.name.clone(),
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The address listened on (the port chosen when 0 was asked).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR/`.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Stops accepting connections, lets the requests under way finish, and returns.
    ///
    /// # Errors
    /// If the server had failed.
    pub fn stop(mut self) -> Result<(), ServeError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.join()
    }

    fn join(&mut self) -> Result<(), ServeError> {
        match self.thread.take().map(std::thread::JoinHandle::join) {
            Some(Ok(r)) => r,
            Some(Err(_)) => Err(ServeError::Io(std::io::Error::other("the server panicked"))),
            None => Ok(()),
        }
    }
}

/// Ctrl-C, or SIGTERM on Unix, listened for from the moment it is made.
#[cfg(unix)]
struct Interrupts {
    int: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl Interrupts {
    fn new() -> std::io::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Interrupts {
            int: signal(SignalKind::interrupt())?,
            term: signal(SignalKind::terminate())?,
        })
    }

    async fn recv(&mut self) {
        tokio::select! {
            _ = self.int.recv() => {}
            _ = self.term.recv() => {}
        }
    }
}

/// Ctrl-C, listened for from the first wait on it.
#[cfg(not(unix))]
struct Interrupts;

#[cfg(not(unix))]
impl Interrupts {
    fn new() -> std::io::Result<Self> {
        Ok(Interrupts)
    }

    async fn recv(&mut self) {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// The model to serve: its name, run folder, and file.
fn pick(
    args: &ServeArgs,
    runs_root: &Path,
) -> Result<(String, Option<PathBuf>, PathBuf), ServeError> {
    if let Some(file) = &args.model {
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| file.display().to_string());
        return Ok((name, None, file.clone()));
    }
    let dir = match &args.run {
        Some(d) => d.clone(),
        None => match runs::list(runs_root).first() {
            Some(r) => runs_root.join(&r.name),
            None => {
                return Err(ServeError::Usage(format!(
                    "no run with a model.bin under {}: train one first (`cargo run --release -- train`), or give RUN_DIR or --model FILE",
                    runs_root.display()
                )));
            }
        },
    };
    let model = dir.join(runs::MODEL_FILE);
    if !model.is_file() {
        return Err(ServeError::Usage(format!(
            "{} is not a run folder: it has no {}",
            dir.display(),
            runs::MODEL_FILE
        )));
    }
    // a folder under runs/ goes by its name, as the list of runs names it
    let name = match (dir.parent(), dir.file_name()) {
        (Some(p), Some(n)) if same_dir(p, runs_root) => n.to_string_lossy().into_owned(),
        _ => dir.display().to_string(),
    };
    Ok((name, Some(dir), model))
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// `scratchnet serve`: starts the server, prints its URL (and a warning if it listens beyond
/// loopback), and serves until Ctrl-C or SIGTERM, letting the requests under way finish.
///
/// # Errors
/// As [`Server::start`], or if the server fails.
pub fn run(args: &ServeArgs, root: &Path) -> Result<(), ServeError> {
    if !args.host.is_loopback() {
        scratchnet_fileio::errln!(
            "warning: listening on {}: anyone who can reach this machine can use the page and the API (there is no authentication)",
            args.host
        );
    }
    let mut server = Server::start_with(args, root, true)?;
    scratchnet_fileio::outln!(
        "scratchnet serve: {} ({}); Ctrl-C to stop",
        server.url(),
        server.name
    );
    use std::io::Write;
    let _ = std::io::stdout().flush();
    // the thread ends when a signal stops the server (the sender is kept: dropping it would
    // stop the server too)
    let _keep = server.stop.take();
    let r = server.join();
    scratchnet_fileio::errln!("stopped");
    r
}
