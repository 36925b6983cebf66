//! `cargo xtask notebook`: run `notebooks/ch04.ipynb` headless on the Rust Jupyter kernel and
//! check what it printed and drew.
//!
//! Everything it installs goes into one cache folder, reused by every clone: `--cache DIR`, else
//! `$XDG_CACHE_HOME/scratchnet`, else `~/.cache/scratchnet`:
//!
//! - `evcxr/`: `evcxr_jupyter` [`EVCXR_VERSION`], built once by `cargo install --locked` (about
//!   8 minutes on 2 cores) and kept while cargo's record there names that version;
//! - `venv/`: a Python virtual environment with the pinned [`REQUIREMENTS`] (nbclient and what
//!   it needs to run a kernel headless), rebuilt only when the pins change;
//! - `jupyter/`: the `JUPYTER_DATA_DIR` of these runs, holding the kernel spec `kernels/rust`
//!   (never the user's own Jupyter folders);
//! - `evcxr-build/`: evcxr's build folder (`EVCXR_TMPDIR`), so the crates the notebook compiles
//!   are reused by the next run.
//!
//! The folder is marked by a `scratchnet-notebook-cache` file; a folder that is neither empty,
//! nor marked, nor a cache of an earlier build is refused untouched, so nothing the tool did not
//! make is ever cleared. The OS lock on `lock` (`flock`) keeps two runs from sharing these at once. MNIST is fetched first as by
//! `cargo xtask test`. The executed copy goes to `target/notebooks/<name>` (atomically); the
//! committed notebook is replaced only with `--update`, and only when every check passed.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use anyhow::{Context, bail};
use serde_json::Value;

use crate::lab;

/// The evcxr_jupyter release the notebook is run with.
pub const EVCXR_VERSION: &str = "0.22.0";

/// The Python packages of the venv, pinned exactly: nbclient (runs the notebook headless),
/// JupyterLab (`--open`, and the server check), and their whole dependency closure as
/// `pip freeze` lists it. The kernel is evcxr; ipykernel only comes with JupyterLab.
pub const REQUIREMENTS: &[&str] = &[
    "nbclient==0.11.0",
    "jupyterlab==4.6.6",
    "anyio==4.16.0",
    "argon2-cffi==25.1.0",
    "argon2-cffi-bindings==26.2.0",
    "arrow==1.4.0",
    "asttokens==3.0.2",
    "async-lru==2.4.0",
    "attrs==26.1.0",
    "babel==2.19.0",
    "beautifulsoup4==4.15.0",
    "bleach==6.4.0",
    "certifi==2026.10.19.post1",
    "cffi==2.1.1",
    "charset-normalizer==3.5.3",
    "comm==0.2.3",
    "debugpy==1.8.22",
    "defusedxml==0.7.1",
    "executing==2.3.0",
    "fastjsonschema==2.22.3",
    "fqdn==1.6.0",
    "h11==0.16.0",
    "httpcore==1.0.9",
    "httpx==0.29.0",
    "idna==3.20",
    "ipykernel==7.4.0",
    "ipython==9.18.1",
    "ipython_pygments_lexers==1.1.1",
    "isoduration==20.11.0",
    "jedi==0.20.1",
    "Jinja2==3.1.6",
    "json5==0.17.3",
    "jsonpointer==3.12",
    "jsonschema==4.26.0",
    "jsonschema-specifications==2025.9.1",
    "jupyter-events==0.12.1",
    "jupyter-lsp==2.3.1",
    "jupyter_builder==1.3.0",
    "jupyter_client==8.10.0",
    "jupyter_core==5.9.1",
    "jupyter_server==2.21.1",
    "jupyter_server_terminals==0.5.4",
    "jupyterlab_pygments==0.3.0",
    "jupyterlab_server==2.28.1",
    "lark==1.3.1",
    "MarkupSafe==3.0.4",
    "matplotlib-inline==0.2.2",
    "mistune==3.4.0",
    "nbconvert==7.17.2",
    "nbformat==5.11.1",
    "nest-asyncio2==1.7.4",
    "notebook_shim==0.2.4",
    "overrides==7.7.0",
    "packaging==26.4",
    "pandocfilters==1.5.1",
    "parso==0.8.7",
    "pexpect==4.9.0",
    "platformdirs==4.14.9",
    "prometheus_client==0.26.0",
    "prompt_toolkit==3.0.53",
    "psutil==7.2.2",
    "ptyprocess==0.7.0",
    "pure_eval==0.2.4",
    "pycparser==3.12",
    "Pygments==2.21.0",
    "python-dateutil==4.0.0",
    "python-json-logger==4.2.0",
    "PyYAML==6.0.4",
    "pyzmq==27.3.0",
    "referencing==0.37.0",
    "requests==2.34.2",
    "rfc3339-validator==0.1.4",
    "rfc3986-validator==0.1.1",
    "rfc3987-syntax==1.1.0",
    "rpds-py==2026.9.1",
    "Send2Trash==2.2.0",
    "six==1.17.0",
    "soupsieve==4.1.4",
    "stack-data==0.6.3",
    "terminado==0.18.1",
    "tinycss2==1.5.1",
    "tornado==6.6.1",
    "traitlets==5.16.1",
    "typing_extensions==4.16.0",
    "tzdata==2026.6",
    "uri-template==1.3.0",
    "urllib3==2.8.0",
    "wcwidth==0.9.4",
    "webcolors==25.10.0",
    "webencodings==0.6.1",
    "websocket-client==1.9.2",
];

