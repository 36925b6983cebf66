//! [`LockFile`]: an exclusive advisory lock (the OS's `flock`, through `fs4`) on a file, held while
//! the value lives. The kernel releases it when the process ends, however it ends, so a lock can
//! never be left stale by a killed process, and no process id is trusted.

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::FileError;

/// An exclusive lock on `path`, released (and the file removed) when dropped.
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
    // held for its lock; closing it releases the lock
    _file: File,
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
            let mut options = OpenOptions::new();
            options.read(true).write(true).create(true).truncate(false);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NOFOLLOW);
            let mut file = options
                .open(path)
                .map_err(|e| io("open the lock file", e))?;
            let meta = file.metadata().map_err(|e| io("read", e))?;
            if !meta.is_file() {
                return Err(FileError::NotRegular {
                    path: path.to_owned(),
                    kind: crate::kind_of(&meta),
                });
            }
            match fs4::FileExt::try_lock(&file) {
                Ok(()) => {}
                Err(fs4::TryLockError::WouldBlock) => return Ok(None),
                Err(fs4::TryLockError::Error(e)) => return Err(io("lock", e)),
            }
            if same_file(&meta, path) {
                file.set_len(0).map_err(|e| io("write", e))?;
                writeln!(file, "{}", std::process::id()).map_err(|e| io("write", e))?;
                return Ok(Some(LockFile {
                    path: path.to_owned(),
                    _file: file,
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
