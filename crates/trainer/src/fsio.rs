//! Whole-file writes that never leave a half-written file behind.

use std::io::Write;
use std::path::Path;

use crate::TrainError;

/// Writes `bytes` to a temp file in `path`'s folder, syncs it, then renames it onto `path`: a
/// reader (or a crash) sees the old file or the new one, never a mix.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let p = dir.path().join("a.txt");
/// scratchnet_trainer::write_atomically(&p, b"hello").unwrap();
/// assert_eq!(std::fs::read(&p).unwrap(), b"hello");
/// ```
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), TrainError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(dir)
        .map_err(|e| TrainError::io("create a temp file in", dir, e))?;
    tmp.write_all(bytes)
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(|e| TrainError::io("write", tmp.path(), e))?;
    // tempfile creates 0600 files; results are meant to be read by others too.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = tmp
            .as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644));
    }
    tmp.persist(path)
        .map_err(|e| TrainError::io("rename a temp file to", path, e.error))?;
    Ok(())
}