/// The kernel name the notebook asks for (evcxr's own name, so a reader's evcxr opens it too).
const KERNEL: &str = "rust";

/// The largest notebook read back (the committed one is well under 2 MB).
const MAX_NOTEBOOK_BYTES: u64 = 64 << 20;

/// Executes a notebook with nbclient: `RUNNER SRC DST TIMEOUT KERNEL CWD`. On a failing cell
/// the partly executed notebook is still written to DST, then the exit code is 3.
const RUNNER: &str = r#"
import sys, nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
src, dst, timeout, kernel, cwd = sys.argv[1:]
nb = nbformat.read(src, as_version=4)
client = NotebookClient(nb, timeout=int(timeout), startup_timeout=300, kernel_name=kernel,
                        resources={"metadata": {"path": cwd}})
code = 0
try:
    client.execute()
except CellExecutionError as e:
    print(e, file=sys.stderr)
    code = 3
nbformat.write(nb, dst)
sys.exit(code)
"#;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The notebook to run [default: WORKSPACE/notebooks/ch04.ipynb].
    #[arg(long, value_name = "FILE")]
    notebook: Option<PathBuf>,
    /// Also write the executed notebook over the one given (only when every check passes).
    #[arg(long)]
    update: bool,
    /// Install what is missing (JupyterLab too) and fetch MNIST, then serve the notebook in
    /// JupyterLab on 127.0.0.1 and print its URL; Ctrl-C stops it.
    #[arg(long, conflicts_with_all = ["update", "install_only", "check_server"])]
    open: bool,
    /// Install what is missing, print how to open the notebook, run nothing.
    #[arg(long, conflicts_with_all = ["update", "check_server"])]
    install_only: bool,
    /// Only the server check: start JupyterLab headless, ask its REST API for the kernelspecs
    /// (`rust` must be there), run the notebook's first cell through it; run no notebook.
    #[arg(long, conflicts_with = "update")]
    check_server: bool,
    /// The cache folder [default: $XDG_CACHE_HOME/scratchnet, else ~/.cache/scratchnet].
    #[arg(long, value_name = "DIR")]
    cache: Option<PathBuf>,
    /// Seconds one cell may run (the first cell compiles the crates; §4.5.3 trains for minutes).
    #[arg(long, value_name = "SECS", default_value_t = 3600,
          value_parser = clap::value_parser!(u64).range(60..=86_400))]
    cell_timeout: u64,
    /// The Python that creates the venv.
    #[arg(long, value_name = "EXE", default_value = "python3")]
    python: OsString,
}

/// The cache folder: `$XDG_CACHE_HOME/scratchnet` when that is an absolute path (the XDG rule),
/// else `$HOME/.cache/scratchnet`; the error says which variable is missing or unusable.
fn default_cache(
    xdg_cache_home: Option<OsString>,
    home: Option<OsString>,
) -> Result<PathBuf, String> {
    let xdg = xdg_cache_home.filter(|x| !x.is_empty()).map(PathBuf::from);
    if let Some(x) = xdg.as_ref().filter(|p| p.is_absolute()) {
        return Ok(x.join("scratchnet"));
    }
    if let Some(h) = home.filter(|h| !h.is_empty()) {
        return Ok(PathBuf::from(h).join(".cache").join("scratchnet"));
    }
    Err(match xdg {
        Some(x) => format!(
            "no cache folder: XDG_CACHE_HOME={} is relative (it must be absolute) and HOME is not set; pass --cache DIR",
            x.display()
        ),
        None => "no cache folder: set HOME or XDG_CACHE_HOME, or pass --cache DIR".into(),
    })
}

/// The file that marks a folder as a cache this tool made: only such a folder (or an empty
/// one, which it then marks) is used, so nothing of the user's is ever cleared or replaced.
const CACHE_MARKER: &str = "scratchnet-notebook-cache";
const CACHE_MARKER_TEXT: &str =
    "A cache of `cargo xtask notebook` (scratchnet): everything here may be rebuilt or cleared.\n";
/// What a cache of the builds before the marker held; such a folder is recognised (and marked)
/// only if it holds nothing else and its venv carries the tool's requirements record.
const CACHE_ENTRIES: &[&str] = &["evcxr", "venv", "jupyter", "evcxr-build", "lock"];

/// Creates or recognises the cache folder `root` and marks it; refuses any other folder.
fn claim_cache(root: &Path) -> anyhow::Result<Cache> {
    std::fs::create_dir_all(root)
        .with_context(|| format!("cannot create the cache folder {}", root.display()))?;
    let cache = Cache {
        root: root.to_owned(),
    };
    let marker = root.join(CACHE_MARKER);
    match scratchnet_fileio::read_to_string_limited(&marker, 4096) {
        Ok(text) if text == CACHE_MARKER_TEXT => return Ok(cache),
        Ok(_) => bail!(
            "{} is not a scratchnet notebook cache ({} has other contents); nothing was changed: pass another --cache DIR",
            root.display(),
            marker.display()
        ),
        Err(e) if e.is_not_found() => {}
        Err(e) => bail!("{e}: is {} a scratchnet notebook cache?", root.display()),
    }
    let names: Vec<String> = std::fs::read_dir(root)
        .with_context(|| format!("cannot list the cache folder {}", root.display()))?
        .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect::<Result<_, _>>()
        .with_context(|| format!("cannot list the cache folder {}", root.display()))?;
    let foreign: Vec<&String> = names
        .iter()
        .filter(|n| !CACHE_ENTRIES.contains(&n.as_str()))
        .collect();
    let venv_unmarked = cache.venv().exists() && !cache.venv_marker().is_file();
    if !foreign.is_empty() || venv_unmarked {
        let why = if venv_unmarked {
            format!("{} is not a venv this tool made", cache.venv().display())
        } else {
            format!("it holds {}", foreign[0])
        };
        bail!(
            "{} is not a scratchnet notebook cache ({why}; no {CACHE_MARKER} file); nothing was changed: pass an empty or new folder as --cache DIR",
            root.display()
        );
    }
    scratchnet_fileio::write_atomic(&marker, CACHE_MARKER_TEXT.as_bytes())?;
    Ok(cache)
}

