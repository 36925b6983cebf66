//! Folder locks held by the operating system (`flock` through `fs4`), released by the kernel
//! when the holder's last descriptor closes, on any exit, `SIGKILL` included.
//!
//! The lock file's contents are never read or written: an empty, garbage or reused-PID file
//! cannot make a folder look busy. The file is opened with `O_NOFOLLOW | O_NONBLOCK`, so a
//! symbolic link (to `/dev/zero`, say) is refused, a FIFO is refused without waiting for a
//! writer, and a directory, device or socket is refused without reading a byte. Taking the
//! lock never waits: a held lock is [`FileError::Locked`] at once.

use std::fs::File;
use std::path::{Path, PathBuf};

use fs4::FileExt;

use crate::{FileError, kind_of};

/// An exclusive advisory lock on one lock file, held until it is dropped.
///
/// Two `DirLock`s on the same path never exist at once, in one process or in two (each
/// [`DirLock::acquire`] opens its own descriptor, and `flock` locks belong to the open file).
/// The file is created if missing (mode 0644, empty) and left in place on drop: removing it would
/// let a third process lock a new file while a second still holds the old one.
///
/// ```
/// use scratchnet_fileio::{DirLock, FileError};
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join(".lock");
/// let held = DirLock::acquire(&path).unwrap();
/// assert!(matches!(DirLock::acquire(&path), Err(FileError::Locked { .. })));
/// drop(held);
/// DirLock::acquire(&path).unwrap();
/// // a FIFO is refused at once, never waited on
/// let fifo = dir.path().join("fifo");
/// assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
/// let err = DirLock::acquire(&fifo).unwrap_err();
/// assert!(err.to_string().ends_with("is a FIFO, not a regular file"));
/// ```
#[derive(Debug)]
pub struct DirLock {
    // Held only for its descriptor: closing it releases the lock.
    _file: File,
    path: PathBuf,
}

impl DirLock {
    /// Takes the exclusive lock on the lock file `path` (conventionally a hidden file inside the
    /// folder it guards), creating the file if needed. Never blocks.
    ///
    /// # Errors
    /// - [`FileError::Locked`]: another descriptor holds the lock (another process, or another
    ///   `DirLock` in this one);
    /// - [`FileError::NotRegular`]: `path` is a symbolic link, directory, FIFO, device or socket;
    /// - [`FileError::Io`]: it cannot be created or opened (missing folder, permissions), or
    ///   the file system refuses `flock`.
    pub fn acquire(path: impl AsRef<Path>) -> Result<DirLock, FileError> {
        let path = path.as_ref();
        let not_regular = |kind| FileError::NotRegular {
            path: path.to_owned(),
            kind,
        };
        let mut opts = std::fs::OpenOptions::new();
        opts.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            // O_NOFOLLOW: a link is refused (ELOOP) rather than followed to a device or a file
            // of the user's. O_NONBLOCK: a FIFO opens at once instead of waiting for a reader.
            opts.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
                .mode(0o644);
        }
        let file = match opts.open(path) {
            Ok(f) => f,
            Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
                return Err(not_regular("symbolic link"));
            }
            Err(e) if e.raw_os_error() == Some(libc::EISDIR) => {
                return Err(not_regular("directory"));
            }
            Err(e) => return Err(FileError::io("open the lock file", path, e)),
        };
        let meta = file
            .metadata()
            .map_err(|e| FileError::io("read the metadata of", path, e))?;
        if !meta.is_file() {
            return Err(not_regular(kind_of(&meta)));
        }
        match FileExt::try_lock(&file) {
            Ok(()) => Ok(DirLock {
                _file: file,
                path: path.to_owned(),
            }),
            Err(fs4::TryLockError::WouldBlock) => Err(FileError::Locked {
                path: path.to_owned(),
            }),
            Err(fs4::TryLockError::Error(e)) => Err(FileError::io("lock", path, e)),
        }
    }

    /// The open lock file (for [`LockFile`](crate::LockFile), which writes its process id there).
    pub(crate) fn file(&self) -> &File {
        &self._file
    }

    /// The lock file held.
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let lock = scratchnet_fileio::DirLock::acquire(dir.path().join("l")).unwrap();
    /// assert_eq!(lock.path(), dir.path().join("l"));
    /// ```
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::process::Command;

    fn mkfifo(p: &Path) {
        assert!(Command::new("mkfifo").arg(p).status().unwrap().success());
    }

    #[test]
    fn garbage_empty_or_pid_contents_never_block() {
        let dir = tempfile::tempdir().unwrap();
        for contents in [&b""[..], b"pid 1\n", b"\xff\x00garbage", &[b'9'; 5000]] {
            let p = dir.path().join("lock");
            std::fs::write(&p, contents).unwrap();
            let lock = DirLock::acquire(&p).unwrap();
            drop(lock);
            // never read, never rewritten
            assert_eq!(std::fs::read(&p).unwrap(), contents);
        }
    }

    #[test]
    fn fifo_directory_and_device_links_are_refused_without_hanging() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        mkfifo(&fifo);
        let sub = dir.path().join("sub");
        std::fs::create_dir(&sub).unwrap();
        let zero = dir.path().join("zero");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        let to_fifo = dir.path().join("to-fifo");
        std::os::unix::fs::symlink(&fifo, &to_fifo).unwrap();
        for (p, kind) in [
            (&fifo, "FIFO"),
            (&sub, "directory"),
            (&zero, "symbolic link"),
            (&to_fifo, "symbolic link"),
        ] {
            match DirLock::acquire(p) {
                Err(FileError::NotRegular { kind: k, .. }) => assert_eq!(k, kind, "{p:?}"),
                other => panic!("{p:?}: {other:?}"),
            }
        }
        // a symbolic link to a regular file is refused too: its target is not ours to create
        let target = dir.path().join("target");
        std::fs::File::create(&target)
            .unwrap()
            .write_all(b"x")
            .unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(matches!(
            DirLock::acquire(&link),
            Err(FileError::NotRegular {
                kind: "symbolic link",
                ..
            })
        ));
    }

    #[test]
    fn a_second_process_is_refused_until_the_first_dies() {
        // flock(1) from util-linux holds the lock in a child process (`-o`: its command does
        // not inherit the descriptor); SIGKILL of that process must free the file.
        if Command::new("flock").arg("--version").output().is_err() {
            panic!("this test needs flock(1) (util-linux)");
        }
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("lock");
        let mut child = Command::new("flock")
            .arg("-o")
            .arg(&p)
            .args(["sleep", "30"])
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            match DirLock::acquire(&p) {
                Err(FileError::Locked { .. }) => break,
                Ok(l) => drop(l),
                Err(e) => panic!("{e}"),
            }
            assert!(
                std::time::Instant::now() < deadline,
                "flock(1) never took the lock"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        child.kill().unwrap();
        child.wait().unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while DirLock::acquire(&p).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "lock not released after kill"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}
