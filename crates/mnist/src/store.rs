//! Putting verified files into the data folder: temp file in the same folder, verify, rename.
//! Nothing unverified ever appears under a name the loader looks at, and nothing that is there
//! is ever deleted: a file under an MNIST name that is not the expected content may be the
//! user's own, so it is reported and left alone, or (only when the caller forces it, and only
//! once a verified copy is ready to take its place) renamed aside to `NAME.bad-<unix time>`.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use scratchnet_fileio::{FileError, TEMP_MARKER};
use tempfile::NamedTempFile;

use crate::checksum::{FileDigest, verify_against};
use crate::{Checksums, MnistError, MnistFile};

/// The lock file a fetch or import holds in the data folder.
pub(crate) const LOCK_FILE: &str = ".scratchnet-mnist.lock";

/// A file already in the data folder, checked against its expected digest.
pub(crate) enum Existing {
    Missing,
    Verified(PathBuf, FileDigest),
    /// Present but not the expected content; left untouched.
    Mismatch {
        path: PathBuf,
        reason: String,
    },
}

/// Is `e` a verdict on the file's contents (as opposed to it being unreadable or special)?
fn is_content_error(e: &MnistError) -> bool {
    matches!(
        e,
        MnistError::ChecksumMismatch { .. }
            | MnistError::Gzip { .. }
            | MnistError::Oversized { .. }
            | MnistError::File(FileError::TooLarge { .. })
    )
}

/// Checks what sits under `file`'s names in `dir`. A folder, FIFO or device there is an error
/// ("not a regular file"), whatever the caller wants to do.
pub(crate) fn check_existing(
    dir: &Path,
    file: MnistFile,
    sums: &Checksums,
) -> Result<Existing, MnistError> {
    let Some(path) = file.find_in(dir) else {
        return Ok(Existing::Missing);
    };
    match verify_against(&path, sums, file, &path.display().to_string()) {
        Ok(d) => Ok(Existing::Verified(path, d)),
        Err(e) if is_content_error(&e) => Ok(Existing::Mismatch {
            path,
            reason: short_reason(&e),
        }),
        Err(e) => Err(e),
    }
}

/// The cause of a content error without the path the message would repeat.
fn short_reason(e: &MnistError) -> String {
    match e {
        MnistError::ChecksumMismatch {
            expected, actual, ..
        } => format!("SHA-256 of the decompressed bytes is {actual}, expected {expected}"),
        MnistError::Gzip { err, .. } => format!("corrupt gzip data: {err}"),
        MnistError::Oversized { limit, .. } => {
            format!("decompresses to more than the expected {limit} bytes")
        }
        MnistError::File(FileError::TooLarge { limit, .. }) => {
            format!("larger than {limit} bytes, more than any copy of it")
        }
        other => other.to_string(),
    }
}

/// The error for a mismatching file the caller did not ask to replace.
pub(crate) fn refuse(path: PathBuf, reason: String) -> MnistError {
    MnistError::Unverified { path, reason }
}

pub(crate) fn create_dir(dir: &Path) -> Result<(), MnistError> {
    fs::create_dir_all(dir).map_err(|e| MnistError::io("create folder", dir, e))?;
    let meta = fs::metadata(dir).map_err(|e| MnistError::io("read the metadata of", dir, e))?;
    if !meta.is_dir() {
        return Err(MnistError::io(
            "use as the data folder",
            dir,
            io::Error::new(io::ErrorKind::NotADirectory, "not a folder"),
        ));
    }
    Ok(())
}

/// The temp file prefix for `file`: `.STEM.scratchnet-tmp-`, then random characters and `.part`.
fn temp_prefix(file: MnistFile) -> String {
    format!(".{}{TEMP_MARKER}", file.stem())
}

/// A temp file in `dir` for `file`, deleted on drop unless placed.
pub(crate) fn temp_for(dir: &Path, file: MnistFile) -> Result<NamedTempFile, MnistError> {
    let prefix = temp_prefix(file);
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".part");
    // tempfile's default 0600 would hide the data from other users of a shared data folder.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(fs::Permissions::from_mode(0o644));
    }
    builder
        .tempfile_in(dir)
        .map_err(|e| MnistError::io("create a temp file in", dir, e))
}

