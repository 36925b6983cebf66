//! Verified download from an ordered list of mirrors (feature `download`).
//!
//! For each of the four files: if it is present and verified, nothing is fetched (unless
//! forced). Otherwise the mirrors are tried in order — those given first, then
//! [`DEFAULT_MIRRORS`] — each streaming into a temp file in the data folder, which is verified
//! by the SHA-256 of its decompressed bytes and only then renamed into place. An HTTP error,
//! timeout, truncated or oversized body or checksum mismatch moves on to the next mirror; when
//! all fail the error lists every attempt and its cause. The original host, yann.lecun.com, has
//! answered 403/404 since 2024 and is not in the list.
//!
//! What a fetch promises:
//!
//! * **Nothing of the user's is lost.** A file under an MNIST name that is not the expected
//!   content is reported ([`MnistError::Unverified`]) and left alone; with
//!   [`FetchOptions::force`] it is renamed to `NAME.bad-<unix time>` once a verified copy is
//!   ready to take its place, never deleted. A folder, FIFO or device under an MNIST name is
//!   always refused ("not a regular file").
//! * **Every download is bounded**: by [`FetchOptions::timeout`] for connecting and for each
//!   wait for data, by [`FetchOptions::deadline`] for the whole file (a server that drips one
//!   byte a second fails at the deadline), and by the expected sizes in
//!   [`FetchOptions::checksums`]: no more than [`Checksums::max_file_len`] bytes are written to
//!   disk, no more than the expected length decompressed (an endless body or a gzip bomb stops at
//!   the cap).
//! * **Redirects**: at most [`MAX_REDIRECTS`], to `http` or `https` only, and never from
//!   `https` to `http`; integrity does not depend on the host, it stays with the SHA-256.
//! * **Interrupts**: [`FetchOptions::cancel`] is checked between reads (every 64 KiB, or at
//!   least once per `timeout` on a stalled connection); when raised, the fetch stops with
//!   [`MnistError::Interrupted`] and removes its temp file.
//! * **One fetch per folder**: the OS advisory lock on `.scratchnet-mnist.lock` (`flock`,
//!   released when the holder exits however it exits; the file's contents are never read) makes
//!   a second concurrent fetch or import into the same folder fail with [`MnistError::Busy`]
//!   instead of racing; temp files (`.NAME.scratchnet-tmp-XXXXXX.part`) left by a fetch that was
//!   killed are removed under that lock.

use std::io::{IsTerminal, Read, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub use crate::import::{ImportOptions, import, import_with};
pub use crate::report::{FetchReport, FileReport, Source};
use crate::store::{
    DirLock, Existing, Placed, check_existing, create_dir, refuse, remove_stray_parts, temp_for,
    verify_and_place,
};
use crate::{Attempt, Checksums, MnistError, MnistFile};

/// The mirrors tried after any given ones, most reliable first.
pub const DEFAULT_MIRRORS: [&str; 2] = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
];

/// The environment variable read by [`mirrors_from_env`].
pub const MIRROR_ENV: &str = "MNIST_MIRROR";

/// Redirects followed for one URL; one more fails that mirror.
pub const MAX_REDIRECTS: u32 = 5;

/// The largest [`FetchOptions::timeout`] accepted: one hour.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(3600);

/// The largest [`FetchOptions::deadline`] accepted: one day.
pub const MAX_DEADLINE: Duration = Duration::from_secs(24 * 3600);

