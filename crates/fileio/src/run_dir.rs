//! A run's output folder: its default name, the checks made before anything is written, and the claim
//! that makes one process its only writer.
//!
//! A run folder is claimed by an OS lock (`flock`, [`scratchnet_fileio::LockFile`]) on its lock
//! file `.scratchnet.lock`, held for the run and released by the kernel however the process
//! ends; a new run's folder must also be empty apart from that lock, on its resolved path
//! (`victim/x/..` is `victim`). The file holds the process id, for messages only.

use std::path::{Component, Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::{FileError, LockFile};

/// The folder under which default run folders are made.
const RUNS_DIR: &str = "runs";

/// The lock file that marks a run folder as being written by a process.
pub const LOCK_FILE: &str = ".scratchnet.lock";

fn now() -> std::time::Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

/// The first candidate name under `<root>/runs/`: the UTC start time, `runs/2026-11-28_17-05-09`.
/// [`RunDir::claim_default`] appends `-2`, `-3`, … while a name is taken. Nothing is created.
fn default_out_dir(root: &Path) -> PathBuf {
    root.join(RUNS_DIR).join(utc_stamp(now().as_secs()))
}

/// A new run id: the UTC start time, the process id and the nanoseconds,
/// `2026-12-01_21-45-02-4711-123456789`. Stored in `summary.json` and `checkpoint.bin`, so that
/// `--resume` can tell the folder's own checkpoint from one copied in from another run.
///
/// ```
/// assert_ne!(scratchnet_fileio::new_run_id(), scratchnet_fileio::new_run_id());
/// ```
pub fn new_run_id() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNT: AtomicU32 = AtomicU32::new(0);
    let t = now();
    let k = COUNT.fetch_add(1, Ordering::Relaxed);
    let base = format!(
        "{}-{}-{:09}",
        utc_stamp(t.as_secs()),
        std::process::id(),
        t.subsec_nanos()
    );
    if k == 0 { base } else { format!("{base}-{k}") }
}

/// `YYYY-MM-DD_HH-MM-SS` (UTC) of a Unix time.
fn utc_stamp(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}_{:02}-{:02}-{:02}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

fn out_err(path: &Path, reason: impl Into<String>) -> FileError {
    FileError::Unusable {
        path: path.to_owned(),
        reason: reason.into(),
    }
}

