//! Verified download from an ordered list of mirrors (feature `download`).
//!
//! For each of the four files: if it is present and verified, nothing is fetched (unless
//! forced). Otherwise the mirrors are tried in order — those given first, then
//! [`DEFAULT_MIRRORS`] — each streaming into a temp file in the data folder, which is verified
//! by the SHA-256 of its decompressed bytes and only then renamed into place. An HTTP error,
//! timeout, truncated body or checksum mismatch moves on to the next mirror; when all fail the
//! error lists every attempt and its cause. The original host, yann.lecun.com, has answered
//! 403/404 since 2024 and is not in the list.

use std::io::{IsTerminal, Read, Write};
use std::path::Path;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub use crate::import::{ImportOptions, import, import_with};
pub use crate::report::{FetchReport, FileReport, Source};
use crate::store::{Existing, check_existing, create_dir, temp_for, verify_and_place};
use crate::{Attempt, Checksums, MnistError, MnistFile};

/// The mirrors tried after any given ones, most reliable first.
pub const DEFAULT_MIRRORS: [&str; 2] = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
];

/// The environment variable read by [`mirrors_from_env`].
pub const MIRROR_ENV: &str = "MNIST_MIRROR";

/// Options of [`fetch`].
///
/// ```
/// let opts = scratchnet_mnist::download::FetchOptions {
///     mirrors: vec!["http://127.0.0.1:8765/".into()],
///     ..Default::default()
/// };
/// assert_eq!(opts.mirror_list()[0], "http://127.0.0.1:8765/");
/// assert_eq!(opts.mirror_list().len(), 3);
/// ```
#[derive(Clone, Debug)]
pub struct FetchOptions {
    /// Mirrors (base URLs; the file name is appended) tried first, in order, before the defaults.
    pub mirrors: Vec<String>,
    /// Download even the files that are already present and verified.
    pub force: bool,
    /// Limit on connecting and on each wait for data: a stalled server fails after this long.
    pub timeout: Duration,
    /// Report progress on stderr: a bar on a terminal, plain lines otherwise.
    pub progress: bool,
    /// Try [`DEFAULT_MIRRORS`] after [`Self::mirrors`] (tests turn this off to stay offline).
    pub use_default_mirrors: bool,
    /// Expected digests; [`Checksums::mnist`] by default.
    pub checksums: Checksums,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            mirrors: Vec::new(),
            force: false,
            timeout: Duration::from_secs(30),
            progress: false,
            use_default_mirrors: true,
            checksums: Checksums::mnist(),
        }
    }
}

impl FetchOptions {
    /// The mirrors in the order they are tried, duplicates dropped.
    pub fn mirror_list(&self) -> Vec<String> {
        let defaults = if self.use_default_mirrors {
            &DEFAULT_MIRRORS[..]
        } else {
            &[]
        };
        let mut out: Vec<String> = Vec::new();
        for m in self
            .mirrors
            .iter()
            .map(|s| s.trim())
            .chain(defaults.iter().copied())
        {
            if !m.is_empty() && !out.iter().any(|o| o == m) {
                out.push(m.to_string());
            }
        }
        out
    }
}

/// The mirrors in `MNIST_MIRROR`, comma separated, blanks dropped; empty when it is unset.
///
/// ```
/// // With MNIST_MIRROR="http://a/, http://b/" this returns ["http://a/", "http://b/"].
/// let m = scratchnet_mnist::download::mirrors_from_env();
/// assert!(m.iter().all(|s| !s.is_empty()));
/// ```
pub fn mirrors_from_env() -> Vec<String> {
    parse_mirror_list(&std::env::var(MIRROR_ENV).unwrap_or_default())
}

/// Splits a comma-separated mirror list, dropping blanks.
///
/// ```
/// let m = scratchnet_mnist::download::parse_mirror_list(" http://a/ ,,http://b/");
/// assert_eq!(m, ["http://a/", "http://b/"]);
/// ```
pub fn parse_mirror_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .map(String::from)
        .collect()
}

/// The URL of `file` on `mirror`.
///
/// ```
/// use scratchnet_mnist::{MnistFile, download::file_url};
/// assert_eq!(file_url("http://h/m", MnistFile::TestLabels), "http://h/m/t10k-labels-idx1-ubyte.gz");
/// assert_eq!(file_url("http://h/m/", MnistFile::TestLabels), "http://h/m/t10k-labels-idx1-ubyte.gz");
/// ```
pub fn file_url(mirror: &str, file: MnistFile) -> String {
    format!("{}/{}", mirror.trim_end_matches('/'), file.remote_name())
}