/// Options of [`fetch`].
///
/// ```
/// use std::sync::{Arc, atomic::AtomicBool};
/// let stop = Arc::new(AtomicBool::new(false)); // set it from a Ctrl-C handler
/// let opts = scratchnet_mnist::download::FetchOptions {
///     mirrors: vec!["http://127.0.0.1:8765/".into()],
///     cancel: Some(stop.clone()),
///     ..Default::default()
/// };
/// assert_eq!(opts.mirror_list()[0], "http://127.0.0.1:8765/");
/// assert_eq!(opts.mirror_list().len(), 3);
/// ```
#[derive(Clone, Debug)]
pub struct FetchOptions {
    /// Mirrors (base URLs; the file name is appended) tried first, in order, before the defaults.
    pub mirrors: Vec<String>,
    /// Download even the files that are already present and verified, and replace a file under
    /// an MNIST name that is not the expected content: it is renamed to `NAME.bad-<unix time>`
    /// once a verified copy is ready, never deleted. Without it such a file stops the fetch
    /// with [`MnistError::Unverified`].
    pub force: bool,
    /// Limit on connecting and on each wait for data: a stalled server fails after this long.
    /// More than zero and at most [`MAX_TIMEOUT`].
    pub timeout: Duration,
    /// Limit on the whole download of one file from one mirror, however the bytes trickle in.
    /// More than zero and at most [`MAX_DEADLINE`].
    pub deadline: Duration,
    /// Report progress on stderr: a bar on a terminal, plain lines otherwise.
    pub progress: bool,
    /// Whether [`DEFAULT_MIRRORS`] are tried after [`Self::mirrors`]; set it with
    /// [`FetchOptions::only`]. Public only so that `..Default::default()` keeps working.
    #[doc(hidden)]
    pub use_default_mirrors: bool,
    /// Expected digests and sizes; [`Checksums::mnist`] by default.
    pub checksums: Checksums,
    /// Raised (e.g. by a Ctrl-C handler), the fetch stops at its next read with
    /// [`MnistError::Interrupted`], leaving no temp file.
    pub cancel: Option<Arc<AtomicBool>>,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            mirrors: Vec::new(),
            force: false,
            timeout: Duration::from_secs(30),
            deadline: Duration::from_secs(600),
            progress: false,
            use_default_mirrors: true,
            checksums: Checksums::mnist(),
            cancel: None,
        }
    }
}

impl FetchOptions {
    /// Options that try `mirrors` and nothing else: no [`DEFAULT_MIRRORS`], for a private
    /// mirror or a network that reaches no other host.
    ///
    /// ```
    /// let o = scratchnet_mnist::download::FetchOptions::only(["http://10.0.0.1/mnist/"]);
    /// assert_eq!(o.mirror_list(), ["http://10.0.0.1/mnist/"]);
    /// ```
    pub fn only<S: Into<String>>(mirrors: impl IntoIterator<Item = S>) -> Self {
        FetchOptions {
            mirrors: mirrors.into_iter().map(Into::into).collect(),
            use_default_mirrors: false,
            ..Default::default()
        }
    }

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

    /// Checks the timeouts' ranges: [`MnistError::InvalidOption`] naming the option otherwise.
    ///
    /// ```
    /// use std::time::Duration;
    /// use scratchnet_mnist::download::FetchOptions;
    /// let zero = FetchOptions { timeout: Duration::ZERO, ..Default::default() };
    /// assert_eq!(
    ///     zero.validate().unwrap_err().to_string(),
    ///     "invalid timeout: must be more than 0 s and at most 3600 s, got 0 s"
    /// );
    /// assert!(FetchOptions::default().validate().is_ok());
    /// ```
    pub fn validate(&self) -> Result<(), MnistError> {
        let check = |name: &'static str, v: Duration, max: Duration| {
            if v.is_zero() || v > max {
                return Err(MnistError::InvalidOption {
                    name,
                    reason: format!(
                        "must be more than 0 s and at most {} s, got {} s",
                        max.as_secs(),
                        secs(v)
                    ),
                });
            }
            Ok(())
        };
        check("timeout", self.timeout, MAX_TIMEOUT)?;
        check("deadline", self.deadline, MAX_DEADLINE)
    }

    fn cancelled(&self) -> bool {
        self.cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::SeqCst))
    }
}

