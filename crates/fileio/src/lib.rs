//! Files on disk, the one place for it in scratchnet: every other crate reads and writes its files
//! through these functions, so each promise below is kept everywhere by one mechanism.
//!
//! - [`write_atomic`]: the new contents go to a temp file beside the target, are synced, then
//!   renamed onto it, so a reader or a crash sees the old file or the new one, never a mix. A
//!   target that exists and is not a regular file (directory, device, FIFO, socket) is refused,
//!   never replaced; a symbolic link is followed, and the file it points to is replaced.
//! - [`read_limited`] / [`open_regular`]: only regular files are read (a FIFO would block, a
//!   device never ends), and a read stops with [`FileError::TooLarge`] one byte past its limit,
//!   whatever the metadata says.
//! - [`DirLock`]: an exclusive folder lock held by the OS (`flock`), released when the holder
//!   exits however it exits; its file's contents are never read, and a link, FIFO, directory or
//!   device in its place is refused without waiting.
//! - [`codec`]: streaming encode/decode with a byte limit, for large files that carry their own
//!   check (the MNIST cache).
//! - [`LockFile`]: an exclusive lock that is the OS's (`flock`), released by the kernel when its
//!   process dies, however it dies.
//! - [`RunDir`]: a run's output folder, claimed through its [`LockFile`] on its resolved path
//!   (`victim/x/..` is `victim`), new runs only in an empty folder.
//! - [`frame`]: the checked binary format of model and checkpoint files
//!   (`magic | version | bincode values | SHA-256`), decoded from bounded slices so that no length
//!   in a file can make a reader allocate more than the file holds.
//!
//! ```
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("notes.txt");
//! scratchnet_fileio::write_atomic(&path, b"hello").unwrap();
//! assert_eq!(scratchnet_fileio::read_limited(&path, 100).unwrap(), b"hello");
//! // a directory is never replaced by a file
//! let err = scratchnet_fileio::write_atomic(dir.path(), b"x").unwrap_err();
//! assert!(err.to_string().ends_with("is a directory, not a regular file"));
//! ```

mod atomic;
pub mod codec;
pub mod console;
mod dir_lock;
mod error;
pub mod frame;
mod lock;
mod read;
mod run_dir;

pub use atomic::{
    TEMP_MARKER, remove_stale_temps, resolve_output, write_atomic, write_atomic_with,
};
pub use dir_lock::DirLock;
pub use error::FileError;
pub use lock::LockFile;
pub use read::{open_regular, read_limited, read_to_string_limited};
pub use run_dir::{LOCK_FILE, RunDir, check_new_out_dir, new_run_id, probe_writable, resolve_dir};

use std::fs::Metadata;

/// What kind of file `meta` describes, in words for an error message: `"regular file"`,
/// `"directory"`, `"symbolic link"`, `"FIFO"`, `"socket"`, `"character device"`,
/// `"block device"` or `"special file"`.
///
/// ```
/// let meta = std::fs::metadata("/").unwrap();
/// assert_eq!(scratchnet_fileio::kind_of(&meta), "directory");
/// ```
pub fn kind_of(meta: &Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_file() {
        return "regular file";
    }
    if t.is_dir() {
        return "directory";
    }
    if t.is_symlink() {
        return "symbolic link";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "FIFO";
        }
        if t.is_socket() {
            return "socket";
        }
        if t.is_char_device() {
            return "character device";
        }
        if t.is_block_device() {
            return "block device";
        }
    }
    "special file"
}