/// `path` with every existing part resolved (symbolic links followed) and the rest normalised:
/// `victim/x/..` is `victim` even while `x` does not exist, so no check is fooled by a name.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let real = std::fs::canonicalize(dir.path()).unwrap();
/// let p = scratchnet_fileio::resolve_dir(&dir.path().join("new/../other/./run")).unwrap();
/// assert_eq!(p, real.join("other/run"));
/// ```
pub fn resolve_dir(path: &Path) -> Result<PathBuf, FileError> {
    let path = if path.as_os_str().is_empty() {
        Path::new(".")
    } else {
        path
    };
    let mut existing = path;
    let mut rest: Vec<Component<'_>> = Vec::new();
    loop {
        match std::fs::canonicalize(existing) {
            Ok(real) => {
                let mut out = real;
                for c in rest.iter().rev() {
                    match c {
                        Component::Normal(n) => out.push(n),
                        Component::ParentDir => {
                            out.pop();
                        }
                        _ => {}
                    }
                }
                return Ok(out);
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut comps = existing.components();
                match comps.next_back() {
                    Some(c) => {
                        rest.push(c);
                        let parent = comps.as_path();
                        existing = if parent.as_os_str().is_empty() {
                            Path::new(".")
                        } else {
                            parent
                        };
                    }
                    None => return Err(FileError::io("resolve", path, e)),
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => {
                return Err(out_err(
                    path,
                    format!("cannot be created: {} is not a folder", existing.display()),
                ));
            }
            Err(e) => return Err(FileError::io("resolve", path, e)),
        }
    }
}

/// The entries of `dir` other than its lock file.
fn entries_besides_lock(dir: &Path) -> Result<usize, FileError> {
    let rd = std::fs::read_dir(dir).map_err(|e| FileError::io("list", dir, e))?;
    Ok(rd
        .filter_map(Result::ok)
        .filter(|e| e.file_name() != LOCK_FILE)
        .count())
}

/// Checks, without leaving anything behind, that a new run can be written to `path` (on its
/// resolved path, see [`resolve_dir`]): it is an empty folder, or does not exist and its
/// nearest existing ancestor is a folder; and a file can be created there (a probe file is made
/// and removed at once). [`RunDir::claim_new`] makes the same checks atomically later.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// scratchnet_fileio::check_new_out_dir(&dir.path().join("a/b")).unwrap();
/// assert!(!dir.path().join("a").exists());
/// std::fs::write(dir.path().join("f"), "x").unwrap();
/// assert!(scratchnet_fileio::check_new_out_dir(dir.path()).is_err()); // not empty
/// assert!(scratchnet_fileio::check_new_out_dir(&dir.path().join("f/sub")).is_err());
/// assert!(scratchnet_fileio::check_new_out_dir(&dir.path().join("g/..")).is_err()); // = dir
/// ```
pub fn check_new_out_dir(path: &Path) -> Result<(), FileError> {
    let resolved = resolve_dir(path)?;
    let probe_in = match std::fs::metadata(&resolved) {
        Ok(meta) => {
            if !meta.is_dir() {
                return Err(out_err(path, "exists and is not a folder"));
            }
            check_empty(path, &resolved)?;
            resolved
        }
        Err(_) => {
            let ancestor = resolved
                .ancestors()
                .skip(1)
                .find(|a| a.exists())
                .unwrap_or(Path::new("/"))
                .to_owned();
            if !ancestor.is_dir() {
                return Err(out_err(
                    path,
                    format!("cannot be created: {} is not a folder", ancestor.display()),
                ));
            }
            ancestor
        }
    };
    probe_writable(&probe_in)
}

fn check_empty(path: &Path, resolved: &Path) -> Result<(), FileError> {
    let lock = resolved.join(LOCK_FILE);
    if lock.exists() {
        // held only while the check runs
        match LockFile::try_acquire(&lock) {
            Ok(Some(_)) => {}
            Ok(None) => return Err(busy(path, &lock)),
            Err(e) => return Err(out_err(path, e.to_string())),
        }
    }
    if entries_besides_lock(resolved)? > 0 {
        return Err(out_err(
            path,
            "is not empty (pick a new --out; a stopped `train` run continues in it with `train --resume`)",
        ));
    }
    Ok(())
}

/// Creates and removes a file in `dir`: can results be written there?
pub fn probe_writable(dir: &Path) -> Result<(), FileError> {
    let probe = dir.join(format!(".scratchnet-probe-{}", std::process::id()));
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .map_err(|e| FileError::io("write in", dir, e))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// "in use by another run (process N)".
fn busy(path: &Path, lock: &Path) -> FileError {
    match LockFile::holder(lock) {
        Some(pid) => out_err(path, format!("is in use by another run (process {pid})")),
        None => out_err(path, "is in use by another run"),
    }
}

/// A run folder claimed by this process: its lock file exists while this value lives.
///
/// ```
/// use scratchnet_fileio::RunDir;
/// let dir = tempfile::tempdir().unwrap();
/// let out = dir.path().join("run");
/// let run = RunDir::claim_new(&out).unwrap();
/// assert!(RunDir::claim_new(&out).unwrap_err().to_string().contains("in use by another run"));
/// drop(run);
/// assert_eq!(std::fs::read_dir(&out).unwrap().count(), 0); // the lock is gone
/// ```
#[derive(Debug)]
pub struct RunDir {
    path: PathBuf,
    _lock: LockFile,
}

impl RunDir {
    /// The folder (as resolved when it was claimed).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Claims `path` for a new run: creates it (and its parents) if missing, takes its lock, and
    /// checks that nothing else is in it. Exactly one of several processes claiming one folder
    /// succeeds; the others get "in use by another run" or "not empty".
    pub fn claim_new(path: &Path) -> Result<Self, FileError> {
        let resolved = resolve_dir(path)?;
        match std::fs::metadata(&resolved) {
            Ok(m) if !m.is_dir() => return Err(out_err(path, "exists and is not a folder")),
            Ok(_) => {}
            Err(_) => {
                if let Some(parent) = resolved.parent() {
                    std::fs::create_dir_all(parent)
                        .map_err(|e| out_err(path, format!("cannot be created: {e}")))?;
                }
                match std::fs::create_dir(&resolved) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                    Err(e) => return Err(out_err(path, format!("cannot be created: {e}"))),
                }
            }
        }
        let run = Self::lock(path, resolved)?;
        if entries_besides_lock(&run.path)? > 0 {
            return Err(out_err(
                path,
                "is not empty (pick a new --out; a stopped `train` run continues in it with `train --resume`)",
            ));
        }
        Ok(run)
    }

    /// Claims a new folder under `<root>/runs/` named by the start time, with `-2`, `-3`, …
    /// appended while a name exists: each candidate is created exclusively, so runs started in
    /// the same second get different folders.
    ///
    /// ```
    /// use scratchnet_fileio::RunDir;
    /// let root = tempfile::tempdir().unwrap();
    /// let a = RunDir::claim_default(root.path()).unwrap();
    /// let b = RunDir::claim_default(root.path()).unwrap();
    /// assert_ne!(a.path(), b.path());
    /// ```
    pub fn claim_default(root: &Path) -> Result<Self, FileError> {
        let base = default_out_dir(root);
        let parent = base.parent().unwrap_or(root).to_owned();
        std::fs::create_dir_all(&parent)
            .map_err(|e| out_err(&parent, format!("cannot be created: {e}")))?;
        for k in 1..10_000 {
            let candidate = if k == 1 {
                base.clone()
            } else {
                PathBuf::from(format!("{}-{k}", base.display()))
            };
            match std::fs::create_dir(&candidate) {
                Ok(()) => {
                    let resolved = resolve_dir(&candidate)?;
                    return Self::lock(&candidate, resolved);
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(out_err(&candidate, format!("cannot be created: {e}"))),
            }
        }
        Err(out_err(
            &base,
            "no free name (10,000 runs started this second?)",
        ))
    }

    /// Claims the existing run folder `path` to continue its run (`--resume`): takes its lock
    /// (a stale lock of a killed process is taken over).
    pub fn claim_existing(path: &Path) -> Result<Self, FileError> {
        let resolved = resolve_dir(path)?;
        if !resolved.is_dir() {
            return Err(out_err(path, "is not a folder"));
        }
        Self::lock(path, resolved)
    }

    fn lock(path: &Path, resolved: PathBuf) -> Result<Self, FileError> {
        let lock = resolved.join(LOCK_FILE);
        match LockFile::try_acquire(&lock) {
            Ok(Some(held)) => Ok(RunDir {
                path: resolved,
                _lock: held,
            }),
            Ok(None) => Err(busy(path, &lock)),
            Err(e) => Err(out_err(path, e.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_known_dates() {
        assert_eq!(utc_stamp(0), "1970-01-01_00-00-00");
        assert_eq!(utc_stamp(951_782_400), "2000-02-29_00-00-00");
        assert_eq!(utc_stamp(1_700_000_000), "2023-11-14_22-13-20");
    }

    #[test]
    fn empty_existing_folder_is_accepted_and_left_empty() {
        let dir = tempfile::tempdir().unwrap();
        check_new_out_dir(dir.path()).unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn taken_default_name_gets_a_suffix() {
        let dir = tempfile::tempdir().unwrap();
        let first = RunDir::claim_default(dir.path()).unwrap();
        let second = RunDir::claim_default(dir.path()).unwrap();
        assert_ne!(first.path(), second.path());
        assert!(
            second
                .path()
                .to_string_lossy()
                .starts_with(&*first.path().to_string_lossy())
        );
    }

    #[test]
    fn a_parent_dir_through_a_missing_folder_is_the_folder_itself() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::create_dir(&victim).unwrap();
        std::fs::write(victim.join("loss.csv"), "mine").unwrap();
        let e = RunDir::claim_new(&victim.join("x/..")).unwrap_err();
        assert!(e.to_string().contains("not empty"), "{e}");
        assert_eq!(std::fs::read_dir(&victim).unwrap().count(), 1);
    }

    #[test]
    fn a_lock_file_nobody_holds_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        // left by a killed run: the file stays, its lock went with the process
        std::fs::write(dir.path().join(LOCK_FILE), "4194305\n").unwrap();
        let run = RunDir::claim_existing(dir.path()).unwrap();
        let e = RunDir::claim_existing(dir.path()).unwrap_err().to_string();
        let me = format!("in use by another run (process {})", std::process::id());
        assert!(e.contains(&me), "{e}");
        drop(run);
        assert!(!dir.path().join(LOCK_FILE).exists());
    }
}
