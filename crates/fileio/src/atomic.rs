//! Atomic replacement of a file's contents, and nothing but a regular file's.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::{FileError, kind_of};

/// Part of every temp file name this crate creates (`.NAME.scratchnet-tmp-XXXXXX`), so that
/// [`remove_stale_temps`] can tell them from the user's files.
pub const TEMP_MARKER: &str = ".scratchnet-tmp-";

/// The file that writing to `path` replaces: `path` itself when it is a regular file or does not
/// exist yet, the file a symbolic link points to when it is one. Refuses a path that exists and
/// is not a regular file, and a link that points nowhere.
///
/// ```
/// use scratchnet_fileio::{resolve_output, FileError};
/// let dir = tempfile::tempdir().unwrap();
/// let new = dir.path().join("new.txt");
/// assert_eq!(resolve_output(&new).unwrap(), new);
/// assert!(matches!(resolve_output("/dev/null"), Err(FileError::NotRegular { kind: "character device", .. })));
/// ```
pub fn resolve_output(path: impl AsRef<Path>) -> Result<PathBuf, FileError> {
    let path = path.as_ref();
    let meta = match fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(path.to_owned()),
        Err(e) => return Err(FileError::io("read the metadata of", path, e)),
    };
    let (resolved, meta) = if meta.file_type().is_symlink() {
        match fs::canonicalize(path) {
            Ok(target) => {
                let meta = fs::metadata(&target)
                    .map_err(|e| FileError::io("read the metadata of", path, e))?;
                (target, meta)
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(FileError::DanglingLink {
                    path: path.to_owned(),
                    target: fs::read_link(path).unwrap_or_default(),
                });
            }
            Err(e) => return Err(FileError::io("follow the link", path, e)),
        }
    } else {
        (path.to_owned(), meta)
    };
    if !meta.is_file() {
        return Err(FileError::NotRegular {
            path: path.to_owned(),
            kind: kind_of(&meta),
        });
    }
    Ok(resolved)
}

/// Writes `bytes` to `path` atomically (see [`write_atomic_with`]).
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let p = dir.path().join("a.txt");
/// scratchnet_fileio::write_atomic(&p, b"old").unwrap();
/// scratchnet_fileio::write_atomic(&p, b"new").unwrap();
/// assert_eq!(std::fs::read(&p).unwrap(), b"new");
/// ```
pub fn write_atomic(path: impl AsRef<Path>, bytes: &[u8]) -> Result<(), FileError> {
    write_atomic_with(path, |w| w.write_all(bytes))
}

/// Writes what `fill` writes to `path` atomically (`fill` gets the temp file itself, seekable,
/// unbuffered: wrap it in a `BufWriter` for many small writes): into a temp file in the target's folder, which
/// is synced and then renamed onto the target, so a reader or a crash sees the old file or the
/// new one, never a mix, and a failed write (full disk, error in `fill`) leaves the old file as
/// it was and no temp file behind.
///
/// The target is [`resolve_output`]`(path)`: a directory, device, FIFO or socket is refused, a
/// symbolic link followed. A replaced file keeps its permissions; a new one is `0644` (less the
/// umask). Errors name `path`, never the temp file.
///
/// ```
/// use std::io::Write;
/// let dir = tempfile::tempdir().unwrap();
/// let p = dir.path().join("loss.csv");
/// scratchnet_fileio::write_atomic_with(&p, |w| writeln!(w, "iter,loss")).unwrap();
/// assert_eq!(std::fs::read_to_string(&p).unwrap(), "iter,loss\n");
/// ```
pub fn write_atomic_with(
    path: impl AsRef<Path>,
    fill: impl FnOnce(&mut File) -> io::Result<()>,
) -> Result<(), FileError> {
    let path = path.as_ref();
    let target = resolve_output(path)?;
    let Some(name) = target.file_name() else {
        return Err(FileError::io(
            "write",
            path,
            io::Error::new(io::ErrorKind::InvalidInput, "the path names no file"),
        ));
    };
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let prefix = format!(".{}{TEMP_MARKER}", name.to_string_lossy());
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // tempfile creates 0600 files; results are ordinary files, readable like any other.
        let mode = fs::metadata(&target)
            .map(|m| m.permissions().mode() & 0o7777)
            .unwrap_or(0o644);
        builder.permissions(fs::Permissions::from_mode(mode));
    }
    if !dir.is_dir() {
        return Err(FileError::NoFolder {
            path: path.to_owned(),
            folder: dir.to_owned(),
        });
    }
    // tempfile's errors name the temp file; ours name the user's path and keep only the kind.
    let tmp = builder
        .tempfile_in(dir)
        .map_err(|e| FileError::io("create a temp file beside", path, io::Error::from(e.kind())))?;
    let mut tmp = tmp;
    fill(tmp.as_file_mut())
        .and_then(|_| tmp.as_file_mut().flush())
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(|e| FileError::io("write", path, e))?;
    tmp.persist(&target)
        .map_err(|e| FileError::io("replace", path, e.error))?;
    Ok(())
}

/// Removes the temp files that [`write_atomic_with`] left in `dir` when its process was killed
/// (names containing [`TEMP_MARKER`]), if they are regular files last modified at least
/// `min_age` ago, and returns their paths. Nothing else is touched.
///
/// Call it only on a folder this process holds (e.g. a locked run folder): a younger temp file
/// may be another process's write in progress, which `min_age` protects.
///
/// ```
/// use std::time::Duration;
/// let dir = tempfile::tempdir().unwrap();
/// std::fs::write(dir.path().join(".model.bin.scratchnet-tmp-abc123"), b"half").unwrap();
/// std::fs::write(dir.path().join("model.bin"), b"mine").unwrap();
/// let removed = scratchnet_fileio::remove_stale_temps(dir.path(), Duration::ZERO).unwrap();
/// assert_eq!(removed.len(), 1);
/// assert!(dir.path().join("model.bin").exists());
/// ```
pub fn remove_stale_temps(
    dir: impl AsRef<Path>,
    min_age: Duration,
) -> Result<Vec<PathBuf>, FileError> {
    let dir = dir.as_ref();
    let now = SystemTime::now();
    let mut removed = Vec::new();
    let entries = fs::read_dir(dir).map_err(|e| FileError::io("list", dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| FileError::io("list", dir, e))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !(name.starts_with('.') && name.contains(TEMP_MARKER)) {
            continue;
        }
        let Ok(meta) = entry.metadata() else { continue };
        let old_enough = meta
            .modified()
            .ok()
            .and_then(|m| now.duration_since(m).ok())
            .is_some_and(|age| age >= min_age);
        if meta.is_file() && old_enough {
            let p = entry.path();
            fs::remove_file(&p).map_err(|e| FileError::io("remove the stale temp file", &p, e))?;
            removed.push(p);
        }
    }
    Ok(removed)
}