/// Removes the `.part` temp files of a fetch or import that was killed (SIGKILL, power loss):
/// only regular files named by [`temp_for`]. Called under the [`DirLock`], so none of them
/// belongs to a fetch still running.
pub(crate) fn remove_stray_parts(dir: &Path) -> Result<Vec<PathBuf>, MnistError> {
    let prefixes: Vec<String> = MnistFile::ALL.into_iter().map(temp_prefix).collect();
    let mut removed = Vec::new();
    let entries = fs::read_dir(dir).map_err(|e| MnistError::io("list", dir, e))?;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let ours = name.ends_with(".part") && prefixes.iter().any(|p| name.starts_with(p));
        if ours && entry.file_type().is_ok_and(|t| t.is_file()) {
            let p = entry.path();
            fs::remove_file(&p).map_err(|e| MnistError::io("remove the stray temp file", &p, e))?;
            removed.push(p);
        }
    }
    Ok(removed)
}

/// `path.bad-<unix time>`, or with `-1`, `-2`... if that exists.
fn aside_name(path: &Path) -> PathBuf {
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let base = format!("{}.bad-{t}", path.display());
    let mut candidate = PathBuf::from(&base);
    let mut i = 1;
    while fs::symlink_metadata(&candidate).is_ok() {
        candidate = PathBuf::from(format!("{base}-{i}"));
        i += 1;
    }
    candidate
}

/// Clears `path` for a verified copy of `file`: nothing there, or a verified copy (the same
/// bytes once decompressed), is fine; anything else is refused unless `force`, and then renamed
/// aside, never deleted. Returns where it went. `is_dest` says the verified file will be
/// renamed onto `path` (otherwise `path` is a name that would shadow it).
fn make_room(
    path: &Path,
    is_dest: bool,
    file: MnistFile,
    sums: &Checksums,
    force: bool,
) -> Result<Option<PathBuf>, MnistError> {
    let meta = match fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(MnistError::io("read the metadata of", path, e)),
    };
    if !meta.is_file() {
        // A folder, FIFO, device or link under the name: never replaced, never moved.
        return Err(FileError::NotRegular {
            path: path.into(),
            kind: scratchnet_fileio::kind_of(&meta),
        }
        .into());
    }
    match verify_against(path, sums, file, &path.display().to_string()) {
        Ok(_) if is_dest => Ok(None),
        Ok(_) => {
            // A verified copy under a name that shadows the new one: the same data stays in
            // place under the new name, so this removes nothing the user would miss.
            fs::remove_file(path)
                .map_err(|e| MnistError::io("remove the superseded copy", path, e))?;
            Ok(None)
        }
        Err(e) if !is_content_error(&e) => Err(e),
        Err(e) if !force => Err(refuse(path.into(), short_reason(&e))),
        Err(_) => {
            let aside = aside_name(path);
            fs::rename(path, &aside).map_err(|e| MnistError::io("move aside", path, e))?;
            Ok(Some(aside))
        }
    }
}

/// A verified file in place, and where the files it displaced went.
pub(crate) struct Placed {
    pub path: PathBuf,
    pub digest: FileDigest,
    pub moved_aside: Vec<PathBuf>,
}

/// Verifies the finished temp file and renames it to the standard name (`.gz` iff it is gzip),
/// after clearing that name and the names that would shadow it ([`make_room`]).
pub(crate) fn verify_and_place(
    tmp: NamedTempFile,
    dir: &Path,
    file: MnistFile,
    sums: &Checksums,
    what: &str,
    force: bool,
) -> Result<Placed, MnistError> {
    let digest = verify_against(tmp.path(), sums, file, what)?;
    let dest = dir.join(if digest.gzip {
        file.remote_name()
    } else {
        file.stem().to_string()
    });
    let mut moved_aside = Vec::new();
    for name in file.candidate_names() {
        let p = dir.join(&name);
        let is_dest = p == dest;
        if let Some(aside) = make_room(&p, is_dest, file, sums, force)? {
            moved_aside.push(aside);
        }
        if is_dest {
            break;
        }
    }
    tmp.persist(&dest)
        .map_err(|e| MnistError::io("rename a temp file to", &dest, e.error))?;
    Ok(Placed {
        path: dest,
        digest,
        moved_aside,
    })
}

/// An exclusive claim on a data folder for one fetch or import, released on drop or when the
/// process dies: the operating system's lock on [`LOCK_FILE`] ([`scratchnet_fileio::DirLock`]),
/// whose contents are never read, so no file left behind can keep the folder busy.
pub(crate) struct DirLock {
    _held: scratchnet_fileio::DirLock,
}

impl DirLock {
    pub(crate) fn acquire(dir: &Path) -> Result<DirLock, MnistError> {
        let path = dir.join(LOCK_FILE);
        match scratchnet_fileio::DirLock::acquire(&path) {
            Ok(held) => Ok(DirLock { _held: held }),
            Err(FileError::Locked { .. }) => Err(MnistError::Busy {
                dir: dir.into(),
                lock: path,
            }),
            Err(e) => Err(e.into()),
        }
    }
}
