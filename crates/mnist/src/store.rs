//! Putting verified files into the data folder: temp file in the same folder, verify, rename.
//! Nothing unverified ever appears under a name the loader looks at.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use crate::checksum::{FileDigest, verify_file};
use crate::{Checksums, MnistError, MnistFile};

/// A file already in the data folder, checked against its expected digest.
pub(crate) enum Existing {
    Missing,
    Verified(PathBuf, FileDigest),
    /// Present but wrong; it has been removed so that it cannot be loaded.
    Removed(String),
}

pub(crate) fn check_existing(
    dir: &Path,
    file: MnistFile,
    sums: &Checksums,
) -> Result<Existing, MnistError> {
    let Some(path) = file.find_in(dir) else {
        return Ok(Existing::Missing);
    };
    match verify_file(&path, sums.get(file), &path.display().to_string()) {
        Ok(d) => Ok(Existing::Verified(path, d)),
        Err(e) => {
            fs::remove_file(&path)
                .map_err(|err| MnistError::io("remove unverified file", &path, err))?;
            Ok(Existing::Removed(e.to_string()))
        }
    }
}

pub(crate) fn create_dir(dir: &Path) -> Result<(), MnistError> {
    fs::create_dir_all(dir).map_err(|e| MnistError::io("create folder", dir, e))
}

/// A temp file in `dir` named `{prefix}XXXXXX.part`, deleted on drop unless persisted.
pub(crate) fn temp_file_in(dir: &Path, prefix: &str) -> io::Result<NamedTempFile> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(prefix).suffix(".part");
    // tempfile's default 0600 would hide the data from other users of a shared data folder.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(fs::Permissions::from_mode(0o644));
    }
    builder.tempfile_in(dir)
}

/// A temp file in `dir` for `file`, deleted on drop unless placed.
pub(crate) fn temp_for(dir: &Path, file: MnistFile) -> Result<NamedTempFile, MnistError> {
    temp_file_in(dir, &format!(".{}.", file.stem()))
        .map_err(|e| MnistError::io("create a temp file in", dir, e))
}

/// Verifies the finished temp file and renames it to the standard name (`.gz` iff it is gzip).
pub(crate) fn verify_and_place(
    tmp: NamedTempFile,
    dir: &Path,
    file: MnistFile,
    sums: &Checksums,
    what: &str,
) -> Result<(PathBuf, FileDigest), MnistError> {
    let digest = verify_file(tmp.path(), sums.get(file), what)?;
    let dest = dir.join(if digest.gzip {
        file.remote_name()
    } else {
        file.stem().to_string()
    });
    tmp.persist(&dest)
        .map_err(|e| MnistError::io("rename a temp file to", &dest, e.error))?;
    // A name earlier in the lookup order would shadow the file just placed.
    for name in file.candidate_names() {
        let p = dir.join(&name);
        if p == dest {
            break;
        }
        match fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(MnistError::io("remove the superseded file", &p, e)),
        }
    }
    Ok((dest, digest))
}