/// Holds the cache's OS lock ([`scratchnet_fileio::DirLock`]) for the whole run, waiting while
/// another live `cargo xtask notebook` holds it (the kernel releases it when that one exits).
fn lock_cache(cache: &Cache) -> anyhow::Result<scratchnet_fileio::DirLock> {
    let path = cache.root.join("lock");
    let mut told = false;
    loop {
        match scratchnet_fileio::DirLock::acquire(&path) {
            Ok(lock) => return Ok(lock),
            Err(scratchnet_fileio::FileError::Locked { .. }) => {
                if !told {
                    eprintln!(
                        "waiting for another `cargo xtask notebook` using {}",
                        cache.root.display()
                    );
                    told = true;
                }
                std::thread::sleep(std::time::Duration::from_millis(500));
            }
            Err(e) => return Err(e).context("the cache's lock file"),
        }
    }
}

/// The folders inside the cache.
#[derive(Debug)]
struct Cache {
    root: PathBuf,
}

impl Cache {
    fn evcxr_root(&self) -> PathBuf {
        self.root.join("evcxr")
    }
    fn evcxr_bin(&self) -> PathBuf {
        self.evcxr_root().join("bin").join("evcxr_jupyter")
    }
    fn venv(&self) -> PathBuf {
        self.root.join("venv")
    }
    fn venv_python(&self) -> PathBuf {
        self.venv().join("bin").join("python")
    }
    fn venv_marker(&self) -> PathBuf {
        self.venv().join("scratchnet-requirements.txt")
    }
    fn jupyter_data(&self) -> PathBuf {
        self.root.join("jupyter")
    }
    fn kernel_json(&self) -> PathBuf {
        self.jupyter_data()
            .join("kernels")
            .join(KERNEL)
            .join("kernel.json")
    }
    fn evcxr_build(&self) -> PathBuf {
        self.root.join("evcxr-build")
    }
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let root = crate::workspace_root();
    let cache_root = match &args.cache {
        Some(c) => c.clone(),
        None => default_cache(std::env::var_os("XDG_CACHE_HOME"), std::env::var_os("HOME"))
            .map_err(anyhow::Error::msg)?,
    };
    let cache = claim_cache(&cache_root)?;
    let _lock = lock_cache(&cache)?;
    println!("cache: {}", cache.root.display());

    ensure_evcxr(&cache)?;
    ensure_venv(&cache, &args.python)?;
    write_kernel_spec(&cache)?;
    let notebook = args
        .notebook
        .clone()
        .unwrap_or_else(|| root.join("notebooks").join("ch04.ipynb"));
    let name = notebook
        .file_name()
        .with_context(|| format!("--notebook {} names no file", notebook.display()))?;
    let notebook_dir = notebook
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .canonicalize()
        .with_context(|| format!("cannot find the folder of {}", notebook.display()))?;
    std::fs::create_dir_all(cache.evcxr_build())
        .with_context(|| format!("cannot create {}", cache.evcxr_build().display()))?;
    seed_lockfile(&root, &cache.evcxr_build());

    let mnist = crate::default_mnist_dir();
    let report = crate::fetch::fetch_with(&mnist, &[], Default::default())
        .context("MNIST is needed by the notebook")?;
    crate::fetch::print_report(&report);

