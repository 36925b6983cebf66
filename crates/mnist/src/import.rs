//! Offline import: the four files from a local folder or a `.tar` / `.tar.gz`, raw or gzip,
//! either naming style, verified exactly like a download.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use crate::report::{FetchReport, FileReport, Source};
use crate::store::{Existing, check_existing, create_dir, temp_for, verify_and_place};
use crate::{Checksums, MnistError, MnistFile};

/// Options of [`import_with`].
#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    /// Expected digests; [`Checksums::mnist`] by default.
    pub checksums: Checksums,
    /// Copy even the files that are already present and verified.
    pub force: bool,
}

/// Imports MNIST from a folder or a `.tar`/`.tar.gz` archive into `dir`, verifying each file
/// against the published checksums: [`import_with`] with default options.
///
/// ```no_run
/// let report = scratchnet_mnist::import("downloads/mnist.tar.gz".as_ref(), "data/mnist".as_ref())?;
/// println!("{report}");
/// # Ok::<(), scratchnet_mnist::MnistError>(())
/// ```
pub fn import(from: &Path, dir: &Path) -> Result<FetchReport, MnistError> {
    import_with(from, dir, &ImportOptions::default())
}

/// Imports MNIST from a folder or a `.tar`/`.tar.gz` archive into `dir`.
///
/// Each file is looked up under any of its [`MnistFile::candidate_names`] (in an archive, by
/// the member's file name in any sub-folder), copied to a temp file in `dir`, verified by the
/// SHA-256 of its decompressed bytes and renamed to its standard name. Files already present
/// and verified are left alone unless `opts.force`; present but wrong ones are replaced.
///
/// ```
/// use scratchnet_mnist::{Checksums, ImportOptions, MnistFile, checksum::sha256_hex, idx};
/// let src = tempfile::tempdir().unwrap();
/// let mut opts = ImportOptions::default();
/// for f in MnistFile::ALL {
///     let bytes = if f.is_images() { idx::encode_images(1, 1, &[9]) } else { idx::encode_labels(&[9]) };
///     std::fs::write(src.path().join(f.stem()), &bytes).unwrap();
///     opts.checksums.set(f, &sha256_hex(&bytes));
/// }
/// let dst = tempfile::tempdir().unwrap();
/// let report = scratchnet_mnist::import_with(src.path(), dst.path(), &opts).unwrap();
/// assert_eq!(report.copied(), 4);
/// assert!(scratchnet_mnist::missing_files(dst.path()).is_empty());
/// ```
pub fn import_with(
    from: &Path,
    dir: &Path,
    opts: &ImportOptions,
) -> Result<FetchReport, MnistError> {
    create_dir(dir)?;
    let mut done: BTreeMap<MnistFile, FileReport> = BTreeMap::new();
    let mut replaced: BTreeMap<MnistFile, String> = BTreeMap::new();
    for file in MnistFile::ALL {
        if opts.force {
            continue;
        }
        match check_existing(dir, file, &opts.checksums)? {
            Existing::Verified(path, digest) => {
                done.insert(
                    file,
                    report(file, path, Source::AlreadyPresent, digest, None),
                );
            }
            Existing::Removed(why) => {
                replaced.insert(file, why);
            }
            Existing::Missing => {}
        }
    }
    let needed: Vec<MnistFile> = MnistFile::ALL
        .into_iter()
        .filter(|f| !done.contains_key(f))
        .collect();
    if !needed.is_empty() {
        if from.is_dir() {
            from_folder(from, dir, &needed, opts, &mut replaced, &mut done)?;
        } else if from.is_file() {
            from_archive(from, dir, &needed, opts, &mut replaced, &mut done)?;
        } else {
            return Err(MnistError::Import {
                from: from.into(),
                reason: "no such folder or archive".into(),
            });
        }
    }
    Ok(FetchReport {
        dir: dir.into(),
        files: done.into_values().collect(),
    })
}

