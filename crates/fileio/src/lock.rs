//! [`LockFile`]: a [`DirLock`] (the OS's `flock`, through `fs4`) whose file goes with it: the
//! lock of a run folder, which leaves no file behind. The kernel releases the lock when the
//! process ends, however it ends, so a lock can never be left stale by a killed process, and no
//! process id is trusted.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::{DirLock, FileError};

/// An exclusive lock on `path`, released (and the file removed) when dropped: a [`DirLock`]
/// with the same refusals (a symbolic link, FIFO, directory or device is never opened as a
/// lock), plus the removal.
///
/// ```
/// use scratchnet_fileio::LockFile;
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join(".lock");
/// let held = LockFile::try_acquire(&path).unwrap().expect("nobody holds it");
/// assert!(LockFile::try_acquire(&path).unwrap().is_none()); // busy, even within one process
/// assert_eq!(LockFile::holder(&path), Some(std::process::id()));
/// drop(held);
/// assert!(!path.exists());
/// assert!(LockFile::try_acquire(&path).unwrap().is_some());
/// ```
#[derive(Debug)]
pub struct LockFile {
    path: PathBuf,
    // held for its lock; dropped after `drop` removed the file, it releases the lock
    _lock: DirLock,
}

impl LockFile {
    /// Takes the lock on `path` (creating the file), or `Ok(None)` if another open file holds
    /// it. The file then holds this process's id, for messages only. A symbolic link or anything
    /// but a regular file at `path` is refused.
    ///
    /// # Errors
    /// [`FileError::Io`] if the file cannot be opened or locked; [`FileError::NotRegular`].
    pub fn try_acquire(path: &Path) -> Result<Option<Self>, FileError> {
        let io = |action, e| FileError::Io {
            action,
            path: path.to_owned(),
            source: e,
        };
        // A holder removes the file before it unlocks: a file opened just before that removal
        // is locked but no longer at `path`. Then open again.
        for _ in 0..100 {
            let lock = match DirLock::acquire(path) {
                Ok(lock) => lock,
                Err(FileError::Locked { .. }) => return Ok(None),
                Err(e) => return Err(e),
            };
            let meta = lock.file().metadata().map_err(|e| io("read", e))?;
            if same_file(&meta, path) {
                let mut file = lock.file();
                file.set_len(0).map_err(|e| io("write", e))?;
                writeln!(file, "{}", std::process::id()).map_err(|e| io("write", e))?;
                return Ok(Some(LockFile {
                    path: path.to_owned(),
                    _lock: lock,
                }));
            }
        }
        Ok(None)
    }

    /// The process id written in the lock file at `path`, if it can be read (for messages: the
    /// lock itself is the OS's).
    pub fn holder(path: &Path) -> Option<u32> {
        let text = crate::read_to_string_limited(path, 64).ok()?;
        text.trim().parse().ok()
    }

    /// The locked file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// True if `path` still names the file whose metadata is `meta`.
fn same_file(meta: &std::fs::Metadata, path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        std::fs::symlink_metadata(path)
            .is_ok_and(|m| m.ino() == meta.ino() && m.dev() == meta.dev())
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        path.is_file()
    }
}

impl Drop for LockFile {
    fn drop(&mut self) {
        // removed while still locked, so that nobody locks a file about to vanish
        let _ = std::fs::remove_file(&self.path);
    }
}