/// A duration in seconds for messages: whole seconds as such, else three decimals.
fn secs(d: Duration) -> String {
    if d.subsec_nanos() == 0 {
        d.as_secs().to_string()
    } else {
        format!("{:.3}", d.as_secs_f64())
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

/// The URL a redirect from `from` to `location` leads to, if the policy allows it: `http` or
/// `https` only, never from `https` to `http`. `location` may be absolute, scheme-relative
/// (`//host/path`), absolute-path (`/path`) or relative (`file.gz`).
///
/// ```
/// use scratchnet_mnist::download::redirect_target;
/// assert_eq!(redirect_target("http://a/m/x.gz", "/n/x.gz").unwrap(), "http://a/n/x.gz");
/// assert_eq!(redirect_target("http://a/m/x.gz", "y.gz").unwrap(), "http://a/m/y.gz");
/// assert_eq!(redirect_target("http://a/x", "https://b/x").unwrap(), "https://b/x");
/// assert!(redirect_target("https://a/x", "http://b/x").unwrap_err().contains("https to http"));
/// assert!(redirect_target("http://a/x", "ftp://b/x").is_err());
/// ```
pub fn redirect_target(from: &str, location: &str) -> Result<String, String> {
    let location = location.trim();
    let scheme_of = |u: &str| -> Option<String> {
        let (scheme, _) = u.split_once(':')?;
        let valid = !scheme.is_empty()
            && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
        valid.then(|| scheme.to_ascii_lowercase())
    };
    let from_scheme = scheme_of(from).unwrap_or_default();
    let from_rest = from.split_once("://").map(|(_, r)| r).unwrap_or(from);
    let authority_end = from_rest.find('/').unwrap_or(from_rest.len());
    let origin = &from[..from.len() - from_rest.len() + authority_end];
    let target = if let Some(rest) = location.strip_prefix("//") {
        format!("{from_scheme}://{rest}")
    } else if location.starts_with('/') {
        format!("{origin}{location}")
    } else if scheme_of(location).is_some() {
        location.to_string()
    } else {
        // Relative to the folder of `from`; the query or fragment of `from` plays no part.
        let path_end = from.find(['?', '#']).unwrap_or(from.len());
        let base = &from[..path_end];
        let folder_end = base
            .rfind('/')
            .map_or(base.len(), |i| i + 1)
            .max(origin.len());
        let sep = if base[..folder_end].ends_with('/') {
            ""
        } else {
            "/"
        };
        format!("{}{sep}{location}", &base[..folder_end])
    };
    match scheme_of(&target).as_deref() {
        Some("https") => Ok(target),
        Some("http") if from_scheme == "https" => Err(format!(
            "refused a redirect from https to http ({target}): downgrades are never followed"
        )),
        Some("http") => Ok(target),
        _ => Err(format!(
            "refused a redirect to {target}: only http and https are followed"
        )),
    }
}

/// Downloads whichever of the four files are missing in `dir` (all four if `opts.force`),
/// verifying each. See the [module docs](self) for what it promises.
///
/// # Errors
/// [`MnistError::Unverified`] before anything is downloaded if a file under an MNIST name is
/// not the expected content and `opts.force` is off; [`MnistError::File`] for a folder, FIFO
/// or device under an MNIST name; [`MnistError::AllMirrorsFailed`] for the first file no mirror
/// could deliver, listing each URL and cause; [`MnistError::Interrupted`] when `opts.cancel`
/// was raised; [`MnistError::Busy`] when another fetch holds the folder;
/// [`MnistError::InvalidOption`] for a timeout out of range; I/O errors on `dir`. Files
/// already placed stay (they are verified).
///
/// ```no_run
/// use scratchnet_mnist::download::{FetchOptions, fetch, mirrors_from_env};
/// let opts = FetchOptions { mirrors: mirrors_from_env(), progress: true, ..Default::default() };
/// let report = fetch("data/mnist", &opts)?;
/// scratchnet_fileio::outln!("{report}");
/// # Ok::<(), scratchnet_mnist::MnistError>(())
/// ```
pub fn fetch(dir: impl AsRef<Path>, opts: &FetchOptions) -> Result<FetchReport, MnistError> {
    let dir = dir.as_ref();
    opts.validate()?;
    create_dir(dir)?;
    let _lock = DirLock::acquire(dir)?;
    let removed_temps = remove_stray_parts(dir)?;
    // Everything that is there is judged before a byte is downloaded: a file that is not ours
    // stops the fetch now, not after three other files were fetched.
    let mut todo = Vec::new();
    let mut files = Vec::new();
    for file in MnistFile::ALL {
        match check_existing(dir, file, &opts.checksums)? {
            Existing::Verified(path, digest) if !opts.force => files.push(FileReport {
                file,
                path,
                source: Source::AlreadyPresent,
                digest,
                failed: Vec::new(),
                replaced: None,
                moved_aside: Vec::new(),
            }),
            Existing::Verified(..) | Existing::Missing => todo.push((file, None)),
            Existing::Mismatch { path, reason } if !opts.force => {
                return Err(refuse(path, reason));
            }
            Existing::Mismatch { reason, .. } => todo.push((file, Some(reason))),
        }
    }
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_connect(Some(opts.timeout))
        .timeout_per_read(Some(opts.timeout))
        .timeout_recv_response(Some(opts.timeout))
        // Redirects are followed by hand, under the policy of `redirect_target`.
        .max_redirects(0)
        .http_status_as_error(false)
        // The .gz bytes must arrive as they are on the mirror.
        .accept_encoding("identity")
        .build()
        .into();
    let mirrors = opts.mirror_list();
    for (file, replaced) in todo {
        let mut failed = Vec::new();
        let mut placed = None;
        for mirror in &mirrors {
            if opts.cancelled() {
                return Err(MnistError::Interrupted);
            }
            let url = file_url(mirror, file);
            match fetch_one(&agent, &url, dir, file, opts) {
                Ok(p) => {
                    placed = Some((url, p));
                    break;
                }
                Err(Fail::Interrupted) => return Err(MnistError::Interrupted),
                Err(Fail::Fatal(e)) => return Err(e),
                Err(Fail::Cause(cause)) => {
                    if opts.progress {
                        scratchnet_fileio::errln!("{url}: failed: {cause}");
                    }
                    failed.push(Attempt { url, cause });
                }
            }
        }
        let Some((url, p)) = placed else {
            return Err(MnistError::AllMirrorsFailed {
                file: file.remote_name(),
                attempts: failed,
            });
        };
        files.push(FileReport {
            file,
            path: p.path,
            source: Source::Url(url),
            digest: p.digest,
            failed,
            replaced,
            moved_aside: p.moved_aside,
        });
    }
    files.sort_by_key(|r| r.file);
    Ok(FetchReport {
        dir: dir.into(),
        files,
        removed_temps,
    })
}

/// Why one try at one URL gave no file.
enum Fail {
    /// This mirror failed; the next one may work. The one-line cause.
    Cause(String),
    /// The caller cancelled.
    Interrupted,
    /// Something about the data folder, not the mirror: no other mirror can help.
    Fatal(MnistError),
}

impl From<String> for Fail {
    fn from(s: String) -> Self {
        Fail::Cause(s)
    }
}

/// One try at one URL, following redirects under the policy of [`redirect_target`].
fn fetch_one(
    agent: &ureq::Agent,
    url: &str,
    dir: &Path,
    file: MnistFile,
    opts: &FetchOptions,
) -> Result<Placed, Fail> {
    let started = Instant::now();
    let deadline_at = started + opts.deadline;
    let cap = opts.checksums.max_file_len(file);
    let late = |received: u64| {
        Fail::Cause(format!(
            "no complete file within the deadline of {} s ({received} bytes received)",
            secs(opts.deadline)
        ))
    };
    let mut current = url.to_string();
    let mut redirects = 0;
    let response = loop {
        let remaining = deadline_at.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(late(0));
        }
        let response = agent
            .get(&current)
            .config()
            .timeout_global(Some(remaining))
            .build()
            .call()
            .map_err(|e| {
                if Instant::now() >= deadline_at {
                    late(0)
                } else {
                    Fail::Cause(describe(&e, opts.timeout))
                }
            })?;
        let status = response.status();
        if status.is_redirection() {
            let Some(location) = response
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
            else {
                return Err(format!("HTTP {} without a Location header", status.as_u16()).into());
            };
            redirects += 1;
            if redirects > MAX_REDIRECTS {
                return Err(format!("more than {MAX_REDIRECTS} redirects").into());
            }
            current = redirect_target(&current, location)?;
            continue;
        }
        if !status.is_success() {
            return Err(format!("HTTP {}", status.as_u16()).into());
        }
        break response;
    };
    let expected_len: Option<u64> = response
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok());
    if let Some(len) = expected_len.filter(|&l| l > cap) {
        return Err(format!(
            "announces {len} bytes, more than the {cap} any copy of {} can have",
            file.remote_name()
        )
        .into());
    }
    let mut tmp = temp_for(dir, file).map_err(Fail::Fatal)?;
    let bar = progress_bar(opts.progress, url, expected_len);
    let mut body = response.into_body().into_reader();
    let mut buf = vec![0u8; 1 << 16];
    let mut received = 0u64;
    loop {
        if opts.cancelled() {
            bar.abandon();
            return Err(Fail::Interrupted);
        }
        if Instant::now() >= deadline_at {
            bar.abandon();
            return Err(late(received));
        }
        let n = match body.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                bar.abandon();
                if Instant::now() >= deadline_at {
                    return Err(late(received));
                }
                let of = expected_len.map(|l| format!(" of {l}")).unwrap_or_default();
                return Err(format!(
                    "body broke off after {received}{of} bytes: {}",
                    io_cause(&e, opts.timeout)
                )
                .into());
            }
        };
        received += n as u64;
        if received > cap {
            bar.abandon();
            return Err(format!(
                "sent more than {cap} bytes, more than any copy of {} can have",
                file.remote_name()
            )
            .into());
        }
        tmp.as_file_mut()
            .write_all(&buf[..n])
            .map_err(|e| Fail::Fatal(MnistError::io("write a temp file in", dir, e)))?;
        bar.set_position(received);
    }
    bar.finish_and_clear();
    if let Some(len) = expected_len.filter(|&l| l != received) {
        return Err(format!("truncated body: received {received} of {len} bytes").into());
    }
    if opts.cancelled() {
        return Err(Fail::Interrupted);
    }
    let placed = verify_and_place(tmp, dir, file, &opts.checksums, url, opts.force).map_err(
        |e| match e {
            // The temp file's name would only be noise: say what is wrong with the body.
            MnistError::Gzip { err, .. } => Fail::Cause(format!("corrupt gzip data: {err}")),
            MnistError::ChecksumMismatch {
                expected, actual, ..
            } => Fail::Cause(format!(
                "checksum mismatch: SHA-256 of the decompressed bytes is {actual}, expected {expected}"
            )),
            MnistError::Oversized { limit, .. } => Fail::Cause(format!(
                "decompresses to more than {limit} bytes, the size of {}",
                file.stem()
            )),
            // Not the body's fault: a file in the folder that cannot be moved aside.
            other => Fail::Fatal(other),
        },
    )?;
    if opts.progress {
        scratchnet_fileio::errln!("{url}: {received} bytes, verified");
    }
    Ok(placed)
}

fn progress_bar(progress: bool, url: &str, len: Option<u64>) -> ProgressBar {
    if !progress {
        return ProgressBar::hidden();
    }
    if !std::io::stderr().is_terminal() {
        scratchnet_fileio::errln!("fetching {url}");
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
        ureq::Error::Timeout(t) => format!("timed out ({t}) after {} s", secs(timeout)),
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
            format!("timed out after {} s", secs(timeout))
        }
        _ => e.to_string(),
    }
}