fn report(
    file: MnistFile,
    path: std::path::PathBuf,
    source: Source,
    digest: crate::checksum::FileDigest,
    replaced: Option<String>,
) -> FileReport {
    FileReport {
        file,
        path,
        source,
        digest,
        failed: Vec::new(),
        replaced,
    }
}

fn from_folder(
    from: &Path,
    dir: &Path,
    needed: &[MnistFile],
    opts: &ImportOptions,
    replaced: &mut BTreeMap<MnistFile, String>,
    done: &mut BTreeMap<MnistFile, FileReport>,
) -> Result<(), MnistError> {
    let missing: Vec<String> = needed
        .iter()
        .filter(|f| f.find_in(from).is_none())
        .map(|f| f.stem().to_string())
        .collect();
    if !missing.is_empty() {
        return Err(MnistError::Import {
            from: from.into(),
            reason: format!(
                "no {} (raw or .gz, either naming style)",
                missing.join(", ")
            ),
        });
    }
    for &file in needed {
        let src = file.find_in(from).expect("checked above");
        let mut input = File::open(&src).map_err(|e| MnistError::io("open", &src, e))?;
        let what = src.display().to_string();
        let (path, digest) = copy_verified(&mut input, dir, file, opts, &what, &src)?;
        done.insert(
            file,
            report(
                file,
                path,
                Source::Local(what),
                digest,
                replaced.remove(&file),
            ),
        );
    }
    Ok(())
}

fn from_archive(
    from: &Path,
    dir: &Path,
    needed: &[MnistFile],
    opts: &ImportOptions,
    replaced: &mut BTreeMap<MnistFile, String>,
    done: &mut BTreeMap<MnistFile, FileReport>,
) -> Result<(), MnistError> {
    let bad = |reason: String| MnistError::Import {
        from: from.into(),
        reason,
    };
    let file = File::open(from).map_err(|e| MnistError::io("open", from, e))?;
    let mut buf = BufReader::with_capacity(1 << 16, file);
    let gzip = buf
        .fill_buf()
        .map_err(|e| MnistError::io("read", from, e))?
        .starts_with(&[0x1f, 0x8b]);
    let reader: Box<dyn Read> = if gzip {
        Box::new(flate2::bufread::MultiGzDecoder::new(buf))
    } else {
        Box::new(buf)
    };
    let mut archive = tar::Archive::new(reader);
    let entries = archive
        .entries()
        .map_err(|e| bad(format!("not a tar archive: {e}")))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| bad(format!("not a readable tar archive: {e}")))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let member = entry
            .path()
            .map_err(|e| bad(format!("bad member name: {e}")))?
            .into_owned();
        let Some(name) = member.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let Some(&file) = needed
            .iter()
            .find(|f| f.candidate_names().iter().any(|c| c == name))
        else {
            continue;
        };
        if done.contains_key(&file) {
            continue;
        }
        let what = format!("{}:{}", from.display(), member.display());
        let (path, digest) = copy_verified(&mut entry, dir, file, opts, &what, from)?;
        done.insert(
            file,
            report(
                file,
                path,
                Source::Local(what),
                digest,
                replaced.remove(&file),
            ),
        );
    }
    let missing: Vec<&str> = needed
        .iter()
        .filter(|f| !done.contains_key(f))
        .map(|f| f.stem())
        .collect();
    if !missing.is_empty() {
        return Err(bad(format!(
            "the archive has no {} (raw or .gz, either naming style)",
            missing.join(", ")
        )));
    }
    Ok(())
}

fn copy_verified(
    input: &mut dyn Read,
    dir: &Path,
    file: MnistFile,
    opts: &ImportOptions,
    what: &str,
    src: &Path,
) -> Result<(std::path::PathBuf, crate::checksum::FileDigest), MnistError> {
    let mut tmp = temp_for(dir, file)?;
    io::copy(input, tmp.as_file_mut()).map_err(|e| MnistError::io("copy", src, e))?;
    verify_and_place(tmp, dir, file, &opts.checksums, what)
}