/// Downloads whichever of the four files are missing or wrong in `dir` (all four if
/// `opts.force`), verifying each. See the [module docs](self).
///
/// # Errors
/// [`MnistError::AllMirrorsFailed`] for the first file no mirror could deliver, listing each
/// URL and cause; I/O errors on `dir`. Files already placed stay (they are verified).
///
/// ```no_run
/// use scratchnet_mnist::download::{FetchOptions, fetch, mirrors_from_env};
/// let opts = FetchOptions { mirrors: mirrors_from_env(), progress: true, ..Default::default() };
/// let report = fetch("data/mnist".as_ref(), &opts)?;
/// println!("{report}");
/// # Ok::<(), scratchnet_mnist::MnistError>(())
/// ```
pub fn fetch(dir: &Path, opts: &FetchOptions) -> Result<FetchReport, MnistError> {
    create_dir(dir)?;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_connect(Some(opts.timeout))
        .timeout_per_read(Some(opts.timeout))
        .timeout_recv_response(Some(opts.timeout))
        // The .gz bytes must arrive as they are on the mirror.
        .accept_encoding("identity")
        .build()
        .into();
    let mirrors = opts.mirror_list();
    let mut files = Vec::new();
    for file in MnistFile::ALL {
        let mut replaced = None;
        if !opts.force {
            match check_existing(dir, file, &opts.checksums)? {
                Existing::Verified(path, digest) => {
                    files.push(FileReport {
                        file,
                        path,
                        source: Source::AlreadyPresent,
                        digest,
                        failed: Vec::new(),
                        replaced: None,
                    });
                    continue;
                }
                Existing::Removed(why) => replaced = Some(why),
                Existing::Missing => {}
            }
        }
        let mut failed = Vec::new();
        let mut placed = None;
        for mirror in &mirrors {
            let url = file_url(mirror, file);
            match fetch_one(&agent, &url, dir, file, opts) {
                Ok(p) => {
                    placed = Some((url, p));
                    break;
                }
                Err(cause) => {
                    if opts.progress {
                        eprintln!("{url}: failed: {cause}");
                    }
                    failed.push(Attempt { url, cause });
                }
            }
        }
        let Some((url, (path, digest))) = placed else {
            return Err(MnistError::AllMirrorsFailed {
                file: file.remote_name(),
                attempts: failed,
            });
        };
        files.push(FileReport {
            file,
            path,
            source: Source::Url(url),
            digest,
            failed,
            replaced,
        });
    }
    Ok(FetchReport {
        dir: dir.into(),
        files,
    })
}

/// One try at one URL; the error is the one-line cause.
fn fetch_one(
    agent: &ureq::Agent,
    url: &str,
    dir: &Path,
    file: MnistFile,
    opts: &FetchOptions,
) -> Result<(std::path::PathBuf, crate::checksum::FileDigest), String> {
    let response = agent
        .get(url)
        .call()
        .map_err(|e| describe(&e, opts.timeout))?;
    let expected_len: Option<u64> = response
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok());
    let mut tmp = temp_for(dir, file).map_err(|e| e.to_string())?;
    let bar = progress_bar(opts.progress, url, expected_len);
    let mut body = response.into_body().into_reader();
    let mut buf = vec![0u8; 1 << 16];
    let mut received = 0u64;
    loop {
        let n = match body.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                bar.abandon();
                let of = expected_len.map(|l| format!(" of {l}")).unwrap_or_default();
                return Err(format!(
                    "body broke off after {received}{of} bytes: {}",
                    io_cause(&e, opts.timeout)
                ));
            }
        };
        tmp.as_file_mut()
            .write_all(&buf[..n])
            .map_err(|e| format!("cannot write {}: {e}", tmp.path().display()))?;
        received += n as u64;
        bar.set_position(received);
    }
    bar.finish_and_clear();
    if let Some(len) = expected_len.filter(|&l| l != received) {
        return Err(format!(
            "truncated body: received {received} of {len} bytes"
        ));
    }
    let placed = verify_and_place(tmp, dir, file, &opts.checksums, url).map_err(|e| match e {
        // The temp file's name would only be noise: say what is wrong with the body.
        MnistError::Gzip { err, .. } => format!("corrupt gzip data: {err}"),
        MnistError::ChecksumMismatch { expected, actual, .. } => {
            format!("checksum mismatch: SHA-256 of the decompressed bytes is {actual}, expected {expected}")
        }
        other => other.to_string(),
    })?;
    if opts.progress {
        eprintln!("{url}: {received} bytes, verified");
    }
    Ok(placed)
}

fn progress_bar(progress: bool, url: &str, len: Option<u64>) -> ProgressBar {
    if !progress {
        return ProgressBar::hidden();
    }
    if !std::io::stderr().is_terminal() {
        eprintln!("fetching {url}");
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(len, ProgressDrawTarget::stderr());
    let style =
        ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
    bar.set_style(style);
    bar.set_message(url.to_string());
    bar
}

fn describe(e: &ureq::Error, timeout: Duration) -> String {
    match e {
        ureq::Error::StatusCode(code) => format!("HTTP {code}"),
        ureq::Error::Timeout(t) => format!("timed out ({t}) after {timeout:?}"),
        ureq::Error::Io(io) => format!("cannot connect: {}", io_cause(io, timeout)),
        other => other.to_string(),
    }
}

fn io_cause(e: &std::io::Error, timeout: Duration) -> String {
    // ureq reports its own timeouts inside io::Error when reading a body.
    if let Some(inner) = e.get_ref().and_then(|i| i.downcast_ref::<ureq::Error>()) {
        return describe(inner, timeout);
    }
    match e.kind() {
        std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => {
            format!("timed out after {timeout:?}")
        }
        _ => e.to_string(),
    }
}
