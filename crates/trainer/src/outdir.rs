//! The run folder: its default name, and the checks made before anything is written.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::TrainError;

/// The folder under which default run folders are made.
pub const RUNS_DIR: &str = "runs";

/// A new folder name under `<root>/runs/`: the UTC start time, `runs/2026-11-28_17-05-09`, with
/// `-2`, `-3`, … appended if that exists already. Nothing is created.
///
/// ```
/// let d = scratchnet_trainer::default_out_dir(std::path::Path::new("/tmp/x"));
/// assert!(d.starts_with("/tmp/x/runs"));
/// ```
pub fn default_out_dir(root: &Path) -> PathBuf {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let base = root.join(RUNS_DIR).join(utc_stamp(secs));
    if !base.exists() {
        return base;
    }
    (2..)
        .map(|k| PathBuf::from(format!("{}-{k}", base.display())))
        .find(|p| !p.exists())
        .expect("some suffix is free")
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

fn out_err(path: &Path, reason: impl Into<String>) -> TrainError {
    TrainError::OutDir {
        path: path.to_owned(),
        reason: reason.into(),
    }
}

/// Checks, without leaving anything behind, that a new run can be written to `path`: it is an
/// empty folder, or does not exist and its nearest existing ancestor is a folder; and a file can
/// be created there (a probe file is made and removed at once).
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// scratchnet_trainer::check_new_out_dir(&dir.path().join("a/b")).unwrap();
/// assert!(!dir.path().join("a").exists());
/// std::fs::write(dir.path().join("f"), "x").unwrap();
/// assert!(scratchnet_trainer::check_new_out_dir(dir.path()).is_err()); // not empty
/// assert!(scratchnet_trainer::check_new_out_dir(&dir.path().join("f/sub")).is_err());
/// ```
pub fn check_new_out_dir(path: &Path) -> Result<(), TrainError> {
    let probe_in = if path.exists() {
        if !path.is_dir() {
            return Err(out_err(path, "exists and is not a folder"));
        }
        let mut entries =
            std::fs::read_dir(path).map_err(|e| out_err(path, format!("cannot be read: {e}")))?;
        if entries.next().is_some() {
            return Err(out_err(
                path,
                "is not empty (pick a new --out, or continue the run in it with --resume)",
            ));
        }
        path.to_owned()
    } else {
        let ancestor = path
            .ancestors()
            .skip(1)
            .map(|a| {
                if a.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    a
                }
            })
            .find(|a| a.exists())
            .unwrap_or(Path::new("."))
            .to_owned();
        if !ancestor.is_dir() {
            return Err(out_err(
                path,
                format!("cannot be created: {} is not a folder", ancestor.display()),
            ));
        }
        ancestor
    };
    tempfile::Builder::new()
        .prefix(".scratchnet-probe-")
        .tempfile_in(&probe_in)
        .map(drop)
        .map_err(|e| {
            out_err(
                path,
                format!("cannot be written ({}: {e})", probe_in.display()),
            )
        })
}

/// Creates the run folder (and its parents).
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// scratchnet_trainer::create_out_dir(&dir.path().join("runs/a")).unwrap();
/// assert!(dir.path().join("runs/a").is_dir());
/// ```
pub fn create_out_dir(path: &Path) -> Result<(), TrainError> {
    std::fs::create_dir_all(path).map_err(|e| out_err(path, format!("cannot be created: {e}")))
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
        let first = default_out_dir(dir.path());
        std::fs::create_dir_all(&first).unwrap();
        let second = default_out_dir(dir.path());
        assert_ne!(first, second);
        assert!(
            second
                .to_string_lossy()
                .starts_with(&*first.to_string_lossy())
        );
    }
}