    let python = cache.venv_python();
    let setup = lab::Setup {
        python: &python,
        jupyter_data: &cache.jupyter_data(),
        notebook_dir: &notebook_dir,
        mnist: &mnist,
    };
    let name_str = name.to_string_lossy().into_owned();
    if args.install_only {
        println!("installed; to open the notebook in JupyterLab: cargo xtask notebook --open");
        println!("or, in a JupyterLab of your own:");
        println!(
            "  JUPYTER_PATH={} {}={} jupyter lab {}",
            cache.jupyter_data().display(),
            scratchnet_mnist::DIR_ENV,
            mnist.display(),
            notebook.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    if args.open {
        // The kernel launcher guards the build folder by its own lock; the cache's lock is
        // released so that `cargo xtask notebook` can run while the reader reads.
        drop(_lock);
        // Ctrl-C goes to the whole process group: JupyterLab stops itself (and its kernels);
        // this process stays to wait for it.
        ctrlc::set_handler(|| {}).context("cannot set the Ctrl-C handler")?;
        let mut server = lab::Server::start(&setup, &format!("/lab/tree/{name_str}"), true, None)?;
        server.wait_ready(std::time::Duration::from_secs(120))?;
        println!();
        println!("JupyterLab serves {} at", notebook.display());
        println!("  {}", server.url(&name_str));
        println!(
            "The first cell compiles the crates (minutes the first time, seconds after); Ctrl-C stops the server."
        );
        let status = server.wait()?;
        return Ok(if status.success() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        });
    }

    // The server check: what `--open` serves lists the kernel and runs a cell through the API.
    let nb_bytes = scratchnet_fileio::read_limited(&notebook, MAX_NOTEBOOK_BYTES)?;
    let nb: Value = serde_json::from_slice(&nb_bytes)
        .with_context(|| format!("{} is not JSON", notebook.display()))?;
    let first = lab::first_code_cell(&nb)
        .with_context(|| format!("{} has no code cell", notebook.display()))?;
    let start = Instant::now();
    let log = cache.jupyter_data().join("server-check.log");
    std::fs::create_dir_all(cache.jupyter_data())?;
    let checked = (|| -> anyhow::Result<()> {
        let mut server =
            lab::Server::start(&setup, &format!("/lab/tree/{name_str}"), false, Some(&log))?;
        server.wait_ready(std::time::Duration::from_secs(120))?;
        println!(
            "JupyterLab answers on {} in {:.1} s; running the notebook's first cell through it",
            server.base(),
            start.elapsed().as_secs_f64()
        );
        server.check(&python, KERNEL, &name_str, &first, args.cell_timeout)
    })();
    if let Err(e) = checked {
        return Err(e.context(format!("the server's log: {}", log.display())));
    }
    println!(
        "server check passed in {:.0} s (start, kernelspecs, session, first cell, shutdown)",
        start.elapsed().as_secs_f64()
    );
    if args.check_server {
        return Ok(ExitCode::SUCCESS);
    }

    let out_dir = root.join("target").join("notebooks");
    std::fs::create_dir_all(&out_dir)
        .with_context(|| format!("cannot create {}", out_dir.display()))?;
    let out = out_dir.join(name);
    let partial = out_dir.join(format!(
        ".{}.executing-{}",
        name.to_string_lossy(),
        std::process::id()
    ));

    println!(
        "executing {} (cell timeout {} s)",
        notebook.display(),
        args.cell_timeout
    );
    let start = Instant::now();
    let mut runner = Command::new(cache.venv_python());
    runner
        .arg("-c")
        .arg(RUNNER)
        .arg(&notebook)
        .arg(&partial)
        .arg(args.cell_timeout.to_string())
        .arg(KERNEL)
        .arg(&notebook_dir)
        .current_dir(&notebook_dir);
    lab::jupyter_env(&mut runner, &cache.jupyter_data(), &mnist);
    let status = runner
        .status()
        .with_context(|| format!("cannot run {}", cache.venv_python().display()))?;
    let secs = start.elapsed().as_secs_f64();
    let bytes = scratchnet_fileio::read_limited(&partial, MAX_NOTEBOOK_BYTES)
        .with_context(|| format!("nbclient wrote no notebook (exit status {status})"));
    let _ = std::fs::remove_file(&partial);
    let bytes = bytes?;
    scratchnet_fileio::write_atomic(&out, &bytes)?;
    if !status.success() {
        bail!(
            "a cell of {} failed after {secs:.0} s (nbclient: {status}); the executed part is in {}",
            notebook.display(),
            out.display()
        );
    }
    println!("executed in {secs:.0} s: {}", out.display());

    let nb: Value =
        serde_json::from_slice(&bytes).with_context(|| format!("{} is not JSON", out.display()))?;
    let report = check(&nb, EXPECTED, FIGURES)
        .map_err(|problems| anyhow::anyhow!("{}: {}", out.display(), problems.join("; ")))?;
    println!("{report}");
    if args.update {
        scratchnet_fileio::write_atomic(&notebook, &bytes)?;
        println!("updated {}", notebook.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// The name and version of what `cargo install --root` recorded in its `.crates2.json`.
fn installed_version(crates2_json: &str, name: &str) -> Option<String> {
    let v: Value = serde_json::from_str(crates2_json).ok()?;
    v.get("installs")?.as_object()?.keys().find_map(|key| {
        let mut parts = key.split(' ');
        (parts.next()? == name).then(|| parts.next().map(str::to_owned))?
    })
}

fn ensure_evcxr(cache: &Cache) -> anyhow::Result<()> {
    let record = cache.evcxr_root().join(".crates2.json");
    let have = scratchnet_fileio::read_to_string_limited(&record, 1 << 20)
        .ok()
        .and_then(|s| installed_version(&s, "evcxr_jupyter"));
    if have.as_deref() == Some(EVCXR_VERSION) && cache.evcxr_bin().is_file() {
        println!("evcxr_jupyter {EVCXR_VERSION}: cached");
        return Ok(());
    }
    println!(
        "evcxr_jupyter {EVCXR_VERSION}: building into {} (about 8 minutes, once)",
        cache.evcxr_root().display()
    );
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(&cargo)
        .args(["install", "--locked", "--version"])
        .arg(format!("={EVCXR_VERSION}"))
        .arg("--root")
        .arg(cache.evcxr_root())
        .arg("evcxr_jupyter")
        // the workspace's settings (target dir, profile) are not evcxr's
        .env_remove("CARGO_TARGET_DIR")
        .current_dir(&cache.root)
        .status()
        .with_context(|| format!("cannot run {}", cargo.to_string_lossy()))?;
    if !status.success() {
        bail!("cargo install evcxr_jupyter --version ={EVCXR_VERSION} failed ({status})");
    }
    Ok(())
}

fn requirements_text() -> String {
    REQUIREMENTS.iter().map(|r| format!("{r}\n")).collect()
}

fn ensure_venv(cache: &Cache, python: &OsString) -> anyhow::Result<()> {
    let want = requirements_text();
    let have = scratchnet_fileio::read_to_string_limited(cache.venv_marker(), 1 << 20).ok();
    if have.as_deref() == Some(want.as_str()) && cache.venv_python().is_file() {
        println!("python venv: cached");
        return Ok(());
    }
    println!("python venv: creating {}", cache.venv().display());
    let status = Command::new(python)
        .args(["-m", "venv", "--clear"])
        .arg(cache.venv())
        .status()
        .with_context(|| format!("cannot run --python {}", python.to_string_lossy()))?;
    if !status.success() {
        bail!(
            "`{} -m venv {}` failed ({status})",
            python.to_string_lossy(),
            cache.venv().display()
        );
    }
    let reqs = cache.venv().join("requirements.txt");
    scratchnet_fileio::write_atomic(&reqs, want.as_bytes())?;
    let status = Command::new(cache.venv_python())
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-input",
            "--disable-pip-version-check",
            "--only-binary",
            ":all:",
            "-r",
        ])
        .arg(&reqs)
        .status()
        .with_context(|| format!("cannot run {}", cache.venv_python().display()))?;
    if !status.success() {
        bail!("pip install -r {} failed ({status})", reqs.display());
    }
    scratchnet_fileio::write_atomic(cache.venv_marker(), want.as_bytes())?;
    Ok(())
}

/// The folder of the toolchain's `libstd-*.so`, which the code evcxr compiles links to.
fn rust_lib_dir() -> anyhow::Result<PathBuf> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let run = |args: &[&str]| -> anyhow::Result<String> {
        let out = Command::new(&rustc)
            .args(args)
            .output()
            .with_context(|| format!("cannot run {}", rustc.to_string_lossy()))?;
        if !out.status.success() {
            bail!("`rustc {}` failed ({})", args.join(" "), out.status);
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let sysroot = run(&["--print", "sysroot"])?;
    let version = run(&["-vV"])?;
    let host = version
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .context("`rustc -vV` names no host")?;
    Ok(Path::new(sysroot.trim())
        .join("lib")
        .join("rustlib")
        .join(host.trim())
        .join("lib"))
}

fn write_kernel_spec(cache: &Cache) -> anyhow::Result<()> {
    // The RUNPATH rustc writes into evcxr's cell libraries points one folder too high when the
    // build folder and the toolchain share a parent (both under ~), and loading them fails with
    // "dlopen failed"; the kernel finds libstd through LD_LIBRARY_PATH instead.
    //
    // evcxr is started through the launcher, which gives it the cache's build folder when no
    // other kernel holds it, so a session compiles the crates once, not in every fresh folder.
    let path = cache.kernel_json();
    let dir = path.parent().unwrap_or(&cache.root);
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let launcher = lab::launcher_path(dir);
    scratchnet_fileio::write_atomic(&launcher, lab::KERNEL_LAUNCHER.as_bytes())?;
    let spec = serde_json::json!({
        "argv": [cache.venv_python(), launcher, cache.evcxr_bin(), cache.evcxr_build(),
                 "--control_file", "{connection_file}"],
        "display_name": format!("Rust (evcxr {EVCXR_VERSION})"),
        "language": "rust",
        "interrupt_mode": "message",
        // CARGO_INCREMENTAL=0: evcxr builds the workspace crates (path dependencies) in its
        // dev profile, where cargo compiles them incrementally, in many small codegen units
        // that cannot inline across each other; their numerical gradient then ran at half the
        // speed of the release build (measured: 176-185 against 86-91 ms per iteration, side by
        // side on the same busy machine, the release binary 92-96).
        "env": {"LD_LIBRARY_PATH": rust_lib_dir()?, "CARGO_INCREMENTAL": "0"},
    });
    let text = serde_json::to_string_pretty(&spec)?;
    scratchnet_fileio::write_atomic(&path, text.as_bytes())?;
    Ok(())
}

/// A build folder without a lock file starts from the workspace's, so the notebook compiles the
/// versions the workspace is tested with (cargo drops what it does not need).
fn seed_lockfile(root: &Path, build: &Path) {
    let lock = build.join("Cargo.lock");
    if !lock.exists()
        && let Ok(bytes) = scratchnet_fileio::read_limited(root.join("Cargo.lock"), 16 << 20)
    {
        let _ = scratchnet_fileio::write_atomic(&lock, &bytes);
    }
}

/// Values the notebook must print: what it is, and the text. From the book's printouts or the
/// seed notebook's code run in Python (NumPy's float64 rounding is Rust's).
const EXPECTED: &[(&str, &str)] = &[
    ("§4.2.1 sum_squares_error", "0.09750000000000003"),
    ("§4.2.2 cross_entropy_error", "0.510825457099338"),
    ("§4.2.3 x_train.shape", "(60000, 784)"),
    ("§4.2.3 t_train.shape", "(60000, 10)"),
    ("§4.5.1 b1.shape, as NumPy prints one axis", "b1 (100,)"),
    (
        "§4.2.4 the seed's labels cell with one-hot t",
        // NumPy's pairwise sum ends in ...06905, the sequential one in ...0691
        "23.7189871105069",
    ),
    ("§4.3.2 numerical_diff(function_1, 5)", "0.1999999999990898"),
    (
        "§4.3.2 numerical_diff(function_1, 10)",
        "0.2999999999986347",
    ),
    (
        "§4.3.2 the seed's forward difference at 5",
        "0.20000099999917254",
    ),
    (
        "§4.3.2 the seed's forward difference at 10",
        "0.3000009999976072",
    ),
    ("§4.3.3 function_tmp1 at 3", "6.00000000000378"),
    ("§4.3.3 function_tmp2 at 4", "7.999999999999119"),
    (
        "§4.3.3 the seed's forward differences",
        "6.000099999994291 8.00009999998963",
    ),
    (
        "§4.4 numerical_gradient(function_2, [3, 4])",
        "[6.00000000000378, 7.999999999999119]",
    ),
    (
        "§4.4 numerical_gradient(function_2, [0, 2])",
        "[0, 4.000000000004]",
    ),
    (
        "§4.4 numerical_gradient(function_2, [3, 0])",
        "[6.000000000012662, 0]",
    ),
    (
        "§4.4.1 gradient_descent lr 0.01, 100 steps",
        "[-0.39785867, 0.53047822]",
    ),
    (
        "§4.4.1 gradient_descent lr 0.1, 100 steps",
        "[-6.111107929e-10, 8.148143905e-10]",
    ),
    (
        "§4.4.1 gradient_descent lr 10, 100 steps",
        "[-2.58983747e13, -1.29524862e12]",
    ),
    (
        "§4.4.1 gradient_descent lr 1e-10, 100 steps",
        "[-2.99999994e0, 3.99999992e0]",
    ),
    (
        "§4.4.2 simpleNet predict with the book's W",
        "[1.054148091, 0.630716529, 1.132807401]",
    ),
    ("§4.4.2 simpleNet loss", "0.9280682857864075"),
    (
        "§4.4.2 simpleNet dW, first row",
        "[0.21924757, 0.14356243, -0.36281000]",
    ),
    (
        "§4.4.2 simpleNet dW, second row",
        "[0.32887136, 0.21534364, -0.54421500]",
    ),
    // Without δ (the book's printout): -log(softmax(x·W))[2], its gradient as above. Worked
    // in Python's math module from the printed weights.
    ("§4.4.2 simpleNet loss without δ", "0.928068538748235"),
    (
        "§4.4.2 simpleNet dW without δ, first row (the book's)",
        "[0.21924763, 0.14356247, -0.36281009]",
    ),
    (
        "§4.4.2 simpleNet dW without δ, second row (the book's)",
        "[0.32887144, 0.21534370, -0.54421514]",
    ),
];

/// The figures the notebook must draw, each in a code cell tagged `figure:NAME`.
const FIGURES: &[&str] = &[
    "function_1",
    "tangent_lines",
    "function_2_surface",
    "gradient_field",
    "gradient_descent",
    "loss",
    "accuracy",
];

/// The §4.5.3 loop's line, and the number of times it prints it (iterations 0, 600, …, 9600).
const ACC_PREFIX: &str = "train acc, test acc | ";
const ACC_LINES: usize = 17;
const MIN_FINAL_ACC: f64 = 0.94;

/// A cell field that nbformat stores as a string or a list of strings.
pub(crate) fn text_of(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => String::new(),
    }
}

/// Checks an executed notebook: no cell failed, every `expected` text is printed, every figure
/// cell produced a PNG, and the accuracy lines are all there with the last one ≥ 0.94. Returns
/// a summary, or every problem found.
fn check(nb: &Value, expected: &[(&str, &str)], figures: &[&str]) -> Result<String, Vec<String>> {
    let mut problems = Vec::new();
    let cells = nb
        .get("cells")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    let mut text = String::new();
    let mut drawn = Vec::new();
    for (n, cell) in cells.iter().enumerate() {
        if cell.get("cell_type").and_then(Value::as_str) != Some("code") {
            continue;
        }
        let tags: Vec<&str> = cell
            .pointer("/metadata/tags")
            .and_then(Value::as_array)
            .map(|t| t.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let outputs = cell
            .get("outputs")
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice);
        let mut png = false;
        for o in outputs {
            match o.get("output_type").and_then(Value::as_str) {
                Some("stream") => text.push_str(&text_of(o.get("text"))),
                Some("error") => problems.push(format!(
                    "cell {n} failed: {} {}",
                    text_of(o.get("ename")),
                    text_of(o.get("evalue"))
                )),
                _ => {
                    if let Some(data) = o.get("data") {
                        text.push_str(&text_of(data.get("text/plain")));
                        text.push('\n');
                        // base64 of the PNG signature \x89PNG\r\n\x1a\n
                        png |= text_of(data.get("image/png")).starts_with("iVBORw0KGgo");
                    }
                }
            }
        }
        // a cell's output ends a line
        text.push('\n');
        for tag in tags.iter().filter_map(|t| t.strip_prefix("figure:")) {
            if png {
                drawn.push(tag.to_owned());
            } else {
                problems.push(format!("figure cell {n} ({tag}) shows no image/png"));
            }
        }
    }
    for f in figures {
        if !drawn.iter().any(|d| d == f) {
            problems.push(format!("no figure {f}"));
        }
    }
    for (what, value) in expected {
        if !text.contains(value) {
            problems.push(format!("{what}: {value} is not printed"));
        }
    }
    let acc: Vec<(f64, f64)> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix(ACC_PREFIX))
        .filter_map(|rest| {
            let (a, b) = rest.split_once(',')?;
            Some((a.trim().parse().ok()?, b.trim().parse().ok()?))
        })
        .collect();
    match acc.last() {
        _ if acc.len() != ACC_LINES => problems.push(format!(
            "{} accuracy lines (`{ACC_PREFIX}…`), not {ACC_LINES}",
            acc.len()
        )),
        Some(&(train, test)) if train < MIN_FINAL_ACC || test < MIN_FINAL_ACC => problems.push(
            format!("last accuracy line {train}, {test}: below {MIN_FINAL_ACC}"),
        ),
        _ => {}
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let (train, test) = acc.last().copied().unwrap_or_default();
    Ok(format!(
        "checked: {} values, {} figures, {} accuracy lines (last: train {train}, test {test})",
        expected.len(),
        figures.len(),
        acc.len()
    ))
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn code(tags: &[&str], outputs: Value) -> Value {
        json!({"cell_type": "code", "metadata": {"tags": tags}, "source": "", "outputs": outputs})
    }

    fn stream(text: &str) -> Value {
        json!({"output_type": "stream", "name": "stdout", "text": text})
    }

    fn png_output() -> Value {
        json!({"output_type": "display_data", "data": {"image/png": "iVBORw0KGgoAAAANS", "text/plain": ""}, "metadata": {}})
    }

    fn accuracy_lines(last: &str) -> String {
        let mut s: String = (0..16)
            .map(|_| "train acc, test acc | 0.9, 0.9\n")
            .collect();
        s.push_str(&format!("train acc, test acc | {last}\n"));
        s
    }

    fn notebook(cells: Vec<Value>) -> Value {
        json!({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells})
    }

    fn good() -> Vec<Value> {
        vec![
            json!({"cell_type": "markdown", "metadata": {}, "source": "0.0975 train acc"}),
            code(
                &[],
                json!([
                    stream("0.09750000000000003\n"),
                    stream("[6.00000000000378, ")
                ]),
            ),
            code(
                &[],
                json!([{"output_type": "execute_result", "execution_count": 1, "metadata": {},
                        "data": {"text/plain": ["7.999999999999119]", "\n"]}}]),
            ),
            code(&["figure:a"], json!([stream("drawn\n"), png_output()])),
            code(&["figure:b"], json!([png_output()])),
            code(&[], json!([stream(&accuracy_lines("0.9476, 0.9452"))])),
        ]
    }

    const VALUES: &[(&str, &str)] = &[("sse", "0.0975"), ("grad", "7.999999999999119]")];

    #[test]
    fn a_complete_notebook_passes_with_a_summary() {
        let summary = check(&notebook(good()), VALUES, &["a", "b"]).unwrap();
        assert_eq!(
            summary,
            "checked: 2 values, 2 figures, 17 accuracy lines (last: train 0.9476, test 0.9452)"
        );
    }

    #[test]
    fn text_in_markdown_cells_does_not_count() {
        let mut cells = good();
        cells[1] = code(&[], json!([]));
        let problems = check(&notebook(cells), VALUES, &["a", "b"]).unwrap_err();
        assert_eq!(problems, vec!["sse: 0.0975 is not printed".to_owned()]);
    }

    #[test]
    fn a_figure_cell_without_png_and_a_missing_figure_are_reported() {
        let mut cells = good();
        cells[4] = code(&["figure:b"], json!([stream("no picture")]));
        let problems = check(&notebook(cells), VALUES, &["a", "b", "c"]).unwrap_err();
        assert_eq!(
            problems,
            vec![
                "figure cell 4 (b) shows no image/png".to_owned(),
                "no figure b".to_owned(),
                "no figure c".to_owned(),
            ]
        );
    }

    #[test]
    fn a_low_last_accuracy_or_a_missing_line_fails() {
        let mut cells = good();
        cells[5] = code(&[], json!([stream(&accuracy_lines("0.95, 0.9399"))]));
        let problems = check(&notebook(cells.clone()), VALUES, &["a", "b"]).unwrap_err();
        assert_eq!(
            problems,
            vec!["last accuracy line 0.95, 0.9399: below 0.94".to_owned()]
        );
        let short =
            accuracy_lines("0.95, 0.95").replacen("train acc, test acc | 0.9, 0.9\n", "", 1);
        cells[5] = code(&[], json!([stream(&short)]));
        let problems = check(&notebook(cells), VALUES, &["a", "b"]).unwrap_err();
        assert_eq!(
            problems,
            vec!["16 accuracy lines (`train acc, test acc | …`), not 17".to_owned()]
        );
    }

    #[test]
    fn an_error_output_is_reported_with_its_cell() {
        let mut cells = good();
        cells.push(code(
            &[],
            json!([{"output_type": "error", "ename": "Error", "evalue": "mismatched types", "traceback": []}]),
        ));
        let problems = check(&notebook(cells), VALUES, &["a", "b"]).unwrap_err();
        assert_eq!(
            problems,
            vec!["cell 6 failed: Error mismatched types".to_owned()]
        );
    }

    #[test]
    fn the_cache_follows_xdg_then_home() {
        let some = |s: &str| Some(OsString::from(s));
        assert_eq!(
            default_cache(some("/x/cache"), some("/home/u")),
            Ok(PathBuf::from("/x/cache/scratchnet"))
        );
        // a relative XDG_CACHE_HOME is ignored, as the XDG spec says
        assert_eq!(
            default_cache(some("rel"), some("/home/u")),
            Ok(PathBuf::from("/home/u/.cache/scratchnet"))
        );
        let unset = "no cache folder: set HOME or XDG_CACHE_HOME, or pass --cache DIR";
        assert_eq!(default_cache(None, some("")).unwrap_err(), unset);
        assert_eq!(default_cache(None, None).unwrap_err(), unset);
        // set but relative: said so, not "set XDG_CACHE_HOME"
        assert_eq!(
            default_cache(some("rel/cache"), None).unwrap_err(),
            "no cache folder: XDG_CACHE_HOME=rel/cache is relative (it must be absolute) and HOME is not set; pass --cache DIR"
        );
    }

    #[test]
    fn a_cache_folder_the_tool_did_not_make_is_refused_untouched() {
        let dir = tempfile::tempdir().unwrap();
        // the user's folder with a venv of their own: refused, the venv kept byte for byte
        let theirs = dir.path().join("project");
        std::fs::create_dir_all(theirs.join("venv/bin")).unwrap();
        std::fs::write(theirs.join("venv/bin/python"), "mine").unwrap();
        let err = claim_cache(&theirs).unwrap_err().to_string();
        assert!(err.contains("venv is not a venv this tool made"), "{err}");
        assert!(err.contains("nothing was changed"), "{err}");
        assert_eq!(
            std::fs::read_to_string(theirs.join("venv/bin/python")).unwrap(),
            "mine"
        );
        assert!(!theirs.join(CACHE_MARKER).exists());
        // any other file of theirs: refused too
        let notes = dir.path().join("notes");
        std::fs::create_dir(&notes).unwrap();
        std::fs::write(notes.join("todo.txt"), "x").unwrap();
        let err = claim_cache(&notes).unwrap_err().to_string();
        assert!(err.contains("it holds todo.txt"), "{err}");
        // a marker with other contents is not ours either
        std::fs::write(notes.join(CACHE_MARKER), "hello").unwrap();
        assert!(
            claim_cache(&notes)
                .unwrap_err()
                .to_string()
                .contains("has other contents")
        );
        // a new or empty folder is made ours, marked, and recognised next time
        let new = dir.path().join("new");
        claim_cache(&new).unwrap();
        assert_eq!(
            std::fs::read_to_string(new.join(CACHE_MARKER)).unwrap(),
            CACHE_MARKER_TEXT
        );
        std::fs::create_dir(new.join("anything")).unwrap();
        claim_cache(&new).unwrap();
        // an earlier build's cache (known names, its venv's record) is recognised
        let old = dir.path().join("old");
        std::fs::create_dir_all(old.join("venv")).unwrap();
        std::fs::create_dir_all(old.join("evcxr")).unwrap();
        std::fs::write(old.join("venv/scratchnet-requirements.txt"), "x").unwrap();
        std::fs::write(old.join("lock"), "").unwrap();
        claim_cache(&old).unwrap();
        assert!(old.join(CACHE_MARKER).is_file());
    }

    #[test]
    fn the_cache_lock_is_the_os_lock_and_no_lock_file_can_hang_or_block_it() {
        let dir = tempfile::tempdir().unwrap();
        let cache = claim_cache(dir.path()).unwrap();
        // garbage or an empty file left behind: taken at once
        std::fs::write(cache.root.join("lock"), "pid 1 garbage").unwrap();
        let held = lock_cache(&cache).unwrap();
        drop(held);
        // a FIFO (would hang), a link to /dev/zero (would never end), a folder: refused at once
        for make in ["fifo", "zero", "dir"] {
            let lock = cache.root.join("lock");
            let _ = std::fs::remove_file(&lock);
            let _ = std::fs::remove_dir(&lock);
            match make {
                "fifo" => assert!(
                    Command::new("mkfifo")
                        .arg(&lock)
                        .status()
                        .unwrap()
                        .success()
                ),
                "zero" => std::os::unix::fs::symlink("/dev/zero", &lock).unwrap(),
                _ => std::fs::create_dir(&lock).unwrap(),
            }
            let err = format!("{:#}", lock_cache(&cache).unwrap_err());
            assert!(err.contains("lock is a"), "{make}: {err}");
        }
    }

    #[test]
    fn the_installed_evcxr_version_is_read_from_cargos_record() {
        let record = r#"{"installs": {
            "evcxr_jupyter 0.21.1 (registry+https://github.com/rust-lang/crates.io-index)": {},
            "other 0.22.0 (registry+https://github.com/rust-lang/crates.io-index)": {}}}"#;
        assert_eq!(
            installed_version(record, "evcxr_jupyter").as_deref(),
            Some("0.21.1")
        );
        assert_eq!(installed_version(record, "evcxr"), None);
        assert_eq!(installed_version("not json", "evcxr_jupyter"), None);
    }

    #[test]
    fn requirements_are_exact_pins_one_a_line() {
        let text = requirements_text();
        assert_eq!(text.lines().count(), REQUIREMENTS.len());
        // exact pins: name==version, the version numbers and dots (certifi's `.post1` too)
        assert!(
            text.lines()
                .all(|l| l.split_once("==").is_some_and(|(n, v)| {
                    !n.is_empty()
                        && v.starts_with(|c: char| c.is_ascii_digit())
                        && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '.')
                }))
        );
        assert!(text.starts_with("nbclient==0.11.0\njupyterlab==4.6.6\n"));
        // what the server check imports, pinned too
        assert!(text.contains("\nwebsocket-client=="));
    }
}
